"""The data plane plan (pure): namespaces, routers, links and blackhole windows from annotated objects."""

import base64
import json

from conftest import load

from dataplane import plan
from simulators import ovnk
from simulators.common import CONFIGMAPS, CUDNS, NADS, NAMESPACES, NODES, PODS, UDNS, Cache
from simulators.fake import FakeKube, drive

NOW = 1_800_000_000.0


def annotated(extra_pods):
    objs = load("cluster.yml") + load("networks.yml")
    kinds = {"ConfigMap": CONFIGMAPS, "Node": NODES, "Namespace": NAMESPACES, "UserDefinedNetwork": UDNS, "ClusterUserDefinedNetwork": CUDNS}
    by_kind = {PODS: list(extra_pods)}
    for obj in objs:
        by_kind.setdefault(kinds[obj["kind"]], []).append(obj)
    cache = Cache.from_objects(by_kind)
    drive(ovnk.OvnkSimulator(FakeKube(cache, NOW), {}, cache=cache, clock=lambda: NOW))
    return cache


def pod(name, namespace, node, ip, labels=None, annotations=None, ports=(8080,)):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "uid": name, "labels": labels or {},
                         "annotations": dict(annotations or {})},
            "spec": {"nodeName": node, "containers": [{"name": "c", "ports": [{"containerPort": p} for p in ports]}]},
            "status": {"phase": "Running", "podIPs": [{"ip": ip}]}}


def test_pods_get_router_per_network_and_links_per_interface():
    cache = annotated([pod("b0", "blue", "ovn-k-helm-worker", "10.244.1.5"),
                       pod("o0", "overlapping-with-blue", "ovn-k-helm-worker", "10.244.1.6"),
                       pod("d0", "default", "ovn-k-helm-worker2", "10.244.2.5", ports=(8080, 9090))])
    p = plan.build_plan(cache.list(PODS), [], [], cache.list(NADS), {}, NOW)
    assert set(p["routers"]) == {"default", "blue_blue-network", "overlapping-with-blue_overlapping-with-blue-network"}
    # overlapping networks: same gateway addresses, different router namespaces
    assert p["routers"]["blue_blue-network"]["gateways"] == \
        p["routers"]["overlapping-with-blue_overlapping-with-blue-network"]["gateways"]
    assert p["routers"]["blue_blue-network"]["netns"] != \
        p["routers"]["overlapping-with-blue_overlapping-with-blue-network"]["netns"]
    blue = p["endpoints"][plan.pod_netns("blue", "b0")]
    assert [(link["ifname"], link["role"]) for link in blue["links"]] == \
        [("eth0", "infrastructure-locked"), ("ovn-udn1", "primary")]
    assert blue["ports"] == [8080]
    default = p["endpoints"][plan.pod_netns("default", "d0")]
    assert [(link["ifname"], link["role"]) for link in default["links"]] == [("eth0", "primary")]
    assert default["ports"] == [8080, 9090]
    assert p["routers"]["default"]["gateways"] == {"10.244.1.1/24", "10.244.2.1/24"}


def test_finished_and_unannotated_pods_have_no_namespace():
    done = pod("gone", "blue", "ovn-k-helm-worker", "10.244.1.7")
    cache = annotated([done])
    cache.get(PODS, "blue", "gone")["status"]["phase"] = "Succeeded"
    raw = pod("raw", "blue", "ovn-k-helm-worker", "10.244.1.8")
    p = plan.build_plan(cache.list(PODS) + [raw], [], [], cache.list(NADS), {}, NOW)
    assert p["endpoints"] == {}


def vm_objects():
    launcher = pod("virt-launcher-v-abcde", "red", "ovn-k-helm-worker", "10.244.1.9",
                   labels={"kubevirt.io": "virt-launcher", "vm.kubevirt.io/name": "v"},
                   annotations={"kubevirt.io/domain": "v"}, ports=())
    cache = annotated([launcher])
    vmi = {"metadata": {"name": "v", "namespace": "red"}, "status": {"phase": "Running", "nodeName": "ovn-k-helm-worker"}}
    return cache, vmi


