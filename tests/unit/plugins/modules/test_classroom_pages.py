# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""classroom_pages through its main(): the organizer's page from the participants' report.json, links to the pages
that exist, written once, check mode."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.ovnk.udn_lab.plugins.module_utils import report
from ansible_collections.ovnk.udn_lab.plugins.modules import classroom_pages

from fake_api import main_result

ROUTE = json.dumps([{"dst": "default", "gateway": "192.168.0.1", "dev": "eth0"}])


def lab(tmp_path, name, route=ROUTE, page=True):
    """A participant's report directory as lab_report leaves it: report.json (and report.html)."""
    built = report.build_report(networks=[{"name": "t", "cidrs": ["192.168.0.0/16"], "namespaces": [name + "-red"]}],
                                vm_observations=[{"vm": name + "-red/red", "network": "t", "check": "default-route",
                                                  "family": "ipv4", "target": "gateway", "rc": 0, "stdout": route}])
    directory = tmp_path / "labs" / name / "report"
    directory.mkdir(parents=True)
    (directory / "report.json").write_text(report.render_json(built))
    if page:
        (directory / "report.html").write_text("<!DOCTYPE html><title>{0}</title>".format(name))
    return str(directory)


def test_organizer_page_rows_links_and_idempotence(capsys, tmp_path):
    participants = [{"name": "p1", "report_dir": lab(tmp_path, "p1"),
                     "fences": [{"id": "p1:own-pods", "status": "correct"},
                                {"id": "p1:no-namespaces", "status": "wrong"}]},
                    {"name": "p2", "report_dir": lab(tmp_path, "p2", route="[]", page=False)},
                    {"name": "p3", "report_dir": str(tmp_path / "labs" / "p3" / "report")}]
    args = {"dest": str(tmp_path / "classroom"), "participants": participants}
    predicted = main_result(classroom_pages, args, capsys, check_mode=True)
    assert predicted["changed"] is True and not (tmp_path / "classroom").exists()
    out = main_result(classroom_pages, args, capsys)
    assert out["changed"] is True and out["written"] == ["index"]
    rows = dict((r["name"], r) for r in out["rows"])
    assert (rows["p1"]["state"], rows["p1"]["claims_proven"], rows["p1"]["fences_proven"]) == ("failed", 1, 1)
    assert rows["p1"]["href"] == "../labs/p1/report/report.html"
    assert (rows["p2"]["state"], rows["p2"]["claims_proven"], rows["p2"]["claims_total"]) == ("failed", 0, 1)
    assert rows["p2"]["href"] is None  # no page: no link
    assert rows["p3"]["state"] == "not run"
    text = (tmp_path / "classroom" / "index.html").read_text()
    assert 'href="../labs/p1/report/report.html"' in text and text.count("<a ") == 1
    again = main_result(classroom_pages, args, capsys)
    assert again["changed"] is False and again["written"] == []


def test_a_report_json_that_is_no_lab_report_fails_clearly(capsys, tmp_path):
    directory = tmp_path / "p1"
    directory.mkdir()
    (directory / "report.json").write_text("{}")
    out = main_result(classroom_pages, {"dest": str(tmp_path / "c"), "participants": [
        {"name": "p1", "report_dir": str(directory)}]}, capsys)
    assert out["failed"] is True and "is not a lab report" in out["msg"]
    (directory / "report.json").write_text("not json")
    out = main_result(classroom_pages, {"dest": str(tmp_path / "c"), "participants": [
        {"name": "p1", "report_dir": str(directory)}]}, capsys)
    assert out["failed"] is True and out["msg"].startswith("cannot read the report of p1")
