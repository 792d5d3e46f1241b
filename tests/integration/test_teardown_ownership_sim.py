"""playbooks/teardown.yml (scope workloads) against the real API server of the simulated cluster: beside the
lab's objects, unlabelled, half-labelled and another lab's objects of every kind teardown touches (Namespace,
UDN, CUDN, Service, NetworkPolicy, StatefulSet, VM, Secret, the state ConfigMap). Teardown with the default
labels removes exactly the lab's; with overridden labels (`{}`, one label only, another lab's name) it is
refused before its first API call. Nothing that is not the lab's is deleted or changed: every such object keeps
its resourceVersion.
"""

import json
import os
import pathlib
import re
import subprocess
import sys
import time

import pytest
import yaml

SIM_DIR = pathlib.Path(__file__).resolve().parents[1] / "sim"
sys.path.insert(0, str(SIM_DIR))

import build  # noqa: E402
import launcher  # noqa: E402
import sim_lab  # noqa: E402
from sim_lab import kubectl  # noqa: E402

pytestmark = pytest.mark.sim

LAB = "td-lab-%d" % os.getpid()
MANAGED = "app.kubernetes.io/managed-by"
LAB_LABEL = "udn-lab.ovnk.io/lab"
OURS = {MANAGED: "ovnk.udn_lab", LAB_LABEL: LAB}
HALF = {MANAGED: "ovnk.udn_lab"}                      # the collection's, but no lab named
OTHER = {MANAGED: "ovnk.udn_lab", LAB_LABEL: "another-lab"}
FOREIGN = {"none": {}, "half": HALF, "other": OTHER}


def meta(name, labels, namespace=None):
    out = {"name": name, "labels": dict(labels)}
    if namespace:
        out["namespace"] = namespace
    return out


def objects_of(owner, labels, namespace):
    """One object of every namespaced kind teardown touches, in ``namespace``, named after ``owner``."""
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta(owner + "-app", labels, namespace),
           "spec": {"replicas": 0, "serviceName": owner, "selector": {"matchLabels": {"app": owner}},
                    "template": {"metadata": {"labels": {"app": owner}},
                                 "spec": {"containers": [{"name": "c", "image": "agnhost"}]}}}}
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": meta(owner + "-svc", labels, namespace),
           "spec": {"selector": {"app": owner}, "ports": [{"port": 80}]}}
    netpol = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": meta(owner + "-np", labels, namespace), "spec": {"podSelector": {}}}
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": meta(owner + "-secret", labels, namespace),
              "stringData": {"k": "v"}}
    udn = {"apiVersion": "k8s.ovn.org/v1", "kind": "UserDefinedNetwork", "metadata": meta(owner + "-udn", labels, namespace),
           "spec": {"topology": "Layer2", "layer2": {"role": "Secondary", "subnets": ["10.100.0.0/16"]}}}
    vm = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": meta(owner + "-vm", labels, namespace),
          "spec": {"runStrategy": "Halted", "template": {"spec": {"domain": {"devices": {}}}}}}
    return [sts, svc, netpol, secret, udn, vm]


def world():
    """The lab's namespace and objects, a foreign object inside the lab's namespace, and per foreign label set
    (none, half, another lab) a namespace with objects of every kind, a CUDN and a state ConfigMap."""
    items = [{"apiVersion": "v1", "kind": "Namespace", "metadata": meta("lab-blue", OURS)}]
    items += objects_of("lab", OURS, "lab-blue")
    items += objects_of("stray", {}, "lab-blue")  # someone else's, in the lab's namespace: the namespace stays
    items.append({"apiVersion": "k8s.ovn.org/v1", "kind": "ClusterUserDefinedNetwork", "metadata": meta("lab-cudn", OURS),
                  "spec": {"namespaceSelector": {"matchLabels": {"x": "lab"}},
                           "network": {"topology": "Layer2", "layer2": {"role": "Secondary", "subnets": ["10.101.0.0/16"]}}}})
    for key, labels in FOREIGN.items():
        ns = "bystander-" + key
        items.append({"apiVersion": "v1", "kind": "Namespace", "metadata": meta(ns, labels)})
        items += objects_of(key, labels, ns)
        items.append({"apiVersion": "k8s.ovn.org/v1", "kind": "ClusterUserDefinedNetwork",
                      "metadata": meta("cudn-" + key, labels),
                      "spec": {"namespaceSelector": {"matchLabels": {"x": key}},
                               "network": {"topology": "Layer2", "layer2": {"role": "Secondary",
                                                                            "subnets": ["10.102.0.0/16"]}}}})
        items.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("state-" + key, labels, "kube-system"),
                      "data": {"x": key}})
    return items


