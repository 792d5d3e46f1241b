# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: participant_names
short_description: The participants of a classroom, from a count or a list of names
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - A count gives C(p1), C(p2), ... (zero-padded to one width, so that they sort); a list gives its names.
  - None, 0 or an empty list give an empty list (no classroom, the single-user lab).
  - Refuses, in one error naming C(udn_lab_participants) and the fix, names that are not DNS labels, are named
    twice, or are too long for C(<name>-<namespace>) to name a namespace for every namespace of O(namespaces).
positional: namespaces
options:
  _input:
    description: C(udn_lab_participants).
    type: raw
    required: true
  namespaces:
    description: The workshop namespaces each participant gets a copy of (for the length check).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: The participants of udn_lab_participants (3 gives p1, p2, p3)
  ansible.builtin.debug:
    msg: "{{ udn_lab_participants | ovnk.udn_lab.participant_names }}"
"""

RETURN = r"""
_value:
  description: The participants' names, in the order given.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.ovnk.udn_lab.plugins.module_utils import classroom


def participant_names(value, namespaces=()):
    """Filter entry point: see DOCUMENTATION."""
    try:
        return classroom.participant_names(value, namespaces)
    except classroom.ClassroomError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    """ovnk.udn_lab classroom: its participants."""

    def filters(self):
        return {"participant_names": participant_names}
