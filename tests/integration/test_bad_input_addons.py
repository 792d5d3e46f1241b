# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""multus, ovn_kubernetes and kubevirt roles: bad inputs fail before any change, naming the variable to fix."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

PLAYBOOKS = os.path.join("tests", "integration", "playbooks")
GOOD_DIGEST = "sha256:" + "ab" * 32


def run_playbook(repo_root, tmp_path, playbook, **extra):
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"), HOME=str(tmp_path / "home"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_NOCOLOR="1")
    for name in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
        env.pop(name, None)
    (tmp_path / "home").mkdir(exist_ok=True)
    # An existing (empty) kubeconfig: the create operation must stop at the bad variable, not at the kubeconfig.
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("")
    variables = dict(
        ansible_python_interpreter=sys.executable,
        udn_lab_cluster_name="addons-bad",
        udn_lab_dir=str(tmp_path / "lab"),
        udn_lab_render_dir=str(tmp_path / "lab" / "rendered"),
        udn_lab_kubeconfig=str(kubeconfig),
    )
    variables.update(extra)
    vars_file = tmp_path / "extra-vars.json"
    vars_file.write_text(json.dumps(variables))
    cmd = ["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", "@" + str(vars_file),
           os.path.join(PLAYBOOKS, playbook)]
    return subprocess.run(cmd, cwd=str(repo_root), env=env, capture_output=True, text=True, check=False)


def assert_refused(result, tmp_path, variable):
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-4000:]
    failed = [line for line in output.splitlines() if "FAILED!" in line or "fatal:" in line]
    assert failed, output[-4000:]
    # The failure names the variable to fix...
    tail = output[output.index(failed[0]):]
    assert variable in tail, tail[:4000]
    # ...and nothing was created: no lab directory (no cache, no rendered files).
    assert not (tmp_path / "lab").exists(), sorted(str(p) for p in (tmp_path / "lab").rglob("*"))


OVN_BASE = dict(ovn_kubernetes_operation="create", ovn_kubernetes_api_server="https://172.18.0.3:6443")


@pytest.mark.parametrize("extra, variable", [
    # host prefix not longer than the /16 pod CIDR
    (dict(ovn_kubernetes_host_prefix_ipv4=16), "ovn_kubernetes_host_prefix_ipv4"),
    (dict(ovn_kubernetes_host_prefix_ipv4=31), "ovn_kubernetes_host_prefix_ipv4"),
    # OVN-Kubernetes only supports /64 IPv6 host subnets
    (dict(udn_lab_ip_family="ipv6", ovn_kubernetes_api_server="https://[fd00::2]:6443",
          ovn_kubernetes_host_prefix_ipv6=56), "ovn_kubernetes_host_prefix_ipv6"),
    (dict(ovn_kubernetes_image_digest="sha256:abc"), "ovn_kubernetes_image_digest"),
    (dict(ovn_kubernetes_image_digest="md5:" + "ab" * 32), "ovn_kubernetes_image_digest"),
    (dict(ovn_kubernetes_image_digest=GOOD_DIGEST.upper()), "ovn_kubernetes_image_digest"),
    (dict(ovn_kubernetes_image_repository="ghcr.io/ovn/ovn-kube:master"), "ovn_kubernetes_image_repository"),
    # dual-stack needs one subnet per family
    (dict(udn_lab_ip_family="dual", ovn_kubernetes_pod_subnets=["10.244.0.0/16"]), "ovn_kubernetes_pod_subnets"),
    (dict(ovn_kubernetes_pod_subnets="10.244.0.0/33"), "ovn_kubernetes_pod_subnets"),
    # overlapping OVN-K's masquerade subnet: ovnkube would refuse to start
    (dict(ovn_kubernetes_service_subnets="169.254.169.0/24"), "ovn_kubernetes_service_subnets"),
    # IPv6 API server without brackets, and the service VIP form without a port
    (dict(ovn_kubernetes_api_server="https://fd00::2:6443"), "ovn_kubernetes_api_server"),
    (dict(ovn_kubernetes_api_server="https://10.96.0.1"), "ovn_kubernetes_api_server"),
    (dict(ovn_kubernetes_enable_multi_network=False), "ovn_kubernetes_enable_multi_network"),
    (dict(ovn_kubernetes_ip_family="ipv5"), "ovn_kubernetes_ip_family"),
])
def test_ovn_kubernetes_bad_input(repo_root, tmp_path, extra, variable):
    variables = dict(OVN_BASE)
    variables.update(extra)
    assert_refused(run_playbook(repo_root, tmp_path, "addons_ovn_kubernetes.yml", **variables), tmp_path, variable)


@pytest.mark.parametrize("extra, variable", [
    (dict(multus_image_digest="sha256:" + "z" * 64), "multus_image_digest"),
    (dict(multus_image_tag="v4.1.3 latest"), "multus_image_tag"),
    (dict(multus_phase="later"), "multus_phase"),
    (dict(multus_operation="upgrade"), "multus_operation"),
])
def test_multus_bad_input(repo_root, tmp_path, extra, variable):
    variables = dict(multus_operation="create")
    variables.update(extra)
    assert_refused(run_playbook(repo_root, tmp_path, "addons_multus.yml", **variables), tmp_path, variable)


@pytest.mark.parametrize("extra, variable", [
    (dict(kubevirt_use_emulation="maybe"), "kubevirt_use_emulation"),
    (dict(kubevirt_use_emulation="yes please"), "kubevirt_use_emulation"),
    (dict(kubevirt_version="1.8.4"), "kubevirt_version"),
    (dict(kubevirt_version="v1.8"), "kubevirt_version"),
    (dict(kubevirt_version="latest"), "kubevirt_version"),
    (dict(udn_lab_versions_override={"kubevirt": {"version": "main"}}), "kubevirt_version"),
    (dict(kubevirt_feature_gates=["not a gate"]), "kubevirt_feature_gates"),
    (dict(kubevirt_install_cert_manager=False), "kubevirt_install_cert_manager"),
])
def test_kubevirt_bad_input(repo_root, tmp_path, extra, variable):
    variables = dict(kubevirt_operation="create")
    variables.update(extra)
    assert_refused(run_playbook(repo_root, tmp_path, "addons_kubevirt.yml", **variables), tmp_path, variable)


def test_kubevirt_stable_offline_render_without_record(repo_root, tmp_path):
    """Render has no network: "stable" without a recorded version is refused, naming kubevirt_version."""
    result = run_playbook(repo_root, tmp_path, "addons_kubevirt.yml", kubevirt_operation="render",
                          kubevirt_version="stable")
    assert_refused(result, tmp_path, "kubevirt_version")


def test_mirror_file_with_wrong_checksum_is_refused(repo_root, upstream_dir, tmp_path):
    """A mirrored file whose content differs from the sha256 pinned in versions.yml is not used."""
    matrix = yaml.safe_load((repo_root / "versions.yml").read_text())["udn_lab_versions_default"]
    entry = matrix["multus"]
    if not entry.get("sha256"):
        pytest.skip("versions.yml pins no sha256 for multus")
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    target = mirror / entry["file"].replace("{version}", entry["version"])
    shutil.copy(str(upstream_dir / "multus-cni-v4.1.3" / "multus-daemonset.yml"), str(target))
    with open(str(target), "a") as handle:
        handle.write("# tampered\n")
    result = run_playbook(repo_root, tmp_path, "addons_multus.yml", multus_operation="render",
                          udn_lab_mirror_dir=str(mirror))
    assert_refused(result, tmp_path, target.name)
    assert "udn_lab_mirror_dir" in result.stdout
