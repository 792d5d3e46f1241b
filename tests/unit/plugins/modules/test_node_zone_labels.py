# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.ovnk.udn_lab.plugins.modules import node_zone_labels

from fake_api import Clock, FakeApi, run_main

LABEL = "k8s.ovn.org/zone-name"
CP = "kind-control-plane"
W1 = "kind-worker"


class Nodes(FakeApi):
    """The one fake API, with the nodes; ``fail_patch`` names a node whose patch the API server refuses."""

    def __init__(self, nodes, fail_patch=None):
        super(Nodes, self).__init__(Clock(), {"Node": nodes})
        self.fail_patch = fail_patch

    @property
    def nodes(self):
        return dict((n["metadata"]["name"], n) for n in self.objects["Node"])

    @property
    def patches(self):
        return [(c[3], c[6]) for c in self.calls if c[0] == "patch"]

    def patch(self, api_version, kind, name, body, namespace=None, content_type="application/merge-patch+json"):
        assert (api_version, kind, content_type) == ("v1", "Node", "application/merge-patch+json")
        if name == self.fail_patch:
            raise RuntimeError("admission webhook denied the request")
        return super(Nodes, self).patch(api_version, kind, name, body, namespace, content_type)


def node(name, labels=None):
    return {"metadata": {"name": name, "labels": dict(labels or {})}}


def run_module(client, monkeypatch, capsys, args=None, check=False, diff=False):
    args = dict(args or {})
    if diff:
        args["_ansible_diff"] = True
    return run_main(monkeypatch, node_zone_labels, client, args, capsys, check_mode=check)


def test_labels_unlabelled_nodes(monkeypatch, capsys):
    client = Nodes([node(CP), node(W1)])
    result = run_module(client, monkeypatch, capsys)
    assert result["changed"] is True
    assert result["changed_nodes"] == [CP, W1]
    assert client.patches == [
        (CP, {"metadata": {"labels": {LABEL: CP}}}),
        (W1, {"metadata": {"labels": {LABEL: W1}}}),
    ]
    assert client.nodes[W1]["metadata"]["labels"] == {LABEL: W1}


def test_second_run_is_unchanged(monkeypatch, capsys):
    client = Nodes([node(CP), node(W1)])
    run_module(client, monkeypatch, capsys)
    client.calls = []
    result = run_module(client, monkeypatch, capsys)
    assert result["changed"] is False
    assert result["changed_nodes"] == []
    assert client.patches == []


def test_already_labelled_changed_false(monkeypatch, capsys):
    client = Nodes([node(CP, {LABEL: CP, "keep": "me"})])
    result = run_module(client, monkeypatch, capsys)
    assert result["changed"] is False
    assert result["nodes"] == [{"name": CP, "before": CP, "after": CP, "changed": False}]
    assert client.patches == []


def test_check_mode_predicts_without_patching(monkeypatch, capsys):
    client = Nodes([node(CP, {LABEL: CP}), node(W1)])
    result = run_module(client, monkeypatch, capsys, check=True)
    assert result["changed"] is True
    assert result["changed_nodes"] == [W1]
    assert client.patches == []
    assert LABEL not in client.nodes[W1]["metadata"]["labels"]


def test_diff_mode_reports_before_and_after(monkeypatch, capsys):
    client = Nodes([node(CP, {LABEL: "old"}), node(W1)])
    result = run_module(client, monkeypatch, capsys, check=True, diff=True)
    assert result["diff"] == {"before": {CP: "old", W1: None}, "after": {CP: CP, W1: W1}}


def test_no_diff_key_without_diff_mode(monkeypatch, capsys):
    result = run_module(Nodes([node(CP)]), monkeypatch, capsys)
    assert "diff" not in result


def test_per_node_changes_with_selection_and_zones(monkeypatch, capsys):
    client = Nodes([node(CP), node(W1, {LABEL: "zone-a"}), node("kind-worker2")])
    result = run_module(client, monkeypatch, capsys, args={"nodes": [W1, "kind-worker2"], "zones": {"kind-worker2": "zone-a", W1: "zone-a"}})
    assert result["nodes"] == [
        {"name": W1, "before": "zone-a", "after": "zone-a", "changed": False},
        {"name": "kind-worker2", "before": None, "after": "zone-a", "changed": True},
    ]
    assert [patch[0] for patch in client.patches] == ["kind-worker2"]


def test_state_absent_removes_label(monkeypatch, capsys):
    client = Nodes([node(CP, {LABEL: CP, "keep": "me"}), node(W1)])
    result = run_module(client, monkeypatch, capsys, args={"state": "absent"})
    assert result["changed_nodes"] == [CP]
    assert client.nodes[CP]["metadata"]["labels"] == {"keep": "me"}


def test_unknown_node_fails_before_any_patch(monkeypatch, capsys):
    client = Nodes([node(CP)])
    result = run_module(client, monkeypatch, capsys, args={"nodes": [CP, "ghost"]})
    assert result["failed"] is True
    assert "ghost" in result["msg"]
    assert client.patches == []


def test_patch_failure_names_the_node(monkeypatch, capsys):
    client = Nodes([node(CP), node(W1)], fail_patch=W1)
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
    client = Nodes([node(CP)])
    result = run_module(client, monkeypatch, capsys, args={"ovn_kubernetes_version": "v1.3.0"})
    assert result["required"] is True
    assert result["changed_nodes"] == [CP]


@pytest.mark.parametrize("version", ["v1.4.0", "master"])
def test_version_gate_newer_does_nothing(monkeypatch, capsys, version):
    client = Nodes([node(CP)])
    result = run_module(client, monkeypatch, capsys, args={"ovn_kubernetes_version": version})
    assert result["required"] is False
    assert result["changed"] is False
    assert result["nodes"] == []
    assert client.calls == []  # the cluster was not contacted
