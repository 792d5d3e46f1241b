# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""classroom: participants, and each participant's copy of the workshops as the roles' defaults write them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pathlib

import pytest
import yaml

from ansible_collections.ovnk.udn_lab.plugins.module_utils import classroom

ROLES = pathlib.Path(__file__).resolve().parents[4] / "roles"


def defaults(role, prefix):
    raw = yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text())
    return dict((k[len(prefix):], v) for k, v in raw.items() if k.startswith(prefix))


POD = defaults("pod_workshop", "pod_workshop_")
VM = defaults("vm_workshop", "vm_workshop_")


@pytest.mark.parametrize("value, names", [
    (None, []), (0, []), ([], []), ("", []),
    (3, ["p1", "p2", "p3"]), ("2", ["p1", "p2"]),
    (12, ["p01", "p02", "p03", "p04", "p05", "p06", "p07", "p08", "p09", "p10", "p11", "p12"]),
    (["ada", "linus"], ["ada", "linus"]),
])
def test_participants_are_a_count_or_names(value, names):
    assert classroom.participant_names(value) == names


@pytest.mark.parametrize("value, words", [
    (True, "a number of participants or a list of names"),
    (201, "from 1 to 200 participants"),
    ({"ada": 1}, "a number of participants or a list of names"),
    (["Ada"], "'Ada' is not a DNS label"),
    (["a_b"], "'a_b' is not a DNS label"),
    (["ada", "ada"], "named more than once: ada"),
    (["x" * 42], "is 42 characters; at most 41"),
])
def test_bad_participants_name_the_variable_and_the_fix(value, words):
    with pytest.raises(classroom.ClassroomError) as err:
        classroom.participant_names(value, classroom.pod_workshop_namespaces(POD))
    assert str(err.value).startswith("udn_lab_participants") and words in str(err.value), str(err.value)


def test_the_longest_allowed_name_still_makes_valid_namespaces():
    namespaces = classroom.pod_workshop_namespaces(POD)
    (name,) = classroom.participant_names(["x" * 41], namespaces)
    copy = classroom.pod_workshop_for(name, POD)
    assert max(len(ns["name"]) for ns in copy["namespaces"]) == 63


def test_each_participant_gets_the_pod_workshop_in_namespaces_of_their_own():
    a, b = classroom.pod_workshop_for("p1", POD), classroom.pod_workshop_for("p2", POD)
    for who, copy in (("p1", a), ("p2", b)):
        created = [ns["name"] for ns in copy["namespaces"]]
        # every namespace it uses, it creates, and each is the participant's, labelled so
        assert set(classroom.pod_workshop_namespaces(copy)) == set(created)
        assert all(n.startswith(who + "-") for n in created), created
        assert all(ns["labels"][classroom.PARTICIPANT_LABEL] == who for ns in copy["namespaces"])
        # the seed's default-network pods live in the participant's own namespace without a primary network
        default = [ns for ns in copy["namespaces"] if ns["name"] == who + "-default"]
        assert default == [{"name": who + "-default", "primary_udn": False,
                            "labels": {classroom.PARTICIPANT_LABEL: who}}]
        assert [ns["primary_udn"] for ns in copy["namespaces"][:5]] == [True] * 5
    assert not set(ns["name"] for ns in a["namespaces"]) & set(ns["name"] for ns in b["namespaces"])


def test_cluster_scoped_networks_are_renamed_and_every_reference_follows():
    copy = classroom.pod_workshop_for("p1", POD)
    cudns = [n for n in copy["networks"] if n["kind"] == "ClusterUserDefinedNetwork"]
    assert sorted(n["name"] for n in cudns) == ["p1-blue-green-secondary", "p1-colored-enterprise"]
    assert all(all(ns.startswith("p1-") for ns in n["namespaces"]) for n in cudns)
    udns = [n for n in copy["networks"] if n["kind"] == "UserDefinedNetwork"]
    assert [n["name"] for n in udns] == [n["name"] for n in POD["networks"] if n["kind"] == "UserDefinedNetwork"]
    assert all(n["namespace"].startswith("p1-") for n in udns)
    names = set(n["name"] for n in copy["networks"])
    for app in copy["apps"]:
        assert set(app.get("networks") or []) <= names, app
    probed = set(p["to"]["network"] for p in copy["probes"]
                 if p["to"].get("network") not in (None, "infrastructure-locked"))
    assert probed == {"p1-blue-green-secondary"}
    for entry in copy["overlapping_networks"]:
        assert set(entry["networks"]) <= names
    # the subnets stay the seed's: participants overlap, by design
    assert [n["subnets"] for n in copy["networks"]] == [n["subnets"] for n in POD["networks"]]