def vmim(started_iso):
    return {"metadata": {"name": "m", "namespace": "red"}, "spec": {"vmiName": "v"},
            "status": {"phase": "Running", "phaseTransitionTimestamps": [
                {"phase": "Running", "phaseTransitionTimestamp": started_iso}]}}


def test_vm_namespace_is_keyed_by_vmi_and_holds_the_udn_address():
    cache, vmi = vm_objects()
    p = plan.build_plan(cache.list(PODS), [vmi], [], cache.list(NADS), {}, NOW)
    assert list(p["endpoints"]) == [plan.vm_netns("red", "v")]
    link = p["endpoints"][plan.vm_netns("red", "v")]["links"][0]
    assert link["ifname"] == "eth0" and link["network"] == "cluster_udn_colored-enterprise"
    assert link["addresses"] == ["192.168.0.3/16"]


def test_blackhole_window_during_running_migration():
    cache, vmi = vm_objects()
    start = "2027-01-15T08:00:00.000000Z"
    t0 = plan._epoch(start)
    config = {"blackhole_seconds": 2.0, "blackhole_after_seconds": 1.0}
    args = (cache.list(PODS), [vmi], [vmim(start)], cache.list(NADS), config)
    before = plan.build_plan(*args, t0 + 0.5)
    assert before["blackholed"] == set() and before["next_change"] == 0.5
    during = plan.build_plan(*args, t0 + 1.5)
    assert during["blackholed"] == {plan.vm_netns("red", "v")} and during["next_change"] == 1.5
    after = plan.build_plan(*args, t0 + 3.5)
    assert after["blackholed"] == set() and after["next_change"] is None


def dual_stack_vm(volumes):
    """A launcher pod on a dual-stack Layer2 primary CUDN (annotation as the OVN-K simulator writes it) and its
    VMI with the given cloud-init ``volumes``."""
    nad = {"metadata": {"name": "happy", "namespace": "red"}, "spec": {"config": json.dumps(
        {"type": "ovn-k8s-cni-overlay", "name": "cluster_udn_happy", "role": "primary", "topology": "layer2"})}}
    nets = {"default": {"ip_addresses": ["10.244.1.9/24"], "mac_address": "0a:58:0a:f4:01:09",
                        "gateway_ips": ["10.244.1.1"], "role": "infrastructure-locked"},
            "red/happy": {"ip_addresses": ["192.168.0.4/16", "fd00:192:168::4/64"], "mac_address": "0a:58:c0:a8:00:04",
                          "gateway_ips": ["192.168.0.1", "fd00:192:168::1"], "role": "primary"}}
    launcher = {"metadata": {"name": "virt-launcher-v-abcde", "namespace": "red",
                             "labels": {"kubevirt.io": "virt-launcher", "vm.kubevirt.io/name": "v"},
                             "annotations": {"kubevirt.io/domain": "v", "k8s.ovn.org/pod-networks": json.dumps(nets)}},
                "spec": {"nodeName": "ovn-k-helm-worker"}, "status": {"phase": "Running"}}
    vmi = {"metadata": {"name": "v", "namespace": "red"}, "spec": {"volumes": volumes},
           "status": {"phase": "Running", "nodeName": "ovn-k-helm-worker"}}
    return [launcher], [vmi], [nad]


def test_vm_guest_without_network_data_holds_ipv4_only():
    """Pinned disks ship cloud-init < 24.1, whose fallback is DHCPv4 only; OVN-K gives IPv6 only by DHCPv6."""
    pods, vmis, nads = dual_stack_vm([{"name": "cloudinitdisk", "cloudInitNoCloud": {"userData": "#cloud-config\n"}}])
    link = plan.build_plan(pods, vmis, [], nads, {}, NOW)["endpoints"][plan.vm_netns("red", "v")]["links"][0]
    assert link["addresses"] == ["192.168.0.4/16"]
    assert link["gateways"] == ["192.168.0.1"]


