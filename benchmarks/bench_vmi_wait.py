#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Benchmark: how long after the last VMI status change each waiter notices it.

Against a local fake API server (fake_kube_api.py; plain HTTP, chunked watch streams), each trial creates a
VMI whose guest agent is not connected yet, starts the waiter, and after a random 1-2 s marks the VMI ready.
Detection latency = waiter return time - time of that change. Compared:

* ovnk.udn_lab vmi_wait's flow (kubevirt.wait_vmis over the watch helper, real kubernetes client), and
* kubernetes.core's waiter, the code behind ``k8s_info: wait: true`` with ``wait_condition``
  (AgentConnected=True), polling every ``wait_sleep`` seconds: 5 (its default) and 1 (its smallest).

Goal: vmi_wait p50 <= 0.2 x the k8s_info p50. Run from the repository root:

    python benchmarks/bench_vmi_wait.py [--trials 15] [--poll-trials 10] [--sim]

``--sim``: the same trials against a real kube-apiserver + etcd (the simulated cluster's control plane,
benchmarks/sim_api.py), the benchmark writing the VMI status as KubeVirt would.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import copy
import functools
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import types

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".collections"))
sys.path.insert(0, HERE)

from fake_kube_api import FakeKubeApi  # noqa: E402
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client  # noqa: E402
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.waiter import Waiter, custom_condition  # noqa: E402
from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s, kubevirt  # noqa: E402

FIXTURES = os.path.join(HERE, "..", "tests", "unit", "plugins", "module_utils", "fixtures", "kubevirt")
VMIS = "virtualmachineinstances"
TIMEOUT = 60


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return yaml.safe_load(handle)


def trial(api, name, waiter, rng):
    """Create VMI ``name`` not ready; flip it ready after 1-2 s in a thread; return detection latency (s)."""
    booting = fixture("vmi_agent_not_connected.yml")
    booting["metadata"]["name"] = name
    ready = fixture("vmi_ready.yml")
    ready["metadata"].update(name=name, namespace=booting["metadata"]["namespace"])
    api.put(VMIS, booting)
    flipped = {}

    def flip():
        time.sleep(rng.uniform(1.0, 2.0))
        flipped["at"] = time.monotonic()
        api.put(VMIS, copy.deepcopy(ready))

    thread = threading.Thread(target=flip)
    thread.start()
    ok = waiter(name, booting["metadata"]["namespace"])
    done = time.monotonic()
    thread.join()
    assert ok, "waiter did not see VMI {0} ready".format(name)
    return done - flipped["at"]


def summarize(label, samples):
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    print("{0:<38} n={1:<3} p50 {2:7.3f} s  p90 {3:7.3f} s  max {4:7.3f} s".format(label, len(ordered), p50, p90, ordered[-1]))
    return p50


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=15, help="trials for vmi_wait and for the 1 s poll")
    parser.add_argument("--poll-trials", type=int, default=10, help="trials for the default 5 s poll")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--sim", action="store_true",
                        help="a real kube-apiserver (tests/sim/launcher.py, needs the sim binaries) instead of the fake one")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    if args.sim:
        from sim_api import SimApi

        api = SimApi().__enter__()
        kubeconfig = api.kubeconfig
    else:
        api = FakeKubeApi()
        api.start()
        kubeconfig = api.kubeconfig(os.path.join(tempfile.mkdtemp(), "kubeconfig"))
    try:
        params = dict((key, None) for key in k8s.AUTH_ARG_SPEC)
        params["kubeconfig"] = kubeconfig
        kube = k8s.KubeApi(k8s.client_from_module(types.SimpleNamespace(params=params)))
        core_client = get_api_client(kubeconfig=kubeconfig)
        core_resource = core_client.resource("VirtualMachineInstance", "kubevirt.io/v1")
        predicate = functools.partial(custom_condition, {"type": "AgentConnected", "status": "True", "reason": None})

        def vmi_wait(name, namespace):
            res = kubevirt.wait_vmis(kube, ["{0}/{1}".format(namespace, name)], [], [], "happy", "any", False,
                                     TIMEOUT, time.monotonic, watch=k8s.watch_until)
            return all(v["ready"] for v in res["vmis"])

        def k8s_info(sleep):
            def wait(name, namespace):
                ok, dummy, dummy2 = Waiter(core_client, core_resource, predicate).wait(TIMEOUT, sleep, name=name, namespace=namespace)
                return ok
            return wait

        counter = [0]

        def run(label, waiter, n):
            samples = []
            for dummy in range(n):
                counter[0] += 1
                samples.append(trial(api, "vm{0}".format(counter[0]), waiter, rng))
            return summarize(label, samples)

        kind = "real (sim)" if args.sim else "fake"
        print("python {0}, {1} API server {2}".format(sys.version.split()[0], kind, api.url))
        ours = run("vmi_wait (watch)", vmi_wait, args.trials)
        poll1 = run("k8s_info wait, wait_sleep=1", k8s_info(1), args.trials)
        poll5 = run("k8s_info wait, wait_sleep=5 (default)", k8s_info(5), args.poll_trials)
        for label, other in (("wait_sleep=1", poll1), ("wait_sleep=5", poll5)):
            ratio = ours / other
            print("p50 ratio vs {0:<13} {1:.3f}x (goal <= 0.2x): {2}".format(label, ratio, "MET" if ratio <= 0.2 else "MISSED"))
        return 0 if ours <= 0.2 * poll1 else 1
    finally:
        if args.sim:
            api.__exit__(None, None, None)
        else:
            api.stop()


if __name__ == "__main__":
    sys.exit(main())
