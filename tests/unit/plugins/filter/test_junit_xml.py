# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""Tests for the ovnk.udn_lab.junit_xml filter (the pod workshop's pods-junit.xml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import xml.etree.ElementTree as ET

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ovnk.udn_lab.plugins.filter.junit_xml import FilterModule, junit_xml
from ansible_collections.ovnk.udn_lab.plugins.module_utils import probes


def result(claim_id, status, observed, phase="always"):
    return {"id": claim_id, "claim": "claim " + claim_id, "from": "blue/app-blue-0", "to": "green/app-green-0",
            "phase": phase, "expected": probes.BLOCKED, "observed": observed, "status": status, "attempts": 3,
            "detail": "connect refused", "reproduce": "kubectl exec -n blue app-blue-0 -- agnhost connect x"}


def test_registered():
    assert FilterModule().filters() == {"junit_xml": junit_xml}


def test_one_case_per_claim_in_one_suite():
    results = [result("a", probes.STATUS_CORRECT, probes.BLOCKED),
               result("b", probes.STATUS_WRONG, probes.REACHABLE, phase="after_policy"),
               result("c", probes.STATUS_UNKNOWN, probes.UNKNOWN),
               result("d", probes.STATUS_SKIPPED, probes.NOT_APPLICABLE)]
    text = junit_xml(results, "pod-workshop")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(text.split("\n", 1)[1])
    suite = root.find("testsuite")
    assert (root.get("name"), suite.get("name")) == ("pod-workshop", "pod-workshop")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("4", "1", "1", "1")
    cases = suite.findall("testcase")
    assert cases[1].get("classname") == "pod-workshop.after_policy"
    assert cases[1].get("name") == "b: blue/app-blue-0 -> green/app-green-0"
    assert cases[1].find("failure").get("message") == "expected blocked, observed reachable"
    assert "reproduce: kubectl exec -n blue app-blue-0" in cases[1].find("failure").text
    assert cases[3].find("skipped").get("message") == "not applicable: connect refused"


def test_an_empty_run_is_an_empty_suite():
    root = ET.fromstring(junit_xml([], "pod-workshop").split("\n", 1)[1])
    assert root.find("testsuite").get("tests") == "0"


@pytest.mark.parametrize("bad", [None, "text", [1, 2]])
def test_not_results_is_refused(bad):
    with pytest.raises(AnsibleFilterError, match="list of claim results"):
        junit_xml(bad)
