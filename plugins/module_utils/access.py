# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""How a VM of the lab is reached, as commands (pure functions).

KubeVirt v1.8.4's ``virtctl port-forward`` and ``virtctl ssh`` cannot reach a VM whose primary network is a
user-defined network: virt-api dials ``status.interfaces[0]``'s address from its own pod on the cluster's default
network (``pkg/virt-api/rest/portforward.go``, ``dialers.go``), and OVN-Kubernetes gives the default network no
route into a UDN (kubevirt/kubevirt#18399, VEP kubevirt/enhancements#405). What works on a real cluster:

* SSH through a bastion on the VM's own network: ``ProxyCommand`` = ``kubectl exec -i`` into a pod of a namespace
  of that network running ``nc %h %p`` (the agnhost test image ships netcat-openbsd), ``%h`` the VM's address;
* the serial console, ``virtctl console -n <namespace> <vm>`` (virt-api → virt-handler → the launcher's serial
  socket: no pod network involved), the seed workshop's way in.

Targets for virtctl are written ``TYPE/NAME/NAMESPACE`` where a target is needed: since KubeVirt 1.7 a dot is part
of the name (``vmi/red.red-namespace`` names a VMI ``red.red-namespace``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os.path

try:
    from shlex import quote
except ImportError:  # pragma: no cover - Python 2 is not supported by the collection
    from pipes import quote

# Ansible's ssh connection names a control socket ``<control_path_dir>/<10 hex digits>`` (ssh.py
# _create_control_path), and ssh's master first listens on that path plus ``.`` and 16 random characters
# (OpenSSH mux.c muxserver_listen), which must fit a Unix socket address: 107 bytes and the NUL (sun_path).
# A longer one makes every connection fail ("unix_listener: path ... too long for Unix domain socket", exit 255):
# a lab under a long HOME would wait out its whole timeout for SSH that can never answer.
UNIX_SOCKET_PATH_MAX = 107
SSH_CONTROL_SOCKET_TAIL = len("/0123456789") + len(".0123456789abcdef")
SHORT_CONTROL_PATH_PARENT = "/tmp"


class AccessError(ValueError):
    """Inputs from which no access command can be built."""


def vm_address(vm):
    """The address SSH uses for a VM: its IPv4 address, else its IPv6 one (``vm`` as the VM workshop records it:
    ``{ipv4, ipv6, ips, ...}``)."""
    for key in ("ipv4", "ipv6"):
        if (vm or {}).get(key):
            return vm[key]
    for ip in (vm or {}).get("ips") or []:
        if ip:
            return ip
    raise AccessError("VM {0}/{1} has no address yet".format((vm or {}).get("namespace"), (vm or {}).get("name")))


def bastion_proxy_command(kubectl, kubeconfig, namespace, deployment):
    """``kubectl exec -i`` into the bastion Deployment, relaying stdin/stdout to ``%h:%p`` with ``nc``."""
    if not namespace or not deployment:
        raise AccessError("a bastion needs a namespace and a Deployment name")
    cmd = [kubectl or "kubectl"]
    if kubeconfig:
        cmd += ["--kubeconfig", kubeconfig]
    cmd += ["exec", "-i", "-n", namespace, "deploy/" + deployment, "--", "nc", "%h", "%p"]
    return " ".join(quote(part) if part not in ("%h", "%p") else part for part in cmd)


def ssh_control_path_dir(configured, lab=""):
    """The directory for Ansible's SSH control sockets to one VM.

    Ansible names a control socket after the host, port and user only, so two VMs at the same address share a
    master connection: the VMs of two labs on one machine (every lab uses the workshop's subnets), or two VMs of
    one lab on overlapping networks. ``lab`` (the lab's kubeconfig and the VM's namespace/name) gives each VM a
    directory of its own, ``<configured>/udn-lab-<hash of lab>`` (Ansible creates it, mode 0700), when the sockets
    ssh makes there fit a Unix socket address; else ``/tmp/udn-lab-cp-<hash of configured and lab>`` (a long
    HOME). Without ``lab``: ``configured`` itself when it fits."""
    configured = (configured or "").rstrip("/")
    own = configured
    if lab and configured:
        own = configured + "/udn-lab-" + hashlib.sha1(lab.encode("utf-8")).hexdigest()[:10]
    if own and len(own.encode("utf-8")) + SSH_CONTROL_SOCKET_TAIL <= UNIX_SOCKET_PATH_MAX:
        return own
    digest = hashlib.sha1((configured + "\0" + lab if lab else configured).encode("utf-8")).hexdigest()[:10]
    return os.path.join(SHORT_CONTROL_PATH_PARENT, "udn-lab-cp-" + digest)


def vm_access(vm, bastion=None, kubectl="kubectl", kubeconfig="", virtctl="virtctl", user="fedora", key="",
              known_hosts="", proxy_command="", control_path_dir=""):
    """Everything needed to reach one VM.

    ``vm``: ``{name, namespace, ipv4, ipv6, ...}``; ``bastion``: ``{namespace, name}`` of the bastion Deployment on
    the VM's network (ignored when ``proxy_command`` is given); ``control_path_dir``: Ansible's configured one
    (expanded). Returns ``{address, proxy_command, ssh_args, control_path_dir, ssh_command, console_command}``:
    ``ssh_args`` for Ansible's ``ansible_ssh_common_args``, ``control_path_dir`` for ``ansible_control_path_dir``
    (:func:`ssh_control_path_dir`), ``ssh_command`` and ``console_command`` for a person at a shell (they work on a
    real cluster).
    """
    if not (vm or {}).get("name") or not (vm or {}).get("namespace"):
        raise AccessError("a VM needs a name and a namespace, got {0!r}".format(vm))
    address = vm_address(vm)
    if proxy_command:
        proxy = proxy_command
    else:
        if not bastion:
            raise AccessError("VM {0}/{1}: no bastion on its network and no proxy command".format(
                vm["namespace"], vm["name"]))
        proxy = bastion_proxy_command(kubectl, kubeconfig, bastion.get("namespace"), bastion.get("name"))
    options = ["-o", "ProxyCommand=" + proxy]
    if known_hosts:
        # the lab's own known_hosts; a VM re-created under the same address gets a new host key (key
        # authentication still works with "no", and the lab never sends a password)
        options += ["-o", "UserKnownHostsFile=" + known_hosts, "-o", "StrictHostKeyChecking=no"]
    if key:
        options += ["-o", "IdentitiesOnly=yes"]
    # (Ansible splits ansible_ssh_common_args with shlex: each option stays one quoted word)
    ssh_args = " ".join(quote(part) for part in options + ["-o", "ConnectTimeout=30"])
    ssh = ["ssh"] + (["-i", key] if key else []) + options + ["{0}@{1}".format(user, address)]
    console = [virtctl or "virtctl", "console"]
    if kubeconfig:
        console += ["--kubeconfig", kubeconfig]
    console += ["-n", vm["namespace"], vm["name"]]
    return {
        "address": address,
        "proxy_command": proxy,
        "ssh_args": ssh_args,
        "control_path_dir": ssh_control_path_dir(control_path_dir, "{0}\0{1}/{2}".format(
            kubeconfig or "", vm["namespace"], vm["name"])),
        "ssh_command": " ".join(quote(part) for part in ssh),
        "console_command": " ".join(quote(part) for part in console),
    }
