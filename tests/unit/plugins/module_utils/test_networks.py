"""Unit tests for plugins/module_utils/networks.py: UDN/CUDN readiness and the wait flow over k8s.watch_until."""

from __future__ import annotations

import functools

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s
from ansible_collections.ovnk.udn_lab.plugins.module_utils import networks as nw

from fake_api import ApiError, Clock, FakeApi

INVALID_PRIMARY_MSG = ('invalid primary network state for namespace "blue": a valid primary user defined network or '
                       'network attachment definition custom resource, and required namespace label '
                       '"k8s.ovn.org/primary-user-defined-network" must both be present')


def cond(ctype, status, reason="", message="", when="2026-11-27T05:24:03Z"):
    return {"type": ctype, "status": status, "reason": reason, "message": message, "lastTransitionTime": when}


CREATED = cond("NetworkCreated", "True", "NetworkAttachmentDefinitionCreated", "NetworkAttachmentDefinition has been created")
ALLOCATED = cond("NetworkAllocationSucceeded", "True", "NetworkAllocationSucceeded",
                 "Network allocation succeeded for all synced nodes.")
INVALID = cond("NetworkCreated", "False", "SyncError", INVALID_PRIMARY_MSG)


def udn(name, namespace, *conditions, rv="100"):
    obj = {"apiVersion": "k8s.ovn.org/v1", "kind": "UserDefinedNetwork",
           "metadata": {"name": name, "namespace": namespace, "resourceVersion": rv, "uid": "uid-" + name},
           "spec": {"topology": "Layer3", "layer3": {"role": "Primary", "subnets": [{"cidr": "103.103.0.0/16"}]}}}
    if conditions:
        obj["status"] = {"conditions": list(conditions)}
    return obj


def cudn(name, *conditions, rv="100"):
    obj = {"apiVersion": "k8s.ovn.org/v1", "kind": "ClusterUserDefinedNetwork",
           "metadata": {"name": name, "resourceVersion": rv, "uid": "uid-" + name},
           "spec": {"namespaceSelector": {"matchExpressions": [
               {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["red", "yellow"]}]},
               "network": {"topology": "Layer2", "layer2": {"role": "Primary", "subnets": ["192.168.0.0/16"]}}}}
    if conditions:
        obj["status"] = {"conditions": list(conditions)}
    return obj


def event(kind, name, reason, message, when, etype="Warning", namespace="default", count=1):
    return {"type": etype, "reason": reason, "message": message, "lastTimestamp": when, "count": count,
            "metadata": {"namespace": namespace},
            "involvedObject": {"kind": kind, "name": name, "namespace": namespace if kind == nw.KIND_UDN else ""}}


# --------------------------------------------------------------------------- input validation


def test_validate_normalises_sorts_and_merges_duplicates():
    targets = nw.validate_networks([
        {"kind": "ClusterUserDefinedNetwork", "name": "colored-enterprise", "namespace": None},
        {"kind": "UserDefinedNetwork", "name": "green-network", "namespace": "green"},
        {"kind": "UserDefinedNetwork", "name": "blue-network", "namespace": "blue"},
        {"kind": "UserDefinedNetwork", "name": "blue-network", "namespace": "blue"},
    ])
    assert targets == [
        {"kind": "UserDefinedNetwork", "name": "blue-network", "namespace": "blue"},
        {"kind": "UserDefinedNetwork", "name": "green-network", "namespace": "green"},
        {"kind": "ClusterUserDefinedNetwork", "name": "colored-enterprise", "namespace": None},
    ]


