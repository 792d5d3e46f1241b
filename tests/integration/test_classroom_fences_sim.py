"""A classroom's fences on a real API server (the simulated cluster's kube-apiserver, RBAC as upstream enforces it):
the objects module_utils/classroom.py renders let each participant, through a ServiceAccount token the API server
issues (TokenRequest), work in their own namespaces and read their own cluster networks, and refuse them every
other participant's namespaces, networks and VMs, both as SelfSubjectAccessReviews and as real requests."""

from __future__ import annotations

import json
import os
import pathlib
import sys

import pytest
import yaml

SIM_DIR = pathlib.Path(__file__).resolve().parents[1] / "sim"
if str(SIM_DIR) not in sys.path:
    sys.path.insert(0, str(SIM_DIR))

import build  # noqa: E402
import launcher  # noqa: E402
from sim_lab import kubectl  # noqa: E402

from ansible_collections.ovnk.udn_lab.plugins.module_utils import classroom  # noqa: E402

pytestmark = pytest.mark.sim

NAME = "class-fences"
HOME_NS = "udn-lab-classroom"
LABELS = {"app.kubernetes.io/managed-by": "ovnk.udn_lab", "udn-lab.ovnk.io/lab": NAME}
POD = yaml.safe_load((pathlib.Path(__file__).resolve().parents[2] / "roles" / "pod_workshop" / "defaults" /
                      "main.yml").read_text())
VM = yaml.safe_load((pathlib.Path(__file__).resolve().parents[2] / "roles" / "vm_workshop" / "defaults" /
                     "main.yml").read_text())
PARTICIPANTS = ["ada", "bob", "cy"]


def apply(kubeconfig, objects):
    kubectl(kubeconfig, "apply", "-f", "-", stdin="\n---\n".join(json.dumps(o) for o in objects))


def participant_spec(participant):
    pod = classroom.pod_workshop_for(participant, {k[len("pod_workshop_"):]: v for k, v in POD.items()
                                                   if k.startswith("pod_workshop_")})
    vm = classroom.vm_workshop_for(participant, {k[len("vm_workshop_"):]: v for k, v in VM.items()
                                                 if k.startswith("vm_workshop_")})
    namespaces = [n["name"] for n in pod["namespaces"]] + classroom.vm_workshop_namespaces(vm)
    networks = [n["name"] for n in pod["networks"] if n["kind"] == "ClusterUserDefinedNetwork"] + [
        n["name"] for n in vm["networks"]]
    return {"namespaces": namespaces, "cluster_networks": networks,
            "vms": [(v["namespace"], v["name"]) for v in vm["vms"]]}


@pytest.fixture(scope="module")
def classroom_cluster(tmp_path_factory, upstream_dir):
    if build.missing(build.load_matrix()):
        if os.environ.get("UDN_LAB_SIM_BUILD") != "1":
            pytest.skip("simulated cluster binaries not built: run `python tests/sim/build.py` or set "
                        "UDN_LAB_SIM_BUILD=1")
        build.build()
    home = tmp_path_factory.mktemp("classroom-sim")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("UDN_LAB_SIM_HOME", str(home / "sim"))
        kubeconfig = home / "kubeconfig"
        launcher.start(NAME, workers=1, ip_family="ipv4", kubeconfig=str(kubeconfig))
        try:
            yield classroom_world(kubeconfig, home, upstream_dir)
        finally:
            launcher.stop(NAME)


