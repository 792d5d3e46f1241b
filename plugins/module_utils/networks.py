# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""OVN-Kubernetes UserDefinedNetwork / ClusterUserDefinedNetwork readiness and the wait flow built on it.

The first part is pure functions over plain dicts (input validation, readiness of one network object, watch
scopes, diagnostics text). The last part (:func:`wait_networks`) strings them together with I/O done only
through injected callables - ``list_watch`` (``(list_fn, watch_fn)`` for one kind and scope), ``list_events``
and the list-then-watch helper k8s.watch_until - and an injected clock, so it runs against fakes in tests.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ovnk.udn_lab.plugins.module_utils.waits import FlowError, ReadyTracker

API_VERSION = "k8s.ovn.org/v1"
KIND_UDN = "UserDefinedNetwork"
KIND_CUDN = "ClusterUserDefinedNetwork"
KINDS = (KIND_UDN, KIND_CUDN)
"""Kinds in the order they are waited for (one watch each)."""

COND_NETWORK_CREATED = "NetworkCreated"
REASON_SYNC_ERROR = "SyncError"
REASON_NAD_SYNC_ERROR = "NetworkAttachmentDefinitionSyncError"
"""OVN-Kubernetes v1.3.0 reports every failure of a UDN as ``SyncError`` and of a CUDN as
``NetworkAttachmentDefinitionSyncError`` (``clustermanager/userdefinednetwork/controller.go``); what went wrong is
in the message only."""
MESSAGE_INVALID_PRIMARY = "invalid primary network state for namespace"
"""Start of ``util.NewInvalidPrimaryNetworkError``'s message (v1.3.0 ``go-controller/pkg/util/util.go``): a Primary
network over a namespace without :data:`PRIMARY_UDN_LABEL` (one line per such namespace on a CUDN)."""
PRIMARY_UDN_LABEL = "k8s.ovn.org/primary-user-defined-network"

CORE_V1 = "v1"
KIND_EVENT = "Event"
DIAG_EVENTS = 5
"""How many of the latest Events of a network the timeout message quotes."""

WATCH_STAT_KEYS = ("lists", "watches", "events", "reconnects", "relists", "errors")

HINT_NOT_FOUND = "create it first, or check its kind, name and namespace"
HINT_NO_STATUS = ("no status yet: check that OVN-Kubernetes runs with multi-network and network segmentation "
                  "enabled (enableMultiNetwork, enableNetworkSegmentation) and that ovnkube-control-plane is running")
HINT_INVALID_PRIMARY = ("a primary network needs the namespace label {0}, which can only be set when the namespace is "
                        "created: recreate the namespace with it".format(PRIMARY_UDN_LABEL))
HINT_DELETING = "the object is being deleted (pods still using the network block it): wait for it to go, then create it again"
HINT_FALSE = "see the ovnkube-control-plane logs for this network"


# --------------------------------------------------------------------------- input


def network_key(kind, name, namespace=None):
    """Key of a network as k8s.watch_until stores it: ``namespace/name`` (UDN) or ``/name`` (CUDN)."""
    return "{0}/{1}".format((namespace or "") if kind == KIND_UDN else "", name)


def network_ref(target):
    """Human reference: ``UserDefinedNetwork blue/tenant-blue`` or ``ClusterUserDefinedNetwork colored``."""
    if target["kind"] == KIND_UDN:
        return "{0} {1}/{2}".format(target["kind"], target["namespace"], target["name"])
    return "{0} {1}".format(target["kind"], target["name"])


def _item_label(index, item):
    what = " ".join(str(item.get(k)) for k in ("kind", "name") if item.get(k))
    return "networks[{0}]{1}".format(index, " ({0})".format(what) if what else "")


