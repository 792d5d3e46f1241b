"""Unit tests of the OVN-Kubernetes stand-in's decisions (pure functions over fixture objects)."""

import ipaddress
import json

import pytest
from conftest import load

from simulators import ovnk
from simulators.common import CONFIGMAPS, CUDNS, IPAMCLAIMS, NADS, NAMESPACES, NODES, PODS, UDNS, Cache, find_condition
from simulators.fake import FakeKube, drive

NOW = 1_800_000_000.0


def make_cache(extra=None):
    objs = load("cluster.yml") + load("networks.yml") + list(extra or [])
    by_kind = {}
    kinds = {"ConfigMap": CONFIGMAPS, "Node": NODES, "Namespace": NAMESPACES, "UserDefinedNetwork": UDNS, "ClusterUserDefinedNetwork": CUDNS,
             "Pod": PODS, "NetworkAttachmentDefinition": NADS, "IPAMClaim": IPAMCLAIMS}
    for obj in objs:
        by_kind.setdefault(kinds[obj["kind"]], []).append(obj)
    return Cache.from_objects(by_kind)


def sim(cache, **config):
    controller = ovnk.OvnkSimulator(FakeKube(cache, NOW), config, cache=cache, clock=lambda: NOW)
    return controller


def pod(name, namespace, node, ip=None, annotations=None, uid=None):
    """A scheduled pod (the kubelet reports pod IPs only after OVN-K annotated it; ``ip`` is ignored by OVN-K)."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "uid": uid or "pod-%s-%s" % (namespace, name),
                     "annotations": dict(annotations or {})},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "agnhost"}]},
        "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]} if ip else {"phase": "Pending"},
    }


def pod_nets(cache, namespace, name):
    return json.loads(cache.get(PODS, namespace, name)["metadata"]["annotations"][ovnk.POD_NETWORKS])


# --------------------------------------------------------------------------- networks


def test_udn_gets_nad_and_ready_conditions():
    cache = make_cache()
    drive(sim(cache))
    udn = cache.get(UDNS, "blue", "blue-network")
    created = find_condition(udn["status"]["conditions"], "NetworkCreated")
    assert created["status"] == "True"
    assert created["reason"] == "NetworkAttachmentDefinitionCreated"
    assert find_condition(udn["status"]["conditions"], "NetworkAllocationSucceeded")["status"] == "True"
    nad = cache.get(NADS, "blue", "blue-network")
    cfg = json.loads(nad["spec"]["config"])
    assert cfg["name"] == "blue_blue-network"
    assert cfg["topology"] == "layer3" and cfg["role"] == "primary"
    assert cfg["subnets"] == "103.103.0.0/16/24"
    assert cfg["netAttachDefName"] == "blue/blue-network"
    assert "mtu" not in cfg  # v1.3.0 renderCNINetworkConfig: only a network that sets an MTU gets one
    assert nad["metadata"]["ownerReferences"][0]["uid"] == "udn-blue"


def test_network_mtu_is_the_nads_else_the_clusters_from_ovn_config():
    cache = make_cache()
    assert ovnk.cluster_mtu(cache) == 1400  # the fixture's ovn-config
    cache.get(CONFIGMAPS, *ovnk.OVN_CONFIG)["data"]["mtu"] = "1300"
    assert ovnk.cluster_mtu(cache) == 1300
    cache.get(CONFIGMAPS, *ovnk.OVN_CONFIG)["data"].pop("mtu")
    assert ovnk.cluster_mtu(cache) == ovnk.DEFAULT_MTU == 1400
    assert ovnk.network_mtu({"mtu": 1200}, 1300) == 1200
    assert ovnk.network_mtu({}, 1300) == ovnk.network_mtu(None, 1300) == 1300
    udn = cache.get(UDNS, "blue", "blue-network")
    udn["spec"]["layer3"]["mtu"] = 1250
    drive(sim(cache))
    assert json.loads(cache.get(NADS, "blue", "blue-network")["spec"]["config"])["mtu"] == 1250


def test_cudn_nads_follow_namespace_selector():
    cache = make_cache()
    controller = sim(cache)
    drive(controller)
    assert cache.get(NADS, "red", "colored-enterprise") is not None
    assert cache.get(NADS, "yellow", "colored-enterprise") is not None
    assert cache.get(NADS, "blue", "colored-enterprise") is None
    cudn = cache.get(CUDNS, "", "colored-enterprise")
    created = find_condition(cudn["status"]["conditions"], "NetworkCreated")
    assert created["message"].endswith("[red, yellow]")
    cfg = json.loads(cache.get(NADS, "red", "colored-enterprise")["spec"]["config"])
    assert cfg["name"] == "cluster_udn_colored-enterprise" and cfg["allowPersistentIPs"] is True

    # Narrow the selector: the NAD in yellow goes away.
    cudn = dict(cudn, spec=dict(cudn["spec"], namespaceSelector={"matchLabels": {"kubernetes.io/metadata.name": "red"}}))
    cache.put(CUDNS, cudn)
    drive(controller)
    assert cache.get(NADS, "yellow", "colored-enterprise") is None
    assert cache.get(NADS, "red", "colored-enterprise") is not None


def test_cudn_picks_up_a_namespace_created_later():
    cache = make_cache()
    controller = sim(cache)
    drive(controller)
    cache.put(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": "red", "uid": "ns-red", "labels": {"kubernetes.io/metadata.name": "red",
                                                   ovnk.PRIMARY_LABEL: ""}}})
    cudn = cache.get(CUDNS, "", "colored-enterprise")
    cudn["spec"]["namespaceSelector"] = {"matchLabels": {"tenant": "x"}}
    drive(controller)
    assert cache.get(NADS, "red", "colored-enterprise") is None
    cache.put(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": "late", "uid": "ns-late", "labels": {"tenant": "x", ovnk.PRIMARY_LABEL: ""}}})
    drive(controller)
    assert cache.get(NADS, "late", "colored-enterprise") is not None


def test_primary_udn_in_unlabelled_namespace_fails():
    udn = {"apiVersion": "k8s.ovn.org/v1", "kind": "UserDefinedNetwork",
           "metadata": {"name": "p", "namespace": "unlabelled", "uid": "udn-p"},
           "spec": {"topology": "Layer2", "layer2": {"role": "Primary", "subnets": ["10.9.0.0/16"]}}}
    cache = make_cache([udn])
    drive(sim(cache))
    cond = find_condition(cache.get(UDNS, "unlabelled", "p")["status"]["conditions"], "NetworkCreated")
    # v1.3.0: a UDN's sync errors are SyncError; the message is util.NewInvalidPrimaryNetworkError's
    assert (cond["status"], cond["reason"]) == ("False", "SyncError")
    assert cond["message"] == (
        'invalid primary network state for namespace "unlabelled": a valid primary user defined network or network '
        'attachment definition custom resource, and required namespace label '
        '"k8s.ovn.org/primary-user-defined-network" must both be present')
    assert cache.get(NADS, "unlabelled", "p") is None


def test_primary_cudn_over_unlabelled_namespaces_fails_with_one_line_each():
    selector = {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In",
                                      "values": ["unlabelled", "blue"]}]}
    network = {"topology": "Layer2", "layer2": {"role": "Primary", "subnets": ["10.9.0.0/16"]}}
    cudn = {"apiVersion": "k8s.ovn.org/v1", "kind": "ClusterUserDefinedNetwork",
            "metadata": {"name": "wide", "uid": "cudn-wide"},
            "spec": {"namespaceSelector": selector, "network": network}}
    cache = make_cache([cudn])
    drive(sim(cache))
    cond = find_condition(cache.get(CUDNS, "", "wide")["status"]["conditions"], "NetworkCreated")
    # v1.3.0: a CUDN's sync errors are NetworkAttachmentDefinitionSyncError
    assert (cond["status"], cond["reason"]) == ("False", "NetworkAttachmentDefinitionSyncError")
    lines = cond["message"].split("\n")
    assert [line.split('"')[1] for line in lines] == ["unlabelled"]
    assert all(line.startswith("invalid primary network state for namespace") for line in lines)


def test_secondary_udn_needs_no_label():
    cache = make_cache()
    drive(sim(cache))
    cond = find_condition(cache.get(UDNS, "unlabelled", "secondary-net")["status"]["conditions"], "NetworkCreated")
    assert cond["status"] == "True"
    cfg = json.loads(cache.get(NADS, "unlabelled", "secondary-net")["spec"]["config"])
    assert "joinSubnet" not in cfg and cfg["role"] == "secondary"


def test_injected_network_failure():
    cache = make_cache()
    drive(sim(cache, network_fail=["blue/blue-network", "colored-enterprise"]))
    cond = find_condition(cache.get(UDNS, "blue", "blue-network")["status"]["conditions"], "NetworkCreated")
    assert (cond["status"], cond["reason"]) == ("False", "SyncError")
    cond = find_condition(cache.get(CUDNS, "", "colored-enterprise")["status"]["conditions"], "NetworkCreated")
    assert (cond["status"], cond["reason"]) == ("False", "NetworkAttachmentDefinitionSyncError")
    assert cache.get(NADS, "blue", "blue-network") is None


def test_conditions_keep_transition_time_when_unchanged():
    obj = {"kind": "UserDefinedNetwork", "metadata": {"name": "x", "namespace": "blue"}, "status": {"conditions": [
        {"type": "NetworkCreated", "status": "True", "reason": "NetworkAttachmentDefinitionCreated",
         "message": "m", "lastTransitionTime": "2020-01-01T00:00:00Z"}]}}
    conds = ovnk.network_conditions(obj, {"kind": "UserDefinedNetwork"}, ["blue"], None, NOW)
    assert find_condition(conds, "NetworkCreated")["lastTransitionTime"] == "2020-01-01T00:00:00Z"
    failed = ovnk.network_conditions(obj, {"kind": "UserDefinedNetwork"}, ["blue"],
                                     ovnk.NetworkError("SyncError", "boom"), NOW)
    assert find_condition(failed, "NetworkCreated")["lastTransitionTime"] != "2020-01-01T00:00:00Z"


def test_second_primary_network_in_a_namespace_is_refused():
    extra = {"apiVersion": "k8s.ovn.org/v1", "kind": "UserDefinedNetwork",
             "metadata": {"name": "blue-two", "namespace": "blue", "uid": "udn-b2",
                          "creationTimestamp": "2026-11-27T07:00:00Z"},
             "spec": {"topology": "Layer2", "layer2": {"role": "Primary", "subnets": ["10.50.0.0/16"]}}}
    cache = make_cache()
    controller = sim(cache)
    drive(controller)
    cache.put(UDNS, extra)
    drive(controller)
    cond = find_condition(cache.get(UDNS, "blue", "blue-two")["status"]["conditions"], "NetworkCreated")
    assert cond["status"] == "False"
    assert cache.get(NADS, "blue", "blue-two") is None


# --------------------------------------------------------------------------- pods


def test_pod_on_layer3_primary_udn():
    cache = make_cache([pod("app-blue-0", "blue", "ovn-k-helm-worker", "10.244.1.5"),
                        pod("app-blue-1", "blue", "ovn-k-helm-worker2", "10.244.2.5")])
    drive(sim(cache))
    nets0 = pod_nets(cache, "blue", "app-blue-0")
    nets1 = pod_nets(cache, "blue", "app-blue-1")
    assert nets0["default"]["role"] == "infrastructure-locked"
    # the default network: the node's host subnet (cluster manager, nodes in order), .3 its first pod address
    assert nets0["default"]["ip_addresses"] == ["10.244.1.3/24"]
    assert nets1["default"]["ip_addresses"] == ["10.244.2.3/24"]
    entry0, entry1 = nets0["blue/blue-network"], nets1["blue/blue-network"]
    assert entry0["role"] == "primary"
    # Different nodes get different /24 slices of 103.103.0.0/16; .1 gateway, .2 management port.
    net0 = ipaddress.ip_interface(entry0["ip_addresses"][0]).network
    net1 = ipaddress.ip_interface(entry1["ip_addresses"][0]).network
    assert net0 != net1 and net0.prefixlen == 24 and net0.subnet_of(ipaddress.ip_network("103.103.0.0/16"))
    assert entry0["ip_addresses"][0].endswith(".3/24")
    assert entry0["gateway_ips"] == [str(net0.network_address + 1)]
    ip = entry0["ip_addresses"][0].split("/")[0]
    assert entry0["mac_address"] == "0a:58:" + ":".join("%02x" % int(o) for o in ip.split("."))
    node = cache.get(NODES, None, "ovn-k-helm-worker")
    assert json.loads(node["metadata"]["annotations"][ovnk.NODE_SUBNETS])["blue_blue-network"] == [str(net0)]
    status = json.loads(cache.get(PODS, "blue", "app-blue-0")["metadata"]["annotations"][ovnk.NETWORK_STATUS])
    assert [(s["interface"], s.get("default", False)) for s in status] == [("eth0", False), ("ovn-udn1", True)]
    assert status[1]["ips"] == [ip]


def test_routes_and_gateways_as_add_routes_gateway_ip_writes_them():
    """v1.3.0 allocator/pod/pod_annotation.go AddRoutesGatewayIP, per entry kind: a Layer3 primary UDN routes its
    subnet, the service CIDRs and its join subnet via the node subnet's gateway; the infrastructure-locked default
    network the cluster subnet and the default join, with no gateway; a default-network pod also the service CIDRs
    and the hairpin masquerade IP, with a gateway; a Layer2 primary UDN the service CIDRs and its join subnet."""
    cache = make_cache([pod("b", "blue", "ovn-k-helm-worker", "10.244.1.5"),
                        pod("d", "default", "ovn-k-helm-worker", "10.244.1.9"),
                        pod("r", "red", "ovn-k-helm-worker", "10.244.1.7")])
    drive(sim(cache))
    blue = pod_nets(cache, "blue", "b")
    gw = blue["blue/blue-network"]["gateway_ips"][0]
    assert blue["blue/blue-network"]["routes"] == [
        {"dest": "103.103.0.0/16", "nextHop": gw}, {"dest": "10.96.0.0/16", "nextHop": gw},
        {"dest": "100.65.0.0/16", "nextHop": gw}]
    assert blue["default"]["routes"] == [
        {"dest": "10.244.0.0/16", "nextHop": "10.244.1.1"}, {"dest": "100.64.0.0/16", "nextHop": "10.244.1.1"}]
    assert "gateway_ips" not in blue["default"] and "gateway_ip" not in blue["default"]
    default = pod_nets(cache, "default", "d")["default"]
    assert default["gateway_ips"] == ["10.244.1.1"]
    assert default["routes"] == [
        {"dest": "10.244.0.0/16", "nextHop": "10.244.1.1"}, {"dest": "10.96.0.0/16", "nextHop": "10.244.1.1"},
        {"dest": "169.254.169.5/32", "nextHop": "10.244.1.1"}, {"dest": "100.64.0.0/16", "nextHop": "10.244.1.1"}]
    red = pod_nets(cache, "red", "r")["red/colored-enterprise"]
    assert red["gateway_ips"] == ["192.168.0.1"]
    assert red["routes"] == [{"dest": "10.96.0.0/16", "nextHop": "192.168.0.1"},
                             {"dest": "100.65.0.0/16", "nextHop": "192.168.0.1"}]


def test_a_secondary_network_gets_no_gateway():
    """AddRoutesGatewayIP gives a secondary network only the gateways its selection requests (none here)."""
    p = pod("s", "unlabelled", "ovn-k-helm-worker", "10.244.1.8", {ovnk.NETWORKS: "secondary-net"})
    cache = make_cache([p])
    drive(sim(cache))
    entry = pod_nets(cache, "unlabelled", "s")["unlabelled/secondary-net"]
    assert "gateway_ips" not in entry and "gateway_ip" not in entry


def test_two_pods_on_one_node_get_distinct_ips():
    cache = make_cache([pod("a", "blue", "ovn-k-helm-worker", "10.244.1.5"),
                        pod("b", "blue", "ovn-k-helm-worker", "10.244.1.6")])
    drive(sim(cache))
    a = pod_nets(cache, "blue", "a")["blue/blue-network"]["ip_addresses"]
    b = pod_nets(cache, "blue", "b")["blue/blue-network"]["ip_addresses"]
    assert a != b
    assert ipaddress.ip_interface(a[0]).network == ipaddress.ip_interface(b[0]).network


def test_overlapping_networks_allocate_independently():
    cache = make_cache([pod("a", "blue", "ovn-k-helm-worker", "10.244.1.5"),
                        pod("o", "overlapping-with-blue", "ovn-k-helm-worker", "10.244.1.6")])
    drive(sim(cache))
    a = pod_nets(cache, "blue", "a")["blue/blue-network"]["ip_addresses"]
    o = pod_nets(cache, "overlapping-with-blue", "o")["overlapping-with-blue/overlapping-with-blue-network"]["ip_addresses"]
    assert a == o  # same subnet, separate networks: the same address is fine


def test_layer2_cudn_pods_share_one_range_across_namespaces():
    cache = make_cache([pod("r", "red", "ovn-k-helm-worker", "10.244.1.5"),
                        pod("y", "yellow", "ovn-k-helm-worker2", "10.244.2.5")])
    drive(sim(cache))
    r = pod_nets(cache, "red", "r")["red/colored-enterprise"]
    y = pod_nets(cache, "yellow", "y")["yellow/colored-enterprise"]
    assert {r["ip_addresses"][0], y["ip_addresses"][0]} == {"192.168.0.3/16", "192.168.0.4/16"}
    assert r["gateway_ips"] == ["192.168.0.1"]


def test_pod_in_default_namespace_is_primary_on_default_network():
    cache = make_cache([pod("app-default-0", "default", "ovn-k-helm-worker", "10.244.1.9")])
    drive(sim(cache))
    nets = pod_nets(cache, "default", "app-default-0")
    assert list(nets) == ["default"] and nets["default"]["role"] == "primary"
    status = json.loads(cache.get(PODS, "default", "app-default-0")["metadata"]["annotations"][ovnk.NETWORK_STATUS])
    assert status == [{"name": "ovn-kubernetes", "interface": "eth0", "ips": ["10.244.1.3"],
                       "mac": ovnk.mac_for_ip("10.244.1.3"), "dns": {}, "default": True}]


def test_pod_waits_for_primary_udn_in_labelled_namespace():
    ns = {"apiVersion": "v1", "kind": "Namespace",
          "metadata": {"name": "empty", "labels": {ovnk.PRIMARY_LABEL: ""}}}
    p = pod("p", "empty", "ovn-k-helm-worker", "10.244.1.7")
    cache = make_cache([ns, p])
    result = ovnk.reconcile_pod(p, cache, dict(ovnk.DEFAULTS), NOW)
    assert result.actions == [] and result.requeue is not None


def test_pod_waits_until_ovnk_is_installed():
    """No chart (no ovn-config ConfigMap): no node subnet, no pod address, the pod is retried (its CNI is not
    there yet), and nodes are left unannotated."""
    p = pod("p", "default", "ovn-k-helm-worker", None)
    cache = make_cache([p])
    cache.remove(CONFIGMAPS, cache.get(CONFIGMAPS, "ovn-kubernetes", "ovn-config"))
    result = ovnk.reconcile_pod(p, cache, dict(ovnk.DEFAULTS), NOW)
    assert result.actions == [] and result.requeue is not None
    drive(sim(cache))
    assert ovnk.POD_NETWORKS not in cache.get(PODS, "default", "p")["metadata"]["annotations"]
    assert ovnk.NODE_SUBNETS not in (cache.get(NODES, None, "ovn-k-helm-worker")["metadata"].get("annotations") or {})


def test_secondary_network_attachment_gets_net1():
    p = pod("s", "unlabelled", "ovn-k-helm-worker", "10.244.1.8", {ovnk.NETWORKS: "secondary-net"})
    cache = make_cache([p])
    drive(sim(cache))
    nets = pod_nets(cache, "unlabelled", "s")
    assert nets["unlabelled/secondary-net"]["role"] == "secondary"
    assert nets["unlabelled/secondary-net"]["ip_addresses"] == ["10.100.0.3/24", "fd10:100::3/64"]
    status = json.loads(cache.get(PODS, "unlabelled", "s")["metadata"]["annotations"][ovnk.NETWORK_STATUS])
    assert status[1]["interface"] == "net1" and status[1]["name"] == "unlabelled/secondary-net"


@pytest.mark.parametrize("value,expected", [
    ("a", [("ns", "a", None)]),
    ("a, other/b@eth9", [("ns", "a", None), ("other", "b", "eth9")]),
    ('[{"name": "c", "namespace": "x", "interface": "n2"}]', [("x", "c", "n2")]),
    ("", []),
])
def test_parse_networks_annotation(value, expected):
    got = ovnk.parse_networks_annotation(value, "ns")
    assert [(g["namespace"], g["name"], g["interface"]) for g in got] == expected


def test_persistent_ips_survive_a_new_launcher_pod():
    claim = {"apiVersion": "k8s.cni.cncf.io/v1alpha1", "kind": "IPAMClaim",
             "metadata": {"name": "vm1.happy", "namespace": "red", "uid": "claim-1"},
             "spec": {"network": "cluster_udn_colored-enterprise", "interface": "ovn-udn1"}}
    first = pod("virt-launcher-vm1-aaaaa", "red", "ovn-k-helm-worker", "10.244.1.5",
                {ovnk.IPAMCLAIM_ANNOTATION: "vm1.happy"})
    other = pod("plain", "red", "ovn-k-helm-worker", "10.244.1.6")
    cache = make_cache([claim, first, other])
    controller = sim(cache)
    drive(controller)
    ip = pod_nets(cache, "red", "virt-launcher-vm1-aaaaa")["red/colored-enterprise"]["ip_addresses"]
    claim = cache.get(IPAMCLAIMS, "red", "vm1.happy")
    assert claim["status"]["ips"] == ip
    assert find_condition(claim["status"]["conditions"], "IPsAllocated")["status"] == "True"
    # The source pod finishes; a new pod for the same VM lands on another node, the plain pod keeps its IP.
    cache.get(PODS, "red", "virt-launcher-vm1-aaaaa")["status"]["phase"] = "Succeeded"
    cache.put(PODS, pod("virt-launcher-vm1-bbbbb", "red", "ovn-k-helm-worker2", "10.244.2.5",
                        {ovnk.IPAMCLAIM_ANNOTATION: "vm1.happy"}))
    cache.put(PODS, pod("newcomer", "red", "ovn-k-helm-worker2", "10.244.2.6"))
    drive(controller)
    assert pod_nets(cache, "red", "virt-launcher-vm1-bbbbb")["red/colored-enterprise"]["ip_addresses"] == ip
    assert pod_nets(cache, "red", "newcomer")["red/colored-enterprise"]["ip_addresses"] != ip


def test_launcher_pod_waits_for_its_claim():
    p = pod("virt-launcher-vm1-aaaaa", "red", "ovn-k-helm-worker", "10.244.1.5",
            {ovnk.IPAMCLAIM_ANNOTATION: "vm1.happy"})
    cache = make_cache([p])
    drive(sim(cache))
    assert ovnk.POD_NETWORKS not in cache.get(PODS, "red", p["metadata"]["name"])["metadata"]["annotations"]


def test_finished_pods_release_their_ips():
    cache = make_cache([pod("a", "red", "ovn-k-helm-worker", "10.244.1.5")])
    controller = sim(cache)
    drive(controller)
    first = pod_nets(cache, "red", "a")["red/colored-enterprise"]["ip_addresses"]
    cache.get(PODS, "red", "a")["status"]["phase"] = "Failed"
    cache.put(PODS, pod("b", "red", "ovn-k-helm-worker", "10.244.1.6"))
    drive(controller)
    assert pod_nets(cache, "red", "b")["red/colored-enterprise"]["ip_addresses"] == first


def test_host_network_and_annotated_pods_are_left_alone():
    p = pod("h", "blue", "ovn-k-helm-worker", "172.18.0.3")
    p["spec"]["hostNetwork"] = True
    assert ovnk.reconcile_pod(p, make_cache([p]), dict(ovnk.DEFAULTS), NOW).actions == []
    q = pod("q", "blue", "ovn-k-helm-worker", "10.244.1.3", {ovnk.POD_NETWORKS: "{}"})
    assert ovnk.reconcile_pod(q, make_cache([q]), dict(ovnk.DEFAULTS), NOW).actions == []


def test_layer3_host_subnets_exhaust():
    net = {"ovn_name": "n", "subnets": [("10.0.0.0/23", 24)]}
    nodes = [{"metadata": {"name": "a", "annotations": {ovnk.NODE_SUBNETS: json.dumps({"n": ["10.0.0.0/24"]})}}},
             {"metadata": {"name": "b", "annotations": {ovnk.NODE_SUBNETS: json.dumps({"n": ["10.0.1.0/24"]})}}},
             {"metadata": {"name": "c"}}]
    assert ovnk.allocate_node_subnets("n", net["subnets"], "a", nodes) == ["10.0.0.0/24"]
    with pytest.raises(ovnk.NetworkError):
        ovnk.allocate_node_subnets("n", net["subnets"], "c", nodes)


def test_next_free_skips_gateway_and_management_port_ipv6():
    assert ovnk.next_free("fd00:10::/64", set()) == "fd00:10::3/64"
    with pytest.raises(ovnk.NetworkError):
        ovnk.next_free("10.0.0.0/30", set())


def chart_config(**flags):
    """The stand-in chart's ovnkube-control-plane Deployment, env as the v1.3.0 chart renders it."""
    env = {"OVN_MULTI_NETWORK_ENABLE": "true", "OVN_NETWORK_SEGMENTATION_ENABLE": "true",
           "OVN_ENABLE_PERSISTENT_IPS": "true"}
    env.update(flags)
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "ovnkube-control-plane", "namespace": "ovn-kubernetes"},
            "spec": {"template": {"spec": {"containers": [{"name": "ovnkube-cluster-manager", "env": [
                {"name": k, "value": v} for k, v in sorted(env.items())]}]}}}}


