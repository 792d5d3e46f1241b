#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lab_report
short_description: Write the UDN lab report (Markdown, JSON, JUnit XML, an HTML page and a migration plot)
version_added: 0.1.0
description:
  - Builds the lab report from recorded results and writes, in O(dest), C(report.md), C(report.json),
    C(junit.xml), C(report.html) when O(html=true) and, when migrations are given and O(plot=true),
    C(migration.png).
  - C(report.html) is the participant's handout, one self-contained file (inline CSS, no script, nothing fetched) -
    the truth tables per address family with a mark and a class per claim, the VM checks, the migrations with the
    plot embedded, the workshop's steps with the lab's own names (O(steps)) and the commands that reach the VMs.
  - Pod connectivity results are what M(ovnk.udn_lab.connectivity_matrix) returned; they are shown with the same
    truth tables (C(.) reachable, C(X) blocked, C(?) no answer) as the VM checks.
  - VM checks are raw observations gathered inside the VMs (C(ip -j route show default) output, ping exit codes);
    this module judges them - default route via the UDN gateway (the first address of the network's subnet, or a
    link-local router for IPv6), egress, east/west.
  - Migrations are one record per migration and address family with the M(ovnk.udn_lab.vmi_migrate) result and
    the M(ovnk.udn_lab.iperf3_migration) analysis; the report gives a table and the outage distribution per family.
  - The console password (O(console_password)) is written into C(report.md) for participants (file mode 0600)
    and never into C(report.json), C(junit.xml), C(report.html) or the module result; C(report.html) masks it and
    anything shaped like a token.
  - A file is only rewritten when its content differs, so a second run with the same results changes nothing.
    Check mode predicts C(changed) (and RV(written)) without writing.
author:
  - ovnk.udn_lab maintainers (@ovnk)
