# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""A classroom on one cluster: participants, and each participant's own copy of the workshops (pure functions).

Every participant ``p`` gets the workshop as written, under a prefix:

* namespaces ``<p>-<name>`` (``<p>-blue``, ``<p>-red-namespace``, ...), each labelled with the participant label;
  a namespace the workshop uses without creating it (its default-network pods live in ``default``) becomes a
  namespace of the participant's own without a primary network (``<p>-default``: the cluster's default network);
* cluster-scoped objects (ClusterUserDefinedNetworks) named ``<p>-<name>``, their namespaces the participant's, a
  raw namespace selector narrowed to the participant's namespaces; everything that names such a network (a pod's
  secondary networks, a probe's network, the overlapping-subnets claim, a VM's network) follows the new name;
* NetworkPolicies whose namespace selectors are narrowed to the participant's namespaces (the workshop's
  ``namespaceSelector: {}`` means "every namespace": in a classroom, every namespace of that participant);
* subnets unchanged: every participant uses the workshop's CIDRs, so the participants' networks overlap, and the
  isolation between them is a claim of its own.

Namespaced names (pods, Services, UDNs, VMs) stay as written: their namespace sets them apart.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

PARTICIPANT_LABEL = "udn-lab.ovnk.io/participant"
MAX_PARTICIPANTS = 200
NAME_LABEL = "kubernetes.io/metadata.name"
VARIABLE = "udn_lab_participants"
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
NAMESPACE_MAX = 63


class ClassroomError(ValueError):
    """Participants the lab cannot use (the message names udn_lab_participants and the fix)."""


# --------------------------------------------------------------------------- participants


def participant_names(value, namespaces=()):
    """The participants of ``udn_lab_participants``: a count (``3`` → ``p1``, ``p2``, ``p3``; ``12`` → ``p01`` …
    ``p12``) or a list of names. None, 0 or an empty list: no classroom (``[]``). Each name must be a DNS label
    short enough that ``<name>-<namespace>`` fits a namespace name for every namespace of ``namespaces``."""
    if value is None or value == "" or value == [] or value == 0:
        return []
    if isinstance(value, bool):
        raise ClassroomError("{0} must be a number of participants or a list of names, got {1!r}".format(VARIABLE, value))
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        count = int(value)
        if not 1 <= count <= MAX_PARTICIPANTS:
            raise ClassroomError("{0} must be from 1 to {1} participants, got {2} (or list their names)".format(
                VARIABLE, MAX_PARTICIPANTS, count))
        width = len(str(count))
        names = ["p{0:0{1}d}".format(n, width) for n in range(1, count + 1)]
    elif isinstance(value, (list, tuple)):
        names = [str(n).strip() if isinstance(n, str) else n for n in value]
        if len(names) > MAX_PARTICIPANTS:
            raise ClassroomError("{0} names {1} participants; at most {2}".format(VARIABLE, len(names), MAX_PARTICIPANTS))
    else:
        raise ClassroomError("{0} must be a number of participants or a list of names, got {1!r}".format(VARIABLE, value))
    longest = max([len(n) for n in namespaces] or [0])
    limit = NAMESPACE_MAX - 1 - longest
    problems = []
    for name in names:
        if not isinstance(name, str) or not DNS_LABEL.match(name):
            problems.append("{0!r} is not a DNS label (lower-case letters, digits and '-', starting and ending with a "
                            "letter or digit)".format(name))
        elif len(name) > limit:
            problems.append("{0!r} is {1} characters; at most {2}, so that <name>-<namespace> fits a namespace name "
                            "(63)".format(name, len(name), limit))
    duplicates = sorted(set(n for n in names if names.count(n) > 1 and isinstance(n, str)))
    if duplicates:
        problems.append("named more than once: {0}".format(", ".join(duplicates)))
    if problems:
        raise ClassroomError("{0}: {1}. Fix: give each participant a short, unique, lower-case name.".format(
            VARIABLE, "; ".join(problems)))
    return names


def prefixed(participant, name):
    """``<participant>-<name>``."""
    return "{0}-{1}".format(participant, name)


def _selector_for(participant, selector, rename_namespace):
    """``selector`` (a LabelSelector) narrowed to ``participant``'s namespaces; a selector on the namespace's own
    name label follows the renamed namespaces."""
    out = copy.deepcopy(selector) if selector else {}
    labels = dict(out.get("matchLabels") or {})
    if NAME_LABEL in labels:
        labels[NAME_LABEL] = rename_namespace(labels[NAME_LABEL])
    labels[PARTICIPANT_LABEL] = participant
    out["matchLabels"] = labels
    for expr in out.get("matchExpressions") or []:
        if expr.get("key") == NAME_LABEL:
            expr["values"] = [rename_namespace(v) for v in expr.get("values") or []]
    return out


def _narrow_policy_spec(participant, spec, rename_namespace):
    """A NetworkPolicy spec whose peers' namespace selectors only select ``participant``'s namespaces."""
    out = copy.deepcopy(spec or {})
    for direction, side in (("ingress", "from"), ("egress", "to")):
        for rule in out.get(direction) or []:
            for peer in rule.get(side) or []:
                if "namespaceSelector" in peer:
                    peer["namespaceSelector"] = _selector_for(participant, peer["namespaceSelector"],
                                                              rename_namespace)
    return out


# --------------------------------------------------------------------------- the pod workshop