def test_udns_are_ignored_when_the_chart_disables_segmentation():
    cache = make_cache()
    cache.put(ovnk.DEPLOYMENTS, chart_config(OVN_NETWORK_SEGMENTATION_ENABLE=""))
    drive(sim(cache))
    assert "status" not in cache.get(UDNS, "blue", "blue-network")
    assert cache.get(NADS, "blue", "blue-network") is None
    cache.put(ovnk.DEPLOYMENTS, chart_config())
    drive(sim(cache))
    assert cache.get(NADS, "blue", "blue-network") is not None


def test_without_persistent_ips_the_claim_is_not_used():
    claim = {"apiVersion": "k8s.cni.cncf.io/v1alpha1", "kind": "IPAMClaim",
             "metadata": {"name": "vm1.happy", "namespace": "red", "uid": "claim-1"},
             "spec": {"network": "cluster_udn_colored-enterprise", "interface": "ovn-udn1"}}
    cache = make_cache([claim, pod("virt-launcher-vm1-aaaaa", "red", "ovn-k-helm-worker", "10.244.1.5",
                                   {ovnk.IPAMCLAIM_ANNOTATION: "vm1.happy"})])
    cache.put(ovnk.DEPLOYMENTS, chart_config(OVN_ENABLE_PERSISTENT_IPS="false"))
    drive(sim(cache))
    assert "status" not in cache.get(IPAMCLAIMS, "red", "vm1.happy")
    assert pod_nets(cache, "red", "virt-launcher-vm1-aaaaa")["red/colored-enterprise"]["role"] == "primary"


