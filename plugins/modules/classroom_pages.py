#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: classroom_pages
short_description: Write the organizer's page of a classroom (one row per participant, links to their pages)
version_added: 0.1.0
description:
  - Writes C(index.html) in O(dest) - one self-contained page (inline CSS, no script, nothing fetched) with one
    row per participant - name, state (V(ready), V(failed) or V(not run)), claims proven of the total, fence claims
    proven of the total, and a relative link to the participant's C(report.html).
  - Each participant's report is read from C(report.json) in their report directory (what M(ovnk.udn_lab.lab_report)
    wrote); a participant without one is V(not run) and has no link. A claim carried from an earlier run does
    not count as proven.
  - Talks to no cluster. A file is only rewritten when its content differs, so a second run with the same reports
    changes nothing. Check mode predicts C(changed) without writing.
author:
  - ovnk.udn_lab maintainers (@ovnk)
options:
  dest:
    description: Directory of the organizer's page (created when missing).
    type: path
    required: true
  title:
    description: The page's heading.
    type: str
    default: UDN lab classroom
  participants:
    description: One entry per participant, in the order of the page's rows.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The participant's name (V(p1), ...).
        type: str
        required: true
      report_dir:
        description: The participant's report directory (C(report.json), C(report.html)).
        type: path
      fences:
        description:
          - The participant's fence claims, judged (each with C(id) and C(status) V(correct), V(wrong) or
            V(unknown), as module_utils classroom C(judge_fences) returns them).
        type: list
        elements: dict
        default: []
seealso:
  - module: ovnk.udn_lab.lab_report
"""

EXAMPLES = r"""
- name: Write the organizer's page
  ovnk.udn_lab.classroom_pages:
    dest: "{{ udn_lab_dir }}/classroom"
    title: UDN workshop, room 2
    participants:
      - name: p1
        report_dir: "{{ udn_lab_dir }}/p1/report"
        fences: "{{ p1_fences }}"
      - name: p2
        report_dir: "{{ udn_lab_dir }}/p2/report"
"""

RETURN = r"""
files:
  description: The path of the organizer's page (V(index)).
  returned: always
  type: dict
  sample: {"index": "/home/u/.ovnk-udn-lab/classroom/index.html"}
written:
  description: V(index) when the page was written (or would be, in check mode).
  returned: always
  type: list
  elements: str
rows:
  description:
    - One row per participant - C(name), C(state), C(claims_proven), C(claims_total), C(fences_proven),
      C(fences_total), C(href) (relative, or null), C(failures).
  returned: always
  type: list
  elements: dict
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ovnk.udn_lab.plugins.module_utils import pages, report

INDEX = "index.html"


def argument_spec():
    return dict(
        dest=dict(type="path", required=True),
        title=dict(type="str", default="UDN lab classroom"),
        participants=dict(type="list", elements="dict", required=True, options=dict(
            name=dict(type="str", required=True),
            report_dir=dict(type="path"),
            fences=dict(type="list", elements="dict", default=[]),
        )),
    )


def _read_report(report_dir):
    """The report dict in ``report_dir``/report.json, None when there is none."""
    path = os.path.join(report_dir, "report.json") if report_dir else None
    if not path or not os.path.isfile(path):
        return None
    with open(path) as handle:
        return json.load(handle)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    dest = p["dest"]
    rows = []
    for entry in p["participants"]:
        try:
            built = _read_report(entry["report_dir"])
        except (OSError, ValueError) as exc:
            module.fail_json(msg="cannot read the report of {0} in {1}: {2}".format(
                entry["name"], entry["report_dir"], exc))
        page = os.path.join(entry["report_dir"], "report.html") if entry["report_dir"] else None
        href = pages.relative_href(dest, page) if page and os.path.isfile(page) else None
        try:
            rows.append(pages.organizer_row(entry["name"], built, entry["fences"], href))
        except (KeyError, TypeError) as exc:
            module.fail_json(msg="the report of {0} in {1} is not a lab report: missing {2}".format(
                entry["name"], entry["report_dir"], exc))
    content = pages.organizer_page(rows, p["title"]).encode("utf-8")
    path = os.path.join(dest, INDEX)
    result = {"files": {"index": path}, "written": [], "rows": rows}
    differs = True
    if os.path.exists(path):
        with open(path, "rb") as handle:
            differs = handle.read() != content
    if differs:
        result["written"].append("index")
        if not module.check_mode:
            if not os.path.isdir(dest):
                os.makedirs(dest, 0o755)
            report.write_if_changed(path, content)
    result["changed"] = bool(result["written"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
