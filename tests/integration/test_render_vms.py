# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""vm_workshop, operation render: the seed's VMs and CUDN, schema-valid, per family; cloud-init."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import stat
import subprocess
import sys

import pytest
import yaml

PLAYBOOKS = os.path.join("tests", "integration", "playbooks")
SEED_IMAGE_ENTRY = "vm_disk"


def run_playbook(repo_root, tmp_path, playbook, verbosity=0, **extra):
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"), HOME=str(tmp_path / "home"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_NOCOLOR="1")
    for name in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
        env.pop(name, None)
    (tmp_path / "home").mkdir(exist_ok=True)
    variables = dict(ansible_python_interpreter=sys.executable, ansible_connection="local",
                     udn_lab_dir=str(tmp_path / "lab"), udn_lab_render_dir=str(tmp_path / "lab" / "rendered"))
    variables.update(extra)
    cmd = ["ansible-playbook", "-i", "localhost,", os.path.join(PLAYBOOKS, playbook), "-e", json.dumps(variables)]
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    return subprocess.run(cmd, cwd=str(repo_root), env=env, capture_output=True, text=True, check=False)


def render(repo_root, tmp_path, **extra):
    result = run_playbook(repo_root, tmp_path, "vms_entry.yml", vm_workshop_operation="render", **extra)
    assert result.returncode == 0, result.stdout + result.stderr
    out = {}
    for name in ("namespaces", "cudn", "bastions", "cloud-init", "virtualmachines"):
        path = tmp_path / "lab" / "rendered" / "workloads" / "vms-{0}.yaml".format(name)
        out[name] = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return out, result


