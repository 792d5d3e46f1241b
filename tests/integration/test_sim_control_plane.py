"""The simulated cluster's control plane: real etcd, kube-apiserver, kube-controller-manager and kube-scheduler
(built by tests/sim/build.py), kwok faking nodes and pods, started by tests/sim/launcher.py; and the kind and
docker stand-ins the kind_cluster role drives.

The cluster tests need the built binaries. They build them when UDN_LAB_SIM_BUILD=1 (what the README's test
command sets) and are skipped, with the command to run, only when the binaries are missing and no build was
requested.
"""

import ipaddress
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest
import yaml

SIM_DIR = pathlib.Path(__file__).resolve().parents[1] / "sim"
sys.path.insert(0, str(SIM_DIR))

import build  # noqa: E402
import launcher  # noqa: E402
import slot  # noqa: E402
from sim_lab import kubectl  # noqa: E402

pytestmark = pytest.mark.sim

KIND = str(SIM_DIR / "bin" / "kind")
DOCKER = str(SIM_DIR / "bin" / "docker")
PODMAN = str(SIM_DIR / "bin" / "podman")
CLUSTER = "sim-cp-%d" % os.getpid()
KIND_CLUSTER = "sim-kind-%d" % os.getpid()


# --------------------------------------------------------------------------- no cluster needed


def test_worker_names_follow_kind():
    assert launcher.worker_names("lab", 3) == ["lab-worker", "lab-worker2", "lab-worker3"]


