# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: vm_access
short_description: How to reach a VM of the lab over SSH (through a bastion on its network) and its console
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - Builds the SSH ProxyCommand, the arguments for C(ansible_ssh_common_args), a copy-paste C(ssh) command and
    the C(virtctl console) command for one VM.
  - C(virtctl port-forward) and C(virtctl ssh) cannot reach a VM whose primary network is a user-defined network
    (virt-api dials it from the default network, KubeVirt v1.8.4), so SSH goes through C(kubectl exec -i) into a
    bastion pod on the VM's own network running C(nc %h %p).
positional: bastion
options:
  _input:
    description: The VM as the VM workshop records it (C(name), C(namespace), C(ipv4), C(ipv6), C(ips)).
    type: dict
    required: true
  bastion:
    description: C(namespace) and C(name) of the bastion Deployment on the VM's network.
    type: dict
    default: {}
  kubectl:
    description: kubectl command.
    type: str
    default: kubectl
  kubeconfig:
    description: Kubeconfig path for kubectl and virtctl; empty = their defaults.
    type: str
    default: ''
  virtctl:
    description: virtctl command (console instructions).
    type: str
    default: virtctl
  user:
    description: Guest user.
    type: str
    default: fedora
  key:
    description: Private key file.
    type: str
    default: ''
  known_hosts:
    description: known_hosts file of the lab.
    type: str
    default: ''
  proxy_command:
    description: A ProxyCommand to use instead of the bastion (C(%h) the VM's address, C(%p) the port).
    type: str
    default: ''
  control_path_dir:
    description:
      - Ansible's configured C(control_path_dir) of the ssh connection, expanded. The result is a directory of this
        VM's own under it (from the kubeconfig and the VM's namespace and name), since Ansible names a control socket
        after host, port and user only, and two labs on one machine, or two VMs on overlapping networks, reach
        their VMs at the same address. When the control sockets ssh makes there would not fit a Unix socket address
        (107 bytes), the result names a short directory under C(/tmp) instead (a long C(HOME) would otherwise make
        every SSH connection fail).
    type: str
    default: ''
"""

EXAMPLES = r"""
- name: Add a VM to the inventory, reached through the bastion of its network
  ansible.builtin.add_host:
    name: red.red-namespace
    ansible_host: "{{ (vm | ovnk.udn_lab.vm_access({'namespace': 'red-namespace', 'name': 'udn-lab-bastion'})).address }}"
    ansible_ssh_common_args: "{{ (vm | ovnk.udn_lab.vm_access({'namespace': 'red-namespace', 'name': 'udn-lab-bastion'})).ssh_args }}"
    ansible_control_path_dir: >-
      {{ (vm | ovnk.udn_lab.vm_access({'namespace': 'red-namespace', 'name': 'udn-lab-bastion'},
      control_path_dir=lookup('ansible.builtin.config', 'control_path_dir', plugin_type='connection',
      plugin_name='ssh') | expanduser)).control_path_dir }}
"""

RETURN = r"""
_value:
  description:
    - C(address) (the VM's IPv4 address, else its IPv6 one), C(proxy_command), C(ssh_args) (for
      C(ansible_ssh_common_args)), C(control_path_dir) (for C(ansible_control_path_dir)), C(ssh_command) and
      C(console_command) (for a person at a shell).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.ovnk.udn_lab.plugins.module_utils.access import AccessError
from ansible_collections.ovnk.udn_lab.plugins.module_utils.access import vm_access as _vm_access


def vm_access(vm, bastion=None, kubectl="kubectl", kubeconfig="", virtctl="virtctl", user="fedora", key="",
              known_hosts="", proxy_command="", control_path_dir=""):
    """Filter entry point: see DOCUMENTATION."""
    try:
        return _vm_access(vm, bastion=bastion or None, kubectl=kubectl, kubeconfig=kubeconfig, virtctl=virtctl,
                          user=user, key=key, known_hosts=known_hosts, proxy_command=proxy_command,
                          control_path_dir=control_path_dir)
    except AccessError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    """ovnk.udn_lab VM access filter."""

    def filters(self):
        return {"vm_access": vm_access}
