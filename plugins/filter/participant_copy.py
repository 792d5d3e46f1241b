# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: participant_copy
short_description: A participant's copy of a workshop, under the participant's prefix
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - Gives participant O(participant) their own copy of a workshop's inputs (the role's variables without the
    C(pod_workshop_) or C(vm_workshop_) prefix) - namespaces C(<participant>-<name>) carrying the participant label
    C(udn-lab.ovnk.io/participant), cluster UDNs named C(<participant>-<name>) and selecting only that participant's
    namespaces, NetworkPolicy namespace selectors narrowed the same way, subnets unchanged.
  - Without a participant (empty), the input unchanged (the single-user lab).
  - Refuses (naming the variable and the fix) a participant name that is not a short DNS label and, for the pods,
    a Service with a fixed nodePort (each participant's copy would claim it).
positional: workshop, participant
options:
  _input:
    description: The workshop's inputs, keyed as the role's variables without their prefix.
    type: dict
    required: true
  workshop:
    description: Which workshop.
    type: str
    choices: [pods, vms]
    required: true
  participant:
    description: The participant (empty for the single-user lab).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The namespaces of participant p1's pod workshop
  ansible.builtin.debug:
    msg: "{{ ({'namespaces': pod_workshop_namespaces} | ovnk.udn_lab.participant_copy('pods', 'p1')).namespaces }}"
"""

RETURN = r"""
_value:
  description: The participant's copy of the inputs.
  type: raw
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.ovnk.udn_lab.plugins.module_utils import classroom
from ansible_collections.ovnk.udn_lab.plugins.plugin_utils.plain import plain


def participant_copy(spec, workshop, participant):
    """Filter entry point: see DOCUMENTATION."""
    if not participant:
        return spec
    try:
        return classroom.participant_copy(workshop, participant, plain(spec))
    except classroom.ClassroomError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    """ovnk.udn_lab classroom: a participant's copy of a workshop."""

    def filters(self):
        return {"participant_copy": participant_copy}
