# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""multus, ovn_kubernetes and kubevirt roles, operation=render: what they would apply, written without a cluster."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

PLAYBOOKS = os.path.join("tests", "integration", "playbooks")
DIGEST = "sha256:" + "0123456789abcdef" * 4
API_V4 = "172.18.0.3"
API_V6 = "fc00:f853:ccd:e793::3"
FAMILIES = {
    # family: (podNetwork, serviceNetwork, api server address, expected k8sAPIServer)
    "ipv4": ("10.244.0.0/16/24", "10.96.0.0/16", API_V4, "https://172.18.0.3:6443"),
    "ipv6": ("fd00:10:244::/48/64", "fd00:10:96::/112", API_V6, "https://[fc00:f853:ccd:e793::3]:6443"),
    "dual": ("10.244.0.0/16/24,fd00:10:244::/48/64", "10.96.0.0/16,fd00:10:96::/112", API_V6,
             "https://[fc00:f853:ccd:e793::3]:6443"),
}
LABELS = {"app.kubernetes.io/managed-by": "ovnk.udn_lab", "udn-lab.ovnk.io/lab": "addons-test"}


def run_playbook(repo_root, tmp_path, playbook, **extra):
    """Run tests/integration/playbooks/<playbook> on localhost with the lab in tmp_path; return the process."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"), HOME=str(tmp_path / "home"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_NOCOLOR="1")
    for name in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
        env.pop(name, None)
    (tmp_path / "home").mkdir(exist_ok=True)
    variables = dict(
        ansible_python_interpreter=sys.executable,
        udn_lab_cluster_name="addons-test",
        udn_lab_dir=str(tmp_path / "lab"),
        udn_lab_render_dir=str(tmp_path / "lab" / "rendered"),
        udn_lab_labels=LABELS,
    )
    variables.update(extra)
    vars_file = tmp_path / "extra-vars.json"
    vars_file.write_text(json.dumps(variables))
    cmd = ["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", "@" + str(vars_file),
           os.path.join(PLAYBOOKS, playbook)]
    return subprocess.run(cmd, cwd=str(repo_root), env=env, capture_output=True, text=True, check=False)


def rendered(tmp_path, name):
    return tmp_path / "lab" / "rendered" / name


def load_all(path):
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def versions(repo_root):
    return yaml.safe_load((repo_root / "versions.yml").read_text())["udn_lab_versions_default"]


def render_ovn(repo_root, tmp_path, **extra):
    variables = dict(ovn_kubernetes_operation="render")
    variables.update(extra)
    result = run_playbook(repo_root, tmp_path, "addons_ovn_kubernetes.yml", **variables)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    docs = load_all(rendered(tmp_path, "ovn-kubernetes-values.yaml"))
    assert len(docs) == 1
    return docs[0]


# --- OVN-Kubernetes chart values ---------------------------------------------------------------------------

@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_ovn_values_per_family(repo_root, tmp_path, family):
    pod_network, service_network, address, api_url = FAMILIES[family]
    values = render_ovn(repo_root, tmp_path, udn_lab_ip_family=family, ovn_kubernetes_api_server_address=address)
    image = versions(repo_root)["ovn_kubernetes_image"]
    assert values["podNetwork"] == pod_network
    assert values["serviceNetwork"] == service_network
    assert values["k8sAPIServer"] == api_url
    assert values["mtu"] == 1400
    glob = values["global"]
    assert glob["enableMultiNetwork"] is True
    assert glob["enableNetworkSegmentation"] is True
    assert glob["enablePersistentIPs"] is True
    assert glob["enableAdminNetworkPolicy"] is False
    assert glob["image"] == {"repository": image["repository"], "tag": image["version"]}
    assert values["ovnkube-control-plane"] == {"replicas": 1}


def test_ovn_values_from_kind_cluster_facts(repo_root, tmp_path):
    """The kind_cluster facts (API URL, family, subnets as a list or a comma string) drive the values."""
    facts = {
        "api_server_internal_url": "https://[fc00:f853:ccd:e793::2]:6443",
        "ip_family": "dual",
        "pod_subnets": "10.250.0.0/16, fd00:10:250::/56",
        "service_subnets": ["10.97.0.0/16", "fd00:10:97::/112"],
        "use_emulation_recommended": True,
    }
    values = render_ovn(repo_root, tmp_path, kind_cluster_facts=facts, ovn_kubernetes_host_prefix_ipv4=23)
    assert values["k8sAPIServer"] == "https://[fc00:f853:ccd:e793::2]:6443"
    assert values["podNetwork"] == "10.250.0.0/16/23,fd00:10:250::/56/64"
    assert values["serviceNetwork"] == "10.97.0.0/16,fd00:10:97::/112"


def test_ovn_values_image_digest_and_overrides(repo_root, tmp_path):
    values = render_ovn(
        repo_root, tmp_path, ovn_kubernetes_api_server_address=API_V4,
        ovn_kubernetes_image_repository="registry.example.com/ovn/ovn-kube-fedora",
        ovn_kubernetes_image_digest=DIGEST,
        ovn_kubernetes_enable_admin_network_policy=True,
        ovn_kubernetes_extra_values={"global": {"enableMulticast": True}},
    )
    image = values["global"]["image"]
    # The chart templates "<repository>:<tag>": with a digest that must read <repo>@sha256:<hex>.
    assert image["repository"] == "registry.example.com/ovn/ovn-kube-fedora@sha256"
    assert image["tag"] == DIGEST.split(":")[1]
    assert "%s:%s" % (image["repository"], image["tag"]) == "registry.example.com/ovn/ovn-kube-fedora@" + DIGEST
    assert values["global"]["enableAdminNetworkPolicy"] is True
    assert values["global"]["enableMulticast"] is True
    assert values["global"]["enableMultiNetwork"] is True


def _chart_tarball(path, values):
    """A stand-in chart tarball laid out like the upstream source archive (one top directory)."""
    files = {
        "ovn-kubernetes-1.3.0/helm/ovn-kubernetes/Chart.yaml": "apiVersion: v2\nname: ovn-kubernetes\nversion: 1.3.0\n",
        "ovn-kubernetes-1.3.0/helm/ovn-kubernetes/values-single-node-zone.yaml": yaml.safe_dump(values),
    }
    with tarfile.open(str(path), "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_ovn_values_layer_over_the_chart_values_file(repo_root, tmp_path):
    """With the chart available, the file helm gets is the chart's values file with the lab's values deep-merged."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    entry = versions(repo_root)["ovn_kubernetes_chart"]
    base = {
        "tags": {"ovnkube-node": False},
        "podNetwork": "10.128.0.0/14/23",
        "skipCallToK8s": False,
        "global": {"image": {"repository": "example/upstream", "tag": "master", "pullPolicy": "IfNotPresent"},
                   "enableMultiNetwork": False, "gatewayMode": "shared"},
    }
    _chart_tarball(mirror / entry["file"].replace("{version}", entry["version"]), base)
    values = render_ovn(repo_root, tmp_path, udn_lab_mirror_dir=str(mirror), ovn_kubernetes_api_server_address=API_V4)
    assert values["tags"] == {"ovnkube-node": False}
    assert values["skipCallToK8s"] is False
    assert values["podNetwork"] == "10.244.0.0/16/24"
    assert values["global"]["gatewayMode"] == "shared"
    assert values["global"]["enableMultiNetwork"] is True
    assert values["global"]["image"]["pullPolicy"] == "IfNotPresent"
    assert values["global"]["image"]["tag"] == "release-1.3"
    assert "chart was not available" not in rendered(tmp_path, "ovn-kubernetes-values.yaml").read_text()