KINDS = "namespaces,statefulsets.apps,services,networkpolicies.networking.k8s.io,secrets,configmaps," \
        "userdefinednetworks.k8s.ovn.org,clusteruserdefinednetworks.k8s.ovn.org,virtualmachines.kubevirt.io"


def snapshot(kubeconfig):
    """``{(kind, namespace, name): resourceVersion}`` of every object of the kinds teardown touches."""
    out = {}
    data = json.loads(kubectl(kubeconfig, "get", KINDS, "-A", "-o", "json").stdout)
    for obj in data["items"]:
        m = obj["metadata"]
        out[(obj["kind"], m.get("namespace", ""), m["name"])] = m["resourceVersion"]
    return out


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, upstream_dir):
    if build.missing(build.load_matrix()).get("kubernetes") or build.missing(build.load_matrix()).get("kwok"):
        if os.environ.get("UDN_LAB_SIM_BUILD") != "1":
            pytest.skip("simulated cluster binaries not built: run `python tests/sim/build.py` or set UDN_LAB_SIM_BUILD=1")
        build.build()
    home = tmp_path_factory.mktemp("teardown-sim")
    old = os.environ.get("UDN_LAB_SIM_HOME")
    os.environ["UDN_LAB_SIM_HOME"] = str(home)
    kubeconfig = home / "kubeconfig"
    launcher.start(LAB, workers=1, ip_family="ipv4", kubeconfig=str(kubeconfig))
    try:
        for crd in ("k8s.ovn.org_userdefinednetworks.yaml", "k8s.ovn.org_clusteruserdefinednetworks.yaml"):
            kubectl(kubeconfig, "apply", "--server-side", "-f", str(upstream_dir / "ovn-kubernetes-v1.3.0" / crd))
        # KubeVirt's CRDs only (no operator runs here: "no KubeVirt")
        operator = yaml.safe_load_all((SIM_DIR / "standins" / "manifests" / "kubevirt-operator.yaml").read_text())
        crds = [d for d in operator if d and d.get("kind") == "CustomResourceDefinition"]
        kubectl(kubeconfig, "apply", "--server-side", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                                                                   "items": crds}))
        deadline = time.time() + 60
        while kubectl(kubeconfig, "get", "virtualmachines.kubevirt.io", "-A", check=False).returncode != 0:
            assert time.time() < deadline, "the VM CRD did not become established"
            time.sleep(1)
        kubectl(kubeconfig, "apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": world()}))
        yield kubeconfig, home
    finally:
        launcher.stop(LAB)
        if old is None:
            os.environ.pop("UDN_LAB_SIM_HOME", None)
        else:
            os.environ["UDN_LAB_SIM_HOME"] = old


def teardown(kubeconfig, home, labels=None):
    repo = pathlib.Path(__file__).resolve().parents[2]
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo / "ansible.cfg"), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_COLLECTIONS_PATH=str(repo / ".collections"), ANSIBLE_NOCOLOR="1",
               PATH=os.pathsep.join([str(build.bin_dir()), os.environ.get("PATH", "")]))
    variables = {"udn_lab_cluster_name": LAB, "udn_lab_kubeconfig": str(kubeconfig), "udn_lab_dir": str(home / "lab"),
                 "udn_lab_teardown_scope": "workloads"}
    if labels is not None:
        variables["udn_lab_labels"] = labels
    proc = subprocess.run(["ansible-playbook", "playbooks/teardown.yml", "-e", json.dumps(variables)], cwd=str(repo),
                          env=env, capture_output=True, text=True, check=False, timeout=900)
    return proc.returncode, " ".join((proc.stdout + proc.stderr).split())


