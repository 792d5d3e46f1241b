#!/usr/bin/env python3
"""Launch a simulated cluster: a real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
kube-scheduler) run by kwokctl's binary runtime from the binaries tests/sim/build.py builds, with kwok faking
the nodes and their pods. Nothing is downloaded at run time.

    python tests/sim/launcher.py start --name ovn-k-helm --workers 2 --ip-family ipv4 --kubeconfig PATH
    python tests/sim/launcher.py status --name ovn-k-helm [--json]
    python tests/sim/launcher.py logs --name ovn-k-helm [COMPONENT]
    python tests/sim/launcher.py restart --name ovn-k-helm --component kube-apiserver [--down 5]
    python tests/sim/launcher.py stop --name ovn-k-helm
    python tests/sim/launcher.py list

Nodes are named and labelled like kind's: <name>-control-plane (label node-role.kubernetes.io/control-plane,
taint node-role.kubernetes.io/control-plane:NoSchedule), <name>-worker, <name>-worker2, ...

State: $UDN_LAB_SIM_HOME, else <sim cache>/clusters (see build.py): <name>/state.json (nodes, addresses,
API port, kubeconfig), <name>/kwokctl.yaml, kwok/ (kwokctl's work dir, component logs under
kwok/clusters/<name>/logs/). `stop` keeps the component logs of the run in <home>/logs/<name>/.
"""

import argparse
import ipaddress
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
EXEC_SHIMS = HERE / "dataplane" / "shims"
"""Where `kubectl exec` commands are looked up first (see kwokctl_config)."""
sys.path.insert(0, str(HERE))

import build  # noqa: E402  (tests/sim/build.py: binaries and versions)
import slot  # noqa: E402  (tests/sim/slot.py: what this machine's simulated lab of this slot owns)

COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-controller")
# kwok CRDs enabled in the kwok controller: exec/logs/port-forward/attach run local commands for fake pods.
# Not Stage: with it enabled kwok reads stages only from Stage objects and the default ones (nodes Ready, pods
# Running) would be gone.
KWOK_CRDS = ("Attach", "ClusterAttach", "Exec", "ClusterExec", "PortForward", "ClusterPortForward",
             "Logs", "ClusterLogs")
# Node addresses, kind-like, per slot (slot.py): slot 0's control plane is reachable on loopback (its API server
# listens there and its serving certificate names 127.0.0.1 and ::1); workers get further loopback addresses (IPv4)
# or addresses of kind's default IPv6 network (IPv6); another slot's nodes get their own block of both.
DEFAULT_POD_SUBNETS = {"ipv4": ["10.244.0.0/16"], "ipv6": ["fd00:10:244::/48"],
                       "dual": ["10.244.0.0/16", "fd00:10:244::/48"]}
DEFAULT_SERVICE_SUBNETS = {"ipv4": ["10.96.0.0/16"], "ipv6": ["fd00:10:96::/112"],
                           "dual": ["10.96.0.0/16", "fd00:10:96::/112"]}


class LaunchError(Exception):
    pass


def home():
    """``UDN_LAB_SIM_HOME``, else ``<cache>/clusters`` (slot 0) or ``<cache>/clusters/slot<n>`` (slot.py)."""
    if os.environ.get("UDN_LAB_SIM_HOME"):
        return pathlib.Path(os.environ["UDN_LAB_SIM_HOME"])
    suffix = slot.home_suffix(slot.current())
    return build.cache_dir() / "clusters" / suffix if suffix else build.cache_dir() / "clusters"


def state_dir(name):
    return home() / name


def kwok_workdir():
    return home() / "kwok"


def kwok_cluster_dir(name):
    return kwok_workdir() / "clusters" / name


def kept_logs_dir(name):
    return home() / "logs" / name


def bin_path(binary):
    return build.bin_dir() / binary


def env():
    e = dict(os.environ)
    e["KWOK_WORKDIR"] = str(kwok_workdir())
    e["PATH"] = str(build.bin_dir()) + os.pathsep + e.get("PATH", "")
    return e