def pod_workshop_namespaces(spec):
    """Every namespace the pod workshop ``spec`` uses, in first-use order (created or not)."""
    seen = []

    def add(name):
        if name and name not in seen:
            seen.append(name)

    for ns in spec.get("namespaces") or []:
        add(ns.get("name"))
    for net in spec.get("networks") or []:
        add(net.get("namespace"))
        for name in net.get("namespaces") or []:
            add(name)
    for key in ("apps", "services", "network_policies", "pod_inspections", "endpoint_slices"):
        for item in spec.get(key) or []:
            add(item.get("namespace"))
    for probe in spec.get("probes") or []:
        add((probe.get("from") or {}).get("namespace"))
        add((probe.get("to") or {}).get("namespace"))
    return seen


def pod_workshop_for(participant, spec):
    """``participant``'s copy of the pod workshop ``spec`` (keys as the pod_workshop role's variables without
    their prefix: namespaces, networks, apps, services, network_policies, probes, pod_inspections, endpoint_slices,
    overlapping_networks; others are copied unchanged)."""
    spec = copy.deepcopy(spec or {})
    created = [ns.get("name") for ns in spec.get("namespaces") or []]

    def ns(name):
        return prefixed(participant, name) if name else name

    cluster_scoped = dict((n["name"], prefixed(participant, n["name"])) for n in spec.get("networks") or []
                          if n.get("kind") == "ClusterUserDefinedNetwork")

    def net(name):
        return cluster_scoped.get(name, name)

    out = dict(spec)
    namespaces = []
    for item in spec.get("namespaces") or []:
        item = dict(item, name=ns(item["name"]))
        item["labels"] = dict(item.get("labels") or {}, **{PARTICIPANT_LABEL: participant})
        namespaces.append(item)
    for name in pod_workshop_namespaces(spec):
        if name not in created:  # used, not created (default): the participant's own default-network namespace
            namespaces.append({"name": ns(name), "primary_udn": False, "labels": {PARTICIPANT_LABEL: participant}})
    out["namespaces"] = namespaces
    networks = []
    for item in spec.get("networks") or []:
        item = dict(item)
        if item.get("kind") == "ClusterUserDefinedNetwork":
            item["name"] = net(item["name"])
            if item.get("namespaces"):
                item["namespaces"] = [ns(n) for n in item["namespaces"]]
            if item.get("namespace_selector") is not None:
                item["namespace_selector"] = _selector_for(participant, item["namespace_selector"], ns)
        elif item.get("namespace"):
            item["namespace"] = ns(item["namespace"])
        item["labels"] = dict(item.get("labels") or {}, **{PARTICIPANT_LABEL: participant})
        networks.append(item)
    out["networks"] = networks
    out["apps"] = [dict(a, namespace=ns(a.get("namespace")), networks=[net(n) for n in a.get("networks") or []])
                   if a.get("networks") else dict(a, namespace=ns(a.get("namespace"))) for a in spec.get("apps") or []]
    out["services"] = [dict(s, namespace=ns(s.get("namespace"))) for s in spec.get("services") or []]
    out["network_policies"] = [dict(p, namespace=ns(p.get("namespace")),
                                    spec=_narrow_policy_spec(participant, p.get("spec"), ns))
                               for p in spec.get("network_policies") or []]
    probes = []
    for probe in spec.get("probes") or []:
        probe = dict(probe)
        if (probe.get("from") or {}).get("namespace"):
            probe["from"] = dict(probe["from"], namespace=ns(probe["from"]["namespace"]))
        target = dict(probe.get("to") or {})
        if target.get("namespace"):
            target["namespace"] = ns(target["namespace"])
        if target.get("network"):
            target["network"] = net(target["network"])
        probe["to"] = target
        probes.append(probe)
    out["probes"] = probes
    for key in ("pod_inspections", "endpoint_slices"):
        out[key] = [dict(i, namespace=ns(i.get("namespace"))) for i in spec.get(key) or []]
    out["overlapping_networks"] = [dict(o, networks=[net(n) for n in o.get("networks") or []])
                                   for o in spec.get("overlapping_networks") or []]
    return {k: v for k, v in out.items() if k in spec or k == "namespaces"}


# --------------------------------------------------------------------------- the VM workshop


def vm_workshop_for(participant, spec):
    """``participant``'s copy of the VM workshop ``spec`` (networks, vms, migration_vm, migration_client as the
    vm_workshop role's variables without their prefix; others copied unchanged)."""
    spec = copy.deepcopy(spec or {})

    def ns(name):
        return prefixed(participant, name) if name else name

    renamed = dict((n["name"], prefixed(participant, n["name"])) for n in spec.get("networks") or [])
    out = dict(spec)
    if "networks" in spec:
        out["networks"] = [dict(n, name=renamed[n["name"]], namespaces=[ns(x) for x in n.get("namespaces") or []])
                           for n in spec["networks"]]
    if "vms" in spec:
        out["vms"] = [dict(v, namespace=ns(v.get("namespace")), network=renamed.get(v.get("network"), v.get("network")))
                      for v in spec["vms"]]
    for key in ("migration_vm", "migration_client"):
        if spec.get(key) and "/" in spec[key]:
            namespace, name = spec[key].split("/", 1)
            out[key] = "{0}/{1}".format(ns(namespace), name)
    return out


def vm_workshop_namespaces(spec):
    """Every namespace the VM workshop ``spec`` uses, in first-use order."""
    seen = []
    for n in spec.get("networks") or []:
        for name in n.get("namespaces") or []:
            if name not in seen:
                seen.append(name)
    for v in spec.get("vms") or []:
        if v.get("namespace") and v["namespace"] not in seen:
            seen.append(v["namespace"])
    return seen