@pytest.mark.parametrize("labels", [{}, {MANAGED: "ovnk.udn_lab"}, {LAB_LABEL: LAB},
                                    {MANAGED: "ovnk.udn_lab", LAB_LABEL: "another-lab"}])
def test_overridden_labels_are_refused_and_change_nothing(cluster, labels):
    kubeconfig, home = cluster
    before = snapshot(kubeconfig)
    rc, out = teardown(kubeconfig, home, labels)
    assert rc != 0 and "udn_lab_labels" in out, out[-3000:]
    assert snapshot(kubeconfig) == before


def test_the_default_labels_remove_exactly_the_labs_objects(cluster):
    kubeconfig, home = cluster
    before = snapshot(kubeconfig)
    rc, out = teardown(kubeconfig, home)
    assert rc == 0, out[-6000:]
    after = snapshot(kubeconfig)
    ours = set(k for k in before if k[2].startswith("lab-") and k[0] != "Namespace")
    assert ours, sorted(before)
    assert not ours & set(after), sorted(ours & set(after))
    foreign = dict((k, v) for k, v in before.items() if k not in ours and not (k[0] == "Namespace" and k[2] == "lab-blue"))
    for key, version in sorted(foreign.items()):
        assert after.get(key) == version, (key, version, after.get(key))
    # the lab's namespace still holds someone else's objects: kept, and those objects untouched
    assert ("Namespace", "", "lab-blue") in after
    assert ("StatefulSet", "lab-blue", "stray-app") in after


def existing_mode(kubeconfig, home, playbook, *extra):
    """``(returncode, output on one line)`` of ``playbook`` with the existing_cluster inventory on this cluster."""
    repo = pathlib.Path(__file__).resolve().parents[2]
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo / "ansible.cfg"), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_NOCOLOR="1", KUBECONFIG=str(kubeconfig), HOME=str(home / "user"))
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)
    proc = subprocess.run(sim_lab.existing_mode_cmd(repo, playbook) + list(extra), cwd=str(repo), env=env,
                          capture_output=True, text=True, check=False, timeout=900)
    return proc.returncode, " ".join((proc.stdout + proc.stderr).split())


def infra_snapshot(kubeconfig):
    """The cluster's infrastructure as existing mode must leave it (sim_lab.cluster_snapshot)."""
    return sim_lab.cluster_snapshot(lambda *args: kubectl(kubeconfig, *args, check=False))


def test_existing_mode_on_a_cluster_without_ovn_kubernetes_fails_in_the_preflight_and_changes_nothing(cluster):
    """This cluster has nodes, the UDN CRDs and KubeVirt's CRDs, but no OVN-Kubernetes, multus or KubeVirt
    running: existing mode names every missing piece in one message, before any role runs, and changes nothing.
    (The time it takes is reported in the closing note, not asserted.)"""
    kubeconfig, home = cluster
    before = infra_snapshot(kubeconfig)
    started = time.monotonic()
    rc, out = existing_mode(kubeconfig, home, "site.yml")
    seconds = time.monotonic() - started
    assert rc != 0, out[-3000:]
    assert "The existing cluster lacks " in out and "(nothing was changed)" in out, out[-4000:]
    for missing in ("CustomResourceDefinition network-attachment-definitions.k8s.cni.cncf.io is missing",
                    "no DaemonSet named kube-multus-ds in any namespace",
                    "no Deployment named ovnkube-control-plane in any namespace",
                    "no KubeVirt CR in any namespace",
                    "no Deployment named cert-manager-webhook in any namespace",
                    "udn_lab_existing_install: [kubevirt] (with KubeVirt)",
                    "udn_lab_existing_install: [ovn_kubernetes]"):
        assert missing in out, (missing, out[-4000:])
    assert "PLAY [Build the workshop cluster]" in out, out[-4000:]
    build_play = out.split("PLAY [Build the workshop cluster]", 1)[1]
    assert "ovnk.udn_lab.multus :" not in build_play, build_play[-4000:]  # refused before the first add-on role
    after = infra_snapshot(kubeconfig)
    assert sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)) == []
    print("existing mode on a cluster without OVN-Kubernetes failed after %.1f s" % seconds)


