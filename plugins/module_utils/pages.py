# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""HTML pages of the lab report: pure functions from a report dict (module_utils report) to self-contained HTML.

* :func:`report_page`: a participant's handout (the single-user lab's too): who and which kubeconfig, the truth
  tables of the pod claims per address family, the VM checks, the live migrations with the plot embedded, the
  steps of the workshop with the participant's own names, the commands that reach the VMs.
* :func:`organizer_page`: one row per participant (state, claims and fence claims proven, a link to their page),
  rows from :func:`organizer_row`.

Every page is one file: inline CSS, no script, no font, no request to anything (the plot is a ``data:`` URI).
Every text is HTML-escaped; secrets (the console password, tokens) are masked (:func:`report.mask`) and anything
shaped like a JSON Web Token is masked too. The markup is stable for tests and tools: ``<table id="truth-ipv4">``
(pod claims), ``<table id="vm-checks-ipv4">``, ``<img id="migration-plot">``, ``<table id="participants">``, and
``data-`` attributes on every claim and row.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import re

from ansible_collections.ovnk.udn_lab.plugins.module_utils import classroom, probes, report

from html import escape as _html_escape

STATE_READY = "ready"
STATE_FAILED = "failed"
STATE_NOT_RUN = "not run"
STATES = (STATE_READY, STATE_FAILED, STATE_NOT_RUN)

