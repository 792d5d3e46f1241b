# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: ownership
short_description: The lab's ownership label selector, refused when it could match what the lab never made
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - Builds the label selector teardown and the workshops select their own objects by, from the ownership labels.
  - Refuses (one error naming O(variable) and the fix) labels that are not a mapping, lack
    C(app.kubernetes.io/managed-by) or C(udn-lab.ovnk.io/lab) or leave one empty, mark another owner than
    C(ovnk.udn_lab), name another lab than O(cluster_name), or that Kubernetes would refuse. An empty or partial
    selector would match objects the lab never made.
positional: cluster_name
options:
  _input:
    description: The ownership labels (usually C(udn_lab_labels) or a role's C(<role>_labels)).
    type: raw
    required: true
  cluster_name:
    description: The lab's cluster name (C(udn_lab_cluster_name)); the lab label must equal it.
    type: str
    required: true
  variable:
    description: The variable the user sets, named in the error.
    type: str
    default: udn_lab_labels
"""

EXAMPLES = r"""
- name: Build the selector teardown deletes by (fails before anything changes when it is unsafe)
  ansible.builtin.set_fact:
    __owned: "{{ udn_lab_labels | ovnk.udn_lab.ownership(udn_lab_cluster_name) }}"
"""

RETURN = r"""
_value:
  description: C(labels), C(selector) (C(k=v,k2=v2)) and C(selectors) (the same as a list, for label_selectors).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.ovnk.udn_lab.plugins.module_utils.ownership import OwnershipError
from ansible_collections.ovnk.udn_lab.plugins.module_utils.ownership import ownership as _ownership


def ownership(labels, cluster_name, variable="udn_lab_labels"):
    """Filter entry point: see DOCUMENTATION."""
    try:
        return _ownership(labels, cluster_name, variable=variable)
    except OwnershipError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    """ovnk.udn_lab ownership filter."""

    def filters(self):
        return {"ownership": ownership}
