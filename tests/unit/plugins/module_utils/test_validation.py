# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""module_utils/validation.py: one CIDR parser, OVN-K's reserved ranges, the pod workshop's input problems."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import ipaddress
import pathlib
import re

import pytest
import yaml

from ansible_collections.ovnk.udn_lab.plugins.module_utils import validation as V

_PRIVATE_OR_PUBLIC = re.compile(r"^\{\{ '([^']+)' if pod_workshop_private_subnets \| bool else '([^']+)' \}\}$")


def _as_ansible_renders(value, private=False):
    """The defaults as Ansible renders them: the workshop subnets follow pod_workshop_private_subnets."""
    if isinstance(value, dict):
        return dict((k, _as_ansible_renders(v, private)) for k, v in value.items())
    if isinstance(value, list):
        return [_as_ansible_renders(v, private) for v in value]
    match = _PRIVATE_OR_PUBLIC.match(value) if isinstance(value, str) else None
    return match.group(1 if private else 2) if match else value


DEFAULTS = _as_ansible_renders(yaml.safe_load((pathlib.Path(__file__).resolve().parents[4] / "roles" / "pod_workshop"
                                               / "defaults" / "main.yml").read_text()))


@pytest.mark.parametrize("text,family,ok", [
    ("10.244.0.0/16", None, True),
    ("fd00:10:244::/48", "ipv6", True),
    ("fd00::1::2/64", None, False),          # two '::': the regexes of old disagreed on it
    ("fd00::1::2/64", "ipv6", False),
    ("10.244.0.0/16", "ipv6", False),        # wrong family
    ("10.244.1.0/16", None, False),          # host bits
    ("10.244.0.0", None, False),             # no prefix
    ("10.244.0.0/33", None, False),
    ("300.1.1.0/24", None, False),
    ("", None, False),
    (None, None, False),
])
def test_parse_cidr(text, family, ok):
    network, reason = V.parse_cidr(text, family)
    assert (network is not None) == ok, reason
    assert (reason is None) == ok


def test_host_bits_message_names_the_network_to_use():
    assert V.cidr_problem("kind_cluster_pod_subnet", "10.244.1.0/16") == (
        "kind_cluster_pod_subnet 10.244.1.0/16 is not a network: its address has host bits set beyond /16 "
        "(use 10.244.0.0/16)")
    expected = 'x "fd00::1::2/64" is not a CIDR (address/prefix), e.g. fd00:103:103::/48'
    assert V.cidr_problem("x", "fd00::1::2/64", "ipv6") == expected


@pytest.mark.parametrize("values,families,problems", [
    ("10.244.0.0/16,fd00:10:244::/48", ["ipv4", "ipv6"], []),
    (["10.244.0.0/16", "fd00:10:244::/48"], None, []),
    ("fd00:10:244::/48,10.244.0.0/16", ["ipv4", "ipv6"],
     ["holds ipv6, ipv4, which does not match udn_lab_ip_family: it needs one CIDR of each of ipv4, ipv6 (in that order)"]),
    ("10.244.0.0/16,10.245.0.0/16", None, ["one CIDR per family"]),
    ("10.244.0.0/16", ["ipv6"], ["holds ipv4, which does not match udn_lab_ip_family: it needs one CIDR of each of ipv6"]),
    ("10.244.0.0/16, bogus", None, ['"bogus" is not a CIDR']),
])
def test_cidr_list_problems(values, families, problems):
    got = V.cidr_list_problems("kind_cluster_pod_subnet", values, families)
    assert len(got) == len(problems), got
    for message, expected in zip(got, problems):
        assert message.startswith("kind_cluster_pod_subnet ") and expected in message