@pytest.mark.parametrize("items,msg", [
    ([], "networks is empty: give at least one {kind, name} (and namespace for a UserDefinedNetwork)"),
    ([{"kind": "UserDefinedNetwork", "name": "a", "namespace": "a"}, {"kind": "UserDefinedNetwork", "name": "blue-network"}],
     "networks[1] (UserDefinedNetwork blue-network): namespace is required for a UserDefinedNetwork (it is namespaced): "
     "add the namespace the network was created in"),
    ([{"kind": "ClusterUserDefinedNetwork", "name": "colored-enterprise", "namespace": "red"}],
     "networks[0] (ClusterUserDefinedNetwork colored-enterprise): a ClusterUserDefinedNetwork is cluster-scoped, remove "
     "namespace (red); the namespaces it serves come from its spec.namespaceSelector"),
    ([{"kind": "udn", "name": "x", "namespace": "y"}],
     "networks[0] (udn x): kind must be UserDefinedNetwork or ClusterUserDefinedNetwork, got 'udn'"),
    ([{"kind": "UserDefinedNetwork", "name": "blue/blue-network"}],
     "networks[0] (UserDefinedNetwork blue/blue-network): name 'blue/blue-network' must be the bare object name; "
     "give the namespace in namespace"),
    ([{"kind": "ClusterUserDefinedNetwork", "name": ""}],
     "networks[0] (ClusterUserDefinedNetwork): name is required (the network's metadata.name)"),
    (["blue-network"], "networks[0] must be a dict with kind, name and (for a UserDefinedNetwork) namespace, got 'blue-network'"),
])
def test_validate_names_the_bad_item_and_the_fix(items, msg):
    with pytest.raises(ValueError) as err:
        nw.validate_networks(items)
    assert str(err.value) == msg


# --------------------------------------------------------------------------- readiness of one object


def test_network_created_true_is_ready_and_summarised():
    ready, problem, conds = nw.network_readiness(udn("blue-network", "blue", CREATED, ALLOCATED))
    assert ready is True and problem is None
    assert conds["NetworkCreated"] == {"status": "True", "reason": "NetworkAttachmentDefinitionCreated",
                                       "message": "NetworkAttachmentDefinition has been created",
                                       "last_transition_time": "2026-11-27T05:24:03Z"}
    assert set(conds) == {"NetworkCreated", "NetworkAllocationSucceeded"}


def test_terminal_looking_false_is_not_ready_and_quotes_reason_and_message():
    ready, problem, dummy = nw.network_readiness(udn("blue-network", "blue", INVALID))
    assert ready is False
    assert problem == "NetworkCreated=False (SyncError: {0})".format(INVALID_PRIMARY_MSG)


def test_absent_condition_missing_object_and_other_condition():
    assert nw.network_readiness(udn("a", "a")) == (False, "condition NetworkCreated absent", {})
    assert nw.network_readiness(None) == (False, "not found", {})
    obj = cudn("c", CREATED, cond("NetworkAllocationSucceeded", "Unknown"))
    assert nw.network_readiness(obj)[0] is True
    assert nw.network_readiness(obj, "NetworkAllocationSucceeded")[:2] == (False, "NetworkAllocationSucceeded=Unknown")


def test_network_being_deleted_is_not_ready_even_when_created():
    obj = udn("a", "a", CREATED)
    obj["metadata"]["deletionTimestamp"] = "2026-11-27T06:00:00Z"
    assert nw.network_readiness(obj)[:2] == (False, "being deleted since 2026-11-27T06:00:00Z")
    assert nw.hints(obj, "NetworkCreated", nw.conditions_summary(obj)) == [nw.HINT_DELETING]


