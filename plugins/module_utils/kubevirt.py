# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""KubeVirt decisions and the wait/migrate flows built on them.

The first part is pure predicates over plain dicts (VMI readiness, migration verdicts, node schedulability).
The last part ("flows") strings them together with I/O done only through an injected ``api`` object
(k8s.KubeApi, or a fake in tests), an injected clock and the injected k8s.watch_until.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import ipaddress

from ansible_collections.ovnk.udn_lab.plugins.module_utils.waits import FlowError, ReadyTracker

API_VERSION = "kubevirt.io/v1"
KIND_VMI = "VirtualMachineInstance"
KIND_VMIM = "VirtualMachineInstanceMigration"
VMIM_GENERATE_NAME = "kubevirt-migrate-vm-"

PHASE_RUNNING = "Running"
MIGRATION_SUCCEEDED = "Succeeded"
MIGRATION_FAILED = "Failed"
MIGRATION_FINAL_PHASES = (MIGRATION_SUCCEEDED, MIGRATION_FAILED)

COND_READY = "Ready"
COND_AGENT = "AgentConnected"
COND_MIGRATABLE = "LiveMigratable"

INFO_SOURCE_AGENT = "guest-agent"

FAMILY_ANY = "any"
FAMILY_IPV4 = "ipv4"
FAMILY_IPV6 = "ipv6"
FAMILY_DUAL = "dual"
FAMILIES = (FAMILY_ANY, FAMILY_IPV4, FAMILY_IPV6, FAMILY_DUAL)

LAUNCHER_LABEL_CREATED_BY = "kubevirt.io/created-by"
NODE_SCHEDULABLE_LABEL = "kubevirt.io/schedulable"
TAINT_EFFECTS_BLOCKING = ("NoSchedule", "NoExecute")


# --------------------------------------------------------------------------- helpers


def conditions_by_type(obj):
    """Return ``{type: condition}`` for ``obj.status.conditions`` (missing → empty dict)."""
    conds = ((obj or {}).get("status") or {}).get("conditions") or []
    return dict((c.get("type"), c) for c in conds if c.get("type"))


def condition_is_true(obj, cond_type):
    """True when condition ``cond_type`` of ``obj`` has status "True"."""
    return str(conditions_by_type(obj).get(cond_type, {}).get("status")) == "True"


def describe_condition(cond):
    """Short human text for a condition: ``Ready=False (reason: message)``."""
    if not cond:
        return "absent"
    text = "{0}={1}".format(cond.get("type"), cond.get("status"))
    detail = ": ".join(x for x in (cond.get("reason"), cond.get("message")) if x)
    return "{0} ({1})".format(text, detail) if detail else text


def parse_time(value):
    """Parse an RFC3339 timestamp (``2026-11-27T05:24:03Z``, optional fraction/offset) to an aware datetime.

    Returns None for None/empty. Raises ValueError for garbage.
    """
    if not value:
        return None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    text = str(value).strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    # Python < 3.11 fromisoformat accepts only 3 or 6 fractional digits: normalise to 6.
    if "." in text:
        head, dummy, rest = text.partition(".")
        digits = ""
        while rest and rest[0].isdigit():
            digits += rest[0]
            rest = rest[1:]
        text = "{0}.{1}{2}".format(head, (digits + "000000")[:6], rest)
    parsed = datetime.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


def to_epoch(value):
    """RFC3339 string / datetime → float epoch seconds (None stays None)."""
    parsed = parse_time(value)
    return parsed.timestamp() if parsed else None


def _ip_family(text):
    """Return 4, 6 or None for an address string (CIDR suffixes allowed)."""
    try:
        return ipaddress.ip_interface(str(text)).version
    except ValueError:
        return None


def _usable_ip(text):
    try:
        addr = ipaddress.ip_interface(str(text)).ip
    except ValueError:
        return False
    return not (addr.is_link_local or addr.is_loopback or addr.is_unspecified)


def interface_ips(iface):
    """Usable (non link-local) addresses reported for one ``status.interfaces`` entry."""
    ips = list(iface.get("ipAddresses") or [])
    if iface.get("ipAddress") and iface["ipAddress"] not in ips:
        ips.insert(0, iface["ipAddress"])
    return [ip for ip in ips if _usable_ip(ip)]


def interfaces_summary(vmi):
    """``{interface name: {ips, info_source, interface_name, mac}}`` from ``vmi.status.interfaces``."""
    out = {}
    for idx, iface in enumerate(((vmi or {}).get("status") or {}).get("interfaces") or []):
        key = iface.get("name") or iface.get("interfaceName") or "interface-{0}".format(idx)
        out[key] = {
            "ips": interface_ips(iface),
            "info_source": iface.get("infoSource", ""),
            "interface_name": iface.get("interfaceName"),
            "mac": iface.get("mac"),
        }
    return out