@pytest.mark.parametrize("cidr,topology,role,clash", [
    ("100.64.0.0/24", "Layer2", "Secondary", "100.64.0.0/16"),   # default join: always
    ("169.254.169.0/24", "Layer3", "Primary", "169.254.169.0/29"),  # masquerade: always
    ("fd69::/64", "Layer2", "Primary", "fd69::/125"),
    ("100.88.5.0/24", "Layer3", "Primary", "100.88.0.0/16"),    # transit: Layer3 only
    ("100.88.5.0/24", "Layer2", "Primary", None),               # a Layer2 primary network picks a free transit
    ("100.65.0.0/16", "Layer3", "Primary", "100.65.0.0/16"),    # a primary network's own join subnet
    ("100.65.0.0/16", "Layer2", "Secondary", None),             # no join subnet on a secondary network
    ("fd99::/48", "Layer3", "Primary", "fd99::/64"),
    ("103.103.0.0/16", "Layer3", "Primary", None),              # the workshop's ranges are fine
    ("192.168.0.0/16", "Layer2", "Primary", None),
])
def test_reserved_overlap_follows_ovnk_subnet_overlap_check(cidr, topology, role, clash):
    got = V.reserved_overlap(ipaddress.ip_network(cidr), (), topology, role)
    assert (got[0] if got else None) == clash


def test_cluster_ranges_count_too():
    got = V.reserved_overlap(ipaddress.ip_network("10.96.0.0/24"), [("10.96.0.0/16", "the cluster's service subnet")])
    assert got == ("10.96.0.0/16", "the cluster's service subnet")


def inputs(**changes):
    base = dict(operation="create", ip_family="ipv4", namespaces=DEFAULTS["pod_workshop_namespaces"],
                networks=DEFAULTS["pod_workshop_networks"], apps=DEFAULTS["pod_workshop_apps"],
                services=DEFAULTS["pod_workshop_services"], policies=DEFAULTS["pod_workshop_network_policies"],
                probes=DEFAULTS["pod_workshop_probes"])
    base.update(changes)
    return copy.deepcopy(base)


@pytest.mark.parametrize("family", ["ipv4", "ipv6", "dual"])
def test_the_workshop_defaults_have_no_problem_in_any_family(family):
    assert V.pod_workshop_problems(**inputs(ip_family=family)) == []


def test_a_network_over_a_reserved_or_cluster_range_is_refused_naming_it():
    args = inputs(ip_family="dual")
    args["networks"][0]["subnets"]["ipv4"]["cidr"] = "100.65.0.0/16"
    args["networks"][1]["subnets"]["ipv6"]["cidr"] = "fd00:10:96::/48"
    got = V.pod_workshop_problems(cluster_ranges=[("fd00:10:96::/112", "the cluster's service subnet")], **args)
    name0, name1 = args["networks"][0]["name"], args["networks"][1]["name"]
    assert got == [
        "pod_workshop_networks %s: subnets.ipv4 100.65.0.0/16 overlaps 100.65.0.0/16, a primary network's join subnet "
        "(OVN-K v1.3.0 UserDefinedPrimaryNetworkJoinSubnetV4): OVN-Kubernetes refuses it; pick a range outside it"
        % name0,
        "pod_workshop_networks %s: subnets.ipv6 fd00:10:96::/48 overlaps fd00:10:96::/112, the cluster's service subnet: "
        "OVN-Kubernetes refuses it; pick a range outside it" % name1]


def test_many_problems_in_one_list():
    args = inputs()
    args["operation"] = "apply"
    args["namespaces"] = args["namespaces"] + [dict(args["namespaces"][0])]
    args["networks"][0]["subnets"]["ipv4"]["cidr"] = "103.103.1.0/16"
    args["apps"][0]["replicas"] = "two"
    args["probes"][0]["expect"] = "maybe"
    got = V.pod_workshop_problems(**args)
    assert got[0] == 'pod_workshop_operation is "apply": use create, render, delete or verify'
    assert any("is declared twice" in m for m in got)
    assert any("103.103.1.0/16 is not a network" in m and "(use 103.103.0.0/16)" in m for m in got)
    assert any(m.endswith(": replicas must be a number") for m in got)
    assert any(m.endswith(": expect must be reachable or blocked") for m in got)
    # (the replicas that are not a number give no pods, so the probes naming them are reported too)
    assert any("is not a pod of pod_workshop_apps" in m for m in got)


