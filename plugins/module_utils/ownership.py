# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""The ownership labels of a lab and the one label selector built from them (pure functions).

Every object the collection makes carries ``app.kubernetes.io/managed-by: ovnk.udn_lab`` and
``udn-lab.ovnk.io/lab: <cluster name>``; teardown deletes by a selector of BOTH. An empty or partial label set
would select objects the lab never made (an empty selector selects everything), so a selector is only built when
both labels are present, well formed and the lab label names this very lab.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "ovnk.udn_lab"
LAB = "udn-lab.ovnk.io/lab"
REQUIRED = (MANAGED_BY, LAB)

# Kubernetes label syntax (apimachinery validation): an optional DNS-subdomain prefix and a name of at most 63
# characters; values at most 63 characters, alphanumeric at both ends.
_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_PREFIX = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_KEY_RE = re.compile(r"^(%s/)?%s$" % (_PREFIX, _NAME))
_VALUE_RE = re.compile(r"^(%s)?$" % _NAME)


class OwnershipError(ValueError):
    """Labels from which no safe selector can be built; the message names the variable and the fix."""


def label_problems(labels):
    """Keys and values of ``labels`` that Kubernetes would refuse (list of strings; empty = fine)."""
    out = []
    for key, value in sorted((labels or {}).items(), key=lambda kv: str(kv[0])):
        key, text = str(key), "" if value is None else str(value)
        prefix = key.split("/", 1)[0] if "/" in key else ""
        if not _KEY_RE.match(key) or len(prefix) > 253:
            out.append("label key {0!r} is not a valid Kubernetes label key".format(key))
        if not _VALUE_RE.match(text):
            out.append("label {0}: value {1!r} is not a valid Kubernetes label value (at most 63 characters: "
                       "letters, digits, '-', '_', '.', alphanumeric at both ends)".format(key, text))
    return out


def ownership(labels, cluster_name, variable="udn_lab_labels"):
    """``{"labels", "selector", "selectors"}`` for ``labels``, or :class:`OwnershipError`.

    ``selector``: ``k=v,k2=v2`` (sorted); ``selectors``: the same as a list (``kubernetes.core`` label_selectors).
    Refused: labels that are not a mapping, a missing or empty ownership label, a managed-by other than
    ``ovnk.udn_lab``, a lab label other than ``cluster_name``, keys or values Kubernetes would refuse.
    """
    fix = ("set {0} to {{{1}: {2}, {3}: <the lab's cluster name>}} or leave it unset (that default is "
           "built for you)".format(variable, MANAGED_BY, MANAGED_BY_VALUE, LAB))
    if not isinstance(labels, dict):
        raise OwnershipError("{0} must be a mapping of labels, got {1!r}: {2}".format(variable, labels, fix))
    missing = [key for key in REQUIRED if not str(labels.get(key) if labels.get(key) is not None else "").strip()]
    if missing:
        raise OwnershipError(
            "{0} lacks {1}: without both ownership labels a selector would match objects this lab never made "
            "(an empty selector matches everything); {2}".format(variable, " and ".join(missing), fix))
    if str(labels[MANAGED_BY]) != MANAGED_BY_VALUE:
        raise OwnershipError("{0}: {1} is {2!r}, but the collection marks what it makes {3}: {4}".format(
            variable, MANAGED_BY, labels[MANAGED_BY], MANAGED_BY_VALUE, fix))
    if not cluster_name or str(labels[LAB]) != str(cluster_name):
        raise OwnershipError("{0}: {1} is {2!r}, not this lab's cluster name {3!r} (udn_lab_cluster_name): the "
                             "lab label must name the lab being worked on; {4}".format(
                                 variable, LAB, labels[LAB], cluster_name, fix))
    problems = label_problems(labels)
    if problems:
        raise OwnershipError("{0}: {1}".format(variable, "; ".join(problems)))
    selectors = ["{0}={1}".format(key, labels[key]) for key in sorted(labels)]
    return {"labels": dict(labels), "selector": ",".join(selectors), "selectors": selectors}


def object_ref(obj):
    """``Kind namespace/name`` (or ``Kind name`` for a cluster-scoped object) of a manifest or stored object."""
    meta = obj.get("metadata") or {}
    name = "{0}/{1}".format(meta["namespace"], meta.get("name")) if meta.get("namespace") else meta.get("name")
    return "{0} {1}".format(obj.get("kind"), name)


def foreign(definitions, stored, labels):
    """The objects of ``definitions`` that exist and are not the lab's: applying them with server-side apply and
    ``force_conflicts`` would take them over.

    :param definitions: manifests the lab is about to apply.
    :param stored: the stored object for each definition, in the same order (None where none exists).
    :param labels: the lab's ownership labels; an object is the lab's when it carries every one of them.
    :returns: ``[{"object": "Kind ns/name", "labels": {its ownership labels}}]`` in manifest order.
    """
    out = []
    for definition, obj in zip(definitions, stored):
        if obj is None:
            continue
        have = (obj.get("metadata") or {}).get("labels") or {}
        if any(str(have.get(key)) != str(value) for key, value in (labels or {}).items()):
            out.append({"object": object_ref(definition),
                        "labels": dict((k, have[k]) for k in sorted(have) if k in (labels or {}))})
    return out


def missing_creation_labels(definitions, stored, creation_only):
    """The objects of ``definitions`` that exist without a label their manifest sets and that only counts when set
    at creation (``k8s.ovn.org/primary-user-defined-network`` on a namespace: OVN-Kubernetes reads it once, and
    refuses to add it later). Applying the manifest would add the label, and nothing would use it.

    :param creation_only: label keys that must be there from the object's creation.
    :returns: ``[{"object": "Kind ns/name", "missing": [label keys]}]`` in manifest order.
    """
    out = []
    for definition, obj in zip(definitions, stored):
        if obj is None:
            continue
        wanted = ((definition.get("metadata") or {}).get("labels") or {})
        have = (obj.get("metadata") or {}).get("labels") or {}
        missing = [key for key in (creation_only or []) if key in wanted and key not in have]
        if missing:
            out.append({"object": object_ref(definition), "missing": missing})
    return out
