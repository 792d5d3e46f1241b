# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""clusternet: how an existing cluster is wired (API endpoint, pod and service CIDRs), each from the first source
that has it, and what no source has named with the variable that states it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import clusternet as N

from fake_api import FakeApi

SLICE = {"metadata": {"name": "kubernetes", "namespace": "default",
                      "labels": {"kubernetes.io/service-name": "kubernetes"}},
         "addressType": "IPv4", "endpoints": [{"addresses": ["172.18.0.2"], "conditions": {"ready": True}}],
         "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}
SLICE6 = {"metadata": {"name": "kubernetes"}, "addressType": "IPv6",
          "endpoints": [{"addresses": ["fc00:f853:ccd:e793::2"]}], "ports": [{"name": "https", "port": 6443}]}
SERVICE_CIDR = {"metadata": {"name": "kubernetes"}, "spec": {"cidrs": ["10.96.0.0/16", "fd00:10:96::/112"]}}
KUBEADM = {"metadata": {"name": "kubeadm-config", "namespace": "kube-system"}, "data": {"ClusterConfiguration": (
    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking:\n  dnsDomain: cluster.local\n"
    "  podSubnet: 10.244.0.0/16,fd00:10:244::/56\n  serviceSubnet: 10.96.0.0/16,fd00:10:96::/112\n")}}
KCM = {"metadata": {"name": "kube-controller-manager-cp", "namespace": "kube-system"},
       "spec": {"containers": [{"name": "kube-controller-manager",
                                "command": ["kube-controller-manager", "--allocate-node-cidrs=true",
                                            "--cluster-cidr=10.32.0.0/16"]}]}}


def node(name, kvm=None):
    allocatable = {"cpu": "8"}
    if kvm is not None:
        allocatable["devices.kubevirt.io/kvm"] = kvm
    return {"metadata": {"name": name}, "status": {"allocatable": allocatable}}


def test_a_kind_cluster_says_everything_and_where():
    got = N.assess("ipv4", [SLICE], [SERVICE_CIDR], KUBEADM, [KCM], [node("cp", "1k"), node("w1", "1k")])
    assert got["api_server_url"] == "https://172.18.0.2:6443"
    assert (got["pod_subnets"], got["service_subnets"]) == (["10.244.0.0/16"], ["10.96.0.0/16"])
    assert got["use_emulation_recommended"] is False
    assert got["sources"] == {"api_server_url": "EndpointSlice default/kubernetes",
                              "pod_subnets": "ConfigMap kube-system/kubeadm-config (networking.podSubnet)",
                              "service_subnets": "ServiceCIDR kubernetes",
                              "use_emulation_recommended": "nodes' allocatable devices.kubevirt.io/kvm (cp: 1000, "
                                                           "w1: 1000)"}
    assert got["unknown"] == []


def test_kvm_is_read_from_the_nodes_kubevirt_advertises_it_on():
    """virt-handler advertises 1000 kvm devices on every node it runs on, unhealthy (allocatable 0) where /dev/kvm
    is missing; without KubeVirt no node has the resource and nothing is known."""
    assert N.kvm_from_nodes([node("w1", "1k"), node("w2", "1000")])[0] is False
    assert N.kvm_from_nodes([node("w1", "1k"), node("w2", "0"), node("cp")])[0] is True
    assert N.kvm_from_nodes([node("w1"), node("w2")]) == (None, None)
    assert N.kvm_from_nodes(None) == (None, None)


def test_families_pick_their_addresses_and_cidrs_ipv4_first():
    dual = N.assess("dual", [SLICE6, SLICE], [SERVICE_CIDR], KUBEADM, [])
    assert dual["pod_subnets"] == ["10.244.0.0/16", "fd00:10:244::/56"]
    assert dual["service_subnets"] == ["10.96.0.0/16", "fd00:10:96::/112"]
    assert dual["api_server_url"] == "https://172.18.0.2:6443"  # the first family's
    six = N.assess("ipv6", [SLICE, SLICE6], [], KUBEADM, [])
    assert six["api_server_url"] == "https://[fc00:f853:ccd:e793::2]:6443"
    assert six["service_subnets"] == ["fd00:10:96::/112"]
    assert six["sources"]["service_subnets"] == "ConfigMap kube-system/kubeadm-config (networking.serviceSubnet)"


def test_without_kubeadm_the_controller_managers_flag_and_what_is_unknown_is_named():
    got = N.assess("ipv4", [], [], None, [KCM])
    assert got["pod_subnets"] == ["10.32.0.0/16"]
    assert got["sources"]["pod_subnets"] == "pod kube-system/kube-controller-manager-cp (--cluster-cidr)"
    assert got["unknown"] == [{"what": "api_server_url", "variable": "kind_cluster_api_server_internal_url"},
                              {"what": "service_subnets", "variable": "kind_cluster_service_subnet"},
                              {"what": "use_emulation_recommended", "variable": "kubevirt_use_emulation"}]
    assert N.assess("ipv4", None, None, None, None)["unknown"][1] == {"what": "pod_subnets",
                                                                      "variable": "kind_cluster_pod_subnet"}


@pytest.mark.parametrize("slices", [
    [dict(SLICE, endpoints=[{"addresses": ["172.18.0.2"], "conditions": {"ready": False}}])],
    [dict(SLICE, ports=[{"name": "metrics", "port": 10250}])],
    [SLICE6],
])
def test_no_ready_https_endpoint_of_the_family_is_no_url(slices):
    assert N.api_server_url(slices, "ipv4") is None


def test_a_kubeadm_config_that_does_not_parse_counts_as_absent():
    assert N.kubeadm_networking({"data": {"ClusterConfiguration": "networking: [unclosed"}}) == {}
    assert N.kubeadm_networking({"data": {"ClusterConfiguration": "- a list"}}) == {}
    assert N.kubeadm_networking({}) == {}


def wired_cluster():
    """The one fake API over a cluster without the ServiceCIDR API (before Kubernetes 1.33)."""
    kcm = dict(KCM, metadata=dict(KCM["metadata"], labels={"component": "kube-controller-manager", "tier": "control-plane"}))
    return FakeApi(None, {"EndpointSlice": [SLICE], "Pod": [kcm], "Node": [node("w1", "0")], "ConfigMap": [KUBEADM]},
                   unserved={"ServiceCIDR": RuntimeError("the server could not find the requested resource")})


def test_read_only_lists_and_gets_and_an_unserved_api_is_empty():
    api = wired_cluster()
    got = N.read(api, "ipv4")
    assert got["service_subnets"] == ["10.96.0.0/16"] and got["unknown"] == []
    assert got["use_emulation_recommended"] is True
    assert sorted(set(c[0] for c in api.calls)) == ["get", "list"]
    lists = [(c[2], c[3], c[5]) for c in api.calls if c[0] == "list"]
    assert ("EndpointSlice", "default", "kubernetes.io/service-name=kubernetes") in lists
    assert ("Pod", "kube-system", "component=kube-controller-manager") in lists
    assert ("get", "v1", "ConfigMap", "kubeadm-config", "kube-system") in api.calls
