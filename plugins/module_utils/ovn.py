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


# --------------------------------------------------------------------------- what a network gives a pod


OVN_CONFIG = ("ovn-kubernetes", "ovn-config")
"""The ConfigMap (namespace, name) where the OVN-Kubernetes v1.3.0 chart writes the cluster's settings
(``templates/ovn-setup.yaml``): ``net_cidr`` (cluster subnets), ``svc_cidr`` (service CIDRs) and ``mtu``, which
ovnkube-node reads (env ``OVN_MTU`` and friends)."""

DEFAULT_NETWORK_JOIN = ("100.64.0.0/16", "fd98::/64")
"""The default network's join subnets (v1.3.0 ``pkg/config/config.go`` ``V4JoinSubnet``, ``V6JoinSubnet``)."""
UDN_DEFAULT_JOIN = ("100.65.0.0/16", "fd99::/64")
"""A primary UDN's join subnets when it names none (the NAD's ``joinSubnet``; v1.3.0
``clustermanager/userdefinednetwork/template`` ``renderJoinSubnets``)."""
HAIRPIN_MASQUERADE = ("169.254.169.5/32", "fd69::5/128")
"""v1.3.0 ``config.go`` ``V4OVNServiceHairpinMasqueradeIP``, ``V6OVNServiceHairpinMasqueradeIP``."""


def _positive_int(value):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _cidrs(text):
    """CIDRs of a comma-separated list, a Layer3 ``CIDR/hostPrefix`` read as its CIDR."""
    out = []
    for item in [i.strip() for i in str(text or "").split(",") if i.strip()]:
        parts = item.split("/")
        out.append("/".join(parts[:2]) if len(parts) == 3 else item)
    return out


def cluster_mtu(configmap):
    """The default network's MTU from the ``ovn-config`` ConfigMap (its ``mtu`` key), or None when it is not
    there (another installer than the chart: the caller must be told the MTU)."""
    return _positive_int(((configmap or {}).get("data") or {}).get("mtu"))


def cluster_settings(configmap, mtu=None):
    """The default network as ``ovn-config`` describes it: ``{"mtu", "subnets", "service_cidrs", "join_subnets"}``
    (``mtu`` the caller's when given; ``subnets``/``service_cidrs`` None when the ConfigMap does not hold them)."""
    data = (configmap or {}).get("data") or {}
    return {"topology": "default", "role": "primary",
            "mtu": _positive_int(mtu) or cluster_mtu(configmap),
            "subnets": _cidrs(data.get("net_cidr")) or None,
            "service_cidrs": _cidrs(data.get("svc_cidr")) or None,
            "join_subnets": list(DEFAULT_NETWORK_JOIN)}


def nad_config(nad):
    """The CNI config of a NAD (a dict; empty when it is not JSON)."""
    try:
        config = json.loads(((nad or {}).get("spec") or {}).get("config") or "{}")
    except ValueError:
        return {}
    return config if isinstance(config, dict) else {}


def nad_mtu(nad):
    """The ``mtu`` of an OVN NAD's CNI config, or None when it has none (OVN-Kubernetes v1.3.0 writes it only
    when the UDN/CUDN sets one: ``renderCNINetworkConfig``)."""
    return _positive_int(nad_config(nad).get("mtu"))


def network_facts(nads, cluster):
    """``{"default": cluster, "<ns>/<nad>": facts}``: what each network gives a pod's interface, from the NADs
    OVN-Kubernetes rendered (``topology``, ``role``, ``subnets``, ``join_subnets``, ``mtu``) and ``cluster``
    (:func:`cluster_settings`). A NAD without ``mtu`` has the cluster's (v1.3.0 ``pkg/config/cni.go``
    ``parseNetConfSingle`` starts from ``config.Default.MTU``); a primary one without ``joinSubnet`` the default
    UDN join subnets."""
    cluster = dict(cluster or {})
    out = {DEFAULT_NETWORK_KEY: cluster}
    for nad in nads or []:
        meta = (nad or {}).get("metadata") or {}
        config = nad_config(nad)
        if not meta.get("name") or config.get("type") != "ovn-k8s-cni-overlay":
            continue
        role = str(config.get("role") or "secondary").lower()
        out["{0}/{1}".format(meta.get("namespace"), meta["name"])] = {
            "topology": str(config.get("topology") or "layer3").lower(), "role": role,
            "mtu": _positive_int(config.get("mtu")) or cluster.get("mtu"),
            "subnets": _cidrs(config.get("subnets")),
            "service_cidrs": cluster.get("service_cidrs"),
            "join_subnets": _cidrs(config.get("joinSubnet")) or (
                list(UDN_DEFAULT_JOIN) if role == ROLE_PRIMARY else []),
        }
    return out


