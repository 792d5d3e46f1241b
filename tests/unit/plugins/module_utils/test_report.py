# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Unit tests for plugins/module_utils/report.py: VM check verdicts, tables, migration rows, Markdown, JUnit, plot."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import pathlib
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import iperf3, ovn
from ansible_collections.ovnk.udn_lab.plugins.module_utils import report

IPERF3_FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "iperf3"
# The blackhole fixture's outage: tc blackhole added/removed at these epochs (see test_iperf3.py).
BLACKHOLE_WINDOW = (1795757300.485, 1795757302.509)

NETWORKS = [{"name": "happy-tenant", "cidrs": ["192.168.0.0/16", "fd00:192:168::/64"],
             "namespaces": ["red-namespace", "blue-namespace"]}]
RED, BLUE = "red-namespace/red", "blue-namespace/blue"


def route(gateway, dev="eth0"):
    return json.dumps([{"dst": "default", "gateway": gateway, "dev": dev, "protocol": "dhcp", "metric": 100}])


def obs(vm, check, family, target="", rc=0, stdout="", **extra):
    item = {"vm": vm, "network": "happy-tenant", "check": check, "family": family, "target": target, "rc": rc,
            "stdout": stdout, "stderr": ""}
    item.update(extra)
    return item


def addresses(*ips, **kw):
    """``ip -j addr show scope global`` output holding ``ips`` on eth0 (MTU ``mtu``, 1400 by default)."""
    return json.dumps([{"ifname": "eth0", "mtu": kw.get("mtu", 1400), "addr_info": [
        {"family": "inet6" if ":" in ip else "inet", "local": ip, "prefixlen": 64 if ":" in ip else 16,
         "scope": "global"} for ip in ips]}])


def good_observations():
    out = []
    for vm, peer in ((RED, BLUE), (BLUE, RED)):
        out.append(obs(vm, "default-route", "ipv4", "gateway", stdout=route("192.168.0.1")))
        out.append(obs(vm, "default-route", "ipv6", "gateway", stdout=route("fe80::858:c0ff:fea8:1")))
        out.append(obs(vm, "egress", "ipv4", "8.8.8.8"))
        out.append(obs(vm, "egress", "ipv6", "2001:4860:4860::8888", skipped=True, reason="offline lab"))
        for fam in ("ipv4", "ipv6"):
            out.append(obs(vm, "east-west", fam, peer))
    return out


def migration_record(index=1, family="ipv4", window=BLACKHOLE_WINDOW, fixture="blackhole_2s.json", max_outage=3.0,
                     **extra):
    parsed = iperf3.parse((IPERF3_FIXTURES / fixture).read_text())
    analysis = iperf3.analyse(parsed, iperf3.align_window(parsed, *window), max_outage_seconds=max_outage)
    record = {"index": index, "vm": BLUE, "family": family,
              "migration": {"ok": True, "source_node": "worker", "target_node": "worker2", "duration_seconds": 2.02,
                            "ips_unchanged": True, "errors": []},
              "source_node": "worker", "target_node": "worker2", "ips_unchanged": True, "analysis": analysis}
    record.update(extra)
    return record


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize("cidr,gateway", [("192.168.0.0/16", "192.168.0.1"), ("10.1.2.0/24", "10.1.2.1"),
                                          ("fd00:192:168::/64", "fd00:192:168::1")])
def test_network_gateway_is_the_first_address(cidr, gateway):
    assert ovn.network_gateway(cidr) == gateway


def test_gateways_by_family_are_what_ovn_k_gives_a_layer2_guest():
    """IPv4: the subnet's first address (DHCPv4 router); IPv6: the link-local address of the router port, whose MAC
    is IPAddrToHWAddr of the network's first gateway (OVN-K e2e GenerateGatewayIPv6RouterLLA)."""
    expected = {"ipv4": "192.168.0.1", "ipv6": "fe80::858:c0ff:fea8:1"}
    assert report.gateways_by_family(["192.168.0.0/16", "fd00::/64"]) == expected
    # IPv6 only: the MAC comes from the SHA-256 of the IPv6 gateway's text
    assert report.gateways_by_family(["fd00:192:168::/64"]) == {"ipv6": "fe80::858:4bff:feeb:a0e3"}


