#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Before applying manifests on a cluster the lab did not build: refuse any that would take over an object the lab
does not own."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ownership_check
short_description: Refuse to apply manifests over objects the lab does not own
version_added: 0.1.0
description:
  - Reads each object of O(definitions) (by C(apiVersion), C(kind), C(metadata.name), C(metadata.namespace)). One
    that exists without every label of O(labels) belongs to someone else, and server-side apply with
    C(force_conflicts) would take it over; the module then fails naming every such object and O(fix), before
    anything is applied.
  - A kind the cluster does not serve yet (its CRD is in the same manifests) has no object to take over.
  - An object of the lab that exists without a label of O(creation_only_labels) its manifest sets is refused too;
    such a label only counts when the object is created with it (a namespace's
    C(k8s.ovn.org/primary-user-defined-network)), so applying the manifest would add it to no effect.
  - Read-only (gets only); never reports a change; supports check mode.
author:
  - ovnk.udn_lab maintainers (@ovnk)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  definitions:
    description: The manifests about to be applied (see also O(src)).
    type: list
    elements: dict
    default: []
  src:
    description: Files on the target holding the manifests about to be applied (YAML, several documents each).
    type: list
    elements: path
    default: []
  labels:
    description: The lab's ownership labels; an object is the lab's when it carries all of them.
    type: dict
    required: true
  fix:
    description: What the user can do instead, appended to the failure message.
    type: str
    default: ""
  creation_only_labels:
    description: Label keys that only count when an object is created with them (see above).
    type: list
    elements: str
    default: []
requirements:
  - kubernetes >= 24.2.0 (Python client)
"""

EXAMPLES = r"""
- name: Apply nothing over objects someone else installed
  ovnk.udn_lab.ownership_check:
    kubeconfig: "{{ udn_lab_kubeconfig }}"
    src: ["{{ udn_lab_render_dir }}/multus-daemonset.yml"]
    labels: {app.kubernetes.io/managed-by: ovnk.udn_lab, udn-lab.ovnk.io/lab: existing}
    fix: drop multus from udn_lab_existing_install
"""

RETURN = r"""
checked:
  description: How many objects were read.
  returned: always
  type: int
  sample: 12
foreign:
  description: The objects that exist and are not the lab's, with the ownership labels they do carry.
  returned: always
  type: list
  elements: dict
  sample: [{"object": "CustomResourceDefinition network-attachment-definitions.k8s.cni.cncf.io", "labels": {}}]
missing_creation_labels:
  description: The lab's objects that exist without a label of O(creation_only_labels) their manifest sets.
  returned: always
  type: list
  elements: dict
  sample: [{"object": "Namespace blue", "missing": ["k8s.ovn.org/primary-user-defined-network"]}]
"""

from ansible.module_utils.common.yaml import yaml_load_all
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s
from ansible_collections.ovnk.udn_lab.plugins.module_utils import ownership
from ansible_collections.ovnk.udn_lab.plugins.module_utils.waits import FlowError


def argument_spec():
    spec = dict(k8s.AUTH_ARG_SPEC)
    spec.update(definitions=dict(type="list", elements="dict", default=[]),
                src=dict(type="list", elements="path", default=[]),
                labels=dict(type="dict", required=True),
                fix=dict(type="str", default=""),
                creation_only_labels=dict(type="list", elements="str", default=[]))
    return spec


def main():
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True)
    definitions = list(module.params["definitions"])
    for path in module.params["src"]:
        try:
            with open(path) as handle:
                definitions += [d for d in yaml_load_all(handle) if isinstance(d, dict)]
        except Exception as exc:  # unreadable or not YAML: one message naming the file
            module.fail_json(msg="cannot read the manifests in {0}: {1}".format(path, exc), changed=False)
    definitions = [d for d in definitions if d and d.get("kind") and (d.get("metadata") or {}).get("name")]

    def flow(api):
        stored = []
        for d in definitions:
            try:
                stored.append(api.get(d.get("apiVersion"), d["kind"], d["metadata"]["name"],
                                      namespace=d["metadata"].get("namespace")))
            except Exception as exc:  # the kind is not served yet: nothing of it to take over
                if type(exc).__name__ != "ResourceNotFoundError":
                    raise
                stored.append(None)
        found = ownership.foreign(definitions, stored, module.params["labels"])
        missing = ownership.missing_creation_labels(definitions, stored, module.params["creation_only_labels"])
        missing = [m for m in missing if m["object"] not in [f["object"] for f in found]]
        result = {"checked": len(definitions), "foreign": found, "missing_creation_labels": missing}
        fix = " Fix: {0}.".format(module.params["fix"]) if module.params["fix"] else ""
        if found:
            raise FlowError("{0} object(s) exist that this lab did not make (they lack its labels {1}): {2}. The lab "
                            "never takes over an object it does not own (nothing was applied).{3}".format(
                                len(found), ", ".join("{0}={1}".format(k, v) for k, v in sorted(module.params["labels"].items())),
                                ", ".join(f["object"] for f in found), fix), **result)
        if missing:
            raise FlowError("{0} object(s) of this lab exist without a label that only counts when set at creation: "
                            "{1}. Applying would add it to no effect (nothing was applied).{2}".format(
                                len(missing), ", ".join("{0} (no {1})".format(m["object"], ", ".join(m["missing"]))
                                                        for m in missing), fix), **result)
        return result

    k8s.exit_flow(module, flow, "read the objects about to be applied")


if __name__ == "__main__":
    main()
