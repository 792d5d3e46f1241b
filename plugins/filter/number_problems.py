# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: number_problems
short_description: Timeouts, retries and delays that are not whole numbers at least a minimum
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - Checks each variable of a mapping is a whole number of at least O(minimum) (a timeout of 0 or -1 seconds
    would make a wait fail at once, or never end).
  - Returns one message per variable that is not, naming it; empty when all are fine.
positional: minimum
options:
  _input:
    description: "A mapping of variable names to their values."
    type: dict
    required: true
  minimum:
    description: The smallest value allowed.
    type: int
    default: 1
"""

EXAMPLES = r"""
- name: Refuse timeouts that are not positive
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join(' | ') }}"
  vars:
    __problems: "{{ {'kind_cluster_api_timeout': kind_cluster_api_timeout} | ovnk.udn_lab.number_problems }}"
"""

RETURN = r"""
_value:
  description: One message per variable that is not a whole number >= O(minimum).
  type: list
  elements: str
"""

from ansible_collections.ovnk.udn_lab.plugins.module_utils import validation


def number_problems(values, minimum=1):
    """Filter entry point: see DOCUMENTATION."""
    return validation.number_problems(values or {}, int(minimum))


class FilterModule(object):
    """ovnk.udn_lab whole-number check."""

    def filters(self):
        return {"number_problems": number_problems}
