"""Unit tests for plugins/module_utils/rollout.py: readiness by kind (kubectl rollout status rules for
DaemonSets and Deployments) and the wait flow over k8s.watch_until with a fake clock."""

from __future__ import annotations

import functools

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s
from ansible_collections.ovnk.udn_lab.plugins.module_utils import rollout
from ansible_collections.ovnk.udn_lab.plugins.module_utils.waits import FlowError

from fake_api import Clock, FakeApi


def ds(name="ovnkube-node", generation=1, observed=1, desired=3, updated=3, available=3):
    return {"kind": "DaemonSet", "metadata": {"name": name, "namespace": "ovn-kubernetes", "generation": generation},
            "status": {"observedGeneration": observed, "desiredNumberScheduled": desired,
                       "updatedNumberScheduled": updated, "numberAvailable": available}}


def deploy(replicas=1, generation=2, observed=2, status_replicas=1, updated=1, available=1, progressing=None):
    obj = {"kind": "Deployment", "metadata": {"name": "ovnkube-control-plane", "namespace": "ovn-kubernetes",
                                              "generation": generation},
           "spec": {"replicas": replicas},
           "status": {"observedGeneration": observed, "replicas": status_replicas, "updatedReplicas": updated,
                      "availableReplicas": available}}
    if progressing:
        obj["status"]["conditions"] = [dict({"type": "Progressing"}, **progressing)]
    return obj


def node(name, status="True", reason="KubeletReady", message="kubelet is posting ready status"):
    return {"kind": "Node", "metadata": {"name": name},
            "status": {"conditions": [{"type": "Ready", "status": status, "reason": reason, "message": message}]}}


def pod(name, phase="Running", ready="True", containers=None, scheduled=None):
    conds = [{"type": "Ready", "status": ready}]
    if scheduled:
        conds.append(dict({"type": "PodScheduled"}, **scheduled))
    return {"kind": "Pod", "metadata": {"name": name, "namespace": "kube-system"},
            "status": {"phase": phase, "conditions": conds, "containerStatuses": containers or []}}


TARGET_DS = {"api_version": "apps/v1", "kind": "DaemonSet", "namespace": "ovn-kubernetes", "name": "ovnkube-node"}
TARGET_NODES = {"api_version": "v1", "kind": "Node"}
TARGET_KV = {"api_version": "kubevirt.io/v1", "kind": "KubeVirt", "namespace": "kubevirt", "name": "kubevirt"}


# --------------------------------------------------------------------------- input


def test_names_give_one_target_each():
    out = rollout.validate_targets([{"api_version": "apps/v1", "kind": "Deployment", "namespace": "cert-manager",
                                     "names": ["cert-manager", "cert-manager-webhook"]}])
    assert [(t["namespace"], t["name"]) for t in out] == [("cert-manager", "cert-manager"),
                                                          ("cert-manager", "cert-manager-webhook")]


def test_validate_fills_the_condition_per_kind():
    out = rollout.validate_targets([TARGET_DS, TARGET_NODES, TARGET_KV,
                                    {"api_version": "example.org/v1", "kind": "Thing", "condition": "Synced"}])
    assert [t["condition"] for t in out] == ["Ready", "Ready", "Available", "Synced"]
    assert out[1]["name"] is None and out[1]["namespace"] is None


@pytest.mark.parametrize("items, words", [
    ([], "resources is empty"),
    ([{"kind": "Node"}], "resources[0] needs kind and api_version"),
    ([TARGET_NODES, dict(TARGET_DS, label_selector="app=x")], "resources[1] sets name and label_selector: give one"),
    ([dict(TARGET_DS, names=["a"])], "resources[0] sets name and names: give one"),
    ([dict(TARGET_DS, condition="Ready")], "condition does not apply"),
])
def test_validate_refuses_with_the_item(items, words):
    with pytest.raises(ValueError) as err:
        rollout.validate_targets(items)
    assert words in str(err.value)


# --------------------------------------------------------------------------- readiness (kubectl rollout status)


@pytest.mark.parametrize("obj, ready, problem", [
    (ds(), True, "3 of 3 pods available"),
    (ds(generation=2, observed=1), False, "spec update not yet observed by the DaemonSet controller"),
    (ds(updated=1, available=3), False, "1 of 3 pods updated"),
    (ds(available=2), False, "2 of 3 pods available"),
    ({"kind": "DaemonSet", "metadata": {"name": "x", "generation": 1}}, False, "spec update not yet observed"),
])
def test_daemonset(obj, ready, problem):
    got = rollout.daemonset_readiness(obj)
    assert got[0] is ready and got[1].startswith(problem)


