"""Both simulators against a real API server (tests/sim/launcher.py: kube-apiserver, etcd, controller manager,
scheduler and kwok built from source). Skips when those binaries have not been built yet."""

import json
import os
import pathlib
import subprocess
import sys
import time
import uuid

import pytest
import yaml

SIM_DIR = pathlib.Path(__file__).resolve().parents[1] / "sim"
sys.path.insert(0, str(SIM_DIR))

NAME = "simtest-" + uuid.uuid4().hex[:4]
TIMEOUT = 90


def _built():
    try:
        import build
    except ImportError:
        return None
    needed = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok", "kwokctl", "etcd")
    missing = [b for b in needed if not (build.bin_dir() / b).exists()]
    return build if not missing else None


BUILD = _built()
pytestmark = [pytest.mark.sim,
              pytest.mark.skipif(BUILD is None, reason="control-plane binaries not built yet (python tests/sim/build.py)")]


def kubectl(kcfg, *args, stdin=None, check=True):
    proc = subprocess.run([str(BUILD.bin_dir() / "kubectl"), "--kubeconfig", str(kcfg)] + list(args), input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)
    if check and proc.returncode != 0:
        raise AssertionError("kubectl %s: %s" % (" ".join(args), proc.stderr))
    return proc


def get(kcfg, *args):
    return json.loads(kubectl(kcfg, "get", "-o", "json", *args).stdout)


def apply(kcfg, docs):
    kubectl(kcfg, "apply", "--server-side", "-f", "-", stdin="\n---\n".join(yaml.safe_dump(d) for d in docs))


def wait_for(what, fn, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except AssertionError as exc:
            last = exc
        time.sleep(0.5)
    raise AssertionError("timed out waiting for %s (last: %s)" % (what, last))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, upstream_dir):
    import launcher

    kcfg = tmp_path_factory.mktemp("sim") / "kubeconfig"
    subprocess.run([sys.executable, str(SIM_DIR / "launcher.py"), "start", "--name", NAME, "--workers", "2",
                    "--ip-family", "ipv4", "--kubeconfig", str(kcfg)], check=True, timeout=600)
    try:
        crds = []
        for path in sorted((upstream_dir / "ovn-kubernetes-v1.3.0").glob("*.yaml")):
            crds.append(yaml.safe_load(path.read_text()))
        crds.append(yaml.safe_load((upstream_dir / "ipamclaims-v0.5.1-alpha" / "k8s.cni.cncf.io_ipamclaims.yaml").read_text()))
        multus = list(yaml.safe_load_all((upstream_dir / "multus-cni-v4.1.3" / "multus-daemonset.yml").read_text()))
        crds += [d for d in multus if d and d["kind"] == "CustomResourceDefinition"]
        operator = list(yaml.safe_load_all((SIM_DIR / "standins" / "manifests" / "kubevirt-operator.yaml").read_text()
                                           .replace("{version}", "v1.8.4")))
        apply(kcfg, crds + [d for d in operator if d])
        kubectl(kcfg, "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
        yield kcfg
    finally:
        subprocess.run([sys.executable, str(SIM_DIR / "launcher.py"), "stop", "--name", NAME], timeout=300, check=False)
        del launcher


@pytest.fixture(scope="module")
def sims(cluster, tmp_path_factory):
    from simulators.common import Kube
    from simulators.kubevirt import KubevirtSimulator
    from simulators.ovnk import OvnkSimulator

    config_kv = {"available_delay": 1.0, "boot_delay": 1.0, "migration_fail": ["blue-namespace/failing"],
                 "migration_delays": {"Running": 2.0, "PreparingTarget": 0.5}}
    # (no chart here: the default network's cluster subnets come from the simulator's setting)
    controllers = [OvnkSimulator(Kube(str(cluster)), {"resync_seconds": 3, "pod_network": "10.244.0.0/16/24"}),
                   KubevirtSimulator(Kube(str(cluster)), dict(config_kv, resync_seconds=3))]
    for c in controllers:
        c.start()
    yield controllers
    for c in controllers:
        c.shutdown()


def namespace(name, primary=True):
    labels = {"k8s.ovn.org/primary-user-defined-network": ""} if primary else {}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def test_udn_gets_network_created_and_a_nad(cluster, sims):
    apply(cluster, [namespace("blue"), {
        "apiVersion": "k8s.ovn.org/v1", "kind": "UserDefinedNetwork",
        "metadata": {"name": "blue-network", "namespace": "blue"},
        "spec": {"topology": "Layer3", "layer3": {"role": "Primary",
                                                  "subnets": [{"cidr": "103.103.0.0/16", "hostSubnet": 24}]}}}])

    def created():
        udn = get(cluster, "-n", "blue", "userdefinednetworks.k8s.ovn.org", "blue-network")
        conds = {c["type"]: c for c in (udn.get("status") or {}).get("conditions") or []}
        return conds.get("NetworkCreated", {}).get("status") == "True" and conds

    conds = wait_for("NetworkCreated", created)
    assert conds["NetworkCreated"]["reason"] == "NetworkAttachmentDefinitionCreated"
    nad = get(cluster, "-n", "blue", "network-attachment-definitions.k8s.cni.cncf.io", "blue-network")
    assert json.loads(nad["spec"]["config"])["role"] == "primary"


def test_primary_udn_without_namespace_label_fails(cluster, sims):
    apply(cluster, [namespace("plain", primary=False), {
        "apiVersion": "k8s.ovn.org/v1", "kind": "UserDefinedNetwork", "metadata": {"name": "p", "namespace": "plain"},
        "spec": {"topology": "Layer2", "layer2": {"role": "Primary", "subnets": ["10.9.0.0/16"]}}}])

    def failed():
        udn = get(cluster, "-n", "plain", "userdefinednetworks.k8s.ovn.org", "p")
        conds = {c["type"]: c for c in (udn.get("status") or {}).get("conditions") or []}
        return conds.get("NetworkCreated", {}).get("status") == "False" and conds["NetworkCreated"]

    cond = wait_for("NetworkCreated=False", failed)
    # v1.3.0: SyncError on a UDN, with util.NewInvalidPrimaryNetworkError's message
    assert cond["reason"] == "SyncError"
    assert cond["message"].startswith('invalid primary network state for namespace "plain"')


def vm(name, ns):
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": name, "namespace": ns},
            "spec": {"runStrategy": "Always", "template": {"metadata": {"labels": {"kubevirt.io/vm": name}}, "spec": {
                "domain": {"devices": {"interfaces": [{"name": "happy", "binding": {"name": "l2bridge"}}]},
                           "resources": {"requests": {"memory": "2048M"}}},
                "networks": [{"name": "happy", "pod": {}}]}}}}