def kwokctl(*args, check=True, timeout=600):
    proc = subprocess.run([str(bin_path("kwokctl"))] + list(args), env=env(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise LaunchError("kwokctl %s failed (rc %d):\n%s" % (" ".join(args[:3]), proc.returncode, proc.stdout))
    return proc


def kubectl(kubeconfig, *args, stdin=None, check=True, timeout=120):
    proc = subprocess.run([str(bin_path("kubectl")), "--kubeconfig", str(kubeconfig)] + list(args), input=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise LaunchError("kubectl %s failed (rc %d): %s" % (" ".join(args[:3]), proc.returncode, proc.stderr.strip()))
    return proc


# --------------------------------------------------------------------------- pure pieces


def worker_names(name, workers):
    """kind's names: <name>-worker, <name>-worker2, <name>-worker3, ..."""
    return ["%s-worker%s" % (name, "" if i == 1 else i) for i in range(1, workers + 1)]


def node_plan(name, workers, ip_family, pod_subnets, extra_labels=None, lab_slot=None):
    """The nodes of a cluster as plain dicts: name, role, ipv4, ipv6, labels, taints, pod_cidrs; their addresses
    are ``lab_slot``'s (default: this process's slot)."""
    import ipaddress

    lab_slot = slot.current() if lab_slot is None else lab_slot
    names = ["%s-control-plane" % name] + worker_names(name, workers)
    nodes = []
    for index, node in enumerate(names):
        role = "control-plane" if index == 0 else "worker"
        ipv4 = slot.node_ipv4(lab_slot, index) if ip_family in ("ipv4", "dual") else None
        ipv6 = slot.node_ipv6(lab_slot, index) if ip_family in ("ipv6", "dual") else None
        labels = {
            "kubernetes.io/hostname": node,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux",
            "beta.kubernetes.io/arch": "amd64",
            "type": "kwok",
        }
        taints = []
        if role == "control-plane":
            labels["node-role.kubernetes.io/control-plane"] = ""
            labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
            taints.append({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
        labels.update((extra_labels or {}).get(role, {}))
        # per node pod CIDRs like kube-controller-manager --allocate-node-cidrs would give: /24 (IPv4), /64 (IPv6)
        pod_cidrs = []
        for subnet in pod_subnets:
            net = ipaddress.ip_network(subnet, strict=False)
            prefix = max(net.prefixlen, 24 if net.version == 4 else 64)
            first = int(net.network_address) + (index << (net.max_prefixlen - prefix))
            pod_cidrs.append(str(ipaddress.ip_network((first, prefix))))
        nodes.append({"name": node, "role": role, "ipv4": ipv4, "ipv6": ipv6, "labels": labels, "taints": taints,
                      "pod_cidrs": pod_cidrs})
    return nodes


def node_object(node, kube_version):
    addresses = [{"type": "InternalIP", "address": a} for a in (node["ipv4"], node["ipv6"]) if a]
    addresses.append({"type": "Hostname", "address": node["name"]})
    obj = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": node["name"],
            "labels": node["labels"],
            # kwok manages nodes carrying this annotation (kwokctl starts it with that selector)
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {"taints": node["taints"]},
        "status": {
            "addresses": addresses,
            "allocatable": {"cpu": "32", "memory": "64Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "capacity": {"cpu": "32", "memory": "64Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux", "kubeletVersion": kube_version,
                         "kubeProxyVersion": kube_version, "containerRuntimeVersion": "kwok",
                         "osImage": "kwok simulated node", "kernelVersion": "", "machineID": "", "systemUUID": "",
                         "bootID": ""},
        },
    }
    if node["pod_cidrs"]:
        obj["spec"]["podCIDR"] = node["pod_cidrs"][0]
        obj["spec"]["podCIDRs"] = node["pod_cidrs"]
    return obj


def dns_service_ip(service_subnets):
    """The cluster DNS address kubeadm (so kind) gives the ``kube-dns`` Service: the 10th address of the first
    service subnet (10.96.0.10, fd00:10:96::a)."""
    return str(ipaddress.ip_network(service_subnets[0])[10])


def kubeadm_config(pod_subnets, service_subnets):
    """The ConfigMap ``kube-system/kubeadm-config`` that ``kubeadm init`` uploads on a kind node (Kubernetes
    v1.35.0 ``cmd/kubeadm/app/phases/uploadconfig/uploadconfig.go`` ``UploadConfiguration``; key
    ``ClusterConfiguration``, written as ``kubeadm.k8s.io/v1beta4``): its ``networking`` holds kind's
    ``podSubnet`` and ``serviceSubnet`` (kind v0.31.0 ``pkg/cluster/internal/kubeadm/config.go``), comma-separated
    when dual-stack, and ``dnsDomain: cluster.local``."""
    cluster_configuration = "\n".join([
        "apiVersion: kubeadm.k8s.io/v1beta4",
        "kind: ClusterConfiguration",
        "networking:",
        "  dnsDomain: cluster.local",
        "  podSubnet: %s" % ",".join(pod_subnets),
        "  serviceSubnet: %s" % ",".join(service_subnets),
        ""])
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
            "data": {"ClusterConfiguration": cluster_configuration}}


def kind_system_workloads(service_subnets=None, pod_subnets=None):
    """What kind runs in kube-system besides the static control-plane pods: CoreDNS (2 replicas, tolerating the
    control-plane taint) behind the ``kube-dns`` Service at the kubeadm address, and kubeadm's ``kubeadm-config``
    (:func:`kubeadm_config`). The roles wait for kube-system pods to be Ready, as on a real kind cluster; the
    simulated data plane answers DNS on that Service."""
    labels = {"k8s-app": "kube-dns"}
    service = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kube-dns", "namespace": "kube-system",
                     "labels": dict(labels, **{"kubernetes.io/name": "CoreDNS"})},
        "spec": {"selector": labels, "clusterIP": dns_service_ip(service_subnets or DEFAULT_SERVICE_SUBNETS["ipv4"]),
                 "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                           {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                           {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]}}
    config = kubeadm_config(pod_subnets or DEFAULT_POD_SUBNETS["ipv4"], service_subnets or DEFAULT_SERVICE_SUBNETS["ipv4"])
    return {"apiVersion": "v1", "kind": "List", "items": [config, service, {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system", "labels": labels},
        "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"tolerations": [{"key": "node-role.kubernetes.io/control-plane",
                                                        "effect": "NoSchedule"}],
                                       "containers": [{"name": "coredns",
                                                       "image": "registry.k8s.io/coredns/coredns:v1.12.1"}]}}}}]}