def test_vm_guest_with_dhcp6_network_data_holds_both_and_routes_ipv6_via_the_router_lla():
    """The OVN-K e2e network data (eth0: dhcp4 + dhcp6), read from the Secret's networkdata key as KubeVirt does;
    the IPv6 default route comes from router advertisements, via the LLA of the router port's MAC
    (IPAddrToHWAddr of the first gateway, 192.168.0.1 -> 0a:58:c0:a8:00:01)."""
    secret = {"data": {"networkdata": base64.b64encode(
        b"version: 2\nethernets:\n  eth0:\n    dhcp4: true\n    dhcp6: true\n").decode()}}
    pods, vmis, nads = dual_stack_vm([{"name": "cloudinitdisk", "cloudInitNoCloud": {
        "userData": "#cloud-config\n", "networkDataSecretRef": {"name": "v-cloud-init"}}}])
    p = plan.build_plan(pods, vmis, [], nads, {}, NOW,
                        secret_lookup=lambda ns, name: secret if (ns, name) == ("red", "v-cloud-init") else None)
    link = p["endpoints"][plan.vm_netns("red", "v")]["links"][0]
    assert link["addresses"] == ["192.168.0.4/16", "fd00:192:168::4/64"]
    assert link["gateways"] == ["192.168.0.1", "fe80::858:c0ff:fea8:1"]
    assert "fe80::858:c0ff:fea8:1/64" in p["routers"]["cluster_udn_happy"]["gateways"]
    # virt-api's network exists whenever anything does
    assert plan.DEFAULT_NETWORK in p["routers"]


def test_leak_names_namespaces_or_networks():
    cache = annotated([pod("b0", "blue", "ovn-k-helm-worker", "10.244.1.5"),
                       pod("r0", "red", "ovn-k-helm-worker", "10.244.1.6")])
    p = plan.build_plan(cache.list(PODS), [], [], cache.list(NADS), {"leak": [["blue", "red"], ["blue", "nowhere"]]}, NOW)
    assert p["leaks"] == [("blue_blue-network", "cluster_udn_colored-enterprise")]
    # a namespace names its PRIMARY network, even when a secondary NAD there sorts first (the workshop's
    # blue-green-secondary lives in blue and green too)
    nads = cache.list(NADS) + [{"metadata": {"name": "a-secondary", "namespace": "blue"}, "spec": {"config": json.dumps(
        {"type": "ovn-k8s-cni-overlay", "name": "cluster_udn_a-secondary", "role": "secondary"})}}]
    p = plan.build_plan(cache.list(PODS), [], [], nads, {"leak": [["blue", "red"]]}, NOW)
    assert p["leaks"] == [("blue_blue-network", "cluster_udn_colored-enterprise")]


def _virtctl():
    import importlib.machinery
    import importlib.util
    import pathlib

    path = pathlib.Path(plan.__file__).resolve().parents[1] / "bin" / "virtctl"
    loader = importlib.machinery.SourceFileLoader("virtctl_standin", str(path))
    spec = importlib.util.spec_from_loader("virtctl_standin", loader)
    virtctl = importlib.util.module_from_spec(spec)
    loader.exec_module(virtctl)
    return virtctl


def test_vm_netns_name_matches_the_virtctl_stand_in():
    virtctl = _virtctl()
    assert virtctl.vm_netns("blue-namespace", "blue") == plan.vm_netns("blue-namespace", "blue")
    assert json.dumps(plan.vm_netns("a", "b")).startswith('"' + plan.prefix() + 'vm-')
    assert virtctl.default_network_netns() == plan.router_netns(plan.DEFAULT_NETWORK)


def test_virtctl_stand_in_parses_targets_as_v1_8_4():
    """v1.8.4 pkg/virtctl/portforward ParseTarget: '/' separates type, name and namespace; a dot is part of the
    name (the pre-1.7 NAME.NAMESPACE form is gone)."""
    virtctl = _virtctl()
    assert virtctl.parse_target("vmi/red/red-namespace") == ("vmi", "red", "red-namespace")
    assert virtctl.parse_target("vmi/red.red-namespace") == ("vmi", "red.red-namespace", "")
    assert virtctl.parse_target("virtualmachine/red") == ("vm", "red", "")
    for bad, message in (("red.red-namespace", "target must contain type and name separated by '/'"),
                         ("vmi/a/b/c", "target is not valid with more than two '/'"),
                         ("vmi/red/", "namespace cannot be empty"), ("pod/red", "unsupported resource type 'pod'"),
                         ("", "target cannot be empty")):
        try:
            virtctl.parse_target(bad)
        except virtctl.TargetError as exc:
            assert str(exc) == message
        else:
            raise AssertionError("accepted " + bad)
    assert virtctl.target_interface_ip({"status": {"interfaces": [{"ipAddress": "192.168.0.4"}]}}) == "192.168.0.4"


