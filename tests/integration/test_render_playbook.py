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


def _render(repo_root, out, lab, family, check=True):
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_COLLECTIONS_PATH=str(repo_root / ".collections"), ANSIBLE_NOCOLOR="1",
               # Render must not need the network: any proxy use would fail loudly.
               HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9")
    proc = subprocess.run(
        ["ansible-playbook", "playbooks/render.yml", "-e", "udn_lab_render_dir=%s" % out, "-e", "udn_lab_dir=%s" % lab,
         "-e", "udn_lab_kubeconfig=%s/no-such-kubeconfig" % lab, "-e", "udn_lab_ip_family=%s" % family],
        cwd=repo_root, env=env, capture_output=True, text=True, check=False, timeout=900)
    if not check:
        return proc
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


def test_render_writes_nothing_outside_its_render_directory(rendered):
    """No SSH key, console password or anything else in the lab directory: render only writes its render dir."""
    lab = rendered[1]
    assert sorted(str(p.relative_to(lab)) for p in lab.rglob("*")) == []


def test_a_refused_render_leaves_no_tree(repo_root, tmp_path):
    out, lab = tmp_path / "out", tmp_path / "lab"
    proc = _render(repo_root, out, lab, "ipv5", check=False)
    assert proc.returncode != 0 and "udn_lab_ip_family" in proc.stdout, proc.stdout[-3000:]
    assert not out.exists() and not lab.exists()


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


# --------------------------------------------------------------------------- every address field, per family
ADDRESS = re.compile(r"(?<![\w:.])((?:\d{1,3}\.){3}\d{1,3}|[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7})((?:/\d{1,3}){0,2})(?![\w:.])")
PROBE_TARGET = re.compile(r"^\.probes\[\]\.to\.address\.ipv[46]$")
"""The egress probes' target table names an address per family; the lab picks the family's at probe time."""


def address_fields(out):
    """``{(file#document, field path with list indexes as []): [(text, ip version, strict?)]}`` of every IP
    address or CIDR in every rendered file (``CIDR/hostPrefix`` counts as its CIDR)."""
    import ipaddress

    found = {}

    def walk(obj, path, where):
        if isinstance(obj, dict):
            for key, value in obj.items():
                walk(value, "%s.%s" % (path, key), where)
        elif isinstance(obj, list):
            for index, value in enumerate(obj):
                walk(value, "%s[%d]" % (path, index), where)
        elif isinstance(obj, str):
            for addr, suffix in ADDRESS.findall(obj):
                parts = [p for p in suffix.split("/") if p]
                try:
                    ip = ipaddress.ip_address(addr)
                except ValueError:
                    continue
                strict = True
                if parts:
                    try:
                        ipaddress.ip_network("%s/%s" % (addr, parts[0]), strict=True)
                    except ValueError:
                        strict = False
                found.setdefault((where, re.sub(r"\[\d+\]", "[]", path)), []).append(
                    (addr + suffix, ip.version, strict))

    for path in sorted(p for p in out.rglob("*.yaml") if p.is_file()):
        for index, doc in enumerate(yaml.safe_load_all(path.read_text())):
            walk(doc, "", "%s#%d" % (path.relative_to(out), index))
    return found


@pytest.fixture(scope="module")
def rendered_ipv6(repo_root, tmp_path_factory):
    out, lab = tmp_path_factory.mktemp("rendered6"), tmp_path_factory.mktemp("lab6")
    _render(repo_root, out, lab, "ipv6")
    return out


@pytest.mark.parametrize("family", ["ipv6", "dual"])
def test_every_address_field_holds_the_labs_families(request, family):
    """Every IP address or CIDR anywhere in the rendered lab: valid, a network address where it is a CIDR, and
    of the lab's families only: an IPv6 lab carries no IPv4 address; in a dual-stack lab every field that holds
    addresses holds both families, IPv4 first (kind, OVN-K's podNetwork/serviceNetwork and the UDN/CUDN
    subnets all take the first family as primary)."""
    out = request.getfixturevalue("rendered_ipv6") if family == "ipv6" else request.getfixturevalue("rendered")[0]
    fields = address_fields(out)
    names = set(key[1] for key in fields)
    for required in (".networking.podSubnet", ".networking.serviceSubnet", ".podNetwork", ".serviceNetwork",
                     ".spec.network.layer2.subnets[]", ".spec.layer3.subnets[].cidr"):
        assert any(name.endswith(required) for name in names), (required, sorted(names))
    for (where, path), values in sorted(fields.items()):
        assert all(value[2] for value in values), (where, path, values)
        if PROBE_TARGET.match(path):
            continue
        versions = [value[1] for value in values]
        if family == "ipv6":
            assert versions == [6] * len(versions), (where, path, values)
        else:
            assert versions[:2] == [4, 6] and len(versions) == 2, (where, path, values)
    kind = yaml.safe_load((out / "kind-config.yaml").read_text())
    assert kind["networking"]["ipFamily"] == family


@pytest.mark.parametrize("family", ["ipv6", "dual"])
def test_every_network_and_vm_of_the_rendered_lab_validates_against_the_upstream_schemas(request, upstream_dir, family):
    """The whole rendered lab of the family: every UDN/CUDN (pod and VM workshops) against OVN-K v1.3.0's CRD
    schemas and their CEL rules, every VirtualMachine against KubeVirt v1.8.4's OpenAPI (unknown fields refused)."""
    import copy
    import json

    jsonschema = pytest.importorskip("jsonschema")
    from test_render_pods import _crd_schema, _strip_k8s_extensions, cel_problems
    from test_render_vms import _strict

    out = request.getfixturevalue("rendered_ipv6") if family == "ipv6" else request.getfixturevalue("rendered")[0]
    schemas = dict((kind, _strip_k8s_extensions(_crd_schema(upstream_dir, crd))) for kind, crd in (
        ("UserDefinedNetwork", "k8s.ovn.org_userdefinednetworks.yaml"),
        ("ClusterUserDefinedNetwork", "k8s.ovn.org_clusteruserdefinednetworks.yaml")))
    swagger = json.loads((upstream_dir / "kubevirt-v1.8.4" / "swagger.json").read_text())
    vm_validator = jsonschema.Draft4Validator({"$ref": "#/definitions/v1.VirtualMachine",
                                               "definitions": _strict(copy.deepcopy(swagger["definitions"]))})
    counts = {"UserDefinedNetwork": 0, "ClusterUserDefinedNetwork": 0, "VirtualMachine": 0}
    for name in ("pods-networks.yaml", "vms-cudn.yaml", "vms-virtualmachines.yaml"):
        for doc in yaml.safe_load_all((out / "workloads" / name).read_text()):
            if not isinstance(doc, dict) or doc.get("kind") not in counts:
                continue
            counts[doc["kind"]] += 1
            if doc["kind"] == "VirtualMachine":
                errors = sorted(vm_validator.iter_errors(doc), key=lambda e: list(e.path))
                assert not errors, ["{0}: {1}".format(list(e.path), e.message) for e in errors]
            else:
                jsonschema.validate(dict(doc, metadata={}), schemas[doc["kind"]])
                assert cel_problems(doc) == [], doc["metadata"]["name"]
    assert counts["UserDefinedNetwork"] >= 3 and counts["ClusterUserDefinedNetwork"] >= 2 and counts["VirtualMachine"] >= 2, \
        counts
