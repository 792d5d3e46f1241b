# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""What the workshop shows inside a pod (``ip a``, ``ip r``, a liveness probe that keeps passing), as claims.

Pure functions over the pod object and the output of one command run in it (:data:`INSPECT_COMMAND`); the
results have the fields of :mod:`probes` results, so the truth tables, JUnit and the report take them as they are.

* ``interfaces``: the primary network's interface (multus ``network-status`` entry marked ``default``; ``ovn-udn1``
  with a primary UDN) holds the pod's primary address of the family from ``k8s.ovn.org/pod-networks``; with a
  primary UDN, ``eth0`` holds the infrastructure-locked default-network address.
* ``default-route``: the family's default route goes via the primary network's gateway on that interface, and no
  default route leaves through ``eth0`` when it is infrastructure-locked (OVN-Kubernetes v1.3.0
  ``cni/helper_linux.go`` ``setupNetwork``; ``allocator/pod/pod_annotation.go`` ``AddRoutesGatewayIP`` gives the
  locked default network no default route).
* ``mtu``: the primary network's interface has its network's MTU and, with a primary UDN, ``eth0`` the default
  network's (the NAD's ``mtu``, else the cluster's: :func:`ovn.network_facts`; OVN-Kubernetes v1.3.0
  ``pkg/cni/helper_linux.go`` ``setupInterface`` gives the veth that MTU). The workshop's ``ip a`` shows it.
* ``annotation``: what the workshop reads from ``k8s.ovn.org/pod-networks`` (role, gateway, MAC, routes) is what
  OVN-Kubernetes v1.3.0 writes for the pod's networks (:func:`ovn.expected_routes`; the MAC ``IPAddrToHWAddr`` of
  the first address): the primary entry with its gateway and routes, an infrastructure-locked default entry
  without a gateway, a secondary entry without one.
* ``liveness``: every container with a liveness probe is ready and was never restarted. The kubelet probes the
  pod's IP, its infrastructure-locked default-network address: that is what the locked address is for.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json

from ansible_collections.ovnk.udn_lab.plugins.module_utils import ovn, probes

SEPARATOR = "@@udn-lab@@"
INSPECT_COMMAND = ["sh", "-c", "ip -j address show; echo {0}; ip -j -4 route show default; echo {0}; "
                   "ip -j -6 route show default".format(SEPARATOR)]
"""One exec per pod: addresses, IPv4 default routes, IPv6 default routes (iproute2 JSON), separated."""
CHECKS = ("interfaces", "default-route", "mtu", "annotation", "liveness")
EXEC_CHECKS = ("interfaces", "default-route", "mtu")
"""The checks that need :data:`INSPECT_COMMAND` run in the pod (the others read the pod object only)."""
PER_FAMILY = ("interfaces", "default-route")
LOCKED_INTERFACE = "eth0"
CLAIMS = {
    "interfaces": "inside the pod, the primary UDN interface holds the pod's UDN address and eth0 the "
                  "infrastructure-locked default-network one (ip a)",
    "default-route": "inside the pod, the default route goes via the UDN gateway on the UDN interface, none via "
                     "eth0 (ip r)",
    "mtu": "inside the pod, the primary UDN interface and eth0 have their network's MTU (the network's own, else the "
           "cluster's) (ip a)",
    "annotation": "the pod's k8s.ovn.org/pod-networks shows what OVN-Kubernetes gives it: the primary network's "
                  "gateway, MAC and routes, an infrastructure-locked default network and any secondary one without "
                  "a gateway",
    "liveness": "the liveness probe keeps passing (the kubelet reaches the pod on its infrastructure-locked address)",
}


class InspectionError(ValueError):
    """Output that cannot be read (the command failed, or iproute2 without JSON)."""


def split_output(stdout):
    """``(addresses, routes4, routes6)`` parsed from :data:`INSPECT_COMMAND`'s output."""
    parts = (stdout or "").split(SEPARATOR)
    if len(parts) != 3:
        raise InspectionError("unexpected output of the inspection command: {0!r}".format((stdout or "")[:200]))
    out = []
    for part in parts:
        text = part.strip()
        try:
            out.append(json.loads(text) if text else [])
        except ValueError:
            raise InspectionError("not iproute2 JSON (ip -j): {0!r}".format(text[:200]))
    return tuple(out)


def interface_addresses(addresses, family):
    """``{ifname: [address]}`` of the family's global addresses."""
    want = "inet" if family == "ipv4" else "inet6"
    out = {}
    for link in addresses or []:
        for info in link.get("addr_info") or []:
            if info.get("family") == want and info.get("scope", "global") == "global":
                out.setdefault(link.get("ifname"), []).append(info.get("local"))
    return out


def link_mtus(addresses):
    """``{ifname: mtu}`` of the links in ``ip -j address show`` output."""
    return dict((link.get("ifname"), link.get("mtu")) for link in addresses or [] if link.get("ifname"))


