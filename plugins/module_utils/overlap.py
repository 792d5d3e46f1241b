# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""The workshop's overlapping subnets as a claim: two primary UDNs given the same subnet each hand out addresses
from it, to their own pods only.

OVN-Kubernetes v1.3.0 allocates every network on its own: each Layer3 network has its own host-subnet allocator
(``go-controller/pkg/clustermanager/node/node_allocator.go`` ``NewNodeAllocator``) and its own per-node pod IP
allocator, so the same address can be held in both networks. Which node gets which host subnet depends on the
order the network's nodes are processed (``pkg/controllers/node/node_controller.go`` ``bootstrapNetwork``: not
fixed), so equal addresses across the two networks are likely, not guaranteed: the claim is that both draw from
the shared range, each pod on its own network; the addresses held by both are shown, not required.

Where an address is held in both networks, the workshop's point is that it still means one pod per network: a
pod dialing it reaches its own network's holder, never the other network's (each network has its own routing
domain: ``docs/okeps/okep-5193-user-defined-networks.md``). :func:`own_network_probes` makes that a probe per
network and family, an HTTP ``/hostname`` that only the caller's own holder may answer.

Pure functions over the pods (``k8s.ovn.org/pod-networks``) and the networks as the role declares them
(``pod_workshop_networks``); results have the fields of :mod:`probes` results.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.ovnk.udn_lab.plugins.module_utils import ovn, probes

CLAIM = ("two UDNs with the same subnet each hand out addresses from it to their own pods: every pod of both "
         "holds its primary address in the shared subnet, on its own network")


OWN_NETWORK_CLAIM = ("an address held in both overlapping networks reaches the caller's own network: a pod dialing it "
                     "is answered by its own network's pod holding it")

REPRODUCE = ("kubectl get pods -n {0} -o jsonpath='{{range .items[*]}}{{.metadata.name}} "
             "{{.metadata.annotations.k8s\\.ovn\\.org/pod-networks}}{{\"\\n\"}}{{end}}'")


def network_namespaces(network):
    """The namespaces a declared network (``pod_workshop_networks`` entry) covers."""
    if network.get("kind") == "ClusterUserDefinedNetwork":
        return list(network.get("namespaces") or [])
    return [network.get("namespace")]


def subnet_of(network, family):
    """The network's subnet of the family (a CIDR), or None."""
    sub = (network.get("subnets") or {}).get(family)
    if isinstance(sub, dict):
        sub = sub.get("cidr")
    return str(sub) if sub else None


def _name(obj):
    return (obj.get("metadata") or {}).get("name")


def judge(networks, pods_by_namespace, family):
    """``(ok, detail)`` for the declared ``networks`` (two or more) in one family."""
    subnets = set(subnet_of(n, family) for n in networks)
    if len(subnets) != 1 or None in subnets:
        return False, "the networks do not share one {0} subnet: {1}".format(
            family, ", ".join("{0} {1}".format(n.get("name"), subnet_of(n, family)) for n in networks))
    shared = ipaddress.ip_network(subnets.pop(), strict=False)
    problems, shown, held = [], [], {}
    for net in networks:
        keys = set("{0}/{1}".format(ns, net.get("name")) for ns in network_namespaces(net))
        mine = []
        for namespace in network_namespaces(net):
            for pod in pods_by_namespace.get(namespace) or []:
                try:
                    summary = ovn.pod_networks(pod)
                except ovn.AnnotationError as exc:
                    problems.append("pod {0}/{1}: {2}".format(namespace, _name(pod), exc))
                    continue
                primary = summary["primary"]
                if primary is None:
                    continue  # not attached yet, or not a workshop pod: only pods on a network count
                if primary["key"] not in keys:
                    problems.append("pod {0}/{1} is on {2}, not on {3}".format(
                        namespace, _name(pod), primary["key"], net.get("name")))
                    continue
                for address in primary[family][:1]:
                    mine.append((_name(pod), address))
                    if ipaddress.ip_address(address) not in shared:
                        problems.append("pod {0}/{1} holds {2}, outside the shared {3}".format(
                            namespace, _name(pod), address, shared))
                    held.setdefault(address, set()).add(net.get("name"))
        if not mine:
            problems.append("no pod of {0} holds a primary {1} address".format(net.get("name"), family))
        shown.append("{0}: {1}".format(net.get("name"), ", ".join("{0} {1}".format(p, a) for p, a in sorted(mine))))
    if problems:
        return False, "; ".join(problems)
    both = sorted((a for a, owners in held.items() if len(owners) > 1), key=ipaddress.ip_address)
    common = ", ".join(both) or "none this time (which node gets which host subnet is not fixed per network)"
    return True, "{0} shared by {1}; held in more than one network: {2}".format(shared, "; ".join(shown), common)