def test_hints_follow_the_state():
    assert nw.hints(None, "NetworkCreated", {}) == [nw.HINT_NOT_FOUND]
    assert nw.hints(udn("a", "a"), "NetworkCreated", {}) == [nw.HINT_NO_STATUS]
    obj = udn("a", "a", INVALID)
    assert nw.hints(obj, "NetworkCreated", nw.conditions_summary(obj)) == [nw.HINT_INVALID_PRIMARY]
    # v1.3.0 on a CUDN: reason NetworkAttachmentDefinitionSyncError, one message line per unlabelled namespace
    obj = cudn("c", cond("NetworkCreated", "False", "NetworkAttachmentDefinitionSyncError",
                         INVALID_PRIMARY_MSG + "\n" + INVALID_PRIMARY_MSG.replace('"blue"', '"green"')))
    assert nw.hints(obj, "NetworkCreated", nw.conditions_summary(obj)) == [nw.HINT_INVALID_PRIMARY]
    # the same reason with another cause gets no label hint
    obj = cudn("c", cond("NetworkCreated", "False", "NetworkAttachmentDefinitionSyncError",
                         'foreign NetworkAttachmentDefinition with the desired name already exist [red/c]'))
    assert nw.hints(obj, "NetworkCreated", nw.conditions_summary(obj)) == [nw.HINT_FALSE]
    obj = cudn("c", cond("NetworkCreated", "False", "SyncError", "failed to sync network c"))
    assert nw.hints(obj, "NetworkCreated", nw.conditions_summary(obj)) == [nw.HINT_FALSE]
    obj = cudn("c", CREATED)
    assert nw.hints(obj, "NetworkReady", nw.conditions_summary(obj)) == [
        "it reports NetworkCreated but not (yet) NetworkReady: check the condition name"]


def test_watch_scopes_one_watch_per_kind():
    one_ns = nw.validate_networks([{"kind": "UserDefinedNetwork", "name": "blue-network", "namespace": "blue"}])
    assert nw.watch_scopes(one_ns) == [{"kind": "UserDefinedNetwork", "namespace": "blue",
                                        "field_selector": "metadata.name=blue-network", "keys": ["blue/blue-network"]}]
    mixed = nw.validate_networks([
        {"kind": "UserDefinedNetwork", "name": "blue-network", "namespace": "blue"},
        {"kind": "UserDefinedNetwork", "name": "green-network", "namespace": "green"},
        {"kind": "ClusterUserDefinedNetwork", "name": "colored-enterprise"},
        {"kind": "ClusterUserDefinedNetwork", "name": "blue-green-secondary"},
    ])
    assert nw.watch_scopes(mixed) == [
        {"kind": "UserDefinedNetwork", "namespace": None, "field_selector": None,
         "keys": ["blue/blue-network", "green/green-network"]},
        {"kind": "ClusterUserDefinedNetwork", "namespace": None, "field_selector": None,
         "keys": ["/blue-green-secondary", "/colored-enterprise"]},
    ]
    two_in_one_ns = nw.validate_networks([{"kind": "UserDefinedNetwork", "name": "a", "namespace": "blue"},
                                          {"kind": "UserDefinedNetwork", "name": "b", "namespace": "blue"}])
    assert nw.watch_scopes(two_in_one_ns)[0]["namespace"] == "blue"
    assert nw.watch_scopes(two_in_one_ns)[0]["field_selector"] is None


def test_describe_events_keeps_the_latest_in_order_with_counts():
    events = [event("UserDefinedNetwork", "a", "R{0}".format(i), "m{0}".format(i), "2026-11-27T05:0{0}:00Z".format(i))
              for i in (3, 1, 6, 2, 5, 4)]
    events[0]["count"] = 4
    events.append({"type": "Normal", "reason": "Created", "message": "new style", "eventTime": "2026-11-27T05:07:00.000000Z",
                   "series": {"count": 2, "lastObservedTime": "2026-11-27T05:08:00.000000Z"}})
    assert nw.describe_events(events) == ["Warning R3 (x4): m3", "Warning R4: m4", "Warning R5: m5", "Warning R6: m6",
                                          "Normal Created (x2): new style"]
    assert nw.describe_events(events, limit=2) == ["Warning R6: m6", "Normal Created (x2): new style"]
    assert nw.describe_events([]) == []


# --------------------------------------------------------------------------- the flow against a fake list/watch


def FakeNetworks(clock, objects, scripts=None, events=None):
    """The one fake API holding the networks (and ``events``, or an error every Event list raises)."""
    objects = dict(objects)
    unserved = {}
    if isinstance(events, Exception):
        unserved["Event"] = events
    else:
        objects["Event"] = list(events or [])
    return FakeApi(clock, objects, scripts, unserved=unserved)