@pytest.fixture(scope="module")
def vms(cluster, sims):
    apply(cluster, [namespace("red-namespace"), namespace("blue-namespace"), {
        "apiVersion": "k8s.ovn.org/v1", "kind": "ClusterUserDefinedNetwork", "metadata": {"name": "happy-tenant"},
        "spec": {
            "namespaceSelector": {"matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "In",
                 "values": ["red-namespace", "blue-namespace"]}]},
            "network": {"topology": "Layer2", "layer2": {"role": "Primary", "subnets": ["192.168.0.0/16"],
                                                         "ipam": {"lifecycle": "Persistent"}}}}},
        {"apiVersion": "kubevirt.io/v1", "kind": "KubeVirt", "metadata": {"name": "kubevirt", "namespace": "kubevirt"},
         "spec": {"configuration": {"developerConfiguration": {"useEmulation": True}, "network": {"binding": {
             "l2bridge": {"domainAttachmentType": "managedTap", "migration": {}}}}}}}])
    wait_for("CUDN NADs", lambda: kubectl(cluster, "get", "-n", "blue-namespace",
                                          "network-attachment-definitions.k8s.cni.cncf.io", "happy-tenant",
                                          check=False).returncode == 0)
    apply(cluster, [vm("red", "red-namespace"), vm("blue", "blue-namespace"), vm("failing", "blue-namespace")])
    for ns, name in (("red-namespace", "red"), ("blue-namespace", "blue"), ("blue-namespace", "failing")):
        wait_for("VMI %s ready" % name, lambda: ready_vmi(cluster, ns, name), timeout=120)
    return cluster


