#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Read an existing cluster and say, in one message, everything the lab needs from it that is missing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cluster_preflight
short_description: Read an existing cluster and name everything the lab needs from it that is missing
version_added: 0.1.0
description:
  - Reads, and never changes, a cluster the lab did not build. Per component of O(components) it checks what the
    workshop relies on, and fails with ONE message that lists every missing piece with its fix.
  - C(multus) - the NetworkAttachmentDefinition and MultiNetworkPolicy CRDs, and DaemonSet C(kube-multus-ds)
    rolled out.
  - "C(ovn_kubernetes) - the UserDefinedNetwork and ClusterUserDefinedNetwork CRDs, Deployment
    C(ovnkube-control-plane) and DaemonSet C(ovnkube-node) rolled out, and multi-network and network segmentation
    switched on: the container env C(OVN_MULTI_NETWORK_ENABLE) / C(OVN_NETWORK_SEGMENTATION_ENABLE) set to C(true)
    by the OVN-Kubernetes v1.3.0 chart, or the ovnkube flags C(--enable-multi-network) /
    C(--enable-network-segmentation). With C(kubevirt) too, persistent IPs (C(OVN_ENABLE_PERSISTENT_IPS)) and the
    IPAMClaim CRD."
  - C(kubevirt) - the KubeVirt CRDs, a KubeVirt CR that is C(Available), with the C(l2bridge) network binding
    registered with C(domainAttachmentType=managedTap) and C(migration).
  - C(cert_manager) and C(ipam_extensions) - Deployments C(cert-manager-webhook) and
    C(kubevirt-ipam-controller-manager) rolled out.
  - Objects are found by name in any namespace.
  - With O(wiring), it also reads how the cluster is wired (returned as RV(wiring), never a failure) - the API
    server's endpoint for host-network pods from the EndpointSlice of C(default/kubernetes), the service CIDRs from
    the ServiceCIDR C(kubernetes) (else kubeadm's C(kube-system/kubeadm-config)), the pod CIDRs from kubeadm's
    C(networking.podSubnet) (else the C(--cluster-cidr) of the kube-controller-manager pod), and whether KubeVirt
    should emulate, from the nodes' allocatable C(devices.kubevirt.io/kvm) (known only where KubeVirt runs).
  - With O(install), it looks first at what the lab would install by opt-in - each of those components (C(kubevirt)
    brings C(cert_manager) and C(ipam_extensions)) must not run on the cluster yet, unless this lab installed it
    (its entry C(existing-install-<component>) in the lab state record of O(lab)). Found by its workloads by name in any namespace
    (C(kube-multus-ds); C(ovnkube-control-plane), C(ovnkube-node); C(virt-operator) or any KubeVirt CR;
    C(cert-manager), C(cert-manager-webhook); C(kubevirt-ipam-controller-manager)).
  - Read-only (lists and gets); never reports a change; supports check mode.
author:
  - ovnk.udn_lab maintainers (@ovnk)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  components:
    description:
      - The components to check.
    type: list
    elements: str
    choices: [multus, ovn_kubernetes, kubevirt, cert_manager, ipam_extensions]
    required: true
  wiring:
    description:
      - Also read the API server's endpoint, the pod and service CIDRs and the nodes' KVM (RV(wiring)).
    type: bool
    default: false
  install:
    description:
      - The components the lab will install by opt-in (C(udn_lab_existing_install)); see the description.
    type: list
    elements: str
    choices: [multus, ovn_kubernetes, kubevirt]
    default: []
  adopt:
    description:
      - Objects the user lets the lab change though it did not install them (C(udn_lab_existing_adopt)) -
        C(helm:<namespace>/<release>), the OVN-Kubernetes release to install into (with C(ovn_kubernetes) in
        O(install); its objects then pass the look-first check), and C(kubevirt:<namespace>/<name>), the KubeVirt CR to
        patch (without C(kubevirt) in O(install); its l2bridge binding is then the lab's to register).
      - Their prior state (the release's deployed revision, the CR's spec) is returned as RV(adopted), unless the lab
        state record already holds it from an earlier run.
    type: list
    elements: str
    default: []
  lab:
    description:
      - The lab whose state record tells what it installed earlier (C(kube-system/ovnk-udn-lab-state-<lab>)).
      - Needed with O(install) or O(adopt).
    type: str
  ip_family:
    description:
      - The lab's families; RV(wiring) keeps the addresses and CIDRs of these only.
    type: str
    choices: [ipv4, ipv6, dual]
    default: ipv4
requirements:
  - kubernetes >= 24.2.0 (Python client)
seealso:
  - module: ovnk.udn_lab.rollout_wait
"""

EXAMPLES = r"""
- name: Read the cluster before the pod workshop (nothing is changed)
  ovnk.udn_lab.cluster_preflight:
    kubeconfig: "{{ udn_lab_kubeconfig }}"
    components: [multus, ovn_kubernetes]
"""

RETURN = r"""
checks:
  description: Every check, in component order.
  returned: always
  type: list
  elements: dict
  contains:
    component:
      description: The component the check belongs to.
      type: str
      sample: ovn_kubernetes
    check:
      description: What was checked.
      type: str
      sample: OVN-Kubernetes network segmentation
    ok:
      description: Whether it holds.
      type: bool
    found:
      description: What was found (an object's namespace/name, a setting), or null.
      type: str
      sample: "OVN_NETWORK_SEGMENTATION_ENABLE='true'"
    problem:
      description: Why it does not hold (null when it does).
      type: str
    fix:
      description: How to fix it, or how to let the lab install the component (null when it holds).
      type: str
installing:
  description: The components the lab will install (O(install) with what C(kubevirt) brings).
  returned: always
  type: list
  elements: str
  sample: [kubevirt, cert_manager, ipam_extensions]
adopted:
  description:
    - The prior state of each adopted object, which teardown restores - recorded by an earlier run if there was
      one, else read now.
  returned: always
  type: dict
  sample: {"ovn_kubernetes": {"namespace": "default", "name": "ovnk-user", "revision": 1}}
installed_by_lab:
  description: The components the lab's state record says this lab installed earlier (they may be changed).
  returned: always
  type: list
  elements: str
  sample: []
install_records:
  description:
    - The facts this lab recorded with each component it installed earlier (for C(ovn_kubernetes), C(zone_labelled)
      - the nodes whose zone label it set, which a cluster teardown removes).
  returned: always
  type: dict
  sample: {"ovn_kubernetes": {"zone_labelled": ["node-1"]}}
wiring:
  description: How the cluster is wired, with O(wiring); each value null or empty when no source has it.
  returned: when O(wiring) is true
  type: dict
  contains:
    api_server_url:
      description: C(https://<address>:<port>) of the API server for host-network pods.
      type: str
      sample: https://172.18.0.2:6443
    pod_subnets:
      description: The cluster's pod CIDRs of the lab's families.
      type: list
      elements: str
      sample: [10.244.0.0/16]
    service_subnets:
      description: The cluster's service CIDRs of the lab's families.
      type: list
      elements: str
      sample: [10.96.0.0/16]
    use_emulation_recommended:
      description: Whether KubeVirt should emulate (a node without KVM), or null when no node says (no KubeVirt).
      type: bool
    sources:
      description: Where each value was read (null where nowhere).
      type: dict
    unknown:
      description: What no source has, each with the variable that states it instead.
      type: list
      elements: dict
missing:
  description: The number of checks that do not hold.
  returned: always
  type: int
  sample: 0
"""

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.ovnk.udn_lab.plugins.module_utils import clusternet
from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s
from ansible_collections.ovnk.udn_lab.plugins.module_utils import preflight
from ansible_collections.ovnk.udn_lab.plugins.module_utils import state
from ansible_collections.ovnk.udn_lab.plugins.module_utils.waits import FlowError


def argument_spec():
    spec = dict(k8s.AUTH_ARG_SPEC)
    spec.update(components=dict(type="list", elements="str", required=True, choices=list(preflight.COMPONENTS)),
                wiring=dict(type="bool", default=False),
                install=dict(type="list", elements="str", default=[], choices=["multus", "ovn_kubernetes", "kubevirt"]),
                adopt=dict(type="list", elements="str", default=[]),
                lab=dict(type="str"),
                ip_family=dict(type="str", default="ipv4", choices=list(clusternet.FAMILIES)))
    return spec


def main():
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True)
    if (module.params["install"] or module.params["adopt"]) and not module.params["lab"]:
        module.fail_json(msg="install and adopt need lab: the lab whose state record tells what it did earlier")
    adopted, problems = preflight.parse_adopt(module.params["adopt"])
    if problems:
        module.fail_json(msg="{0} {1}: {2}. Nothing was read or changed.".format(
            preflight.ADOPT_VARIABLE, module.params["adopt"], "; ".join(problems)))
    components = [c for c in preflight.COMPONENTS if c in module.params["components"]]

    def flow(api):
        checks = preflight.assess(components, *preflight.read_cluster(api, components), adopted=adopted)
        installing = preflight.installing(module.params["install"])
        mine, records, prior = [], {}, {}
        if installing or adopted:
            entries = state.load_entries(api, state.configmap_name(module.params["lab"]))
            mine, records = preflight.recorded_installs(entries), preflight.recorded_facts(entries)
            prior = preflight.recorded_prior(entries)
        if installing:
            checks += preflight.install_checks(module.params["install"], mine,
                                               *preflight.read_presence(api, installing), adopted=adopted)
        if adopted:
            found, now = preflight.adopt_checks(adopted, module.params["install"],
                                                *preflight.read_adopted(api, adopted))
            checks += found
            prior = dict(now, **prior)  # what an earlier run recorded before its change wins
        first = (preflight.LOOK_FIRST,) + preflight.ADOPT_CHECKS
        needed = [c for c in checks if c["check"] not in first]
        looked = [c for c in checks if c["check"] in first]
        message = " ".join(m for m in (preflight.summary(needed, components), preflight.install_summary(looked)) if m)
        result = {"checks": checks, "missing": sum(1 for c in checks if not c["ok"]), "installing": installing,
                  "installed_by_lab": mine, "install_records": records,
                  "adopted": dict((k, v) for k, v in prior.items()
                                  if {"ovn_kubernetes": "helm", "kubevirt": "kubevirt"}[k] in adopted)}
        if module.params["wiring"]:
            result["wiring"] = clusternet.read(api, module.params["ip_family"])
        if message:
            raise FlowError(message, **result)
        return result

    k8s.exit_flow(module, flow, "read the cluster")


if __name__ == "__main__":
    main()
