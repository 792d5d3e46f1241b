# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""pod_workshop, operation render: the seed's objects, schema-valid, per family."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import re
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


def run_playbook(repo_root, tmp_path, playbook, check=False, **extra):
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
           os.path.join(PLAYBOOKS, playbook), "-e", "@" + str(extra_file)] + (["--check"] if check else [])
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
        "network": {"topology": "Layer2", "layer2": {
            "role": "Primary", "ipam": {"lifecycle": "Persistent"}, "subnets": ["192.168.0.0/16"]}}}
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


@pytest.mark.parametrize("family,policy", [("ipv4", None), ("ipv6", None), ("dual", "PreferDualStack")])
def test_services_ask_for_a_clusterip_per_family_in_a_dual_stack_lab(request, family, policy):
    """Kubernetes' default ipFamilyPolicy is SingleStack: a dual-stack lab's Services must ask for both families,
    or every ipv6 ClusterIP claim has no address to probe."""
    for svc in request.getfixturevalue(family)["services"]:
        assert svc["spec"].get("ipFamilyPolicy") == policy
        assert svc["spec"].get("ipFamilies") == (["IPv4", "IPv6"] if policy else None)


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
    assert [p["to"]["address"]["ipv4"] for p in egress if p["to"]["kind"] == "address"] == ["8.8.8.8", "8.8.8.8"]
    # the cheat sheet's green -> google.com: egress by name, through cluster DNS
    assert [(p["id"], p["to"]) for p in egress if p["to"]["kind"] == "dns"] == [
        ("green-egress-by-name", {"kind": "dns", "name": "google.com"})]
    # the Kubernetes API by name from every namespace the instructions script uses (red before its policy)
    assert dict((p["id"], p["phase"]) for p in doc["probes"] if p["id"].endswith("-to-kapi-by-name")) == {
        "blue-to-kapi-by-name": "always", "green-to-kapi-by-name": "always", "red-to-kapi-by-name": "before_policy",
        "yellow-to-kapi-by-name": "always"}
    # red -> blue:8080 is blocked before AND after red's policy (the script's last step)
    assert phases["red-to-blue-8080"] == "always" and phases["red-to-blue-8080-after-policy"] == "after_policy"
    # the NodePorts on the nodes the script names (script:230, 235), in this lab's cluster
    targets = dict((p["id"], p["to"]) for p in doc["probes"])
    assert targets["host-to-nodeport-blue"]["prefer_node"] == "pods-test-lab-worker"
    assert targets["host-to-nodeport-green"]["prefer_node"] == "pods-test-lab-worker2"


def test_claims_touched_by_a_network_policy_are_tied_to_a_phase(ipv4, repo_root):
    """A reachable claim whose source a policy restricts (egress) or whose target it protects (ingress) cannot be phase
    ``always``: a re-run, or verify.yml, finds the policy already in place, so the claim flips. (Found by the
    simulated cluster: red's egress policy blocks red's ping to yellow and its Kubernetes API access.)"""
    defaults = yaml.safe_load((repo_root / "roles" / "pod_workshop" / "defaults" / "main.yml").read_text())
    restricted = {"Egress": set(), "Ingress": set()}
    for policy in defaults["pod_workshop_network_policies"]:
        spec = policy["spec"]
        for kind in spec.get("policyTypes") or ["Ingress"]:
            restricted[kind].add(policy["namespace"])
    (doc,) = ipv4["probes"]
    # (a policy only takes reachability away: a claim of "blocked" holds in both phases)
    loose = [p["id"] for p in doc["probes"] if p.get("phase") == "always" and p["expect"] == "reachable"
             and ((p["from"].get("namespace") in restricted["Egress"])
                  or (p["to"].get("kind") == "pod" and p["to"].get("namespace") in restricted["Ingress"]))]
    assert loose == []
    ids = [p["id"] for p in doc["probes"]]
    assert {"red-to-yellow-icmp-after-policy", "red-to-kapi-after-policy"} <= set(ids)


def test_offline_lab_drops_egress_probes(repo_root, tmp_path):
    docs = render(repo_root, tmp_path, pod_workshop_probe_egress=False)
    ids = [p["id"] for p in docs["probes"][0]["probes"]]
    assert "blue-egress" not in ids and "overlapping-egress" not in ids and "blue-to-blue" in ids
    assert "green-egress-by-name" not in ids


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


