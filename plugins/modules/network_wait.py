#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Wait until OVN-Kubernetes UserDefinedNetworks and ClusterUserDefinedNetworks are created."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: network_wait
short_description: Wait until OVN-Kubernetes UserDefinedNetworks and ClusterUserDefinedNetworks are created
version_added: 0.1.0
description:
  - Waits for OVN-Kubernetes networks of API C(k8s.ovn.org/v1) - C(UserDefinedNetwork) (namespaced) and
    C(ClusterUserDefinedNetwork) (cluster-scoped) objects - until each has the condition O(condition) with status
    C(True). The default, C(NetworkCreated), is set once OVN-Kubernetes created the network's
    NetworkAttachmentDefinitions; pods of a namespace with a primary network can start only after that.
  - Uses the Kubernetes watch API and returns on the event that makes the last network ready. One O(timeout)
    covers all networks (M(kubernetes.core.k8s_info) with C(wait=true) polls every C(wait_sleep) seconds and waits
    up to its timeout for each network).
  - One watch per kind. UserDefinedNetworks in one namespace are watched in that namespace; in several namespaces
    by one cluster-wide watch kept to the wanted networks (this needs list/watch permission on UserDefinedNetworks
    cluster-wide). ClusterUserDefinedNetworks are watched cluster-wide. When both kinds are asked for they are
    watched one after the other, against the same deadline.
  - A condition with status C(False) does not end the wait, even one that looks terminal (OVN-Kubernetes v1.3.0
    reports C(SyncError) on a UDN, C(NetworkAttachmentDefinitionSyncError) on a CUDN, with the message
    C(invalid primary network state for namespace ...) when the namespace lacks the primary-UDN label) -
    OVN-Kubernetes retries, and the cause may be fixed in time.
  - On timeout the task fails and says, per network not ready, every condition (type, status, reason, message),
    the latest Events about that object and what to check.
  - The input is checked before the cluster is contacted; a bad item of O(networks) fails with its index and the fix.
  - Read-only; supports check mode (it waits the same way and never reports a change).
author:
  - ovnk.udn_lab maintainers (@ovnk)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ovnk.udn_lab.wait
options:
  networks:
    description:
      - The networks to wait for. A network listed twice is waited for once.
      - A network that does not exist yet is waited for.
    type: list
    elements: dict
    required: true
    suboptions:
      kind:
        description:
          - Kind of the network object.
        type: str
        required: true
        choices: [UserDefinedNetwork, ClusterUserDefinedNetwork]
      name:
        description:
          - Name of the network object (C(metadata.name)), without a namespace.
        type: str
        required: true
      namespace:
        description:
          - Namespace of a O(networks[].kind=UserDefinedNetwork); required for that kind.
          - Refused for a O(networks[].kind=ClusterUserDefinedNetwork), which is cluster-scoped (the namespaces it
            serves come from its C(spec.namespaceSelector)).
        type: str
  condition:
    description:
      - Condition type that must reach status C(True) on every network, for example V(NetworkAllocationSucceeded).
    type: str
    default: NetworkCreated
requirements:
  - kubernetes >= 24.2.0 (Python client)
notes:
  - Seconds until ready (RV(networks[].ready_seconds)) are measured from the start of the task. When both kinds are
    waited for, the ClusterUserDefinedNetworks are looked at after the UserDefinedNetworks are ready; for them it
    is when they were first seen ready, which can be later than when they became ready.
  - Events about a ClusterUserDefinedNetwork are looked up in every namespace (needs list permission on Events
    cluster-wide); they are read only when the wait times out.
  - "Progress: a wait longer than 30 s runs as several module runs of at most 30 s each (the collection's action
    plugin, on the controller); between them it prints C(waiting <elapsed>/<timeout> s) and what is pending, so a
    long wait shows what it waits for. The result is that of the last run, with the whole timeout in its message."
seealso:
  - module: ovnk.udn_lab.vmi_wait
  - module: kubernetes.core.k8s_info