def ready_vmi(kcfg, ns, name):
    proc = kubectl(kcfg, "get", "-n", ns, "virtualmachineinstances.kubevirt.io", name, "-o", "json", check=False)
    if proc.returncode != 0:
        return None
    vmi = json.loads(proc.stdout)
    status = vmi.get("status") or {}
    conds = {c["type"]: c["status"] for c in status.get("conditions") or []}
    ifaces = status.get("interfaces") or []
    ok = (status.get("phase") == "Running" and conds.get("Ready") == "True" and conds.get("AgentConnected") == "True"
          and ifaces and "guest-agent" in ifaces[0].get("infoSource", "") and ifaces[0].get("ipAddress"))
    return vmi if ok else None


def test_vm_gets_a_ready_vmi_with_an_ip(vms):
    vmi = ready_vmi(vms, "red-namespace", "red")
    iface = vmi["status"]["interfaces"][0]
    assert iface["ipAddress"].startswith("192.168.") and iface["podInterfaceName"] == "ovn-udn1"
    owner = vmi["metadata"]["ownerReferences"][0]
    assert owner["kind"] == "VirtualMachine" and owner["name"] == "red"
    pods = get(vms, "-n", "red-namespace", "pods", "-l", "kubevirt.io=virt-launcher,vm.kubevirt.io/name=red")["items"]
    assert len(pods) == 1 and pods[0]["metadata"]["name"].startswith("virt-launcher-red-")
    assert pods[0]["spec"]["nodeName"] == vmi["status"]["nodeName"]
    claim = get(vms, "-n", "red-namespace", "ipamclaims.k8s.cni.cncf.io", "red.happy")
    assert claim["status"]["ips"] == [iface["ipAddress"] + "/16"]


def migrate(kcfg, ns, name):
    body = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration",
            "metadata": {"generateName": "kubevirt-migrate-vm-", "namespace": ns}, "spec": {"vmiName": name}}
    out = kubectl(kcfg, "create", "-f", "-", "-o", "json", stdin=json.dumps(body)).stdout
    return json.loads(out)["metadata"]["name"]


def finished(kcfg, ns, name):
    vmim = get(kcfg, "-n", ns, "virtualmachineinstancemigrations.kubevirt.io", name)
    return vmim if (vmim.get("status") or {}).get("phase") in ("Succeeded", "Failed") else None


def test_migration_moves_the_vm_and_keeps_its_ip(vms):
    before = ready_vmi(vms, "blue-namespace", "blue")
    name = migrate(vms, "blue-namespace", "blue")
    vmim = wait_for("migration to finish", lambda: finished(vms, "blue-namespace", name))
    assert vmim["status"]["phase"] == "Succeeded"
    after = get(vms, "-n", "blue-namespace", "virtualmachineinstances.kubevirt.io", "blue")
    state = after["status"]["migrationState"]
    assert state["migrationUid"] == vmim["metadata"]["uid"] and state["completed"] is True
    assert state["targetNode"] == after["status"]["nodeName"] != before["status"]["nodeName"] == state["sourceNode"]
    assert after["status"]["interfaces"][0]["ipAddress"] == before["status"]["interfaces"][0]["ipAddress"]
    source = get(vms, "-n", "blue-namespace", "pod", state["sourcePod"])
    assert source["status"]["phase"] == "Succeeded"


def test_injected_migration_failure(vms):
    before = ready_vmi(vms, "blue-namespace", "failing")
    name = migrate(vms, "blue-namespace", "failing")
    vmim = wait_for("migration to finish", lambda: finished(vms, "blue-namespace", name))
    assert vmim["status"]["phase"] == "Failed"
    after = get(vms, "-n", "blue-namespace", "virtualmachineinstances.kubevirt.io", "failing")
    assert after["status"]["migrationState"]["failed"] is True
    assert after["status"]["nodeName"] == before["status"]["nodeName"]


def patch_kubevirt(kcfg, use_emulation):
    """Sets useEmulation and waits until virt-operator has reconciled that generation (status.observedGeneration),
    as the cluster configuration virt-controller reads comes from the same informer: a VM created before that may be
    rendered with the previous configuration, upstream as here."""
    patch = {"spec": {"configuration": {"developerConfiguration": {"useEmulation": use_emulation}}}}
    out = kubectl(kcfg, "patch", "-n", "kubevirt", "kubevirts.kubevirt.io", "kubevirt", "--type", "merge", "-p",
                  json.dumps(patch), "-o", "json").stdout
    generation = json.loads(out)["metadata"]["generation"]

    def observed():
        kv = get(kcfg, "-n", "kubevirt", "kubevirts.kubevirt.io", "kubevirt")
        return (kv.get("status") or {}).get("observedGeneration") == generation

    wait_for("virt-operator to observe generation %s of the KubeVirt CR" % generation, observed)


