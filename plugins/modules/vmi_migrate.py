#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Live-migrate a KubeVirt VMI and verify the migration like KubeVirt's own e2e tests."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vmi_migrate
short_description: Live-migrate a KubeVirt virtual machine instance and verify the result
version_added: 0.1.0
description:
  - Creates a C(VirtualMachineInstanceMigration) (what C(virtctl migrate) does) for the VMI O(namespace)/O(name),
    or adopts a migration of that VMI already in flight (O(adopt)).
  - Refuses, before creating anything, when the VMI is not C(LiveMigratable) (quoting the condition reason and
    message) or when fewer than 2 nodes can take the VMI (cordoned, not Ready, tainted without toleration,
    C(kubevirt.io/schedulable=false) or not matching its node selector).
  - Waits with the Kubernetes watch API until the migration phase is C(Succeeded) or C(Failed), then until the
    VMI reports the migration and is ready again (phase Running, Ready, AgentConnected, guest-agent IP).
  - Verifies like KubeVirt's e2e - C(migrationState.migrationUid) matches the migration, C(completed=true),
    C(failed=false), start and end timestamps set, C(targetNode == status.nodeName != sourceNode).
  - In check mode nothing is created; the module reports whether a migration would be created or adopted.
author:
  - ovnk.udn_lab maintainers (@ovnk)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - ovnk.udn_lab.wait
options:
  name:
    description: Name of the VMI to migrate.
    type: str
    required: true
  namespace:
    description: Namespace of the VMI.
    type: str
    required: true
  interface:
    description:
      - VMI network interface (C(name) in C(status.interfaces)) that must report a guest-agent IP after the
        migration; its addresses before and after are compared. Any interface when omitted.
    type: str
  adopt:
    description:
      - When a migration of this VMI is already in flight, wait for it and verify it instead of failing.
    type: bool
    default: true
  labels:
    description:
      - Labels put on the created migration object. Add the lab label (C(udn-lab.ovnk.io/lab)) so teardown finds it.
    type: dict
    default: {"app.kubernetes.io/managed-by": "ovnk.udn_lab"}
  resume:
    description:
      - Set by the collection's action plugin between the 30 s slices of one wait, not by hand - the migration an
        earlier slice created or adopted (its C(name) and C(uid), C(adopted), and C(vmi_before), the VMI as it was
        before). The module then waits for that migration again, whatever its phase, and judges it against
        C(vmi_before); it creates nothing.
    type: dict
requirements:
  - kubernetes >= 24.2.0 (Python client)
notes:
  - A target on the source node stalls in C(PreparingTarget); that is why 2 schedulable nodes are required.
  - C(changed) is true when a migration ran (created, or adopted and finished) and, in check mode, when one would run.
  - "Progress: a wait longer than 30 s runs as several module runs of at most 30 s each (the collection's action
    plugin, on the controller). The first creates or adopts the migration, the next ones resume that migration
    (O(resume)); between them it prints C(waiting <elapsed>/<timeout> s) and the migration's phase and nodes."
seealso:
  - module: ovnk.udn_lab.vmi_wait
  - module: ovnk.udn_lab.iperf3_migration
"""

EXAMPLES = r"""
- name: Migrate the blue VM while iperf3 runs
  ovnk.udn_lab.vmi_migrate:
    name: blue
    namespace: blue-namespace
    interface: happy
    timeout: 600
    labels:
      app.kubernetes.io/managed-by: ovnk.udn_lab
      udn-lab.ovnk.io/lab: "{{ udn_lab_cluster_name }}"
  register: migration

- name: The VM kept its address
  ansible.builtin.assert:
    that: migration.ips_unchanged
    fail_msg: "IPs changed: {{ migration.ips_before }} -> {{ migration.ips_after }}"
"""

RETURN = r"""
migration:
  description: The migration object used (null in check mode when one would be created).
  returned: success
  type: dict
  contains:
    name:
      description: Migration object name (generated, C(kubevirt-migrate-vm-...)).
      type: str
    uid:
      description: Its UID (matched against C(migrationState.migrationUid)).
      type: str
    adopted:
      description: True when an in-flight migration was adopted instead of created.
      type: bool
    vmi_before:
      description: On timeout, the VMI's node and interfaces before the migration (what O(resume) takes).
      type: dict
      returned: failure on timeout
