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

import copy
import functools
import os
import sys
import threading
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".collections"))
sys.path.insert(0, HERE)

import wait_bench  # noqa: E402
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


def main():
    args = wait_bench.arguments(__doc__, "vmi_wait")
    with wait_bench.api_server(args.sim) as (api, kubeconfig):
        kube, core_client = wait_bench.clients(kubeconfig)
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

        def run_trials(waiter, n):
            samples = []
            for dummy in range(n):
                counter[0] += 1
                samples.append(trial(api, "vm{0}".format(counter[0]), waiter, args.rng))
            return samples

        return 0 if wait_bench.compare(args, run_trials, "vmi_wait (watch)", vmi_wait, k8s_info) else 1


if __name__ == "__main__":
    sys.exit(main())