@pytest.mark.parametrize("text, expected", [
    ("10.244.0.0/16/24", [("10.244.0.0/16", 24)]),
    ("10.244.0.0/16", [("10.244.0.0/16", 24)]),
    ("fd00:10:244::/48", [("fd00:10:244::/48", 64)]),
    ("10.244.0.0/16/24,fd00:10:244::/48/64", [("10.244.0.0/16", 24), ("fd00:10:244::/48", 64)]),
])
def test_parse_cluster_subnets(text, expected):
    assert ovnk.parse_cluster_subnets(text) == expected


def test_default_network_addresses_come_from_the_node_subnets_dual_stack():
    """Dual stack: every node gets a /24 and a /64 of net_cidr (lowest free first, in node order); a pod gets the
    lowest free address of each, never the .1 gateway or the .2 management port (kwok's own pool would hand out
    .1 first); addresses of finished pods are free again."""
    pods = [pod("a", "default", "ovn-k-helm-worker", None), pod("b", "default", "ovn-k-helm-worker", None),
            pod("c", "default", "ovn-k-helm-worker2", None)]
    cache = make_cache(pods)
    cm = cache.get(CONFIGMAPS, "ovn-kubernetes", "ovn-config")
    cache.put(CONFIGMAPS, dict(cm, data=dict(cm["data"], net_cidr="10.244.0.0/16/24,fd00:10:244::/48/64")))
    drive(sim(cache))
    subnets = dict((n["metadata"]["name"], json.loads(n["metadata"]["annotations"][ovnk.NODE_SUBNETS])["default"])
                   for n in cache.list(NODES))
    # (IPv6: the allocator skips subnet number 0, so the nodes' /64s are :1, :2, :3)
    assert subnets == {"ovn-k-helm-control-plane": ["10.244.0.0/24", "fd00:10:244:1::/64"],
                       "ovn-k-helm-worker": ["10.244.1.0/24", "fd00:10:244:2::/64"],
                       "ovn-k-helm-worker2": ["10.244.2.0/24", "fd00:10:244:3::/64"]}
    a, b, c = (pod_nets(cache, "default", n)["default"] for n in "abc")
    assert a["ip_addresses"] == ["10.244.1.3/24", "fd00:10:244:2::3/64"]
    assert a["gateway_ips"] == ["10.244.1.1", "fd00:10:244:2::1"]
    assert b["ip_addresses"] == ["10.244.1.4/24", "fd00:10:244:2::4/64"]
    assert c["ip_addresses"] == ["10.244.2.3/24", "fd00:10:244:3::3/64"]
    assert "ip_address" not in a  # two addresses: no deprecated single-address fields
    # a finished pod's address is free for the next one
    done = cache.get(PODS, "default", "a")
    cache.put(PODS, dict(done, status={"phase": "Succeeded"}))
    cache.put(PODS, pod("d", "default", "ovn-k-helm-worker", None))
    drive(sim(cache))
    assert pod_nets(cache, "default", "d")["default"]["ip_addresses"] == ["10.244.1.3/24", "fd00:10:244:2::3/64"]


