"""Unit tests for plugins/module_utils/artifacts.py (version-matrix resolution)."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible_collections.ovnk.udn_lab.plugins.module_utils import artifacts

REPO_ROOT = pathlib.Path(__file__).resolve().parents[4]

MATRIX = {
    "kind": {
        "version": "v0.31.0",
        "file": "kind-{os}-{arch}",
        "url": "https://example.invalid/kind/{version}/kind-{os}-{arch}",
        "sha256": {"linux-amd64": "A" * 64, "darwin-arm64": "b" * 64},
    },
    "kubevirt": {
        "version": "v1.8.4",
        "operator": {"file": "op-{version}.yaml", "url": "https://example.invalid/{version}/op.yaml", "sha256": None},
    },
    "image_only": {"version": "2.45", "image": "registry.example/agnhost:{version}"},
}


def test_expands_placeholders_and_platform_checksum():
    got = artifacts.resolve(MATRIX, "kind")
    assert got["url"] == "https://example.invalid/kind/v0.31.0/kind-linux-amd64"
    assert got["file"] == "kind-linux-amd64"
    assert got["sha256"] == "a" * 64
    assert got["checksum"] == "sha256:" + "a" * 64
    assert got["local"] is False


def test_other_platform_uses_its_own_checksum():
    got = artifacts.resolve(MATRIX, "kind", os_name="darwin", arch="arm64")
    assert got["file"] == "kind-darwin-arm64"
    assert got["checksum"] == "sha256:" + "b" * 64


def test_platform_without_checksum_gives_empty_checksum():
    got = artifacts.resolve(MATRIX, "kind", os_name="linux", arch="arm64")
    assert got["sha256"] is None
    assert got["checksum"] == ""


def test_nested_entry_inherits_parent_version():
    got = artifacts.resolve(MATRIX, "kubevirt.operator")
    assert got["version"] == "v1.8.4"
    assert got["url"] == "https://example.invalid/v1.8.4/op.yaml"
    assert got["file"] == "op-v1.8.4.yaml"


def test_mirror_dir_replaces_url_and_keeps_upstream():
    got = artifacts.resolve(MATRIX, "kubevirt.operator", mirror_dir="/srv/mirror")
    assert got["url"] == "/srv/mirror/op-v1.8.4.yaml"
    assert got["upstream_url"] == "https://example.invalid/v1.8.4/op.yaml"
    assert got["local"] is True


def test_image_is_templated():
    assert artifacts.resolve(MATRIX, "image_only")["image"] == "registry.example/agnhost:2.45"


def test_unknown_name_lists_known_entries():
    with pytest.raises(artifacts.ArtifactError, match="no artifact 'helm'.*kind, kubevirt"):
        artifacts.resolve(MATRIX, "helm")


def test_mirror_needs_file_name():
    with pytest.raises(artifacts.ArtifactError, match="no 'file' name"):
        artifacts.resolve(MATRIX, "image_only", mirror_dir="/m")


def test_bad_checksum_is_rejected():
    matrix = artifacts.merge(MATRIX, {"kind": {"sha256": {"linux-amd64": "xyz"}}})
    with pytest.raises(artifacts.ArtifactError, match="not 64 hex digits"):
        artifacts.resolve(matrix, "kind")


def test_unknown_placeholder_is_rejected():
    matrix = artifacts.merge(MATRIX, {"kind": {"url": "https://x/{release}"}})
    with pytest.raises(artifacts.ArtifactError, match=r"unknown placeholder\(s\) release"):
        artifacts.resolve(matrix, "kind")


def test_merge_is_deep_and_does_not_mutate():
    merged = artifacts.merge(MATRIX, {"kubevirt": {"version": "v1.8.3"}})
    assert merged["kubevirt"]["version"] == "v1.8.3"
    assert merged["kubevirt"]["operator"]["file"] == "op-{version}.yaml"
    assert MATRIX["kubevirt"]["version"] == "v1.8.4"


def test_every_entry_of_the_real_matrix_resolves():
    matrix = yaml.safe_load((REPO_ROOT / "versions.yml").read_text())["udn_lab_versions_default"]
    names = []
    for key, value in matrix.items():
        nested = [k for k, v in value.items() if isinstance(v, dict) and k != "sha256"]
        names.extend("%s.%s" % (key, sub) for sub in nested)
        if "url" in value or "image" in value:
            names.append(key)
    assert names, "versions.yml has no artifacts"
    for name in names:
        got = artifacts.resolve(matrix, name)
        assert "{" not in (got.get("url") or "") + (got.get("file") or ""), name
        if got.get("file"):
            mirrored = artifacts.resolve(matrix, name, mirror_dir="/m")
            assert mirrored["url"] == "/m/" + got["file"]