def kwokctl_config(name, api_port, service_subnets, kube_version, exec_path=None, stages=True, lab_slot=None):
    """The kwokctl configuration (a YAML stream; JSON documents are YAML).

    ``exec_path``: the kwok controller's whole PATH. kwok runs ``kubectl exec`` commands locally and looks the
    command up in ITS OWN PATH (the Exec object's env only reaches the child), so only the data plane's shims may
    be found there: ``kubectl exec POD -- curl ...`` then runs inside the pod's network, and a command without a
    shim is "not found" instead of silently running on this machine, outside every pod network."""
    binaries = {
        "kubeApiserverBinary": "kube-apiserver",
        "kubeControllerManagerBinary": "kube-controller-manager",
        "kubeSchedulerBinary": "kube-scheduler",
        "kubectlBinary": "kubectl",
        "etcdBinary": "etcd",
        "kwokControllerBinary": "kwok",
    }
    lab_slot = slot.current() if lab_slot is None else lab_slot
    options = {key: str(bin_path(b)) for key, b in binaries.items()}
    options.update(
        runtime="binary",
        kubeVersion=kube_version,
        enableCRDs=list(KWOK_CRDS),
        kubeApiserverCertSANs=["%s-control-plane" % name, "localhost", "127.0.0.1", "::1"] + (
            [slot.node_ipv4(lab_slot, 0), slot.node_ipv6(lab_slot, 0)] if lab_slot else []),
    )
    # Every port chosen here, from the kernel's ephemeral range: kwokctl's own choice (counting down from 32767)
    # collides when several clusters start at once on one machine.
    # All at once: ports asked for one after the other can repeat (a closed socket's port is free again), and
    # an API server port equal to etcd's peer port fails the start ("server gave HTTP response to HTTPS client").
    keys = ("etcdPort", "etcdPeerPort", "kubeControllerManagerPort", "kubeSchedulerPort", "kwokControllerPort")
    ports = ephemeral_ports(len(keys) + 1, taken=[api_port] if api_port else [])
    options["kubeApiserverPort"] = api_port or ports[-1]
    options.update(zip(keys, ports))
    apiserver_args = [{"key": "service-cluster-ip-range", "value": ",".join(service_subnets)},
                      # node names do not resolve here: reach kwok's kubelet API (exec, logs) by InternalIP
                      {"key": "kubelet-preferred-address-types", "value": "InternalIP"}]
    if ":" in service_subnets[0]:
        # the advertised address (endpoint of the kubernetes Service) must be of the first service family; it
        # is never dialled here, and kube-apiserver refuses loopback endpoints
        apiserver_args.append({"key": "advertise-address", "value": slot.advertise_ipv6(lab_slot)})
    doc = {
        "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
        "kind": "KwokctlConfiguration",
        "metadata": {"name": name},
        "options": options,
        "componentsPatches": [
            {"name": "kube-apiserver", "extraArgs": apiserver_args},
            # One instance each and no kubelet to restart them: with leader election they EXIT when the API
            # server is away longer than the lease renew deadline (kind's kubelet would restart them); without
            # it they ride out an API server restart like every other client.
            {"name": "kube-scheduler", "extraArgs": [{"key": "leader-elect", "value": "false"}]},
            {"name": "kube-controller-manager", "extraArgs": [{"key": "leader-elect", "value": "false"}]},
        ],
    }
    if exec_path:
        doc["componentsPatches"].append({"name": "kwok-controller", "extraEnvs": [
            {"name": "PATH", "value": exec_path}]})
    docs = [doc] + (kwok_stages() if stages else [])
    return "---\n".join(json.dumps(d, indent=2) + "\n" for d in docs)


