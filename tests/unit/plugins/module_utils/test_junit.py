# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""Tests for module_utils/junit.py: the collection's one JUnit writer."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import junit


def cases():
    return [
        junit.case("s.a", "ok one", text="fine"),
        junit.case("s.a", "bad one", junit.FAILURE, "expected blocked, observed reachable", "details", kind="mismatch"),
        junit.case("s.b", "silent one", junit.ERROR, "no answer: " + "x" * 400, "more"),
        junit.case("s.b", "not here", junit.SKIPPED, "not applicable: IPv6"),
    ]


def test_a_suite_counts_its_cases_and_a_document_sums_its_suites():
    text = junit.document("lab", [("one", cases()), ("two", cases()[:2]), ("empty", [])])
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n') and text.endswith("\n")
    root = ET.fromstring(text.split("\n", 1)[1])
    assert [(s.get("name"), s.get("tests"), s.get("failures"), s.get("errors"), s.get("skipped"))
            for s in root.findall("testsuite")] == [("one", "4", "1", "1", "1"), ("two", "2", "1", "0", "0"),
                                                    ("empty", "0", "0", "0", "0")]
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("6", "2", "1", "1")


def test_each_outcome_is_written_as_junit_readers_expect():
    root = ET.fromstring(junit.document("lab", [("one", cases())], declaration=False))
    ok, bad, silent, skipped = root.findall("testsuite/testcase")
    assert (ok.get("classname"), ok.get("name")) == ("s.a", "ok one")
    assert [child.tag for child in ok] == ["system-out"] and ok.find("system-out").text == "fine"
    failure = bad.find("failure")
    assert (failure.get("type"), failure.get("message"), failure.text) == (
        "mismatch", "expected blocked, observed reachable", "details")
    error = silent.find("error")
    assert error.get("type") == "error" and len(error.get("message")) == junit.MESSAGE_LIMIT
    assert [child.tag for child in skipped] == ["skipped"]
    assert skipped.find("skipped").get("message") == "not applicable: IPv6"


def test_text_is_escaped():
    text = junit.document("lab", [("s", [junit.case("c", "a <b> & \"c\"", junit.FAILURE, "<x>", "1 < 2 & 3")])])
    case = ET.fromstring(text.split("\n", 1)[1]).find("testsuite/testcase")
    assert case.get("name") == "a <b> & \"c\"" and case.find("failure").text == "1 < 2 & 3"


def test_an_unknown_outcome_is_refused():
    with pytest.raises(ValueError, match="outcome must be one of"):
        junit.case("c", "n", "flaky")
