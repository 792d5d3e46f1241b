# -*- coding: utf-8 -*-
"""``make test`` runs pytest on pytest-xdist workers with ``--dist loadgroup``: tests/conftest.py puts every
machine-wide test (markers machine, sim, netns) in one group, first in the queue, and every other test module in a
group of its own. This runs the pinned pytest and pytest-xdist on a small suite with that hook and checks where each
test ran (an upgrade that ignores the groups would run two simulated labs at once)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import pathlib
import subprocess
import sys

import pytest

CONFTEST = pathlib.Path(__file__).resolve().parents[1] / "conftest.py"

SUITE_CONFTEST = '''
import importlib.util

_spec = importlib.util.spec_from_file_location("udn_lab_conftest", {path!r})
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
pytest_collection_modifyitems = _mod.pytest_collection_modifyitems
'''

TEST_FILE = '''
import json, os, time
import pytest

{mark}


@pytest.mark.parametrize("n", range(3))
def test_it(n):
    time.sleep(0.05)
    with open(os.environ["RAN"], "a") as out:
        out.write(json.dumps({{"file": __file__.rsplit("/", 1)[-1], "n": n,
                              "worker": os.environ.get("PYTEST_XDIST_WORKER")}}) + "\\n")
'''


def test_machine_wide_tests_share_one_worker_and_go_first(tmp_path):
    pytest.importorskip("xdist")
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(SUITE_CONFTEST.format(path=str(CONFTEST)))
    (suite / "pytest.ini").write_text("[pytest]\nmarkers =\n    machine: m\n    sim: s\n    netns: n\n")
    marks = {"test_a_plain.py": "", "test_b_lab.py": "pytestmark = pytest.mark.machine",
             "test_c_plain.py": "", "test_d_sim.py": "pytestmark = pytest.mark.sim",
             "test_e_netns.py": "pytestmark = pytest.mark.netns"}
    for name, mark in marks.items():
        (suite / name).write_text(TEST_FILE.format(mark=mark))
    ran = tmp_path / "ran.jsonl"
    env = dict(os.environ, RAN=str(ran))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:pytest_ansible",
                           "-n", "2", "--dist", "loadgroup", "--no-loadscope-reorder", "-q", str(suite)],
                          cwd=str(suite), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout
    rows = [json.loads(line) for line in ran.read_text().splitlines()]
    assert len(rows) == 15
    machine = ("test_b_lab.py", "test_d_sim.py", "test_e_netns.py")
    workers = {r["worker"] for r in rows if r["file"] in machine}
    assert len(workers) == 1, rows
    (worker,) = workers
    on_it = [r["file"] for r in rows if r["worker"] == worker]
    assert on_it[:9] == [f for f in machine for dummy in range(3)], on_it
    for plain in ("test_a_plain.py", "test_c_plain.py"):
        assert len({r["worker"] for r in rows if r["file"] == plain}) == 1, rows
    assert {r["worker"] for r in rows} == {"gw0", "gw1"}, rows
