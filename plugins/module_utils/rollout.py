# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Wait until workloads, nodes, pods or an operator's custom resource are ready (pure functions).

What "ready" means, per kind:

* DaemonSet and Deployment: rolled out, with the rules of ``kubectl rollout status``
  (k8s.io/kubectl v0.35.0 ``pkg/polymorphichelpers/rollout_status.go``): the controller observed the latest
  generation, every pod is updated, no old pod is left (Deployment) and every updated pod is available.
* Pod: condition ``Ready`` is ``True``, or the pod ran to completion (phase ``Succeeded``), which is what a
  finished Job's pod looks like in ``kube-system``.
* Anything else (Node, KubeVirt, ...): the condition named by the target (``Ready`` unless set) is ``True``.

A target names one object (``name``) or every object of its kind in its scope (namespace, label selector); a
target that matches nothing is not ready ("none found"). Targets are watched one after the other with
:func:`k8s.watch_until` against ONE deadline, as the network and VMI waits do. On timeout the flow raises
:class:`waits.FlowError` with ``timed_out``, a one-line ``pending`` (what the controller-side action plugin prints
between its 30 s slices) and, per object not ready, the reason and the latest Events.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ovnk.udn_lab.plugins.module_utils.waits import FlowError, ReadyTracker

WATCH_STAT_KEYS = ("lists", "watches", "events", "reconnects", "relists", "errors")
ROLLOUT_KINDS = ("DaemonSet", "Deployment")
DEFAULT_CONDITIONS = {"Node": "Ready", "Pod": "Ready", "KubeVirt": "Available"}
EVENTS_SHOWN = 5
PENDING_SHOWN = 4


# ---------------------------------------------------------------------------------------------------------------
# Input
# ---------------------------------------------------------------------------------------------------------------

def validate_targets(items):
    """The targets of a wait, checked before the cluster is contacted: each item needs ``kind`` and
    ``api_version``; ``name``, ``names`` (one target per name) and ``label_selector`` exclude each other; ``condition`` applies to kinds other than
    DaemonSet and Deployment. Returns the items with defaults filled in; raises ValueError naming the item."""
    out = []
    for index, item in enumerate(items or []):
        where = "resources[{0}]".format(index)
        if not isinstance(item, dict) or not item.get("kind") or not item.get("api_version"):
            raise ValueError("{0} needs kind and api_version, got {1!r}".format(where, item))
        given = [k for k in ("name", "names", "label_selector") if item.get(k)]
        if len(given) > 1:
            raise ValueError("{0} sets {1}: give one of name, names and label_selector (names wait for those "
                             "objects, a selector for every object it matches)".format(where, " and ".join(given)))
        condition = item.get("condition")
        if condition and item["kind"] in ROLLOUT_KINDS:
            raise ValueError("{0}: a {1} is waited for until it is rolled out; condition does not apply to "
                             "it".format(where, item["kind"]))
        for name in item.get("names") or [item.get("name") or None]:
            out.append(dict(api_version=item["api_version"], kind=item["kind"],
                            namespace=item.get("namespace") or None, name=name,
                            label_selector=item.get("label_selector") or None,
                            condition=condition or DEFAULT_CONDITIONS.get(item["kind"], "Ready")))
    if not out:
        raise ValueError("resources is empty: give the objects to wait for")
    return out


def describe_target(target):
    """``DaemonSet ovn-kubernetes/ovnkube-node``, ``every Node``, ``every Pod in kube-system (app=x)``."""
    if target.get("name"):
        return "{0} {1}".format(target["kind"], _ref(target.get("namespace"), target["name"]))
    text = "every {0}".format(target["kind"])
    if target.get("namespace"):
        text += " in {0}".format(target["namespace"])
    if target.get("label_selector"):
        text += " ({0})".format(target["label_selector"])
    return text


def _ref(namespace, name):
    return "{0}/{1}".format(namespace, name) if namespace else name


# ---------------------------------------------------------------------------------------------------------------
# Readiness of one object
# ---------------------------------------------------------------------------------------------------------------

def _conditions(obj):
    return dict((c.get("type"), c) for c in ((obj.get("status") or {}).get("conditions") or []) if isinstance(c, dict))


def _condition_text(cond):
    detail = ": ".join(x for x in (cond.get("reason"), cond.get("message")) if x)
    return "{0}={1}{2}".format(cond.get("type"), cond.get("status"), " ({0})".format(detail) if detail else "")


def daemonset_readiness(obj):
    """``(ready, problem)`` of a DaemonSet, as ``kubectl rollout status``."""
    meta, status = obj.get("metadata") or {}, obj.get("status") or {}
    if (meta.get("generation") or 0) > (status.get("observedGeneration") or 0):
        return False, "spec update not yet observed by the DaemonSet controller"
    desired = status.get("desiredNumberScheduled") or 0
    updated = status.get("updatedNumberScheduled") or 0
    available = status.get("numberAvailable") or 0
    if updated < desired:
        return False, "{0} of {1} pods updated".format(updated, desired)
    if available < desired:
        return False, "{0} of {1} pods available".format(available, desired)
    return True, "{0} of {1} pods available".format(available, desired)


