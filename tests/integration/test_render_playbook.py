"""playbooks/render.yml: every file the lab would apply, written without a cluster or network."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

EXPECTED = {
    "kind-config.yaml", "ovn-kubernetes-values.yaml", "kubevirt-cr-patch.yaml", "multus-image-override.yaml",
    "workloads/pods-namespaces.yaml", "workloads/pods-networks.yaml", "workloads/pods-statefulsets.yaml",
    "workloads/pods-services.yaml", "workloads/pods-network-policies.yaml",
    "workloads/vms-namespaces.yaml", "workloads/vms-cudn.yaml", "workloads/vms-bastions.yaml",
    "workloads/vms-virtualmachines.yaml",
}
OWNERSHIP = {"app.kubernetes.io/managed-by": "ovnk.udn_lab"}


def _render(repo_root, out, lab, family):
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_COLLECTIONS_PATH=str(repo_root / ".collections"), ANSIBLE_NOCOLOR="1",
               # Render must not need the network: any proxy use would fail loudly.
               HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9")
    proc = subprocess.run(
        ["ansible-playbook", "playbooks/render.yml", "-e", "udn_lab_render_dir=%s" % out, "-e", "udn_lab_dir=%s" % lab,
         "-e", "udn_lab_kubeconfig=%s/no-such-kubeconfig" % lab, "-e", "udn_lab_ip_family=%s" % family],
        cwd=repo_root, env=env, capture_output=True, text=True, check=False, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return proc.stdout


@pytest.fixture(scope="module")
def rendered(repo_root, tmp_path_factory):
    out, lab = tmp_path_factory.mktemp("rendered"), tmp_path_factory.mktemp("lab")
    first = _render(repo_root, out, lab, "dual")
    second = _render(repo_root, out, lab, "dual")
    return out, lab, first, second


def test_every_file_is_rendered(rendered):
    out = rendered[0]
    files = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert EXPECTED <= files, "missing: %s" % sorted(EXPECTED - files)


def test_render_touches_no_cluster_and_is_idempotent(rendered):
    out, lab, second = rendered[0], rendered[1], rendered[3]
    assert not (lab / "no-such-kubeconfig").exists()
    recap = re.search(r"localhost\s*: ok=\d+\s+changed=(\d+)", second)
    assert recap and recap.group(1) == "0", second[-2000:]


def test_every_workshop_object_is_owned_by_the_collection(rendered):
    out = rendered[0]
    objects = 0
    for path in sorted((out / "workloads").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
                continue
            objects += 1
            labels = (doc.get("metadata") or {}).get("labels") or {}
            for key, value in OWNERSHIP.items():
                assert labels.get(key) == value, "%s %s in %s lacks %s" % (
                    doc["kind"], doc["metadata"].get("name"), path.name, key)
            assert labels.get("udn-lab.ovnk.io/lab"), "%s %s has no lab label" % (doc["kind"], doc["metadata"]["name"])
    assert objects >= 15


def test_dual_stack_is_consistent_across_roles(rendered):
    out = rendered[0]
    kind = yaml.safe_load((out / "kind-config.yaml").read_text())
    assert kind["networking"]["ipFamily"] == "dual"
    values = yaml.safe_load((out / "ovn-kubernetes-values.yaml").read_text())
    pod_cidrs = [c.rsplit("/", 1)[0] for c in values["podNetwork"].split(",")]
    assert pod_cidrs == kind["networking"]["podSubnet"].split(",")
    assert values["serviceNetwork"].split(",") == kind["networking"]["serviceSubnet"].split(",")
    cudn = next(d for d in yaml.safe_load_all((out / "workloads" / "vms-cudn.yaml").read_text())
                if d and d.get("kind") == "ClusterUserDefinedNetwork")
    subnets = cudn["spec"]["network"]["layer2"]["subnets"]
    assert any(":" in s for s in subnets) and any("." in s for s in subnets)
