# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
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

from ansible_collections.ovnk.udn_lab.plugins.module_utils import junit, ovn, probes

CELL_UNKNOWN = "?"

CHECK_ROUTE = "default-route"
CHECK_EGRESS = "egress"
CHECK_EAST_WEST = "east-west"
CHECK_ADDRESS = "address"
CHECK_CONSOLE = "console"
CHECK_MTU = "mtu"
VM_CHECKS = (CHECK_CONSOLE, CHECK_ADDRESS, CHECK_MTU, CHECK_ROUTE, CHECK_EGRESS, CHECK_EAST_WEST)

FAMILIES = ("ipv4", "ipv6")
FAMILY_VERSION = {"ipv4": 4, "ipv6": 6}

PASSWORD_MASK = "********"
COVERAGE_URL = "https://github.com/ovnk/udn_lab/blob/main/docs/WORKSHOP_COVERAGE.md"
"""The upstream workshop's steps and the claims that prove each (docs/WORKSHOP_COVERAGE.md of the collection)."""
ISOLATION_NOTE = ("A blocked claim between UDN pods means nothing answered, and the target's log holds nothing of the "
                  "probe (its nonce) where the target can witness it: on a real cluster its packet left the node "
                  "(OVN-Kubernetes routes traffic to another UDN's address out of the node's gateway, like any egress; "
                  "the workshop's 103.103.0.0/16 and 203.203.0.0/16 are public ranges). Blocked ClusterIPs are dropped "
                  "on the node.")

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


def gateways_by_family(cidrs):
    """The default-route gateway of a VM on a Layer2 primary UDN with ``cidrs``, per family: IPv4 the subnet's
    first address, IPv6 the router's link-local address (:func:`ovn.layer2_gateways`)."""
    return ovn.layer2_gateways(cidrs)


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
        if gw and expected and ipaddress.ip_address(gw) == ipaddress.ip_address(expected):
            # IPv6: learnt from the UDN router's advertisements, via its link-local address
            return True, "default {0}{1}".format(seen, " (router advertisement)" if fam == "ipv6" else "")
    return False, "default {0}; expected via {1}".format(seen, expected or "the UDN gateway")


def _address_verdict(obs):
    """Does the guest hold its VMI address of this family? (KubeVirt reports the pod interface's addresses in
    ``status.interfaces`` whatever the guest configured: only the guest itself tells, e.g. an IPv6 address that
    never came because the guest ran no DHCPv6.)"""
    expected = obs.get("target")
    try:
        data = json.loads(obs.get("stdout") or "[]")
    except ValueError:
        return False, "unparsable `ip -j addr` output: {0!r}".format((obs.get("stdout") or "")[:120])
    held = [info.get("local") for link in data if isinstance(link, dict)
            for info in link.get("addr_info") or [] if info.get("scope") == "global" and info.get("local")]
    if not expected:
        return False, "the VMI reports no {0} address".format(obs.get("family"))
    if any(ipaddress.ip_address(ip) == ipaddress.ip_address(expected) for ip in held):
        return True, "holds {0}".format(expected)
    return False, "the guest holds {0}, not its VMI address {1}{2}".format(
        ", ".join(held) or "no global {0} address".format(obs.get("family")), expected,
        " (no DHCPv6 in the guest? its cloud-init network data must enable dhcp6)" if obs.get("family") == "ipv6"
        else "")