def service(name, namespace, cluster_ip, port=80, target=8080, node_port=None, selector=None):
    spec = {"clusterIP": cluster_ip, "clusterIPs": [cluster_ip], "selector": selector or {"app": name},
            "ports": [{"port": port, "targetPort": target, "protocol": "TCP"}], "type": "ClusterIP"}
    if node_port:
        spec["type"] = "NodePort"
        spec["ports"][0]["nodePort"] = node_port
    return {"metadata": {"name": name, "namespace": namespace}, "spec": spec}


def test_service_listeners_stay_in_their_network():
    blue = pod("b0", "blue", "ovn-k-helm-worker", "10.244.1.5", labels={"app": "web"})
    blue["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": 8080}]
    cache = annotated([blue])
    p = plan.build_plan(cache.list(PODS), [], [], cache.list(NADS), {}, NOW)
    nodes = [{"status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.2"}]}}]
    kapi = {"metadata": {"name": "kubernetes", "namespace": "default"}, "spec": {
        "clusterIP": "10.96.0.1", "ports": [{"port": 443, "targetPort": 6443}]}}
    eps = [{"metadata": {"name": "kubernetes", "namespace": "default"},
            "subsets": [{"addresses": [{"ip": "127.0.0.1"}], "ports": [{"port": 6443}]}]}]
    svc = plan.service_plan([service("web", "blue", "10.96.5.5", target="http", node_port=30080), kapi],
                            cache.list(PODS), eps, nodes, cache.list(NADS), p["routers"])
    blue_router = p["routers"]["blue_blue-network"]["netns"]
    udn_ip = json.loads(cache.get(PODS, "blue", "b0")["metadata"]["annotations"][ovnk.POD_NETWORKS])[
        "blue/blue-network"]["ip_addresses"][0].split("/")[0]
    by_ip = {}
    for listener in svc["listeners"]:
        by_ip.setdefault(listener["ip"], []).append(listener)
    web = by_ip["10.96.5.5"]
    assert [(x["netns"], x["port"], x["targets"]) for x in web] == [(blue_router, 80, ["%s:8080" % udn_ip])]
    assert [(x["netns"], x["port"], x["target_netns"]) for x in by_ip["127.0.0.2"]] == [(None, 30080, blue_router)]
    # the API service is in every router, relayed to the host
    assert {x["netns"] for x in by_ip["10.96.0.1"]} == {r["netns"] for r in p["routers"].values()}
    assert all(x["targets"] == ["127.0.0.1:6443"] and x["target_netns"] is None for x in by_ip["10.96.0.1"])
    assert "10.96.5.5" in svc["service_ips"][blue_router]
    assert "10.96.5.5" not in svc["service_ips"].get(p["routers"]["default"]["netns"], set())


def test_cloud_init_keys_from_inline_data_and_secret_ref():
    import base64

    from dataplane.agent import cloud_init_access

    inline = {"metadata": {"namespace": "n"}, "spec": {"volumes": [{"name": "c", "cloudInitNoCloud": {
        "userData": "#cloud-config\nuser: fedora\nssh_authorized_keys: [k1]\n"}}]}}
    assert cloud_init_access(inline) == ("fedora", ["k1"])
    data = base64.b64encode(b"#cloud-config\nusers: [{name: cloud, ssh_authorized_keys: [k2]}]\n").decode()
    ref = {"metadata": {"namespace": "n"}, "spec": {"volumes": [{"name": "c", "cloudInitNoCloud": {
        "secretRef": {"name": "vm-cloud-init"}}}]}}
    secrets = {("n", "vm-cloud-init"): {"data": {"userdata": data}}}
    assert cloud_init_access(ref, lambda ns, name: secrets.get((ns, name))) == ("cloud", ["k2"])
    assert cloud_init_access(ref) == ("fedora", [])


