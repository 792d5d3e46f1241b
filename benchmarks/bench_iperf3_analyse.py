#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Benchmark: iperf3 analyser on a synthetic 1-hour report at 0.1 s intervals (36,000 intervals).

Goal: reading + parsing + analysing the file (what the iperf3_migration module does) takes at most 2x the
time of a bare ``json.load`` of the same file. Run from the repository root:

    python benchmarks/bench_iperf3_analyse.py [--repeat 7]
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".collections"))

from ansible_collections.ovnk.udn_lab.plugins.module_utils import iperf3  # noqa: E402

START_EPOCH = 1795760000
INTERVAL = 0.1
COUNT = 36000
OUTAGE = (1800.0, 1801.2)  # a 1.2 s outage half-way


def synthetic_report(seed=7):
    """An iperf3 3.12-shaped --json client report (one TCP stream) with a short outage half-way."""
    rng = random.Random(seed)
    intervals = []
    for i in range(COUNT):
        start, end = round(i * INTERVAL, 6), round((i + 1) * INTERVAL, 6)
        dead = OUTAGE[0] <= start < OUTAGE[1]
        nbytes = 0 if dead else int(rng.gauss(12.5e6, 1e6))
        retr = (1 if dead else 0) + (24 if abs(start - OUTAGE[1]) < 1e-6 else 0)
        common = {"start": start, "end": end, "seconds": INTERVAL, "bytes": nbytes,
                  "bits_per_second": nbytes * 8 / INTERVAL, "retransmits": retr, "omitted": False, "sender": True}
        stream = dict(common, socket=5, snd_cwnd=3080000, snd_wnd=3145728, rtt=120, rttvar=20, pmtu=1400)
        intervals.append({"streams": [stream], "sum": common})
    return {
        "start": {"connected": [{"socket": 5, "local_host": "192.168.0.3", "local_port": 47654,
                                 "remote_host": "192.168.0.4", "remote_port": 9000}],
                  "version": "iperf 3.12", "timestamp": {"time": "x", "timesecs": START_EPOCH},
                  "test_start": {"protocol": "TCP", "num_streams": 1, "duration": 3600}},
        "intervals": intervals,
        "end": {},
    }


def timed(func, repeat):
    samples = []
    for dummy in range(repeat):
        t0 = time.perf_counter()
        func()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), min(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    handle, path = tempfile.mkstemp(suffix=".json")
    os.close(handle)
    try:
        with open(path, "w") as out:
            json.dump(synthetic_report(), out, indent="\t")  # iperf3 indents with tabs
        size = os.path.getsize(path)

        def bare_load():
            with open(path) as src:
                json.load(src)

        def analyser():
            with open(path, "rb") as src:
                report = iperf3.parse(src.read())
            window = iperf3.align_window(report, START_EPOCH + 1799.5, START_EPOCH + 1801.5)
            return iperf3.analyse(report, window)

        result = analyser()
        assert result["interval_count"] == COUNT, result["interval_count"]
        assert result["longest_outage"]["seconds"] == 1.2, result["longest_outage"]
        load_med, load_min = timed(bare_load, args.repeat)
        ana_med, ana_min = timed(analyser, args.repeat)
        print("python {0}, report {1:.1f} MB, {2} intervals, {3} runs each".format(
            sys.version.split()[0], size / 1e6, COUNT, args.repeat))
        print("json.load                 median {0:.3f} s  min {1:.3f} s".format(load_med, load_min))
        print("read+parse+analyse        median {0:.3f} s  min {1:.3f} s".format(ana_med, ana_min))
        ratio = ana_med / load_med
        print("ratio (median)            {0:.2f}x  (goal <= 2.0x): {1}".format(ratio, "MET" if ratio <= 2.0 else "MISSED"))
        return 0 if ratio <= 2.0 else 1
    finally:
        os.remove(path)


if __name__ == "__main__":
    sys.exit(main())
