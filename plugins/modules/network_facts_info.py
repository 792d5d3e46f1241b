#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: network_facts_info
short_description: What each OVN-Kubernetes network of some namespaces gives a pod, and the cluster's own settings
version_added: 0.1.0
description:
  - Reads the cluster's settings (MTU, cluster subnets, service CIDRs) from the ConfigMap the OVN-Kubernetes chart
    writes and ovnkube reads (O(ovn_config)), and the NetworkAttachmentDefinitions of O(namespaces), which
    OVN-Kubernetes renders from each UDN and CUDN.
  - Returns, per network, its topology, role, subnets, join subnets and MTU (a NAD without C(mtu) has the
    cluster's; a primary network without C(joinSubnet) the default UDN join subnets), as the workshops' MTU and
    pod-networks claims expect them.
  - When the ConfigMap does not say the cluster's MTU, subnets or service CIDRs, the module warns once, naming what
    is missing and O(cluster_mtu_variable).
  - Read-only; never reports a change; supports check mode. A cluster without the NAD kind has no networks.
author:
  - ovnk.udn_lab maintainers (@ovnk)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  namespaces:
    description: The namespaces whose networks to describe (repeats are read once).
    type: list
    elements: str
    default: []
  ovn_config:
    description: The ConfigMap holding the cluster's settings.
    type: dict
    default: {namespace: ovn-kubernetes, name: ovn-config}
  cluster_mtu:
    description: The cluster's MTU when known otherwise (0, the default, reads it from O(ovn_config)).
    type: int
    default: 0
  cluster_mtu_variable:
    description: The variable that sets O(cluster_mtu), named in the warning.
    type: str
    default: udn_lab_cluster_mtu
requirements:
  - kubernetes >= 24.2.0 (Python client)
"""

EXAMPLES = r"""
- name: What the networks of the workshop's namespaces give a pod
  ovnk.udn_lab.network_facts_info:
    kubeconfig: "{{ udn_lab_kubeconfig }}"
    namespaces: [blue, red]
    cluster_mtu_variable: pod_workshop_cluster_mtu
  register: facts
"""

RETURN = r"""
network_facts:
  description: C(default) (the cluster's network) and C(<namespace>/<nad>) for each OVN-Kubernetes network found.
  returned: always
  type: dict
  sample: {"default": {"topology": "default", "role": "primary", "mtu": 1400, "subnets": ["10.244.0.0/16"],
           "service_cidrs": ["10.96.0.0/16"], "join_subnets": ["100.64.0.0/16"]},
           "blue/blue-network": {"topology": "layer2", "role": "primary", "mtu": 1400, "subnets": ["10.0.0.0/24"],
           "service_cidrs": ["10.96.0.0/16"], "join_subnets": ["100.65.0.0/16"]}}
missing:
  description: What the ConfigMap did not say (C(mtu), C(subnets), C(service_cidrs)).
  returned: always
  type: list
  elements: str
  sample: []
"""

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s
from ansible_collections.ovnk.udn_lab.plugins.module_utils import ovn


def argument_spec():
    spec = dict(k8s.AUTH_ARG_SPEC)
    spec.update(namespaces=dict(type="list", elements="str", default=[]),
                ovn_config=dict(type="dict", default={"namespace": "ovn-kubernetes", "name": "ovn-config"}),
                cluster_mtu=dict(type="int", default=0),
                cluster_mtu_variable=dict(type="str", default="udn_lab_cluster_mtu"))
    return spec


def main():
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    ref = params["ovn_config"]
    if not ref.get("namespace") or not ref.get("name"):
        module.fail_json(msg="ovn_config needs a namespace and a name, got {0!r}".format(ref), changed=False)

    def flow(api):
        configmap = api.get("v1", "ConfigMap", ref["name"], namespace=ref["namespace"])
        nads = []
        for namespace in sorted(set(params["namespaces"])):
            try:
                nads += api.list("k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition", namespace=namespace)
            except Exception as exc:  # the kind is not served: no networks
                if type(exc).__name__ != "ResourceNotFoundError":
                    raise
        facts = ovn.network_facts(nads, ovn.cluster_settings(configmap, mtu=params["cluster_mtu"] or None))
        missing = ovn.missing_cluster_settings(facts)
        if missing:
            module.warn(ovn.missing_cluster_settings_message("{0}/{1}".format(ref["namespace"], ref["name"]), missing,
                                                             params["cluster_mtu_variable"]))
        return {"network_facts": facts, "missing": missing}

    k8s.exit_flow(module, flow, "read the networks' attachment definitions and the cluster's settings")


if __name__ == "__main__":
    main()