# --- multus -------------------------------------------------------------------------------------------------

def _multus_mirror(repo_root, upstream_dir, tmp_path, with_ipamclaims=True):
    mirror = tmp_path / "mirror"
    mirror.mkdir(exist_ok=True)
    matrix = versions(repo_root)
    entry = matrix["multus"]
    shutil.copy(str(upstream_dir / "multus-cni-v4.1.3" / "multus-daemonset.yml"),
                str(mirror / entry["file"].replace("{version}", entry["version"])))
    if with_ipamclaims:
        entry = matrix["ipamclaims_crd"]
        shutil.copy(str(upstream_dir / "ipamclaims-v0.5.1-alpha" / "k8s.cni.cncf.io_ipamclaims.yaml"),
                    str(mirror / entry["file"].replace("{version}", entry["version"])))
    return mirror


def _images(daemonset):
    spec = daemonset["spec"]["template"]["spec"]
    return [c["image"] for c in spec.get("containers", []) + spec.get("initContainers", [])]


def test_multus_image_pinned_from_upstream_manifest(repo_root, upstream_dir, tmp_path):
    upstream = (upstream_dir / "multus-cni-v4.1.3" / "multus-daemonset.yml").read_text()
    assert "multus-cni:snapshot" in upstream  # the reason for the rewrite
    mirror = _multus_mirror(repo_root, upstream_dir, tmp_path)
    result = run_playbook(repo_root, tmp_path, "addons_multus.yml", multus_operation="render",
                          udn_lab_mirror_dir=str(mirror))
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]

    docs = load_all(rendered(tmp_path, "multus-daemonset.yaml"))
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == ["ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet", "ServiceAccount"]
    daemonset = [d for d in docs if d["kind"] == "DaemonSet"][0]
    assert daemonset["metadata"]["name"] == "kube-multus-ds"
    assert _images(daemonset) == ["ghcr.io/k8snetworkplumbingwg/multus-cni:v4.1.3"] * 2
    assert "snapshot" not in rendered(tmp_path, "multus-daemonset.yaml").read_text()
    # Upstream content kept apart from the labels: selector and pod template untouched.
    assert daemonset["spec"]["selector"] == {"matchLabels": {"name": "multus"}}
    for doc in docs:
        assert LABELS.items() <= doc["metadata"]["labels"].items(), doc["metadata"]

    nad = load_all(rendered(tmp_path, "multus-nad-crd.yaml"))
    assert [(d["kind"], d["metadata"]["name"]) for d in nad] == [
        ("CustomResourceDefinition", "network-attachment-definitions.k8s.cni.cncf.io")]
    assert LABELS.items() <= nad[0]["metadata"]["labels"].items()

    claims = load_all(rendered(tmp_path, "ipamclaims-crd.yaml"))
    assert [d["metadata"]["name"] for d in claims] == ["ipamclaims.k8s.cni.cncf.io"]
    upstream_claims = load_all(upstream_dir / "ipamclaims-v0.5.1-alpha" / "k8s.cni.cncf.io_ipamclaims.yaml")
    assert claims[0]["spec"] == upstream_claims[0]["spec"]

    notes = load_all(rendered(tmp_path, "multus-image-override.yaml"))[0]
    assert notes["image_override"]["upstream_image"] == ["ghcr.io/k8snetworkplumbingwg/multus-cni:snapshot"]
    assert notes["image_override"]["pinned_image"] == "ghcr.io/k8snetworkplumbingwg/multus-cni:v4.1.3"
    status = {s["name"]: s["rendered"] for s in notes["sources"]}
    # multi-networkpolicy was not mirrored: listed, not rendered; no admin network policy CRDs by default.
    assert status == {"multus": True, "multi_networkpolicy_crd": False, "ipamclaims_crd": True}
    assert not rendered(tmp_path, "multi-networkpolicy-crd.yaml").exists()


