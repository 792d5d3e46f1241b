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
# outages in network namespaces (pytest.ini): under pytest-xdist they run one after another on one worker.
MACHINE_WIDE = ("machine", "sim", "netns")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist's ``--dist loadgroup`` (how ``make test`` runs): the machine-wide tests form one group,
    first in the queue (the end-to-end labs are the longest path), so one worker runs them one after another while
    the other workers take every other test, a test module at a time (its module fixtures are set up once)."""
    if not getattr(config.option, "loadgroup", False):
        return
    machine, other = [], []
    for item in items:
        if any(item.get_closest_marker(name) for name in MACHINE_WIDE):
            item.add_marker(pytest.mark.xdist_group("machine-wide"))
            machine.append(item)
        else:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
            other.append(item)
    items[:] = machine + other


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
