"""ownership_check through its main(): reads only, and refuses manifests that would take over another's object."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ovnk.udn_lab.plugins.modules import ownership_check

from fake_api import Clock, FakeApi, run_main

LABELS = {"app.kubernetes.io/managed-by": "ovnk.udn_lab", "udn-lab.ovnk.io/lab": "existing"}
CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "network-attachment-definitions.k8s.cni.cncf.io"}}
DS = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "kube-multus-ds", "namespace": "kube-system"}}


def test_nothing_there_yet_or_all_the_labs_passes(monkeypatch, capsys):
    api = FakeApi(Clock(), {"DaemonSet": [dict(DS, metadata=dict(DS["metadata"], labels=LABELS))]})
    out = run_main(monkeypatch, ownership_check, api, {"definitions": [CRD, DS, {}], "labels": LABELS}, capsys,
                   check_mode=True)
    assert not out.get("failed") and out["changed"] is False and out["checked"] == 2 and out["foreign"] == []
    assert all(call[0] in ("client", "get") for call in api.calls), api.calls


def test_someone_elses_crd_is_refused_naming_it_and_the_fix(monkeypatch, capsys):
    api = FakeApi(Clock(), {"CustomResourceDefinition": [dict(CRD, metadata=dict(CRD["metadata"], labels={"app": "x"}))]})
    out = run_main(monkeypatch, ownership_check, api, {"definitions": [CRD, DS], "labels": LABELS,
                                                       "fix": "drop multus from udn_lab_existing_install"}, capsys)
    assert out["failed"] is True and out["changed"] is False
    assert out["foreign"] == [{"object": "CustomResourceDefinition network-attachment-definitions.k8s.cni.cncf.io",
                               "labels": {}}]
    assert out["msg"] == ("1 object(s) exist that this lab did not make (they lack its labels "
                          "app.kubernetes.io/managed-by=ovnk.udn_lab, udn-lab.ovnk.io/lab=existing): "
                          "CustomResourceDefinition network-attachment-definitions.k8s.cni.cncf.io. The lab never takes "
                          "over an object it does not own (nothing was applied). Fix: drop multus from "
                          "udn_lab_existing_install.")


def test_manifests_are_read_from_files_on_the_target(monkeypatch, capsys, tmp_path):
    import yaml

    path = tmp_path / "multus.yml"
    path.write_text(yaml.safe_dump_all([CRD, None, DS]))
    api = FakeApi(Clock(), {"DaemonSet": [DS]})
    out = run_main(monkeypatch, ownership_check, api, {"src": [str(path)], "labels": LABELS}, capsys)
    assert out["failed"] is True and out["checked"] == 2
    assert [f["object"] for f in out["foreign"]] == ["DaemonSet kube-system/kube-multus-ds"]
    out = run_main(monkeypatch, ownership_check, api, {"src": [str(tmp_path / "missing.yml")], "labels": LABELS}, capsys)
    assert out["failed"] is True and out["msg"].startswith("cannot read the manifests in ")


def test_the_labs_namespace_made_without_the_primary_udn_label_is_refused(monkeypatch, capsys):
    primary = "k8s.ovn.org/primary-user-defined-network"
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "blue", "labels": dict(LABELS, **{primary: ""})}}
    api = FakeApi(Clock(), {"Namespace": [{"apiVersion": "v1", "kind": "Namespace",
                                           "metadata": {"name": "blue", "labels": dict(LABELS)}}]})
    args = {"definitions": [ns], "labels": LABELS, "creation_only_labels": [primary], "fix": "choose another name"}
    out = run_main(monkeypatch, ownership_check, api, args, capsys)
    assert out["failed"] is True and out["foreign"] == []
    assert out["missing_creation_labels"] == [{"object": "Namespace blue", "missing": [primary]}]
    assert out["msg"] == ("1 object(s) of this lab exist without a label that only counts when set at creation: "
                          "Namespace blue (no k8s.ovn.org/primary-user-defined-network). Applying would add it to no "
                          "effect (nothing was applied). Fix: choose another name.")
    # someone else's namespace is refused as foreign, once
    api = FakeApi(Clock(), {"Namespace": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "blue"}}]})
    out = run_main(monkeypatch, ownership_check, api, args, capsys)
    assert [f["object"] for f in out["foreign"]] == ["Namespace blue"] and out["missing_creation_labels"] == []
