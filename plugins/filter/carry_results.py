# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: carry_results
short_description: Merge this run's claim results with the earlier ones it could not prove again, marked as such
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - Once the workshop's NetworkPolicies exist, the claims that hold only before them cannot be proven again. The
    report still lists them, from the run that proved them, and says so.
  - "Each result of this run gets C(proven_at) (this run's time) and C(carried: false)."
  - An earlier result of a probe this run did not run, whose phase is one of O(phases), is kept with its status,
    C(carried) true and C(proven_at) the time of the run that proved it. A carried result that was not correct
    still counts as failed.
  - Results come back in the declared probe order (ids of a dual-stack lab match by the part before C(/)).
positional: current, order, now
options:
  _input:
    description: The earlier results document (C(results), C(run_at)), or an empty value when there is none.
    type: raw
    required: true
  current:
    description: The results of this run (as M(ovnk.udn_lab.connectivity_matrix) returns them).
    type: list
    elements: dict
    required: true
  order:
    description: The declared probe ids, in order.
    type: list
    elements: str
    required: true
  now:
    description: This run's time (ISO 8601).
    type: str
    required: true
  phases:
    description: Phases whose earlier results are carried.
    type: list
    elements: str
    default: [before_policy]
"""

EXAMPLES = r"""
- name: Keep the before-policy claims proven by an earlier run, marked as carried
  ansible.builtin.set_fact:
    results: >-
      {{ previous_doc | ovnk.udn_lab.carry_results(matrix.results, probes | map(attribute='id') | list,
         now(utc=true).isoformat()) }}
"""

RETURN = r"""
_value:
  description: The merged results, each with C(proven_at) and C(carried).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.ovnk.udn_lab.plugins.module_utils.probes import carry_over


def carry_results(previous, current, order, now, phases=None):
    if previous and not isinstance(previous, dict):
        raise AnsibleFilterError("carry_results: the earlier results must be a dict with 'results', got %s"
                                 % type(previous).__name__)
    return carry_over(previous or None, current, order, now, tuple(phases or ("before_policy",)))


class FilterModule(object):
    def filters(self):
        return {"carry_results": carry_results}