def classroom_world(kubeconfig, home, upstream_dir):
    """The CRDs, the participants' namespaces, RBAC and cluster networks on the cluster, and each participant's
    kubeconfig with a token the API server issued: ``(kubeconfig, specs, participant kubeconfigs)``."""
    for crd in sorted((upstream_dir / "ovn-kubernetes-v1.3.0").glob("k8s.ovn.org_*.yaml")):
        kubectl(kubeconfig, "apply", "-f", str(crd))
    kubectl(kubeconfig, "wait", "--for=condition=Established", "--timeout=60s",
            "crd/clusteruserdefinednetworks.k8s.ovn.org")
    specs = dict((p, participant_spec(p)) for p in PARTICIPANTS)
    objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": HOME_NS, "labels": LABELS}},
               classroom.participant_cluster_role(LABELS)]
    for participant, spec in specs.items():
        objects += [{"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": ns, "labels": dict(LABELS, **{classroom.PARTICIPANT_LABEL: participant})}}
            for ns in spec["namespaces"]]
        objects += classroom.participant_rbac(participant, spec["namespaces"], spec["cluster_networks"], LABELS,
                                              HOME_NS)
        objects += [{"apiVersion": "k8s.ovn.org/v1", "kind": "ClusterUserDefinedNetwork",
                     "metadata": {"name": network, "labels": LABELS},
                     "spec": {"namespaceSelector": {"matchLabels": {classroom.PARTICIPANT_LABEL: participant}},
                              "network": {"topology": "Layer2", "layer2": {"role": "Secondary",
                                                                           "subnets": ["10.200.0.0/16"]}}}}
                    for network in spec["cluster_networks"]]
    apply(kubeconfig, objects)
    configs = {}
    server = launcher.api_server(str(kubeconfig))
    ca = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"].get("certificate-authority-data")
    for participant, spec in specs.items():
        token = kubectl(kubeconfig, "create", "token", participant, "-n", HOME_NS, "--duration=1h").stdout.strip()
        path = home / ("%s.kubeconfig" % participant)
        path.write_text(yaml.safe_dump(classroom.participant_kubeconfig(participant, server, ca, token,
                                                                        spec["namespaces"][0], NAME)))
        path.chmod(0o600)
        configs[participant] = path
    return kubeconfig, specs, configs


def test_every_fence_holds_as_the_api_server_reviews_it(classroom_cluster):
    kubeconfig, specs, configs = classroom_cluster
    judged = []
    for participant in PARTICIPANTS:
        checks = classroom.fence_checks(participant, specs)
        allowed = {}
        for check in checks:
            # (--validate=false: kubectl validates a kind the OpenAPI schema lacks by listing the CRDs, which a
            # participant may not; the API server reviews the request as sent either way)
            review = kubectl(configs[participant], "create", "--validate=false", "-o", "json", "-f", "-",
                             stdin=json.dumps(classroom.review_body(check["attributes"])))
            allowed[check["id"]] = json.loads(review.stdout)["status"]["allowed"]
        judged += classroom.judge_fences(checks, allowed)
    wrong = [(j["id"], j["expect"], j["observed"]) for j in judged if j["status"] != "correct"]
    assert not wrong, wrong
    assert len(judged) > 3 * 20 and {j["expect"] for j in judged} == {True, False}


def test_real_requests_across_a_fence_are_refused_and_inside_it_are_served(classroom_cluster):
    kubeconfig, specs, configs = classroom_cluster
    ada, bob = configs["ada"], configs["bob"]
    own = specs["ada"]["namespaces"][0]
    theirs = specs["bob"]["namespaces"][0]
    assert kubectl(ada, "get", "pods", "-n", own).returncode == 0
    denied = kubectl(ada, "get", "pods", "-n", theirs, check=False)
    assert denied.returncode != 0 and "Forbidden" in denied.stderr, denied.stderr
    denied = kubectl(ada, "get", "namespaces", check=False)
    assert denied.returncode != 0 and "Forbidden" in denied.stderr, denied.stderr
    assert kubectl(ada, "get", "namespace", own).returncode == 0
    mine = specs["ada"]["cluster_networks"][0]
    got = json.loads(kubectl(ada, "get", "clusteruserdefinednetwork", mine, "-o", "json").stdout)
    assert got["metadata"]["name"] == mine
    denied = kubectl(ada, "get", "clusteruserdefinednetwork", specs["bob"]["cluster_networks"][0], check=False)
    assert denied.returncode != 0 and "Forbidden" in denied.stderr, denied.stderr
    # a change inside the fence is served, the same change across it refused, and the other's object untouched
    udn = {"apiVersion": "k8s.ovn.org/v1", "kind": "UserDefinedNetwork", "metadata": {"name": "mine"},
           "spec": {"topology": "Layer2", "layer2": {"role": "Secondary", "subnets": ["10.9.0.0/24"]}}}
    assert kubectl(ada, "apply", "-n", own, "-f", "-", stdin=json.dumps(udn)).returncode == 0
    kubectl(bob, "apply", "-n", theirs, "-f", "-", stdin=json.dumps(udn))
    denied = kubectl(ada, "delete", "userdefinednetwork", "mine", "-n", theirs, check=False)
    assert denied.returncode != 0 and "Forbidden" in denied.stderr, denied.stderr
    assert kubectl(kubeconfig, "get", "userdefinednetwork", "mine", "-n", theirs).returncode == 0
    # the participant's kubeconfig is private
    assert all(path.stat().st_mode & 0o777 == 0o600 for path in configs.values())
