# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""The collection's one JUnit XML writer.

Every JUnit file the lab writes (the connectivity_matrix result, ``pods-junit.xml``, the report's ``junit.xml``) is
built here from plain test cases, so CI systems read one format:

* a case is ``{"classname", "name", "outcome", "message", "text"}``, ``outcome`` one of :data:`OUTCOMES`;
* a suite counts its cases (``tests``, ``failures``, ``errors``, ``skipped``) and a document sums its suites.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import xml.etree.ElementTree as ET

PASSED = "passed"
FAILURE = "failure"
ERROR = "error"
SKIPPED = "skipped"
OUTCOMES = (PASSED, FAILURE, ERROR, SKIPPED)
COUNTS = (("tests", None), ("failures", FAILURE), ("errors", ERROR), ("skipped", SKIPPED))
MESSAGE_LIMIT = 300
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def case(classname, name, outcome=PASSED, message="", text="", kind=None):
    """One test case. ``kind`` is the ``type`` attribute of a failure or error (default: the outcome)."""
    if outcome not in OUTCOMES:
        raise ValueError("outcome must be one of %s, got %r" % (", ".join(OUTCOMES), outcome))
    return {"classname": classname, "name": name, "outcome": outcome, "message": message or "", "text": text or "",
            "kind": kind or outcome}


def suite_element(name, cases):
    """``<testsuite>`` of ``cases`` with its counts; each case keeps its text in ``<system-out>``."""
    element = ET.Element("testsuite", name=name)
    for key, outcome in COUNTS:
        element.set(key, str(sum(1 for c in cases if outcome is None or c["outcome"] == outcome)))
    for item in cases:
        node = ET.SubElement(element, "testcase", classname=item["classname"], name=item["name"])
        message = item["message"][:MESSAGE_LIMIT]
        if item["outcome"] == SKIPPED:
            ET.SubElement(node, "skipped", message=message)
        elif item["outcome"] in (FAILURE, ERROR):
            ET.SubElement(node, item["outcome"], message=message, type=item["kind"]).text = item["text"]
        if item["text"]:
            ET.SubElement(node, "system-out").text = item["text"]
    return element


def document(name, suites, declaration=True):
    """A ``<testsuites>`` document of ``suites`` (``[(suite name, cases)]``) with the counts summed."""
    root = ET.Element("testsuites", name=name)
    for suite_name, cases in suites:
        root.append(suite_element(suite_name, cases))
    for key, _outcome in COUNTS:
        root.set(key, str(sum(int(s.get(key)) for s in root.findall("testsuite"))))
    text = ET.tostring(root, encoding="unicode")
    return DECLARATION + text + "\n" if declaration else text