def deployment_readiness(obj):
    """``(ready, problem)`` of a Deployment, as ``kubectl rollout status`` (a passed progress deadline is named
    but the wait goes on: a pod pulling a slow image can still become ready)."""
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    if (meta.get("generation") or 0) > (status.get("observedGeneration") or 0):
        return False, "spec update not yet observed by the Deployment controller"
    wanted = spec.get("replicas", 1)
    replicas = status.get("replicas") or 0
    updated = status.get("updatedReplicas") or 0
    available = status.get("availableReplicas") or 0
    progressing = _conditions(obj).get("Progressing") or {}
    late = " (exceeded its progress deadline: {0})".format(progressing.get("message") or "ProgressDeadlineExceeded") \
        if progressing.get("reason") == "ProgressDeadlineExceeded" else ""
    if wanted is not None and updated < wanted:
        return False, "{0} of {1} replicas updated{2}".format(updated, wanted, late)
    if replicas > updated:
        return False, "{0} old replicas pending termination{1}".format(replicas - updated, late)
    if available < updated:
        return False, "{0} of {1} updated replicas available{2}".format(available, updated, late)
    return True, "{0} of {1} replicas available".format(available, updated)


def pod_readiness(obj):
    """``(ready, problem)`` of a Pod: Ready, or Succeeded. The problem names the phase and, first, what a
    container waits for or why the pod is not scheduled."""
    status = obj.get("status") or {}
    phase = status.get("phase") or "Pending"
    if phase == "Succeeded":
        return True, "Succeeded"
    conds = _conditions(obj)
    if (conds.get("Ready") or {}).get("status") == "True":
        return True, "Ready"
    details = []
    scheduled = conds.get("PodScheduled") or {}
    if scheduled.get("status") == "False":
        details.append(_condition_text(scheduled))
    for container in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        state = container.get("state") or {}
        waiting = state.get("waiting") or {}
        terminated = state.get("terminated") or {}
        if waiting.get("reason"):
            details.append("{0}: {1}".format(container.get("name"), waiting["reason"]))
        elif terminated.get("reason") and terminated.get("exitCode"):
            details.append("{0}: {1} (exit {2})".format(container.get("name"), terminated["reason"],
                                                        terminated["exitCode"]))
        elif not container.get("ready") and "running" in state:
            details.append("{0}: running, not ready".format(container.get("name")))
    return False, "{0}{1}".format(phase, " ({0})".format("; ".join(details[:3])) if details else "")


def condition_readiness(obj, condition):
    """``(ready, problem)`` of an object whose readiness is one condition (Node Ready, KubeVirt Available)."""
    cond = _conditions(obj).get(condition)
    if cond is None:
        phase = (obj.get("status") or {}).get("phase")
        return False, "condition {0} absent{1}".format(condition, " (phase {0})".format(phase) if phase else "")
    return cond.get("status") == "True", _condition_text(cond)


def readiness(target, obj):
    """``(ready, problem)`` of ``obj`` for ``target``'s kind; ``obj`` None: not found."""
    if obj is None:
        return False, "not found"
    if target["kind"] == "DaemonSet":
        return daemonset_readiness(obj)
    if target["kind"] == "Deployment":
        return deployment_readiness(obj)
    if target["kind"] == "Pod" and target["condition"] == "Ready":
        return pod_readiness(obj)
    return condition_readiness(obj, target["condition"])


class RolloutTracker(ReadyTracker):
    """Every object of one target ready: the named one, or every object listed (at least one)."""

    def __init__(self, target, clock, started):
        key = _ref_key(target) if target.get("name") else None
        super(RolloutTracker, self).__init__([key] if key else [], clock, started)
        self.target = target

    def wanted(self, objects):
        return self.keys or sorted(objects)

    def assess(self, key, obj):
        return readiness(self.target, obj)


def _ref_key(target):
    return "{0}/{1}".format(target.get("namespace") or "", target["name"])


# ---------------------------------------------------------------------------------------------------------------
# The wait
# ---------------------------------------------------------------------------------------------------------------

