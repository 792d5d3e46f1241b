"""cluster_preflight through its main(): reads only, and fails with every missing piece in one message."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ovnk.udn_lab.plugins.modules import cluster_preflight

from fake_module_api import Clock, FakeApi, run_main


def crd(name):
    return {"kind": "CustomResourceDefinition", "metadata": {"name": name},
            "status": {"conditions": [{"type": "Established", "status": "True"}]}}


def daemonset(name, namespace):
    return {"kind": "DaemonSet", "metadata": {"name": name, "namespace": namespace, "generation": 1},
            "status": {"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3,
                       "numberAvailable": 3}}


def test_multus_present_passes_and_nothing_is_written(monkeypatch, capsys):
    api = FakeApi(Clock(), {
        "CustomResourceDefinition": [crd("network-attachment-definitions.k8s.cni.cncf.io"),
                                     crd("multi-networkpolicies.k8s.cni.cncf.io")],
        "DaemonSet": [daemonset("kube-multus-ds", "kube-system")]})
    out = run_main(monkeypatch, cluster_preflight, api, {"components": ["multus"]}, capsys, check_mode=True)
    assert not out.get("failed") and out["changed"] is False and out["missing"] == 0
    assert [c["found"] for c in out["checks"]] == ["established", "established", "kube-system/kube-multus-ds"]
    assert all(call[0] in ("client", "list") for call in api.calls), api.calls


def test_a_cluster_without_ovn_kubernetes_fails_in_one_message(monkeypatch, capsys):
    api = FakeApi(Clock(), {})
    out = run_main(monkeypatch, cluster_preflight, api, {"components": ["ovn_kubernetes", "multus"]}, capsys)
    assert out["failed"] is True and out["changed"] is False and out["missing"] == 7
    assert out["msg"].startswith("The existing cluster lacks 7 of the 7 things the lab needs from multus, "
                                 "ovn_kubernetes (nothing was changed): 1) multus: CustomResourceDefinition "
                                 "network-attachment-definitions.k8s.cni.cncf.io is missing; ")
    assert "2) ovn_kubernetes: CustomResourceDefinition userdefinednetworks.k8s.ovn.org is missing; " in out["msg"]
    assert out["msg"].endswith("no DaemonSet named ovnkube-node in any namespace. Fix: install OVN-Kubernetes "
                               "v1.3.0 with multi-network and network segmentation, or let the lab install it: "
                               "udn_lab_existing_install: [ovn_kubernetes].")
