# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""The lab report (role lab_report, playbooks/report.yml) from recorded results, with migration data from real iperf3 streams.

Two network namespaces joined by a veth carry one paced iperf3 stream per family (IPv4 and IPv6, concurrently,
0.2 s intervals, as the migrate entry point runs them); a 1.5 s blackhole on both veth ends stands in for the
migration window. The reports are judged by module_utils iperf3 (what iperf3_migration runs), recorded like
migrate.yml records them, and playbooks/report.yml writes report.md, report.json, junit.xml and migration.png.
Needs root, iperf3 and iproute2 (ip, tc).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import access, iperf3
from netns_pair import NetnsPair, require_netns

pytestmark = pytest.mark.netns

ADDRS = {"ipv4": ("10.251.0.1", "10.251.0.2", 30), "ipv6": ("fd00:251::1", "fd00:251::2", 64)}
PORT = 9300
SECONDS = 8
RATE = "50M"
BLACKHOLE_AT, BLACKHOLE_FOR = 3.0, 1.5
PLAYBOOK = os.path.join("playbooks", "report.yml")
PASSWORD = "Participants-Pw-7"

require_netns()


@pytest.fixture(scope="module")
def streams(tmp_path_factory):
    """Run both families through a blackhole; return (parsed reports by family, window epochs)."""
    tmp = tmp_path_factory.mktemp("netns-report")
    families = sorted(ADDRS)
    with NetnsPair("ur", [ADDRS[fam] for fam in families]) as pair:
        pair.start_servers([PORT + offset for offset in range(len(families))])
        logs = {}
        for offset, fam in enumerate(families):
            logs[fam] = tmp / "iperf3-{0}.json".format(fam)
            pair.start_client(ADDRS[fam][0], PORT + offset, SECONDS, "0.2", RATE, family=fam, logfile=logs[fam])
        time.sleep(BLACKHOLE_AT)
        start = time.time()
        pair.blackhole(True)
        time.sleep(BLACKHOLE_FOR)
        pair.blackhole(False)
        end = time.time()
        for proc in pair.procs:
            proc.wait(timeout=SECONDS + 30)
        return dict((fam, iperf3.parse(path.read_text())) for fam, path in logs.items()), (start, end)