def test_every_probe_inspection_and_policy_stays_inside_the_participant():
    copy = classroom.pod_workshop_for("p7", POD)
    assert len(copy["probes"]) == len(POD["probes"])
    for probe in copy["probes"]:
        for side in ("from", "to"):
            if probe[side].get("namespace"):
                assert probe[side]["namespace"].startswith("p7-"), probe
    assert all(i["namespace"].startswith("p7-") for i in copy["pod_inspections"] + copy["endpoint_slices"])
    (policy,) = copy["network_policies"]
    assert policy["namespace"] == "p7-red"
    peer = policy["spec"]["egress"][0]["to"][0]
    # the workshop's namespaceSelector {} (every namespace) becomes every namespace of this participant
    assert peer["namespaceSelector"] == {"matchLabels": {classroom.PARTICIPANT_LABEL: "p7"}}
    assert peer["podSelector"] == POD["network_policies"][0]["spec"]["egress"][0]["to"][0]["podSelector"]
    # the original is left as it was
    assert POD["network_policies"][0]["spec"]["egress"][0]["to"][0]["namespaceSelector"] == {}


def test_a_selector_on_a_namespaces_name_follows_the_renamed_namespace():
    selector = {"matchLabels": {classroom.NAME_LABEL: "green"},
                "matchExpressions": [{"key": classroom.NAME_LABEL, "operator": "In", "values": ["red"]}]}
    policy = {"name": "x", "namespace": "blue", "spec": {"ingress": [{"from": [{"namespaceSelector": selector}]}]}}
    network = {"name": "c", "kind": "ClusterUserDefinedNetwork", "namespace_selector": {"matchLabels": {"name": "blue"}}}
    spec = {"namespaces": [{"name": "blue"}], "network_policies": [policy], "networks": [network]}
    copy = classroom.pod_workshop_for("p1", spec)
    selector = copy["network_policies"][0]["spec"]["ingress"][0]["from"][0]["namespaceSelector"]
    assert selector["matchLabels"] == {classroom.NAME_LABEL: "p1-green", classroom.PARTICIPANT_LABEL: "p1"}
    assert selector["matchExpressions"][0]["values"] == ["p1-red"]
    assert copy["networks"][0]["namespace_selector"] == {"matchLabels": {"name": "blue",
                                                                         classroom.PARTICIPANT_LABEL: "p1"}}


def test_each_participant_gets_the_vm_workshop_on_a_network_of_their_own():
    copy = classroom.vm_workshop_for("p2", VM)
    assert [n["name"] for n in copy["networks"]] == ["p2-happy-tenant"]
    assert copy["networks"][0]["namespaces"] == ["p2-red-namespace", "p2-blue-namespace"]
    assert copy["networks"][0]["subnets"] == VM["networks"][0]["subnets"]
    assert [(v["namespace"], v["name"], v["network"]) for v in copy["vms"]] == [
        ("p2-red-namespace", "red", "p2-happy-tenant"), ("p2-blue-namespace", "blue", "p2-happy-tenant")]
    assert (copy["migration_vm"], copy["migration_client"]) == ("p2-blue-namespace/blue", "p2-red-namespace/red")
    assert classroom.vm_workshop_namespaces(copy) == ["p2-red-namespace", "p2-blue-namespace"]
    assert copy["image"] == VM["image"]


LABELS = {"app.kubernetes.io/managed-by": "ovnk.udn_lab", "udn-lab.ovnk.io/lab": "class"}


