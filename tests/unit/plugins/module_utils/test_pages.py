# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Unit tests for plugins/module_utils/pages.py: escaping, no secret, the plot embedded, truth-table cells and
classes, organizer rows, nothing fetched from anywhere."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import html.parser
import re

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import classroom, pages, report

from test_report import POD_RESULTS, full_report, good_observations, migration_record

PASSWORD = "Console-Pw-42<&>"
# a JWT-shaped ServiceAccount token (header {"alg":"RS256"}, payload {"sub":"p1"}, a signature)
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwMSJ9.c2lnbmF0dXJl"
EVIL = "<script>alert(1)</script>"


class Tree(html.parser.HTMLParser):
    """Elements (tag, attributes, text inside) of a page, and whether every element closed as it opened."""

    VOID = ("meta", "img", "br", "hr", "input", "link")

    def __init__(self, text):
        html.parser.HTMLParser.__init__(self, convert_charrefs=True)
        self.elements, self.stack, self.errors = [], [], []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(element)
        if tag not in self.VOID:
            self.stack.append(element)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1]["tag"] != tag:
            self.errors.append("</{0}> closes {1}".format(tag, self.stack[-1]["tag"] if self.stack else "nothing"))
            return
        self.stack.pop()

    def handle_data(self, data):
        for element in self.stack:
            element["text"] += data

    def find(self, tag=None, **attrs):
        return [e for e in self.elements if (tag is None or e["tag"] == tag)
                and all(e["attrs"].get(k.rstrip("_").replace("_", "-")) == v for k, v in attrs.items())]

    def by_id(self, element_id):
        found = [e for e in self.elements if e["attrs"].get("id") == element_id]
        assert len(found) == 1, "id %s: %d elements" % (element_id, len(found))
        return found[0]


def png(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "migration.png"
    report.plot_migrations([migration_record(1, "ipv4"), migration_record(1, "ipv6")], str(path))
    return path


def evil_report():
    """The report of test_report with a pod named like a script and a wrong claim from it."""
    results = [dict(r) for r in POD_RESULTS["results"]]
    results.append(dict(results[0], id="p3", to="blue/" + EVIL, status="wrong", observed="X", detail=EVIL))
    return full_report(pod_results={"results": results})


# --------------------------------------------------------------------------- escaping and secrets


def test_a_pod_named_like_a_script_is_shown_as_text():
    page = pages.report_page(evil_report(), "lab " + EVIL)
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    tree = Tree(page)
    assert tree.errors == [] and tree.stack == []
    assert tree.find("th", data_to="blue/" + EVIL), "the target is a column, its name as text"
    assert tree.by_id("header")["attrs"]["data-title"] == "lab " + EVIL
    assert tree.find("title")[0]["text"] == "lab " + EVIL


def test_no_secret_is_written():
    built = full_report()
    built["access"]["vms"][0]["console_command"] = "virtctl console -n red-namespace red  # password " + PASSWORD
    built["access"]["vms"][0]["ssh_command"] = "kubectl --token " + TOKEN + " exec ..."
    page = pages.report_page(built, "p1", kubeconfig_path="/home/p1/kubeconfig", secrets=[PASSWORD])
    for secret in (PASSWORD, pages.esc(PASSWORD), TOKEN, "Console-Pw-42"):
        assert secret not in page
    # the console command twice (the access section and the console step), the token once
    assert page.count(report.PASSWORD_MASK) == 3
    assert "not written in this page" in page
    # a token nobody named is masked too: it is shaped like one
    organizer = pages.organizer_page([pages.organizer_row("p1", built, href="p1/report.html")], "class " + TOKEN)
    assert TOKEN not in organizer


# --------------------------------------------------------------------------- the plot


def test_the_plot_is_embedded_from_a_path_or_bytes(tmp_path):
    path = png(tmp_path)
    data = path.read_bytes()
    for given in (str(path), data):
        tree = Tree(pages.report_page(full_report(), "lab", plot_png=given))
        src = tree.by_id("migration-plot")["attrs"]["src"]
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]) == data
    assert not Tree(pages.report_page(full_report(), "lab")).find("img")
    with pytest.raises(ValueError, match="not a PNG"):
        pages.report_page(full_report(), "lab", plot_png=b"GIF89a...")


