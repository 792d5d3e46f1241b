# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""A classroom's participants run as hosts of their own (classroom entry points hosts and adopt), so that the
playbooks run every participant's workshop at once: the real playbooks/pod_workshop.yml with the operation render
(no cluster), against inventories whose lab hosts carry their settings as host_vars."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import subprocess
import sys

import yaml

PARTICIPANT_LABEL = "udn-lab.ovnk.io/participant"


def run(repo_root, tmp_path, inventory, *args):
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"), HOME=str(tmp_path / "home"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    for name in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
        env.pop(name, None)
    (tmp_path / "home").mkdir(exist_ok=True)
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory))
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(path),
           "playbooks/pod_workshop.yml", "-e", "pod_workshop_operation=render"] + list(args)
    return subprocess.run(cmd, cwd=str(repo_root), env=env, capture_output=True, text=True, check=False)


def lab_host(tmp_path, name, cluster):
    """A lab host whose lab settings are its own host_vars (as inventories/classroom has them), not extra vars."""
    return {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
            "udn_lab_cluster_name": cluster, "udn_lab_dir": str(tmp_path / name / "lab")}


def recap(out):
    return dict((host, dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", rest)))
                for host, rest in re.findall(r"^(\S+)\s+: (ok=.*)$", out, re.M))


def rendered(tmp_path, name, participant):
    path = tmp_path / name / "lab" / "rendered" / "participants" / participant / "workloads" / "pods-namespaces.yaml"
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_each_participant_runs_on_a_host_of_its_own_with_its_lab_hosts_settings(repo_root, tmp_path):
    inventory = {"all": {"hosts": {"lab-a": lab_host(tmp_path, "lab-a", "cluster-a")}}}
    result = run(repo_root, tmp_path, inventory, "-e", "udn_lab_target=lab-a",
                 "-e", json.dumps({"udn_lab_participants": ["ada", "bob", "cy"]}))
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-6000:]
    hosts = recap(out)
    assert sorted(hosts) == ["ada@lab-a", "bob@lab-a", "cy@lab-a", "lab-a"], hosts
    assert all(h["failed"] == 0 and h["unreachable"] == 0 for h in hosts.values()), hosts
    for p in ("ada", "bob", "cy"):
        # in the lab host's lab dir (a host_var of lab-a, which the participant's host took), with its labels
        namespaces = rendered(tmp_path, "lab-a", p)
        assert sorted(n["metadata"]["name"] for n in namespaces)[:2] == [p + "-blue", p + "-default"], namespaces
        assert {n["metadata"]["labels"]["udn-lab.ovnk.io/lab"] for n in namespaces} == {"cluster-a"}
        assert {n["metadata"]["labels"][PARTICIPANT_LABEL] for n in namespaces} == {p}
    # the participants' copies run side by side: one task, every participant's result under it
    task = out.split("TASK [ovnk.udn_lab.pod_workshop : Render the pod workshop objects]")[1].split("TASK [")[0]
    assert all(("[%s@lab-a]" % p) in task for p in ("ada", "bob", "cy")), task
    # nothing of the lab's own single-user copy was rendered
    assert not (tmp_path / "lab-a" / "lab" / "rendered" / "workloads").exists()


def test_without_participants_the_lab_host_runs_the_workshop_itself(repo_root, tmp_path):
    inventory = {"all": {"hosts": {"lab-a": lab_host(tmp_path, "lab-a", "cluster-a")}}}
    result = run(repo_root, tmp_path, inventory, "-e", "udn_lab_target=lab-a")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-6000:]
    assert sorted(recap(out)) == ["lab-a"], out[-3000:]
    path = tmp_path / "lab-a" / "lab" / "rendered" / "workloads" / "pods-namespaces.yaml"
    assert "blue" in [d["metadata"]["name"] for d in yaml.safe_load_all(path.read_text()) if d]


def test_two_lab_hosts_each_run_their_own_participants_with_their_own_settings(repo_root, tmp_path):
    inventory = {"all": {"children": {"classroom": {"hosts": {
        "lab-a": lab_host(tmp_path, "lab-a", "cluster-a"), "lab-b": lab_host(tmp_path, "lab-b", "cluster-b")}}}}}
    result = run(repo_root, tmp_path, inventory, "-e", "udn_lab_target=classroom",
                 "-e", json.dumps({"udn_lab_participants": 2}))
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-6000:]
    assert sorted(recap(out)) == ["lab-a", "lab-b", "p1@lab-a", "p1@lab-b", "p2@lab-a", "p2@lab-b"], out[-3000:]
    for name, cluster in (("lab-a", "cluster-a"), ("lab-b", "cluster-b")):
        for p in ("p1", "p2"):
            labels = {n["metadata"]["labels"]["udn-lab.ovnk.io/lab"] for n in rendered(tmp_path, name, p)}
            assert labels == {cluster}, (name, p, labels)


def test_a_limit_with_participants_is_refused_before_anything_is_written(repo_root, tmp_path):
    inventory = {"all": {"hosts": {"lab-a": lab_host(tmp_path, "lab-a", "cluster-a")}}}
    result = run(repo_root, tmp_path, inventory, "--limit", "lab-a", "-e", "udn_lab_target=lab-a",
                 "-e", json.dumps({"udn_lab_participants": ["ada"]}))
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "--limit lab-a would leave out" in out and "ada@lab-a" in out and "udn_lab_target" in out, out[-3000:]
    assert not (tmp_path / "lab-a" / "lab" / "rendered").exists()