@pytest.mark.parametrize("obj, ready, problem", [
    (deploy(), True, "1 of 1 replicas available"),
    (deploy(generation=3), False, "spec update not yet observed"),
    (deploy(updated=0, available=0), False, "0 of 1 replicas updated"),
    (deploy(status_replicas=2), False, "1 old replicas pending termination"),
    (deploy(available=0), False, "0 of 1 updated replicas available"),
    (deploy(available=0, progressing={"status": "False", "reason": "ProgressDeadlineExceeded",
                                      "message": 'ReplicaSet "x" has timed out progressing.'}),
     False, '0 of 1 updated replicas available (exceeded its progress deadline: ReplicaSet "x" has timed out'),
])
def test_deployment(obj, ready, problem):
    got = rollout.deployment_readiness(obj)
    assert got[0] is ready and got[1].startswith(problem)


def test_pod_names_what_a_container_waits_for_and_scheduling():
    assert rollout.pod_readiness(pod("a")) == (True, "Ready")
    assert rollout.pod_readiness(pod("job", phase="Succeeded", ready="False")) == (True, "Succeeded")
    waiting = pod("coredns", phase="Pending", ready="False", containers=[
        {"name": "coredns", "ready": False, "state": {"waiting": {"reason": "ContainerCreating"}}}])
    assert rollout.pod_readiness(waiting) == (False, "Pending (coredns: ContainerCreating)")
    unsched = pod("x", phase="Pending", ready="False", scheduled={
        "status": "False", "reason": "Unschedulable", "message": "0/3 nodes are available"})
    assert rollout.pod_readiness(unsched) == (
        False, "Pending (PodScheduled=False (Unschedulable: 0/3 nodes are available))")
    crash = pod("y", ready="False", containers=[
        {"name": "c", "ready": False, "state": {"terminated": {"reason": "Error", "exitCode": 2}}},
        {"name": "d", "ready": False, "state": {"running": {}}}])
    assert rollout.pod_readiness(crash) == (False, "Running (c: Error (exit 2); d: running, not ready)")


def test_condition_kinds():
    nodes = rollout.validate_targets([TARGET_NODES])[0]
    assert rollout.readiness(nodes, node("w", "False", "KubeletNotReady", "network plugin not ready")) == (
        False, "Ready=False (KubeletNotReady: network plugin not ready)")
    kv = rollout.validate_targets([TARGET_KV])[0]
    assert rollout.readiness(kv, {"status": {"phase": "Deploying"}}) == (
        False, "condition Available absent (phase Deploying)")
    assert rollout.readiness(kv, {"status": {"conditions": [{"type": "Available", "status": "True"}]}})[0] is True
    assert rollout.readiness(kv, None) == (False, "not found")


# --------------------------------------------------------------------------- the wait


def sandbox_events(kind, name, namespace=None):
    """Seven FailedCreatePodSandBox Events about one object, oldest first."""
    return [{"type": "Warning", "reason": "FailedCreatePodSandBox", "message": "network not ready ",
             "lastTimestamp": "2026-12-06T10:00:0%d Z" % i, "metadata": {"namespace": namespace or "default"},
             "involvedObject": {"kind": kind, "name": name, "namespace": namespace or ""}} for i in range(7)]


def Scripted(clock, objects, scripts=None):
    """The one fake API: ``objects`` per kind, Events about every object, watch scripts per kind."""
    objects = dict(objects)
    objects["Event"] = [e for kind, items in sorted(objects.items()) for o in items
                        for e in sandbox_events(kind, o["metadata"]["name"], o["metadata"].get("namespace"))]
    return FakeApi(clock, objects, scripts)


def event_lists(api):
    return [(c[3], c[4]) for c in api.calls if c[0] == "list" and c[2] == "Event"]


def wait(api, targets, timeout, clock):
    watch = functools.partial(k8s.watch_until, sleep=clock.sleep)
    list_watch, list_events = rollout.api_callables(api)
    return rollout.wait_ready(list_watch, list_events, rollout.validate_targets(targets), timeout, clock, watch)


