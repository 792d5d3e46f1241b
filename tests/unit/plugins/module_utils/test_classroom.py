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
    assert {"p1-blue-green-secondary"} == set(p["to"]["network"] for p in copy["probes"]
                                                if p["to"].get("network") not in (None, "infrastructure-locked"))
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
    spec = {"namespaces": [{"name": "blue"}], "network_policies": [{"name": "x", "namespace": "blue", "spec": {
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {classroom.NAME_LABEL: "green"},
                                                     "matchExpressions": [{"key": classroom.NAME_LABEL,
                                                                           "operator": "In", "values": ["red"]}]}}]}]}}],
        "networks": [{"name": "c", "kind": "ClusterUserDefinedNetwork", "namespace_selector": {
            "matchLabels": {"name": "blue"}}}]}
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
