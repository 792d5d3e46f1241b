# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: own_network_probes
short_description: Probes that an address held in two overlapping UDNs reaches the caller's own network
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - For each network of a C(pod_workshop_overlapping_networks) entry and each address family, a probe for
    M(ovnk.udn_lab.connectivity_matrix) - from a pod of the network, an HTTP C(/hostname) to the lowest address that
    both networks hold, which only the network's own pod holding it may answer (C(to.answered_by)).
  - Where no address is shared this time (OVN-Kubernetes does not guarantee one), or the network has no second pod,
    a "not applicable" result says why instead.
positional: check, networks, families
extends_documentation_fragment:
  - ovnk.udn_lab.claims
  - ovnk.udn_lab.claims.overlap
options:
  port:
    description: The HTTP port of the pods' agnhost netexec.
    type: int
    default: 8080
"""

EXAMPLES = r"""
- name: Probe blue's and overlapping-with-blue's shared addresses
  ansible.builtin.set_fact:
    shared: "{{ pods_by_namespace | ovnk.udn_lab.own_network_probes(check, pod_workshop_networks, ['ipv4']) }}"
  vars:
    check: {id: overlapping-subnets, networks: [blue-network, overlapping-with-blue-network]}
"""

RETURN = r"""
_value:
  description: C(probes) (for M(ovnk.udn_lab.connectivity_matrix)) and C(results) (the "not applicable" ones).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.ovnk.udn_lab.plugins.module_utils.overlap import own_network_probes as plan


def own_network_probes(pods_by_namespace, check, networks, families, port=8080):
    """Filter entry point: see DOCUMENTATION."""
    if not isinstance(pods_by_namespace, dict) or not isinstance(check, dict) or not check.get("id"):
        raise AnsibleFilterError("own_network_probes: expects the pods by namespace and a check with an id")
    return plan(check, list(networks or []), pods_by_namespace, list(families or []), int(port))


class FilterModule(object):
    """ovnk.udn_lab probes of overlapping networks."""

    def filters(self):
        return {"own_network_probes": own_network_probes}
