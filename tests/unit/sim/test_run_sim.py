"""The simulator runner's config handling."""

import run_sim


def test_shortcuts_land_in_their_sections():
    cfg = run_sim.normalise_config({"migration_fail": True, "leak": [["blue", "green"]],
                                    "kubevirt": {"boot_delay": 1}, "resync_seconds": 3})
    assert cfg["kubevirt"] == {"boot_delay": 1, "migration_fail": True, "resync_seconds": 3}
    assert cfg["dataplane"]["leak"] == [["blue", "green"]]
    assert cfg["ovnk"] == {"resync_seconds": 3}


def test_config_file_yaml_and_json(tmp_path):
    y = tmp_path / "c.yml"
    y.write_text("network_fail: [blue/blue-network]\novnk: {resync_seconds: 7}\n")
    assert run_sim.load_config(str(y))["ovnk"] == {"resync_seconds": 7, "network_fail": ["blue/blue-network"]}
    j = tmp_path / "c.json"
    j.write_text('{"dataplane": {"blackhole_seconds": 2}}')
    assert run_sim.load_config(str(j))["dataplane"] == {"blackhole_seconds": 2}
    assert run_sim.load_config(None) == {"ovnk": {}, "kubevirt": {}, "dataplane": {}}


def test_the_ports_of_one_cluster_are_distinct():
    """Ports chosen one after the other can repeat; an API server port equal to etcd's peer port once failed a
    start ("server gave HTTP response to HTTPS client")."""
    import launcher

    for dummy in range(50):
        ports = launcher.ephemeral_ports(6, taken=[6443])
        assert len(set(ports)) == 6 and 6443 not in ports
    import yaml

    for dummy in range(20):
        docs = list(yaml.safe_load_all(launcher.kwokctl_config("lab", 0, ["10.96.0.0/16"], "v1.35.0")))
        options = [d for d in docs if d and "options" in d][0]["options"]
        ports = [v for k, v in options.items() if k.endswith("Port")]
        assert len(ports) == 6 and len(set(ports)) == 6, ports


def test_kind_system_objects_hold_kubeadms_cluster_configuration():
    """kind's kubeadm uploads kube-system/kubeadm-config (key ClusterConfiguration, kubeadm.k8s.io/v1beta4) with
    networking.podSubnet and serviceSubnet, comma-separated when dual-stack (Kubernetes v1.35.0 uploadconfig.go)."""
    import yaml

    import launcher
    items = launcher.kind_system_workloads(["10.96.0.0/16", "fd00:10:96::/112"], ["10.244.0.0/16", "fd00:10:244::/48"])
    config = next(i for i in items["items"] if i["kind"] == "ConfigMap")
    assert (config["metadata"]["namespace"], config["metadata"]["name"]) == ("kube-system", "kubeadm-config")
    parsed = yaml.safe_load(config["data"]["ClusterConfiguration"])
    assert (parsed["apiVersion"], parsed["kind"]) == ("kubeadm.k8s.io/v1beta4", "ClusterConfiguration")
    assert parsed["networking"] == {"dnsDomain": "cluster.local", "podSubnet": "10.244.0.0/16,fd00:10:244::/48",
                                    "serviceSubnet": "10.96.0.0/16,fd00:10:96::/112"}
