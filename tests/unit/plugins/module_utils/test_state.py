# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""module_utils.state: the lab state record (pure functions, then the flows against an in-memory API)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import types

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s
from ansible_collections.ovnk.udn_lab.plugins.module_utils import state as S

from fake_api import FakeApi

NAME = "multus-daemonset"
SECRET = "s3cr3t-Passw0rd-do-not-store"
HEX12 = re.compile(r"^[0-9a-f]{12}$")


# --------------------------------------------------------------------------- builders


def obj(kind, name, namespace=None, uid="uid-1", generation=None, spec=None, status=None, labels=None,
        api_version="v1", **extra):
    meta = {"name": name, "uid": uid}
    if namespace:
        meta["namespace"] = namespace
    if generation is not None:
        meta["generation"] = generation
    if labels is not None:
        meta["labels"] = labels
    out = {"apiVersion": api_version, "kind": kind, "metadata": meta}
    if spec is not None:
        out["spec"] = spec
    if status is not None:
        out["status"] = status
    out.update(extra)
    return out


def condition(ctype, status="True", reason=None):
    cond = {"type": ctype, "status": status}
    if reason:
        cond["reason"] = reason
    return cond


def daemonset(name="kube-multus-ds", uid="uid-ds", generation=1, desired=3, ready=3, observed=None):
    return obj("DaemonSet", name, "kube-system", uid=uid, generation=generation, api_version="apps/v1",
               spec={"template": {}},
               status={"desiredNumberScheduled": desired, "numberReady": ready,
                       "observedGeneration": generation if observed is None else observed})


def deployment(name="web", namespace="blue", uid="uid-dep", generation=1, replicas=2, ready=2, available="True"):
    conditions = [condition("Available", available)] if available else []
    return obj("Deployment", name, namespace, uid=uid, generation=generation, api_version="apps/v1",
               spec={"replicas": replicas},
               status={"readyReplicas": ready, "observedGeneration": generation, "conditions": conditions})


def node(name="kind-worker", uid="uid-node", ready="True"):
    return obj("Node", name, uid=uid, spec={"podCIDR": "10.244.1.0/24"},
               status={"conditions": [condition("Ready", ready, "KubeletReady" if ready == "True" else "KubeletNotReady")]})


DS_SPEC = {"api_version": "apps/v1", "kind": "DaemonSet", "namespace": "kube-system", "names": ["kube-multus-ds"]}


def fingerprint(**inputs):
    return S.inputs_fingerprint(dict({"multus_version": "v4.2.2", "multus_password": SECRET}, **inputs))


# --------------------------------------------------------------------------- an in-memory API


class NotServed(Exception):
    """What a client raises for a kind the cluster does not serve (its message says "not found")."""


class StateApi(FakeApi):
    """The one fake API holding ``objects`` (each with its ``kind``), and where the state record is read."""

    def __init__(self, objects=(), unserved=None):
        super(StateApi, self).__init__(None, list(objects), unserved=unserved)

    def configmap(self):
        return self.find("ConfigMap", S.STATE_CONFIGMAP, S.STATE_NAMESPACE)

    def entry(self, name):
        return json.loads(self.configmap()["data"][name])


def no_local(files, host):
    assert not files and not host
    return {}, {}


def record(api, name=NAME, inputs=None, after=(), specs=(DS_SPEC,), files=None, host=None, facts=None,
           labels=None, written="2026-11-27T10:00:00Z", check_mode=False):
    return S.record(api, name, inputs or fingerprint(), list(after), [dict(s) for s in specs], dict(files or {}),
                    dict(host or {}), facts=facts, labels=labels, written=written, check_mode=check_mode)


# --------------------------------------------------------------------------- inputs_fingerprint


def test_inputs_fingerprint_does_not_depend_on_the_order_of_inputs_or_of_nested_keys():
    one = S.inputs_fingerprint({"a": 1, "b": {"x": 1, "y": [1, 2]}})
    two = S.inputs_fingerprint({"b": {"y": [1, 2], "x": 1}, "a": 1})
    assert one == two
    assert re.match(r"^[0-9a-f]{64}$", one["digest"])
    assert sorted(one["parts"]) == ["a", "b"]
    assert all(HEX12.match(p) for p in one["parts"].values())


def test_inputs_fingerprint_changes_only_the_part_of_the_changed_input():
    one = fingerprint()
    two = fingerprint(multus_version="v4.2.3")
    assert one["digest"] != two["digest"]
    assert one["parts"]["multus_password"] == two["parts"]["multus_password"]
    assert one["parts"]["multus_version"] != two["parts"]["multus_version"]


@pytest.mark.parametrize("value", [None, ["a"], "text", 3])
def test_inputs_fingerprint_refuses_anything_but_a_dict(value):
    with pytest.raises(S.StateError, match="inputs must be a dict"):
        S.inputs_fingerprint(value)


def test_compare_names_the_changed_input():
    entry = S.make_entry(NAME, fingerprint(), {}, {}, {}, "t")
    current, reasons = S.compare(NAME, entry, fingerprint(multus_version="v9"), {}, [], {})
    assert current is False
    assert reasons == ["inputs changed: multus_version"]


