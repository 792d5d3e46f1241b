"""The `kind` molecule scenario: the real lab on a machine with a container engine.

It builds a real kind cluster (create → converge → idempotence → verify → destroy), so it runs only where
Docker (or Podman answering as docker) works; elsewhere it is reported as skipped, with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

pytestmark = [pytest.mark.scenario, pytest.mark.machine]


def _engine_problem():
    docker = shutil.which("docker")
    if not docker:
        return "no docker command on PATH"
    probe = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=60, check=False)
    if probe.returncode != 0:
        return "docker does not answer: %s" % (probe.stderr.strip().splitlines() or ["no output"])[-1]
    if not shutil.which("molecule"):
        return "molecule is not installed"
    return None


def test_kind_scenario_builds_verifies_and_destroys_the_lab(repo_root):
    problem = _engine_problem()
    if problem:
        pytest.skip("kind scenario needs a container engine (%s); run it on a Docker host with "
                    "`MOLECULE_GLOB='molecule/*/molecule.yml' molecule test -s kind`" % problem)
    env = dict(os.environ, MOLECULE_GLOB="molecule/*/molecule.yml", ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"))
    result = subprocess.run(["molecule", "test", "-s", "kind"], cwd=repo_root, env=env, check=False)
    assert result.returncode == 0, "molecule test -s kind failed (see its output above)"
