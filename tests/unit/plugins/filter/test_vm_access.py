"""The vm_access filter wraps module_utils.access and turns its errors into AnsibleFilterError."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ovnk.udn_lab.plugins.filter.vm_access import FilterModule

VM = {"name": "red", "namespace": "red-namespace", "ipv4": "192.168.0.3", "ipv6": "", "ips": ["192.168.0.3"]}


def test_filter_is_registered_and_builds_the_bastion_path():
    vm_access = FilterModule().filters()["vm_access"]
    got = vm_access(VM, {"namespace": "red-namespace", "name": "udn-lab-bastion"}, kubeconfig="/lab/kubeconfig")
    assert got["address"] == "192.168.0.3"
    assert got["proxy_command"].endswith("exec -i -n red-namespace deploy/udn-lab-bastion -- nc %h %p")


def test_filter_error_names_the_vm():
    vm_access = FilterModule().filters()["vm_access"]
    with pytest.raises(AnsibleFilterError, match="red-namespace/red: no bastion"):
        vm_access(VM, {})
