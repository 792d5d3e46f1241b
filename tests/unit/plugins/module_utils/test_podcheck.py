# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""podcheck: the workshop's `ip a`, `ip r` and liveness steps as claims, from a pod object and iproute2 JSON."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import ovn
from ansible_collections.ovnk.udn_lab.plugins.module_utils import podcheck as C

INSPECTION = {"id": "blue-app-blue-0", "namespace": "blue", "pod": "app-blue-0"}


def pod(dual=False, restarts=0, ready=True, probe=True):
    """app-blue-0 as OVN-K v1.3.0 and multus annotate it (primary UDN on ovn-udn1, eth0 infrastructure-locked)."""
    udn = {"ip_addresses": ["103.103.1.3/24"] + (["fd00:103:103:1::3/64"] if dual else []),
           "gateway_ips": ["103.103.1.1"] + (["fd00:103:103:1::1"] if dual else []),
           "mac_address": "0a:58:67:67:01:03", "role": "primary",
           "routes": [{"dest": "103.103.0.0/16", "nextHop": "103.103.1.1"},
                      {"dest": "10.96.0.0/16", "nextHop": "103.103.1.1"},
                      {"dest": "100.65.0.0/16", "nextHop": "103.103.1.1"}] + ([
                          {"dest": "fd00:103:103::/48", "nextHop": "fd00:103:103:1::1"},
                          {"dest": "fd00:10:96::/112", "nextHop": "fd00:103:103:1::1"},
                          {"dest": "fd99::/64", "nextHop": "fd00:103:103:1::1"}] if dual else [])}
    default = {"ip_addresses": ["10.244.1.5/24"] + (["fd00:10:244:2::5/64"] if dual else []),
               "mac_address": "0a:58:0a:f4:01:05", "role": "infrastructure-locked",
               "routes": [{"dest": "10.244.0.0/16", "nextHop": "10.244.1.1"},
                          {"dest": "100.64.0.0/16", "nextHop": "10.244.1.1"}] + ([
                              {"dest": "fd00:10:244::/48", "nextHop": "fd00:10:244:2::1"},
                              {"dest": "fd98::/64", "nextHop": "fd00:10:244:2::1"}] if dual else [])}
    status = [{"name": "ovn-kubernetes", "interface": "eth0", "ips": ["10.244.1.5"], "default": False},
              {"name": "ovn-kubernetes", "interface": "ovn-udn1", "ips": ["103.103.1.3"], "default": True}]
    container = {"name": "agnhost-container", "image": "agnhost"}
    if probe:
        container["livenessProbe"] = {"httpGet": {"path": "/healthz", "port": 8080}}
    return {"metadata": {"name": "app-blue-0", "namespace": "blue", "annotations": {
        "k8s.ovn.org/pod-networks": json.dumps({"default": default, "blue/blue-network": udn}),
        "k8s.v1.cni.cncf.io/network-status": json.dumps(status)}},
        "spec": {"containers": [container]},
        "status": {"containerStatuses": [{"name": "agnhost-container", "ready": ready, "restartCount": restarts}]}}


def facts(default_mtu=1400, blue_mtu=None):
    """The networks of app-blue-0 as ovn.network_facts gives them for the v1.3.0 chart's ovn-config (blue's UDN sets
    no MTU unless ``blue_mtu``)."""
    cluster = ovn.cluster_settings({"data": {"net_cidr": "10.244.0.0/16/24,fd00:10:244::/48/64",
                                             "svc_cidr": "10.96.0.0/16,fd00:10:96::/112", "mtu": str(default_mtu or "")}})
    blue = {"metadata": {"namespace": "blue", "name": "blue-network"}, "spec": {"config": json.dumps(dict(
        {"type": "ovn-k8s-cni-overlay", "topology": "layer3", "role": "primary",
         "subnets": "103.103.0.0/16/24,fd00:103:103::/48/64",
         "joinSubnet": "100.65.0.0/16,fd99::/64"}, **({"mtu": blue_mtu} if blue_mtu else {})))}}
    return ovn.network_facts([blue], cluster)


MTUS = facts()


def link(name, *addrs, **kw):
    return {"ifname": name, "mtu": kw.get("mtu", 65536 if name == "lo" else 1400), "addr_info": [
        {"family": "inet6" if ":" in a else "inet", "local": a, "prefixlen": 24, "scope": "global"} for a in addrs]
        + [{"family": "inet6", "local": "fe80::1", "prefixlen": 64, "scope": "link"}]}


