# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cluster_changes
short_description: What the lab changed on a cluster it did not build, from its state record
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - Reads the markers of the lab state ConfigMap (C(kube-system/ovnk-udn-lab-state-<lab>)) that record what the lab
    installed, upgraded or patched on an existing cluster, and returns one line per change, with what a cluster
    teardown restores. The lab report shows them.
options:
  _input:
    description: The state ConfigMap (as C(kubernetes.core.k8s_info) returns it), or null when there is none.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Say what the lab changed on this cluster
  ansible.builtin.debug:
    msg: "{{ (__record.resources | first | default(none)) | ovnk.udn_lab.cluster_changes }}"
"""

RETURN = r"""
_value:
  description: One line per change; empty when the lab changed nothing of the cluster.
  type: list
  elements: str
"""

from ansible_collections.ovnk.udn_lab.plugins.module_utils import preflight
from ansible_collections.ovnk.udn_lab.plugins.module_utils import state


def cluster_changes(configmap):
    """Filter entry point: see DOCUMENTATION."""
    return preflight.describe_changes(state.parse_entries(configmap))


class FilterModule(object):
    """ovnk.udn_lab cluster_changes filter."""

    def filters(self):
        return {"cluster_changes": cluster_changes}