def test_compare_names_added_and_removed_inputs():
    entry = S.make_entry(NAME, S.inputs_fingerprint({"a": 1, "b": 2}), {}, {}, {}, "t")
    current, reasons = S.compare(NAME, entry, S.inputs_fingerprint({"b": 2, "c": 3}), {}, [], {})
    assert (current, reasons) == (False, ["inputs changed: a, c"])


def test_compare_lists_at_most_eight_changed_inputs():
    old = S.inputs_fingerprint(dict(("v%02d" % i, i) for i in range(10)))
    new = S.inputs_fingerprint(dict(("v%02d" % i, i + 1) for i in range(10)))
    _current, reasons = S.compare(NAME, S.make_entry(NAME, old, {}, {}, {}, "t"), new, {}, [], {})
    assert reasons == ["inputs changed: v00, v01, v02, v03, v04, v05, v06, v07 ..."]


def test_compare_reports_an_unknown_change_when_the_digest_differs_but_no_part_does():
    entry = S.make_entry(NAME, fingerprint(), {}, {}, {}, "t")
    entry["inputs"] = "0" * 64
    assert S.compare(NAME, entry, fingerprint(), {}, [], {}) == (False, ["inputs changed: (unknown)"])


def test_the_entry_never_holds_an_input_value():
    observed, problems = S.observe([("DaemonSet", "DaemonSet kube-system/kube-multus-ds", daemonset(), True)])
    assert problems == []
    entry = S.make_entry(NAME, fingerprint(), observed, {}, {"multus_ready": True}, "2026-11-27T10:00:00Z")
    text = S.render_entry(entry)
    assert SECRET not in text
    assert "v4.2.2" not in text
    # what is stored instead: the names, with a short digest each
    assert set(entry["input_parts"]) == {"multus_version", "multus_password"}
    assert json.loads(text) == entry


# --------------------------------------------------------------------------- object_key / object_state


def test_object_key_names_namespaced_and_cluster_scoped_objects():
    assert S.object_key("Deployment", deployment()) == "Deployment blue/web"
    assert S.object_key("Node", node()) == "Node kind-worker"


def test_object_state_is_uid_and_generation():
    assert S.object_state("DaemonSet", daemonset(uid="abc", generation=4)) == "abc gen=4"
    assert S.object_state("DaemonSet", daemonset(generation=5)) != S.object_state("DaemonSet", daemonset(generation=4))


def test_object_state_digests_the_spec_when_there_is_no_generation():
    one = obj("Service", "web", "blue", uid="u", spec={"ports": [{"port": 80}]})
    two = obj("Service", "web", "blue", uid="u", spec={"ports": [{"port": 8080}]})
    assert re.match(r"^u spec=[0-9a-f]{12}$", S.object_state("Service", one))
    assert S.object_state("Service", one) != S.object_state("Service", two)
    # the status is not part of it
    assert S.object_state("Service", dict(one, status={"loadBalancer": {}})) == S.object_state("Service", one)


def test_object_state_digests_the_data_of_configmaps_and_secrets():
    one = obj("ConfigMap", "c", "blue", uid="u", data={"k": "1"})
    two = obj("ConfigMap", "c", "blue", uid="u", data={"k": "2"})
    secret = obj("Secret", "s", "blue", uid="u", stringData={"password": SECRET})
    assert re.match(r"^u data=[0-9a-f]{12}$", S.object_state("ConfigMap", one))
    assert S.object_state("ConfigMap", one) != S.object_state("ConfigMap", two)
    assert SECRET not in S.object_state("Secret", secret)
    assert S.object_state("Secret", secret) != S.object_state("Secret", obj("Secret", "s", "blue", uid="u"))


def test_object_state_without_uid_or_anything_else():
    assert S.object_state("Thing", {"metadata": {"name": "x"}}) == "?"


@pytest.mark.parametrize("kind", ["Pod", "VirtualMachineInstance"])
def test_object_state_of_pods_and_vmis_is_their_uid_only(kind):
    one = obj(kind, "vm", "blue", uid="uid-7", generation=1, spec={"nodeName": "kind-worker"}, labels={"a": "1"})
    moved = obj(kind, "vm", "blue", uid="uid-7", generation=2, spec={"nodeName": "kind-worker2"}, labels={"a": "2"})
    assert S.object_state(kind, one) == "uid-7"
    assert S.object_state(kind, moved) == "uid-7"
    assert S.object_state(kind, obj(kind, "vm", "blue", uid="uid-8")) == "uid-8"


def test_object_state_of_a_namespace_covers_its_labels():
    plain = obj("Namespace", "blue", uid="ns", spec={"finalizers": ["kubernetes"]}, labels={"a": "b"})
    primary = obj("Namespace", "blue", uid="ns", spec={"finalizers": ["kubernetes"]},
                  labels={"a": "b", "k8s.ovn.org/primary-user-defined-network": ""})
    assert re.match(r"^ns spec=[0-9a-f]{12} labels=[0-9a-f]{12}$", S.object_state("Namespace", plain))
    assert S.object_state("Namespace", plain) != S.object_state("Namespace", primary)


def test_object_state_ignores_the_labels_of_other_kinds():
    one = deployment()
    relabelled = deployment()
    relabelled["metadata"]["labels"] = {"new": "label"}
    assert S.object_state("Deployment", one) == S.object_state("Deployment", relabelled)


