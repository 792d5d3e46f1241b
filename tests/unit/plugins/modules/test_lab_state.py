# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""lab_state through its main() against the one in-memory FakeApi (tests/unit/fake_api.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s
from ansible_collections.ovnk.udn_lab.plugins.module_utils.state import (
    MERGE_PATCH,
    STATE_CONFIGMAP,
    STATE_NAMESPACE,
    inputs_fingerprint,
)
from ansible_collections.ovnk.udn_lab.plugins.modules import lab_state

from fake_api import Clock, FakeApi, main_result, run_main

NAME = "multus-daemonset"
LABELS = {"app.kubernetes.io/managed-by": "ovnk.udn_lab"}
DS = {"api_version": "apps/v1", "kind": "DaemonSet", "namespace": "kube-system", "names": ["kube-multus-ds"]}
WRITTEN = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def daemonset(uid="uid-ds", ready=3):
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "kube-multus-ds", "namespace": "kube-system", "uid": uid, "generation": 1},
            "spec": {}, "status": {"observedGeneration": 1, "desiredNumberScheduled": 3, "numberReady": ready}}


def cluster(*daemonsets):
    return FakeApi(Clock(), {"DaemonSet": list(daemonsets) or [daemonset()], "ConfigMap": []})


def inputs(**values):
    return inputs_fingerprint(dict({"multus_version": "v4.2.2"}, **values))


