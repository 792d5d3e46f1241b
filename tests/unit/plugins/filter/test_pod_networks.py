"""Tests for the ovnk.udn_lab.pod_networks filter."""

from __future__ import absolute_import, division, print_function

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ovnk.udn_lab.plugins.filter.pod_networks import FilterModule, pod_networks

ANNOTATION = {
    "default": {"ip_addresses": ["10.244.1.5/24", "fd00:10:244:2::5/64"], "mac_address": "0a:58:0a:f4:01:05",
                "routes": [], "ip_address": "10.244.1.5/24", "role": "infrastructure-locked"},
    "green/green-network": {"ip_addresses": ["203.203.1.3/24", "fd00:203:203:1::3/64"],
                            "mac_address": "0a:58:cb:cb:01:03", "gateway_ips": ["203.203.1.1", "fd00:203:203:1::1"],
                            "routes": [{"dest": "203.203.0.0/16", "nextHop": "203.203.1.1"}],
                            "ip_address": "203.203.1.3/24", "gateway_ip": "203.203.1.1", "role": "primary"},
}
POD = {"metadata": {"name": "app-green-1", "namespace": "green",
                    "annotations": {"k8s.ovn.org/pod-networks": json.dumps(ANNOTATION)}},
       "status": {"podIPs": [{"ip": "10.244.1.5"}]}}


def test_registered():
    assert FilterModule().filters()["pod_networks"] is pod_networks


def test_summary():
    out = pod_networks(POD)
    assert out["primary_network"] == "green/green-network"
    assert out["primary"]["ipv4"] == ["203.203.1.3"] and out["primary"]["ipv6"] == ["fd00:203:203:1::3"]
    assert out["infrastructure_locked"]["ips"] == ["10.244.1.5", "fd00:10:244:2::5"]


@pytest.mark.parametrize("network,family,expected", [
    ("primary", "ipv4", ["203.203.1.3"]),
    ("primary", "ipv6", ["fd00:203:203:1::3"]),
    ("infrastructure-locked", "ipv4", ["10.244.1.5"]),
    ("green-network", "ipv4", ["203.203.1.3"]),
    ("green/absent", "ipv4", []),
])
def test_select(network, family, expected):
    assert pod_networks(POD, network=network, family=family) == expected


def test_errors_are_filter_errors():
    with pytest.raises(AnsibleFilterError, match="pod_networks: annotation k8s.ovn.org/pod-networks is not valid JSON"):
        pod_networks("{oops")
    with pytest.raises(AnsibleFilterError, match="family"):
        pod_networks(POD, network="primary", family="ipv9")