def missing_cluster_settings(facts):
    """What :func:`network_facts` could not learn about the default network (``mtu``, ``subnets``,
    ``service_cidrs``: the claims needing them cannot pass), in that order."""
    default = (facts or {}).get(DEFAULT_NETWORK_KEY) or {}
    return [key for key in ("mtu", "subnets", "service_cidrs") if default.get(key) is None]


def missing_cluster_settings_message(configmap_ref, missing, mtu_variable):
    """One sentence on :func:`missing_cluster_settings` (empty when nothing is missing), naming the ConfigMap read
    (``namespace/name``) and the variable that sets the cluster's MTU."""
    if not missing:
        return ""
    words = {"mtu": "MTU (set {0})".format(mtu_variable), "subnets": "cluster subnets",
             "service_cidrs": "service CIDRs"}
    return ("ConfigMap {0} does not say the cluster's {1} (OVN-Kubernetes installed another way than its chart?): the "
            "claims that need them are wrong and say so.".format(configmap_ref, ", ".join(words[m] for m in missing)))


def network_mtus(facts):
    """``{network key: mtu}`` of :func:`network_facts` (None where unknown)."""
    return dict((key, (value or {}).get("mtu")) for key, value in (facts or {}).items())


def _of_family(cidrs, family):
    return [c for c in cidrs or [] if ip_family(c) == family]


def expected_routes(entry, facts):
    """``(routes, gateways, unknown)``: the ``routes`` (``[(dest, nextHop)]``) and ``gateway_ips`` OVN-Kubernetes
    v1.3.0 writes for a pod-networks entry (:func:`normalize_pod_network`) of a network with these ``facts``
    (:func:`network_facts`), per address via the first address of its subnet (``allocator/pod/pod_annotation.go``
    ``AddRoutesGatewayIP``):

    * the default network: its cluster subnets; as the pod's primary network also the service CIDRs, the hairpin
      masquerade IP and a gateway; always its join subnet (so an ``infrastructure-locked`` entry routes the
      cluster subnets and the join subnet, with no gateway);
    * a Layer3 UDN: its subnets; as a primary network also the service CIDRs, its join subnet and a gateway;
    * a Layer2 primary UDN: the service CIDRs, its join subnet and a gateway; a secondary Layer2 UDN nothing;
    * a secondary network never a gateway (the lab never requests one).

    ``unknown`` names the facts missing to tell (e.g. the service CIDRs of a cluster without ``ovn-config``)."""
    facts = facts or {}
    routes, gateways, unknown = [], [], []
    primary = entry.get("role") == ROLE_PRIMARY
    default = facts.get("topology") == "default"
    for ip in entry.get("cidrs") or []:
        family = ip_family(ip)
        gateway = str(ipaddress.ip_interface(ip).network.network_address + 1)
        hop = [gateway]

        def need(name):
            value = facts.get(name)
            if value is None:
                if name not in unknown:
                    unknown.append(name)
                return []
            return _of_family(value, family)

        if default or facts.get("topology") == "layer3":
            routes.extend((c, gateway) for c in need("subnets"))
        if default:
            if primary:
                routes.extend((c, gateway) for c in need("service_cidrs"))
                routes.append((HAIRPIN_MASQUERADE[0 if family == "ipv4" else 1], gateway))
                gateways.extend(hop)
            routes.extend((c, gateway) for c in _of_family(facts.get("join_subnets"), family)[:1])
            continue
        if not primary or facts.get("topology") not in ("layer3", "layer2"):
            continue
        routes.extend((c, gateway) for c in need("service_cidrs"))
        routes.extend((c, gateway) for c in _of_family(facts.get("join_subnets"), family)[:1])
        gateways.extend(hop)
    return routes, gateways, unknown
