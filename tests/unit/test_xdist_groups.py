# -*- coding: utf-8 -*-
"""``make test`` runs pytest on pytest-xdist workers with ``--dist loadgroup``: tests/conftest.py gives each worker a
simulated-lab slot of its own (``UDN_LAB_SIM_SLOT``), makes each test module a group (a lab fixture's parameter
marked with its own xdist_group splits its module) and queues the longest machine-wide groups first. This runs the
pinned pytest and pytest-xdist on a small suite with that hook and checks where each test ran and which slot it
saw (an upgrade that ignored the groups would split one lab's tests over two workers, and two workers with one slot
would run two labs on the same addresses)."""

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
pytest_configure = _mod.pytest_configure
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
                              "worker": os.environ.get("PYTEST_XDIST_WORKER"),
                              "slot": os.environ.get("UDN_LAB_SIM_SLOT")}}) + "\\n")
'''


PARAM_FILE = '''
import json, os, time
import pytest

pytestmark = pytest.mark.machine


@pytest.fixture(scope="module", params=[pytest.param(f, marks=pytest.mark.xdist_group("lab-" + f)) for f in "xy"])
def lab(request):
    return request.param


@pytest.mark.parametrize("n", range(2))
def test_it(lab, n):
    time.sleep(0.05)
    with open(os.environ["RAN"], "a") as out:
        out.write(json.dumps({"file": "test_f_param.py[%s]" % lab, "n": n,
                              "worker": os.environ.get("PYTEST_XDIST_WORKER"),
                              "slot": os.environ.get("UDN_LAB_SIM_SLOT")}) + "\\n")
'''


def test_each_lab_stays_on_one_worker_each_worker_has_its_own_slot_and_the_longest_lab_goes_first(tmp_path):
    pytest.importorskip("xdist")
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(SUITE_CONFTEST.format(path=str(CONFTEST)))
    (suite / "pytest.ini").write_text("[pytest]\nmarkers =\n    machine: m\n    sim: s\n    netns: n\n")
    marks = {"test_a_plain.py": "", "test_b_lab.py": "pytestmark = pytest.mark.machine",
             "test_c_plain.py": "", "test_d_sim.py": "pytestmark = pytest.mark.sim",
             "test_e_netns.py": "pytestmark = pytest.mark.netns",
             "test_molecule_sim.py": "pytestmark = pytest.mark.machine"}
    for name, mark in marks.items():
        (suite / name).write_text(TEST_FILE.format(mark=mark))
    (suite / "test_f_param.py").write_text(PARAM_FILE)
    ran = tmp_path / "ran.jsonl"
    env = dict(os.environ, RAN=str(ran))
    env.pop("UDN_LAB_SIM_SLOT", None)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:pytest_ansible",
                           "-n", "2", "--dist", "loadgroup", "--no-loadscope-reorder", "-q", str(suite)],
                          cwd=str(suite), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout
    rows = [json.loads(line) for line in ran.read_text().splitlines()]
    assert len(rows) == 6 * 3 + 2 * 2
    groups = sorted({r["file"] for r in rows})
    assert "test_f_param.py[x]" in groups and "test_f_param.py[y]" in groups
    for group in groups:  # one lab's tests never split over two workers
        assert len({r["worker"] for r in rows if r["file"] == group}) == 1, (group, rows)
    assert {r["worker"] for r in rows} == {"gw0", "gw1"}, rows
    # each worker its own slot, the same for all of its tests
    assert {(r["worker"], r["slot"]) for r in rows} == {("gw0", "1"), ("gw1", "2")}, rows
    # the longest lab starts first on its worker, and machine-wide groups come before the plain ones
    firsts = {}
    for r in rows:
        firsts.setdefault(r["worker"], r["file"])
    assert "test_molecule_sim.py" in firsts.values(), firsts
    machine = {"test_b_lab.py", "test_d_sim.py", "test_e_netns.py", "test_molecule_sim.py",
               "test_f_param.py[x]", "test_f_param.py[y]"}
    for worker in ("gw0", "gw1"):
        on_it = [r["file"] for r in rows if r["worker"] == worker]
        plain_at = [i for i, f in enumerate(on_it) if f not in machine]
        assert not plain_at or all(f not in machine for f in on_it[plain_at[0]:]), on_it


def test_worker_slots_start_above_the_slot_set_for_the_run():
    import importlib.util

    spec = importlib.util.spec_from_file_location("udn_lab_conftest_slots", str(CONFTEST))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert [mod.worker_slot("gw%d" % n, {}) for n in range(3)] == [1, 2, 3]
    assert mod.worker_slot("gw1", {"UDN_LAB_SIM_SLOT": "10"}) == 12
