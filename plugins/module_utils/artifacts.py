# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Resolve entries of the collection's version matrix (versions.yml) into download sources.

Pure functions over plain dicts: no I/O, so roles, tests and tooling resolve artifacts identically.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import re
import string

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
PLACEHOLDERS = frozenset(("version", "os", "arch"))
# Keys whose values are templates expanded with {version}, {os} and {arch}.
TEMPLATED_KEYS = ("url", "file", "image")


class ArtifactError(ValueError):
    """Raised when a version-matrix entry cannot be resolved; the message names the fix."""


def _placeholders(template):
    return set(parsed[1] for parsed in string.Formatter().parse(template) if parsed[1])


def expand(template, values, where):
    """Expand ``{version}``, ``{os}``, ``{arch}`` in ``template``; unknown placeholders are an error."""
    unknown = _placeholders(template) - PLACEHOLDERS
    if unknown:
        raise ArtifactError(
            "%s uses unknown placeholder(s) %s in %r: only {version}, {os} and {arch} exist"
            % (where, ", ".join(sorted(unknown)), template)
        )
    return template.format(**values)


def lookup_entry(matrix, name):
    """Return the entry ``name`` (dotted for nested entries) merged with the scalar keys of its parents."""
    if not isinstance(matrix, dict):
        raise ArtifactError("the version matrix must be a mapping, got %s" % type(matrix).__name__)
    node = matrix
    inherited = {}
    parts = name.split(".")
    for depth, part in enumerate(parts):
        if not isinstance(node, dict) or part not in node or not isinstance(node[part], dict):
            known = sorted(k for k, v in node.items() if isinstance(v, dict)) if isinstance(node, dict) else []
            raise ArtifactError(
                "no artifact %r in the version matrix (versions.yml); known here: %s"
                % (".".join(parts[: depth + 1]), ", ".join(known) or "none")
            )
        node = node[part]
        if depth < len(parts) - 1:
            inherited.update((k, v) for k, v in node.items() if not isinstance(v, dict))
    entry = dict(inherited)
    entry.update(node)
    return entry


def _sha256_for(entry, platform, name):
    value = entry.get("sha256")
    if isinstance(value, dict):
        value = value.get(platform)
    if value in (None, ""):
        return None
    value = str(value).lower()
    if not SHA256_RE.match(value):
        raise ArtifactError(
            "artifact %r has sha256 %r, which is not 64 hex digits: fix versions.yml or udn_lab_versions_override"
            % (name, value)
        )
    return value


def resolve(matrix, name, mirror_dir="", os_name="linux", arch="amd64"):
    """Resolve artifact ``name`` of ``matrix`` for one platform.

    Returns a new dict: every key of the entry (templated keys expanded) plus
    ``name``, ``version``, ``url`` (the upstream URL or ``<mirror_dir>/<file>``), ``upstream_url``, ``file``,
    ``sha256`` (hex or None), ``checksum`` (``sha256:<hex>`` or ``''``) and ``local`` (True when mirrored).
    """
    entry = lookup_entry(matrix, name)
    version = entry.get("version")
    if version in (None, ""):
        raise ArtifactError("artifact %r has no version in the version matrix (versions.yml)" % name)
    values = {"version": str(version), "os": os_name, "arch": arch}
    result = {}
    for key, value in entry.items():
        if key in TEMPLATED_KEYS and isinstance(value, str):
            value = expand(value, values, "artifact %r key %r" % (name, key))
        result[key] = value
    platform = "%s-%s" % (os_name, arch)
    sha256 = _sha256_for(entry, platform, name)
    upstream_url = result.get("url")
    result.update(
        name=name,
        version=str(version),
        upstream_url=upstream_url,
        sha256=sha256,
        checksum=("sha256:%s" % sha256) if sha256 else "",
        local=False,
    )
    if mirror_dir:
        if not result.get("file"):
            raise ArtifactError(
                "artifact %r has no 'file' name, so it cannot be taken from udn_lab_mirror_dir" % name
            )
        result["url"] = posixpath.join(mirror_dir, result["file"])
        result["local"] = True
    return result


def merge(base, override):
    """Deep-merge ``override`` over ``base`` (dicts merged key by key, anything else replaced)."""
    if not isinstance(override, dict):
        return override
    merged = dict(base) if isinstance(base, dict) else {}
    for key, value in override.items():
        merged[key] = merge(merged.get(key), value) if isinstance(value, dict) else value
    return merged
