# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Unit tests for plugins/module_utils/ownership.py: the one selector teardown deletes by."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import ownership

OURS = {"app.kubernetes.io/managed-by": "ovnk.udn_lab", "udn-lab.ovnk.io/lab": "lab-7"}


def test_both_labels_make_one_sorted_selector():
    got = ownership.ownership(dict(OURS, team="blue"), "lab-7")
    assert got["selector"] == "app.kubernetes.io/managed-by=ovnk.udn_lab,team=blue,udn-lab.ovnk.io/lab=lab-7"
    assert got["selectors"] == got["selector"].split(",")


@pytest.mark.parametrize("labels,message", [
    ({}, "lacks app.kubernetes.io/managed-by and udn-lab.ovnk.io/lab"),
    ({"udn-lab.ovnk.io/lab": "lab-7"}, "lacks app.kubernetes.io/managed-by:"),
    ({"app.kubernetes.io/managed-by": "ovnk.udn_lab"}, "lacks udn-lab.ovnk.io/lab:"),
    (dict(OURS, **{"udn-lab.ovnk.io/lab": ""}), "lacks udn-lab.ovnk.io/lab:"),
    (dict(OURS, **{"udn-lab.ovnk.io/lab": None}), "lacks udn-lab.ovnk.io/lab:"),
    (dict(OURS, **{"udn-lab.ovnk.io/lab": "lab-8"}), "is 'lab-8', not this lab's cluster name 'lab-7'"),
    (dict(OURS, **{"app.kubernetes.io/managed-by": "helm"}), "is 'helm', but the collection marks what it makes"),
    (dict(OURS, **{"bad key!": "x"}), "label key 'bad key!' is not a valid Kubernetes label key"),
    (dict(OURS, team="-x"), "label team: value '-x' is not a valid Kubernetes label value"),
    (["not", "a", "mapping"], "must be a mapping of labels"),
])
def test_unsafe_or_invalid_labels_are_refused_naming_the_variable(labels, message):
    with pytest.raises(ownership.OwnershipError) as err:
        ownership.ownership(labels, "lab-7", variable="udn_lab_labels")
    assert message in str(err.value)
    assert str(err.value).startswith("udn_lab_labels")


def test_a_missing_cluster_name_is_refused():
    with pytest.raises(ownership.OwnershipError, match="not this lab's cluster name"):
        ownership.ownership(OURS, "")


def test_label_problems_accept_what_kubernetes_accepts():
    assert ownership.label_problems({"a.b/c_d-e.f": "A-z_0.9", "x": "", "k8s.ovn.org/zone-name": "n" * 63}) == []
    assert ownership.label_problems({"x": "n" * 64}) != []


def test_foreign_names_existing_objects_that_lack_a_lab_label():
    labels = {"app.kubernetes.io/managed-by": "ovnk.udn_lab", "udn-lab.ovnk.io/lab": "existing"}
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "network-attachment-definitions.k8s.cni.cncf.io"}}
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "kube-multus-ds", "namespace": "kube-system"}}
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "multus", "namespace": "kube-system"}}
    stored = [{"metadata": {"labels": {"app.kubernetes.io/managed-by": "ovnk.udn_lab"}}},   # half the lab's
              {"metadata": {"labels": dict(labels)}},                                       # the lab's
              None]                                                                          # not there yet
    assert ownership.foreign([crd, ds, sa], stored, labels) == [
        {"object": "CustomResourceDefinition network-attachment-definitions.k8s.cni.cncf.io",
         "labels": {"app.kubernetes.io/managed-by": "ovnk.udn_lab"}}]
    other = [{"metadata": {"labels": dict(labels, **{"udn-lab.ovnk.io/lab": "another"})}}]
    assert [f["object"] for f in ownership.foreign([ds], other, labels)] == ["DaemonSet kube-system/kube-multus-ds"]
    assert ownership.foreign([ds], [{"metadata": {}}], labels)[0]["labels"] == {}


def test_missing_creation_labels_names_the_labs_objects_made_without_them():
    primary = "k8s.ovn.org/primary-user-defined-network"
    blue = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "blue", "labels": {primary: "", "x": "y"}}}
    plain = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "plain", "labels": {"x": "y"}}}
    stored = [{"metadata": {"labels": {"x": "y"}}},   # made without the label its manifest sets
              {"metadata": {"labels": {"x": "y"}}}]   # its manifest does not ask for it
    assert ownership.missing_creation_labels([blue, plain], stored, [primary]) == [
        {"object": "Namespace blue", "missing": [primary]}]
    assert ownership.missing_creation_labels([blue], [{"metadata": {"labels": {primary: ""}}}], [primary]) == []
    assert ownership.missing_creation_labels([blue], [None], [primary]) == []  # not there yet: created with it
    assert ownership.missing_creation_labels([blue], stored[:1], []) == []
