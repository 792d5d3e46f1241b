# -*- coding: utf-8 -*-
"""Real iperf3 runs between two network namespaces joined by a veth pair, analysed by module_utils/iperf3.

Each test creates its own uniquely named namespaces (private addresses exist only inside them) and removes
them, and any iperf3 process it started, in a fixture finalizer. Needs root, iperf3 and iproute2 (ip, tc).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess
import time
import uuid

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import iperf3

pytestmark = pytest.mark.netns

SERVER_ADDR = "10.250.0.1"
CLIENT_ADDR = "10.250.0.2"
PREFIX = 30
PORT = 9000
RATE = "100M"  # paced, so the runs stay light on shared CPUs
INTERVAL = "0.5"

_missing = [tool for tool in ("iperf3", "ip", "tc") if shutil.which(tool) is None]
if os.geteuid() != 0:
    pytest.skip("network namespaces need root", allow_module_level=True)
if _missing:
    pytest.skip("missing tools: {0} (apt-get install iperf3 iproute2)".format(", ".join(_missing)),
                allow_module_level=True)


def sh(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True)


class Pair(object):
    """Server and client namespaces with a veth between them."""

    def __init__(self):
        tag = uuid.uuid4().hex[:8]
        self.server_ns, self.client_ns = "ulS" + tag, "ulC" + tag
        self.server_if, self.client_if = "ulS" + tag, "ulC" + tag  # 11 chars (limit 15)
        self.procs = []
        self.created = []

    def setup(self):
        for ns in (self.server_ns, self.client_ns):
            sh("ip", "netns", "add", ns)
            self.created.append(ns)
        sh("ip", "link", "add", self.server_if, "netns", self.server_ns, "type", "veth",
           "peer", "name", self.client_if, "netns", self.client_ns)
        for ns, dev, addr in ((self.server_ns, self.server_if, SERVER_ADDR), (self.client_ns, self.client_if, CLIENT_ADDR)):
            sh("ip", "-n", ns, "addr", "add", "{0}/{1}".format(addr, PREFIX), "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")

    def cleanup(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
        for ns in self.created:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)

    def start_server(self):
        proc = subprocess.Popen(["ip", "netns", "exec", self.server_ns, "iperf3", "-s", "-1", "-p", str(PORT)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        for dummy in range(100):
            out = sh("ip", "netns", "exec", self.server_ns, "ss", "-ltnH", "sport", "= :{0}".format(PORT)).stdout
            if out.strip():
                return proc
            time.sleep(0.05)
        raise AssertionError("iperf3 server did not listen on port {0}".format(PORT))

    def start_client(self, seconds):
        proc = subprocess.Popen(["ip", "netns", "exec", self.client_ns, "iperf3", "-c", SERVER_ADDR, "-p", str(PORT),
                                 "-t", str(seconds), "-i", INTERVAL, "-b", RATE, "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(proc)
        return proc

    def blackhole(self, on):
        verb = "add" if on else "del"
        for ns, dev in ((self.server_ns, self.server_if), (self.client_ns, self.client_if)):
            extra = ("blackhole",) if on else ()
            sh("ip", "netns", "exec", ns, "tc", "qdisc", verb, "dev", dev, "root", *extra)

    def link(self, up):
        sh("ip", "-n", self.client_ns, "link", "set", self.client_if, "up" if up else "down")


@pytest.fixture
def pair():
    p = Pair()
    try:
        p.setup()
        yield p
    finally:
        p.cleanup()


def finish(proc):
    out, err = proc.communicate(timeout=30)
    # iperf3 3.12 exits 0 even on errors in JSON mode: the report, not the exit code, tells.
    assert out.strip(), "iperf3 printed no report (rc={0}, stderr={1!r})".format(proc.returncode, err)
    return iperf3.parse(out)


def disturb(pair, seconds, start_after, cut, restore, disturbance):
    """Run a client for ``seconds``; ``start_after`` s in, call cut(); ``disturbance`` s later restore().
    Returns the parsed report and the window (epoch seconds)."""
    pair.start_server()
    client = pair.start_client(seconds)
    time.sleep(start_after)
    begin = time.time()
    cut()
    time.sleep(disturbance)
    restore()
    end = time.time()
    return finish(client), (begin, end)


def test_clean_run(pair):
    pair.start_server()
    res = iperf3.analyse(finish(pair.start_client(3)))
    assert res["survived"] and res["passed"], res["message"]
    assert res["longest_outage"]["seconds"] == 0.0
    assert res["interval_count"] >= 5
    assert res["median_bps"]["total"] > 50e6


def test_two_second_blackhole_survives_with_a_measured_outage(pair):
    report, (begin, end) = disturb(pair, 7, 2.0, lambda: pair.blackhole(True), lambda: pair.blackhole(False), 2.0)
    window = iperf3.align_window(report, begin, end)
    res = iperf3.analyse(report, window, max_outage_seconds=5)
    assert res["survived"], res["message"]
    assert 1.5 <= res["longest_outage"]["seconds"] <= 4.0, res["outages"]
    # the outage overlaps the window (alignment is good to about a second: timesecs is whole seconds)
    assert res["longest_outage"]["start"] < window[1] + 1.0 and res["longest_outage"]["end"] > window[0] - 1.0
    assert res["median_bps"]["before"] > 50e6
    assert res["retransmits"]["during"] + res["retransmits"]["after"] > 0
    assert res["recovery_seconds"] is not None


def test_link_down_survives(pair):
    report, window = disturb(pair, 6, 2.0, lambda: pair.link(False), lambda: pair.link(True), 1.5)
    res = iperf3.analyse(report, iperf3.align_window(report, *window), max_outage_seconds=5)
    assert res["survived"], res["message"]
    assert res["longest_outage"]["seconds"] >= 1.0


def test_server_killed_is_not_survived(pair):
    server = pair.start_server()
    client = pair.start_client(6)
    time.sleep(2.0)
    server.kill()
    res = iperf3.analyse(finish(client))
    assert res["survived"] is False and res["passed"] is False
    assert res["error"], "iperf3 reported no error after its server was killed"
    assert res["error"] in res["message"]
    assert res["duration_seconds"] < 6