def test_a_participant_is_bound_in_their_namespaces_only_and_reads_only_their_cluster_networks():
    objects = classroom.participant_rbac("p1", ["p1-blue", "p1-red"], ["p1-colored-enterprise"], LABELS,
                                         "udn-lab-classroom")
    kinds = [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects]
    assert kinds == [("ServiceAccount", "udn-lab-classroom", "p1"),
                     ("RoleBinding", "p1-blue", "udn-lab-participant"), ("RoleBinding", "p1-red", "udn-lab-participant"),
                     ("ClusterRole", None, "udn-lab-participant-p1"), ("ClusterRoleBinding", None, "udn-lab-participant-p1")]
    for obj in objects:
        assert obj["metadata"]["labels"] == dict(LABELS, **{classroom.PARTICIPANT_LABEL: "p1"})
    subject = {"kind": "ServiceAccount", "name": "p1", "namespace": "udn-lab-classroom"}
    assert all(o["subjects"] == [subject] for o in objects if "subjects" in o)
    # cluster-wide, only named objects: never a rule without resourceNames
    (own,) = [o for o in objects if o["kind"] == "ClusterRole"]
    assert all(rule.get("resourceNames") for rule in own["rules"]), own
    assert {tuple(r["resourceNames"]) for r in own["rules"]} == {("p1-blue", "p1-red"), ("p1-colored-enterprise",)}
    assert all("create" not in r["verbs"] and "delete" not in r["verbs"] for r in own["rules"])


def test_the_shared_cluster_role_covers_what_the_workshop_asks_and_nothing_cluster_scoped():
    role = classroom.participant_cluster_role(LABELS)
    granted = set()
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    granted.add((group, resource, verb))
    for needed in [("", "pods", "create"), ("", "pods/exec", "create"), ("", "services", "create"),
                   ("networking.k8s.io", "networkpolicies", "create"), ("k8s.ovn.org", "userdefinednetworks", "create"),
                   ("kubevirt.io", "virtualmachines", "create"),
                   ("kubevirt.io", "virtualmachineinstancemigrations", "create"),
                   ("subresources.kubevirt.io", "virtualmachineinstances/console", "get")]:
        assert needed in granted, needed
    for cluster_scoped in ("namespaces", "nodes", "clusteruserdefinednetworks", "customresourcedefinitions",
                           "clusterroles", "clusterrolebindings", "roles", "rolebindings"):
        assert not [g for g in granted if g[1] == cluster_scoped], cluster_scoped


def test_fence_checks_ask_for_what_a_participant_may_and_may_not_do():
    others = {"p1": {"namespaces": ["p1-blue"], "cluster_networks": ["p1-c"], "vms": [("p1-blue-namespace", "blue")]},
              "p2": {"namespaces": ["p2-blue"], "cluster_networks": ["p2-c"], "vms": [("p2-blue-namespace", "blue")]}}
    checks = classroom.fence_checks("p1", others)
    ids = [c["id"] for c in checks]
    assert len(ids) == len(set(ids)) and all(i.startswith("p1:") for i in ids)
    allowed = [c for c in checks if c["expect"]]
    refused = [c for c in checks if not c["expect"]]
    assert all("p2" not in str(c["attributes"]) for c in allowed)
    assert {c["attributes"].get("namespace") for c in refused if c["id"].startswith("p1:not-p2")} == {
        "p2-blue", "p2-blue-namespace", None}
    assert "p1:not-p2-cudn-p2-c" in ids and "p1:own-cudn-p1-c" in ids and "p1:not-p2-console-blue" in ids
    body = classroom.review_body(next(c for c in checks if c["id"] == "p1:not-p2-console-blue")["attributes"])
    assert body["spec"]["resourceAttributes"] == {"verb": "get", "resource": "virtualmachineinstances",
                                                  "group": "subresources.kubevirt.io", "namespace": "p2-blue-namespace",
                                                  "subresource": "console", "name": "blue"}
    judged = classroom.judge_fences(checks[:3], {checks[0]["id"]: True, checks[1]["id"]: False})
    assert [j["status"] for j in judged] == ["correct", "wrong", "unknown"]


def jwt(claims):
    import base64
    import json

    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return "{0}.{1}.signature".format(part({"alg": "RS256"}), part(claims))


