"""Unit tests for plugins/module_utils/waits.py: the readiness bookkeeping shared by every wait, and k8s.exit_flow."""

from __future__ import annotations

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s, waits

from fake_api import Clock


class Flags(waits.ReadyTracker):
    """Ready when the object says so; a missing object is not ready."""

    def assess(self, key, obj):
        return (bool(obj and obj["ready"]), None if obj else "not found")


def test_first_ready_time_is_kept_while_ready_and_reset_when_it_drops():
    clock = Clock(10.0)
    tracker = Flags(["a", "b"], clock, started=10.0)
    clock.now = 11.5
    assert not tracker({"a": {"ready": True}})
    assert tracker.ready_at == {"a": 1.5}
    assert tracker.state["b"] == (False, "not found")
    clock.now = 12.0
    assert tracker({"a": {"ready": True}, "b": {"ready": True}})
    assert tracker.ready_at == {"a": 1.5, "b": 2.0}  # a keeps its first time
    clock.now = 13.0
    assert not tracker({"a": {"ready": False}, "b": {"ready": True}})
    assert "a" not in tracker.ready_at
    clock.now = 14.25
    assert tracker({"a": {"ready": True}, "b": {"ready": True}})
    assert tracker.ready_at["a"] == 4.25


def test_nothing_wanted_is_never_all_ready():
    assert not Flags([], Clock(0.0), 0.0)({"a": {"ready": True}})


def test_assess_must_be_given_by_the_wait():
    with pytest.raises(NotImplementedError):
        waits.ReadyTracker(["a"], Clock(0.0), 0.0)({})


class Module:
    def __init__(self):
        self.params = {}

    def exit_json(self, **kw):
        raise SystemExit(("exit", kw))

    def fail_json(self, **kw):
        raise SystemExit(("fail", kw))


def ended(flow, monkeypatch):
    monkeypatch.setattr(k8s, "client_from_module", lambda module: "client")
    monkeypatch.setattr(k8s, "KubeApi", lambda client: ("api", client))
    with pytest.raises(SystemExit) as end:
        k8s.exit_flow(Module(), flow, "wait for things")
    return end.value.args[0]


def test_exit_flow_returns_the_flows_result_unchanged_unless_it_says(monkeypatch):
    assert ended(lambda api: {"api": api, "n": 1}, monkeypatch) == ("exit", {"api": ("api", "client"), "n": 1,
                                                                             "changed": False})
    assert ended(lambda api: {"changed": True}, monkeypatch) == ("exit", {"changed": True})


def test_exit_flow_fails_with_the_flows_diagnostics(monkeypatch):
    def flow(api):
        raise waits.FlowError("timed out after 5 s: blue not ready", not_ready=["blue"])

    assert ended(flow, monkeypatch) == ("fail", {"msg": "timed out after 5 s: blue not ready", "not_ready": ["blue"],
                                                 "changed": False})


def test_exit_flow_reports_any_other_error_in_one_line(monkeypatch):
    def flow(api):
        raise ValueError("no kubeconfig")

    verb, result = ended(flow, monkeypatch)
    assert verb == "fail" and result["changed"] is False
    assert result["msg"].startswith("cannot wait for things: ") and "no kubeconfig" in result["msg"]
