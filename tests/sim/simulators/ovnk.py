"""OVN-Kubernetes stand-in: plays the UDN/CUDN controller, the NAD controller and pod IPAM.

What it does against a real API server (decisions are the pure functions below, unit-tested):

* UserDefinedNetwork / ClusterUserDefinedNetwork → a NetworkAttachmentDefinition of the same name in every
  target namespace (UDN: its own; CUDN: namespaces matching ``spec.namespaceSelector``, kept in sync) and
  status conditions ``NetworkCreated`` / ``NetworkAllocationSucceeded``. Failures carry the reason of the
  network's kind, as v1.3.0 ``clustermanager/userdefinednetwork/controller.go`` sets it: ``SyncError`` on a
  UDN, ``NetworkAttachmentDefinitionSyncError`` on a CUDN; a Primary network whose namespace lacks
  ``k8s.ovn.org/primary-user-defined-network`` fails with ``util.NewInvalidPrimaryNetworkError``'s message
  "invalid primary network state for namespace ..." (one line per such namespace on a CUDN, ``errors.Join``).
* Pods → ``k8s.ovn.org/pod-networks`` (default network entry, from the node's ``default`` host subnets that
  this simulator allocates from the chart's ``net_cidr`` as the cluster manager does; ``infrastructure-locked``
  when the namespace has a primary UDN, whose entry is ``primary``; secondary entries for ``k8s.v1.cni.cncf.io/networks``) and
  the multus ``k8s.v1.cni.cncf.io/network-status`` annotation. Addresses come from the NAD's subnets:
  Layer3 through per-node host subnets recorded in the node annotation ``k8s.ovn.org/node-subnets``, Layer2
  from the whole range; ``.1`` is the gateway and ``.2`` the management port.
* EndpointSlices of Services in a namespace with a primary UDN: the mirror controller of v1.3.0
  ``clustermanager/endpointslicemirror/endpointslice_mirror_controller.go`` (see :func:`reconcile_endpointslice`):
  each default slice gets a mirror listing the pods' primary-UDN addresses.
* IPAMClaims (Layer2 ``ipam.lifecycle: Persistent``): a pod annotated ``k8s.ovn.org/primary-udn-ipamclaim``
  gets the claim's addresses; the first allocation is written to the claim's status (``ips``, condition
  ``IPsAllocated``) so a VM keeps its IP across virt-launcher pods.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
from typing import Any, Dict, Iterator, List, Optional, Tuple

from .common import (CONFIGMAPS, CUDNS, DEPLOYMENTS, ENDPOINTSLICES, IPAMCLAIMS, NADS, NAMESPACES, NODES, PODS, UDNS, Controller, Result, annotations_of,
                     conditions_equal, create, delete, labels_of, mac_for_ip, meta, owned_by,
                     owner_ref, patch, patch_status, selector_matches, set_condition)

PRIMARY_LABEL = "k8s.ovn.org/primary-user-defined-network"
POD_NETWORKS = "k8s.ovn.org/pod-networks"
NETWORK_STATUS = "k8s.v1.cni.cncf.io/network-status"
NETWORKS = "k8s.v1.cni.cncf.io/networks"
IPAMCLAIM_ANNOTATION = "k8s.ovn.org/primary-udn-ipamclaim"
NODE_SUBNETS = "k8s.ovn.org/node-subnets"
UDN_LABEL = "k8s.ovn.org/user-defined-network"
FINALIZER = "k8s.ovn.org/user-defined-network-protection"
CNI_TYPE = "ovn-k8s-cni-overlay"
DEFAULT_NETWORK = "default"
DEFAULT_JOIN = {4: "100.65.0.0/16", 6: "fd99::/64"}
DEFAULT_NETWORK_JOIN = {4: "100.64.0.0/16", 6: "fd98::/64"}
"""The default network's join subnets (v1.3.0 ``pkg/config/config.go`` ``V4JoinSubnet`` / ``V6JoinSubnet``)."""
HAIRPIN_MASQUERADE = {4: "169.254.169.5/32", 6: "fd69::5/128"}
"""v1.3.0 ``pkg/config/config.go`` ``V4OVNServiceHairpinMasqueradeIP`` / ``V6OVNServiceHairpinMasqueradeIP``."""

DEFAULTS = {
    # Names (UDN "ns/name" or CUDN "name") whose NAD sync fails with SyncError (injected failure).
    "network_fail": [],
}


REASON_SYNC_ERROR = "SyncError"
REASON_NAD_SYNC_ERROR = "NetworkAttachmentDefinitionSyncError"
INVALID_PRIMARY_MESSAGE = ('invalid primary network state for namespace "%s": a valid primary user defined network or '
                           'network attachment definition custom resource, and required namespace label "%s" must '
                           "both be present")


class NetworkError(Exception):
    """A network cannot be served. ``reason`` is kept for callers that name one, but the condition's reason is
    the network kind's (:func:`failure_reason`), as in v1.3.0."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def failure_reason(kind: str) -> str:
    """v1.3.0 ``updateUserDefinedNetworkStatus`` / ``updateClusterUDNStatus``: every sync error of a UDN is
    ``SyncError``, of a CUDN ``NetworkAttachmentDefinitionSyncError``."""
    return REASON_NAD_SYNC_ERROR if kind == "ClusterUserDefinedNetwork" else REASON_SYNC_ERROR


# --------------------------------------------------------------------------- UDN / CUDN model


def network_of(obj: Dict[str, Any]) -> Dict[str, Any]:
    """Normalise a UDN or CUDN into one plain dict the other functions use."""
    kind = obj.get("kind")
    m = meta(obj)
    spec = obj.get("spec") or {}
    if kind == "ClusterUserDefinedNetwork":
        body = spec.get("network") or {}
        ovn_name = "cluster_udn_%s" % m["name"]
    else:
        body = spec
        ovn_name = "%s_%s" % (m.get("namespace"), m["name"])
    topology = body.get("topology") or ""
    layer = body.get(topology[:1].lower() + topology[1:]) or {}
    ipam = layer.get("ipam") or {}
    if topology == "Layer3":
        subnets = [(s.get("cidr"), s.get("hostSubnet")) for s in layer.get("subnets") or []]
    else:
        subnets = [(s, None) for s in layer.get("subnets") or []]
    return {
        "kind": kind,
        "name": m.get("name"),
        "namespace": m.get("namespace"),
        "ovn_name": ovn_name,
        "topology": topology,
        "role": layer.get("role") or "",
        "subnets": subnets,
        "mtu": layer.get("mtu"),
        "join_subnets": layer.get("joinSubnets") or [],
        "persistent": ipam.get("lifecycle") == "Persistent",
        "ipam_enabled": ipam.get("mode", "Enabled") != "Disabled",
        "selector": spec.get("namespaceSelector") if kind == "ClusterUserDefinedNetwork" else None,
        "deleting": bool(m.get("deletionTimestamp")),
    }


def network_id(obj: Dict[str, Any]) -> str:
    """``ns/name`` for a UDN, ``name`` for a CUDN (how the failure-injection list names networks)."""
    m = meta(obj)
    return "%s/%s" % (m["namespace"], m["name"]) if m.get("namespace") else m["name"]


def target_namespaces(net: Dict[str, Any], namespaces: List[Dict[str, Any]]) -> List[str]:
    """Namespaces the network's NAD must exist in (UDN: its own; CUDN: those its selector matches)."""
    if net["kind"] != "ClusterUserDefinedNetwork":
        return [net["namespace"]]
    return sorted(
        meta(ns)["name"] for ns in namespaces
        if not meta(ns).get("deletionTimestamp") and selector_matches(net["selector"], labels_of(ns))
    )


