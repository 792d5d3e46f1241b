# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""network_mtus filter and ovn's MTU readers: each network's MTU as the OVN-Kubernetes v1.3.0 CNI gives it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ovnk.udn_lab.plugins.filter.network_mtus import FilterModule
from ansible_collections.ovnk.udn_lab.plugins.module_utils import ovn


def nad(namespace, name, **config):
    body = {"cniVersion": "1.0.0", "type": "ovn-k8s-cni-overlay", "name": "{0}_{1}".format(namespace, name)}
    body.update(config)
    return {"metadata": {"namespace": namespace, "name": name}, "spec": {"config": json.dumps(body)}}


OVN_CONFIG = {"metadata": {"namespace": "ovn-kubernetes", "name": "ovn-config"},
              "data": {"net_cidr": "10.244.0.0/16/24", "mtu": "1400"}}


def test_a_nad_without_mtu_has_the_clusters_and_one_with_mtu_its_own():
    mtus = FilterModule().filters()["network_mtus"]
    nads = [nad("blue", "blue-network"), nad("green", "green-network", mtu=1300)]
    assert mtus(nads, ovn_config=OVN_CONFIG) == {
        "default": 1400, "blue/blue-network": 1400, "green/green-network": 1300}
    # the user's statement wins over the ConfigMap
    assert mtus(nads, cluster_mtu=9000, ovn_config=OVN_CONFIG)["blue/blue-network"] == 9000
    # neither: unknown, except where the network has its own
    assert mtus(nads) == {"default": None, "blue/blue-network": None, "green/green-network": 1300}
    with pytest.raises(AnsibleFilterError, match="expects a list"):
        mtus({"not": "a list"})


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
