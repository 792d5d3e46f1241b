"""Tests for the ovnk.udn_lab.network_status filter."""

from __future__ import absolute_import, division, print_function

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ovnk.udn_lab.plugins.filter.network_status import FilterModule, network_status

STATUS = [
    {"name": "ovn-kubernetes", "interface": "eth0", "ips": ["10.244.2.8"], "mac": "0a:58:0a:f4:02:08",
     "default": True, "dns": {}},
    {"name": "ovn-kubernetes", "interface": "ovn-udn1", "ips": ["103.103.1.6"], "mac": "0a:58:67:67:01:06",
     "dns": {}},
    {"name": "blue/blue-green-secondary", "interface": "net1", "ips": ["10.200.0.5"], "mac": "0a:58:0a:c8:00:05",
     "dns": {}},
]
POD = {"metadata": {"name": "app-multihomed-blue-0", "namespace": "blue",
                    "annotations": {"k8s.v1.cni.cncf.io/network-status": json.dumps(STATUS, indent=2)}}}


def test_registered():
    assert FilterModule().filters()["network_status"] is network_status


def test_list():
    out = network_status(POD)
    assert [(e["interface"], e["ipv4"]) for e in out] == [
        ("eth0", ["10.244.2.8"]), ("ovn-udn1", ["103.103.1.6"]), ("net1", ["10.200.0.5"])]


def test_select_by_bare_name_uses_pod_namespace():
    entry = network_status(POD, name="blue-green-secondary")
    assert entry["interface"] == "net1" and entry["namespace"] == "blue"


def test_select_by_interface_and_missing():
    assert network_status(POD, interface="ovn-udn1")["mac"] == "0a:58:67:67:01:06"
    assert network_status(POD, interface="net2") is None
    assert network_status(POD, name="blue-green-secondary", namespace="green") is None


def test_malformed():
    with pytest.raises(AnsibleFilterError, match="JSON list"):
        network_status('{"name": "x"}')
