#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: participant_fences_info
short_description: Prove a classroom participant's fences with the participant's own kubeconfig
version_added: 0.1.0
description:
  - Connects as the participant (O(kubeconfig) is the participant's, as M(ovnk.udn_lab.participant_access) writes
    it) and asks the API server, for each fence check, a SelfSubjectAccessReview whether the participant may do
    it.
  - For each check that is a plain get, list or delete (no subresource), also makes the real request and records
    the API server's HTTP status; a refused check must be answered 403, an allowed one anything but 403. A delete
    is sent as a dry run (C(dryRun=All)), which the API server authorizes as a delete and which changes nothing.
  - The checks are what the participant must and must not be able to do (C(fence_checks) of the collection's
    classroom module_utils), given as O(checks) or built from O(participant) and O(others).
  - Never changes anything (C(changed) is always false); supports check mode.
author:
  - ovnk.udn_lab maintainers (@ovnk)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  participant:
    description: The participant whose fences to prove (with O(others)).
    type: str
  others:
    description:
      - Every participant (O(participant) too) and what is theirs, C(namespaces) (the first their home),
        C(cluster_networks) and C(vms) (a list of C([namespace, name])).
    type: dict
  checks:
    description:
      - The checks themselves instead of O(participant) and O(others), each with C(id), C(claim), C(attributes)
        (C(namespace), C(verb), C(group), C(resource), C(subresource), C(name)) and C(expect) (allowed or not).
    type: list
    elements: dict
  fail_on_wrong:
    description: Fail when a check is wrong or unknown (no review answered).
    type: bool
    default: true
requirements:
  - kubernetes >= 24.2.0 (Python client)
"""

EXAMPLES = r"""
- name: Prove ada's fences with her own kubeconfig
  ovnk.udn_lab.participant_fences_info:
    kubeconfig: "{{ playbook_dir }}/participants/ada.kubeconfig"
    participant: ada
    others:
      ada: {namespaces: [ada-blue], cluster_networks: [ada-colored-enterprise], vms: [[ada-vm, vm-a]]}
      bob: {namespaces: [bob-blue], cluster_networks: [bob-colored-enterprise], vms: [[bob-vm, vm-a]]}
  register: ada_fences
"""

RETURN = r"""
fences:
  description:
    - Each check with C(observed) (the review's answer, null when none), C(request) (C(METHOD path) of the real
      request, null when there is none), C(http_status) (its answer) and C(status) (V(correct), V(wrong),
      V(unknown)).
  returned: always
  type: list
  elements: dict
  sample: [{"id": "ada:not-bob-pods", "claim": "a participant cannot list another participant's pods",
            "attributes": {"namespace": "bob-blue", "verb": "list", "resource": "pods"}, "expect": false,
            "observed": false, "request": "GET /api/v1/namespaces/bob-blue/pods", "http_status": 403,
            "status": "correct"}]
wrong:
  description: The ids of the checks not proven correct.
  returned: always
  type: list
  elements: str
  sample: []
summary:
  description: How many fences hold, and which do not.
  returned: always
  type: str
  sample: "21 of 21 fences hold"
"""

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.ovnk.udn_lab.plugins.module_utils import classroom
from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s
from ansible_collections.ovnk.udn_lab.plugins.module_utils import participants
from ansible_collections.ovnk.udn_lab.plugins.module_utils.waits import FlowError


def argument_spec():
    spec = dict(k8s.AUTH_ARG_SPEC)
    spec.update(participant=dict(type="str"),
                others=dict(type="dict"),
                checks=dict(type="list", elements="dict"),
                fail_on_wrong=dict(type="bool", default=True))
    return spec


def main():
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True,
                              mutually_exclusive=[("checks", "participant"), ("checks", "others")],
                              required_together=[("participant", "others")],
                              required_one_of=[("checks", "participant")])
    params = module.params
    checks = params["checks"]
    if checks is None:
        if params["participant"] not in params["others"]:
            module.fail_json(msg="others must hold the participant {0!r} too".format(params["participant"]))
        checks = classroom.fence_checks(params["participant"], params["others"])

    def flow(api):
        result = participants.prove_fences(api, checks)
        if result["wrong"] and params["fail_on_wrong"]:
            raise FlowError(result["summary"], **result)
        return result

    k8s.exit_flow(module, flow, "prove the participant's fences")


if __name__ == "__main__":
    main()
