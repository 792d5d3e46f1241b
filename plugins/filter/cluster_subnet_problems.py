# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cluster_subnet_problems
short_description: Overlaps of the cluster's pod and service subnets, with each other and OVN-Kubernetes' ranges
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - OVN-Kubernetes v1.3.0 refuses to start when its cluster subnets, service CIDRs, default join subnet
    (C(100.64.0.0/16), C(fd98::/64)), masquerade subnet (C(169.254.169.0/29), C(fd69::/125)) or transit subnet
    (C(100.88.0.0/16), C(fd97::/64)) overlap. This finds those overlaps before anything is created.
  - Returns one message per overlap naming the variable (empty when there is none).
positional: service_subnets, pod_variable, service_variable
options:
  _input:
    description: The pod subnets (a list or a comma-separated string).
    type: raw
    required: true
  service_subnets:
    description: The service subnets (a list or a comma-separated string).
    type: raw
    required: true
  pod_variable:
    description: The variable that sets the pod subnets.
    type: str
    required: true
  service_variable:
    description: The variable that sets the service subnets.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Refuse overlapping subnets
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join(' | ') }}"
  vars:
    __problems: >-
      {{ kind_cluster_pod_subnet | ovnk.udn_lab.cluster_subnet_problems(kind_cluster_service_subnet,
         'kind_cluster_pod_subnet', 'kind_cluster_service_subnet') }}
"""

RETURN = r"""
_value:
  description: One message per overlap; empty when there is none.
  type: list
  elements: str
"""

from ansible_collections.ovnk.udn_lab.plugins.module_utils import validation


def cluster_subnet_problems(pod_subnets, service_subnets, pod_variable, service_variable):
    """Filter entry point: see DOCUMENTATION."""
    return validation.cluster_subnet_problems(pod_subnets, service_subnets, pod_variable, service_variable)


class FilterModule(object):
    """ovnk.udn_lab cluster subnet overlap check."""

    def filters(self):
        return {"cluster_subnet_problems": cluster_subnet_problems}
