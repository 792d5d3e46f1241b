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
    fixed = ["{0}/{1}".format(s.get("namespace"), s.get("name")) for s in spec.get("services") or []
             if any(port.get("node_port") for port in s.get("ports") or [])]
    if fixed:
        raise ClassroomError("pod_workshop_services: {0} fix a nodePort, which every participant's copy would claim "
                             "(only one Service of the cluster can hold a nodePort). Fix: leave node_port out, so "
                             "that Kubernetes allocates one per Service.".format(", ".join(fixed)))
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


def participant_copy(workshop, participant, spec):
    """``participant``'s copy of ``spec`` for ``workshop`` (``pods`` or ``vms``); ``spec`` itself without a
    participant (the single-user lab)."""
    if not participant:
        return spec
    if workshop not in ("pods", "vms"):
        raise ClassroomError("participant_copy: the workshop is pods or vms, got {0!r}".format(workshop))
    namespaces = pod_workshop_namespaces(spec) if workshop == "pods" else vm_workshop_namespaces(spec)
    participant_names([participant], namespaces)
    return pod_workshop_for(participant, spec) if workshop == "pods" else vm_workshop_for(participant, spec)


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


# --------------------------------------------------------------------------- credentials and fences

PARTICIPANT_CLUSTER_ROLE = "udn-lab-participant"
ALL_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]
READ_VERBS = ["get", "list", "watch"]
PARTICIPANT_RULES = [
    # what the workshop has a participant do in their namespaces: pods and apps, Services, NetworkPolicies, UDNs,
    # VMs; exec into pods, read logs, port-forward; the console of their VMs, start/stop/migrate them
    {"apiGroups": [""], "resources": ["pods", "services", "configmaps", "secrets", "persistentvolumeclaims"],
     "verbs": ALL_VERBS},
    {"apiGroups": [""], "resources": ["pods/log", "events", "endpoints"], "verbs": READ_VERBS},
    {"apiGroups": [""], "resources": ["pods/exec", "pods/portforward", "pods/attach"], "verbs": ["get", "create"]},
    {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets", "replicasets"], "verbs": ALL_VERBS},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": READ_VERBS},
    {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": ALL_VERBS},
    {"apiGroups": ["k8s.ovn.org"], "resources": ["userdefinednetworks"], "verbs": ALL_VERBS},
    {"apiGroups": ["k8s.cni.cncf.io"], "resources": ["network-attachment-definitions", "multi-networkpolicies"],
     "verbs": ALL_VERBS},
    {"apiGroups": ["kubevirt.io"], "resources": ["virtualmachines", "virtualmachineinstances",
                                                 "virtualmachineinstancemigrations"], "verbs": ALL_VERBS},
    {"apiGroups": ["subresources.kubevirt.io"],
     "resources": ["virtualmachineinstances/console", "virtualmachineinstances/vnc",
                   "virtualmachineinstances/portforward", "virtualmachines/start", "virtualmachines/stop",
                   "virtualmachines/restart", "virtualmachines/migrate"], "verbs": ["get", "update"]},
    {"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews"], "verbs": ["create"]},
]


def _meta(name, labels, participant, namespace=None):
    meta = {"name": name, "labels": dict(labels or {}, **{PARTICIPANT_LABEL: participant})}
    if namespace:
        meta["namespace"] = namespace
    return meta


def participant_rbac(participant, namespaces, cluster_networks, labels, home_namespace):
    """The objects that let ``participant`` work in their ``namespaces`` and nothing else: a ServiceAccount
    ``<p>`` in ``home_namespace`` (the organizer's), a RoleBinding in each of their namespaces to the shared
    ClusterRole :data:`PARTICIPANT_CLUSTER_ROLE` (:func:`participant_cluster_role`), and a ClusterRole and binding
    of their own that reads only their ``cluster_networks`` (ClusterUserDefinedNetworks) and their namespaces, by
    name. ``labels``: the lab's ownership labels (the participant label is added)."""
    subject = {"kind": "ServiceAccount", "name": participant, "namespace": home_namespace}
    own = "{0}-{1}".format(PARTICIPANT_CLUSTER_ROLE, participant)
    objects = [{"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": _meta(participant, labels, participant, home_namespace)}]
    for namespace in namespaces:
        objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                        "metadata": _meta(PARTICIPANT_CLUSTER_ROLE, labels, participant, namespace),
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                    "name": PARTICIPANT_CLUSTER_ROLE},
                        "subjects": [subject]})
    rules = [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "watch", "list"],
              "resourceNames": list(namespaces)}]
    if cluster_networks:
        rules.append({"apiGroups": ["k8s.ovn.org"], "resources": ["clusteruserdefinednetworks"],
                      "verbs": ["get", "watch", "list"], "resourceNames": list(cluster_networks)})
    objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                    "metadata": _meta(own, labels, participant), "rules": rules})
    objects.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                    "metadata": _meta(own, labels, participant),
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": own},
                    "subjects": [subject]})
    return objects


