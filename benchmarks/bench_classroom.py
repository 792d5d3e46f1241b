#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Benchmark: provisioning and proving a classroom of 1, 5 and 20 participants on the simulated cluster.

Builds one lab with the molecule ``sim`` scenario (create, converge: the cluster, its add-ons and the lab's own
workshops), then for each size N: gives participants p1..pN their copies of the workshops
(``playbooks/pod_workshop.yml``, and ``playbooks/vm_workshop.yml`` unless ``--workshops pods``), their credentials
and the fences (``playbooks/classroom.yml``), timing each playbook; then removes the participants again
(``playbooks/teardown.yml`` once per participant, four at a time, not timed) before the next size. The participants
run side by side, ``--forks`` at a time (ansible's ``-f``; ansible.cfg has 10). Prints a Markdown table with the
wall times, the claims proven (connectivity probes, fences between participants, API fences) and the ratio to one
participant. Goal (issue: a classroom): 20 participants in at most 4 x the time of 1.

Needs what the scenario needs (root, the sim binaries: python tests/sim/build.py, the data plane's tools). Run from
the repository root with the project virtualenv:

    python benchmarks/bench_classroom.py [--sizes 1,5,20] [--workshops pods,vms] [--family ipv4] [--forks 10] [--wait SECONDS] [--keep]
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import concurrent.futures
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


class Failed(Exception):
    pass


LOGS = []


def timed(lab, playbook, *extra):
    started = time.monotonic()
    rc, out = lab.playbook(playbook, *extra)
    elapsed = time.monotonic() - started
    log = lab.ephemeral.parent / ("%s-%d.log" % (pathlib.Path(playbook).stem, len(LOGS)))
    log.write_text(out)  # the whole output (the console has its last 20000 characters)
    LOGS.append(log)
    if rc != 0:
        failures = re.findall(r"^(?:fatal|failed): \[(\S+)\].*?(?=^\S)", sim_lab.ANSI.sub("", out), re.M | re.S)
        raise Failed("%s failed (rc %d) after %.0f s on %s; its whole output: %s" % (
            playbook, rc, elapsed, ", ".join(sorted(set(failures))) or "?", log))
    probes = sum(int(n) for n in re.findall(r"connectivity: (\d+) probes", sim_lab.flat(out)))
    return elapsed, probes


def _results(path):
    return json.loads(path.read_text()).get("results") or [] if path.exists() else []


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,5,20", help="participant counts, comma-separated (default 1,5,20)")
    parser.add_argument("--workshops", default="pods,vms", help="pods, or pods,vms (default)")
    parser.add_argument("--family", default="ipv4", choices=["ipv4", "ipv6", "dual"])
    parser.add_argument("--forks", type=int, default=10, help="participants at a time (ansible -f; default 10)")
    parser.add_argument("--wait", type=int, default=0,
                        help="pod_workshop_wait_timeout and vm_workshop_wait_timeout in seconds (default: the roles')")
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
    failure = None
    try:
        rc, dummy = lab.molecule("converge")
        if rc != 0:
            sys.exit("molecule converge failed")
        playbooks = (["playbooks/pod_workshop.yml"] if "pods" in workshops else []) + (
            ["playbooks/vm_workshop.yml"] if "vms" in workshops else []) + ["playbooks/classroom.yml"]
        for size in sizes:
            settings = {"udn_lab_participants": size, "udn_lab_workshops": workshops}
            if args.wait:
                settings.update(pod_workshop_wait_timeout=args.wait, vm_workshop_wait_timeout=args.wait)
            extra = ["-f", str(args.forks), "-e", json.dumps(settings)]
            times = {}
            try:
                for playbook in playbooks:
                    times[playbook] = timed(lab, playbook, *extra)
            except Failed as exc:
                failure = "%d participants: %s" % (size, exc)
                break
            total = sum(t for t, dummy in times.values())
            report = lab.ephemeral / "lab" / "report" / "classroom" / "data"
            claims = {"probes": sum(n for dummy, n in times.values()),
                      "fences": len(_results(report / "pods-fences.json")),
                      "api fences": len(_results(report / "api-fences.json"))}
            rows.append((size, times, total, claims))
            print("\n%d participants: %s, total %.0f s, claims %s\n" % (
                size, ", ".join("%s %.0f s" % (k.split("/")[-1], t) for k, (t, dummy) in times.items()), total,
                json.dumps(claims)), flush=True)
            names = ["p%0*d" % (len(str(size)), n) for n in range(1, size + 1)]
            if size == sizes[-1]:
                break  # the lab goes next (or is kept as it is)
            try:
                with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
                    list(pool.map(lambda name: timed(lab, "playbooks/teardown.yml", "-e",
                                                     "udn_lab_teardown_participant=" + name), names))
            except Failed as exc:
                failure = "removing the %d participants: %s" % (size, exc)
                break
            for stale in ("pods-fences.json", "api-fences.json"):
                if (report / stale).exists():
                    (report / stale).unlink()
    finally:
        if not args.keep:
            lab.molecule("destroy")
    if failure:
        print("\nNOT MEASURED: " + failure)
    if not rows:
        return 1
    one = next((total for size, dummy, total, dummy in rows if size == 1), None)
    print("| participants | " + " | ".join(p.split("/")[-1] for p in rows[0][1])
          + " | total | x one | probes | fences | API fences |")
    print("|---" * (len(rows[0][1]) + 6) + "|")
    for size, times, total, claims in rows:
        cells = ["%.0f s" % t for t, dummy in times.values()]
        ratio = "%.1f x" % (total / one) if one else "-"
        print("| %d | %s | %.0f s | %s | %d | %d | %d |" % (size, " | ".join(cells), total, ratio, claims["probes"],
                                                            claims["fences"], claims["api fences"]))
    if one and rows[-1][0] == 20:
        ratio = rows[-1][2] / one
        print("\n20 participants: %.1f x one participant; goal <= 4 x: %s" % (ratio, "met" if ratio <= 4 else "NOT met"))
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main())