SEED_POLICY = {
    "metadata": {"name": "allow-to-devconf-demo-pods", "namespace": "red"},
    "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
        "to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"purpose": "devconf-eu-2025-demo"}}}],
        "ports": [{"protocol": "TCP", "port": 8080}]}]}}


def test_seed_policy_allows_demo_pods_on_8080_only():
    red = pod("r0", "red", "ovn-k-helm-worker", "10.244.1.5", labels={"purpose": "devconf-eu-2025-demo"})
    yellow = pod("y0", "yellow", "ovn-k-helm-worker2", "10.244.2.5", labels={"purpose": "devconf-eu-2025-demo"})
    other = pod("x0", "yellow", "ovn-k-helm-worker2", "10.244.2.6")
    cache = annotated([red, yellow, other])
    pods = cache.list(PODS)
    rules = plan.policy_rules(cache.get(PODS, "red", "r0"), [SEED_POLICY], pods, cache.list(NAMESPACES),
                              cache.list(NADS))
    assert rules["ingress"] is None
    (rule,) = rules["egress"]
    yellow_ip = json.loads(cache.get(PODS, "yellow", "y0")["metadata"]["annotations"][ovnk.POD_NETWORKS])[
        "yellow/colored-enterprise"]["ip_addresses"][0].split("/")[0]
    other_ip = json.loads(cache.get(PODS, "yellow", "x0")["metadata"]["annotations"][ovnk.POD_NETWORKS])[
        "yellow/colored-enterprise"]["ip_addresses"][0].split("/")[0]
    assert yellow_ip + "/32" in rule["cidrs"] and other_ip + "/32" not in rule["cidrs"]
    assert rule["ports"] == [("tcp", 8080)]
    nft = plan.policy_nft(rules, "ovn-udn1")
    assert 'oifname != "ovn-udn1" accept' in nft and "tcp dport 8080 accept" in nft and nft.count("drop") == 1
    # neighbour discovery passes before the deny, as OVN-K's "(arp || nd)" allow ACL lets it
    assert nft.index("icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept") < nft.index("drop")
    # yellow is not selected by any policy
    assert plan.policy_nft(plan.policy_rules(cache.get(PODS, "yellow", "y0"), [SEED_POLICY], pods,
                                             cache.list(NAMESPACES), cache.list(NADS)), "ovn-udn1") is None


def test_agnhost_netexec_serves_its_default_port_and_probe_ports_count():
    netexec = {"spec": {"containers": [{"name": "a", "args": ["netexec"],
                                        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}}}]}}
    assert plan._ports(netexec) == [8080]
    explicit = {"spec": {"containers": [{"name": "a", "args": ["netexec", "--http-port=9090"]},
                                        {"name": "b", "readinessProbe": {"tcpSocket": {"port": "http"}}}]}}
    assert plan._ports(explicit) == [9090]
    assert plan._ports({"spec": {"containers": [{"name": "sleep", "args": ["pause"]}]}}) == []


def test_each_netexec_container_is_its_own_server_with_agnhosts_default_ports():
    red = {"spec": {"containers": [
        {"name": "agnhost-container-8080", "args": ["netexec", "--http-port=8080", "--udp-port=-1"]},
        {"name": "agnhost-container-9090", "args": ["netexec", "--http-port=9090", "--udp-port=-1"]},
        {"name": "sidecar", "args": ["pause"], "ports": [{"containerPort": 7070}]}]}}
    assert plan._netexecs(red) == [
        {"container": "agnhost-container-8080", "http_port": 8080, "udp_port": -1},
        {"container": "agnhost-container-9090", "http_port": 9090, "udp_port": -1}]
    blue = {"spec": {"containers": [{"name": "agnhost-container", "args": ["netexec"]}]}}
    assert plan._netexecs(blue) == [{"container": "agnhost-container", "http_port": 8080, "udp_port": 8081}]


