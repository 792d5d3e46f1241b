"""The coverage table of the upstream workshop (docs/workshop_coverage.yml): every upstream step has one row at its
file and line, every claim a row names exists, every task it names exists, and the docs page is generated from
it."""

from __future__ import annotations

import collections
import importlib.util
import re

import pytest
import yaml

from ansible_collections.ovnk.udn_lab.plugins.module_utils import overlap, podcheck, report

WORKSHOP = "devconf2025-workshop-e8d01d9"


@pytest.fixture(scope="module")
def coverage(repo_root):
    spec = importlib.util.spec_from_file_location("workshop_coverage", repo_root / "hack" / "workshop_coverage.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def table(coverage):
    return coverage.load()


@pytest.fixture(scope="module")
def workshop_dir(upstream_dir):
    path = upstream_dir / WORKSHOP
    if not path.is_dir():
        pytest.skip("the upstream workshop is not in %s (expected %s/)" % (upstream_dir, WORKSHOP))
    return path


def claim_ids(repo_root):
    """Every claim the lab can report: the pod workshop's probe, inspection, EndpointSlice and overlapping-network
    ids (with the probes of a shared address), the VM checks, the migration."""
    defaults = yaml.safe_load((repo_root / "roles" / "pod_workshop" / "defaults" / "main.yml").read_text())
    inspections = {"{0}-{1}".format(i["id"], check) for i in defaults["pod_workshop_pod_inspections"]
                   for check in i.get("checks") or podcheck.CHECKS}
    slices = {c["id"] for c in defaults["pod_workshop_endpoint_slices"] + defaults["pod_workshop_overlapping_networks"]}
    networks = dict((n["name"], n) for n in defaults["pod_workshop_networks"])
    own = {overlap.own_network_claim_id(c["id"], networks[name]) for c in defaults["pod_workshop_overlapping_networks"]
           for name in c["networks"]}
    return ({p["id"] for p in defaults["pod_workshop_probes"]} | inspections | slices | own
            | {"vm:" + c for c in report.VM_CHECKS} | {"migration"})


def test_every_upstream_step_has_exactly_one_row_at_its_place(coverage, table, workshop_dir):
    steps = coverage.upstream_steps(workshop_dir, table["sources"])
    assert len(steps) > 150, "the parser found only %d steps: the upstream layout changed?" % len(steps)
    rows_at = collections.defaultdict(list)
    for row in table["steps"]:
        for place in coverage.positions(row):
            rows_at[place].append(row)
    missing, mismatched = [], []
    for source, line, text in steps:
        rows = rows_at.pop((source, line), [])
        if len(rows) != 1:
            missing.append("%s:%d %s (%d rows)" % (source, line, text, len(rows)))
        elif coverage.normalize(rows[0]["step"]) != coverage.normalize(text):
            mismatched.append("%s:%d upstream %r, row %r" % (source, line, text, rows[0]["step"]))
    assert not missing, "upstream steps without exactly one row:\n" + "\n".join(missing)
    assert not mismatched, "rows whose step is not the upstream text at their place:\n" + "\n".join(mismatched)
    assert not rows_at, "rows at places where upstream has no step: %s" % sorted(rows_at)


def row_problems(coverage, row, known, repo_root):
    """What is wrong with one row of the table (empty: nothing)."""
    problems = []
    status = row.get("status")
    if status not in coverage.STATUSES:
        problems.append("%s: status %r" % (row["step"], status))
    claims = row.get("claims") or []
    problems += ["%s: no claim %r" % (row["step"], c) for c in claims if c not in known]
    if status in ("asserted", "asserted_differently") and not claims:
        problems.append("%s: %s without claims" % (row["step"], status))
    if status in ("asserted_differently", "not_asserted", "not_checkable") and not row.get("why"):
        problems.append("%s: %s needs a why" % (row["step"], status))
    if status == "performed":
        path, dummy, task = (row.get("by") or "").partition(": ")
        target = repo_root / path
        if not path or not task or not target.is_file() or not re.search(
                r"name: \"?" + re.escape(task), target.read_text()):
            problems.append("%s: no task %r in %s" % (row["step"], task, path))
    return problems


def test_rows_name_only_claims_and_tasks_that_exist(coverage, table, repo_root):
    known = claim_ids(repo_root)
    problems = [p for row in table["steps"] for p in row_problems(coverage, row, known, repo_root)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("row, problem", [
    ({"step": "s", "status": "asserted", "claims": ["no-such-claim"]}, "no claim 'no-such-claim'"),
    ({"step": "s", "status": "asserted"}, "asserted without claims"),
    ({"step": "s", "status": "not_asserted"}, "not_asserted needs a why"),
    ({"step": "s", "status": "done"}, "status 'done'"),
    ({"step": "s", "status": "performed", "by": "roles/pod_workshop/tasks/create.yml: No such task"}, "no task"),
    ({"step": "s", "status": "performed", "by": "roles/nothing.yml: Create"}, "no task"),
])
def test_a_bad_row_is_caught(coverage, repo_root, row, problem):
    found = row_problems(coverage, row, claim_ids(repo_root), repo_root)
    assert any(problem in p for p in found), found


def test_every_claim_of_the_lab_traces_to_an_upstream_step_or_says_why_not(table, repo_root):
    """The other direction: a claim no step needs is either an extra the lab adds on purpose (listed here with
    the reason) or a stale claim."""
    named = {c for row in table["steps"] for c in row.get("claims") or []}
    extras = {
        "red-to-yellow-icmp-after-policy": "the policy allows TCP 8080 only, so ping stops: a consequence of a step",
        "red-to-kapi-after-policy": "the policy also cuts red off from the API: the script's bug note (line 368)",
        "default-to-blue": "the default network cannot reach a UDN pod: the okep's isolation, not a script step",
        "overlapping-egress": None, "secondary-blue-to-green": "multi-homing: the README lists it, no step shows it",
        "secondary-blue-to-green-primary": "multi-homing: the README lists it, no step shows it",
    }
    unexplained = sorted(c for c in claim_ids(repo_root) - named if not extras.get(c))
    assert unexplained == [], "claims no upstream step names, without a reason: %s" % unexplained


def test_docs_page_is_generated_from_the_table(coverage, table):
    page = coverage.PAGE.read_text(encoding="utf-8")
    assert page == coverage.render_markdown(table), "run: python hack/workshop_coverage.py"
    places, dummy = coverage.counts(table)
    assert "| **total** | **%d** |" % sum(places.values()) in page