def primary_interface(pod):
    """The interface of the pod's primary network: the multus network-status entry marked default, else
    ``ovn-udn1`` with a primary UDN, else ``eth0``."""
    for entry in ovn.network_status(pod):
        if entry.get("default") and entry.get("interface"):
            return entry["interface"]
    summary = ovn.pod_networks(pod)
    return "ovn-udn1" if summary["infrastructure_locked"] else LOCKED_INTERFACE


def _reproduce(inspection, check, family):
    where = "-n {0} {1}".format(inspection["namespace"], inspection["pod"])
    if check == "liveness":
        return "kubectl get pod {0} -o jsonpath='{{.status.containerStatuses}}'".format(where)
    if check == "mtu":
        return "kubectl exec {0} -- ip link show".format(where)
    if check == "annotation":
        return ("kubectl get pod {0} -o jsonpath='{{.metadata.annotations.k8s\\.ovn\\.org/pod-networks}}'"
                .format(where))
    return "kubectl exec {0} -- ip {1} {2}".format(where, "-4" if family == "ipv4" else "-6",
                                                   "address" if check == "interfaces" else "route")


def _result(inspection, check, family, ok, detail, families, command):
    suffix = "/{0}".format(family) if len(families) > 1 and check in PER_FAMILY else ""
    return probes.observed_result(
        "{0}-{1}{2}".format(inspection["id"], check, suffix), CLAIMS[check], check,
        "{0}/{1}".format(inspection["namespace"], inspection["pod"]),
        {"interfaces": "ip a", "default-route": "ip r", "mtu": "ip a", "annotation": "pod-networks",
         "liveness": "liveness probe"}[check], family,
        ok, detail,
        _reproduce(inspection, check, family), command=command)


def _interfaces(pod, addresses, family):
    summary = ovn.pod_networks(pod)
    primary = summary["primary"]
    if primary is None:
        return False, "no primary network in {0}".format(ovn.POD_NETWORKS_ANNOTATION)
    held = interface_addresses(addresses, family)
    iface = primary_interface(pod)
    problems = []
    for address in primary[family]:
        if address not in held.get(iface, []):
            problems.append("{0} does not hold the primary address {1} (it holds {2})".format(
                iface, address, ", ".join(held.get(iface, [])) or "none"))
    locked = summary["infrastructure_locked"]
    if locked is not None:
        for address in locked[family]:
            if address not in held.get(LOCKED_INTERFACE, []):
                problems.append("{0} does not hold the infrastructure-locked address {1} (it holds {2})".format(
                    LOCKED_INTERFACE, address, ", ".join(held.get(LOCKED_INTERFACE, [])) or "none"))
    if not primary[family]:
        problems.append("the pod has no {0} address on its primary network".format(family))
    if problems:
        return False, "; ".join(problems)
    return True, "{0} holds {1}{2}".format(iface, ", ".join(primary[family]), "; {0} holds {1}".format(
        LOCKED_INTERFACE, ", ".join(locked[family])) if locked is not None and locked[family] else "")


def _default_route(pod, routes, family):
    summary = ovn.pod_networks(pod)
    primary = summary["primary"]
    if primary is None:
        return False, "no primary network in {0}".format(ovn.POD_NETWORKS_ANNOTATION)
    gateways = [g for g in primary["gateways"] if ovn.ip_family(g) == family]
    iface = primary_interface(pod)
    defaults = [(r.get("gateway"), r.get("dev")) for r in routes or [] if r.get("dst") == "default"]
    if not gateways:
        return False, "the primary network has no {0} gateway in {1}".format(family, ovn.POD_NETWORKS_ANNOTATION)
    if not any(gw in gateways and dev == iface for gw, dev in defaults):
        return False, "no default route via {0} on {1} (default routes: {2})".format(
            ", ".join(gateways), iface, ", ".join("via {0} dev {1}".format(gw, dev) for gw, dev in defaults) or "none")
    if summary["infrastructure_locked"] is not None and any(dev == LOCKED_INTERFACE for dummy, dev in defaults):
        return False, "a default route leaves through the infrastructure-locked {0}".format(LOCKED_INTERFACE)
    return True, "default via {0} dev {1}".format(", ".join(gateways), iface)


def _mtu(pod, addresses, mtus):
    summary = ovn.pod_networks(pod)
    primary = summary["primary"]
    if primary is None:
        return False, "no primary network in {0}".format(ovn.POD_NETWORKS_ANNOTATION)
    held = link_mtus(addresses)
    wanted = [(primary_interface(pod), primary["key"])]
    if summary["infrastructure_locked"] is not None:
        wanted.append((LOCKED_INTERFACE, ovn.DEFAULT_NETWORK_KEY))
    problems, seen = [], []
    for iface, key in wanted:
        expected = (mtus or {}).get(key)
        if iface not in held:
            problems.append("the pod has no interface {0}".format(iface))
        elif expected is None:
            problems.append("{0} has MTU {1}, but the MTU of network {2} is unknown (the cluster's is read from "
                            "ConfigMap {3}/{4}, key mtu)".format(iface, held[iface], key, *ovn.OVN_CONFIG))
        elif held[iface] != expected:
            problems.append("{0} has MTU {1}, not its network's {2} ({3})".format(iface, held[iface], expected, key))
        else:
            seen.append("{0} mtu {1}".format(iface, held[iface]))
    if problems:
        return False, "; ".join(problems)
    return True, ", ".join(seen)