# --------------------------------------------------------------------------- object_problem


@pytest.mark.parametrize("kind, item, problem", [
    ("Deployment", deployment(replicas=3, ready=3), None),
    ("Deployment", deployment(replicas=3, ready=1), "1 of 3 replicas ready"),
    ("Deployment", deployment(replicas=0, ready=0), None),
    ("Deployment", deployment(available=None), "no Available condition yet"),
    ("Deployment", deployment(available="False"), "Available is False (no reason)"),
    ("StatefulSet", obj("StatefulSet", "db", "blue", generation=1, spec={},
                        status={"observedGeneration": 1}), "0 of 1 replicas ready"),
    ("StatefulSet", obj("StatefulSet", "db", "blue", generation=2, spec={"replicas": 2},
                        status={"observedGeneration": 2, "readyReplicas": 2}), None),
    ("StatefulSet", obj("StatefulSet", "db", "blue", generation=3, spec={"replicas": 2},
                        status={"observedGeneration": 2, "readyReplicas": 2}), "generation 3 not observed yet (at 2)"),
    ("DaemonSet", daemonset(desired=3, ready=3), None),
    ("DaemonSet", daemonset(desired=3, ready=2), "2 of 3 pods ready"),
    ("DaemonSet", daemonset(generation=2, observed=1), "generation 2 not observed yet (at 1)"),
    ("Node", node(ready="True"), None),
    ("Node", node(ready="False"), "Ready is False (KubeletNotReady)"),
    ("Node", obj("Node", "n", status={"conditions": [{"type": "Ready", "status": "Unknown",
                                                      "message": "Kubelet stopped posting node status."}]}),
     "Ready is Unknown (Kubelet stopped posting node status.)"),
    ("CustomResourceDefinition", obj("CustomResourceDefinition", "x.k8s.ovn.org",
                                     status={"conditions": [condition("NamesAccepted")]}),
     "no Established condition yet"),
    ("CustomResourceDefinition", obj("CustomResourceDefinition", "x.k8s.ovn.org",
                                     status={"conditions": [condition("Established")]}), None),
    ("ConfigMap", obj("ConfigMap", "c", "blue", data={}), None),
])
def test_object_problem(kind, item, problem):
    assert S.object_problem(kind, item) == problem


def test_an_object_being_deleted_is_a_problem_even_when_ready():
    item = node()
    assert S.object_problem("Node", item) is None
    item["metadata"]["deletionTimestamp"] = "2026-11-27T10:00:00Z"
    assert S.object_problem("Node", item) == "being deleted"
    item = obj("ConfigMap", "c", "blue", data={})
    item["metadata"]["deletionTimestamp"] = "2026-11-27T10:00:00Z"
    assert S.object_problem("ConfigMap", item) == "being deleted"


# --------------------------------------------------------------------------- observe


def test_observe_reports_an_expected_object_that_does_not_exist():
    observed, problems = S.observe([("Node", "Node kind-worker", None, True)])
    assert observed == {"Node kind-worker": "absent"}
    assert problems == ["Node kind-worker does not exist"]


def test_observe_keys_objects_by_their_own_metadata():
    observed, problems = S.observe([("DaemonSet", "ignored", daemonset(uid="u", generation=2), True)])
    assert observed == {"DaemonSet kube-system/kube-multus-ds": "u gen=2"}
    assert problems == []


def test_observe_checks_readiness_only_when_asked():
    not_ready = node(ready="False", uid="n1")
    observed, problems = S.observe([("Node", "Node kind-worker", not_ready, False)])
    assert observed == {"Node kind-worker": S.object_state("Node", not_ready)}
    assert problems == []
    _observed, problems = S.observe([("Node", "Node kind-worker", not_ready, True)])
    assert problems == ["Node kind-worker: Ready is False (KubeletNotReady)"]


def test_observe_ready_false_still_reports_a_missing_object():
    _observed, problems = S.observe([("Node", "Node kind-worker", None, False)])
    assert problems == ["Node kind-worker does not exist"]


def test_observe_files_and_host_facts():
    observed, problems = S.observe([], {"/b/kubeconfig": "abc", "/a/missing": None}, {"boot_id": "boot-1"})
    assert observed == {"file /a/missing": "absent", "file /b/kubeconfig": "abc", "host boot_id": "boot-1"}
    assert problems == ["/a/missing does not exist"]


# --------------------------------------------------------------------------- compare


def entry_with(observed=None, after=None, inputs=None):
    return S.make_entry(NAME, inputs or fingerprint(), dict(observed or {}), dict(after or {}), {}, "t")


def test_compare_without_an_entry():
    assert S.compare(NAME, None, fingerprint(), {}, [], {}) == (False, ["no record of a completed run of %s" % NAME])


def test_compare_an_entry_of_another_schema():
    entry = entry_with()
    entry["schema"] = S.SCHEMA + 1
    current, reasons = S.compare(NAME, entry, fingerprint(), {}, [], {})
    assert current is False
    assert reasons == ["recorded by another version of the collection (schema %s)" % (S.SCHEMA + 1)]