def _mtu_verdict(obs):
    """Has the guest's interface holding its VMI address the network's MTU (``expected_mtu``)? OVN-Kubernetes
    v1.3.0 gives the network's MTU in DHCPv4 (option ``mtu``) and in router advertisements, and KubeVirt v1.8.4
    gives the tap and the domain interface the pod interface's MTU; the workshop's ``ip a`` shows ``mtu 1400``."""
    expected, target = obs.get("expected_mtu"), obs.get("target")
    try:
        data = json.loads(obs.get("stdout") or "[]")
    except ValueError:
        return False, "unparsable `ip -j addr` output: {0!r}".format((obs.get("stdout") or "")[:120])
    if not target:
        return False, "the VMI reports no {0} address, so no interface to look at".format(obs.get("family"))
    link = next((link for link in data if isinstance(link, dict) and any(
        info.get("local") and ipaddress.ip_address(info["local"]) == ipaddress.ip_address(target)
        for info in link.get("addr_info") or [])), None)
    if link is None:
        return False, "no interface of the guest holds its VMI address {0}".format(target)
    if not expected:
        return False, "{0} has MTU {1}, but the network's MTU is unknown (the cluster's is read from ConfigMap " \
            "ovn-kubernetes/ovn-config, key mtu)".format(link.get("ifname"), link.get("mtu"))
    if link.get("mtu") != expected:
        return False, "{0} has MTU {1}, not its network's {2}".format(link.get("ifname"), link.get("mtu"), expected)
    return True, "{0} mtu {1}".format(link.get("ifname"), link.get("mtu"))


_CLAIMS = {
    CHECK_CONSOLE: "virtctl console logs into the VM with the lab's console password, as the workshop does, and the "
                   "guest shows its VMI address there",
    CHECK_ADDRESS: "the guest holds its VMI address (from OVN-Kubernetes' DHCP)",
    CHECK_MTU: "the guest's interface has its network's MTU (ip a)",
    CHECK_ROUTE: "the default route goes through the UDN gateway",
    CHECK_EGRESS: "the VM reaches the outside of the cluster (by address, and by name through cluster DNS)",
    CHECK_EAST_WEST: "VMs on the same cluster UDN reach each other by IP",
}


def _console_verdict(obs):
    """A login on the serial console (module vm_console): rc of the command run there, its ``ip -j addr`` output,
    the console's error as ``stderr``."""
    if obs.get("rc") != 0:
        return False, "virtctl console: {0}".format((obs.get("stderr") or "the command did not run (rc {0})".format(
            obs.get("rc"))).strip()[:300])
    ok, detail = _address_verdict(obs)
    return ok, "logged in as {0} over virtctl console; the guest {1}".format(obs.get("user") or "the lab user", detail)


def _vm_target_label(obs, gateways):
    fam = obs["family"]
    if obs["check"] == CHECK_CONSOLE:
        return "virtctl console ({0})".format(fam)
    if obs["check"] == CHECK_ADDRESS:
        return "address {0} ({1})".format(obs.get("target") or "?", fam)
    if obs["check"] == CHECK_MTU:
        return "mtu {0}".format(obs.get("expected_mtu") or "?")
    if obs["check"] == CHECK_ROUTE:
        return "gateway {0} ({1})".format(gateways.get(fam) or "?", fam)
    if obs["check"] == CHECK_EGRESS:
        return "egress {0} ({1})".format(obs.get("target") or "?", fam)
    return "{0} ({1})".format(obs.get("target") or "?", fam)


