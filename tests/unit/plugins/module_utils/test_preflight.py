"""Unit tests for plugins/module_utils/preflight.py: what an existing cluster must run, read without changes."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import preflight

from fake_api import FakeApi

ALL = list(preflight.COMPONENTS)


def crd(name, established=True):
    return {"metadata": {"name": name},
            "status": {"conditions": [{"type": "Established", "status": "True" if established else "False"}]}}


def ds(name, namespace, available=2):
    return {"kind": "DaemonSet", "metadata": {"name": name, "namespace": namespace, "generation": 1},
            "status": {"observedGeneration": 1, "desiredNumberScheduled": 2, "updatedNumberScheduled": 2,
                       "numberAvailable": available}}


def deploy(name, namespace, env=None, args=None):
    return {"kind": "Deployment", "metadata": {"name": name, "namespace": namespace, "generation": 1},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [
                {"name": "c", "env": env or [], "args": args or []}]}}},
            "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}}


# the env the OVN-K v1.3.0 chart renders (one from a ConfigMap, the switches as values)
OVNK_ENV = [{"name": "K8S_APISERVER", "valueFrom": {"configMapKeyRef": {"name": "ovn-config", "key": "k8s_apiserver"}}},
            {"name": "OVN_MULTI_NETWORK_ENABLE", "value": "true"},
            {"name": "OVN_NETWORK_SEGMENTATION_ENABLE", "value": "true"},
            {"name": "OVN_ENABLE_PERSISTENT_IPS", "value": "true"}]

L2BRIDGE = {"domainAttachmentType": "managedTap", "migration": {}}
KUBEVIRT = {"metadata": {"name": "kubevirt", "namespace": "kubevirt"},
            "spec": {"configuration": {"network": {"binding": {"l2bridge": L2BRIDGE}}}},
            "status": {"phase": "Deployed", "conditions": [{"type": "Available", "status": "True",
                                                            "reason": "AllComponentsReady"}]}}


def complete():
    crds = dict((n, crd(n)) for names in preflight.CRDS.values() for n in names)
    crds[preflight.IPAMCLAIM_CRD] = crd(preflight.IPAMCLAIM_CRD)
    workloads = {("DaemonSet", "kube-multus-ds"): [ds("kube-multus-ds", "kube-system")],
                 ("Deployment", "ovnkube-control-plane"): [deploy("ovnkube-control-plane", "ovn-kubernetes", OVNK_ENV)],
                 ("DaemonSet", "ovnkube-node"): [ds("ovnkube-node", "ovn-kubernetes")],
                 ("Deployment", "cert-manager-webhook"): [deploy("cert-manager-webhook", "cert-manager")],
                 ("Deployment", "kubevirt-ipam-controller-manager"): [
                     deploy("kubevirt-ipam-controller-manager", "kubevirt-ipam-controller-system")]}
    return crds, workloads, [copy.deepcopy(KUBEVIRT)]


def failed(checks):
    return [(c["component"], c["check"]) for c in checks if not c["ok"]]


def test_a_complete_cluster_passes_every_check():
    checks = preflight.assess(ALL, *complete())
    assert failed(checks) == [] and len(checks) == 19
    assert preflight.summary(checks, ALL) == ""
    found = dict((c["check"], c["found"]) for c in checks)
    assert found["DaemonSet ovnkube-node"] == "ovn-kubernetes/ovnkube-node"
    assert found["OVN-Kubernetes network segmentation"] == "OVN_NETWORK_SEGMENTATION_ENABLE='true'"


def test_a_cluster_without_ovn_kubernetes_lists_every_missing_piece_in_one_message():
    crds, workloads, kubevirts = complete()
    for name in preflight.CRDS["ovn_kubernetes"]:
        del crds[name]
    del workloads[("Deployment", "ovnkube-control-plane")], workloads[("DaemonSet", "ovnkube-node")]
    checks = preflight.assess(["multus", "ovn_kubernetes"], crds, workloads, kubevirts)
    assert failed(checks) == [
        ("ovn_kubernetes", "CRD userdefinednetworks.k8s.ovn.org"),
        ("ovn_kubernetes", "CRD clusteruserdefinednetworks.k8s.ovn.org"),
        ("ovn_kubernetes", "Deployment ovnkube-control-plane"),
        ("ovn_kubernetes", "DaemonSet ovnkube-node")]
    message = preflight.summary(checks, ["multus", "ovn_kubernetes"])
    assert message.startswith("The existing cluster lacks 4 of the 7 things the lab needs from multus, "
                              "ovn_kubernetes (nothing was changed): 1) ovn_kubernetes: CustomResourceDefinition "
                              "userdefinednetworks.k8s.ovn.org is missing; CustomResourceDefinition "
                              "clusteruserdefinednetworks.k8s.ovn.org is missing; no Deployment named "
                              "ovnkube-control-plane in any namespace; no DaemonSet named ovnkube-node in any "
                              "namespace. Fix: install OVN-Kubernetes v1.3.0 with "
                              "multi-network and network segmentation, or let the lab install it: "
                              "udn_lab_existing_install: [ovn_kubernetes].")


@pytest.mark.parametrize("env, args, off", [
    ([{"name": "OVN_MULTI_NETWORK_ENABLE", "value": "true"}, {"name": "OVN_NETWORK_SEGMENTATION_ENABLE", "value": ""}],
     [], ["OVN-Kubernetes network segmentation"]),
    ([{"name": "OVN_MULTI_NETWORK_ENABLE", "value": "false"}], ["--enable-network-segmentation"],
     ["OVN-Kubernetes multi-network"]),
    ([], ["ovnkube --enable-multi-network --enable-network-segmentation=true"], []),
    ([], ["--enable-multi-network=false", "--enable-network-segmentation"], ["OVN-Kubernetes multi-network"]),
])
def test_ovn_kubernetes_switches_from_the_chart_env_or_the_flags(env, args, off):
    crds, workloads, kubevirts = complete()
    workloads[("Deployment", "ovnkube-control-plane")] = [deploy("ovnkube-control-plane", "ovn-k", env, args)]
    checks = preflight.assess(["ovn_kubernetes"], crds, workloads, kubevirts)
    assert [c for n, c in failed(checks)] == off
    for check in checks:
        if not check["ok"]:
            assert check["problem"].startswith("OVN-Kubernetes (ovn-k/ovnkube-control-plane) runs without")
            assert "the lab does not change an OVN-Kubernetes it did not install" in check["fix"]


def test_the_vm_workshop_also_needs_persistent_ips_and_ipamclaims():
    crds, workloads, kubevirts = complete()
    del crds[preflight.IPAMCLAIM_CRD]
    workloads[("Deployment", "ovnkube-control-plane")] = [deploy("ovnkube-control-plane", "ovn-kubernetes",
                                                                 OVNK_ENV[:3])]
    assert failed(preflight.assess(["ovn_kubernetes"], crds, workloads, kubevirts)) == []
    assert failed(preflight.assess(["ovn_kubernetes", "kubevirt"], crds, workloads, kubevirts)) == [
        ("ovn_kubernetes", "CRD ipamclaims.k8s.cni.cncf.io"), ("ovn_kubernetes", "OVN-Kubernetes persistent IPs")]


@pytest.mark.parametrize("binding, problem", [
    (None, "KubeVirt kubevirt/kubevirt has no l2bridge network binding"),
    ({"domainAttachmentType": "managedTap"}, "has domainAttachmentType 'managedTap' and no migration"),
    ({"sidecarImage": "x", "migration": {}}, "has domainAttachmentType None and a migration"),
])
def test_kubevirt_needs_the_l2bridge_binding_as_the_vm_workshop_uses_it(binding, problem):
    crds, workloads, kubevirts = complete()
    net = kubevirts[0]["spec"]["configuration"]["network"]["binding"]
    if binding is None:
        del net["l2bridge"]
    else:
        net["l2bridge"] = binding
    checks = preflight.assess(["kubevirt"], crds, workloads, kubevirts)
    (bad,) = [c for c in checks if not c["ok"]]
    assert problem in bad["problem"] and "spec.configuration.network.binding.l2bridge" in bad["fix"]


def test_cert_manager_and_ipam_extensions_come_with_the_kubevirt_opt_in():
    crds, workloads, kubevirts = complete()
    del workloads[("Deployment", "cert-manager-webhook")]
    checks = preflight.assess(["kubevirt", "cert_manager"], crds, workloads, kubevirts)
    assert preflight.summary(checks, ["kubevirt", "cert_manager"]).endswith(
        "1) cert_manager: no Deployment named cert-manager-webhook in any namespace. Fix: install cert-manager, or "
        "let the lab install it: udn_lab_existing_install: [kubevirt] (with KubeVirt), or run the pod workshop "
        "alone: udn_lab_workshops: [pods].")


def test_kubevirt_not_available_or_absent():
    crds, workloads, kubevirts = complete()
    kubevirts[0]["status"] = {"phase": "Deploying"}
    (bad,) = [c for c in preflight.assess(["kubevirt"], crds, workloads, kubevirts) if not c["ok"]]
    assert bad["problem"] == "KubeVirt kubevirt/kubevirt is not Available: condition Available absent (phase Deploying)"
    assert failed(preflight.assess(["kubevirt"], crds, workloads, [])) == [("kubevirt", "KubeVirt CR")]


def test_a_workload_not_rolled_out_says_why():
    crds, workloads, kubevirts = complete()
    workloads[("DaemonSet", "kube-multus-ds")] = [ds("kube-multus-ds", "kube-system", available=1)]
    (bad,) = [c for c in preflight.assess(["multus"], crds, workloads, kubevirts) if not c["ok"]]
    assert bad["problem"] == "DaemonSet kube-system/kube-multus-ds is not rolled out: 1 of 2 pods available"


def test_read_cluster_only_reads():
    api = FakeApi(None, {"CustomResourceDefinition": [crd("kubevirts.kubevirt.io")]})
    crds, workloads, kubevirts = preflight.read_cluster(api, ["ovn_kubernetes", "kubevirt"])
    assert set(c[0] for c in api.calls) == {"get", "list"}
    assert ("list", "apps/v1", "Deployment", None, "metadata.name=ovnkube-control-plane", None) in api.calls
    assert [c[:3] for c in api.calls if c[2] == "KubeVirt"] == [("list", "kubevirt.io/v1", "KubeVirt")]
    assert ("get", "apiextensions.k8s.io/v1", "CustomResourceDefinition", preflight.IPAMCLAIM_CRD, None) in api.calls
    assert list(crds) == ["kubevirts.kubevirt.io"]


def test_installing_expands_kubevirt_and_keeps_component_order():
    assert preflight.installing(["kubevirt", "multus"]) == ["multus", "kubevirt", "cert_manager", "ipam_extensions"]
    assert preflight.installing([]) == []


def test_recorded_installs_reads_the_markers_only():
    assert preflight.recorded_installs({"existing-install-ovn_kubernetes": {}, "existing-install-multus": None,
                                        "kubevirt": {}}) == ["multus", "ovn_kubernetes"]
    assert preflight.recorded_installs({"existing-install-kubevirt": {}}) == ["kubevirt", "cert_manager", "ipam_extensions"]
    assert preflight.recorded_installs(None) == []


def test_install_checks_find_a_kubevirt_cr_and_spare_what_the_lab_installed():
    kv = [{"metadata": {"name": "kubevirt", "namespace": "kubevirt"}}]
    checks = preflight.install_checks(["kubevirt"], [], {}, kv)
    assert [(c["component"], c["ok"], c["found"]) for c in checks] == [
        ("kubevirt", False, "KubeVirt kubevirt/kubevirt"), ("cert_manager", True, None), ("ipam_extensions", True, None)]
    assert preflight.install_checks(["kubevirt"], ["kubevirt"], {}, kv)[0]["ok"] is True
    assert preflight.install_summary(checks).startswith("Look first: udn_lab_existing_install names kubevirt, and the "
                                                        "cluster already runs kubevirt (KubeVirt kubevirt/kubevirt)")
    assert preflight.install_summary(checks[1:]) == ""


def test_recorded_facts_are_those_of_the_markers():
    entries = {"existing-install-ovn_kubernetes": {"facts": {"zone_labelled": ["a"]}}, "existing-install-multus": None,
               "ovn_kubernetes": {"facts": {"x": 1}}}
    assert preflight.recorded_facts(entries) == {"multus": {}, "ovn_kubernetes": {"zone_labelled": ["a"]}}


def test_describe_changes_says_what_the_lab_changed_and_what_teardown_restores():
    entries = {"existing-install-multus": {"facts": {}},
               "existing-install-ovn_kubernetes": {"facts": {"zone_labelled": ["a", "b"], "adopted": {
                   "namespace": "default", "name": "ovnk-user", "revision": 1}}},
               "existing-adopt-kubevirt": {"facts": {"namespace": "kubevirt", "name": "kubevirt", "spec": {}}},
               "pod-workshop": {"facts": {}}}
    assert preflight.describe_changes(entries) == [
        "installed multus; a cluster teardown removes it",
        "upgraded helm release default/ovnk-user (revision 1) with the lab's OVN-Kubernetes values; a cluster teardown "
        "rolls it back to revision 1",
        "set the zone label on node(s) a, b; a cluster teardown removes it",
        "patched KubeVirt kubevirt/kubevirt (emulation, the l2bridge binding, feature gates); a cluster teardown gives "
        "it back its spec"]
    assert preflight.describe_changes({"pod-workshop": {}}) == []
    assert preflight.describe_changes(None) == []


def test_parse_adopt_and_release_revision():
    assert preflight.parse_adopt(["helm:default/ovnk-user", "kubevirt:kubevirt/kubevirt"]) == (
        {"helm": {"namespace": "default", "name": "ovnk-user"}, "kubevirt": {"namespace": "kubevirt", "name": "kubevirt"}},
        [])
    assert preflight.parse_adopt(["helm:Default/x"])[1] == ["'helm:Default/x' is neither helm:<namespace>/<release> "
                                                            "nor kubevirt:<namespace>/<name>"]

    def secret(v, status):
        return {"metadata": {"labels": {"owner": "helm", "name": "r", "status": status, "version": str(v)}}}

    assert preflight.release_revision([secret(1, "superseded"), secret(3, "deployed"), secret(4, "failed")]) == 3
    assert preflight.release_revision([secret(1, "uninstalled")]) is None