KWOK_STAGES = ("node-initialize", "node-heartbeat-with-lease", "pod-ready", "pod-complete", "pod-delete")
"""kwokctl's default stages of a binary-runtime cluster (build.py copies them from the kwok module source)."""
POD_NETWORKS = "k8s.ovn.org/pod-networks"
KWOK_POD_IPS = "{{ $podIPs := PodIPsWith .spec.nodeName"
CNI_POD_IPS = """{{ $podIPs := list }}
{{ if .spec.hostNetwork }}
{{ $podIPs = PodIPsWith .spec.nodeName true ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
{{ else }}
{{ range (index (index .metadata.annotations "%s" | fromJson) "default").ip_addresses }}
{{ $podIPs = append $podIPs (first (splitList "/" .)) }}
{{ end }}
{{ end }}""" % POD_NETWORKS


def kwok_stages(stage_dir=None):
    """kwokctl's default stages with ``pod-ready`` as a kubelet on an OVN-Kubernetes node behaves: a pod that is
    not on the host network starts only once OVN-K wrote its ``k8s.ovn.org/pod-networks`` annotation (the CNI
    ADD waits for it), and its ``status.podIPs`` are that annotation's default-network addresses (the CNI
    result). kwok's own pool would give every node's first pod the ``.1`` gateway address. A kwok version whose
    ``pod-ready`` no longer has the line this replaces fails here, loudly."""
    import yaml

    stage_dir = pathlib.Path(stage_dir or build.bin_dir() / "kwok-stages")
    out = []
    for name in KWOK_STAGES:
        path = stage_dir / ("%s.yaml" % name)
        if not path.is_file():
            raise LaunchError("%s is missing: run python tests/sim/build.py" % path)
        stage = yaml.safe_load(path.read_text())
        if name == "pod-ready":
            spec = stage["spec"]
            spec["selector"]["matchExpressions"].append({
                "key": '.spec.hostNetwork == true or .metadata.annotations["%s"] != null' % POD_NETWORKS,
                "operator": "In", "values": ["true"]})
            lines = spec["next"]["statusTemplate"].splitlines()
            hits = [i for i, line in enumerate(lines) if line.strip().startswith(KWOK_POD_IPS)]
            if len(hits) != 1:
                raise LaunchError("%s: expected one line starting %r to replace, found %d" % (
                    path, KWOK_POD_IPS, len(hits)))
            lines[hits[0]:hits[0] + 1] = CNI_POD_IPS.splitlines()
            spec["next"]["statusTemplate"] = "\n".join(lines) + "\n"
        out.append(stage)
    return out


def kind_kubeconfig(raw, name, server=None):
    """kwokctl's kubeconfig renamed like kind's (cluster, user and context `kind-<name>`), optionally re-pointed."""
    import yaml

    cfg = yaml.safe_load(raw)
    ctx = "kind-" + name
    cfg["clusters"] = [dict(c, name=ctx) for c in cfg["clusters"][:1]]
    if server:
        cfg["clusters"][0]["cluster"]["server"] = server
    cfg["users"] = [dict(u, name=ctx) for u in cfg["users"][:1]]
    cfg["contexts"] = [{"name": ctx, "context": {"cluster": ctx, "user": ctx}}]
    cfg["current-context"] = ctx
    cfg.pop("preferences", None)
    return yaml.safe_dump(cfg, default_flow_style=False)


def ephemeral_ports(count, taken=()):
    """``count`` distinct ports the kernel reports free now (IPv4 and IPv6 wildcard), none of ``taken``: the
    sockets stay bound until all are chosen, so no port is handed out twice."""
    sockets, ports = [], []
    try:
        while len(ports) < count:
            s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            sockets.append(s)
            s.bind(("::", 0))
            port = s.getsockname()[1]
            if port not in taken:
                ports.append(port)
        return ports
    finally:
        for s in sockets:
            s.close()


def free_port(preferred):
    """`preferred` when it is free on loopback, else 0 (kwokctl picks a random port)."""
    if not preferred:
        return 0
    for family, addr in ((socket.AF_INET, "0.0.0.0"),):
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.bind((addr, preferred))
        except OSError:
            return 0
        finally:
            s.close()
    return preferred


# --------------------------------------------------------------------------- state


