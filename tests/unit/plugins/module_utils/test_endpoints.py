# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""Tests for module_utils/endpoints.py: the workshop's `kubectl get endpointslices` as claims."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import endpoints as E

CHECK = {"id": "endpoints-service-blue", "namespace": "blue", "service": "service-blue"}
PODS = {"app-blue-0": ("10.244.1.3", "fd00:10:244:1::3", "103.103.1.3", "2014:100:200:1::3"),
        "app-blue-1": ("10.244.2.3", "fd00:10:244:2::3", "103.103.2.3", "2014:100:200:2::3")}


def pod(name):
    locked4, locked6, udn4, udn6 = PODS[name]
    networks = {"default": {"role": "infrastructure-locked", "ip_addresses": [locked4 + "/24", locked6 + "/64"]},
                "blue/blue-network": {"role": "primary", "ip_addresses": [udn4 + "/24", udn6 + "/64"],
                                      "gateway_ips": ["103.103.1.1", "2014:100:200:1::1"]}}
    return {"metadata": {"name": name, "namespace": "blue",
                         "annotations": {"k8s.ovn.org/pod-networks": json.dumps(networks)}}}


def endpoint(name, address):
    return {"addresses": [address], "conditions": {"ready": True},
            "targetRef": {"kind": "Pod", "name": name, "namespace": "blue"}}


def slices(family="ipv4"):
    index = 0 if family == "ipv4" else 1
    kind = E.ADDRESS_TYPES[family]
    default = {"addressType": kind, "metadata": {"name": "service-blue-abcde", "labels": {
        E.MANAGED_BY: E.DEFAULT_CONTROLLER, E.SERVICE_LABEL: "service-blue"}},
        "endpoints": [endpoint(n, PODS[n][index]) for n in sorted(PODS)]}
    mirror = {"addressType": kind, "metadata": {"name": "service-blue-xyz12", "labels": {
        E.MANAGED_BY: E.MIRROR_CONTROLLER, E.MIRROR_SERVICE_LABEL: "service-blue"},
        "annotations": {E.NETWORK_ANNOTATION: "blue_blue-network"}},
        "endpoints": [endpoint(n, PODS[n][index + 2]) for n in sorted(PODS)]}
    return [default, mirror]


def pods():
    return [pod(n) for n in sorted(PODS)]


@pytest.mark.parametrize("families", [["ipv4"], ["ipv6"], ["ipv4", "ipv6"]])
def test_the_mirror_and_the_default_slice_as_the_workshop_shows_them(families):
    objects = [s for f in families for s in slices(f)]
    results = E.service_endpoints(CHECK, objects, pods(), families)
    assert [r["id"] for r in results] == (["endpoints-service-blue"] if len(families) == 1 else
                                          ["endpoints-service-blue/ipv4", "endpoints-service-blue/ipv6"])
    assert [r["status"] for r in results] == ["correct"] * len(families), [r["detail"] for r in results]
    detail = results[0]["detail"]
    assert "mirror service-blue-xyz12 (network blue_blue-network)" in detail
    assert ("app-blue-0 103.103.1.3" if families[0] == "ipv4" else "app-blue-0 2014:100:200:1::3") in detail
    assert results[0]["from"] == "blue/service-blue" and "k8s.ovn.org/service-name=service-blue" in results[0]["reproduce"]


def test_no_mirror_is_wrong_and_says_how_it_was_looked_for():
    (result,) = E.service_endpoints(CHECK, slices()[:1], pods(), ["ipv4"])
    assert result["status"] == "wrong" and result["observed"] == "X"
    assert result["detail"] == ("0 EndpointSlice(s) of Service service-blue mirrored by OVN-Kubernetes for IPv4 "
                                "(want 1; found by k8s.ovn.org/service-name=service-blue)")


def test_a_mirror_with_the_default_addresses_is_wrong():
    objects = slices()
    objects[1]["endpoints"] = copy.deepcopy(objects[0]["endpoints"])
    (result,) = E.service_endpoints(CHECK, objects, pods(), ["ipv4"])
    assert result["status"] == "wrong"
    assert "the mirror lists pod app-blue-0 at 10.244.1.3, its UDN address is 103.103.1.3" in result["detail"]


def test_a_pod_missing_from_the_mirror_or_the_default_slice_is_named():
    objects = slices()
    objects[1]["endpoints"] = objects[1]["endpoints"][:1]
    (result,) = E.service_endpoints(CHECK, objects, pods(), ["ipv4"])
    assert "the mirror lacks pod app-blue-1" in result["detail"]
    objects = slices()
    objects[0]["endpoints"] = objects[0]["endpoints"][:1]
    (result,) = E.service_endpoints(CHECK, objects, pods(), ["ipv4"])
    assert "the mirror lists pod app-blue-1, the default slice does not" in result["detail"]


def test_a_default_slice_with_the_udn_address_is_wrong():
    objects = slices()
    objects[0]["endpoints"] = copy.deepcopy(objects[1]["endpoints"])
    (result,) = E.service_endpoints(CHECK, objects, pods(), ["ipv4"])
    assert "the default slice lists pod app-blue-0 at 103.103.1.3, its infrastructure-locked address is 10.244.1.3" \
        in result["detail"]


def test_other_services_other_families_and_foreign_mirrors_do_not_count():
    other = copy.deepcopy(slices())
    for obj in other:
        labels = obj["metadata"]["labels"]
        for key in (E.SERVICE_LABEL, E.MIRROR_SERVICE_LABEL):
            if key in labels:
                labels[key] = "service-other"
    (result,) = E.service_endpoints(CHECK, other + slices("ipv6"), pods(), ["ipv4"])
    assert result["detail"].startswith("0 default IPv4 EndpointSlice(s) of Service service-blue")
    two_mirrors = slices() + slices()[1:]
    (result,) = E.service_endpoints(CHECK, two_mirrors, pods(), ["ipv4"])
    assert result["detail"].startswith("2 EndpointSlice(s) of Service service-blue mirrored")


def test_an_empty_service_and_a_pod_off_the_udn_are_wrong():
    objects = slices()
    for obj in objects:
        obj["endpoints"] = []
    (result,) = E.service_endpoints(CHECK, objects, pods(), ["ipv4"])
    assert "lists no pod: nothing behind Service service-blue" in result["detail"]
    plain = pods()
    plain[0]["metadata"]["annotations"]["k8s.ovn.org/pod-networks"] = json.dumps(
        {"default": {"role": "primary", "ip_addresses": ["10.244.1.3/24"]}})
    (result,) = E.service_endpoints(CHECK, slices(), plain, ["ipv4"])
    assert "pod app-blue-0 is not on a primary UDN" in result["detail"]
    (result,) = E.service_endpoints(CHECK, slices(), pods()[1:], ["ipv4"])
    assert "pod app-blue-0 is listed but does not exist" in result["detail"]
