#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: participant_access
short_description: Give one classroom participant their own credentials, fenced to their namespaces
version_added: 0.1.0
description:
  - With O(state=present), makes sure of the shared ClusterRole C(udn-lab-participant) (what a participant may do in
    a namespace of theirs), and of the participant's own objects, all labelled with O(labels) and
    C(udn-lab.ovnk.io/participant=<participant>), a ServiceAccount named after the participant, a RoleBinding to
    the shared ClusterRole in each of O(namespaces), and a ClusterRole and ClusterRoleBinding of their own that
    read only their O(namespaces) and O(cluster_networks) by name.
  - Each object is created when missing and updated only when its rules, subjects, roleRef or labels differ (a
    binding whose roleRef differs is replaced). An object of the same name that lacks the lab's ownership labels,
    or is another participant's, is never taken over; the module fails naming it and changes nothing.
  - Then writes the participant's kubeconfig O(dest) (mode 0600, written atomically) with a token the API server
    issues for the ServiceAccount (TokenRequest, O(token_seconds)), the API server O(server) and the CA of the
    connection the module uses. A kubeconfig already at O(dest) that points at the same server as the same
    participant, with a token of the current ServiceAccount valid for more than O(renew_before) seconds, is kept.
  - With O(state=absent), deletes the objects that carry every label of O(labels) and this participant's label
    (nothing else), and O(dest); the shared ClusterRole stays unless O(remove_shared=true).
  - The token is never returned or logged. Check mode predicts C(changed) without writing or asking for a token.
author:
  - ovnk.udn_lab maintainers (@ovnk)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  participant:
    description: The participant (a DNS label; their ServiceAccount's name).
    type: str
    required: true
  namespaces:
    description:
      - The participant's namespaces (they must exist for O(state=present)). The first is their home, the
        kubeconfig's default namespace and, unless O(service_account_namespace) says otherwise, where their
        ServiceAccount lives.
    type: list
    elements: str
    default: []
  service_account_namespace:
    description: Where the participant's ServiceAccount lives (an existing namespace); the first of O(namespaces)
      when not set.
    type: str
  cluster_networks:
    description: The ClusterUserDefinedNetworks the participant may read (by name).
    type: list
    elements: str
    default: []
  labels:
    description:
      - The lab's ownership labels (C(app.kubernetes.io/managed-by) and C(udn-lab.ovnk.io/lab), both needed); every
        object gets them and the participant label. The lab label names the kubeconfig's cluster.
    type: dict
    required: true
  dest:
    description: The participant's kubeconfig file.
    type: path
    required: true
  server:
    description: The API server URL written into the kubeconfig; the one the module connects to when not set.
    type: str
  token_seconds:
    description: The token's lifetime asked of the API server (TokenRequest C(expirationSeconds); it may grant less).
    type: int
    default: 86400
  renew_before:
    description: An existing kubeconfig whose token expires within this many seconds is written anew.
    type: int
    default: 3600
  remove_shared:
    description: With O(state=absent), also delete the shared ClusterRole (other participants' RoleBindings use it).
    type: bool
    default: false
  state:
    description: V(present) gives the participant access, V(absent) takes it away.
    type: str
    choices: [present, absent]
    default: present
requirements:
  - kubernetes >= 24.2.0 (Python client)
  - PyYAML
notes:
  - The module connects as the lab's administrator (O(kubeconfig) and the other connection options), not as the
    participant; M(ovnk.udn_lab.participant_fences_info) checks what the participant's kubeconfig may do.
"""

EXAMPLES = r"""
- name: Give ada her kubeconfig
  ovnk.udn_lab.participant_access:
    kubeconfig: "{{ udn_lab_kubeconfig }}"
    participant: ada
    namespaces: [ada-blue, ada-red-namespace, ada-default]
    cluster_networks: [ada-colored-enterprise]
    labels:
      app.kubernetes.io/managed-by: ovnk.udn_lab
      udn-lab.ovnk.io/lab: ovn-k-helm
    dest: "{{ playbook_dir }}/participants/ada.kubeconfig"
  register: ada_access

- name: Take it away again
  ovnk.udn_lab.participant_access:
    kubeconfig: "{{ udn_lab_kubeconfig }}"
    participant: ada
    labels:
      app.kubernetes.io/managed-by: ovnk.udn_lab
      udn-lab.ovnk.io/lab: ovn-k-helm
    dest: "{{ playbook_dir }}/participants/ada.kubeconfig"
    state: absent
"""

RETURN = r"""
kubeconfig:
  description: The participant's kubeconfig file (O(dest)).
  returned: always
  type: str
  sample: participants/ada.kubeconfig
objects:
  description:
    - What changed (or, in check mode, would), each C(object) (C(Kind namespace/name), or C(file <path>)) with its
      C(action) (V(create), V(update), V(replace), V(delete), V(mode 0600)).
  returned: always
  type: list
  elements: dict
  sample: [{"object": "RoleBinding ada-blue/udn-lab-participant", "action": "create"}]
token_renewed:
  description: Whether the kubeconfig got a new token (or, in check mode, would).
  returned: state is present
  type: bool
  sample: true
expires:
  description: When the kubeconfig's token expires (UTC); null when check mode predicts a new token.
  returned: state is present
  type: str
  sample: "2026-11-28T10:00:00Z"
"""

import time

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s
from ansible_collections.ovnk.udn_lab.plugins.module_utils import participants

try:
    import yaml
except ImportError:  # AnsibleK8SModule needs it too, and fails first naming it
    yaml = None


def argument_spec():
    spec = dict(k8s.AUTH_ARG_SPEC)
    spec.update(participant=dict(type="str", required=True),
                namespaces=dict(type="list", elements="str", default=[]),
                service_account_namespace=dict(type="str"),
                cluster_networks=dict(type="list", elements="str", default=[]),
                labels=dict(type="dict", required=True),
                dest=dict(type="path", required=True),
                server=dict(type="str"),
                token_seconds=dict(type="int", default=86400, no_log=False),
                renew_before=dict(type="int", default=3600),
                remove_shared=dict(type="bool", default=False),
                state=dict(type="str", choices=["present", "absent"], default="present"))
    return spec


def main():
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    labels = dict((str(k), str(v)) for k, v in params["labels"].items())

    def flow(api):
        if params["state"] == "absent":
            return participants.take_access(api, params["participant"], labels, params["dest"],
                                            remove_shared=params["remove_shared"], check_mode=module.check_mode)
        return participants.give_access(
            api, params["participant"], params["namespaces"], params["cluster_networks"], labels, params["dest"],
            now=time.time(), dump=lambda data: yaml.safe_dump(data, default_flow_style=False), load=yaml.safe_load,
            server=params["server"], service_account_namespace=params["service_account_namespace"],
            token_seconds=params["token_seconds"], renew_before=params["renew_before"], check_mode=module.check_mode)

    k8s.exit_flow(module, flow, "give participant {0} their access".format(params["participant"])
                  if params["state"] == "present" else "take participant {0}'s access away".format(params["participant"]))


if __name__ == "__main__":
    main()
