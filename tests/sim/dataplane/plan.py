"""Desired data plane (pure): which network namespaces, bridges, links, addresses and routes back the pods and
VMs the API server knows, computed from their OVN annotations.

Model
* one *router* netns per OVN network (``ovn_name``; the default network too) holding a bridge ``br0`` with the
  network's gateway addresses: networks never share a routing table, so overlapping subnets coexist and
  nothing routes between networks (UDN isolation); a ``leak`` pair links two routers on purpose;
* one netns per pod (``eth0`` default network, ``ovn-udn1`` primary UDN, ``net1``… secondaries) with its
  annotation's addresses and a default route on its *primary* interface only; an ``infrastructure-locked``
  ``eth0`` gets its address as /32 without routes and drops inbound traffic (kubelet-only in OVN-K);
* one netns per VM (keyed by the VMI, so it survives live migration: the guest's processes keep running)
  with ``eth0`` holding the addresses the *guest* configures (``simulators/guest.py``: IPv4 by DHCPv4, IPv6 only
  by DHCPv6, which cloud-init runs only when the VM's network data asks for it on these disks), IPv4 default
  route via the gateway (DHCPv4 router option), IPv6 default route via the router's link-local address (OVN-K
  router advertisements) when the guest has IPv6; while its migration is Running the link is blackholed for
  ``blackhole_seconds``;
* every link has its network's MTU (``simulators/ovnk.py`` ``network_mtu``: the NAD's ``mtu``, else the cluster's
  from ``ovn-config``): the CNI gives ``eth0`` and ``ovn-udn1`` that MTU (v1.3.0 ``pkg/cni/helper_linux.go``
  ``setupInterface``), and a VM's ``eth0`` gets it too (KubeVirt v1.8.4 gives the tap and the domain interface the pod
  interface's MTU; OVN's DHCPv4 ``mtu`` option and the RA carry the network's);
* the default network's router always exists once anything does: virt-api (which dials VMs for
  ``virtctl port-forward``) lives on the default network.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
from typing import Any, Dict, List, Optional

import slot as sim_slot
from simulators import guest as sim_guest
from simulators.common import router_lla, selector_matches
from simulators.ovnk import DEFAULT_MTU, network_mtu

from . import clusterdns


def prefix() -> str:
    """Every namespace this data plane makes starts with it: env UDNSIM_PREFIX, else the slot's (slot.py; read at
    each call: tests use their own, so they never touch a simulated lab running on the same machine)."""
    return sim_slot.current_netns_prefix()


DEFAULT_NETWORK = "default"
DEFAULT_EXTERNAL_ADDRESSES = ["8.8.8.8", "2001:4860:4860::8888"]
"""Addresses of the simulated outside world (the seed's egress targets); every network reaches them through
its router, masqueraded, so overlapping networks egress alike."""
DEFAULT_EXTERNAL_NAMES = ["google.com", "www.google.com"]
"""Names the simulated outside world's DNS resolves to its addresses (the seed's egress-by-name targets: a pod's
``ping google.com``, the VM README's ``ping www.google.com``). Cluster DNS forwards every name outside the cluster
domain to it, as kind's CoreDNS forwards to the node's resolver."""


def _h(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def router_netns(ovn_name: str) -> str:
    return prefix() + "net-" + _h(ovn_name)


def container_log(log_dir: str, namespace: str, name: str, container: str) -> str:
    """Where a simulated container's log lives (CRI format; kwok's Logs objects name it)."""
    return os.path.join(log_dir, "%s_%s_%s.log" % (namespace, name, container))


def pod_netns(namespace: str, name: str) -> str:
    return prefix() + "pod-" + _h("%s/%s" % (namespace, name))


def vm_netns(namespace: str, name: str) -> str:
    """Same rule as the virtctl stand-in (tests/sim/bin/virtctl)."""
    return prefix() + "vm-" + _h("%s/%s" % (namespace, name))


def router_port(endpoint_netns: str, ifname: str) -> str:
    """Name (≤ 15 chars) of the bridge-side end of an endpoint's link."""
    return "p" + _h(endpoint_netns + "/" + ifname)


def _meta(obj):
    return (obj or {}).get("metadata") or {}


def _annotations(obj):
    return _meta(obj).get("annotations") or {}


def _json(text, default):
    try:
        return json.loads(text) if text else default
    except ValueError:
        return default


