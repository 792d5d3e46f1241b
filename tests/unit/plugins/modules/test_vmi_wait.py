# -*- coding: utf-8 -*-
"""vmi_wait through its main(): a fake API (list + scripted watch events + fake clock) stands in for the cluster."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.ovnk.udn_lab.plugins.modules import vmi_wait

from fake_api import FakeApi, load, patch_clock, run_main


@pytest.fixture
def clock(monkeypatch):
    return patch_clock(monkeypatch, vmi_wait)


def run(monkeypatch, api, args, check_mode=False, capsys=None):
    return run_main(monkeypatch, vmi_wait, api, args, capsys, check_mode)


def ready_red():
    red = load("vmi_ready.yml")
    red["metadata"].update(name="red", namespace="red-namespace", resourceVersion="5000")
    red["status"]["interfaces"][0]["ipAddresses"] = ["192.168.0.3"]
    red["status"]["interfaces"][0]["ipAddress"] = "192.168.0.3"
    return red


def test_returns_when_the_last_vmi_becomes_ready(monkeypatch, capsys, clock):
    api = FakeApi(clock, {"VirtualMachineInstance": [load("vmi_ready.yml"), load("vmi_agent_not_connected.yml")]},
                  {"VirtualMachineInstance": ["expire", {"type": "MODIFIED", "object": ready_red()}]})
    out = run(monkeypatch, api, {"name": ["red-namespace/red", "blue-namespace/blue"], "interface": "happy"}, capsys=capsys)
    assert out.get("failed") is not True, out
    assert out["changed"] is False
    assert [v["name"] for v in out["vmis"]] == ["blue", "red"]
    assert all(v["ready"] for v in out["vmis"])
    blue, red = out["vmis"]
    assert blue["ready_seconds"] == 0.0
    assert red["ready_seconds"] == 55.0  # after one expired watch (55 s) the event arrived
    assert red["interfaces"]["happy"]["ips"] == ["192.168.0.3"]
    assert out["watch"]["reconnects"] == 1
    # two namespaces → one cluster-wide watch, filtered client-side
    assert api.watch_args == [("VirtualMachineInstance", None, None, None)]


def test_timeout_explains_each_missing_signal_and_the_launcher_pod(monkeypatch, capsys, clock):
    vmi = load("vmi_scheduling.yml")
    api = FakeApi(clock, {
        "VirtualMachineInstance": [vmi],
        "Pod": [load("launcher_pod_pending.yml")],
        "Event": [{"involvedObject": {"name": "red"}, "type": "Warning", "reason": "FailedScheduling",
                   "message": "0/3 nodes are available", "lastTimestamp": "2026-11-27T05:00:00Z"}],
    })
    out = run(monkeypatch, api, {"name": ["red"], "namespace": ["red-namespace"], "timeout": 120}, capsys=capsys)
    assert out["failed"] is True
    msg = out["msg"]
    assert msg.startswith("timed out after 120 s waiting for 1 of 1 VMIs: red-namespace/red: phase is Scheduling, not Running")
    assert "condition AgentConnected=absent" in msg
    assert ("virt-launcher virt-launcher-red-abcde Pending: PodScheduled=False (Unschedulable: 0/3 nodes are available: "
            "3 Insufficient devices.kubevirt.io/kvm.)") in msg
    assert "Warning FailedScheduling" in msg
    assert out["not_ready"][0]["launcher_pods"][0]["phase"] == "Pending"
    # one namespace and one name → a namespaced watch on that name
    assert api.watch_args == [("VirtualMachineInstance", "red-namespace", None, "metadata.name=red")]


def test_missing_vmi_reports_the_vm_status(monkeypatch, capsys, clock):
    vm = {"metadata": {"name": "red", "namespace": "red-namespace"},
          "status": {"printableStatus": "ErrorUnschedulable",
                     "conditions": [{"type": "Ready", "status": "False", "reason": "ErrorUnschedulable"}]}}
    api = FakeApi(clock, {"VirtualMachine": [vm]})
    out = run(monkeypatch, api, {"name": ["red-namespace/red"], "timeout": 10}, capsys=capsys)
    assert "red-namespace/red: VMI not found; VirtualMachine printableStatus ErrorUnschedulable; Ready=False (ErrorUnschedulable)" in out["msg"]


def test_ip_family_dual_waits_for_ipv6(monkeypatch, capsys, clock):
    api = FakeApi(clock, {"VirtualMachineInstance": [load("vmi_ready.yml")]},
                  {"VirtualMachineInstance": [{"type": "MODIFIED", "object": load("vmi_dual_stack.yml")}]})
    out = run(monkeypatch, api, {"name": ["blue-namespace/blue"], "interface": "happy", "ip_family": "dual"}, capsys=capsys)
    assert out["vmis"][0]["ready"] and out["vmis"][0]["interfaces"]["happy"]["ips"] == ["192.168.0.4", "fd10:192:168::4"]


def test_label_selector_without_match_fails_clearly(monkeypatch, capsys, clock):
    api = FakeApi(clock, {"VirtualMachineInstance": [load("vmi_ready.yml")]})
    out = run(monkeypatch, api, {"namespace": ["blue-namespace"], "label_selectors": ["app=none"], "timeout": 30}, capsys=capsys)
    assert out["msg"] == "timed out after 30 s: no VMI matches label selector 'app=none' in blue-namespace"


def test_label_selector_match_and_check_mode(monkeypatch, capsys, clock):
    api = FakeApi(clock, {"VirtualMachineInstance": [load("vmi_ready.yml")]})
    out = run(monkeypatch, api, {"label_selectors": ["kubevirt.io/vm=blue"], "require_migratable": True},
              check_mode=True, capsys=capsys)
    assert out["changed"] is False and out["vmis"][0]["name"] == "blue"


@pytest.mark.parametrize("args,msg", [
    ({}, "name or label_selectors is required"),
    ({"name": ["red"]}, "name 'red' has no namespace: give exactly one namespace, or write it as NAMESPACE/red"),
    ({"name": ["red"], "namespace": ["a", "b"]}, "name 'red' has no namespace"),
    ({"name": ["a/b/c"]}, "name 'a/b/c' must be NAME or NAMESPACE/NAME"),
    ({"name": ["a/b"], "timeout": 0}, "timeout must be a positive number of seconds, got 0"),
])
def test_bad_input(monkeypatch, capsys, clock, args, msg):
    out = run(monkeypatch, FakeApi(clock, {}), args, capsys=capsys)
    assert out["failed"] and out["msg"].startswith(msg)


def test_fatal_api_error_is_one_line(monkeypatch, capsys, clock):
    out = run(monkeypatch, FakeApi(clock, {}).refuse_lists(), {"name": ["a/b"]}, capsys=capsys)
    assert out["msg"] == "cannot wait for VMIs: HTTP 403 Forbidden"
