"""The simulated data plane on this machine (root): network namespaces built from the simulators' annotations.

Pods get their addresses from the OVN-Kubernetes simulator (run over an in-memory API), the plan turns them into
namespaces, bridges and links, and real sockets / a real iperf3 stream check what the workshop claims.
"""

import ipaddress
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

import pytest

SIM_DIR = pathlib.Path(__file__).resolve().parents[1] / "sim"
sys.path.insert(0, str(SIM_DIR))

from simulators import ovnk  # noqa: E402
from simulators.common import CUDNS, NADS, NAMESPACES, NODES, PODS, UDNS, Cache  # noqa: E402
from simulators.fake import FakeKube, drive  # noqa: E402

pytestmark = [
    pytest.mark.sim,
    pytest.mark.netns,
    pytest.mark.machine,
    pytest.mark.skipif(os.geteuid() != 0, reason="the data plane creates network namespaces: needs root"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2 (ip) not installed"),
]

from dataplane import plan as dp_plan  # noqa: E402
from dataplane.netlink import Fabric  # noqa: E402

AGNHOST = str(SIM_DIR / "dataplane" / "agnhost.py")


@pytest.fixture(autouse=True, scope="module")
def own_namespace_prefix():
    """The namespaces of these tests never collide with a simulated lab on the same machine. Set for this module
    only: a prefix left in the environment reached the lab's restarted data plane, whose Exec objects then named
    namespaces of the old prefix."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("UDNSIM_PREFIX", "udnsimtest-")
        yield


NOW = 1_800_000_000.0
OVNK = {"pod_network": "10.244.0.0/16/24"}
"""No chart in these tests: the default network's cluster subnets come from the simulator's setting."""


def ns(name, primary=True):
    labels = {"kubernetes.io/metadata.name": name}
    if primary:
        labels[ovnk.PRIMARY_LABEL] = ""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "uid": "ns-" + name, "labels": labels}}


def node(index):
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker%d" % index, "uid": "n%d" % index},
            "spec": {"podCIDRs": ["10.244.%d.0/24" % index]}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


def udn(name, namespace, cidr, topology="Layer3"):
    layer = {"role": "Primary", "subnets": [{"cidr": cidr, "hostSubnet": 24}] if topology == "Layer3" else [cidr]}
    return {"apiVersion": "k8s.ovn.org/v1", "kind": "UserDefinedNetwork",
            "metadata": {"name": name, "namespace": namespace, "uid": "udn-" + name},
            "spec": {"topology": topology, topology[0].lower() + topology[1:]: layer}}


def pod(name, namespace, node_index, ip_last, port=8080):
    ip = "10.244.%d.%d" % (node_index, ip_last)
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "uid": "pod-%s-%s" % (namespace, name), "annotations": {}},
            "spec": {"nodeName": "worker%d" % node_index,
                     "containers": [{"name": "agnhost", "image": "agnhost", "args": ["netexec", "--http-port=%d" % port],
                                     "ports": [{"containerPort": port}]}]},
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}}


@pytest.fixture
def world():
    """blue (2 pods on 2 nodes), green, overlapping-with-blue (same subnet as blue), default (1 pod)."""
    objs = {
        NODES: [node(1), node(2)],
        NAMESPACES: [ns("blue"), ns("green"), ns("overlap"), ns("default", primary=False)],
        UDNS: [udn("blue-network", "blue", "103.103.0.0/16"), udn("green-network", "green", "203.203.0.0/16"),
               udn("overlap-network", "overlap", "103.103.0.0/16")],
        CUDNS: [],
        PODS: [pod("blue-0", "blue", 1, 10), pod("blue-1", "blue", 2, 11), pod("green-0", "green", 1, 12),
               pod("overlap-0", "overlap", 1, 13), pod("default-0", "default", 2, 14)],
    }
    cache = Cache.from_objects(objs)
    sim = ovnk.OvnkSimulator(FakeKube(cache, NOW), OVNK, cache=cache, clock=lambda: NOW)
    drive(sim)
    fabric = Fabric()
    yield cache, fabric
    fabric.teardown()


def build(cache, fabric, **config):
    plan = dp_plan.build_plan(cache.list(PODS), [], [], cache.list(NADS), config, time.time())
    fabric.apply(plan)
    return plan


def primary_ip(cache, namespace, name):
    nets = json.loads(cache.get(PODS, namespace, name)["metadata"]["annotations"][ovnk.POD_NETWORKS])
    entry = next(v for k, v in nets.items() if v["role"] == "primary")
    return entry["ip_addresses"][0].split("/")[0]


def default_ip(cache, namespace, name):
    nets = json.loads(cache.get(PODS, namespace, name)["metadata"]["annotations"][ovnk.POD_NETWORKS])
    return nets["default"]["ip_addresses"][0].split("/")[0]


def connect(src_ns, src_pod, ip, port=8080, timeout=2):
    netns = dp_plan.pod_netns(src_ns, src_pod)
    proc = subprocess.run(["ip", "netns", "exec", netns, sys.executable, AGNHOST, "connect", "%s:%d" % (ip, port),
                           "--timeout=%ds" % timeout, "--protocol=tcp"], capture_output=True, text=True, check=False)
    return proc.returncode, proc.stderr.strip()


def wait_listening(src_ns, src_pod, ip, port=8080):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if connect(src_ns, src_pod, ip, port)[0] == 0:
            return True
        time.sleep(0.2)
    return False


def test_same_network_pods_reach_each_other_across_nodes(world):
    cache, fabric = world
    build(cache, fabric)
    target = primary_ip(cache, "blue", "blue-1")
    assert target.startswith("103.103.")
    assert wait_listening("blue", "blue-0", target), "blue-0 cannot reach blue-1 on %s:8080" % target


def link_mtus(netns):
    out = subprocess.run(["ip", "-n", netns, "-j", "link", "show"], capture_output=True, text=True, check=True).stdout
    return dict((link["ifname"], link["mtu"]) for link in json.loads(out))


def test_pod_links_have_the_networks_mtu_as_the_cni_sets_it(world):
    """The cluster's MTU on eth0 and on a UDN without its own; a UDN with ``mtu`` gets it on ovn-udn1 only."""
    cache, fabric = world
    for nad in cache.list(NADS):
        if nad["metadata"]["namespace"] == "green":
            cfg = json.loads(nad["spec"]["config"])
            cfg["mtu"] = 1300
            nad["spec"]["config"] = json.dumps(cfg)
    plan = dp_plan.build_plan(cache.list(PODS), [], [], cache.list(NADS), {}, time.time(), cluster_mtu=1400)
    fabric.apply(plan)
    blue, green = link_mtus(dp_plan.pod_netns("blue", "blue-0")), link_mtus(dp_plan.pod_netns("green", "green-0"))
    assert (blue["eth0"], blue["ovn-udn1"]) == (1400, 1400)
    assert (green["eth0"], green["ovn-udn1"]) == (1400, 1300)
    assert link_mtus(dp_plan.pod_netns("default", "default-0"))["eth0"] == 1400


def test_other_networks_and_default_ips_are_unreachable(world):
    cache, fabric = world
    build(cache, fabric)
    assert wait_listening("green", "green-0", primary_ip(cache, "green", "green-0"))  # the server runs
    rc, err = connect("blue", "blue-0", primary_ip(cache, "green", "green-0"))
    assert rc == 1 and err in ("TIMEOUT", "REFUSED") or "unreachable" in err.lower(), err
    # infrastructure-locked default-network address of another blue pod
    rc, err = connect("blue", "blue-0", default_ip(cache, "blue", "blue-1"), timeout=1)
    assert rc == 1, err
    # a pod on the default network cannot reach a UDN pod's default-network address either
    rc, err = connect("default", "default-0", default_ip(cache, "blue", "blue-1"), timeout=1)
    assert rc == 1, err


def test_overlapping_subnets_coexist(world):
    cache, fabric = world
    build(cache, fabric)
    blue_ip = primary_ip(cache, "blue", "blue-0")
    overlap_ip = primary_ip(cache, "overlap", "overlap-0")
    assert blue_ip == overlap_ip  # same subnet, same first address, different networks
    # each pod reaches its own address through its own network; blue-1 reaches blue-0 (not the overlap pod)
    assert wait_listening("blue", "blue-1", blue_ip)
    assert wait_listening("overlap", "overlap-0", overlap_ip)
    hostname = subprocess.run(["ip", "netns", "exec", dp_plan.pod_netns("blue", "blue-1"), sys.executable, "-c",
                               "import urllib.request;print(urllib.request.urlopen('http://%s:8080/hostname',"
                               "timeout=3).read().decode())" % blue_ip], capture_output=True, text=True, check=False)
    assert hostname.stdout.strip() == "blue-0", hostname.stderr


def test_leak_lets_blue_reach_green(world):
    cache, fabric = world
    build(cache, fabric, leak=[["blue", "green"]])
    assert wait_listening("blue", "blue-0", primary_ip(cache, "green", "green-0"))


def test_ipv6_networks_are_isolated_until_a_leak_joins_them():
    """IPv6-only Layer3 UDNs (host subnet /64): same network across nodes reaches, another network does not,
    and the leak fault joins them in IPv6 too (the ipv6 lab's negative runs rely on it)."""
    def udn6(name, namespace, cidr):
        return {"apiVersion": "k8s.ovn.org/v1", "kind": "UserDefinedNetwork",
                "metadata": {"name": name, "namespace": namespace, "uid": "udn-" + name},
                "spec": {"topology": "Layer3", "layer3": {"role": "Primary",
                                                          "subnets": [{"cidr": cidr, "hostSubnet": 64}]}}}

    cache = Cache.from_objects({
        NODES: [node(1), node(2)], NAMESPACES: [ns("blue"), ns("green")], CUDNS: [],
        UDNS: [udn6("blue-network", "blue", "fd00:103:103::/48"), udn6("green-network", "green", "fd00:203:203::/48")],
        PODS: [pod("blue-0", "blue", 1, 10), pod("blue-1", "blue", 2, 11), pod("green-0", "green", 1, 12)]})
    drive(ovnk.OvnkSimulator(FakeKube(cache, NOW), {"pod_network": "fd00:10:244::/48/64"}, cache=cache,
                             clock=lambda: NOW))
    fabric = Fabric()
    try:
        build(cache, fabric)
        blue1, green0 = primary_ip(cache, "blue", "blue-1"), primary_ip(cache, "green", "green-0")
        assert ":" in blue1 and ":" in green0
        assert wait_listening("blue", "blue-0", blue1)
        assert connect("blue", "blue-0", green0, timeout=1)[0] != 0
        build(cache, fabric, leak=[["blue", "green"]])
        assert wait_listening("blue", "blue-0", green0)
    finally:
        fabric.teardown()


def test_teardown_removes_every_namespace(world):
    cache, fabric = world
    plan = build(cache, fabric)
    ours = set(plan["endpoints"]) | set(r["netns"] for r in plan["routers"].values())
    assert ours and ours <= set(subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout.split())
    fabric.teardown()
    left = set(subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout.split())
    assert not ours & left


# --------------------------------------------------------------------------- VMs and live migration


def vm_world(tmp_path, subnets=("192.168.0.0/16",), network_data=None):
    """Two VMs on a Layer2 primary CUDN (the seed's happy-tenant), launcher pods annotated by the simulator;
    ``network_data``: the VMs' cloud-init network data (None: none, the cloud-init fallback)."""
    cudn = {"apiVersion": "k8s.ovn.org/v1", "kind": "ClusterUserDefinedNetwork",
            "metadata": {"name": "happy-tenant", "uid": "cudn-happy"},
            "spec": {
                "namespaceSelector": {"matchExpressions": [
                    {"key": "kubernetes.io/metadata.name", "operator": "In",
                     "values": ["red-namespace", "blue-namespace"]}]},
                "network": {"topology": "Layer2", "layer2": {"role": "Primary", "subnets": list(subnets)}}}}
    pods, vmis = [], []
    for i, (vm, namespace) in enumerate((("red", "red-namespace"), ("blue", "blue-namespace")), start=1):
        p = pod("virt-launcher-%s-abcde" % vm, namespace, i, 20 + i)
        p["metadata"]["labels"] = {"kubevirt.io": "virt-launcher", "vm.kubevirt.io/name": vm}
        p["metadata"]["annotations"]["kubevirt.io/domain"] = vm
        p["spec"]["containers"][0]["ports"] = []
        pods.append(p)
        source = {"userData": "#cloud-config\nuser: fedora\nssh_authorized_keys: [%s]\n" % json.dumps(
            (tmp_path / "id.pub").read_text().strip() if (tmp_path / "id.pub").exists() else "")}
        if network_data:
            source["networkData"] = network_data
        vmis.append({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
                     "metadata": {"name": vm, "namespace": namespace, "uid": "vmi-" + vm},
                     "spec": {"volumes": [{"name": "cloudinitdisk", "cloudInitNoCloud": source}]},
                     "status": {"phase": "Running", "nodeName": "worker%d" % i}})
    cache = Cache.from_objects({NODES: [node(1), node(2)], NAMESPACES: [ns("red-namespace"), ns("blue-namespace")],
                                UDNS: [], CUDNS: [cudn], PODS: pods})
    drive(ovnk.OvnkSimulator(FakeKube(cache, NOW), OVNK, cache=cache, clock=lambda: NOW))
    return cache, vmis


def vmim_running(started):
    return {"metadata": {"name": "kubevirt-migrate-vm-x", "namespace": "blue-namespace", "uid": "m1"},
            "spec": {"vmiName": "blue"},
            "status": {"phase": "Running", "phaseTransitionTimestamps": [
                {"phase": "Running", "phaseTransitionTimestamp": time.strftime(
                    "%Y-%m-%dT%H:%M:%S", time.gmtime(started)) + (".%06dZ" % int((started % 1) * 1e6))}]}}


@pytest.mark.skipif(shutil.which("iperf3") is None, reason="iperf3 not installed")
def test_blackhole_during_migration_shows_in_a_real_iperf3_stream(tmp_path):
    cache, vmis = vm_world(tmp_path)
    fabric = Fabric()
    config = {"blackhole_seconds": 2.0, "blackhole_after_seconds": 0.0}
    try:
        plan = dp_plan.build_plan(cache.list(PODS), vmis, [], cache.list(NADS), config, time.time())
        fabric.apply(plan)
        blue_ip = plan["endpoints"][dp_plan.vm_netns("blue-namespace", "blue")]["links"][0]["addresses"][0].split("/")[0]
        server = subprocess.Popen(["ip", "netns", "exec", dp_plan.vm_netns("blue-namespace", "blue"),
                                   "iperf3", "-s", "-1", "-p", "9000"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        client = subprocess.Popen(["ip", "netns", "exec", dp_plan.vm_netns("red-namespace", "red"), "iperf3", "-c",
                                   blue_ip, "-p", "9000", "-t", "8", "-i", "0.5", "-b", "50M", "--json"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2.0)
        migrations = [vmim_running(time.time())]
        seen_blackhole = False
        while client.poll() is None:
            plan = dp_plan.build_plan(cache.list(PODS), vmis, migrations, cache.list(NADS), config, time.time())
            fabric.apply(plan)
            seen_blackhole = seen_blackhole or bool(plan["blackholed"])
            time.sleep(0.05)
        out, err = client.communicate()
        server.wait(timeout=10)
    finally:
        fabric.teardown()
        assert seen_blackhole
    report = json.loads(out)
    assert "error" not in report, report.get("error")
    intervals = [i["sum"]["bytes"] for i in report["intervals"]]
    assert any(b == 0 for b in intervals), intervals   # the outage is visible per interval
    assert intervals[-1] > 0, intervals                  # and the stream survived
    assert intervals[0] > 0


def fake_kubectl(tmp_path, objects):
    """A kubectl that answers ``get <kind> NAME -n NS -o json`` from ``objects`` (the virtctl stand-in's only
    use of it here), ``NotFound`` otherwise, as the real one does."""
    store = tmp_path / "objects.json"
    store.write_text(json.dumps(dict(("%s/%s" % (o["metadata"]["namespace"], o["metadata"]["name"]), o)
                                     for o in objects)))
    script = tmp_path / "kubectl"
    script.write_text("#!%s\nimport json, sys\nargs = sys.argv[1:]\nname = args[args.index('get') + 2]\n"
                      "ns = args[args.index('-n') + 1]\nobjs = json.load(open(%r))\n"
                      "if ns + '/' + name not in objs:\n"
                      "    sys.stderr.write('Error from server (NotFound): virtualmachineinstances.kubevirt.io '\n"
                      "                     '\"%%s\" not found\\n' %% name)\n    sys.exit(1)\n"
                      "print(json.dumps(objs[ns + '/' + name]))\n" % (sys.executable, str(store)))
    script.chmod(0o755)
    return str(script)


def vmi_status(vmi, plan):
    """The VMI as the KubeVirt simulator reports it: status.interfaces[0] with the launcher pod's UDN IPs."""
    ep = plan["endpoints"][dp_plan.vm_netns(vmi["metadata"]["namespace"], vmi["metadata"]["name"])]
    ips = [a.split("/")[0] for a in ep["links"][0]["addresses"]]
    out = json.loads(json.dumps(vmi))
    out["status"]["interfaces"] = [{"name": "happy", "interfaceName": "eth0", "ipAddress": ips[0],
                                    "ipAddresses": ips, "infoSource": "domain, guest-agent",
                                    "podInterfaceName": "ovn-udn1"}]
    return out


def ssh_until(cmd, seconds=15):
    deadline = time.monotonic() + seconds
    while True:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        if proc.returncode == 0 or time.monotonic() > deadline:
            return proc
        time.sleep(0.5)


@pytest.mark.skipif(not os.path.exists("/usr/sbin/sshd") or shutil.which("ssh") is None, reason="openssh not installed")
def test_virtctl_port_forward_cannot_reach_a_primary_udn_vm_but_a_bastion_on_its_network_can(tmp_path):
    """v1.8.4: the target is TYPE/NAME[/NAMESPACE] (a dot belongs to the name) and virt-api dials
    status.interfaces[0] from the default network, which has no route into a UDN: port-forward fails. An SSH
    ProxyCommand through a pod on the VM's own network (`nc %h %p`, what `kubectl exec -i` into the lab's bastion
    runs) reaches the VM."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "id")], check=True)
    cache, vmis = vm_world(tmp_path)
    bastion = pod("udn-lab-bastion-0", "red-namespace", 1, 40)
    cache.put(PODS, bastion)
    drive(ovnk.OvnkSimulator(FakeKube(cache, NOW), OVNK, cache=cache, clock=lambda: NOW))
    from dataplane.agent import DataplaneAgent

    agent = DataplaneAgent(None, {"state_dir": str(tmp_path / "state")})
    fabric = agent.fabric
    marker = "udn-lab-guest-file-%s" % tmp_path.name
    try:
        plan = dp_plan.build_plan(cache.list(PODS), vmis, [], cache.list(NADS), {}, time.time())
        fabric.apply(plan)
        netns = dp_plan.vm_netns("blue-namespace", "blue")
        os.makedirs(agent.state_dir, exist_ok=True)
        agent.start_sshd(netns, vmis[1])
        blue = vmi_status(vmis[1], plan)
        blue_ip = blue["status"]["interfaces"][0]["ipAddress"]
        env = dict(os.environ, KUBECTL=fake_kubectl(tmp_path, [blue]), VIRTCTL_SIM_DIAL_TIMEOUT="3")
        virtctl = str(SIM_DIR / "bin" / "virtctl")
        base = ["ssh", "-i", str(tmp_path / "id"), "-o", "StrictHostKeyChecking=no", "-o",
                "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]
        # the pre-1.7 form names a VMI "blue.blue-namespace" (in the current namespace): not found
        old = subprocess.run([virtctl, "port-forward", "--stdio=true", "vmi/blue.blue-namespace", "22"],
                             capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=30,
                             check=False)
        # the v1.8.4 form finds the VMI, and virt-api's dial from the default network fails
        new = subprocess.run([virtctl, "port-forward", "--stdio=true", "vmi/blue/blue-namespace", "22"],
                             capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=30,
                             check=False)
        through_bastion = ssh_until(base + ["-o", "ProxyCommand=ip netns exec %s nc %%h %%p" % dp_plan.pod_netns(
            "red-namespace", "udn-lab-bastion-0"), "fedora@" + blue_ip,
            "ip -4 -o addr show dev eth0 && echo %s > /tmp/%s" % (marker, marker)])
    finally:
        for p in agent.sshd.values():
            p.terminate()
        fabric.teardown()
    assert old.returncode != 0 and '"blue.blue-namespace" not found' in old.stderr, old.stderr
    assert new.returncode != 0, new.stderr
    assert "dialing VM: dial tcp %s:22" % blue_ip in new.stderr, new.stderr
    assert through_bastion.returncode == 0, through_bastion.stderr
    assert blue_ip in through_bastion.stdout
    # the guest's /tmp is its own: not this machine's (nor another VM's or another lab's)
    assert not os.path.exists("/tmp/" + marker)
    assert (tmp_path / "state" / netns / "tmp" / marker).read_text() == marker + "\n"


def test_virtctl_console_logs_into_the_guest_on_any_network(tmp_path):
    """The seed's way in: `virtctl console` needs no pod network (virt-api -> virt-handler -> serial socket). The
    login is checked against the cloud-init user and password, then commands run inside the guest."""
    cache, vmis = vm_world(tmp_path)
    blue = vmis[1]
    blue["spec"]["volumes"][0]["cloudInitNoCloud"]["userData"] += "password: Console-Pw-1\n"
    fabric = Fabric()
    try:
        plan = dp_plan.build_plan(cache.list(PODS), vmis, [], cache.list(NADS), {}, time.time())
        fabric.apply(plan)
        env = dict(os.environ, KUBECTL=fake_kubectl(tmp_path, [vmi_status(blue, plan)]))
        virtctl = [str(SIM_DIR / "bin" / "virtctl"), "console", "-n", "blue-namespace", "blue"]
        good = subprocess.run(virtctl, input="fedora\nConsole-Pw-1\nip -4 -o addr show dev eth0\nexit\n",
                              capture_output=True, text=True, env=env, timeout=30, check=False)
        bad = subprocess.run(virtctl, input="fedora\nwrong\n" * 3, capture_output=True, text=True, env=env,
                             timeout=30, check=False)
        blue_ip = plan["endpoints"][dp_plan.vm_netns("blue-namespace", "blue")]["links"][0]["addresses"][0]
    finally:
        fabric.teardown()
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Successfully connected to blue console" in good.stdout and blue_ip in good.stdout
    assert bad.returncode != 0 and bad.stdout.count("Login incorrect") == 3


def in_vm(vm_ns, *argv):
    return subprocess.run(["ip", "netns", "exec", vm_ns] + list(argv), capture_output=True, text=True, timeout=30,
                          check=False)


@pytest.mark.parametrize("network_data,has_ipv6", [
    (None, False),  # the pinned disks' cloud-init fallback: DHCPv4 only
    ("version: 2\nethernets:\n  eth0:\n    dhcp4: true\n    dhcp6: true\n", True),  # what the lab renders
])
def test_dual_stack_vm_has_ipv6_only_when_its_network_data_runs_dhcpv6(tmp_path, network_data, has_ipv6):
    """OVN-K v1.3.0 hands IPv6 out on a Layer2 primary UDN only by stateful DHCPv6: without it the guest has no
    IPv6 address (although KubeVirt's status shows the pod's), so IPv6 east/west fails; with it, the guest routes
    IPv6 via the UDN router's link-local address (router advertisements)."""
    cache, vmis = vm_world(tmp_path, subnets=("192.168.0.0/16", "fd00:192:168::/64"), network_data=network_data)
    fabric = Fabric()
    try:
        plan = dp_plan.build_plan(cache.list(PODS), vmis, [], cache.list(NADS), {}, time.time())
        fabric.apply(plan)
        red, blue = dp_plan.vm_netns("red-namespace", "red"), dp_plan.vm_netns("blue-namespace", "blue")
        launcher = [p for p in cache.list(PODS) if p["metadata"]["namespace"] == "blue-namespace"][0]
        nets = json.loads(launcher["metadata"]["annotations"]["k8s.ovn.org/pod-networks"])
        blue_v6 = [a.split("/")[0] for entry in nets.values() if entry.get("role") == "primary"
                   for a in entry["ip_addresses"] if ":" in a][0]
        addrs = in_vm(red, "ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "global").stdout
        route = in_vm(red, "ip", "-6", "route", "show", "default").stdout
        ping6 = in_vm(red, "ping", "-6", "-c", "1", "-W", "2", blue_v6)
        ping4 = in_vm(red, "ping", "-4", "-c", "1", "-W", "2",
                      plan["endpoints"][blue]["links"][0]["addresses"][0].split("/")[0])
    finally:
        fabric.teardown()
    assert ping4.returncode == 0, ping4.stdout + ping4.stderr
    if has_ipv6:
        assert "fd00:192:168::" in addrs
        assert "via fe80::858:c0ff:fea8:1 dev eth0" in route, route
        assert ping6.returncode == 0, ping6.stdout + ping6.stderr
    else:
        assert addrs.strip() == "" and route.strip() == ""
        assert ping6.returncode != 0


# --------------------------------------------------------------------------- services


def test_cluster_ip_stays_in_its_network_and_node_port_reaches_in(world, tmp_path):
    import socketserver
    import threading

    cache, fabric = world
    for p in cache.list(PODS):
        p["metadata"].setdefault("labels", {})["app"] = p["metadata"]["namespace"]
    plan = build(cache, fabric)

    class Api(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.sendall(b"api")

    api = socketserver.TCPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    services = [
        {"metadata": {"name": "service-blue", "namespace": "blue"},
         "spec": {"type": "NodePort", "clusterIP": "10.96.7.7", "selector": {"app": "blue"},
                  "ports": [{"port": 80, "targetPort": 8080, "nodePort": 31234}]}},
        {"metadata": {"name": "kubernetes", "namespace": "default"},
         "spec": {"clusterIP": "10.96.0.1", "ports": [{"port": 443}]}},
        {"metadata": {"name": "kube-dns", "namespace": "kube-system"},
         "spec": {"clusterIP": "10.96.0.10", "selector": {"k8s-app": "kube-dns"},
                  "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}},
    ]
    endpoints = [{"metadata": {"name": "kubernetes", "namespace": "default"},
                  "subsets": [{"addresses": [{"ip": "127.0.0.1"}], "ports": [{"port": api.server_address[1]}]}]}]
    nodes = [{"status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.77"}]}}]
    svc = dp_plan.service_plan(services, cache.list(PODS), endpoints, nodes, cache.list(NADS), plan["routers"],
                               plan["endpoints"])
    try:
        fabric.apply_services(svc, str(tmp_path / "svcproxy.json"))
        assert wait_listening("blue", "blue-0", primary_ip(cache, "blue", "blue-1"))
        assert wait_listening("blue", "blue-0", "10.96.7.7", 80), "ClusterIP not reachable inside its network"
        rc, err = connect("green", "green-0", "10.96.7.7", 80, timeout=1)
        assert rc == 1, "ClusterIP of blue reachable from green"
        host = subprocess.run([sys.executable, AGNHOST, "connect", "127.0.0.77:31234", "--timeout=2s"],
                              capture_output=True, text=True, check=False)
        assert host.returncode == 0, host.stderr
        for src in (("green", "green-0"), ("default", "default-0")):
            assert wait_listening(src[0], src[1], "10.96.0.1", 443), "API service not reachable from %s" % (src,)
        # cluster DNS, through the pod's resolv.conf and the system resolver (search list: short names work)
        for name, want in (("service-blue.blue", "10.96.7.7"), ("kubernetes.default", "10.96.0.1"),
                           ("kubernetes.default.svc.cluster.local", "10.96.0.1")):
            out = subprocess.run(["ip", "netns", "exec", dp_plan.pod_netns("green", "green-0"), "getent", "ahostsv4",
                                  name], capture_output=True, text=True, check=False).stdout
            assert want in out.split(), (name, out)
        assert subprocess.run(["ip", "netns", "exec", dp_plan.pod_netns("blue", "blue-0"), "getent", "hosts",
                               "no-such-service"], capture_output=True, check=False).returncode == 2
        # a reload that changes a service's endpoints keeps its listener (it used to die: address in use)
        cache.get(PODS, "blue", "blue-1")["metadata"]["labels"]["app"] = "other"
        svc = dp_plan.service_plan(services, cache.list(PODS), endpoints, nodes, cache.list(NADS), plan["routers"],
                                   plan["endpoints"])
        fabric.apply_services(svc, str(tmp_path / "svcproxy.json"))
        time.sleep(0.5)
        for attempt in range(3):
            assert wait_listening("blue", "blue-0", "10.96.7.7", 80), "ClusterIP lost on reload (attempt %d)" % attempt
        assert "Address already in use" not in (tmp_path / "svcproxy.json.log").read_text()
    finally:
        api.shutdown()
    etc = os.path.join(fabric.etc_netns, dp_plan.pod_netns("blue", "blue-0"))
    assert os.path.exists(etc)
    fabric.teardown()
    assert not os.path.exists(etc)


# --------------------------------------------------------------------------- the agent and kwok exec shims


def test_agent_builds_namespaces_and_exec_objects_whose_env_runs_probes_in_the_pod(world, tmp_path):
    from dataplane.agent import EXECS, KEY, DataplaneAgent

    cache, _fabric = world
    agent = DataplaneAgent(FakeKube(cache, NOW), {"state_dir": str(tmp_path / "state")}, cache=cache)
    os.makedirs(agent.state_dir, exist_ok=True)
    try:
        agent.reconcile_key(KEY)
        exec_obj = cache.get(EXECS, "blue", "blue-0")
        envs = dict((e["name"], e["value"]) for e in exec_obj["spec"]["execs"][0]["local"]["envs"])
        assert envs["UDNSIM_NETNS"] == dp_plan.pod_netns("blue", "blue-0")
        # what kwok does for `kubectl exec -n blue blue-0 -- agnhost connect ...`: run it locally with these envs
        target = "%s:8080" % primary_ip(cache, "blue", "blue-1")
        env = dict(os.environ, **envs)
        deadline = time.monotonic() + 10
        while True:
            proc = subprocess.run(["agnhost", "connect", target, "--timeout=2s", "--protocol=tcp"], env=env,
                                  capture_output=True, text=True, check=False)
            if proc.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert proc.returncode == 0, proc.stderr
        green = dict(os.environ, **dict(envs, UDNSIM_NETNS=dp_plan.pod_netns("green", "green-0")))
        proc = subprocess.run(["agnhost", "connect", target, "--timeout=1s", "--protocol=tcp"], env=green,
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 1 and ("TIMEOUT" in proc.stderr or "unreachable" in proc.stderr.lower()), proc.stderr
    finally:
        agent.fabric.teardown()


def test_network_policy_allows_one_port_and_denies_another(world):
    from dataplane.agent import KEY, DataplaneAgent
    from simulators.common import Res

    cache, _fabric = world
    target = cache.get(PODS, "blue", "blue-1")
    target["metadata"]["labels"] = {"purpose": "devconf-eu-2025-demo"}
    target["spec"]["containers"].append({"name": "second", "image": "agnhost", "ports": [{"containerPort": 9090}]})
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "allow-to-devconf-demo-pods", "namespace": "blue"},
              "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
                  "to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"purpose": "devconf-eu-2025-demo"}}}],
                  "ports": [{"protocol": "TCP", "port": 8080}]}]}}
    agent = DataplaneAgent(FakeKube(cache, NOW), {"state_dir": "/tmp", "kwok_exec": False, "services": False},
                           cache=cache)
    ip = primary_ip(cache, "blue", "blue-1")
    try:
        agent.reconcile_key(KEY)
        assert wait_listening("blue", "blue-0", ip, 9090)  # no policy yet: both ports answer
        cache.put(Res("networking.k8s.io", "v1", "networkpolicies", True, "NetworkPolicy"), policy)
        agent.reconcile_key(KEY)
        assert wait_listening("blue", "blue-0", ip, 8080)
        rc, err = connect("blue", "blue-0", ip, 9090, timeout=1)
        assert rc == 1 and "TIMEOUT" in err, err
    finally:
        agent.fabric.teardown()


def test_ipv6_egress_policy_still_resolves_an_allowed_peer_after_its_neighbour_entry_expired():
    """IPv6 under an egress NetworkPolicy: the allowed port answers even once the source has forgotten the peer's
    link-layer address (neighbour solicitations pass, as OVN-K allows nd), the other port stays blocked."""
    from dataplane.agent import KEY, DataplaneAgent
    from simulators.common import Res

    pods = [pod("red-0", "red", 1, 10), pod("red-1", "red", 2, 11)]
    pods[1]["spec"]["containers"].append({"name": "second", "image": "agnhost", "ports": [{"containerPort": 9090}]})
    cache = Cache.from_objects({NODES: [node(1), node(2)], NAMESPACES: [ns("red")], CUDNS: [],
                                UDNS: [udn("red-network", "red", "fd00:192:168::/64", topology="Layer2")], PODS: pods})
    drive(ovnk.OvnkSimulator(FakeKube(cache, NOW), {"pod_network": "fd00:10:244::/48/64"}, cache=cache,
                             clock=lambda: NOW))
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "allow-8080", "namespace": "red"},
              "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
                  "to": [{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": 8080}]}]}}
    cache.put(Res("networking.k8s.io", "v1", "networkpolicies", True, "NetworkPolicy"), policy)
    agent = DataplaneAgent(FakeKube(cache, NOW), {"state_dir": "/tmp", "kwok_exec": False, "services": False},
                           cache=cache)
    ip = primary_ip(cache, "red", "red-1")
    assert ":" in ip
    try:
        agent.reconcile_key(KEY)
        assert wait_listening("red", "red-0", ip, 8080)
        subprocess.run(["ip", "-n", dp_plan.pod_netns("red", "red-0"), "neigh", "flush", "all"], check=True)
        assert connect("red", "red-0", ip, 8080)[0] == 0
        rc, err = connect("red", "red-0", ip, 9090, timeout=1)
        assert rc == 1 and "TIMEOUT" in err, err
    finally:
        agent.fabric.teardown()


@pytest.mark.skipif(shutil.which("ping") is None, reason="ping not installed")
def test_every_network_egresses_to_the_simulated_outside_world(world):
    cache, fabric = world
    build(cache, fabric)
    for src in (("blue", "blue-0"), ("overlap", "overlap-0"), ("green", "green-0"), ("default", "default-0")):
        proc = subprocess.run(["ip", "netns", "exec", dp_plan.pod_netns(*src), "ping", "-4", "-c", "1", "-W", "2",
                               "8.8.8.8"], capture_output=True, text=True, check=False)
        assert proc.returncode == 0, (src, proc.stdout, proc.stderr)
    # the outside world does not become a path between networks
    rc, err = connect("blue", "blue-0", primary_ip(cache, "green", "green-0"), timeout=1)
    assert rc == 1, err


@pytest.mark.skipif(shutil.which("ping") is None, reason="ping not installed")
def test_a_packet_for_another_networks_pod_leaves_through_the_gateway_and_reaches_the_outside(world):
    """OVN-K routes a packet for another UDN's pod address out of the node like any egress (okep-5193, shared
    gateway): here it leaves blue's router, masqueraded, and the outside world records it; green never sees it."""
    cache, fabric = world
    build(cache, fabric)
    green = primary_ip(cache, "green", "green-0")
    assert fabric.outside_seen() == []
    proc = subprocess.run(["ip", "netns", "exec", dp_plan.pod_netns("blue", "blue-0"), "ping", "-4", "-c", "1", "-W",
                           "1", green], capture_output=True, text=True, check=False)
    assert proc.returncode != 0, proc.stdout
    seen = fabric.outside_seen()
    assert [(dst, proto) for src, dst, proto in seen] == [(green, "icmp")], seen
    # the source is blue's uplink (its masquerade), not a pod address and not green's router
    src = seen[0][0]
    assert ipaddress.ip_address(src) in ipaddress.ip_network("100.64.0.0/10"), src
    # traffic the outside owns (egress) is not recorded as "for someone else"
    subprocess.run(["ip", "netns", "exec", dp_plan.pod_netns("blue", "blue-0"), "ping", "-4", "-c", "1", "-W", "2",
                    "8.8.8.8"], capture_output=True, check=False)
    assert [dst for dummy, dst, dummy2 in fabric.outside_seen()] == [green]


@pytest.mark.skipif(shutil.which("nc") is None, reason="netcat not installed")
def test_netexec_logs_what_reaches_it_as_agnhost_does_in_the_cri_log_format(world, tmp_path):
    """The receiver's side of a probe: agnhost netexec logs `GET /echo?msg=<x>&code=` and `Echoing <x> to UDP client
    <addr>` (kubernetes v1.35.0 test/images/agnhost/netexec/netexec.go); the runtime keeps them in CRI format."""
    cache, fabric = world
    fabric.log_dir = str(tmp_path / "logs")
    build(cache, fabric)
    target = primary_ip(cache, "blue", "blue-1")
    assert wait_listening("blue", "blue-0", target)
    netns = dp_plan.pod_netns("blue", "blue-0")
    curl = subprocess.run(["ip", "netns", "exec", netns, "curl", "-sS", "--max-time", "3",
                           "http://%s:8080/echo?msg=n0nce-http" % target], capture_output=True, text=True, check=False)
    assert curl.stdout == "n0nce-http", curl.stderr
    subprocess.run(["ip", "netns", "exec", netns, "sh", "-c", "echo 'echo N0NCE-udp' | nc -u -w1 %s 8081" % target],
                   capture_output=True, text=True, check=False, timeout=10)
    log = pathlib.Path(dp_plan.container_log(fabric.log_dir, "blue", "blue-1", "agnhost"))
    lines = log.read_text().splitlines()
    assert any(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z stderr F \d{4}/\d\d/\d\d \d\d:\d\d:\d\d "
                        r"GET /echo\?msg=n0nce-http&code=$", line) for line in lines), lines
    # UDP commands are lower-cased, and the client named
    assert any(re.search(r"Echoing n0nce-udp to UDP client \S+:\d+$", line) for line in lines), lines
    # the other pod saw nothing
    other = pathlib.Path(dp_plan.container_log(fabric.log_dir, "green", "green-0", "agnhost"))
    assert "n0nce" not in other.read_text()
