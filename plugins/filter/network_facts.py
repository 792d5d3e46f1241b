# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: network_facts
short_description: What OVN-Kubernetes gives a pod's interface on each network
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - "From NetworkAttachmentDefinitions and the cluster's settings, each network keyed C(default) (the cluster's)
    and C(<namespace>/<nad>) with its C(topology), C(role), C(subnets), C(join_subnets), C(service_cidrs) and
    C(mtu) - what the pods' MTU and C(k8s.ovn.org/pod-networks) claims expect."
  - A NAD's C(mtu) wins; a NAD without one (a UDN or CUDN that sets none) has the cluster's MTU.
  - The cluster's settings come from O(ovn_config), the C(ovn-config) ConfigMap the OVN-Kubernetes chart writes and
    ovnkube reads (C(net_cidr), C(svc_cidr), C(mtu)); O(cluster_mtu), when set, is the cluster's MTU instead.
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
- name: What the networks of blue give their pods
  ansible.builtin.set_fact:
    facts: "{{ nads.resources | ovnk.udn_lab.network_facts(ovn_config=ovn_config.resources | first | default({})) }}"
"""

RETURN = r"""
_value:
  description: Network key (C(default), C(<namespace>/<nad>)) to its facts; an unknown value is null.
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.ovnk.udn_lab.plugins.module_utils import ovn


def network_facts(nads, cluster_mtu=None, ovn_config=None):
    """Filter entry point: see DOCUMENTATION."""
    if not isinstance(nads, (list, tuple)):
        raise AnsibleFilterError("network_facts: expects a list of NetworkAttachmentDefinitions, got %r" % (nads,))
    return ovn.network_facts(list(nads), ovn.cluster_settings(ovn_config, mtu=cluster_mtu))


class FilterModule(object):
    """ovnk.udn_lab network facts."""

    def filters(self):
        return {"network_facts": network_facts}