timed_out:
  description: True when the wait ran out of time (the controller runs the module in 30 s slices and resumes).
  returned: failure on timeout
  type: bool
pending:
  description: One line of what the wait still waits for, shown between slices.
  returned: failure on timeout
  type: str
  sample: "migration kubevirt-migrate-vm-x7k2p: phase Running (node ovn-k-helm-worker -> ovn-k-helm-worker2)"
source_node:
  description: Node the VMI ran on before.
  returned: success and not check mode
  type: str
  sample: ovn-k-helm-worker
target_node:
  description: Node the VMI runs on now.
  returned: success and not check mode
  type: str
  sample: ovn-k-helm-worker2
start:
  description: C(migrationState.startTimestamp) (RFC3339); pass it to M(ovnk.udn_lab.iperf3_migration).
  returned: success and not check mode
  type: str
end:
  description: C(migrationState.endTimestamp) (RFC3339).
  returned: success and not check mode
  type: str
duration_seconds:
  description: End minus start.
  returned: success and not check mode
  type: float
phase_transitions:
  description: Migration phase to RFC3339 time (C(status.phaseTransitionTimestamps)).
  returned: success and not check mode
  type: dict
ips_before:
  description: C(interface=ip) strings before the migration.
  returned: success and not check mode
  type: list
  elements: str
ips_after:
  description: C(interface=ip) strings after the migration.
  returned: success and not check mode
  type: list
  elements: str
ips_unchanged:
  description: Whether the addresses are the same after the migration.
  returned: success and not check mode
  type: bool
phase:
  description: Final migration phase (V(Succeeded) on success).
  returned: success and not check mode
  type: str
missing_after:
  description: What the VMI still lacked after the migration when RV(ready_after) is false.
  returned: success and not check mode
  type: list
  elements: str
failure_reason:
  description: C(migrationState.failureReason) or the migration's Failed condition message, when it failed.
  returned: failure
  type: str
ready_after:
  description: Whether the VMI was ready again (agent connected, IP on O(interface)) when the module returned.
  returned: success and not check mode
  type: bool
elapsed_seconds:
  description: Seconds the module waited.
  returned: success and not check mode
  type: float
schedulable_nodes:
  description: Nodes that can take the VMI.
  returned: always
  type: list
  elements: str
would:
  description: In check mode, V(create) or V(adopt).
  returned: check mode
  type: str
errors:
  description: Verification errors (on failure).
  returned: failure
  type: list
  elements: str
"""

import time

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s
from ansible_collections.ovnk.udn_lab.plugins.module_utils import kubevirt

DEFAULT_LABELS = {"app.kubernetes.io/managed-by": "ovnk.udn_lab"}


def argument_spec():
    spec = dict(k8s.AUTH_ARG_SPEC)
    spec.update(
        name=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
        interface=dict(type="str"),
        adopt=dict(type="bool", default=True),
        labels=dict(type="dict", default=dict(DEFAULT_LABELS)),
        resume=dict(type="dict"),
        timeout=dict(type="int", default=600),
    )
    return spec


def main():
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    if p["timeout"] <= 0:
        module.fail_json(msg="timeout must be a positive number of seconds, got {0}".format(p["timeout"]))

    def flow(api):
        plan = kubevirt.plan_migration(api, p["name"], p["namespace"])
        if module.check_mode:
            result = kubevirt.check_mode_migration(plan, p["adopt"])
        else:
            result = kubevirt.run_migration(api, plan, p["labels"], p["interface"], p["timeout"], time.monotonic,
                                            watch=k8s.watch_until, adopt=p["adopt"], resume=p["resume"])
            result["changed"] = True
        result["schedulable_nodes"] = plan["schedulable_nodes"]
        return result

    k8s.exit_flow(module, flow, "migrate VMI {0}/{1}".format(p["namespace"], p["name"]))


if __name__ == "__main__":
    main()
