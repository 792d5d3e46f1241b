# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Readers for the network annotations OVN-Kubernetes and multus put on pods (pure functions).

* ``k8s.ovn.org/pod-networks`` (OVN-Kubernetes): a JSON map keyed ``default`` or ``<namespace>/<nad>``;
  each value has ``ip_addresses`` (CIDRs), ``mac_address``, ``gateway_ips``, ``routes`` and ``role``
  (``primary``, ``secondary`` or ``infrastructure-locked``). Older writers use ``ip_address`` /
  ``gateway_ip`` (one value); both shapes are read.
* ``k8s.v1.cni.cncf.io/network-status`` (multus): a JSON list of ``{name, interface, ips, mac, default}``.

Every reader accepts a pod (dict with ``metadata.annotations``), the annotations dict, the annotation
value as a JSON string, or the already parsed value, so callers never care which one they hold.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import ipaddress
import json

POD_NETWORKS_ANNOTATION = "k8s.ovn.org/pod-networks"
NETWORK_STATUS_ANNOTATION = "k8s.v1.cni.cncf.io/network-status"
NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"
DEFAULT_NETWORK_KEY = "default"

ROLE_PRIMARY = "primary"
ROLE_SECONDARY = "secondary"
ROLE_INFRA_LOCKED = "infrastructure-locked"

FAMILIES = ("ipv4", "ipv6")


class AnnotationError(ValueError):
    """An annotation that is present but cannot be read (bad JSON, wrong shape)."""


def _to_text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value


def _annotation(source, key):
    """The raw value of annotation ``key`` from a pod / annotations dict / raw value; None when absent."""
    if source is None:
        return None
    if isinstance(source, dict):
        if "metadata" in source:
            annotations = (source.get("metadata") or {}).get("annotations") or {}
            return annotations.get(key)
        if key in source:
            return source.get(key)
        if source and all(isinstance(v, str) for v in source.values()):
            return None  # an annotations dict (string values) without the one asked for
    return source


def _load(raw, key, expected_type):
    raw = _to_text(raw)
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise AnnotationError("annotation {0} is not valid JSON: {1}".format(key, exc))
    if not isinstance(raw, expected_type):
        raise AnnotationError("annotation {0} must be a JSON {1}, got {2}".format(
            key, "object" if expected_type is dict else "list", type(raw).__name__))
    return raw


def ip_family(address):
    """``ipv4`` or ``ipv6`` for an address or CIDR string; None when it is neither."""
    text = str(address or "").strip()
    if not text:
        return None
    try:
        if "/" in text:
            return "ipv{0}".format(ipaddress.ip_interface(text).version)
        return "ipv{0}".format(ipaddress.ip_address(text).version)
    except ValueError:
        return None


def strip_prefix(address):
    """``10.0.0.5/24`` → ``10.0.0.5`` (an address without a prefix is returned unchanged)."""
    return str(address).split("/", 1)[0]


def split_families(addresses):
    """``{"ipv4": [...], "ipv6": [...]}`` of bare addresses (prefixes stripped), order kept, duplicates dropped."""
    out = {"ipv4": [], "ipv6": []}
    for addr in addresses or []:
        fam = ip_family(addr)
        bare = strip_prefix(addr)
        if fam and bare not in out[fam]:
            out[fam].append(bare)
    return out


def _as_list(value):
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def normalize_pod_network(key, value):
    """One entry of ``k8s.ovn.org/pod-networks`` → a plain, family-split dict."""
    value = value or {}
    cidrs = _as_list(value.get("ip_addresses")) or _as_list(value.get("ip_address"))
    gateways = _as_list(value.get("gateway_ips")) or _as_list(value.get("gateway_ip"))
    fams = split_families(cidrs)
    if "/" in key:
        namespace, nad = key.split("/", 1)
    else:
        namespace, nad = None, key
    role = value.get("role") or (ROLE_PRIMARY if key == DEFAULT_NETWORK_KEY else ROLE_SECONDARY)
    return {
        "key": key,
        "namespace": namespace,
        "nad": nad,
        "role": role,
        "cidrs": cidrs,
        "ips": fams["ipv4"] + fams["ipv6"],
        "ipv4": fams["ipv4"],
        "ipv6": fams["ipv6"],
        "mac": value.get("mac_address"),
        "gateways": [strip_prefix(g) for g in gateways],
        "routes": [{"dest": r.get("dest"), "next_hop": r.get("nextHop")} for r in value.get("routes") or []
                   if isinstance(r, dict)],
    }