def test_compare_holds_when_everything_is_the_same():
    observed = {"DaemonSet kube-system/kube-multus-ds": "u gen=1", "file /k": "abc", "host boot_id": "b"}
    entry = entry_with(observed, {"ovn_kubernetes": "v1"})
    assert S.compare(NAME, entry, fingerprint(), dict(observed), [], {"ovn_kubernetes": "v1"}) == (True, [])


def test_compare_an_entry_below_that_changed():
    entry = entry_with(after={"ovn_kubernetes": "v1"})
    assert S.compare(NAME, entry, fingerprint(), {}, [], {"ovn_kubernetes": "v2"}) == (
        False, ["ovn_kubernetes changed since (re-applied or re-created)"])


def test_compare_an_entry_below_that_is_missing_now():
    entry = entry_with(after={"ovn_kubernetes": "v1"})
    assert S.compare(NAME, entry, fingerprint(), {}, [], {"ovn_kubernetes": None}) == (
        False, ["ovn_kubernetes is no longer recorded (torn down, or not complete)"])


def test_compare_an_entry_below_missing_then_and_now_is_fine():
    entry = entry_with(after={"kubevirt": None})
    assert S.compare(NAME, entry, fingerprint(), {}, [], {"kubevirt": None}) == (True, [])


def test_compare_an_entry_below_that_appeared_since():
    entry = entry_with(after={"kubevirt": None})
    assert S.compare(NAME, entry, fingerprint(), {}, [], {"kubevirt": "v1"}) == (
        False, ["kubevirt changed since (re-applied or re-created)"])


@pytest.mark.parametrize("before, now, reason", [
    ({"Deployment blue/web": "u1 gen=1"}, {"Deployment blue/web": "u2 gen=1"}, "Deployment blue/web was replaced"),
    ({"Pod blue/a": "u1"}, {"Pod blue/a": "u2"}, "Pod blue/a was replaced"),
    ({"Deployment blue/web": "u1 gen=1"}, {"Deployment blue/web": "u1 gen=2"}, "Deployment blue/web changed"),
    ({"Deployment blue/web": "u1 gen=1"}, {"Deployment blue/web": "absent"}, "Deployment blue/web is gone"),
    ({"Pod blue/a": "u1"}, {}, "Pod blue/a is gone"),
    ({}, {"Pod blue/b": "u3"}, "Pod blue/b is new"),
    ({"file /k": "abc"}, {"file /k": "def"}, "file /k changed"),
    ({"host boot_id": "b1"}, {"host boot_id": "b2"}, "host boot_id changed"),
])
def test_compare_names_what_differs_among_the_observed(before, now, reason):
    assert S.compare(NAME, entry_with(before), fingerprint(), now, [], {}) == (False, [reason])


def test_compare_lists_at_most_six_observed_changes():
    before = dict(("Pod blue/p%d" % i, "u%d" % i) for i in range(9))
    _current, reasons = S.compare(NAME, entry_with(before), fingerprint(), {}, [], {})
    assert reasons == ["Pod blue/p%d is gone" % i for i in range(6)] + ["and 3 more"]


def test_compare_does_not_hold_while_an_object_is_not_ready():
    observed = {"DaemonSet kube-system/kube-multus-ds": "u gen=1"}
    problem = "DaemonSet kube-system/kube-multus-ds: 2 of 3 pods ready"
    assert S.compare(NAME, entry_with(observed), fingerprint(), dict(observed), [problem], {}) == (False, [problem])


def test_compare_gives_every_reason_in_order():
    entry = entry_with({"Pod blue/a": "u1"}, {"ovn_kubernetes": "v1"})
    current, reasons = S.compare(NAME, entry, fingerprint(multus_version="x"), {"Pod blue/a": "u2"}, ["p"],
                                 {"ovn_kubernetes": "v2"})
    assert current is False
    assert reasons == ["inputs changed: multus_version", "ovn_kubernetes changed since (re-applied or re-created)",
                       "Pod blue/a was replaced", "p"]


# --------------------------------------------------------------------------- entries


def test_the_value_of_an_entry_does_not_depend_on_its_inputs():
    observed, after = {"Pod blue/a": "u1"}, {"ovn_kubernetes": "v1"}
    one = S.make_entry(NAME, fingerprint(), observed, after, {}, "t1")
    two = S.make_entry(NAME, fingerprint(multus_version="v5"), observed, after, {"f": 1}, "t2")
    assert one["inputs"] != two["inputs"]
    assert one["value"] == two["value"] == S.entry_value(NAME, observed, after)
    assert S.entry_value(NAME, {"Pod blue/a": "u2"}, after) != one["value"]
    assert S.entry_value(NAME, observed, {"ovn_kubernetes": "v2"}) != one["value"]
    assert S.entry_value("other", observed, after) != one["value"]


def test_make_entry():
    inputs = fingerprint()
    entry = S.make_entry(NAME, inputs, {"Pod blue/a": "u1"}, {"x": "v"}, {"fact": 1}, "t")
    assert entry == {"schema": S.SCHEMA, "inputs": inputs["digest"], "input_parts": inputs["parts"],
                     "observed": {"Pod blue/a": "u1"}, "after": {"x": "v"}, "facts": {"fact": 1},
                     "value": S.entry_value(NAME, {"Pod blue/a": "u1"}, {"x": "v"}), "written": "t"}


