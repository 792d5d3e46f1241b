#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Wait until KubeVirt VMIs are ready for the workshop (booted guest with an IP)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vmi_wait
short_description: Wait until KubeVirt virtual machine instances are booted, reachable and optionally migratable
version_added: 0.1.0
description:
  - Waits for one or many VirtualMachineInstances (VMIs), chosen by name and/or label selector in one or more
    namespaces, until each is ready for the workshop.
  - A VMI is ready when all hold - C(status.phase=Running), condition C(Ready=True), condition
    C(AgentConnected=True), and the interface O(interface) reports an IP address whose C(infoSource) contains
    C(guest-agent). Optionally C(LiveMigratable=True) (O(require_migratable)) and addresses of the family
    O(ip_family). C(Ready=True) alone only means the domain started; an IP from the C(domain) source can show
    before the guest booted.
  - Uses the Kubernetes watch API and returns on the event that makes the last VMI ready. One O(timeout)
    covers all VMIs.
  - On timeout the task fails and says, per VMI, which signals are missing, the last condition
    reasons/messages, the virt-launcher pod state and the latest events.
  - Read-only; supports check mode (it waits the same way and never reports a change).
author:
  - ovnk.udn_lab maintainers (@ovnk)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ovnk.udn_lab.wait
options:
  name:
    description:
      - VMIs to wait for, as V(NAME) (needs exactly one O(namespace)) or V(NAMESPACE/NAME).
      - Each named VMI must appear; a VMI that does not exist yet is waited for.
    type: list
    elements: str
    default: []
    aliases: [names]
  namespace:
    description:
      - Namespaces to look in. With several namespaces the module runs one cluster-wide watch and keeps only
        these namespaces (needs list/watch permission on VMIs cluster-wide).
      - Empty with O(label_selectors) means all namespaces.
    type: list
    elements: str
    default: []
  label_selectors:
    description:
      - Label selectors (joined with commas, like M(kubernetes.core.k8s_info)). Without O(name) every matching
        VMI is waited for and at least one must match.
    type: list
    elements: str
    default: []
  interface:
    description:
      - Name of the VMI network interface (the C(name) in C(status.interfaces), e.g. V(happy)) that must carry a
        guest-agent address. When omitted any interface will do.
    type: str
  ip_family:
    description:
      - Address families the interface must report; link-local addresses do not count.
    type: str
    choices: [any, ipv4, ipv6, dual]
    default: any
  require_migratable:
    description:
      - Also require condition C(LiveMigratable=True), for example before M(ovnk.udn_lab.vmi_migrate).
    type: bool
    default: false
requirements:
  - kubernetes >= 24.2.0 (Python client)
notes:
  - Seconds until ready (RV(vmis[].ready_seconds)) are measured from the start of the task.
  - "Progress: a wait longer than 30 s runs as several module runs of at most 30 s each (the collection's action
    plugin, on the controller); between them it prints C(waiting <elapsed>/<timeout> s) and what is pending, so a
    long wait shows what it waits for. The result is that of the last run, with the whole timeout in its message."
seealso:
  - module: ovnk.udn_lab.vmi_migrate
  - module: kubevirt.core.kubevirt_vm_info
"""

EXAMPLES = r"""
- name: Wait for the workshop VMs to boot and get their UDN address
  ovnk.udn_lab.vmi_wait:
    name:
      - red-namespace/red
      - blue-namespace/blue
    interface: happy
    ip_family: "{{ udn_lab_ip_family }}"
    timeout: 900
  register: vmis

- name: Wait until every lab VMI in one namespace is migratable
  ovnk.udn_lab.vmi_wait:
    namespace: [blue-namespace]
    label_selectors: ["app.kubernetes.io/managed-by=ovnk.udn_lab"]
    require_migratable: true

- name: Show the blue VM address
  ansible.builtin.debug:
    msg: "{{ (vmis.vmis | selectattr('name', 'equalto', 'blue') | first).interfaces.happy.ips }}"
"""

RETURN = r"""
vmis:
  description: One entry per VMI waited for, in C(namespace/name) order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: VMI name.
      type: str
      sample: blue
    namespace:
      description: VMI namespace.
      type: str
      sample: blue-namespace
    node:
      description: Node running the VMI (C(status.nodeName)).
      type: str
      sample: ovn-k-helm-worker
    phase:
      description: C(status.phase).
      type: str
      sample: Running
    ready:
      description: Whether the VMI met every requirement.
      type: bool
    missing:
      description: Requirements not met (empty when ready).
      type: list
      elements: str
    interfaces:
      description: Per interface name, usable IPs, C(infoSource), guest interface name and MAC.
      type: dict
      sample: {"happy": {"ips": ["192.168.0.4"], "info_source": "domain, guest-agent", "interface_name": "eth0",
               "mac": "0a:58:c0:a8:00:04"}}
    conditions:
      description: Per condition type, status, reason, message and last transition time.
      type: dict
    ready_seconds:
      description: Seconds from the start of the task until the VMI was seen ready (null when not ready).
      type: float
      sample: 41.2
elapsed_seconds:
  description: Seconds the task waited.
  returned: always
  type: float
watch:
  description: Watch statistics (lists, watches, events, reconnects, relists, errors).
  returned: always
  type: dict
not_ready:
  description: On failure, per VMI not ready, missing signals, virt-launcher pod state, VM status and last events.
  returned: failure
  type: list
  elements: dict
timed_out:
  description: True when the wait ran out of time (the controller runs the module in 30 s slices and goes on).
  returned: failure on timeout
  type: bool
pending:
  description: One line of what the wait still waits for, shown between slices.
  returned: failure on timeout
  type: str
  sample: "red-namespace/red Scheduling: missing Running, guest agent; ready: blue-namespace/blue"
"""

import time

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s
from ansible_collections.ovnk.udn_lab.plugins.module_utils import kubevirt


def argument_spec():
    spec = dict(k8s.AUTH_ARG_SPEC)
    spec.update(
        name=dict(type="list", elements="str", default=[], aliases=["names"]),
        namespace=dict(type="list", elements="str", default=[]),
        label_selectors=dict(type="list", elements="str", default=[]),
        interface=dict(type="str"),
        ip_family=dict(type="str", choices=list(kubevirt.FAMILIES), default=kubevirt.FAMILY_ANY),
        require_migratable=dict(type="bool", default=False),
        timeout=dict(type="int", default=600),
    )
    return spec


def main():
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    if not p["name"] and not p["label_selectors"]:
        module.fail_json(msg="name or label_selectors is required: give the VMIs to wait for")
    if p["timeout"] <= 0:
        module.fail_json(msg="timeout must be a positive number of seconds, got {0}".format(p["timeout"]))
    try:
        keys = kubevirt.split_targets(p["name"], p["namespace"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    def flow(api):
        return kubevirt.wait_vmis(api, keys, p["namespace"], p["label_selectors"], p["interface"], p["ip_family"],
                                  p["require_migratable"], p["timeout"], time.monotonic, watch=k8s.watch_until)

    k8s.exit_flow(module, flow, "wait for VMIs")


if __name__ == "__main__":
    main()
