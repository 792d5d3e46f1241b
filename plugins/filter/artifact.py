# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: artifact
short_description: Resolve one entry of the lab's version matrix into a download source
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - Looks up an artifact in the version matrix (C(versions.yml), variable C(udn_lab_versions_default)),
    expands the C({version}), C({os}) and C({arch}) placeholders of its C(url), C(file) and C(image) and
    returns where to get it from.
  - When O(mirror_dir) is set, the artifact is taken from C(<mirror_dir>/<file>) instead of its upstream URL,
    so a lab can be built without network access from a prepared mirror directory.
positional: name
options:
  _input:
    description: The version matrix, usually C(udn_lab_versions_default) merged with C(udn_lab_versions_override).
    type: dict
    required: true
  name:
    description: Name of the artifact; nested entries use dots, for example V(kubevirt.operator).
    type: str
    required: true
  mirror_dir:
    description: Directory holding every artifact under its C(file) name. Empty means download from upstream.
    type: str
    default: ''
  os:
    description: Operating system placeholder value.
    type: str
    default: linux
  arch:
    description: Architecture placeholder value.
    type: str
    default: amd64
"""

EXAMPLES = r"""
- name: Resolve the pinned kind binary
  ansible.builtin.set_fact:
    __kind_cluster_kind: >-
      {{ udn_lab_versions_default | ovnk.udn_lab.artifact('kind', mirror_dir=udn_lab_mirror_dir) }}

- name: Download it, verified
  ansible.builtin.get_url:
    url: "{{ __kind_cluster_kind.url }}"
    dest: /tmp/kind
    checksum: "{{ __kind_cluster_kind.checksum }}"
    mode: "0755"
"""

RETURN = r"""
_value:
  description:
    - The entry with its templated keys expanded, plus C(name), C(version), C(url) (upstream URL, or the
      mirror path when O(mirror_dir) is set), C(upstream_url), C(file), C(sha256) (hex or null),
      C(checksum) (C(sha256:<hex>) or empty, ready for M(ansible.builtin.get_url)) and C(local).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.ovnk.udn_lab.plugins.module_utils.artifacts import ArtifactError, resolve


def artifact(matrix, name, mirror_dir="", os="linux", arch="amd64"):  # pylint: disable=redefined-builtin
    """Filter entry point: see DOCUMENTATION."""
    try:
        return resolve(matrix, name, mirror_dir=mirror_dir or "", os_name=os, arch=arch)
    except ArtifactError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    """ovnk.udn_lab version-matrix filters."""

    def filters(self):
        return {"artifact": artifact}