def overlapping_networks(check, declared, pods_by_namespace, families):
    """The claims of one ``pod_workshop_overlapping_networks`` entry (``{id, networks: [names]}``), one per family.
    ``declared``: ``pod_workshop_networks``; ``pods_by_namespace``: ``{namespace: [pod]}``."""
    families = [f for f in families if f in ovn.FAMILIES] or ["ipv4"]
    by_name = dict((n.get("name"), n) for n in declared or [])
    networks = [by_name[name] for name in check.get("networks") or [] if name in by_name]
    namespaces = [ns for n in networks for ns in network_namespaces(n)]
    results = []
    for family in families:
        if len(networks) < 2 or len(networks) != len(check.get("networks") or []):
            ok, detail = False, "networks {0}: not two or more declared networks".format(check.get("networks"))
        else:
            ok, detail = judge(networks, pods_by_namespace, family)
        results.append(probes.observed_result(
            "{0}{1}".format(check["id"], "/" + family if len(families) > 1 else ""), CLAIM, "overlapping-subnets",
            " + ".join(n.get("name") for n in networks) or "?", "pod addresses", family, ok, detail,
            "; ".join(REPRODUCE.format(ns) for ns in namespaces)))
    return results


def _holders(networks, pods_by_namespace, family):
    """``{network name: {address: (namespace, pod)}}``: the primary address of the family of every running pod on
    each network (pods whose annotation cannot be read, or on another network, are left out: :func:`judge` names
    them)."""
    out = {}
    for net in networks:
        keys = set("{0}/{1}".format(ns, net.get("name")) for ns in network_namespaces(net))
        mine = out.setdefault(net.get("name"), {})
        for namespace in network_namespaces(net):
            for pod in pods_by_namespace.get(namespace) or []:
                if ((pod.get("status") or {}).get("phase") or "Running") != "Running" or \
                        (pod.get("metadata") or {}).get("deletionTimestamp"):
                    continue
                try:
                    primary = ovn.pod_networks(pod)["primary"]
                except ovn.AnnotationError:
                    continue
                if primary is not None and primary["key"] in keys and primary[family]:
                    mine[primary[family][0]] = (namespace, _name(pod))
    return out


def own_network_claim_id(check_id, network):
    """The claim id of one network's own-network probe: ``<check id>-own-network-<its first namespace>``."""
    return "{0}-own-network-{1}".format(check_id, network_namespaces(network)[0])


def own_network_probes(check, declared, pods_by_namespace, families, port=8080):
    """Probes that a shared address reaches the caller's own network, per network of the check and family:
    from a pod of the network (not the holder) an HTTP ``/hostname`` to the lowest address held in both networks,
    which only that network's holder may answer (``to.answered_by``).

    Returns ``{"probes": [...], "results": [...]}``: ``results`` holds a "not applicable" result, with the
    reason, for each network and family where no address is shared this time (OVN-Kubernetes does not guarantee
    one: see the module docstring) or where the network has no second pod to dial from."""
    families = [f for f in families if f in ovn.FAMILIES] or ["ipv4"]
    by_name = dict((n.get("name"), n) for n in declared or [])
    networks = [by_name[name] for name in check.get("networks") or [] if name in by_name]
    out = {"probes": [], "results": []}
    if len(networks) < 2:
        return out  # the overlapping-subnets claim says what is wrong with the check
    for family in families:
        holders = _holders(networks, pods_by_namespace, family)
        for net in networks:
            name = net.get("name")
            mine = holders.get(name) or {}
            shared = sorted((a for a in mine if any(a in holders.get(o.get("name"), {})
                                                    for o in networks if o is not net)), key=ipaddress.ip_address)
            probe = {"id": own_network_claim_id(check["id"], net) + ("/" + family if len(families) > 1 else ""),
                     "claim": OWN_NETWORK_CLAIM, "phase": "always", "protocol": "http", "port": port, "family": family,
                     "expect": "reachable", "to": {"kind": "address", "address": None, "answered_by": []}}
            why = None
            if not shared:
                why = "no {0} address is held in both networks this time (OVN-Kubernetes assigns each network's " \
                      "host subnets to the nodes in no fixed order)".format(family)
                probe["from"] = {"namespace": network_namespaces(net)[0], "pod": "?"}
            else:
                address = shared[0]
                holder = mine[address]
                callers = sorted(p for a, p in mine.items() if p != holder)
                probe["to"].update(address=address, answered_by=[holder[1]])
                if not callers:
                    why = "{0} has no pod besides {1}/{2} to dial {3} from".format(name, holder[0], holder[1], address)
                    probe["from"] = {"namespace": holder[0], "pod": "?"}
                else:
                    probe["from"] = {"namespace": callers[0][0], "pod": callers[0][1]}
            if why:
                result = probes.base_result(probe)
                result.update(observed=probes.NOT_APPLICABLE, status=probes.STATUS_SKIPPED, detail=why)
                out["results"].append(result)
            else:
                out["probes"].append(probe)
    return out