# claim status -> (CSS class, text mark): the colour is never the only sign
STATUS_CLASS = {
    probes.STATUS_CORRECT: ("ok", "\u2713"),
    probes.STATUS_WRONG: ("wrong", "\u2717"),
    probes.STATUS_UNKNOWN: ("unknown", "?"),
    probes.STATUS_SKIPPED: ("na", "\u2013"),
}
STATUS_WORDS = {probes.STATUS_CORRECT: "as expected", probes.STATUS_WRONG: "WRONG",
                probes.STATUS_UNKNOWN: "no answer", probes.STATUS_SKIPPED: "not applicable"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+")

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font-family: "Liberation Sans", "DejaVu Sans", Arial, sans-serif; margin: 0 auto; max-width: 1200px;
       padding: 16px 24px; color: #1b1b1b; background: #ffffff; line-height: 1.4; }
h1 { font-size: 1.6em; margin: 0.2em 0; }
h2 { font-size: 1.25em; border-bottom: 1px solid #c8c8c8; margin-top: 1.6em; }
h3 { font-size: 1.05em; }
code, pre { font-family: "Liberation Mono", "DejaVu Sans Mono", monospace; font-size: 0.9em; }
pre { background: #f2f2f2; border: 1px solid #dcdcdc; padding: 8px; white-space: pre-wrap;
      overflow-wrap: anywhere; max-width: 100%; }
.meta { color: #444444; }
.result { font-weight: bold; padding: 4px 8px; display: inline-block; }
.result.ok { background: #bfe8bf; }
.result.wrong { background: #f4b8b8; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #b4b4b4; padding: 4px 6px; text-align: left; vertical-align: top; font-size: 0.9em; }
thead th { background: #e8e8e8; }
th.to { max-width: 14em; overflow-wrap: anywhere; }
th.from { white-space: nowrap; }
td.empty { background: #fafafa; }
.claim { padding: 2px 4px; margin: 1px 0; min-width: 9em; }
.claim.ok { background: #bfe8bf; }
.claim.wrong { background: #f4b8b8; }
.claim.unknown { background: #f6e3a8; }
.claim.na { background: #e4e4e4; }
.claim.carried { border: 1px dashed #555555; }
.mark { font-weight: bold; }
tr.state-ready td.state { background: #bfe8bf; }
tr.state-failed td.state { background: #f4b8b8; }
tr.state-not-run td.state { background: #e4e4e4; }
img#migration-plot { max-width: 100%; height: auto; border: 1px solid #dcdcdc; }
ul.problems li { overflow-wrap: anywhere; }
"""


# --------------------------------------------------------------------------- small helpers


def esc(value):
    """HTML text of ``value`` (None shows as ``-``), quotes escaped too (safe in attributes)."""
    return _html_escape("-" if value is None else str(value), quote=True)


def _attrs(**attrs):
    """`` name="value"`` pairs, keys with ``_`` as ``-`` (``data_from`` -> ``data-from``), None left out."""
    return "".join(' {0}="{1}"'.format(key.rstrip("_").replace("_", "-"), esc(value))
                   for key, value in sorted(attrs.items()) if value is not None)


def _slug(text):
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "x"


def png_data_uri(png):
    """``data:image/png;base64,...`` of PNG bytes or of the PNG file at a path; None when ``png`` is empty.
    Raises ValueError on bytes that are not a PNG."""
    if not png:
        return None
    if not isinstance(png, bytes):
        with open(png, "rb") as handle:
            png = handle.read()
    if not png.startswith(PNG_MAGIC):
        raise ValueError("the migration plot is not a PNG")
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def redact(text, secrets=()):
    """``text`` without ``secrets`` (raw and HTML-escaped forms, :func:`report.mask`) nor JSON Web Tokens."""
    secrets = [s for s in secrets or [] if s]
    text = report.mask(text, secrets + [esc(s) for s in secrets])
    return JWT.sub(report.PASSWORD_MASK, text)


def _document(title, body, secrets=()):
    page = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>{0}</title>\n<style>{1}</style>\n</head>\n<body>\n{2}\n</body>\n</html>\n").format(
                esc(title), CSS, "\n".join(body))
    return redact(page, secrets)


def _table(table_id, columns, rows, caption=None, row_attrs=None):
    """A plain table: ``rows`` are lists of cells, each its HTML (already escaped) or ``(attributes, HTML)``."""
    out = ['<div class="scroll"><table{0}>'.format(_attrs(id=table_id))]
    if caption:
        out.append("<caption>{0}</caption>".format(esc(caption)))
    out.append("<thead><tr>" + "".join("<th>{0}</th>".format(esc(c)) for c in columns) + "</tr></thead><tbody>")
    for index, row in enumerate(rows):
        attrs = row_attrs[index] if row_attrs else ""
        out.append("<tr{0}>".format(attrs) + "".join(
            "<td{0}>{1}</td>".format(*cell) if isinstance(cell, tuple) else "<td>{0}</td>".format(cell)
            for cell in row) + "</tr>")
    out.append("</tbody></table></div>")
    return "\n".join(out)


def _pre(commands):
    return "<pre><code>{0}</code></pre>".format(esc("\n".join(commands)))


# --------------------------------------------------------------------------- truth tables


def claim_html(result):
    """One claim in a truth-table cell: class ``claim ok|wrong|unknown|na`` (``carried`` too for a claim carried
    from an earlier run), a text mark, expected and observed in words, the detail as its tooltip."""
    status = result.get("status") or probes.STATUS_UNKNOWN
    css, mark = STATUS_CLASS.get(status, STATUS_CLASS[probes.STATUS_UNKNOWN])
    words = "expected {0}, observed {1}".format(probes.MARK_WORDS.get(result.get("expected"), "?"),
                                                probes.MARK_WORDS.get(result.get("observed"), "?"))
    classes = "claim " + css + (" carried" if result.get("carried") else "")
    return ('<div{0}><span class="mark">{1}</span> {2}{3}</div>').format(
        _attrs(class_=classes, data_claim=result.get("id"), data_status=status, data_expected=result.get("expected"),
               data_observed=result.get("observed"), title=result.get("detail") or None),
        esc(mark), esc(words), esc(" (carried from an earlier run)") if result.get("carried") else "")


def truth_table(results, table_id, caption):
    """A truth table: rows = sources (``from``), columns = targets (``to``) in first-seen order, each cell every
    claim from that source to that target (:func:`claim_html`); an empty cell has class ``empty``."""
    rows, cols, cells = [], [], {}
    for res in results:
        if res.get("from") not in rows:
            rows.append(res.get("from"))
        if res.get("to") not in cols:
            cols.append(res.get("to"))
        cells.setdefault((res.get("from"), res.get("to")), []).append(res)
    out = ['<div class="scroll"><table{0}>'.format(_attrs(id=table_id, class_="truth", data_rows=len(rows),
                                                          data_columns=len(cols))),
           "<caption>{0}</caption>".format(esc(caption)),
           '<thead><tr><th scope="col">from \\ to</th>' + "".join(
               '<th scope="col" class="to"{0}>{1}</th>'.format(_attrs(data_to=c), esc(c)) for c in cols)
           + "</tr></thead>",
           "<tbody>"]
    for row in rows:
        tds = []
        for col in cols:
            claims = cells.get((row, col))
            if claims:
                tds.append("<td{0}>{1}</td>".format(_attrs(data_from=row, data_to=col),
                                                    "".join(claim_html(r) for r in claims)))
            else:
                tds.append('<td class="empty"{0}></td>'.format(_attrs(data_from=row, data_to=col)))
        out.append('<tr{0}><th scope="row" class="from">{1}</th>{2}</tr>'.format(
            _attrs(data_from=row), esc(row), "".join(tds)))
    out.append("</tbody></table></div>")
    return "\n".join(out)


def _family(result):
    """A result's address family (a probe without one is IPv4, as module_utils probes records it)."""
    return result.get("family") or "ipv4"


def _families_of(results, families):
    seen = list(families or [])
    for res in results:
        if _family(res) not in seen:
            seen.append(_family(res))
    return seen


def _counts_line(results):
    counts = dict((status, 0) for status in STATUS_CLASS)
    for res in results:
        counts[res.get("status") if res.get("status") in counts else probes.STATUS_UNKNOWN] += 1
    return "{0} claims: {1} as expected, {2} wrong, {3} no answer, {4} not applicable".format(
        len(results), counts[probes.STATUS_CORRECT], counts[probes.STATUS_WRONG], counts[probes.STATUS_UNKNOWN],
        counts[probes.STATUS_SKIPPED])


# --------------------------------------------------------------------------- the steps


def fill_steps(steps, participant=None):
    """The workshop's steps with a participant's own names: in every title, text and command, ``{participant}``
    becomes the participant's name and ``{ns:NAME}`` (or ``{net:NAME}``, a cluster network) their copy of it,
    ``<participant>-NAME`` (module_utils classroom); without a participant (the single-user lab), NAME as written.
    ``steps``: ``[{title, text (optional), commands: [str]}]``."""
    def fill(text):
        text = re.sub(r"\{(?:ns|net):([a-z0-9][-a-z0-9]*)\}",
                      lambda m: classroom.prefixed(participant, m.group(1)) if participant else m.group(1), str(text))
        return text.replace("{participant}", participant or "")

    out = []
    for step in steps or []:
        out.append({"title": fill(step.get("title") or ""), "text": fill(step.get("text") or ""),
                    "commands": [fill(c) for c in step.get("commands") or []]})
    return out


def default_steps(built, kubeconfig_path=None):
    """The workshop's steps for the lab of ``built`` (a report dict), its own names already in: the kubeconfig,
    its networks and namespaces, a claim to reproduce, its VMs' console and a migration."""
    steps = []
    if kubeconfig_path:
        steps.append({"title": "Use your cluster", "text": "Every command below runs with your kubeconfig.",
                      "commands": ["export KUBECONFIG={0}".format(kubeconfig_path), "kubectl get namespaces"]})
    networks = built.get("networks") or []
    namespaces = []
    for net in networks:
        namespaces += [n for n in net.get("namespaces") or [] if n not in namespaces]
    if networks:
        commands = []
        for net in networks:
            if net.get("kind", "ClusterUserDefinedNetwork") == "ClusterUserDefinedNetwork":
                commands.append("kubectl get clusteruserdefinednetwork {0} -o yaml".format(net.get("name")))
            else:
                commands += ["kubectl get userdefinednetwork -n {0} {1} -o yaml".format(ns, net.get("name"))
                             for ns in net.get("namespaces") or []]
        steps.append({"title": "Look at your networks", "text": "Each network and the subnets it gives its pods.",
                      "commands": commands})
    if namespaces:
        steps.append({"title": "Look at your pods", "text": "Each pod's address on its primary network.",
                      "commands": ["kubectl get pods -n {0} -o wide".format(ns) for ns in namespaces]})
    pods = (built.get("pods") or {}).get("results") or []
    reproduce = [r for r in pods if r.get("reproduce")]
    if reproduce:
        first = next((r for r in reproduce if r.get("status") == probes.STATUS_WRONG), reproduce[0])
        steps.append({"title": "Check a claim yourself",
                      "text": "{0} -> {1}: {2}".format(first.get("from"), first.get("to"), first.get("claim") or ""),
                      "commands": [first["reproduce"]]})
    vms = (built.get("access") or {}).get("vms") or []
    if vms:
        steps.append({"title": "Log into your VMs", "text": "The serial console needs no network (escape: Ctrl+]).",
                      "commands": [vm["console_command"] for vm in vms if vm.get("console_command")]})
        first = vms[0]
        steps.append({"title": "Live-migrate a VM", "text": "Its address stays; watch the migration finish.",
                      "commands": ["virtctl migrate -n {0} {1}".format(first.get("namespace"), first.get("name")),
                                   "kubectl get vmim -n {0} -w".format(first.get("namespace"))]})
    return steps


def _steps_html(steps):
    out = ['<ol id="steps">']
    for index, step in enumerate(steps):
        out.append('<li{0}><h3>{1}</h3>{2}{3}</li>'.format(
            _attrs(data_step=index + 1), esc(step.get("title")),
            "<p>{0}</p>".format(esc(step["text"])) if step.get("text") else "",
            _pre(step.get("commands") or []) if step.get("commands") else ""))
    out.append("</ol>")
    return "\n".join(out)


# --------------------------------------------------------------------------- the participant's page


def _summary_html(built):
    summary = built["summary"]
    ok = summary["ok"]
    return ('<p><span{0}>{1}</span> {2} pod claims, {3} VM checks ({4} skipped), {5} migrations ({6} streams '
            'survived).</p>').format(
        _attrs(id="result", class_="result " + ("ok" if ok else "wrong"), data_ok="true" if ok else "false"),
        esc("\u2713 PASS" if ok else "\u2717 FAIL"), summary["pod_checks"], summary["vm_checks"],
        summary["vm_checks_skipped"], summary["migrations"], summary["migrations_survived"])


def _pods_html(built):
    pods = built["pods"]["results"]
    out = ['<section id="pod-connectivity"><h2>Pod connectivity</h2>']
    if not pods:
        why = built.get("not_asked", {}).get("pods")
        out.append("<p>{0}</p>".format(esc("The pod workshop was not run, as asked: {0}.".format(why) if why
                                           else "The pod workshop checks were not run.")))
        return out + ["</section>"]
    out.append("<p>{0}. Each cell: {1} as expected, {2} wrong, ? no answer, {3} not applicable; the claim's detail "
               "shows on hover.</p>".format(esc(_counts_line(pods)), "\u2713", "\u2717", "\u2013"))
    out.append("<p>Each upstream workshop step and the claims that prove it: docs/WORKSHOP_COVERAGE.md of the "
               "collection ({0}).</p>".format(esc(report.COVERAGE_URL)))
    out.append("<p>{0}</p>".format(esc(report.ISOLATION_NOTE)))
    foreign = built["pods"].get("foreign_policies") or {}
    if foreign.get("line"):
        out.append("<p>Read before the probes: {0}.</p>".format(esc(foreign["line"])))
    for fam in _families_of(pods, built.get("families")):
        rows = [r for r in pods if _family(r) == fam]
        if rows:
            out.append(truth_table(rows, "truth-" + fam, "{0}: {1}".format(fam, _counts_line(rows))))
    listed = [line for res, line in zip(pods, probes.probe_lines(pods))
              if not line.startswith("[ok]") or res.get("carried")]
    if listed:
        out.append('<ul class="problems" id="pod-problems">' + "".join("<li>{0}</li>".format(esc(x)) for x in listed)
                   + "</ul>")
    return out + ["</section>"]


def _vm_checks_html(built):
    vm = built["vm_checks"]
    out = ['<section id="vm-checks"><h2>VM checks</h2>']
    if not (vm["results"] or vm["skipped"]):
        why = built.get("not_asked", {}).get("vms")
        out.append("<p>{0}</p>".format(esc("The VM workshop was not run, as asked: {0}.".format(why) if why
                                           else "The VM checks were not run.")))
        return out + ["</section>"]
    for fam in _families_of(vm["results"], built.get("families")):
        rows = [r for r in vm["results"] if _family(r) == fam]
        if rows:
            out.append(truth_table(rows, "vm-checks-" + fam, "{0}: {1}".format(fam, _counts_line(rows))))
    items = ["FAILED {0} -> {1}: {2}".format(r["from"], r["to"], r["detail"]) for r in vm["results"] if not r["ok"]]
    items += ["skipped {vm} -> {target}: {reason}".format(**r) for r in vm["skipped"]]
    if items:
        out.append('<ul class="problems" id="vm-problems">' + "".join("<li>{0}</li>".format(esc(x)) for x in items)
                   + "</ul>")
    return out + ["</section>"]


def _migrations_html(built, plot_png):
    rows = built["migrations"]["rows"]
    out = ['<section id="live-migration"><h2>Live migration</h2>']
    if not rows:
        out.append("<p>{0}</p>".format(esc("No live migration was run: the VM workshop was left out, as asked."
                                           if "vms" in built.get("not_asked", {}) else "No live migration was run.")))
        return out + ["</section>"]
    fmt = report._fmt  # pylint: disable=protected-access
    out.append(_table("migrations", ["#", "VM", "family", "source \u2192 target", "migration (s)", "survived",
                                     "outage (s)", "retransmits", "recovery (s)", "IPs unchanged", "verdict"],
                      [[esc(r["index"]), esc(r["vm"]), esc(r["family"]),
                        esc("{0} \u2192 {1}".format(r["source_node"] or "?", r["target_node"] or "?")),
                        esc(fmt(r["migration_seconds"])), esc(fmt(r["survived"])), esc(fmt(r["outage_seconds"])),
                        esc(fmt(r["retransmits"])), esc(fmt(r["recovery_seconds"])), esc(fmt(r["ips_unchanged"])),
                        '<span class="claim {0}"><span class="mark">{1}</span> {2}</span>'.format(
                            "ok" if r["ok"] else "wrong", "\u2713" if r["ok"] else "\u2717",
                            esc("ok" if r["ok"] else "; ".join(r["problems"])))] for r in rows],
                      row_attrs=[_attrs(data_ok="true" if r["ok"] else "false", data_family=r["family"])
                                 for r in rows]))
    stats = built["migrations"]["stats"]
    out.append(_table("migration-stats", ["family", "migrations", "survived", "outage min (s)", "outage median (s)",
                                          "outage max (s)", "retransmits median"],
                      [[esc(fam), esc(s["count"]), esc(s["survived"]), esc(fmt(s["outage_min"])),
                        esc(fmt(s["outage_median"])), esc(fmt(s["outage_max"])), esc(fmt(s["retransmits_median"]))]
                       for fam, s in sorted(stats.items())]))
    uri = png_data_uri(plot_png)
    if uri:
        out.append('<figure><img id="migration-plot" src="{0}" alt="throughput during the migrations, per family, '
                   'the migration window shaded and every outage marked"><figcaption>Throughput during the '
                   'migrations (iperf3).</figcaption></figure>'.format(uri))
    return out + ["</section>"]


def _access_html(access):
    out = ['<section id="access"><h2>Reaching your VMs</h2>']
    vms = (access or {}).get("vms") or []
    if not vms:
        return out + ["<p>No VMs recorded.</p>", "</section>"]
    out.append("<p>Log in as <code>{0}</code>. The console is the workshop's way in and needs no network; SSH goes "
               "through a bastion pod on the VM's own network (virtctl port-forward and virtctl ssh cannot reach a "
               "VM whose primary network is a user-defined network, kubevirt/kubevirt#18399). The console password "
               "is not written in this page: your organizer gives it to you (report.md holds it).</p>".format(
                   esc(access.get("user", "fedora"))))
    for vm in vms:
        out.append('<div class="vm"{0}><h3>{1} (namespace {2})</h3>'.format(
            _attrs(data_vm="{0}/{1}".format(vm.get("namespace"), vm.get("name"))), esc(vm.get("name")),
            esc(vm.get("namespace"))))
        if vm.get("console_command"):
            out.append("<p>Console (escape with Ctrl+]):</p>" + _pre([vm["console_command"]]))
        if vm.get("ssh_command"):
            out.append("<p>SSH:</p>" + _pre([vm["ssh_command"]]))
        out.append("</div>")
    out.append(_table("vms", ["VM", "namespace", "addresses", "node"],
                      [[esc(v.get("name")), esc(v.get("namespace")), esc(", ".join(v.get("ips") or [])),
                        esc(v.get("node") or "-")] for v in vms]))
    return out + ["</section>"]


def report_page(built, title, kubeconfig_path=None, steps=None, plot_png=None, access=None, secrets=()):
    """A participant's page (the single-user lab's too) as self-contained HTML.

    ``built``: a report dict (:func:`report.build_report`); ``title``: the lab's or participant's name;
    ``kubeconfig_path``: shown in the header (and the first step); ``steps``: ``[{title, text, commands}]``
    (:func:`fill_steps`), else :func:`default_steps`; ``plot_png``: the migration plot (bytes or a path),
    embedded as a ``data:`` URI; ``access``: the VMs and their commands, else the report's; ``secrets``: strings
    never to write (the console password, tokens): masked wherever they appear.
    """
    if steps is None:
        steps = default_steps(built, kubeconfig_path)
    body = ['<header id="header"{0}><h1>{1}</h1>'.format(_attrs(data_title=title), esc(title))]
    meta = []
    if kubeconfig_path:
        meta.append('Kubeconfig: <code id="kubeconfig">{0}</code>'.format(esc(kubeconfig_path)))
    if built.get("generated"):
        meta.append("Generated {0}".format(esc(built["generated"])))
    meta.append("Address families: {0}".format(esc(", ".join(built.get("families") or []))))
    body.append('<p class="meta">{0}</p>'.format("; ".join(meta)))
    body.append(_summary_html(built))
    body.append("</header>")
    body += _pods_html(built)
    body += _vm_checks_html(built)
    body += _migrations_html(built, plot_png)
    body.append('<section id="workshop"><h2>The workshop, step by step</h2>')
    body.append(_steps_html(steps) if steps else "<p>No steps recorded.</p>")
    body.append("</section>")
    body += _access_html(built.get("access") if access is None else access)
    failures = built["summary"]["failures"]
    body.append('<section id="summary"><h2>Summary</h2>')
    body.append('<ul class="problems">' + "".join("<li>{0}</li>".format(esc(f)) for f in failures) + "</ul>"
                if failures else "<p>Every check passed.</p>")
    body.append("</section>")
    return _document(title, body, secrets)


# --------------------------------------------------------------------------- the organizer's page


def organizer_row(name, built=None, fences=None, href=None):
    """A row of :func:`organizer_page` for participant ``name``: ``built`` their report dict (None: not run),
    ``fences`` their judged fence checks (module_utils classroom ``judge_fences``), ``href`` the relative link to
    their page.

    Claims proven: the pod claims and VM checks this run found as expected (a claim carried from an earlier run
    is not proven by this one), of all of them; fence claims likewise. The state is ``not run`` without a report,
    ``failed`` when the report or a fence claim failed, else ``ready``."""
    fences = list(fences or [])
    row = {"name": name, "href": href, "fences_proven": sum(1 for f in fences if f.get("status") == "correct"),
           "fences_total": len(fences), "claims_proven": 0, "claims_total": 0, "failures": []}
    if built is None:
        row["state"] = STATE_NOT_RUN
        return row
    claims = list(built["pods"]["results"]) + list(built["vm_checks"]["results"])
    row["claims_total"] = len(claims)
    row["claims_proven"] = sum(1 for c in claims if c.get("status") == probes.STATUS_CORRECT and not c.get("carried"))
    row["failures"] = list(built["summary"]["failures"]) + ["fence {0}: {1}".format(f.get("id"), f.get("status"))
                                                            for f in fences if f.get("status") != "correct"]
    row["state"] = STATE_FAILED if row["failures"] else STATE_READY
    return row


def organizer_page(rows, title, secrets=()):
    """The organizer's page: one row per participant (:func:`organizer_row`) with state, claims and fence claims
    proven of the total, and a relative link to the participant's page (none when it has no page)."""
    body = ['<header id="header"{0}><h1>{1}</h1>'.format(_attrs(data_title=title), esc(title))]
    states = dict((state, sum(1 for r in rows if r["state"] == state)) for state in STATES)
    body.append('<p class="meta">{0} participants: {1} ready, {2} failed, {3} not run.</p></header>'.format(
        len(rows), states[STATE_READY], states[STATE_FAILED], states[STATE_NOT_RUN]))
    cells, attrs = [], []
    for row in rows:
        href = row.get("href")
        if href and re.match(r"^[a-z][a-z0-9+.-]*:", href, re.I):
            raise ValueError("the link to {0}'s page must be relative, got {1!r}".format(row["name"], href))
        link = '<a{0}>{1}</a>'.format(_attrs(href=href, class_="participant-page"), esc(row["name"] + "'s page")) \
            if href else "no page"
        mark = {STATE_READY: "\u2713", STATE_FAILED: "\u2717", STATE_NOT_RUN: "\u2013"}[row["state"]]
        state = '<span class="mark">{0}</span> {1}'.format(mark, esc(row["state"]))
        cells.append([esc(row["name"]), (' class="state"', state),
                      esc("{0} / {1}".format(row["claims_proven"], row["claims_total"])),
                      esc("{0} / {1}".format(row["fences_proven"], row["fences_total"])), link,
                      esc("; ".join(row.get("failures") or [])[:500])])
        attrs.append(_attrs(class_="state-" + _slug(row["state"]), data_participant=row["name"],
                            data_state=row["state"], data_claims_proven=row["claims_proven"],
                            data_claims_total=row["claims_total"], data_fences_proven=row["fences_proven"],
                            data_fences_total=row["fences_total"]))
    body.append(_table("participants", ["participant", "state", "claims proven", "fence claims proven", "page",
                                        "failures"], cells, row_attrs=attrs))
    return _document(title, body, secrets)


def relative_href(from_dir, page_path):
    """The link from a page in ``from_dir`` to ``page_path``, relative, with ``/`` separators."""
    return os.path.relpath(page_path, from_dir).replace(os.sep, "/")
