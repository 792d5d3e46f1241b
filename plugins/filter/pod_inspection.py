# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: pod_inspection
short_description: Judge what the workshop shows inside a pod (ip a, ip r, its liveness probe) as claims
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - "From the pod object and the output of the inspection command run in it (C(ip -j address show), then the IPv4
    and IPv6 default routes, separated by a marker line), returns one claim per check and family, shaped like the
    results of M(ovnk.udn_lab.connectivity_matrix)."
  - "C(interfaces): the primary network's interface (multus network-status default, C(ovn-udn1) with a primary UDN)
    holds the pod's primary address of C(k8s.ovn.org/pod-networks); with a primary UDN, C(eth0) holds the
    infrastructure-locked address."
  - "C(default-route): the default route goes via the primary network's gateway on that interface, none through an
    infrastructure-locked C(eth0)."
  - "C(mtu): the primary network's interface has its network's MTU and, with a primary UDN, C(eth0) the default
    network's (one claim, not per family)."
  - "C(annotation): C(k8s.ovn.org/pod-networks) holds what OVN-Kubernetes v1.3.0 writes for the pod's networks -
    the primary entry's gateway, MAC and routes, and an infrastructure-locked default entry without a gateway (one
    claim)."
  - "C(liveness): every container with a liveness probe is ready and never restarted."
positional: inspection, stdout, families, facts
options:
  _input:
    description: The pod, as the API returns it (C(kubernetes.core.k8s_info) resources).
    type: dict
    required: true
  inspection:
    description: The inspection, C(id), C(namespace), C(pod) and optionally C(checks) (default all).
    type: dict
    required: true
  stdout:
    description: The inspection command's output; null when it could not run (every exec claim is then wrong).
    type: str
  families:
    description: The address families to check.
    type: list
    elements: str
    required: true
  facts:
    description:
      - What each network of the pod gives it, keyed C(default) and C(<namespace>/<nad>), as
        P(ovnk.udn_lab.network_facts#filter) returns it; a network missing here makes the C(mtu) and
        C(annotation) claims wrong.
    type: dict
"""

EXAMPLES = r"""
- name: Judge what the pods show
  ansible.builtin.set_fact:
    claims: "{{ pod_object | ovnk.udn_lab.pod_inspection({'id': 'blue', 'namespace': 'blue', 'pod': 'app-blue-0'},
      exec_result.stdout, ['ipv4']) }}"
"""

RETURN = r"""
_value:
  description: One result per check (and family), with C(id), C(claim), C(status) (correct or wrong) and C(detail).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.ovnk.udn_lab.plugins.module_utils.podcheck import CHECKS, inspect_pod


def pod_inspection(pod, inspection, stdout, families, facts=None):
    if not isinstance(pod, dict) or not isinstance(inspection, dict):
        raise AnsibleFilterError("pod_inspection: expects the pod object and the inspection (id, namespace, pod)")
    return inspect_pod(inspection, pod, stdout, list(families or []), tuple(inspection.get("checks") or CHECKS),
                       facts=facts)


class FilterModule(object):
    def filters(self):
        return {"pod_inspection": pod_inspection}
