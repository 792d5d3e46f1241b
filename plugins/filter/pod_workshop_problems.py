# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: pod_workshop_problems
short_description: Every problem of the pod workshop's inputs, one message each naming the variable and the fix
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - Checks the C(pod_workshop_*) inputs of the pod workshop before anything is written or applied - namespaces,
    networks (kind, topology, role, one primary network per namespace, subnets per family as strict CIDRs of that
    family, host subnets, ranges OVN-Kubernetes v1.3.0 refuses), apps, Services, NetworkPolicies and probes.
  - Returns the list of messages (empty when the inputs are fine); the role asserts once.
options:
  _input:
    description: >-
      The inputs - C(operation), C(ip_family), C(namespaces), C(networks), C(apps), C(services), C(policies),
      C(probes), and optionally C(cluster_ranges) (a list of C([cidr, what]) a network may not overlap: the
      cluster's pod and service subnets) and C(inspections) (the pods looked into: C(id), C(namespace), C(pod))
      C(endpoint_slices) (the Services whose EndpointSlices are judged: C(id), C(namespace), C(service)) and
      C(overlapping) (networks given the same subnet: C(id), C(networks)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Collect every problem of the pod workshop inputs
  ansible.builtin.set_fact:
    __problems: >-
      {{ {'operation': pod_workshop_operation, 'ip_family': pod_workshop_ip_family, 'namespaces': pod_workshop_namespaces,
          'networks': pod_workshop_networks, 'apps': pod_workshop_apps, 'services': pod_workshop_services,
          'policies': pod_workshop_network_policies, 'probes': pod_workshop_probes} | ovnk.udn_lab.pod_workshop_problems }}
"""

RETURN = r"""
_value:
  description: One message per problem, in a stable order; empty when the inputs are fine.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.ovnk.udn_lab.plugins.module_utils import validation


def pod_workshop_problems(inputs):
    """Filter entry point: see DOCUMENTATION."""
    if not isinstance(inputs, dict):
        raise AnsibleFilterError("pod_workshop_problems expects a mapping of the workshop inputs")
    return validation.pod_workshop_problems(
        inputs.get("operation"), inputs.get("ip_family"), inputs.get("namespaces"), inputs.get("networks"),
        inputs.get("apps"), inputs.get("services"), inputs.get("policies"), inputs.get("probes"),
        cluster_ranges=[tuple(r) for r in inputs.get("cluster_ranges") or []],
        inspections=inputs.get("inspections") or [], endpoint_slices=inputs.get("endpoint_slices") or [],
        overlapping=inputs.get("overlapping") or [])


class FilterModule(object):
    """ovnk.udn_lab pod workshop input validation."""

    def filters(self):
        return {"pod_workshop_problems": pod_workshop_problems}