def test_multus_phases_and_digest(repo_root, upstream_dir, tmp_path):
    mirror = _multus_mirror(repo_root, upstream_dir, tmp_path, with_ipamclaims=False)
    result = run_playbook(repo_root, tmp_path, "addons_multus.yml", multus_operation="render", multus_phase="crds",
                          udn_lab_mirror_dir=str(mirror), multus_image_digest=DIGEST,
                          multus_enable_admin_network_policy=True)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert rendered(tmp_path, "multus-nad-crd.yaml").exists()
    assert not rendered(tmp_path, "multus-daemonset.yaml").exists()  # phase crds renders no DaemonSet
    # its own notes file: the daemonset phase's (multus-image-override.yaml) would otherwise flip on every run
    assert not rendered(tmp_path, "multus-image-override.yaml").exists()
    notes = load_all(rendered(tmp_path, "multus-crds-notes.yaml"))[0]
    assert notes["image_override"]["pinned_image"] == "ghcr.io/k8snetworkplumbingwg/multus-cni@" + DIGEST
    names = [s["name"] for s in notes["sources"]]
    assert "network_policy_api.adminnetworkpolicies" in names
    assert "network_policy_api.baselineadminnetworkpolicies" in names

    result = run_playbook(repo_root, tmp_path, "addons_multus.yml", multus_operation="render",
                          multus_phase="daemonset", udn_lab_mirror_dir=str(mirror), multus_image_digest=DIGEST)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    daemonset = [d for d in load_all(rendered(tmp_path, "multus-daemonset.yaml")) if d["kind"] == "DaemonSet"][0]
    assert _images(daemonset) == ["ghcr.io/k8snetworkplumbingwg/multus-cni@" + DIGEST] * 2


