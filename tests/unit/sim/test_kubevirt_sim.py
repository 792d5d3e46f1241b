"""Unit tests of the KubeVirt stand-in's decisions: pure functions, and both simulators driven together over
an in-memory API (a tiny scheduler/kubelet plays kube-scheduler + kwok)."""

import ipaddress
import json

import pytest
from conftest import load

from simulators import kubevirt as kv
from simulators import ovnk
from simulators.common import (CONFIGMAPS, CUDNS, DEPLOYMENTS, IPAMCLAIMS, KUBEVIRTS, NADS, NAMESPACES, NODES, PODS, VMIMS, VMIS,
                               VMS, Cache, find_condition, labels_of, meta, parse_time)
from simulators.fake import FakeKube, drive

START = parse_time("2027-01-15T08:00:00Z")

KINDS = {"ConfigMap": CONFIGMAPS, "Node": NODES, "Namespace": NAMESPACES, "ClusterUserDefinedNetwork": CUDNS, "Pod": PODS,
         "KubeVirt": KUBEVIRTS, "Deployment": DEPLOYMENTS, "VirtualMachine": VMS,
         "VirtualMachineInstance": VMIS, "VirtualMachineInstanceMigration": VMIMS, "IPAMClaim": IPAMCLAIMS,
         "NetworkAttachmentDefinition": NADS}


