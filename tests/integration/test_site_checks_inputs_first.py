# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""site.yml checks the inputs of every part before its first change (playbooks/check_inputs.yml): a bad input of
a later part is refused, naming its variable, before `kind create cluster` runs. A recording fake `kind` and
`docker` first on PATH prove nothing was called."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import sys

import pytest
import yaml

STUB = r'''#!/usr/bin/env python3
import json, os, sys
with open(os.environ["STUB_LOG"], "a") as log:
    log.write(json.dumps([os.path.basename(sys.argv[0])] + sys.argv[1:]) + "\n")
'''


def _defaults(repo_root, role):
    return yaml.safe_load((repo_root / "roles" / role / "defaults" / "main.yml").read_text())


def _networks_with(repo_root, index, family, cidr):
    networks = copy.deepcopy(_defaults(repo_root, "pod_workshop")["pod_workshop_networks"])
    sub = networks[index]["subnets"][family]
    if isinstance(sub, dict):
        sub["cidr"] = cidr
    else:
        networks[index]["subnets"][family] = cidr
    return networks


def _vms_with(repo_root, **changes):
    vms = copy.deepcopy(_defaults(repo_root, "vm_workshop")["vm_workshop_vms"])
    vms[0].update(changes)
    return vms


CASES = {
    "too few workers for the migration": (lambda r: {"kind_cluster_workers": 1}, "kind_cluster_workers"),
    "a UDN CIDR with host bits": (lambda r: {"pod_workshop_networks": _networks_with(r, 0, "ipv4", "103.103.1.0/16")},
                                  "subnets.ipv4 103.103.1.0/16 is not a network"),
    "a UDN over OVN-K's join subnet": (lambda r: {"pod_workshop_networks": _networks_with(r, 0, "ipv4", "100.64.0.0/16")},
                                       "overlaps 100.64.0.0/16, the default network's join subnet"),
    "a VM's memory": (lambda r: {"vm_workshop_vms": _vms_with(r, memory="lots")}, 'memory is "lots"'),
    "a KubeVirt version": (lambda r: {"kubevirt_version": "1.8"}, "kubevirt_version"),
    "an OVN-K host prefix": (lambda r: {"ovn_kubernetes_host_prefix_ipv4": 16}, "ovn_kubernetes_host_prefix_ipv4"),
    "pod and service subnets overlapping": (lambda r: {"kind_cluster_pod_subnet": "10.96.0.0/12"},
                                            "kind_cluster_pod_subnet 10.96.0.0/12 overlaps kind_cluster_service_subnet"),
    "a misspelt field of the version matrix": (lambda r: {"udn_lab_versions_override": {"kubevirt": {"versoin": "v1"}}},
                                               "udn_lab_versions_override.kubevirt.versoin is not a field of kubevirt"),
    "a zero API timeout": (lambda r: {"kind_cluster_api_timeout": 0},
                           "kind_cluster_api_timeout is 0: it must be a whole number >= 1"),
    "a negative probe timeout": (lambda r: {"pod_workshop_probe_timeout": -1}, "pod_workshop_probe_timeout is -1"),
    "a zero VM wait": (lambda r: {"vm_workshop_wait_timeout": 0}, "vm_workshop_wait_timeout is 0"),
    "a mirror directory that does not exist": (lambda r: {"udn_lab_mirror_dir": "/nonexistent/udn-lab-mirror"},
                                               "udn_lab_mirror_dir '/nonexistent/udn-lab-mirror' does not exist"),
    "a checksum that is not one": (lambda r: {"udn_lab_versions_override": {"virtctl": {"sha256": "deadbeef"}}},
                                   'udn_lab_versions_override.virtctl.sha256 "deadbeef" is not a sha256'),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_site_refuses_a_bad_input_of_any_part_before_the_cluster_is_created(repo_root, tmp_path, case):
    extra, expected = CASES[case]
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for name in ("kind", "docker", "podman", "helm", "kubectl"):
        (stubs / name).write_text(STUB.replace("/usr/bin/env python3", sys.executable))
        (stubs / name).chmod(0o755)
    log = tmp_path / "calls.log"
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_COLLECTIONS_PATH=str(repo_root / ".collections"), ANSIBLE_NOCOLOR="1", STUB_LOG=str(log),
               PATH=os.pathsep.join([str(stubs), os.environ.get("PATH", "")]), HOME=str(tmp_path / "home"))
    variables = dict(udn_lab_dir=str(tmp_path / "lab"), kind_cluster_install_tools=False,
                     kind_cluster_kind_bin=str(stubs / "kind"), kind_cluster_runtime_bin=str(stubs / "docker"))
    variables.update(extra(repo_root))
    import subprocess

    proc = subprocess.run(["ansible-playbook", "site.yml", "-e", json.dumps(variables)], cwd=str(repo_root), env=env,
                          capture_output=True, text=True, check=False, timeout=600)
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode != 0, out[-3000:]
    assert expected in out, out[-3000:]
    assert "Check every input of the lab before anything changes" in out
    assert "PLAY [Build the workshop cluster]" not in out, out[-3000:]
    assert not log.exists(), log.read_text()  # no kind, docker, helm or kubectl call at all
    assert not (tmp_path / "lab").exists() or not any((tmp_path / "lab").iterdir())