def test_existing_mode_reads_the_wiring_and_asks_whether_to_emulate_before_any_change(cluster):
    """Opt-in: the lab would install multus, OVN-Kubernetes and KubeVirt on this cluster. It reads how the cluster is
    wired (the API endpoint from default/kubernetes, the pod CIDRs from kind's kubeadm-config, the service CIDRs
    from the ServiceCIDR) and, with no KubeVirt running, no node says whether it has KVM: the run stops before the
    first add-on role and asks for kubevirt_use_emulation, never looking at this machine's /dev/kvm."""
    kubeconfig, home = cluster
    before = infra_snapshot(kubeconfig)
    rc, out = existing_mode(kubeconfig, home, "playbooks/cluster.yml",
                            "-e", json.dumps({"udn_lab_existing_install": ["multus", "ovn_kubernetes", "kubevirt"]}))
    assert rc != 0, out[-3000:]
    server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    port = server.rsplit(":", 1)[1]
    assert re.search(r"API server for host-network pods https://[0-9.]+:%s, pod CIDRs 10\.244\.0\.0/16, service CIDRs "
                     r"10\.96\.0\.0/16 \(read from: EndpointSlice default/kubernetes; ConfigMap "
                     r"kube-system/kubeadm-config \(networking\.podSubnet\); ServiceCIDR kubernetes\)" % port, out), \
        out[-4000:]
    assert ("the cluster does not say whether its nodes have KVM (for KubeVirt: no node advertises "
            "devices.kubevirt.io/kvm)") in out, out[-4000:]
    assert "-e kubevirt_use_emulation=false" in out and "never this machine" in out, out[-4000:]
    build_play = out.split("PLAY [Build the workshop cluster]", 1)[1]
    assert "ovnk.udn_lab.multus :" not in build_play, build_play[-4000:]  # asked before the first add-on role
    after = infra_snapshot(kubeconfig)
    assert sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)) == []


def test_existing_mode_with_the_pod_workshop_alone_does_not_ask_for_kubevirt(cluster):
    """udn_lab_workshops: [pods] on a cluster without KubeVirt: the preflight names what the pod workshop lacks
    (multus, OVN-Kubernetes) and nothing of KubeVirt, cert-manager or ipam-extensions, nor persistent IPs."""
    kubeconfig, home = cluster
    rc, out = existing_mode(kubeconfig, home, "site.yml", "-e", json.dumps({"udn_lab_workshops": ["pods"]}))
    assert rc != 0, out[-3000:]
    assert "the lab needs from multus, ovn_kubernetes (nothing was changed)" in out, out[-4000:]
    for absent in ("KubeVirt CR", "cert-manager-webhook", "kubevirt-ipam-controller-manager", "persistent IPs"):
        assert absent not in out.split("the lab needs from", 1)[1], (absent, out[-4000:])