def participant_cluster_role(labels):
    """The ClusterRole every participant is bound to in their own namespaces only (RoleBindings)."""
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": PARTICIPANT_CLUSTER_ROLE, "labels": dict(labels or {})},
            "rules": copy.deepcopy(PARTICIPANT_RULES)}


def fence_checks(participant, others):
    """The access a participant must have and must not have, as SelfSubjectAccessReview attributes:
    ``[{id, claim, attributes, expect}]``, ``expect`` True (allowed) or False (refused). ``others`` maps every
    other participant to ``{"namespaces": [...], "cluster_networks": [...], "vms": [(namespace, name)]}``;
    ``participant``'s own entry is under ``others[participant]`` too."""
    own = others[participant]
    checks = []

    def add(check_id, claim, attributes, expect):
        checks.append({"id": "{0}:{1}".format(participant, check_id), "claim": claim, "attributes": attributes,
                       "expect": expect})

    first = own["namespaces"][0]
    add("own-pods", "a participant works with pods in their own namespaces",
        {"namespace": first, "verb": "create", "resource": "pods"}, True)
    add("own-exec", "a participant can exec into their own pods",
        {"namespace": first, "verb": "create", "resource": "pods", "subresource": "exec"}, True)
    add("own-udn", "a participant can apply UserDefinedNetworks in their own namespaces",
        {"namespace": first, "verb": "create", "group": "k8s.ovn.org", "resource": "userdefinednetworks"}, True)
    for network in own.get("cluster_networks") or []:
        add("own-cudn-" + network, "a participant can read their own cluster networks",
            {"verb": "get", "group": "k8s.ovn.org", "resource": "clusteruserdefinednetworks", "name": network}, True)
    for namespace, name in own.get("vms") or []:
        add("own-console-" + name, "a participant can open the console of their own VMs",
            {"namespace": namespace, "verb": "get", "group": "subresources.kubevirt.io",
             "resource": "virtualmachineinstances", "subresource": "console", "name": name}, True)
        add("own-migrate-" + name, "a participant can migrate their own VMs",
            {"namespace": namespace, "verb": "create", "group": "kubevirt.io",
             "resource": "virtualmachineinstancemigrations"}, True)
    add("no-namespaces", "a participant cannot list the cluster's namespaces",
        {"verb": "list", "resource": "namespaces"}, False)
    add("no-cudns", "a participant cannot list every cluster network",
        {"verb": "list", "group": "k8s.ovn.org", "resource": "clusteruserdefinednetworks"}, False)
    add("no-new-namespace", "a participant cannot create namespaces",
        {"verb": "create", "resource": "namespaces"}, False)
    for other in sorted(others):
        if other == participant:
            continue
        theirs = others[other]
        target = theirs["namespaces"][0]
        add("not-{0}-pods".format(other), "a participant cannot list another participant's pods",
            {"namespace": target, "verb": "list", "resource": "pods"}, False)
        add("not-{0}-exec".format(other), "a participant cannot exec into another participant's pods",
            {"namespace": target, "verb": "create", "resource": "pods", "subresource": "exec"}, False)
        add("not-{0}-udn".format(other), "a participant cannot change another participant's networks",
            {"namespace": target, "verb": "delete", "group": "k8s.ovn.org", "resource": "userdefinednetworks"}, False)
        for network in theirs.get("cluster_networks") or []:
            add("not-{0}-cudn-{1}".format(other, network), "a participant cannot read another participant's cluster "
                "networks", {"verb": "get", "group": "k8s.ovn.org", "resource": "clusteruserdefinednetworks",
                             "name": network}, False)
        for namespace, name in theirs.get("vms") or []:
            add("not-{0}-vm-{1}".format(other, name), "a participant cannot read or stop another participant's VMs",
                {"namespace": namespace, "verb": "get", "group": "kubevirt.io", "resource": "virtualmachines",
                 "name": name}, False)
            add("not-{0}-console-{1}".format(other, name), "a participant cannot open another participant's console",
                {"namespace": namespace, "verb": "get", "group": "subresources.kubevirt.io",
                 "resource": "virtualmachineinstances", "subresource": "console", "name": name}, False)
    return checks


def review_body(attributes):
    """A SelfSubjectAccessReview for ``attributes`` (fence_checks' keys: namespace, verb, group, resource,
    subresource, name)."""
    attrs = {"verb": attributes["verb"], "resource": attributes["resource"], "group": attributes.get("group", "")}
    for key in ("namespace", "subresource", "name"):
        if attributes.get(key):
            attrs[key] = attributes[key]
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs}}


def judge_fences(checks, allowed):
    """``checks`` (fence_checks) with ``observed`` (``allowed[id]``: True, False or None when not asked) and
    ``status`` correct / wrong / unknown."""
    out = []
    for check in checks:
        observed = allowed.get(check["id"])
        status = "unknown" if observed is None else ("correct" if observed == check["expect"] else "wrong")
        out.append(dict(check, observed=observed, status=status))
    return out