def read_state(name):
    try:
        return json.loads((state_dir(name) / "state.json").read_text())
    except (OSError, ValueError):
        return None


def write_state(state):
    d = state_dir(state["name"])
    d.mkdir(parents=True, exist_ok=True)
    (d / "state.json").write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")


def list_clusters():
    """Names of the clusters with a state file, sorted."""
    if not home().is_dir():
        return []
    return sorted(p.name for p in home().iterdir() if (p / "state.json").is_file())


def component_logs(name):
    d = kwok_cluster_dir(name) / "logs"
    return sorted(d.glob("*.log")) if d.is_dir() else []


def print_logs(name, out=sys.stderr, lines=40):
    for log in component_logs(name):
        text = log.read_text(errors="replace").splitlines()
        out.write("----- %s (last %d of %d lines) -----\n" % (log.name, min(lines, len(text)), len(text)))
        out.write("\n".join(text[-lines:]) + "\n")
    launcher_log = state_dir(name) / "launcher.log"
    if launcher_log.exists():
        out.write("----- launcher.log -----\n%s\n" % launcher_log.read_text(errors="replace")[-4000:])


def keep_logs(name):
    """Copy the component logs of `name` to <home>/logs/<name>/ (kept after stop); returns that directory."""
    dest = kept_logs_dir(name)
    if dest.exists():
        shutil.rmtree(str(dest))
    dest.mkdir(parents=True)
    for log in component_logs(name):
        shutil.copyfile(str(log), str(dest / log.name))
    for f in ("launcher.log", "state.json", "kwokctl.yaml", "runtime.log"):
        src = state_dir(name) / f
        if src.exists():
            shutil.copyfile(str(src), str(dest / f))
    return dest


# --------------------------------------------------------------------------- operations


def start(name, workers=2, ip_family="ipv4", kubeconfig=None, api_port=0, pod_subnets=None, service_subnets=None,
          node_labels=None, build_missing=False, timeout=300, log=sys.stderr, exec_path=None):
    """Start cluster `name` and return its state. Raises LaunchError (component logs printed to `log`)."""
    if ip_family not in DEFAULT_POD_SUBNETS:
        raise LaunchError("ip family %r: use ipv4, ipv6 or dual" % ip_family)
    # helm is not part of the cluster (the roles run it): only the control plane and kwok are needed here
    todo = {k: v for k, v in build.missing(build.load_matrix()).items() if k in ("kubernetes", "kwok")}
    if todo:
        if not build_missing:
            raise LaunchError("simulator binaries missing (%s): run `python tests/sim/build.py`"
                              % "; ".join("%s: %s" % kv for kv in sorted(todo.items())))
        build.build(out=log)
    if read_state(name) or kwok_cluster_dir(name).exists():
        raise LaunchError("cluster %r exists: stop it first (launcher.py stop --name %s)" % (name, name))
    matrix = build.load_matrix()
    kube_version = matrix["sim"]["kubernetes"]["version"]
    pod_subnets = pod_subnets or DEFAULT_POD_SUBNETS[ip_family]
    service_subnets = service_subnets or DEFAULT_SERVICE_SUBNETS[ip_family]
    api_port = free_port(api_port)
    d = state_dir(name)
    d.mkdir(parents=True, exist_ok=True)
    shims = exec_path if exec_path is not None else (str(EXEC_SHIMS) if EXEC_SHIMS.is_dir() else "")
    (d / "kwokctl.yaml").write_text(kwokctl_config(name, api_port, service_subnets, kube_version, shims))
    nodes = node_plan(name, workers, ip_family, pod_subnets, node_labels)
    state = {"name": name, "workers": workers, "ip_family": ip_family, "kube_version": kube_version,
             "pod_subnets": pod_subnets, "service_subnets": service_subnets, "nodes": nodes,
             "kubeconfig": str(d / "kubeconfig"), "user_kubeconfig": str(kubeconfig) if kubeconfig else None,
             "sysctls": {}, "started": time.time()}
    write_state(state)
    try:
        state["node_link"] = add_node_addresses(name, nodes, log)
        write_state(state)
        with open(str(d / "launcher.log"), "a") as out:
            out.write("$ kwokctl create cluster --name %s --config %s\n" % (name, d / "kwokctl.yaml"))
            proc = kwokctl("create", "cluster", "--name", name, "--config", str(d / "kwokctl.yaml"),
                           "--runtime", "binary", "--timeout", "%ds" % timeout, check=False, timeout=timeout + 60)
            out.write(proc.stdout)
        if proc.returncode != 0:
            raise LaunchError("kwokctl create cluster failed (rc %d):\n%s" % (proc.returncode, proc.stdout[-3000:]))
        raw = kwokctl("get", "kubeconfig", "--name", name).stdout
        server = None
        if ip_family == "ipv6":
            port = raw.split("server: https://127.0.0.1:", 1)[1].split()[0] if "127.0.0.1:" in raw else None
            server = "https://[::1]:%s" % port if port else None
        (d / "kubeconfig").write_text(kind_kubeconfig(raw, name, server))
        os.chmod(str(d / "kubeconfig"), 0o600)
        state["api_server"] = api_server(d / "kubeconfig")
        state["api_port"] = int(state["api_server"].rsplit(":", 1)[1])
        write_state(state)
        wait_ready(d / "kubeconfig", timeout)
        kubectl(d / "kubeconfig", "apply", "-f", "-",
                stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                  "items": [node_object(n, kube_version) for n in nodes]}))
        wait_nodes(d / "kubeconfig", [n["name"] for n in nodes], timeout)
        kubectl(d / "kubeconfig", "apply", "-f", "-", stdin=json.dumps(kind_system_workloads(service_subnets, pod_subnets)))
        if kubeconfig:
            write_kubeconfig(name, kubeconfig)
    except (LaunchError, subprocess.TimeoutExpired, OSError) as exc:
        log.write("sim launcher: starting %s failed: %s\n" % (name, exc))
        print_logs(name, log)
        # a half-started cluster would hold ports and processes: delete it, keeping its logs
        kept = stop(name, log)
        raise LaunchError("starting %s failed: %s (logs above, kept in %s)" % (name, str(exc).splitlines()[0], kept))
    return state


