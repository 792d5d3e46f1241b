#!/usr/bin/env python3
"""Userspace service proxy for the simulated data plane (a kube-proxy stand-in that crosses namespaces).

    svcproxy.py CONFIG.json        reloads CONFIG on SIGHUP, exits on SIGTERM

CONFIG: ``{"listeners": [{"netns": "<name or null for the host>", "ip": "10.96.0.10", "port": 80,
"target_netns": "<name or null>", "targets": ["103.103.1.3:8080", ...]}], "dns": {"listeners": [{"netns": ...,
"ip": "10.96.0.10"}], "records": {"<fqdn>": ["10.96.0.1"]}}}``. Each listener socket is opened
inside its namespace (setns on the listening thread), each accepted connection is relayed to a target
(round-robin) connected from inside ``target_netns``: ClusterIPs live in their network's router namespace
only (reachable from that network alone), NodePorts listen on the host's node addresses, and the Kubernetes
API service is relayed from every network to the API server on the host. The ``dns`` listeners answer the
cluster DNS (clusterdns.py) on UDP and TCP port 53. A listener whose namespace, address and port stay wanted
keeps its socket across reloads (only its targets change).
"""

import ctypes
import errno
import itertools
import json
import os
import select
import signal
import socket
import sys
import threading

import clusterdns  # (this directory: run as a script)

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
_HOST_NS = os.open("/proc/self/ns/net", os.O_RDONLY)


def enter(netns):
    """Move the calling thread into ``netns`` (None: the host namespace this process started in)."""
    fd = os.open("/run/netns/%s" % netns, os.O_RDONLY) if netns else _HOST_NS
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns %s: %s" % (netns, os.strerror(err)))
    finally:
        if netns:
            os.close(fd)


def relay(a, b):
    socks = [a, b]
    try:
        while True:
            ready, _, _ = select.select(socks, [], [], 300)
            if not ready:
                return
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        return
    finally:
        a.close()
        b.close()


def _bind(sock, addr, stop, attempts=50):
    """bind, retrying while the address is still held (a listener stopping, TIME_WAIT)."""
    for attempt in range(attempts):
        try:
            sock.bind(addr)
            return
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or attempt == attempts - 1 or stop.wait(0.1):
                raise


class Listener(threading.Thread):
    """A TCP listener relaying each connection to one of its targets (round-robin). Its targets change in
    place on reload: the socket stays, so a reload never drops a service that is still wanted."""

    def __init__(self, spec):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.sock = None
        self.lock = threading.Lock()
        self.update(spec)

    def update(self, spec):
        with self.lock:
            self.spec = spec
            self.rr = itertools.cycle(spec.get("targets") or [None])

    def run(self):
        spec = self.spec
        try:
            enter(spec.get("netns"))
            family = socket.AF_INET6 if ":" in spec["ip"] else socket.AF_INET
            self.sock = socket.socket(family, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            _bind(self.sock, (spec["ip"], int(spec["port"])), self.stop)
            self.sock.listen(64)
            self.sock.settimeout(0.5)
        except OSError as exc:
            print("listen %s %s:%s: %s" % (spec.get("netns"), spec["ip"], spec["port"], exc), file=sys.stderr)
            return
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            threading.Thread(target=self.forward, args=(conn,), daemon=True).start()
        self.sock.close()

    def forward(self, conn):
        with self.lock:
            target, target_netns = next(self.rr), self.spec.get("target_netns")
        if not target:
            conn.close()  # no endpoints: refuse
            return
        host, _, port = target.rpartition(":")
        try:
            enter(target_netns)
            out = socket.create_connection((host.strip("[]"), int(port)), timeout=5)
            out.settimeout(None)
        except OSError:
            conn.close()
            return
        conn.settimeout(None)
        relay(conn, out)


class Records(object):
    """The DNS records all DNS listeners answer from (swapped whole on reload)."""

    def __init__(self):
        self.table = {}


class DnsListener(threading.Thread):
    """The cluster DNS on one address of one namespace: UDP, and TCP (length-prefixed) on the same port."""

    def __init__(self, spec, records, tcp=False):
        super().__init__(daemon=True)
        self.spec, self.records, self.tcp = spec, records, tcp
        self.stop = threading.Event()

    def update(self, spec):
        self.spec = spec

    def run(self):
        spec = self.spec
        try:
            enter(spec.get("netns"))
            family = socket.AF_INET6 if ":" in spec["ip"] else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM if self.tcp else socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            _bind(sock, (spec["ip"], int(spec.get("port", 53))), self.stop)
            if self.tcp:
                sock.listen(16)
            sock.settimeout(0.5)
        except OSError as exc:
            print("dns %s %s: %s" % (spec.get("netns"), spec["ip"], exc), file=sys.stderr)
            return
        while not self.stop.is_set():
            try:
                if self.tcp:
                    conn, _ = sock.accept()
                    threading.Thread(target=self.serve_tcp, args=(conn,), daemon=True).start()
                    continue
                data, peer = sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            reply = clusterdns.answer(data, self.records.table)
            if reply:
                try:
                    sock.sendto(reply, peer)
                except OSError:
                    pass
        sock.close()

    def serve_tcp(self, conn):
        conn.settimeout(5)
        try:
            while True:
                head = conn.recv(2)
                if len(head) < 2:
                    return
                size = int.from_bytes(head, "big")
                data = b""
                while len(data) < size:
                    chunk = conn.recv(size - len(data))
                    if not chunk:
                        return
                    data += chunk
                reply = clusterdns.answer(data, self.records.table)
                if reply:
                    conn.sendall(len(reply).to_bytes(2, "big") + reply)
        except OSError:
            return
        finally:
            conn.close()


def load(path):
    with open(path) as handle:
        return json.load(handle)


def listener_key(spec, kind="tcp"):
    """What identifies a listening socket: kind, namespace, address, port."""
    return (kind, spec.get("netns"), spec["ip"], int(spec.get("port", 53)))


def main(argv):
    path = argv[0]
    running = {}
    records = Records()
    done = threading.Event()

    def reload(*_):
        config = load(path)
        dns = config.get("dns") or {}
        records.table = dict(dns.get("records") or {})
        wanted = {}
        for spec in config.get("listeners") or []:
            wanted[listener_key(spec)] = (spec, lambda s: Listener(s))
        for spec in dns.get("listeners") or []:
            wanted[listener_key(spec, "dns-udp")] = (spec, lambda s: DnsListener(s, records))
            wanted[listener_key(spec, "dns-tcp")] = (spec, lambda s: DnsListener(s, records, tcp=True))
        for k in list(running):
            if k not in wanted:
                running.pop(k).stop.set()
        for k, (spec, make) in wanted.items():
            if k in running and running[k].is_alive():
                running[k].update(spec)
            else:
                running[k] = make(spec)
                running[k].start()

    signal.signal(signal.SIGHUP, reload)
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    reload()
    while not done.wait(1.0):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
