# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: junit_xml
short_description: A JUnit XML file of claim results
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - Turns claim results (those of M(ovnk.udn_lab.connectivity_matrix) and of the filter
    P(ovnk.udn_lab.pod_inspection#filter)) into a JUnit XML document with one test suite, one test case per claim.
  - A wrong claim is a C(failure), a claim without an answer an C(error), a claim that cannot apply C(skipped).
  - The same writer (C(module_utils/junit.py)) writes the module's C(junit_xml) result and the lab report's
    C(junit.xml).
positional: suite
options:
  _input:
    description: The claim results.
    type: list
    elements: dict
    required: true
  suite:
    description: Name of the test suite (and of the document).
    type: str
    default: connectivity_matrix
"""

EXAMPLES = r"""
- name: Write the pod workshop's JUnit file
  ansible.builtin.copy:
    content: "{{ results | ovnk.udn_lab.junit_xml('pod-workshop') }}"
    dest: /tmp/pods-junit.xml
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The JUnit XML document, with its XML declaration.
  type: str
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.ovnk.udn_lab.plugins.module_utils.probes import junit_xml as probes_junit_xml


def junit_xml(results, suite="connectivity_matrix"):
    """Filter entry point: see DOCUMENTATION."""
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise AnsibleFilterError("junit_xml: the input must be a list of claim results (dicts)")
    return probes_junit_xml(results, suite_name=str(suite), declaration=True)


class FilterModule(object):
    """ovnk.udn_lab JUnit filter."""

    def filters(self):
        return {"junit_xml": junit_xml}
