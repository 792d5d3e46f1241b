# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""Pure decisions for OVN-Kubernetes node zone labels (plain dicts in, plain dicts out).

OVN-Kubernetes in "single node zone" mode (interconnect, one zone per node) reads the zone of a node
from the label ``k8s.ovn.org/zone-name``. Its kind scripts up to v1.3.0 set ``zone-name=<node name>``
before installing the chart, and so does the seed workshop; later releases' scripts dropped the step. The label is
not required even by v1.3.0: ``dist/images/ovnkube.sh`` (``get_node_zone``) falls back to the node name when it is
absent (interconnect on) - the very value the label would hold. The lab sets it, as the seed does.

Nothing here talks to a cluster: the module lists the nodes, hands them in as dicts, and applies the
merge patches this file plans.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

ZONE_LABEL = "k8s.ovn.org/zone-name"

# The last OVN-Kubernetes release whose kind scripts (and the seed, which follows them) label the nodes.
LAST_VERSION_NEEDING_LABELS = (1, 3, 0)

_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+].*)?$")

# RFC 1123 label value: at most 63 characters, alphanumerics, '-', '_', '.', alphanumeric at both ends.
_LABEL_VALUE_RE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


class ZoneError(ValueError):
    """An input the plan cannot be built from (unknown node, invalid zone name)."""


def parse_version(version):
    """Return a (major, minor, patch) tuple for ``v1.3.0``/``1.3``/``v1.3.0-rc1``, or None for a branch name."""
    if version is None:
        return None
    match = _VERSION_RE.match(str(version).strip())
    if not match:
        return None
    return tuple(int(part or 0) for part in match.groups())


def zone_labels_required(version):
    """True when the deployment scripts of OVN-Kubernetes ``version`` set the zone labels (so the lab does too).

    Released versions up to and including v1.3.0 do; later versions and branch names (``master``,
    ``release-1.4``…, which track newer code) do not. (Not a hard requirement even then: v1.3.0's ``ovnkube.sh``
    falls back to the node name.)
    """
    parsed = parse_version(version)
    if parsed is None:
        return False
    return parsed <= LAST_VERSION_NEEDING_LABELS


def node_name(node):
    return (node.get("metadata") or {}).get("name")


def node_labels(node):
    return (node.get("metadata") or {}).get("labels") or {}


def validate_label_value(value):
    """Raise ZoneError unless ``value`` is a valid Kubernetes label value."""
    if not isinstance(value, str) or not _LABEL_VALUE_RE.match(value):
        raise ZoneError(
            "zone %r is not a valid label value: at most 63 characters, letters, digits, '-', '_' or '.', "
            "beginning and ending with a letter or digit" % (value,)
        )


def desired_zones(node_names, requested=None, zones=None):
    """Map each selected node name to its zone.

    ``requested``: node names to label (None or empty = every node in ``node_names``); a name that is not a
    node raises ZoneError. ``zones``: optional overrides ``{node: zone}``; the default zone is the node name.
    """
    existing = list(node_names)
    zones = dict(zones or {})
    selected = list(requested) if requested else existing
    unknown = sorted(set(selected) - set(existing))
    if unknown:
        raise ZoneError("no such node(s): %s (nodes: %s)" % (", ".join(unknown), ", ".join(sorted(existing)) or "none"))
    unknown_overrides = sorted(set(zones) - set(selected))
    if unknown_overrides:
        raise ZoneError("zones given for node(s) not selected: %s" % ", ".join(unknown_overrides))
    result = {}
    for name in selected:
        zone = zones.get(name, name)
        validate_label_value(zone)
        result[name] = zone
    return result


def plan_node(node, zone, label=ZONE_LABEL, state="present"):
    """One node's change: ``{name, before, after, changed, patch}``.

    ``before``/``after`` are the label value (None when absent); ``patch`` is the merge patch to send
    (None when nothing changes). ``state=absent`` removes the label whatever its value.
    """
    name = node_name(node)
    before = node_labels(node).get(label)
    after = zone if state == "present" else None
    changed = before != after
    patch = {"metadata": {"labels": {label: after}}} if changed else None
    return {"name": name, "before": before, "after": after, "changed": changed, "patch": patch}


def plan(nodes, requested=None, zones=None, label=ZONE_LABEL, state="present"):
    """Plan the label changes over a list of Node dicts; returns one entry per selected node, sorted by name."""
    if state not in ("present", "absent"):
        raise ZoneError("state must be present or absent, not %r" % (state,))
    by_name = dict((node_name(node), node) for node in nodes)
    desired = desired_zones(by_name.keys(), requested=requested, zones=zones)
    return [plan_node(by_name[name], desired[name], label=label, state=state) for name in sorted(desired)]


def summarize(entries):
    """Module result pieces from a plan: changed flag, per-node changes and a before/after diff."""
    changed = any(entry["changed"] for entry in entries)
    nodes = [dict((key, entry[key]) for key in ("name", "before", "after", "changed")) for entry in entries]
    diff = {
        "before": dict((entry["name"], entry["before"]) for entry in entries),
        "after": dict((entry["name"], entry["after"]) for entry in entries),
    }
    return {"changed": changed, "nodes": nodes, "diff": diff}