"""

EXAMPLES = r"""
- name: Wait for the pod workshop networks before creating pods
  ovnk.udn_lab.network_wait:
    kubeconfig: "{{ udn_lab_kubeconfig }}"
    networks:
      - kind: UserDefinedNetwork
        name: blue-network
        namespace: blue
      - kind: UserDefinedNetwork
        name: green-network
        namespace: green
      - kind: ClusterUserDefinedNetwork
        name: colored-enterprise
    timeout: 300
  register: workshop_networks

- name: Show how long each network took
  ansible.builtin.debug:
    msg: "{{ workshop_networks.networks | items2dict(key_name='name', value_name='ready_seconds') }}"

- name: Wait until the VM network is allocated on every node
  ovnk.udn_lab.network_wait:
    networks:
      - {kind: ClusterUserDefinedNetwork, name: happy-tenant}
    condition: NetworkAllocationSucceeded
    timeout: 120
"""

RETURN = r"""
networks:
  description: One entry per network waited for, UserDefinedNetworks first, each kind sorted by namespace and name.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: V(UserDefinedNetwork) or V(ClusterUserDefinedNetwork).
      type: str
      sample: UserDefinedNetwork
    name:
      description: Network name.
      type: str
      sample: blue-network
    namespace:
      description: Namespace of a UserDefinedNetwork; null for a ClusterUserDefinedNetwork.
      type: str
      sample: blue
    ready:
      description: Whether the condition O(condition) has status C(True).
      type: bool
    conditions:
      description: Per condition type, status, reason, message and last transition time (empty when not found).
      type: dict
      sample: {"NetworkCreated": {"status": "True", "reason": "NetworkAttachmentDefinitionCreated",
               "message": "NetworkAttachmentDefinition has been created", "last_transition_time": "2026-11-27T05:24:03Z"}}
    ready_seconds:
      description: Seconds from the start of the task until the network was seen ready (null when not ready).
      type: float
      sample: 1.7
elapsed_seconds:
  description: Seconds the task waited.
  returned: always
  type: float
watch:
  description: Watch statistics summed over the kinds (lists, watches, events, reconnects, relists, errors).
  returned: always
  type: dict
  sample: {"lists": 2, "watches": 2, "events": 5, "reconnects": 0, "relists": 0, "errors": 0}
not_ready:
  description: On timeout, per network not ready, its problem, conditions, latest Events and hints.
  returned: failure
  type: list
  elements: dict
  sample: [{"kind": "UserDefinedNetwork", "name": "blue-network", "namespace": "blue",
            "problem": "NetworkCreated=False (SyncError: invalid primary network state for namespace \"blue\" ...)",
            "conditions": ["NetworkCreated=False (SyncError: invalid primary network state for namespace \"blue\" ...)"],
            "events": [], "hints": ["a primary network needs the namespace label k8s.ovn.org/primary-user-defined-network ..."]}]
timed_out:
  description: True when the wait ran out of time (the controller runs the module in 30 s slices and goes on).
  returned: failure on timeout
  type: bool
pending:
  description: One line of what the wait still waits for, shown between slices.
  returned: failure on timeout
  type: str
  sample: "UserDefinedNetwork blue/blue-network: condition NetworkCreated absent; 3 ready"
"""

import time

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s
from ansible_collections.ovnk.udn_lab.plugins.module_utils import networks


def argument_spec():
    spec = dict(k8s.AUTH_ARG_SPEC)
    spec.update(
        networks=dict(type="list", elements="dict", required=True, options=dict(
            kind=dict(type="str", required=True, choices=list(networks.KINDS)),
            name=dict(type="str", required=True),
            namespace=dict(type="str"),
        )),
        condition=dict(type="str", default=networks.COND_NETWORK_CREATED),
        timeout=dict(type="int", default=600),
    )
    return spec


def main():
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    try:
        targets = networks.validate_networks(p["networks"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if not p["condition"]:
        module.fail_json(msg="condition must be a condition type such as NetworkCreated, got an empty string")
    if p["timeout"] <= 0:
        module.fail_json(msg="timeout must be a positive number of seconds, got {0}".format(p["timeout"]))

    def flow(api):
        list_watch, list_events = networks.api_callables(api)
        return networks.wait_networks(list_watch, list_events, targets, p["condition"], p["timeout"], time.monotonic,
                                      watch=k8s.watch_until)

    k8s.exit_flow(module, flow, "wait for networks")


if __name__ == "__main__":
    main()
