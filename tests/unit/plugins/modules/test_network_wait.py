# -*- coding: utf-8 -*-
"""network_wait through its main(): a fake API (list + scripted watch events + fake clock) stands in for the cluster."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


import pytest


from ansible_collections.ovnk.udn_lab.plugins.modules import network_wait

from fake_api import FakeApi, patch_clock, run_main

INVALID_PRIMARY_MSG = ('invalid primary network state for namespace "blue": a valid primary user defined network or '
                       'network attachment definition custom resource, and required namespace label '
                       '"k8s.ovn.org/primary-user-defined-network" must both be present')


def network(kind, name, namespace=None, status=None, reason="", message="", rv="100"):
    meta = {"name": name, "resourceVersion": rv}
    if namespace:
        meta["namespace"] = namespace
    obj = {"apiVersion": "k8s.ovn.org/v1", "kind": kind, "metadata": meta, "spec": {}}
    if status:
        obj["status"] = {"conditions": [{"type": "NetworkCreated", "status": status, "reason": reason, "message": message,
                                         "lastTransitionTime": "2026-11-27T05:24:03Z"}]}
    return obj


def created(kind, name, namespace=None, rv="100"):
    return network(kind, name, namespace, "True", "NetworkAttachmentDefinitionCreated",
                   "NetworkAttachmentDefinition has been created", rv)


@pytest.fixture
def clock(monkeypatch):
    return patch_clock(monkeypatch, network_wait)


def run(monkeypatch, api, args, check_mode=False, capsys=None):
    return run_main(monkeypatch, network_wait, api, args, capsys, check_mode)


UDN, CUDN = "UserDefinedNetwork", "ClusterUserDefinedNetwork"
WORKSHOP = [
    {"kind": UDN, "name": "blue-network", "namespace": "blue"},
    {"kind": UDN, "name": "green-network", "namespace": "green"},
    {"kind": CUDN, "name": "colored-enterprise"},
]


def test_returns_when_the_last_network_is_created(monkeypatch, capsys, clock):
    api = FakeApi(clock, {
        UDN: [created(UDN, "blue-network", "blue"), network(UDN, "green-network", "green")],
        CUDN: [network(CUDN, "colored-enterprise")],
    }, {
        UDN: [ConnectionResetError("peer reset"), "expire",
              {"type": "MODIFIED", "object": created(UDN, "green-network", "green", rv="5")}],
        CUDN: ["gone", {"type": "MODIFIED", "object": created(CUDN, "colored-enterprise", rv="6")}],
    })
    out = run(monkeypatch, api, {"networks": WORKSHOP, "timeout": 300}, capsys=capsys)
    assert out.get("failed") is not True, out
    assert out["changed"] is False
    assert [(n["kind"], n["namespace"], n["name"], n["ready"]) for n in out["networks"]] == [
        (UDN, "blue", "blue-network", True), (UDN, "green", "green-network", True),
        (CUDN, None, "colored-enterprise", True)]
    blue, green, colored = out["networks"]
    assert blue["ready_seconds"] == 0.0
    assert green["ready_seconds"] == 55.1  # 0.1 s reconnect backoff, one expired watch (55 s), then the event
    assert colored["ready_seconds"] == 55.1  # the CUDN watch starts then: after a 410 relist its event came at once
    assert green["conditions"]["NetworkCreated"]["reason"] == "NetworkAttachmentDefinitionCreated"
    assert out["elapsed_seconds"] == 55.1
    assert out["watch"]["errors"] == 1 and out["watch"]["relists"] == 1 and out["watch"]["lists"] == 3
    # UDNs in two namespaces → one cluster-wide watch; one CUDN → a watch on its name
    assert api.watch_args == [(UDN, None, None, None), (CUDN, None, None, "metadata.name=colored-enterprise")]
    assert ("list_watch", "k8s.ovn.org/v1", UDN) in api.calls


def test_timeout_names_conditions_events_and_what_to_check(monkeypatch, capsys, clock):
    api = FakeApi(clock, {
        UDN: [network(UDN, "blue-network", "blue", "False", "SyncError", INVALID_PRIMARY_MSG),
              created(UDN, "green-network", "green")],
        "Event": [
            {"metadata": {"namespace": "blue"}, "involvedObject": {"kind": UDN, "name": "blue-network", "namespace": "blue"},
             "type": "Warning", "reason": "SyncError", "message": "failed to sync blue-network", "count": 3,
             "lastTimestamp": "2026-11-27T05:00:00Z"},
            {"metadata": {"namespace": "blue"}, "involvedObject": {"kind": "Pod", "name": "blue-network", "namespace": "blue"},
             "type": "Warning", "reason": "NotThisOne", "message": "a pod", "lastTimestamp": "2026-11-27T05:01:00Z"},
        ],
    })
    out = run(monkeypatch, api, {"networks": WORKSHOP, "timeout": 120}, capsys=capsys)
    assert out["failed"] is True and out["changed"] is False
    msg = out["msg"]
    assert msg.startswith("timed out after 120 s waiting for NetworkCreated=True on 2 of 3 networks: "
                          "UserDefinedNetwork blue/blue-network: conditions: NetworkCreated=False "
                          "(SyncError: invalid primary network state for namespace \"blue\"")
    assert "last events: Warning SyncError (x3): failed to sync blue-network; check: a primary network needs the " \
           "namespace label k8s.ovn.org/primary-user-defined-network" in msg
    assert "NotThisOne" not in msg
    assert msg.endswith(" || ClusterUserDefinedNetwork colored-enterprise: not found; last events: none; "
                        "check: create it first, or check its kind, name and namespace")
    assert [(d["kind"], d["name"]) for d in out["not_ready"]] == [(UDN, "blue-network"), (CUDN, "colored-enterprise")]
    assert [n["ready"] for n in out["networks"]] == [False, True, False]
    assert out["elapsed_seconds"] == 120.0
    event_lists = [c[:5] for c in api.calls if c[0] == "list"]
    assert event_lists == [
        ("list", "v1", "Event", "blue", "involvedObject.kind=UserDefinedNetwork,involvedObject.name=blue-network"),
        ("list", "v1", "Event", None, "involvedObject.kind=ClusterUserDefinedNetwork,involvedObject.name=colored-enterprise"),
    ]


def test_check_mode_waits_the_same_and_reports_no_change(monkeypatch, capsys, clock):
    api = FakeApi(clock, {CUDN: [network(CUDN, "happy-tenant")]},
                  {CUDN: [{"type": "MODIFIED", "object": created(CUDN, "happy-tenant", rv="2")}]})
    out = run(monkeypatch, api, {"networks": [{"kind": CUDN, "name": "happy-tenant"}]}, check_mode=True, capsys=capsys)
    assert out["changed"] is False and out["networks"][0]["ready"] is True
    assert api.watch_args == [(CUDN, None, None, "metadata.name=happy-tenant")]


def test_other_condition(monkeypatch, capsys, clock):
    api = FakeApi(clock, {UDN: [created(UDN, "blue-network", "blue")]})
    out = run(monkeypatch, api, {"networks": WORKSHOP[:1], "condition": "NetworkAllocationSucceeded", "timeout": 5},
              capsys=capsys)
    assert out["msg"] == (
        "timed out after 5 s waiting for NetworkAllocationSucceeded=True on 1 of 1 networks: UserDefinedNetwork "
        "blue/blue-network: condition NetworkAllocationSucceeded absent; conditions: NetworkCreated=True "
        "(NetworkAttachmentDefinitionCreated: NetworkAttachmentDefinition has been created); last events: none; "
        "check: it reports NetworkCreated but not (yet) NetworkAllocationSucceeded: check the condition name")
    assert api.watch_args == [(UDN, "blue", None, "metadata.name=blue-network")]


@pytest.mark.parametrize("args,msg", [
    ({"networks": [{"kind": UDN, "name": "blue-network"}]},
     "networks[0] (UserDefinedNetwork blue-network): namespace is required for a UserDefinedNetwork"),
    ({"networks": [WORKSHOP[0], {"kind": CUDN, "name": "colored-enterprise", "namespace": "red"}]},
     "networks[1] (ClusterUserDefinedNetwork colored-enterprise): a ClusterUserDefinedNetwork is cluster-scoped, remove "
     "namespace (red)"),
    ({"networks": [{"kind": UDN, "name": "blue/blue-network"}]}, "networks[0] (UserDefinedNetwork blue/blue-network): name"),
    ({"networks": []}, "networks is empty"),
    ({"networks": [{"kind": "udn", "name": "x", "namespace": "y"}]},
     "value of kind must be one of: UserDefinedNetwork, ClusterUserDefinedNetwork, got: udn"),
    ({"networks": WORKSHOP, "timeout": 0}, "timeout must be a positive number of seconds, got 0"),
    ({"networks": WORKSHOP, "condition": ""}, "condition must be a condition type"),
])
def test_bad_input_fails_before_talking_to_the_cluster(monkeypatch, capsys, clock, args, msg):
    api = FakeApi(clock, {})
    out = run(monkeypatch, api, args, capsys=capsys)
    assert out["failed"] and out["msg"].startswith(msg), out["msg"]
    assert api.calls == []


def test_fatal_api_error_is_one_line(monkeypatch, capsys, clock):
    out = run(monkeypatch, FakeApi(clock, {}).refuse_lists(), {"networks": WORKSHOP}, capsys=capsys)
    assert out["msg"] == "cannot wait for networks: HTTP 403 Forbidden"


def test_cluster_without_udn_api_is_explained(monkeypatch, capsys, clock):
    class ResourceNotFoundError(Exception):
        pass

    api = FakeApi(clock, {})

    def list_watch(*a, **k):
        raise ResourceNotFoundError("No matches found")
    api.list_watch = list_watch
    out = run(monkeypatch, api, {"networks": WORKSHOP[2:]}, capsys=capsys)
    assert out["msg"] == ("the cluster does not serve k8s.ovn.org/v1 ClusterUserDefinedNetwork: install OVN-Kubernetes "
                          "with network segmentation enabled (its UserDefinedNetwork CRDs)")
