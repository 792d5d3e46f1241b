"""cluster_preflight through its main(): reads only, and fails with every missing piece in one message."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ovnk.udn_lab.plugins.modules import cluster_preflight

from fake_api import Clock, FakeApi, run_main


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
    assert api.writes == [] and all(call[0] in ("client", "list", "get") for call in api.calls), api.calls


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


def test_network_reads_how_the_cluster_is_wired_and_reports_it_even_without_components(monkeypatch, capsys):
    """kind's cluster: the apiserver's EndpointSlice, its default ServiceCIDR, kubeadm's ClusterConfiguration."""
    api = FakeApi(Clock(), {
        "EndpointSlice": [{"metadata": {"name": "kubernetes", "namespace": "default",
                                        "labels": {"kubernetes.io/service-name": "kubernetes"}},
                           "endpoints": [{"addresses": ["172.18.0.2"]}], "ports": [{"name": "https", "port": 6443}]}],
        "ServiceCIDR": [{"metadata": {"name": "kubernetes"}, "spec": {"cidrs": ["10.96.0.0/16"]}}],
        "ConfigMap": [{"metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
                       "data": {"ClusterConfiguration": "networking:\n  podSubnet: 10.244.0.0/16\n"}}]})
    out = run_main(monkeypatch, cluster_preflight, api, {"components": [], "wiring": True}, capsys, check_mode=True)
    assert not out.get("failed") and out["changed"] is False and out["checks"] == []
    assert out["wiring"]["api_server_url"] == "https://172.18.0.2:6443"
    assert (out["wiring"]["pod_subnets"], out["wiring"]["service_subnets"]) == (["10.244.0.0/16"], ["10.96.0.0/16"])
    # no KubeVirt on this cluster: whether it should emulate is not known, and the variable that says it is named
    assert out["wiring"]["use_emulation_recommended"] is None
    assert out["wiring"]["unknown"] == [{"what": "use_emulation_recommended", "variable": "kubevirt_use_emulation"}]
    assert api.writes == [] and all(call[0] in ("client", "list", "get") for call in api.calls), api.calls
    # without the option nothing of it is read
    api = FakeApi(Clock(), {})
    out = run_main(monkeypatch, cluster_preflight, api, {"components": []}, capsys)
    assert "wiring" not in out
    assert not any(len(c) > 2 and c[2] == "EndpointSlice" for c in api.calls), api.calls


def deployment(name, namespace):
    return {"kind": "Deployment", "metadata": {"name": name, "namespace": namespace, "generation": 1},
            "spec": {"replicas": 1},
            "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1,
                       "readyReplicas": 1}}


def test_look_first_refuses_to_install_over_what_the_cluster_already_runs(monkeypatch, capsys):
    """The user's OVN-Kubernetes (another namespace, any release name) and cert-manager are found before the lab
    would install its own over them; nothing is written."""
    api = FakeApi(Clock(), {"Deployment": [deployment("ovnkube-control-plane", "ovnk-user"),
                                           deployment("cert-manager-webhook", "cert-manager")],
                            "DaemonSet": [daemonset("ovnkube-node", "ovnk-user")]})
    out = run_main(monkeypatch, cluster_preflight, api, {"components": [], "install": ["ovn_kubernetes", "kubevirt", "multus"],
                                                         "lab": "existing"}, capsys, check_mode=True)
    assert out["failed"] is True and out["changed"] is False and out["installed_by_lab"] == []
    assert out["installing"] == ["multus", "ovn_kubernetes", "kubevirt", "cert_manager", "ipam_extensions"]
    refused = [(c["component"], c["found"]) for c in out["checks"] if not c["ok"]]
    assert refused == [("ovn_kubernetes", "Deployment ovnk-user/ovnkube-control-plane, DaemonSet ovnk-user/ovnkube-node"),
                       ("cert_manager", "Deployment cert-manager/cert-manager-webhook")]
    assert out["msg"].startswith("Look first: udn_lab_existing_install names ovn_kubernetes, and the cluster already "
                                 "runs ovn-kubernetes (Deployment ovnk-user/ovnkube-control-plane, DaemonSet "
                                 "ovnk-user/ovnkube-node), which this lab did not install")
    assert "udn_lab_existing_install names kubevirt, and the cluster already runs cert-manager" in out["msg"]
    assert "drop ovn_kubernetes from udn_lab_existing_install; the lab then checks the cluster's own" in out["msg"]
    assert api.writes == [] and all(call[0] in ("client", "list", "get") for call in api.calls), api.calls


def test_look_first_lets_the_lab_finish_what_it_installed_itself(monkeypatch, capsys):
    """An interrupted install: multus runs, and the lab's marker (written before its first change) names it."""
    marker = '{"schema": 1, "facts": {"zone_labelled": ["n1"]}}'
    api = FakeApi(Clock(), {"DaemonSet": [daemonset("kube-multus-ds", "kube-system")],
                            "ConfigMap": [{"metadata": {"name": "ovnk-udn-lab-state-existing", "namespace": "kube-system"},
                                           "data": {"existing-install-multus": marker}}]})
    out = run_main(monkeypatch, cluster_preflight, api, {"components": [], "install": ["multus"], "lab": "existing"},
                   capsys)
    assert not out.get("failed") and out["installed_by_lab"] == ["multus"] and out["installing"] == ["multus"]
    assert out["install_records"] == {"multus": {"zone_labelled": ["n1"]}}
    # another lab's marker does not count
    out = run_main(monkeypatch, cluster_preflight, api, {"components": [], "install": ["multus"], "lab": "other"}, capsys)
    assert out["failed"] is True and out["installed_by_lab"] == []
    out = run_main(monkeypatch, cluster_preflight, api, {"components": [], "install": ["multus"]}, capsys)
    assert out["failed"] is True and "install and adopt need lab" in out["msg"]


