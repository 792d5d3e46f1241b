# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""vm_workshop entry points main/migrate: bad input fails with one clear message before anything changes.

The runs use operation create with a kubeconfig that does not exist: validation must stop the play before any
file is written and before the cluster is contacted.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

PLAYBOOK = os.path.join("tests", "integration", "playbooks", "vms_entry.yml")

SEED_VMS = [
    {"name": "red", "namespace": "red-namespace", "network": "happy-tenant", "interface": "happy", "memory": "2048M"},
    {"name": "blue", "namespace": "blue-namespace", "network": "happy-tenant", "interface": "happy", "memory": "2048M"},
]


def run(repo_root, tmp_path, entry_point="main", **extra):
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"), HOME=str(tmp_path / "home"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_CALLBACK_RESULT_FORMAT="json")
    for name in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
        env.pop(name, None)
    (tmp_path / "home").mkdir(exist_ok=True)
    variables = dict(ansible_python_interpreter=sys.executable, ansible_connection="local",
                     udn_lab_dir=str(tmp_path / "lab"), udn_lab_kubeconfig=str(tmp_path / "no-such-kubeconfig"),
                     vms_entry_point=entry_point)
    variables.update(extra)
    cmd = ["ansible-playbook", "-i", "localhost,", PLAYBOOK, "-e", json.dumps(variables)]
    return subprocess.run(cmd, cwd=str(repo_root), env=env, capture_output=True, text=True, check=False)


def vm(**changes):
    out = [dict(v) for v in SEED_VMS]
    out[0].update(changes)
    return out


CASES = {
    "one-worker": (dict(kind_cluster_workers=1, migrations=1), ["kind_cluster_workers", "at least 2 worker"]),
    "memory": (dict(vm_workshop_vms=vm(memory="two gigs")), ["memory", "two gigs", "Kubernetes quantity"]),
    "family": (dict(udn_lab_ip_family="ipv5"), ["vm_workshop_ip_family", "ipv5", "unknown address family"]),
    "network": (dict(vm_workshop_vms=vm(network="sad-tenant")), ["vm_workshop_networks", "sad-tenant is not defined"]),
    # a Primary Layer2 network over OVN-K's masquerade subnet: OVN-K would refuse it (SubnetOverlapCheck)
    "reserved-range": (dict(vm_workshop_networks=[{"name": "happy-tenant", "namespaces": ["red-namespace", "blue-namespace"],
                                                   "role": "Primary", "subnets": {"ipv4": "169.254.169.0/24"}}]),
                       ["vm_workshop_networks happy-tenant: subnets.ipv4 169.254.169.0/24 overlaps 169.254.169.0/29",
                        "pick a range outside it"]),
    "host-bits": (dict(vm_workshop_networks=[{"name": "happy-tenant", "namespaces": ["red-namespace", "blue-namespace"],
                                              "role": "Primary", "subnets": {"ipv4": "192.168.1.0/16"}}]),
                  ["vm_workshop_networks happy-tenant: subnets.ipv4 192.168.1.0/16 is not a network",
                   "(use 192.168.0.0/16)"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_fails_before_any_change(repo_root, tmp_path, case):
    extra, expected = CASES[case]
    result = run(repo_root, tmp_path, **extra)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    for text in expected:
        assert text in out, "{0!r} missing from:\n{1}".format(text, out)
    # Nothing was written (no lab directory, no credentials) and no task reported a change.
    assert not (tmp_path / "lab").exists()
    assert "changed: [" not in out
    # The failing task is a validation task, not a cluster call.
    lines = out.splitlines()
    first_failure = next(i for i, line in enumerate(lines) if line.startswith(("fatal: [", "failed: [")))
    task = [line for line in lines[:first_failure] if line.startswith("TASK [")][-1]
    assert task.startswith("TASK [ovnk.udn_lab.vm_workshop : Check"), task


def test_migration_with_enough_workers_passes_validation(repo_root, tmp_path):
    # Same run with 2 workers: validation passes, and the play only fails later, at the (missing) lab.
    result = run(repo_root, tmp_path, entry_point="migrate", kind_cluster_workers=2, migrations=2)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Check the migration inputs" in out
    assert "No lab exists at" in " ".join(out.split()), out
    assert "at least 2 worker" not in out


def test_migrate_with_zero_migrations_does_nothing(repo_root, tmp_path):
    result = run(repo_root, tmp_path, entry_point="migrate", migrations=0)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "changed=0" in out and "failed=0" in out
    assert "Nothing to do: migrations (vm_workshop_migration_count) is 0. Pass -e migrations=N" in " ".join(out.split())
    assert not (tmp_path / "lab").exists()
