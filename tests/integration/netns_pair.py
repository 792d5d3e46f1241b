# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Two network namespaces joined by a veth pair, for real iperf3 runs in the integration tests.

Shared by test_iperf3_netns.py and test_report_netns.py (imported as a sibling module, like the other helpers
in this directory). A :class:`NetnsPair` creates a server and a client namespace with uniquely named veth ends
(private addresses exist only inside them), starts ``iperf3 -s -1`` servers and iperf3 clients in them,
disturbs the link (``tc qdisc ... blackhole`` or link down) and removes the namespaces and every process it
started on cleanup. Needs root, iperf3 and iproute2 (ip, tc): call :func:`require_netns` at module level.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import shutil
import subprocess
import time
import uuid

import pytest

RESERVED_PREFIX = re.compile(r"^udnsim[0-9]*-")  # the simulated labs' namespaces (every slot): never touch them
LISTEN_TRIES, LISTEN_PAUSE = 100, 0.05  # up to ~5 s for an iperf3 server to listen


def require_netns():
    """Skip the calling test module unless it runs as root with iperf3, ip and tc installed.

    Call it at module level (it uses ``pytest.skip(..., allow_module_level=True)``)."""
    missing = [tool for tool in ("iperf3", "ip", "tc") if shutil.which(tool) is None]
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root", allow_module_level=True)
    if missing:
        pytest.skip("missing tools: {0} (apt-get install iperf3 iproute2)".format(", ".join(missing)),
                    allow_module_level=True)


def sh(*args):
    """Run a command, raise CalledProcessError if it fails; return the CompletedProcess (text output)."""
    return subprocess.run(args, check=True, capture_output=True, text=True)


class NetnsPair(object):
    """Server and client namespaces with a veth between them.

    ``prefix`` (e.g. ``"ul"``) names both namespaces and veth ends ``<prefix>S<tag>`` (server) and
    ``<prefix>C<tag>`` (client), ``<tag>`` being 8 random hex digits, so names are unique per run and each veth
    end is named like its namespace (at most 15 characters). ``addresses`` is a sequence of
    ``(server_address, client_address, prefix_length)``; IPv6 addresses are added with ``nodad`` so they are
    usable at once. Use it as a context manager (setup on enter, cleanup on exit, also after a failed setup)
    or call :meth:`setup` and :meth:`cleanup` yourself.
    """

    def __init__(self, prefix, addresses):
        tag = uuid.uuid4().hex[:8]
        self.server_ns, self.client_ns = prefix + "S" + tag, prefix + "C" + tag
        for name in (self.server_ns, self.client_ns):
            if RESERVED_PREFIX.match(name) or len(name) > 15:
                raise ValueError("unusable namespace/interface name {0!r}".format(name))
        self.server_if, self.client_if = self.server_ns, self.client_ns
        self.addresses = list(addresses)
        self.procs = []  # every process started, in order (servers and clients)
        self.created = []  # namespaces to delete on cleanup

    def __enter__(self):
        try:
            self.setup()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc_info):
        self.cleanup()
        return False

    def setup(self):
        """Create both namespaces and the veth, add the addresses, bring the veth ends and lo up."""
        for ns in (self.server_ns, self.client_ns):
            sh("ip", "netns", "add", ns)
            self.created.append(ns)
        sh("ip", "link", "add", self.server_if, "netns", self.server_ns, "type", "veth",
           "peer", "name", self.client_if, "netns", self.client_ns)
        for ns, dev, index in ((self.server_ns, self.server_if, 0), (self.client_ns, self.client_if, 1)):
            for addrs in self.addresses:
                extra = ["nodad"] if ":" in addrs[index] else []
                sh("ip", "-n", ns, "addr", "add", "{0}/{1}".format(addrs[index], addrs[2]), "dev", dev, *extra)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")

    def cleanup(self):
        """Kill and reap every process still running, then delete the namespaces (and with them the veth)."""
        try:
            for proc in self.procs:
                if proc.poll() is None:
                    proc.kill()
                proc.wait(timeout=10)
        finally:
            for ns in self.created:
                subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)

    def start_servers(self, ports):
        """Start one ``iperf3 -s -1`` (a single test, then exit) per port in the server namespace and wait
        until each listens; raise AssertionError if one does not. Return the server processes."""
        procs = []
        for port in ports:
            proc = subprocess.Popen(["ip", "netns", "exec", self.server_ns, "iperf3", "-s", "-1", "-p", str(port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.procs.append(proc)
            procs.append(proc)
        for port in ports:
            self.wait_listening(port)
        return procs

    def start_server(self, port):
        """Start one ``iperf3 -s -1`` on ``port`` (see :meth:`start_servers`) and return its process."""
        return self.start_servers([port])[0]

    def wait_listening(self, port):
        """Wait until a TCP socket listens on ``port`` in the server namespace (``ss -ltnH``), or raise."""
        for dummy in range(LISTEN_TRIES):
            out = sh("ip", "netns", "exec", self.server_ns, "ss", "-ltnH", "sport", "= :{0}".format(port)).stdout
            if out.strip():
                return
            time.sleep(LISTEN_PAUSE)
        raise AssertionError("iperf3 server did not listen on port {0}".format(port))

    def start_client(self, server_addr, port, seconds, interval, rate, family=None, logfile=None):
        """Start a paced iperf3 client with a JSON report in the client namespace and return its process.

        ``family`` ``"ipv4"``/``"ipv6"`` adds ``-4``/``-6``. Without ``logfile`` the report comes on the
        process's stdout (stdout and stderr are text pipes: read them with ``communicate``); with it iperf3
        writes the report there (``--logfile``) and stdout/stderr go to /dev/null."""
        cmd = ["ip", "netns", "exec", self.client_ns, "iperf3"]
        if family is not None:
            cmd.append({"ipv4": "-4", "ipv6": "-6"}[family])
        cmd += ["-c", server_addr, "-p", str(port), "-t", str(seconds), "-i", str(interval), "-b", rate, "--json"]
        if logfile is None:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        else:
            cmd += ["--logfile", str(logfile)]
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    def blackhole(self, on):
        """Drop everything leaving both veth ends (root ``blackhole`` qdisc) when ``on``, else remove it."""
        for ns, dev in ((self.server_ns, self.server_if), (self.client_ns, self.client_if)):
            if on:
                sh("tc", "-n", ns, "qdisc", "add", "dev", dev, "root", "blackhole")
            else:
                sh("tc", "-n", ns, "qdisc", "del", "dev", dev, "root")

    def link(self, up):
        """Set the client's veth end up or down."""
        sh("ip", "-n", self.client_ns, "link", "set", self.client_if, "up" if up else "down")
