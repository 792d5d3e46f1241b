"""Tests for plugins/module_utils/ovn.py over real-shaped pod annotations."""

from __future__ import absolute_import, division, print_function

import json

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import ovn

# Shapes as OVN-Kubernetes v1.3 writes them for a pod in a namespace with a primary Layer3 UDN.
BLUE_POD_NETWORKS = {
    "default": {
        "ip_addresses": ["10.244.1.5/24"],
        "mac_address": "0a:58:0a:f4:01:05",
        "routes": [{"dest": "10.244.0.0/16", "nextHop": "10.244.1.1"},
                   {"dest": "100.64.0.0/16", "nextHop": "10.244.1.1"}],
        "ip_address": "10.244.1.5/24",
        "role": "infrastructure-locked",
    },
    "blue/blue-network": {
        "ip_addresses": ["103.103.2.4/24"],
        "mac_address": "0a:58:67:67:02:04",
        "gateway_ips": ["103.103.2.1"],
        "routes": [{"dest": "103.103.0.0/16", "nextHop": "103.103.2.1"},
                   {"dest": "10.96.0.0/16", "nextHop": "103.103.2.1"}],
        "ip_address": "103.103.2.4/24",
        "gateway_ip": "103.103.2.1",
        "role": "primary",
    },
}

DUAL_POD_NETWORKS = {
    "default": {"ip_addresses": ["10.244.1.7/24", "fd00:10:244:2::7/64"], "role": "infrastructure-locked"},
    "red/colored-enterprise": {
        "ip_addresses": ["192.168.0.4/16", "fd00:192:168::4/64"],
        "gateway_ips": ["192.168.0.1", "fd00:192:168::1"],
        "role": "primary",
    },
    "red/blue-green-secondary": {"ip_addresses": ["10.200.0.3/16"], "role": "secondary"},
}

NETWORK_STATUS = [
    {"name": "ovn-kubernetes", "interface": "eth0", "ips": ["10.244.1.5"], "mac": "0a:58:0a:f4:01:05",
     "default": True, "dns": {}},
    {"name": "ovn-kubernetes", "interface": "ovn-udn1", "ips": ["103.103.2.4"], "mac": "0a:58:67:67:02:04",
     "dns": {}},
    {"name": "blue/blue-green-secondary", "interface": "net1", "ips": ["10.200.0.3", "fd00:10:200::3"],
     "mac": "0a:58:0a:c8:00:03", "dns": {}},
]


def pod(annotations, namespace="blue", name="app-blue-0", status=None):
    return {"metadata": {"name": name, "namespace": namespace, "annotations": annotations}, "status": status or {}}


def test_primary_and_infra_locked_from_pod():
    p = pod({ovn.POD_NETWORKS_ANNOTATION: json.dumps(BLUE_POD_NETWORKS)})
    summary = ovn.pod_networks(p)
    assert summary["primary_network"] == "blue/blue-network"
    assert summary["primary"]["ipv4"] == ["103.103.2.4"]
    assert summary["primary"]["gateways"] == ["103.103.2.1"]
    assert summary["primary"]["nad"] == "blue-network" and summary["primary"]["namespace"] == "blue"
    assert summary["infrastructure_locked"]["ipv4"] == ["10.244.1.5"]
    assert summary["default"]["role"] == "infrastructure-locked"
    assert summary["secondary"] == []
    assert summary["primary"]["routes"][1] == {"dest": "10.96.0.0/16", "next_hop": "103.103.2.1"}


def test_accepts_annotation_string_dict_and_parsed():
    text = json.dumps(BLUE_POD_NETWORKS)
    a = ovn.pod_networks(text)
    b = ovn.pod_networks({ovn.POD_NETWORKS_ANNOTATION: text})
    c = ovn.pod_networks(BLUE_POD_NETWORKS)
    assert a == b == c


