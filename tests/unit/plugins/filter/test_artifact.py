"""The artifact filter wraps module_utils.artifacts and turns its errors into AnsibleFilterError."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ovnk.udn_lab.plugins.filter.artifact import FilterModule

MATRIX = {"helm": {"version": "v3.19.0", "file": "helm-{version}-{os}-{arch}.tar.gz", "url": "https://h/{version}"}}


def test_filter_is_registered_and_resolves():
    artifact = FilterModule().filters()["artifact"]
    got = artifact(MATRIX, "helm", mirror_dir="/mirror", os="darwin", arch="arm64")
    assert got["url"] == "/mirror/helm-v3.19.0-darwin-arm64.tar.gz"


def test_filter_error_names_the_artifact():
    artifact = FilterModule().filters()["artifact"]
    with pytest.raises(AnsibleFilterError, match="no artifact 'kind'"):
        artifact(MATRIX, "kind")