@pytest.mark.parametrize("cidr, prefix, first", [
    ("10.244.0.0/16", 24, ["10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"]),
    # v1.3.0 subnet_allocator_test.go: "IPv6 allocation skips the 0 subnet"
    ("fd00:10:244::/48", 64, ["fd00:10:244:1::/64", "fd00:10:244:2::/64", "fd00:10:244:3::/64"]),
    # fewer than 16 subnet bits: no skipping
    ("fd00:10:244::/56", 64, ["fd00:10:244::/64", "fd00:10:244:1::/64", "fd00:10:244:2::/64"]),
    # IPv4 subnet bits spilling into the host octet: the subnets with 0s there first (10.1.0.0/26, 10.1.1.0/26...)
    ("10.1.0.0/16", 26, ["10.1.0.0/26", "10.1.1.0/26", "10.1.2.0/26"]),
])
def test_host_subnets_in_the_allocators_order(cidr, prefix, first):
    import itertools

    assert [str(n) for n in itertools.islice(ovnk.host_subnets(cidr, prefix), 3)] == first


def test_network_deletion_waits_for_its_pods():
    cache = make_cache([pod("a", "blue", "ovn-k-helm-worker", "10.244.1.5")])
    drive(sim(cache))
    udn = cache.get(UDNS, "blue", "blue-network")
    assert ovnk.FINALIZER in udn["metadata"]["finalizers"]
    udn["metadata"]["deletionTimestamp"] = "2027-01-15T08:00:00Z"
    blocked = ovnk.reconcile_network(udn, cache, dict(ovnk.DEFAULTS), NOW)
    assert blocked.actions == [] and blocked.requeue
    cache.get(PODS, "blue", "a")["status"]["phase"] = "Succeeded"
    released = ovnk.reconcile_network(udn, cache, dict(ovnk.DEFAULTS), NOW)
    assert [a.verb for a in released.actions] == ["patch"]
    assert released.actions[0].body["metadata"]["finalizers"] is None


