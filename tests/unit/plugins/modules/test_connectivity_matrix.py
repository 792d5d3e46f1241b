# -*- coding: utf-8 -*-
"""connectivity_matrix through its module entry: the one fake API (read through the module's lookup), a fake exec
endpoint and the fake clock."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import xml.etree.ElementTree as ET

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.ovnk.udn_lab.plugins.module_utils import probes as P
from ansible_collections.ovnk.udn_lab.plugins.modules import connectivity_matrix as M

from fake_api import Clock, FakeApi


class Exit(Exception):
    pass


class Fail(Exception):
    pass


def _exit(self, **kwargs):
    raise Exit(kwargs)


def _fail(self, msg, **kwargs):
    kwargs["msg"] = msg
    raise Fail(kwargs)


@pytest.fixture(autouse=True)
def _no_exit(monkeypatch):
    monkeypatch.setattr(AnsibleModule, "exit_json", _exit)
    monkeypatch.setattr(AnsibleModule, "fail_json", _fail)


def udn_pod(ns, name, udn_ip, nad):
    nets = {"default": {"ip_addresses": ["10.244.9.9/24"], "role": "infrastructure-locked"},
            "{0}/{1}".format(ns, nad): {"ip_addresses": [udn_ip + "/16"], "role": "primary"}}
    return {"metadata": {"name": name, "namespace": ns, "labels": {},
                         "annotations": {"k8s.ovn.org/pod-networks": json.dumps(nets)}},
            "status": {"phase": "Running"}}


class Cluster(object):
    """Pods red/app-red-0 and yellow/app-yellow-1 on one CUDN, read through the collection's lookup over the one
    fake API; the data plane answers from ``open_ports``."""

    def __init__(self, open_ports):
        pods = [udn_pod("red", "app-red-0", "192.168.0.3", "colored-enterprise"),
                udn_pod("yellow", "app-yellow-1", "192.168.0.5", "colored-enterprise")]
        self.lookup = P.KubernetesLookup(FakeApi(None, {
            "Pod": pods, "Namespace": [{"metadata": {"name": n}} for n in ("red", "yellow")]}))
        self.open_ports = open_ports
        self.execs = []

    # exec endpoint
    def run(self, namespace, pod, container, command, timeout):
        self.execs.append((namespace, pod, container, command))
        if command[2] in self.open_ports:
            return {"rc": 0, "stdout": "", "stderr": "", "error": None}
        return {"rc": 1, "stdout": "", "stderr": "TIMEOUT\n", "error": None}


def policy_probes():
    src = {"namespace": "red", "pod": "app-red-0", "container": "agnhost-container-8080"}
    to = {"kind": "pod", "namespace": "yellow", "name": "app-yellow-1"}
    return [
        {"id": "red-yellow-8080", "claim": "the policy allows 8080", "from": src, "to": to, "port": 8080,
         "expect": "reachable", "phase": "after_policy"},
        {"id": "red-yellow-9090", "claim": "the policy denies 9090", "from": src, "to": to, "port": 9090,
         "expect": "blocked", "phase": "after_policy"},
    ]


def run(args, cluster, check_mode=False, policies=None):
    clock = Clock(0.0)
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        module = AnsibleModule(argument_spec=M.argument_spec(), supports_check_mode=True)
        M.run_module(module, build=lambda m: (cluster.lookup, cluster), clock=clock, sleep=clock.sleep,
                     **({"policies": policies} if policies else {}))


def test_all_correct_reports_tables_and_junit():
    cluster = Cluster(["192.168.0.5:8080"])
    with pytest.raises(Exit) as exc:
        run({"probes": policy_probes(), "timeout": 10, "interval": 2}, cluster, check_mode=True)
    out = exc.value.args[0]
    assert out["changed"] is False
    assert out["summary"]["line"] == "connectivity: 2 probes, 2 correct, 0 wrong, 0 unknown"
    assert out["mismatches"] == []
    assert out["tables"]["observed"].splitlines()[2] == "red/app-red-0:agnhost-container-8080  .  X"
    root = ET.fromstring(out["junit_xml"])
    assert [c.get("classname") for c in root.iter("testcase")] == ["connectivity_matrix.after_policy"] * 2
    assert cluster.execs[0][:3] == ("red", "app-red-0", "agnhost-container-8080")


def test_mismatch_fails_with_reproduce_command():
    cluster = Cluster(["192.168.0.5:8080", "192.168.0.5:9090"])  # the policy did not take effect
    with pytest.raises(Fail) as exc:
        run({"probes": policy_probes(), "timeout": 4, "interval": 2, "kubeconfig": "/lab/kubeconfig"}, cluster)
    out = exc.value.args[0]
    assert out["msg"].startswith("connectivity: 2 probes, 1 correct, 1 wrong, 0 unknown; reproduce: red-yellow-9090: "
                                 "kubectl --kubeconfig=/lab/kubeconfig exec -n red app-red-0 -c agnhost-container-8080 "
                                 "-- /agnhost connect 192.168.0.5:9090")
    assert [m["id"] for m in out["mismatches"]] == ["red-yellow-9090"]
    assert out["mismatches"][0]["attempts"] == 3  # polled at t=0, 2, 4 before giving up
    assert out["tables"]["diff"].splitlines()[2].endswith(".  X")


def test_report_only_does_not_fail():
    cluster = Cluster([])
    with pytest.raises(Exit) as exc:
        run({"probes": policy_probes(), "timeout": 0, "fail_on_mismatch": False}, cluster)
    assert exc.value.args[0]["summary"]["wrong"] == 1


def test_unknown_fails_unless_told_otherwise():
    cluster = Cluster([])

    def broken(namespace, pod, container, command, timeout):
        return {"rc": None, "stdout": "", "stderr": "", "error": "HTTP 500 container not running"}

    cluster.run = broken
    probes = policy_probes()[1:]
    with pytest.raises(Fail) as exc:
        run({"probes": probes, "timeout": 0}, cluster)
    assert "1 unknown" in exc.value.args[0]["msg"]
    with pytest.raises(Exit) as exc:
        run({"probes": probes, "timeout": 0, "fail_on_unknown": False}, cluster)
    assert exc.value.args[0]["results"][0]["observed"] == P.UNKNOWN


def test_missing_pod_and_namespace_fail_before_any_probe():
    cluster = Cluster(["192.168.0.5:8080"])
    probes = policy_probes()
    probes[0]["to"] = {"kind": "pod", "namespace": "yellow", "name": "app-yellow-7"}
    probes[1]["from"] = {"namespace": "purple", "pod": "app-purple-0"}
    with pytest.raises(Fail) as exc:
        run({"probes": probes}, cluster)
    msg = exc.value.args[0]["msg"]
    assert "probe 'red-yellow-8080': target pod yellow/app-yellow-7 not found (pods in yellow: app-yellow-1)" in msg
    assert "probe 'red-yellow-9090': source namespace 'purple' not found" in msg
    assert cluster.execs == [] and exc.value.args[0]["changed"] is False


def test_invalid_probe_fails_before_cluster_access():
    probes = policy_probes()
    probes[1]["id"] = probes[0]["id"]

    def no_cluster(module):
        raise AssertionError("the cluster must not be contacted for invalid input")

    with patch_module_args({"probes": probes}):
        module = AnsibleModule(argument_spec=M.argument_spec(), supports_check_mode=True)
        with pytest.raises(Fail) as exc:
            M.run_module(module, build=no_cluster)
    assert "probe 'red-yellow-8080': id used twice" in exc.value.args[0]["msg"]


def test_dual_stack_expansion_ids():
    cluster = Cluster(["192.168.0.5:8080"])
    with pytest.raises(Fail) as exc:
        run({"probes": policy_probes()[:1], "ip_families": ["ipv4", "ipv6"], "timeout": 0}, cluster)
    out = exc.value.args[0]
    assert [r["id"] for r in out["results"]] == ["red-yellow-8080/ipv4", "red-yellow-8080/ipv6"]
    assert [r["status"] for r in out["results"]] == ["correct", "unknown"]  # the fake pod has no IPv6 address


def test_host_only_probes_need_no_cluster():
    class Host(object):
        def probe(self, protocol, host, port, family, timeout, path):
            return {"rc": 0, "stdout": "200", "stderr": "", "error": None}

    def no_cluster(module):
        raise AssertionError("no cluster needed")

    probes = [{"id": "web", "from": {"host": True}, "to": {"kind": "address", "address": "192.0.2.10"},
               "protocol": "http", "port": 80, "expect": "reachable"}]
    with patch_module_args({"probes": probes}):
        module = AnsibleModule(argument_spec=M.argument_spec(), supports_check_mode=True)
        with pytest.raises(Exit) as exc:
            M.run_module(module, build=no_cluster, host_transport=Host())
    assert exc.value.args[0]["results"][0]["reproduce"].startswith("curl ")


OWN = {"app.kubernetes.io/managed-by": "ovnk.udn_lab", "udn-lab.ovnk.io/lab": "lab"}


def test_policies_the_lab_did_not_make_are_named_before_probing():
    asked = []

    def policies(module, namespaces):
        asked.append(namespaces)
        return {
            "NetworkPolicy": [
                {"metadata": {"namespace": "red", "name": "allow-to-devconf-demo-pods", "labels": dict(OWN)}},
                {"metadata": {"namespace": "yellow", "name": "deny-all", "labels": {"team": "x"}}},
                # half-labelled: not the lab's
                {"metadata": {"namespace": "red", "name": "copied", "labels": {"udn-lab.ovnk.io/lab": "lab"}}},
            ],
            "AdminNetworkPolicy": [{"metadata": {"name": "cluster-guard"}}],
            "BaselineAdminNetworkPolicy": None,   # not served
        }

    with pytest.raises(Exit) as exc:
        run({"probes": policy_probes(), "own_labels": OWN}, Cluster(["192.168.0.5:8080"]), policies=policies)
    out = exc.value.args[0]
    assert asked == [["red", "yellow"]]
    assert out["foreign_policies"]["policies"] == [
        {"kind": "NetworkPolicy", "namespace": "red", "name": "copied"},
        {"kind": "NetworkPolicy", "namespace": "yellow", "name": "deny-all"},
        {"kind": "AdminNetworkPolicy", "namespace": None, "name": "cluster-guard"}]
    assert out["foreign_policies"]["not_served"] == ["BaselineAdminNetworkPolicy"]
    assert out["foreign_policies"]["line"].startswith(
        "policies the lab did not make that can change a verdict: NetworkPolicy red/copied, NetworkPolicy yellow/deny-all")


def test_no_foreign_policy_says_so_and_without_own_labels_nothing_is_read():
    def none(module, namespaces):
        return {"NetworkPolicy": [], "AdminNetworkPolicy": None, "BaselineAdminNetworkPolicy": None}

    with pytest.raises(Exit) as exc:
        run({"probes": policy_probes(), "own_labels": OWN}, Cluster(["192.168.0.5:8080"]), policies=none)
    assert exc.value.args[0]["foreign_policies"]["line"] == (
        "no policy the lab did not make can change a verdict (the workshop asks for none); not served by this "
        "cluster: AdminNetworkPolicy, BaselineAdminNetworkPolicy")

    def boom(module, namespaces):
        raise AssertionError("read without own_labels")

    with pytest.raises(Exit) as exc:
        run({"probes": policy_probes()}, Cluster(["192.168.0.5:8080"]), policies=boom)
    assert "foreign_policies" not in exc.value.args[0]