def test_cidr_list_of_a_network_reports_the_ranges_ovnk_refuses():
    got = V.cidr_list_problems("vm_workshop_networks tenant: subnets.ipv4", ["169.254.169.0/24"], ["ipv4"],
                               udn_topology="Layer2")
    assert got == ["vm_workshop_networks tenant: subnets.ipv4 169.254.169.0/24 overlaps 169.254.169.0/29, the "
                   "masquerade subnet (OVN-K v1.3.0 Gateway.V4MasqueradeSubnet): OVN-Kubernetes refuses it; pick a "
                   "range outside it"]
    assert V.cidr_list_problems("x", ["10.96.0.0/24"], ["ipv4"], udn_topology="Layer2",
                                cluster_ranges=[["10.96.0.0/16", "the cluster's service subnet"]])[0].endswith(
        "overlaps 10.96.0.0/16, the cluster's service subnet: OVN-Kubernetes refuses it; pick a range outside it")
    # not a network's subnets: no reserved-range check (the cluster's own pod subnet may be anything valid)
    assert V.cidr_list_problems("kind_cluster_pod_subnet", ["100.64.0.0/16"], ["ipv4"]) == []


@pytest.mark.parametrize("pods,services,expected", [
    ("10.244.0.0/16,fd00:10:244::/48", "10.96.0.0/16,fd00:10:96::/112", []),
    ("10.96.0.0/12", "10.96.0.0/16", ["kind_cluster_pod_subnet 10.96.0.0/12 overlaps kind_cluster_service_subnet "
                                      "10.96.0.0/16: pod and service subnets must be disjoint"]),
    ("100.64.0.0/10", "10.96.0.0/16", ["kind_cluster_pod_subnet 100.64.0.0/10 overlaps 100.64.0.0/16, the default "
                                       "network's join subnet (OVN-K v1.3.0 Gateway.V4JoinSubnet): OVN-Kubernetes "
                                       "refuses it; pick a range outside it"]),
    ("10.244.0.0/16", "fd97::/112", ["kind_cluster_service_subnet fd97::/112 overlaps fd97::/64, the transit subnet "
                                     "of Layer3 networks (OVN-K v1.3.0 ClusterManager.V6TransitSubnet): "
                                     "OVN-Kubernetes refuses it; pick a range outside it"]),
    ("100.65.0.0/16", "10.96.0.0/16", []),  # the UDN join subnet is not checked against the cluster's subnets
])
def test_cluster_subnet_problems(pods, services, expected):
    assert V.cluster_subnet_problems(pods, services, "kind_cluster_pod_subnet", "kind_cluster_service_subnet") == \
        expected


MATRIX = yaml.safe_load((pathlib.Path(__file__).resolve().parents[4] / "versions.yml").read_text())[
    "udn_lab_versions_default"]


@pytest.mark.parametrize("override,expected", [
    ({}, []),
    (None, []),
    ({"kubevirt": {"version": "v1.8.3"}}, []),
    ({"virtctl": {"sha256": "a" * 64}}, []),
    ({"virtctl": {"sha256": None}}, []),
    ({"kind": {"sha256": {"linux-riscv64": "b" * 64}}}, []),           # a platform the matrix lacks: free
    ({"kubevirtt": {"version": "v1.8.3"}}, ["udn_lab_versions_override.kubevirtt is not an artifact of the version "
                                            "matrix (versions.yml has: "]),
    ({"kubevirt": {"versoin": "v1.8.3"}}, ["udn_lab_versions_override.kubevirt.versoin is not a field of kubevirt in "
                                           "the version matrix (it has: "]),
    ({"virtctl": {"sha256": "abc"}}, ['udn_lab_versions_override.virtctl.sha256 "abc" is not a sha256']),
    ({"kind": {"sha256": {"linux-amd64": "A" * 64}}}, ["udn_lab_versions_override.kind.sha256.linux-amd64"]),
    ({"kindest_node": {"digest": "sha256:xyz"}}, ['udn_lab_versions_override.kindest_node.digest "sha256:xyz" is not '
                                                  "an image digest"]),
    ("v1.8.3", ['udn_lab_versions_override must be a mapping']),
    ({"kubevirt": "v1.8.3"}, ['udn_lab_versions_override.kubevirt must be a mapping of fields']),
])
def test_versions_override_problems(override, expected):
    got = V.versions_override_problems(MATRIX, override)
    assert len(got) == len(expected), got
    for message, start in zip(got, expected):
        assert message.startswith(start), message