def helm_owned(obj, namespace, release):
    obj["metadata"]["annotations"] = {"meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": namespace}
    return obj


def release_secret(namespace, release, version, status):
    labels = {"owner": "helm", "name": release, "status": status, "version": str(version)}
    return {"kind": "Secret", "metadata": {"name": "sh.helm.release.v1.%s.v%d" % (release, version),
                                           "namespace": namespace, "labels": labels}}


def test_an_adopted_helm_release_passes_look_first_and_its_revision_is_read(monkeypatch, capsys):
    """udn_lab_existing_adopt: [helm:default/ovnk-user]: the user's OVN-Kubernetes objects belong to that release,
    so installing into it is allowed; its deployed revision is what teardown rolls back to."""
    api = FakeApi(Clock(), {
        "Deployment": [helm_owned(deployment("ovnkube-control-plane", "ovn-kubernetes"), "default", "ovnk-user")],
        "DaemonSet": [helm_owned(daemonset("ovnkube-node", "ovn-kubernetes"), "default", "ovnk-user")],
        "Secret": [release_secret("default", "ovnk-user", 1, "superseded"), release_secret("default", "ovnk-user", 2,
                                                                                           "deployed")]})
    args = {"components": [], "install": ["ovn_kubernetes"], "adopt": ["helm:default/ovnk-user"], "lab": "existing"}
    out = run_main(monkeypatch, cluster_preflight, api, args, capsys, check_mode=True)
    assert not out.get("failed"), out["msg"]
    assert out["adopted"] == {"ovn_kubernetes": {"namespace": "default", "name": "ovnk-user", "revision": 2}}
    look = [c for c in out["checks"] if c["check"] == "not installed by someone else"][0]
    assert look["found"].endswith("(helm release default/ovnk-user, adopted: udn_lab_existing_adopt)")
    # another release's objects are still refused, and a release that is not deployed cannot be adopted
    out = run_main(monkeypatch, cluster_preflight, api, dict(args, adopt=["helm:default/other"]), capsys)
    assert out["failed"] is True
    assert "udn_lab_existing_adopt names helm release default/other, which the cluster does not have deployed" in out["msg"]
    assert "the cluster already runs ovn-kubernetes" in out["msg"]
    # what an earlier run recorded before its change wins over what is read now
    api.objects["ConfigMap"] = [{"metadata": {"name": "ovnk-udn-lab-state-existing", "namespace": "kube-system"},
                                 "data": {"existing-install-ovn_kubernetes": '{"facts": {"adopted": {"namespace": '
                                          '"default", "name": "ovnk-user", "revision": 1}}}'}}]
    out = run_main(monkeypatch, cluster_preflight, api, args, capsys)
    assert out["adopted"]["ovn_kubernetes"]["revision"] == 1


def test_an_adopted_kubevirt_cr_gets_its_binding_from_the_lab(monkeypatch, capsys):
    kv = {"kind": "KubeVirt", "metadata": {"name": "kubevirt", "namespace": "kubevirt"},
          "spec": {"configuration": {"developerConfiguration": {"useEmulation": False}}},
          "status": {"conditions": [{"type": "Available", "status": "True"}]}}
    api = FakeApi(Clock(), {"KubeVirt": [kv], "CustomResourceDefinition": [crd("kubevirts.kubevirt.io")]})
    out = run_main(monkeypatch, cluster_preflight, api, {"components": ["kubevirt"], "lab": "existing"}, capsys)
    assert out["failed"] is True and "KubeVirt kubevirt/kubevirt has no l2bridge network binding" in out["msg"]
    out = run_main(monkeypatch, cluster_preflight, api, {"components": ["kubevirt"], "lab": "existing",
                                                         "adopt": ["kubevirt:kubevirt/kubevirt"]}, capsys)
    assert "l2bridge" not in out.get("msg", ""), out.get("msg")
    assert out["adopted"] == {"kubevirt": {"namespace": "kubevirt", "name": "kubevirt", "spec": kv["spec"]}}
    binding = [c for c in out["checks"] if c["check"] == "l2bridge binding"][0]
    assert binding["ok"] and binding["found"] == "registered by the lab (udn_lab_existing_adopt)"
    # installing KubeVirt and patching the cluster's own are exclusive
    out = run_main(monkeypatch, cluster_preflight, api, {"components": [], "lab": "existing", "install": ["kubevirt"],
                                                         "adopt": ["kubevirt:kubevirt/kubevirt"]}, capsys)
    assert "udn_lab_existing_adopt names KubeVirt kubevirt/kubevirt, and udn_lab_existing_install names kubevirt" \
        in out["msg"]


def test_a_malformed_adopt_list_is_refused_before_any_read(monkeypatch, capsys):
    api = FakeApi(Clock(), {})
    out = run_main(monkeypatch, cluster_preflight, api, {"components": [], "lab": "existing",
                                                         "adopt": ["ovn-kubernetes", "helm:a/b", "helm:c/d"]}, capsys)
    assert out["failed"] is True and api.calls == []
    assert out["msg"] == ("udn_lab_existing_adopt ['ovn-kubernetes', 'helm:a/b', 'helm:c/d']: 'ovn-kubernetes' is "
                          "neither helm:<namespace>/<release> nor kubevirt:<namespace>/<name>; it names two objects of "
                          "kind helm; the lab adopts one. Nothing was read or changed.")
