"""The data plane plan (pure): namespaces, routers, links and blackhole windows from annotated objects."""

import json

from conftest import load

from dataplane import plan
from simulators import ovnk
from simulators.common import CUDNS, NADS, NAMESPACES, NODES, PODS, UDNS, Cache
from simulators.fake import FakeKube, drive

NOW = 1_800_000_000.0


def annotated(extra_pods):
    objs = load("cluster.yml") + load("networks.yml")
    kinds = {"Node": NODES, "Namespace": NAMESPACES, "UserDefinedNetwork": UDNS, "ClusterUserDefinedNetwork": CUDNS}
    by_kind = {PODS: list(extra_pods)}
    for obj in objs:
        by_kind.setdefault(kinds[obj["kind"]], []).append(obj)
    cache = Cache.from_objects(by_kind)
    drive(ovnk.OvnkSimulator(FakeKube(cache, NOW), {}, cache=cache, clock=lambda: NOW))
    return cache


def pod(name, namespace, node, ip, labels=None, annotations=None, ports=(8080,)):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "uid": name, "labels": labels or {},
                         "annotations": dict(annotations or {})},
            "spec": {"nodeName": node, "containers": [{"name": "c", "ports": [{"containerPort": p} for p in ports]}]},
            "status": {"phase": "Running", "podIPs": [{"ip": ip}]}}


def test_pods_get_router_per_network_and_links_per_interface():
    cache = annotated([pod("b0", "blue", "ovn-k-helm-worker", "10.244.1.5"),
                       pod("o0", "overlapping-with-blue", "ovn-k-helm-worker", "10.244.1.6"),
                       pod("d0", "default", "ovn-k-helm-worker2", "10.244.2.5", ports=(8080, 9090))])
    p = plan.build_plan(cache.list(PODS), [], [], cache.list(NADS), {}, NOW)
    assert set(p["routers"]) == {"default", "blue_blue-network", "overlapping-with-blue_overlapping-with-blue-network"}
    # overlapping networks: same gateway addresses, different router namespaces
    assert p["routers"]["blue_blue-network"]["gateways"] == \
        p["routers"]["overlapping-with-blue_overlapping-with-blue-network"]["gateways"]
    assert p["routers"]["blue_blue-network"]["netns"] != \
        p["routers"]["overlapping-with-blue_overlapping-with-blue-network"]["netns"]
    blue = p["endpoints"][plan.pod_netns("blue", "b0")]
    assert [(link["ifname"], link["role"]) for link in blue["links"]] == \
        [("eth0", "infrastructure-locked"), ("ovn-udn1", "primary")]
    assert blue["ports"] == [8080]
    default = p["endpoints"][plan.pod_netns("default", "d0")]
    assert [(link["ifname"], link["role"]) for link in default["links"]] == [("eth0", "primary")]
    assert default["ports"] == [8080, 9090]
    assert p["routers"]["default"]["gateways"] == {"10.244.1.1/24", "10.244.2.1/24"}


def test_finished_and_unannotated_pods_have_no_namespace():
    done = pod("gone", "blue", "ovn-k-helm-worker", "10.244.1.7")
    cache = annotated([done])
    cache.get(PODS, "blue", "gone")["status"]["phase"] = "Succeeded"
    raw = pod("raw", "blue", "ovn-k-helm-worker", "10.244.1.8")
    p = plan.build_plan(cache.list(PODS) + [raw], [], [], cache.list(NADS), {}, NOW)
    assert p["endpoints"] == {}


def vm_objects():
    launcher = pod("virt-launcher-v-abcde", "red", "ovn-k-helm-worker", "10.244.1.9",
                   labels={"kubevirt.io": "virt-launcher", "vm.kubevirt.io/name": "v"},
                   annotations={"kubevirt.io/domain": "v"}, ports=())
    cache = annotated([launcher])
    vmi = {"metadata": {"name": "v", "namespace": "red"}, "status": {"phase": "Running", "nodeName": "ovn-k-helm-worker"}}
    return cache, vmi


def vmim(started_iso):
    return {"metadata": {"name": "m", "namespace": "red"}, "spec": {"vmiName": "v"},
            "status": {"phase": "Running", "phaseTransitionTimestamps": [
                {"phase": "Running", "phaseTransitionTimestamp": started_iso}]}}


def test_vm_namespace_is_keyed_by_vmi_and_holds_the_udn_address():
    cache, vmi = vm_objects()
    p = plan.build_plan(cache.list(PODS), [vmi], [], cache.list(NADS), {}, NOW)
    assert list(p["endpoints"]) == [plan.vm_netns("red", "v")]
    link = p["endpoints"][plan.vm_netns("red", "v")]["links"][0]
    assert link["ifname"] == "eth0" and link["network"] == "cluster_udn_colored-enterprise"
    assert link["addresses"] == ["192.168.0.3/16"]


def test_blackhole_window_during_running_migration():
    cache, vmi = vm_objects()
    start = "2027-01-15T08:00:00.000000Z"
    t0 = plan._epoch(start)
    config = {"blackhole_seconds": 2.0, "blackhole_after_seconds": 1.0}
    args = (cache.list(PODS), [vmi], [vmim(start)], cache.list(NADS), config)
    before = plan.build_plan(*args, t0 + 0.5)
    assert before["blackholed"] == set() and before["next_change"] == 0.5
    during = plan.build_plan(*args, t0 + 1.5)
    assert during["blackholed"] == {plan.vm_netns("red", "v")} and during["next_change"] == 1.5
    after = plan.build_plan(*args, t0 + 3.5)
    assert after["blackholed"] == set() and after["next_change"] is None


def test_leak_names_namespaces_or_networks():
    cache = annotated([pod("b0", "blue", "ovn-k-helm-worker", "10.244.1.5"),
                       pod("r0", "red", "ovn-k-helm-worker", "10.244.1.6")])
    p = plan.build_plan(cache.list(PODS), [], [], cache.list(NADS), {"leak": [["blue", "red"], ["blue", "nowhere"]]}, NOW)
    assert p["leaks"] == [("blue_blue-network", "cluster_udn_colored-enterprise")]


def test_vm_netns_name_matches_the_virtctl_stand_in():
    import importlib.machinery
    import importlib.util
    import pathlib

    path = pathlib.Path(plan.__file__).resolve().parents[1] / "bin" / "virtctl"
    loader = importlib.machinery.SourceFileLoader("virtctl_standin", str(path))
    spec = importlib.util.spec_from_loader("virtctl_standin", loader)
    virtctl = importlib.util.module_from_spec(spec)
    loader.exec_module(virtctl)
    assert virtctl.vm_netns("blue-namespace", "blue") == plan.vm_netns("blue-namespace", "blue")
    assert json.dumps(plan.vm_netns("a", "b")).startswith('"udnsim-vm-')