def test_node_plan_control_plane_is_tainted_and_labelled():
    nodes = launcher.node_plan("lab", 2, "dual", ["10.244.0.0/16", "fd00:10:244::/48"], {"worker": {"x": "y"}}, lab_slot=0)
    cp, w1, w2 = nodes
    assert cp["labels"]["node-role.kubernetes.io/control-plane"] == ""
    assert cp["taints"] == [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    assert "node-role.kubernetes.io/control-plane" not in w1["labels"] and w1["taints"] == []
    assert w2["labels"]["kubernetes.io/hostname"] == "lab-worker2" and w2["labels"]["x"] == "y"
    assert (cp["ipv4"], cp["ipv6"]) == ("127.0.0.1", "::1")
    assert w2["pod_cidrs"] == ["10.244.2.0/24", "fd00:10:244:2::/64"]
    assert len({n["ipv4"] for n in nodes}) == 3 and len({n["ipv6"] for n in nodes}) == 3


def test_kwokctl_config_keeps_components_alive_and_exec_inside_pods():
    doc = json.loads(launcher.kwokctl_config("lab", 6443, ["10.96.0.0/16"], "v1.35.0", exec_path="/shims", stages=False))
    patches = dict((p["name"], p) for p in doc["componentsPatches"])
    for name in ("kube-scheduler", "kube-controller-manager"):
        assert {"key": "leader-elect", "value": "false"} in patches[name]["extraArgs"]
    # kwok looks exec'd commands up in its own PATH: only the shims, never the host's tools
    assert patches["kwok-controller"]["extraEnvs"] == [{"name": "PATH", "value": "/shims"}]
    assert launcher.dns_service_ip(["10.96.0.0/16"]) == "10.96.0.10"
    assert launcher.dns_service_ip(["fd00:10:96::/112"]) == "fd00:10:96::a"


def test_kwok_stages_are_kwokctls_defaults_with_a_cni_pod_ready(sim_home, tmp_path):
    """The five stages kwokctl would use, from the kwok module source; pod-ready waits for OVN-K's annotation
    (host-network pods excepted) and takes the pod IPs from it. A kwok whose pod-ready lacks the replaced line
    is refused by name, not silently run with kwok's own pool."""
    stages = launcher.kwok_stages()
    assert [s["metadata"]["name"] for s in stages] == list(launcher.KWOK_STAGES)
    ready = stages[launcher.KWOK_STAGES.index("pod-ready")]["spec"]
    assert {"key": '.spec.hostNetwork == true or .metadata.annotations["k8s.ovn.org/pod-networks"] != null',
            "operator": "In", "values": ["true"]} in ready["selector"]["matchExpressions"]
    template = ready["next"]["statusTemplate"]
    assert launcher.CNI_POD_IPS in template and "( or .spec.hostNetwork false )" not in template
    docs = launcher.kwokctl_config("lab", 6443, ["10.96.0.0/16"], "v1.35.0").split("---\n")
    assert [json.loads(d)["kind"] for d in docs] == ["KwokctlConfiguration"] + ["Stage"] * 5
    for name in launcher.KWOK_STAGES:
        text = (build.bin_dir() / "kwok-stages" / ("%s.yaml" % name)).read_text()
        (tmp_path / ("%s.yaml" % name)).write_text(text.replace("PodIPsWith", "PodIPsFrom"))
    with pytest.raises(launcher.LaunchError, match="expected one line starting"):
        launcher.kwok_stages(tmp_path)


def test_kind_config_parsing(tmp_path):
    sys.path.insert(0, str(SIM_DIR / "bin"))
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.SourceFileLoader("kind_standin", KIND)
    spec = importlib.util.spec_from_loader("kind_standin", loader)
    kind = importlib.util.module_from_spec(spec)
    loader.exec_module(kind)
    cfg = tmp_path / "kind.yaml"
    cfg.write_text(
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nname: lab\nnetworking:\n  ipFamily: dual\n"
        "  podSubnet: \"10.244.0.0/16,fd00:10:244::/48\"\n  serviceSubnet: \"10.96.0.0/16,fd00:10:96::/112\"\n"
        "nodes:\n  - role: control-plane\n  - role: worker\n    labels:\n      tier: \"1\"\n  - role: worker\n"
    )
    got = kind.parse_config(str(cfg))
    assert got["workers"] == 2 and got["control_planes"] == 1 and got["ip_family"] == "dual"
    assert got["pod_subnets"] == ["10.244.0.0/16", "fd00:10:244::/48"]
    assert got["service_subnets"] == ["10.96.0.0/16", "fd00:10:96::/112"]
    assert got["labels"] == {"worker": {"tier": "1"}}


def test_kind_version_is_the_pinned_release():
    out = subprocess.run([KIND, "version"], stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    pinned = yaml.safe_load((SIM_DIR.parents[1] / "versions.yml").read_text())["udn_lab_versions_default"]["kind"]
    assert out.split()[:2] == ["kind", pinned["version"]]
    assert out.split()[2].startswith("go1.") and "/" in out.split()[3]


def test_docker_standin_against_recorded_state(tmp_path, monkeypatch):
    monkeypatch.setenv("UDN_LAB_SIM_HOME", str(tmp_path))
    nodes = launcher.node_plan("lab", 1, "ipv6", ["fd00:10:244::/48"], lab_slot=0)
    launcher.write_state({"name": "lab", "ip_family": "ipv6", "nodes": nodes, "sysctls": {}})

    def run(*argv, check=True):
        return subprocess.run(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              check=check, env=dict(os.environ))

    doc = json.loads(run(DOCKER, "inspect", "lab-control-plane").stdout)[0]
    assert doc["NetworkSettings"]["Networks"]["kind"]["GlobalIPv6Address"] == "::1"
    fmt = "{{range .NetworkSettings.Networks}}{{.GlobalIPv6Address}}{{end}}"
    assert run(PODMAN, "inspect", "-f", fmt, "lab-worker").stdout.strip() == nodes[1]["ipv6"]
    keys = ["net.ipv6.conf.all.disable_ipv6", "net.ipv6.conf.all.forwarding"]
    assert run(DOCKER, "exec", "lab-worker", "sysctl", "-n", *keys).stdout.split() == ["0", "1"]
    run(DOCKER, "exec", "lab-worker", "sysctl", "-w", keys[1] + "=0")
    assert run(DOCKER, "exec", "lab-worker", "sysctl", "-n", keys[1]).stdout.split() == ["0"]
    assert "sysctl -w %s=0" % keys[1] in (tmp_path / "lab" / "exec.log").read_text()
    assert run(DOCKER, "exec", "lab-worker", "ip", "link", check=False).returncode != 0
    assert run(DOCKER, "inspect", "no-such-node", check=False).returncode == 1


# --------------------------------------------------------------------------- a running cluster


def _binaries_or_skip():
    todo = build.missing(build.load_matrix())
    if not todo:
        return
    if os.environ.get("UDN_LAB_SIM_BUILD") != "1":
        pytest.skip("simulated cluster binaries not built (%s): run `python tests/sim/build.py` or set "
                    "UDN_LAB_SIM_BUILD=1" % "; ".join("%s: %s" % kv for kv in sorted(todo.items())))
    build.build()


@pytest.fixture(scope="module")
def sim_home(tmp_path_factory):
    _binaries_or_skip()
    home = build.cache_dir() / "test-clusters"
    old = os.environ.get("UDN_LAB_SIM_HOME")
    os.environ["UDN_LAB_SIM_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("UDN_LAB_SIM_HOME", None)
    else:
        os.environ["UDN_LAB_SIM_HOME"] = old


@pytest.fixture(scope="module")
def cluster(sim_home, tmp_path_factory):
    kubeconfig = tmp_path_factory.mktemp("sim") / "kubeconfig"
    state = launcher.start(CLUSTER, workers=2, ip_family="ipv4", kubeconfig=str(kubeconfig))
    try:
        yield state, kubeconfig
    finally:
        kept = launcher.stop(CLUSTER)
        print("component logs of %s kept in %s" % (CLUSTER, kept))


def get_json(kubeconfig, *args):
    return json.loads(kubectl(kubeconfig, "get", "-o", "json", *args).stdout)


def wait_for(what, predicate, timeout=180):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(1)
    raise AssertionError("%s: not reached within %ds (last: %r)" % (what, timeout, last))


def test_kubeconfig_is_private_and_names_kind_context(cluster):
    state, kubeconfig = cluster
    assert kubeconfig.stat().st_mode & 0o777 == 0o600
    cfg = yaml.safe_load(kubeconfig.read_text())
    assert cfg["current-context"] == "kind-" + CLUSTER
    assert cfg["clusters"][0]["cluster"]["server"] == state["api_server"]


def test_api_server_is_the_pinned_kubernetes_release(cluster):
    kubeconfig = cluster[1]
    version = json.loads(kubectl(kubeconfig, "version", "-o", "json").stdout)
    pinned = build.load_matrix()["sim"]["kubernetes"]["version"]
    assert version["serverVersion"]["gitVersion"] == pinned
    assert version["clientVersion"]["gitVersion"] == pinned


def test_nodes_are_named_and_labelled_like_kind(cluster):
    kubeconfig = cluster[1]
    nodes = {n["metadata"]["name"]: n for n in get_json(kubeconfig, "nodes")["items"]}
    cp, workers = CLUSTER + "-control-plane", [CLUSTER + "-worker", CLUSTER + "-worker2"]
    assert sorted(nodes) == sorted([cp] + workers)
    for name, node in nodes.items():
        labels = node["metadata"]["labels"]
        assert labels["kubernetes.io/hostname"] == name
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True", name
    assert "node-role.kubernetes.io/control-plane" in nodes[cp]["metadata"]["labels"]
    assert {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"} in [
        {k: t[k] for k in ("key", "effect")} for t in nodes[cp]["spec"].get("taints", [])]
    for w in workers:
        assert "node-role.kubernetes.io/control-plane" not in nodes[w]["metadata"]["labels"]

    # A new node carries node.kubernetes.io/not-ready until the node lifecycle controller of
    # kube-controller-manager sees it Ready and lifts it: asynchronous, as on kind (a loaded machine once read a
    # worker before that). Settled, the workers are untainted.
    def untainted_workers():
        now = {n["metadata"]["name"]: n for n in get_json(kubeconfig, "nodes")["items"]}
        return all(not now[w]["spec"].get("taints") for w in workers) and now

    nodes = wait_for("the workers lose the not-ready taint", untainted_workers, timeout=120)
    addresses = {a["type"]: a["address"] for a in nodes[cp]["status"]["addresses"]}
    assert addresses["InternalIP"] == slot.node_ipv4(slot.current(), 0)  # 127.0.0.1 in slot 0


def test_deployment_pods_run_on_workers_through_the_scheduler(cluster):
    kubeconfig = cluster[1]
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "registry.k8s.io/pause:3.10"}]}}},
    }
    kubectl(kubeconfig, "apply", "-f", "-", stdin=json.dumps(deployment))

    def pods():
        return get_json(kubeconfig, "pods", "-n", "default", "-l", "app=web")["items"]

    def running():
        ok = [p for p in pods() if p["status"].get("phase") == "Running" and p["spec"].get("nodeName")
              and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))]
        return ok if len(ok) == 3 else None

    # the real scheduler placed them and honoured the control-plane taint; with no CNI (nothing wrote OVN-K's
    # pod-networks annotation) they stay Pending without an address, as on a kind cluster before its CNI
    bound = wait_for("3 scheduled pods", lambda: [p for p in pods() if p["spec"].get("nodeName")]
                     if len([p for p in pods() if p["spec"].get("nodeName")]) == 3 else None)
    assert {p["spec"]["nodeName"] for p in bound} <= {CLUSTER + "-worker", CLUSTER + "-worker2"}
    time.sleep(3)
    assert all(p["status"].get("phase") == "Pending" and not p["status"].get("podIP") for p in pods())
    # once the CNI's annotation is there, kwok's pod-ready stage (the launcher's) runs them with ITS addresses
    for index, p in enumerate(bound):
        nets = {"default": {"ip_addresses": ["10.244.7.%d/24" % (index + 3), "fd00:10:244:7::%d/64" % (index + 3)],
                            "mac_address": "0a:58:0a:f4:07:%02x" % (index + 3), "role": "primary"}}
        kubectl(kubeconfig, "annotate", "pod", "-n", "default", p["metadata"]["name"],
                "k8s.ovn.org/pod-networks=" + json.dumps(nets))

    ready = wait_for("3 Running pods of deployment web", running)
    got = sorted((p["status"]["podIP"], tuple(i["ip"] for i in p["status"]["podIPs"])) for p in ready)
    assert got == [("10.244.7.%d" % i, ("10.244.7.%d" % i, "fd00:10:244:7::%d" % i)) for i in (3, 4, 5)]
    # the real controller manager updated the Deployment status
    wait_for("deployment web available", lambda: get_json(kubeconfig, "deployment", "web", "-n", "default")
             ["status"].get("availableReplicas") == 3)