def evaluate_vm_checks(observations, gateways=None):
    """Turn raw observations gathered inside the VMs into results shaped like the pod workshop's probes.

    Each observation: ``{vm, network, check, family, target, rc, stdout, stderr, skipped, reason}`` where
    ``check`` is ``console`` (a login over ``virtctl console``: rc and stdout of ``ip -j addr`` run there, the
    console's error in stderr), ``address`` (stdout = ``ip -j -4|-6 addr show scope global``, target = the VMI's
    address of that family), ``mtu`` (the same output; ``expected_mtu`` = the network's MTU), ``default-route``
    (stdout = ``ip -j -4|-6 route show default``), ``egress`` or ``east-west`` (rc of a ping). ``gateways`` maps
    network name → family → expected gateway (:func:`gateways_by_family`), or family → gateway for a single
    network.

    Returns ``(results, skipped)``: ``results`` are dicts with the fields of module_utils probes results (id,
    claim, phase, from, to, family, expected, observed, status, detail, ...) so its truth tables and JUnit
    writer apply unchanged; ``skipped`` lists the checks not run (``{vm, check, family, target, reason}``).
    """
    results, skipped = [], []
    for index, obs in enumerate(observations or []):
        check = obs.get("check")
        if check not in VM_CHECKS:
            raise ReportError("unknown VM check {0!r}: use one of {1}".format(check, ", ".join(VM_CHECKS)))
        if obs.get("family") not in FAMILIES:
            raise ReportError("unknown address family {0!r} in VM check {1}".format(obs.get("family"), check))
        gws = gateways or {}
        if obs.get("network") in gws and isinstance(gws[obs["network"]], dict):
            gws = gws[obs["network"]]
        if obs.get("skipped"):
            skipped.append({"vm": obs.get("vm"), "check": check, "family": obs["family"],
                            "target": _vm_target_label(obs, gws), "reason": obs.get("reason") or "skipped"})
            continue
        if check == CHECK_ROUTE:
            ok, detail = _route_verdict(obs, gws)
        elif check == CHECK_ADDRESS:
            ok, detail = _address_verdict(obs)
        elif check == CHECK_MTU:
            ok, detail = _mtu_verdict(obs)
        elif check == CHECK_CONSOLE:
            ok, detail = _console_verdict(obs)
        else:
            ok = obs.get("rc") == 0
            detail = "ping answered" if ok else "; ".join(
                x for x in ("ping rc={0}".format(obs.get("rc")), (obs.get("stderr") or "").strip()[:200]) if x)
        result = probes.observed_result(
            "vm-{0}".format(index + 1), _CLAIMS[check], check, str(obs.get("vm")), _vm_target_label(obs, gws),
            obs["family"], ok, detail, obs.get("reproduce"), phase="vm",
            protocol={CHECK_ROUTE: "route", CHECK_ADDRESS: "address", CHECK_CONSOLE: "console",
                      CHECK_MTU: "link"}.get(check, "icmp"))
        result.update(ok=ok, address=obs.get("target"))
        results.append(result)
    return results, skipped


def truth_tables_by_family(results):
    """``{family: {"observed": text, "diff": text}}`` using the pod workshop's matrix writer (module_utils probes)."""
    out = {}
    for fam in FAMILIES:
        rows = [r for r in results if r.get("family") == fam]
        if rows:
            tables = probes.truth_tables(rows)
            out[fam] = {"observed": tables["observed"], "diff": tables["diff"]}
    return out


def pod_results_list(pod_results):
    """The probe results from what ``ovnk.udn_lab.connectivity_matrix`` returned (dict with ``results``) or a list."""
    if not pod_results:
        return []
    if isinstance(pod_results, dict):
        return list(pod_results.get("results") or [])
    return list(pod_results)


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
        "migration_ok": _first(record, "migration_ok") if record.get("migration_ok") is not None
        else _first(migration, "ok"),
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
        problems.append("migration failed: " + "; ".join(
            (migration.get("errors") or [])[:3] or [str(migration.get("msg") or "no detail")]))
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


def network_cidrs(network, families=FAMILIES):
    """Subnets of a network record for ``families``: ``cidrs`` (list) or ``subnets`` (a list, or a mapping family →
    CIDR or ``{cidr, host_subnet}`` as the pod workshop writes Layer3 subnets)."""
    if network.get("cidrs"):
        cidrs = list(network["cidrs"])
    else:
        subnets = network.get("subnets") or []
        if isinstance(subnets, dict):
            cidrs = [subnets[f] for f in FAMILIES if subnets.get(f)]
        else:
            cidrs = list(subnets)
    cidrs = [c.get("cidr") if isinstance(c, dict) else c for c in cidrs]
    return [c for c in cidrs if c and ip_family_of(str(c).split("/", maxsplit=1)[0]) in families]


def _network_namespaces(network):
    if network.get("namespaces"):
        return list(network["namespaces"])
    return [network["namespace"]] if network.get("namespace") else []