def event_lists(fake):
    """``(namespace, field selector)`` of every Event list the flow made."""
    return [(c[3], c[4]) for c in fake.calls if c[0] == "list" and c[2] == "Event"]


def wait(fake, clock, items, timeout=600, condition="NetworkCreated"):
    list_watch, list_events = nw.api_callables(fake)
    return nw.wait_networks(list_watch, list_events, nw.validate_networks(items), condition, timeout, clock,
                            watch=functools.partial(k8s.watch_until, sleep=clock.sleep))


WORKSHOP = [
    {"kind": "UserDefinedNetwork", "name": "blue-network", "namespace": "blue"},
    {"kind": "UserDefinedNetwork", "name": "green-network", "namespace": "green"},
    {"kind": "ClusterUserDefinedNetwork", "name": "colored-enterprise"},
]


def test_waits_through_a_dropped_connection_and_a_410_relist():
    clock = Clock()
    fake = FakeNetworks(clock, {
        "UserDefinedNetwork": [udn("blue-network", "blue"), udn("green-network", "green", CREATED),
                               udn("other", "blue")],
        "ClusterUserDefinedNetwork": [cudn("colored-enterprise", CREATED)],
    }, {"UserDefinedNetwork": [
        {"type": "MODIFIED", "object": udn("blue-network", "blue", INVALID, rv="501")},  # False: keep waiting
        ConnectionResetError("connection reset by peer"),
        ("silent", udn("blue-network", "blue", CREATED, rv="600")),
        "gone",
    ]})
    res = wait(fake, clock, WORKSHOP)
    assert [(n["name"], n["ready"]) for n in res["networks"]] == [
        ("blue-network", True), ("green-network", True), ("colored-enterprise", True)]
    blue = res["networks"][0]
    assert blue["namespace"] == "blue" and blue["kind"] == "UserDefinedNetwork"
    assert blue["conditions"]["NetworkCreated"]["status"] == "True"
    assert blue["ready_seconds"] == 0.1  # the 0.1 s reconnect backoff, then the relist saw it ready
    assert res["networks"][1]["ready_seconds"] == 0.0
    assert res["networks"][2]["namespace"] is None
    assert res["watch"]["relists"] == 1 and res["watch"]["errors"] == 1 and res["watch"]["lists"] == 3
    # two namespaces: one cluster-wide UDN watch; the unrelated UDN "blue/other" is not waited for
    assert fake.watch_args == [("UserDefinedNetwork", None, None, None),
                               ("ClusterUserDefinedNetwork", None, None, "metadata.name=colored-enterprise")]
    assert [c[1] for c in fake.watches] == ["100", "501"]
    assert event_lists(fake) == []  # events are read on timeout only


def test_false_condition_does_not_end_the_wait_early():
    clock = Clock()
    fake = FakeNetworks(clock, {"UserDefinedNetwork": [udn("blue-network", "blue", INVALID)]},
                        {"UserDefinedNetwork": ["expire", "expire", ApiError(410, "Gone"),
                                                {"type": "MODIFIED", "object": udn("blue-network", "blue", CREATED, rv="7")}]})
    res = wait(fake, clock, WORKSHOP[:1], timeout=300)
    assert res["networks"][0]["ready"] is True
    assert res["networks"][0]["ready_seconds"] == 110.0  # two expired 55 s watches, a relist, then the event
    assert res["elapsed_seconds"] == 110.0
    assert res["watch"]["reconnects"] == 2 and res["watch"]["relists"] == 1 and res["watch"]["lists"] == 2
    assert fake.watch_args == [("UserDefinedNetwork", "blue", None, "metadata.name=blue-network")]