def _from_agent(info_source):
    return INFO_SOURCE_AGENT in [s.strip() for s in str(info_source or "").split(",")]


def family_missing(ips, family):
    """Names of the address families required by ``family`` that ``ips`` lacks (e.g. ``["IPv6"]``)."""
    have = set(_ip_family(ip) for ip in ips)
    wanted = {FAMILY_ANY: (), FAMILY_IPV4: (4,), FAMILY_IPV6: (6,), FAMILY_DUAL: (4, 6)}[family]
    return ["IPv{0}".format(v) for v in wanted if v not in have]


def vmi_key(obj):
    """``namespace/name`` of an object dict."""
    meta = (obj or {}).get("metadata") or {}
    return "{0}/{1}".format(meta.get("namespace", ""), meta.get("name", ""))


# --------------------------------------------------------------------------- readiness


def vmi_summary(vmi):
    """Plain summary of a VMI: name, namespace, node, phase, interfaces, conditions, migration state."""
    meta = vmi.get("metadata") or {}
    status = vmi.get("status") or {}
    conds = {}
    for ctype, cond in conditions_by_type(vmi).items():
        conds[ctype] = {
            "status": cond.get("status"),
            "reason": cond.get("reason", ""),
            "message": cond.get("message", ""),
            "last_transition_time": cond.get("lastTransitionTime"),
        }
    return {
        "name": meta.get("name"),
        "namespace": meta.get("namespace"),
        "uid": meta.get("uid"),
        "node": status.get("nodeName"),
        "phase": status.get("phase"),
        "interfaces": interfaces_summary(vmi),
        "conditions": conds,
    }


def vmi_readiness(vmi, interface=None, family=FAMILY_ANY, require_migratable=False):
    """Decide whether a VMI is ready for the workshop.

    Ready means: phase Running, condition Ready=True, AgentConnected=True, and the interface named
    ``interface`` (any interface when None) reports a usable IP whose ``infoSource`` contains
    ``guest-agent``, covering ``family`` (any/ipv4/ipv6/dual); with ``require_migratable`` also
    LiveMigratable=True.

    Returns ``(ready, missing, summary)``: ``missing`` is a list of human strings naming each absent signal
    with the last condition reason/message; ``summary`` is :func:`vmi_summary`.
    """
    if family not in FAMILIES:
        raise ValueError("family must be one of {0}, got {1!r}".format(", ".join(FAMILIES), family))
    summary = vmi_summary(vmi)
    missing = []
    phase = summary["phase"]
    if phase != PHASE_RUNNING:
        missing.append("phase is {0}, not {1}".format(phase or "unset", PHASE_RUNNING))
    conds = conditions_by_type(vmi)
    required = [COND_READY, COND_AGENT] + ([COND_MIGRATABLE] if require_migratable else [])
    for ctype in required:
        if str(conds.get(ctype, {}).get("status")) != "True":
            missing.append("condition " + describe_condition(conds.get(ctype) or {"type": ctype, "status": "absent"}))

    ifaces = summary["interfaces"]
    if interface is not None and interface not in ifaces:
        known = ", ".join(sorted(ifaces)) or "none"
        missing.append("interface {0} not in status.interfaces (reported: {1})".format(interface, known))
    else:
        candidates = [interface] if interface is not None else sorted(ifaces)
        agent_ifaces = [n for n in candidates if _from_agent(ifaces[n]["info_source"]) and ifaces[n]["ips"]]
        label = "interface {0}".format(interface) if interface is not None else "any interface"
        if not agent_ifaces:
            sources = ", ".join(
                "{0}: {1} ({2})".format(n, ifaces[n]["ips"] or "no IP", ifaces[n]["info_source"] or "no infoSource")
                for n in candidates
            ) or "no interfaces reported"
            missing.append("no IP reported by the guest agent on {0} [{1}]".format(label, sources))
        else:
            ips = []
            for n in agent_ifaces:
                ips.extend(ifaces[n]["ips"])
            lacking = family_missing(ips, family)
            if lacking:
                missing.append("{0} has no {1} address (has {2})".format(label, "/".join(lacking), ", ".join(ips)))
    return (not missing, missing, summary)