def test_render_refuses_a_bad_override_of_the_version_matrix_and_writes_nothing(repo_root, tmp_path):
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_COLLECTIONS_PATH=str(repo_root / ".collections"), ANSIBLE_NOCOLOR="1",
               HOME=str(tmp_path / "home"))
    variables = {"udn_lab_dir": str(tmp_path / "lab"), "udn_lab_render_dir": str(tmp_path / "rendered"),
                 "udn_lab_versions_override": {"kubevirtt": {"version": "v1.8.4"}}}
    import subprocess

    proc = subprocess.run(["ansible-playbook", "playbooks/render.yml", "-e", json.dumps(variables)],
                          cwd=str(repo_root), env=env, capture_output=True, text=True, check=False, timeout=600)
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode != 0, out[-3000:]
    assert "udn_lab_versions_override.kubevirtt is not an artifact of the version matrix" in out, out[-3000:]
    assert not (tmp_path / "rendered").exists()


@pytest.mark.parametrize("playbook, extra", [
    ("playbooks/teardown.yml", {}),  # the default scope (workloads)
    ("playbooks/migrate.yml", {"migrations": 1}),
])
def test_teardown_and_migrate_without_a_lab_say_so_and_change_nothing(repo_root, tmp_path, playbook, extra):
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_COLLECTIONS_PATH=str(repo_root / ".collections"), ANSIBLE_NOCOLOR="1",
               HOME=str(tmp_path / "home"))
    lab = tmp_path / "labs" / "ovn-k-helm"
    variables = dict({"udn_lab_dir": str(lab), "udn_lab_kubeconfig": str(lab / "kubeconfig")}, **extra)
    import subprocess

    proc = subprocess.run(["ansible-playbook", playbook, "-e", json.dumps(variables)], cwd=str(repo_root), env=env,
                          capture_output=True, text=True, check=False, timeout=600)
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode != 0, out[-3000:]
    assert "No lab exists at %s: its kubeconfig %s/kubeconfig (udn_lab_kubeconfig) does not exist. Build the lab " \
           "first with `make lab`" % (lab, lab) in out, out[-3000:]
    assert not (tmp_path / "labs").exists()


def test_a_cluster_teardown_in_existing_mode_never_calls_kind(repo_root, tmp_path):
    """The existing_cluster inventory names a cluster the lab did not build: even one named like a local kind
    cluster is not deleted and no kind/docker call is made. (The teardown reads the cluster to know what this lab
    did there; here there is none, and it says so. With a cluster: test_teardown_ownership_sim.py.)"""
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for name in ("kind", "docker", "podman"):
        (stubs / name).write_text(STUB.replace("/usr/bin/env python3", sys.executable))
        (stubs / name).chmod(0o755)
    log = tmp_path / "calls.log"
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_NOCOLOR="1", STUB_LOG=str(log), HOME=str(tmp_path / "home"),
               KUBECONFIG=str(tmp_path / "kubeconfig"), PATH=os.pathsep.join([str(stubs), os.environ.get("PATH", "")]))
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)
    import subprocess

    proc = subprocess.run(["ansible-playbook", "-i", "inventories/existing_cluster", "playbooks/teardown.yml",
                           "-e", "udn_lab_teardown_scope=cluster", "-e", "kind_cluster_kind_bin=%s" % (stubs / "kind")],
                          cwd=str(repo_root), env=env, capture_output=True, text=True, check=False, timeout=600)
    out = " ".join((proc.stdout + proc.stderr).split())
    # it must read the cluster to know what this lab did there: with no kubeconfig it says so, and never calls kind
    assert proc.returncode != 0, out[-3000:]
    assert "No lab exists at " in out and "kubeconfig %s (udn_lab_kubeconfig) does not exist" % (tmp_path / "kubeconfig") \
        in out, out[-3000:]
    assert not log.exists(), log.read_text()


def test_the_vm_workshop_left_out_runs_nothing_of_it_and_says_so(repo_root, tmp_path):
    """udn_lab_workshops: [pods]: the VM workshop and the migration do nothing (not even look for the lab, which
    they otherwise require), and say so."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_COLLECTIONS_PATH=str(repo_root / ".collections"), ANSIBLE_NOCOLOR="1",
               HOME=str(tmp_path / "home"))
    lab = tmp_path / "labs" / "ovn-k-helm"
    variables = {"udn_lab_dir": str(lab), "udn_lab_kubeconfig": str(lab / "kubeconfig"), "udn_lab_workshops": ["pods"],
                 "migrations": 1}
    import subprocess

    proc = subprocess.run(["ansible-playbook", "playbooks/vm_workshop.yml", "playbooks/migrate.yml",
                           "-e", json.dumps(variables)], cwd=str(repo_root), env=env, capture_output=True, text=True,
                          check=False, timeout=600)
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 0, out[-3000:]
    assert 'The VM workshop is not run: udn_lab_workshops is ["pods"] (the report says so).' in out, out[-3000:]
    assert "ovnk.udn_lab.vm_workshop :" not in out, out[-3000:]
    assert not (tmp_path / "labs").exists()