def test_without_emulation_a_vm_waits_for_a_node_with_kvm(vms):
    """KubeVirt v1.8.4 getRequiredResources: without useEmulation the launcher pod asks for devices.kubevirt.io/kvm,
    which nodes without /dev/kvm do not offer (allocatable 0): the real scheduler leaves it Pending and the VMI stays
    Scheduling with the pod's PodScheduled condition."""
    node = get(vms, "nodes")["items"][-1]["status"]
    assert node["capacity"]["devices.kubevirt.io/kvm"] == "1k" and node["allocatable"]["devices.kubevirt.io/kvm"] == "0"
    patch_kubevirt(vms, False)
    try:
        apply(vms, [vm("metal", "red-namespace")])

        def unschedulable():
            vmi = get(vms, "-n", "red-namespace", "virtualmachineinstances.kubevirt.io", "metal")
            conds = {c["type"]: c for c in (vmi.get("status") or {}).get("conditions") or []}
            return vmi if "PodScheduled" in conds else None

        try:
            # (make test runs two simulated labs beside this cluster: its scheduler and simulators share the load)
            vmi = wait_for("the VMI to report its pod unschedulable", unschedulable, timeout=3 * TIMEOUT)
        except AssertionError as exc:
            # what a recurrence needs to be understood: the VMI's status, its launcher pod's node and conditions,
            # the nodes' KVM devices
            vmi = kubectl(vms, "get", "-n", "red-namespace", "virtualmachineinstances.kubevirt.io", "metal", "-o",
                          "json", check=False).stdout
            pods = kubectl(vms, "get", "-n", "red-namespace", "pods", "-l", "vm.kubevirt.io/name=metal", "-o",
                           "jsonpath={range .items[*]}{.metadata.name} node={.spec.nodeName} "
                           "{.status.conditions}{'\\n'}{end}", check=False).stdout
            nodes = kubectl(vms, "get", "nodes", "-o", "jsonpath={range .items[*]}{.metadata.name} "
                            "{.status.allocatable.devices\\.kubevirt\\.io/kvm}{'\\n'}{end}", check=False).stdout
            raise AssertionError("%s\nVMI: %s\nlauncher pods: %s\nnodes' allocatable KVM: %s" % (
                exc, vmi[-3000:], pods, nodes))
        cond = [c for c in vmi["status"]["conditions"] if c["type"] == "PodScheduled"][0]
        assert vmi["status"]["phase"] == "Scheduling" and cond["status"] == "False"
        assert cond["reason"] == "Unschedulable" and "Insufficient devices.kubevirt.io/kvm" in cond["message"], cond
        pod = get(vms, "-n", "red-namespace", "pods", "-l", "kubevirt.io=virt-launcher,vm.kubevirt.io/name=metal")["items"][0]
        assert pod["spec"]["containers"][0]["resources"]["requests"]["devices.kubevirt.io/kvm"] == "1"
    finally:
        kubectl(vms, "delete", "-n", "red-namespace", "virtualmachines.kubevirt.io", "metal", "--wait=false", check=False)
        patch_kubevirt(vms, True)