# --- KubeVirt -----------------------------------------------------------------------------------------------

def render_kubevirt(repo_root, tmp_path, **extra):
    variables = dict(kubevirt_operation="render")
    variables.update(extra)
    result = run_playbook(repo_root, tmp_path, "addons_kubevirt.yml", **variables)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    docs = load_all(rendered(tmp_path, "kubevirt-cr-patch.yaml"))
    assert len(docs) == 1, "the KubeVirt changes must be ONE merge patch"
    return docs[0]


@pytest.mark.parametrize("version, emulation, facts, expected", [
    ("v1.8.4", True, None, True),
    ("v1.8.4", False, None, False),
    ("v1.8.4", "auto", {"use_emulation_recommended": True}, True),
    ("v1.8.4", "auto", {"use_emulation_recommended": False}, False),
    ("v1.4.1", "true", None, True),
    ("v1.5.0", "false", None, False),
])
def test_kubevirt_patch(repo_root, tmp_path, version, emulation, facts, expected):
    extra = dict(kubevirt_version=version, kubevirt_use_emulation=emulation)
    if facts is not None:
        extra["kind_cluster_facts"] = facts
    patch = render_kubevirt(repo_root, tmp_path, **extra)
    assert patch["apiVersion"] == "kubevirt.io/v1"
    assert patch["kind"] == "KubeVirt"
    assert patch["metadata"] == {"name": "kubevirt", "namespace": "kubevirt"}
    config = patch["spec"]["configuration"]
    assert config["developerConfiguration"]["useEmulation"] is expected
    assert config["network"] == {"binding": {"l2bridge": {"domainAttachmentType": "managedTap", "migration": {}}}}
    gates = config["developerConfiguration"].get("featureGates")
    if version.startswith("v1.4."):
        assert sorted(gates) == ["DynamicPodInterfaceNaming", "NetworkBindingPlugins"]
    else:
        assert gates is None
    notes = load_all(rendered(tmp_path, "kubevirt-sources.yaml"))[0]
    assert notes["kubevirt"]["version"] == version
    assert notes["kubevirt"]["use_emulation"] is expected
    urls = {s["name"]: s["url"] for s in notes["sources"]}
    assert urls["kubevirt.operator"] == (
        "https://github.com/kubevirt/kubevirt/releases/download/%s/kubevirt-operator.yaml" % version)
    assert set(urls) == {"kubevirt.operator", "kubevirt.cr", "cert_manager", "ipam_extensions"}