def output(addresses, routes4, routes6=()):
    return "{0}\n{1}\n{2}\n{1}\n{3}\n".format(
        json.dumps(addresses), C.SEPARATOR, json.dumps(list(routes4)), json.dumps(list(routes6)))


GOOD4 = output([link("lo", "127.0.0.1"), link("eth0", "10.244.1.5"), link("ovn-udn1", "103.103.1.3")],
               [{"dst": "default", "gateway": "103.103.1.1", "dev": "ovn-udn1", "flags": []}])


def by_id(results):
    return dict((r["id"], r) for r in results)


def test_a_pod_as_ovn_kubernetes_wires_it_proves_every_claim():
    results = C.inspect_pod(INSPECTION, pod(), GOOD4, ["ipv4"], facts=MTUS)
    assert [(r["id"], r["status"]) for r in results] == [
        ("blue-app-blue-0-interfaces", "correct"), ("blue-app-blue-0-default-route", "correct"),
        ("blue-app-blue-0-mtu", "correct"), ("blue-app-blue-0-annotation", "correct"),
        ("blue-app-blue-0-liveness", "correct")]
    got = by_id(results)
    assert got["blue-app-blue-0-interfaces"]["detail"] == "ovn-udn1 holds 103.103.1.3; eth0 holds 10.244.1.5"
    assert got["blue-app-blue-0-default-route"]["detail"] == "default via 103.103.1.1 dev ovn-udn1"
    assert got["blue-app-blue-0-default-route"]["reproduce"] == "kubectl exec -n blue app-blue-0 -- ip -4 route"
    assert got["blue-app-blue-0-liveness"]["from"] == "blue/app-blue-0"
    assert got["blue-app-blue-0-mtu"]["detail"] == "ovn-udn1 mtu 1400, eth0 mtu 1400"
    assert got["blue-app-blue-0-mtu"]["reproduce"] == "kubectl exec -n blue app-blue-0 -- ip link show"


def test_dual_stack_checks_each_family_with_its_own_ids():
    out = output([link("eth0", "10.244.1.5", "fd00:10:244:2::5"), link("ovn-udn1", "103.103.1.3", "fd00:103:103:1::3")],
                 [{"dst": "default", "gateway": "103.103.1.1", "dev": "ovn-udn1"}],
                 [{"dst": "default", "gateway": "fd00:103:103:1::1", "dev": "ovn-udn1"},
                  # a Layer2 UDN's router advertisement may add one via the router's link-local address
                  {"dst": "default", "gateway": "fe80::858:6fff:fe67:101", "dev": "ovn-udn1"}])
    results = C.inspect_pod(INSPECTION, pod(dual=True), out, ["ipv4", "ipv6"], facts=MTUS)
    assert sorted(r["id"] for r in results) == sorted([
        "blue-app-blue-0-interfaces/ipv4", "blue-app-blue-0-interfaces/ipv6", "blue-app-blue-0-default-route/ipv4",
        "blue-app-blue-0-default-route/ipv6", "blue-app-blue-0-mtu", "blue-app-blue-0-annotation",
        "blue-app-blue-0-liveness"])
    assert all(r["status"] == "correct" for r in results), [(r["id"], r["detail"]) for r in results]


@pytest.mark.parametrize("addresses, routes, check, detail", [
    # the UDN address on the wrong interface
    ([link("eth0", "10.244.1.5", "103.103.1.3"), link("ovn-udn1")],
     [{"dst": "default", "gateway": "103.103.1.1", "dev": "ovn-udn1"}], "interfaces",
     "ovn-udn1 does not hold the primary address 103.103.1.3 (it holds none)"),
    # the locked address missing from eth0
    ([link("eth0"), link("ovn-udn1", "103.103.1.3")],
     [{"dst": "default", "gateway": "103.103.1.1", "dev": "ovn-udn1"}], "interfaces",
     "eth0 does not hold the infrastructure-locked address 10.244.1.5 (it holds none)"),
    # default route through the default network
    ([link("eth0", "10.244.1.5"), link("ovn-udn1", "103.103.1.3")],
     [{"dst": "default", "gateway": "10.244.1.1", "dev": "eth0"}], "default-route",
     "no default route via 103.103.1.1 on ovn-udn1 (default routes: via 10.244.1.1 dev eth0)"),
    # one via the UDN, and one more through the locked eth0
    ([link("eth0", "10.244.1.5"), link("ovn-udn1", "103.103.1.3")],
     [{"dst": "default", "gateway": "103.103.1.1", "dev": "ovn-udn1"},
      {"dst": "default", "gateway": "10.244.1.1", "dev": "eth0"}], "default-route",
     "a default route leaves through the infrastructure-locked eth0"),
    # no default route at all
    ([link("eth0", "10.244.1.5"), link("ovn-udn1", "103.103.1.3")], [], "default-route",
     "no default route via 103.103.1.1 on ovn-udn1 (default routes: none)"),
])
def test_what_is_wrong_inside_the_pod_is_named(addresses, routes, check, detail):
    got = by_id(C.inspect_pod(INSPECTION, pod(), output(addresses, routes), ["ipv4"]))
    result = got["blue-app-blue-0-" + check]
    assert (result["status"], result["observed"], result["detail"]) == ("wrong", "X", detail)


