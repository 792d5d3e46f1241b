# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cidr_problems
short_description: Problems of a list of CIDRs, one message each naming the variable and the fix
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - Every CIDR must be C(address/prefix) whose address is the network address (Python's C(ipaddress), the same
    parser for every role), at most one per family, and when O(families) is given exactly those families in that
    order.
  - Returns the messages (empty when the CIDRs are fine).
positional: variable, families
options:
  _input:
    description: The CIDRs, a list or a comma-separated string.
    type: raw
    required: true
  variable:
    description: The variable the user sets, named in the messages.
    type: str
    required: true
  families:
    description: The families the list must hold (C(ipv4), C(ipv6)).
    type: list
    elements: str
  ordered:
    description: Whether the CIDRs must come in the order of O(families) (the first is the primary family).
    type: bool
    default: true
  family_variable:
    description: The variable that sets the families, named in the message.
    type: str
    default: udn_lab_ip_family
  udn_topology:
    description: >-
      The CIDRs are subnets of a user-defined network of this topology (C(Layer2), C(Layer3)): also refuse the
      ranges OVN-Kubernetes v1.3.0 refuses for it (join, masquerade, transit, O(cluster_ranges)).
    type: str
  udn_role:
    description: The network's role (C(Primary), C(Secondary)); a primary network also has a join subnet.
    type: str
    default: Primary
  cluster_ranges:
    description: C([cidr, what]) pairs of the cluster (pod and service subnets) a network may not overlap.
    type: list
    elements: list
"""

EXAMPLES = r"""
- name: Refuse bad pod subnets
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join(' | ') }}"
  vars:
    __problems: "{{ kind_cluster_pod_subnet | ovnk.udn_lab.cidr_problems('kind_cluster_pod_subnet', ['ipv4']) }}"
"""

RETURN = r"""
_value:
  description: One message per problem; empty when the CIDRs are fine.
  type: list
  elements: str
"""

from ansible_collections.ovnk.udn_lab.plugins.module_utils import validation


def cidr_problems(values, variable, families=None, ordered=True, family_variable="udn_lab_ip_family", udn_topology=None,
                  udn_role="Primary", cluster_ranges=None):
    """Filter entry point: see DOCUMENTATION."""
    return validation.cidr_list_problems(variable, values, families, ordered=ordered, family_variable=family_variable,
                                         udn_topology=udn_topology, udn_role=udn_role,
                                         cluster_ranges=cluster_ranges or ())


class FilterModule(object):
    """ovnk.udn_lab CIDR validation."""

    def filters(self):
        return {"cidr_problems": cidr_problems}