def pod_networks(source):
    """Read ``k8s.ovn.org/pod-networks`` into a summary.

    :returns: dict with ``networks`` (key → normalized entry), ``primary`` (the entry with role primary, or
        None), ``infrastructure_locked`` (the default network entry when a primary UDN locks it, or None),
        ``default`` (the ``default`` entry, whatever its role), ``secondary`` (list of secondary entries,
        sorted by key) and ``primary_network`` (key of the primary entry). Absent annotation → empty summary.
    :raises AnnotationError: when the annotation is present but malformed.
    """
    raw = _load(_annotation(source, POD_NETWORKS_ANNOTATION), POD_NETWORKS_ANNOTATION, dict) or {}
    networks = {}
    for key in sorted(raw):
        if not isinstance(raw[key], dict):
            raise AnnotationError("annotation {0}: entry {1!r} must be an object".format(POD_NETWORKS_ANNOTATION, key))
        networks[key] = normalize_pod_network(key, raw[key])
    primary = next((n for n in networks.values() if n["role"] == ROLE_PRIMARY), None)
    locked = next((n for n in networks.values() if n["role"] == ROLE_INFRA_LOCKED), None)
    return {
        "networks": networks,
        "primary": primary,
        "primary_network": primary["key"] if primary else None,
        "infrastructure_locked": locked,
        "default": networks.get(DEFAULT_NETWORK_KEY),
        "secondary": [n for n in networks.values() if n["role"] == ROLE_SECONDARY],
    }


def normalize_network_status(entry):
    """One multus ``network-status`` entry → plain dict with family-split ``ips``."""
    entry = entry or {}
    fams = split_families(_as_list(entry.get("ips")))
    name = entry.get("name") or ""
    namespace, nad = (name.split("/", 1) if "/" in name else (None, name))
    return {
        "name": name,
        "namespace": namespace,
        "nad": nad,
        "interface": entry.get("interface"),
        "ips": fams["ipv4"] + fams["ipv6"],
        "ipv4": fams["ipv4"],
        "ipv6": fams["ipv6"],
        "mac": entry.get("mac"),
        "default": bool(entry.get("default", False)),
    }


def network_status(source):
    """Read ``k8s.v1.cni.cncf.io/network-status`` into a list of normalized entries (annotation order).

    :raises AnnotationError: when the annotation is present but malformed.
    """
    raw = _load(_annotation(source, NETWORK_STATUS_ANNOTATION), NETWORK_STATUS_ANNOTATION, list) or []
    out = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise AnnotationError("annotation {0}: every entry must be an object".format(NETWORK_STATUS_ANNOTATION))
        out.append(normalize_network_status(entry))
    return out


def find_network_status(entries, name=None, interface=None, namespace=None):
    """The first entry whose ``name`` (``ns/nad``, or bare ``nad`` matched with ``namespace``) and/or
    ``interface`` match; None when none does."""
    for entry in entries or []:
        if interface is not None and entry.get("interface") != interface:
            continue
        if name is not None:
            full = name if "/" in name or namespace is None else "{0}/{1}".format(namespace, name)
            if entry.get("name") not in (full, name):
                continue
        return entry
    return None


def network_key(ref, namespace):
    """``<ns>/<nad>`` for a NAD reference that may omit its namespace (then ``namespace`` is used)."""
    if ref == DEFAULT_NETWORK_KEY or "/" in ref:
        return ref
    return "{0}/{1}".format(namespace, ref)


def pod_ips(pod, network="primary", family="ipv4"):
    """Addresses of ``pod`` on ``network`` for ``family`` (list, possibly empty).

    ``network``: ``primary`` (the primary UDN, or the default network when the pod has no primary UDN),
    ``default`` (the ``default`` entry whatever its role), ``infrastructure-locked`` (the default network
    entry only when a primary UDN locks it), or a NAD reference ``<ns>/<nad>`` / ``<nad>`` (namespace of the
    pod). Falls back to ``status.podIPs`` for ``primary``/``default`` when a pod has no OVN annotation.
    """
    if family not in FAMILIES:
        raise ValueError("family must be one of {0}, got {1!r}".format(", ".join(FAMILIES), family))
    summary = pod_networks(pod)
    if network == "primary":
        entry = summary["primary"]
    elif network == DEFAULT_NETWORK_KEY:
        entry = summary["default"]
    elif network == ROLE_INFRA_LOCKED:
        entry = summary["infrastructure_locked"]
    else:
        meta = (pod or {}).get("metadata") or {}
        entry = summary["networks"].get(network_key(network, meta.get("namespace")))
    if entry is not None:
        return list(entry[family])
    if network in ("primary", DEFAULT_NETWORK_KEY) and not summary["networks"]:
        status = (pod or {}).get("status") or {}
        addrs = [p.get("ip") for p in status.get("podIPs") or [] if isinstance(p, dict)]
        if not addrs and status.get("podIP"):
            addrs = [status["podIP"]]
        return split_families(addrs)[family]
    return []


