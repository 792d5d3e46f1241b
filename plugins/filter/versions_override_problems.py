# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: versions_override_problems
short_description: Problems of an override of the version matrix, one message each naming the variable
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - An override (C(udn_lab_versions_override)) is deep-merged over C(versions.yml). A misspelt artifact or field
    would be merged silently and change nothing; a checksum that is not 64 hex digits could never match.
  - Refuses artifacts and fields the matrix does not have (deeper levels, such as a C(sha256) per platform, are
    free), C(sha256) values that are not 64 lower-case hex digits (null is allowed - trust on first use) and
    C(digest) values that are not C(sha256:) and 64 hex digits.
positional: override, variable
options:
  _input:
    description: The version matrix (C(udn_lab_versions_default)).
    type: dict
    required: true
  override:
    description: The override.
    type: raw
    required: true
  variable:
    description: The variable the user set, named in the messages.
    type: str
    default: udn_lab_versions_override
"""

EXAMPLES = r"""
- name: Refuse a bad override of the version matrix
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join(' | ') }}"
  vars:
    __problems: "{{ udn_lab_versions_default | ovnk.udn_lab.versions_override_problems(udn_lab_versions_override) }}"
"""

RETURN = r"""
_value:
  description: One message per problem; empty when the override is fine.
  type: list
  elements: str
"""

from ansible_collections.ovnk.udn_lab.plugins.module_utils import validation


def versions_override_problems(default, override, variable="udn_lab_versions_override"):
    """Filter entry point: see DOCUMENTATION."""
    return validation.versions_override_problems(default, override, variable)


class FilterModule(object):
    """ovnk.udn_lab version matrix override check."""

    def filters(self):
        return {"versions_override_problems": versions_override_problems}