def test_vmi_wait_rides_out_an_api_server_restart(vms, repo_root, tmp_path):
    """vmi_wait (through Ansible) waits for a VM that does not exist yet; the real kube-apiserver is stopped for 3 s
    meanwhile (its watch drops, reconnects are refused), then the VM is created: the wait still succeeds."""
    import launcher

    tree = tmp_path / "tree"
    args = {"kubeconfig": str(vms), "name": ["red-namespace/late"], "timeout": 150}
    # (the run_module fixture, but in the background: the restart happens while the module waits)
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_COLLECTIONS_PATH=str(repo_root / ".collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_CALLBACKS_ENABLED="ansible.builtin.tree",
               ANSIBLE_CALLBACK_TREE_DIR=str(tree))
    waiter = subprocess.Popen(["ansible", "localhost", "-c", "local", "-i", "localhost,", "-m", "ovnk.udn_lab.vmi_wait",
                               "-a", json.dumps(args)], cwd=str(repo_root), env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(4)  # the module is watching by now
        assert waiter.poll() is None, waiter.communicate()[0]
        old, new = launcher.restart_component(NAME, "kube-apiserver", down=3)
        assert old != new
        apply(vms, [vm("late", "red-namespace")])
        out = waiter.communicate(timeout=180)[0]
    finally:
        if waiter.poll() is None:
            waiter.kill()
    result = json.loads((tree / "localhost").read_text())
    assert waiter.returncode == 0 and not result.get("failed"), out
    assert [(v["namespace"], v["name"]) for v in result["vmis"]] == [("red-namespace", "late")]
    assert result["vmis"][0]["ready"] is True
    assert result["vmis"][0]["interfaces"]["happy"]["ips"][0].startswith("192.168.")
    # the watch really broke and came back (not a lucky list after the restart)
    assert result["watch"]["reconnects"] + result["watch"]["errors"] >= 1, result["watch"]


def test_namespace_label_cannot_be_added_later(cluster, tmp_path):
    """The stand-in chart's ValidatingAdmissionPolicy, enforced by the real API server."""
    chart = SIM_DIR / "standins" / "ovn-kubernetes-chart" / "templates" / "udn-namespace-label-policy.yaml.gotmpl"
    body = chart.read_text().split("\n", 1)[1].rsplit("{{- end }}", 1)[0]
    apply(cluster, [d for d in yaml.safe_load_all(body) if d])
    attempt = [0]

    def denied():
        # a fresh namespace per attempt: the policy needs a moment before the API server enforces it
        attempt[0] += 1
        name = "late-label-%d" % attempt[0]
        apply(cluster, [namespace(name, primary=False)])
        proc = kubectl(cluster, "label", "namespace", name, "k8s.ovn.org/primary-user-defined-network=",
                       check=False)
        return proc.returncode != 0 and "cannot be added/removed" in proc.stderr and name

    name = wait_for("the policy to deny the label", denied, timeout=30)
    # removing it from a namespace created with it is denied too
    apply(cluster, [namespace("born-labelled")])
    proc = kubectl(cluster, "label", "namespace", "born-labelled", "k8s.ovn.org/primary-user-defined-network-",
                   check=False)
    assert proc.returncode != 0 and "cannot be added/removed" in proc.stderr
    # an unrelated label is still fine
    kubectl(cluster, "label", "namespace", name, "team=x")


def test_run_sim_starts_and_stops_cleanly_with_injected_failures(cluster, sims, tmp_path):
    """Last: hands the cluster from the in-process simulators to run_sim.py (one set of controllers at a time)."""
    for controller in sims:
        controller.shutdown()
    time.sleep(1.0)
    config = tmp_path / "sim.yml"
    config.write_text("network_fail: [runsim/failing-network]\nmigration_fail: true\nresync_seconds: 2\n")
    pid_file = tmp_path / "sim.pid"
    base = [sys.executable, str(SIM_DIR / "run_sim.py")]
    subprocess.run(base + ["start", "--kubeconfig", str(cluster), "--config", str(config), "--pid-file",
                           str(pid_file)], check=True, timeout=90)
    pid = int(pid_file.read_text())
    try:
        udn = {"apiVersion": "k8s.ovn.org/v1", "kind": "UserDefinedNetwork",
               "metadata": {"name": "failing-network", "namespace": "runsim"},
               "spec": {"topology": "Layer2", "layer2": {"role": "Secondary", "subnets": ["10.77.0.0/24"]}}}
        apply(cluster, [namespace("runsim", primary=False), udn])

        def failed():
            udn = get(cluster, "-n", "runsim", "userdefinednetworks.k8s.ovn.org", "failing-network")
            conds = {c["type"]: c for c in (udn.get("status") or {}).get("conditions") or []}
            return conds.get("NetworkCreated", {}).get("reason") == "SyncError"

        assert wait_for("SyncError from the injected failure", failed)
        # migration_fail: true (every VM) through run_sim's config file
        name = migrate(cluster, "blue-namespace", "blue")
        vmim = wait_for("the migration to finish", lambda: finished(cluster, "blue-namespace", name))
        assert vmim["status"]["phase"] == "Failed"
    finally:
        subprocess.run(base + ["stop", "--pid-file", str(pid_file)], check=True, timeout=60)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    log = pid_file.with_suffix(".log").read_text()
    assert "simulators ready" in log and "stopped" in log