def test_network_cidrs_of_every_shape_filtered_by_family():
    layer3 = {"name": "blue-network", "namespace": "blue", "subnets": {
        "ipv4": {"cidr": "103.103.0.0/16", "host_subnet": 24}, "ipv6": {"cidr": "fd00:103:103::/48", "host_subnet": 64}}}
    assert report.network_cidrs(layer3) == ["103.103.0.0/16", "fd00:103:103::/48"]
    assert report.network_cidrs(layer3, ["ipv6"]) == ["fd00:103:103::/48"]
    assert report.network_cidrs({"subnets": ["10.0.0.0/8"]}, ["ipv4"]) == ["10.0.0.0/8"]
    built = report.build_report(networks=[layer3], ip_family="ipv4")
    assert built["networks"][0]["cidrs"] == ["103.103.0.0/16"] and built["networks"][0]["namespaces"] == ["blue"]


def test_families_for_rejects_unknown_family():
    assert report.families_for("dual") == ["ipv4", "ipv6"]
    with pytest.raises(report.ReportError, match="unknown address family 'ipv5'"):
        report.families_for("ipv5")


# --------------------------------------------------------------------------- VM checks


def test_vm_checks_all_good_with_a_skipped_egress():
    gateways = {"happy-tenant": report.gateways_by_family(NETWORKS[0]["cidrs"])}
    results, skipped = report.evaluate_vm_checks(good_observations(), gateways)
    assert len(results) == 10 and len(skipped) == 2
    assert all(r["ok"] and r["status"] == "correct" and r["observed"] == "." for r in results)
    assert skipped[0]["reason"] == "offline lab"
    labels = set(r["to"] for r in results)
    assert "gateway 192.168.0.1 (ipv4)" in labels and "blue-namespace/blue (ipv6)" in labels


def test_default_route_via_another_gateway_fails():
    gateways = {"ipv4": "192.168.0.1"}
    results, dummy = report.evaluate_vm_checks([obs(RED, "default-route", "ipv4", stdout=route("10.244.0.1"))], gateways)
    assert results[0]["ok"] is False and results[0]["observed"] == "X"
    assert "expected via 192.168.0.1" in results[0]["detail"]


def test_default_route_missing_or_garbage_fails():
    results, dummy = report.evaluate_vm_checks([
        obs(RED, "default-route", "ipv4", stdout="[]"),
        obs(RED, "default-route", "ipv6", stdout="not json"),
    ], {"ipv4": "192.168.0.1", "ipv6": "fd00::1"})
    assert [r["ok"] for r in results] == [False, False]
    assert results[0]["detail"] == "no default route"
    assert "unparsable" in results[1]["detail"]


def test_ipv6_default_route_must_be_the_udn_routers_link_local_address():
    gateways = report.gateways_by_family(NETWORKS[0]["cidrs"])
    results, dummy = report.evaluate_vm_checks([
        obs(RED, "default-route", "ipv6", stdout=route("fe80::858:c0ff:fea8:1")),
        obs(RED, "default-route", "ipv6", stdout=route("fe80::1")),  # another router's advertisements
    ], gateways)
    assert [r["ok"] for r in results] == [True, False]
    assert "router advertisement" in results[0]["detail"]
    assert "expected via fe80::858:c0ff:fea8:1" in results[1]["detail"]


