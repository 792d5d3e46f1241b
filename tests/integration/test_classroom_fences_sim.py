"""A classroom's fences on a real API server (the simulated cluster's kube-apiserver, RBAC as upstream enforces it),
with the collection's modules doing the work through Ansible: ovnk.udn_lab.participant_access gives each participant
their RBAC and a kubeconfig with a token the API server issues (TokenRequest), and ovnk.udn_lab.participant_fences_info,
connected with that kubeconfig, proves that each participant works in their own namespaces and reads their own cluster
networks, and is refused every other participant's namespaces, networks and VMs, both as SelfSubjectAccessReviews
and as real requests (HTTP 403). Taking one participant's access away removes their objects and file and leaves the
others working."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time

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
REPO = pathlib.Path(__file__).resolve().parents[2]


def ansible(module, args, kubeconfig, check=False):
    """``ansible localhost -m ovnk.udn_lab.<module>`` with ``kubeconfig``: ``(rc, result, output)``."""
    tree = pathlib.Path(str(kubeconfig) + ".tree-{0}".format(time.monotonic_ns()))
    cmd = ["ansible", "localhost", "-m", "ovnk.udn_lab." + module, "-a", json.dumps(dict(args, kubeconfig=str(
        kubeconfig))), "--tree", str(tree), "-e", "ansible_python_interpreter=" + sys.executable]
    if check:
        cmd.append("--check")
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    for var in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):  # ansible.cfg's path (kubernetes.core too)
        env.pop(var, None)
    proc = subprocess.run(cmd, cwd=str(REPO), env=env, capture_output=True, text=True, timeout=300, check=False)
    out = tree / "localhost"
    assert out.exists(), "no result: rc={0}\n{1}\n{2}".format(proc.returncode, proc.stdout, proc.stderr)
    return proc.returncode, json.loads(out.read_text()), proc.stdout + proc.stderr


def access_args(participant, spec, home):
    return {"participant": participant, "namespaces": spec["namespaces"], "cluster_networks": spec["cluster_networks"],
            "service_account_namespace": HOME_NS, "labels": LABELS, "dest": str(home / (participant + ".kubeconfig")),
            "token_seconds": 3600, "renew_before": 600}


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
    """The CRDs, the participants' namespaces and cluster networks on the cluster, then each participant's RBAC and
    kubeconfig from ovnk.udn_lab.participant_access: ``(kubeconfig, specs, participant kubeconfigs, home)``."""
    for crd in sorted((upstream_dir / "ovn-kubernetes-v1.3.0").glob("k8s.ovn.org_*.yaml")):
        kubectl(kubeconfig, "apply", "-f", str(crd))
    kubectl(kubeconfig, "wait", "--for=condition=Established", "--timeout=60s",
            "crd/clusteruserdefinednetworks.k8s.ovn.org")
    specs = dict((p, participant_spec(p)) for p in PARTICIPANTS)
    objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": HOME_NS, "labels": LABELS}}]
    for participant, spec in specs.items():
        objects += [{"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": ns, "labels": dict(LABELS, **{classroom.PARTICIPANT_LABEL: participant})}}
            for ns in spec["namespaces"]]
        objects += [{"apiVersion": "k8s.ovn.org/v1", "kind": "ClusterUserDefinedNetwork",
                     "metadata": {"name": network, "labels": LABELS},
                     "spec": {"namespaceSelector": {"matchLabels": {classroom.PARTICIPANT_LABEL: participant}},
                              "network": {"topology": "Layer2", "layer2": {"role": "Secondary",
                                                                           "subnets": ["10.200.0.0/16"]}}}}
                    for network in spec["cluster_networks"]]
    apply(kubeconfig, objects)
    configs = {}
    for participant, spec in specs.items():
        rc, result, output = ansible("participant_access", access_args(participant, spec, home), kubeconfig)
        assert rc == 0 and result["changed"] and result["token_renewed"], output
        configs[participant] = pathlib.Path(result["kubeconfig"])
    return kubeconfig, specs, configs, home


def fences(participant, specs, configs):
    """participant_fences_info with ``participant``'s kubeconfig: ``(rc, result, output)``."""
    others = dict((p, dict(s, vms=[list(v) for v in s["vms"]])) for p, s in specs.items())
    return ansible("participant_fences_info", {"participant": participant, "others": others}, configs[participant])


