"""rollout_wait through its main(): a fake API (list + scripted watch events + fake clock) stands in for the cluster."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.ovnk.udn_lab.plugins.modules import rollout_wait

from fake_api import FakeApi, patch_clock, run_main


def kubevirt(status, reason="", message="", rv="10"):
    return {"apiVersion": "kubevirt.io/v1", "kind": "KubeVirt",
            "metadata": {"name": "kubevirt", "namespace": "kubevirt", "resourceVersion": rv},
            "status": {"phase": "Deploying" if status != "True" else "Deployed",
                       "conditions": [{"type": "Available", "status": status, "reason": reason, "message": message}]}}


KV = {"api_version": "kubevirt.io/v1", "kind": "KubeVirt", "namespace": "kubevirt", "name": "kubevirt"}


@pytest.fixture
def clock(monkeypatch):
    return patch_clock(monkeypatch, rollout_wait)


def test_waits_for_kubevirt_available(monkeypatch, capsys, clock):
    api = FakeApi(clock, {"KubeVirt": [kubevirt("False", "DeploymentInProgress", "Deploying version v1.8.4")]},
                  {"KubeVirt": [{"type": "MODIFIED", "object": kubevirt("True", "AllComponentsReady", rv="11")}]})
    out = run_main(monkeypatch, rollout_wait, api, {"resources": [KV], "timeout": 30}, capsys, check_mode=True)
    assert not out.get("failed") and out["changed"] is False
    assert out["resources"] == [{"kind": "KubeVirt", "namespace": "kubevirt", "name": "kubevirt", "ready": True,
                                 "problem": "Available=True (AllComponentsReady)", "ready_seconds": 0.0}]
    assert api.watch_args == [("KubeVirt", "kubevirt", None, "metadata.name=kubevirt")]


def test_timeout_fails_with_the_reason_and_the_pending_line(monkeypatch, capsys, clock):
    api = FakeApi(clock, {"KubeVirt": [kubevirt("False", "DeploymentInProgress", "Deploying version v1.8.4")]})
    out = run_main(monkeypatch, rollout_wait, api, {"resources": [KV], "timeout": 20}, capsys)
    assert out["failed"] is True and out["timed_out"] is True
    assert out["pending"] == ("KubeVirt kubevirt/kubevirt: Available=False (DeploymentInProgress: Deploying "
                              "version v1.8.4)")
    assert out["msg"].startswith("timed out after 20 s waiting for KubeVirt kubevirt/kubevirt: ")


@pytest.mark.parametrize("args, words", [
    ({"resources": [dict(KV, label_selector="a=b")]}, "resources[0] sets name and label_selector: give one"),
    ({"resources": [KV], "timeout": 0}, "timeout must be a positive number of seconds, got 0"),
])
def test_bad_input_is_refused_before_the_cluster_is_contacted(monkeypatch, capsys, clock, args, words):
    api = FakeApi(clock, {})
    out = run_main(monkeypatch, rollout_wait, api, args, capsys)
    assert out["failed"] is True and words in out["msg"]
    assert api.calls == []