def test_address_check_needs_the_vmi_address_inside_the_guest():
    """KubeVirt reports the pod interface's IPv6 whatever the guest did: only the guest tells whether DHCPv6 ran."""
    results, dummy = report.evaluate_vm_checks([
        obs(RED, "address", "ipv4", "192.168.0.3", stdout=addresses("192.168.0.3")),
        obs(RED, "address", "ipv6", "fd00:192:168::3", stdout=addresses("192.168.0.3")),
        obs(RED, "address", "ipv6", "fd00:192:168::3", stdout=addresses("192.168.0.3", "fd00:192:168:0::3")),
        obs(RED, "address", "ipv4", "", stdout=addresses("192.168.0.3")),
        obs(RED, "address", "ipv4", "192.168.0.3", stdout="garbage"),
    ])
    assert [r["ok"] for r in results] == [True, False, True, False, False]
    assert "no DHCPv6 in the guest" in results[1]["detail"] and "holds 192.168.0.3" in results[1]["detail"]
    assert results[0]["to"] == "address 192.168.0.3 (ipv4)" and results[0]["protocol"] == "address"
    assert "reports no ipv4 address" in results[3]["detail"] and "unparsable" in results[4]["detail"]


def test_mtu_check_reads_the_interface_holding_the_vmi_address():
    """The workshop's guest `ip a` shows eth0 ... mtu 1400: the network's MTU (OVN's DHCPv4 option, the RA,
    KubeVirt's tap and domain MTU)."""
    results, dummy = report.evaluate_vm_checks([
        obs(RED, "mtu", "ipv4", "192.168.0.3", stdout=addresses("192.168.0.3"), expected_mtu=1400),
        obs(RED, "mtu", "ipv4", "192.168.0.3", stdout=addresses("192.168.0.3", mtu=1500), expected_mtu=1400),
        obs(RED, "mtu", "ipv4", "192.168.0.3", stdout=addresses("192.168.0.3"), expected_mtu=None),
        obs(RED, "mtu", "ipv4", "192.168.0.3", stdout=addresses("10.0.0.9"), expected_mtu=1400),
        obs(RED, "mtu", "ipv6", "", stdout=addresses("192.168.0.3"), expected_mtu=1400),
        obs(RED, "mtu", "ipv4", "192.168.0.3", stdout="garbage", expected_mtu=1400),
    ])
    assert [r["ok"] for r in results] == [True, False, False, False, False, False]
    assert results[0]["detail"] == "eth0 mtu 1400"
    assert results[0]["to"] == "mtu 1400" and results[0]["protocol"] == "link"
    assert results[1]["detail"] == "eth0 has MTU 1500, not its network's 1400"
    assert "the network's MTU is unknown" in results[2]["detail"]
    assert results[3]["detail"] == "no interface of the guest holds its VMI address 192.168.0.3"
    assert "reports no ipv6 address" in results[4]["detail"] and "unparsable" in results[5]["detail"]


def test_console_check_needs_a_login_and_the_vmi_address_inside():
    results, dummy = report.evaluate_vm_checks([
        obs(RED, "console", "ipv4", "192.168.0.3", stdout=addresses("192.168.0.3"), user="fedora"),
        obs(RED, "console", "ipv4", "192.168.0.3", rc=-1, stdout="",
            stderr="the console refused the login of fedora (Login incorrect): check the console password"),
        obs(RED, "console", "ipv4", "192.168.0.3", stdout=addresses("10.0.0.9"), user="fedora"),
    ])
    assert [r["ok"] for r in results] == [True, False, False]
    assert results[0]["detail"] == "logged in as fedora over virtctl console; the guest holds 192.168.0.3"
    assert results[0]["to"] == "virtctl console (ipv4)" and results[0]["protocol"] == "console"
    assert results[1]["detail"].startswith("virtctl console: the console refused the login of fedora")
    assert "not its VMI address 192.168.0.3" in results[2]["detail"]


def test_failed_ping_carries_rc_and_stderr():
    results, dummy = report.evaluate_vm_checks([obs(RED, "east-west", "ipv4", BLUE, rc=1, stderr="100% packet loss")])
    assert results[0]["ok"] is False and "rc=1" in results[0]["detail"] and "100% packet loss" in results[0]["detail"]