options:
  dest:
    description: Report directory (created when missing).
    type: path
    required: true
  ip_family:
    description: Address families of the lab.
    type: str
    choices: [ipv4, ipv6, dual]
    default: ipv4
  versions:
    description: Component to version, shown in the report.
    type: dict
    default: {}
  cluster:
    description: Cluster facts shown in the report (name, nodes, ...).
    type: dict
    default: {}
  networks:
    description:
      - Networks of the lab - C(name), C(cidrs) (or C(subnets), a list or a family to CIDR mapping), C(namespaces),
        optional C(kind), C(topology), C(role). The VM gateways are derived from them.
    type: list
    elements: dict
    default: []
  pod_results:
    description: The result of M(ovnk.udn_lab.connectivity_matrix) (a dict with C(results)) or its C(results) list.
    type: raw
  vm_observations:
    description:
      - Raw VM checks - C(vm), C(network), C(check) (V(default-route), V(egress) or V(east-west)), C(family)
        (V(ipv4) or V(ipv6)), C(target), C(rc), C(stdout), C(stderr), or C(skipped) with a C(reason).
    type: list
    elements: dict
    default: []
  migrations:
    description:
      - One record per migration and family - C(index), C(vm), C(family), C(migration) (the
        M(ovnk.udn_lab.vmi_migrate) result), C(analysis) (the M(ovnk.udn_lab.iperf3_migration) result with its
        C(series)), optional C(ips_unchanged), C(source_node), C(target_node).
    type: list
    elements: dict
    default: []
  access:
    description:
      - How participants reach the VMs - C(user), C(ssh_command), C(console_command), C(vms) (list of C(name),
        C(namespace), C(ips)).
    type: dict
    default: {}
  console_password:
    description: Console password shown to participants in C(report.md) only.
    type: str
  plot:
    description: Write C(migration.png) (needs matplotlib) when O(migrations) is not empty.
    type: bool
    default: true
  fail_on_error:
    description: Fail (after writing the report) when a check or a migration failed.
    type: bool
    default: false
  not_asked:
    description:
      - The workshops the user left out (C(pods), C(vms)), each with why; the report says they were not run as
        asked, not as a failure.
    type: dict
    default: {}
  html:
    description: Write C(report.html) too, next to C(report.md).
    type: bool
    default: true
  title:
    description: The heading of C(report.html) - the lab's or the participant's name.
    type: str
    default: UDN lab report
  participant:
    description:
      - The participant whose page this is, in a classroom (module_utils classroom). In O(steps),
        C({participant}) becomes this name and C({ns:NAME}) (or C({net:NAME})) the participant's own
        C(<participant>-NAME); without a participant, C(NAME) as written.
    type: str
  steps:
    description:
      - The workshop's steps for C(report.html), each C(title), optional C(text) and C(commands) (a list of
        command lines, shown as code). Omitted - steps derived from the report (the C(kubeconfig) of
        O(cluster), the networks, the namespaces, a claim to reproduce, the VMs' consoles, a migration).
    type: list
    elements: dict
requirements:
  - matplotlib (only for O(plot))
seealso:
  - module: ovnk.udn_lab.connectivity_matrix
  - module: ovnk.udn_lab.iperf3_migration
  - module: ovnk.udn_lab.vmi_migrate
"""

EXAMPLES = r"""
- name: Write the lab report
  ovnk.udn_lab.lab_report:
    dest: "{{ udn_lab_dir }}/report"
    ip_family: dual
    versions: {kubevirt: v1.8.4, ovn_kubernetes: v1.3.0}
    networks:
      - name: happy-tenant
        cidrs: [192.168.0.0/16, "fd00:192:168::/64"]
        namespaces: [red-namespace, blue-namespace]
    vm_observations: "{{ vm_checks.observations }}"
    migrations: "{{ migration_records }}"
    console_password: "{{ console_password }}"
  register: report

- name: Show the summary
  ansible.builtin.debug:
    msg: "{{ report.lines }}"
"""

RETURN = r"""
files:
  description: Paths of the files of the report.
  returned: always
  type: dict
  sample: {"markdown": "/home/u/.ovnk-udn-lab/ovn-k-helm/report/report.md", "json": "...", "junit": "...",
           "html": "...", "plot": "..."}
written:
  description:
    - Names (V(markdown), V(json), V(junit), V(html), V(plot)) of the files written (or that would be, in check
      mode).
  returned: always
  type: list
  elements: str
summary:
  description: Counts, failures (all, and per part - V(pods), V(vm_checks), V(migrations)) and the overall C(ok).
  returned: always
  type: dict
  sample: {"ok": true, "pod_checks": 20, "vm_checks": 8, "migrations": 3, "migrations_survived": 3,
           "outage_max_seconds": 1.2, "failures": [], "failures_by_part": {"pods": [], "vm_checks": [],
           "migrations": []}}
vm_tables:
  description: Per family, the observed and diff truth tables of the VM checks (text).
  returned: always
  type: dict
migration_rows:
  description: One row per migration and family (survived, outage_seconds, retransmits, recovery_seconds, ...).
  returned: always
  type: list
  elements: dict
lines:
  description: A short human summary (for the end of a playbook).
  returned: always
  type: list
  elements: str
plot_error:
  description: Why C(migration.png) could not be written (matplotlib missing), when it could not.
  returned: when the plot failed
  type: str
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ovnk.udn_lab.plugins.module_utils import pages, report

FILES = (("markdown", "report.md", 0o600), ("json", "report.json", 0o644), ("junit", "junit.xml", 0o644),
         ("html", "report.html", 0o644))
PLOT_FILE = "migration.png"


def argument_spec():
    return dict(
        dest=dict(type="path", required=True),
        ip_family=dict(type="str", choices=["ipv4", "ipv6", "dual"], default="ipv4"),
        versions=dict(type="dict", default={}),
        cluster=dict(type="dict", default={}),
        networks=dict(type="list", elements="dict", default=[]),
        pod_results=dict(type="raw"),
        vm_observations=dict(type="list", elements="dict", default=[]),
        migrations=dict(type="list", elements="dict", default=[]),
        access=dict(type="dict", default={}),
        console_password=dict(type="str", no_log=True),
        plot=dict(type="bool", default=True),
        fail_on_error=dict(type="bool", default=False),
        not_asked=dict(type="dict", default={}),
        html=dict(type="bool", default=True),
        title=dict(type="str", default="UDN lab report"),
        participant=dict(type="str"),
        steps=dict(type="list", elements="dict"),
    )


def _differs(path, data):
    if not os.path.exists(path):
        return True
    with open(path, "rb") as handle:
        return handle.read() != data


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    try:
        built = report.build_report(p["versions"], p["cluster"], p["networks"], p["pod_results"], p["vm_observations"],
                                    p["migrations"], p["access"], p["ip_family"], not_asked=p["not_asked"])
    except (report.ReportError, ValueError, TypeError, KeyError) as exc:
        module.fail_json(msg="cannot build the lab report: {0}".format(exc))
    plot_file = PLOT_FILE if p["plot"] and p["migrations"] else None
    contents = {
        "markdown": report.render_markdown(built, plot_file, p["console_password"]).encode("utf-8"),
        "json": report.render_json(built).encode("utf-8"),
        "junit": report.render_junit(built).encode("utf-8"),
    }
    result = {"files": {}, "written": [], "summary": built["summary"], "vm_tables": built["vm_checks"]["tables"],
              "migration_rows": built["migrations"]["rows"]}
    dest = p["dest"]
    if not module.check_mode and not os.path.isdir(dest):
        os.makedirs(dest, 0o755)
    if plot_file:
        result["files"]["plot"] = os.path.join(dest, plot_file)
        try:
            fd, tmp = tempfile.mkstemp(suffix=".png", dir=dest if os.path.isdir(dest) else None)
            os.close(fd)
            try:
                report.plot_migrations(p["migrations"], tmp)
                with open(tmp, "rb") as handle:
                    contents["plot"] = handle.read()
            finally:
                os.unlink(tmp)
        except ImportError as exc:
            result["plot_error"] = "matplotlib is needed for {0}: {1}".format(plot_file, exc)
    if p["html"]:
        steps = pages.fill_steps(p["steps"], p["participant"]) if p["steps"] is not None else None
        try:
            contents["html"] = pages.report_page(built, p["title"], p["cluster"].get("kubeconfig"), steps,
                                                 contents.get("plot"), secrets=[p["console_password"]]).encode("utf-8")
        except ValueError as exc:
            module.fail_json(msg="cannot write report.html: {0}".format(exc))
    modes = dict((key, mode) for key, dummy, mode in FILES)
    modes["plot"] = 0o644
    names = dict((key, name) for key, name, dummy in FILES)
    names["plot"] = PLOT_FILE
    for key in ("markdown", "json", "junit", "html", "plot"):
        if key not in contents:
            continue
        path = os.path.join(dest, names[key])
        result["files"][key] = path
        if _differs(path, contents[key]):
            result["written"].append(key)
            if not module.check_mode:
                report.write_if_changed(path, contents[key])
        if not module.check_mode and os.path.exists(path) and (os.stat(path).st_mode & 0o777) != modes[key]:
            os.chmod(path, modes[key])
            if key not in result["written"]:
                result["written"].append(key)
    result["lines"] = report.summary_lines(built, result["files"])
    result["changed"] = bool(result["written"])
    if p["fail_on_error"] and not built["summary"]["ok"]:
        module.fail_json(msg="the lab report found failures: {0}".format("; ".join(built["summary"]["failures"])),
                         **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
