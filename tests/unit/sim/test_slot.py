"""Slots: what each simulated lab on one machine owns alone (tests/sim/slot.py), and how the launcher and the
data plane agent use them."""

import ipaddress
import json
import os

import pytest

import launcher
import slot
from dataplane import agent


def test_the_slot_comes_from_the_environment_and_bad_values_are_refused_naming_the_variable():
    assert slot.current({}) == 0 and slot.current({"UDN_LAB_SIM_SLOT": ""}) == 0
    assert slot.current({"UDN_LAB_SIM_SLOT": " 7 "}) == 7
    for bad in ("-1", "x", "100", "1.5"):
        with pytest.raises(slot.SlotError, match="UDN_LAB_SIM_SLOT must be an integer from 0 to 99"):
            slot.current({"UDN_LAB_SIM_SLOT": bad})


def test_slot_zero_is_the_single_lab_of_earlier_releases():
    assert [slot.node_ipv4(0, i) for i in range(3)] == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert [slot.node_ipv6(0, i) for i in range(3)] == ["::1", "fc00:f853:ccd:e793::2", "fc00:f853:ccd:e793::3"]
    assert slot.advertise_ipv6(0) == "fc00:f853:ccd:e793::1"
    assert (slot.netns_prefix(0), slot.dataplane_state_dir(0), slot.home_suffix(0)) == ("udnsim-", "/run/udnsim", "")


def test_slots_share_no_address_prefix_state_dir_or_home():
    owned = {}
    for lab in range(0, 100):
        things = [slot.node_ipv4(lab, i) for i in range(4)] + [slot.node_ipv6(lab, i) for i in range(4)] + [
            slot.netns_prefix(lab), slot.dataplane_state_dir(lab), "home:" + slot.home_suffix(lab)]
        for thing in things:
            assert thing not in owned, (thing, owned.get(thing), lab)
            owned[thing] = lab
        for address in things[:8]:
            ip = ipaddress.ip_address(address)
            assert ip.is_loopback or ip in ipaddress.ip_network("fc00::/7"), address
        # one prefix never starts another's namespaces (udnsim1- and udnsim10-, udnsim- and udnsim1-)
        assert slot.PREFIX_PATTERN.match(slot.netns_prefix(lab) + "pod-0123456789")
    prefixes = [slot.netns_prefix(lab) for lab in range(100)]
    assert not [(a, b) for a in prefixes for b in prefixes if a != b and b.startswith(a)]


def test_the_prefix_variable_still_wins_over_the_slot():
    assert slot.current_netns_prefix({"UDN_LAB_SIM_SLOT": "3"}) == "udnsim3-"
    assert slot.current_netns_prefix({"UDN_LAB_SIM_SLOT": "3", "UDNSIM_PREFIX": "udnsimtest-"}) == "udnsimtest-"


def test_the_launcher_gives_each_slot_its_own_nodes_link_home_and_certificate_names(monkeypatch, tmp_path):
    nodes0 = launcher.node_plan("lab", 2, "dual", ["10.244.0.0/16", "fd00:10:244::/48"], lab_slot=0)
    nodes2 = launcher.node_plan("lab", 2, "dual", ["10.244.0.0/16", "fd00:10:244::/48"], lab_slot=2)
    assert [(n["ipv4"], n["ipv6"]) for n in nodes2] == [
        ("127.0.2.1", "fc00:f853:ccd:e793:2::1"), ("127.0.2.2", "fc00:f853:ccd:e793:2::2"),
        ("127.0.2.3", "fc00:f853:ccd:e793:2::3")]
    # the same cluster and pod subnets in both slots: only the node addresses differ
    assert [n["pod_cidrs"] for n in nodes0] == [n["pod_cidrs"] for n in nodes2]
    # slot 0 keeps ::1 off the link (it is already this machine's); another slot puts all of its nodes there
    assert launcher.host_node_addresses(nodes0) == ["fc00:f853:ccd:e793::2", "fc00:f853:ccd:e793::3"]
    assert launcher.host_node_addresses(nodes2) == [n["ipv6"] for n in nodes2]
    assert launcher.node_link_name("lab", 0) != launcher.node_link_name("lab", 2)
    assert len(launcher.node_link_name("lab", 2)) <= 15
    doc = json.loads(launcher.kwokctl_config("lab", 6443, ["fd00:10:96::/112"], "v1.35.0", stages=False,
                                             lab_slot=2))
    assert {"127.0.2.1", "fc00:f853:ccd:e793:2::1"} <= set(doc["options"]["kubeApiserverCertSANs"])
    args = doc["componentsPatches"][0]["extraArgs"]
    assert {"key": "advertise-address", "value": "fc00:f853:ccd:e793:2::1"} in args
    monkeypatch.delenv("UDN_LAB_SIM_HOME", raising=False)
    monkeypatch.setenv("UDN_LAB_SIM_CACHE", str(tmp_path))
    monkeypatch.setenv("UDN_LAB_SIM_SLOT", "0")
    assert launcher.home() == tmp_path / "clusters"
    monkeypatch.setenv("UDN_LAB_SIM_SLOT", "4")
    assert launcher.home() == tmp_path / "clusters" / "slot4"
    monkeypatch.setenv("UDN_LAB_SIM_HOME", str(tmp_path / "mine"))
    assert launcher.home() == tmp_path / "mine"


def test_the_shared_agnhost_link_stays_while_another_agent_uses_it(tmp_path):
    link, users = str(tmp_path / "agnhost"), str(tmp_path / "users")
    os.symlink("/nowhere/agnhost", link)
    os.makedirs(users)
    for pid in (101, 102, 103):
        open(os.path.join(users, str(pid)), "w").close()
    alive = {101, 102}.__contains__  # 103 died without unregistering
    assert agent.remaining_users(os.listdir(users), 101, alive) == [102]
    assert agent.release_link(link, users, 101, alive) is False
    assert os.path.islink(link) and sorted(os.listdir(users)) == ["102", "103"]
    assert agent.release_link(link, users, 102, alive) is True
    assert not os.path.lexists(link) and not os.path.exists(users)
    assert agent.link_users_dir("/agnhost") == "/run/udnsim-link-users-agnhost"
