# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""kind_cluster operation=render: the kind config per IP family, and the facts published without a cluster."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest
import yaml

PLAYBOOK = os.path.join("tests", "integration", "playbooks", "kind_cluster_role.yml")
FAMILIES = {
    "ipv4": (["10.244.0.0/16"], ["10.96.0.0/16"]),
    "ipv6": (["fd00:10:244::/48"], ["fd00:10:96::/112"]),
    "dual": (["10.244.0.0/16", "fd00:10:244::/48"], ["10.96.0.0/16", "fd00:10:96::/112"]),
}


def run_role(repo_root, tmp_path, ansible_args=(), **extra):
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"), HOME=str(tmp_path / "home"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_NOCOLOR="1")
    # ansible.cfg decides where collections come from (pytest plugins may export their own path).
    for name in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
        env.pop(name, None)
    (tmp_path / "home").mkdir(exist_ok=True)
    variables = dict(ansible_python_interpreter=sys.executable, ansible_connection="local")
    variables.update(extra)
    cmd = ["ansible-playbook", "-i", "localhost,", PLAYBOOK, "-e", json.dumps(variables)] + list(ansible_args)
    return subprocess.run(cmd, cwd=str(repo_root), env=env, capture_output=True, text=True, check=False)


def render(repo_root, tmp_path, **extra):
    render_dir = tmp_path / "rendered"
    facts_file = tmp_path / "facts.json"
    variables = dict(kind_cluster_operation="render", kind_cluster_render_dir=str(render_dir),
                     kind_cluster_test_facts_file=str(facts_file))
    variables.update(extra)
    result = run_role(repo_root, tmp_path, **variables)
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load((render_dir / "kind-config.yaml").read_text())
    return config, json.loads(facts_file.read_text())["kind_cluster_facts"], result


def pinned_node_image(repo_root):
    entry = yaml.safe_load((repo_root / "versions.yml").read_text())["udn_lab_versions_default"]["kindest_node"]
    image = entry["image"].replace("{version}", entry["version"])
    return image + ("@" + entry["digest"] if entry.get("digest") else "")


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_render_per_family(repo_root, tmp_path, family):
    config, facts, dummy = render(repo_root, tmp_path, kind_cluster_ip_family=family)
    pods, services = FAMILIES[family]
    assert config["kind"] == "Cluster"
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert config["name"] == "ovn-k-helm"
    net = config["networking"]
    assert net["disableDefaultCNI"] is True
    assert net["kubeProxyMode"] == "none"
    assert net["ipFamily"] == family
    assert net["podSubnet"] == ",".join(pods)
    assert net["serviceSubnet"] == ",".join(services)
    assert [n["role"] for n in config["nodes"]] == ["control-plane", "worker", "worker"]
    assert {n["image"] for n in config["nodes"]} == {pinned_node_image(repo_root)}
    # Lab label on the nodes; kubernetes.io-namespaced labels would stop the kubelet, so they are left out.
    for n in config["nodes"]:
        assert n["labels"] == {"udn-lab.ovnk.io/lab": "ovn-k-helm"}
    assert facts["ip_family"] == family
    assert facts["pod_subnets"] == pods
    assert facts["service_subnets"] == services
    assert facts["nodes"] == ["ovn-k-helm-control-plane", "ovn-k-helm-worker", "ovn-k-helm-worker2"]
    assert facts["workers"] == ["ovn-k-helm-worker", "ovn-k-helm-worker2"]
    assert facts["control_plane_nodes"] == ["ovn-k-helm-control-plane"]
    assert isinstance(facts["kvm_available"], bool)
    assert facts["use_emulation_recommended"] is (not (facts["kvm_available"] and facts["nested_virt"]))


def test_render_writes_only_the_config(repo_root, tmp_path):
    render(repo_root, tmp_path, kind_cluster_dir=str(tmp_path / "lab"))
    assert sorted(p.name for p in (tmp_path / "rendered").iterdir()) == ["kind-config.yaml"]
    assert not (tmp_path / "lab").exists()


def test_render_is_idempotent(repo_root, tmp_path):
    render(repo_root, tmp_path)
    dummy, dummy, result = render(repo_root, tmp_path)
    # The role changes nothing the second time (the test driver's facts file aside).
    assert "changed: [localhost]" not in result.stdout.split("TASK [Save the published facts]")[0]


def test_render_custom_cluster(repo_root, tmp_path):
    config, facts, dummy = render(
        repo_root, tmp_path,
        kind_cluster_name="lab-b",
        kind_cluster_workers=0,
        kind_cluster_ip_family="dual",
        kind_cluster_pod_subnet="10.200.0.0/16, fd00:200::/56",
        kind_cluster_service_subnet="10.100.0.0/16,fd00:100::/112",
        kind_cluster_node_image="example.org/node:v1",
        kind_cluster_labels={"app.kubernetes.io/managed-by": "ovnk.udn_lab", "udn-lab.ovnk.io/lab": "lab-b",
                             "team": "net"},
    )
    assert config["name"] == "lab-b"
    assert config["networking"]["podSubnet"] == "10.200.0.0/16,fd00:200::/56"
    assert config["networking"]["serviceSubnet"] == "10.100.0.0/16,fd00:100::/112"
    assert config["nodes"] == [{"role": "control-plane", "image": "example.org/node:v1",
                                "labels": {"udn-lab.ovnk.io/lab": "lab-b", "team": "net"}}]
    assert facts["nodes"] == ["lab-b-control-plane"]
    assert facts["workers"] == []
    assert facts["api_server_internal_url"] == "https://lab-b-control-plane:6443"


def test_render_digest_from_versions_override(repo_root, tmp_path):
    digest = "sha256:" + "a" * 64
    config, dummy, dummy = render(repo_root, tmp_path, kind_cluster_versions_override={
        "kindest_node": {"image": "kindest/node:v1.34.0", "digest": digest}})
    assert config["nodes"][0]["image"] == "kindest/node:v1.34.0@" + digest


def test_render_follows_lab_wide_variables(repo_root, tmp_path):
    config, facts, dummy = render(repo_root, tmp_path, udn_lab_cluster_name="shared", udn_lab_ip_family="ipv6",
                                  udn_lab_dir=str(tmp_path / "lab"))
    assert config["name"] == "shared"
    assert config["networking"]["ipFamily"] == "ipv6"
    assert facts["kubeconfig"] == str(tmp_path / "lab" / "kubeconfig")


def test_render_in_check_mode_writes_nothing(repo_root, tmp_path):
    result = run_role(repo_root, tmp_path, ansible_args=["--check", "--diff"], kind_cluster_operation="render",
                      kind_cluster_render_dir=str(tmp_path / "rendered"))
    assert result.returncode == 0, result.stdout + result.stderr
    # The diff shows the config that would be written, but nothing is on disk.
    assert "disableDefaultCNI: true" in result.stdout
    assert not (tmp_path / "rendered").exists()