# --------------------------------------------------------------------------- EndpointSlice mirrors (v1.3.0 ESM)


def default_slice(namespace, service, endpoints, family="IPv4", name=None, rv="100"):
    """The slice kube-controller-manager's endpointslice controller writes (status.podIPs of the pods)."""
    return {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": family,
        "metadata": {"name": name or service + "-abcde", "generateName": service + "-", "namespace": namespace,
                     "resourceVersion": rv, "uid": "slice-%s-%s" % (namespace, service),
                     "labels": {ovnk.MANAGED_BY: ovnk.DEFAULT_SLICE_CONTROLLER, ovnk.SERVICE_NAME_LABEL: service,
                                "app.kubernetes.io/managed-by": "ovnk.udn_lab"},
                     "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": service, "uid": "svc-1"}]},
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": [{"addresses": [ip], "conditions": {"ready": True}, "nodeName": node,
                       "targetRef": {"kind": "Pod", "name": pod_name, "namespace": namespace}}
                      for pod_name, ip, node in endpoints],
    }


def slices(cache, namespace):
    return list(cache.list(ovnk.ENDPOINTSLICES, namespace))


def mirrors(cache, namespace):
    return [s for s in slices(cache, namespace) if s["metadata"]["labels"].get(ovnk.MANAGED_BY) == ovnk.MIRROR_CONTROLLER]


