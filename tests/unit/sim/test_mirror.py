"""The mirror builder: every versions.yml file, real upstream copies byte-identical, the chart laid out right."""

import hashlib
import tarfile

import pytest
import yaml

import mirror


def test_mirror_holds_every_file_of_the_version_matrix(tmp_path, upstream_dir, repo_root):
    dest = tmp_path / "mirror"
    written, missing, override = mirror.build(dest, upstream_dir, [str(tmp_path / "nobin")], allow_missing=True,
                                              log=lambda *_: None)
    matrix = yaml.safe_load((repo_root / "versions.yml").read_text())["udn_lab_versions_default"]
    artifacts = mirror.load_artifacts_module()
    for name, entry in mirror.plan(matrix, artifacts.resolve, "linux", "amd64"):
        assert entry["file"] in written or any(m.startswith(name) for m in missing), name
    for name in mirror.STRICT_COPIES:
        entry = artifacts.resolve(matrix, name)
        assert hashlib.sha256((dest / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]
    # stand-ins are pinned through the generated override
    assert "sha256" in override["kubevirt"]["operator"]
    assert yaml.safe_load((dest / "versions-override.yml").read_text())["udn_lab_mirror_dir"] == str(dest.resolve())


def test_chart_tarball_layout(tmp_path, upstream_dir):
    tarball = tmp_path / "chart.tar.gz"
    mirror.build_chart_tarball(tarball, "v1.3.0", "helm/ovn-kubernetes", upstream_dir)
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
        tops = {n.split("/")[0] for n in names}
        assert tops == {"ovn-kubernetes-1.3.0"}
        base = "ovn-kubernetes-1.3.0/helm/ovn-kubernetes/"
        for needed in ("Chart.yaml", "values.yaml", "values-single-node-zone.yaml",
                       "crds/k8s.ovn.org_userdefinednetworks.yaml", "crds/k8s.ovn.org_clusteruserdefinednetworks.yaml",
                       "templates/udn-namespace-label-policy.yaml"):
            assert base + needed in names, needed
        crd = tar.extractfile(base + "crds/k8s.ovn.org_userdefinednetworks.yaml").read()
    assert crd == (upstream_dir / "ovn-kubernetes-v1.3.0" / "k8s.ovn.org_userdefinednetworks.yaml").read_bytes()


@pytest.mark.parametrize("name,kinds", [
    ("kubevirt-operator.yaml", {"Namespace", "CustomResourceDefinition", "Deployment"}),
    ("cert-manager.yaml", {"Namespace", "CustomResourceDefinition", "Deployment"}),
    ("ipam-extensions.yaml", {"Namespace", "Deployment"}),
    ("kubevirt-cr.yaml", {"KubeVirt"}),
])
def test_standin_manifests_parse(name, kinds):
    docs = [d for d in yaml.safe_load_all(mirror.standin_manifest(name, "v9.9.9")) if d]
    assert kinds <= {d["kind"] for d in docs}
    for doc in docs:
        if doc["kind"] == "CustomResourceDefinition":
            version = doc["spec"]["versions"][0]
            assert version["subresources"] == {"status": {}}
            assert version["schema"]["openAPIV3Schema"]["x-kubernetes-preserve-unknown-fields"] is True


def test_kubevirt_operator_standin_has_the_crds_the_simulator_serves():
    docs = [d for d in yaml.safe_load_all(mirror.standin_manifest("kubevirt-operator.yaml", "v1.8.4")) if d]
    crds = {d["metadata"]["name"] for d in docs if d["kind"] == "CustomResourceDefinition"}
    assert crds == {"kubevirts.kubevirt.io", "virtualmachines.kubevirt.io", "virtualmachineinstances.kubevirt.io",
                    "virtualmachineinstancemigrations.kubevirt.io"}
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    assert [(d["metadata"]["namespace"], d["metadata"]["name"]) for d in deployments] == [("kubevirt", "virt-operator")]


def _helm():
    import os
    import pathlib
    import shutil

    cache = mirror.sim_build.cache_dir()
    candidate = cache / "bin" / "helm"
    return str(candidate) if candidate.exists() else shutil.which("helm")


# (marked sim: it needs the simulated cluster's helm, so make test runs it after that build)
@pytest.mark.sim
@pytest.mark.skipif(_helm() is None, reason="helm not built yet (tests/sim/build.py) and not on PATH")
def test_standin_chart_renders_with_the_lab_values(tmp_path, upstream_dir):
    import subprocess

    tarball = tmp_path / "chart.tar.gz"
    mirror.build_chart_tarball(tarball, "v1.3.0", "helm/ovn-kubernetes", upstream_dir)
    with tarfile.open(tarball) as tar:
        tar.extractall(tmp_path)
    chart = tmp_path / "ovn-kubernetes-1.3.0" / "helm" / "ovn-kubernetes"
    out = subprocess.run([_helm(), "template", "ovn", str(chart), "-f", str(chart / "values-single-node-zone.yaml"),
                          "--set", "k8sAPIServer=https://127.0.0.1:6443", "--set", "global.enableMultiNetwork=true",
                          "--set", "global.enableNetworkSegmentation=true", "--set", "podNetwork=10.244.0.0/16/24",
                          "--set", "global.image.tag=release-1.3", "--include-crds"],
                         capture_output=True, text=True, check=True).stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    by_kind = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)
    assert {d["metadata"]["name"] for d in by_kind["DaemonSet"]} == {"ovnkube-node", "ovs-node", "ovnkube-identity"}
    (deploy,) = by_kind["Deployment"]
    assert deploy["metadata"]["namespace"] == "ovn-kubernetes"
    assert deploy["spec"]["template"]["metadata"]["labels"]["name"] == "ovnkube-control-plane"
    image = deploy["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "ghcr.io/ovn-kubernetes/ovn-kubernetes/ovn-kube-ubuntu:release-1.3"
    # the v1.3.0 chart's ConfigMaps (templates/ovn-setup.yaml) and its feature switches as container env vars
    configs = dict((d["metadata"]["name"], d["data"]) for d in by_kind["ConfigMap"])
    assert sorted(configs) == ["ovn-config", "ovnkube-config"]
    assert configs["ovn-config"]["net_cidr"] == "10.244.0.0/16/24" and "ovnkube.conf" in configs["ovnkube-config"]
    env = dict((e["name"], e.get("value")) for e in deploy["spec"]["template"]["spec"]["containers"][0]["env"])
    assert env["OVN_MULTI_NETWORK_ENABLE"] == "true" and env["OVN_NETWORK_SEGMENTATION_ENABLE"] == "true"
    assert [d["metadata"]["name"] for d in by_kind["ValidatingAdmissionPolicy"]] == ["user-defined-networks-namespace-label"]
    assert len(by_kind["CustomResourceDefinition"]) == 2
