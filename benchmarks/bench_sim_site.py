#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Benchmark: site.yml on the simulated cluster, first run vs idempotent re-run (wall time).

Runs the molecule ``sim`` scenario's steps one by one: create (control plane, simulators, data plane), converge
(site.yml, first run), converge again (the re-run: everything present, nothing to change), then destroy, and
prints both times and their ratio. Goal: re-run <= 0.3 x first run. Needs what the scenario needs (root, the
sim binaries: python tests/sim/build.py). Run from the repository root with the project virtualenv:

    python benchmarks/bench_sim_site.py [--keep]      # --keep: leave the lab running (no destroy)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import os
import re
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
RECAP = re.compile(r"ok=(\d+)\s+changed=(\d+)")


def molecule(step, log):
    env = dict(os.environ, MOLECULE_GLOB="molecule/*/molecule.yml", ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"))
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)
    started = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.run(["molecule", step, "-s", "sim"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                              check=False)
    elapsed = time.monotonic() - started
    with open(log) as handle:
        text = re.sub(r"\x1b\[[0-9;]*m", "", handle.read())
    recap = RECAP.findall(text)
    if proc.returncode != 0:
        sys.exit("molecule %s failed (rc %d), log: %s" % (step, proc.returncode, log))
    return elapsed, recap[-1] if recap else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="do not destroy the lab afterwards")
    parser.add_argument("--logs", default=os.path.join(ROOT, ".cache", "bench"), help="where step logs go")
    args = parser.parse_args()
    os.makedirs(args.logs, exist_ok=True)

    def log(step):
        return os.path.join(args.logs, "sim-%s.log" % step)

    molecule("destroy", log("destroy-before"))
    create = molecule("create", log("create"))[0]
    try:
        first, first_recap = molecule("converge", log("converge-1"))
        rerun, rerun_recap = molecule("converge", log("converge-2"))
    finally:
        if not args.keep:
            molecule("destroy", log("destroy"))
    ratio = rerun / first
    print("| step | wall time | ok / changed |")
    print("|---|---|---|")
    print("| create (control plane + simulators, binaries cached) | %.1f s | |" % create)
    print("| site.yml, first run | %.1f s | %s |" % (first, "/".join(first_recap or ("?", "?"))))
    print("| site.yml, re-run | %.1f s | %s |" % (rerun, "/".join(rerun_recap or ("?", "?"))))
    print("| **re-run / first** | **%.2f x** — goal <= 0.3 x: %s | |" % (ratio, "met" if ratio <= 0.3 else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