def test_cluster_dns_answers_in_every_network_and_pods_get_resolv_conf():
    blue = pod("b0", "blue", "ovn-k-helm-worker", "10.244.1.5", labels={"app": "web"})
    dns = {"metadata": {"name": "kube-dns", "namespace": "kube-system"}, "spec": {
        "clusterIP": "10.96.0.10", "selector": {"k8s-app": "kube-dns"},
        "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]}}
    coredns = pod("coredns-0", "kube-system", "ovn-k-helm-control-plane", "10.244.0.3", labels={"k8s-app": "kube-dns"})
    cache = annotated([blue, coredns, pod("d0", "default", "ovn-k-helm-worker2", "10.244.2.5")])
    p = plan.build_plan(cache.list(PODS), [], [], cache.list(NADS), {}, NOW)
    svc = plan.service_plan([service("web", "blue", "10.96.5.5"), dns], cache.list(PODS), [], [],
                            cache.list(NADS), p["routers"], p["endpoints"])
    routers = {r["netns"] for r in p["routers"].values()}
    assert {(x["netns"], x["ip"], x["port"]) for x in svc["dns"]["listeners"]} == {(r, "10.96.0.10", 53) for r in routers}
    assert all("10.96.0.10" in svc["service_ips"][r] for r in routers)
    assert svc["dns"]["records"]["web.blue.svc.cluster.local"] == ["10.96.5.5"]
    assert svc["resolv"][plan.pod_netns("blue", "b0")].startswith("search blue.svc.cluster.local ")
    assert set(svc["resolv"]) == set(p["endpoints"])
    # the fake DNS pods have no endpoints to relay to: the data plane answers, nothing is proxied on 53
    assert not [x for x in svc["listeners"] if x["port"] == 53]
    # without the outside world no internet name resolves; with it, its names do (to its own addresses)
    assert "google.com" not in svc["dns"]["records"]
    assert p["external"]["names"] == plan.DEFAULT_EXTERNAL_NAMES
    online = plan.service_plan([dns], cache.list(PODS), [], [], cache.list(NADS), p["routers"], p["endpoints"],
                               p["external"])
    assert online["dns"]["records"]["google.com"] == sorted(plan.DEFAULT_EXTERNAL_ADDRESSES)


def test_links_carry_the_network_mtu_the_nad_names_else_the_clusters():
    """v1.3.0: a NAD without ``mtu`` is read back with the cluster's (``pkg/config/cni.go`` parseNetConfSingle);
    the default network (eth0, infrastructure-locked or not) always has the cluster's."""
    cache = annotated([pod("b0", "blue", "ovn-k-helm-worker", "10.244.1.5"),
                       pod("d0", "default", "ovn-k-helm-worker2", "10.244.2.5")])
    nads = cache.list(NADS)
    p = plan.build_plan(cache.list(PODS), [], [], nads, {}, NOW, cluster_mtu=1300)
    blue = p["endpoints"][plan.pod_netns("blue", "b0")]["links"]
    assert [(link["ifname"], link["mtu"]) for link in blue] == [("eth0", 1300), ("ovn-udn1", 1300)]
    assert [link["mtu"] for link in p["endpoints"][plan.pod_netns("default", "d0")]["links"]] == [1300]
    for nad in nads:
        if nad["metadata"]["namespace"] == "blue":
            cfg = json.loads(nad["spec"]["config"])
            cfg["mtu"] = 1200
            nad["spec"]["config"] = json.dumps(cfg)
    blue = plan.build_plan(cache.list(PODS), [], [], nads, {}, NOW)["endpoints"][plan.pod_netns("blue", "b0")]["links"]
    assert [(link["ifname"], link["mtu"]) for link in blue] == [("eth0", plan.DEFAULT_MTU), ("ovn-udn1", 1200)]


def test_vm_link_has_its_networks_mtu():
    pods, vmis, nads = dual_stack_vm([{"name": "cloudinitdisk", "cloudInitNoCloud": {"userData": "#cloud-config\n"}}])
    link = plan.build_plan(pods, vmis, [], nads, {}, NOW, cluster_mtu=1400)["endpoints"][plan.vm_netns("red", "v")]["links"][0]
    assert link["mtu"] == 1400
    cfg = json.loads(nads[0]["spec"]["config"])
    cfg["mtu"] = 1300
    nads[0]["spec"]["config"] = json.dumps(cfg)
    link = plan.build_plan(pods, vmis, [], nads, {}, NOW, cluster_mtu=1400)["endpoints"][plan.vm_netns("red", "v")]["links"][0]
    assert link["mtu"] == 1300
