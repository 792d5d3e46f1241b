#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Benchmark: provisioning and proving a classroom of 1, 5 and 20 participants on the simulated cluster.

Builds one lab with the molecule ``sim`` scenario (create, converge: the cluster, its add-ons and the lab's own
workshops), then for each size N: gives participants p1..pN their copies of the workshops
(``playbooks/pod_workshop.yml``, and ``playbooks/vm_workshop.yml`` unless ``--workshops pods``), their credentials
and the fences (``playbooks/classroom.yml``), timing each playbook; then removes the participants again
(``playbooks/teardown.yml`` once per participant, not timed) before the next size. Prints a Markdown table with the
wall times and the ratio to one participant. Goal (issue: a classroom): 20 participants in at most 4 x the time of 1.

Needs what the scenario needs (root, the sim binaries: python tests/sim/build.py, the data plane's tools). Run from
the repository root with the project virtualenv:

    python benchmarks/bench_classroom.py [--sizes 1,5,20] [--workshops pods,vms] [--family ipv4] [--keep]
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import pathlib
import re
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "tests" / "sim"))

import sim_lab  # noqa: E402

RECAP = re.compile(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)")


def timed(lab, playbook, *extra):
    started = time.monotonic()
    rc, out = lab.playbook(playbook, *extra)
    elapsed = time.monotonic() - started
    if rc != 0:
        sys.exit("%s failed (rc %d); the end of its output is above" % (playbook, rc))
    recap = RECAP.findall(out)
    return elapsed, recap[-1] if recap else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,5,20", help="participant counts, comma-separated (default 1,5,20)")
    parser.add_argument("--workshops", default="pods,vms", help="pods, or pods,vms (default)")
    parser.add_argument("--family", default="ipv4", choices=["ipv4", "ipv6", "dual"])
    parser.add_argument("--keep", action="store_true", help="do not destroy the lab afterwards")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    workshops = [w.strip() for w in args.workshops.split(",") if w.strip()]
    problem = sim_lab.problem()
    if problem:
        sys.exit(problem)
    upstream = pathlib.Path(os.environ.get("UDN_LAB_UPSTREAM_DIR", str(ROOT.parent / "shared" / "upstream")))
    lab = sim_lab.Lab(ROOT, upstream, pathlib.Path(tempfile.mkdtemp(prefix="bench-classroom-")), family=args.family)
    lab.molecule("destroy")
    rc, dummy = lab.molecule("create")
    if rc != 0:
        sys.exit("molecule create failed")
    rows = []
    try:
        rc, dummy = lab.molecule("converge")
        if rc != 0:
            sys.exit("molecule converge failed")
        playbooks = (["playbooks/pod_workshop.yml"] if "pods" in workshops else []) + (
            ["playbooks/vm_workshop.yml"] if "vms" in workshops else []) + ["playbooks/classroom.yml"]
        for size in sizes:
            extra = ["-e", json.dumps({"udn_lab_participants": size, "udn_lab_workshops": workshops})]
            times = {}
            for playbook in playbooks:
                times[playbook] = timed(lab, playbook, *extra)
            total = sum(t for t, dummy in times.values())
            rows.append((size, times, total))
            names = ["p%0*d" % (len(str(size)), n) for n in range(1, size + 1)]
            for name in names:
                timed(lab, "playbooks/teardown.yml", "-e", "udn_lab_teardown_participant=" + name)
    finally:
        if not args.keep:
            lab.molecule("destroy")
    one = next((total for size, dummy, total in rows if size == 1), None)
    print("| participants | " + " | ".join(p.split("/")[-1] for p in rows[0][1]) + " | total | x one |")
    print("|---" * (len(rows[0][1]) + 3) + "|")
    for size, times, total in rows:
        cells = ["%.0f s" % t for t, dummy in times.values()]
        ratio = "%.1f x" % (total / one) if one else "-"
        print("| %d | %s | %.0f s | %s |" % (size, " | ".join(cells), total, ratio))
    if one and rows[-1][0] == 20:
        ratio = rows[-1][2] / one
        print("\n20 participants: %.1f x one participant; goal <= 4 x: %s" % (ratio, "met" if ratio <= 4 else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