@pytest.mark.parametrize("where", ["lab", "mirror"])
def test_kubevirt_stable_uses_recorded_version(repo_root, tmp_path, where):
    """"stable" resolves offline from the version recorded in the lab directory, or kubevirt-stable.txt of a mirror."""
    (tmp_path / where).mkdir()
    record = "kubevirt-stable-version" if where == "lab" else "kubevirt-stable.txt"
    (tmp_path / where / record).write_text("v1.4.2\n")
    extra = {"udn_lab_mirror_dir": str(tmp_path / "mirror")} if where == "mirror" else {}
    # "stable" set through the version matrix, as a user would with udn_lab_versions_override
    patch = render_kubevirt(repo_root, tmp_path, udn_lab_versions_override={"kubevirt": {"version": "stable"}},
                            kubevirt_use_emulation=False, **extra)
    gates = patch["spec"]["configuration"]["developerConfiguration"]["featureGates"]
    assert "NetworkBindingPlugins" in gates
    notes = load_all(rendered(tmp_path, "kubevirt-sources.yaml"))[0]
    assert notes["kubevirt"]["requested_version"] == "stable"
    assert notes["kubevirt"]["version"] == "v1.4.2"


def test_kubevirt_upstream_manifests_labelled(repo_root, tmp_path):
    """Mirrored manifests are rendered object by object with the lab labels; the CR patch stays separate."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    matrix = versions(repo_root)
    version = matrix["kubevirt"]["version"]
    operator = mirror / matrix["kubevirt"]["operator"]["file"].replace("{version}", version)
    operator.write_text("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: kubevirt\n  labels:\n"
                        "    kubevirt.io: \"\"\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n"
                        "  name: kubevirt-operator\n  namespace: kubevirt\n")
    cr = mirror / matrix["kubevirt"]["cr"]["file"].replace("{version}", version)
    cr.write_text("---\napiVersion: kubevirt.io/v1\nkind: KubeVirt\nmetadata:\n  name: kubevirt\n"
                  "  namespace: kubevirt\nspec:\n  configuration:\n    developerConfiguration:\n"
                  "      featureGates: []\n")
    render_kubevirt(repo_root, tmp_path, udn_lab_mirror_dir=str(mirror), kubevirt_use_emulation=True,
                    kubevirt_install_cert_manager=False, kubevirt_install_ipam_extensions=False)
    ops = load_all(rendered(tmp_path, "kubevirt-operator.yaml"))
    assert [d["kind"] for d in ops] == ["Namespace", "ServiceAccount"]
    assert ops[0]["metadata"]["labels"] == dict(LABELS, **{"kubevirt.io": ""})
    crs = load_all(rendered(tmp_path, "kubevirt-cr.yaml"))
    assert crs[0]["spec"] == {"configuration": {"developerConfiguration": {"featureGates": []}}}
    assert LABELS.items() <= crs[0]["metadata"]["labels"].items()
    assert not rendered(tmp_path, "cert-manager.yaml").exists()


def _strict(schema):
    """Copy of an OpenAPI v2 schema where objects with properties reject unknown keys (typos fail)."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


@pytest.mark.parametrize("version", ["v1.8.4", "v1.4.1"])
def test_kubevirt_patch_matches_upstream_schema(repo_root, upstream_dir, tmp_path, version):
    jsonschema = pytest.importorskip("jsonschema")
    swagger_file = upstream_dir / "kubevirt-v1.8.4" / "swagger.json"
    if not swagger_file.exists():
        pytest.skip("no %s" % swagger_file)
    swagger = json.loads(swagger_file.read_text())
    patch = render_kubevirt(repo_root, tmp_path, kubevirt_version=version, kubevirt_use_emulation=True)
    definitions = _strict(swagger["definitions"])
    schema = {"definitions": definitions, "$ref": "#/definitions/v1.KubeVirtSpec"}
    validator = jsonschema.Draft4Validator(schema)
    errors = sorted(validator.iter_errors(patch["spec"]), key=lambda e: list(e.path))
    assert not errors, [(list(e.path), e.message) for e in errors]
    # The validator must actually reach the binding: a misspelt key there is refused.
    broken = json.loads(json.dumps(patch["spec"]))
    broken["configuration"]["network"]["binding"]["l2bridge"]["domainAttachmentTyp"] = "managedTap"
    assert any(re.search("domainAttachmentTyp", e.message) for e in validator.iter_errors(broken))


