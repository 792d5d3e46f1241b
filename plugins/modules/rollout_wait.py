#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Wait until DaemonSets and Deployments are rolled out, and nodes, pods or custom resources are ready."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: rollout_wait
short_description: Wait until DaemonSets and Deployments are rolled out and nodes, pods or custom resources are ready
version_added: 0.1.0
description:
  - "Waits, with one deadline, until every object of O(resources) is ready, and says between 30 s slices what it
    still waits for, for example C(waiting 60/600 s: DaemonSet ovn-kubernetes/ovnkube-node: 1 of 3 pods available)."
  - A DaemonSet or Deployment is ready when it is rolled out, by the rules of C(kubectl rollout status) (kubectl
    v0.35.0) - the controller observed the latest spec, every pod is updated, no old pod is left and every
    updated pod is available.
  - A Pod is ready when its condition C(Ready) is C(True), or when it ran to completion (phase C(Succeeded)).
  - Any other kind is ready when the condition O(resources[].condition) has status C(True) - C(Ready) for a Node,
    C(Available) for the KubeVirt CR.
  - On timeout the task fails and names, per object not ready, why (pods updated and available, a container's
    waiting reason, a condition's reason and message) and its latest Events.
  - Uses the Kubernetes watch API, one target after the other against the same deadline; it returns on the
    event that makes the last object ready.
  - Read-only; supports check mode (it waits the same way and never reports a change).
author:
  - ovnk.udn_lab maintainers (@ovnk)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ovnk.udn_lab.wait
options:
  resources:
    description:
      - What to wait for. Each item names one object (O(resources[].name)) or every object of its kind in its
        scope (no name; narrowed by O(resources[].namespace) and O(resources[].label_selector)). A scope that
        matches nothing is not ready.
    type: list
    elements: dict
    required: true
    suboptions:
      api_version:
        description:
          - API group and version, for example V(apps/v1), V(v1) or V(kubevirt.io/v1).
        type: str
        required: true
      kind:
        description:
          - Kind of the objects, for example V(DaemonSet), V(Deployment), V(Pod), V(Node) or V(KubeVirt).
        type: str
        required: true
      namespace:
        description:
          - Namespace of namespaced objects; unset for cluster-scoped kinds, or for every namespace.
        type: str
      name:
        description:
          - Name of one object. Excludes O(resources[].names) and O(resources[].label_selector).
        type: str
      names:
        description:
          - Names of several objects of the same kind and namespace, each waited for as if given by
            O(resources[].name). Excludes O(resources[].name) and O(resources[].label_selector).
        type: list
        elements: str
      label_selector:
        description:
          - Label selector of the objects to wait for, when no name is given.
        type: str
      condition:
        description:
          - Condition type that must have status C(True). Defaults to C(Ready), or C(Available) for a KubeVirt
            CR. Refused for a DaemonSet or Deployment, which must be rolled out.
        type: str
requirements:
  - kubernetes >= 24.2.0 (Python client)
notes:
  - "Progress: a wait longer than 30 s runs as several module runs of at most 30 s each (the collection's action
    plugin, on the controller); between them it prints C(waiting <elapsed>/<timeout> s) and what is pending."
seealso:
  - module: ovnk.udn_lab.vmi_wait
  - module: ovnk.udn_lab.network_wait
  - module: kubernetes.core.k8s_info
"""

EXAMPLES = r"""
- name: Wait until OVN-Kubernetes is rolled out and every node is Ready
  ovnk.udn_lab.rollout_wait:
    kubeconfig: "{{ udn_lab_kubeconfig }}"
    resources:
      - {api_version: apps/v1, kind: DaemonSet, namespace: ovn-kubernetes, name: ovnkube-node}
      - {api_version: apps/v1, kind: Deployment, namespace: ovn-kubernetes, name: ovnkube-control-plane}
      - {api_version: v1, kind: Node}
    timeout: 600

- name: Wait until KubeVirt is Available
  ovnk.udn_lab.rollout_wait:
    resources:
      - {api_version: kubevirt.io/v1, kind: KubeVirt, namespace: kubevirt, name: kubevirt}
    timeout: 900
"""

RETURN = r"""
resources:
  description: One entry per object waited for, in the order of O(resources); a scope that matched nothing gives
    one entry with a null name.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: Kind of the object.
      type: str
      sample: DaemonSet
    namespace:
      description: Namespace of the object (null for cluster-scoped objects).
      type: str
      sample: ovn-kubernetes
    name:
      description: Name of the object.
      type: str
      sample: ovnkube-node
    ready:
      description: Whether the object was ready.
      type: bool
    problem:
      description: Its state in one line (why it is not ready, or what ready means for it).
      type: str
      sample: 3 of 3 pods available
    ready_seconds:
      description: Seconds from the start of the task until the object was seen ready (null when not ready).
      type: float
      sample: 4.2
elapsed_seconds:
  description: Seconds the task waited.
  returned: always
  type: float
watch:
  description: Watch statistics summed over the targets (lists, watches, events, reconnects, relists, errors).
  returned: always
  type: dict
not_ready:
  description: On timeout, per object not ready, what it is, why, and its latest Events.
  returned: failure
  type: list
  elements: dict
  sample: [{"what": "Pod kube-system/coredns-668d6bf9bc-4x2vq", "kind": "Pod", "namespace": "kube-system",
            "name": "coredns-668d6bf9bc-4x2vq", "problem": "Pending (coredns: ContainerCreating)",
            "events": ["Warning FailedCreatePodSandBox: failed to setup network for sandbox"]}]
timed_out:
  description: True when the wait ran out of time (the controller runs the module in 30 s slices and goes on).
  returned: failure on timeout
  type: bool
pending:
  description: One line of what the wait still waits for, shown between slices.
  returned: failure on timeout
  type: str
  sample: "DaemonSet ovn-kubernetes/ovnkube-node: 1 of 3 pods available; 2 ready"
"""

import time

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s
from ansible_collections.ovnk.udn_lab.plugins.module_utils import rollout


def argument_spec():
    spec = dict(k8s.AUTH_ARG_SPEC)
    spec.update(
        resources=dict(type="list", elements="dict", required=True, options=dict(
            api_version=dict(type="str", required=True),
            kind=dict(type="str", required=True),
            namespace=dict(type="str"),
            name=dict(type="str"),
            names=dict(type="list", elements="str"),
            label_selector=dict(type="str"),
            condition=dict(type="str"),
        )),
        timeout=dict(type="int", default=600),
    )
    return spec


def main():
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    try:
        targets = rollout.validate_targets(p["resources"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if p["timeout"] <= 0:
        module.fail_json(msg="timeout must be a positive number of seconds, got {0}".format(p["timeout"]))

    def flow(api):
        list_watch, list_events = rollout.api_callables(api)
        return rollout.wait_ready(list_watch, list_events, targets, p["timeout"], time.monotonic,
                                  watch=k8s.watch_until)

    k8s.exit_flow(module, flow, "wait for the rollout")


if __name__ == "__main__":
    main()
