"""The `sim` molecule scenario: site.yml, unchanged, against the simulated cluster.

create (control plane + simulators) → converge (site.yml) → idempotence (changed=0) → verify (verify.yml plus
the report checked against what the simulation did: truth tables correct, migrations survived with an outage
within 1 s of the injected blackout, IPs unchanged, report files present) → destroy.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

pytestmark = [pytest.mark.scenario, pytest.mark.sim]


def _problem():
    if os.environ.get("UDN_LAB_E2E_SIM") != "1":
        return ("the end-to-end sim run is opt-in (UDN_LAB_E2E_SIM=1) until its data plane answers every probe "
                "kind: KAPI, NodePort from the host and ClusterIP isolation are not simulated faithfully yet")
    if os.geteuid() != 0:
        return "the data plane creates network namespaces: run as root"
    for tool in ("ip", "iperf3", "sshd" if shutil.which("sshd") else "/usr/sbin/sshd"):
        if not (shutil.which(tool) or os.path.exists(tool)):
            return "%s is missing (apt-get install iproute2 iperf3 openssh-server)" % tool
    if not shutil.which("molecule"):
        return "molecule is not installed"
    return None


def test_sim_scenario_converges_idempotently_and_verifies(repo_root, upstream_dir):
    problem = _problem()
    if problem:
        pytest.skip(problem)
    env = dict(os.environ, MOLECULE_GLOB="molecule/*/molecule.yml", ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"),
               UDN_LAB_UPSTREAM_DIR=str(upstream_dir), UDN_LAB_SIM_BUILD="1")
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)
    result = subprocess.run(["molecule", "test", "-s", "sim"], cwd=repo_root, env=env, check=False, timeout=3600)
    assert result.returncode == 0, "molecule test -s sim failed (its output is above)"