def test_timeout_names_conditions_events_and_hints_per_network():
    clock = Clock()
    events = [event("UserDefinedNetwork", "blue-network", "SyncError", "old {0}".format(i),
                    "2026-11-27T05:0{0}:00Z".format(i), namespace="blue") for i in range(1, 7)]
    events.append(event("UserDefinedNetwork", "blue-network", "Unrelated", "other namespace", "2026-11-27T05:09:00Z",
                        namespace="elsewhere"))
    events.append(event("ClusterUserDefinedNetwork", "colored-enterprise", "ProcessError", "not found yet",
                        "2026-11-27T05:00:00Z"))
    fake = FakeNetworks(clock, {
        "UserDefinedNetwork": [udn("blue-network", "blue", INVALID, ALLOCATED), udn("green-network", "green")],
    }, events=events)
    with pytest.raises(nw.FlowError) as err:
        wait(fake, clock, WORKSHOP, timeout=120)
    msg = str(err.value)
    assert msg.startswith("timed out after 120 s waiting for NetworkCreated=True on 3 of 3 networks: ")
    blue, green, colored = msg.split(": ", 1)[1].split(" || ")
    assert blue == (
        "UserDefinedNetwork blue/blue-network: conditions: NetworkAllocationSucceeded=True (NetworkAllocationSucceeded: "
        "Network allocation succeeded for all synced nodes.); NetworkCreated=False (SyncError: "
        + INVALID_PRIMARY_MSG + "); last events: Warning SyncError: old 2 | Warning SyncError: old 3 | "
        "Warning SyncError: old 4 | Warning SyncError: old 5 | Warning SyncError: old 6; check: " + nw.HINT_INVALID_PRIMARY)
    assert green == ("UserDefinedNetwork green/green-network: condition NetworkCreated absent; conditions: none yet; "
                     "last events: none; check: " + nw.HINT_NO_STATUS)
    assert colored == ("ClusterUserDefinedNetwork colored-enterprise: not found; last events: Warning ProcessError: "
                       "not found yet; check: " + nw.HINT_NOT_FOUND)
    assert event_lists(fake) == [("blue", nw.event_field_selector("UserDefinedNetwork", "blue-network")),
                                 ("green", nw.event_field_selector("UserDefinedNetwork", "green-network")),
                                 (None, nw.event_field_selector("ClusterUserDefinedNetwork", "colored-enterprise"))]
    details = err.value.details
    assert [d["name"] for d in details["not_ready"]] == ["blue-network", "green-network", "colored-enterprise"]
    assert details["not_ready"][0]["problem"].startswith("NetworkCreated=False (SyncError")
    # what the controller shows between 30 s slices of a long wait: one line, each network and its problem
    assert details["timed_out"] is True
    assert details["pending"] == (
        "UserDefinedNetwork blue/blue-network: NetworkCreated=False (SyncError: " + INVALID_PRIMARY_MSG + "); "
        "UserDefinedNetwork green/green-network: condition NetworkCreated absent; "
        "ClusterUserDefinedNetwork colored-enterprise: not found")
    assert [n["ready"] for n in details["networks"]] == [False, False, False]
    assert details["elapsed_seconds"] == 120.0


def test_one_deadline_for_both_kinds_and_ready_seconds_survive_the_failure():
    clock = Clock()
    fake = FakeNetworks(clock, {
        "UserDefinedNetwork": [udn("blue-network", "blue")],
        "ClusterUserDefinedNetwork": [cudn("colored-enterprise")],
    }, {"UserDefinedNetwork": ["expire", {"type": "MODIFIED", "object": udn("blue-network", "blue", CREATED, rv="9")}]})
    with pytest.raises(nw.FlowError) as err:
        wait(fake, clock, [WORKSHOP[0], WORKSHOP[2]], timeout=100)
    details = err.value.details
    assert details["elapsed_seconds"] == 100.0  # not 55 + 100: the CUDN watch got what was left
    assert fake.watches == [("UserDefinedNetwork", "100", 55), ("UserDefinedNetwork", "100", 45),
                            ("ClusterUserDefinedNetwork", "100", 45)]
    assert [(n["name"], n["ready"], n["ready_seconds"]) for n in details["networks"]] == [
        ("blue-network", True, 55.0), ("colored-enterprise", False, None)]
    assert "on 1 of 2 networks: ClusterUserDefinedNetwork colored-enterprise: condition NetworkCreated absent" in str(err.value)