# --- everything at once -------------------------------------------------------------------------------------

def test_render_all_addons_writes_every_file(repo_root, upstream_dir, tmp_path):
    mirror = _multus_mirror(repo_root, upstream_dir, tmp_path)
    result = run_playbook(repo_root, tmp_path, "addons_render.yml", udn_lab_mirror_dir=str(mirror),
                          udn_lab_ip_family="dual", ovn_kubernetes_api_server_address=API_V6,
                          kubevirt_use_emulation="false")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    names = sorted(p.name for p in (tmp_path / "lab" / "rendered").iterdir())
    assert names == sorted([
        "ipamclaims-crd.yaml", "kubevirt-cr-patch.yaml", "kubevirt-sources.yaml", "multus-daemonset.yaml",
        "multus-image-override.yaml", "multus-nad-crd.yaml", "ovn-kubernetes-values.yaml",
    ])
    # render touches no cluster and downloads nothing: no cache directory, no stable-version record.
    assert not (tmp_path / "lab" / "cache").exists()
    assert not (tmp_path / "lab" / "kubevirt-stable-version").exists()


# --- KubeVirt read-back check -------------------------------------------------------------------------------

def _cr(configuration):
    return {"apiVersion": "kubevirt.io/v1", "kind": "KubeVirt",
            "metadata": {"name": "kubevirt", "namespace": "kubevirt"},
            "spec": {"certificateRotateStrategy": {}, "imagePullPolicy": "IfNotPresent",
                     "configuration": configuration},
            "status": {"phase": "Deployed"}}


GOOD_CONFIG = {
    "developerConfiguration": {"useEmulation": True, "featureGates": []},
    "network": {"binding": {"l2bridge": {"domainAttachmentType": "managedTap", "migration": {}}}},
    "migrations": {"progressTimeout": 150},
}


@pytest.mark.parametrize("configuration, stuck", [
    (GOOD_CONFIG, True),
    # what a JSON-patch "add" of developerConfiguration leaves behind: useEmulation gone
    (dict(GOOD_CONFIG, developerConfiguration={"featureGates": []}), False),
    # the binding without migration: VMIs would not be LiveMigratable
    (dict(GOOD_CONFIG, network={"binding": {"l2bridge": {"domainAttachmentType": "managedTap"}}}), False),
    (dict(GOOD_CONFIG, network={"binding": {"l2bridge": {"domainAttachmentType": "tap", "migration": {}}}}), False),
])
def test_kubevirt_read_back_check(repo_root, tmp_path, configuration, stuck):
    result = run_playbook(repo_root, tmp_path, "addons_kubevirt_verify.yml", kubevirt_use_emulation=True,
                          kubevirt_version="v1.8.4", kubevirt_test_cr=_cr(configuration))
    output = result.stdout + result.stderr
    if stuck:
        assert result.returncode == 0, output[-6000:]
    else:
        assert result.returncode != 0, output[-6000:]
        assert "does not hold what kubevirt-cr-patch.yaml set" in output, output[-6000:]


def test_an_unchanged_create_earlier_in_the_run_does_not_skip_a_later_render(repo_root, upstream_dir, tmp_path):
    """The lab state lookup runs for create only; its registered "current" must not gate another operation of a
    later play (it once skipped a delete or render that followed a create in one ansible-playbook run)."""
    mirror = _multus_mirror(repo_root, upstream_dir, tmp_path)
    result = run_playbook(repo_root, tmp_path, "state_gate_render.yml", udn_lab_mirror_dir=str(mirror),
                          ovn_kubernetes_api_server_address=API_V6, kubevirt_use_emulation="false", migrations=0)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    for name in ("kind-config.yaml", "ovn-kubernetes-values.yaml", "kubevirt-cr-patch.yaml",
                 "multus-daemonset.yaml", "workloads/vms-virtualmachines.yaml",
                 "workloads/pods-statefulsets.yaml"):
        assert rendered(tmp_path, name).exists(), name