def nad_config(net: Dict[str, Any], namespace: str, config: Dict[str, Any]) -> Dict[str, Any]:
    """The CNI config OVN-Kubernetes writes into the NAD of a network."""
    if net["topology"] == "Layer3":
        subnets = ",".join("%s/%s" % (c, h) if h else c for c, h in net["subnets"])
    else:
        subnets = ",".join(c for c, _ in net["subnets"])
    cfg = {
        "cniVersion": "1.0.0",
        "type": CNI_TYPE,
        "name": net["ovn_name"],
        "netAttachDefName": "%s/%s" % (namespace, net["name"]),
        "topology": net["topology"].lower(),
        "role": net["role"].lower(),
    }
    if net["mtu"]:
        # v1.3.0 template/net-attach-def-template.go renderCNINetworkConfig: "mtu" only when the network sets one;
        # without it the CNI reads the NAD back with the cluster's MTU (network_mtu).
        cfg["mtu"] = net["mtu"]
    if subnets:
        cfg["subnets"] = subnets
    if net["persistent"]:
        cfg["allowPersistentIPs"] = True
    if net["role"] == "Primary":
        families = set(ipaddress.ip_network(c, strict=False).version for c, _ in net["subnets"])
        cfg["joinSubnet"] = ",".join(net["join_subnets"] or [DEFAULT_JOIN[f] for f in sorted(families)])
    return cfg


def nad_body(net: Dict[str, Any], owner: Dict[str, Any], namespace: str, config: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "apiVersion": NADS.api_version,
        "kind": NADS.kind,
        "metadata": {
            "name": net["name"],
            "namespace": namespace,
            "labels": {UDN_LABEL: ""},
            "ownerReferences": [owner_ref(owner)],
        },
        "spec": {"config": json.dumps(nad_config(net, namespace, config), sort_keys=True)},
    }


def validate_network(net, namespaces_by_name, targets, config, net_id) -> None:
    """Raise NetworkError when the network cannot be created (the reasons OVN-Kubernetes reports)."""
    if net_id in (config.get("network_fail") or []):
        raise NetworkError(failure_reason(net["kind"]), "failed to sync network %s: injected failure" % net_id)
    if net["role"] == "Primary":
        bad = [ns for ns in targets if PRIMARY_LABEL not in labels_of(namespaces_by_name.get(ns))]
        if bad:
            # (a UDN has one namespace; a CUDN joins the error of every namespace, one per line)
            raise NetworkError(failure_reason(net["kind"]),
                               "\n".join(INVALID_PRIMARY_MESSAGE % (ns, PRIMARY_LABEL) for ns in bad))


def network_conditions(obj, net, targets, error: Optional[NetworkError], now) -> List[Dict[str, Any]]:
    """The status conditions the network should carry."""
    conds = (obj.get("status") or {}).get("conditions") or []
    if error is not None:
        return set_condition(conds, "NetworkCreated", "False", failure_reason(net["kind"]), error.message, now)
    if net["kind"] == "ClusterUserDefinedNetwork":
        message = "NetworkAttachmentDefinition has been created in following namespaces: [%s]" % ", ".join(targets)
    else:
        message = "NetworkAttachmentDefinition has been created"
    conds = set_condition(conds, "NetworkCreated", "True", "NetworkAttachmentDefinitionCreated", message, now)
    return set_condition(conds, "NetworkAllocationSucceeded", "True", "NetworkAllocationSucceeded",
                         "Network allocation succeeded for all synced nodes.", now)


def pods_using_network(obj, cache) -> List[str]:
    """``ns/pod`` of live pods attached to the network (a pod-networks entry keyed by its NADs)."""
    uid = meta(obj).get("uid")
    keys = set("%s/%s" % (meta(n)["namespace"], meta(n)["name"]) for n in cache.list(NADS) if owned_by(n, uid))
    return sorted("%s/%s" % (meta(p)["namespace"], meta(p)["name"]) for p in cache.list(PODS)
                  if live_pod(p) and keys & set(pod_networks(p)))