def test_self_contained(tmp_path):
    page = pages.report_page(full_report(), "lab", plot_png=png(tmp_path), kubeconfig_path="/k")
    tree = Tree(page)
    for element in tree.elements:
        for name in ("src", "href", "action", "data", "poster"):
            value = element["attrs"].get(name) or ""
            assert not re.match(r"^\s*(https?:|//|ftp:)", value, re.I), (element["tag"], name, value[:80])
    assert not tree.find("script") and not tree.find("link") and not tree.find("iframe")
    assert "@import" not in page and "url(" not in page
    # the coverage document is named as text, not fetched
    assert report.COVERAGE_URL in page


# --------------------------------------------------------------------------- truth tables


def test_truth_tables_one_per_family_with_cells_and_classes():
    built = evil_report()
    tree = Tree(pages.report_page(built, "lab"))
    table = tree.by_id("truth-ipv4")
    # test_report's pod results carry no family: IPv4, as module_utils probes records a probe without one
    assert table["attrs"]["data-rows"] == "1" and table["attrs"]["data-columns"] == "3"
    claims = tree.find("div", data_claim="p2")
    assert len(claims) == 1 and claims[0]["attrs"]["class"] == "claim wrong"
    assert claims[0]["attrs"]["data-expected"] == "X" and claims[0]["attrs"]["data-observed"] == "."
    assert claims[0]["text"].startswith("\u2717 expected blocked, observed reachable")
    ok = tree.find("div", data_claim="p1")[0]
    assert ok["attrs"]["class"] == "claim ok" and ok["text"].startswith("\u2713")
    # VM checks: a table per family, every check a claim; the skipped ones listed
    assert tree.by_id("vm-checks-ipv4")["attrs"]["data-rows"] == "2"
    vm_claims = [e for e in tree.find("div") if (e["attrs"].get("data-claim") or "").startswith("vm-")]
    assert len(vm_claims) == 10 and all(e["attrs"]["class"] == "claim ok" for e in vm_claims)
    assert "skipped" in tree.by_id("vm-problems")["text"]
    assert "not run" not in tree.by_id("vm-checks")["text"]


def test_truth_table_cells_rows_by_source_columns_by_target():
    results = [
        {"id": "a", "from": "x", "to": "y", "family": "ipv6", "expected": ".", "observed": ".", "status": "correct"},
        {"id": "b", "from": "x", "to": "z", "family": "ipv6", "expected": "X", "observed": "?", "status": "unknown"},
        {"id": "c", "from": "w", "to": "y", "family": "ipv6", "expected": ".", "observed": ".", "status": "correct",
         "carried": True},
        {"id": "d", "from": "w", "to": "y", "family": "ipv6", "expected": "X", "observed": "-",
         "status": "not applicable"},
    ]
    tree = Tree(pages.truth_table(results, "truth-ipv6", "ipv6"))
    rows = tree.find("tr", data_from="x") + tree.find("tr", data_from="w")
    assert [len(tree.find("td", data_from=r["attrs"]["data-from"])) for r in rows] == [2, 2]
    assert tree.find("td", data_from="w", data_to="z")[0]["attrs"]["class"] == "empty"
    classes = dict((e["attrs"]["data-claim"], e["attrs"]["class"]) for e in tree.find("div")
                   if "data-claim" in e["attrs"])
    assert classes == {"a": "claim ok", "b": "claim unknown", "c": "claim ok carried", "d": "claim na"}
    assert "carried from an earlier run" in tree.find("div", data_claim="c")[0]["text"]


def test_a_report_with_nothing_run_says_so():
    page = pages.report_page(report.build_report(not_asked={"vms": "asked"}), "lab")
    assert "The pod workshop checks were not run." in page
    assert "The VM workshop was not run, as asked: asked." in page
    assert "No live migration was run: the VM workshop was left out, as asked." in page
    assert Tree(page).by_id("result")["attrs"]["data-ok"] == "true"


# --------------------------------------------------------------------------- steps


def test_steps_with_the_participants_own_names():
    template = [{"title": "Look at {participant}'s blue network", "text": "namespace {ns:blue}",
                 "commands": ["kubectl get pods -n {ns:blue}", "kubectl get cudn {net:happy-tenant}"]}]
    filled = pages.fill_steps(template, "p2")
    assert filled == [{"title": "Look at p2's blue network", "text": "namespace p2-blue",
                       "commands": ["kubectl get pods -n p2-blue", "kubectl get cudn p2-happy-tenant"]}]
    assert classroom.prefixed("p2", "blue") == "p2-blue"
    assert pages.fill_steps(template)[0]["commands"] == ["kubectl get pods -n blue", "kubectl get cudn happy-tenant"]
    tree = Tree(pages.report_page(full_report(), "p2", steps=filled))
    step = tree.find("li", data_step="1")[0]
    assert "kubectl get pods -n p2-blue\nkubectl get cudn p2-happy-tenant" in step["text"]
    assert tree.find("pre") and tree.find("code")