def test_a_crd_can_be_applied_and_used(cluster):
    kubeconfig = cluster[1]
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.sim.udn-lab.ovnk.io"},
        "spec": {"group": "sim.udn-lab.ovnk.io", "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                               "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                   "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}}]},
    }
    kubectl(kubeconfig, "apply", "-f", "-", stdin=json.dumps(crd))
    kubectl(kubeconfig, "wait", "--for=condition=Established", "--timeout=60s", "crd/widgets.sim.udn-lab.ovnk.io")
    widget = {"apiVersion": "sim.udn-lab.ovnk.io/v1", "kind": "Widget",
              "metadata": {"name": "w1", "namespace": "default"}, "spec": {"size": 3}}
    kubectl(kubeconfig, "apply", "-f", "-", stdin=json.dumps(widget))
    assert get_json(kubeconfig, "widgets", "w1", "-n", "default")["spec"] == {"size": 3}
    # schema validation is the real API server's: a string size is refused
    bad = dict(widget, metadata={"name": "w2", "namespace": "default"}, spec={"size": "big"})
    assert kubectl(kubeconfig, "apply", "-f", "-", stdin=json.dumps(bad), check=False).returncode != 0


def test_kwok_exec_and_logs_crds_are_enabled(cluster):
    kubeconfig = cluster[1]
    crds = {c["metadata"]["name"] for c in get_json(kubeconfig, "crd")["items"]}
    for name in ("clusterexecs.kwok.x-k8s.io", "execs.kwok.x-k8s.io", "logs.kwok.x-k8s.io",
                 "portforwards.kwok.x-k8s.io"):
        assert name in crds