@pytest.fixture
def kubeconfig(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text("apiVersion: v1\nkind: Config\n")
    return str(path)


@pytest.fixture
def boot_id(monkeypatch, tmp_path):
    path = tmp_path / "boot_id"
    path.write_text("6f1e7a3c-0000-4000-8000-000000000001\n")
    monkeypatch.setattr(lab_state, "BOOT_ID_PATH", str(path))
    return path


def run(monkeypatch, capsys, api, kubeconfig, check_mode=False, **args):
    args = dict({"name": NAME, "kubeconfig": kubeconfig}, **args)
    return run_main(monkeypatch, lab_state, api, args, capsys, check_mode)


def present(monkeypatch, capsys, api, kubeconfig, check_mode=False, **args):
    args = dict({"state": "present", "inputs": inputs(), "objects": [DS], "labels": LABELS}, **args)
    return run(monkeypatch, capsys, api, kubeconfig, check_mode, **args)


def query(monkeypatch, capsys, api, kubeconfig, **args):
    return run(monkeypatch, capsys, api, kubeconfig, **dict({"inputs": inputs()}, **args))


def configmaps(api):
    return [o for o in api.objects.get("ConfigMap", []) if o["metadata"]["name"] == STATE_CONFIGMAP]


def writes(api):
    return [c for c in api.calls if c[0] in ("patch", "delete")]


def test_present_then_query(monkeypatch, capsys, kubeconfig):
    api = cluster()
    out = present(monkeypatch, capsys, api, kubeconfig, facts={"multus_ready": True})
    assert out["changed"] is True and out["recorded"] is True and out["reasons"] == []
    [configmap] = configmaps(api)
    assert configmap["metadata"]["namespace"] == STATE_NAMESPACE
    assert configmap["metadata"]["labels"] == LABELS
    entry = json.loads(configmap["data"][NAME])
    assert entry["value"] == out["value"]
    assert entry["observed"] == {"DaemonSet kube-system/kube-multus-ds": "uid-ds gen=1"}
    assert WRITTEN.match(entry["written"])

    out = query(monkeypatch, capsys, api, kubeconfig)
    assert out["changed"] is False
    assert out["current"] is True and out["reasons"] == []
    assert out["facts"] == {"multus_ready": True}
    assert out["value"] == entry["value"]
    assert out["recorded"] == entry["written"]
    assert out["summary"] == "%s: unchanged since the complete run of %s, nothing to do" % (NAME, entry["written"])


def test_present_again_unchanged_writes_nothing(monkeypatch, capsys, kubeconfig):
    api = cluster()
    first = present(monkeypatch, capsys, api, kubeconfig)
    again = present(monkeypatch, capsys, api, kubeconfig)
    assert again["changed"] is False and again["recorded"] is True and again["value"] == first["value"]
    assert writes(api) == [] and len(configmaps(api)) == 1


def test_present_again_changed_patches_the_entry(monkeypatch, capsys, kubeconfig):
    api = cluster()
    first = present(monkeypatch, capsys, api, kubeconfig)
    api.objects["DaemonSet"] = [daemonset(uid="uid-ds-2")]
    second = present(monkeypatch, capsys, api, kubeconfig)
    assert second["changed"] is True and second["value"] != first["value"]
    [patch] = writes(api)
    assert patch[:6] == ("patch", "v1", "ConfigMap", STATE_CONFIGMAP, STATE_NAMESPACE, MERGE_PATCH)
    entry = json.loads(configmaps(api)[0]["data"][NAME])
    assert entry["value"] == second["value"]
    assert entry["observed"] == {"DaemonSet kube-system/kube-multus-ds": "uid-ds-2 gen=1"}


def test_query_after_the_object_was_replaced(monkeypatch, capsys, kubeconfig):
    api = cluster()
    present(monkeypatch, capsys, api, kubeconfig, facts={"multus_ready": True})
    api.objects["DaemonSet"] = [daemonset(uid="uid-ds-2")]
    out = query(monkeypatch, capsys, api, kubeconfig)
    assert out["current"] is False
    assert out["reasons"] == ["DaemonSet kube-system/kube-multus-ds was replaced"]
    assert out["facts"] == {} and out["value"] is None
    assert out["summary"] == "%s: runs in full (DaemonSet kube-system/kube-multus-ds was replaced)" % NAME


def test_query_with_changed_inputs(monkeypatch, capsys, kubeconfig):
    api = cluster()
    present(monkeypatch, capsys, api, kubeconfig)
    out = query(monkeypatch, capsys, api, kubeconfig, inputs=inputs(multus_version="v4.3.0"))
    assert (out["current"], out["reasons"]) == (False, ["inputs changed: multus_version"])


def test_query_of_an_entry_built_on_one_re_recorded(monkeypatch, capsys, kubeconfig):
    api = cluster()
    present(monkeypatch, capsys, api, kubeconfig, name="below")
    present(monkeypatch, capsys, api, kubeconfig, after=["below"])
    assert query(monkeypatch, capsys, api, kubeconfig, after=["below"])["current"] is True
    present(monkeypatch, capsys, api, kubeconfig, name="below", facts={"changed": "facts do not count"})
    assert query(monkeypatch, capsys, api, kubeconfig, after=["below"])["current"] is True
    api.objects["DaemonSet"] = [daemonset(uid="uid-ds-2")]
    present(monkeypatch, capsys, api, kubeconfig, name="below")
    out = query(monkeypatch, capsys, api, kubeconfig, after=["below"])
    assert out["current"] is False
    assert "below changed since (re-applied or re-created)" in out["reasons"]


def test_files_are_covered(monkeypatch, capsys, kubeconfig, tmp_path):
    tool = tmp_path / "kubectl"
    tool.write_bytes(b"v1")
    api = cluster()
    assert present(monkeypatch, capsys, api, kubeconfig, files=[str(tool)])["recorded"] is True
    assert query(monkeypatch, capsys, api, kubeconfig)["current"] is True
    tool.write_bytes(b"v2")
    out = query(monkeypatch, capsys, api, kubeconfig)
    assert out["current"] is False
    assert out["reasons"] == ["file %s changed" % tool]
    tool.unlink()
    out = query(monkeypatch, capsys, api, kubeconfig)
    assert out["reasons"] == ["file %s is gone" % tool, "%s does not exist" % tool]


def test_present_with_a_missing_file_records_nothing(monkeypatch, capsys, kubeconfig, tmp_path):
    api = cluster()
    missing = tmp_path / "missing"
    out = present(monkeypatch, capsys, api, kubeconfig, files=[str(missing)])
    assert out["changed"] is False and out["recorded"] is False and out["value"] is None
    assert out["reasons"] == ["%s does not exist" % missing]
    assert configmaps(api) == []


def test_boot_id_is_covered(monkeypatch, capsys, kubeconfig, boot_id):
    api = cluster()
    present(monkeypatch, capsys, api, kubeconfig, boot_id=True)
    entry = json.loads(configmaps(api)[0]["data"][NAME])
    assert entry["observed"]["host boot_id"] == "6f1e7a3c-0000-4000-8000-000000000001"
    assert query(monkeypatch, capsys, api, kubeconfig)["current"] is True
    boot_id.write_text("6f1e7a3c-0000-4000-8000-000000000002\n")
    out = query(monkeypatch, capsys, api, kubeconfig)
    assert (out["current"], out["reasons"]) == (False, ["host boot_id changed"])


def test_present_fails_when_the_boot_id_cannot_be_read(monkeypatch, capsys, kubeconfig, tmp_path):
    monkeypatch.setattr(lab_state, "BOOT_ID_PATH", str(tmp_path / "no-boot-id"))
    api = cluster()
    out = present(monkeypatch, capsys, api, kubeconfig, boot_id=True)
    assert out["failed"] is True
    assert out["msg"].startswith("lab_state: ")
    assert configmaps(api) == []


def test_definitions_are_covered(monkeypatch, capsys, kubeconfig):
    api = cluster()
    api.objects["Namespace"] = [{"apiVersion": "v1", "kind": "Namespace",
                                 "metadata": {"name": "blue", "uid": "uid-ns", "labels": {"a": "b"}}}]
    definition = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "blue", "labels": {"a": "b"}}}
    out = present(monkeypatch, capsys, api, kubeconfig, objects=[], definitions=[definition])
    assert out["recorded"] is True
    entry = json.loads(configmaps(api)[0]["data"][NAME])
    assert entry["objects"] == [{"api_version": "v1", "kind": "Namespace", "names": ["blue"]}]
    assert list(entry["observed"]) == ["Namespace blue"]
    api.objects["Namespace"][0]["metadata"]["labels"] = {"a": "c"}
    out = query(monkeypatch, capsys, api, kubeconfig)
    assert out["reasons"] == ["Namespace blue changed"]