def validate_networks(networks):
    """Check and normalise the ``networks`` option into sorted ``{kind, name, namespace}`` dicts (duplicates merged).

    A UserDefinedNetwork needs ``namespace``; a ClusterUserDefinedNetwork is cluster-scoped and refuses one.
    Raises ValueError naming the first bad item (``networks[2] (…)``) and how to fix it.
    """
    if not networks:
        raise ValueError("networks is empty: give at least one {{kind, name}} (and namespace for a {0})".format(KIND_UDN))
    out = {}
    for index, item in enumerate(networks):
        if not isinstance(item, dict):
            raise ValueError("networks[{0}] must be a dict with kind, name and (for a {1}) namespace, got {2!r}".format(
                index, KIND_UDN, item))
        label = _item_label(index, item)
        kind, name, namespace = item.get("kind"), item.get("name"), item.get("namespace")
        if kind not in KINDS:
            raise ValueError("{0}: kind must be {1} or {2}, got {3!r}".format(label, KIND_UDN, KIND_CUDN, kind))
        if not name or not isinstance(name, str):
            raise ValueError("{0}: name is required (the network's metadata.name)".format(label))
        if "/" in name:
            raise ValueError("{0}: name {1!r} must be the bare object name; give the namespace in namespace".format(label, name))
        if kind == KIND_UDN and not namespace:
            raise ValueError("{0}: namespace is required for a {1} (it is namespaced): add the namespace the network "
                             "was created in".format(label, KIND_UDN))
        if kind == KIND_CUDN and namespace:
            raise ValueError("{0}: a {1} is cluster-scoped, remove namespace ({2}); the namespaces it serves come from "
                             "its spec.namespaceSelector".format(label, KIND_CUDN, namespace))
        target = {"kind": kind, "name": name, "namespace": namespace if kind == KIND_UDN else None}
        out[(KINDS.index(kind), namespace or "", name)] = target
    return [out[k] for k in sorted(out)]


# --------------------------------------------------------------------------- readiness of one object


def conditions_summary(obj):
    """``{type: {status, reason, message, last_transition_time}}`` from ``obj.status.conditions``."""
    out = {}
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type"):
            out[cond["type"]] = {
                "status": cond.get("status"),
                "reason": cond.get("reason", ""),
                "message": cond.get("message", ""),
                "last_transition_time": cond.get("lastTransitionTime"),
            }
    return out


def describe_condition(ctype, cond):
    """``NetworkCreated=False (SyncError: message)`` for one entry of :func:`conditions_summary`."""
    text = "{0}={1}".format(ctype, cond.get("status"))
    detail = ": ".join(x for x in (cond.get("reason"), cond.get("message")) if x)
    return "{0} ({1})".format(text, detail) if detail else text


def network_readiness(obj, condition=COND_NETWORK_CREATED):
    """Decide whether one network object is ready: its condition ``condition`` has status ``"True"``.

    A condition ``False`` (even with a message that looks terminal, such as "invalid primary network state") is
    only "not ready yet": OVN-Kubernetes retries, and the caller keeps waiting. An object being deleted is not ready.

    Returns ``(ready, problem, conditions)``: ``problem`` is None when ready, else one human string (the
    condition as ``Type=Status (reason: message)``, ``condition X absent`` or ``not found``); ``conditions`` is
    :func:`conditions_summary`.
    """
    if obj is None:
        return False, "not found", {}
    conds = conditions_summary(obj)
    deleting = (obj.get("metadata") or {}).get("deletionTimestamp")
    cond = conds.get(condition)
    if cond is None:
        problem = "condition {0} absent".format(condition)
    elif str(cond.get("status")) != "True":
        problem = describe_condition(condition, cond)
    else:
        problem = None
    if deleting:
        return False, "being deleted since {0}{1}".format(deleting, "; " + problem if problem else ""), conds
    return problem is None, problem, conds


def hints(obj, condition, conds):
    """What to check for a network that is not ready (pure; from its state and condition reason)."""
    if obj is None:
        return [HINT_NOT_FOUND]
    out = []
    if (obj.get("metadata") or {}).get("deletionTimestamp"):
        out.append(HINT_DELETING)
    if not conds:
        out.append(HINT_NO_STATUS)
    cond = conds.get(condition) or {}
    if conds and not cond:
        out.append("it reports {0} but not (yet) {1}: check the condition name".format(", ".join(sorted(conds)), condition))
    messages = (cond.get("message") or "", (conds.get(COND_NETWORK_CREATED) or {}).get("message") or "")
    if any(MESSAGE_INVALID_PRIMARY in message for message in messages):
        out.append(HINT_INVALID_PRIMARY)
    elif cond and str(cond.get("status")) != "True":
        out.append(HINT_FALSE)
    return out


# --------------------------------------------------------------------------- watch scope and tracker


