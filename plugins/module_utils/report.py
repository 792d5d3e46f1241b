# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab report: pure functions from recorded results to a report dict, Markdown and JUnit XML.

Inputs are plain data recorded by the roles:

* pod connectivity results (what ``ovnk.udn_lab.connectivity_matrix`` returned),
* VM check observations (raw command results gathered inside the VMs, evaluated here by
  :func:`evaluate_vm_checks`),
* migration records (one per migration and address family: the ``ovnk.udn_lab.vmi_migrate`` verdict, the
  ``ovnk.udn_lab.iperf3_migration`` analysis and the throughput series),
* versions, cluster facts and access instructions.

Nothing here talks to a cluster or writes files except :func:`plot_migrations` (matplotlib, optional) and
:func:`write_if_changed`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import os
import statistics
import xml.etree.ElementTree as ET

CELL_OK = "."
CELL_FAIL = "X"
CELL_UNKNOWN = "?"

CHECK_ROUTE = "default-route"
CHECK_EGRESS = "egress"
CHECK_EAST_WEST = "east-west"
VM_CHECKS = (CHECK_ROUTE, CHECK_EGRESS, CHECK_EAST_WEST)

FAMILIES = ("ipv4", "ipv6")
FAMILY_VERSION = {"ipv4": 4, "ipv6": 6}

PASSWORD_MASK = "********"

REPORT_SECTIONS = (
    "Versions",
    "Cluster",
    "Networks",
    "Pod connectivity",
    "VM checks",
    "Live migration",
    "Access for participants",
)


class ReportError(ValueError):
    """Raised on input the report cannot use (names the offending field)."""


# --------------------------------------------------------------------------- small helpers


def families_for(ip_family):
    """``ipv4`` → ``["ipv4"]``, ``ipv6`` → ``["ipv6"]``, ``dual`` → both. Raises ReportError otherwise."""
    mapping = {"ipv4": ["ipv4"], "ipv6": ["ipv6"], "dual": ["ipv4", "ipv6"]}
    if ip_family not in mapping:
        raise ReportError("unknown address family {0!r}: use ipv4, ipv6 or dual".format(ip_family))
    return mapping[ip_family]


def ip_family_of(address):
    """``ipv4``/``ipv6`` for an address (CIDR suffix allowed), None when it is not an address."""
    try:
        return "ipv{0}".format(ipaddress.ip_interface(str(address)).version)
    except ValueError:
        return None


def network_gateway(cidr):
    """The first host address of ``cidr``: where OVN-Kubernetes puts a Layer2 UDN's gateway."""
    net = ipaddress.ip_network(str(cidr), strict=False)
    return str(net.network_address + 1)


def gateways_by_family(cidrs):
    """``{"ipv4": "192.168.0.1", "ipv6": "fd00::1"}`` for a list of subnets."""
    out = {}
    for cidr in cidrs or []:
        fam = ip_family_of(str(cidr).split("/")[0])
        if fam and fam not in out:
            out[fam] = network_gateway(cidr)
    return out


def _num(value):
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _first(mapping, *keys):
    for key in keys:
        if isinstance(mapping, dict) and mapping.get(key) is not None:
            return mapping[key]
    return None


def mask(text, secrets):
    """Replace every non-empty secret in ``text`` by a fixed mask."""
    for secret in secrets or []:
        if secret:
            text = text.replace(secret, PASSWORD_MASK)
    return text


# --------------------------------------------------------------------------- VM checks


def _routes(stdout):
    try:
        data = json.loads(stdout or "[]")
    except ValueError:
        return None
    return data if isinstance(data, list) else None


def _route_verdict(obs, gateways):
    """Is there a default route via the UDN gateway of this family?"""
    fam = obs.get("family")
    routes = _routes(obs.get("stdout"))
    if routes is None:
        return False, "unparsable `ip -j route` output: {0!r}".format((obs.get("stdout") or "")[:120])
    defaults = [r for r in routes if r.get("dst") == "default"]
    if not defaults:
        return False, "no default route"
    expected = gateways.get(fam)
    seen = ", ".join("via {0} dev {1}".format(r.get("gateway", "-"), r.get("dev", "-")) for r in defaults)
    for route in defaults:
        gw = route.get("gateway")
        if gw and expected and gw == expected:
            return True, "default {0}".format(seen)
        # IPv6 default routes are learnt from router advertisements: the gateway is link-local.
        if fam == "ipv6" and gw and ipaddress.ip_address(gw).is_link_local:
            return True, "default {0} (router advertisement)".format(seen)
    return False, "default {0}; expected via {1}".format(seen, expected or "the UDN gateway")