@pytest.fixture(scope="module")
def rendered_ipv4(repo_root, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("vms-ipv4")
    docs, result = render(repo_root, tmp_path)
    return docs, result, tmp_path


def seed_image(repo_root):
    versions = yaml.safe_load((repo_root / "versions.yml").read_text())["udn_lab_versions_default"]
    return versions[SEED_IMAGE_ENTRY]["image"]


# --------------------------------------------------------------------------- the seed's objects


def test_vms_equal_the_seed(repo_root, rendered_ipv4):
    docs, dummy, dummy2 = rendered_ipv4
    vms = dict(((d["metadata"]["namespace"], d["metadata"]["name"]), d) for d in docs["virtualmachines"])
    assert sorted(vms) == [("blue-namespace", "blue"), ("red-namespace", "red")]
    # the KubeVirt release's own test-tooling disk (the seed's v1.4.0 predates the pinned KubeVirt): versions.yml
    assert seed_image(repo_root) == "quay.io/kubevirt/fedora-with-test-tooling-container-disk:v1.8.4"
    for (namespace, name), vm in vms.items():
        assert vm["apiVersion"] == "kubevirt.io/v1" and vm["kind"] == "VirtualMachine"
        assert vm["spec"]["runStrategy"] == "Always"
        spec = vm["spec"]["template"]["spec"]
        assert spec["domain"]["devices"]["interfaces"] == [{"name": "happy", "binding": {"name": "l2bridge"}}]
        assert spec["networks"] == [{"name": "happy", "pod": {}}]
        assert spec["domain"]["resources"]["requests"]["memory"] == "2048M"
        volumes = dict((v["name"], v) for v in spec["volumes"])
        assert volumes["containerdisk"]["containerDisk"]["image"] == seed_image(repo_root)
        assert volumes["cloudinitdisk"]["cloudInitNoCloud"]["secretRef"]["name"] == name + "-cloud-init"
        # network data from the same Secret (its networkdata key: KubeVirt v1.8.4 resolveNoCloudSecrets)
        assert volumes["cloudinitdisk"]["cloudInitNoCloud"]["networkDataSecretRef"]["name"] == name + "-cloud-init"
        disks = [d["name"] for d in spec["domain"]["devices"]["disks"]]
        assert sorted(disks) == sorted(volumes)


def test_cudn_equals_the_seed(rendered_ipv4):
    docs, dummy, dummy2 = rendered_ipv4
    assert len(docs["cudn"]) == 1
    cudn = docs["cudn"][0]
    assert (cudn["apiVersion"], cudn["kind"], cudn["metadata"]["name"]) == (
        "k8s.ovn.org/v1", "ClusterUserDefinedNetwork", "happy-tenant")
    assert cudn["spec"]["network"] == {
        "topology": "Layer2",
        "layer2": {"role": "Primary", "subnets": ["192.168.0.0/16"], "ipam": {"mode": "Enabled", "lifecycle": "Persistent"}},
    }
    expr = cudn["spec"]["namespaceSelector"]["matchExpressions"][0]
    assert expr["key"] == "kubernetes.io/metadata.name" and expr["operator"] == "In"
    assert sorted(expr["values"]) == ["blue-namespace", "red-namespace"]


def test_namespaces_carry_the_primary_udn_label_and_every_object_the_lab_labels(rendered_ipv4):
    docs, dummy, dummy2 = rendered_ipv4
    assert sorted(ns["metadata"]["name"] for ns in docs["namespaces"]) == ["blue-namespace", "red-namespace"]
    for ns in docs["namespaces"]:
        assert ns["metadata"]["labels"]["k8s.ovn.org/primary-user-defined-network"] == ""
    for kind_docs in docs.values():
        for doc in kind_docs:
            labels = doc["metadata"]["labels"]
            assert labels["app.kubernetes.io/managed-by"] == "ovnk.udn_lab"
            assert labels["udn-lab.ovnk.io/lab"] == "ovn-k-helm"


# --------------------------------------------------------------------------- schemas


def _strict(schema):
    """Forbid properties a definition does not declare (a typo in a template then fails validation)."""
    if isinstance(schema, dict):
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        for value in schema.values():
            _strict(value)
    elif isinstance(schema, list):
        for value in schema:
            _strict(value)
    return schema


def test_virtualmachines_validate_against_kubevirt_swagger(upstream_dir, rendered_ipv4):
    jsonschema = pytest.importorskip("jsonschema")
    swagger = json.loads((upstream_dir / "kubevirt-v1.8.4" / "swagger.json").read_text())
    schema = {"$ref": "#/definitions/v1.VirtualMachine", "definitions": _strict(copy.deepcopy(swagger["definitions"]))}
    validator = jsonschema.Draft4Validator(schema)
    docs, dummy, dummy2 = rendered_ipv4
    for vm in docs["virtualmachines"]:
        errors = sorted(validator.iter_errors(vm), key=lambda e: list(e.path))
        assert not errors, ["{0}: {1}".format(list(e.path), e.message) for e in errors]
    # The validator does catch a misspelt field.
    broken = copy.deepcopy(docs["virtualmachines"][0])
    broken["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"][0]["bindng"] = {"name": "l2bridge"}
    assert list(validator.iter_errors(broken))


def _crd_schema(upstream_dir):
    crd = yaml.safe_load((upstream_dir / "ovn-kubernetes-v1.3.0" / "k8s.ovn.org_clusteruserdefinednetworks.yaml").read_text())
    version = [v for v in crd["spec"]["versions"] if v["name"] == "v1"][0]
    return _strict(copy.deepcopy(version["schema"]["openAPIV3Schema"]))


def test_cudn_validates_against_the_crd(upstream_dir, rendered_ipv4):
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft7Validator(_crd_schema(upstream_dir))
    docs, dummy, dummy2 = rendered_ipv4
    for cudn in docs["cudn"]:
        body = dict(cudn)
        body["metadata"] = {}  # ObjectMeta is not described by the CRD schema
        errors = list(validator.iter_errors(body))
        assert not errors, [e.message for e in errors]


def test_dual_stack_renders_both_families(repo_root, tmp_path, upstream_dir):
    jsonschema = pytest.importorskip("jsonschema")
    docs, dummy = render(repo_root, tmp_path, udn_lab_ip_family="dual")
    subnets = docs["cudn"][0]["spec"]["network"]["layer2"]["subnets"]
    assert subnets == ["192.168.0.0/16", "fd00:192:168::/64"]
    body = dict(docs["cudn"][0], metadata={})
    assert not list(jsonschema.Draft7Validator(_crd_schema(upstream_dir)).iter_errors(body))


def test_ipv6_only_and_more_vms_and_tenants(repo_root, tmp_path):
    networks = [
        {"name": "happy-tenant", "namespaces": ["red-namespace", "blue-namespace"], "role": "Primary",
         "subnets": {"ipv4": "192.168.0.0/16", "ipv6": "fd00:192:168::/64"}, "ipam_lifecycle": "Persistent"},
        {"name": "other-tenant", "namespaces": ["green-namespace"], "subnets": {"ipv6": "fd00:10:20::/64"}},
    ]
    vms = [
        {"name": "red", "namespace": "red-namespace", "network": "happy-tenant", "interface": "happy", "memory": "2048M"},
        {"name": "blue", "namespace": "blue-namespace", "network": "happy-tenant", "interface": "happy", "memory": "2048M"},
        {"name": "green", "namespace": "green-namespace", "network": "other-tenant", "interface": "green",
         "memory": "1Gi", "cpu_cores": 2},
    ]
    docs, dummy = render(repo_root, tmp_path, udn_lab_ip_family="ipv6", vm_workshop_networks=networks,
                         vm_workshop_vms=vms)
    cudns = dict((c["metadata"]["name"], c) for c in docs["cudn"])
    assert cudns["happy-tenant"]["spec"]["network"]["layer2"]["subnets"] == ["fd00:192:168::/64"]
    assert cudns["other-tenant"]["spec"]["network"]["layer2"]["subnets"] == ["fd00:10:20::/64"]
    assert "ipam" not in cudns["other-tenant"]["spec"]["network"]["layer2"]
    green = [vm for vm in docs["virtualmachines"] if vm["metadata"]["name"] == "green"][0]
    assert green["spec"]["template"]["spec"]["domain"]["cpu"] == {"cores": 2}
    assert green["spec"]["template"]["spec"]["domain"]["resources"]["requests"]["memory"] == "1Gi"
    names = sorted(ns["metadata"]["name"] for ns in docs["namespaces"])
    assert names == ["blue-namespace", "green-namespace", "red-namespace"]


# --------------------------------------------------------------------------- network data and bastions


def network_data(secret):
    return yaml.safe_load(secret["stringData"]["networkdata"])


@pytest.mark.parametrize("family,dhcp4,dhcp6", [("ipv4", True, False), ("ipv6", False, True), ("dual", True, True)])
def test_network_data_runs_dhcp_for_every_family_of_the_lab(repo_root, tmp_path, family, dhcp4, dhcp6):
    """OVN-K hands IPv6 out on a Layer2 primary UDN only by DHCPv6 and the pinned disk's cloud-init falls back to
    DHCPv4 only: the network data turns DHCPv6 on, as OVN-K's e2e does for l2bridge VMs (test/e2e/kubevirt.go)."""
    docs, dummy = render(repo_root, tmp_path, udn_lab_ip_family=family)
    assert len(docs["cloud-init"]) == 2
    for secret in docs["cloud-init"]:
        data = network_data(secret)
        assert data["version"] == 2
        assert data["ethernets"]["eth0"]["dhcp4"] is dhcp4 and data["ethernets"]["eth0"]["dhcp6"] is dhcp6


def test_one_bastion_per_vm_network_on_that_network(rendered_ipv4, repo_root):
    """SSH reaches a VM through a pod on its own network: the bastion lives in a namespace the CUDN selects."""
    docs, dummy, dummy2 = rendered_ipv4
    (bastion,) = docs["bastions"]
    assert (bastion["apiVersion"], bastion["kind"]) == ("apps/v1", "Deployment")
    assert bastion["metadata"]["name"] == "udn-lab-bastion"
    selected = docs["cudn"][0]["spec"]["namespaceSelector"]["matchExpressions"][0]["values"]
    assert bastion["metadata"]["namespace"] in selected
    pod = bastion["spec"]["template"]
    assert pod["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "ovnk.udn_lab"
    assert set(bastion["spec"]["selector"]["matchLabels"].items()) <= set(pod["metadata"]["labels"].items())
    (container,) = pod["spec"]["containers"]
    versions = yaml.safe_load((repo_root / "versions.yml").read_text())["udn_lab_versions_default"]
    assert container["image"] == versions["test_pod"]["image"] and container["args"] == ["pause"]


def test_bastions_follow_the_networks(repo_root, tmp_path):
    networks = [
        {"name": "happy-tenant", "namespaces": ["red-namespace", "blue-namespace"],
         "subnets": {"ipv4": "192.168.0.0/16"}},
        {"name": "other-tenant", "namespaces": ["green-namespace"], "subnets": {"ipv4": "10.20.0.0/16"}},
    ]
    vms = [{"name": "red", "namespace": "red-namespace", "network": "happy-tenant", "interface": "happy",
            "memory": "1Gi"},
           {"name": "green", "namespace": "green-namespace", "network": "other-tenant", "interface": "green",
            "memory": "1Gi"}]
    docs, dummy = render(repo_root, tmp_path, vm_workshop_networks=networks, vm_workshop_vms=vms, migrations=0,
                         vm_workshop_bastion_name="jump", vm_workshop_bastion_image="example.org/tools:1")
    got = sorted((b["metadata"]["namespace"], b["metadata"]["name"],
                  b["spec"]["template"]["spec"]["containers"][0]["image"]) for b in docs["bastions"])
    assert got == [("green-namespace", "jump", "example.org/tools:1"), ("red-namespace", "jump", "example.org/tools:1")]


def test_bad_bastion_name_is_refused_naming_the_variable(repo_root, tmp_path):
    result = run_playbook(repo_root, tmp_path, "vms_entry.yml", vm_workshop_operation="render",
                          vm_workshop_bastion_name="Not_A_Label")
    assert result.returncode != 0
    assert "vm_workshop_bastion_name" in result.stdout and "DNS label" in result.stdout


# --------------------------------------------------------------------------- credentials and cloud-init


def test_render_generates_no_credentials_and_says_where_create_will(rendered_ipv4):
    docs, dummy, tmp_path = rendered_ipv4
    assert not (tmp_path / "lab" / "ssh").exists()
    key = tmp_path / "lab" / "ssh" / "id_ed25519"
    for secret in docs["cloud-init"]:
        user_data = yaml.safe_load(secret["stringData"]["userdata"])
        assert secret["stringData"]["userdata"].startswith("#cloud-config\n")
        assert user_data["ssh_authorized_keys"] == ["<the lab SSH public key: create generates %s.pub>" % key]
        assert user_data["password"] == "********"
        assert user_data["user"] == "fedora"


def test_credentials_generated_once_private_and_rendered_masked(repo_root, tmp_path):
    """Create's credentials (vms_credentials.yml, run by the cloud-init playbook): 0600, generated once; a render
    afterwards shows the lab's real public key and a masked password."""
    out_file = tmp_path / "cloud-init.yaml"
    first = run_playbook(repo_root, tmp_path, "vms_cloud_init.yml", vms_cloud_init_dest=str(out_file))
    assert first.returncode == 0, first.stdout + first.stderr
    ssh_dir = tmp_path / "lab" / "ssh"
    key, password_file = ssh_dir / "id_ed25519", ssh_dir / "console-password"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    password = password_file.read_text().strip()
    assert len(password) == 16 and password.isalnum()
    public = (ssh_dir / "id_ed25519.pub").read_text().strip()
    docs, dummy = render(repo_root, tmp_path)
    for secret in docs["cloud-init"]:
        user_data = yaml.safe_load(secret["stringData"]["userdata"])
        assert user_data["ssh_authorized_keys"] == [public]
        assert user_data["password"] == "********"
    rendered_text = "".join(p.read_text() for p in (tmp_path / "lab" / "rendered" / "workloads").iterdir())
    assert password not in rendered_text
    # A second run reuses the key and the password.
    before = (key.read_bytes(), password_file.read_bytes())
    again = run_playbook(repo_root, tmp_path, "vms_cloud_init.yml", vms_cloud_init_dest=str(out_file))
    assert again.returncode == 0, again.stdout + again.stderr
    assert (key.read_bytes(), password_file.read_bytes()) == before


def test_cloud_init_with_the_real_password_and_no_leak_in_verbose_output(repo_root, tmp_path):
    password = "Pa55-word-" + os.urandom(4).hex()
    out_file = tmp_path / "cloud-init.yaml"
    result = run_playbook(repo_root, tmp_path, "vms_cloud_init.yml", verbosity=3, vm_workshop_console_password=password,
                          vms_cloud_init_dest=str(out_file))
    assert result.returncode == 0, result.stdout + result.stderr
    secrets = [d for d in yaml.safe_load_all(out_file.read_text()) if d]
    public = (tmp_path / "lab" / "ssh" / "id_ed25519.pub").read_text().strip()
    assert len(secrets) == 2
    for secret in secrets:
        user_data = yaml.safe_load(secret["stringData"]["userdata"])
        assert user_data["password"] == password
        assert user_data["chpasswd"] == {"expire": False}
        assert user_data["ssh_authorized_keys"] == [public]
    # The password was handled by several tasks; with -vvv none of them shows it (the -e line is not echoed).
    assert password not in result.stdout
    assert password not in result.stderr
    # An explicit password is not written to the lab directory.
    assert not (tmp_path / "lab" / "ssh" / "console-password").exists()
