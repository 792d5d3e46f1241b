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

try:
    from shlex import quote
except ImportError:  # pragma: no cover - Python 2 is not supported by the collection
    from pipes import quote


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


def vm_access(vm, bastion=None, kubectl="kubectl", kubeconfig="", virtctl="virtctl", user="fedora", key="",
              known_hosts="", proxy_command=""):
    """Everything needed to reach one VM.

    ``vm``: ``{name, namespace, ipv4, ipv6, ...}``; ``bastion``: ``{namespace, name}`` of the bastion Deployment on
    the VM's network (ignored when ``proxy_command`` is given). Returns ``{address, proxy_command, ssh_args,
    ssh_command, console_command}``: ``ssh_args`` for Ansible's ``ansible_ssh_common_args``, ``ssh_command`` and
    ``console_command`` for a person at a shell (they work on a real cluster).
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
        "ssh_command": " ".join(quote(part) for part in ssh),
        "console_command": " ".join(quote(part) for part in console),
    }