@pytest.mark.parametrize("bad,message", [({"check": "traceroute"}, "unknown VM check"),
                                         ({"family": "ipv5"}, "unknown address family")])
def test_bad_observation_is_refused(bad, message):
    item = obs(RED, "egress", "ipv4", "8.8.8.8")
    item.update(bad)
    with pytest.raises(report.ReportError, match=message):
        report.evaluate_vm_checks([item])


def test_vm_truth_tables_use_the_pod_workshop_marks():
    results, dummy = report.evaluate_vm_checks(good_observations()[:6] + [
        obs(BLUE, "east-west", "ipv4", RED, rc=1)], {"happy-tenant": {"ipv4": "192.168.0.1"}})
    tables = report.truth_tables_by_family(results)
    assert sorted(tables) == ["ipv4", "ipv6"]
    observed = tables["ipv4"]["observed"].splitlines()
    assert observed[0].startswith("observed (. reachable, X blocked")
    blue_row = [line for line in observed if line.startswith(BLUE)][0]
    assert "X" in blue_row
    red_row = [line for line in observed if line.startswith(RED)][0]
    assert "X" not in red_row and "." in red_row


# --------------------------------------------------------------------------- migrations


def test_migration_row_from_a_real_blackhole_report():
    row = report.migration_row(migration_record())
    assert row["survived"] is True
    assert 1.5 <= row["outage_seconds"] <= 3.5
    assert row["retransmits"] > 0
    assert row["source_node"] == "worker" and row["target_node"] == "worker2"
    assert row["ips_unchanged"] is True
    assert row["migration_seconds"] == 2.02


def test_migration_row_flags_a_dead_stream_and_changed_ips():
    row = report.migration_row(migration_record(fixture="server_killed.json", ips_unchanged=False,
                                                window=(1795757000, 1795757001)))
    assert row["ok"] is False
    assert any("did not survive" in p for p in row["problems"])
    assert any("IPs changed" in p for p in row["problems"])


def test_migration_row_fails_an_outage_over_the_threshold_although_the_stream_survived():
    row = report.migration_row(migration_record(max_outage=1.0))
    assert row["survived"] is True and row["ok"] is False
    assert any("exceeds the maximum 1.0 s" in p for p in row["problems"])


def test_migration_stats_give_a_distribution():
    rows = [report.migration_row(migration_record(index=i)) for i in (1, 2, 3)]
    rows[1]["outage_seconds"] = 0.5
    rows[2]["outage_seconds"] = 4.0
    stats = report.migration_stats(rows)["ipv4"]
    assert stats["count"] == 3 and stats["survived"] == 3
    assert stats["outage_min"] == 0.5 and stats["outage_max"] == 4.0
    assert stats["outage_median"] == rows[0]["outage_seconds"]


# --------------------------------------------------------------------------- the report


POD_RESULTS = {"results": [
    {"id": "p1", "claim": "blue reaches blue", "phase": "udn", "from": "blue/app-blue-0", "to": "blue/app-blue-1",
     "expected": ".", "observed": ".", "status": "correct", "detail": "200", "attempts": 1, "reproduce": "kubectl exec"},
    {"id": "p2", "claim": "blue does not reach green", "phase": "udn", "from": "blue/app-blue-0", "to": "green/app-green-0",
     "expected": "X", "observed": ".", "status": "wrong", "detail": "200", "attempts": 3, "reproduce": "kubectl exec"},
]}


def full_report(**changes):
    args = dict(versions={"kubevirt": "v1.8.4", "ovn_kubernetes_chart": "v1.3.0"},
                cluster={"name": "ovn-k-helm", "nodes": ["cp", "worker", "worker2"]}, networks=NETWORKS,
                pod_results=POD_RESULTS, vm_observations=good_observations(),
                migrations=[migration_record(1, "ipv4"), migration_record(1, "ipv6"), migration_record(2, "ipv4")],
                access={"user": "fedora", "vms": [{
                    "name": "red", "namespace": "red-namespace", "ips": ["192.168.0.3"], "node": "worker",
                    "console_command": "virtctl console -n red-namespace red",
                    "ssh_command": "ssh -o 'ProxyCommand=kubectl exec -i -n red-namespace deploy/udn-lab-bastion -- "
                                   "nc %h %p' fedora@192.168.0.3"}]},
                ip_family="dual")
    args.update(changes)
    return report.build_report(**args)


