"""Unit tests of the simulated guest (simulators/guest.py): cloud-init sources read as KubeVirt v1.8.4 reads
them, and what the guest configures on its NIC."""

import base64

from simulators import guest


def vmi(source, image="quay.io/kubevirt/fedora-with-test-tooling-container-disk:v1.8.4"):
    return {"metadata": {"name": "v", "namespace": "n"},
            "spec": {"volumes": [{"name": "containerdisk", "containerDisk": {"image": image}},
                                 {"name": "cloudinitdisk", "cloudInitNoCloud": source}]}}


def b64(text):
    return base64.b64encode(text.encode()).decode()


def test_secret_keys_are_read_lowercase_first_then_camel_case():
    secret = {"data": {"userData": b64("camel"), "userdata": b64("lower"), "networkData": b64("net")}}
    got = guest.cloud_init_sources(vmi({"secretRef": {"name": "s"}, "networkDataSecretRef": {"name": "s"}}),
                                   lambda ns, name: secret if (ns, name) == ("n", "s") else None)
    assert got == {"user_data": "lower", "network_data": "net"}


def test_inline_data_wins_over_base64_and_missing_secret_means_nothing():
    got = guest.cloud_init_sources(vmi({"userData": "inline", "userDataBase64": b64("b64"),
                                        "networkDataSecretRef": {"name": "gone"}}), lambda ns, name: None)
    assert got == {"user_data": "inline", "network_data": None}


def test_fallback_before_cloud_init_24_1_is_dhcpv4_only():
    fallback = guest.nic_config(None, "23.2")
    assert (fallback["dhcp4"], fallback["dhcp6"]) == (True, False)
    assert guest.nic_config(None, "24.1")["dhcp6"] is True


def test_network_data_v2_and_v1():
    v2 = "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n    dhcp6: true\n    ipv6-address-generation: eui64\n"
    assert (guest.nic_config(v2, "21.3")["dhcp4"], guest.nic_config(v2, "21.3")["dhcp6"]) == (True, True)
    other_nic = "version: 2\nethernets:\n  eth1:\n    dhcp6: true\n"
    assert guest.nic_config(other_nic, "21.3")["dhcp6"] is False
    by_glob = "network:\n  version: 2\n  ethernets:\n    id0:\n      match: {name: 'e*'}\n      dhcp6: true\n"
    assert guest.nic_config(by_glob, "21.3")["dhcp6"] is True
    v1 = "version: 1\nconfig:\n  - type: physical\n    name: eth0\n    subnets: [{type: dhcp}, {type: dhcp6}]\n"
    assert (guest.nic_config(v1, "21.3")["dhcp4"], guest.nic_config(v1, "21.3")["dhcp6"]) == (True, True)


def test_guest_keeps_only_the_families_it_runs_dhcp_for():
    addrs = ["192.168.0.4/16", "fd00:192:168::4/64"]
    assert guest.guest_addresses(addrs, {"dhcp4": True, "dhcp6": False}) == ["192.168.0.4/16"]
    assert guest.guest_addresses(addrs, {"dhcp4": True, "dhcp6": True}) == addrs


def test_disk_decides_the_guest_os():
    assert guest.disk_of(vmi({}, "quay.io/kubevirt/fedora-with-test-tooling-container-disk:v1.4.0"))[1]["os"][
        "versionId"] == "35"
    assert guest.guest_network(vmi({}))["os"]["versionId"] == "39"