# --------------------------------------------------------------------------- addresses OVN-Kubernetes derives


def network_gateway(cidr):
    """The first host address of ``cidr``: where OVN-Kubernetes puts a Layer2 UDN's gateway
    (``util.GetNodeGatewayIfAddr``)."""
    net = ipaddress.ip_network(str(cidr), strict=False)
    return str(net.network_address + 1)


def mac_for_ip(ip):
    """OVN-Kubernetes v1.3.0 ``util.IPAddrToHWAddr``: ``0a:58`` + the four IPv4 bytes; for IPv6 ``0a:58`` + the
    first four bytes of the SHA-256 of the address's canonical text."""
    addr = ipaddress.ip_address(str(ip).split("/", maxsplit=1)[0])
    raw = addr.packed if addr.version == 4 else hashlib.sha256(str(addr).encode()).digest()[:4]
    return "0a:58:" + ":".join("%02x" % b for b in bytearray(raw))


def ipv6_link_local(mac):
    """OVN-Kubernetes v1.3.0 ``util.HWAddrToIPv6LLA``: the EUI-64 link-local address of ``mac``."""
    b = [int(x, 16) for x in str(mac).split(":")]
    eui = bytearray([0xfe, 0x80, 0, 0, 0, 0, 0, 0, b[0] ^ 0x02, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]])
    return str(ipaddress.ip_address(bytes(eui)))


def layer2_gateways(cidrs):
    """The default-route gateways a guest on a Layer2 primary UDN with these subnets gets, by family.

    IPv4: the subnet's first address (DHCPv4 router option; ``util.GetNodeGatewayIfAddr``). IPv6: OVN-K offers
    no router in DHCPv6; the default route comes from router advertisements sent by the network's router port,
    whose MAC is ``IPAddrToHWAddr`` of the network's FIRST gateway IP (IPv4 when there is one), so the gateway is
    that MAC's link-local address (what OVN-K's e2e asserts: ``test/e2e/kubevirt/net.go``
    ``GenerateGatewayIPv6RouterLLA``). Returns e.g. ``{"ipv4": "192.168.0.1", "ipv6": "fe80::858:c0ff:fea8:1"}``.
    """
    first = {}
    ordered = []
    for cidr in cidrs or []:
        gateway = network_gateway(cidr)
        ordered.append(gateway)
        first.setdefault("ipv4" if ":" not in gateway else "ipv6", gateway)
    out = {}
    if "ipv4" in first:
        out["ipv4"] = first["ipv4"]
    if "ipv6" in first and ordered:
        out["ipv6"] = ipv6_link_local(mac_for_ip(ordered[0]))
    return out


# --------------------------------------------------------------------------- MTU


OVN_CONFIG = ("ovn-kubernetes", "ovn-config")
"""The ConfigMap (namespace, name) where the OVN-Kubernetes v1.3.0 chart writes the cluster's settings
(``templates/ovn-setup.yaml``); ovnkube-node takes its MTU from the ``mtu`` key (env ``OVN_MTU``)."""


def _positive_int(value):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def cluster_mtu(configmap):
    """The default network's MTU from the ``ovn-config`` ConfigMap (its ``mtu`` key), or None when it is not
    there (another installer than the chart: the caller must be told the MTU)."""
    return _positive_int(((configmap or {}).get("data") or {}).get("mtu"))


def nad_mtu(nad):
    """The ``mtu`` of an OVN NAD's CNI config, or None when it has none (OVN-Kubernetes v1.3.0 writes it only
    when the UDN/CUDN sets one: ``renderCNINetworkConfig``)."""
    try:
        config = json.loads(((nad or {}).get("spec") or {}).get("config") or "{}")
    except ValueError:
        return None
    return _positive_int(config.get("mtu")) if isinstance(config, dict) else None


def network_mtus(nads, default_mtu):
    """``{"default": default_mtu, "<ns>/<nad>": mtu}``: each network's MTU as the CNI gives it to a pod's
    interface, the NAD's ``mtu`` else the cluster's (v1.3.0 ``pkg/config/cni.go`` ``parseNetConfSingle`` starts
    from ``config.Default.MTU``). A network without its own MTU maps to ``default_mtu`` (None when unknown)."""
    out = {DEFAULT_NETWORK_KEY: _positive_int(default_mtu)}
    for nad in nads or []:
        meta = (nad or {}).get("metadata") or {}
        if meta.get("name"):
            own = nad_mtu(nad)
            out["{0}/{1}".format(meta.get("namespace"), meta["name"])] = own if own is not None else out[
                DEFAULT_NETWORK_KEY]
    return out
