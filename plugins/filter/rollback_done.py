# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: rollback_done
short_description: Whether a helm release already stands where a rollback to a revision would put it
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - Reads the release's history as C(helm history -o json) prints it.
  - True when the deployed revision is O(revision) itself, or the revision a rollback to it made (helm describes it
    C(Rollback to <revision>)); a rollback then would only write another revision with the same chart and values.
positional: revision
options:
  _input:
    description: The output of C(helm history <release> -o json) (text or parsed).
    type: raw
    required: true
  revision:
    description: The revision the release should stand at.
    type: int
    required: true
"""

EXAMPLES = r"""
- name: Roll back only when the release is not back there yet
  ansible.builtin.command: helm rollback ovn-kubernetes 1
  when: not (history.stdout | ovnk.udn_lab.rollback_done(1))
"""

RETURN = r"""
_value:
  description: Whether the release already stands at O(revision).
  type: bool
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.ovnk.udn_lab.plugins.module_utils import releases


def rollback_done(history, revision):
    """Filter entry point: see DOCUMENTATION."""
    try:
        return releases.rollback_done(history, revision)
    except releases.ReleaseError as exc:
        raise AnsibleFilterError("rollback_done: {0}".format(exc))


class FilterModule(object):
    """ovnk.udn_lab helm release history."""

    def filters(self):
        return {"rollback_done": rollback_done}