def test_present_while_an_object_is_not_ready(monkeypatch, capsys, kubeconfig):
    api = cluster(daemonset(ready=1))
    out = present(monkeypatch, capsys, api, kubeconfig)
    assert out["changed"] is False and out["recorded"] is False and out["value"] is None
    assert out["reasons"] == ["DaemonSet kube-system/kube-multus-ds: 1 of 3 pods ready"]
    assert configmaps(api) == []
    out = present(monkeypatch, capsys, api, kubeconfig, check_mode=True)
    assert out["changed"] is True and out["recorded"] is False
    assert configmaps(api) == []


def test_present_in_check_mode_writes_nothing(monkeypatch, capsys, kubeconfig):
    api = cluster()
    out = present(monkeypatch, capsys, api, kubeconfig, check_mode=True)
    assert out["changed"] is True and out["recorded"] is True
    assert configmaps(api) == [] and api.created == [] and writes(api) == []
    present(monkeypatch, capsys, api, kubeconfig)
    api.objects["DaemonSet"] = [daemonset(uid="uid-ds-2")]
    before = json.loads(json.dumps(configmaps(api)))
    out = present(monkeypatch, capsys, api, kubeconfig, check_mode=True)
    assert out["changed"] is True
    assert configmaps(api) == before and writes(api) == []


def test_query_without_a_record(monkeypatch, capsys, kubeconfig):
    out = query(monkeypatch, capsys, cluster(), kubeconfig)
    assert out["changed"] is False and out["current"] is False
    assert out["reasons"] == ["no record of a completed run of %s" % NAME]
    assert out["recorded"] is None and out["facts"] == {}


def test_query_with_a_missing_kubeconfig_does_not_contact_the_api(monkeypatch, capsys, tmp_path):
    api = cluster()
    out = query(monkeypatch, capsys, api, str(tmp_path / "no-such-kubeconfig"))
    assert out["changed"] is False and out["current"] is False
    assert out["facts"] == {} and out["value"] is None and out["recorded"] is None
    [reason] = out["reasons"]
    assert reason == "the kubeconfig file does not exist (a new lab)"
    assert out["summary"] == "%s: runs in full (%s)" % (NAME, reason)
    assert api.calls == []  # not even a client


def test_query_when_the_api_fails(monkeypatch, capsys, kubeconfig):
    api = cluster()

    def refuse(*args, **kwargs):
        raise RuntimeError("connection refused")
    api.get = refuse
    out = query(monkeypatch, capsys, api, kubeconfig)
    assert "failed" not in out
    assert out["changed"] is False and out["current"] is False
    assert out["reasons"] == ["cannot read the lab state record: RuntimeError: connection refused"]
    assert out["summary"] == "%s: runs in full (cannot read the lab state record: RuntimeError: connection refused)" % NAME


def test_query_when_no_client_can_be_built(monkeypatch, capsys, kubeconfig):
    def no_client(module):
        raise ValueError("invalid kube-config file")
    monkeypatch.setattr(k8s, "client_from_module", no_client)
    out = main_result(lab_state, {"name": NAME, "kubeconfig": kubeconfig, "inputs": inputs()}, capsys)
    assert out["current"] is False
    assert out["reasons"] == ["cannot read the lab state record: ValueError: invalid kube-config file"]