def test_same_entry_ignores_the_time_written_only():
    one = S.make_entry(NAME, fingerprint(), {"Pod blue/a": "u1"}, {}, {"f": 1}, "t1")
    assert S.same_entry(one, dict(one, written="t2")) is True
    assert S.same_entry(one, dict(one, facts={"f": 2})) is False
    assert S.same_entry(one, dict(one, files=["/k"])) is False
    assert S.same_entry(one, dict(one, objects=[DS_SPEC])) is False
    assert S.same_entry(None, one) is False
    assert S.same_entry({}, one) is False


def test_parse_entries():
    configmap = {"data": {"good": json.dumps({"schema": 1}), "broken": "{not json", "list": "[1, 2]"}}
    assert S.parse_entries(configmap) == {"good": {"schema": 1}, "broken": None, "list": None}
    assert S.parse_entries(None) == {}
    assert S.parse_entries({"metadata": {}}) == {}


def test_current_values():
    entries = {"a": {"value": "va"}, "broken": None}
    assert S.current_values(entries, ["a", "broken", "missing"]) == {"a": "va", "broken": None, "missing": None}


# --------------------------------------------------------------------------- specs


def test_specs_from_definitions_groups_per_kind_and_namespace_sorted():
    definitions = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "blue"}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "blue"}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "blue"}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "green"}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "blue"}},
        {"kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "blue"}},
        "not a manifest",
        {"metadata": {"name": "no kind"}},
        None,
    ]
    assert S.specs_from_definitions(definitions) == [
        {"api_version": "apps/v1", "kind": "Deployment", "names": ["api", "web"], "namespace": "blue"},
        {"api_version": "apps/v1", "kind": "Deployment", "names": ["web"], "namespace": "green"},
        {"api_version": "v1", "kind": "ConfigMap", "names": ["settings"], "namespace": "blue"},
        {"api_version": "v1", "kind": "Namespace", "names": ["blue"]},
    ]
    assert S.specs_from_definitions(None) == []


def test_specs_from_definitions_refuses_a_definition_without_a_name():
    with pytest.raises(S.StateError, match="a definition without metadata.name: apps/v1 Deployment"):
        S.specs_from_definitions([{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"generateName": "x-"}}])


def test_merge_specs_cleans_and_deduplicates():
    specs = [
        {"api_version": "v1", "kind": "Node", "name": "n1", "names": ["n2", "n1"], "namespace": None,
         "label_selector": "", "ready": False},
        {"api_version": "v1", "kind": "Node", "names": ["n1", "n2"], "ready": False},
        {"api_version": "apps/v1", "kind": "DaemonSet", "namespace": "kube-system", "names": [],
         "label_selector": "app=multus"},
    ]
    definitions = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "blue"}}]
    assert S.merge_specs(specs, definitions) == [
        {"api_version": "v1", "kind": "Node", "names": ["n1", "n2"], "ready": False},
        {"api_version": "apps/v1", "kind": "DaemonSet", "namespace": "kube-system", "label_selector": "app=multus"},
        {"api_version": "v1", "kind": "Namespace", "names": ["blue"]},
    ]


def test_merge_specs_name_alone_becomes_names():
    assert S.merge_specs([{"api_version": "v1", "kind": "Node", "name": "n1"}]) == [
        {"api_version": "v1", "kind": "Node", "names": ["n1"]}]
    assert S.merge_specs(None) == []


# --------------------------------------------------------------------------- read_objects


def test_read_objects_named_and_listed():
    api = StateApi([daemonset(), node("kind-worker2", uid="w2"), node("kind-worker", uid="w1"),
                    obj("Pod", "b", "blue", uid="pb", labels={"app": "x"}), obj("Pod", "a", "blue", uid="pa", labels={"app": "x"}),
                    obj("Pod", "c", "blue", uid="pc", labels={"app": "y"})])
    specs = [DS_SPEC, {"api_version": "v1", "kind": "Node", "ready": False},
             {"api_version": "v1", "kind": "Pod", "namespace": "blue", "label_selector": "app=x"},
             {"api_version": "apps/v1", "kind": "Deployment", "namespace": "blue", "names": ["gone"]}]
    got = [(kind, key, item and item["metadata"]["uid"], ready) for kind, key, item, ready in S.read_objects(api, specs)]
    assert got == [
        ("DaemonSet", "DaemonSet kube-system/kube-multus-ds", "uid-ds", True),
        ("Node", "Node kind-worker", "w1", False),
        ("Node", "Node kind-worker2", "w2", False),
        ("Pod", "Pod blue/a", "pa", True),
        ("Pod", "Pod blue/b", "pb", True),
        ("Deployment", "Deployment blue/gone", None, True),
    ]