def blue_with_service(extra=None):
    cache = make_cache([pod("app-blue-0", "blue", "ovn-k-helm-worker", "10.244.1.3"),
                        pod("app-blue-1", "blue", "ovn-k-helm-worker2", "10.244.2.3")] + list(extra or []))
    controller = sim(cache)
    drive(controller)
    cache.put(ovnk.ENDPOINTSLICES, default_slice("blue", "service-blue", [
        ("app-blue-0", "10.244.1.3", "ovn-k-helm-worker"), ("app-blue-1", "10.244.2.3", "ovn-k-helm-worker2")]))
    return cache, controller


def test_a_service_on_a_primary_udn_gets_a_mirror_with_the_udn_addresses():
    cache, controller = blue_with_service()
    drive(controller)
    (mirror,) = mirrors(cache, "blue")
    m = mirror["metadata"]
    # the network name holds "_", no DNS subdomain: the mirror is named like the default slice (ESM 238-244)
    assert m["generateName"] == "service-blue-" and m["name"].startswith("service-blue-")
    assert m["labels"] == {ovnk.MANAGED_BY: ovnk.MIRROR_CONTROLLER, ovnk.MIRROR_SERVICE_LABEL: "service-blue"}
    assert m["annotations"] == {ovnk.SOURCE_SLICE: "service-blue-abcde", ovnk.SOURCE_VERSION: "100",
                                ovnk.SLICE_NETWORK: "blue_blue-network"}
    assert m["ownerReferences"][0]["kind"] == "Service"
    assert mirror["addressType"] == "IPv4" and mirror["ports"][0]["port"] == 8080
    udn = [pod_nets(cache, "blue", p)["blue/blue-network"]["ip_addresses"][0].split("/")[0]
           for p in ("app-blue-0", "app-blue-1")]
    assert [e["addresses"] for e in mirror["endpoints"]] == [[udn[0]], [udn[1]]]
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network("103.103.0.0/16") for ip in udn)
    # everything but the address is copied
    assert [e["targetRef"]["name"] for e in mirror["endpoints"]] == ["app-blue-0", "app-blue-1"]
    assert mirror["endpoints"][0]["nodeName"] == "ovn-k-helm-worker" and mirror["endpoints"][0]["conditions"]["ready"]


