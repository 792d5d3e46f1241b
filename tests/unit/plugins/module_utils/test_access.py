# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Unit tests for plugins/module_utils/access.py: how a VM is reached on a real cluster."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shlex

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import access

RED = {"name": "red", "namespace": "red-namespace", "ipv4": "192.168.0.3", "ipv6": "fd00:192:168::3",
       "ips": ["192.168.0.3", "fd00:192:168::3"]}
BASTION = {"namespace": "red-namespace", "name": "udn-lab-bastion"}


def test_ssh_goes_through_the_bastion_with_nc_and_never_through_virtctl_port_forward():
    got = access.vm_access(RED, BASTION, kubectl="/lab/bin/kubectl", kubeconfig="/lab/kubeconfig",
                           virtctl="/lab/bin/virtctl", key="/lab/ssh/id_ed25519", known_hosts="/lab/ssh/known_hosts")
    assert got["address"] == "192.168.0.3"
    assert got["proxy_command"] == ("/lab/bin/kubectl --kubeconfig /lab/kubeconfig exec -i -n red-namespace "
                                    "deploy/udn-lab-bastion -- nc %h %p")
    argv = shlex.split(got["ssh_command"])
    assert argv[0] == "ssh" and argv[-1] == "fedora@192.168.0.3"
    assert "ProxyCommand=" + got["proxy_command"] in argv and "-i" in argv
    assert "port-forward" not in got["ssh_command"] and "port-forward" not in got["ssh_args"]
    # Ansible splits ansible_ssh_common_args with shlex: the ProxyCommand must stay one word
    assert "ProxyCommand=" + got["proxy_command"] in shlex.split(got["ssh_args"])
    assert "UserKnownHostsFile=/lab/ssh/known_hosts" in shlex.split(got["ssh_args"])


def test_console_is_the_seed_command_with_the_lab_kubeconfig():
    got = access.vm_access(RED, BASTION, virtctl="virtctl", kubeconfig="/lab/kubeconfig")
    assert got["console_command"] == "virtctl console --kubeconfig /lab/kubeconfig -n red-namespace red"
    assert access.vm_access(RED, BASTION)["console_command"] == "virtctl console -n red-namespace red"


def test_ipv6_only_vm_is_reached_by_its_ipv6_address():
    vm = {"name": "blue", "namespace": "blue-namespace", "ipv4": "", "ipv6": "fd00:192:168::4",
          "ips": ["fd00:192:168::4"]}
    assert access.vm_access(vm, BASTION)["address"] == "fd00:192:168::4"
    assert access.vm_access(vm, BASTION)["ssh_command"].endswith("fedora@fd00:192:168::4")


def test_own_proxy_command_replaces_the_bastion():
    got = access.vm_access(RED, None, proxy_command="ssh -W %h:%p jump.example")
    assert got["proxy_command"] == "ssh -W %h:%p jump.example"


def test_paths_with_spaces_are_quoted():
    got = access.vm_access(RED, BASTION, kubeconfig="/my labs/kubeconfig")
    assert "'/my labs/kubeconfig'" in got["proxy_command"]


@pytest.mark.parametrize("vm,bastion,message", [
    ({"name": "red", "namespace": "red-namespace", "ips": []}, BASTION, "has no address yet"),
    (RED, None, "no bastion on its network"),
    ({"name": "red"}, BASTION, "needs a name and a namespace"),
    (RED, {"namespace": "red-namespace"}, "needs a namespace and a Deployment name"),
])
def test_unusable_inputs_are_refused(vm, bastion, message):
    with pytest.raises(access.AccessError, match=message):
        access.vm_access(vm, bastion)


def _socket_fits(path):
    """Whether a Unix socket can listen on ``path`` (what ssh's control master does)."""
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        return True
    except OSError:
        return False
    finally:
        sock.close()


def _dir_of_length(base, length):
    """A directory under ``base`` whose path is exactly ``length`` characters."""
    import os

    path = os.path.join(str(base), "d" * (length - len(str(base)) - 1))
    os.makedirs(path)
    return path


@pytest.mark.parametrize("length", [60, 79, 80, 95])
def test_control_sockets_fit_a_unix_socket_address_or_move_to_a_short_directory(length):
    """Ansible's control socket is <dir>/<10 hex digits>; ssh's master first listens on it plus . and 16 random
    characters. Under a directory of 79 characters that fits a Unix socket address, at 80 it does not (the lab's
    VM workshop under pytest-xdist's longer tmp path waited out its whole timeout on exactly this)."""
    import shutil
    import tempfile

    base = tempfile.mkdtemp(prefix="cp", dir="/tmp")
    try:
        configured = _dir_of_length(base, length)
        chosen = access.ssh_control_path_dir(configured)
        master = "/0123456789.abcdefghijklmnop"  # what ssh binds first (muxserver_listen)
        assert _socket_fits(configured + master) == (length <= 79)
        if length <= 79:
            assert chosen == configured
        else:
            assert chosen.startswith("/tmp/udn-lab-cp-") and len(chosen) == len("/tmp/udn-lab-cp-") + 10
            assert len(chosen + master) <= access.UNIX_SOCKET_PATH_MAX < len(configured + master)
            assert access.ssh_control_path_dir(configured) == chosen  # the same lab, the same directory
            assert access.ssh_control_path_dir(configured + "x") != chosen  # another lab, another one
    finally:
        shutil.rmtree(base)


def test_vm_access_gives_each_vm_of_each_lab_its_own_control_path_directory():
    """Ansible names a control socket after host, port and user only: two labs on one machine reach their VMs at
    the same addresses (the workshop's subnets), and would share one master connection, each reaching the other
    lab's VM."""
    red_b = dict(RED, namespace="red-b")  # the same address on another, overlapping network
    dirs = {}
    for kubeconfig in ("/labs/a/kubeconfig", "/labs/b/kubeconfig"):
        for vm in (RED, red_b):
            chosen = access.vm_access(vm, BASTION, kubeconfig=kubeconfig,
                                      control_path_dir="/home/lab/.ansible/cp/")["control_path_dir"]
            assert chosen.startswith("/home/lab/.ansible/cp/udn-lab-") and len(chosen) == len(
                "/home/lab/.ansible/cp/udn-lab-") + 10, chosen
            dirs[(kubeconfig, vm["namespace"])] = chosen
    assert len(set(dirs.values())) == 4, dirs
    # the same lab and VM on a re-run: the same directory (its master connection is reused)
    assert access.vm_access(RED, BASTION, kubeconfig="/labs/a/kubeconfig", control_path_dir="/home/lab/.ansible/cp")[
        "control_path_dir"] == dirs[("/labs/a/kubeconfig", RED["namespace"])]
    short = access.vm_access(RED, BASTION)["control_path_dir"]
    assert short.startswith("/tmp/udn-lab-cp-")
    assert access.vm_access(red_b, BASTION)["control_path_dir"] not in (short, "")


@pytest.mark.parametrize("length", [59, 60, 61])
def test_a_vms_own_directory_falls_back_to_tmp_when_its_sockets_would_not_fit(length):
    configured = "/" + "d" * (length - 1)
    own = access.ssh_control_path_dir(configured, "lab-a")
    other = access.ssh_control_path_dir(configured, "lab-b")
    master = "/0123456789.abcdefghijklmnop"
    if length <= 60:  # 60 + /udn-lab-<10> = 79
        assert own.startswith(configured + "/udn-lab-") and len(own + master) <= access.UNIX_SOCKET_PATH_MAX
    else:
        assert own.startswith("/tmp/udn-lab-cp-") and len(own + master) <= access.UNIX_SOCKET_PATH_MAX
    assert own != other