# --------------------------------------------------------------------------- the participant's kubeconfig


def _b64url_json(part):
    import base64
    import json

    padded = part + "=" * (-len(part) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))


def token_expiry(token):
    """The ``exp`` claim (seconds since the epoch) of a JWT, unverified (the API server verifies it); None when
    the token is not a JWT with one."""
    try:
        claims = _b64url_json(str(token).split(".")[1])
        return int(claims["exp"])
    except Exception:
        return None


def kubeconfig_still_good(config, server, participant, now, min_seconds):
    """Whether an existing participant kubeconfig (a dict) points at ``server`` as ``participant`` with a token
    valid for at least ``min_seconds`` more: then a re-run keeps it (and changes nothing)."""
    try:
        cluster = config["clusters"][0]["cluster"]
        user = config["users"][0]
        token = user["user"]["token"]
    except (KeyError, IndexError, TypeError):
        return False
    expiry = token_expiry(token)
    return (cluster.get("server") == server and user.get("name") == participant and expiry is not None
            and expiry - now >= min_seconds)


def participant_kubeconfig(participant, server, ca_data, token, namespace, cluster_name):
    """A kubeconfig (dict) for ``participant``: the cluster ``server`` (with its CA, base64), the token, their
    first namespace as the context's default."""
    context = "{0}@{1}".format(participant, cluster_name)
    cluster = {"server": server}
    if ca_data:
        cluster["certificate-authority-data"] = ca_data
    return {"apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": cluster_name, "cluster": cluster}],
            "users": [{"name": participant, "user": {"token": token}}],
            "contexts": [{"name": context, "context": {"cluster": cluster_name, "user": participant,
                                                       "namespace": namespace}}],
            "current-context": context}


# --------------------------------------------------------------------------- data-plane fences


def fence_probes(participants, spec):
    """Claims that one participant's pods cannot reach another's, in connectivity_matrix's probe format, for each
    participant and the next one (the last and the first: every participant is a source and a target; all pairs
    when there are at most four). ``spec`` is the pod workshop as written (the role's variables without their
    prefix).

    The participants' networks overlap (the seed's subnets), and their pods have the same names, so a probe to a
    UDN address of another participant could answer from the source participant's own pod at that address. Each
    probe therefore targets what no pod of the source's network holds:

    * every Service of the workshop, from a pod of the source's copy of the Service's namespace, by its ClusterIP
      (unique in the cluster), over HTTP: another participant's Service is not reachable, not even on "the same"
      network;
    * a UDN pod of the target, from the source's pod on the cluster's default network (``<p>-default``), whose
      network holds no UDN address: the default network reaches no participant's UDN.
    """
    names = list(participants or [])
    if len(names) < 2:
        return []
    if len(names) <= 4:
        pairs = [(a, b) for a in names for b in names if a != b]
    else:
        pairs = [(names[i], names[(i + 1) % len(names)]) for i in range(len(names))]
    created = set(n.get("name") for n in spec.get("namespaces") or [])
    first_pod = {}
    for app in spec.get("apps") or []:
        first_pod.setdefault(app.get("namespace"), app)
    default_apps = [a for a in spec.get("apps") or [] if a.get("namespace") not in created]
    probes = []
    for source, target in pairs:
        for svc in spec.get("services") or []:
            app = first_pod.get(svc.get("namespace"))
            if not app:
                continue
            frm = {"namespace": prefixed(source, svc["namespace"]), "pod": app["name"] + "-0"}
            if app.get("containers") and len(app["containers"]) > 1:
                frm["container"] = app["containers"][0]["name"]
            probes.append({"id": "{0}-to-{1}-{2}".format(source, target, svc["name"]),
                           "claim": "a participant's pods cannot reach another participant's Service",
                           "from": frm,
                           "to": {"kind": "service", "namespace": prefixed(target, svc["namespace"]),
                                  "name": svc["name"]},
                           "protocol": "http", "expect": "blocked"})
        for app in default_apps[:1]:
            udn = next((a for a in spec.get("apps") or [] if a.get("namespace") in created
                        and any(n.get("name") == a.get("namespace") and n.get("primary_udn")
                                for n in spec.get("namespaces") or [])), None)
            if not udn:
                continue
            probes.append({"id": "{0}-default-to-{1}-{2}".format(source, target, udn["namespace"]),
                           "claim": "a participant's default-network pod cannot reach another participant's UDN pod",
                           "from": {"namespace": prefixed(source, app["namespace"]), "pod": app["name"] + "-0"},
                           "to": {"kind": "pod", "namespace": prefixed(target, udn["namespace"]),
                                  "name": udn["name"] + "-" + str(max(int(udn.get("replicas", 2)) - 1, 0))},
                           "protocol": "icmp", "expect": "blocked"})
    return probes