def evaluate_vm_checks(observations, gateways=None):
    """Turn raw observations gathered inside the VMs into check results.

    Each observation: ``{vm, check, family, target, rc, stdout, stderr, skipped}`` where ``check`` is one of
    ``default-route`` (stdout = ``ip -j -4|-6 route show default``), ``egress`` or ``east-west`` (rc of a ping).
    ``gateways`` maps family → expected gateway (see :func:`gateways_by_family`).

    Returns a list of ``{vm, check, family, target, ok, cell, detail}`` with ``ok`` None for skipped checks.
    """
    results = []
    for obs in observations or []:
        check = obs.get("check")
        if check not in VM_CHECKS:
            raise ReportError("unknown VM check {0!r}: use one of {1}".format(check, ", ".join(VM_CHECKS)))
        if obs.get("family") not in FAMILIES:
            raise ReportError("unknown address family {0!r} in VM check {1}".format(obs.get("family"), check))
        base = {
            "vm": obs.get("vm"),
            "check": check,
            "family": obs["family"],
            "target": obs.get("target") or "",
        }
        if obs.get("skipped"):
            base.update(ok=None, cell=CELL_UNKNOWN, detail=obs.get("reason") or "skipped")
        elif check == CHECK_ROUTE:
            ok, detail = _route_verdict(obs, gateways or {})
            base.update(ok=ok, cell=CELL_OK if ok else CELL_FAIL, detail=detail)
        else:
            rc = obs.get("rc")
            ok = rc == 0
            text = (obs.get("stdout") or "").strip().splitlines()
            summary = next((line for line in reversed(text) if "packet" in line), text[-1] if text else "")
            if not ok:
                err = (obs.get("stderr") or "").strip()
                summary = "; ".join(x for x in ("rc={0}".format(rc), summary, err) if x)
            base.update(ok=ok, cell=CELL_OK if ok else CELL_FAIL, detail=summary)
        results.append(base)
    return results


def vm_truth_tables(results):
    """Truth tables per family: rows are source VMs, columns are targets (``gateway``, ``egress``, peer VMs).

    Cells: ``.`` passed, ``X`` failed, ``?`` skipped or not run. Returns ``{family: {"columns": [...],
    "rows": [[vm, cell, ...], ...]}}``.
    """
    tables = {}
    for fam in FAMILIES:
        rows = [r for r in results if r["family"] == fam]
        if not rows:
            continue
        vms = sorted(set(r["vm"] for r in rows))
        peers = sorted(set(r["target"] for r in rows if r["check"] == CHECK_EAST_WEST))
        columns = ["gateway", "egress"] + peers
        cells = {}
        for r in rows:
            col = {CHECK_ROUTE: "gateway", CHECK_EGRESS: "egress"}.get(r["check"], r["target"])
            cells[(r["vm"], col)] = r["cell"]
        table_rows = []
        for vm in vms:
            table_rows.append([vm] + [cells.get((vm, c), "-" if c == vm else CELL_UNKNOWN) for c in columns])
        tables[fam] = {"columns": columns, "rows": table_rows}
    return tables


