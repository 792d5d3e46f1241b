# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""ovn.network_facts and its readers: what each network gives a pod, as OVN-Kubernetes v1.3.0 renders it (module
network_facts_info returns it)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import ovn


def network_facts(nads, cluster_mtu=None, ovn_config=None):
    return ovn.network_facts(nads, ovn.cluster_settings(ovn_config, mtu=cluster_mtu))


def nad(namespace, name, **config):
    body = {"cniVersion": "1.0.0", "type": "ovn-k8s-cni-overlay", "name": "{0}_{1}".format(namespace, name)}
    body.update(config)
    return {"metadata": {"namespace": namespace, "name": name}, "spec": {"config": json.dumps(body)}}


OVN_CONFIG = {"metadata": {"namespace": "ovn-kubernetes", "name": "ovn-config"},
              "data": {"net_cidr": "10.244.0.0/16/24,fd00:10:244::/48/64", "svc_cidr": "10.96.0.0/16,fd00:10:96::/112",
                       "mtu": "1400"}}
BLUE = nad("blue", "blue-network", topology="layer3", role="primary", subnets="103.103.0.0/16/24",
           joinSubnet="100.65.0.0/16,fd99::/64")


def test_facts_of_the_cluster_and_of_each_nad():
    facts = network_facts
    got = facts([BLUE, nad("green", "green-network", topology="layer3", role="primary", mtu=1300),
                 nad("blue", "blue-green-secondary", topology="layer2", role="secondary", subnets="10.200.0.0/16"),
                 {"metadata": {"namespace": "blue", "name": "macvlan"}, "spec": {"config": '{"type": "macvlan"}'}}],
                ovn_config=OVN_CONFIG)
    assert got["default"] == {"topology": "default", "role": "primary", "mtu": 1400,
                              "subnets": ["10.244.0.0/16", "fd00:10:244::/48"],
                              "service_cidrs": ["10.96.0.0/16", "fd00:10:96::/112"],
                              "join_subnets": ["100.64.0.0/16", "fd98::/64"]}
    assert got["blue/blue-network"] == {"topology": "layer3", "role": "primary", "mtu": 1400,
                                        "subnets": ["103.103.0.0/16"], "service_cidrs": got["default"]["service_cidrs"],
                                        "join_subnets": ["100.65.0.0/16", "fd99::/64"]}
    # its own MTU; a primary NAD without joinSubnet has the default UDN join subnets
    assert got["green/green-network"]["mtu"] == 1300
    assert got["green/green-network"]["join_subnets"] == ["100.65.0.0/16", "fd99::/64"]
    assert got["blue/blue-green-secondary"]["join_subnets"] == []
    assert "blue/macvlan" not in got  # not an OVN network
    # the user's MTU wins over the ConfigMap; without the ConfigMap the cluster's facts are unknown
    assert facts([BLUE], cluster_mtu=9000, ovn_config=OVN_CONFIG)["blue/blue-network"]["mtu"] == 9000
    bare = facts([BLUE])
    assert (bare["default"]["mtu"], bare["default"]["subnets"], bare["default"]["service_cidrs"]) == (None, None, None)
    assert ovn.network_mtus(bare) == {"default": None, "blue/blue-network": None}
    assert ovn.missing_cluster_settings(bare) == ["mtu", "subnets", "service_cidrs"]
    assert ovn.missing_cluster_settings(facts([BLUE], ovn_config=OVN_CONFIG)) == []
    assert ovn.missing_cluster_settings_message("ovn-kubernetes/ovn-config", ["mtu", "service_cidrs"], "x_mtu") == (
        "ConfigMap ovn-kubernetes/ovn-config does not say the cluster's MTU (set x_mtu), service CIDRs (OVN-Kubernetes "
        "installed another way than its chart?): the claims that need them are wrong and say so.")
    assert ovn.missing_cluster_settings_message("a/b", [], "x_mtu") == ""


@pytest.mark.parametrize("data, expected", [
    ({"mtu": "1400"}, 1400), ({"mtu": " 1300 "}, 1300), ({"mtu": ""}, None), ({"mtu": "0"}, None),
    ({"mtu": "jumbo"}, None), ({}, None),
])
def test_cluster_mtu_reads_the_configmaps_mtu_key(data, expected):
    assert ovn.cluster_mtu({"data": data}) == expected
    assert ovn.cluster_mtu(None) is None


def test_nad_mtu_tolerates_bad_configs():
    assert ovn.nad_mtu(nad("a", "b", mtu=1200)) == 1200
    assert ovn.nad_mtu(nad("a", "b")) is None
    assert ovn.nad_mtu({"spec": {"config": "{not json"}}) is None
    assert ovn.nad_mtu({}) is None


def entry(key, role, *cidrs):
    return ovn.normalize_pod_network(key, {"ip_addresses": list(cidrs), "role": role})


def test_expected_routes_follow_add_routes_gateway_ip():
    """v1.3.0 allocator/pod/pod_annotation.go AddRoutesGatewayIP, per kind of entry."""
    facts = network_facts(
        [BLUE, nad("red", "colored-enterprise", topology="layer2", role="primary", subnets="192.168.0.0/16"),
         nad("blue", "sec", topology="layer2", role="secondary", subnets="10.200.0.0/16"),
         nad("blue", "sec3", topology="layer3", role="secondary", subnets="10.201.0.0/16/24")], ovn_config=OVN_CONFIG)
    routes, gws, unknown = ovn.expected_routes(entry("blue/blue-network", "primary", "103.103.1.3/24"),
                                               facts["blue/blue-network"])
    assert routes == [("103.103.0.0/16", "103.103.1.1"), ("10.96.0.0/16", "103.103.1.1"),
                      ("100.65.0.0/16", "103.103.1.1")]
    assert (gws, unknown) == (["103.103.1.1"], [])
    routes, gws, unknown = ovn.expected_routes(entry("default", "infrastructure-locked", "10.244.1.3/24",
                                                     "fd00:10:244:2::3/64"), facts["default"])
    assert routes == [("10.244.0.0/16", "10.244.1.1"), ("100.64.0.0/16", "10.244.1.1"),
                      ("fd00:10:244::/48", "fd00:10:244:2::1"), ("fd98::/64", "fd00:10:244:2::1")]
    assert gws == []
    routes, gws, unknown = ovn.expected_routes(entry("default", "primary", "10.244.1.3/24"), facts["default"])
    assert routes == [("10.244.0.0/16", "10.244.1.1"), ("10.96.0.0/16", "10.244.1.1"),
                      ("169.254.169.5/32", "10.244.1.1"), ("100.64.0.0/16", "10.244.1.1")]
    assert gws == ["10.244.1.1"]
    routes, gws, unknown = ovn.expected_routes(entry("red/colored-enterprise", "primary", "192.168.0.3/16"),
                                               facts["red/colored-enterprise"])
    assert routes == [("10.96.0.0/16", "192.168.0.1"), ("100.65.0.0/16", "192.168.0.1")] and gws == ["192.168.0.1"]
    assert ovn.expected_routes(entry("blue/sec", "secondary", "10.200.0.3/16"), facts["blue/sec"])[:2] == ([], [])
    assert ovn.expected_routes(entry("blue/sec3", "secondary", "10.201.1.3/24"), facts["blue/sec3"])[:2] == (
        [("10.201.0.0/16", "10.201.1.1")], [])
    # without ovn-config the service CIDRs are unknown, and said so
    bare = network_facts([BLUE])
    assert ovn.expected_routes(entry("blue/blue-network", "primary", "103.103.1.3/24"),
                               bare["blue/blue-network"])[2] == ["service_cidrs"]