def launcher_pod_state(pod):
    """Summarise a virt-launcher pod: name, node, phase, and every reason it is not running/ready."""
    if not pod:
        return {"name": None, "phase": "absent", "node": None, "problems": ["no virt-launcher pod found"]}
    status = pod.get("status") or {}
    problems = []
    for cond in status.get("conditions") or []:
        if str(cond.get("status")) != "True":
            problems.append(describe_condition(cond))
    for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        state = cs.get("state") or {}
        for kind in ("waiting", "terminated"):
            if kind in state and (kind == "waiting" or state[kind].get("exitCode")):
                detail = state[kind]
                problems.append(
                    "container {0} {1}: {2}".format(
                        cs.get("name"), kind, ": ".join(x for x in (detail.get("reason"), detail.get("message")) if x)
                    )
                )
    return {
        "name": (pod.get("metadata") or {}).get("name"),
        "phase": status.get("phase"),
        "node": (pod.get("spec") or {}).get("nodeName"),
        "problems": problems,
    }


# --------------------------------------------------------------------------- nodes


def _tolerated(taint, tolerations):
    for tol in tolerations or []:
        if tol.get("effect") and tol.get("effect") != taint.get("effect"):
            continue
        if tol.get("operator") == "Exists":
            if not tol.get("key") or tol.get("key") == taint.get("key"):
                return True
        elif tol.get("key") == taint.get("key") and (tol.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def node_schedulable_reason(node, tolerations=None, node_selector=None):
    """Return None when a VMI could be scheduled on ``node``, else a short reason why not."""
    spec = node.get("spec") or {}
    labels = (node.get("metadata") or {}).get("labels") or {}
    if spec.get("unschedulable"):
        return "cordoned"
    if not condition_is_true(node, "Ready"):
        return "not Ready"
    if labels.get(NODE_SCHEDULABLE_LABEL) == "false":
        return "{0}=false".format(NODE_SCHEDULABLE_LABEL)
    for taint in spec.get("taints") or []:
        if taint.get("effect") in TAINT_EFFECTS_BLOCKING and not _tolerated(taint, tolerations):
            return "taint {0}:{1}".format(taint.get("key"), taint.get("effect"))
    for key, value in (node_selector or {}).items():
        if labels.get(key) != value:
            return "nodeSelector {0}={1} does not match".format(key, value)
    return None


def schedulable_nodes(nodes, vmi=None):
    """Split ``nodes`` into ``(schedulable names, {unschedulable name: reason})`` for ``vmi``'s tolerations/selector."""
    spec = (vmi or {}).get("spec") or {}
    ok, refused = [], {}
    for node in nodes:
        name = (node.get("metadata") or {}).get("name")
        reason = node_schedulable_reason(node, spec.get("tolerations"), spec.get("nodeSelector"))
        if reason:
            refused[name] = reason
        else:
            ok.append(name)
    return sorted(ok), refused


# --------------------------------------------------------------------------- migration


def migration_refusal(vmi, nodes):
    """Reasons a live migration of ``vmi`` cannot start (empty list = go).

    Checks LiveMigratable=True (quoting its reason/message) and that at least 2 schedulable nodes exist.
    """
    reasons = []
    conds = conditions_by_type(vmi)
    if (vmi.get("status") or {}).get("phase") != PHASE_RUNNING:
        reasons.append("VMI {0} is in phase {1}, not Running".format(vmi_key(vmi), (vmi.get("status") or {}).get("phase")))
    if str(conds.get(COND_MIGRATABLE, {}).get("status")) != "True":
        reasons.append(
            "VMI {0} is not live-migratable: {1}".format(
                vmi_key(vmi), describe_condition(conds.get(COND_MIGRATABLE) or {"type": COND_MIGRATABLE, "status": "absent"})
            )
        )
    ok, refused = schedulable_nodes(nodes, vmi)
    if len(ok) < 2:
        reasons.append(
            "live migration needs at least 2 schedulable nodes, found {0} ({1}); unschedulable: {2}".format(
                len(ok), ", ".join(ok) or "none", ", ".join("{0} ({1})".format(k, v) for k, v in sorted(refused.items())) or "none"
            )
        )
    return reasons


def vmim_definition(vmi_name, namespace, labels=None):
    """A VirtualMachineInstanceMigration body for ``vmi_name`` (generateName like ``virtctl migrate``)."""
    meta = {"generateName": VMIM_GENERATE_NAME, "namespace": namespace}
    if labels:
        meta["labels"] = dict(labels)
    return {"apiVersion": API_VERSION, "kind": KIND_VMIM, "metadata": meta, "spec": {"vmiName": vmi_name}}


def in_flight_migration(vmims, vmi_name):
    """The oldest VMIM for ``vmi_name`` that has not reached Succeeded/Failed, or None."""
    live = [
        m for m in vmims
        if (m.get("spec") or {}).get("vmiName") == vmi_name
        and (m.get("status") or {}).get("phase") not in MIGRATION_FINAL_PHASES
    ]
    live.sort(key=lambda m: ((m.get("metadata") or {}).get("creationTimestamp") or ""))
    return live[0] if live else None


def phase_transitions(vmim):
    """``{phase: epoch seconds}`` from ``vmim.status.phaseTransitionTimestamps``."""
    out = {}
    for item in (vmim.get("status") or {}).get("phaseTransitionTimestamps") or []:
        if item.get("phase"):
            out[item["phase"]] = to_epoch(item.get("phaseTransitionTimestamp"))
    return out


def vmim_finished(vmim):
    """True when the VMIM phase is Succeeded or Failed."""
    return (vmim.get("status") or {}).get("phase") in MIGRATION_FINAL_PHASES


def vmi_migration_settled(vmi, vmim_uid):
    """True when ``vmi.status.migrationState`` belongs to ``vmim_uid`` and says completed or failed."""
    state = (vmi.get("status") or {}).get("migrationState") or {}
    return state.get("migrationUid") == vmim_uid and bool(state.get("completed") or state.get("failed"))


def _all_ips(vmi):
    ips = []
    for name, data in sorted(interfaces_summary(vmi).items()):
        ips.extend("{0}={1}".format(name, ip) for ip in data["ips"])
    return ips


def migration_verdict(vmi_before, vmi_after, vmim):
    """Validate a finished migration the way KubeVirt's own e2e does.

    Checks: VMIM phase Succeeded; ``migrationState.migrationUid`` equals the VMIM uid; ``completed`` true,
    ``failed`` false; start/end timestamps present; ``targetNode == status.nodeName != sourceNode``;
    VMI phase Running again. Returns a dict: ok, errors (list of strings), source_node, target_node,
    start, end (RFC3339), duration_seconds, phase_transitions (phase → RFC3339), ips_before, ips_after,
    ips_unchanged, failure_reason.
    """
    errors = []
    vmim_status = vmim.get("status") or {}
    vmim_uid = (vmim.get("metadata") or {}).get("uid")
    status = vmi_after.get("status") or {}
    state = status.get("migrationState") or {}
    phase = vmim_status.get("phase")
    if phase != MIGRATION_SUCCEEDED:
        errors.append("migration phase is {0}, not {1}".format(phase, MIGRATION_SUCCEEDED))
    if not state:
        errors.append("VMI has no status.migrationState")
    else:
        if state.get("migrationUid") != vmim_uid:
            errors.append(
                "migrationState.migrationUid {0} does not match migration uid {1}".format(state.get("migrationUid"), vmim_uid)
            )
        if not state.get("completed"):
            errors.append("migrationState.completed is not true")
        if state.get("failed"):
            errors.append("migrationState.failed is true")
        for key in ("startTimestamp", "endTimestamp"):
            if not state.get(key):
                errors.append("migrationState.{0} is missing".format(key))
        target, source = state.get("targetNode"), state.get("sourceNode")
        if target != status.get("nodeName"):
            errors.append("migrationState.targetNode {0} != status.nodeName {1}".format(target, status.get("nodeName")))
        if target and target == source:
            errors.append("target node equals source node {0}".format(source))
    if status.get("phase") != PHASE_RUNNING:
        errors.append("VMI phase after migration is {0}, not Running".format(status.get("phase")))

    start, end = state.get("startTimestamp"), state.get("endTimestamp")
    duration = None
    try:
        if start and end:
            duration = round(to_epoch(end) - to_epoch(start), 3)
    except ValueError as exc:
        errors.append("unparsable migration timestamps: {0}".format(exc))
    transitions = {}
    for item in vmim_status.get("phaseTransitionTimestamps") or []:
        if item.get("phase"):
            transitions[item["phase"]] = item.get("phaseTransitionTimestamp")
    failure = state.get("failureReason") or ""
    if not failure and phase == MIGRATION_FAILED:
        failed = conditions_by_type(vmim).get("Failed") or {}
        failure = failed.get("message") or failed.get("reason") or ""
    ips_before, ips_after = _all_ips(vmi_before), _all_ips(vmi_after)
    return {
        "ok": not errors,
        "errors": errors,
        "phase": phase,
        "source_node": state.get("sourceNode") or (vmi_before.get("status") or {}).get("nodeName"),
        "target_node": state.get("targetNode"),
        "start": start,
        "end": end,
        "duration_seconds": duration,
        "phase_transitions": transitions,
        "ips_before": ips_before,
        "ips_after": ips_after,
        "ips_unchanged": ips_before == ips_after,
        "failure_reason": failure,
    }


# --------------------------------------------------------------------------- flows over an injected API
# The functions below do I/O only through ``api`` (k8s.KubeApi or a test fake) and ``clock``; every
# decision is one of the pure functions above.

KIND_VM = "VirtualMachine"
KIND_POD = "Pod"
KIND_NODE = "Node"
KIND_EVENT = "Event"
CORE_V1 = "v1"
MIGRATION_JOB_LABEL = "kubevirt.io/migrationJobUID"
DIAG_EVENTS = 3


def split_targets(names, namespaces):
    """Resolve ``names`` (``name`` or ``namespace/name``) against ``namespaces`` into sorted ``ns/name`` keys.

    Raises ValueError naming the option when a plain name cannot be placed (zero or several namespaces).
    """
    keys = set()
    for raw in names or []:
        if "/" in raw:
            ns, dummy, name = raw.partition("/")
            if not ns or not name or "/" in name:
                raise ValueError("name {0!r} must be NAME or NAMESPACE/NAME".format(raw))
            keys.add("{0}/{1}".format(ns, name))
        elif len(namespaces or []) == 1:
            keys.add("{0}/{1}".format(namespaces[0], raw))
        else:
            raise ValueError(
                "name {0!r} has no namespace: give exactly one namespace, or write it as NAMESPACE/{0}".format(raw))
    return sorted(keys)


def watch_scope(keys, namespaces, label_selectors):
    """Decide how to list/watch: ``{namespace, label_selector, field_selector, keep_namespaces}``.

    One namespace → a namespaced watch (with ``metadata.name`` when only one VMI is wanted); several →
    one cluster-wide watch filtered client-side to those namespaces; none → every namespace.
    """
    scope_ns = sorted(set(list(namespaces or []) + [k.split("/", 1)[0] for k in keys]))
    selector = ",".join(label_selectors or []) or None
    field = None
    if len(keys) == 1 and not selector:
        field = "metadata.name={0}".format(keys[0].split("/", 1)[1])
    if len(scope_ns) == 1:
        return {"namespace": scope_ns[0], "label_selector": selector, "field_selector": field, "keep_namespaces": None}
    return {"namespace": None, "label_selector": selector, "field_selector": field,
            "keep_namespaces": scope_ns or None}


class ReadinessTracker(ReadyTracker):
    """``done(objects)`` callback for k8s.watch_until that also records when each VMI first became ready."""

    def __init__(self, keys, interface, family, require_migratable, clock, started):
        super(ReadinessTracker, self).__init__(keys, clock, started)
        self.interface = interface
        self.family = family
        self.require_migratable = require_migratable

    def wanted(self, objects):
        """Explicit keys, else every listed VMI (a selector must match at least one)."""
        return self.keys or sorted(objects)

    def assess(self, key, obj):
        if obj is None:
            return False, ["VMI not found"], None
        return vmi_readiness(obj, self.interface, self.family, self.require_migratable)


def vmi_diagnostics(api, key, vmi_obj, missing):
    """What is missing for one VMI plus its virt-launcher pod state, VM status and latest events."""
    ns, dummy, name = key.partition("/")
    diag = {"vmi": key, "missing": list(missing)}
    if vmi_obj is None:
        vm = api.get(API_VERSION, KIND_VM, name, ns)
        if vm is None:
            diag["vm"] = "no VirtualMachine {0} either".format(key)
        else:
            vm_status = vm.get("status") or {}
            diag["vm"] = "VirtualMachine printableStatus {0}; {1}".format(
                vm_status.get("printableStatus"),
                "; ".join(describe_condition(c) for c in vm_status.get("conditions") or []
                          if str(c.get("status")) != "True") or "no failing conditions")
    else:
        uid = (vmi_obj.get("metadata") or {}).get("uid")
        pods = api.list(CORE_V1, KIND_POD, ns, label_selector="{0}={1}".format(LAUNCHER_LABEL_CREATED_BY, uid)) if uid else []
        diag["launcher_pods"] = [launcher_pod_state(p) for p in pods] or [launcher_pod_state(None)]
    events = api.list(CORE_V1, KIND_EVENT, ns, field_selector="involvedObject.name={0}".format(name))
    events.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    diag["events"] = ["{0} {1}: {2}".format(e.get("type"), e.get("reason"), e.get("message"))
                      for e in events[-DIAG_EVENTS:]]
    return diag


def _diag_line(diag):
    parts = list(diag["missing"])
    for pod in diag.get("launcher_pods") or []:
        parts.append("virt-launcher {0} {1}{2}".format(
            pod["name"] or "-", pod["phase"], (": " + "; ".join(pod["problems"])) if pod["problems"] else ""))
    if diag.get("vm"):
        parts.append(diag["vm"])
    if diag.get("events"):
        parts.append("last events: " + " | ".join(diag["events"]))
    return "{0}: {1}".format(diag["vmi"], "; ".join(parts))


def wait_vmis(api, keys, namespaces, label_selectors, interface, family, require_migratable, timeout,
              clock, watch=None):
    """Wait until every wanted VMI is ready; one ``timeout`` for all. Returns ``{vmis, elapsed_seconds, watch}``.

    ``watch`` is k8s.watch_until (injected to keep this module free of client imports). Raises
    :class:`FlowError` on timeout with a per-VMI line: missing signals, launcher pod state, events.
    """
    started = clock()
    deadline = started + timeout
    scope = watch_scope(keys, namespaces, label_selectors)
    list_fn, watch_fn = api.list_watch(API_VERSION, KIND_VMI, scope["namespace"], scope["label_selector"],
                                       scope["field_selector"])
    keep = None
    if scope["keep_namespaces"]:
        allowed = set(scope["keep_namespaces"])

        def keep(obj):
            return (obj.get("metadata") or {}).get("namespace") in allowed
    tracker = ReadinessTracker(keys, interface, family, require_migratable, clock, started)
    result = watch(list_fn, watch_fn, tracker, deadline, clock=clock, keep=keep)
    elapsed = round(clock() - started, 3)
    objects = result["objects"]
    wanted = tracker.wanted(objects)
    vmis = []
    for key in wanted:
        ready, missing, summary = tracker.state.get(key, (False, ["VMI not found"], None))
        entry = dict(summary or {"name": key.split("/", 1)[1], "namespace": key.split("/", 1)[0]})
        entry.update(ready=ready, missing=missing, ready_seconds=tracker.ready_at.get(key))
        vmis.append(entry)
    out = {"vmis": vmis, "elapsed_seconds": elapsed, "watch": result["stats"]}
    if result["done"]:
        return out
    if not wanted:
        raise FlowError(
            "timed out after {0} s: no VMI matches label selector {1!r} in {2}".format(
                timeout, scope["label_selector"], scope["namespace"] or ", ".join(scope["keep_namespaces"] or ["any namespace"])),
            not_ready=[], timed_out=True, pending="no VMI matches label selector {0!r} yet".format(
                scope["label_selector"]), **out)
    diags = [vmi_diagnostics(api, v["namespace"] + "/" + v["name"], objects.get(v["namespace"] + "/" + v["name"]),
                             v["missing"]) for v in vmis if not v["ready"]]
    msg = "timed out after {0} s waiting for {1} of {2} VMIs: {3}".format(
        timeout, len(diags), len(vmis), " || ".join(_diag_line(d) for d in diags))
    if result["last_error"]:
        msg += " (last watch error: {0})".format(result["last_error"])
    raise FlowError(msg, not_ready=diags, timed_out=True, pending=pending_vmis(vmis), **out)


def pending_vmis(vmis):
    """One line of what a VMI wait still waits for: each VMI not ready with its phase and what it misses, then
    the ready ones (``red-namespace/red Scheduling: missing Running, guest agent; ready: blue-namespace/blue``)."""
    waiting = ["{0}/{1} {2}: missing {3}".format(v.get("namespace"), v.get("name"), v.get("phase") or "no VMI",
                                                 ", ".join(v.get("missing") or ["?"])) for v in vmis if not v.get("ready")]
    ready = ["{0}/{1}".format(v.get("namespace"), v.get("name")) for v in vmis if v.get("ready")]
    return "; ".join(waiting + (["ready: " + ", ".join(ready)] if ready else [])) or "no VMI matches yet"


def plan_migration(api, name, namespace):
    """Read what a migration of ``namespace/name`` needs: the VMI, an in-flight VMIM, schedulable nodes.

    Returns ``{vmi, in_flight, schedulable_nodes, unschedulable_nodes, refusals}``; raises
    :class:`FlowError` when the VMI does not exist.
    """
    vmi = api.get(API_VERSION, KIND_VMI, name, namespace)
    if vmi is None:
        raise FlowError("VMI {0}/{1} not found: start the VM first (runStrategy Always) and wait for it with "
                        "ovnk.udn_lab.vmi_wait".format(namespace, name))
    in_flight = in_flight_migration(api.list(API_VERSION, KIND_VMIM, namespace), name)
    nodes = api.list(CORE_V1, KIND_NODE)
    ok, refused = schedulable_nodes(nodes, vmi)
    return {
        "vmi": vmi,
        "in_flight": in_flight,
        "schedulable_nodes": ok,
        "unschedulable_nodes": refused,
        "refusals": [] if in_flight else migration_refusal(vmi, nodes),
    }


def check_mode_migration(plan, adopt=True):
    """What :func:`run_migration` would do for ``plan``, without doing it: ``{changed, msg, migration, would}``.

    Raises :class:`FlowError` for the same refusals :func:`run_migration` would raise.
    """
    vmi = plan["vmi"]
    key = vmi_key(vmi)
    in_flight = plan["in_flight"]
    if in_flight is not None:
        meta = in_flight.get("metadata") or {}
        if not adopt:
            raise FlowError("migration {0} of VMI {1} is already in flight (phase {2}); set adopt=true to wait for it".format(
                meta.get("name"), key, (in_flight.get("status") or {}).get("phase")))
        return {"changed": True, "would": "adopt",
                "msg": "would wait for migration {0} of VMI {1} already in flight (phase {2})".format(
                    meta.get("name"), key, (in_flight.get("status") or {}).get("phase")),
                "migration": {"name": meta.get("name"), "uid": meta.get("uid"), "adopted": True}}
    if plan["refusals"]:
        raise FlowError("; ".join(plan["refusals"]), refusals=plan["refusals"])
    source = (vmi.get("status") or {}).get("nodeName")
    targets = [n for n in plan["schedulable_nodes"] if n != source]
    return {"changed": True, "would": "create",
            "msg": "would create a migration of VMI {0} away from node {1} (possible targets: {2})".format(
                key, source, ", ".join(targets) or "none"),
            "migration": None}


def _vmim_diagnostics(api, vmim):
    status = vmim.get("status") or {}
    uid = (vmim.get("metadata") or {}).get("uid")
    parts = ["migration {0} in phase {1}".format((vmim.get("metadata") or {}).get("name"), status.get("phase") or "unset")]
    parts.extend(describe_condition(c) for c in status.get("conditions") or [])
    pods = api.list(CORE_V1, KIND_POD, (vmim.get("metadata") or {}).get("namespace"),
                    label_selector="{0}={1}".format(MIGRATION_JOB_LABEL, uid)) if uid else []
    for pod in pods:
        state = launcher_pod_state(pod)
        parts.append("target pod {0} {1} on {2}{3}".format(state["name"], state["phase"], state["node"] or "no node",
                                                           (": " + "; ".join(state["problems"])) if state["problems"] else ""))
    if uid and not pods:
        parts.append("no target virt-launcher pod yet")
    return parts


def before_snapshot(vmi):
    """What a later slice of the same wait needs of the VMI before the migration: its node and interfaces."""
    status = vmi.get("status") or {}
    return {"metadata": dict((k, (vmi.get("metadata") or {}).get(k)) for k in ("name", "namespace")),
            "status": {"nodeName": status.get("nodeName"), "interfaces": status.get("interfaces") or []}}


def resumed_migration(api, plan, resume):
    """The VMIM an earlier slice of this wait created or adopted (``resume``: ``{name, uid, adopted,
    vmi_before}``), read again; raises :class:`FlowError` when it is gone or is another object of that name."""
    meta = plan["vmi"].get("metadata") or {}
    vmim = api.get(API_VERSION, KIND_VMIM, resume["name"], meta.get("namespace"))
    if vmim is None or (resume.get("uid") and (vmim.get("metadata") or {}).get("uid") != resume["uid"]):
        raise FlowError("migration {0} of VMI {1}/{2}, which this wait started, is gone (deleted while waiting?)".format(
            resume["name"], meta.get("namespace"), meta.get("name")), migration=dict(resume, vmi_before=None))
    return vmim


def migration_pending(vmim):
    """One line of what a migration wait still waits for: ``migration x: phase Running (node w1 -> w2)``."""
    status = vmim.get("status") or {}
    state = status.get("migrationState") or {}
    nodes = " (node {0} -> {1})".format(state.get("sourceNode"), state.get("targetNode")) \
        if state.get("sourceNode") or state.get("targetNode") else ""
    return "migration {0}: phase {1}{2}".format((vmim.get("metadata") or {}).get("name"),
                                                status.get("phase") or "Pending", nodes)


def run_migration(api, plan, labels, interface, timeout, clock, watch, adopt=True, resume=None):
    """Create (or adopt) a VMIM for the planned VMI, wait for Succeeded/Failed, validate, return the verdict.

    ``resume`` (``{name, uid, adopted, vmi_before}``, what a timed-out earlier slice of the same wait returned as
    ``migration``) waits for that VMIM again, whatever its phase now, and judges it against the VMI as it was
    before (the wait's action plugin runs the module in 30 s slices). The returned dict is
    :func:`migration_verdict` plus ``migration`` ({name, uid, adopted}) and ``elapsed_seconds``. Raises
    :class:`FlowError` on refusal, timeout (``timed_out``, ``pending``, ``migration`` with ``vmi_before``) or a
    failed/invalid migration.
    """
    started = clock()
    deadline = started + timeout
    vmi = plan["vmi"]
    meta = vmi.get("metadata") or {}
    name, namespace = meta.get("name"), meta.get("namespace")
    if resume:
        vmim = resumed_migration(api, plan, resume)
        adopted = bool(resume.get("adopted"))
        vmi = resume.get("vmi_before") or vmi
    else:
        if plan["in_flight"] is not None and not adopt:
            raise FlowError("migration {0} of VMI {1}/{2} is already in flight (phase {3}); set adopt=true to wait "
                            "for it".format(plan["in_flight"]["metadata"]["name"], namespace, name,
                                            (plan["in_flight"].get("status") or {}).get("phase")))
        if plan["refusals"]:
            raise FlowError("; ".join(plan["refusals"]), refusals=plan["refusals"])
        adopted = plan["in_flight"] is not None
        vmim = plan["in_flight"] if adopted else api.create(
            API_VERSION, KIND_VMIM, vmim_definition(name, namespace, labels), namespace)
    vmim_name, vmim_uid = vmim["metadata"]["name"], vmim["metadata"].get("uid")
    key = "{0}/{1}".format(namespace, vmim_name)
    info = {"name": vmim_name, "uid": vmim_uid, "adopted": adopted}
    changed = not (adopted or resume)

    list_fn, watch_fn = api.list_watch(API_VERSION, KIND_VMIM, namespace, None, "metadata.name={0}".format(vmim_name))
    res = watch(list_fn, watch_fn, lambda objs: key in objs and vmim_finished(objs[key]), deadline, clock=clock)
    current = res["objects"].get(key) or vmim
    if not res["done"]:
        parts = _vmim_diagnostics(api, current)
        if res["last_error"]:
            parts.append("last watch error: {0}".format(res["last_error"]))
        raise FlowError("timed out after {0} s waiting for the migration of {1}/{2}: {3}".format(
            timeout, namespace, name, "; ".join(parts)), migration=dict(info, vmi_before=before_snapshot(vmi)),
            changed=changed, timed_out=True, pending=migration_pending(current))
    vmim = current

    vmi_key_ = "{0}/{1}".format(namespace, name)
    if vmim["status"].get("phase") == MIGRATION_SUCCEEDED:
        def settled(objs):
            after = objs.get(vmi_key_)
            return bool(after) and vmi_migration_settled(after, vmim_uid) and vmi_readiness(after, interface)[0]

        vl, vw = api.list_watch(API_VERSION, KIND_VMI, namespace, None, "metadata.name={0}".format(name))
        vres = watch(vl, vw, settled, deadline, clock=clock)
        after = vres["objects"].get(vmi_key_) or api.get(API_VERSION, KIND_VMI, name, namespace) or {}
        if not vres["done"] and after:
            missing = vmi_readiness(after, interface)[1] if vmi_migration_settled(after, vmim_uid) else [
                "status.migrationState of migration {0}".format(vmim_name)]
            raise FlowError("timed out after {0} s waiting for VMI {1}/{2} to settle after migration {3}: "
                            "missing {4}".format(timeout, namespace, name, vmim_name, ", ".join(missing)),
                            migration=dict(info, vmi_before=before_snapshot(vmi)), changed=changed, timed_out=True,
                            pending="migration {0} Succeeded; VMI {1}/{2} missing {3}".format(
                                vmim_name, namespace, name, ", ".join(missing)))
    else:
        after = api.get(API_VERSION, KIND_VMI, name, namespace) or {}
    verdict = migration_verdict(vmi, after, vmim)
    if after:
        verdict["ready_after"], verdict["missing_after"] = vmi_readiness(after, interface)[:2]
    else:
        verdict["ready_after"], verdict["missing_after"] = False, ["VMI gone"]
    verdict["migration"] = info
    verdict["elapsed_seconds"] = round(clock() - started, 3)
    if not verdict["ok"]:
        msg = "migration {0} of VMI {1}/{2} did not verify: {3}".format(vmim_name, namespace, name, "; ".join(verdict["errors"]))
        if verdict["failure_reason"]:
            msg += " (failure reason: {0})".format(verdict["failure_reason"])
        if vmim["status"].get("phase") == MIGRATION_SUCCEEDED and not verdict["ready_after"]:
            msg += "; after migration: {0}".format("; ".join(verdict["missing_after"]))
        raise FlowError(msg, changed=True, **verdict)
    return verdict
