"""inventories/classroom for real: one lab per participant machine. Two inventory hosts, each with its own simulated
cluster on this machine (a slot each: tests/sim/slot.py), its own cluster name, lab directory and report, built by
one run of site.yml that targets the group; then torn down by one run of teardown.yml (scope cluster), each host
deleting exactly its own cluster.

Each host's modules run under an interpreter that sets its slot (the kind stand-in and the data plane's tools read
it), as a participant's machine has its own Docker; the simulators of each cluster are started as molecule's
create.yml starts them. Two labs at once, and the VMs of both (same names, same addresses) each reached on their own
lab: the VM inventory names carry the lab host.
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import yaml

SIM_DIR = pathlib.Path(__file__).resolve().parents[1] / "sim"
sys.path.insert(0, str(SIM_DIR))

import slot  # noqa: E402
import sim_lab  # noqa: E402
from sim_lab import flat, kubectl, run_logged  # noqa: E402

pytestmark = pytest.mark.sim

LABS = ("lab-01", "lab-02")  # as inventories/classroom names its clusters
SLOT_OFFSET = 40  # beyond the workers' slots (tests/conftest.py: the run's slot + worker + 1)


def _env(slot_number, upstream_dir):
    env = dict(os.environ, UDN_LAB_SIM_SLOT=str(slot_number), UDN_LAB_SIM_BUILD="1",
               UDN_LAB_UPSTREAM_DIR=str(upstream_dir), ANSIBLE_NOCOLOR="1", PY_COLORS="0")
    for name in ("UDNSIM_PREFIX", "UDN_LAB_SIM_HOME", "ANSIBLE_COLLECTIONS_PATH"):
        env.pop(name, None)
    return env


def _start(repo_root, env, name, state):
    """What molecule/sim/create.yml does for one lab: the mirror, the control plane, the simulators."""
    lab = state / "lab"
    lab.mkdir(parents=True, mode=0o700)
    sim = repo_root / "tests" / "sim"
    for cmd in (
            [sys.executable, str(sim / "build.py")],
            [sys.executable, str(sim / "mirror.py"), "--dest", str(state / "mirror"), "--allow-missing"],
            [sys.executable, str(sim / "launcher.py"), "start", "--name", name, "--workers", "2", "--ip-family",
             "ipv4", "--kubeconfig", str(lab / "kubeconfig")],
            [sys.executable, str(sim / "run_sim.py"), "start", "--kubeconfig", str(lab / "kubeconfig"), "--config",
             str(repo_root / "molecule" / "sim" / "simulation.yml"), "--dataplane", "--pid-file",
             str(state / "sim.pid"), "--log-file", str(state / "sim.log")]):
        rc, out = run_logged(cmd, "classroom-inventory-" + name, cwd=str(repo_root), env=env)
        assert rc == 0, "%s failed:\n%s" % (" ".join(cmd[:3]), out[-6000:])


def _stop(repo_root, env, name, state):
    sim = repo_root / "tests" / "sim"
    for cmd in ([sys.executable, str(sim / "run_sim.py"), "stop", "--pid-file", str(state / "sim.pid")],
                [sys.executable, str(sim / "launcher.py"), "stop", "--name", name]):
        subprocess.run(cmd, env=env, check=False, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def classroom(repo_root, upstream_dir, tmp_path_factory):
    problem = sim_lab.problem()
    if problem:
        pytest.skip(problem)
    home = tmp_path_factory.mktemp("classroom-inventory")
    base = slot.current() + SLOT_OFFSET
    labs = {}
    for index, name in enumerate(LABS):
        state = home / name
        labs[name] = {"slot": base + index, "state": state, "env": _env(base + index, upstream_dir)}
    inventory = home / "inventory"
    (inventory / "group_vars").mkdir(parents=True)
    # the scenario's settings (the mirror, the sim's shorter migration), per host its own state directory
    shutil.copy(str(repo_root / "molecule" / "sim" / "group_vars" / "all.yml"), str(inventory / "group_vars" / "all.yml"))
    hosts = {}
    for name, lab in labs.items():
        python = home / ("python-" + name)
        python.write_text("#!/bin/sh\nUDN_LAB_SIM_SLOT=%d exec %s \"$@\"\n" % (lab["slot"], sys.executable))
        python.chmod(0o755)
        hosts[name] = {"ansible_connection": "local", "ansible_python_interpreter": str(python),
                       "udn_lab_cluster_name": name, "udn_lab_sim_state": str(lab["state"])}
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"classroom": {"hosts": hosts}}}}))
    play_env = dict(labs[LABS[0]]["env"], UDN_LAB_SIM_SLOT=str(slot.current()),
                    MOLECULE_PROJECT_DIRECTORY=str(repo_root), ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"),
                    ANSIBLE_COLLECTIONS_PATH=str(repo_root / ".collections"),
                    PATH=os.pathsep.join([str(repo_root / "tests" / "sim" / "bin"),
                                          str(pathlib.Path(sim_lab.build.bin_dir())), os.environ.get("PATH", "")]))
    try:
        for name, lab in labs.items():
            _start(repo_root, lab["env"], name, lab["state"])
        yield {"labs": labs, "inventory": inventory / "hosts.yml", "env": play_env, "root": repo_root}
    finally:
        for name, lab in labs.items():
            _stop(repo_root, lab["env"], name, lab["state"])


def _playbook(classroom, playbook, *extra):
    cmd = ["ansible-playbook", "-i", str(classroom["inventory"]), str(classroom["root"] / playbook),
           "-e", "udn_lab_target=classroom"] + list(extra)
    return run_logged(cmd, "classroom-" + pathlib.Path(playbook).stem, cwd=str(classroom["root"]),
                      env=classroom["env"])


def _recap(out):
    return dict((host, dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", rest)))
                for host, rest in re.findall(r"^(\S+)\s+: (ok=.*)$", out, re.M))


def test_site_yml_builds_one_lab_per_host_each_with_its_own_cluster_and_report(classroom):
    rc, out = _playbook(classroom, "site.yml")
    assert rc == 0, out[-12000:]
    recap = _recap(out)
    assert sorted(recap) == sorted(LABS), recap
    assert all(r["failed"] == 0 and r["unreachable"] == 0 for r in recap.values()), recap
    text = flat(out)
    for name, lab in classroom["labs"].items():
        kubeconfig = lab["state"] / "lab" / "kubeconfig"
        assert oct(kubeconfig.stat().st_mode & 0o777) == "0o600"
        # its own cluster: its nodes, its workshop objects labelled with its name
        nodes = json.loads(kubectl(kubeconfig, "get", "nodes", "-o", "json").stdout)["items"]
        expected = [name + "-control-plane", name + "-worker", name + "-worker2"]
        assert sorted(n["metadata"]["name"] for n in nodes) == expected, nodes
        blue = json.loads(kubectl(kubeconfig, "get", "namespace", "blue", "-o", "json").stdout)
        assert blue["metadata"]["labels"]["udn-lab.ovnk.io/lab"] == name, blue["metadata"]
        vms = json.loads(kubectl(kubeconfig, "get", "vm", "-A", "-o", "json").stdout)["items"]
        assert sorted(v["metadata"]["name"] for v in vms) == ["blue", "red"], vms
        # its own report, every claim proven, its VMs checked from inside and migrated under iperf3
        report = json.loads((lab["state"] / "lab" / "report" / "report.json").read_text())
        assert report["pods"]["results"] and all(r["status"] in ("correct", "not applicable")
                                                 for r in report["pods"]["results"]), report["pods"]
        assert report["vm_checks"]["results"] and all(r["ok"] for r in report["vm_checks"]["results"])
        migrations = json.loads((lab["state"] / "lab" / "report" / "data" / "migrations.json").read_text())["records"]
        assert migrations and all(r["migration_ok"] for r in migrations), migrations
        # its VMs reached as its own (the same names and addresses as the other lab's)
        assert re.search(r"\[%s -> blue\.blue-namespace@%s[\](]" % (name, name), text), name
    # nothing of one lab in the other's cluster
    one, two = (classroom["labs"][n]["state"] / "lab" / "kubeconfig" for n in LABS)
    labels = {json.loads(kubectl(k, "get", "namespace", "blue", "-o", "json").stdout)["metadata"]["labels"][
        "udn-lab.ovnk.io/lab"] for k in (one, two)}
    assert labels == set(LABS)


def test_teardown_deletes_each_hosts_own_cluster_only(classroom):
    rc, out = _playbook(classroom, "playbooks/teardown.yml", "-e", "udn_lab_teardown_scope=cluster")
    assert rc == 0, out[-8000:]
    for name, lab in classroom["labs"].items():
        listed = subprocess.run([sys.executable, str(SIM_DIR / "launcher.py"), "list"], env=lab["env"],
                                capture_output=True, text=True, check=False, timeout=60)
        assert name not in listed.stdout.split(), (name, listed.stdout, listed.stderr)