def _routes_text(routes):
    hops = {}
    for dest, hop in routes:
        hops.setdefault(hop, []).append(dest)
    return "; ".join("{0} via {1}".format(", ".join(dests), hop) for hop, dests in hops.items()) or "none"


def _canonical_routes(routes):
    out = []
    for dest, hop in routes:
        try:
            out.append((str(ipaddress.ip_network(str(dest), strict=False)), str(ipaddress.ip_address(str(hop)))))
        except ValueError:
            out.append((str(dest), str(hop)))
    return sorted(out)


def _annotation(pod, facts):
    summary = ovn.pod_networks(pod)
    primary = summary["primary"]
    if primary is None:
        return False, "no primary network in {0}".format(ovn.POD_NETWORKS_ANNOTATION)
    problems, seen = [], []
    for entry in [primary] + [n for n in summary["networks"].values() if n is not primary]:
        key = entry["key"]
        net = (facts or {}).get(key)
        if net is None:
            problems.append("{0}: no NetworkAttachmentDefinition of that name was read".format(key))
            continue
        routes, gateways, unknown = ovn.expected_routes(entry, net)
        have = [(r["dest"], r["next_hop"]) for r in entry["routes"]]
        if unknown:
            problems.append("{0}: the cluster's {1} are unknown (read from ConfigMap {2}/{3}), so its routes cannot be "
                            "told".format(key, " and ".join(u.replace("_", " ") for u in unknown), *ovn.OVN_CONFIG))
        elif _canonical_routes(have) != _canonical_routes(routes):
            problems.append("{0}: routes {1}, not {2}".format(key, _routes_text(have), _routes_text(routes)))
        if sorted(entry["gateways"]) != sorted(gateways):
            problems.append("{0}: gateway {1}, not {2}".format(
                key, ", ".join(entry["gateways"]) or "none", ", ".join(gateways) or "none"))
        mac = ovn.mac_for_ip(entry["cidrs"][0]) if entry["cidrs"] else None
        if mac and str(entry["mac"] or "").lower() != mac:
            problems.append("{0}: MAC {1}, not {2} (derived from {3})".format(key, entry["mac"], mac, entry["cidrs"][0]))
        seen.append("{0} {1}, gateway {2}, MAC {3}, routes {4}".format(
            key, entry["role"], ", ".join(entry["gateways"]) or "none", entry["mac"], _routes_text(have)))
    if problems:
        return False, "; ".join(problems)
    return True, "; ".join(seen)


def _liveness(pod):
    spec = (pod.get("spec") or {}).get("containers") or []
    probed = [c["name"] for c in spec if c.get("livenessProbe")]
    if not probed:
        return False, "no container of the pod has a liveness probe"
    statuses = dict((s.get("name"), s) for s in (pod.get("status") or {}).get("containerStatuses") or [])
    problems = []
    for name in probed:
        status = statuses.get(name) or {}
        if not status.get("ready"):
            problems.append("{0} is not ready".format(name))
        if status.get("restartCount"):
            problems.append("{0} restarted {1} times (a failing liveness probe restarts it)".format(
                name, status["restartCount"]))
    if problems:
        return False, "; ".join(problems)
    return True, "{0}: ready, never restarted".format(", ".join(probed))


def inspect_pod(inspection, pod, stdout, families, checks=CHECKS, facts=None):
    """The claims of one inspection (``{id, namespace, pod}``) from the pod object and :data:`INSPECT_COMMAND`'s
    output (None when the command could not run: every exec claim is wrong with that reason). ``facts`` describes
    the pod's networks (``default``, ``<ns>/<nad>``: :func:`ovn.network_facts`), for the ``mtu`` and
    ``annotation`` checks."""
    families = [f for f in families if f in ovn.FAMILIES] or ["ipv4"]
    results = []
    parsed, error = None, None
    if stdout is None:
        error = "the inspection command did not run in the pod"
    else:
        try:
            parsed = split_output(stdout)
        except InspectionError as exc:
            error = str(exc)
    for family in families:
        for check in ("interfaces", "default-route"):
            if check not in checks:
                continue
            if error:
                ok, detail = False, error
            elif check == "interfaces":
                ok, detail = _interfaces(pod, parsed[0], family)
            else:
                ok, detail = _default_route(pod, parsed[1] if family == "ipv4" else parsed[2], family)
            results.append(_result(inspection, check, family, ok, detail, families, INSPECT_COMMAND))
    if "mtu" in checks:
        ok, detail = (False, error) if error else _mtu(pod, parsed[0], ovn.network_mtus(facts))
        results.append(_result(inspection, "mtu", families[0], ok, detail, families, INSPECT_COMMAND))
    if "annotation" in checks:
        ok, detail = _annotation(pod, facts)
        results.append(_result(inspection, "annotation", families[0], ok, detail, families, []))
    if "liveness" in checks:
        ok, detail = _liveness(pod)
        results.append(_result(inspection, "liveness", families[0], ok, detail, families, []))
    return results
