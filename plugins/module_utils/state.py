# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""The lab's state record: what a completed role left behind, so a re-run can tell "nothing to do" cheaply.

A role that completes records an entry in one ConfigMap of the cluster per lab (:func:`configmap_name`, in
:data:`STATE_NAMESPACE`, labelled like everything the collection makes). An entry holds:

* ``inputs``: the digest of the role's inputs and code (see :func:`inputs_fingerprint`), with one short digest
  per input so a changed input can be named (values are never stored);
* ``observed``: one line per object the role made or waits for (``uid``, ``generation`` or a digest of its
  spec), per file it left on the host (sha256), and host facts such as the boot id;
* ``after``: the values of the entries this one builds on (the cluster under the add-ons, the add-ons under the
  workshops), so a role re-run that changed something invalidates every entry built on it;
* ``facts``: what the role publishes for later roles (restored when the role is skipped).

On the next run, :func:`compare` says whether the entry still holds: same inputs, the entries it builds on
unchanged, every object the same and ready, every file the same. Any difference, with its reason, sends the
role down its full path; nothing is ever skipped on a guess. Nothing here talks to a cluster: the module
reads the objects and hands them in as dicts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import hashlib
import json
import re

SCHEMA = 1
STATE_CONFIGMAP = "ovnk-udn-lab-state"
STATE_NAMESPACE = "kube-system"
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

# The condition that says an object of this kind is usable.
READY_CONDITIONS = {
    "ClusterUserDefinedNetwork": "NetworkCreated",
    "CustomResourceDefinition": "Established",
    "Deployment": "Available",
    "KubeVirt": "Available",
    "Node": "Ready",
    "Pod": "Ready",
    "UserDefinedNetwork": "NetworkCreated",
    "VirtualMachine": "Ready",
    "VirtualMachineInstance": "Ready",
}

# Kinds whose spec and labels their controllers keep editing (a VMI's node after a migration, a node's taints
# and pod CIDRs as it becomes ready): only being replaced (a new uid) counts as a change.
UID_ONLY_KINDS = ("Node", "Pod", "VirtualMachineInstance")

# Kinds whose labels carry meaning for the lab (a namespace's primary-UDN label decides its network).
LABELLED_KINDS = ("Namespace",)


class StateError(ValueError):
    """An input the record cannot be built from."""


def _digest(value, length=None):
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return digest[:length] if length else digest


def inputs_fingerprint(inputs):
    """Digest of a role's inputs (a dict of variable name to value).

    Returns ``{"digest": <sha256>, "parts": {name: <12 hex>}}``: the parts name what changed between two runs
    without storing a value (inputs may hold passwords).
    """
    if not isinstance(inputs, dict):
        raise StateError("inputs must be a dict of variable name to value, got %s" % type(inputs).__name__)
    parts = dict((str(name), _digest(value, 12)) for name, value in inputs.items())
    return {"digest": _digest(parts), "parts": parts}


def object_key(kind, obj):
    """``Kind namespace/name`` (``Kind name`` when cluster-scoped)."""
    meta = obj.get("metadata") or {}
    if meta.get("namespace"):
        return "%s %s/%s" % (kind, meta["namespace"], meta.get("name"))
    return "%s %s" % (kind, meta.get("name"))


def object_state(kind, obj):
    """What identifies this version of an object: uid, plus generation (or a digest of its spec/data)."""
    meta = obj.get("metadata") or {}
    state = str(meta.get("uid") or "?")
    if kind in UID_ONLY_KINDS:
        return state
    if meta.get("generation") is not None:
        state += " gen=%s" % meta["generation"]
    elif "spec" in obj:
        state += " spec=%s" % _digest(obj.get("spec"), 12)
    elif "data" in obj or "stringData" in obj:
        state += " data=%s" % _digest([obj.get("data"), obj.get("stringData")], 12)
    if kind in LABELLED_KINDS:
        state += " labels=%s" % _digest(meta.get("labels") or {}, 12)
    return state


def _condition(obj, ctype):
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return cond
    return None


def object_problem(kind, obj):
    """Why this object is not usable now (a sentence), or None when it is."""
    status = obj.get("status") or {}
    meta = obj.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return "being deleted"
    ctype = READY_CONDITIONS.get(kind)
    if ctype:
        cond = _condition(obj, ctype)
        if cond is None:
            return "no %s condition yet" % ctype
        if str(cond.get("status")) != "True":
            return "%s is %s (%s)" % (ctype, cond.get("status"), cond.get("reason") or cond.get("message") or "no reason")
    generation = meta.get("generation")
    if kind in ("Deployment", "StatefulSet", "DaemonSet") and generation is not None:
        if (status.get("observedGeneration") or 0) < generation:
            return "generation %s not observed yet (at %s)" % (generation, status.get("observedGeneration"))
    if kind in ("Deployment", "StatefulSet"):
        want = (obj.get("spec") or {}).get("replicas", 1)
        ready = status.get("readyReplicas") or 0
        if ready < want:
            return "%s of %s replicas ready" % (ready, want)
    if kind == "DaemonSet":
        want = status.get("desiredNumberScheduled") or 0
        ready = status.get("numberReady") or 0
        if ready < want:
            return "%s of %s pods ready" % (ready, want)
    return None