def build_report(versions=None, cluster=None, networks=None, pod_results=None, vm_observations=None,
                 migrations=None, access=None, ip_family="ipv4", generated=None, not_asked=None):
    """Assemble the whole report as a JSON-serialisable dict.

    ``pod_results``: what ``ovnk.udn_lab.connectivity_matrix`` returned (or its ``results``);
    ``vm_observations``: raw checks from inside the VMs (see :func:`evaluate_vm_checks`; the gateways come from
    ``networks``); ``migrations``: migration records (see :func:`migration_row`); ``access``: ``{vms: [{name,
    namespace, ips, node, ssh_command, console_command}], user}`` (the commands per VM: module_utils access).
    ``not_asked``: ``{part: why}`` for the workshops the user left out (``pods``, ``vms``): the report says they
    were not run because that was asked, not because something failed. The console password is never part of the
    dict.
    """
    families = families_for(ip_family)
    networks = list(networks or [])
    gateways = dict((n.get("name"), gateways_by_family(network_cidrs(n, families))) for n in networks)
    vm_results, vm_skipped = evaluate_vm_checks(vm_observations, gateways)
    pods = pod_results_list(pod_results)
    rows = [migration_row(m) for m in (migrations or [])]
    by_part = {
        "pods": ["pod {0} -> {1}: {2}".format(r.get("from"), r.get("to"), r.get("status")) for r in pods
                 if r.get("status") not in (probes.STATUS_CORRECT, probes.STATUS_SKIPPED)],
        "vm_checks": ["vm {0} -> {1}: {2}".format(r["from"], r["to"], r["detail"]) for r in vm_results if not r["ok"]],
        "migrations": ["migration #{0} {1} {2}: {3}".format(r["index"], r["vm"], r["family"], "; ".join(r["problems"]))
                       for r in rows if not r["ok"]],
    }
    failures = by_part["pods"] + by_part["vm_checks"] + by_part["migrations"]
    return {
        "generated": generated,
        "ip_family": ip_family,
        "families": families,
        "versions": dict(versions or {}),
        "cluster": dict(cluster or {}),
        "networks": [dict(n, cidrs=network_cidrs(n, families), namespaces=_network_namespaces(n),
                          gateways=gateways[n.get("name")]) for n in networks],
        "pods": {"results": pods, "tables": probes.truth_tables(pods) if pods else {},
                 "foreign_policies": (pod_results.get("foreign_policies") or {}) if isinstance(pod_results, dict)
                 else {},
                 "summary": probes.summarize(pods)["line"] if pods else "not run"},
        "vm_checks": {"results": vm_results, "skipped": vm_skipped, "tables": truth_tables_by_family(vm_results)},
        "migrations": {"rows": rows, "stats": migration_stats(rows)},
        "access": dict(access or {}),
        "not_asked": dict(not_asked or {}),
        "summary": {
            "pod_checks": len(pods),
            "vm_checks": len(vm_results),
            "vm_checks_skipped": len(vm_skipped),
            "migrations": len(rows),
            "migrations_survived": sum(1 for r in rows if r["survived"] is True),
            "outage_max_seconds": max([r["outage_seconds"] for r in rows if r["outage_seconds"] is not None] or [None],
                                      key=lambda v: -1 if v is None else v),
            "failures": failures,
            "failures_by_part": by_part,
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


def _md_text_tables(tables):
    out = []
    for name in ("observed", "diff"):
        if tables.get(name):
            out += ["```", tables[name], "```", ""]
    return out


def render_markdown(report, plot_file=None, console_password=None):
    """The report as Markdown: one section per :data:`REPORT_SECTIONS` entry, then the summary.

    ``console_password`` is shown to participants in the access section (it is never part of the report dict).
    """
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
            [[n.get("name"), n.get("kind", "ClusterUserDefinedNetwork"), n.get("topology", "Layer2"),
              n.get("role", "Primary"), ", ".join(n.get("cidrs") or []), ", ".join(n.get("namespaces") or [])]
             for n in nets])
    else:
        out += ["No networks recorded."]
    out += [""]

    out += ["## Pod connectivity", ""]
    if report["pods"]["results"]:
        out += [report["pods"]["summary"], "",
                "Each upstream workshop step and the claims that prove it: [workshop coverage]({0}).".format(COVERAGE_URL),
                "", ISOLATION_NOTE, ""]
        foreign = report["pods"].get("foreign_policies") or {}
        if foreign.get("line"):
            out += ["Read before the probes: {0}.".format(foreign["line"]), ""]
        out += _md_text_tables(report["pods"]["tables"])
        # every claim that is not plainly proven by this run: wrong, unknown, not applicable, or carried from an
        # earlier run (the before-policy claims, which cannot be proven again once the policy exists)
        out += ["- " + line for res, line in zip(report["pods"]["results"], probes.probe_lines(report["pods"]["results"]))
                if not line.startswith("[ok]") or res.get("carried")] + [""]
    elif "pods" in report.get("not_asked", {}):
        out += ["The pod workshop was not run, as asked: {0}.".format(report["not_asked"]["pods"]), ""]
    else:
        out += ["The pod workshop checks were not run.", ""]

    out += ["## VM checks", ""]
    vm = report["vm_checks"]
    if vm["results"] or vm["skipped"]:
        for fam, tables in sorted(vm["tables"].items()):
            out += ["**{0}**".format(fam), ""] + _md_text_tables(tables)
        for r in vm["results"]:
            if not r["ok"]:
                out.append("- FAILED {0} -> {1}: {2}".format(r["from"], r["to"], r["detail"]))
        for r in vm["skipped"]:
            out.append("- skipped {vm} -> {target}: {reason}".format(**r))
        out.append("")
    elif "vms" in report.get("not_asked", {}):
        out += ["The VM workshop was not run, as asked: {0}.".format(report["not_asked"]["vms"]), ""]
    else:
        out += ["The VM checks were not run.", ""]

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
    elif "vms" in report.get("not_asked", {}):
        out += ["No live migration was run: the VM workshop was left out, as asked.", ""]
    else:
        out += ["No live migration was run.", ""]

    out += ["## Access for participants", ""]
    access = report["access"]
    if access.get("vms"):
        user = access.get("user", "fedora")
        out += ["Log in as `{0}`. The console is the workshop's way in and needs no network; SSH goes through a "
                "bastion pod on the VM's own network (`virtctl port-forward` and `virtctl ssh` cannot reach a VM "
                "whose primary network is a user-defined network: virt-api dials it from the cluster's default "
                "network, kubevirt/kubevirt#18399).".format(user), ""]
        if console_password:
            out += ["Console password for `{0}`: `{1}`".format(user, console_password), ""]
        for vm in access["vms"]:
            out += ["### {0} (namespace {1})".format(vm.get("name"), vm.get("namespace")), ""]
            if vm.get("console_command"):
                out += ["Console (escape with Ctrl+]):", "", "```", vm["console_command"], "```", ""]
            if vm.get("ssh_command"):
                out += ["SSH:", "", "```", vm["ssh_command"], "```", ""]
        out += _md_table(["VM", "namespace", "addresses", "node"],
                         [[v.get("name"), v.get("namespace"), ", ".join(v.get("ips") or []), v.get("node") or "-"]
                          for v in access["vms"]])
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
    """JUnit XML (module_utils/junit.py) with three suites: pod connectivity and VM checks (one case per claim, as
    the pod workshop writes them) and live migration (one case per migration and family)."""
    vm_cases = probes.junit_cases(report["vm_checks"]["results"], "vm-checks") + [
        junit.case("vm-checks.vm", "{vm} -> {target}".format(**skip), junit.SKIPPED, skip["reason"])
        for skip in report["vm_checks"]["skipped"]]
    migration_cases = []
    for r in report["migrations"]["rows"]:
        text = "survived {0}, outage {1} s, retransmits {2}, recovery {3} s, IPs unchanged {4}".format(
            _fmt(r["survived"]), _fmt(r["outage_seconds"]), _fmt(r["retransmits"]), _fmt(r["recovery_seconds"]),
            _fmt(r["ips_unchanged"]))
        migration_cases.append(junit.case(
            "live-migration.{0}".format(r["family"]),
            "migration #{0} {1} {2} -> {3}".format(r["index"], r["vm"], r["source_node"], r["target_node"]),
            junit.PASSED if r["ok"] else junit.FAILURE, "; ".join(r["problems"]), text, kind="migration"))
    return junit.document("udn-lab", [
        ("pod-connectivity", probes.junit_cases(report["pods"]["results"], "pod-connectivity")),
        ("vm-checks", vm_cases),
        ("live-migration", migration_cases),
    ])


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


def migration_figure(migrations, width=10, height_per_migration=3.5, dpi=100):
    """A matplotlib figure: throughput over time per family, the migration window shaded, every outage marked.

    Reads the ``series``/``outages``/``window`` of ``ovnk.udn_lab.iperf3_migration`` analyses (module_utils
    iperf3); one panel per migration with every family overlaid, time 0 = migration start. (The iperf3
    helper's ``plot`` draws a single stream; the report needs the families side by side.) Needs matplotlib
    (raises ImportError otherwise). The caller closes the figure.
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
    for axis, (index, records) in zip(axes[:, 0], sorted(by_index.items(), key=lambda kv: str(kv[0]))):
        shaded = False
        for record in sorted(records, key=lambda r: str(r.get("family"))):
            xs, ys, outages, span = _plot_series(record)
            axis.plot(xs, ys, color=colors.get(record.get("family"), "tab:green"), linewidth=1.2,
                      label=record.get("family"))
            for o_start, o_end in outages:
                axis.axvspan(o_start, max(o_end, o_start + 0.05), color="tab:red", alpha=0.2)
                axis.annotate("{0} outage {1:.1f} s".format(record.get("family"), o_end - o_start), xy=(o_start, 0),
                              fontsize=8, color="tab:red", xytext=(o_start, 0.02 if record.get("family") != "ipv6" else 0.09),
                              textcoords=("data", "axes fraction"))
            if span and not shaded:
                axis.axvspan(span[0], max(span[1], 0.05), color="grey", alpha=0.25, label="migration window")
                shaded = True
        first = migration_row(records[0])
        axis.set_title("migration #{0} {1} {2} -> {3}".format(
            index, first["vm"] or "", first["source_node"] or "?", first["target_node"] or "?"), fontsize=9)
        axis.set_xlabel("seconds since migration start")
        axis.set_ylabel("Gbit/s")
        axis.set_ylim(bottom=0)
        axis.grid(alpha=0.3)
        axis.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def plot_migrations(migrations, path, width=10, height_per_migration=3.5, dpi=100):
    """Write :func:`migration_figure` as a PNG to ``path``; returns the image size in pixels ``(width, height)``."""
    from matplotlib import pyplot

    fig = migration_figure(migrations, width, height_per_migration, dpi)
    try:
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


def summary_lines(report, files=None):
    """A few lines for the end of a playbook: result, checks, migrations (outage distribution), where the files are."""
    summary = report["summary"]
    lines = ["lab report: {0}".format("PASS" if summary["ok"] else "FAIL ({0} failures)".format(len(summary["failures"])))]
    if report["pods"]["results"]:
        lines.append(report["pods"]["summary"])
    vm = report["vm_checks"]
    if vm["results"] or vm["skipped"]:
        lines.append("VM checks: {0} run, {1} passed, {2} skipped".format(
            len(vm["results"]), sum(1 for r in vm["results"] if r["ok"]), len(vm["skipped"])))
    for fam, stats in sorted(report["migrations"]["stats"].items()):
        lines.append("migrations {0}: {1}/{2} streams survived, outage min/median/max {3}/{4}/{5} s".format(
            fam, stats["survived"], stats["count"], _fmt(stats["outage_min"]), _fmt(stats["outage_median"]),
            _fmt(stats["outage_max"])))
    lines += ["failed: " + f for f in summary["failures"][:10]]
    if files and files.get("markdown"):
        lines.append("report: {0}".format(files["markdown"]))
    return lines