def test_the_mirror_follows_its_source_and_only_a_new_version():
    cache, controller = blue_with_service()
    drive(controller)
    writes = len(controller.kube.log)
    drive(controller)
    assert len(controller.kube.log) == writes  # same source version: nothing to do (ESM 313-320)
    source = cache.get(ovnk.ENDPOINTSLICES, "blue", "service-blue-abcde")
    source["endpoints"] = source["endpoints"][:1]
    source["metadata"]["resourceVersion"] = "101"
    drive(controller)
    (mirror,) = mirrors(cache, "blue")
    assert len(mirror["endpoints"]) == 1 and mirror["metadata"]["annotations"][ovnk.SOURCE_VERSION] == "101"


def test_a_deleted_source_takes_its_mirror_and_a_deleted_mirror_comes_back():
    cache, controller = blue_with_service()
    drive(controller)
    (mirror,) = mirrors(cache, "blue")
    cache.remove(ovnk.ENDPOINTSLICES, mirror)
    drive(controller)
    assert len(mirrors(cache, "blue")) == 1
    source = cache.get(ovnk.ENDPOINTSLICES, "blue", "service-blue-abcde")
    cache.remove(ovnk.ENDPOINTSLICES, source)
    controller.on_event(ovnk.ENDPOINTSLICES, "DELETED", source, source)
    assert mirrors(cache, "blue") == []