def node_link_name(name, lab_slot=None):
    """The interface holding cluster `name`'s IPv6 node addresses (<= 15 characters), one per slot (two slots may
    each run a cluster of the same name)."""
    import hashlib

    lab_slot = slot.current() if lab_slot is None else lab_slot
    key = name if lab_slot == 0 else "%s/slot%d" % (name, lab_slot)
    return "udnsimn" + hashlib.sha1(key.encode()).hexdigest()[:8]


def host_node_addresses(nodes):
    """Node addresses that are not on this machine by themselves: the IPv6 ones but ::1 (IPv4 nodes use 127.0.x.y,
    all of which are loopback)."""
    return [n["ipv6"] for n in nodes if n["ipv6"] and n["ipv6"] != "::1"]


def add_node_addresses(name, nodes, log=sys.stderr, run=subprocess.run):
    """Put the IPv6 worker addresses on an interface of this machine (a host-only veth pair), as kind's nodes hold theirs: the API
    server dials the kubelet (kwok) at a node's InternalIP (`kubectl exec`), and NodePorts listen on them. Returns
    the interface name (None when nothing is needed). Needs root; without it an IPv6-only cluster cannot work
    (refused), a dual-stack one loses its IPv6 NodePorts (warned)."""
    addresses = host_node_addresses(nodes)
    if not addresses:
        return None
    link = node_link_name(name)
    if os.geteuid() != 0:
        if all(not n["ipv4"] for n in nodes):
            raise LaunchError("an IPv6-only cluster puts its worker addresses (%s) on an interface of this "
                              "machine: run as root" % ", ".join(addresses))
        log.write("sim launcher: not root: the IPv6 worker addresses %s are not on this machine (IPv6 NodePorts "
                  "will not answer)\n" % ", ".join(addresses))
        return None
    run(["ip", "link", "del", link], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    # a veth pair with both ends on this machine (this kernel may lack the dummy type): only its addresses matter
    peer = "udnsimp" + link[len("udnsimn"):]
    for argv in (["ip", "link", "add", link, "type", "veth", "peer", "name", peer], ["ip", "link", "set", peer, "up"],
                 ["ip", "link", "set", link, "up"]) + tuple(
            ["ip", "-6", "addr", "add", "%s/128" % a, "dev", link, "nodad"] for a in addresses):
        proc = run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
        if proc.returncode != 0:
            raise LaunchError("%s failed: %s" % (" ".join(argv), (proc.stdout or "").strip()))
    return link


def remove_node_addresses(link, run=subprocess.run):
    if link and link.startswith("udnsimn"):
        run(["ip", "link", "del", link], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def api_server(kubeconfig):
    import yaml

    return yaml.safe_load(pathlib.Path(kubeconfig).read_text())["clusters"][0]["cluster"]["server"]


def write_kubeconfig(name, path, internal=False):
    text = kubeconfig_text(name, internal)
    path = pathlib.Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(str(path), 0o600)


def kubeconfig_text(name, internal=False):
    """The kubeconfig of `name`; internal: the server as the nodes see it (control-plane address and API port)."""
    state = read_state(name)
    if not state:
        raise LaunchError("no cluster %r" % name)
    if not (state_dir(name) / "kubeconfig").exists():
        raise LaunchError("cluster %r has no kubeconfig: it did not start (launcher.py logs --name %s)" % (name, name))
    text = (state_dir(name) / "kubeconfig").read_text()
    if internal:
        cp = state["nodes"][0]
        host = cp["ipv4"] or "[%s]" % cp["ipv6"]
        if state["ip_family"] == "ipv6":
            host = "[%s]" % cp["ipv6"]
        text = kind_kubeconfig(text, name, "https://%s:%d" % (host, state["api_port"]))
    return text


def wait_ready(kubeconfig, timeout):
    deadline = time.time() + timeout
    last = ""
    while time.time() < deadline:
        proc = kubectl(kubeconfig, "get", "--raw", "/readyz", check=False, timeout=30)
        if proc.returncode == 0 and proc.stdout.strip() == "ok":
            return
        last = (proc.stderr or proc.stdout).strip()
        time.sleep(1)
    raise LaunchError("the API server did not become ready within %ds: %s" % (timeout, last))


def wait_nodes(kubeconfig, names, timeout):
    """Wait until every node exists and kwok reports it Ready."""
    deadline = time.time() + timeout
    missing = names
    while time.time() < deadline:
        proc = kubectl(kubeconfig, "get", "nodes", "-o", "json", check=False, timeout=30)
        if proc.returncode == 0:
            items = json.loads(proc.stdout)["items"]
            ready = {n["metadata"]["name"] for n in items
                     if any(c["type"] == "Ready" and c["status"] == "True"
                            for c in n.get("status", {}).get("conditions", []))}
            missing = [n for n in names if n not in ready]
            if not missing:
                return
        time.sleep(1)
    raise LaunchError("nodes not Ready within %ds: %s" % (timeout, ", ".join(missing)))


def stop(name, log=sys.stderr):
    """Delete cluster `name`, keeping its component logs; returns the kept logs directory (or None)."""
    known = read_state(name) is not None or kwok_cluster_dir(name).exists()
    if not known:
        raise LaunchError("no cluster %r" % name)
    kept = keep_logs(name)
    remove_node_addresses((read_state(name) or {}).get("node_link"))
    if kwok_cluster_dir(name).exists():
        proc = kwokctl("delete", "cluster", "--name", name, check=False, timeout=180)
        if proc.returncode != 0:
            log.write("sim launcher: kwokctl delete cluster %s: %s\n" % (name, proc.stdout.strip()))
    if kwok_cluster_dir(name).exists():
        shutil.rmtree(str(kwok_cluster_dir(name)), ignore_errors=True)
    shutil.rmtree(str(state_dir(name)), ignore_errors=True)
    return kept


def restart_component(name, component, down=0.0, timeout=120):
    """Stop one component of cluster `name` (SIGTERM, then SIGKILL), keep it down `down` seconds, start it again
    with the same command line, directory and environment (output appended to its log); for kube-apiserver,
    wait until /readyz answers. Returns ``(old pid, new pid)``. For fault injection: clients must ride it out."""
    if component not in COMPONENTS:
        raise LaunchError("unknown component %r: one of %s" % (component, ", ".join(COMPONENTS)))
    pid_file = kwok_cluster_dir(name) / "pids" / (component + ".pid")
    if not pid_file.exists():
        raise LaunchError("cluster %r has no running %s (no %s)" % (name, component, pid_file))
    pid = int(pid_file.read_text().strip())
    proc_dir = pathlib.Path("/proc/%d" % pid)
    try:
        argv = [a.decode() for a in (proc_dir / "cmdline").read_bytes().split(b"\0") if a]
        env = dict(e.decode().split("=", 1) for e in (proc_dir / "environ").read_bytes().split(b"\0") if b"=" in e)
        cwd = os.readlink(str(proc_dir / "cwd"))
    except OSError as exc:
        raise LaunchError("%s of %s (pid %d) is not running: %s" % (component, name, pid, exc))
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + 20
    while proc_dir.exists() and time.time() < deadline:
        time.sleep(0.1)
    if proc_dir.exists():
        os.kill(pid, signal.SIGKILL)
        while proc_dir.exists():
            time.sleep(0.1)
    time.sleep(max(0.0, float(down)))
    with open(str(kwok_cluster_dir(name) / "logs" / (component + ".log")), "a") as log:
        new = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                               start_new_session=True)
    pid_file.write_text("%d" % new.pid)
    if component == "kube-apiserver":
        wait_ready(state_dir(name) / "kubeconfig", timeout)
    return pid, new.pid


def status(name):
    """State of `name` plus liveness: {'running': bool, 'components': {...}, ...}."""
    state = read_state(name)
    if not state:
        raise LaunchError("no cluster %r" % name)
    proc = kubectl(state_dir(name) / "kubeconfig", "get", "--raw", "/readyz", check=False, timeout=30)
    state["running"] = proc.returncode == 0 and proc.stdout.strip() == "ok"
    comp = kwokctl("get", "components", "--name", name, check=False, timeout=60)
    state["components"] = comp.stdout.strip()
    return state


def record_sysctl(name, node, assignments):
    """Remember `sysctl -w` inside a simulated node (the nodes are not containers: nothing to set)."""
    state = read_state(name)
    state.setdefault("sysctls", {}).setdefault(node, {}).update(assignments)
    write_state(state)


def find_node(node):
    """(cluster state, node dict) of the node called `node` in any cluster, or (None, None)."""
    for name in list_clusters():
        state = read_state(name)
        for n in state.get("nodes", []):
            if n["name"] == node:
                return state, n
    return None, None


# --------------------------------------------------------------------------- CLI


def _labels(values):
    out = {}
    for v in values or []:
        role, _, kv = v.partition(":")
        key, _, value = kv.partition("=")
        out.setdefault(role, {})[key] = value
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd")
    p = sub.add_parser("start", help="start a cluster and wait for its API server and nodes")
    p.add_argument("--name", required=True)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--ip-family", default="ipv4", choices=sorted(DEFAULT_POD_SUBNETS))
    p.add_argument("--kubeconfig", help="also write the kubeconfig here (0600)")
    p.add_argument("--api-port", type=int, default=0, help="API server port (0: random; taken port: random)")
    p.add_argument("--pod-subnet", action="append", help="pod subnet (repeat for dual-stack)")
    p.add_argument("--service-subnet", action="append", help="service subnet (repeat for dual-stack)")
    p.add_argument("--node-label", action="append", help="ROLE:KEY=VALUE, ROLE control-plane or worker")
    p.add_argument("--build", action="store_true", help="build missing binaries first (tests/sim/build.py)")
    p.add_argument("--timeout", type=int, default=300)
    for cmd in ("stop", "status", "logs", "kubeconfig"):
        q = sub.add_parser(cmd)
        q.add_argument("--name", required=True)
        if cmd == "status":
            q.add_argument("--json", action="store_true")
        if cmd == "logs":
            q.add_argument("component", nargs="?", choices=COMPONENTS)
        if cmd == "kubeconfig":
            q.add_argument("--internal", action="store_true")
    q = sub.add_parser("restart", help="restart one component (fault injection)")
    q.add_argument("--name", required=True)
    q.add_argument("--component", required=True, choices=COMPONENTS)
    q.add_argument("--down", type=float, default=0.0, help="seconds to keep it stopped")
    sub.add_parser("list")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "start":
            state = start(args.name, args.workers, args.ip_family, args.kubeconfig, args.api_port, args.pod_subnet,
                          args.service_subnet, _labels(args.node_label), args.build, args.timeout)
            print("cluster %s: API %s, nodes %s, kubeconfig %s" % (
                args.name, state["api_server"], ", ".join(n["name"] for n in state["nodes"]),
                args.kubeconfig or state["kubeconfig"]))
        elif args.cmd == "stop":
            kept = stop(args.name)
            print("cluster %s deleted; component logs kept in %s" % (args.name, kept))
        elif args.cmd == "status":
            st = status(args.name)
            if args.json:
                print(json.dumps(st, indent=2, sort_keys=True))
            else:
                print("cluster %s: %s, API %s" % (args.name, "running" if st["running"] else "NOT answering",
                                                  st.get("api_server")))
                print(st["components"])
            return 0 if st["running"] else 1
        elif args.cmd == "logs":
            if args.component:
                log = kwok_cluster_dir(args.name) / "logs" / (args.component + ".log")
                if not log.exists():
                    log = kept_logs_dir(args.name) / (args.component + ".log")
                sys.stdout.write(log.read_text(errors="replace"))
            else:
                print_logs(args.name, sys.stdout, lines=200)
        elif args.cmd == "kubeconfig":
            sys.stdout.write(kubeconfig_text(args.name, args.internal))
        elif args.cmd == "restart":
            old, new = restart_component(args.name, args.component, args.down)
            print("%s of %s restarted: pid %d -> %d" % (args.component, args.name, old, new))
        elif args.cmd == "list":
            print("\n".join(list_clusters()))
        else:
            parser.print_help()
            return 2
    except LaunchError as exc:
        print("ERROR: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
