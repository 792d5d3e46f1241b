# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""Tests for module_utils/overlap.py: the workshop's overlapping subnets as a claim."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import overlap as O

NETWORKS = [
    {"name": "blue-network", "kind": "UserDefinedNetwork", "namespace": "blue", "role": "Primary",
     "subnets": {"ipv4": {"cidr": "103.103.0.0/16", "host_subnet": 24}, "ipv6": {"cidr": "fd00:103:103::/48"}}},
    {"name": "overlapping-with-blue-network", "kind": "UserDefinedNetwork", "namespace": "overlapping-with-blue",
     "role": "Primary",
     "subnets": {"ipv4": {"cidr": "103.103.0.0/16", "host_subnet": 24}, "ipv6": {"cidr": "fd00:103:103::/48"}}},
    {"name": "green-network", "kind": "UserDefinedNetwork", "namespace": "green", "role": "Primary",
     "subnets": {"ipv4": {"cidr": "203.203.0.0/16", "host_subnet": 24}}},
]
CHECK = {"id": "overlapping-subnets", "networks": ["blue-network", "overlapping-with-blue-network"]}


def pod(namespace, name, key, v4, v6="fd00:103:103:1::3"):
    networks = {"default": {"role": "infrastructure-locked", "ip_addresses": ["10.244.1.9/24"]},
                key: {"role": "primary", "ip_addresses": [v4 + "/24", v6 + "/64"]}}
    return {"metadata": {"name": name, "namespace": namespace,
                         "annotations": {"k8s.ovn.org/pod-networks": json.dumps(networks)}}}


def pods(blue=("103.103.1.3", "103.103.2.3"), other=("103.103.2.3", "103.103.1.4")):
    return {
        "blue": [pod("blue", "app-blue-%d" % i, "blue/blue-network", ip) for i, ip in enumerate(blue)],
        "overlapping-with-blue": [pod("overlapping-with-blue", "app-overlapping-blue-%d" % i,
                                      "overlapping-with-blue/overlapping-with-blue-network", ip)
                                  for i, ip in enumerate(other)],
    }


def test_both_networks_draw_from_the_shared_subnet_and_the_common_addresses_are_shown():
    (result,) = O.overlapping_networks(CHECK, NETWORKS, pods(), ["ipv4"])
    assert result["status"] == "correct", result["detail"]
    assert result["id"] == "overlapping-subnets"
    assert result["detail"].startswith("103.103.0.0/16 shared by blue-network: app-blue-0 103.103.1.3, app-blue-1 "
                                       "103.103.2.3; overlapping-with-blue-network: app-overlapping-blue-0 103.103.2.3")
    assert result["detail"].endswith("held in more than one network: 103.103.2.3")
    assert result["reproduce"].startswith("kubectl get pods -n blue -o jsonpath=")


def test_no_address_in_common_is_still_correct_and_says_why():
    (result,) = O.overlapping_networks(CHECK, NETWORKS, pods(other=("103.103.0.3", "103.103.0.4")), ["ipv4"])
    assert result["status"] == "correct"
    assert "none this time (which node gets which host subnet is not fixed per network)" in result["detail"]


def test_an_address_outside_the_shared_subnet_is_wrong():
    (result,) = O.overlapping_networks(CHECK, NETWORKS, pods(other=("10.103.0.3",)), ["ipv4"])
    assert result["status"] == "wrong"
    assert "pod overlapping-with-blue/app-overlapping-blue-0 holds 10.103.0.3, outside the shared 103.103.0.0/16" \
        in result["detail"]


def test_a_pod_on_the_other_network_or_no_pod_at_all_is_wrong():
    wrong = pods()
    wrong["blue"].append(pod("blue", "intruder", "blue/other-network", "103.103.1.9"))
    (result,) = O.overlapping_networks(CHECK, NETWORKS, wrong, ["ipv4"])
    assert "pod blue/intruder is on blue/other-network, not on blue-network" in result["detail"]
    (result,) = O.overlapping_networks(CHECK, NETWORKS, {"blue": pods()["blue"]}, ["ipv4"])
    assert "no pod of overlapping-with-blue-network holds a primary ipv4 address" in result["detail"]