def test_report_summary_counts_failures():
    built = full_report()
    summary = built["summary"]
    assert (summary["pod_checks"], summary["vm_checks"], summary["vm_checks_skipped"], summary["migrations"]) == (2, 10, 2, 3)
    assert summary["migrations_survived"] == 3
    assert summary["ok"] is False
    assert summary["failures"] == ["pod blue/app-blue-0 -> green/app-green-0: wrong"]
    assert summary["failures_by_part"] == {"pods": summary["failures"], "vm_checks": [], "migrations": []}
    assert built["networks"][0]["gateways"] == {"ipv4": "192.168.0.1", "ipv6": "fe80::858:c0ff:fea8:1"}


def test_markdown_has_every_section_and_the_password_only_when_given():
    built = full_report()
    text = report.render_markdown(built, "migration.png", console_password="s3cret-Pw")
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert headings == list(report.REPORT_SECTIONS) + ["Summary"]
    assert "**Result: FAIL**" in text
    assert "![throughput during the migrations](migration.png)" in text
    assert "Console password for `fedora`: `s3cret-Pw`" in text
    assert "| 1 | blue-namespace/blue | ipv6 | worker → worker2 |" in text
    assert "s3cret-Pw" not in report.render_markdown(built)
    assert "s3cret-Pw" not in report.render_json(built)


def test_markdown_access_gives_each_vm_its_console_and_ssh_commands():
    text = report.render_markdown(full_report())
    section = text.split("## Access for participants", 1)[1].split("## Summary", 1)[0]
    assert "### red (namespace red-namespace)" in section
    assert "```\nvirtctl console -n red-namespace red\n```" in section
    assert "deploy/udn-lab-bastion -- nc %h %p' fedora@192.168.0.3" in section
    assert "kubevirt/kubevirt#18399" in section  # why not virtctl port-forward
    assert "| red | red-namespace | 192.168.0.3 | worker |" in section


def test_a_workshop_left_out_is_reported_as_asked_not_as_missing():
    built = report.build_report(not_asked={"vms": 'udn_lab_workshops is ["pods"]'})
    assert built["not_asked"] == {"vms": 'udn_lab_workshops is ["pods"]'} and built["summary"]["ok"] is True
    text = report.render_markdown(built)
    assert 'The VM workshop was not run, as asked: udn_lab_workshops is ["pods"].' in text
    assert "No live migration was run: the VM workshop was left out, as asked." in text
    assert "The VM checks were not run." not in text
    assert "The pod workshop checks were not run." in text  # not left out: simply not run yet


def test_markdown_says_what_was_not_run():
    text = report.render_markdown(report.build_report())
    assert "The pod workshop checks were not run." in text
    assert "The VM checks were not run." in text
    assert "No live migration was run." in text
    assert "**Result: PASS**" in text


def test_junit_is_well_formed_with_three_suites():
    root = ET.fromstring(report.render_junit(full_report()))
    suites = dict((s.get("name"), s) for s in root.findall("testsuite"))
    assert sorted(suites) == ["live-migration", "pod-connectivity", "vm-checks"]
    assert suites["pod-connectivity"].get("failures") == "1"
    assert suites["vm-checks"].get("tests") == "12" and suites["vm-checks"].get("skipped") == "2"
    assert len(suites["live-migration"].findall("testcase")) == 3
    assert root.get("tests") == str(2 + 12 + 3) and root.get("failures") == "1"
    assert len(root.findall(".//skipped")) == 2


