#!/usr/bin/env python3
"""Userspace service proxy for the simulated data plane (a kube-proxy stand-in that crosses namespaces).

    svcproxy.py CONFIG.json        reloads CONFIG on SIGHUP, exits on SIGTERM

CONFIG: ``{"listeners": [{"netns": "<name or null for the host>", "ip": "10.96.0.10", "port": 80,
"target_netns": "<name or null>", "targets": ["103.103.1.3:8080", ...]}]}``. Each listener socket is opened
inside its namespace (setns on the listening thread), each accepted connection is relayed to a target
(round-robin) connected from inside ``target_netns``: ClusterIPs live in their network's router namespace
only (reachable from that network alone), NodePorts listen on the host's node addresses, and the Kubernetes
API service is relayed from every network to the API server on the host.
"""

import ctypes
import itertools
import json
import os
import select
import signal
import socket
import sys
import threading

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


class Listener(threading.Thread):
    def __init__(self, spec):
        super().__init__(daemon=True)
        self.spec = spec
        self.stop = threading.Event()
        self.rr = itertools.cycle(spec["targets"] or [None])
        self.sock = None

    def run(self):
        spec = self.spec
        try:
            enter(spec.get("netns"))
            family = socket.AF_INET6 if ":" in spec["ip"] else socket.AF_INET
            self.sock = socket.socket(family, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind((spec["ip"], int(spec["port"])))
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
        target = next(self.rr)
        if not target:
            conn.close()  # no endpoints: refuse
            return
        host, _, port = target.rpartition(":")
        try:
            enter(self.spec.get("target_netns"))
            out = socket.create_connection((host.strip("[]"), int(port)), timeout=5)
            out.settimeout(None)
        except OSError:
            conn.close()
            return
        conn.settimeout(None)
        relay(conn, out)


def load(path):
    with open(path) as handle:
        return json.load(handle).get("listeners") or []


def main(argv):
    path = argv[0]
    running = {}
    done = threading.Event()

    def key(spec):
        return json.dumps(spec, sort_keys=True)

    def reload(*_):
        wanted = dict((key(s), s) for s in load(path))
        for k in list(running):
            if k not in wanted:
                running.pop(k).stop.set()
        for k, spec in wanted.items():
            if k not in running:
                running[k] = Listener(spec)
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