def pod_truth_tables(pod_results):
    """Normalise pod connectivity results into the same table shape as :func:`vm_truth_tables`.

    Accepts either ready tables (``{"tables": {name: {"columns", "rows"}}}``) or a list of probe results
    ``{source, target, ok|passed, expected, observed}`` (one table, rows = sources, columns = targets; ``.`` when
    the observation matched the expectation, ``X`` otherwise, ``?`` when unknown).
    """
    if not pod_results:
        return {}
    if isinstance(pod_results, dict) and isinstance(pod_results.get("tables"), dict):
        return pod_results["tables"]
    probes = pod_results.get("results") if isinstance(pod_results, dict) else pod_results
    sources, targets, cells = [], [], {}
    for probe in probes or []:
        src, dst = str(probe.get("source")), str(probe.get("target"))
        if src not in sources:
            sources.append(src)
        if dst not in targets:
            targets.append(dst)
        ok = _first(probe, "ok", "passed", "matched")
        cells[(src, dst)] = CELL_UNKNOWN if ok is None else (CELL_OK if ok else CELL_FAIL)
    return {"pods": {"columns": targets, "rows": [[s] + [cells.get((s, t), "-") for t in targets] for s in sources]}}


def _pod_cases(pod_results):
    if not pod_results:
        return []
    probes = pod_results.get("results") if isinstance(pod_results, dict) else pod_results
    cases = []
    for probe in probes or []:
        ok = _first(probe, "ok", "passed", "matched")
        cases.append({
            "name": "{0} -> {1}".format(probe.get("source"), probe.get("target")),
            "ok": ok,
            "detail": str(_first(probe, "detail", "message", "observed") or ""),
        })
    return cases


# --------------------------------------------------------------------------- migrations


def migration_row(record):
    """Flatten one migration record (vmi_migrate verdict + iperf3_migration analysis) into a table row."""
    analysis = record.get("analysis") or {}
    migration = record.get("migration") or {}
    window = record.get("window") or {}
    survived = _first(analysis, "survived")
    longest = analysis.get("longest_outage") or {}
    retrans = analysis.get("retransmits") or {}
    if isinstance(retrans, dict):
        moved = [retrans.get(k) for k in ("during", "after") if retrans.get(k) is not None]
        retrans = sum(moved) if moved else retrans.get("total")
    ips_unchanged = _first(record, "ips_unchanged")
    if ips_unchanged is None:
        ips_unchanged = _first(migration, "ips_unchanged")
    row = {
        "index": record.get("index"),
        "vm": record.get("vm"),
        "family": record.get("family"),
        "source_node": _first(record, "source_node") or _first(migration, "source_node"),
        "target_node": _first(record, "target_node") or _first(migration, "target_node"),
        "migration_ok": _first(migration, "ok") if migration else record.get("migration_ok"),
        "migration_seconds": _num(_first(migration, "duration_seconds"))
        if migration else _num(_num(window.get("end")) and _num(window.get("end")) - _num(window.get("start"))),
        "survived": survived,
        "outage_seconds": _num(longest.get("seconds")),
        "retransmits": retrans,
        "recovery_seconds": _num(analysis.get("recovery_seconds")),
        "ips_unchanged": ips_unchanged,
        "error": _first(analysis, "error") or "",
    }
    problems = []
    if row["migration_ok"] is False:
        problems.append("migration failed: " + "; ".join((migration.get("errors") or [])[:3]))
    if survived is not True:
        problems.append("stream did not survive: " + "; ".join(analysis.get("failures") or [row["error"] or "no analysis"]))
    elif analysis.get("passed") is False:
        problems.append("; ".join(analysis.get("failures") or ["analysis failed"]))
    if ips_unchanged is False:
        problems.append("IPs changed across the migration")
    row["ok"] = not problems
    row["problems"] = problems
    return row


def migration_stats(rows):
    """Distribution of the outage per family: count, survived, min/median/max outage and retransmits."""
    stats = {}
    for fam in FAMILIES:
        fam_rows = [r for r in rows if r["family"] == fam]
        if not fam_rows:
            continue
        outages = [r["outage_seconds"] for r in fam_rows if r["outage_seconds"] is not None]
        retr = [r["retransmits"] for r in fam_rows if isinstance(r["retransmits"], (int, float))]
        stats[fam] = {
            "count": len(fam_rows),
            "survived": sum(1 for r in fam_rows if r["survived"] is True),
            "outage_min": min(outages) if outages else None,
            "outage_median": statistics.median(outages) if outages else None,
            "outage_max": max(outages) if outages else None,
            "retransmits_median": statistics.median(retr) if retr else None,
        }
    return stats