def stamp(epoch):
    """RFC3339 with milliseconds, as vmi_migrate returns migrationState timestamps."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + ".{0:03d}Z".format(int(epoch % 1 * 1000))


def records(streams):
    """Migration records as migrate_one.yml writes them (vmi_migrate result + iperf3_migration analysis)."""
    reports, (start, end) = streams
    migration = {"source_node": "ovn-k-helm-worker", "target_node": "ovn-k-helm-worker2", "start": stamp(start),
                 "end": stamp(end), "duration_seconds": round(end - start, 3), "ips_unchanged": True,
                 "ips_before": ["happy=192.168.0.4"], "ips_after": ["happy=192.168.0.4"]}
    out = []
    for fam, parsed in sorted(reports.items()):
        window = iperf3.align_window(parsed, migration["start"], migration["end"])
        analysis = iperf3.analyse(parsed, window, max_outage_seconds=5.0)
        out.append({"index": 1, "vm": "blue-namespace/blue", "client": "red-namespace/red", "family": fam,
                    "source_node": migration["source_node"], "target_node": migration["target_node"],
                    "ips_unchanged": True, "migration": migration, "analysis": analysis})
    return out


# what the pod workshop records in pods.json: its networks (as given) and its claims
BLUE_NETWORK = {"name": "blue-network", "kind": "UserDefinedNetwork", "namespace": "blue", "topology": "Layer3",
                "role": "Primary", "subnets": {"ipv4": {"cidr": "103.103.0.0/16", "host_subnet": 24},
                                               "ipv6": {"cidr": "fd00:103:103::/48", "host_subnet": 64}}}
POD_RESULTS = {"networks": [BLUE_NETWORK], "results": [
    {"id": "blue-blue", "claim": "pods of one UDN reach each other", "phase": "udn", "from": "blue/app-blue-0",
     "to": "blue/app-blue-1", "family": "ipv4", "expected": ".", "observed": ".", "status": "correct",
     "detail": "HTTP 200", "attempts": 1, "reproduce": "kubectl exec -n blue app-blue-0 -- curl ..."},
    {"id": "blue-green", "claim": "UDNs are isolated", "phase": "udn", "from": "blue/app-blue-0",
     "to": "green/app-green-0", "family": "ipv4", "expected": "X", "observed": "X", "status": "correct",
     "detail": "TIMEOUT", "attempts": 1, "reproduce": "kubectl exec -n blue app-blue-0 -- curl ..."},
]}


def vm_data():
    route = json.dumps([{"dst": "default", "gateway": "192.168.0.1", "dev": "eth0"}])
    # the IPv6 default route a guest learns from the UDN router's advertisements: the link-local address of the
    # router port's MAC, IPAddrToHWAddr(192.168.0.1) = 0a:58:c0:a8:00:01 (OVN-K v1.3.0)
    route6 = json.dumps([{"dst": "default", "gateway": "fe80::858:c0ff:fea8:1", "dev": "eth0"}])
    observations = []
    for vm, peer in (("red-namespace/red", "blue-namespace/blue"), ("blue-namespace/blue", "red-namespace/red")):
        for fam, out in (("ipv4", route), ("ipv6", route6)):
            base = {"vm": vm, "network": "happy-tenant", "family": fam, "stderr": ""}
            observations.append(dict(base, check="default-route", target="gateway", rc=0, stdout=out))
            observations.append(dict(base, check="east-west", target=peer, rc=0, stdout=""))
            observations.append(dict(base, check="egress", target="8.8.8.8", skipped=True,
                                     reason="vm_workshop_check_egress is false"))
    vms = {"red-namespace/red": {"name": "red", "namespace": "red-namespace", "ips": ["192.168.0.3", "fd00:192:168::3"]},
           "blue-namespace/blue": {"name": "blue", "namespace": "blue-namespace", "ips": ["192.168.0.4", "fd00:192:168::4"]}}
    networks = [{"name": "happy-tenant", "namespaces": ["red-namespace", "blue-namespace"], "role": "Primary",
                 "cidrs": ["192.168.0.0/16", "fd00:192:168::/64"], "ipam_lifecycle": "Persistent"}]
    bastion = {"namespace": "red-namespace", "name": "udn-lab-bastion"}
    for key, vm in vms.items():  # what vms_access.yml records: the commands that reach each VM
        vm.update(ipv4=vm["ips"][0], ipv6=vm["ips"][1])
    accesses = dict((key, access.vm_access(vm, bastion, key="/lab/ssh/id_ed25519")) for key, vm in vms.items())
    return observations, vms, networks, accesses


def run_report(repo_root, tmp_path, **extra):
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"), HOME=str(tmp_path / "home"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_NOCOLOR="1")
    for name in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
        env.pop(name, None)
    (tmp_path / "home").mkdir(exist_ok=True)
    variables = dict(ansible_python_interpreter=sys.executable, ansible_connection="local",
                     udn_lab_dir=str(tmp_path / "lab"), udn_lab_kubeconfig=str(tmp_path / "no-cluster"),
                     udn_lab_ip_family="dual", lab_report_console_password=PASSWORD)
    variables.update(extra)
    cmd = ["ansible-playbook", "-i", "localhost,", PLAYBOOK, "-e", json.dumps(variables), "-v"]
    return subprocess.run(cmd, cwd=str(repo_root), env=env, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def written(repo_root, streams, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("lab-report")
    data = tmp_path / "lab" / "report" / "data"
    data.mkdir(parents=True)
    observations, vms, networks, accesses = vm_data()
    (data / "pods.json").write_text(json.dumps(POD_RESULTS))
    (data / "vms.json").write_text(json.dumps({"ip_family": "dual", "vms": vms, "networks": networks, "user": "fedora",
                                               "access": accesses}))
    (data / "vm-checks.json").write_text(json.dumps({"ip_family": "dual", "observations": observations}))
    (data / "migrations.json").write_text(json.dumps({"ip_family": "dual", "records": records(streams)}))
    first = run_report(repo_root, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    second = run_report(repo_root, tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    return tmp_path / "lab" / "report", first, second


def test_streams_survived_the_blackhole_with_a_measured_outage(streams):
    reports, (start, end) = streams
    for fam in ("ipv4", "ipv6"):
        analysis = iperf3.analyse(reports[fam], iperf3.align_window(reports[fam], start, end), max_outage_seconds=5.0)
        assert analysis["survived"], (fam, analysis["message"])
        assert BLACKHOLE_FOR - 0.5 <= analysis["longest_outage"]["seconds"] <= BLACKHOLE_FOR + 3.5, analysis["message"]


def test_report_markdown_sections(written):
    report_dir, dummy, dummy2 = written
    text = (report_dir / "report.md").read_text()
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["Versions", "Cluster", "Networks", "Pod connectivity", "VM checks", "Live migration",
                        "Access for participants", "Summary"]
    assert "**Result: PASS**" in text
    assert "| kubevirt | v1.8.4 |" in text
    assert "| happy-tenant | ClusterUserDefinedNetwork | Layer2 | Primary | 192.168.0.0/16, fd00:192:168::/64 |" in text
    # the pod workshop's networks come from pods.json
    assert "| blue-network | UserDefinedNetwork | Layer3 | Primary | 103.103.0.0/16, fd00:103:103::/48 |" in text
    assert "connectivity: 2 probes, 2 correct, 0 wrong, 0 unknown" in text
    assert text.count("observed (. reachable, X blocked, ? no answer, - not applicable)") == 3  # pods + one per VM family
    assert "| 1 | blue-namespace/blue | ipv4 | ovn-k-helm-worker → ovn-k-helm-worker2 |" in text
    assert "| 1 | blue-namespace/blue | ipv6 | ovn-k-helm-worker → ovn-k-helm-worker2 |" in text
    assert "Console password for `fedora`: `{0}`".format(PASSWORD) in text
    # each VM's console (the seed's way) and SSH through the bastion; never virtctl port-forward
    assert "virtctl console -n red-namespace red" in text and "virtctl console -n blue-namespace blue" in text
    assert "ProxyCommand=kubectl exec -i -n red-namespace deploy/udn-lab-bastion -- nc %h %p'" in text
    assert "IdentitiesOnly=yes fedora@192.168.0.4\n" in text
    assert "port-forward --stdio" not in text
    assert stat.S_IMODE((report_dir / "report.md").stat().st_mode) == 0o600


def test_report_json_has_the_measured_migrations(written):
    report_dir, dummy, dummy2 = written
    data = json.loads((report_dir / "report.json").read_text())
    rows = data["migrations"]["rows"]
    assert sorted(r["family"] for r in rows) == ["ipv4", "ipv6"]
    for row in rows:
        assert row["survived"] is True and row["ok"] is True and row["ips_unchanged"] is True
        assert row["outage_seconds"] >= BLACKHOLE_FOR - 0.5
        assert isinstance(row["retransmits"], int)
    assert data["summary"]["ok"] is True and data["summary"]["vm_checks_skipped"] == 4
    assert PASSWORD not in (report_dir / "report.json").read_text()


def test_junit_is_well_formed(written):
    report_dir, dummy, dummy2 = written
    root = ET.parse(str(report_dir / "junit.xml")).getroot()
    suites = dict((s.get("name"), s) for s in root.findall("testsuite"))
    assert sorted(suites) == ["live-migration", "pod-connectivity", "vm-checks"]
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == (str(2 + 12 + 2), "0", "4")
    assert len(suites["live-migration"].findall("testcase")) == 2


def test_png_has_the_expected_size(written):
    report_dir, dummy, dummy2 = written
    data = (report_dir / "migration.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (1000, 350)


def test_second_run_changes_nothing_and_the_password_is_never_printed(written):
    dummy, first, second = written
    assert "changed=0" in second.stdout, second.stdout
    for run in (first, second):
        assert PASSWORD not in run.stdout + run.stderr
        assert "lab report: PASS" in run.stdout
