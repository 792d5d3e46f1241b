# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: pod_networks
short_description: Read the OVN-Kubernetes C(k8s.ovn.org/pod-networks) annotation of a pod
version_added: 0.1.0
author:
  - ovnk.udn_lab maintainers (@ovnk)
description:
  - Summarizes the networks OVN-Kubernetes attached to a pod, with addresses split per IP family and prefixes removed.
  - "With a primary UDN, the C(default) entry has role C(infrastructure-locked) (kubelet probes only) and the UDN
    entry role C(primary). C(status.podIPs) shows the default network address, never the UDN one."
  - Accepts a pod, its annotations dict, the annotation string or its parsed value. A pod without the annotation gives
    an empty summary; a malformed annotation is an error.
  - With O(network) and O(family), returns only the list of addresses of that network and family instead.
options:
  _input:
    description: A pod (dict with C(metadata.annotations)), an annotations dict, or the annotation value.
    type: raw
    required: true
  network:
    description:
      - Return only the addresses on this network. V(primary), V(default), V(infrastructure-locked), or a network
        attachment C(<namespace>/<name>) or C(<name>) (namespace of the pod).
    type: str
  family:
    description: With O(network), the IP family of the addresses returned.
    type: str
    choices: [ipv4, ipv6]
    default: ipv4
"""

EXAMPLES = r"""
- name: Primary UDN address of app-blue-1
  ansible.builtin.debug:
    msg: "{{ (pod | ovnk.udn_lab.pod_networks).primary.ipv4 | first }}"

- name: Same, as a list of IPv6 addresses
  ansible.builtin.debug:
    msg: "{{ pod | ovnk.udn_lab.pod_networks(network='primary', family='ipv6') }}"

- name: The infrastructure-locked (default network) address
  ansible.builtin.debug:
    msg: "{{ (pod | ovnk.udn_lab.pod_networks).infrastructure_locked.ips }}"
"""

RETURN = r"""
_value:
  description:
    - Without O(network), a dict with C(networks) (key C(default) or C(<namespace>/<nad>) to an entry), C(primary),
      C(primary_network), C(infrastructure_locked), C(default) (entries or null) and C(secondary) (list of entries).
    - "Each entry: C(key), C(namespace), C(nad), C(role), C(cidrs), C(ips), C(ipv4), C(ipv6), C(mac), C(gateways),
      C(routes) (list of C(dest)/C(next_hop))."
    - With O(network), the list of addresses (strings) of that network and O(family).
  type: raw
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ovnk.udn_lab.plugins.module_utils import ovn


def pod_networks(data, network=None, family="ipv4"):
    try:
        if network:
            return ovn.pod_ips(data, network, family)
        return ovn.pod_networks(data)
    except ValueError as exc:
        raise AnsibleFilterError("ovnk.udn_lab.pod_networks: {0}".format(exc))


class FilterModule(object):
    def filters(self):
        return {"pod_networks": pod_networks}
