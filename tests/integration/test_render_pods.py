# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""workloads entry point `pods`, operation render: the seed's objects, schema-valid, per family."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import os
import subprocess
import sys

import pytest
import yaml

PLAYBOOKS = os.path.join("tests", "integration", "playbooks")
FILES = ("namespaces", "networks", "statefulsets", "services", "network-policies", "probes")
PURPOSE = {"purpose": "devconf-eu-2025-demo"}
PRIMARY_LABEL = "k8s.ovn.org/primary-user-defined-network"
OWNERSHIP = {"app.kubernetes.io/managed-by": "ovnk.udn_lab", "udn-lab.ovnk.io/lab": "pods-test-lab"}


def run_playbook(repo_root, tmp_path, playbook, **extra):
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"), HOME=str(tmp_path / "home"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_NOCOLOR="1")
    for name in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
        env.pop(name, None)
    (tmp_path / "home").mkdir(exist_ok=True)
    variables = dict(ansible_python_interpreter=sys.executable, ansible_connection="local",
                     udn_lab_cluster_name="pods-test-lab", udn_lab_dir=str(tmp_path / "lab"),
                     render_dir=str(tmp_path / "lab" / "rendered"))
    variables.update(extra)
    extra_file = tmp_path / "extra-vars.json"
    extra_file.write_text(json.dumps(variables))
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
           os.path.join(PLAYBOOKS, playbook), "-e", "@" + str(extra_file)]
    return subprocess.run(cmd, cwd=str(repo_root), env=env, capture_output=True, text=True, check=False)


def render(repo_root, tmp_path, **extra):
    result = run_playbook(repo_root, tmp_path, "pods_render.yml", **extra)
    assert result.returncode == 0, result.stdout + result.stderr
    out = {}
    for name in FILES:
        path = tmp_path / "lab" / "rendered" / "workloads" / "pods-{0}.yaml".format(name)
        out[name] = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return out


@pytest.fixture(scope="module")
def ipv4(repo_root, tmp_path_factory):
    return render(repo_root, tmp_path_factory.mktemp("pods-ipv4"))


@pytest.fixture(scope="module")
def dual(repo_root, tmp_path_factory):
    return render(repo_root, tmp_path_factory.mktemp("pods-dual"), udn_lab_ip_family="dual")


@pytest.fixture(scope="module")
def ipv6(repo_root, tmp_path_factory):
    return render(repo_root, tmp_path_factory.mktemp("pods-ipv6"), udn_lab_ip_family="ipv6")


def by_name(docs):
    return dict(((d["metadata"].get("namespace"), d["metadata"]["name"]), d) for d in docs)


def all_objects(docs):
    return [d for name in FILES if name != "probes" for d in docs[name]]


# --------------------------------------------------------------------------- the seed's objects


def test_namespaces_equal_the_seed(ipv4):
    nss = by_name(ipv4["namespaces"])
    assert sorted(n for dummy, n in nss) == ["blue", "green", "overlapping-with-blue", "red", "yellow"]
    for (dummy, name), ns in nss.items():
        labels = ns["metadata"]["labels"]
        assert labels[PRIMARY_LABEL] == "" and labels["name"] == name and labels["purpose"] == PURPOSE["purpose"]