@pytest.mark.parametrize("kwargs, detail", [
    ({"restarts": 2}, "agnhost-container restarted 2 times (a failing liveness probe restarts it)"),
    ({"ready": False}, "agnhost-container is not ready"),
    ({"probe": False}, "no container of the pod has a liveness probe"),
])
def test_liveness_fails_on_restarts_unready_or_no_probe(kwargs, detail):
    result = by_id(C.inspect_pod(INSPECTION, pod(**kwargs), GOOD4, ["ipv4"]))["blue-app-blue-0-liveness"]
    assert (result["status"], result["detail"]) == ("wrong", detail)


@pytest.mark.parametrize("stdout, detail", [
    (None, "the inspection command did not run in the pod"),
    ("[]", "unexpected output of the inspection command"),
    ("1: lo: <LOOPBACK>\n{0}\n\n{0}\n".format(C.SEPARATOR), "not iproute2 JSON"),
])
def test_unreadable_output_makes_every_exec_claim_wrong_with_the_reason(stdout, detail):
    results = by_id(C.inspect_pod(INSPECTION, pod(), stdout, ["ipv4"], checks=("interfaces", "default-route")))
    assert sorted(results) == ["blue-app-blue-0-default-route", "blue-app-blue-0-interfaces"]
    for result in results.values():
        assert result["status"] == "wrong" and result["detail"].startswith(detail), result["detail"]


@pytest.mark.parametrize("addresses, mtus, detail", [
    # the kind default 1500 where the network has 1400 (the CNI did not set it)
    ([link("eth0", "10.244.1.5"), link("ovn-udn1", "103.103.1.3", mtu=1500)], MTUS,
     "ovn-udn1 has MTU 1500, not its network's 1400 (blue/blue-network)"),
    # a UDN with its own mtu: the UDN interface has it, eth0 keeps the cluster's
    ([link("eth0", "10.244.1.5"), link("ovn-udn1", "103.103.1.3")], facts(blue_mtu=1300),
     "ovn-udn1 has MTU 1400, not its network's 1300 (blue/blue-network)"),
    ([link("eth0", "10.244.1.5", mtu=1300), link("ovn-udn1", "103.103.1.3")], MTUS,
     "eth0 has MTU 1300, not its network's 1400 (default)"),
    # the cluster's MTU could not be read
    ([link("eth0", "10.244.1.5"), link("ovn-udn1", "103.103.1.3")], facts(default_mtu=None),
     "ovn-udn1 has MTU 1400, but the MTU of network blue/blue-network is unknown (the cluster's is read from "
     "ConfigMap ovn-kubernetes/ovn-config, key mtu); eth0 has MTU 1400, but the MTU of network default is unknown "
     "(the cluster's is read from ConfigMap ovn-kubernetes/ovn-config, key mtu)"),
    ([link("eth0", "10.244.1.5")], MTUS, "the pod has no interface ovn-udn1"),
])
def test_a_wrong_or_unknown_mtu_is_named(addresses, mtus, detail):
    routes = [{"dst": "default", "gateway": "103.103.1.1", "dev": "ovn-udn1"}]
    result = by_id(C.inspect_pod(INSPECTION, pod(), output(addresses, routes), ["ipv4"], facts=mtus))["blue-app-blue-0-mtu"]
    assert (result["status"], result["detail"]) == ("wrong", detail)