def test_read_objects_of_a_kind_not_served_reports_each_named_object_absent_and_selects_nothing():
    api = StateApi(unserved={"VirtualMachine": NotServed("the server could not find the requested resource"),
                             "KubeVirt": NotServed("KubeVirt kubevirt.io/v1: not found")})
    specs = [{"api_version": "kubevirt.io/v1", "kind": "VirtualMachine", "namespace": "blue", "names": ["vm-a", "vm-b"]},
             {"api_version": "kubevirt.io/v1", "kind": "KubeVirt", "namespace": "kubevirt", "label_selector": "a=b"}]
    assert S.read_objects(api, specs) == [
        ("VirtualMachine", "VirtualMachine blue/vm-a", None, True),
        ("VirtualMachine", "VirtualMachine blue/vm-b", None, True),
    ]
    observed, problems = S.observe(S.read_objects(api, specs[:1]))
    assert observed == {"VirtualMachine blue/vm-a": "absent", "VirtualMachine blue/vm-b": "absent"}
    assert problems == ["VirtualMachine blue/vm-a does not exist", "VirtualMachine blue/vm-b does not exist"]


def test_read_objects_of_a_kind_discovery_does_not_know_through_kube_api():
    """What the kubernetes client really raises (discovery): ResourceNotFoundError("No matches found for ...")."""
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    def resources_get(**kwargs):
        raise ResourceNotFoundError("No matches found for {0}".format(kwargs))

    api = k8s.KubeApi(types.SimpleNamespace(resources=types.SimpleNamespace(get=resources_get)))
    specs = [{"api_version": "kubevirt.io/v1", "kind": "VirtualMachine", "namespace": "blue", "names": ["vm-a"]},
             {"api_version": "kubevirt.io/v1", "kind": "VirtualMachineInstance"}]
    assert S.read_objects(api, specs) == [
        ("VirtualMachine", "VirtualMachine blue/vm-a", None, True),
    ]


def test_read_objects_raises_other_errors():
    api = StateApi(unserved={"DaemonSet": RuntimeError("connection refused")})
    with pytest.raises(RuntimeError, match="connection refused"):
        S.read_objects(api, [DS_SPEC])


# --------------------------------------------------------------------------- record


def test_record_creates_the_configmap_with_labels_the_first_time():
    api = StateApi([daemonset()])
    labels = {"app.kubernetes.io/managed-by": "ovnk.udn_lab"}
    result = record(api, labels=labels, files={"/k": "abc"}, host={"boot_id": "b1"}, facts={"multus": True})
    entry = api.entry(NAME)
    assert result == {"changed": True, "recorded": True, "reasons": [], "value": entry["value"]}
    assert [w[0] for w in api.writes] == ["create"]
    configmap = api.writes[0][4]  # what was sent (the server adds a uid)
    assert configmap["apiVersion"] == "v1" and configmap["kind"] == "ConfigMap"
    assert configmap["metadata"] == {"name": S.STATE_CONFIGMAP, "namespace": S.STATE_NAMESPACE, "labels": labels}
    assert entry["observed"] == {"DaemonSet kube-system/kube-multus-ds": "uid-ds gen=1", "file /k": "abc",
                                 "host boot_id": "b1"}
    assert entry["objects"] == [DS_SPEC]
    assert entry["files"] == ["/k"]
    assert entry["host"] == ["boot_id"]
    assert entry["facts"] == {"multus": True}
    assert entry["written"] == "2026-11-27T10:00:00Z"
    assert entry["inputs"] == fingerprint()["digest"]
    assert SECRET not in configmap["data"][NAME]


def test_record_when_another_run_created_the_configmap_meanwhile_patches_it():
    """Participants of a classroom record side by side: another run may create the ConfigMap between this run's
    read and its create (409 AlreadyExists); the entry is then patched in, and the other run's entry kept."""
    api = StateApi([daemonset()])
    real_create = api.create

    def create_after_the_other(api_version, kind, body, namespace=None):
        if kind == "ConfigMap":  # the other run's create lands first
            real_create(api_version, kind, {"apiVersion": "v1", "kind": "ConfigMap", "data": {"pod-workshop-bob": "{}"},
                                            "metadata": {"name": S.STATE_CONFIGMAP, "namespace": S.STATE_NAMESPACE}},
                        namespace=namespace)
        return real_create(api_version, kind, body, namespace=namespace)

    api.create = create_after_the_other
    result = record(api, name="pod-workshop-ada")
    assert result["changed"] is True and result["recorded"] is True
    assert [w[0] for w in api.writes][-1] == "patch"
    assert sorted(api.configmap()["data"]) == ["pod-workshop-ada", "pod-workshop-bob"]


def test_record_again_unchanged_writes_nothing():
    api = StateApi([daemonset()])
    first = record(api, facts={"a": 1})
    writes = list(api.writes)
    again = record(api, facts={"a": 1}, written="2026-11-28T10:00:00Z")
    assert again == {"changed": False, "recorded": True, "reasons": [], "value": first["value"]}
    assert api.writes == writes
    assert api.entry(NAME)["written"] == "2026-11-27T10:00:00Z"