def wait_ready(list_watch, list_events, targets, timeout, clock, watch):
    """Wait until every target of :func:`validate_targets` is ready.

    :param list_watch: ``list_watch(target) -> (list_fn, watch_fn)`` for ``watch`` (k8s.watch_until).
    :param list_events: ``list_events(kind, name, namespace) -> [event dicts]``, read only on timeout.
    :returns: ``{resources, elapsed_seconds, watch}``; ``resources`` has one entry per object seen (or per named
        target not found): ``{kind, namespace, name, ready, problem, ready_seconds}``.
    :raises FlowError: on timeout (``timed_out``, ``pending``, ``not_ready`` with the latest Events per object).
    """
    started = clock()
    deadline = started + timeout
    stats = dict((k, 0) for k in WATCH_STAT_KEYS)
    entries, errors, all_done = [], [], True
    for target in targets:
        try:
            list_fn, watch_fn = list_watch(target)
        except Exception as exc:  # the dynamic client's ResourceNotFoundError: the kind is not served
            if type(exc).__name__ == "ResourceNotFoundError":
                raise FlowError("the API server does not serve {0} {1}: is its CustomResourceDefinition "
                                "installed?".format(target["api_version"], target["kind"]))
            raise
        tracker = RolloutTracker(target, clock, started)
        result = watch(list_fn, watch_fn, tracker, deadline, clock=clock)
        for key in WATCH_STAT_KEYS:
            stats[key] += result["stats"].get(key, 0)
        if not result["done"]:
            all_done = False
            if result["last_error"]:
                errors.append("{0}: {1}".format(target["kind"], result["last_error"]))
        keys = tracker.wanted(result["objects"])
        if not keys:
            entries.append(dict(what=describe_target(target), kind=target["kind"],
                                namespace=target.get("namespace"), name=None, ready=False, problem="none found",
                                ready_seconds=None))
        for key in keys:
            namespace, name = key.split("/", 1)
            ready, problem = tracker.state.get(key) or readiness(target, result["objects"].get(key))
            entries.append(dict(what="{0} {1}".format(target["kind"], _ref(namespace, name)), kind=target["kind"],
                                namespace=namespace or None, name=name, ready=ready, problem=problem,
                                ready_seconds=tracker.ready_at.get(key)))
    out = {"resources": [dict((k, v) for k, v in e.items() if k != "what") for e in entries],
           "elapsed_seconds": round(clock() - started, 3), "watch": stats}
    if all_done:
        return out
    not_ready = [diagnose(e, list_events) for e in entries if not e["ready"]]
    msg = "timed out after {0} s waiting for {1}: {2}".format(
        timeout, ", ".join(describe_target(t) for t in targets), " || ".join(line(d) for d in not_ready))
    if errors:
        msg += " (last watch error: {0})".format("; ".join(errors))
    raise FlowError(msg, not_ready=not_ready, timed_out=True, pending=pending_line(entries), **out)


def line(entry):
    """``Pod kube-system/coredns-1: Pending (coredns: ContainerCreating)``; ``every Node: none found``."""
    what = entry.get("what") or "{0} {1}".format(entry["kind"], _ref(entry.get("namespace"), entry.get("name")))
    return "{0}: {1}".format(what, entry.get("problem") or "not ready")


def pending_line(resources, shown=PENDING_SHOWN):
    """One line of what the wait still waits for: the first ``shown`` objects not ready, how many more, then how
    many are ready (``DaemonSet ovn-kubernetes/ovnkube-node: 1 of 3 pods available; 4 ready``)."""
    waiting = [line(r) for r in resources if not r.get("ready")]
    ready = sum(1 for r in resources if r.get("ready"))
    parts = waiting[:shown]
    if len(waiting) > shown:
        parts.append("{0} more not ready".format(len(waiting) - shown))
    if ready:
        parts.append("{0} ready".format(ready))
    return "; ".join(parts)


def diagnose(entry, list_events, shown=EVENTS_SHOWN):
    """An object not ready, for the failure result: what, why and its latest Events (``type reason: message``)."""
    out = {"what": entry["what"], "kind": entry["kind"], "namespace": entry.get("namespace"),
           "name": entry.get("name"), "problem": entry.get("problem"), "events": []}
    if entry.get("name"):
        try:
            events = list_events(entry["kind"], entry["name"], entry.get("namespace")) or []
        except Exception as exc:  # diagnostics must not hide the timeout itself
            out["events"] = ["(events not readable: {0})".format(exc)]
            return out
        events = sorted(events, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
        out["events"] = ["{0} {1}: {2}".format(e.get("type"), e.get("reason"), (e.get("message") or "").strip())
                         for e in events[-shown:]]
    return out


def event_field_selector(kind, name):
    """The Events of one object."""
    return "involvedObject.kind={0},involvedObject.name={1}".format(kind, name)


def api_callables(api):
    """``(list_watch, list_events)`` over a k8s.KubeApi-like ``api``."""
    def list_watch(target):
        field = "metadata.name={0}".format(target["name"]) if target.get("name") else None
        return api.list_watch(target["api_version"], target["kind"], target.get("namespace"),
                              target.get("label_selector"), field)

    def list_events(kind, name, namespace=None):
        return api.list("v1", "Event", namespace, field_selector=event_field_selector(kind, name))

    return list_watch, list_events