# --------------------------------------------------------------------------- the report


def build_report(versions=None, cluster=None, networks=None, pod_results=None, vm_checks=None,
                 migrations=None, access=None, ip_family="ipv4", generated=None):
    """Assemble the whole report as a JSON-serialisable dict.

    ``vm_checks`` are results of :func:`evaluate_vm_checks`; ``migrations`` are migration records (see
    :func:`migration_row`); ``access`` is ``{vms: [{name, namespace, ip}], user, ssh_key, ssh_command,
    console_password}`` (the password is shown to participants in report.md, on purpose).
    """
    families = families_for(ip_family)
    vm_checks = list(vm_checks or [])
    rows = [migration_row(m) for m in (migrations or [])]
    pod_cases = _pod_cases(pod_results)
    failures = []
    failures += ["pod {0}".format(c["name"]) for c in pod_cases if c["ok"] is False]
    failures += ["vm {vm} {check} {family} {target}".format(**r).strip() for r in vm_checks if r["ok"] is False]
    failures += ["migration #{0} {1} {2}: {3}".format(r["index"], r["vm"], r["family"], "; ".join(r["problems"]))
                 for r in rows if not r["ok"]]
    return {
        "generated": generated,
        "ip_family": ip_family,
        "families": families,
        "versions": dict(versions or {}),
        "cluster": dict(cluster or {}),
        "networks": list(networks or []),
        "pods": {"tables": pod_truth_tables(pod_results), "cases": pod_cases},
        "vm_checks": {"tables": vm_truth_tables(vm_checks), "results": vm_checks},
        "migrations": {"rows": rows, "stats": migration_stats(rows)},
        "access": dict(access or {}),
        "summary": {
            "pod_checks": len(pod_cases),
            "vm_checks": len(vm_checks),
            "migrations": len(rows),
            "migrations_survived": sum(1 for r in rows if r["survived"] is True),
            "failures": failures,
            "ok": not failures,
        },
    }


def _fmt(value, unit=""):
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "{0:.3f}{1}".format(value, unit)
    return "{0}{1}".format(value, unit)