# --------------------------------------------------------------------------- apply twice against a fake API server
#
# A small in-memory API server (discovery, GET/list, POST, merge PATCH, dryRun) that plays the controllers just
# enough for the pod workshop's waits: networks get NetworkCreated=True, StatefulSets get ready replicas and pods
# whose network-status shows the secondary networks on net1. The real end-to-end proof runs on the simulated
# cluster; this one proves the role's own requests are idempotent and check mode predicts no change.

import copy  # noqa: E402
import threading  # noqa: E402
import urllib.parse  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402

RESOURCES = {
    # (group/version): [(plural, kind, namespaced)]
    "v1": [("namespaces", "Namespace", False), ("pods", "Pod", True), ("services", "Service", True),
           ("events", "Event", True), ("secrets", "Secret", True), ("configmaps", "ConfigMap", True)],
    "apps/v1": [("statefulsets", "StatefulSet", True), ("deployments", "Deployment", True)],
    "apiextensions.k8s.io/v1": [("customresourcedefinitions", "CustomResourceDefinition", False)],
    "networking.k8s.io/v1": [("networkpolicies", "NetworkPolicy", True)],
    "k8s.ovn.org/v1": [("userdefinednetworks", "UserDefinedNetwork", True),
                       ("clusteruserdefinednetworks", "ClusterUserDefinedNetwork", False)],
}


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


class FakeApi(object):
    def __init__(self):
        self.objects = {  # (gv, plural, namespace, name) -> object; OVN-Kubernetes CRDs installed, KubeVirt not
            ("apiextensions.k8s.io/v1", "customresourcedefinitions", None, name): {
                "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": name}}
            for name in ("userdefinednetworks.k8s.ovn.org", "clusteruserdefinednetworks.k8s.ovn.org")}
        self.writes = []   # (method, path) of every non-dry-run write
        self.lock = threading.Lock()
        self.rv = 100

    def kind_of(self, gv, plural):
        return next((k, n) for p, k, n in RESOURCES[gv] if p == plural)

    def react(self, gv, plural, obj):
        """What the controllers would do once an object exists."""
        if gv == "k8s.ovn.org/v1":
            obj["status"] = {"conditions": [{"type": "NetworkCreated", "status": "True",
                                             "reason": "NetworkAttachmentDefinitionCreated", "message": "ok"}]}
        if plural == "statefulsets":
            replicas = obj["spec"].get("replicas", 1)
            obj["status"] = {"replicas": replicas, "readyReplicas": replicas, "updatedReplicas": replicas}
            tmpl = obj["spec"]["template"]
            nets = (tmpl["metadata"].get("annotations") or {}).get("k8s.v1.cni.cncf.io/networks", "")
            ns = obj["metadata"]["namespace"]
            status = [{"name": "ovn-kubernetes", "interface": "eth0", "ips": ["10.244.1.9"], "default": True}]
            status += [{"name": "{0}/{1}".format(ns, n), "interface": "net{0}".format(i + 1),
                        "ips": ["10.200.0.{0}".format(10 + i)]} for i, n in enumerate(filter(None, nets.split(",")))]
            for i in range(replicas):
                name = "{0}-{1}".format(obj["metadata"]["name"], i)
                self.objects[("v1", "pods", ns, name)] = {
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": name, "namespace": ns, "labels": dict(tmpl["metadata"]["labels"]),
                                 "annotations": {"k8s.v1.cni.cncf.io/network-status": json.dumps(status)}},
                    "status": {"phase": "Running"}}