def test_record_patches_the_configmap_afterwards_and_keeps_other_entries():
    api = StateApi([daemonset(), node()])
    record(api, name="kind_cluster", specs=[{"api_version": "v1", "kind": "Node", "names": ["kind-worker"]}])
    first = record(api)
    assert [w[0] for w in api.writes] == ["create", "patch"]
    assert api.writes[1][2:6] == ("ConfigMap", S.STATE_CONFIGMAP, S.STATE_NAMESPACE, S.MERGE_PATCH)
    assert list(api.writes[1][6]) == ["data"] and list(api.writes[1][6]["data"]) == [NAME]
    api.put(daemonset(generation=2))
    second = record(api)
    assert second["changed"] is True and second["value"] != first["value"]
    assert [w[0] for w in api.writes] == ["create", "patch", "patch"]
    assert api.entry(NAME)["observed"]["DaemonSet kube-system/kube-multus-ds"] == "uid-ds gen=2"
    assert sorted(api.configmap()["data"]) == ["kind_cluster", NAME]


def test_record_covers_the_values_of_the_entries_below():
    api = StateApi([daemonset(), node()])
    below = record(api, name="kind_cluster", specs=[{"api_version": "v1", "kind": "Node", "names": ["kind-worker"]}])
    record(api, after=["kind_cluster", "kubevirt"])
    assert api.entry(NAME)["after"] == {"kind_cluster": below["value"], "kubevirt": None}


def test_record_with_an_object_not_ready_records_nothing():
    api = StateApi([daemonset(ready=2)])
    result = record(api)
    assert result == {"changed": False, "recorded": False, "value": None,
                      "reasons": ["DaemonSet kube-system/kube-multus-ds: 2 of 3 pods ready"]}
    assert api.writes == []
    assert record(api, check_mode=True)["changed"] is True
    assert api.writes == []


def test_record_with_a_missing_object_or_file_records_nothing():
    api = StateApi([daemonset()])
    result = record(api, files={"/k": None})
    assert result["recorded"] is False and result["reasons"] == ["/k does not exist"]
    result = record(api, specs=[DS_SPEC, {"api_version": "v1", "kind": "Node", "names": ["kind-worker"]}])
    assert result["recorded"] is False and result["reasons"] == ["Node kind-worker does not exist"]
    assert api.writes == []


def test_record_in_check_mode_never_writes():
    api = StateApi([daemonset()])
    result = record(api, check_mode=True)
    assert result["changed"] is True and result["recorded"] is True and result["value"]
    assert api.writes == [] and api.configmap() is None
    record(api)
    api.put(daemonset(generation=3))
    writes = list(api.writes)
    assert record(api, check_mode=True)["changed"] is True
    assert api.writes == writes
    assert record(api, check_mode=True, written="later")["changed"] is True


# --------------------------------------------------------------------------- query


def test_query_without_a_record():
    result = S.query(StateApi([daemonset()]), NAME, fingerprint(), [], no_local)
    assert result == {"current": False, "reasons": ["no record of a completed run of %s" % NAME],
                      "summary": "%s: runs in full (no record of a completed run of %s)" % (NAME, NAME),
                      "facts": {}, "value": None, "recorded": None}


def test_query_after_record_holds_and_returns_the_facts():
    api = StateApi([daemonset()])
    recorded = record(api, facts={"multus_ready": True})
    result = S.query(api, NAME, fingerprint(), [], no_local)
    assert result == {
        "current": True, "reasons": [], "facts": {"multus_ready": True}, "value": recorded["value"],
        "recorded": "2026-11-27T10:00:00Z",
        "summary": "%s: unchanged since the complete run of 2026-11-27T10:00:00Z, nothing to do" % NAME,
    }
    assert api.writes == [("create",) + api.writes[0][1:]]  # query wrote nothing


def test_query_after_an_object_was_replaced():
    api = StateApi([daemonset()])
    record(api, facts={"multus_ready": True})
    api.put(daemonset(uid="uid-ds-new"))
    result = S.query(api, NAME, fingerprint(), [], no_local)
    assert result["current"] is False
    assert result["reasons"] == ["DaemonSet kube-system/kube-multus-ds was replaced"]
    assert result["facts"] == {} and result["value"] is None
    assert result["recorded"] == "2026-11-27T10:00:00Z"
    assert result["summary"] == "%s: runs in full (DaemonSet kube-system/kube-multus-ds was replaced)" % NAME


def test_query_after_an_object_went_away_or_is_not_ready():
    api = StateApi([daemonset()])
    record(api)
    api.put(daemonset(ready=1))
    assert S.query(api, NAME, fingerprint(), [], no_local)["reasons"] == [
        "DaemonSet kube-system/kube-multus-ds: 1 of 3 pods ready"]
    api.remove("DaemonSet", "kube-multus-ds", "kube-system")
    # said once
    assert S.query(api, NAME, fingerprint(), [], no_local)["reasons"] == ["DaemonSet kube-system/kube-multus-ds is gone"]


def test_query_after_the_inputs_changed():
    api = StateApi([daemonset()])
    record(api)
    result = S.query(api, NAME, fingerprint(multus_version="v5"), [], no_local)
    assert (result["current"], result["reasons"]) == (False, ["inputs changed: multus_version"])