def observe(objects, files=None, host=None):
    """The observed state: ``(observed, problems)``.

    ``objects``: ``(kind, key, object, check_ready)`` as :func:`read_objects` returns them (``object`` None for an
    expected object that does not exist; ``check_ready`` false to ignore readiness, for example nodes before
    their network runs). ``files``: path to sha256 (None when missing). ``host``: name to value (boot id...).
    ``observed`` maps a key to its state line; ``problems`` lists what is missing or not ready.
    """
    observed = {}
    problems = []
    for kind, key, obj, check_ready in objects:
        if obj is None:
            observed[key] = "absent"
            problems.append("%s does not exist" % key)
            continue
        key = object_key(kind, obj)
        observed[key] = object_state(kind, obj)
        problem = object_problem(kind, obj) if check_ready else None
        if problem:
            problems.append("%s: %s" % (key, problem))
    for path, sha in sorted((files or {}).items()):
        key = "file %s" % path
        observed[key] = sha or "absent"
        if not sha:
            problems.append("%s does not exist" % path)
    for name, value in sorted((host or {}).items()):
        observed["host %s" % name] = str(value)
    return observed, problems


def entry_value(name, observed, after):
    """The value of an entry, which the entries built on it record in their ``after``: what the role left in the
    lab and what it stood on (not its inputs: a changed timeout re-runs the role, not everything built on it)."""
    return _digest([SCHEMA, name, observed, after])


def make_entry(name, inputs, observed, after, facts, written):
    """The entry recorded for a completed role (``inputs`` as returned by :func:`inputs_fingerprint`)."""
    return {
        "schema": SCHEMA,
        "inputs": inputs["digest"],
        "input_parts": inputs["parts"],
        "observed": observed,
        "after": after,
        "facts": facts,
        "value": entry_value(name, observed, after),
        "written": written,
    }


def same_entry(old, new):
    """Whether recording ``new`` over ``old`` changes nothing (the time written does not count)."""
    if not old:
        return False
    keys = ("schema", "inputs", "input_parts", "observed", "after", "facts", "value", "objects", "files", "host")
    return all(old.get(k) == new.get(k) for k in keys)


def parse_entries(configmap):
    """Entries of the state ConfigMap (a dict, or None when it does not exist): name -> entry (unreadable: None)."""
    entries = {}
    for name, text in ((configmap or {}).get("data") or {}).items():
        try:
            entry = json.loads(text)
        except ValueError:
            entry = None
        entries[name] = entry if isinstance(entry, dict) else None
    return entries


def render_entry(entry):
    return json.dumps(entry, sort_keys=True, separators=(",", ":"))


def _changes(before, after, limit=6):
    lines = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if old is None:
            lines.append("%s is new" % key)
        elif new is None or new == "absent":
            lines.append("%s is gone" % key)
        elif old.split(" ")[0] != new.split(" ")[0] and not key.startswith(("file ", "host ")):
            lines.append("%s was replaced" % key)
        else:
            lines.append("%s changed" % key)
    if len(lines) > limit:
        lines = lines[:limit] + ["and %d more" % (len(lines) - limit)]
    return lines


def compare(name, entry, inputs, observed, problems, after):
    """Whether the recorded ``entry`` still holds: ``(current, reasons)``.

    ``inputs``: this run's :func:`inputs_fingerprint`; ``observed``/``problems``: :func:`observe` now;
    ``after``: name -> current value of each entry this one builds on (None when that entry is missing: a role not
    used in this lab, or run with its record switched off; it must have been missing when this entry was recorded).
    """
    if entry is None:
        return False, ["no record of a completed run of %s" % name]
    if entry.get("schema") != SCHEMA:
        return False, ["recorded by another version of the collection (schema %s)" % entry.get("schema")]
    reasons = []
    if entry.get("inputs") != inputs["digest"]:
        old_parts = entry.get("input_parts") or {}
        changed = sorted(k for k in set(old_parts) | set(inputs["parts"]) if old_parts.get(k) != inputs["parts"].get(k))
        reasons.append("inputs changed: %s" % (", ".join(changed[:8]) + (" ..." if len(changed) > 8 else "")
                                               if changed else "(unknown)"))
    recorded_after = entry.get("after") or {}
    for dep in sorted(set(after) | set(recorded_after)):
        if recorded_after.get(dep) == after.get(dep):
            continue
        if after.get(dep) is None:
            reasons.append("%s is no longer recorded (torn down, or not complete)" % dep)
        else:
            reasons.append("%s changed since (re-applied or re-created)" % dep)
    recorded = entry.get("observed") or {}
    reasons.extend(_changes(recorded, observed))
    # (an object gone since is said once: "is gone", not also "does not exist")
    gone = set("%s does not exist" % key for key, state in observed.items()
               if state == "absent" and recorded.get(key) not in (None, "absent"))
    reasons.extend(p for p in problems if p not in gone)
    return not reasons, reasons