def reconcile_network(obj, cache, config, now) -> Result:
    """UDN/CUDN → NADs in target namespaces + status conditions."""
    result = Result()
    net = network_of(obj)
    res = UDNS if net["kind"] != "ClusterUserDefinedNetwork" else CUDNS
    finalizers = list(meta(obj).get("finalizers") or [])
    if net["deleting"]:
        if FINALIZER not in finalizers:
            return result
        users = pods_using_network(obj, cache)
        if users:
            return result.then(2.0)  # blocked while pods use it
        return Result([patch(res, obj, body={"metadata": {
            "finalizers": [f for f in finalizers if f != FINALIZER] or None,
            "resourceVersion": meta(obj).get("resourceVersion")}})])
    if not segmentation_enabled(cache):
        return result.then(5.0)  # ovnkube runs without UDN support: nothing answers
    if FINALIZER not in finalizers:
        result.actions.append(patch(res, obj, body={"metadata": {"finalizers": finalizers + [FINALIZER]}}))
    namespaces = cache.list(NAMESPACES)
    by_name = dict((meta(n)["name"], n) for n in namespaces)
    targets = target_namespaces(net, namespaces)
    if net["kind"] != "ClusterUserDefinedNetwork" and net["namespace"] not in by_name:
        return result.then(1.0)
    uid = meta(obj).get("uid")
    error = None
    try:
        validate_network(net, by_name, targets, config, network_id(obj))
    except NetworkError as exc:
        error = exc
    if error is None and net["role"] == "Primary":
        for ns in targets:
            other = primary_nad(ns, cache)
            if other and other["nad_key"] != "%s/%s" % (ns, net["name"]):
                # v1.3.0 clustermanager/userdefinednetwork/nad.go PrimaryNetAttachDefNotExist
                error = NetworkError(failure_reason(net["kind"]), 'primary network already exist in namespace "%s": "%s"'
                                     % (ns, other["nad_key"].split("/", 1)[-1]))
    if error is None:
        for ns in targets:
            existing = cache.get(NADS, ns, net["name"])
            if existing is None:
                result.actions.append(create(NADS, nad_body(net, obj, ns, config)))
            elif not owned_by(existing, uid):
                error = NetworkError(
                    "NetworkAttachmentDefinitionSyncError",
                    "foreign NetworkAttachmentDefinition with the desired name already exist [%s/%s]"
                    % (ns, net["name"]),
                )
    # A CUDN whose selector no longer matches a namespace: remove the NAD it made there.
    for nad in cache.list(NADS):
        if owned_by(nad, uid) and meta(nad)["namespace"] not in targets:
            result.actions.append(delete(NADS, nad))
    conds = network_conditions(obj, net, targets, error, now)
    if not conditions_equal(conds, (obj.get("status") or {}).get("conditions")):
        result.actions.append(patch_status(res, obj, status={"conditions": conds}))
    if error is not None:
        result.then(5.0)
    return result


# --------------------------------------------------------------------------- NAD model and IPAM