@pytest.mark.parametrize("namespace,service", [("default", "kubernetes"), ("blue", None)])
def test_what_is_not_mirrored(namespace, service):
    """A namespace without a primary UDN (its active network is the default one), and slices other controllers
    manage (a Service without a selector), are left alone."""
    cache, controller = blue_with_service()
    other = default_slice(namespace, service or "external", [], name="other-xyz")
    if service is None:
        other["metadata"]["labels"][ovnk.MANAGED_BY] = "endpointslicemirroring-controller.k8s.io"
    cache.put(ovnk.ENDPOINTSLICES, other)
    drive(controller)
    assert [m["metadata"]["annotations"][ovnk.SOURCE_SLICE] for m in mirrors(cache, namespace)] == (
        [] if namespace == "default" else ["service-blue-abcde"])


def test_an_address_the_pod_does_not_have_yet_fails_the_sync_and_writes_nothing():
    cache, controller = blue_with_service()
    source = cache.get(ovnk.ENDPOINTSLICES, "blue", "service-blue-abcde")
    result = ovnk.reconcile_endpointslice(dict(source, addressType="IPv6"), cache, {}, NOW)
    assert result.actions == [] and result.requeue is not None


def test_a_dns_safe_network_name_prefixes_the_mirror():
    source = default_slice("ns", "svc", [])
    assert ovnk.mirror_generate_name("l3-network", source) == "l3-network-svc-"
    assert ovnk.mirror_generate_name("ns_udn", source) == "svc-"
    assert ovnk.mirror_generate_name("cluster_udn_x", source) == "svc-"
