"""participant_access through its main(): present (check mode, then for real, then again), a refusal to take over,
absent; the token is never in the result."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat

import yaml

from ansible_collections.ovnk.udn_lab.plugins.module_utils import classroom
from ansible_collections.ovnk.udn_lab.plugins.modules import participant_access

from fake_api import FakeApi, run_main

LABELS = {"app.kubernetes.io/managed-by": "ovnk.udn_lab", "udn-lab.ovnk.io/lab": "class"}
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOiA0MTAyNDQ0ODAwfQ.c2VjcmV0LXNpZ25hdHVyZQ"  # exp: 2100-01-01


def token_answer(method, path, body, query):
    return 201, dict(body, status={"token": TOKEN, "expirationTimestamp": "2100-01-01T00:00:00Z"})


def args(tmp_path, **extra):
    out = {"participant": "ada", "namespaces": ["ada-blue", "ada-red"], "cluster_networks": ["ada-enterprise"],
           "labels": LABELS, "dest": str(tmp_path / "ada.kubeconfig")}
    out.update(extra)
    return out


def test_present_predicts_then_gives_then_keeps(monkeypatch, capsys, tmp_path):
    api = FakeApi(answer=token_answer)
    predicted = run_main(monkeypatch, participant_access, api, args(tmp_path), capsys, check_mode=True)
    assert not predicted.get("failed") and predicted["changed"] is True and predicted["token_renewed"] is True
    assert not api.writes and not (tmp_path / "ada.kubeconfig").exists()
    assert not [c for c in api.calls if c[0] == "request"]
    done = run_main(monkeypatch, participant_access, api, args(tmp_path), capsys)
    assert not done.get("failed") and done["changed"] is True and done["objects"] == predicted["objects"]
    assert done["kubeconfig"] == str(tmp_path / "ada.kubeconfig") and done["expires"] == "2100-01-01T00:00:00Z"
    assert TOKEN not in json.dumps(done) and TOKEN.split(".")[2] not in json.dumps(done)
    path = tmp_path / "ada.kubeconfig"
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert yaml.safe_load(path.read_text())["users"][0]["user"]["token"] == TOKEN
    again = run_main(monkeypatch, participant_access, api, args(tmp_path), capsys)
    assert again["changed"] is False and again["objects"] == [] and again["token_renewed"] is False
    assert run_main(monkeypatch, participant_access, api, args(tmp_path), capsys, check_mode=True)["changed"] is False


def test_an_object_without_the_labs_labels_fails_the_module_naming_it(monkeypatch, capsys, tmp_path):
    api = FakeApi(objects=[{"apiVersion": "v1", "kind": "ServiceAccount",
                            "metadata": {"name": "ada", "namespace": "ada-blue"}}], answer=token_answer)
    out = run_main(monkeypatch, participant_access, api, args(tmp_path), capsys)
    assert out["failed"] and "ServiceAccount ada-blue/ada exists without the lab's ownership labels" in out["msg"]
    assert out["changed"] is False and not api.writes and not (tmp_path / "ada.kubeconfig").exists()


def test_absent_removes_the_participants_objects_and_file_and_keeps_the_shared_role(monkeypatch, capsys, tmp_path):
    api = FakeApi(answer=token_answer)
    run_main(monkeypatch, participant_access, api, args(tmp_path), capsys)
    gone = dict(args(tmp_path), state="absent")
    del gone["namespaces"]
    predicted = run_main(monkeypatch, participant_access, api, gone, capsys, check_mode=True)
    assert predicted["changed"] is True and (tmp_path / "ada.kubeconfig").exists()
    out = run_main(monkeypatch, participant_access, api, gone, capsys)
    assert out["changed"] is True and out["objects"] == predicted["objects"] and len(out["objects"]) == 6
    assert not (tmp_path / "ada.kubeconfig").exists()
    left = [(k, o["metadata"]["name"]) for k, items in api.objects.items() for o in items]
    assert left == [("ClusterRole", classroom.PARTICIPANT_CLUSTER_ROLE)]
    assert run_main(monkeypatch, participant_access, api, gone, capsys)["changed"] is False
    out = run_main(monkeypatch, participant_access, api, dict(gone, remove_shared=True), capsys)
    assert out["changed"] is True and not [o for items in api.objects.values() for o in items]


def test_present_without_namespaces_fails(monkeypatch, capsys, tmp_path):
    out = run_main(monkeypatch, participant_access, FakeApi(), args(tmp_path, namespaces=[]), capsys)
    assert out["failed"] and "at least one namespace" in out["msg"]