def _md_table(columns, rows):
    lines = ["| " + " | ".join(str(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
    return lines


def _md_truth_tables(tables, empty):
    if not tables:
        return [empty, ""]
    out = []
    for name, table in sorted(tables.items()):
        out += ["**{0}** (`.` passed, `X` failed, `?` not run)".format(name), ""]
        out += _md_table(["from \\ to"] + list(table["columns"]), table["rows"]) + [""]
    return out


def render_markdown(report, plot_file=None):
    """The report as Markdown: one section per :data:`REPORT_SECTIONS` entry, then the summary."""
    out = ["# UDN lab report", ""]
    if report.get("generated"):
        out += ["Generated {0}; address families: {1}.".format(report["generated"], ", ".join(report["families"])), ""]
    summary = report["summary"]
    out += ["**Result: {0}** — {1} pod checks, {2} VM checks, {3} migrations ({4} streams survived).".format(
        "PASS" if summary["ok"] else "FAIL", summary["pod_checks"], summary["vm_checks"], summary["migrations"],
        summary["migrations_survived"]), ""]

    out += ["## Versions", ""]
    versions = report["versions"]
    out += (_md_table(["component", "version"], [[k, v] for k, v in sorted(versions.items())]) if versions
            else ["No versions recorded."]) + [""]

    out += ["## Cluster", ""]
    cluster = report["cluster"]
    out += (_md_table(["fact", "value"], [[k, ", ".join(v) if isinstance(v, list) else v] for k, v in sorted(cluster.items())])
            if cluster else ["No cluster facts recorded."]) + [""]

    out += ["## Networks", ""]
    nets = report["networks"]
    if nets:
        out += _md_table(
            ["network", "kind", "topology", "role", "subnets", "namespaces"],
            [[n.get("name"), n.get("kind", "ClusterUserDefinedNetwork"), n.get("topology", ""), n.get("role", ""),
              ", ".join(n.get("subnets") or []), ", ".join(n.get("namespaces") or [])] for n in nets])
    else:
        out += ["No networks recorded."]
    out += [""]

    out += ["## Pod connectivity", ""]
    out += _md_truth_tables(report["pods"]["tables"], "The pod workshop checks were not run.")

    out += ["## VM checks", ""]
    out += _md_truth_tables(report["vm_checks"]["tables"], "The VM checks were not run.")
    failed = [r for r in report["vm_checks"]["results"] if r["ok"] is False]
    for r in failed:
        out.append("- FAILED {vm} {check} {family} {target}: {detail}".format(**r))
    if failed:
        out.append("")

    out += ["## Live migration", ""]
    rows = report["migrations"]["rows"]
    if rows:
        out += _md_table(
            ["#", "VM", "family", "source → target", "migration (s)", "survived", "outage (s)", "retransmits",
             "recovery (s)", "IPs unchanged"],
            [[r["index"], r["vm"], r["family"], "{0} → {1}".format(r["source_node"] or "?", r["target_node"] or "?"),
              _fmt(r["migration_seconds"]), _fmt(r["survived"]), _fmt(r["outage_seconds"]), _fmt(r["retransmits"]),
              _fmt(r["recovery_seconds"]), _fmt(r["ips_unchanged"])] for r in rows]) + [""]
        stats = report["migrations"]["stats"]
        out += _md_table(
            ["family", "migrations", "survived", "outage min (s)", "outage median (s)", "outage max (s)",
             "retransmits median"],
            [[fam, s["count"], s["survived"], _fmt(s["outage_min"]), _fmt(s["outage_median"]), _fmt(s["outage_max"]),
              _fmt(s["retransmits_median"])] for fam, s in sorted(stats.items())]) + [""]
        if plot_file:
            out += ["![throughput during the migrations]({0})".format(plot_file), ""]
    else:
        out += ["No live migration was run.", ""]

    out += ["## Access for participants", ""]
    access = report["access"]
    if access.get("vms"):
        out += ["Log in as `{0}`.".format(access.get("user", "fedora")), ""]
        if access.get("ssh_command"):
            out += ["SSH (no console needed):", "", "```", access["ssh_command"], "```", ""]
        if access.get("console_command"):
            out += ["Console:", "", "```", access["console_command"], "```", ""]
        if access.get("console_password"):
            out += ["Console password: `{0}`".format(access["console_password"]), ""]
        out += _md_table(["VM", "namespace", "addresses"],
                         [[v.get("name"), v.get("namespace"), ", ".join(v.get("ips") or [])] for v in access["vms"]])
        out += [""]
    else:
        out += ["No VMs recorded.", ""]

    out += ["## Summary", ""]
    if summary["failures"]:
        out += ["- " + f for f in summary["failures"]]
    else:
        out += ["Every check passed."]
    return "\n".join(out) + "\n"


def render_junit(report):
    """JUnit XML: one testsuite each for pod checks, VM checks and migrations."""
    root = ET.Element("testsuites", name="udn-lab")
    suites = [
        ("pod-connectivity", [(c["name"], c["ok"], c["detail"]) for c in report["pods"]["cases"]]),
        ("vm-checks", [("{vm} {check} {family} {target}".format(**r).strip(), r["ok"], r["detail"])
                       for r in report["vm_checks"]["results"]]),
        ("live-migration", [("migration #{0} {1} {2}".format(r["index"], r["vm"], r["family"]),
                             r["ok"], "; ".join(r["problems"]) or "outage {0} s".format(_fmt(r["outage_seconds"])))
                            for r in report["migrations"]["rows"]]),
    ]
    total = {"tests": 0, "failures": 0, "skipped": 0}
    for name, cases in suites:
        fails = sum(1 for c in cases if c[1] is False)
        skips = sum(1 for c in cases if c[1] is None)
        suite = ET.SubElement(root, "testsuite", name=name, tests=str(len(cases)), failures=str(fails),
                              errors="0", skipped=str(skips))
        for case_name, ok, detail in cases:
            case = ET.SubElement(suite, "testcase", classname="udn_lab." + name, name=case_name)
            if ok is False:
                ET.SubElement(case, "failure", message=detail[:200]).text = detail
            elif ok is None:
                ET.SubElement(case, "skipped", message=detail[:200])
        total["tests"] += len(cases)
        total["failures"] += fails
        total["skipped"] += skips
    for key, value in total.items():
        root.set(key, str(value))
    root.set("errors", "0")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def render_json(report):
    """Stable JSON text of the report."""
    return json.dumps(report, indent=2, sort_keys=True, default=str) + "\n"


# --------------------------------------------------------------------------- plot


def _plot_series(record):
    """``(xs, ys, outages, window)`` of one record, in seconds since the migration start and Gbit/s."""
    analysis = record.get("analysis") or {}
    series = analysis.get("series") or {}
    window = analysis.get("window") or {}
    origin = _num(window.get("start")) or 0.0
    xs, ys = [], []
    for start, end, rate in zip(series.get("start") or [], series.get("end") or [], series.get("bits_per_second") or []):
        xs += [start - origin, end - origin]
        ys += [rate / 1e9, rate / 1e9]
    outages = [(o["start"] - origin, o["end"] - origin) for o in analysis.get("outages") or []]
    span = None
    if window.get("start") is not None and window.get("end") is not None:
        span = (0.0, _num(window["end"]) - origin)
    return xs, ys, outages, span


def plot_migrations(migrations, path, width=10, height_per_migration=3.5, dpi=100):
    """Throughput over time per family, the migration window shaded and every outage marked.

    Reads the ``series``/``outages``/``window`` of ``ovnk.udn_lab.iperf3_migration`` analyses (module_utils
    iperf3); one panel per migration with every family overlaid, time 0 = migration start. (The iperf3
    helper's ``plot`` draws a single stream; the report needs the families side by side.) Needs matplotlib
    (raises ImportError otherwise). Returns the image size in pixels ``(width, height)``.
    """
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot

    by_index = {}
    for record in migrations:
        by_index.setdefault(record.get("index"), []).append(record)
    count = max(1, len(by_index))
    fig, axes = pyplot.subplots(count, 1, figsize=(width, height_per_migration * count), dpi=dpi, squeeze=False)
    colors = {"ipv4": "tab:blue", "ipv6": "tab:orange"}
    try:
        for axis, (index, records) in zip(axes[:, 0], sorted(by_index.items(), key=lambda kv: str(kv[0]))):
            shaded = False
            for record in sorted(records, key=lambda r: str(r.get("family"))):
                xs, ys, outages, span = _plot_series(record)
                axis.plot(xs, ys, color=colors.get(record.get("family"), "tab:green"), linewidth=1.2,
                          label=record.get("family"))
                for o_start, o_end in outages:
                    axis.axvspan(o_start, max(o_end, o_start + 0.05), color="tab:red", alpha=0.2)
                    axis.annotate("outage {0:.1f} s".format(o_end - o_start), xy=(o_start, 0), fontsize=8,
                                  color="tab:red", xytext=(o_start, 0.02), textcoords=("data", "axes fraction"))
                if span and not shaded:
                    axis.axvspan(span[0], max(span[1], 0.05), color="grey", alpha=0.25, label="migration window")
                    shaded = True
            rows = [migration_row(r) for r in records]
            first = rows[0]
            axis.set_title("migration #{0} {1} {2} -> {3}".format(
                index, first["vm"] or "", first["source_node"] or "?", first["target_node"] or "?"), fontsize=9)
            axis.set_xlabel("seconds since migration start")
            axis.set_ylabel("Gbit/s")
            axis.set_ylim(bottom=0)
            axis.grid(alpha=0.3)
            axis.legend(loc="lower right", fontsize=8)
        fig.tight_layout()
        fig.savefig(path, format="png", dpi=dpi)
        size = fig.get_size_inches() * dpi
    finally:
        pyplot.close(fig)
    return int(round(size[0])), int(round(size[1]))


def write_if_changed(path, content):
    """Write ``content`` to ``path`` only when it differs; returns True when written."""
    data = content.encode("utf-8") if not isinstance(content, bytes) else content
    if os.path.exists(path):
        with open(path, "rb") as handle:
            if handle.read() == data:
                return False
    tmp = path + ".tmp"
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
    return True