# --------------------------------------------------------------------------- flows (``api``: a k8s.KubeApi)

CONFIGMAP = ("v1", "ConfigMap")
MERGE_PATCH = "application/merge-patch+json"


def _spec_key(spec, name=None):
    kind = spec["kind"]
    if spec.get("namespace"):
        return "%s %s/%s" % (kind, spec["namespace"], name)
    return "%s %s" % (kind, name)


def read_objects(api, specs):
    """The objects a role's record covers, as :func:`observe` takes them.

    Each spec: ``api_version``, ``kind``, optional ``namespace``, and ``names`` (each must exist) or
    ``label_selector`` (every match; none is fine) or neither (every object of the kind in the scope); optional
    ``ready`` (default true) false to ignore readiness. A kind the cluster does not serve counts as each named
    object missing (a CRD not installed).
    """
    out = []
    for spec in specs:
        kind, names = spec["kind"], spec.get("names") or []
        ready = spec.get("ready", True) is not False
        try:
            if names:
                for name in names:
                    obj = api.get(spec["api_version"], kind, name, namespace=spec.get("namespace"))
                    out.append((kind, _spec_key(spec, name), obj, ready))
            else:
                found = api.list(spec["api_version"], kind, namespace=spec.get("namespace"),
                                 label_selector=spec.get("label_selector"))
                out.extend((kind, object_key(kind, obj), obj, ready)
                           for obj in sorted(found, key=lambda o: object_key(kind, o)))
        except Exception as exc:  # kind not served (ResourceNotFoundError): nothing of it exists
            text = str(exc).lower()
            if (type(exc).__name__ != "ResourceNotFoundError"  # discovery: "No matches found for {...}"
                    and "not found" not in text and "could not find" not in text):
                raise
            # named objects are missing; a selection of a kind not served selects nothing
            out.extend((kind, _spec_key(spec, name), None, ready) for name in names)
    return out


def configmap_name(lab=None):
    """The ConfigMap of one lab's record: ``ovnk-udn-lab-state-<lab>`` (two labs on one cluster keep apart), or
    :data:`STATE_CONFIGMAP` without a lab."""
    if not lab:
        return STATE_CONFIGMAP
    name = "%s-%s" % (STATE_CONFIGMAP, lab)
    if len(name) > 253 or not DNS_SUBDOMAIN.match(name):
        raise StateError("the lab name %r cannot name a ConfigMap (%s): use lowercase letters, digits and '-'"
                         % (lab, name))
    return name


def load_entries(api, configmap=STATE_CONFIGMAP):
    return parse_entries(api.get(CONFIGMAP[0], CONFIGMAP[1], configmap, namespace=STATE_NAMESPACE))


def current_values(entries, names):
    """name -> value of each entry in ``names`` (None when missing or unreadable)."""
    return dict((n, (entries.get(n) or {}).get("value")) for n in names)


def specs_from_definitions(definitions):
    """Object specs (see :func:`read_objects`) naming each manifest of ``definitions`` (grouped per kind/namespace)."""
    groups = {}
    for obj in definitions or []:
        if not isinstance(obj, dict) or not obj.get("kind"):
            continue
        meta = obj.get("metadata") or {}
        if not meta.get("name"):
            raise StateError("a definition without metadata.name: %s %s" % (obj.get("apiVersion"), obj.get("kind")))
        key = (obj.get("apiVersion") or "v1", obj["kind"], meta.get("namespace") or "")
        names = groups.setdefault(key, [])
        if meta["name"] not in names:
            names.append(meta["name"])
    specs = []
    for (api_version, kind, namespace), names in sorted(groups.items()):
        spec = {"api_version": api_version, "kind": kind, "names": sorted(names)}
        if namespace:
            spec["namespace"] = namespace
        specs.append(spec)
    return specs