def test_existing_mode_never_installs_over_what_the_cluster_already_runs(cluster):
    """Look first: the user runs their own OVN-Kubernetes (here its control-plane Deployment, in another namespace
    and under any release name). Opting in to install OVN-Kubernetes is refused before any change, naming what was
    found and the fix; the cluster is left as it was."""
    kubeconfig, home = cluster
    theirs = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": "ovnkube-control-plane", "namespace": "ovnk-user"},
              "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "theirs"}},
                       "template": {"metadata": {"labels": {"app": "theirs"}},
                                    "spec": {"containers": [{"name": "c", "image": "theirs:1"}]}}}}
    kubectl(kubeconfig, "create", "namespace", "ovnk-user")
    try:
        kubectl(kubeconfig, "apply", "-f", "-", stdin=json.dumps(theirs))
        before = infra_snapshot(kubeconfig)
        rc, out = existing_mode(kubeconfig, home, "playbooks/cluster.yml",
                                "-e", json.dumps({"udn_lab_existing_install": ["ovn_kubernetes"],
                                                  "kind_cluster_api_server_internal_url": "https://172.18.0.2:6443"}))
        assert rc != 0, out[-3000:]
        assert ("Look first: udn_lab_existing_install names ovn_kubernetes, and the cluster already runs ovn-kubernetes "
                "(Deployment ovnk-user/ovnkube-control-plane), which this lab did not install") in out, out[-4000:]
        assert "drop ovn_kubernetes from udn_lab_existing_install; the lab then checks the cluster's own" in out
        build_play = out.split("PLAY [Build the workshop cluster]", 1)[1]
        assert "ovnk.udn_lab.multus :" not in build_play, build_play[-4000:]
        after = infra_snapshot(kubeconfig)
        assert sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)) == []
    finally:
        kubectl(kubeconfig, "delete", "namespace", "ovnk-user", "--wait=true", check=False)


def multus_opt_in(home, upstream_dir):
    """Extra vars (JSON) that opt in to installing multus from a mirror of the simulated lab, and check nothing else
    (this cluster runs no OVN-Kubernetes)."""
    import mirror

    if not (home / "mirror" / "versions-override.yml").exists():
        mirror.build(home / "mirror", upstream_dir, [build.bin_dir()], allow_missing=True, log=lambda *a: None)
    # the mirror's stand-ins have their own sha256, which it writes as an override (as molecule/sim does)
    override = yaml.safe_load((home / "mirror" / "versions-override.yml").read_text())["udn_lab_versions_override"]
    return json.dumps({"udn_lab_existing_install": ["multus"], "udn_lab_existing_preflight": [],
                       "udn_lab_workshops": ["pods"], "udn_lab_mirror_dir": str(home / "mirror"),
                       "udn_lab_versions_override": override})


def test_an_opt_in_install_never_takes_over_an_object_it_did_not_make(cluster, upstream_dir):
    """The NetworkAttachmentDefinition CRD is there, unlabelled (someone else installed it), though multus does not
    run: opting in to multus reads every object of its manifests first and refuses before applying anything."""
    kubeconfig, home = cluster
    opt_in = multus_opt_in(home, upstream_dir)
    multus = yaml.safe_load_all((upstream_dir / "multus-cni-v4.1.3" / "multus-daemonset.yml").read_text())
    nad = [d for d in multus if d and d["kind"] == "CustomResourceDefinition"]
    kubectl(kubeconfig, "apply", "--server-side", "-f", "-", stdin=json.dumps(nad[0]))
    try:
        before = infra_snapshot(kubeconfig)
        rc, out = existing_mode(kubeconfig, home, "playbooks/cluster.yml", "-e", opt_in)
        assert rc != 0, out[-3000:]
        assert ("1 object(s) exist that this lab did not make (they lack its labels app.kubernetes.io/managed-by="
                "ovnk.udn_lab, udn-lab.ovnk.io/lab=existing): CustomResourceDefinition "
                "network-attachment-definitions.k8s.cni.cncf.io. The lab never takes over an object it does not own "
                "(nothing was applied). Fix: drop multus from udn_lab_existing_install") in out, out[-4000:]
        assert "Apply the CRD files" not in out.split("Refuse to take over", 1)[1], out[-4000:]
        after = infra_snapshot(kubeconfig)
        # the one change: the marker saying this lab installs multus (the re-run and the teardown rely on it)
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        assert changed == [("ConfigMap", "kube-system", "ovnk-udn-lab-state-existing")], changed
    finally:
        kubectl(kubeconfig, "delete", "crd", nad[0]["metadata"]["name"], check=False)
    rc, out = existing_mode(kubeconfig, home, "playbooks/teardown.yml", "-e", "udn_lab_teardown_scope=cluster")
    assert rc == 0, out[-4000:]
    assert kubectl(kubeconfig, "get", "configmap", "-n", "kube-system", "ovnk-udn-lab-state-existing",
                   check=False).returncode != 0