def test_present_when_the_api_fails(monkeypatch, capsys, kubeconfig):
    api = cluster()

    def refuse(*args, **kwargs):
        raise RuntimeError("connection refused")
    api.get = refuse
    out = present(monkeypatch, capsys, api, kubeconfig)
    assert out["failed"] is True
    assert out["msg"] == "cannot write the lab state record %s: RuntimeError: connection refused" % NAME


def test_absent(monkeypatch, capsys, kubeconfig):
    api = cluster()
    present(monkeypatch, capsys, api, kubeconfig, name="other")
    present(monkeypatch, capsys, api, kubeconfig)
    del api.calls[:]
    out = run(monkeypatch, capsys, api, kubeconfig, state="absent", check_mode=True)
    assert out == {"changed": True, "forgotten": [NAME], "invocation": out["invocation"]}
    assert writes(api) == []
    out = run(monkeypatch, capsys, api, kubeconfig, state="absent")
    assert out["changed"] is True and out["forgotten"] == [NAME]
    assert [c[0] for c in writes(api)] == ["patch"]
    assert sorted(configmaps(api)[0]["data"]) == ["other"]
    out = run(monkeypatch, capsys, api, kubeconfig, state="absent")
    assert out["changed"] is False and out["forgotten"] == []
    out = run(monkeypatch, capsys, api, kubeconfig, state="absent", name="other")
    assert out["changed"] is True and out["forgotten"] == ["other"]
    assert writes(api)[-1] == ("delete", "v1", "ConfigMap", STATE_CONFIGMAP, STATE_NAMESPACE)
    assert configmaps(api) == []
    assert query(monkeypatch, capsys, api, kubeconfig)["current"] is False


@pytest.mark.parametrize("state", ["query", "present"])
@pytest.mark.parametrize("bad", [{"multus_version": "v4.2.2"}, {"digest": "abc", "parts": "not a dict"}])
def test_inputs_that_are_not_a_digest(monkeypatch, capsys, kubeconfig, state, bad):
    api = cluster()
    out = run(monkeypatch, capsys, api, kubeconfig, state=state, inputs=bad)
    assert out["failed"] is True
    assert "leave inputs out and the action plugin computes it" in out["msg"]
    assert api.calls == [] and configmaps(api) == []


@pytest.mark.parametrize("state", ["query", "present"])
def test_inputs_are_required(monkeypatch, capsys, kubeconfig, state):
    out = run(monkeypatch, capsys, cluster(), kubeconfig, state=state)
    assert out["failed"] is True
    assert "inputs" in out["msg"]


def test_each_lab_keeps_its_own_record(monkeypatch, capsys, kubeconfig, boot_id):
    """Two labs on one cluster: one ConfigMap each (ovnk-udn-lab-state-<lab>); one lab's entry and its removal
    leave the other lab's alone."""
    api = cluster()
    assert present(monkeypatch, capsys, api, kubeconfig, lab="lab-a")["recorded"] is True
    names = sorted(o["metadata"]["name"] for o in api.objects["ConfigMap"])
    assert names == ["ovnk-udn-lab-state-lab-a"]
    assert query(monkeypatch, capsys, api, kubeconfig, lab="lab-a")["current"] is True
    other = query(monkeypatch, capsys, api, kubeconfig, lab="lab-b")
    assert other["current"] is False and other["reasons"] == ["no record of a completed run of %s" % NAME]
    assert present(monkeypatch, capsys, api, kubeconfig, lab="lab-b")["recorded"] is True
    assert run(monkeypatch, capsys, api, kubeconfig, state="absent", lab="lab-b")["forgotten"] == [NAME]
    assert sorted(o["metadata"]["name"] for o in api.objects["ConfigMap"]) == ["ovnk-udn-lab-state-lab-a"]
    assert query(monkeypatch, capsys, api, kubeconfig, lab="lab-a")["current"] is True


@pytest.mark.parametrize("lab", ["Lab_A", "lab a", "a" * 240])
def test_a_lab_name_that_cannot_name_a_configmap_is_refused(monkeypatch, capsys, kubeconfig, lab):
    api = cluster()
    out = present(monkeypatch, capsys, api, kubeconfig, lab=lab)
    assert out["failed"] is True and "cannot name a ConfigMap" in out["msg"] and "lowercase" in out["msg"]
    assert api.objects["ConfigMap"] == []
