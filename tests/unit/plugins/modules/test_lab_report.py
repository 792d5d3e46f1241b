# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""lab_report through its main(): files written once, check mode, the password only in report.md."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import pathlib
import stat
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import iperf3
from ansible_collections.ovnk.udn_lab.plugins.modules import lab_report

from fake_api import main_result

FIXTURES = pathlib.Path(__file__).parent.parent / "module_utils" / "fixtures" / "iperf3"
WINDOW = (1795757300.485, 1795757302.509)
PASSWORD = "Console-Pw-42"


def run(capsys, args, check_mode=False):
    return main_result(lab_report, args, capsys, check_mode)


def records():
    parsed = iperf3.parse((FIXTURES / "blackhole_2s.json").read_text())
    analysis = iperf3.analyse(parsed, iperf3.align_window(parsed, *WINDOW), max_outage_seconds=3.0)
    return [{"index": 1, "vm": "blue-namespace/blue", "family": "ipv4", "source_node": "worker",
             "target_node": "worker2", "ips_unchanged": True,
             "migration": {"ok": True, "duration_seconds": 2.0, "errors": []}, "analysis": analysis}]


def args(tmp_path, **changes):
    out = {
        "dest": str(tmp_path / "report"),
        "networks": [{"name": "happy-tenant", "subnets": {"ipv4": "192.168.0.0/16"}, "namespaces": ["red-namespace"]}],
        "vm_observations": [{"vm": "red-namespace/red", "network": "happy-tenant", "check": "default-route",
                             "family": "ipv4", "target": "gateway", "rc": 0,
                             "stdout": json.dumps([{"dst": "default", "gateway": "192.168.0.1", "dev": "eth0"}])}],
        "migrations": records(),
        "access": {"user": "fedora", "vms": [{"name": "red", "namespace": "red-namespace", "ips": ["192.168.0.3"]}]},
        "console_password": PASSWORD,
        "plot": False,
    }
    out.update(changes)
    return out


def test_check_mode_predicts_and_writes_nothing(capsys, tmp_path):
    out = run(capsys, args(tmp_path), check_mode=True)
    assert out["changed"] is True
    assert sorted(out["written"]) == ["html", "json", "junit", "markdown"]
    assert not (tmp_path / "report").exists()


def test_writes_once_then_changes_nothing(capsys, tmp_path):
    first = run(capsys, args(tmp_path))
    assert first["changed"] is True and first["summary"]["ok"] is True
    files = first["files"]
    assert sorted(files) == ["html", "json", "junit", "markdown"]
    md = pathlib.Path(files["markdown"])
    assert stat.S_IMODE(md.stat().st_mode) == 0o600
    assert "Console password for `fedora`: `{0}`".format(PASSWORD) in md.read_text()
    assert PASSWORD not in pathlib.Path(files["json"]).read_text()
    assert PASSWORD not in pathlib.Path(files["junit"]).read_text()
    assert PASSWORD not in pathlib.Path(files["html"]).read_text()
    ET.fromstring(pathlib.Path(files["junit"]).read_text().split("\n", 1)[1])
    again = run(capsys, args(tmp_path))
    assert again["changed"] is False and again["written"] == []
    assert run(capsys, args(tmp_path), check_mode=True)["changed"] is False
    # The module result never carries the password.
    assert PASSWORD not in json.dumps(again)


def test_plot_written_and_idempotent(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    first = run(capsys, args(tmp_path, plot=True))
    png = pathlib.Path(first["files"]["plot"])
    assert "plot" in first["written"] and png.read_bytes()[:4] == b"\x89PNG"
    assert "![throughput during the migrations](migration.png)" in pathlib.Path(first["files"]["markdown"]).read_text()
    second = run(capsys, args(tmp_path, plot=True))
    assert second["changed"] is False
    leftovers = [f for f in os.listdir(str(tmp_path / "report")) if f.endswith(".png") and f != "migration.png"]
    assert leftovers == []


def test_fail_on_error_fails_after_writing(capsys, tmp_path):
    bad = args(tmp_path, fail_on_error=True)
    bad["vm_observations"][0]["stdout"] = "[]"
    out = run(capsys, bad)
    assert out["failed"] is True
    assert "no default route" in out["msg"]
    assert pathlib.Path(out["files"]["markdown"]).exists()


def test_bad_observation_fails_with_a_clear_message(capsys, tmp_path):
    bad = args(tmp_path)
    bad["vm_observations"][0]["family"] = "ipv5"
    out = run(capsys, bad)
    assert out["failed"] is True
    assert out["msg"] == "cannot build the lab report: unknown address family 'ipv5' in VM check default-route"


def test_html_page_beside_the_markdown_idempotent_and_optional(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    steps = [{"title": "Your pods", "commands": ["kubectl get pods -n {ns:red-namespace}"]}]
    first = run(capsys, args(tmp_path, plot=True, title="p1's lab", participant="p1", steps=steps,
                             cluster={"kubeconfig": "/labs/p1/kubeconfig"}))
    page = pathlib.Path(first["files"]["html"])
    assert page == tmp_path / "report" / "report.html" and "html" in first["written"]
    text = page.read_text()
    assert stat.S_IMODE(page.stat().st_mode) == 0o644 and PASSWORD not in text
    assert '<img id="migration-plot" src="data:image/png;base64,' in text
    assert "kubectl get pods -n p1-red-namespace" in text and "p1&#x27;s lab" in text
    assert '<code id="kubeconfig">/labs/p1/kubeconfig</code>' in text
    again = run(capsys, args(tmp_path, plot=True, title="p1's lab", participant="p1", steps=steps,
                             cluster={"kubeconfig": "/labs/p1/kubeconfig"}))
    assert again["changed"] is False and again["written"] == []
    # the same data without the page: the other files are as they were
    without = run(capsys, args(tmp_path, plot=True, html=False, title="p1's lab", participant="p1", steps=steps,
                               cluster={"kubeconfig": "/labs/p1/kubeconfig"}))
    assert without["changed"] is False and "html" not in without["files"]