def test_junit_marks_a_failed_migration():
    built = full_report(migrations=[migration_record(fixture="server_killed.json", window=(1795757000, 1795757001))])
    suite = [s for s in ET.fromstring(report.render_junit(built)).findall("testsuite") if s.get("name") == "live-migration"][0]
    assert suite.get("failures") == "1"
    assert suite.find("testcase/failure") is not None


def test_summary_lines():
    lines = report.summary_lines(full_report(), {"markdown": "/x/report.md"})
    assert lines[0] == "lab report: FAIL (1 failures)"
    assert any(line.startswith("migrations ipv4: 2/2 streams survived") for line in lines)
    assert lines[-1] == "report: /x/report.md"


# --------------------------------------------------------------------------- plot


def test_migration_figure_has_one_panel_per_migration_with_window_and_outage():
    pytest.importorskip("matplotlib")
    from matplotlib import pyplot

    fig = report.migration_figure([migration_record(1, "ipv4"), migration_record(1, "ipv6"), migration_record(2, "ipv4")])
    try:
        axes = fig.get_axes()
        assert len(axes) == 2
        first = axes[0]
        assert first.get_xlabel() == "seconds since migration start" and first.get_ylabel() == "Gbit/s"
        assert sorted(line.get_label() for line in first.get_lines()) == ["ipv4", "ipv6"]
        assert "migration window" in [t.get_text() for t in first.get_legend().get_texts()]
        assert any("outage" in t.get_text() for t in first.texts)
        assert first.get_title().startswith("migration #1 blue-namespace/blue worker -> worker2")
        # Time 0 is the migration start: the series starts before it and ends after it.
        xs = first.get_lines()[0].get_xdata()
        assert min(xs) < 0 < max(xs)
    finally:
        pyplot.close(fig)


def test_plot_migrations_writes_a_png_of_the_expected_size(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "migration.png"
    size = report.plot_migrations([migration_record(1), migration_record(2)], str(path))
    assert size == (1000, 700)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == size


def test_write_if_changed(tmp_path):
    path = str(tmp_path / "f.txt")
    assert report.write_if_changed(path, "a") is True
    assert report.write_if_changed(path, "a") is False
    assert report.write_if_changed(path, "b") is True


def test_markdown_links_the_workshop_coverage_says_where_blocked_packets_go_and_lists_carried_claims():
    carried = dict(POD_RESULTS["results"][0], id="p0", carried=True, proven_at="2026-12-01T10:00:00Z")
    text = report.render_markdown(full_report(pod_results={"results": [carried] + POD_RESULTS["results"]}))
    section = text.split("## Pod connectivity", 1)[1].split("## VM checks", 1)[0]
    assert "[workshop coverage](%s)" % report.COVERAGE_URL in section
    assert report.COVERAGE_URL.endswith("docs/WORKSHOP_COVERAGE.md")
    assert "its packet left the node" in section
    assert "; 1 carried from an earlier run, not re-proven by this one" in section
    # a correct claim proven by this run is not listed; a carried one is, with the run that proved it
    assert "[ok] p0:" in section and "[carried: proven by the run of 2026-12-01T10:00:00Z, not re-proven]" in section
    assert "[ok] p1:" not in section and "[WRONG] p2:" in section


def test_markdown_names_the_policies_read_before_the_probes():
    foreign = {"policies": [{"kind": "NetworkPolicy", "namespace": "blue", "name": "deny-all"}], "not_served": [],
               "line": "policies the lab did not make that can change a verdict: NetworkPolicy blue/deny-all"}
    built = full_report(pod_results=dict(POD_RESULTS, foreign_policies=foreign))
    assert built["pods"]["foreign_policies"] == foreign
    text = report.render_markdown(built)
    assert ("Read before the probes: policies the lab did not make that can change a verdict: "
            "NetworkPolicy blue/deny-all.") in text
    # results recorded before the lab read policies (a list, or no key) say nothing about them
    assert "Read before the probes" not in report.render_markdown(full_report(pod_results=POD_RESULTS["results"]))
