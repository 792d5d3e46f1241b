#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Benchmark: how long after the last network becomes NetworkCreated=True each waiter notices it.

Against a local fake API server (fake_kube_api.py, here also serving ``k8s.ovn.org/v1`` UserDefinedNetworks and
ClusterUserDefinedNetworks; plain HTTP, chunked watch streams), each trial creates networks without the condition
yet, starts the waiter, and marks each network ``NetworkCreated=True`` at a random moment 1-2 s later.
Detection latency = waiter return time - time of the last of those changes. Two scenarios:

* one UserDefinedNetwork;
* the pod workshop's set - 3 UserDefinedNetworks in 3 namespaces and 2 ClusterUserDefinedNetworks.

Compared:

* ovnk.udn_lab network_wait's flow (networks.wait_networks over the watch helper, real kubernetes client), and
* kubernetes.core's waiter, the code behind ``k8s_info: wait: true`` with ``wait_condition``
  (NetworkCreated=True), one network after the other (what the role's loop did), polling every ``wait_sleep``
  seconds: 5 (its default) and 1 (its smallest).

Goal: network_wait p50 <= 0.2 x the k8s_info (wait_sleep=1) p50. Run from the repository root:

    python benchmarks/bench_network_wait.py [--trials 15] [--poll-trials 10] [--sim]

``--sim``: the same trials against a real kube-apiserver + etcd (the simulated cluster's control plane,
benchmarks/sim_api.py, with the upstream UDN/CUDN CRDs), the benchmark writing the status as OVN-K would.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import functools
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".collections"))
sys.path.insert(0, HERE)

import fake_kube_api  # noqa: E402
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client  # noqa: E402
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.waiter import Waiter, custom_condition  # noqa: E402
from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s, networks  # noqa: E402

OVN_GROUP = fake_kube_api.OVN_GROUP
PLURALS = {networks.KIND_UDN: "userdefinednetworks", networks.KIND_CUDN: "clusteruserdefinednetworks"}
TIMEOUT = 60
WORKSHOP = [
    {"kind": networks.KIND_UDN, "name": "blue-network", "namespace": "blue"},
    {"kind": networks.KIND_UDN, "name": "green-network", "namespace": "green"},
    {"kind": networks.KIND_UDN, "name": "overlapping-with-blue-network", "namespace": "overlapping-with-blue"},
    {"kind": networks.KIND_CUDN, "name": "colored-enterprise", "namespace": None},
    {"kind": networks.KIND_CUDN, "name": "blue-green-secondary", "namespace": None},
]


def network_object(target, name, created):
    meta = {"name": name}
    if target["kind"] == networks.KIND_UDN:
        meta["namespace"] = target["namespace"]
    layer2 = {"topology": "Layer2", "layer2": {"role": "Secondary", "subnets": ["10.123.0.0/16"]}}
    # specs the real CRDs accept (--sim validates them like a cluster would)
    spec = layer2 if target["kind"] == networks.KIND_UDN else {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "blue"}}, "network": layer2}
    obj = {"apiVersion": "{0}/v1".format(OVN_GROUP), "kind": target["kind"], "metadata": meta, "spec": spec}
    if created:
        obj["status"] = {"conditions": [{
            "type": networks.COND_NETWORK_CREATED, "status": "True", "reason": "NetworkAttachmentDefinitionCreated",
            "message": "NetworkAttachmentDefinition has been created",
            "lastTransitionTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}]}
    return obj


# ------------------------------------------------------------------ trials


def trial(api, targets, waiter, rng):
    """Create ``targets`` without status; flip each to NetworkCreated=True 1-2 s later; return detection latency (s)."""
    for target in targets:
        api.put(PLURALS[target["kind"]], network_object(target, target["name"], False))
    flipped = []
    lock = threading.Lock()

    def flip(target, delay):
        time.sleep(delay)
        with lock:
            flipped.append(time.monotonic())
        api.put(PLURALS[target["kind"]], network_object(target, target["name"], True))

    threads = [threading.Thread(target=flip, args=(t, rng.uniform(1.0, 2.0))) for t in targets]
    for thread in threads:
        thread.start()
    ok = waiter(targets)
    done = time.monotonic()
    for thread in threads:
        thread.join()
    assert ok, "waiter did not see {0} ready".format(", ".join(t["name"] for t in targets))
    return done - max(flipped)


def summarize(label, samples):
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    print("  {0:<38} n={1:<3} p50 {2:7.3f} s  p90 {3:7.3f} s  max {4:7.3f} s".format(
        label, len(ordered), p50, p90, ordered[-1]))
    return p50


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=15, help="trials for network_wait and for the 1 s poll")
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
        api = fake_kube_api.FakeKubeApi()
        api.start()
        kubeconfig = api.kubeconfig(os.path.join(tempfile.mkdtemp(), "kubeconfig"))
    try:
        params = dict((key, None) for key in k8s.AUTH_ARG_SPEC)
        params["kubeconfig"] = kubeconfig
        kube = k8s.KubeApi(k8s.client_from_module(types.SimpleNamespace(params=params)))
        list_watch, list_events = networks.api_callables(kube)
        core_client = get_api_client(kubeconfig=kubeconfig)
        core_resources = dict((kind, core_client.resource(kind, "{0}/v1".format(OVN_GROUP))) for kind in PLURALS)
        predicate = functools.partial(custom_condition, {"type": networks.COND_NETWORK_CREATED, "status": "True",
                                                         "reason": None})

        def network_wait(targets):
            res = networks.wait_networks(list_watch, list_events, networks.validate_networks(targets),
                                         networks.COND_NETWORK_CREATED, TIMEOUT, time.monotonic, watch=k8s.watch_until)
            return all(n["ready"] for n in res["networks"])

        def k8s_info(sleep):
            def wait(targets):
                for target in targets:  # the role's former loop: one k8s_info wait per network
                    ok, dummy, dummy2 = Waiter(core_client, core_resources[target["kind"]], predicate).wait(
                        TIMEOUT, sleep, name=target["name"], namespace=target["namespace"])
                    if not ok:
                        return False
                return True
            return wait

        counter = [0]

        def run(label, waiter, n, shape):
            samples = []
            for dummy in range(n):
                counter[0] += 1
                targets = [dict(t, name="{0}-{1}".format(t["name"], counter[0])) for t in shape]
                samples.append(trial(api, targets, waiter, rng))
            return summarize(label, samples)

        kind = "real (sim)" if args.sim else "fake"
        print("python {0}, {1} API server {2}".format(sys.version.split()[0], kind, api.url))
        failed = False
        for title, shape in (("one UserDefinedNetwork", WORKSHOP[:1]),
                             ("pod workshop set: 3 UDNs (3 namespaces) + 2 CUDNs", WORKSHOP)):
            print(title)
            ours = run("network_wait (watch)", network_wait, args.trials, shape)
            poll1 = run("k8s_info wait, wait_sleep=1", k8s_info(1), args.trials, shape)
            poll5 = run("k8s_info wait, wait_sleep=5 (default)", k8s_info(5), args.poll_trials, shape)
            for label, other in (("wait_sleep=1", poll1), ("wait_sleep=5", poll5)):
                ratio = ours / other
                print("  p50 ratio vs {0:<13} {1:.3f}x (goal <= 0.2x): {2}".format(
                    label, ratio, "MET" if ratio <= 0.2 else "MISSED"))
            failed = failed or ours > 0.2 * poll1
        return 1 if failed else 0
    finally:
        if args.sim:
            api.__exit__(None, None, None)
        else:
            api.stop()


if __name__ == "__main__":
    sys.exit(main())