def test_second_kind_is_still_read_when_the_first_used_the_whole_deadline():
    clock = Clock()
    fake = FakeNetworks(clock, {
        "UserDefinedNetwork": [udn("blue-network", "blue")],
        "ClusterUserDefinedNetwork": [cudn("colored-enterprise", CREATED)],
    })
    with pytest.raises(nw.FlowError) as err:
        wait(fake, clock, [WORKSHOP[0], WORKSHOP[2]], timeout=30)
    assert "on 1 of 2 networks: UserDefinedNetwork blue/blue-network" in str(err.value)
    assert err.value.details["networks"][1]["ready"] is True
    assert fake.lists == ["UserDefinedNetwork", "ClusterUserDefinedNetwork"]


def test_unreadable_events_do_not_hide_the_timeout_and_watch_errors_are_quoted():
    clock = Clock()
    fake = FakeNetworks(clock, {"ClusterUserDefinedNetwork": [cudn("colored-enterprise")]},
                        {"ClusterUserDefinedNetwork": [OSError("read timed out")] + ["expire"] * 5}, events=ApiError(403, "Forbidden"))
    with pytest.raises(nw.FlowError) as err:
        wait(fake, clock, [WORKSHOP[2]], timeout=60)
    msg = str(err.value)
    assert "last events: events unavailable: HTTP 403 Forbidden" in msg
    assert msg.endswith("(last watch error: ClusterUserDefinedNetwork: OSError: read timed out)")


def test_network_that_goes_away_after_being_ready_is_waited_for_again():
    clock = Clock()
    fake = FakeNetworks(clock, {"UserDefinedNetwork": [udn("a", "blue", CREATED), udn("b", "blue")]},
                        {"UserDefinedNetwork": [{"type": "DELETED", "object": udn("a", "blue", CREATED)}, "expire",
                                                {"type": "ADDED", "object": udn("a", "blue", CREATED)},
                                                {"type": "MODIFIED", "object": udn("b", "blue", CREATED)}]})
    res = wait(fake, clock, [{"kind": "UserDefinedNetwork", "name": "a", "namespace": "blue"},
                             {"kind": "UserDefinedNetwork", "name": "b", "namespace": "blue"}])
    assert [(n["name"], n["ready_seconds"]) for n in res["networks"]] == [("a", 55.0), ("b", 55.0)]


def test_missing_crd_is_explained():
    class ResourceNotFoundError(Exception):
        pass

    def list_watch(kind, namespace=None, field_selector=None):
        raise ResourceNotFoundError("No matches found for {'api_version': 'k8s.ovn.org/v1'}")

    with pytest.raises(nw.FlowError, match="the cluster does not serve k8s.ovn.org/v1 UserDefinedNetwork: install "
                                           "OVN-Kubernetes with network segmentation enabled"):
        nw.wait_networks(list_watch, None, nw.validate_networks(WORKSHOP[:1]), "NetworkCreated", 10, Clock(),
                         watch=k8s.watch_until)


def test_other_client_errors_propagate():
    def list_watch(kind, namespace=None, field_selector=None):
        raise ApiError(403, "Forbidden")

    with pytest.raises(ApiError, match="Forbidden"):
        nw.wait_networks(list_watch, None, nw.validate_networks(WORKSHOP[:1]), "NetworkCreated", 10, Clock(),
                         watch=k8s.watch_until)


def test_api_callables_use_the_ovn_api_and_event_selectors():
    api = FakeApi()
    list_watch, list_events = nw.api_callables(api)
    list_watch("ClusterUserDefinedNetwork", None, "metadata.name=c")
    list_events("UserDefinedNetwork", "blue-network", "blue")
    assert api.watch_args == [("ClusterUserDefinedNetwork", None, None, "metadata.name=c")]
    assert api.calls == [
        ("list_watch", "k8s.ovn.org/v1", "ClusterUserDefinedNetwork"),
        ("list", "v1", "Event", "blue", "involvedObject.kind=UserDefinedNetwork,involvedObject.name=blue-network", None),
    ]
