# -*- coding: utf-8 -*-
"""Real iperf3 runs between two network namespaces joined by a veth pair, analysed by module_utils/iperf3.

Each test creates its own uniquely named namespaces (private addresses exist only inside them) and removes
them, and any iperf3 process it started, in a fixture finalizer. Needs root, iperf3 and iproute2 (ip, tc).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import iperf3
from netns_pair import NetnsPair, require_netns

pytestmark = pytest.mark.netns

SERVER_ADDR = "10.250.0.1"
CLIENT_ADDR = "10.250.0.2"
PREFIX = 30
PORT = 9000
RATE = "100M"  # paced, so the runs stay light on shared CPUs
INTERVAL = "0.5"

require_netns()


class Pair(NetnsPair):
    """Server and client namespaces ("ulS<tag>", "ulC<tag>") with a veth between them, on SERVER_ADDR/CLIENT_ADDR."""

    def __init__(self):
        super(Pair, self).__init__("ul", [(SERVER_ADDR, CLIENT_ADDR, PREFIX)])

    def start_server(self):
        return super(Pair, self).start_server(PORT)

    def start_client(self, seconds):
        return super(Pair, self).start_client(SERVER_ADDR, PORT, seconds, INTERVAL, RATE)


@pytest.fixture
def pair():
    with Pair() as p:
        yield p


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