def merge_specs(specs, definitions=None):
    """``specs`` plus the specs of ``definitions``, in a stable order without repeats (``name`` becomes ``names``)."""
    out = []
    for spec in list(specs or []) + specs_from_definitions(definitions):
        clean = dict((k, v) for k, v in spec.items() if v not in (None, [], "") and k != "name")
        if spec.get("name"):
            clean["names"] = sorted(set(clean.get("names", []) + [spec["name"]]))
        if clean not in out:
            out.append(clean)
    return out


def query(api, name, inputs, after, read_local, configmap=STATE_CONFIGMAP):
    """Whether the recorded entry ``name`` still holds: ``{current, reasons, facts, value, recorded}``.

    The objects, files and host facts compared are the ones the entry recorded; ``read_local(files, host)``
    returns ``(path -> sha256 or None, name -> value)`` for them, read on the target.
    """
    entries = load_entries(api, configmap)
    entry = entries.get(name)
    if entry is None:
        current, reasons = compare(name, None, inputs, {}, [], {})
    else:
        files, host = read_local(entry.get("files") or [], entry.get("host") or [])
        observed, problems = observe(read_objects(api, entry.get("objects") or []), files, host)
        current, reasons = compare(name, entry, inputs, observed, problems, current_values(entries, after))
    if current:
        summary = "%s: unchanged since the complete run of %s, nothing to do" % (name, entry.get("written"))
    else:
        summary = "%s: runs in full (%s)" % (name, "; ".join(reasons))
    return {
        "current": current,
        "reasons": reasons,
        "summary": summary,
        "facts": (entry or {}).get("facts") or {} if current else {},
        "value": (entry or {}).get("value") if current else None,
        "recorded": (entry or {}).get("written"),
    }


def record(api, name, inputs, after, specs, files, host, facts=None, labels=None, written=None, check_mode=False,
           configmap=STATE_CONFIGMAP):
    """Record ``name`` as completed: ``{changed, recorded, reasons, value}``.

    ``specs``: the objects covered (see :func:`read_objects`); ``files``: path -> sha256 (None when missing);
    ``host``: name -> value. Nothing is recorded while an object or file is missing or an object is not ready
    (``recorded`` false, ``reasons`` say why): the next run then takes the full path, which is always safe. In check
    mode (where the run created nothing) that predicts a write, as the real run would make one.
    """
    entries = load_entries(api, configmap)
    observed, problems = observe(read_objects(api, specs), files, host)
    deps = current_values(entries, after)
    if problems:
        return {"changed": bool(check_mode), "recorded": False, "reasons": problems, "value": None}
    entry = make_entry(name, inputs, observed, deps, facts or {}, written)
    entry.update(objects=specs, files=sorted(files), host=sorted(host))
    if same_entry(entries.get(name), entry):
        return {"changed": False, "recorded": True, "reasons": [], "value": entry["value"]}
    if not check_mode:
        body = {"data": {name: render_entry(entry)}}
        created = False
        if api.get(CONFIGMAP[0], CONFIGMAP[1], configmap, namespace=STATE_NAMESPACE) is None:
            first = dict(body, apiVersion="v1", kind="ConfigMap",
                         metadata={"name": configmap, "namespace": STATE_NAMESPACE, "labels": dict(labels or {})})
            try:
                api.create(CONFIGMAP[0], CONFIGMAP[1], first, namespace=STATE_NAMESPACE)
                created = True
            except Exception as exc:  # another run (a classroom participant's) created it meanwhile: patch it
                if getattr(exc, "status", None) not in (409, "409"):
                    raise
        if not created:  # a merge patch of this entry only: runs side by side keep each other's entries
            api.patch(CONFIGMAP[0], CONFIGMAP[1], configmap, body, namespace=STATE_NAMESPACE,
                      content_type=MERGE_PATCH)
    return {"changed": True, "recorded": True, "reasons": [], "value": entry["value"]}


def forget(api, names, check_mode=False, configmap=STATE_CONFIGMAP):
    """Remove the entries ``names`` (the ConfigMap too once it holds none): ``{changed, forgotten}``. A name with
    ``*`` is a pattern (``pod-workshop-*``: every participant's pod workshop entry)."""
    found = api.get(CONFIGMAP[0], CONFIGMAP[1], configmap, namespace=STATE_NAMESPACE)
    data = (found or {}).get("data") or {}
    gone = sorted(n for n in data if any(fnmatch.fnmatchcase(n, p) if "*" in p else n == p for p in names))
    if gone and not check_mode:
        if not set(data) - set(gone):
            api.delete(CONFIGMAP[0], CONFIGMAP[1], configmap, namespace=STATE_NAMESPACE)
        else:
            api.patch(CONFIGMAP[0], CONFIGMAP[1], configmap, {"data": dict((n, None) for n in gone)},
                      namespace=STATE_NAMESPACE, content_type=MERGE_PATCH)
    return {"changed": bool(gone), "forgotten": gone}
