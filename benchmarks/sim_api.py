# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Benchmark helper: a real API server for the latency benchmarks (tests/sim/launcher.py: kube-apiserver, etcd,
kwok nodes, built from the Go module proxy) with the CRDs the waiters read, and a ``put`` that plays the
controller (creates the object, then writes its status through the status subresource, as KubeVirt and
OVN-Kubernetes do). No simulator runs: the benchmark alone changes the objects it times.

    with SimApi() as api:              # starts cluster "bench-<pid>", stops it (logs kept) on exit
        api.put("virtualmachineinstances", vmi_dict)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SIM = os.path.join(ROOT, "tests", "sim")
sys.path.insert(0, SIM)
import build  # noqa: E402  (where the sim cache is)

UPSTREAM = os.environ.get("UDN_LAB_UPSTREAM_DIR") or os.path.join(ROOT, "..", "shared", "upstream")
KINDS = {
    "virtualmachineinstances": ("kubevirt.io/v1", "VirtualMachineInstance"),
    "userdefinednetworks": ("k8s.ovn.org/v1", "UserDefinedNetwork"),
    "clusteruserdefinednetworks": ("k8s.ovn.org/v1", "ClusterUserDefinedNetwork"),
}


def crds():
    """The VMI CRD of the KubeVirt stand-in (upstream schema) and the OVN-K UDN/CUDN CRDs from upstream."""
    docs = yaml.safe_load_all(open(os.path.join(SIM, "standins", "manifests", "kubevirt-operator.yaml")).read()
                              .replace("{version}", "v1.8.4"))
    out = [d for d in docs if d and d.get("kind") == "CustomResourceDefinition"]
    ovnk = os.path.join(UPSTREAM, "ovn-kubernetes-v1.3.0")
    for name in sorted(os.listdir(ovnk)):
        if "userdefinednetwork" in name:
            out.append(yaml.safe_load(open(os.path.join(ovnk, name))))
    return out


class SimApi(object):
    def __init__(self, name=None):
        self.name = name or "bench-%d" % os.getpid()
        self.kubeconfig = os.path.join(tempfile.mkdtemp(), "kubeconfig")
        self.url = None

    def _launcher(self, *args):
        subprocess.run([sys.executable, os.path.join(SIM, "launcher.py")] + list(args), check=True, timeout=900)

    def __enter__(self):
        from kubernetes import config, dynamic

        self._launcher("start", "--name", self.name, "--workers", "1", "--kubeconfig", self.kubeconfig)
        self.dyn = dynamic.DynamicClient(config.new_client_from_config(config_file=self.kubeconfig))
        self.url = self.dyn.configuration.host
        crd_api = self.dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
        for crd in crds():
            crd_api.server_side_apply(body=crd, field_manager="udn-lab-bench", force_conflicts=True)
        subprocess.run([str(build.bin_dir() / "kubectl"), "--kubeconfig", self.kubeconfig, "wait",
                        "--for=condition=Established", "--timeout=60s", "crd", "--all"], check=True, timeout=90,
                       stdout=subprocess.DEVNULL)
        for ns in ("red-namespace", "blue-namespace", "blue", "green", "overlapping-with-blue"):
            self.dyn.resources.get(api_version="v1", kind="Namespace").server_side_apply(
                body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}, field_manager="udn-lab-bench")
        self.dyn.resources.invalidate_cache()
        return self

    def __exit__(self, *exc):
        self._launcher("stop", "--name", self.name)

    def put(self, plural, obj):
        """Create ``obj`` (spec) if missing, then write its ``status`` through the status subresource."""
        from kubernetes.dynamic.exceptions import NotFoundError

        api_version, kind = KINDS[plural]
        res = self.dyn.resources.get(api_version=api_version, kind=kind)
        meta = obj["metadata"]
        body = copy.deepcopy(obj)
        body.update(apiVersion=api_version, kind=kind)
        body["metadata"] = {"name": meta["name"], "namespace": meta.get("namespace"),
                            "labels": meta.get("labels") or {}, "annotations": meta.get("annotations") or {}}
        if not res.namespaced:
            body["metadata"].pop("namespace")
        status = body.pop("status", None)
        try:
            current = res.get(name=meta["name"], namespace=meta.get("namespace") if res.namespaced else None)
        except NotFoundError:
            current = res.create(body=body, namespace=meta.get("namespace") if res.namespaced else None)
        if status is not None:
            patch = {"apiVersion": api_version, "kind": kind, "metadata": {"name": meta["name"]}, "status": status}
            if res.namespaced:
                patch["metadata"]["namespace"] = meta["namespace"]
            res.status.patch(body=patch, name=meta["name"],
                             namespace=meta.get("namespace") if res.namespaced else None,
                             content_type="application/merge-patch+json")
        return current
