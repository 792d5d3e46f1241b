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

import functools
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".collections"))
sys.path.insert(0, HERE)

import fake_kube_api  # noqa: E402
import wait_bench  # noqa: E402
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


def main():
    args = wait_bench.arguments(__doc__, "network_wait")
    with wait_bench.api_server(args.sim) as (api, kubeconfig):
        kube, core_client = wait_bench.clients(kubeconfig)
        list_watch, list_events = networks.api_callables(kube)
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

        def trials_of(shape):
            def run_trials(waiter, n):
                samples = []
                for dummy in range(n):
                    counter[0] += 1
                    targets = [dict(t, name="{0}-{1}".format(t["name"], counter[0])) for t in shape]
                    samples.append(trial(api, targets, waiter, args.rng))
                return samples
            return run_trials

        met = True
        for title, shape in (("one UserDefinedNetwork", WORKSHOP[:1]),
                             ("pod workshop set: 3 UDNs (3 namespaces) + 2 CUDNs", WORKSHOP)):
            print(title)
            met = wait_bench.compare(args, trials_of(shape), "network_wait (watch)", network_wait, k8s_info, "  ") and met
        return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