def test_an_interrupted_opt_in_install_is_removed_by_a_cluster_teardown(cluster, upstream_dir):
    """Opt-in multus on a cluster without it (its CRDs go in first), while the cluster also lacks OVN-Kubernetes:
    the run fails after installing multus's CRDs, as an interrupted run would. The lab recorded beforehand that it
    installs multus, so a re-run is not refused as installing over someone else's, and a cluster teardown removes
    exactly what it installed (never calling kind): the cluster is as it was."""
    kubeconfig, home = cluster
    opt_in = multus_opt_in(home, upstream_dir)
    before = infra_snapshot(kubeconfig)
    for attempt in (1, 2):
        rc, out = existing_mode(kubeconfig, home, "playbooks/cluster.yml", "-e", opt_in)
        assert rc != 0 and "Look first" not in out, (attempt, out[-4000:])
        assert "ovnk.udn_lab.ovn_kubernetes :" in out and "no Deployment named ovnkube-control-plane" in out, out[-4000:]
        crd = kubectl(kubeconfig, "get", "crd", "network-attachment-definitions.k8s.cni.cncf.io", "-o", "json")
        assert json.loads(crd.stdout)["metadata"]["labels"][LAB_LABEL] == "existing"
        record = json.loads(kubectl(kubeconfig, "get", "configmap", "-n", "kube-system", "ovnk-udn-lab-state-existing",
                                    "-o", "json").stdout)
        assert "existing-install-multus" in record["data"], record["data"].keys()
    rc, out = existing_mode(kubeconfig, home, "playbooks/teardown.yml", "-e", "udn_lab_teardown_scope=cluster")
    assert rc == 0, out[-4000:]
    assert "It undoes what this lab did there, as its state record names it: removes multus." in out, out[-4000:]
    assert "Delete the kind cluster :" not in out.split("Read the lab state record", 1)[1]
    after = infra_snapshot(kubeconfig)
    assert sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)) == []
    # with nothing left to undo, it says so and changes nothing
    rc, out = existing_mode(kubeconfig, home, "playbooks/teardown.yml", "-e", "udn_lab_teardown_scope=cluster")
    assert rc == 0 and "Nothing to undo: the lab state record names nothing this lab installed or changed on it." in out, \
        out[-4000:]
    assert infra_snapshot(kubeconfig) == after


def test_an_opt_in_ovn_kubernetes_install_and_its_teardown_give_the_cluster_back(cluster, upstream_dir):
    """Opt-in multus and OVN-Kubernetes on a cluster without them: the lab installs them over the wiring it read,
    labels the nodes' zones (none had one) and records which; a cluster teardown uninstalls both and removes exactly
    those zone labels: the cluster is as it was."""
    kubeconfig, home = cluster
    opt_in = json.loads(multus_opt_in(home, upstream_dir))
    opt_in["udn_lab_existing_install"] = ["multus", "ovn_kubernetes"]
    before = infra_snapshot(kubeconfig)
    rc, out = existing_mode(kubeconfig, home, "playbooks/cluster.yml", "-e", json.dumps(opt_in))
    assert rc == 0, out[-6000:]
    nodes = json.loads(kubectl(kubeconfig, "get", "nodes", "-o", "json").stdout)["items"]
    assert all(n["metadata"]["labels"].get("k8s.ovn.org/zone-name") == n["metadata"]["name"] for n in nodes), nodes
    record = json.loads(kubectl(kubeconfig, "get", "configmap", "-n", "kube-system", "ovnk-udn-lab-state-existing",
                                "-o", "json").stdout)["data"]
    marker = json.loads(record["existing-install-ovn_kubernetes"])
    assert marker["facts"]["zone_labelled"] == sorted(n["metadata"]["name"] for n in nodes), marker
    rc, out = existing_mode(kubeconfig, home, "playbooks/teardown.yml", "-e", "udn_lab_teardown_scope=cluster")
    assert rc == 0, out[-6000:]
    # newest first, as they are removed, whatever order the record's keys come in
    assert "It undoes what this lab did there, as its state record names it: removes ovn_kubernetes, multus; removes " \
           "the zone labels it set on " in out, out[-4000:]
    after = infra_snapshot(kubeconfig)
    assert sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)) == []


