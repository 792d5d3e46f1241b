"""cluster_changes: the lab state ConfigMap's markers as lines for the report."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.ovnk.udn_lab.plugins.filter.cluster_changes import FilterModule


def test_reads_the_configmap_markers_and_nothing_else():
    f = FilterModule().filters()["cluster_changes"]
    configmap = {"metadata": {"name": "ovnk-udn-lab-state-existing"},
                 "data": {"existing-install-multus": json.dumps({"facts": {}}), "pod-workshop": json.dumps({}),
                          "broken": "{not json"}}
    assert f(configmap) == ["installed multus; a cluster teardown removes it"]
    assert f(None) == []
