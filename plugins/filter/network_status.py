# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: network_status
short_description: Read the multus C(k8s.v1.cni.cncf.io/network-status) annotation of a pod
version_added: 0.1.0
author:
  - ovnk.udn_lab maintainers (@ovnk)
description:
  - Lists the interfaces multus reports for a pod, with addresses split per IP family.
  - A primary UDN shows as interface C(ovn-udn1); secondary networks as C(net1), C(net2), ...
  - Accepts a pod, its annotations dict, the annotation string or its parsed value. A pod without the annotation gives
    an empty list; a malformed annotation is an error.
  - With O(name) and/or O(interface), returns the first matching entry (or null) instead of the list.
options:
  _input:
    description: A pod (dict with C(metadata.annotations)), an annotations dict, or the annotation value.
    type: raw
    required: true
  name:
    description: Select the entry of this network, C(<namespace>/<nad>), or C(<nad>) with O(namespace).
    type: str
  namespace:
    description: Namespace completing a bare O(name) (defaults to the pod's namespace when the input is a pod).
    type: str
  interface:
    description: Select the entry with this interface name (for example V(net1)).
    type: str
"""

EXAMPLES = r"""
- name: Interface and addresses of the secondary network
  ansible.builtin.debug:
    msg: "{{ pod | ovnk.udn_lab.network_status(name='blue-green-secondary') }}"

- name: Assert the pod got net1
  ansible.builtin.assert:
    that: (pod | ovnk.udn_lab.network_status(interface='net1')) is not none
"""

RETURN = r"""
_value:
  description:
    - Without O(name) and O(interface), the list of entries in annotation order. Each entry has C(name),
      C(namespace), C(nad), C(interface), C(ips), C(ipv4), C(ipv6), C(mac) and C(default) (bool).
    - With O(name) or O(interface), the first matching entry or null.
  type: raw
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.ovnk.udn_lab.plugins.module_utils import ovn


def network_status(data, name=None, namespace=None, interface=None):
    try:
        entries = ovn.network_status(data)
    except ValueError as exc:
        raise AnsibleFilterError("ovnk.udn_lab.network_status: {0}".format(exc))
    if name is None and interface is None:
        return entries
    if namespace is None and isinstance(data, dict) and "metadata" in data:
        namespace = (data.get("metadata") or {}).get("namespace")
    return ovn.find_network_status(entries, name=name, interface=interface, namespace=namespace)


class FilterModule(object):
    def filters(self):
        return {"network_status": network_status}
