"""Apply a data plane plan (see plan.py) with ``ip``, ``tc`` and ``nft``: the thin I/O half. Needs root.

Only touches network namespaces whose names start with the data plane's prefix (plan.prefix: ``udnsim-`` in slot 0;
created here), never the host's own.
Commands go through a ``run`` callable so tests can record them without root.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from typing import Callable, Dict, List, Optional

from .plan import prefix, router_port

LOG = logging.getLogger("sim.dataplane")
ETC_NETNS = "/etc/netns"
"""Per-namespace /etc overrides of ``ip netns exec`` (only ``<prefix>*`` directories are ever written)."""
HERE = os.path.dirname(os.path.abspath(__file__))
LOCKED_NFT = """table inet udnsim {
  chain input {
    type filter hook input priority 0; policy accept;
    iifname "eth0" drop
  }
}
"""


def sh_run(cmd: List[str], check: bool = True, input: Optional[str] = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, input=input)
    if check and proc.returncode != 0:
        raise RuntimeError("%s: rc %d: %s" % (" ".join(cmd), proc.returncode, proc.stderr.strip()))
    return proc


def list_netns(run=sh_run) -> List[str]:
    out = run(["ip", "-j", "netns", "list"], check=False).stdout or "[]"
    try:
        return sorted(n["name"] for n in json.loads(out) if n.get("name", "").startswith(prefix()))
    except ValueError:
        return []


OUTSIDE_RECORDER = """table inet udnsim_outside {
  set seen4 { type ipv4_addr . ipv4_addr . inet_proto; flags dynamic; size 4096; }
  set seen6 { type ipv6_addr . ipv6_addr . inet_proto; flags dynamic; size 4096; }
  chain prerouting {
    type filter hook prerouting priority -300; policy accept;
    fib daddr type { local, broadcast, multicast, anycast } return
    ip6 daddr ff00::/8 return
    ip6 saddr fe80::/10 return
    meta nfproto ipv4 add @seen4 { ip saddr . ip daddr . meta l4proto }
    meta nfproto ipv6 add @seen6 { ip6 saddr . ip6 daddr . meta l4proto }
  }
}
"""
"""The outside world records every packet that reaches it for an address it does not own (then drops it: it has no
route there). OVN-K routes a packet for another UDN's pod address out of the node like any egress; here that is
where such a packet ends, and a test can see that it got there."""

class Fabric:
    """Creates/removes routers, endpoints, leaks and blackholes; remembers what it made."""

    def __init__(self, run: Callable = sh_run, state_dir: Optional[str] = None, python: str = sys.executable):
        self.run = run
        self.state_dir = state_dir
        self.python = python
        self.routers: Dict[str, Dict] = {}
        self.endpoints: Dict[str, Dict] = {}
        self.leaks: Dict[tuple, str] = {}
        self.blackholed: set = set()
        self.servers: Dict[str, List[subprocess.Popen]] = {}
        self.service_ips: Dict[str, set] = {}
        self.proxy: Optional[subprocess.Popen] = None
        self.proxy_config: Optional[str] = None
        self.policies: Dict[str, Optional[str]] = {}
        self.external: Optional[str] = None
        self.uplinks: Dict[str, int] = {}
        self.resolv: Dict[str, str] = {}
        self.etc_netns = ETC_NETNS
        self.log_dir: Optional[str] = None  # where netexec servers write their container logs (None: no logs)

    # ------------------------------------------------------------------ primitives
    def ip(self, *args, netns=None, check=True):
        cmd = ["ip"] + (["-n", netns] if netns else []) + list(args)
        return self.run(cmd, check=check)

    def add_netns(self, name):
        if os.path.exists("/run/netns/%s" % name) and name.startswith(prefix()) and self.run is sh_run:
            self.del_netns(name)  # left by a data plane that was killed before it could clean up: ours to replace
        self.ip("netns", "add", name)
        self.ip("link", "set", "lo", "up", netns=name)

    def del_netns(self, name):
        for proc in self.servers.pop(name, []):
            _stop(proc)
        pids = self.run(["ip", "netns", "pids", name], check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        self.ip("netns", "del", name, check=False)
        self.forget_resolv(name)

    def sysctl(self, netns, *settings):
        self.run(["ip", "netns", "exec", netns, "sysctl", "-qw"] + list(settings), check=False)

    # ------------------------------------------------------------------ routers
    def ensure_router(self, ovn_name, spec):
        netns = spec["netns"]
        if netns not in self.routers:
            self.add_netns(netns)
            self.sysctl(netns, "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
                        "net.ipv6.conf.default.accept_dad=0")
            self.ip("link", "add", "br0", "type", "bridge", netns=netns)
            self.ip("link", "set", "br0", "up", netns=netns)
            self.routers[netns] = {"network": ovn_name, "gateways": set()}
        have = self.routers[netns]["gateways"]
        for gw in sorted(spec["gateways"] - have):
            extra = ["nodad"] if ipaddress.ip_interface(gw).version == 6 else []
            self.ip("addr", "add", gw, "dev", "br0", *extra, netns=netns, check=False)
            have.add(gw)

    # ------------------------------------------------------------------ endpoints
    def ensure_endpoint(self, netns, ep, routers):
        key = json.dumps(ep["links"], sort_keys=True)
        current = self.endpoints.get(netns)
        if current and current["key"] == key:
            return False
        if current:
            self.del_netns(netns)
            self.policies.pop(netns, None)
        self.add_netns(netns)
        self.sysctl(netns, "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
        locked = False
        for index, link in enumerate(ep["links"]):
            router = routers[link["network"]]["netns"]
            port = router_port(netns, link["ifname"])
            tmp = "t%d%s" % (index, port[1:8])
            self.ip("link", "add", port, "type", "veth", "peer", "name", tmp, "netns", netns, netns=router)
            self.ip("link", "set", port, "master", "br0", "up", netns=router)
            self.ip("link", "set", tmp, "name", link["ifname"], netns=netns)
            if link.get("mac"):
                self.ip("link", "set", link["ifname"], "address", link["mac"], netns=netns)
            if link.get("mtu"):
                self.ip("link", "set", port, "mtu", str(link["mtu"]), netns=router)
                self.ip("link", "set", link["ifname"], "mtu", str(link["mtu"]), netns=netns)
            self.ip("link", "set", link["ifname"], "up", netns=netns)
            infra = link.get("role") == "infrastructure-locked"
            for cidr in link["addresses"]:
                iface = ipaddress.ip_interface(cidr)
                if infra:
                    host = "%s/%d" % (iface.ip, iface.max_prefixlen)
                    self.ip("addr", "add", host, "dev", link["ifname"], "noprefixroute",
                            *(["nodad"] if iface.version == 6 else []), netns=netns)
                else:
                    self.ip("addr", "add", cidr, "dev", link["ifname"],
                            *(["nodad"] if iface.version == 6 else []), netns=netns)
            if infra:
                locked = True
            if link.get("role") == "primary":
                for gw in link.get("gateways") or []:
                    fam = "-6" if ipaddress.ip_address(gw).version == 6 else "-4"
                    self.ip(fam, "route", "replace", "default", "via", gw, "dev", link["ifname"], netns=netns)
        if locked:
            self.run(["ip", "netns", "exec", netns, "nft", "-f", "-"], input=LOCKED_NFT)
        self.endpoints[netns] = {"key": key, "links": ep["links"], "kind": ep["kind"]}
        self.start_servers(netns, ep)
        return True

    def start_servers(self, netns, ep):
        """One agnhost netexec per container running it (its HTTP and UDP ports; its log, fresh for a new pod, at
        :func:`plan.container_log` under ``self.log_dir``), and an HTTP server on every other port the pod
        declares."""
        from . import plan as dp_plan  # (plan imports nothing from here)
        commands = []
        for server in ep.get("netexecs") or []:
            cmd = ["ip", "netns", "exec", netns, self.python, os.path.join(HERE, "agnhost.py"), "netexec",
                   "--http-port=%d" % server["http_port"], "--udp-port=%d" % server["udp_port"],
                   "--hostname=%s" % ep["name"]]
            if self.log_dir:
                path = dp_plan.container_log(self.log_dir, ep["namespace"], ep["name"], server["container"])
                os.makedirs(self.log_dir, exist_ok=True)
                open(path, "w").close()
                cmd.append("--log-file=%s" % path)
            commands.append(cmd)
        for port in ep.get("ports") or []:
            commands.append(["ip", "netns", "exec", netns, self.python, os.path.join(HERE, "agnhost.py"), "netexec",
                             "--http-port=%d" % port, "--udp-port=-1", "--hostname=%s" % ep["name"]])
        procs = []
        for cmd in commands:
            if self.run is sh_run:
                procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL, start_new_session=True))
            else:
                self.run(cmd)
        if procs:
            self.servers[netns] = procs

    # ------------------------------------------------------------------ leaks
    def ensure_leak(self, pair, routers, index):
        if pair in self.leaks:
            return
        a, b = (routers[n]["netns"] for n in pair)
        port_a, port_b = "l" + router_port(a, b)[1:], "l" + router_port(b, a)[1:]
        self.ip("link", "add", port_a, "type", "veth", "peer", "name", port_b, "netns", b, netns=a)
        net = ipaddress.ip_network("169.254.%d.0/30" % (index % 250))
        addr_a, addr_b = list(net.hosts())
        addr6_a, addr6_b = "fd99:fffe:%x::1" % index, "fd99:fffe:%x::2" % index
        for ns, port, addr, addr6 in ((a, port_a, addr_a, addr6_a), (b, port_b, addr_b, addr6_b)):
            self.ip("addr", "add", "%s/30" % addr, "dev", port, netns=ns)
            self.ip("addr", "add", "%s/126" % addr6, "dev", port, "nodad", netns=ns)
            self.ip("link", "set", port, "up", netns=ns)
        for ns, peer_router, via, via6 in ((a, routers[pair[1]], addr_b, addr6_b), (b, routers[pair[0]], addr_a, addr6_a)):
            for gw in sorted(peer_router["gateways"]):
                iface = ipaddress.ip_interface(gw)
                if iface.ip.is_link_local:
                    continue
                self.ip("-%d" % iface.version, "route", "replace", str(iface.network), "via",
                        str(via) if iface.version == 4 else via6, netns=ns, check=False)
        self.leaks[pair] = port_a

    # ------------------------------------------------------------------ blackholes
    def set_blackhole(self, netns, on):
        ep = self.endpoints.get(netns)
        if ep is None or (netns in self.blackholed) == on:
            return
        link = ep["links"][0]
        router = next(r for r, v in self.routers.items() if v["network"] == link["network"])
        verb = "replace" if on else "del"
        for ns, dev in ((netns, link["ifname"]), (router, router_port(netns, link["ifname"]))):
            cmd = ["tc", "-n", ns, "qdisc", verb, "dev", dev, "root"] + (["blackhole"] if on else [])
            self.run(cmd, check=False)
        LOG.info("%s blackhole %s", "start" if on else "end", netns)
        (self.blackholed.add if on else self.blackholed.discard)(netns)

    # ------------------------------------------------------------------ whole plan
    def apply(self, plan) -> List[str]:
        """Converge to ``plan``; returns the endpoint netns names (re)created."""
        changed = []
        wanted_routers = set(r["netns"] for r in plan["routers"].values())
        for netns in list(self.endpoints):
            if netns not in plan["endpoints"]:
                self.del_netns(netns)
                self.endpoints.pop(netns, None)
                self.policies.pop(netns, None)
                self.blackholed.discard(netns)
        self.ensure_external(plan.get("external"))
        for ovn_name, spec in sorted(plan["routers"].items()):
            self.ensure_router(ovn_name, spec)
            self.ensure_uplink(spec["netns"])
        for netns, ep in sorted(plan["endpoints"].items()):
            if self.ensure_endpoint(netns, ep, plan["routers"]):
                changed.append(netns)
        for index, pair in enumerate(plan["leaks"]):
            self.ensure_leak(pair, plan["routers"], index)
        for pair in list(self.leaks):
            if pair not in plan["leaks"]:
                a = plan["routers"].get(pair[0], {}).get("netns")
                if a:
                    self.ip("link", "del", self.leaks[pair], netns=a, check=False)
                self.leaks.pop(pair)
        for netns in list(self.blackholed - plan["blackholed"]):
            self.set_blackhole(netns, False)
        for netns in sorted(plan["blackholed"]):
            self.set_blackhole(netns, True)
        for netns in list(self.routers):
            if netns not in wanted_routers:
                self.del_netns(netns)
                self.routers.pop(netns)
                self.service_ips.pop(netns, None)
                self.uplinks.pop(netns, None)
        return changed

    # ------------------------------------------------------------------ the outside world
    def ensure_external(self, spec):
        """A namespace owning the external addresses (loopback) with small servers on them."""
        if spec is None or self.external == spec["netns"]:
            return
        netns = spec["netns"]
        self.add_netns(netns)
        self.sysctl(netns, "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
        for addr in spec["addresses"]:
            plen = 128 if ":" in addr else 32
            self.ip("addr", "add", "%s/%d" % (addr, plen), "dev", "lo", netns=netns, check=False)
        self.external = netns
        self.run(["ip", "netns", "exec", netns, "nft", "-f", "-"], input=OUTSIDE_RECORDER, check=False)
        self.start_servers(netns, {"name": "external", "ports": spec["ports"]})

    def outside_seen(self):
        """What reached the outside world for an address it does not own: ``[(source, destination, protocol)]``
        (the source is the sending network's uplink address, after its masquerade), sorted. Empty without an
        outside world."""
        if self.external is None:
            return []
        seen = []
        for name in ("seen4", "seen6"):
            proc = self.run(["ip", "netns", "exec", self.external, "nft", "-j", "list", "set", "inet",
                             "udnsim_outside", name], check=False)
            try:
                doc = json.loads(proc.stdout or "{}")
            except ValueError:
                continue
            for item in doc.get("nftables") or []:
                for elem in (item.get("set") or {}).get("elem") or []:
                    # {"concat": [...]}, or {"elem": {"val": {"concat": [...]}, ...}} when it carries a timeout
                    if isinstance(elem, dict) and "elem" in elem:
                        elem = (elem["elem"] or {}).get("val") or {}
                    values = (elem.get("concat") if isinstance(elem, dict) else None) or []
                    if len(values) == 3:
                        seen.append(tuple(str(v) for v in values))
        return sorted(seen)

    def ensure_uplink(self, router_netns):
        """Router → outside world: a /30 (and /126) transfer link, default routes, masquerade."""
        if self.external is None or router_netns in self.uplinks:
            return
        self._uplink_seq = getattr(self, "_uplink_seq", 0) + 1
        index = self._uplink_seq
        port, peer = "x" + router_port(router_netns, "up")[1:], "u" + router_port(router_netns, "up")[1:]
        self.ip("link", "add", port, "type", "veth", "peer", "name", peer, "netns", self.external, netns=router_netns)
        v4 = ipaddress.ip_network("100.64.0.0/10").subnets(new_prefix=30)
        net4 = next(n for i, n in enumerate(v4) if i == index)
        router4, ext4 = list(net4.hosts())
        router6, ext6 = "fd99:ffff:%x::1" % index, "fd99:ffff:%x::2" % index
        for ns, dev, a4, a6 in ((router_netns, port, router4, router6), (self.external, peer, ext4, ext6)):
            self.ip("addr", "add", "%s/30" % a4, "dev", dev, netns=ns)
            self.ip("addr", "add", "%s/126" % a6, "dev", dev, "nodad", netns=ns)
            self.ip("link", "set", dev, "up", netns=ns)
        self.ip("-4", "route", "replace", "default", "via", str(ext4), netns=router_netns, check=False)
        self.ip("-6", "route", "replace", "default", "via", ext6, netns=router_netns, check=False)
        nat = ("table inet udnsim_nat {\n  chain postrouting {\n    type nat hook postrouting priority 100; policy accept;\n"
               '    oifname "%s" masquerade\n  }\n}\n' % port)
        self.run(["ip", "netns", "exec", router_netns, "nft", "-f", "-"], input=nat, check=False)
        self.uplinks[router_netns] = index

    # ------------------------------------------------------------------ network policies
    def apply_policy(self, netns, nft_text):
        """Replace the pod's policy table (``None``: no policy selects the pod)."""
        if netns not in self.endpoints or self.policies.get(netns) == nft_text:
            return
        self.run(["ip", "netns", "exec", netns, "nft", "delete", "table", "inet", "udnsim_policy"], check=False)
        if nft_text:
            self.run(["ip", "netns", "exec", netns, "nft", "-f", "-"], input=nft_text)
        self.policies[netns] = nft_text

    # ------------------------------------------------------------------ services
    def apply_services(self, svc_plan, config_path):
        """ClusterIPs on the routers' loopback (stale ones removed), each endpoint's resolv.conf, and the
        service proxy's listeners and DNS records (proxy started or reloaded)."""
        for netns in self.routers:
            wanted = set(svc_plan["service_ips"].get(netns) or ())
            have = self.service_ips.setdefault(netns, set())
            for ip in sorted(wanted - have):
                self.ip("addr", "add", "%s/%d" % (ip, 128 if ":" in ip else 32), "dev", "lo", netns=netns, check=False)
            for ip in sorted(have - wanted):
                self.ip("addr", "del", "%s/%d" % (ip, 128 if ":" in ip else 32), "dev", "lo", netns=netns, check=False)
            self.service_ips[netns] = wanted
        for netns, text in sorted((svc_plan.get("resolv") or {}).items()):
            if netns in self.endpoints and self.resolv.get(netns) != text:
                self.write_resolv(netns, text)
        dns = svc_plan.get("dns") or {}
        text = json.dumps({"listeners": [x for x in svc_plan["listeners"]
                                         if x["netns"] is None or x["netns"] in self.routers],
                           "dns": {"listeners": [x for x in dns.get("listeners") or [] if x["netns"] in self.routers],
                                   "records": dns.get("records") or {}}}, sort_keys=True)
        if text == self.proxy_config and (self.run is not sh_run or (self.proxy and self.proxy.poll() is None)):
            return
        with open(config_path, "w") as handle:
            handle.write(text)
        self.proxy_config = text
        if self.run is not sh_run:
            self.run(["svcproxy", config_path])
            return
        if self.proxy is None or self.proxy.poll() is not None:
            self.proxy = subprocess.Popen([self.python, os.path.join(HERE, "svcproxy.py"), config_path],
                                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=open(config_path + ".log", "a"), start_new_session=True)
        else:
            self.proxy.send_signal(signal.SIGHUP)

    def write_resolv(self, netns, text):
        """``/etc/netns/<netns>/resolv.conf``: ``ip netns exec`` bind-mounts it over /etc/resolv.conf, so every
        command run in the pod's network resolves through the cluster DNS, as the kubelet arranges in a pod."""
        self.resolv[netns] = text
        if self.run is not sh_run:
            self.run(["write", os.path.join(self.etc_netns, netns, "resolv.conf")], input=text)
            return
        os.makedirs(os.path.join(self.etc_netns, netns), exist_ok=True)
        with open(os.path.join(self.etc_netns, netns, "resolv.conf"), "w") as handle:
            handle.write(text)

    def forget_resolv(self, netns):
        self.resolv.pop(netns, None)
        if self.run is sh_run and netns.startswith(prefix()):
            shutil.rmtree(os.path.join(self.etc_netns, netns), ignore_errors=True)

    def teardown(self):
        if self.proxy is not None:
            _stop(self.proxy)
            self.proxy = None
            self.proxy_config = None
        self.service_ips.clear()
        self.policies.clear()
        for netns in list(self.endpoints):
            self.del_netns(netns)
        for netns in list(self.routers):
            self.del_netns(netns)
        if self.external:
            self.del_netns(self.external)
            self.external = None
        self.uplinks.clear()
        self.endpoints.clear()
        self.routers.clear()
        self.leaks.clear()
        self.blackholed.clear()


def cleanup_all(run=sh_run):
    """Remove every namespace of this prefix (a previous run that did not stop cleanly)."""
    for netns in list_netns(run):
        pids = run(["ip", "netns", "pids", netns], check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        run(["ip", "netns", "del", netns], check=False)
        if run is sh_run:
            shutil.rmtree(os.path.join(ETC_NETNS, netns), ignore_errors=True)


def _stop(proc):
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=3)
    except (ProcessLookupError, subprocess.TimeoutExpired, PermissionError):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