def parse_nad(nad: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The OVN network a NAD describes, or None when it is not an OVN-Kubernetes NAD."""
    try:
        cfg = json.loads((nad.get("spec") or {}).get("config") or "{}")
    except ValueError:
        return None
    if cfg.get("type") != CNI_TYPE:
        return None
    subnets = []
    for item in [s.strip() for s in (cfg.get("subnets") or "").split(",") if s.strip()]:
        parts = item.split("/")
        if len(parts) == 3:
            subnets.append(("%s/%s" % (parts[0], parts[1]), int(parts[2])))
        else:
            subnets.append((item, None))
    m = meta(nad)
    return {
        "ovn_name": cfg.get("name"),
        "nad_key": "%s/%s" % (m.get("namespace"), m.get("name")),
        "topology": cfg.get("topology", "layer3"),
        "role": cfg.get("role", "secondary"),
        "subnets": subnets,
        "persistent": bool(cfg.get("allowPersistentIPs")),
        "mtu": cfg.get("mtu"),
        "join_subnets": [j.strip() for j in (cfg.get("joinSubnet") or "").split(",") if j.strip()],
    }


def primary_nad(namespace: str, cache) -> Optional[Dict[str, Any]]:
    """The primary-role OVN NAD of ``namespace`` (as parsed by :func:`parse_nad`), if any."""
    for nad in cache.list(NADS, namespace):
        net = parse_nad(nad)
        if net and net["role"] == "primary" and not meta(nad).get("deletionTimestamp"):
            return net
    return None


def host_subnets(cidr: str, host_prefix: int) -> Iterator[ipaddress._BaseNetwork]:
    """The host subnets of a cluster subnet in the order v1.3.0's node subnet allocator hands them out
    (``clustermanager/node/subnet_allocator.go`` ``generateSubnet``): IPv6 skips every subnet whose low 16 bits
    of the subnet number are 0 (the first node of ``fd00:10:244::/48/64`` gets ``fd00:10:244:1::/64``); IPv4 whose
    subnet bits spill into a shared octet rotates them so the subnets with 0s there come first."""
    net = ipaddress.ip_network(cidr, strict=False)
    if host_prefix is None or host_prefix <= net.prefixlen:
        yield net
        return
    host_bits = net.max_prefixlen - host_prefix
    subnet_bits = host_prefix - net.prefixlen
    count = 1 << min(subnet_bits, 24)
    left_shift = 0
    if net.version == 4 and host_bits % 8 and (host_bits - 1) // 8 != (host_bits + subnet_bits - 1) // 8:
        left_shift = 8 - host_bits % 8
        left_mask, right_shift, right_mask = (1 << subnet_bits) - 1, subnet_bits - left_shift, (1 << left_shift) - 1
    for base in range(count):
        if left_shift:
            base = ((base << left_shift) & left_mask) | ((base >> right_shift) & right_mask)
        elif net.version == 6 and subnet_bits >= 16 and base & 0xFFFF == 0:
            continue
        yield ipaddress.ip_network((int(net.network_address) + (base << host_bits), host_prefix))


def node_subnets_annotation(node: Dict[str, Any]) -> Dict[str, List[str]]:
    raw = annotations_of(node).get(NODE_SUBNETS)
    if not raw:
        return {}
    data = json.loads(raw)
    return dict((k, v if isinstance(v, list) else [v]) for k, v in data.items())


def allocate_node_subnets(ovn_name: str, subnets, node_name: str, nodes: List[Dict[str, Any]]) -> List[str]:
    """Per-node host subnets of a Layer3 network: what the node already has, else the lowest free slice."""
    current = node_subnets_annotation(next((n for n in nodes if meta(n)["name"] == node_name), {}))
    if current.get(ovn_name):
        return current[ovn_name]
    taken = set()
    for node in nodes:
        if meta(node)["name"] != node_name:
            taken.update(node_subnets_annotation(node).get(ovn_name) or [])
    out = []
    for cidr, host_prefix in subnets:
        for candidate in host_subnets(cidr, host_prefix):
            if str(candidate) not in taken:
                out.append(str(candidate))
                break
        else:
            raise NetworkError("SyncError", "no free host subnet left in %s for node %s" % (cidr, node_name))
    return out


def reserved(net: ipaddress._BaseNetwork) -> set:
    """Network address, gateway (.1), management port (.2) and the IPv4 broadcast address."""
    out = {net.network_address, net.network_address + 1, net.network_address + 2}
    if net.version == 4:
        out.add(net.broadcast_address)
    return out


def next_free(net_cidr: str, used: set) -> str:
    """Lowest free address of ``net_cidr`` as ``ip/prefix``."""
    net = ipaddress.ip_network(net_cidr, strict=False)
    skip = reserved(net)
    for offset, host in enumerate(net.hosts() if net.version == 4 else _v6_hosts(net)):
        if offset > 1_000_000:
            break
        if host not in skip and str(host) not in used:
            return "%s/%d" % (host, net.prefixlen)
    raise NetworkError("SyncError", "subnet %s is exhausted" % net_cidr)


def _v6_hosts(net):
    addr = net.network_address + 1
    while addr in net:
        yield addr
        addr += 1


def live_pod(pod: Dict[str, Any]) -> bool:
    """A pod whose addresses are still allocated (not finished, not being deleted)."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not meta(pod).get("deletionTimestamp")


def pod_networks(pod: Dict[str, Any]) -> Dict[str, Any]:
    raw = annotations_of(pod).get(POD_NETWORKS)
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return {}


def used_ips(cache, ovn_name: str, nad_keys: set, skip_pod_uid: Optional[str] = None) -> set:
    """Addresses of a network held by live pods (matched by NAD key) and by IPAMClaims of the network."""
    used = set()
    for pod in cache.list(PODS):
        if meta(pod).get("uid") == skip_pod_uid or not live_pod(pod):
            continue
        for key, entry in pod_networks(pod).items():
            if key in nad_keys:
                used.update(ip.split("/")[0] for ip in entry.get("ip_addresses") or [])
    for claim in cache.list(IPAMCLAIMS):
        if (claim.get("spec") or {}).get("network") == ovn_name:
            used.update(ip.split("/")[0] for ip in (claim.get("status") or {}).get("ips") or [])
    return used


def nad_keys_of_network(cache, ovn_name: str) -> set:
    """Every ``ns/nad`` key naming the same OVN network (a CUDN has one NAD per namespace)."""
    keys = set()
    for nad in cache.list(NADS):
        net = parse_nad(nad)
        if net and net["ovn_name"] == ovn_name:
            keys.add(net["nad_key"])
    return keys


def allocate_for_network(net, node_name, cache, pod_uid) -> Tuple[List[str], List[str], List[Dict[str, str]], Dict]:
    """Addresses for one pod on ``net``: ``(ip_addresses, gateway_ips, routes, node_annotation_update)``."""
    node_update = {}
    if net["topology"] == "layer3":
        nodes = cache.list(NODES)
        ranges = allocate_node_subnets(net["ovn_name"], net["subnets"], node_name, nodes)
        node_update = {net["ovn_name"]: ranges}
    else:
        ranges = [c for c, _ in net["subnets"]]
    used = used_ips(cache, net["ovn_name"], nad_keys_of_network(cache, net["ovn_name"]) | {net["nad_key"]},
                    skip_pod_uid=pod_uid)
    ips = [next_free(r, used) for r in ranges]
    gateways = [str(ipaddress.ip_network(r, strict=False).network_address + 1) for r in ranges]
    routes, gateways = pod_routes(net, ips, gateways, service_cidrs(cache))
    return ips, gateways, routes, node_update


def service_cidrs(cache) -> List[str]:
    """The cluster's service CIDRs (``config.Kubernetes.ServiceCIDRs``): the chart's ``svc_cidr`` in ``ovn-config``."""
    cm = cache.get(CONFIGMAPS, *OVN_CONFIG)
    text = ((cm or {}).get("data") or {}).get("svc_cidr") or ""
    return [c.strip() for c in text.split(",") if c.strip()]


def pod_routes(net: Dict[str, Any], ips: List[str], gateways: List[str], svc_cidrs: List[str]
               ) -> Tuple[List[Dict[str, str]], List[str]]:
    """``(routes, gateway_ips)`` of one pod-networks entry, as v1.3.0 ``allocator/pod/pod_annotation.go``
    ``AddRoutesGatewayIP`` writes them, per pod address (its family's gateway is the first address of the address's
    subnet, ``GetNodeGatewayIP``):

    * default network (``net`` is ``{"topology": "default", "role": <pod's role>, "subnets": cluster subnets}``):
      the cluster subnets; when ``primary`` also the service CIDRs, the hairpin masquerade IP and a gateway; always
      the default join subnet. An ``infrastructure-locked`` entry so has routes but no gateway;
    * Layer3 UDN: its subnets; when primary also the service CIDRs, the network's join subnet and a gateway;
    * Layer2 UDN: when primary the service CIDRs, the join subnet and a gateway; a secondary one nothing;
    * a secondary network never gets a gateway (only one the NAD selection requests, which the lab never does).
    """
    routes, out_gateways = [], []
    primary = net["role"] in ("primary", "Primary")
    for ip, gw in zip(ips, gateways):
        version = ipaddress.ip_interface(ip).version

        def add(dest):
            routes.append({"dest": dest, "nextHop": gw})

        def fam(cidrs):
            return [c for c in cidrs if ipaddress.ip_network(c, strict=False).version == version]

        if net["topology"] == "default":
            for cidr in fam([c for c, _ in net["subnets"]]):
                add(cidr)
            if primary:
                for cidr in fam(svc_cidrs):
                    add(cidr)
                add(HAIRPIN_MASQUERADE[version])
                out_gateways.append(gw)
            add(DEFAULT_NETWORK_JOIN[version])
            continue
        if net["topology"] == "layer3":
            for cidr in fam([c for c, _ in net["subnets"]]):
                add(cidr)
        if not primary or net["topology"] not in ("layer3", "layer2"):
            continue
        for cidr in fam(svc_cidrs):
            add(cidr)
        joins = fam(net.get("join_subnets") or []) or [DEFAULT_JOIN[version]]
        add(joins[0])
        out_gateways.append(gw)
    return routes, out_gateways


def pod_entry(ips: List[str], gateways: List[str], routes, role: str) -> Dict[str, Any]:
    """One ``k8s.ovn.org/pod-networks`` value as v1.3.0 ``util/pod_annotation.go`` marshals it: ``gateway_ips`` and
    ``routes`` omitted when empty, the deprecated ``ip_address``/``gateway_ip`` only for a single address, and no
    gateway for an ``infrastructure-locked`` default network (``AddRoutesGatewayIP``; its routes stay:
    :func:`pod_routes`)."""
    if role == "infrastructure-locked":
        gateways = []
    entry = {"ip_addresses": ips, "mac_address": mac_for_ip(ips[0]), "role": role}
    if gateways:
        entry["gateway_ips"] = gateways
    if routes:
        entry["routes"] = routes
    if len(ips) == 1:
        entry["ip_address"] = ips[0]
        if gateways:
            entry["gateway_ip"] = gateways[0]
    return entry


def parse_networks_annotation(value: Optional[str], namespace: str) -> List[Dict[str, str]]:
    """``k8s.v1.cni.cncf.io/networks``: ``a,ns/b,c@ifname`` or a JSON list of selection elements."""
    if not value or not value.strip():
        return []
    value = value.strip()
    out = []
    if value.startswith("["):
        for item in json.loads(value):
            out.append({"namespace": item.get("namespace") or namespace, "name": item["name"],
                        "interface": item.get("interface")})
        return out
    for item in [v.strip() for v in value.split(",") if v.strip()]:
        ns, _, rest = item.rpartition("/")
        name, _, ifname = rest.partition("@")
        out.append({"namespace": ns or namespace, "name": name, "interface": ifname or None})
    return out


def parse_cluster_subnets(text: str) -> List[Tuple[str, int]]:
    """``net_cidr`` (``CIDR[/hostPrefix],...``) as v1.3.0 ``config.ParseClusterSubnetEntriesWithDefaults(..., 24, 64)``
    reads it: a missing host prefix is 24 (IPv4) or 64 (IPv6)."""
    out = []
    for item in [i.strip() for i in (text or "").split(",") if i.strip()]:
        parts = item.split("/")
        cidr = "/".join(parts[:2])
        net = ipaddress.ip_network(cidr, strict=False)
        host = int(parts[2]) if len(parts) > 2 else (24 if net.version == 4 else 64)
        out.append((str(net), host))
    return out


OVN_CONFIG = ("ovn-kubernetes", "ovn-config")
"""The chart's cluster settings ConfigMap (v1.3.0 ``templates/ovn-setup.yaml``); ``net_cidr`` is ``podNetwork``."""

DEFAULT_MTU = 1400
"""v1.3.0 ``dist/images/ovnkube.sh`` ``mtu=${OVN_MTU:-1400}`` (and ``pkg/config/config.go`` ``MTU: 1400``)."""


def cluster_mtu(cache) -> int:
    """The default network's MTU (``config.Default.MTU``): ovnkube-node gets ``OVN_MTU`` from ``ovn-config``'s
    ``mtu`` (v1.3.0 ``charts/ovnkube-node/templates/ovnkube-node.yaml``; the chart writes ``.Values.mtu``),
    else :data:`DEFAULT_MTU`."""
    cm = cache.get(CONFIGMAPS, *OVN_CONFIG)
    text = str(((cm or {}).get("data") or {}).get("mtu") or "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else DEFAULT_MTU


def network_mtu(nad_cfg: Dict[str, Any], default_mtu: int) -> int:
    """A network's MTU as the CNI reads its NAD: the NAD's ``mtu``, else the cluster's (v1.3.0
    ``pkg/config/cni.go`` ``parseNetConfSingle``: ``NetConf{MTU: Default.MTU}`` before unmarshalling)."""
    value = (nad_cfg or {}).get("mtu")
    return int(value) if isinstance(value, int) and value > 0 else int(default_mtu)


def default_cluster_subnets(cache, config) -> Optional[List[Tuple[str, int]]]:
    """The default network's cluster subnets: the installed chart's ``net_cidr`` (else the simulator's
    ``pod_network`` setting, for tests without a chart); None while neither exists (OVN-K not installed: no
    node gets a subnet, no pod an address, as on a kind cluster before its CNI)."""
    cm = cache.get(CONFIGMAPS, *OVN_CONFIG)
    text = ((cm or {}).get("data") or {}).get("net_cidr") or config.get("pod_network")
    return parse_cluster_subnets(text) if text else None


def reconcile_node(node, cache, config, now) -> Result:
    """The cluster manager's node allocator (v1.3.0 ``clustermanager/node/node_allocator.go``): a node gets host
    subnets of the default network's cluster subnets (lowest free first) under ``default`` in
    ``k8s.ovn.org/node-subnets``, once OVN-K runs."""
    result = Result()
    current = node_subnets_annotation(node)
    subnets = default_cluster_subnets(cache, config)
    if current.get(DEFAULT_NETWORK) or not subnets:
        return result
    merged = dict(current)
    merged[DEFAULT_NETWORK] = allocate_node_subnets(DEFAULT_NETWORK, subnets, meta(node)["name"], cache.list(NODES))
    result.actions.append(patch(NODES, None, meta(node)["name"], {
        "metadata": {"annotations": {NODE_SUBNETS: json.dumps(merged, sort_keys=True)}}}))
    return result


def default_entry(pod, node, cache, role, config) -> Tuple[Optional[Dict[str, Any]], Dict[str, List[str]]]:
    """The ``default`` pod-networks entry and the node annotation update it needs: ``(entry, {"default": [...]})``;
    ``(None, {})`` while OVN-K is not installed.

    As v1.3.0 does it: the cluster manager gives each node host subnets of the cluster subnets (``net_cidr``,
    lowest free first; ``clustermanager/node/node_allocator.go``), recorded in ``k8s.ovn.org/node-subnets``
    under ``default``; the zone controller allocates each pod the lowest free address of those subnets, the
    network address, ``.1`` (gateway, ``util.GetNodeGatewayIfAddr``) and ``.2`` (management port,
    ``util.GetNodeManagementIfAddr``) excluded (``logical_switch_manager.go``). The pod's ``status.podIPs`` then
    come from this entry (kwok's pod-ready stage reads it, as the kubelet reports the CNI result): kwok's own IP
    pool hands out ``.1`` first, the gateway, which no OVN-K pod ever gets."""
    name = meta(node).get("name")
    hosts = node_subnets_annotation(node).get(DEFAULT_NETWORK)
    update = {}
    if not hosts:
        subnets = default_cluster_subnets(cache, config)
        if not subnets:
            return None, {}
        hosts = allocate_node_subnets(DEFAULT_NETWORK, subnets, name, cache.list(NODES))
        update = {DEFAULT_NETWORK: hosts}
    used = set()
    for other in cache.list(PODS):
        if meta(other).get("uid") == meta(pod).get("uid") or not live_pod(other):
            continue
        used.update(ip.split("/")[0] for ip in (pod_networks(other).get(DEFAULT_NETWORK) or {}).get(
            "ip_addresses") or [])
    ips = [next_free(h, used) for h in hosts]
    gws = [str(ipaddress.ip_network(h, strict=False).network_address + 1) for h in hosts]
    clusters = default_cluster_subnets(cache, config) or []
    routes, gws = pod_routes({"topology": "default", "role": role, "subnets": clusters}, ips, gws, service_cidrs(cache))
    return pod_entry(ips, gws, routes, role), update


CONTROL_PLANE = ("ovn-kubernetes", "ovnkube-control-plane")
"""The chart's control-plane Deployment (v1.3.0 ``charts/ovnkube-control-plane``): the UDN controller and the
cluster manager run there, with the feature switches as container environment variables."""


def chart_settings(cache) -> Optional[Dict[str, str]]:
    """The environment of the installed chart's ``ovnkube-control-plane`` Deployment (v1.3.0: the feature
    switches ``OVN_MULTI_NETWORK_ENABLE``, ``OVN_NETWORK_SEGMENTATION_ENABLE``, ``OVN_ENABLE_PERSISTENT_IPS`` are
    env vars there, rendered from ``global.*``; neither ConfigMap of the chart holds them), or None when no chart
    is installed."""
    dep = cache.get(DEPLOYMENTS, *CONTROL_PLANE)
    if dep is None:
        return None
    env = {}
    for container in (((dep.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []:
        for item in container.get("env") or []:
            if "value" in item:
                env[item["name"]] = str(item.get("value"))
    return env


def segmentation_enabled(cache) -> bool:
    """UDNs work only with multi-network AND network segmentation (``--enable-multi-network
    --enable-network-segmentation`` from ``dist/images/ovnkube.sh``); no chart: assume on."""
    data = chart_settings(cache)
    if data is None:
        return True
    return data.get("OVN_MULTI_NETWORK_ENABLE", "").lower() == "true" and data.get(
        "OVN_NETWORK_SEGMENTATION_ENABLE", "").lower() == "true"


def persistent_ips_enabled(cache) -> bool:
    data = chart_settings(cache)
    return data is None or data.get("OVN_ENABLE_PERSISTENT_IPS", "").lower() == "true"


def network_status_annotation(default: Dict, primary: Optional[Dict], secondaries: List[Tuple[str, str, Dict]]):
    """The multus network-status list for the computed pod-networks entries."""

    def plain(entry):
        return [ip.split("/")[0] for ip in entry["ip_addresses"]]

    out = [{"name": "ovn-kubernetes", "interface": "eth0", "ips": plain(default), "mac": default["mac_address"],
            "dns": {}}]
    if primary is None:
        out[0]["default"] = True
    else:
        out.append({"name": "ovn-kubernetes", "interface": "ovn-udn1", "ips": plain(primary),
                    "mac": primary["mac_address"], "default": True, "dns": {}})
    for nad_key, ifname, entry in secondaries:
        out.append({"name": nad_key, "interface": ifname, "ips": plain(entry), "mac": entry["mac_address"],
                    "dns": {}})
    return out


def reconcile_pod(pod, cache, config, now) -> Result:
    """Annotate a scheduled pod with pod-networks and network-status (once, like the real CNI)."""
    result = Result()
    m = meta(pod)
    spec = pod.get("spec") or {}
    if spec.get("hostNetwork") or not spec.get("nodeName") or not live_pod(pod):
        return result
    if POD_NETWORKS in annotations_of(pod):
        return result
    namespace = m["namespace"]
    ns_obj = cache.get(NAMESPACES, None, namespace)
    node = cache.get(NODES, None, spec["nodeName"]) or {"metadata": {"name": spec["nodeName"]}}
    if ns_obj is None:
        return result.then(1.0)
    labelled = PRIMARY_LABEL in labels_of(ns_obj)
    primary = primary_nad(namespace, cache) if labelled else None
    if labelled and primary is None:
        # Real OVN-K: CNI ADD fails until the namespace's primary UDN exists; retry.
        return result.then(2.0)
    default, node_updates = default_entry(pod, node, cache, "infrastructure-locked" if primary else "primary",
                                          config)
    if default is None:
        return result.then(2.0)  # no CNI yet: the sandbox is retried
    networks = {DEFAULT_NETWORK: default}
    primary_entry = None
    claim_action = None
    if primary:
        claim_name = annotations_of(pod).get(IPAMCLAIM_ANNOTATION)
        claim = cache.get(IPAMCLAIMS, namespace, claim_name) if claim_name else None
        if claim_name and primary["persistent"] and persistent_ips_enabled(cache) and claim is None:
            return result.then(1.0)  # claim not there yet (ipam-extensions creates it)
        persistent = primary["persistent"] and persistent_ips_enabled(cache)
        held = ((claim or {}).get("status") or {}).get("ips") if persistent else None
        if held:
            ranges = [c for c, _ in primary["subnets"]]
            gws = [str(ipaddress.ip_network(r, strict=False).network_address + 1) for r in ranges]
            ordered = sorted(held, key=lambda ip: ipaddress.ip_interface(ip).version)
            routes, gws = pod_routes(primary, ordered, gws, service_cidrs(cache))
            primary_entry = pod_entry(ordered, gws, routes, "primary")
        else:
            ips, gws, routes, upd = allocate_for_network(primary, spec["nodeName"], cache, m.get("uid"))
            node_updates.update(upd)
            primary_entry = pod_entry(ips, gws, routes, "primary")
            if claim is not None and persistent:
                # v1.3.0 persistentips/allocator.go UpdateIPAMClaimStatus
                conds = set_condition((claim.get("status") or {}).get("conditions"), "IPsAllocated", "True",
                                      "SuccessfulAllocation", "IP addresses successfully allocated", now)
                claim_action = patch_status(IPAMCLAIMS, claim, status={
                    "ips": ips, "ownerPod": {"name": m["name"]}, "conditions": conds})
        networks[primary["nad_key"]] = primary_entry
    secondaries = []
    for idx, sel in enumerate(parse_networks_annotation(annotations_of(pod).get(NETWORKS), namespace), start=1):
        nad = cache.get(NADS, sel["namespace"], sel["name"])
        if nad is None:
            return result.then(2.0)  # multus: NAD not found, pod sandbox retries
        net = parse_nad(nad)
        if net is None:
            continue
        ips, gws, routes, upd = allocate_for_network(net, spec["nodeName"], cache, m.get("uid"))
        node_updates.update(upd)
        entry = pod_entry(ips, gws, routes, "secondary")
        networks[net["nad_key"]] = entry
        secondaries.append((net["nad_key"], sel["interface"] or "net%d" % idx, entry))
    current = node_subnets_annotation(node)
    missing = dict((k, v) for k, v in node_updates.items() if current.get(k) != v)
    if missing:
        merged = dict(current)
        merged.update(missing)
        result.actions.append(patch(NODES, None, spec["nodeName"], {
            "metadata": {"annotations": {NODE_SUBNETS: json.dumps(merged, sort_keys=True)}}}))
    if claim_action:
        result.actions.append(claim_action)
    status = network_status_annotation(default, primary_entry, secondaries)
    result.actions.append(patch(PODS, pod, body={"metadata": {"annotations": {
        POD_NETWORKS: json.dumps(networks, sort_keys=True),
        NETWORK_STATUS: json.dumps(status, indent=1),
    }}}))
    return result


# --------------------------------------------------------------------------- EndpointSlice mirrors
# v1.3.0 go-controller/pkg/clustermanager/endpointslicemirror/endpointslice_mirror_controller.go (ESM) and
# pkg/types/const.go: a Service's default EndpointSlice (made by kube-controller-manager, holding the pods'
# status.podIPs, i.e. their default-network addresses) is mirrored, in namespaces whose active network is a primary
# UDN, into a slice holding the pods' primary-UDN addresses.

MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
DEFAULT_SLICE_CONTROLLER = "endpointslice-controller.k8s.io"  # const.go:146
MIRROR_CONTROLLER = "endpointslice-mirror-controller.k8s.ovn.org"  # const.go:144
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MIRROR_SERVICE_LABEL = "k8s.ovn.org/service-name"  # const.go:156
SOURCE_SLICE = "k8s.ovn.org/source-endpointslice"  # const.go:149 (an annotation)
SOURCE_VERSION = "k8s.ovn.org/source-endpointslice-version"  # const.go:152 (an annotation, whatever its name says)
SLICE_NETWORK = "k8s.ovn.org/endpointslice-network"  # const.go:154
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def mirror_generate_name(network: str, source: Dict[str, Any]) -> str:
    """ESM getGenerateName (238-244): ``<network>-<source generateName or name>`` when that is a DNS subdomain,
    else the source's own; UDN (``<ns>_<udn>``) and CUDN (``cluster_udn_<name>``) names hold ``_``, so their
    mirrors are named like the default slice (``<service>-xxxxx``)."""
    name = meta(source).get("generateName") or meta(source)["name"]
    candidate = "%s-%s" % (network, name)
    # NameIsDNSSubdomain(name, prefix=true) masks a trailing "-" (a generateName) before checking
    checked = candidate[:-1] + "a" if candidate.endswith("-") else candidate
    return candidate if len(checked) <= 253 and DNS_SUBDOMAIN.match(checked) else name


def mirrors_of(source: Dict[str, Any], cache) -> List[Dict[str, Any]]:
    """The mirrors of a default slice: managed by the mirror controller, annotated with its name (util.go:655-671)."""
    m = meta(source)
    return [s for s in cache.list(ENDPOINTSLICES, m["namespace"])
            if labels_of(s).get(MANAGED_BY) == MIRROR_CONTROLLER
            and labels_of(s).get(MIRROR_SERVICE_LABEL) == labels_of(source).get(SERVICE_NAME_LABEL)
            and annotations_of(s).get(SOURCE_SLICE) == m["name"]]


def mirrored_address(endpoint: Dict[str, Any], family: int, nad_key: str, cache, namespace: str) -> Optional[str]:
    """The address of one endpoint in the mirror (ESM 380-404): the pod's first address of the family in its
    primary network's ``k8s.ovn.org/pod-networks`` entry (``ip_addresses``, else ``ip_address``), without prefix;
    a host-network pod keeps its ``status.podIPs``. None when the pod or the address is not there (the sync fails)."""
    ref = endpoint.get("targetRef") or {}
    pod = cache.get(PODS, ref.get("namespace") or namespace, ref.get("name"))
    if pod is None:
        return None
    if (pod.get("spec") or {}).get("hostNetwork"):
        candidates = [p.get("ip") for p in (pod.get("status") or {}).get("podIPs") or []]
    else:
        entry = pod_networks(pod).get(nad_key) or {}
        candidates = entry.get("ip_addresses") or ([entry["ip_address"]] if entry.get("ip_address") else [])
    for value in candidates:
        if value and ipaddress.ip_interface(value).version == family:
            return str(ipaddress.ip_interface(value).ip)
    return None


def reconcile_endpointslice(obj, cache, config, now) -> Result:
    """ESM syncDefaultEndpointSlice (247-356) for one slice event (a mirror's event syncs its source)."""
    result = Result()
    m = meta(obj)
    namespace = m["namespace"]
    managed_by = labels_of(obj).get(MANAGED_BY)
    if managed_by == MIRROR_CONTROLLER:
        source = cache.get(ENDPOINTSLICES, namespace, annotations_of(obj).get(SOURCE_SLICE))
        if source is None:  # the default slice is gone: so is its mirror (295-302)
            result.actions.append(delete(ENDPOINTSLICES, obj))
            return result
        obj, m = source, meta(source)
    elif managed_by != DEFAULT_SLICE_CONTROLLER:
        return result  # other slices are not mirrored (58-83): Services without selectors among them
    if not segmentation_enabled(cache):
        return result  # the controller runs only with network segmentation (clustermanager.go:166-167)
    ns_obj = cache.get(NAMESPACES, None, namespace)
    if ns_obj is None or PRIMARY_LABEL not in labels_of(ns_obj):
        return result  # the active network is the default one (253-259)
    primary = primary_nad(namespace, cache)
    if primary is None:
        return result.then(2.0)  # labelled but no primary network yet: the sync errors and is retried
    mirrors = mirrors_of(obj, cache)
    if len(mirrors) > 1:  # duplicates: all deleted, the retry makes one (276-293)
        result.actions.extend(delete(ENDPOINTSLICES, s) for s in mirrors)
        return result.then(1.0)
    current = mirrors[0] if mirrors else None
    if obj.get("addressType") == "FQDN":  # never mirrored (305-311)
        if current is not None:
            result.actions.append(delete(ENDPOINTSLICES, current))
        return result
    if current is not None and annotations_of(current).get(SOURCE_VERSION) == m.get("resourceVersion"):
        return result  # already mirrors this version of the source (313-320)
    family = 6 if obj.get("addressType") == "IPv6" else 4
    endpoints = []
    for endpoint in obj.get("endpoints") or []:
        ref = endpoint.get("targetRef") or {}
        if ref.get("kind") != "Pod":
            endpoints.append({})  # ESM 450-462: an empty Endpoint in its place
            continue
        address = mirrored_address(endpoint, family, primary["nad_key"], cache, namespace)
        if address is None:
            return result.then(2.0)  # the whole sync fails and is retried (454-457)
        copied = copy.deepcopy(endpoint)
        copied["addresses"] = [address]
        endpoints.append(copied)
    if current is None and not endpoints:
        return result  # no empty mirror is created (342-346)
    labels = {MANAGED_BY: MIRROR_CONTROLLER, MIRROR_SERVICE_LABEL: labels_of(obj).get(SERVICE_NAME_LABEL)}
    annotations = {SOURCE_SLICE: m["name"], SOURCE_VERSION: m.get("resourceVersion"),
                   SLICE_NETWORK: primary["ovn_name"]}
    content = {"addressType": obj.get("addressType"), "ports": copy.deepcopy(obj.get("ports")),
               "endpoints": endpoints}
    if current is None:
        body = {"metadata": {"generateName": mirror_generate_name(primary["ovn_name"], obj), "namespace": namespace,
                             "labels": labels, "annotations": annotations,
                             "ownerReferences": copy.deepcopy(m.get("ownerReferences") or [])}}
        body.update(content)
        result.actions.append(create(ENDPOINTSLICES, body))
    else:
        body = {"metadata": {"labels": labels, "annotations": annotations}}
        body.update(content)
        result.actions.append(patch(ENDPOINTSLICES, current, body=body))
    return result


# --------------------------------------------------------------------------- controller


class OvnkSimulator(Controller):
    name = "ovnk"
    resources = (NAMESPACES, NODES, PODS, UDNS, CUDNS, NADS, IPAMCLAIMS, DEPLOYMENTS, CONFIGMAPS, ENDPOINTSLICES)

    def __init__(self, kube, config, **kw):
        merged = dict(DEFAULTS)
        merged.update(config or {})
        super().__init__(kube, merged, **kw)

    def handlers(self):
        return {NODES.plural: reconcile_node, UDNS.plural: reconcile_network, CUDNS.plural: reconcile_network,
                PODS.plural: reconcile_pod, ENDPOINTSLICES.plural: reconcile_endpointslice}

    def on_event(self, res, etype, obj, old):
        # A default slice deleted: its mirror goes (ESM 295-302); the reconcile of a gone key does nothing.
        if res is ENDPOINTSLICES and etype == "DELETED" and labels_of(obj).get(MANAGED_BY) == DEFAULT_SLICE_CONTROLLER:
            for mirror in mirrors_of(obj, self.cache):
                self.apply(delete(ENDPOINTSLICES, mirror))
            return
        super().on_event(res, etype, obj, old)

    def fanout(self, res, obj):
        ns, name = meta(obj).get("namespace") or "", meta(obj).get("name")
        if res in (UDNS, CUDNS, PODS, NODES, ENDPOINTSLICES):
            return [(res.plural, ns, name)]
        if res is CONFIGMAPS:
            if (ns, name) != OVN_CONFIG:
                return []
            return [(NODES.plural, "", meta(n)["name"]) for n in self.cache.list(NODES)] + [
                (PODS.plural, meta(p)["namespace"], meta(p)["name"]) for p in self.cache.list(PODS)
                if POD_NETWORKS not in annotations_of(p)]
        if res is NAMESPACES:
            keys = [(CUDNS.plural, "", meta(c)["name"]) for c in self.cache.list(CUDNS)]
            keys += [(UDNS.plural, name, meta(u)["name"]) for u in self.cache.list(UDNS, name)]
            keys += [(PODS.plural, name, meta(p)["name"]) for p in self.cache.list(PODS, name)]
            return keys
        if res is NADS:
            keys = [(PODS.plural, ns, meta(p)["name"]) for p in self.cache.list(PODS, ns)
                    if POD_NETWORKS not in annotations_of(p)]
            for ref in meta(obj).get("ownerReferences") or []:
                if ref.get("kind") == "ClusterUserDefinedNetwork":
                    keys.append((CUDNS.plural, "", ref["name"]))
                elif ref.get("kind") == "UserDefinedNetwork":
                    keys.append((UDNS.plural, ns, ref["name"]))
            return keys
        if res is DEPLOYMENTS:
            if (ns, name) != CONTROL_PLANE:
                return []
            return [(r.plural, meta(o).get("namespace") or "", meta(o)["name"]) for r in (UDNS, CUDNS)
                    for o in self.cache.list(r)]
        if res is IPAMCLAIMS:
            return [(PODS.plural, ns, meta(p)["name"]) for p in self.cache.list(PODS, ns)
                    if annotations_of(p).get(IPAMCLAIM_ANNOTATION) == name]
        return []