def test_query_after_an_entry_below_was_re_recorded():
    api = StateApi([daemonset(), node()])
    node_spec = {"api_version": "v1", "kind": "Node", "names": ["kind-worker"]}
    record(api, name="kind_cluster", specs=[node_spec])
    record(api, after=["kind_cluster"])
    assert S.query(api, NAME, fingerprint(), ["kind_cluster"], no_local)["current"] is True
    api.put(node(uid="uid-node-2"))
    record(api, name="kind_cluster", specs=[node_spec])
    result = S.query(api, NAME, fingerprint(), ["kind_cluster"], no_local)
    assert result["reasons"] == ["kind_cluster changed since (re-applied or re-created)"]
    S.forget(api, ["kind_cluster"])
    result = S.query(api, NAME, fingerprint(), ["kind_cluster"], no_local)
    assert result["reasons"] == ["kind_cluster is no longer recorded (torn down, or not complete)"]


def test_query_reads_the_files_and_host_facts_the_entry_recorded():
    api = StateApi([daemonset()])
    record(api, files={"/k": "abc", "/t": "def"}, host={"boot_id": "b1"})
    asked = []

    def read_local(files, host):
        asked.append((list(files), list(host)))
        return {"/k": "abc", "/t": "changed"}, {"boot_id": "b2"}

    result = S.query(api, NAME, fingerprint(), [], read_local)
    assert asked == [(["/k", "/t"], ["boot_id"])]
    assert result["reasons"] == ["file /t changed", "host boot_id changed"]


def test_query_of_an_unreadable_entry():
    api = StateApi([obj("ConfigMap", S.STATE_CONFIGMAP, S.STATE_NAMESPACE, data={NAME: "{broken"})])
    result = S.query(api, NAME, fingerprint(), [], no_local)
    assert result["current"] is False
    assert result["reasons"] == ["no record of a completed run of %s" % NAME]


# --------------------------------------------------------------------------- forget


def test_forget_removes_one_entry_by_patch_then_the_configmap_with_the_last():
    api = StateApi([daemonset(), node()])
    record(api, name="kind_cluster", specs=[{"api_version": "v1", "kind": "Node", "names": ["kind-worker"]}])
    record(api)
    del api.calls[:]
    assert S.forget(api, [NAME]) == {"changed": True, "forgotten": [NAME]}
    assert api.writes == [("patch", "v1", "ConfigMap", S.STATE_CONFIGMAP, S.STATE_NAMESPACE, S.MERGE_PATCH,
                           {"data": {NAME: None}})]
    assert list(api.configmap()["data"]) == ["kind_cluster"]
    assert S.forget(api, ["kind_cluster", "never-recorded"]) == {"changed": True, "forgotten": ["kind_cluster"]}
    assert api.writes[-1] == ("delete", "v1", "ConfigMap", S.STATE_CONFIGMAP, S.STATE_NAMESPACE)
    assert api.configmap() is None


def test_forget_several_entries_at_once_deletes_the_configmap_when_none_is_left():
    api = StateApi([daemonset()])
    record(api, name="a")
    record(api, name="b")
    del api.calls[:]
    assert S.forget(api, ["b", "a"]) == {"changed": True, "forgotten": ["a", "b"]}
    assert [w[0] for w in api.writes] == ["delete"]


def test_forget_a_pattern_removes_every_participants_entry_and_no_other():
    api = StateApi([daemonset()])
    for name in ("pod-workshop", "pod-workshop-p1", "pod-workshop-p2", "vm-workshop-p1", "kind_cluster"):
        record(api, name=name)
    del api.calls[:]
    assert S.forget(api, ["pod-workshop-*"]) == {"changed": True, "forgotten": ["pod-workshop-p1", "pod-workshop-p2"]}
    assert sorted(api.configmap()["data"]) == ["kind_cluster", "pod-workshop", "vm-workshop-p1"]
    # a name without * is exact: "pod-workshop" does not take "pod-workshop-p1" with it
    assert S.forget(api, ["vm-workshop", "pod-workshop"]) == {"changed": True, "forgotten": ["pod-workshop"]}
    assert sorted(api.configmap()["data"]) == ["kind_cluster", "vm-workshop-p1"]


def test_forget_a_missing_entry_changes_nothing():
    api = StateApi([daemonset()])
    assert S.forget(api, [NAME]) == {"changed": False, "forgotten": []}
    record(api, name="other")
    del api.calls[:]
    assert S.forget(api, [NAME]) == {"changed": False, "forgotten": []}
    assert api.writes == []


def test_forget_in_check_mode_writes_nothing():
    api = StateApi([daemonset()])
    record(api)
    del api.calls[:]
    assert S.forget(api, [NAME], check_mode=True) == {"changed": True, "forgotten": [NAME]}
    assert api.writes == []
    assert NAME in api.configmap()["data"]


def test_a_node_becoming_ready_is_no_change():
    """The node lifecycle controller drops the not-ready taint and kube-controller-manager assigns pod CIDRs after
    kind_cluster recorded the nodes: the next run must still find them unchanged (only a new uid counts)."""
    before = {"metadata": {"name": "kind-worker", "uid": "uid-w"},
              "spec": {"taints": [{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]}}
    after = {"metadata": {"name": "kind-worker", "uid": "uid-w"}, "spec": {"podCIDR": "10.244.1.0/24"}}
    assert S.object_state("Node", before) == S.object_state("Node", after) == "uid-w"
    assert S.object_state("Node", dict(after, metadata={"name": "kind-worker", "uid": "uid-w2"})) == "uid-w2"