class Handler(BaseHTTPRequestHandler):
    api = None

    def log_message(self, *args):
        pass

    def send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def parse(self):
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        parts = [p for p in url.path.split("/") if p]
        if parts[:1] == ["api"]:
            gv, rest = "v1", parts[2:]
        else:
            gv, rest = "/".join(parts[1:3]), parts[3:]
        ns = None
        if len(rest) >= 2 and rest[0] == "namespaces" and len(rest) != 2 or (len(rest) == 3 and rest[0] == "namespaces"):
            ns, rest = rest[1], rest[2:]
        plural = rest[0] if rest else None
        name = rest[1] if len(rest) > 1 else None
        return url.path, query, gv, ns, plural, name

    def discovery(self, path):
        if path == "/version":
            return {"major": "1", "minor": "35", "gitVersion": "v1.35.0"}
        if path == "/api":
            return {"kind": "APIVersions", "versions": ["v1"]}
        if path == "/apis":
            groups = []
            for gv in RESOURCES:
                if "/" in gv:
                    group, version = gv.split("/")
                    groups.append({"name": group, "versions": [{"groupVersion": gv, "version": version}],
                                   "preferredVersion": {"groupVersion": gv, "version": version}})
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
        gv = "v1" if path == "/api/v1" else path[len("/apis/"):] if path.startswith("/apis/") else None
        if gv in RESOURCES:
            verbs = ["create", "delete", "get", "list", "patch", "update", "watch"]
            return {"kind": "APIResourceList", "groupVersion": gv, "resources": [
                {"name": p, "singularName": k.lower(), "namespaced": n, "kind": k, "verbs": verbs}
                for p, k, n in RESOURCES[gv]]}
        return None

    def do_GET(self):
        found = self.discovery(urllib.parse.urlparse(self.path).path)
        if found is not None:
            return self.send(200, found)
        path, query, gv, ns, plural, name = self.parse()
        with self.api.lock:
            if name:
                obj = self.api.objects.get((gv, plural, ns, name))
                if obj is None:
                    return self.send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                           "reason": "NotFound", "code": 404, "message": "not found"})
                return self.send(200, obj)
            selector = dict(s.split("=", 1) for s in ",".join(query.get("labelSelector", [""])).split(",") if "=" in s)
            items = [o for (g, p, n, dummy), o in sorted(self.api.objects.items())
                     if g == gv and p == plural and (ns is None or n == ns)
                     and all((o["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items())]
            kind, dummy = self.api.kind_of(gv, plural)
            return self.send(200, {"kind": kind + "List", "apiVersion": gv, "metadata": {"resourceVersion": "1"},
                                   "items": items})

    def body(self):
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")

    def do_POST(self):
        path, query, gv, ns, plural, name = self.parse()
        obj = self.body()
        key = (gv, plural, ns, obj["metadata"]["name"])
        with self.api.lock:
            if key in self.api.objects:
                return self.send(409, {"kind": "Status", "status": "Failure", "reason": "AlreadyExists", "code": 409})
            obj = copy.deepcopy(obj)
            obj["metadata"].setdefault("namespace", ns) if ns else None
            self.api.rv += 1
            obj["metadata"].update(uid="uid-{0}".format(self.api.rv), resourceVersion=str(self.api.rv))
            if "dryRun" not in query:
                self.api.objects[key] = obj
                self.api.writes.append(("POST", path))
                self.api.react(gv, plural, obj)
        return self.send(201, obj)

    def do_PATCH(self):
        path, query, gv, ns, plural, name = self.parse()
        patch = self.body()
        with self.api.lock:
            key = (gv, plural, ns, name)
            if key not in self.api.objects:
                return self.send(404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404})
            before = self.api.objects[key]
            after = merge_patch(before, patch)
            if after != before and "dryRun" not in query:
                self.api.rv += 1
                after["metadata"]["resourceVersion"] = str(self.api.rv)
                self.api.objects[key] = after
                self.api.writes.append(("PATCH", path))
        return self.send(200, after)


def _do_delete(self):
    path, query, gv, ns, plural, name = self.parse()
    with self.api.lock:
        obj = self.api.objects.pop((gv, plural, ns, name), None)
        if obj is None:
            return self.send(404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404})
        self.api.writes.append(("DELETE", path))
        for key in list(self.api.objects):  # what the garbage collector and the namespace controller do
            if (plural == "statefulsets" and key[1] == "pods" and key[2] == ns and key[3].startswith(name + "-")) or \
                    (plural == "namespaces" and key[2] == name):
                del self.api.objects[key]
    return self.send(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"})


Handler.do_DELETE = _do_delete


@pytest.fixture()
def fake_api(tmp_path):
    api = FakeApi()
    handler = type("BoundHandler", (Handler,), {"api": api})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": "http://127.0.0.1:{0}".format(server.server_port)}}],
        "users": [{"name": "fake", "user": {"token": "fake"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}]}))
    yield api, kubeconfig
    server.shutdown()


def _changed(stdout):
    recap = [line for line in stdout.splitlines() if line.startswith("localhost")][-1]
    return int(recap.split("changed=")[1].split()[0])


def test_guided_mode_gives_a_participant_their_own_names_and_kubeconfig(repo_root, tmp_path, fake_api):
    """A classroom participant's guided run prints the commands they type: their namespaces, their cluster UDN,
    their kubeconfig, and nothing they are not allowed (they may not list namespaces or every UDN)."""
    api, kubeconfig = fake_api
    lab = tmp_path / "lab"
    result = run_playbook(repo_root, tmp_path, "pods_entry.yml", entry="main", udn_lab_kubeconfig=str(kubeconfig),
                          pod_workshop_verify=False, pod_workshop_wait_timeout=10, pod_workshop_guided=True,
                          pod_workshop_participant="ada")
    assert result.returncode == 0, result.stdout + result.stderr
    # (each message, unwrapped, from the YAML result format: single-quoted, a quote doubled)
    tries = [t.replace("''", "'").strip()
             for t in re.findall(r"Try it: ((?:[^']|'')*)'", re.sub(r"\s+", " ", result.stdout))]
    mine = "kubectl --kubeconfig %s/participants/ada/kubeconfig " % lab
    assert len(tries) >= 4 and all(t.startswith(mine) for t in tries), tries
    assert mine + "auth can-i --list -n ada-blue" in tries
    assert any(t.startswith(mine + "wait udn -n ada-blue --all") and t.endswith("get cudn ada-colored-enterprise")
               for t in tries), tries
    assert mine + "exec -n ada-blue app-multihomed-blue-0 -- ip addr show net1" in tries
    assert not [t for t in tries if " -A " in t or " get ns " in t or re.search(r" -n (blue|red) ", t)], tries


def test_check_mode_then_apply_twice_changes_nothing_the_second_time(repo_root, tmp_path, fake_api):
    api, kubeconfig = fake_api
    common = dict(entry="main", udn_lab_kubeconfig=str(kubeconfig), pod_workshop_verify=False, pod_workshop_wait_timeout=10)
    predicted = run_playbook(repo_root, tmp_path, "pods_entry.yml", check=True, **common)
    assert predicted.returncode == 0, predicted.stdout + predicted.stderr
    assert _changed(predicted.stdout) > 0 and api.writes == [], "check mode predicts changes and writes nothing"
    first = run_playbook(repo_root, tmp_path, "pods_entry.yml", pod_workshop_guided=True, **common)
    assert first.returncode == 0, first.stdout + first.stderr
    # guided mode: each step says what it shows and the command a participant would type
    assert "STEP: Namespaces with the primary-UDN label" in first.stdout
    assert "Try it: kubectl get ns -l k8s.ovn.org/primary-user-defined-network --show-labels" in first.stdout
    assert "STEP: Multi-homing on a secondary network" in first.stdout
    kinds = sorted(set((k[0], k[1]) for k in api.objects))
    assert ("k8s.ovn.org/v1", "clusteruserdefinednetworks") in kinds and ("apps/v1", "statefulsets") in kinds
    assert len([k for k in api.objects if k[1] == "networkpolicies"]) == 1
    writes = len(api.writes)
    assert writes == 5 + 5 + 8 + 2 + 1  # namespaces, networks, StatefulSets, Services, NetworkPolicy
    for key, obj in api.objects.items():
        if key[1] not in ("pods", "customresourcedefinitions"):
            assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "ovnk.udn_lab", key

    check = run_playbook(repo_root, tmp_path, "pods_entry.yml", check=True, **common)
    assert check.returncode == 0, check.stdout + check.stderr
    assert _changed(check.stdout) == 0, check.stdout
    second = run_playbook(repo_root, tmp_path, "pods_entry.yml", **common)
    assert second.returncode == 0, second.stdout + second.stderr
    assert _changed(second.stdout) == 0, second.stdout
    assert len(api.writes) == writes, api.writes[writes:]

    # teardown: only labelled workshop objects, workloads before networks before namespaces, nothing foreign
    foreign = {
        ("v1", "namespaces", None, "users-ns"): {"apiVersion": "v1", "kind": "Namespace",
                                                 "metadata": {"name": "users-ns", "labels": {}}},
        ("apps/v1", "statefulsets", "blue", "users-app"): {
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "users-app", "namespace": "blue", "labels": {"purpose": "devconf-eu-2025-demo"}}},
        ("apps/v1", "deployments", "kube-system", "addon"): {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {
            "name": "addon", "namespace": "kube-system", "labels": dict(OWNERSHIP)}},
        ("v1", "services", "default", "other-lab"): {"apiVersion": "v1", "kind": "Service", "metadata": {
            "name": "other-lab", "namespace": "default", "labels": dict(OWNERSHIP, **{"udn-lab.ovnk.io/lab": "other"})}},
    }
    api.objects.update(copy.deepcopy(foreign))
    down = run_playbook(repo_root, tmp_path, "pods_entry.yml", entry="teardown", udn_lab_kubeconfig=str(kubeconfig),
                        pod_workshop_wait_timeout=10)
    assert down.returncode == 0, down.stdout + down.stderr
    deleted = [path for method, path in api.writes[writes:] if method == "DELETE"]
    kinds = [path.split("/")[-2] for path in deleted]
    assert kinds.index("clusteruserdefinednetworks") > max(i for i, k in enumerate(kinds) if k in ("statefulsets", "pods"))
    assert min(i for i, k in enumerate(kinds) if k in ("userdefinednetworks", "clusteruserdefinednetworks")) > \
        max(i for i, k in enumerate(kinds) if k in ("statefulsets", "services", "networkpolicies", "pods"))
    # namespace blue holds a StatefulSet the lab did not create: it is kept (and said so), the other four go
    assert kinds[-4:] == ["namespaces"] * 4 and "namespaces" not in kinds[:-4]
    assert "Kept namespace(s) blue: they hold objects without the lab labels" in down.stdout and "users-app" in down.stdout
    remaining = sorted(key for key in api.objects if key[1] != "customresourcedefinitions")
    assert remaining == sorted(list(foreign) + [("v1", "namespaces", None, "blue")]), remaining