class World:
    """Both simulators over one in-memory API, with a fake scheduler + kubelet and a controllable clock."""

    def __init__(self, extra=None, kv_config=None, nodes=None):
        objs = [o for o in load("cluster.yml") if o["kind"] in ("Node", "ConfigMap")] + load("virt.yml") + list(
            extra or [])
        if nodes is not None:
            objs = [o for o in objs if o["kind"] != "Node" or o["metadata"]["name"] in nodes]
        by_kind = {}
        for obj in objs:
            by_kind.setdefault(KINDS[obj["kind"]], []).append(obj)
        self.cache = Cache.from_objects(by_kind)
        self.now = START + 1
        self.kube = FakeKube(self.cache, self.now)

        def clock():
            return self.now

        self.ovnk = ovnk.OvnkSimulator(self.kube, {}, cache=self.cache, clock=clock)
        self.kv = kv.KubevirtSimulator(self.kube, kv_config or {}, cache=self.cache, clock=clock)
        self.next_ip = 10

    def schedule(self):
        """kube-scheduler + kwok: bind pending pods to a matching node, then mark them Running with the pod IPs of
        their OVN-K annotation, once it is there (the launcher's kwok pod-ready stage)."""
        for pod in self.cache.list(PODS):
            spec, status = pod["spec"], pod.setdefault("status", {})
            if not spec.get("nodeName"):
                node = self._pick(pod)
                if node is None:
                    status["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                             "message": "0/3 nodes are available"}]
                    continue
                spec["nodeName"] = node
            nets = json.loads(meta(pod).get("annotations", {}).get(ovnk.POD_NETWORKS) or "{}")
            if (not status.get("phase") or status.get("phase") == "Pending") and nets:
                ips = [ip.split("/")[0] for ip in nets["default"]["ip_addresses"]]
                status.update(phase="Running", podIP=ips[0], podIPs=[{"ip": ip} for ip in ips],
                              startTime="2027-01-15T08:00:00Z")

    def _pick(self, pod):
        spec = pod["spec"]
        excluded = set()
        terms = (((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or []
        for term in terms:
            for field in term.get("matchFields") or []:
                if field["operator"] == "NotIn":
                    excluded.update(field["values"])
        # required pod anti-affinity per node (topologyKey kubernetes.io/hostname), as kube-scheduler applies it
        for term in (((spec.get("affinity") or {}).get("podAntiAffinity") or {}).get(
                "requiredDuringSchedulingIgnoredDuringExecution") or []):
            wanted = (term.get("labelSelector") or {}).get("matchLabels") or {}
            for other in self.cache.list(PODS):
                if other is not pod and (other.get("spec") or {}).get("nodeName") and (other.get("status") or {}).get(
                        "phase") not in ("Succeeded", "Failed") and all(
                        labels_of(other).get(k) == v for k, v in wanted.items()):
                    excluded.add(other["spec"]["nodeName"])
        for node in self.cache.list(NODES):
            name = meta(node)["name"]
            labels = labels_of(node)
            if name in excluded or (node.get("spec") or {}).get("unschedulable"):
                continue
            if any(not kv.tolerated(t, spec.get("tolerations")) for t in (node.get("spec") or {}).get("taints") or []):
                continue
            if all(labels.get(k) == v for k, v in (spec.get("nodeSelector") or {}).items()):
                return name
        return None

    def run(self, seconds=30.0, step=0.5):
        """Advance time, letting every controller and the fake kubelet act."""
        end = self.now + seconds
        while self.now < end:
            self.kube.now = self.now
            drive(self.kv)
            self.schedule()
            drive(self.ovnk)
            drive(self.kv)
            self.now += step

    def vmi(self, ns, name):
        return self.cache.get(VMIS, ns, name)

    def migrate(self, ns, vmi_name):
        body = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration",
                "metadata": {"generateName": "kubevirt-migrate-vm-", "namespace": ns},
                "spec": {"vmiName": vmi_name}}
        return self.kube.apply_action(kv.create(VMIMS, body))


def cond(obj, ctype):
    return (find_condition((obj.get("status") or {}).get("conditions"), ctype) or {}).get("status")


# --------------------------------------------------------------------------- KubeVirt CR


def test_kubevirt_available_after_delay_once_operator_exists():
    cache = Cache.from_objects({KUBEVIRTS: [o for o in load("virt.yml") if o["kind"] == "KubeVirt"]})
    cr = cache.list(KUBEVIRTS)[0]
    config = dict(kv.DEFAULTS, available_delay=5.0)
    result = kv.reconcile_kubevirt(cr, cache, config, START + 10)
    assert result.actions[0].body["status"]["conditions"][0]["status"] == "False"  # no operator Deployment
    cache = Cache.from_objects({KUBEVIRTS: [cr], DEPLOYMENTS: [o for o in load("virt.yml") if o["kind"] == "Deployment"],
                                NODES: [o for o in load("cluster.yml") if o["kind"] == "Node"]})
    early = kv.reconcile_kubevirt(cr, cache, config, START + 2)
    assert early.requeue == pytest.approx(3.0)
    assert all(find_condition(a.body["status"]["conditions"], "Available") is None for a in early.actions)
    done = kv.reconcile_kubevirt(cr, cache, config, START + 6)
    status = done.actions[0].body["status"]
    assert find_condition(status["conditions"], "Available")["status"] == "True"
    assert status["phase"] == "Deployed" and status["observedKubeVirtVersion"] == "v1.8.4"
    labelled = [a.name for a in done.actions if a.res is NODES and a.verb == "patch"]
    assert len(labelled) == 3
    # virt-handler's permanent device plugins: 1000 devices per node each, unhealthy (not allocatable) without their
    # device file; kind nodes have /dev/net/tun and /dev/vhost-net, and /dev/kvm only where the host has it
    devices = [a.body["status"] for a in done.actions if a.res is NODES and a.verb == "patch_status"]
    capacity = {"devices.kubevirt.io/kvm": "1k", "devices.kubevirt.io/tun": "1k", "devices.kubevirt.io/vhost-net": "1k"}
    assert devices == [{"capacity": capacity, "allocatable": dict(capacity, **{"devices.kubevirt.io/kvm": "0"})}] * 3
    with_kvm = kv.reconcile_kubevirt(cr, cache, dict(config, node_kvm=True, node_vhost_net=False), START + 6)
    assert [a.body["status"]["allocatable"] for a in with_kvm.actions if a.verb == "patch_status" and a.res is NODES] \
        == [dict(capacity, **{"devices.kubevirt.io/vhost-net": "0"})] * 3


def test_launcher_requests_kvm_and_vhost_net_unless_emulation_is_allowed():
    """v1.8.4 getRequiredResources: tun for any interface; vhost-net (a virtio NIC) and kvm only without emulation."""
    vmi = {"metadata": {"name": "red", "namespace": "red-namespace", "uid": "u"},
           "spec": {"domain": {"devices": {"interfaces": [{"name": "default", "binding": {"name": "l2bridge"}}]}}}}
    assert kv.launcher_resources(vmi, allow_emulation=True) == {"devices.kubevirt.io/tun": "1"}
    assert kv.launcher_resources(vmi, allow_emulation=False) == {
        "devices.kubevirt.io/tun": "1", "devices.kubevirt.io/vhost-net": "1", "devices.kubevirt.io/kvm": "1"}
    e1000 = {"spec": {"domain": {"devices": {"interfaces": [{"name": "default", "model": "e1000"}]}}}}
    assert kv.launcher_resources(e1000, allow_emulation=False) == {"devices.kubevirt.io/tun": "1",
                                                                   "devices.kubevirt.io/kvm": "1"}
    no_nic = {"spec": {"domain": {"devices": {"autoattachPodInterface": False}}}}
    assert kv.launcher_resources(no_nic, allow_emulation=True) == {}
    body = kv.launcher_pod_body(vmi, kv.DEFAULTS, allow_emulation=False)
    assert body["spec"]["containers"][0]["resources"]["limits"]["devices.kubevirt.io/kvm"] == "1"
    cr = {"spec": {"configuration": {"developerConfiguration": {"useEmulation": True}}}}
    assert kv.use_emulation(Cache.from_objects({KUBEVIRTS: [dict(cr, metadata={"name": "kubevirt", "namespace": "kubevirt"})]}))
    assert not kv.use_emulation(Cache.from_objects({KUBEVIRTS: [{"metadata": {"name": "kubevirt", "namespace": "kubevirt"},
                                                                 "spec": {}}]}))


# --------------------------------------------------------------------------- VM start


def test_vm_becomes_ready_with_udn_ip_and_agent():
    world = World(kv_config={"boot_delay": 4.0})
    world.run(seconds=4.0)
    vmi = world.vmi("red-namespace", "red")
    assert vmi["metadata"]["ownerReferences"][0]["uid"] == "vm-red"
    assert vmi["status"]["phase"] == "Running"
    assert cond(vmi, "Ready") == "True"
    assert cond(vmi, "AgentConnected") is None  # guest still booting
    assert vmi["status"]["interfaces"][0]["infoSource"] == "domain"
    world.run(seconds=6.0)
    vmi = world.vmi("red-namespace", "red")
    assert cond(vmi, "AgentConnected") == "True"
    assert cond(vmi, "LiveMigratable") == "True"
    iface = vmi["status"]["interfaces"][0]
    assert iface["name"] == "happy" and iface["infoSource"] == "domain, guest-agent"
    assert iface["podInterfaceName"] == "ovn-udn1" and iface["interfaceName"] == "eth0"
    assert ipaddress.ip_address(iface["ipAddress"]) in ipaddress.ip_network("192.168.0.0/16")
    assert iface["ipAddresses"] == [iface["ipAddress"]]
    assert iface["mac"] == ovnk.mac_for_ip(iface["ipAddress"])
    phases = [p["phase"] for p in vmi["status"]["phaseTransitionTimestamps"]]
    assert phases == ["Pending", "Scheduling", "Scheduled", "Running"]
    pods = kv.launcher_pods(vmi, world.cache)
    assert len(pods) == 1
    assert meta(pods[0])["name"].startswith("virt-launcher-red-")
    assert labels_of(pods[0])["kubevirt.io"] == "virt-launcher"
    assert labels_of(pods[0])["vm.kubevirt.io/name"] == "red"
    claim = world.cache.get(IPAMCLAIMS, "red-namespace", "red.happy")
    assert claim["status"]["ips"] == [iface["ipAddress"] + "/16"]
    assert find_condition(claim["status"]["conditions"], "IPsAllocated")["status"] == "True"
    vm = world.cache.get(VMS, "red-namespace", "red")
    assert vm["status"]["ready"] is True and vm["status"]["printableStatus"] == "Running"


def test_two_vms_on_one_cudn_get_distinct_ips():
    world = World()
    world.run(seconds=10.0)
    red = world.vmi("red-namespace", "red")["status"]["interfaces"][0]["ipAddress"]
    blue = world.vmi("blue-namespace", "blue")["status"]["interfaces"][0]["ipAddress"]
    assert {red, blue} == {"192.168.0.3", "192.168.0.4"}


def test_nothing_starts_before_kubevirt_is_available():
    world = World(kv_config={"available_delay": 1000.0})
    world.run(seconds=5.0)
    assert world.cache.list(VMIS) == []


def test_binding_without_migration_is_not_live_migratable():
    vmi = {"metadata": {"name": "x", "namespace": "n"},
           "spec": {"networks": [{"name": "happy", "pod": {}}],
                    "domain": {"devices": {"interfaces": [{"name": "happy", "binding": {"name": "l2bridge"}}]}}}}
    cr = {"spec": {"configuration": {"network": {"binding": {"l2bridge": {"domainAttachmentType": "managedTap"}}}}}}
    ok, reason, dummy = kv.live_migratable(vmi, cr)
    assert (ok, reason) == (False, "InterfaceNotLiveMigratable")
    cr["spec"]["configuration"]["network"]["binding"]["l2bridge"]["migration"] = {}
    assert kv.live_migratable(vmi, cr)[0] is True
    vmi["spec"]["domain"]["devices"]["interfaces"] = [{"name": "happy", "masquerade": {}}]
    assert kv.live_migratable(vmi, {})[0] is True


def test_halted_vm_gets_no_vmi_and_stopping_deletes_it():
    world = World()
    world.run(seconds=3.0)
    assert world.vmi("red-namespace", "red") is not None
    vm = world.cache.get(VMS, "red-namespace", "red")
    vm["spec"]["runStrategy"] = "Halted"
    world.run(seconds=1.0)
    assert world.vmi("red-namespace", "red") is None
    assert world.cache.get(VMS, "red-namespace", "red")["status"]["printableStatus"] == "Stopped"


# --------------------------------------------------------------------------- migration


def ready_world(**kw):
    world = World(**kw)
    world.run(seconds=10.0)
    assert cond(world.vmi("blue-namespace", "blue"), "AgentConnected") == "True"
    return world


def test_migration_succeeds_to_another_node_with_the_same_ip():
    world = ready_world()
    before = world.vmi("blue-namespace", "blue")
    source = before["status"]["nodeName"]
    source_pod = kv.launcher_pods(before, world.cache)[0]
    vmim = world.migrate("blue-namespace", "blue")
    world.run(seconds=15.0)
    vmim = world.cache.get(VMIMS, "blue-namespace", meta(vmim)["name"])
    assert vmim["status"]["phase"] == "Succeeded"
    phases = [p["phase"] for p in vmim["status"]["phaseTransitionTimestamps"]]
    assert phases == ["Pending", "Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running", "Succeeded"]
    after = world.vmi("blue-namespace", "blue")
    state = after["status"]["migrationState"]
    assert state["migrationUid"] == meta(vmim)["uid"]
    assert state["completed"] is True and state["failed"] is False
    assert state["sourceNode"] == source != state["targetNode"] == after["status"]["nodeName"]
    for key in ("startTimestamp", "endTimestamp", "targetNodeDomainReadyTimestamp", "targetNodeAddress"):
        assert state.get(key), key
    assert parse_time(state["endTimestamp"]) - parse_time(state["startTimestamp"]) >= 5.0
    assert after["status"]["interfaces"][0]["ipAddress"] == before["status"]["interfaces"][0]["ipAddress"]
    assert after["status"]["phase"] == "Running"
    assert world.cache.get(PODS, "blue-namespace", meta(source_pod)["name"])["status"]["phase"] == "Succeeded"
    assert labels_of(after)[kv.NODE_NAME_LABEL] == state["targetNode"]


def test_after_a_migration_active_pods_lists_every_launcher_pod_and_the_vmi_settles():
    """KubeVirt v1.8.4 pkg/virt-controller/watch/vmi/lifecycle.go setActivePods: every pod the VMI controls, whatever
    its phase (the migration's completed source pod too), by uid -> node. The simulator once listed only the running
    pod; the status patch (a merge) kept the source's key, so every reconcile patched again: two migrated VMIs kept
    the simulator busy forever and a third migration never left Scheduling."""
    world = ready_world()
    world.migrate("blue-namespace", "blue")
    world.run(seconds=20.0)
    after = world.vmi("blue-namespace", "blue")
    pods = kv.launcher_pods(after, world.cache)
    assert len(pods) == 2 and {p["status"]["phase"] for p in pods} == {"Running", "Succeeded"}
    assert after["status"]["activePods"] == dict((meta(p)["uid"], p["spec"]["nodeName"]) for p in pods)
    # settled: nothing left to change, so no patch (and no event that would reconcile it again)
    result = kv.reconcile_vmi(after, world.cache, dict(kv.DEFAULTS), world.now + 60)
    assert [a for a in result.actions if a.res == VMIS] == []


def test_migration_module_verdict_accepts_the_simulated_result():
    """The collection's own migration predicate agrees with what the simulator produces."""
    verdict_mod = pytest.importorskip("ansible_collections.ovnk.udn_lab.plugins.module_utils.kubevirt")
    world = ready_world()
    before = world.vmi("blue-namespace", "blue")
    vmim = world.migrate("blue-namespace", "blue")
    world.run(seconds=15.0)
    vmim = world.cache.get(VMIMS, "blue-namespace", meta(vmim)["name"])
    verdict = verdict_mod.migration_verdict(before, world.vmi("blue-namespace", "blue"), vmim)
    assert verdict["ok"], verdict["errors"]
    assert verdict["ips_unchanged"] is True
    ready, missing, dummy = verdict_mod.vmi_readiness(world.vmi("blue-namespace", "blue"), interface="happy",
                                                      require_migratable=True)
    assert ready, missing


@pytest.mark.parametrize("fail", [["blue-namespace/blue"], True])
def test_injected_migration_failure(fail):
    world = ready_world(kv_config={"migration_fail": fail})
    before = world.vmi("blue-namespace", "blue")
    vmim = world.migrate("blue-namespace", "blue")
    world.run(seconds=15.0)
    vmim = world.cache.get(VMIMS, "blue-namespace", meta(vmim)["name"])
    assert vmim["status"]["phase"] == "Failed"
    after = world.vmi("blue-namespace", "blue")
    assert after["status"]["migrationState"]["failed"] is True
    assert after["status"]["nodeName"] == before["status"]["nodeName"]
    assert after["status"]["phase"] == "Running"
    live = [p for p in kv.launcher_pods(after, world.cache) if kv.pod_live(p)]
    assert [p["spec"]["nodeName"] for p in live] == [before["status"]["nodeName"]]


def test_migration_stays_pending_without_another_node():
    world = World(nodes=["ovn-k-helm-worker"])
    world.run(seconds=10.0)
    vmim = world.migrate("blue-namespace", "blue")
    world.run(seconds=10.0)
    vmim = world.cache.get(VMIMS, "blue-namespace", meta(vmim)["name"])
    assert vmim["status"]["phase"] == "Pending"
    assert len(kv.launcher_pods(world.vmi("blue-namespace", "blue"), world.cache)) == 1


def test_migration_of_non_migratable_vmi_fails():
    world = World()
    world.cache.list(KUBEVIRTS)[0]["spec"]["configuration"]["network"]["binding"]["l2bridge"].pop("migration")
    world.run(seconds=10.0)
    assert cond(world.vmi("blue-namespace", "blue"), "LiveMigratable") == "False"
    vmim = world.migrate("blue-namespace", "blue")
    world.run(seconds=2.0)
    vmim = world.cache.get(VMIMS, "blue-namespace", meta(vmim)["name"])
    assert vmim["status"]["phase"] == "Failed"
    assert "InterfaceNotLiveMigratable" in find_condition(vmim["status"]["conditions"], "Failed")["message"]


def test_phase_delays_are_respected():
    vmim = {"metadata": {"name": "m", "namespace": "blue-namespace", "uid": "m1"}, "spec": {"vmiName": "blue"},
            "status": {"phase": "PreparingTarget", "phaseTransitionTimestamps": [
                {"phase": "PreparingTarget", "phaseTransitionTimestamp": "2027-01-15T08:00:10.000000Z"}]}}
    vmi = {"metadata": {"name": "blue", "namespace": "blue-namespace", "uid": "v1"},
           "status": {"phase": "Running", "nodeName": "a"}}
    cache = Cache.from_objects({VMIS: [vmi], VMIMS: [vmim]})
    config = dict(kv.DEFAULTS, migration_delays={"PreparingTarget": 4.0})
    result = kv.reconcile_vmim(vmim, cache, config, START + 11)
    assert result.actions == [] and result.requeue == pytest.approx(3.0)


def test_tainted_control_plane_is_no_migration_target():
    world = World(nodes=["ovn-k-helm-control-plane", "ovn-k-helm-worker"])
    cp = world.cache.get(NODES, None, "ovn-k-helm-control-plane")
    cp["spec"]["taints"] = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    world.run(seconds=10.0)
    assert world.vmi("blue-namespace", "blue")["status"]["nodeName"] == "ovn-k-helm-worker"
    vmim = world.migrate("blue-namespace", "blue")
    world.run(seconds=5.0)
    assert world.cache.get(VMIMS, "blue-namespace", meta(vmim)["name"])["status"]["phase"] == "Pending"


def test_ipamclaim_is_valid_against_the_upstream_crd(upstream_dir):
    """The claim ipam-extensions v0.3.1 creates passes the ipamclaims v0.5.1-alpha CRD schema (it requires
    spec.interface: ipam-extensions sends it empty)."""
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    crd = yaml.safe_load((upstream_dir / "ipamclaims-v0.5.1-alpha" / "k8s.cni.cncf.io_ipamclaims.yaml").read_text())
    schema = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"][0]["schema"]["openAPIV3Schema"]
    vmi = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
           "metadata": {"name": "red", "namespace": "red-namespace", "uid": "vmi-red"},
           "spec": {"networks": [{"name": "happy", "pod": {}}]}}
    body = kv.ipamclaim_body(vmi, None, "red.happy", {"ovn_name": "cluster_udn_happy-tenant"})
    body = dict(body, metadata={})  # ObjectMeta is not described by the CRD schema
    assert not [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(body)]
    assert body["spec"] == {"network": "cluster_udn_happy-tenant", "interface": ""}