def test_default_steps_from_the_report():
    steps = pages.default_steps(full_report(), "/labs/p1/kubeconfig")
    titles = [s["title"] for s in steps]
    assert titles == ["Use your cluster", "Look at your networks", "Look at your pods", "Check a claim yourself",
                      "Log into your VMs", "Live-migrate a VM"]
    assert steps[0]["commands"][0] == "export KUBECONFIG=/labs/p1/kubeconfig"
    assert "kubectl get pods -n blue-namespace -o wide" in steps[2]["commands"]
    assert "does not reach green" in steps[3]["text"]  # the wrong claim first
    assert steps[4]["commands"] == ["virtctl console -n red-namespace red"]
    page = pages.report_page(full_report(), "p1", kubeconfig_path="/labs/p1/kubeconfig")
    assert Tree(page).by_id("kubeconfig")["text"] == "/labs/p1/kubeconfig"


def test_access_commands_are_shown():
    tree = Tree(pages.report_page(full_report(), "lab"))
    vm = tree.find("div", data_vm="red-namespace/red")[0]
    assert "virtctl console -n red-namespace red" in vm["text"]
    assert "deploy/udn-lab-bastion -- nc %h %p' fedora@192.168.0.3" in vm["text"]
    assert "192.168.0.3" in tree.by_id("vms")["text"]


# --------------------------------------------------------------------------- the organizer's page


def fences(wrong=0):
    checks = classroom.fence_checks("p1", {"p1": {"namespaces": ["p1-blue"]}, "p2": {"namespaces": ["p2-blue"]}})
    allowed = dict((c["id"], c["expect"]) for c in checks)
    for check in checks[:wrong]:
        allowed[check["id"]] = not check["expect"]
    return classroom.judge_fences(checks, allowed)


def test_organizer_rows():
    good = report.build_report(vm_observations=good_observations(), networks=full_report()["networks"],
                               ip_family="dual")
    ready = pages.organizer_row("p1", good, fences(), "p1/report.html")
    assert ready["state"] == "ready" and (ready["claims_proven"], ready["claims_total"]) == (10, 10)
    assert ready["fences_proven"] == ready["fences_total"] == len(fences())
    failed = pages.organizer_row("p2", full_report(), fences(wrong=1), "p2/report.html")
    assert failed["state"] == "failed" and (failed["claims_proven"], failed["claims_total"]) == (11, 12)
    assert failed["fences_proven"] == failed["fences_total"] - 1
    assert any(f.startswith("fence p1:own-pods") for f in failed["failures"])
    fence_only = pages.organizer_row("p3", good, fences(wrong=2))
    assert fence_only["state"] == "failed"
    missing = pages.organizer_row("p4")
    assert missing["state"] == "not run" and missing["claims_total"] == 0 and missing["href"] is None

    tree = Tree(pages.organizer_page([ready, failed, fence_only, missing], "Classroom"))
    assert tree.errors == []
    rows = tree.find("tr", data_participant="p2")
    assert rows[0]["attrs"]["data-state"] == "failed" and rows[0]["attrs"]["class"] == "state-failed"
    assert rows[0]["attrs"]["data-claims-proven"] == "11" and rows[0]["attrs"]["data-claims-total"] == "12"
    links = [a["attrs"]["href"] for a in tree.find("a")]
    assert links == ["p1/report.html", "p2/report.html"]
    assert "no page" in tree.find("tr", data_participant="p4")[0]["text"]
    assert "4 participants: 1 ready, 2 failed, 1 not run." in tree.by_id("header")["text"]
    assert tree.find("td", class_="state")


def test_organizer_links_must_be_relative():
    with pytest.raises(ValueError, match="must be relative"):
        pages.organizer_page([pages.organizer_row("p1", href="https://example.org/p1.html")], "c")
    assert pages.relative_href("/srv/class", "/srv/class/p1/report/report.html") == "p1/report/report.html"
    assert pages.relative_href("/srv/class/index", "/srv/labs/p1/report.html") == "../../labs/p1/report.html"
