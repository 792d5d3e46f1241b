# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: participant_fence_probes
short_description: The claims that one classroom participant's pods cannot reach another's
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - Probes in the format of M(ovnk.udn_lab.connectivity_matrix), for each participant and each other one (a ring of
    neighbours beyond four participants), all expecting C(blocked).
  - The participants' networks overlap and their pods have the same names, so no probe targets another
    participant's UDN pod address from a UDN pod (the source's own pod could answer there). Each probe targets what
    no pod of the source's network holds, another participant's Service by its ClusterIP, or another participant's
    UDN pod from the source's pod on the cluster's default network.
positional: participants
options:
  _input:
    description: The pod workshop as written (the role's variables without the C(pod_workshop_) prefix).
    type: dict
    required: true
  participants:
    description: The participants (C(udn_lab_participants) through P(ovnk.udn_lab.participant_names#filter)).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Prove the fences between the participants
  ovnk.udn_lab.connectivity_matrix:
    probes: "{{ {'namespaces': pod_workshop_namespaces, 'apps': pod_workshop_apps, 'services': pod_workshop_services}
      | ovnk.udn_lab.participant_fence_probes(['ada', 'bo', 'cy']) }}"
"""

RETURN = r"""
_value:
  description: The probes (id, claim, from, to, protocol, expect).
  type: list
  elements: dict
"""

from ansible_collections.ovnk.udn_lab.plugins.module_utils import classroom
from ansible_collections.ovnk.udn_lab.plugins.plugin_utils.plain import plain


def participant_fence_probes(spec, participants):
    """Filter entry point: see DOCUMENTATION."""
    return classroom.fence_probes(list(participants or []), plain(spec))


class FilterModule(object):
    """ovnk.udn_lab classroom: the data-plane fences between participants."""

    def filters(self):
        return {"participant_fence_probes": participant_fence_probes}
