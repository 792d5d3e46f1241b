# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: state_inputs
short_description: Digest a role's inputs and code for the lab's state record
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - Turns the variables a role acts on, and the files of its code, into the digest M(ovnk.udn_lab.lab_state)
    records and compares. Any changed value or file makes the recorded entry stale, so the role runs in full.
  - Values are digested, never stored; the result names each input by a short digest so a changed input can be
    reported by name.
  - Runs on the controller (the code directories are read there).
positional: code
options:
  _input:
    description: The role's inputs, variable name to value (templated).
    type: dict
    required: true
  code:
    description:
      - Directories (or files) that are the role's code, for example the role path, the collection's C(plugins)
        directory and its version matrix C(versions.yml). Each contributes one part named C(code:<base name>).
        Compiled Python files are ignored.
    type: list
    elements: path
    default: []
"""

EXAMPLES = r"""
- name: Digest the multus inputs and code
  ansible.builtin.set_fact:
    __multus_state_inputs: >-
      {{ dict(__multus_names | zip(query('ansible.builtin.vars', *__multus_names)))
         | ovnk.udn_lab.state_inputs([role_path, role_path ~ '/../../plugins']) }}
  vars:
    __multus_names: "{{ query('ansible.builtin.varnames', '^multus_') }}"
"""

RETURN = r"""
_value:
  description: C(digest) (sha256 over every part) and C(parts) (input or code name to a 12-digit digest).
  type: dict
"""

import hashlib
import os

from ansible.errors import AnsibleFilterError
from ansible_collections.ovnk.udn_lab.plugins.module_utils.state import StateError, inputs_fingerprint

SKIPPED_SUFFIXES = (".pyc", ".pyo")
SKIPPED_DIRS = ("__pycache__",)


def tree_digest(directory):
    """sha256 over the relative path and content of every file under ``directory`` (sorted), or of one file."""
    sha = hashlib.sha256()
    if os.path.isfile(directory):
        with open(directory, "rb") as handle:
            sha.update(handle.read())
        return sha.hexdigest()
    if not os.path.isdir(directory):
        raise AnsibleFilterError("state_inputs: code path %s does not exist" % directory)
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            if name.endswith(SKIPPED_SUFFIXES):
                continue
            path = os.path.join(root, name)
            sha.update(os.path.relpath(path, directory).encode("utf-8") + b"\0")
            with open(path, "rb") as handle:
                sha.update(handle.read())
            sha.update(b"\0")
    return sha.hexdigest()


def state_inputs(inputs, code=None):
    """Filter entry point: see DOCUMENTATION."""
    files = {}
    for directory in code or []:
        directory = os.path.normpath(str(directory))
        files["code:%s" % os.path.basename(directory)] = tree_digest(directory)
    try:
        result = inputs_fingerprint(dict(inputs or {}))
    except StateError as exc:
        raise AnsibleFilterError("state_inputs: %s" % exc)
    result["parts"].update((name, sha[:12]) for name, sha in files.items())
    result["digest"] = inputs_fingerprint(result["parts"])["digest"]
    return result


class FilterModule(object):
    """ovnk.udn_lab state record filters."""

    def filters(self):
        return {"state_inputs": state_inputs}