def test_adopted_objects_are_changed_as_named_and_given_back_by_teardown(cluster, upstream_dir):
    """A user's cluster runs OVN-Kubernetes as helm release default/ovnk-user with MTU 1300, and a KubeVirt CR without
    the l2bridge binding. Named in udn_lab_existing_adopt, the lab upgrades that release with its values (MTU 1400) and
    patches that CR, after recording the release's revision and the CR's spec; a re-run keeps that record; a
    cluster teardown rolls the release back and gives the CR its spec back. Only the release's own objects and its
    helm history may differ afterwards."""
    kubeconfig, home = cluster
    helm = str(build.bin_dir() / "helm")
    env = dict(os.environ, KUBECONFIG=str(kubeconfig))
    base = json.loads(multus_opt_in(home, upstream_dir))
    # the user's cluster: multus and OVN-Kubernetes (release ovnk-user, MTU 1300) that the lab then forgets
    user = dict(base, udn_lab_existing_install=["multus", "ovn_kubernetes"], ovn_kubernetes_mtu=1300)
    rc, out = existing_mode(kubeconfig, home, "playbooks/cluster.yml", "-e", json.dumps(user),
                            "-e", "ovn_kubernetes_release_name=ovnk-user")
    assert rc == 0, out[-6000:]
    kubectl(kubeconfig, "delete", "configmap", "-n", "kube-system", "ovnk-udn-lab-state-existing")
    for args in (["crd", "--all"], ["ds,deploy,sa,clusterrole,clusterrolebinding,cm", "-A", "--all"]):
        kubectl(kubeconfig, "label", *(args + ["app.kubernetes.io/managed-by-", "udn-lab.ovnk.io/lab-"]))
    kv = {"apiVersion": "kubevirt.io/v1", "kind": "KubeVirt", "metadata": {"name": "kubevirt", "namespace": "kubevirt"},
          "spec": {"configuration": {"developerConfiguration": {"useEmulation": False}}}}
    kubectl(kubeconfig, "create", "namespace", "kubevirt")
    kubectl(kubeconfig, "apply", "-f", "-", stdin=json.dumps(kv))
    kubectl(kubeconfig, "patch", "-n", "kubevirt", "kubevirts.kubevirt.io", "kubevirt", "--subresource=status",
            "--type=merge", "-p", json.dumps({"status": {"phase": "Deployed", "conditions": [
                {"type": "Available", "status": "True", "reason": "AllComponentsReady", "message": "ready"}]}}))
    values = subprocess.run([helm, "get", "values", "ovnk-user", "-n", "default", "-o", "json"], env=env,
                            capture_output=True, text=True, check=True).stdout
    before = infra_snapshot(kubeconfig)
    spec_before = json.loads(kubectl(kubeconfig, "get", "-n", "kubevirt", "kubevirts.kubevirt.io", "kubevirt", "-o",
                                     "json").stdout)["spec"]

    adopt = dict(base, udn_lab_existing_install=["ovn_kubernetes"], udn_lab_existing_preflight=["multus", "kubevirt"],
                 udn_lab_existing_adopt=["helm:default/ovnk-user", "kubevirt:kubevirt/kubevirt"],
                 udn_lab_workshops=["pods", "vms"], kubevirt_use_emulation=True)
    rc, out = existing_mode(kubeconfig, home, "playbooks/cluster.yml", "-e", json.dumps(adopt))
    assert rc == 0, out[-6000:]
    assert kubectl(kubeconfig, "get", "cm", "-n", "ovn-kubernetes", "ovn-config", "-o",
                   "jsonpath={.data.mtu}").stdout == "1400"
    patched = json.loads(kubectl(kubeconfig, "get", "-n", "kubevirt", "kubevirts.kubevirt.io", "kubevirt", "-o",
                                 "json").stdout)["spec"]["configuration"]
    assert patched["network"]["binding"]["l2bridge"]["domainAttachmentType"] == "managedTap", patched
    record = json.loads(kubectl(kubeconfig, "get", "configmap", "-n", "kube-system", "ovnk-udn-lab-state-existing",
                                "-o", "json").stdout)["data"]
    assert json.loads(record["existing-install-ovn_kubernetes"])["facts"]["adopted"] == {
        "namespace": "default", "name": "ovnk-user", "revision": 1}
    assert json.loads(record["existing-adopt-kubevirt"])["facts"]["spec"] == spec_before
    # a re-run keeps the prior state it recorded (revision 1), not the lab's own revision 2
    rc, out = existing_mode(kubeconfig, home, "playbooks/cluster.yml", "-e", json.dumps(adopt))
    assert rc == 0, out[-6000:]
    record = json.loads(kubectl(kubeconfig, "get", "configmap", "-n", "kube-system", "ovnk-udn-lab-state-existing",
                                "-o", "json").stdout)["data"]
    assert json.loads(record["existing-install-ovn_kubernetes"])["facts"]["adopted"]["revision"] == 1

    rc, out = existing_mode(kubeconfig, home, "playbooks/teardown.yml", "-e", "udn_lab_teardown_scope=cluster")
    assert rc == 0, out[-6000:]
    assert ("It undoes what this lab did there, as its state record names it: rolls helm release default/ovnk-user "
            "back to revision 1 instead of uninstalling it; gives KubeVirt kubevirt/kubevirt back the spec it had.") \
        in out, out[-4000:]
    assert subprocess.run([helm, "get", "values", "ovnk-user", "-n", "default", "-o", "json"], env=env,
                          capture_output=True, text=True, check=True).stdout == values
    assert kubectl(kubeconfig, "get", "cm", "-n", "ovn-kubernetes", "ovn-config", "-o",
                   "jsonpath={.data.mtu}").stdout == "1300"
    assert json.loads(kubectl(kubeconfig, "get", "-n", "kubevirt", "kubevirts.kubevirt.io", "kubevirt", "-o",
                              "json").stdout)["spec"] == spec_before
    after = infra_snapshot(kubeconfig)
    differ = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    release = [json.loads(kubectl(kubeconfig, "get", k[0].lower(), "-n", k[1], k[2], "-o", "json", check=False).stdout
                          or "{}") for k in differ if k[0] in ("DaemonSet", "Deployment")]
    helm_history = [k for k in differ if k[0] == "Secret" and k[2].startswith("sh.helm.release.v1.ovnk-user.")]
    foreign = [k for k in differ if k not in helm_history and k[0] not in ("DaemonSet", "Deployment", "KubeVirt")]
    assert foreign == [], differ
    assert all(r["metadata"]["annotations"]["meta.helm.sh/release-name"] == "ovnk-user" for r in release), differ
    # everything this test made goes, so the other tests of the module see the cluster they expect
    subprocess.run([helm, "uninstall", "ovnk-user", "-n", "default", "--wait"], env=env, check=True, capture_output=True)
    kubectl(kubeconfig, "delete", "namespace", "kubevirt", "--wait=true")
