# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import zones


def node(name, labels=None):
    return {"metadata": {"name": name, "labels": labels or {}}}


CP = "ovn-k-helm-control-plane"
W1 = "ovn-k-helm-worker"
W2 = "ovn-k-helm-worker2"


@pytest.mark.parametrize(
    "version, expected",
    [
        ("v1.3.0", True),
        ("1.3.0", True),
        ("v1.2.1", True),
        ("v1.3", True),
        ("v1.3.0-rc1", True),
        ("v1.3.1", False),
        ("v1.4.0", False),
        ("v2.0.0", False),
        ("master", False),
        ("release-1.3", False),
        ("", False),
        (None, False),
    ],
)
def test_zone_labels_required_gates_on_v1_3_0(version, expected):
    assert zones.zone_labels_required(version) is expected


def test_parse_version():
    assert zones.parse_version("v1.3.0") == (1, 3, 0)
    assert zones.parse_version("1.10") == (1, 10, 0)
    assert zones.parse_version("main") is None


def test_plan_labels_every_node_with_its_name():
    entries = zones.plan([node(W1), node(CP), node(W2)])
    assert [e["name"] for e in entries] == [CP, W1, W2]
    for entry in entries:
        assert entry["before"] is None
        assert entry["after"] == entry["name"]
        assert entry["changed"] is True
        assert entry["patch"] == {"metadata": {"labels": {zones.ZONE_LABEL: entry["name"]}}}


def test_plan_already_labelled_is_unchanged():
    entries = zones.plan([node(CP, {zones.ZONE_LABEL: CP, "other": "x"}), node(W1, {zones.ZONE_LABEL: W1})])
    assert [e["changed"] for e in entries] == [False, False]
    assert [e["patch"] for e in entries] == [None, None]
    assert zones.summarize(entries)["changed"] is False


def test_plan_mixed_reports_per_node_changes():
    entries = zones.plan([node(CP, {zones.ZONE_LABEL: CP}), node(W1, {zones.ZONE_LABEL: "wrong"}), node(W2)])
    summary = zones.summarize(entries)
    assert summary["changed"] is True
    assert summary["nodes"] == [
        {"name": CP, "before": CP, "after": CP, "changed": False},
        {"name": W1, "before": "wrong", "after": W1, "changed": True},
        {"name": W2, "before": None, "after": W2, "changed": True},
    ]
    assert summary["diff"] == {
        "before": {CP: CP, W1: "wrong", W2: None},
        "after": {CP: CP, W1: W1, W2: W2},
    }


def test_plan_selected_nodes_and_zone_overrides():
    entries = zones.plan([node(CP), node(W1), node(W2)], requested=[W2, W1], zones={W1: "zone-a"})
    assert [(e["name"], e["after"]) for e in entries] == [(W1, "zone-a"), (W2, W2)]


def test_plan_unknown_node_fails_naming_it():
    with pytest.raises(zones.ZoneError, match="no such node.*ghost"):
        zones.plan([node(CP)], requested=["ghost"])


def test_plan_zone_for_unselected_node_fails():
    with pytest.raises(zones.ZoneError, match="not selected: " + W1):
        zones.plan([node(CP), node(W1)], requested=[CP], zones={W1: "a"})


@pytest.mark.parametrize("bad", ["-a", "a" * 64, "a b", "zone/a", 5])
def test_plan_invalid_zone_value_fails(bad):
    with pytest.raises(zones.ZoneError, match="not a valid label value"):
        zones.plan([node(CP)], zones={CP: bad})


def test_plan_absent_removes_only_present_labels():
    entries = zones.plan([node(CP, {zones.ZONE_LABEL: CP}), node(W1)], state="absent")
    assert entries[0]["changed"] is True
    assert entries[0]["patch"] == {"metadata": {"labels": {zones.ZONE_LABEL: None}}}
    assert entries[1]["changed"] is False
    assert entries[1]["patch"] is None


def test_plan_custom_label_key():
    entries = zones.plan([node(CP, {zones.ZONE_LABEL: CP})], label="example.com/zone")
    assert entries[0]["before"] is None
    assert entries[0]["patch"] == {"metadata": {"labels": {"example.com/zone": CP}}}


def test_plan_rejects_unknown_state():
    with pytest.raises(zones.ZoneError, match="state"):
        zones.plan([node(CP)], state="latest")


def test_node_without_labels_key():
    entries = zones.plan([{"metadata": {"name": CP}}])
    assert entries[0]["before"] is None and entries[0]["changed"] is True
