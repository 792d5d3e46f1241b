# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""What the wait benchmarks (bench_vmi_wait.py, bench_network_wait.py) share: their options, the API server they
run against (the fake one, or a real kube-apiserver with --sim), the two clients (ours and kubernetes.core's),
the trial loop and the p50/p90 summary with the goal check (ours p50 <= 0.2 x the poll's).

Imported by the benchmarks after they put .collections and benchmarks/ on sys.path.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import contextlib
import os
import random
import statistics
import sys
import tempfile
import types

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s

GOAL = 0.2


def arguments(doc, ours):
    """The benchmarks' common options; ``ours`` names the waiter under test in the help."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--trials", type=int, default=15, help="trials for {0} and for the 1 s poll".format(ours))
    parser.add_argument("--poll-trials", type=int, default=10, help="trials for the default 5 s poll")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--sim", action="store_true",
                        help="a real kube-apiserver (tests/sim/launcher.py, needs the sim binaries) instead of the fake one")
    args = parser.parse_args()
    args.rng = random.Random(args.seed)
    return args


@contextlib.contextmanager
def api_server(sim):
    """``(api, kubeconfig)``: the fake API server, or with ``sim`` a real kube-apiserver + etcd (sim_api.py)."""
    if sim:
        from sim_api import SimApi

        with SimApi() as api:
            print("python {0}, real (sim) API server {1}".format(sys.version.split()[0], api.url))
            yield api, api.kubeconfig
        return
    from fake_kube_api import FakeKubeApi

    api = FakeKubeApi()
    api.start()
    try:
        print("python {0}, fake API server {1}".format(sys.version.split()[0], api.url))
        yield api, api.kubeconfig(os.path.join(tempfile.mkdtemp(), "kubeconfig"))
    finally:
        api.stop()


def clients(kubeconfig):
    """``(ours, theirs)``: module_utils.k8s.KubeApi as the modules build it, and kubernetes.core's client."""
    params = dict((key, None) for key in k8s.AUTH_ARG_SPEC)
    params["kubeconfig"] = kubeconfig
    return k8s.KubeApi(k8s.client_from_module(types.SimpleNamespace(params=params))), get_api_client(kubeconfig=kubeconfig)


def summarize(label, samples, indent=""):
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    print("{0}{1:<38} n={2:<3} p50 {3:7.3f} s  p90 {4:7.3f} s  max {5:7.3f} s".format(
        indent, label, len(ordered), p50, p90, ordered[-1]))
    return p50


def compare(args, run_trials, ours_label, ours, poll, indent=""):
    """Run ``ours`` and kubernetes.core's poll at 1 s and 5 s (``poll(sleep)`` makes that waiter), print the
    summaries and the ratios; True when the goal against the 1 s poll is met. ``run_trials(waiter, n)`` returns
    the n latencies."""
    mine = summarize(ours_label, run_trials(ours, args.trials), indent)
    poll1 = summarize("k8s_info wait, wait_sleep=1", run_trials(poll(1), args.trials), indent)
    poll5 = summarize("k8s_info wait, wait_sleep=5 (default)", run_trials(poll(5), args.poll_trials), indent)
    for label, other in (("wait_sleep=1", poll1), ("wait_sleep=5", poll5)):
        ratio = mine / other
        print("{0}p50 ratio vs {1:<13} {2:.3f}x (goal <= {3}x): {4}".format(
            indent, label, ratio, GOAL, "MET" if ratio <= GOAL else "MISSED"))
    return mine <= GOAL * poll1
