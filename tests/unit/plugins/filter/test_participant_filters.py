"""The classroom filters wrap module_utils.classroom and turn its errors into AnsibleFilterError."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ovnk.udn_lab.plugins.filter.participant_copy import FilterModule as CopyFilters
from ansible_collections.ovnk.udn_lab.plugins.filter.participant_names import FilterModule as NameFilters

SPEC = {
    "namespaces": [{"name": "blue", "primary_udn": True}],
    "networks": [{"kind": "UserDefinedNetwork", "name": "blue-network", "namespace": "blue", "topology": "Layer2"}],
    "services": [{"name": "service-blue", "namespace": "blue", "type": "NodePort",
                  "ports": [{"name": "web", "port": 80, "target_port": 8080}]}],
}


def test_without_a_participant_the_spec_is_the_single_user_lab():
    copy = CopyFilters().filters()["participant_copy"]
    assert copy(SPEC, "pods", "") is SPEC


def test_a_participant_gets_prefixed_labelled_namespaces():
    copy = CopyFilters().filters()["participant_copy"]
    out = copy(SPEC, "pods", "p1")
    assert [n["name"] for n in out["namespaces"]] == ["p1-blue"]
    assert out["namespaces"][0]["labels"] == {"udn-lab.ovnk.io/participant": "p1"}
    assert out["networks"][0]["namespace"] == "p1-blue"
    assert SPEC["namespaces"][0]["name"] == "blue"  # the input is not changed


def test_a_fixed_node_port_is_refused_naming_the_variable():
    copy = CopyFilters().filters()["participant_copy"]
    spec = {"services": [dict(SPEC["services"][0], ports=[{"name": "web", "port": 80, "node_port": 30080}])]}
    with pytest.raises(AnsibleFilterError, match=r"pod_workshop_services: blue/service-blue fix a nodePort.*leave node_port out"):
        copy(spec, "pods", "p1")


def test_a_bad_participant_or_workshop_is_refused():
    copy = CopyFilters().filters()["participant_copy"]
    with pytest.raises(AnsibleFilterError, match="udn_lab_participants"):
        copy(SPEC, "pods", "P_1")
    with pytest.raises(AnsibleFilterError, match="pods or vms"):
        copy(SPEC, "nodes", "p1")


def test_participant_names_from_a_count_or_a_list():
    names = NameFilters().filters()["participant_names"]
    assert names(3) == ["p1", "p2", "p3"]
    assert names(None) == []
    assert names(["ana", "bo"], ["red-namespace"]) == ["ana", "bo"]
    with pytest.raises(AnsibleFilterError, match="named more than once: ana"):
        names(["ana", "ana"])
