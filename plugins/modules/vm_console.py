#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Log into a VM on its serial console (virtctl console) and run one command there."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vm_console
short_description: Log into a VM on its serial console, as the workshop does, and run one command
version_added: 0.1.0
description:
  - Runs C(virtctl console) in a pseudo-terminal, answers the guest's C(login:) and C(Password:) prompts, runs
    O(command) at the shell prompt, logs out and leaves the console with Ctrl+].
  - The console goes through virt-api and virt-handler to the launcher's serial socket, not through the pod
    network, so it works for a VM whose primary network is a user-defined network (KubeVirt v1.8.4
    C(pkg/virtctl/console)).
  - A console that does not answer, a refused login or a command without result is an answer, not a failure
    (RV(logged_in), RV(rc), RV(error)); the task fails only on bad input or when C(virtctl) cannot be started.
  - Reads only; never reports a change. Runs in check mode too.
  - The password is never returned; RV(transcript) shows it masked.
author:
  - ovnk.udn_lab maintainers (@ovnk)
options:
  virtctl:
    description: The C(virtctl) binary.
    type: path
    default: virtctl
  kubeconfig:
    description: Kubeconfig C(virtctl) uses.
    type: path
  name:
    description: Name of the VirtualMachineInstance.
    type: str
    required: true
  namespace:
    description: Namespace of the VirtualMachineInstance.
    type: str
    required: true
  user:
    description: User to log in as.
    type: str
    required: true
  password:
    description: Password of O(user) (the lab's console password).
    type: str
    required: true
  command:
    description: The command to run at the shell prompt (argument list; each argument is quoted).
    type: list
    elements: str
    required: true
  timeout:
    description: Seconds for the whole session (connect, log in, run the command).
    type: int
    default: 120
notes:
  - Runs on the host that has C(virtctl) and the kubeconfig (the Ansible controller in the lab's playbooks).
"""

EXAMPLES = r"""
- name: Log into the red VM as the workshop does and show its addresses
  ovnk.udn_lab.vm_console:
    virtctl: "{{ lab_dir }}/bin/virtctl"
    kubeconfig: "{{ lab_dir }}/kubeconfig"
    name: red
    namespace: red-namespace
    user: fedora
    password: "{{ console_password }}"
    command: [ip, -j, -4, addr, show, scope, global]
  register: console
"""

RETURN = r"""
connected:
  description: Whether the console printed anything.
  returned: always
  type: bool
logged_in:
  description: Whether a shell prompt was reached.
  returned: always
  type: bool
rc:
  description: Exit status of O(command) in the guest; null when it did not run.
  returned: always
  type: int
  sample: 0
stdout:
  description: What O(command) printed (the console's carriage returns and escape sequences removed).
  returned: always
  type: str
error:
  description: What went wrong (no answer, a refused login, no prompt, no result in time); null when it worked.
  returned: always
  type: str
transcript:
  description: The last part of what the console showed, the password masked.
  returned: always
  type: str
"""

import os
import pty
import select
import signal
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ovnk.udn_lab.plugins.module_utils import console


class PtyTerminal(object):
    """The master side of a pseudo-terminal whose slave is virtctl's stdin, stdout and stderr."""

    def __init__(self, fd):
        self.fd = fd

    def read(self, timeout):
        ready, dummy, dummy2 = select.select([self.fd], [], [], timeout)
        if not ready:
            return ""
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # EIO: the other side closed
            return None
        return data.decode("utf-8", "replace") if data else None

    def write(self, text):
        try:
            os.write(self.fd, text.encode("utf-8"))
        except OSError:
            pass  # the console is gone: what it showed is the answer


def reap(pid, grace=5.0):
    """Wait for the child to end (it leaves after Ctrl+]), killing it after ``grace`` seconds."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        done, dummy = os.waitpid(pid, os.WNOHANG)
        if done:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def argument_spec():
    return dict(
        virtctl=dict(type="path", default="virtctl"),
        kubeconfig=dict(type="path"),
        name=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
        user=dict(type="str", required=True),
        password=dict(type="str", required=True, no_log=True),
        command=dict(type="list", elements="str", required=True),
        timeout=dict(type="int", default=120),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    if p["timeout"] < 1 or not p["command"]:
        module.fail_json(msg="timeout must be at least 1 s and command must not be empty")
    binary = p["virtctl"] if os.sep in p["virtctl"] else module.get_bin_path(p["virtctl"])
    if not binary or not os.access(binary, os.X_OK):
        module.fail_json(msg="cannot run {0}: not found or not executable".format(p["virtctl"]))
    argv = [binary, "console", p["name"], "-n", p["namespace"]]
    if p["kubeconfig"]:
        argv += ["--kubeconfig", p["kubeconfig"]]
    # virtctl console and the guest talk to a terminal, which run_command cannot give: a child on a pty
    pid, master = pty.fork()
    if pid == 0:  # the child: virtctl, its stdin, stdout and stderr the pty
        try:
            os.execv(binary, argv)
        finally:
            os._exit(127)
    try:
        result = console.login_and_run(PtyTerminal(master), p["user"], p["password"], p["command"], p["timeout"],
                                       time.monotonic)
    finally:
        reap(pid)
        os.close(master)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