def test_checksums_are_checked_at_any_depth_and_the_sim_mirror_override_passes():
    got = V.versions_override_problems(MATRIX, {"kubevirt": {"cr": {"sha256": "xyz"}}})
    assert got == ['udn_lab_versions_override.kubevirt.cr.sha256 "xyz" is not a sha256 (64 lower-case hex digits; '
                   "null to record the digest of the first download)"]
    # the shape tests/sim/mirror.py writes for a mirror (checksums of its files)
    mirror = {"kubevirt": {"cr": {"sha256": "5" * 64}, "operator": {"sha256": "4" * 64}},
              "helm": {"sha256": {"linux-amd64": "d" * 64}}, "ovn_kubernetes_chart": {"sha256": "f" * 64}}
    assert V.versions_override_problems(MATRIX, mirror) == []


@pytest.mark.parametrize("value,minimum,ok", [
    (30, 1, True), ("30", 1, True), (0, 1, False), (-1, 1, False), ("ten", 1, False), (1.5, 1, False),
    (True, 1, False), (None, 1, False), (0, 0, True), (-1, 0, False),
])
def test_number_problems(value, minimum, ok):
    got = V.number_problems({"pod_workshop_probe_timeout": value}, minimum)
    assert (got == []) == ok
    if not ok:
        assert got[0].startswith("pod_workshop_probe_timeout is ") and got[0].endswith(
            "it must be a whole number >= %d" % minimum)


def test_pod_inspections_must_name_pods_of_the_workshop_with_unique_ids():
    base = dict(operation="create", ip_family="ipv4", namespaces=DEFAULTS["pod_workshop_namespaces"],
                networks=DEFAULTS["pod_workshop_networks"], apps=DEFAULTS["pod_workshop_apps"],
                services=DEFAULTS["pod_workshop_services"], policies=DEFAULTS["pod_workshop_network_policies"],
                probes=DEFAULTS["pod_workshop_probes"])
    assert V.pod_workshop_problems(inspections=DEFAULTS["pod_workshop_pod_inspections"], **base) == []
    bad = [{"id": "x", "namespace": "blue", "pod": "app-blue-7"},
           {"id": "x", "namespace": "blue", "pod": "app-blue-0"},
           {"id": "blue-to-blue", "namespace": "blue", "pod": "app-blue-0"},
           {"id": "Not_DNS", "namespace": "red", "pod": "app-red-0", "checks": ["ping"]}]
    problems = V.pod_workshop_problems(inspections=bad, **base)
    assert problems == [
        "pod_workshop_pod_inspections x: id used twice (or by a probe): inspection ids must be unique",
        "pod_workshop_pod_inspections x: pod blue/app-blue-7 is not a pod of pod_workshop_apps (pods there: "
        "blue/app-blue-0, blue/app-blue-1, blue/app-multihomed-blue-0)",
        "pod_workshop_pod_inspections blue-to-blue: id used twice (or by a probe): inspection ids must be unique",
        "pod_workshop_pod_inspections Not_DNS: id must be a lowercase DNS label (it names the claims)",
        'pod_workshop_pod_inspections Not_DNS: checks "ping" unknown: use interfaces, default-route, mtu, annotation, liveness']


