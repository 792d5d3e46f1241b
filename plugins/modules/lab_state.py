#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lab_state
short_description: Record what a completed role left in the lab, and tell whether it still holds
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - Keeps one entry per completed role in the ConfigMap C(ovnk-udn-lab-state-<lab>) of namespace C(kube-system)
    (labelled with O(labels), so teardown finds it; it goes with the cluster).
  - An entry holds the digest of the role's inputs and code (computed on the controller by the module's action
    plugin from every C(<role>_*) variable of the calling role, every C(udn_lab_*) variable, the role's files,
    the collection's plugins and its version matrix),
    the identity of every object the role made or waits for (uid, and generation or a digest of the spec), the
    sha256 of files it left on the target, the values of the entries it builds on (O(after)), and the facts it
    publishes (O(facts)).
  - O(state=query) re-reads the objects, files and host facts the entry recorded and answers RV(current=true) only
    when all of it is unchanged and every object is ready; otherwise RV(reasons) says what differs (a changed input
    by name, an object replaced or not ready, an entry below re-recorded). A missing kubeconfig or an unreachable
    cluster is an answer too (RV(current=false)). It never changes anything and runs in check mode too.
  - O(state=present) records the entry after the role completed. It changes the ConfigMap only when the entry
    differs (the time written alone does not count). While an object is missing or not ready it records nothing
    and returns RV(recorded=false) with the reasons, so the next run takes the full path.
  - O(state=absent) removes the entry (and the ConfigMap once empty).
  - Check mode predicts C(changed) without writing (an entry that cannot be recorded yet because check mode created
    nothing is predicted to be written).
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  name:
    description:
      - Name of the entry, for example V(kind_cluster) or V(pod-workshop).
      - With O(state=absent), a name with C(*) is a shell-style pattern, for example V(pod-workshop-*) (every
        participant's pod workshop entry of a classroom).
    type: str
    required: true
  state:
    description:
      - V(query) tells whether the entry still holds, V(present) records it, V(absent) removes it.
    type: str
    choices: [query, present, absent]
    default: query
  inputs:
    description:
      - The role's inputs as a digest (keys C(digest) and C(parts), part name to digest).
      - Leave it out, and the action plugin computes it from the calling role (O(role)), so no input is ever
        listed by hand. Give it only to record something that is not a role.
    type: dict
  lab:
    description:
      - The lab whose record this is; each lab has its own ConfigMap C(ovnk-udn-lab-state-<lab>), so labs sharing
        a cluster keep apart.
      - Defaults (in the action plugin) to C(udn_lab_cluster_name), else V(ovn-k-helm), as the roles name the lab.
    type: str
  role:
    description:
      - The role whose inputs the action plugin digests when O(inputs) is left out.
      - Defaults to the role the task runs in.
    type: str
  ignore_inputs:
    description:
      - Patterns (Python C(re.match)) of variable names the action plugin leaves out of the digest, for the
        variables a role sets itself (its outputs) or that belong to another part of the role.
    type: list
    elements: str
    default: []
  after:
    description: Names of the entries this one builds on; any of them re-recorded differently invalidates it.
    type: list
    elements: str
    default: []
  objects:
    description:
      - With O(state=present), objects the entry covers (see also O(definitions)). Each item names
        O(objects[].kind) with its O(objects[].api_version), an optional O(objects[].namespace), and either
        O(objects[].names) (each must exist) or O(objects[].label_selector) (every match) or neither (every object
        of the kind in the scope).
    type: list
    elements: dict
    default: []
    suboptions:
      api_version:
        description: API group/version, for example V(apps/v1).
        type: str
        required: true
      kind:
        description: Kind, for example V(DaemonSet).
        type: str
        required: true
      namespace:
        description: Namespace of namespaced objects.
        type: str
      name:
        description: Name of one object (the same as O(objects[].names) with one name).
        type: str
      names:
        description: Names of the objects; each must exist.
        type: list
        elements: str
      label_selector:
        description: "Label selector, for example V(app.kubernetes.io/managed-by=ovnk.udn_lab)."
        type: str
      ready:
        description:
          - Whether these objects must be ready (their ready condition true, their replicas ready) for the entry to
            hold. V(false) for objects whose readiness another role owns (nodes before their network runs).
        type: bool
        default: true
  definitions:
    description:
      - With O(state=present), manifests the role applied; the entry covers each of them (by C(apiVersion),
        C(kind), C(metadata.name) and C(metadata.namespace)).
    type: list
    elements: dict
    default: []
  files:
    description:
      - With O(state=present), files on the target the entry covers (their sha256; a missing file means the entry
        does not hold).
    type: list
    elements: path
    default: []
  boot_id:
    description: With O(state=present), cover the target's boot id too (a reboot of the host invalidates the entry).
    type: bool
    default: false
  facts:
    description:
      - With O(state=present), what the role publishes, recorded with the entry and returned by O(state=query)
        while it holds.
    type: dict
    default: {}
  labels:
    description: With O(state=present), labels of the ConfigMap when it is created.
    type: dict
    default: {}
requirements:
  - python >= 3.9
  - kubernetes >= 24.2.0
notes:
  - The module reads every covered object on each call (one request per named object or per listed kind); it
    never reads Secret data into its result.
"""

EXAMPLES = r"""
- name: Tell whether the multus DaemonSet recorded by the last complete run still holds
  ovnk.udn_lab.lab_state:
    kubeconfig: "{{ multus_kubeconfig }}"
    name: multus-daemonset
    after: [ovn_kubernetes]
  register: multus_state  # the inputs: every multus_* and udn_lab_* variable, and the role's code

- name: Record it once the role completed
  ovnk.udn_lab.lab_state:
    kubeconfig: "{{ multus_kubeconfig }}"
    name: multus-daemonset
    state: present
    after: [ovn_kubernetes]
    objects:
      - api_version: apps/v1
        kind: DaemonSet
        namespace: kube-system
        names: [kube-multus-ds]
    labels:
      app.kubernetes.io/managed-by: ovnk.udn_lab

- name: Forget it (teardown)
  ovnk.udn_lab.lab_state:
    kubeconfig: "{{ multus_kubeconfig }}"
    name: multus-daemonset
    state: absent
"""

RETURN = r"""
current:
  description: With O(state=query), whether the recorded entry still holds (then the role has nothing to do).
  returned: state is query
  type: bool
  sample: false
reasons:
  description:
    - Why the entry does not hold (O(state=query)) or was not recorded (O(state=present)); empty otherwise.
  returned: state is query or present
  type: list
  elements: str
  sample: ["inputs changed: multus_version", "DaemonSet kube-system/kube-multus-ds: 2 of 3 pods ready"]
inputs:
  description:
    - The digest of the inputs the action plugin computed (C(digest), and C(parts) naming each input and code path
      with a 12-digit digest; never a value).
  returned: state is query or present and O(inputs) was left out
  type: dict
  sample: {"digest": "4f1c0d9e...", "parts": {"multus_version": "0c1d2e3f4a5b", "code:multus": "9a8b7c6d5e4f"}}
summary:
  description: With O(state=query), one line saying whether the role is skipped (and since when) or why it runs in full.
  returned: state is query
  type: str
  sample: "multus-daemonset: runs in full (inputs changed: multus_version)"
facts:
  description: The facts recorded with the entry, when it holds; empty otherwise.
  returned: state is query
  type: dict
  sample: {}
recorded:
  description:
    - With O(state=query), when the entry was written (UTC, ISO 8601), or null.
    - With O(state=present), whether the entry is recorded now.
  returned: state is query or present
  type: raw
  sample: "2026-11-27T10:00:00Z"
value:
  description: The entry's value, which entries built on it record; null when it does not hold or was not recorded.
  returned: state is query or present
  type: str
  sample: 4f1c0d9e...
forgotten:
  description: With O(state=absent), the entries removed (or, in check mode, to be removed).
  returned: state is absent
  type: list
  elements: str
  sample: [multus-daemonset]
"""

import copy
import datetime
import hashlib
import os

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s
from ansible_collections.ovnk.udn_lab.plugins.module_utils.state import (
    StateError,
    configmap_name,
    forget,
    merge_specs,
    query,
    record,
)

BOOT_ID = "boot_id"
BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id"
READ_CHUNK = 1024 * 1024


def argument_spec():
    spec = copy.deepcopy(k8s.AUTH_ARG_SPEC)
    spec.update(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["query", "present", "absent"], default="query"),
        inputs=dict(type="dict"),
        lab=dict(type="str"),
        role=dict(type="str"),
        ignore_inputs=dict(type="list", elements="str", default=[]),
        after=dict(type="list", elements="str", default=[]),
        objects=dict(type="list", elements="dict", default=[], options=dict(
            api_version=dict(type="str", required=True),
            kind=dict(type="str", required=True),
            namespace=dict(type="str"),
            name=dict(type="str"),
            names=dict(type="list", elements="str"),
            label_selector=dict(type="str"),
            ready=dict(type="bool", default=True),
        )),
        definitions=dict(type="list", elements="dict", default=[]),
        files=dict(type="list", elements="path", default=[]),
        boot_id=dict(type="bool", default=False),
        facts=dict(type="dict", default={}),
        labels=dict(type="dict", default={}),
    )
    return spec


def file_digest(path):
    """sha256 of a file, or None when it does not exist."""
    if not os.path.isfile(path):
        return None
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(READ_CHUNK), b""):
            sha.update(chunk)
    return sha.hexdigest()


def read_local(files, host):
    """What the entry covers on the target: (path -> sha256 or None, host fact -> value)."""
    facts = {}
    for name in host:
        if name != BOOT_ID:
            raise StateError("unknown host fact %s" % name)
        with open(BOOT_ID_PATH) as handle:
            facts[BOOT_ID] = handle.read().strip()
    return dict((path, file_digest(path)) for path in files), facts


def kubeconfig_missing(params):
    path = params.get("kubeconfig")
    return isinstance(path, str) and not os.path.exists(path)


def flow(module):
    params = module.params
    state = params["state"]
    configmap = configmap_name(params["lab"])
    if state == "absent":
        return lambda api: forget(api, [params["name"]], check_mode=module.check_mode, configmap=configmap)
    inputs = params["inputs"]
    if "digest" not in inputs or not isinstance(inputs.get("parts"), dict):
        raise StateError("inputs must be a digest (keys digest and parts); leave inputs out and the action plugin "
                         "computes it from the role")
    if state == "query":
        return lambda api: query(api, params["name"], inputs, params["after"], read_local, configmap=configmap)
    specs = merge_specs([dict((k, v) for k, v in spec.items() if v is not None) for spec in params["objects"]],
                        params["definitions"])
    files, host = read_local(params["files"], [BOOT_ID] if params["boot_id"] else [])
    written = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return lambda api: record(api, params["name"], inputs, params["after"], specs, files, host,
                              facts=params["facts"], labels=params["labels"], written=written,
                              check_mode=module.check_mode, configmap=configmap)


def main():
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True,
                              required_if=[("state", "query", ["inputs"]), ("state", "present", ["inputs"])])
    params = module.params
    if params["state"] == "query" and kubeconfig_missing(params):
        reason = "the kubeconfig file does not exist (a new lab)"
        module.exit_json(changed=False, current=False, facts={}, value=None, recorded=None, reasons=[reason],
                         summary="%s: runs in full (%s)" % (params["name"], reason))
    try:
        run = flow(module)
    except (StateError, OSError) as exc:
        module.fail_json(msg="lab_state: %s" % exc)
    if params["state"] == "query":
        # An unreachable or unusable cluster is an answer here (the full path then reports it properly).
        try:
            result = run(k8s.KubeApi(k8s.client_from_module(module)))
        except Exception as exc:  # client, configuration and API errors alike
            reason = "cannot read the lab state record: %s" % k8s.describe_error(exc)
            result = dict(current=False, facts={}, value=None, recorded=None, reasons=[reason],
                          summary="%s: runs in full (%s)" % (params["name"], reason))
        module.exit_json(changed=False, **result)
    k8s.exit_flow(module, run, "write the lab state record %s" % params["name"])


if __name__ == "__main__":
    main()