def test_one_claim_per_family_and_different_subnets_are_wrong():
    results = O.overlapping_networks(CHECK, NETWORKS, pods(), ["ipv4", "ipv6"])
    assert [(r["id"], r["status"]) for r in results] == [
        ("overlapping-subnets/ipv4", "correct"), ("overlapping-subnets/ipv6", "correct")]
    (result,) = O.overlapping_networks({"id": "x", "networks": ["blue-network", "green-network"]}, NETWORKS,
                                       pods(), ["ipv4"])
    assert result["detail"] == ("the networks do not share one ipv4 subnet: blue-network 103.103.0.0/16, "
                                "green-network 203.203.0.0/16")


@pytest.mark.parametrize("names", [["blue-network"], ["blue-network", "nope"]])
def test_fewer_than_two_declared_networks_is_wrong(names):
    (result,) = O.overlapping_networks({"id": "x", "networks": names}, NETWORKS, pods(), ["ipv4"])
    assert result["status"] == "wrong" and "not two or more declared networks" in result["detail"]


def test_a_cluster_udn_covers_its_namespaces():
    cudn = {"name": "c", "kind": "ClusterUserDefinedNetwork", "namespaces": ["red", "yellow"]}
    assert O.network_namespaces(cudn) == ["red", "yellow"]
    assert O.network_namespaces(NETWORKS[0]) == ["blue"]


# --------------------------------------------------------------------------- the shared address's own network


def test_a_shared_address_is_probed_from_each_network_answered_only_by_its_own_holder():
    plan = O.own_network_probes(CHECK, NETWORKS, pods(), ["ipv4"])
    assert plan["results"] == []
    blue, other = plan["probes"]
    assert blue["id"] == "overlapping-subnets-own-network-blue"
    assert blue["from"] == {"namespace": "blue", "pod": "app-blue-0"}  # not the holder app-blue-1
    assert blue["to"] == {"kind": "address", "address": "103.103.2.3", "answered_by": ["app-blue-1"]}
    assert (blue["protocol"], blue["port"], blue["expect"], blue["family"]) == ("http", 8080, "reachable", "ipv4")
    assert other["id"] == "overlapping-subnets-own-network-overlapping-with-blue"
    assert other["from"] == {"namespace": "overlapping-with-blue", "pod": "app-overlapping-blue-1"}
    assert other["to"]["answered_by"] == ["app-overlapping-blue-0"]
    # every probe is valid input of connectivity_matrix
    from ansible_collections.ovnk.udn_lab.plugins.module_utils import probes as P
    assert P.validate_probes(plan["probes"]) == []


def test_without_a_shared_address_or_a_second_pod_the_claim_is_not_applicable_and_says_why():
    plan = O.own_network_probes(CHECK, NETWORKS, pods(other=("103.103.0.3", "103.103.0.4")), ["ipv4", "ipv6"])
    v4 = [r for r in plan["results"] if r["family"] == "ipv4"]
    assert [r["id"] for r in v4] == ["overlapping-subnets-own-network-blue/ipv4",
                                     "overlapping-subnets-own-network-overlapping-with-blue/ipv4"]
    assert all(r["status"] == "not applicable" and "no ipv4 address is held in both networks" in r["detail"]
               for r in v4)
    # IPv6: the fixture gives every pod the same address, so each network has one holder and nobody to dial from
    v6 = [r for r in plan["results"] if r["family"] == "ipv6"]
    assert plan["probes"] == [] and len(v6) == 2
    assert all("has no pod besides" in r["detail"] and "fd00:103:103:1::3" in r["detail"] for r in v6)
    lonely = O.own_network_probes(CHECK, NETWORKS, pods(blue=("103.103.2.3",), other=("103.103.2.3",)), ["ipv4"])
    assert lonely["probes"] == []
    assert [r["detail"] for r in lonely["results"]] == [
        "blue-network has no pod besides blue/app-blue-0 to dial 103.103.2.3 from",
        "overlapping-with-blue-network has no pod besides overlapping-with-blue/app-overlapping-blue-0 to dial "
        "103.103.2.3 from"]


def test_pods_not_running_hold_no_address_for_this():
    ready = pods()
    ready["blue"][1]["status"] = {"phase": "Succeeded"}
    plan = O.own_network_probes(CHECK, NETWORKS, ready, ["ipv4"])
    assert [r["id"] for r in plan["results"]] == ["overlapping-subnets-own-network-blue",
                                                  "overlapping-subnets-own-network-overlapping-with-blue"]