def watch_scopes(targets):
    """One scope per kind: ``[{kind, namespace, field_selector, keys}]`` in :data:`KINDS` order.

    UDNs in one namespace → a namespaced watch; in several → one cluster-wide watch whose objects are filtered
    to the wanted keys (needs list/watch on UDNs cluster-wide). CUDNs are always watched cluster-wide. One
    network of a kind → ``metadata.name`` field selector.
    """
    scopes = []
    for kind in KINDS:
        mine = [t for t in targets if t["kind"] == kind]
        if not mine:
            continue
        namespaces = sorted(set(t["namespace"] for t in mine if t["namespace"]))
        names = sorted(set(t["name"] for t in mine))
        scopes.append({
            "kind": kind,
            "namespace": namespaces[0] if kind == KIND_UDN and len(namespaces) == 1 else None,
            "field_selector": "metadata.name={0}".format(names[0]) if len(mine) == 1 else None,
            "keys": [network_key(t["kind"], t["name"], t["namespace"]) for t in mine],
        })
    return scopes


class NetworkTracker(ReadyTracker):
    """``done(objects)`` callback for k8s.watch_until that also records when each network first became ready."""

    def __init__(self, keys, condition, clock, started):
        super(NetworkTracker, self).__init__(keys, clock, started)
        self.condition = condition

    def keep(self, obj):
        """``keep`` filter for k8s.watch_until: only the wanted networks are kept."""
        meta = (obj or {}).get("metadata") or {}
        return "{0}/{1}".format(meta.get("namespace") or "", meta.get("name") or "") in self.keys

    def assess(self, key, obj):
        return network_readiness(obj, self.condition)


# --------------------------------------------------------------------------- diagnostics


def event_field_selector(kind, name):
    """Field selector of the Events about one network (``involvedObject.kind`` and ``.name``)."""
    return "involvedObject.kind={0},involvedObject.name={1}".format(kind, name)


def _event_time(event):
    series = event.get("series") or {}
    return (event.get("lastTimestamp") or series.get("lastObservedTime") or event.get("eventTime")
            or event.get("firstTimestamp") or (event.get("metadata") or {}).get("creationTimestamp") or "")


def describe_events(events, limit=DIAG_EVENTS):
    """The latest ``limit`` Events, oldest first, as ``Warning SyncError (x3): message``."""
    lines = []
    for event in sorted(events or [], key=_event_time)[-limit:]:
        count = event.get("count") or (event.get("series") or {}).get("count")
        lines.append("{0} {1}{2}: {3}".format(event.get("type") or "Normal", event.get("reason") or "-",
                                              " (x{0})".format(count) if count and int(count) > 1 else "",
                                              event.get("message") or ""))
    return lines


def _error_text(exc):
    status = getattr(exc, "status", None)
    if status is not None:
        return "HTTP {0} {1}".format(status, getattr(exc, "reason", "") or "").strip()
    return "{0}: {1}".format(type(exc).__name__, exc)


def network_diagnostics(target, obj, condition, problem, conds, list_events):
    """Per network not ready: problem, every condition, the latest Events and hints (events read through ``list_events``)."""
    try:
        events = describe_events(list_events(target["kind"], target["name"], target["namespace"]))
    except Exception as exc:  # diagnostics must not hide the timeout itself
        events = ["events unavailable: {0}".format(_error_text(exc))]
    return {
        "kind": target["kind"],
        "name": target["name"],
        "namespace": target["namespace"],
        "problem": problem,
        "conditions": [describe_condition(t, c) for t, c in sorted(conds.items())],
        "events": events,
        "hints": hints(obj, condition, conds),
    }


def diagnostics_line(diag):
    """One line of the timeout message for one network."""
    parts = []
    if diag["problem"] == "not found":
        parts.append("not found")
    else:
        if diag["problem"].startswith("being deleted") or diag["problem"].startswith("condition "):
            parts.append(diag["problem"].split("; ", 1)[0])
        parts.append("conditions: {0}".format("; ".join(diag["conditions"]) if diag["conditions"] else "none yet"))
    parts.append("last events: {0}".format(" | ".join(diag["events"]) if diag["events"] else "none"))
    if diag["hints"]:
        parts.append("check: {0}".format("; ".join(diag["hints"])))
    return "{0}: {1}".format(network_ref(diag), "; ".join(parts))


def api_missing_hint(exc, kind):
    """A clearer message when the cluster does not serve the kind at all (discovery ``ResourceNotFoundError``)."""
    if type(exc).__name__ != "ResourceNotFoundError":
        return None
    return ("the cluster does not serve {0} {1}: install OVN-Kubernetes with network segmentation enabled "
            "(its UserDefinedNetwork CRDs)".format(API_VERSION, kind))


# --------------------------------------------------------------------------- the flow