def test_a_kubeconfig_is_kept_while_its_token_lasts_and_points_at_the_cluster():
    config = classroom.participant_kubeconfig("p1", "https://127.0.0.1:6443", "Q0E=", jwt({"exp": 10000}), "p1-blue",
                                              "class")
    assert config["contexts"][0]["context"] == {"cluster": "class", "user": "p1", "namespace": "p1-blue"}
    assert config["current-context"] == "p1@class"
    assert classroom.token_expiry(jwt({"exp": 10000})) == 10000
    assert classroom.token_expiry("not-a-jwt") is None and classroom.token_expiry(jwt({"sub": "x"})) is None
    assert classroom.kubeconfig_still_good(config, "https://127.0.0.1:6443", "p1", now=5000, min_seconds=3600)
    assert not classroom.kubeconfig_still_good(config, "https://127.0.0.1:6443", "p1", now=7000, min_seconds=3600)
    assert not classroom.kubeconfig_still_good(config, "https://127.0.0.1:6444", "p1", now=5000, min_seconds=3600)
    assert not classroom.kubeconfig_still_good(config, "https://127.0.0.1:6443", "p2", now=5000, min_seconds=3600)
    assert not classroom.kubeconfig_still_good({}, "https://127.0.0.1:6443", "p1", now=5000, min_seconds=3600)


# --------------------------------------------------------------------------- data-plane fences


def test_fence_probes_cover_every_pair_of_a_small_class_with_targets_no_source_pod_holds():
    probes = classroom.fence_probes(["ada", "bo", "cy"], POD)
    pairs = sorted(set(tuple(p["id"].split("-to-")[0].split("-default")[:1] + [p["to"]["namespace"].split("-")[0]])
                       for p in probes))
    assert pairs == [("ada", "bo"), ("ada", "cy"), ("bo", "ada"), ("bo", "cy"), ("cy", "ada"), ("cy", "bo")]
    by_id = dict((p["id"], p) for p in probes)
    # every Service of the workshop, by its ClusterIP, from the source's copy of its namespace
    svc = by_id["ada-to-bo-service-blue"]
    assert svc["from"] == {"namespace": "ada-blue", "pod": "app-blue-0"}
    assert svc["to"] == {"kind": "service", "namespace": "bo-blue", "name": "service-blue"}
    assert svc["protocol"] == "http" and svc["expect"] == "blocked"
    assert "ada-to-bo-service-green" in by_id
    # a UDN pod of the target, from the source's pod on the default network (which holds no UDN address)
    dflt = by_id["ada-default-to-bo-blue"]
    assert dflt["from"] == {"namespace": "ada-default", "pod": "app-default-0"}
    assert dflt["to"] == {"kind": "pod", "namespace": "bo-blue", "name": "app-blue-1"}
    assert all(p["expect"] == "blocked" for p in probes)
    # no probe targets a pod's UDN address from a UDN pod: the source's own pod could answer at that address
    assert not [p for p in probes if p["to"]["kind"] == "pod" and not p["from"]["namespace"].endswith("-default")]


def test_fence_probes_of_a_large_class_form_a_ring_and_none_without_two_participants():
    names = ["p%d" % n for n in range(1, 8)]
    probes = classroom.fence_probes(names, POD)
    sources = sorted(set(p["from"]["namespace"].split("-")[0] for p in probes))
    targets = sorted(set(p["to"]["namespace"].split("-")[0] for p in probes))
    assert sources == targets == names
    assert len(probes) == 7 * 3  # two Services and one default-network probe per pair, seven pairs
    assert classroom.fence_probes(["solo"], POD) == [] and classroom.fence_probes([], POD) == []


def test_fence_probes_name_the_container_of_a_pod_with_several():
    spec = dict(POD, services=[{"name": "svc-red", "namespace": "red", "type": "ClusterIP",
                                "ports": [{"name": "web", "port": 80, "target_port": 8080}]}])
    probe = classroom.fence_probes(["a", "b"], spec)[0]
    assert probe["from"] == {"namespace": "a-red", "pod": "app-red-0", "container": "agnhost-container-8080"}