def test_dual_stack_split_and_secondary():
    p = pod({ovn.POD_NETWORKS_ANNOTATION: json.dumps(DUAL_POD_NETWORKS)}, namespace="red")
    assert ovn.pod_ips(p, "primary", "ipv6") == ["fd00:192:168::4"]
    assert ovn.pod_ips(p, "primary", "ipv4") == ["192.168.0.4"]
    assert ovn.pod_ips(p, "infrastructure-locked", "ipv6") == ["fd00:10:244:2::7"]
    assert ovn.pod_ips(p, "blue-green-secondary", "ipv4") == ["10.200.0.3"]
    assert ovn.pod_ips(p, "red/blue-green-secondary", "ipv6") == []
    summary = ovn.pod_networks(p)
    assert [s["key"] for s in summary["secondary"]] == ["red/blue-green-secondary"]


def test_deprecated_single_value_fields():
    summary = ovn.pod_networks({"default": {"ip_address": "10.244.0.9/24", "gateway_ip": "10.244.0.1",
                                            "mac_address": "0a:58:0a:f4:00:09"}})
    assert summary["primary"]["ipv4"] == ["10.244.0.9"]
    assert summary["primary"]["gateways"] == ["10.244.0.1"]
    assert summary["infrastructure_locked"] is None


def test_default_network_pod_falls_back_to_pod_ips():
    p = pod({}, namespace="default", status={"podIPs": [{"ip": "10.244.2.3"}, {"ip": "fd00:10:244:3::3"}]})
    assert ovn.pod_ips(p, "primary", "ipv4") == ["10.244.2.3"]
    assert ovn.pod_ips(p, "default", "ipv6") == ["fd00:10:244:3::3"]
    assert ovn.pod_ips(p, "infrastructure-locked", "ipv4") == []


def test_pod_ips_does_not_fall_back_when_annotated():
    # status.podIPs shows the DEFAULT network IP, never the UDN one: a pod with a primary UDN must not report it
    p = pod({ovn.POD_NETWORKS_ANNOTATION: json.dumps({"default": BLUE_POD_NETWORKS["default"]})},
            status={"podIPs": [{"ip": "10.244.1.5"}]})
    assert ovn.pod_ips(p, "primary", "ipv4") == []


def test_absent_annotation_is_empty():
    summary = ovn.pod_networks(pod({"other": "x"}))
    assert summary["networks"] == {} and summary["primary"] is None
    assert ovn.network_status(pod({"other": "x"})) == []


@pytest.mark.parametrize("raw,msg", [("{not json", "not valid JSON"), ("[1]", "must be a JSON object"),
                                     ('{"default": 3}', "must be an object")])
def test_malformed_pod_networks(raw, msg):
    with pytest.raises(ovn.AnnotationError, match=msg):
        ovn.pod_networks(raw)


def test_network_status_interfaces():
    entries = ovn.network_status(pod({ovn.NETWORK_STATUS_ANNOTATION: json.dumps(NETWORK_STATUS)}))
    assert [e["interface"] for e in entries] == ["eth0", "ovn-udn1", "net1"]
    assert entries[0]["default"] is True and entries[1]["default"] is False
    sec = ovn.find_network_status(entries, name="blue-green-secondary", namespace="blue")
    assert sec["interface"] == "net1" and sec["ipv6"] == ["fd00:10:200::3"] and sec["nad"] == "blue-green-secondary"
    assert ovn.find_network_status(entries, interface="ovn-udn1")["ipv4"] == ["103.103.2.4"]
    assert ovn.find_network_status(entries, name="blue/absent") is None


def test_network_status_malformed():
    with pytest.raises(ovn.AnnotationError, match="JSON list"):
        ovn.network_status('{"a": 1}')


def test_bad_family():
    with pytest.raises(ValueError, match="family"):
        ovn.pod_ips(pod({}), "primary", "ipv5")


def test_ip_family_helpers():
    assert ovn.ip_family("103.103.0.0/16") == "ipv4"
    assert ovn.ip_family("fd00::1") == "ipv6"
    assert ovn.ip_family("not-an-ip") is None
    assert ovn.split_families(["10.0.0.1/24", "10.0.0.1", "fd00::1/64"]) == {"ipv4": ["10.0.0.1"], "ipv6": ["fd00::1"]}
