# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: service_endpoints
short_description: A Service's EndpointSlices on a primary UDN, as claims
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - Judges what C(kubectl get endpointslices -n <namespace>) shows the workshop, one claim per address family.
  - The default slice (kube-controller-manager) must list every pod behind the Service at its infrastructure-locked
    default-network address; the slice OVN-Kubernetes mirrors from it (label C(k8s.ovn.org/service-name)) must list
    the same pods at their primary UDN addresses (from C(k8s.ovn.org/pod-networks)).
  - Results have the fields of M(ovnk.udn_lab.connectivity_matrix) results (truth tables, JUnit, report).
positional: check, pods, families
options:
  _input:
    description: The EndpointSlices of the Service's namespace.
    type: list
    elements: dict
    required: true
  check:
    description: The entry of C(pod_workshop_endpoint_slices) (C(id), C(namespace), C(service)).
    type: dict
    required: true
  pods:
    description: The pods of the namespace.
    type: list
    elements: dict
    required: true
extends_documentation_fragment:
  - ovnk.udn_lab.claims
"""

EXAMPLES = r"""
- name: Judge service-blue's EndpointSlices
  ansible.builtin.set_fact:
    claims: "{{ slices.resources | ovnk.udn_lab.service_endpoints(check, pods.resources, ['ipv4', 'ipv6']) }}"
  vars:
    check: {id: endpoints-service-blue, namespace: blue, service: service-blue}
"""

RETURN = r"""
_value:
  description: One claim result per family (C(id), C(status) V(correct) or V(wrong), C(detail), C(reproduce), ...).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.ovnk.udn_lab.plugins.module_utils.endpoints import service_endpoints as judge


def service_endpoints(slices, check, pods, families):
    """Filter entry point: see DOCUMENTATION."""
    if not isinstance(check, dict) or not all(check.get(k) for k in ("id", "namespace", "service")):
        raise AnsibleFilterError("service_endpoints: check must have id, namespace and service, got %r" % (check,))
    return judge(check, list(slices or []), list(pods or []), list(families or []))


class FilterModule(object):
    """ovnk.udn_lab EndpointSlice claims."""

    def filters(self):
        return {"service_endpoints": service_endpoints}
