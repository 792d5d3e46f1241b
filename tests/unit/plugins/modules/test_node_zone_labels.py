# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.ovnk.udn_lab.plugins.modules import node_zone_labels

LABEL = "k8s.ovn.org/zone-name"
CP = "kind-control-plane"
W1 = "kind-worker"


class FakeNodes:
    def __init__(self, nodes):
        self.nodes = nodes

    def to_dict(self):
        return {"kind": "NodeList", "items": self.nodes}


class FakeClient:
    """Just enough of kubernetes.core's K8SClient: resource(), get(), patch()."""

    def __init__(self, nodes, fail_patch=None):
        self.nodes = {n["metadata"]["name"]: n for n in nodes}
        self.patches = []
        self.fail_patch = fail_patch

    def resource(self, kind, api_version):
        assert (kind, api_version) == ("Node", "v1")
        return "nodes"

    def get(self, resource, **params):
        assert resource == "nodes"
        return FakeNodes(list(self.nodes.values()))

    def patch(self, resource, definition, name=None, content_type=None):
        assert content_type == "application/merge-patch+json"
        if name == self.fail_patch:
            raise RuntimeError("admission webhook denied the request")
        self.patches.append((name, definition))
        labels = self.nodes[name]["metadata"].setdefault("labels", {})
        for key, value in definition["metadata"]["labels"].items():
            if value is None:
                labels.pop(key, None)
            else:
                labels[key] = value


def node(name, labels=None):
    return {"metadata": {"name": name, "labels": dict(labels or {})}}


def run_module(client, monkeypatch, capsys, args=None, check=False, diff=False):
    monkeypatch.setattr(node_zone_labels, "get_api_client", lambda module: client)
    args = dict(args or {})
    if check:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            node_zone_labels.main()
    return json.loads(capsys.readouterr().out)


def test_labels_unlabelled_nodes(monkeypatch, capsys):
    client = FakeClient([node(CP), node(W1)])
    result = run_module(client, monkeypatch, capsys)
    assert result["changed"] is True
    assert result["changed_nodes"] == [CP, W1]
    assert client.patches == [
        (CP, {"metadata": {"labels": {LABEL: CP}}}),
        (W1, {"metadata": {"labels": {LABEL: W1}}}),
    ]
    assert client.nodes[W1]["metadata"]["labels"] == {LABEL: W1}


def test_second_run_is_unchanged(monkeypatch, capsys):
    client = FakeClient([node(CP), node(W1)])
    run_module(client, monkeypatch, capsys)
    client.patches = []
    result = run_module(client, monkeypatch, capsys)
    assert result["changed"] is False
    assert result["changed_nodes"] == []
    assert client.patches == []


def test_already_labelled_changed_false(monkeypatch, capsys):
    client = FakeClient([node(CP, {LABEL: CP, "keep": "me"})])
    result = run_module(client, monkeypatch, capsys)
    assert result["changed"] is False
    assert result["nodes"] == [{"name": CP, "before": CP, "after": CP, "changed": False}]
    assert client.patches == []


def test_check_mode_predicts_without_patching(monkeypatch, capsys):
    client = FakeClient([node(CP, {LABEL: CP}), node(W1)])
    result = run_module(client, monkeypatch, capsys, check=True)
    assert result["changed"] is True
    assert result["changed_nodes"] == [W1]
    assert client.patches == []
    assert LABEL not in client.nodes[W1]["metadata"]["labels"]


def test_diff_mode_reports_before_and_after(monkeypatch, capsys):
    client = FakeClient([node(CP, {LABEL: "old"}), node(W1)])
    result = run_module(client, monkeypatch, capsys, check=True, diff=True)
    assert result["diff"] == {"before": {CP: "old", W1: None}, "after": {CP: CP, W1: W1}}


def test_no_diff_key_without_diff_mode(monkeypatch, capsys):
    result = run_module(FakeClient([node(CP)]), monkeypatch, capsys)
    assert "diff" not in result


def test_per_node_changes_with_selection_and_zones(monkeypatch, capsys):
    client = FakeClient([node(CP), node(W1, {LABEL: "zone-a"}), node("kind-worker2")])
    result = run_module(client, monkeypatch, capsys, args={"nodes": [W1, "kind-worker2"], "zones": {"kind-worker2": "zone-a", W1: "zone-a"}})
    assert result["nodes"] == [
        {"name": W1, "before": "zone-a", "after": "zone-a", "changed": False},
        {"name": "kind-worker2", "before": None, "after": "zone-a", "changed": True},
    ]
    assert [patch[0] for patch in client.patches] == ["kind-worker2"]


def test_state_absent_removes_label(monkeypatch, capsys):
    client = FakeClient([node(CP, {LABEL: CP, "keep": "me"}), node(W1)])
    result = run_module(client, monkeypatch, capsys, args={"state": "absent"})
    assert result["changed_nodes"] == [CP]
    assert client.nodes[CP]["metadata"]["labels"] == {"keep": "me"}


def test_unknown_node_fails_before_any_patch(monkeypatch, capsys):
    client = FakeClient([node(CP)])
    result = run_module(client, monkeypatch, capsys, args={"nodes": [CP, "ghost"]})
    assert result["failed"] is True
    assert "ghost" in result["msg"]
    assert client.patches == []


def test_patch_failure_names_the_node(monkeypatch, capsys):
    client = FakeClient([node(CP), node(W1)], fail_patch=W1)
    result = run_module(client, monkeypatch, capsys)
    assert result["failed"] is True
    assert "Could not label node %s" % W1 in result["msg"]
    assert "already labelled in this run: %s" % CP in result["msg"]


def test_documentation_options_match_argument_spec():
    import yaml

    doc = yaml.safe_load(node_zone_labels.DOCUMENTATION)
    assert isinstance(yaml.safe_load(node_zone_labels.EXAMPLES), list)
    assert set(yaml.safe_load(node_zone_labels.RETURN)) == {"required", "nodes", "changed_nodes"}
    own = {"nodes", "zones", "label", "state", "ovn_kubernetes_version"}
    assert own == set(doc["options"])
    spec = node_zone_labels.argument_spec()
    for name in own:
        assert doc["options"][name]["type"] == spec[name]["type"]
        assert doc["options"][name].get("default") == spec[name].get("default")
        assert doc["options"][name].get("choices") == spec[name].get("choices")


def test_version_gate_v1_3_0_labels(monkeypatch, capsys):
    client = FakeClient([node(CP)])
    result = run_module(client, monkeypatch, capsys, args={"ovn_kubernetes_version": "v1.3.0"})
    assert result["required"] is True
    assert result["changed_nodes"] == [CP]


@pytest.mark.parametrize("version", ["v1.4.0", "master"])
def test_version_gate_newer_does_nothing(monkeypatch, capsys, version):
    def no_client(module):
        raise AssertionError("the cluster must not be contacted")

    monkeypatch.setattr(node_zone_labels, "get_api_client", no_client)
    with patch_module_args({"ovn_kubernetes_version": version}):
        with pytest.raises(SystemExit):
            node_zone_labels.main()
    result = json.loads(capsys.readouterr().out)
    assert result["required"] is False
    assert result["changed"] is False
    assert result["nodes"] == []