def test_networks_equal_the_seed(ipv4):
    nets = by_name(ipv4["networks"])
    blue = nets[("blue", "blue-network")]
    assert blue["kind"] == "UserDefinedNetwork" and blue["spec"] == {
        "topology": "Layer3", "layer3": {"role": "Primary", "subnets": [{"cidr": "103.103.0.0/16", "hostSubnet": 24}]}}
    assert blue["metadata"]["labels"]["name"] == "blue" and blue["metadata"]["labels"]["purpose"] == PURPOSE["purpose"]
    green = nets[("green", "green-network")]
    assert green["spec"]["layer3"]["subnets"] == [{"cidr": "203.203.0.0/16", "hostSubnet": 24}]
    over = nets[("overlapping-with-blue", "overlapping-with-blue-network")]
    assert over["spec"] == blue["spec"]  # overlapping on purpose
    cudn = nets[(None, "colored-enterprise")]
    assert cudn["kind"] == "ClusterUserDefinedNetwork"
    assert cudn["spec"] == {
        "namespaceSelector": {"matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["red", "yellow"]}]},
        "network": {"topology": "Layer2", "layer2": {"role": "Primary", "ipam": {"lifecycle": "Persistent"},
                                                      "subnets": ["192.168.0.0/16"]}}}
    sec = nets[(None, "blue-green-secondary")]
    assert sec["spec"]["network"] == {"topology": "Layer2", "layer2": {"role": "Secondary", "subnets": ["10.200.0.0/16"]}}
    assert sec["spec"]["namespaceSelector"]["matchExpressions"][0]["values"] == ["blue", "green"]


def test_statefulsets_equal_the_seed(repo_root, ipv4):
    image = yaml.safe_load((repo_root / "versions.yml").read_text())["udn_lab_versions_default"]["test_pod"]["image"]
    sts = by_name(ipv4["statefulsets"])
    seed = {("blue", "app-blue"): "blue", ("green", "app-green"): "green", ("red", "app-red"): "red",
            ("yellow", "app-yellow"): "yellow", ("default", "app-default"): "default",
            ("overlapping-with-blue", "app-overlapping-blue"): "overlapping-with-blue"}
    for key, network in seed.items():
        obj = sts[key]
        selector = {"network": network, "purpose": PURPOSE["purpose"]}
        assert obj["spec"]["replicas"] == 2
        assert obj["spec"]["selector"] == {"matchLabels": selector}
        tmpl_labels = obj["spec"]["template"]["metadata"]["labels"]
        assert dict((k, tmpl_labels[k]) for k in selector) == selector
        containers = obj["spec"]["template"]["spec"]["containers"]
        assert all(c["image"] == image for c in containers)
        if network in ("red", "yellow"):
            assert [(c["name"], c["args"]) for c in containers] == [
                ("agnhost-container-8080", ["netexec", "--http-port=8080", "--udp-port=-1"]),
                ("agnhost-container-9090", ["netexec", "--http-port=9090", "--udp-port=-1"])]
        else:
            assert [(c["name"], c["args"]) for c in containers] == [("agnhost-container", ["netexec"])]
    assert sts[("blue", "app-blue")]["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"] == {
        "path": "/healthz", "port": 8080}
    for key in (("blue", "app-multihomed-blue"), ("green", "app-multihomed-green")):
        ann = sts[key]["spec"]["template"]["metadata"]["annotations"]
        assert ann == {"k8s.v1.cni.cncf.io/networks": "blue-green-secondary"}


def test_services_and_policy_equal_the_seed(ipv4):
    svcs = by_name(ipv4["services"])
    for ns in ("blue", "green"):
        svc = svcs[(ns, "service-" + ns)]
        assert svc["spec"]["type"] == "NodePort" and svc["spec"]["selector"] == PURPOSE
        assert svc["spec"]["ports"] == [{"name": "web", "protocol": "TCP", "port": 80, "targetPort": 8080}]
        assert svc["metadata"]["labels"]["network"] == ns
    (policy,) = ipv4["network-policies"]
    assert (policy["metadata"]["namespace"], policy["metadata"]["name"]) == ("red", "allow-to-devconf-demo-pods")
    assert policy["spec"] == {
        "podSelector": {}, "policyTypes": ["Egress"],
        "egress": [{"to": [{"podSelector": {"matchLabels": PURPOSE}, "namespaceSelector": {}}],
                    "ports": [{"protocol": "TCP", "port": 8080}]}]}


def test_everything_carries_the_ownership_labels(ipv4):
    objs = all_objects(ipv4)
    assert len(objs) == 5 + 5 + 8 + 2 + 1
    for obj in objs:
        labels = obj["metadata"]["labels"]
        assert dict((k, labels.get(k)) for k in OWNERSHIP) == OWNERSHIP, obj["metadata"]
        assert labels["purpose"] == PURPOSE["purpose"]
    for sts in ipv4["statefulsets"]:
        pod_labels = sts["spec"]["template"]["metadata"]["labels"]
        assert dict((k, pod_labels.get(k)) for k in OWNERSHIP) == OWNERSHIP


def test_probes_follow_the_workshop(ipv4):
    (doc,) = ipv4["probes"]
    ids = [p["id"] for p in doc["probes"]]
    assert ids.index("blue-to-blue") < ids.index("blue-to-green") < ids.index("red-to-yellow") \
        < ids.index("blue-to-service-blue") < ids.index("host-to-nodeport-blue") < ids.index("blue-to-kapi") \
        < ids.index("blue-egress") < ids.index("overlapping-egress") < ids.index("red-to-yellow-9090-after-policy")
    phases = dict((p["id"], p["phase"]) for p in doc["probes"])
    assert phases["red-to-yellow-9090-before-policy"] == "before_policy"
    assert phases["red-to-yellow-9090-after-policy"] == "after_policy"
    egress = [p for p in doc["probes"] if "egress" in p.get("tags", [])]
    assert [p["to"]["address"]["ipv4"] for p in egress] == ["8.8.8.8", "8.8.8.8"]


def test_offline_lab_drops_egress_probes(repo_root, tmp_path):
    docs = render(repo_root, tmp_path, workloads_probe_egress=False)
    ids = [p["id"] for p in docs["probes"][0]["probes"]]
    assert "blue-egress" not in ids and "overlapping-egress" not in ids and "blue-to-blue" in ids


# --------------------------------------------------------------------------- families


def _subnets(net):
    spec = net["spec"] if net["kind"] == "UserDefinedNetwork" else net["spec"]["network"]
    body = spec["layer3"] if spec["topology"] == "Layer3" else spec["layer2"]
    return [s["cidr"] if isinstance(s, dict) else s for s in body["subnets"]]


@pytest.mark.parametrize("family,versions", [("ipv6", [6]), ("dual", [4, 6])])
def test_family_variants_render_valid_subnets(request, family, versions):
    docs = request.getfixturevalue(family)
    for net in docs["networks"]:
        cidrs = _subnets(net)
        nets = [ipaddress.ip_network(c, strict=True) for c in cidrs]  # strict: a network address, no host bits
        assert [n.version for n in nets] == versions, (net["metadata"]["name"], cidrs)
        for n in nets:
            if n.version == 6:
                assert n.subnet_of(ipaddress.ip_network("fc00::/7")), (n, "IPv6 defaults are ULA")
    blue = by_name(docs["networks"])[("blue", "blue-network")]
    assert blue["spec"]["layer3"]["subnets"][-1] == {"cidr": "fd00:103:103::/48", "hostSubnet": 64}


# --------------------------------------------------------------------------- upstream CRD schemas


def _crd_schema(upstream_dir, name):
    crd = yaml.safe_load((upstream_dir / "ovn-kubernetes-v1.3.0" / name).read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    return version["schema"]["openAPIV3Schema"]


def _strip_k8s_extensions(schema):
    """jsonschema knows nothing of x-kubernetes-*; CEL rules are checked by hand below."""
    if isinstance(schema, dict):
        return dict((k, _strip_k8s_extensions(v)) for k, v in schema.items() if not k.startswith("x-kubernetes-"))
    if isinstance(schema, list):
        return [_strip_k8s_extensions(v) for v in schema]
    return schema


def cel_problems(net):
    """The CRD's x-kubernetes-validations that apply to what the workshop renders, checked by hand."""
    problems = []
    spec = net["spec"] if net["kind"] == "UserDefinedNetwork" else net["spec"]["network"]
    topo = spec["topology"]
    if (topo == "Layer3") != ("layer3" in spec) or (topo == "Layer2") != ("layer2" in spec):
        problems.append("topology and its block must match")
    body = spec.get("layer3") or spec.get("layer2")
    subnets = body.get("subnets") or []
    fams = []
    for sub in subnets:
        cidr = sub["cidr"] if isinstance(sub, dict) else sub
        network = ipaddress.ip_network(cidr, strict=False)
        fams.append(network.version)
        if isinstance(sub, dict) and "hostSubnet" in sub:
            if not sub["hostSubnet"] > network.prefixlen:
                problems.append("HostSubnet must be smaller than CIDR subnet")
            if network.version == 4 and not sub["hostSubnet"] < 32:
                problems.append("HostSubnet must < 32 for ipv4 CIDR")
    if len(subnets) == 2 and fams[0] == fams[1]:
        problems.append("When 2 CIDRs are set, they must be from different IP families")
    ipam = body.get("ipam") or {}
    if ipam.get("lifecycle") == "Persistent" and ipam.get("mode", "Enabled") != "Enabled":
        problems.append("lifecycle Persistent is only supported when ipam.mode is Enabled")
    if topo == "Layer2" and ipam.get("mode", "Enabled") == "Enabled" and not subnets:
        problems.append("Subnets is required with ipam.mode is Enabled or unset")
    if "joinSubnets" in body and body.get("role") != "Primary":
        problems.append("JoinSubnets is only supported for Primary network")
    return problems


def test_cel_checker_catches_bad_host_subnet():
    bad = {"kind": "UserDefinedNetwork", "spec": {"topology": "Layer3", "layer3": {
        "role": "Primary", "subnets": [{"cidr": "10.0.0.0/24", "hostSubnet": 24}, {"cidr": "10.1.0.0/16", "hostSubnet": 32}]}}}
    assert cel_problems(bad) == ["HostSubnet must be smaller than CIDR subnet", "HostSubnet must < 32 for ipv4 CIDR",
                                 "When 2 CIDRs are set, they must be from different IP families"]


@pytest.mark.parametrize("family", ["ipv4", "ipv6", "dual"])
def test_networks_validate_against_upstream_crds(request, upstream_dir, family):
    jsonschema = pytest.importorskip("jsonschema")
    schemas = {
        "UserDefinedNetwork": _strip_k8s_extensions(_crd_schema(upstream_dir, "k8s.ovn.org_userdefinednetworks.yaml")),
        "ClusterUserDefinedNetwork": _strip_k8s_extensions(
            _crd_schema(upstream_dir, "k8s.ovn.org_clusteruserdefinednetworks.yaml")),
    }
    docs = request.getfixturevalue(family)
    assert len(docs["networks"]) == 5
    for net in docs["networks"]:
        jsonschema.validate(net, schemas[net["kind"]])
        assert cel_problems(net) == [], net["metadata"]["name"]