def api_callables(api):
    """``(list_watch, list_events)`` over a k8s.KubeApi-like ``api`` (methods ``list_watch`` and ``list``)."""
    def list_watch(kind, namespace=None, field_selector=None):
        return api.list_watch(API_VERSION, kind, namespace, None, field_selector)

    def list_events(kind, name, namespace=None):
        return api.list(CORE_V1, KIND_EVENT, namespace, field_selector=event_field_selector(kind, name))

    return list_watch, list_events


def wait_networks(list_watch, list_events, targets, condition, timeout, clock, watch):
    """Wait until every network in ``targets`` (from :func:`validate_networks`) has ``condition`` = ``"True"``.

    :param list_watch: ``list_watch(kind, namespace, field_selector) -> (list_fn, watch_fn)`` for k8s.watch_until.
    :param list_events: ``list_events(kind, name, namespace) -> [event dicts]`` (only read on timeout).
    :param timeout: seconds; ONE deadline for every network. Kinds are watched one after the other against it.
    :param clock: monotonic clock; ``watch`` is k8s.watch_until (injected: no client imports here).
    :returns: ``{networks, elapsed_seconds, watch}``; ``networks`` entries are ``{kind, name, namespace, ready,
        conditions, ready_seconds}`` in the (sorted) order of :func:`validate_networks`.
    :raises FlowError: on timeout, with per network not ready its conditions, latest Events and hints
        (``details``: ``not_ready`` plus the return values).
    """
    started = clock()
    deadline = started + timeout
    stats = dict((k, 0) for k in WATCH_STAT_KEYS)
    states, ready_at, objects, errors = {}, {}, {}, []
    all_done = True
    for scope in watch_scopes(targets):
        try:
            list_fn, watch_fn = list_watch(scope["kind"], scope["namespace"], scope["field_selector"])
        except Exception as exc:
            hint = api_missing_hint(exc, scope["kind"])
            if hint:
                raise FlowError(hint)
            raise
        tracker = NetworkTracker(scope["keys"], condition, clock, started)
        result = watch(list_fn, watch_fn, tracker, deadline, clock=clock, keep=tracker.keep)
        for key in WATCH_STAT_KEYS:
            stats[key] += result["stats"].get(key, 0)
        if not result["done"]:
            all_done = False
            if result["last_error"]:
                errors.append("{0}: {1}".format(scope["kind"], result["last_error"]))
        for key in scope["keys"]:
            states[(scope["kind"], key)] = tracker.state.get(key) or network_readiness(None, condition)
            ready_at[(scope["kind"], key)] = tracker.ready_at.get(key)
            objects[(scope["kind"], key)] = result["objects"].get(key)
    elapsed = round(clock() - started, 3)
    entries = []
    for target in targets:
        ident = (target["kind"], network_key(target["kind"], target["name"], target["namespace"]))
        ready, dummy, conds = states[ident]
        entries.append(dict(target, ready=ready, conditions=conds, ready_seconds=ready_at[ident]))
    out = {"networks": entries, "elapsed_seconds": elapsed, "watch": stats}
    if all_done:
        return out
    diags = []
    for target in targets:
        ident = (target["kind"], network_key(target["kind"], target["name"], target["namespace"]))
        ready, problem, conds = states[ident]
        if not ready:
            diags.append(network_diagnostics(target, objects[ident], condition, problem, conds, list_events))
    msg = "timed out after {0} s waiting for {1}=True on {2} of {3} networks: {4}".format(
        timeout, condition, len(diags), len(entries), " || ".join(diagnostics_line(d) for d in diags))
    if errors:
        msg += " (last watch error: {0})".format("; ".join(errors))
    raise FlowError(msg, not_ready=diags, timed_out=True, pending=pending_networks(entries, states), **out)


def pending_networks(entries, states):
    """One line of what a network wait still waits for: each network not ready with its problem, then how many are
    ready (``UserDefinedNetwork blue/blue-network: NetworkCreated=False (...); 3 ready``)."""
    waiting, ready = [], 0
    for entry in entries:
        if entry.get("ready"):
            ready += 1
            continue
        ident = (entry["kind"], network_key(entry["kind"], entry["name"], entry.get("namespace")))
        problem = (states.get(ident) or (False, None, {}))[1]
        waiting.append("{0} {1}: {2}".format(entry["kind"], "{0}/{1}".format(entry["namespace"], entry["name"])
                                             if entry.get("namespace") else entry["name"], problem or "not ready"))
    return "; ".join(waiting + (["{0} ready".format(ready)] if ready else []))