def test_every_fence_holds_as_the_api_server_reviews_it_and_answers_it(classroom_cluster):
    kubeconfig, specs, configs, home = classroom_cluster
    judged = []
    for participant in PARTICIPANTS:
        rc, result, output = fences(participant, specs, configs)
        assert rc == 0 and result["wrong"] == [] and result["changed"] is False, output
        judged += result["fences"]
    wrong = [(j["id"], j["expect"], j["observed"], j["http_status"]) for j in judged if j["status"] != "correct"]
    assert not wrong, wrong
    assert len(judged) > 3 * 20 and {j["expect"] for j in judged} == {True, False}
    # every refused plain request (another participant's namespaces, cluster networks and VMs, the cluster's
    # namespaces) was made for real, and refused
    across = [j for j in judged if not j["expect"] and j["request"]]
    assert {j["attributes"]["resource"] for j in across} >= {
        "pods", "userdefinednetworks", "clusteruserdefinednetworks", "virtualmachines", "namespaces"}
    assert {j["http_status"] for j in across} == {403}, across
    # and a read inside the fence was served
    assert {j["http_status"] for j in judged if j["id"].split(":", 1)[1].startswith("own-cudn-")} == {200}


def test_access_is_kept_on_a_rerun_and_predicted_so(classroom_cluster):
    kubeconfig, specs, configs, home = classroom_cluster
    before = configs["ada"].read_text()
    for check in (True, False):
        rc, result, output = ansible("participant_access", access_args("ada", specs["ada"], home), kubeconfig,
                                     check=check)
        assert rc == 0 and result["changed"] is False and result["objects"] == [], output
        assert result["token_renewed"] is False and result["expires"], output
    assert configs["ada"].read_text() == before
    token = yaml.safe_load(before)["users"][0]["user"]["token"]
    assert token not in output


def test_an_object_the_lab_did_not_make_is_not_taken_over(classroom_cluster):
    kubeconfig, specs, configs, home = classroom_cluster
    namespace = "dan-blue"
    apply(kubeconfig, [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": LABELS}},
                       {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                        "metadata": {"name": classroom.PARTICIPANT_CLUSTER_ROLE, "namespace": namespace},
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                        "subjects": [{"kind": "User", "name": "someone"}]}])
    args = dict(access_args("dan", {"namespaces": [namespace], "cluster_networks": []}, home))
    rc, result, output = ansible("participant_access", args, kubeconfig)
    assert rc != 0 and "RoleBinding dan-blue/udn-lab-participant exists without the lab's ownership labels" in (
        result["msg"]), output
    binding = json.loads(kubectl(kubeconfig, "get", "rolebinding", classroom.PARTICIPANT_CLUSTER_ROLE, "-n",
                                 namespace, "-o", "json").stdout)
    assert binding["roleRef"]["name"] == "view" and not pathlib.Path(args["dest"]).exists()
    assert kubectl(kubeconfig, "get", "serviceaccount", "dan", "-n", HOME_NS, check=False).returncode != 0


def test_real_requests_across_a_fence_are_refused_and_inside_it_are_served(classroom_cluster):
    kubeconfig, specs, configs, home = classroom_cluster
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


def test_taking_one_participants_access_away_leaves_the_others_working(classroom_cluster):
    kubeconfig, specs, configs, home = classroom_cluster
    selector = ",".join("{0}={1}".format(k, v) for k, v in sorted(dict(
        LABELS, **{classroom.PARTICIPANT_LABEL: "ada"}).items()))
    kinds = "serviceaccounts,rolebindings,clusterroles,clusterrolebindings"
    assert kubectl(kubeconfig, "get", kinds, "-A", "-l", selector, "-o", "name").stdout.split()
    old = home / "ada-before-absent.kubeconfig"
    old.write_text(configs["ada"].read_text())
    args = dict(access_args("ada", specs["ada"], home), state="absent")
    rc, predicted, output = ansible("participant_access", args, kubeconfig, check=True)
    assert rc == 0 and predicted["changed"] and configs["ada"].exists(), output
    rc, result, output = ansible("participant_access", args, kubeconfig)
    assert rc == 0 and result["changed"] and result["objects"] == predicted["objects"], output
    assert len(result["objects"]) == len(specs["ada"]["namespaces"]) + 4  # bindings, SA, role, binding, file
    assert not configs["ada"].exists()
    assert kubectl(kubeconfig, "get", kinds, "-A", "-l", selector, "-o", "name").stdout.split() == []
    # the shared ClusterRole stays, ada's namespaces (not hers to delete) too; her old token no longer works
    kubectl(kubeconfig, "get", "clusterrole", classroom.PARTICIPANT_CLUSTER_ROLE)
    kubectl(kubeconfig, "get", "namespace", specs["ada"]["namespaces"][0])
    denied = kubectl(old, "get", "pods", "-n", specs["ada"]["namespaces"][0], check=False)
    assert denied.returncode != 0 and ("Unauthorized" in denied.stderr or "Forbidden" in denied.stderr), denied.stderr
    # bob works as before, his fences all hold
    assert kubectl(configs["bob"], "get", "pods", "-n", specs["bob"]["namespaces"][0]).returncode == 0
    rc, bob, output = fences("bob", specs, configs)
    assert rc == 0 and bob["wrong"] == [], output
    rc, again, output = ansible("participant_access", args, kubeconfig)
    assert rc == 0 and again["changed"] is False, output