def test_endpoint_slice_checks_name_services_on_primary_udns_with_unique_ids():
    base = dict(operation="create", ip_family="ipv4", namespaces=DEFAULTS["pod_workshop_namespaces"],
                networks=DEFAULTS["pod_workshop_networks"], apps=DEFAULTS["pod_workshop_apps"],
                policies=DEFAULTS["pod_workshop_network_policies"], probes=DEFAULTS["pod_workshop_probes"],
                inspections=DEFAULTS["pod_workshop_pod_inspections"])
    assert V.pod_workshop_problems(endpoint_slices=DEFAULTS["pod_workshop_endpoint_slices"],
                                   services=DEFAULTS["pod_workshop_services"], **base) == []
    services = DEFAULTS["pod_workshop_services"] + [{"name": "plain", "namespace": "default", "selector": {"a": "b"},
                                                     "ports": [{"port": 80}]}]
    bad = [{"id": "e", "namespace": "blue", "service": "service-blue"},
           {"id": "e", "namespace": "blue", "service": "service-nope"},
           {"id": "inspect-app-blue-0", "namespace": "green", "service": "service-green"},
           {"id": "p", "namespace": "default", "service": "plain"}]
    assert V.pod_workshop_problems(endpoint_slices=bad, services=services, **base) == [
        "pod_workshop_endpoint_slices e: id used twice (or by another claim): ids must be unique",
        "pod_workshop_endpoint_slices e: service blue/service-nope is not in pod_workshop_services",
        "pod_workshop_endpoint_slices inspect-app-blue-0: id used twice (or by another claim): ids must be unique",
        "pod_workshop_endpoint_slices p: namespace default has no primary UDN (primary_udn in pod_workshop_namespaces): "
        "OVN-Kubernetes mirrors EndpointSlices only there"]


def test_overlapping_network_checks_name_primary_networks_with_one_subnet():
    base = dict(operation="create", ip_family="dual", namespaces=DEFAULTS["pod_workshop_namespaces"],
                networks=DEFAULTS["pod_workshop_networks"], apps=DEFAULTS["pod_workshop_apps"],
                services=DEFAULTS["pod_workshop_services"], policies=DEFAULTS["pod_workshop_network_policies"],
                probes=DEFAULTS["pod_workshop_probes"], inspections=DEFAULTS["pod_workshop_pod_inspections"],
                endpoint_slices=DEFAULTS["pod_workshop_endpoint_slices"])
    assert V.pod_workshop_problems(overlapping=DEFAULTS["pod_workshop_overlapping_networks"], **base) == []
    bad = [{"id": "endpoints-service-blue", "networks": ["blue-network", "overlapping-with-blue-network"]},
           {"id": "o", "networks": ["blue-network"]},
           {"id": "p", "networks": ["blue-network", "nope"]},
           {"id": "q", "networks": ["blue-network", "green-network"]},
           {"id": "r", "networks": ["blue-network", "blue-green-secondary"]}]
    problems = V.pod_workshop_problems(overlapping=bad, **base)
    assert problems[:3] == [
        "pod_workshop_overlapping_networks endpoints-service-blue: id used twice (or by another claim): ids must be unique",
        "pod_workshop_overlapping_networks o: networks must name two or more networks of pod_workshop_networks",
        "pod_workshop_overlapping_networks p: networks must name two or more networks of pod_workshop_networks (unknown: nope)"]
    assert "pod_workshop_overlapping_networks q: the networks have different ipv4 subnets (103.103.0.0/16, " \
        "203.203.0.0/16): give them the same one" in problems
    assert "pod_workshop_overlapping_networks r: every network must be a Primary one (the claim reads the pods' primary " \
        "addresses)" in problems


def test_the_private_subnets_pass_the_same_checks_as_the_workshop_ones():
    raw = yaml.safe_load((pathlib.Path(__file__).resolve().parents[4] / "roles" / "pod_workshop" / "defaults"
                          / "main.yml").read_text())
    private = _as_ansible_renders(raw, private=True)
    cidrs = [n["subnets"]["ipv4"]["cidr"] for n in private["pod_workshop_networks"] if n["topology"] == "Layer3"]
    assert cidrs == ["10.103.0.0/16", "10.203.0.0/16", "10.103.0.0/16"]
    ranges = [("10.244.0.0/16", "the cluster's pod subnet"), ("10.96.0.0/16", "the cluster's service subnet")]
    assert V.pod_workshop_problems("create", "dual", private["pod_workshop_namespaces"], private["pod_workshop_networks"],
                                   private["pod_workshop_apps"], private["pod_workshop_services"],
                                   private["pod_workshop_network_policies"], private["pod_workshop_probes"],
                                   cluster_ranges=ranges) == []