def test_returns_on_the_event_that_completes_the_rollout():
    clock = Clock(100.0)
    api = Scripted(clock, {"DaemonSet": [ds(available=1)], "Node": [node("a"), node("b")]},
                   {"DaemonSet": [("wait", 3), {"type": "MODIFIED", "object": ds(available=2)},
                                  ("wait", 4), {"type": "MODIFIED", "object": ds()}]})
    out = wait(api, [TARGET_DS, TARGET_NODES], 60, clock)
    assert [(r["kind"], r["name"], r["ready"]) for r in out["resources"]] == [
        ("DaemonSet", "ovnkube-node", True), ("Node", "a", True), ("Node", "b", True)]
    assert out["elapsed_seconds"] == 7.0 and out["resources"][0]["ready_seconds"] == 7.0
    assert out["watch"]["events"] == 2


def test_timeout_names_each_object_not_ready_with_events_and_a_pending_line():
    clock = Clock(0.0)
    api = Scripted(clock, {"DaemonSet": [ds(available=1)], "Node": [node("a"), node("b", "False", "KubeletNotReady",
                                                                                    "cni not initialized")]})
    with pytest.raises(FlowError) as err:
        wait(api, [TARGET_DS, TARGET_NODES], 30, clock)
    details = err.value.details
    assert details["timed_out"] is True
    assert details["pending"] == ("DaemonSet ovn-kubernetes/ovnkube-node: 1 of 3 pods available; "
                                  "Node b: Ready=False (KubeletNotReady: cni not initialized); 1 ready")
    assert str(err.value).startswith("timed out after 30 s waiting for DaemonSet ovn-kubernetes/ovnkube-node, "
                                     "every Node: ")
    assert [d["what"] for d in details["not_ready"]] == ["DaemonSet ovn-kubernetes/ovnkube-node", "Node b"]
    assert len(details["not_ready"][0]["events"]) == rollout.EVENTS_SHOWN
    assert details["not_ready"][0]["events"][-1] == "Warning FailedCreatePodSandBox: network not ready"
    assert event_lists(api) == [("ovn-kubernetes", rollout.event_field_selector("DaemonSet", "ovnkube-node")),
                                (None, rollout.event_field_selector("Node", "b"))]


def test_a_scope_that_matches_nothing_is_not_ready():
    clock = Clock(0.0)
    with pytest.raises(FlowError) as err:
        wait(Scripted(clock, {}), [{"api_version": "v1", "kind": "Pod", "namespace": "kube-system"},
                                   TARGET_KV], 10, clock)
    assert err.value.details["pending"] == ("every Pod in kube-system: none found; "
                                            "KubeVirt kubevirt/kubevirt: not found")


def test_pending_line_is_short():
    entries = [{"kind": "Pod", "namespace": "ns", "name": "p%d" % i, "ready": False, "problem": "Pending"}
               for i in range(6)] + [{"kind": "Node", "name": "n", "ready": True}]
    assert rollout.pending_line(entries) == ("Pod ns/p0: Pending; Pod ns/p1: Pending; Pod ns/p2: Pending; "
                                             "Pod ns/p3: Pending; 2 more not ready; 1 ready")


def test_a_kind_the_server_does_not_serve_says_so():
    class ResourceNotFoundError(Exception):
        pass

    def list_watch(target):
        raise ResourceNotFoundError("No matches found for {'kind': 'KubeVirt'}")

    with pytest.raises(FlowError) as err:
        rollout.wait_ready(list_watch, None, rollout.validate_targets([TARGET_KV]), 10, Clock(0.0), k8s.watch_until)
    assert str(err.value) == ("the API server does not serve kubevirt.io/v1 KubeVirt: is its "
                              "CustomResourceDefinition installed?")


def test_api_callables_select_by_name_and_events_by_object():
    api = FakeApi()
    list_watch, list_events = rollout.api_callables(api)
    list_watch(rollout.validate_targets([TARGET_DS])[0])
    list_watch(rollout.validate_targets([{"api_version": "v1", "kind": "Pod", "namespace": "kube-system",
                                          "label_selector": "k8s-app=kube-dns"}])[0])
    list_events("Node", "b")
    assert api.watch_args == [("DaemonSet", "ovn-kubernetes", None, "metadata.name=ovnkube-node"),
                              ("Pod", "kube-system", "k8s-app=kube-dns", None)]
    assert [c[:3] for c in api.calls if c[0] == "list_watch"] == [("list_watch", "apps/v1", "DaemonSet"),
                                                                  ("list_watch", "v1", "Pod")]
    assert [c for c in api.calls if c[0] == "list"] == [
        ("list", "v1", "Event", None, "involvedObject.kind=Node,involvedObject.name=b", None)]