def _gateway_cidrs(entry) -> List[str]:
    """``gw/prefix`` for each address of an annotation entry (the router's address on that subnet): its
    ``gateway_ips``, else the next hop of its routes on that subnet. An ``infrastructure-locked`` entry or a
    secondary Layer3 network carries no gateway but routes via the node subnet's router port (OVN-K v1.3.0
    ``AddRoutesGatewayIP``, ``GetNodeGatewayIfAddr``); a secondary Layer2 network has neither (no router)."""
    out = []
    gateways = entry.get("gateway_ips") or []
    hops = [r.get("nextHop") for r in entry.get("routes") or [] if r.get("nextHop")]
    for index, ip in enumerate(entry.get("ip_addresses") or []):
        iface = ipaddress.ip_interface(ip)
        if index < len(gateways):
            gw = gateways[index]
        else:
            gw = next((h for h in hops if ipaddress.ip_address(h) in iface.network), None)
            if gw is None:
                continue
        out.append("%s/%d" % (gw, iface.network.prefixlen))
    return out


def _live(pod) -> bool:
    return ((pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            and not _meta(pod).get("deletionTimestamp"))


def _iface_names(pod) -> Dict[str, str]:
    """``{nad key: interface}`` from the multus network-status annotation (secondaries: net1…)."""
    out = {}
    for item in _json(_annotations(pod).get("k8s.v1.cni.cncf.io/network-status"), []):
        if item.get("name") and item.get("name") != "ovn-kubernetes":
            out[item["name"]] = item.get("interface")
    return out


def _ovn_configs(nads: List[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    """``{ns/nad: CNI config}`` of the OVN NADs."""
    out = {}
    for nad in nads:
        cfg = _json((nad.get("spec") or {}).get("config"), {})
        if cfg.get("type") == "ovn-k8s-cni-overlay":
            out["%s/%s" % (_meta(nad).get("namespace"), _meta(nad).get("name"))] = cfg
    return out


def _ovn_names(nads: List[Dict[str, Any]]) -> Dict[str, str]:
    """``{ns/nad: ovn network name}`` from the NADs' CNI configs."""
    return dict((key, cfg.get("name")) for key, cfg in _ovn_configs(nads).items())


AGNHOST_NETEXEC_PORT = 8080
"""``agnhost netexec`` serves HTTP here unless ``--http-port`` says otherwise."""


AGNHOST_NETEXEC_UDP_PORT = 8081
"""``agnhost netexec`` serves UDP here unless ``--udp-port`` says otherwise (``-1``: no UDP server)."""


def _netexecs(pod) -> List[Dict[str, Any]]:
    """``[{"container", "http_port", "udp_port"}]`` for each container running ``agnhost netexec`` (its flags, else
    agnhost's defaults 8080 and 8081). Each runs as its own server with its own log, as each container does."""
    out = []
    for container in (pod.get("spec") or {}).get("containers") or []:
        argv = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
        if "netexec" not in argv:
            continue
        flag = dict(a[2:].split("=", 1) for a in argv if a.startswith("--") and "=" in a)
        out.append({"container": container.get("name"),
                    "http_port": int(flag.get("http-port", AGNHOST_NETEXEC_PORT)),
                    "udp_port": int(flag.get("udp-port", AGNHOST_NETEXEC_UDP_PORT))})
    return out


def _ports(pod) -> List[int]:
    """TCP ports the pod's containers serve: declared container ports, HTTP/TCP probe ports, and agnhost
    ``netexec`` (``--http-port``, default 8080) — the workshop's pods declare none and rely on that default."""
    ports = set()
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if (port.get("protocol") or "TCP") == "TCP" and port.get("containerPort"):
                ports.add(int(port["containerPort"]))
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            action = container.get(probe) or {}
            for kind in ("httpGet", "tcpSocket"):
                port = (action.get(kind) or {}).get("port")
                if isinstance(port, int) or str(port).isdigit():
                    ports.add(int(port))
        argv = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
        http = [int(a.split("=", 1)[1]) for a in argv if a.startswith("--http-port=")]
        ports.update(http)
        if "netexec" in argv and not http:
            ports.add(AGNHOST_NETEXEC_PORT)
    return sorted(ports)


def build_plan(pods, vmis, vmims, nads, config, now, secret_lookup=None, cluster_mtu=DEFAULT_MTU) -> Dict[str, Any]:
    """The whole desired data plane as plain data (see module docstring). ``secret_lookup(namespace, name)``
    returns a Secret (a VM's cloud-init may live in one); ``cluster_mtu`` is the default network's MTU
    (``simulators/ovnk.py`` ``cluster_mtu``).

    Returns ``{"routers": {ovn_name: {"netns", "gateways": set}}, "endpoints": {netns: {...}},
    "leaks": [(a, b)], "blackholed": set(netns), "next_change": seconds or None}``.
    """
    routers: Dict[str, Dict[str, Any]] = {}
    endpoints: Dict[str, Dict[str, Any]] = {}
    nad_cfgs = _ovn_configs(nads)
    nad_nets = dict((key, cfg.get("name")) for key, cfg in nad_cfgs.items())

    def mtu_of(key):
        return cluster_mtu if key == DEFAULT_NETWORK else network_mtu(nad_cfgs.get(key), cluster_mtu)

    def router(ovn_name):
        return routers.setdefault(ovn_name, {"netns": router_netns(ovn_name), "gateways": set()})

    vm_pods = {}
    for pod in pods:
        if not _live(pod):
            continue
        nets = _json(_annotations(pod).get("k8s.ovn.org/pod-networks"), None)
        if not nets:
            continue
        ns, name = _meta(pod).get("namespace"), _meta(pod).get("name")
        labels = _meta(pod).get("labels") or {}
        if labels.get("kubevirt.io") == "virt-launcher":
            vm_pods.setdefault((ns, _annotations(pod).get("kubevirt.io/domain") or labels.get("vm.kubevirt.io/name")),
                               []).append(pod)
            continue
        names = _iface_names(pod)
        links = []
        for key, entry in sorted(nets.items(), key=lambda kv: kv[0] != DEFAULT_NETWORK):
            if key == DEFAULT_NETWORK:
                ovn_name, ifname = DEFAULT_NETWORK, "eth0"
            else:
                ovn_name = nad_nets.get(key)
                if ovn_name is None:
                    continue
                ifname = "ovn-udn1" if entry.get("role") == "primary" else names.get(key) or "net%d" % len(links)
            router(ovn_name)["gateways"].update(_gateway_cidrs(entry))
            links.append({"ifname": ifname, "network": ovn_name, "addresses": list(entry.get("ip_addresses") or []),
                          "mac": entry.get("mac_address"), "role": entry.get("role"),
                          "gateways": list(entry.get("gateway_ips") or []), "mtu": mtu_of(key)})
        netns = pod_netns(ns, name)
        netexecs = _netexecs(pod)
        served = set(n["http_port"] for n in netexecs)
        endpoints[netns] = {"kind": "pod", "namespace": ns, "name": name, "links": links,
                            "ports": [port for port in _ports(pod) if port not in served], "netexecs": netexecs,
                            "uid": _meta(pod).get("uid"), "node": (pod.get("spec") or {}).get("nodeName")}

    blackholed = set()
    next_change = None
    hold = float(config.get("blackhole_seconds", 1.0))
    delay = float(config.get("blackhole_after_seconds", 0.5))
    running_migrations = {}
    for vmim in vmims:
        status = vmim.get("status") or {}
        if status.get("phase") != "Running":
            continue
        started = None
        for item in status.get("phaseTransitionTimestamps") or []:
            if item.get("phase") == "Running":
                started = _epoch(item.get("phaseTransitionTimestamp"))
        if started is not None:
            running_migrations[(_meta(vmim).get("namespace"), (vmim.get("spec") or {}).get("vmiName"))] = started

    for vmi in vmis:
        if (vmi.get("status") or {}).get("phase") != "Running":
            continue
        ns, name = _meta(vmi).get("namespace"), _meta(vmi).get("name")
        candidates = vm_pods.get((ns, name)) or []
        node = (vmi.get("status") or {}).get("nodeName")
        pod = next((p for p in candidates if (p.get("spec") or {}).get("nodeName") == node), None)
        if pod is None and candidates:
            pod = candidates[0]
        if pod is None:
            continue
        nets = _json(_annotations(pod).get("k8s.ovn.org/pod-networks"), {})
        primary = [(k, v) for k, v in nets.items() if k != DEFAULT_NETWORK and v.get("role") == "primary"]
        key, entry = primary[0] if primary else (DEFAULT_NETWORK, nets.get(DEFAULT_NETWORK))
        ovn_name = DEFAULT_NETWORK if key == DEFAULT_NETWORK else nad_nets.get(key)
        if not entry or ovn_name is None:
            continue
        guest_net = sim_guest.guest_network(vmi, secret_lookup)
        addresses = sim_guest.guest_addresses(entry.get("ip_addresses"), guest_net)
        gateways = [g for g in entry.get("gateway_ips") or [] if ":" not in g and guest_net["dhcp4"]]
        lla = router_lla(entry.get("gateway_ips"))
        if guest_net["dhcp6"] and lla and any(":" in a for a in addresses):
            gateways.append(lla)
            router(ovn_name)["gateways"].add(lla + "/64")
        router(ovn_name)["gateways"].update(_gateway_cidrs(entry))
        netns = vm_netns(ns, name)
        endpoints[netns] = {"kind": "vm", "namespace": ns, "name": name, "node": node, "ports": [],
                            "links": [{"ifname": sim_guest.PRIMARY_NIC, "network": ovn_name, "addresses": addresses,
                                       "mac": entry.get("mac_address"), "role": "primary",
                                       "gateways": gateways, "mtu": mtu_of(key)}],
                            "vmi": vmi, "guest": guest_net}
        started = running_migrations.get((ns, name))
        if started is not None:
            begin, end = started + delay, started + delay + hold
            if begin <= now < end:
                blackholed.add(netns)
                next_change = _min(next_change, end - now)
            elif now < begin:
                next_change = _min(next_change, begin - now)

    if endpoints:
        router(DEFAULT_NETWORK)  # virt-api's network

    leaks = []
    for pair in config.get("leak") or []:
        a, b = _leak_network(pair[0], nad_nets, nads), _leak_network(pair[1], nad_nets, nads)
        if a in routers and b in routers and a != b:
            leaks.append(tuple(sorted((a, b))))
    external = None
    if config.get("external", True) and routers:
        external = {"netns": prefix() + "ext",
                    "addresses": list(config.get("external_addresses") or DEFAULT_EXTERNAL_ADDRESSES),
                    "ports": list(config.get("external_ports") or [80, 443]),
                    "names": list(config.get("external_names") or DEFAULT_EXTERNAL_NAMES)}
    return {"routers": routers, "endpoints": endpoints, "leaks": sorted(set(leaks)), "blackholed": blackholed,
            "next_change": next_change, "external": external}


def _leak_network(name: str, nad_nets: Dict[str, str], nads=()) -> Optional[str]:
    """A leak names a namespace (its PRIMARY network: a namespace may also hold secondary NADs), ``ns/nad`` or
    an OVN network name."""
    if name in nad_nets:
        return nad_nets[name]
    if name in nad_nets.values() or name == DEFAULT_NETWORK:
        return name
    for nad in nads:
        cfg = _json((nad.get("spec") or {}).get("config"), {})
        if _meta(nad).get("namespace") == name and cfg.get("type") == "ovn-k8s-cni-overlay" \
                and cfg.get("role") == "primary":
            return cfg.get("name")
    return None


def _min(a, b):
    return b if a is None else min(a, b)


def _epoch(text):
    import datetime

    if not text:
        return None
    return datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()


# --------------------------------------------------------------------------- services


def _selector_matches(selector, labels):
    return bool(selector) and all((labels or {}).get(k) == v for k, v in selector.items())


def _target_port(port_spec, pod):
    target = port_spec.get("targetPort", port_spec.get("port"))
    if isinstance(target, int) or str(target).isdigit():
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target:
                return int(port["containerPort"])
    return None


def _pod_network_addresses(pod, nad_nets):
    """``(ovn network, [addresses])`` of the pod's primary network (UDN when it has one)."""
    nets = _json(_annotations(pod).get("k8s.ovn.org/pod-networks"), {})
    for key, entry in nets.items():
        if key != DEFAULT_NETWORK and entry.get("role") == "primary" and key in nad_nets:
            return nad_nets[key], [ip.split("/")[0] for ip in entry.get("ip_addresses") or []]
    entry = nets.get(DEFAULT_NETWORK)
    if entry:
        return DEFAULT_NETWORK, [ip.split("/")[0] for ip in entry.get("ip_addresses") or []]
    return None, []


def _hostport(ip, port):
    return "[%s]:%d" % (ip, port) if ":" in ip else "%s:%d" % (ip, port)


def service_plan(services, pods, endpoints, nodes, nads, routers, pod_endpoints=None, external=None) -> Dict[str, Any]:
    """Listeners for the service proxy (svcproxy.py), the ClusterIPs each router holds, and the cluster DNS.

    ClusterIP: a listener in the router of the network the service's pods are on (so only that network
    reaches it), relayed to the pods' primary addresses. NodePort: listeners on every node address of the host,
    relayed into that network. ``default/kubernetes``: a listener in every router, relayed to the API server
    (on the host's loopback: it listens on every address, and the advertised one may not be on this machine).
    ``kube-system/kube-dns``: DNS listeners in every router (cluster DNS answers every network, as CoreDNS on the
    default network does for UDN pods), records of every Service; ``resolv`` is each endpoint's resolv.conf
    (``pod_endpoints``: the ``endpoints`` of :func:`build_plan`). ``external``: the outside world of
    :func:`build_plan`; its names resolve to its addresses (kind's CoreDNS forwards names outside the cluster
    domain to the node's resolver); without it such names are NXDOMAIN (an offline cluster).
    """
    nad_nets = _ovn_names(nads)
    listeners, service_ips = [], {}
    node_ips = sorted(addr["address"] for n in nodes for addr in ((n.get("status") or {}).get("addresses") or [])
                      if addr.get("type") == "InternalIP")
    api_ports = sorted(set(int(port["port"]) for ep in endpoints
                           if _meta(ep).get("namespace") == "default" and _meta(ep).get("name") == "kubernetes"
                           for subset in ep.get("subsets") or [] for port in subset.get("ports") or []))
    api_targets = ["127.0.0.1:%d" % port for port in api_ports]
    headless = {}
    for svc in services:
        spec = svc.get("spec") or {}
        ns, name = _meta(svc).get("namespace"), _meta(svc).get("name")
        cluster_ips = [ip for ip in (spec.get("clusterIPs") or [spec.get("clusterIP")]) if ip and ip != "None"]
        if ns == "default" and name == "kubernetes":
            for router in routers.values():
                for ip in cluster_ips:
                    service_ips.setdefault(router["netns"], set()).add(ip)
                    for port in spec.get("ports") or []:
                        listeners.append({"netns": router["netns"], "ip": ip, "port": int(port["port"]),
                                          "target_netns": None, "targets": api_targets})
            continue
        if ns == "kube-system" and name == "kube-dns":
            continue  # answered by the data plane's DNS below (its CoreDNS pods are kwok's, serving nothing)
        selected = [p for p in pods if _meta(p).get("namespace") == ns and _live(p)
                    and _selector_matches(spec.get("selector"), _meta(p).get("labels"))]
        network = None
        backends = []
        for pod in selected:
            net, addrs = _pod_network_addresses(pod, nad_nets)
            if net is None:
                continue
            network = network or net
            if net == network:
                backends.append((pod, addrs))
        if not cluster_ips:
            headless[(ns, name)] = sorted(a for _, addrs in backends for a in addrs)
            continue
        if network is None or network not in routers:
            continue
        router = routers[network]["netns"]
        for port in spec.get("ports") or []:
            if (port.get("protocol") or "TCP") != "TCP":
                continue
            for ip in cluster_ips:
                family = 6 if ":" in ip else 4
                targets = sorted(_hostport(a, _target_port(port, pod)) for pod, addrs in backends for a in addrs
                                 if (6 if ":" in a else 4) == family and _target_port(port, pod))
                service_ips.setdefault(router, set()).add(ip)
                listeners.append({"netns": router, "ip": ip, "port": int(port["port"]), "target_netns": router,
                                  "targets": targets})
                if spec.get("type") in ("NodePort", "LoadBalancer") and port.get("nodePort"):
                    for node_ip in node_ips:
                        if (6 if ":" in node_ip else 4) == family:
                            listeners.append({"netns": None, "ip": node_ip, "port": int(port["nodePort"]),
                                              "target_netns": router, "targets": targets})
    listeners.sort(key=lambda s: json.dumps(s, sort_keys=True))
    dns_ips = clusterdns.dns_server_ips(services)
    dns_listeners = []
    for router in sorted(r["netns"] for r in routers.values()):
        for ip in dns_ips:
            service_ips.setdefault(router, set()).add(ip)
            dns_listeners.append({"netns": router, "ip": ip, "port": 53})
    resolv = {}
    if dns_ips:
        for netns, ep in sorted((pod_endpoints or {}).items()):
            resolv[netns] = clusterdns.resolv_conf(ep.get("namespace") if ep.get("kind") == "pod" else None, dns_ips)
    return {"listeners": listeners, "service_ips": service_ips, "resolv": resolv,
            "dns": {"listeners": dns_listeners,
                    "records": dict(clusterdns.service_records(services, headless),
                                    **clusterdns.external_records(external))}}


# --------------------------------------------------------------------------- network policies


def _peer_cidrs(peer, policy_ns, pods, namespaces, nad_nets):
    """Addresses (as /32 or /128) a NetworkPolicy peer stands for; ipBlock CIDRs as written."""
    if "ipBlock" in peer:
        return [peer["ipBlock"]["cidr"]]
    ns_labels = dict((_meta(n).get("name"), _meta(n).get("labels") or {}) for n in namespaces)
    out = []
    for pod in pods:
        pod_ns = _meta(pod).get("namespace")
        if "namespaceSelector" in peer:
            if not selector_matches(peer["namespaceSelector"], ns_labels.get(pod_ns, {})):
                continue
        elif pod_ns != policy_ns:
            continue
        if "podSelector" in peer and not selector_matches(peer["podSelector"], _meta(pod).get("labels")):
            continue
        if not _live(pod):
            continue
        _, addrs = _pod_network_addresses(pod, nad_nets)
        out += ["%s/%d" % (a, 128 if ":" in a else 32) for a in addrs]
    return sorted(set(out))


def _rule(rule, key, policy_ns, pods, namespaces, nad_nets):
    peers = rule.get(key)
    cidrs = None
    if peers:
        cidrs = []
        for peer in peers:
            cidrs += _peer_cidrs(peer, policy_ns, pods, namespaces, nad_nets)
    ports = None
    if rule.get("ports"):
        ports = sorted(set(((p.get("protocol") or "TCP").lower(), int(p["port"])) for p in rule["ports"]
                           if str(p.get("port", "")).isdigit()))
    return {"cidrs": cidrs, "ports": ports}


def policy_rules(pod, policies, pods, namespaces, nads) -> Dict[str, Any]:
    """``{"ingress": None | [rule], "egress": None | [rule]}`` for one pod: None = not isolated in that
    direction; a rule ``{"cidrs": None (anyone) | [...], "ports": None (all) | [(proto, port)]}``."""
    nad_nets = _ovn_names(nads)
    ns = _meta(pod).get("namespace")
    out = {"ingress": None, "egress": None}
    for pol in policies:
        if _meta(pol).get("namespace") != ns:
            continue
        spec = pol.get("spec") or {}
        if not selector_matches(spec.get("podSelector", {}), _meta(pod).get("labels")):
            continue
        types = spec.get("policyTypes") or (["Ingress"] + (["Egress"] if "egress" in spec else []))
        for kind, key, peer_key in (("Ingress", "ingress", "from"), ("Egress", "egress", "to")):
            if kind not in types:
                continue
            rules = out[key] if out[key] is not None else []
            for rule in spec.get(key) or []:
                rules.append(_rule(rule, peer_key, ns, pods, namespaces, nad_nets))
            out[key] = rules
    return out


def policy_nft(rules, interface) -> Optional[str]:
    """nft table enforcing ``rules`` on the pod's primary interface (None: no policy selects the pod). Neighbour
    discovery always passes, as OVN-K v1.3.0 allows ``(arp || nd)`` beside every default deny
    (``base_network_controller_policy.go`` ``buildDenyACLs``): without it an IPv6 pod under an egress policy
    could not resolve an allowed peer once its neighbour entry expired."""
    if rules["ingress"] is None and rules["egress"] is None:
        return None
    lines = ["table inet udnsim_policy {"]
    for chain, hook, iface_key, addr_key, rule_list in (
            ("ingress", "input", "iifname", "saddr", rules["ingress"]),
            ("egress", "output", "oifname", "daddr", rules["egress"])):
        if rule_list is None:
            continue
        lines.append("  chain %s {" % chain)
        lines.append("    type filter hook %s priority 0; policy accept;" % hook)
        lines.append('    %s != "%s" accept' % (iface_key, interface))
        lines.append("    ct state established,related accept")
        # OVN-K's default-deny port groups carry an allow ACL for "(arp || nd)" (ARP never reaches an inet table)
        lines.append("    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept")
        for rule in rule_list:
            for family, cidrs in (("ip", [c for c in rule["cidrs"] or [] if ":" not in c]),
                                  ("ip6", [c for c in rule["cidrs"] or [] if ":" in c])):
                if rule["cidrs"] is not None and not cidrs:
                    continue
                match = "" if rule["cidrs"] is None else "%s %s { %s } " % (family, addr_key, ", ".join(cidrs))
                if rule["ports"] is None:
                    lines.append("    %saccept" % match)
                else:
                    for proto, port in rule["ports"]:
                        lines.append("    %s%s dport %d accept" % (match, proto, port))
                if rule["cidrs"] is None:
                    break
        lines.append("    drop")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"