def test_a_default_network_pod_has_the_clusters_mtu_on_eth0():
    plain = {"metadata": {"name": "d", "namespace": "default", "annotations": {"k8s.ovn.org/pod-networks": json.dumps(
        {"default": {"ip_addresses": ["10.244.1.5/24"], "gateway_ips": ["10.244.1.1"], "role": "primary"}})}}}
    out = output([link("eth0", "10.244.1.5", mtu=1300)], [{"dst": "default", "gateway": "10.244.1.1", "dev": "eth0"}])
    inspection = {"id": "d", "namespace": "default", "pod": "d"}
    assert by_id(C.inspect_pod(inspection, plain, out, ["ipv4"], checks=("mtu",), facts=facts(default_mtu=1300)))["d-mtu"][
        "status"] == "correct"
    assert by_id(C.inspect_pod(inspection, plain, out, ["ipv4"], checks=("mtu",), facts=facts(default_mtu=1400)))["d-mtu"][
        "detail"] == "eth0 has MTU 1300, not its network's 1400 (default)"


def test_the_annotation_as_ovn_kubernetes_writes_it_is_correct_and_each_difference_named():
    got = by_id(C.inspect_pod(INSPECTION, pod(), None, ["ipv4"], checks=("annotation",), facts=MTUS))
    result = got["blue-app-blue-0-annotation"]
    assert result["status"] == "correct", result["detail"]
    assert result["detail"] == (
        "blue/blue-network primary, gateway 103.103.1.1, MAC 0a:58:67:67:01:03, routes 103.103.0.0/16, "
        "10.96.0.0/16, 100.65.0.0/16 via 103.103.1.1; default infrastructure-locked, gateway none, MAC "
        "0a:58:0a:f4:01:05, routes 10.244.0.0/16, 100.64.0.0/16 via 10.244.1.1")
    assert result["reproduce"].startswith("kubectl get pod -n blue app-blue-0 -o jsonpath=")
    # the annotation is read from the pod object: no exec needed
    assert "annotation" not in C.EXEC_CHECKS

    def judged(mutate, the_facts=None):
        the_facts = the_facts or MTUS
        bad = pod()
        nets = json.loads(bad["metadata"]["annotations"]["k8s.ovn.org/pod-networks"])
        mutate(nets)
        bad["metadata"]["annotations"]["k8s.ovn.org/pod-networks"] = json.dumps(nets)
        out = by_id(C.inspect_pod(INSPECTION, bad, None, ["ipv4"], checks=("annotation",), facts=the_facts))
        return out["blue-app-blue-0-annotation"]

    wrong = judged(lambda n: n["blue/blue-network"]["routes"].pop(1))
    assert wrong["status"] == "wrong"
    assert wrong["detail"] == ("blue/blue-network: routes 103.103.0.0/16, 100.65.0.0/16 via 103.103.1.1, not "
                               "103.103.0.0/16, 10.96.0.0/16, 100.65.0.0/16 via 103.103.1.1")
    assert judged(lambda n: n["default"].update(gateway_ips=["10.244.1.1"]))["detail"] == \
        "default: gateway 10.244.1.1, not none"
    assert judged(lambda n: n["blue/blue-network"].update(mac_address="0a:58:00:00:00:01"))["detail"] == \
        "blue/blue-network: MAC 0a:58:00:00:00:01, not 0a:58:67:67:01:03 (derived from 103.103.1.3/24)"
    assert judged(lambda n: None, the_facts={"default": MTUS["default"]})["detail"] == \
        "blue/blue-network: no NetworkAttachmentDefinition of that name was read"
    unknown = judged(lambda n: None, the_facts=facts(default_mtu=None) | {"default": ovn.cluster_settings({})})
    assert "the cluster's subnets are unknown" in unknown["detail"] and unknown["status"] == "wrong"


def test_inspection_commands_the_role_runs_only_where_a_check_needs_them(repo_root):
    import yaml
    role_vars = yaml.safe_load((repo_root / "roles" / "pod_workshop" / "vars" / "main.yml").read_text())
    assert tuple(role_vars["__pod_workshop_inspect_exec_checks"]) == C.EXEC_CHECKS


def test_primary_interface_comes_from_network_status_else_the_pod_networks_roles():
    assert C.primary_interface(pod()) == "ovn-udn1"
    plain = {"metadata": {"annotations": {"k8s.ovn.org/pod-networks": json.dumps(
        {"default": {"ip_addresses": ["10.244.1.5/24"], "gateway_ips": ["10.244.1.1"], "role": "primary"}})}}}
    assert C.primary_interface(plain) == "eth0"


def test_the_role_runs_exactly_the_command_podcheck_reads(repo_root):
    import shlex

    import yaml
    role_vars = yaml.safe_load((repo_root / "roles" / "pod_workshop" / "vars" / "main.yml").read_text())
    assert shlex.split(role_vars["__pod_workshop_inspect_command"]) == C.INSPECT_COMMAND
