# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: network_mtus
short_description: The MTU OVN-Kubernetes gives each network's pod interfaces
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - From NetworkAttachmentDefinitions and the cluster's MTU, the MTU of each network as the OVN-Kubernetes CNI gives
    it to a pod's interface, keyed C(default) (the cluster's) and C(<namespace>/<nad>).
  - A NAD's C(mtu) wins; a NAD without one (a UDN or CUDN that sets none) has the cluster's MTU.
  - The cluster's MTU is O(cluster_mtu) when set, else the C(mtu) key of O(ovn_config) (the C(ovn-config) ConfigMap
    the OVN-Kubernetes chart writes, which ovnkube-node reads); null when neither gives one.
options:
  _input:
    description: NetworkAttachmentDefinitions, as the API returns them.
    type: list
    elements: dict
    required: true
  cluster_mtu:
    description: The cluster's MTU, when the user states it.
    type: int
  ovn_config:
    description: The C(ovn-config) ConfigMap, as the API returns it.
    type: dict
"""

EXAMPLES = r"""
- name: The MTU of every network in blue
  ansible.builtin.set_fact:
    mtus: "{{ nads.resources | ovnk.udn_lab.network_mtus(ovn_config=ovn_config.resources | first | default({})) }}"
"""

RETURN = r"""
_value:
  description: Network key (C(default), C(<namespace>/<nad>)) to MTU (null when the cluster's is unknown).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.ovnk.udn_lab.plugins.module_utils import ovn


def network_mtus(nads, cluster_mtu=None, ovn_config=None):
    """Filter entry point: see DOCUMENTATION."""
    if not isinstance(nads, (list, tuple)):
        raise AnsibleFilterError("network_mtus: expects a list of NetworkAttachmentDefinitions, got %r" % (nads,))
    default = cluster_mtu if cluster_mtu not in (None, "") else ovn.cluster_mtu(ovn_config)
    return ovn.network_mtus(list(nads), default)


class FilterModule(object):
    """ovnk.udn_lab network MTUs."""

    def filters(self):
        return {"network_mtus": network_mtus}
