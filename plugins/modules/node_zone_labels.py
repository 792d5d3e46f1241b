#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: node_zone_labels
short_description: Label Kubernetes nodes with their OVN-Kubernetes zone
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - Sets (or removes) the label C(k8s.ovn.org/zone-name) on nodes, the zone of each node in OVN-Kubernetes
    interconnect mode with one zone per node.
  - OVN-Kubernetes releases up to v1.3.0 expect the deployer to set C(k8s.ovn.org/zone-name=<node name>)
    before the chart is installed; later releases derive the zone from the node name. Gate the call on the
    deployed version.
  - Only nodes whose label differs are patched (JSON merge patch on C(metadata.labels)); nothing else on the
    node is touched.
  - Supports check mode (predicts whether anything changes, and RV(nodes), without patching) and diff mode (zone per node
    before and after).
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  nodes:
    description:
      - Names of the nodes to label.
      - When empty, every node of the cluster is labelled.
      - A name that is not a node of the cluster fails the module before any change.
    type: list
    elements: str
    default: []
  zones:
    description:
      - Zone per node name, for nodes whose zone is not their own name.
      - Every key must be a selected node (see O(nodes)); a node not listed gets its own name as zone.
      - Ignored when O(state=absent).
    type: dict
    default: {}
  label:
    description:
      - The label key holding the zone.
    type: str
    default: k8s.ovn.org/zone-name
  state:
    description:
      - V(present) sets the label to the zone of each selected node.
      - V(absent) removes the label from each selected node.
    type: str
    choices: [present, absent]
    default: present
  ovn_kubernetes_version:
    description:
      - The OVN-Kubernetes version deployed (chart tag such as V(v1.3.0), or a branch such as V(master)).
      - When set, the module only acts when that version expects zone labels from the deployer (released
        versions up to and including v1.3.0); for any other version it changes nothing and returns
        RV(required=false), without contacting the cluster.
      - When unset, the labels are managed unconditionally.
    type: str
requirements:
  - python >= 3.9
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: Label every node with its own name as OVN-Kubernetes zone (OVN-K <= v1.3.0)
  ovnk.udn_lab.node_zone_labels:
    kubeconfig: "{{ udn_lab_kubeconfig }}"

- name: Let the module decide from the pinned OVN-Kubernetes version
  ovnk.udn_lab.node_zone_labels:
    kubeconfig: "{{ udn_lab_kubeconfig }}"
    ovn_kubernetes_version: v1.3.0

- name: Put two nodes in an explicitly named zone
  ovnk.udn_lab.node_zone_labels:
    kubeconfig: "{{ udn_lab_kubeconfig }}"
    nodes: [ovn-k-helm-worker, ovn-k-helm-worker2]
    zones:
      ovn-k-helm-worker: zone-a
      ovn-k-helm-worker2: zone-a

- name: Remove the zone labels again
  ovnk.udn_lab.node_zone_labels:
    kubeconfig: "{{ udn_lab_kubeconfig }}"
    state: absent
"""

RETURN = r"""
required:
  description:
    - Whether the zone labels are set, as the deployment scripts of that release (and the seed) do. V(true) when
      O(ovn_kubernetes_version) is unset or is a release up to v1.3.0, V(false) otherwise (then nothing was done
      and RV(nodes) is empty). Not a hard requirement even for v1.3.0, whose C(ovnkube.sh) falls back to the node
      name as the zone.
  returned: always
  type: bool
  sample: true
nodes:
  description:
    - One entry per selected node, sorted by name, whether it changed or not.
    - In check mode, what would change.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Node name.
      type: str
      sample: ovn-k-helm-worker
    before:
      description: Label value before the run (null when the label was absent).
      type: str
      sample: null
    after:
      description: Label value after the run (null when removed).
      type: str
      sample: ovn-k-helm-worker
    changed:
      description: Whether this node was (or, in check mode, would be) patched.
      type: bool
      sample: true
changed_nodes:
  description: Names of the nodes that were (or would be) patched.
  returned: success
  type: list
  elements: str
  sample: [ovn-k-helm-control-plane, ovn-k-helm-worker]
"""

import functools

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s
from ansible_collections.ovnk.udn_lab.plugins.module_utils.waits import FlowError
from ansible_collections.ovnk.udn_lab.plugins.module_utils.zones import (
    ZONE_LABEL,
    ZoneError,
    plan,
    summarize,
    zone_labels_required,
)


def argument_spec():
    spec = dict(k8s.AUTH_ARG_SPEC)
    spec.update(
        nodes=dict(type="list", elements="str", default=[]),
        zones=dict(type="dict", default={}),
        label=dict(type="str", default=ZONE_LABEL),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        ovn_kubernetes_version=dict(type="str"),
    )
    return spec


def flow(module, api):
    """List the nodes, plan, patch what differs (a JSON merge patch of the label only; not in check mode)."""
    params = module.params
    nodes = api.list("v1", "Node")
    try:
        entries = plan(
            nodes,
            requested=params["nodes"],
            zones=params["zones"] if params["state"] == "present" else None,
            label=params["label"],
            state=params["state"],
        )
    except ZoneError as exc:
        raise FlowError("node_zone_labels: %s" % exc)

    if not module.check_mode:
        for entry in entries:
            if not entry["patch"]:
                continue
            try:
                api.patch("v1", "Node", entry["name"], entry["patch"])
            except Exception as exc:  # the client raises many types; name the node and what was already done
                done = [e["name"] for e in entries if e["changed"] and e["name"] < entry["name"]]
                raise FlowError("Could not label node %s: %s (already labelled in this run: %s)"
                                % (entry["name"], k8s.describe_error(exc), ", ".join(done) or "none"))

    summary = summarize(entries)
    result = dict(
        required=True,
        changed=summary["changed"],
        nodes=summary["nodes"],
        changed_nodes=[entry["name"] for entry in entries if entry["changed"]],
    )
    if module._diff:
        result["diff"] = summary["diff"]
    return result


def main():
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True)
    version = module.params["ovn_kubernetes_version"]
    if version is not None and not zone_labels_required(version):
        module.exit_json(changed=False, required=False, nodes=[], changed_nodes=[])
    k8s.exit_flow(module, functools.partial(flow, module), "list the nodes")


if __name__ == "__main__":
    main()
