# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: overlapping_networks
short_description: Two UDNs with the same subnet, as a claim
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - Judges what the workshop shows with its overlapping subnets, one claim per address family - every pod of the
    named networks holds its primary address (C(k8s.ovn.org/pod-networks)) in the subnet they share, each on its
    own network.
  - The addresses held in more than one network are shown in the result, not required (OVN-Kubernetes assigns each
    network's host subnets to nodes in no fixed order).
  - Results have the fields of M(ovnk.udn_lab.connectivity_matrix) results (truth tables, JUnit, report).
positional: check, networks, families
extends_documentation_fragment:
  - ovnk.udn_lab.claims
  - ovnk.udn_lab.claims.overlap
"""

EXAMPLES = r"""
- name: Judge blue and overlapping-with-blue
  ansible.builtin.set_fact:
    claims: >-
      {{ {'blue': blue_pods, 'overlapping-with-blue': overlapping_pods}
         | ovnk.udn_lab.overlapping_networks(check, pod_workshop_networks, ['ipv4']) }}
  vars:
    check: {id: overlapping-subnets, networks: [blue-network, overlapping-with-blue-network]}
"""

RETURN = r"""
_value:
  description: One claim result per family (C(id), C(status) V(correct) or V(wrong), C(detail), C(reproduce), ...).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.ovnk.udn_lab.plugins.module_utils.overlap import overlapping_networks as judge


def overlapping_networks(pods_by_namespace, check, networks, families):
    """Filter entry point: see DOCUMENTATION."""
    if not isinstance(check, dict) or not check.get("id") or not isinstance(check.get("networks"), list):
        raise AnsibleFilterError("overlapping_networks: check must have id and a list of networks, got %r" % (check,))
    if not isinstance(pods_by_namespace, dict):
        raise AnsibleFilterError("overlapping_networks: the input must map namespaces to their pods")
    return judge(check, list(networks or []), pods_by_namespace, list(families or []))


class FilterModule(object):
    """ovnk.udn_lab overlapping-subnet claims."""

    def filters(self):
        return {"overlapping_networks": overlapping_networks}