@pytest.mark.parametrize("labels,refusal", [
    ({}, "1 object(s) exist that this lab did not make (they lack its labels app.kubernetes.io/managed-by=ovnk.udn_lab, "
         "udn-lab.ovnk.io/lab=pods-test-lab): Namespace blue. The lab never takes over an object it does not own"),
    # the lab's own namespace made without the primary-UDN label: a primary UDN needs it, set only at creation
    (dict(OWNERSHIP), "1 object(s) of this lab exist without a label that only counts when set at creation: Namespace "
                      "blue (no k8s.ovn.org/primary-user-defined-network)"),
])
def test_a_namespace_the_lab_cannot_use_is_refused_before_any_change(repo_root, tmp_path, fake_api, labels, refusal):
    """A workshop namespace that already exists without the lab's labels (someone else's), or without the
    primary-UDN label its network needs: create refuses it, names the variables that choose the names, and writes
    nothing."""
    api, kubeconfig = fake_api
    api.objects[("v1", "namespaces", None, "blue")] = {"apiVersion": "v1", "kind": "Namespace",
                                                       "metadata": {"name": "blue", "labels": labels}}
    result = run_playbook(repo_root, tmp_path, "pods_entry.yml", entry="main", udn_lab_kubeconfig=str(kubeconfig),
                          pod_workshop_verify=False, pod_workshop_wait_timeout=10)
    out = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, out[-3000:]
    assert refusal in out, out[-3000:]
    assert "(nothing was applied). Fix: delete them, or choose other names in pod_workshop_namespaces" in out
    assert api.writes == [], api.writes


def test_private_subnets_move_every_public_workshop_subnet_consistently(repo_root, tmp_path, ipv4):
    """udn_lab_private_subnets: the workshop's public IPv4 ranges become private ones; overlapping-with-blue still
    overlaps blue; the defaults stay upstream's (public) ranges."""
    public = dict((n["metadata"]["name"], _subnets(n)) for n in ipv4["networks"])
    assert public["blue-network"] == public["overlapping-with-blue-network"] == ["103.103.0.0/16"]
    assert public["green-network"] == ["203.203.0.0/16"]
    docs = render(repo_root, tmp_path, udn_lab_private_subnets=True, udn_lab_ip_family="dual")
    moved = dict((n["metadata"]["name"], _subnets(n)) for n in docs["networks"])
    assert moved["blue-network"] == moved["overlapping-with-blue-network"] == ["10.103.0.0/16", "fd00:103:103::/48"]
    assert moved["green-network"] == ["10.203.0.0/16", "fd00:203:203::/48"]
    for name, cidrs in moved.items():
        for cidr in cidrs:
            assert not ipaddress.ip_network(cidr).is_global, (name, cidr)
    # the names and everything else of the networks are unchanged
    assert sorted(moved) == sorted(public)
