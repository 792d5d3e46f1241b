"""Shared pytest fixtures for ovnk.udn_lab."""

from __future__ import annotations

import os
import pathlib

import sys

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
COLLECTIONS_DIR = REPO_ROOT / ".collections"

# `hack/bootstrap.sh` links this checkout as .collections/ansible_collections/ovnk/udn_lab, next to
# kubernetes.core: make `ansible_collections.*` importable for unit tests.
if COLLECTIONS_DIR.is_dir() and str(COLLECTIONS_DIR) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS_DIR))


# Markers of the tests that use what a simulated lab on this machine uses too, or start control planes or time
# outages in network namespaces (pytest.ini): under pytest-xdist each worker has a slot of its own (tests/sim/slot.py:
# node addresses, namespace prefix, state and cluster directories), so two workers run two labs at once; the tests
# of one lab (a module, or one parameter of a module-scoped lab fixture marked with its own xdist_group) stay on
# one worker, one after another.
MACHINE_WIDE = ("machine", "sim", "netns")
# The longest machine-wide groups (an xdist group, or a module), measured (BENCHMARKS.md): they go first, so the
# worker that takes the longest is not the one that starts last. The dual-stack lab runs the classroom too.
LONGEST_FIRST = ("sim-family-dual", "test_molecule_sim.py", "test_teardown_ownership_sim.py",
                 "test_molecule_sim_families.py", "test_classroom_inventory_sim.py")
SLOT_ENV = "UDN_LAB_SIM_SLOT"


def worker_slot(worker_id, environ):
    """The simulated-lab slot of pytest-xdist worker ``gw<n>``: the slot set for the run (``UDN_LAB_SIM_SLOT``,
    default 0) plus n + 1, so no worker shares a slot with another, or with a lab run outside the tests."""
    base = int((environ.get(SLOT_ENV) or "0").strip() or 0)
    return base + int(worker_id[2:]) + 1


def pytest_configure(config):
    workerinput = getattr(config, "workerinput", None)
    if workerinput and str(workerinput.get("workerid", "")).startswith("gw"):
        # for the whole worker: every simulated lab it starts (launcher, data plane, virtctl and kind stand-ins,
        # molecule) inherits it
        os.environ[SLOT_ENV] = str(worker_slot(workerinput["workerid"], os.environ))


def xdist_group_of(item):
    """``(machine_wide, group)``: the xdist group of ``item`` (an explicit xdist_group mark wins)."""
    machine = any(item.get_closest_marker(name) for name in MACHINE_WIDE)
    mark = item.get_closest_marker("xdist_group")
    module = item.nodeid.split("::", 1)[0]
    if mark:
        return machine, mark.args[0] if mark.args else mark.kwargs.get("name", "default")
    return machine, module


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist's ``--dist loadgroup`` (how ``make test`` runs): each test module is a group (a lab
    fixture's parameter marked with its own xdist_group splits its module), the longest machine-wide groups first,
    then the other machine-wide ones, then the rest in collection order."""
    if not getattr(config.option, "loadgroup", False):
        return
    keyed = []
    for index, item in enumerate(items):
        machine, group = xdist_group_of(item)
        if not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(group))
        module = item.nodeid.split("::", 1)[0]
        name = module.rsplit("/", 1)[-1]
        key = group if group in LONGEST_FIRST else name
        rank = LONGEST_FIRST.index(key) if key in LONGEST_FIRST else len(LONGEST_FIRST)
        keyed.append(((0 if machine else 1, rank), index, item))
    items[:] = [item for dummy, dummy2, item in sorted(keyed, key=lambda k: (k[0], k[1]))]


def _upstream_candidates():
    env = os.environ.get("UDN_LAB_UPSTREAM_DIR")
    if env:
        yield pathlib.Path(env)
    # A checkout laid next to the project's shared data (…/main and …/shared/upstream).
    yield REPO_ROOT.parent / "shared" / "upstream"


@pytest.fixture(scope="session")
def repo_root() -> pathlib.Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def upstream_dir() -> pathlib.Path:
    """The folder of unmodified upstream CRDs/schemas; skips the test when it is absent."""
    for candidate in _upstream_candidates():
        if candidate.is_dir():
            return candidate
    pytest.skip(
        "upstream schemas not found: set UDN_LAB_UPSTREAM_DIR to a folder with the upstream CRDs "
        "(ovn-kubernetes-v1.3.0/, kubevirt-v1.8.4/swagger.json, ...)"
    )


def _ansible_env(extra=None):
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"),
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        # pytest-ansible exports its own collections path; children must see this checkout's.
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_DIR),
        ANSIBLE_NOCOLOR="1",
    )
    env.update(extra or {})
    return env


@pytest.fixture
def run_module(tmp_path_factory):
    """Run one module through Ansible on localhost and return its result dict (with ``failed``/``msg``)."""
    import json
    import subprocess

    def run(name, args, check=False, diff=False, env=None):
        tree = tmp_path_factory.mktemp("tree")
        extra = {"ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.tree",
                 "ANSIBLE_CALLBACK_TREE_DIR": str(tree)}
        extra.update(env or {})
        cmd = ["ansible", "localhost", "-c", "local", "-i", "localhost,", "-m", name, "-a", json.dumps(args)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=_ansible_env(extra), capture_output=True, text=True,
                              check=False, timeout=600)
        result_file = tree / "localhost"
        if not result_file.exists():
            raise AssertionError("ansible produced no result (rc=%s)\nstdout:\n%s\nstderr:\n%s"
                                 % (proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:]))
        result = json.loads(result_file.read_text())
        result.setdefault("failed", proc.returncode != 0)
        return result

    return run