def test_kube_dns_service_is_at_the_kubeadm_address(cluster):
    svc = get_json(cluster[1], "service", "kube-dns", "-n", "kube-system")
    assert svc["spec"]["clusterIP"] == "10.96.0.10"
    assert {(p["port"], p["protocol"]) for p in svc["spec"]["ports"]} >= {(53, "UDP"), (53, "TCP")}


@pytest.mark.netns
def test_kubectl_exec_runs_the_command_inside_the_pods_network_namespace(cluster):
    """kwok looks the exec'd command up in its OWN PATH: the launcher puts the data plane's shims first there,
    so `kubectl exec POD -- ip ...` (no shell) runs in the namespace the pod's Exec object names."""
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    kubeconfig = cluster[1]
    netns = "udnsimtest-cp-%d" % os.getpid()  # (not the prefix of a lab that may be running)
    subprocess.run(["ip", "netns", "add", netns], check=True)
    try:
        subprocess.run(["ip", "-n", netns, "link", "add", "probe0", "type", "veth", "peer", "name", "probe1"], check=True)
        subprocess.run(["ip", "-n", netns, "addr", "add", "192.0.2.77/32", "dev", "probe0"], check=True)
        nets = {"default": {"ip_addresses": ["10.244.1.3/24"], "mac_address": "0a:58:0a:f4:01:03", "role": "primary"}}
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "execme", "namespace": "default",
                            "annotations": {"k8s.ovn.org/pod-networks": json.dumps(nets)}},
               "spec": {"nodeName": CLUSTER + "-worker", "containers": [{"name": "c", "image": "agnhost"}]}}
        shims = str(SIM_DIR / "dataplane" / "shims")
        exec_obj = {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Exec",
                    "metadata": {"name": "execme", "namespace": "default"},
                    "spec": {"execs": [{"local": {"workDir": "/", "envs": [
                        {"name": "UDNSIM_NETNS", "value": netns},
                        {"name": "PATH", "value": shims + ":/usr/sbin:/usr/bin:/sbin:/bin"}]}}]}}
        kubectl(kubeconfig, "apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                                                  "items": [pod, exec_obj]}))
        wait_for("pod execme Running", lambda: get_json(kubeconfig, "pod", "execme", "-n", "default")
                 ["status"].get("phase") == "Running")
        out = wait_for("kubectl exec into execme", lambda: kubectl(
            kubeconfig, "exec", "-n", "default", "execme", "--", "ip", "-br", "addr", check=False).stdout, 60)
        assert "192.0.2.77/32" in out and "probe0" in out, out
        # a command the data plane has no shim for is not found, rather than run outside the pod's network
        assert kubectl(kubeconfig, "exec", "-n", "default", "execme", "--", "uname", check=False).returncode != 0
        # a failing command's exit status comes back as kubectl's
        assert kubectl(kubeconfig, "exec", "-n", "default", "execme", "--", "ping", "-c", "1", "-W", "1",
                       "192.0.2.99", check=False).returncode != 0
    finally:
        subprocess.run(["ip", "netns", "del", netns], check=False)


def test_kind_and_docker_standins_round_trip(sim_home, tmp_path):
    config = tmp_path / "kind-config.yaml"
    config.write_text(yaml.safe_dump({
        "kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4", "name": KIND_CLUSTER,
        "networking": {"disableDefaultCNI": True, "kubeProxyMode": "none", "ipFamily": "ipv4",
                       "podSubnet": "10.244.0.0/16", "serviceSubnet": "10.96.0.0/16"},
        "nodes": [{"role": "control-plane"}, {"role": "worker", "labels": {"udn-lab.ovnk.io/lab": KIND_CLUSTER}}],
    }))
    kubeconfig = tmp_path / "kubeconfig"
    env = dict(os.environ, UDN_LAB_SIM_API_PORT="0")

    def run(*argv, check=True):
        proc = subprocess.run(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              env=env, check=False)
        if check and proc.returncode != 0:
            raise AssertionError("%s: rc %d\n%s" % (" ".join(argv), proc.returncode, proc.stderr))
        return proc

    assert KIND_CLUSTER not in run(KIND, "get", "clusters").stdout.split()
    run(KIND, "create", "cluster", "--name", KIND_CLUSTER, "--config", str(config), "--kubeconfig", str(kubeconfig))
    try:
        assert KIND_CLUSTER in run(KIND, "get", "clusters").stdout.split()
        assert run(KIND, "get", "nodes", "--name", KIND_CLUSTER).stdout.split() == [
            KIND_CLUSTER + "-control-plane", KIND_CLUSTER + "-worker"]
        exported = tmp_path / "exported"
        exported.write_text(run(KIND, "get", "kubeconfig", "--name", KIND_CLUSTER).stdout)
        names = [n["metadata"]["name"] for n in get_json(exported, "nodes")["items"]]
        assert sorted(names) == [KIND_CLUSTER + "-control-plane", KIND_CLUSTER + "-worker"]
        worker = get_json(exported, "node", KIND_CLUSTER + "-worker")
        assert worker["metadata"]["labels"]["udn-lab.ovnk.io/lab"] == KIND_CLUSTER
        # the API server URL the role derives from the control-plane "container" answers
        ip = run(DOCKER, "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                 KIND_CLUSTER + "-control-plane").stdout.strip()
        internal = yaml.safe_load(run(KIND, "get", "kubeconfig", "--name", KIND_CLUSTER, "--internal").stdout)
        server = internal["clusters"][0]["cluster"]["server"]
        assert server.startswith("https://%s:" % ip)
        (tmp_path / "internal").write_text(yaml.safe_dump(internal))
        assert kubectl(tmp_path / "internal", "get", "--raw", "/readyz").stdout.strip() == "ok"
        run(DOCKER, "exec", KIND_CLUSTER + "-worker", "sysctl", "-w", "net.ipv6.conf.all.forwarding=1")
        assert run(DOCKER, "exec", KIND_CLUSTER + "-worker", "sysctl", "-n",
                   "net.ipv6.conf.all.forwarding").stdout.strip() == "1"
    finally:
        run(KIND, "delete", "cluster", "--name", KIND_CLUSTER, "--kubeconfig", str(kubeconfig))
    assert KIND_CLUSTER not in run(KIND, "get", "clusters").stdout.split()
    kept = launcher.kept_logs_dir(KIND_CLUSTER)
    assert (kept / "kube-apiserver.log").stat().st_size > 0
    # deleting a cluster that does not exist succeeds, as kind's does
    run(KIND, "delete", "cluster", "--name", KIND_CLUSTER)


# --------------------------------------------------------------------------- probe planning on real Service objects
class ApiLookup(object):
    """The probe planner's lookup (services, pods, nodes) answered by a real API server through kubectl."""

    def __init__(self, kubeconfig):
        self.kubeconfig = kubeconfig

    def get_service(self, namespace, name):
        proc = kubectl(self.kubeconfig, "get", "service", "-n", namespace, name, "-o", "json", check=False)
        return json.loads(proc.stdout) if proc.returncode == 0 else None

    def list_pods(self, namespace, selector):
        return get_json(self.kubeconfig, "pods", "-n", namespace, "-l", selector)["items"]

    def list_nodes(self):
        return get_json(self.kubeconfig, "nodes")["items"]


@pytest.mark.parametrize("family", ["dual", "ipv6"])
def test_probe_planning_against_the_services_a_real_api_server_returns(sim_home, tmp_path, family):
    """What kube-apiserver v1.35 makes of the lab's Services and of default/kubernetes, fed to the probe planner:
    in a dual-stack cluster a Service as the lab renders it (PreferDualStack, both families) has a ClusterIP per
    family, the workshop's own manifest (no ipFamilyPolicy) only the first family's, and default/kubernetes is
    single-stack in the first family of the service range, so the API claim in the other family is "not
    applicable" with its reason; in an IPv6-only cluster the API is IPv6 and an IPv4 claim does not apply."""
    from ansible_collections.ovnk.udn_lab.plugins.module_utils import probes

    if family == "ipv6" and os.geteuid() != 0:
        pytest.skip("an IPv6-only simulated cluster puts its worker addresses on an interface of this machine: root")
    name = "sim-svc-%s-%d" % (family, os.getpid())
    kubeconfig = tmp_path / "kubeconfig"
    launcher.start(name, workers=1, ip_family=family, kubeconfig=str(kubeconfig))
    try:
        ports = [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]
        lab_shaped = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lab", "namespace": "default"},
                      "spec": {"selector": {"app": "x"}, "ports": ports}}
        if family == "dual":
            lab_shaped["spec"].update(ipFamilyPolicy="PreferDualStack", ipFamilies=["IPv4", "IPv6"])
        workshop_shaped = {"apiVersion": "v1", "kind": "Service",
                           "metadata": {"name": "workshop", "namespace": "default"},
                           "spec": {"selector": {"app": "x"}, "ports": ports}}
        kubectl(kubeconfig, "apply", "-f", "-", stdin=json.dumps(
            {"apiVersion": "v1", "kind": "List", "items": [lab_shaped, workshop_shaped]}))
        lookup = ApiLookup(kubeconfig)
        api = lookup.get_service("default", "kubernetes")["spec"]
        first = "IPv6" if family == "ipv6" else "IPv4"
        assert (api["ipFamilyPolicy"], api["ipFamilies"]) == ("SingleStack", [first])

        def resolve(kind, fam, svc=None):
            to = {"kind": kind} if kind == "kubernetes_api" else {"kind": kind, "namespace": "default", "name": svc}
            return probes.resolve_target({"family": fam, "to": to, "port": 80}, lookup)

        families = ["ipv4", "ipv6"]
        own = "ipv6" if family == "ipv6" else "ipv4"
        other = [f for f in families if f != own][0]
        assert ipaddress.ip_address(resolve("kubernetes_api", own)["host"]).version == int(own[-1])
        with pytest.raises(probes.NotApplicable, match="default/kubernetes has no %s ClusterIP in this cluster "
                                                       r"\(ipFamilies %s\)" % (other, first)):
            resolve("kubernetes_api", other)
        if family == "dual":
            hosts = [resolve("service", f, "lab")["host"] for f in families]
            assert [ipaddress.ip_address(h).version for h in hosts] == [4, 6]
            assert ipaddress.ip_address(resolve("service", "ipv4", "workshop")["host"]).version == 4
            with pytest.raises(probes.Unresolved, match="service default/workshop has no ipv6 ClusterIP"):
                resolve("service", "ipv6", "workshop")
        else:
            assert ipaddress.ip_address(resolve("service", "ipv6", "lab")["host"]).version == 6
    finally:
        launcher.stop(name)


def test_two_clusters_of_one_name_run_at_once_in_two_slots(sim_home, tmp_path, monkeypatch):
    """Two simulated labs on one machine (a pytest-xdist worker each, or a classroom's two lab hosts): the same
    cluster name in two slots (UDN_LAB_SIM_SLOT, tests/sim/slot.py) gives two clusters, each with its own home, node
    addresses (dual stack: its IPv6 ones on a node link of its own) and API server; each answers `kubectl exec`
    through kwok at its own nodes' addresses, and stopping one leaves the other running."""
    if os.geteuid() != 0:
        pytest.skip("the IPv6 node addresses go on a host link: run as root")
    monkeypatch.delenv("UDN_LAB_SIM_HOME", raising=False)
    monkeypatch.setenv("UDN_LAB_SIM_CACHE", str(build.cache_dir()))
    name, clusters = "twin", {}
    base = slot.current() + 40  # clear of the slots of this run's workers
    try:
        for lab_slot in (base, base + 1):
            monkeypatch.setenv("UDN_LAB_SIM_SLOT", str(lab_slot))
            kubeconfig = tmp_path / ("kubeconfig-%d" % lab_slot)
            state = launcher.start(name, workers=1, ip_family="dual", kubeconfig=str(kubeconfig),
                                   pod_subnets=["10.244.0.0/16", "fd00:10:244::/48"],
                                   service_subnets=["10.96.0.0/16", "fd00:10:96::/112"])
            clusters[lab_slot] = (kubeconfig, state, launcher.home())
        (k1, s1, h1), (k2, s2, h2) = clusters[base], clusters[base + 1]
        assert h1 != h2 and s1["api_server"] != s2["api_server"]
        for lab_slot, (kubeconfig, state, dummy) in clusters.items():
            nodes = get_json(kubeconfig, "nodes")["items"]
            internal = sorted(a["address"] for n in nodes for a in n["status"]["addresses"] if a["type"] == "InternalIP")
            assert internal == sorted([slot.node_ipv4(lab_slot, 0), slot.node_ipv4(lab_slot, 1),
                                       slot.node_ipv6(lab_slot, 0), slot.node_ipv6(lab_slot, 1)]), internal
            link = subprocess.run(["ip", "-6", "-o", "addr", "show", "dev", launcher.node_link_name(name, lab_slot)],
                                  capture_output=True, text=True, check=True).stdout
            assert slot.node_ipv6(lab_slot, 1) in link, link
            # the API server reaches kwok's kubelet API at this slot's node address (logs and exec go that way):
            # kwok itself answers that it has no logs for the container (unreachable, the API server would say
            # it could not dial)
            pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
                   "spec": {"nodeName": name + "-worker", "hostNetwork": True,
                            "containers": [{"name": "c", "image": "agnhost"}]}}
            kubectl(kubeconfig, "apply", "-f", "-", stdin=json.dumps(pod))
            wait_for("kwok answering for pod p in slot %d" % lab_slot, lambda: 'no logs found for container "c"' in
                     kubectl(kubeconfig, "logs", "-n", "default", "p", check=False).stderr, 90)
        monkeypatch.setenv("UDN_LAB_SIM_SLOT", str(base))
        launcher.stop(name)
        del clusters[base]
        assert kubectl(k2, "get", "--raw", "/readyz").stdout.strip() == "ok"
    finally:
        for lab_slot in list(clusters):
            monkeypatch.setenv("UDN_LAB_SIM_SLOT", str(lab_slot))
            launcher.stop(name)
