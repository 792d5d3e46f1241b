# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Input validation of the lab, as pure functions: every problem is one message naming the variable the user set
and the fix. Roles call these through filters (``plugins/filter/validation.py``) and assert once, before anything
changes.

One CIDR parser (Python's ``ipaddress``) for every role, instead of per-role regular expressions that disagreed
(``fd00::1::2/64`` was refused by one and accepted by the others).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.ovnk.udn_lab.plugins.module_utils import podcheck

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
FAMILIES = ("ipv4", "ipv6")
FAMILIES_BY_IP_FAMILY = {"ipv4": ["ipv4"], "ipv6": ["ipv6"], "dual": ["ipv4", "ipv6"]}
EXAMPLES = {"ipv4": "103.103.0.0/16", "ipv6": "fd00:103:103::/48"}

# What a user-defined network's subnets may not overlap, as OVN-Kubernetes v1.3.0 checks it
# (go-controller/pkg/util/multi_network.go SubnetOverlapCheck; defaults from go-controller/pkg/config/config.go and
# go-controller/pkg/types/const.go): the default network's join and masquerade subnets always, the transit subnet
# for Layer3 networks (a Layer2 primary network picks a free one), the network's own join subnet for a Primary
# network; plus the cluster's pod (cluster) and service subnets, which the caller passes.
OVN_RESERVED = (
    ("100.64.0.0/16", "the default network's join subnet (OVN-K v1.3.0 Gateway.V4JoinSubnet)", None, None),
    ("fd98::/64", "the default network's join subnet (OVN-K v1.3.0 Gateway.V6JoinSubnet)", None, None),
    ("169.254.169.0/29", "the masquerade subnet (OVN-K v1.3.0 Gateway.V4MasqueradeSubnet)", None, None),
    ("fd69::/125", "the masquerade subnet (OVN-K v1.3.0 Gateway.V6MasqueradeSubnet)", None, None),
    ("100.88.0.0/16", "the transit subnet of Layer3 networks (OVN-K v1.3.0 ClusterManager.V4TransitSubnet)",
     "Layer3", None),
    ("fd97::/64", "the transit subnet of Layer3 networks (OVN-K v1.3.0 ClusterManager.V6TransitSubnet)",
     "Layer3", None),
    ("100.65.0.0/16", "a primary network's join subnet (OVN-K v1.3.0 UserDefinedPrimaryNetworkJoinSubnetV4)",
     None, "Primary"),
    ("fd99::/64", "a primary network's join subnet (OVN-K v1.3.0 UserDefinedPrimaryNetworkJoinSubnetV6)",
     None, "Primary"),
)


def family_of(network):
    return "ipv4" if network.version == 4 else "ipv6"


def parse_cidr(value, family=None):
    """``(network, None)`` or ``(None, reason)``: ``value`` must be ``address/prefix`` of ``family`` (when given)
    whose address is the network address (no host bits)."""
    text = str(value if value is not None else "").strip()
    if "/" not in text:
        return None, "is not a CIDR (address/prefix)"
    try:
        iface = ipaddress.ip_interface(text)
    except ValueError:
        return None, "is not a CIDR (address/prefix)"
    if family and family_of(iface.network) != family:
        return None, "is not an {0} CIDR".format(family)
    if iface.ip != iface.network.network_address:
        return None, "is not a network: its address has host bits set beyond /{0} (use {1})".format(
            iface.network.prefixlen, iface.network)
    return iface.network, None


def cidr_problem(variable, value, family=None):
    """One message for a bad CIDR (None when it is fine)."""
    network, reason = parse_cidr(value, family)
    if network is not None:
        return None
    if reason.startswith("is not a network"):
        return "{0} {1} {2}".format(variable, value, reason)
    example = EXAMPLES.get(family) if family else "10.244.0.0/16 or fd00:10:244::/48"
    return "{0} {1} {2}, e.g. {3}".format(variable, _json(value), reason, example)


def cidr_list_problems(variable, values, families=None, ordered=True, family_variable="udn_lab_ip_family",
                       udn_topology=None, udn_role="Primary", cluster_ranges=()):
    """Problems of a list of CIDRs (a comma-separated string or a list): each valid, at most one per family, and
    when ``families`` is given exactly those families, in that order when ``ordered`` (kind and OVN-K take the
    first as the primary family). ``family_variable``: the variable that sets the families, named in the message.
    With ``udn_topology`` (the CIDRs are a user-defined network's subnets) also every range OVN-Kubernetes refuses
    for it (:func:`reserved_overlap`; ``cluster_ranges``: the cluster's pod and service subnets)."""
    items = [v.strip() for v in values.split(",")] if isinstance(values, str) else list(values or [])
    items = [v for v in items if str(v).strip()]
    problems, parsed = [], []
    for item in items:
        message = cidr_problem(variable, item)
        if message:
            problems.append(message)
        else:
            parsed.append(ipaddress.ip_network(str(item).strip()))
    if problems:
        return problems
    got = [family_of(n) for n in parsed]
    if udn_topology:
        for network in parsed:
            clash = reserved_overlap(network, [tuple(r) for r in cluster_ranges or ()], udn_topology, udn_role)
            if clash:
                problems.append(overlap_message(variable, network, clash))
    if len(set(got)) != len(got):
        problems.append("{0} {1}: one CIDR per family".format(variable, _json(items)))
    elif families is not None and (got != list(families) if ordered else sorted(got) != sorted(families)):
        problems.append("{0} {1} holds {2}, which does not match {3}: it needs one CIDR of each of {4}{5}".format(
            variable, _json(items), ", ".join(got) or "nothing", family_variable, ", ".join(families),
            " (in that order)" if ordered else ""))
    return problems


def reserved_overlap(network, extra=(), topology=None, role="Primary"):
    """The first range a user-defined network's subnet ``network`` may not overlap and does: ``(cidr, what)``,
    or None. ``extra``: ``(cidr, what)`` pairs of the cluster (its pod and service subnets)."""
    ranges = list(extra)
    ranges += [(cidr, what) for cidr, what, only_topology, only_role in OVN_RESERVED
               if (only_topology is None or only_topology == topology) and (only_role is None or only_role == role)]
    for cidr, what in ranges:
        try:
            other = ipaddress.ip_network(str(cidr), strict=False)
        except ValueError:
            continue
        if other.version == network.version and network.overlaps(other):
            return str(other), what
    return None


def cluster_subnet_problems(pod_subnets, service_subnets, pod_variable, service_variable):
    """Overlaps among the cluster's pod and service subnets and OVN-K's own ranges, which OVN-K v1.3.0 refuses at
    start-up (``config.go``: cluster subnets, service CIDRs, the default join, masquerade and transit subnets,
    ``allSubnets.CheckForOverlaps``). Invalid CIDRs are skipped: run :func:`cidr_list_problems` first."""
    def networks(values):
        items = values.split(",") if isinstance(values, str) else list(values or [])
        out = []
        for item in items:
            network, _reason = parse_cidr(str(item).strip())
            if network is not None:
                out.append(network)
        return out

    problems = []
    pods, services = networks(pod_subnets), networks(service_subnets)
    for network in pods:
        clash = next((s for s in services if s.version == network.version and s.overlaps(network)), None)
        if clash is not None:
            problems.append("{0} {1} overlaps {2} {3}: pod and service subnets must be disjoint".format(
                pod_variable, network, service_variable, clash))
    for variable, nets in ((pod_variable, pods), (service_variable, services)):
        for network in nets:
            clash = reserved_overlap(network, (), "Layer3", None)
            if clash:
                problems.append(overlap_message(variable, network, clash))
    return problems


def overlap_message(where, network, clash):
    return "{0} {1} overlaps {2}, {3}: OVN-Kubernetes refuses it; pick a range outside it".format(
        where, network, clash[0], clash[1])


def _json(value):
    import json

    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _dns(value):
    return isinstance(value, str) and bool(DNS_LABEL.match(value))


def _subnet_problems(where, net, fams, ip_family, cluster_ranges):
    out = []
    subnets = net.get("subnets")
    if not isinstance(subnets, dict):
        return [where + ": subnets must map families to subnets, e.g. {ipv4: {cidr: 103.103.0.0/16, host_subnet: 24}, "
                "ipv6: {cidr: \"fd00:103:103::/48\", host_subnet: 64}}"]
    for fam in fams:
        sub = subnets.get(fam)
        cidr = (sub.get("cidr", "") if isinstance(sub, dict) else (sub or ""))
        swhere = "{0}: subnets.{1}".format(where, fam)
        if sub is None:
            out.append("{0} is missing: pod_workshop_ip_family {1} needs a subnet per family".format(swhere, ip_family))
            continue
        network, reason = parse_cidr(cidr, fam)
        if network is None:
            if reason.startswith("is not a network"):
                out.append("{0} {1} {2}".format(swhere, cidr, reason))
            else:
                out.append("{0} {1} is not an {2} CIDR (address/prefix), e.g. {3}".format(
                    swhere, _json(cidr), fam, EXAMPLES[fam]))
            continue
        clash = reserved_overlap(network, cluster_ranges, net.get("topology"), net.get("role", "Primary"))
        if clash:
            out.append(overlap_message(swhere, network, clash))
        bits = network.max_prefixlen
        if net.get("topology") == "Layer3":
            host = sub.get("host_subnet") if isinstance(sub, dict) else None
            if host is None or not str(host).isdigit():
                out.append("{0}: a Layer3 subnet needs host_subnet (the per-node prefix length), e.g. {{cidr: {1}, "
                           "host_subnet: {2}}}".format(swhere, network, 24 if fam == "ipv4" else 64))
            elif int(host) <= network.prefixlen:
                out.append("{0}: host_subnet {1} must be larger than the prefix /{2} of {3}".format(
                    swhere, host, network.prefixlen, network))
            elif int(host) >= bits:
                out.append("{0}: host_subnet {1} must be < {2}".format(swhere, host, bits))
        elif isinstance(sub, dict) and "host_subnet" in sub:
            out.append(swhere + ": host_subnet only applies to Layer3 networks")
    return out


def _claim_id_problems(where, claim_id, ids_here, others, reported):
    """The id of a claim entry must be a DNS label, used once here and by no other claim (``reported``: ids already
    named, so each is named once)."""
    if not _dns(claim_id or ""):
        return [where + ": id must be a lowercase DNS label (it names the claims)"]
    if (ids_here.count(claim_id) > 1 or claim_id in others) and claim_id not in reported:
        reported.add(claim_id)
        return [where + ": id used twice (or by another claim): ids must be unique"]
    return []


def pod_workshop_problems(operation, ip_family, namespaces, networks, apps, services, policies, probes,
                          cluster_ranges=(), inspections=(), endpoint_slices=(), overlapping=()):
    """Every problem of the pod workshop's inputs (``pod_workshop_*``), in a stable order. ``cluster_ranges``:
    ``(cidr, what)`` pairs a user-defined network may not overlap (the cluster's pod and service subnets)."""
    p = []
    if operation not in ("create", "render", "delete", "verify"):
        p.append("pod_workshop_operation is {0}: use create, render, delete or verify".format(_json(operation)))
    if ip_family not in FAMILIES_BY_IP_FAMILY:
        p.append("pod_workshop_ip_family is {0}: use ipv4, ipv6 or dual (usually through udn_lab_ip_family)".format(
            _json(ip_family)))
    fams = FAMILIES_BY_IP_FAMILY.get(ip_family, ["ipv4"])
    namespaces, networks, apps = list(namespaces or []), list(networks or []), list(apps or [])
    services, policies, probes = list(services or []), list(policies or []), list(probes or [])

    ns_names = [n.get("name") for n in namespaces]
    primary_ns = [n.get("name") for n in namespaces if n.get("primary_udn")]
    seen = set()
    for name in ns_names:
        if name in seen:
            continue
        seen.add(name)
        if ns_names.count(name) > 1:
            p.append("pod_workshop_namespaces: namespace {0} is declared twice: declare each namespace once".format(name))
        if not _dns(name):
            p.append("pod_workshop_namespaces: {0} is not a valid namespace name (lowercase DNS label)".format(_json(name)))

    net_names = [n.get("name") for n in networks]
    primary_of, reported_dups = {}, set()
    for net in networks:
        where = "pod_workshop_networks {0}".format(net.get("name", "?"))
        if net_names.count(net.get("name")) > 1 and net.get("name") not in reported_dups:
            p.append("{0}: two networks are named {1}: network names must be unique (a cluster UDN creates a "
                     "network attachment of that name in every namespace it selects)".format(where, net.get("name")))
            reported_dups.add(net.get("name"))
        if not _dns(net.get("name", "")):
            p.append(where + ": name must be a lowercase DNS label")
        kind = net.get("kind", "")
        if kind not in ("UserDefinedNetwork", "ClusterUserDefinedNetwork"):
            p.append("{0}: kind must be UserDefinedNetwork or ClusterUserDefinedNetwork, got {1}".format(
                where, _json(net.get("kind"))))
        if net.get("topology", "") not in ("Layer2", "Layer3"):
            p.append("{0}: topology must be Layer2 or Layer3, got {1}".format(where, _json(net.get("topology"))))
        role = net.get("role", "Primary")
        if role not in ("Primary", "Secondary"):
            p.append("{0}: role must be Primary or Secondary, got {1}".format(where, _json(role)))
        targets = [net.get("namespace")] if kind == "UserDefinedNetwork" else list(net.get("namespaces") or [])
        if kind == "UserDefinedNetwork" and not net.get("namespace"):
            p.append(where + ": a UserDefinedNetwork needs namespace")
        if kind == "ClusterUserDefinedNetwork" and not targets and "namespace_selector" not in net:
            p.append(where + ": a ClusterUserDefinedNetwork needs namespaces (a list) or namespace_selector")
        if role == "Primary":
            for target in [t for t in targets if t]:
                if target not in primary_ns:
                    p.append("{0}: namespace {1} has a primary network but is not in pod_workshop_namespaces with "
                             "primary_udn: true (the label k8s.ovn.org/primary-user-defined-network can only be set "
                             "at creation)".format(where, target))
                elif target in primary_of:
                    p.append("{0}: namespace {1} already has the primary network {2}: a namespace has one primary "
                             "network".format(where, target, primary_of[target]))
                else:
                    primary_of[target] = net.get("name")
        lifecycle = net.get("ipam_lifecycle", "") or ""
        if lifecycle not in ("", "Persistent") or (lifecycle == "Persistent" and net.get("topology") != "Layer2"):
            p.append(where + ": ipam_lifecycle may only be Persistent, on a Layer2 network")
        p += _subnet_problems(where, net, fams, ip_family, cluster_ranges)
    for name in primary_ns:
        if name not in primary_of:
            p.append("pod_workshop_namespaces: {0} has primary_udn: true but no Primary network in pod_workshop_networks "
                     "selects it (its pods could not start)".format(name))

    pods, app_ns = {}, []
    secondary = [n for n in networks if n.get("role") == "Secondary"]
    for app in apps:
        where = "pod_workshop_apps {0}".format(app.get("name", "?"))
        if not _dns(app.get("name", "")) or not _dns(app.get("namespace", "")):
            p.append(where + ": name and namespace must be lowercase DNS labels")
        if not app.get("containers"):
            p.append(where + ": containers must list at least one container ({name: ..., http_port: ...})")
        replicas = app.get("replicas", 2)
        if not str(replicas).isdigit():
            p.append(where + ": replicas must be a number")
            replicas = 0
        for index in range(int(replicas)):
            key = "{0}/{1}-{2}".format(app.get("namespace"), app.get("name"), index)
            if key in pods:
                p.append("{0}: pod {1} is also a pod of {2}: StatefulSet names must be unique per namespace".format(
                    where, key, pods[key]))
            pods[key] = app.get("name")
        app_ns.append(app.get("namespace"))
        for ref in app.get("networks") or []:
            matches = [n for n in secondary if n.get("name") == ref]
            if not matches:
                p.append("{0}: networks names {1}, which is not a Secondary network of pod_workshop_networks".format(
                    where, ref))
                continue
            selects = [matches[0].get("namespace")] if matches[0].get("kind") == "UserDefinedNetwork" else list(
                matches[0].get("namespaces") or [])
            if app.get("namespace") not in selects:
                p.append("{0}: the secondary network {1} does not select namespace {2}".format(
                    where, ref, app.get("namespace")))

    for svc in services:
        if not _dns(svc.get("name", "")) or not svc.get("namespace") or not svc.get("ports"):
            p.append("pod_workshop_services {0}: needs a DNS-label name, a namespace and at least one port".format(
                svc.get("name", "?")))
        if svc.get("type", "ClusterIP") not in ("ClusterIP", "NodePort", "LoadBalancer"):
            p.append("pod_workshop_services {0}: type must be ClusterIP, NodePort or LoadBalancer".format(svc.get("name")))
    for policy in policies:
        if not _dns(policy.get("name", "")) or not policy.get("namespace") or not isinstance(policy.get("spec"), dict):
            p.append("pod_workshop_network_policies {0}: needs a DNS-label name, a namespace and a spec (mapping)".format(
                policy.get("name", "?")))

    known_ns = ns_names + app_ns + [s.get("namespace") for s in services]
    svc_keys = ["{0}/{1}".format(s.get("namespace"), s.get("name")) for s in services]
    ids = [pr.get("id") for pr in probes]
    for probe in probes:
        where = "pod_workshop_probes {0}".format(probe.get("id", "?"))
        if ids.count(probe.get("id")) > 1:
            p.append(where + ": id used twice: probe ids must be unique")
        if probe.get("phase", "always") not in ("always", "before_policy", "after_policy"):
            p.append(where + ": phase must be always, before_policy or after_policy")
        if probe.get("expect", "") not in ("reachable", "blocked"):
            p.append(where + ": expect must be reachable or blocked")
        src, dst = probe.get("from") or {}, probe.get("to") or {}
        ends = []
        if not src.get("host"):
            ends.append(("source", src.get("namespace", ""), src.get("pod", "")))
        if dst.get("kind", "pod") == "pod":
            ends.append(("target", dst.get("namespace", ""), dst.get("name", "")))
        for end, namespace, name in ends:
            if namespace not in known_ns:
                p.append("{0}: {1} namespace {2} is not a namespace of this workshop (pod_workshop_namespaces or "
                         "pod_workshop_apps)".format(where, end, _json(namespace)))
            elif name and "{0}/{1}".format(namespace, name) not in pods:
                there = sorted(k.split("/", 1)[1] for k in pods if k.startswith(namespace + "/"))
                p.append("{0}: {1} pod {2}/{3} is not a pod of pod_workshop_apps (pods in {2}: {4})".format(
                    where, end, namespace, name, ", ".join(there) or "none"))
            elif end == "source" and not name and not src.get("selector"):
                p.append(where + ": from needs pod (or selector), or host: true")
        if dst.get("kind", "pod") in ("service", "nodeport") and "{0}/{1}".format(
                dst.get("namespace", ""), dst.get("name", "")) not in svc_keys:
            p.append("{0}: target service {1}/{2} is not in pod_workshop_services".format(
                where, dst.get("namespace", ""), dst.get("name", "")))

    inspection_ids, reported = [i.get("id") for i in inspections or []], set()
    for inspection in inspections or []:
        where = "pod_workshop_pod_inspections {0}".format(inspection.get("id", "?"))
        if not _dns(inspection.get("id", "")):
            p.append(where + ": id must be a lowercase DNS label (it names the claims)")
        elif (inspection_ids.count(inspection.get("id")) > 1 or inspection.get("id") in ids) \
                and inspection.get("id") not in reported:
            p.append(where + ": id used twice (or by a probe): inspection ids must be unique")
            reported.add(inspection.get("id"))
        unknown = [c for c in inspection.get("checks") or [] if c not in podcheck.CHECKS]
        if unknown:
            p.append("{0}: checks {1} unknown: use {2}".format(
                where, ", ".join(_json(c) for c in unknown), ", ".join(podcheck.CHECKS)))
        key = "{0}/{1}".format(inspection.get("namespace", ""), inspection.get("pod", ""))
        if key not in pods:
            there = sorted(k for k in pods if k.startswith(inspection.get("namespace", "") + "/"))
            p.append("{0}: pod {1} is not a pod of pod_workshop_apps (pods there: {2})".format(
                where, key, ", ".join(there) or "none"))

    others, reported = set(ids) | set(inspection_ids), set()
    slice_ids = [c.get("id") for c in endpoint_slices or []]
    for check in endpoint_slices or []:
        where = "pod_workshop_endpoint_slices {0}".format(check.get("id", "?"))
        p.extend(_claim_id_problems(where, check.get("id"), slice_ids, others, reported))
        key = "{0}/{1}".format(check.get("namespace", ""), check.get("service", ""))
        if key not in svc_keys:
            p.append("{0}: service {1} is not in pod_workshop_services".format(where, key))
        elif check.get("namespace") not in primary_ns:
            p.append("{0}: namespace {1} has no primary UDN (primary_udn in pod_workshop_namespaces): OVN-Kubernetes "
                     "mirrors EndpointSlices only there".format(where, check.get("namespace")))

    others |= set(slice_ids)
    by_name = dict((n.get("name"), n) for n in networks)
    overlap_ids = [c.get("id") for c in overlapping or []]
    for check in overlapping or []:
        where = "pod_workshop_overlapping_networks {0}".format(check.get("id", "?"))
        p.extend(_claim_id_problems(where, check.get("id"), overlap_ids, others, reported))
        names = check.get("networks") if isinstance(check.get("networks"), list) else []
        unknown = [n for n in names if n not in by_name]
        if len(names) < 2 or unknown:
            p.append("{0}: networks must name two or more networks of pod_workshop_networks{1}".format(
                where, " (unknown: {0})".format(", ".join(str(n) for n in unknown)) if unknown else ""))
            continue
        if any(str(by_name[n].get("role", "")).lower() != "primary" for n in names):
            p.append("{0}: every network must be a Primary one (the claim reads the pods' primary addresses)".format(where))
        for fam in fams:
            cidrs = set()
            for n in names:
                sub = (by_name[n].get("subnets") or {}).get(fam)
                cidrs.add(str(sub.get("cidr") if isinstance(sub, dict) else sub))
            if len(cidrs) != 1:
                p.append("{0}: the networks have different {1} subnets ({2}): give them the same one".format(
                    where, fam, ", ".join(sorted(cidrs))))
    return p


SHA256 = re.compile(r"^[0-9a-f]{64}$")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def _checksum_problems(where, key, value):
    """``sha256`` (64 hex, or a mapping per platform of them, or null) and ``digest`` (``sha256:`` + 64 hex) at
    any depth below ``where``."""
    problems = []
    if key == "sha256":
        values = value.items() if isinstance(value, dict) else [(None, value)]
        for platform, digest in values:
            if digest is not None and not SHA256.match(str(digest)):
                problems.append("{0}{1} {2} is not a sha256 (64 lower-case hex digits; null to record the digest of "
                                "the first download)".format(where, "." + str(platform) if platform else "",
                                                             _json(digest)))
    elif key == "digest":
        if value is not None and not DIGEST.match(str(value)):
            problems.append("{0} {1} is not an image digest (sha256: and 64 lower-case hex digits)".format(
                where, _json(value)))
    elif isinstance(value, dict):
        for sub in sorted(value, key=str):
            problems += _checksum_problems("{0}.{1}".format(where, sub), sub, value[sub])
    return problems


def versions_override_problems(default, override, variable="udn_lab_versions_override"):
    """Problems of an override of the version matrix (``versions.yml``): a mapping whose artifacts and fields
    exist in the matrix (deeper levels, such as a ``sha256`` per platform, are free), every ``sha256`` 64 lower-case
    hex digits (or null: trust on first use) and every ``digest`` ``sha256:`` + 64 hex digits."""
    if override is None or override == {}:
        return []
    if not isinstance(override, dict):
        return ["{0} must be a mapping of artifacts to fields, e.g. {{kubevirt: {{version: v1.8.4}}}}, got {1}".format(
            variable, _json(override))]
    problems = []
    default = default if isinstance(default, dict) else {}
    for name in sorted(override, key=str):
        fields = override[name]
        where = "{0}.{1}".format(variable, name)
        if name not in default:
            problems.append("{0} is not an artifact of the version matrix (versions.yml has: {1})".format(
                where, ", ".join(sorted(default))))
            continue
        if not isinstance(fields, dict):
            problems.append("{0} must be a mapping of fields, e.g. {{version: ...}}, got {1}".format(where, _json(fields)))
            continue
        known = default[name] if isinstance(default[name], dict) else {}
        for field in sorted(fields, key=str):
            value = fields[field]
            fwhere = "{0}.{1}".format(where, field)
            if field not in known:
                problems.append("{0} is not a field of {1} in the version matrix (it has: {2})".format(
                    fwhere, name, ", ".join(sorted(known))))
            else:
                problems += _checksum_problems(fwhere, field, value)
    return problems


def number_problems(values, minimum=1):
    """Each ``{variable: value}`` a whole number >= ``minimum`` (seconds, retries): one message per one that is
    not, naming the variable."""
    problems = []
    for variable in sorted(values):
        value = values[variable]
        text = str(value).strip()
        if isinstance(value, bool) or not re.match(r"^-?[0-9]+$", text) or int(text) < minimum:
            problems.append("{0} is {1}: it must be a whole number >= {2}".format(variable, _json(value), minimum))
    return problems
