"""The `sim` molecule scenario as a lab the scenario tests drive: molecule steps, playbooks against the lab with the
scenario's inventory, simulator restarts with injected faults. One lab per slot (UDN_LAB_SIM_SLOT, tests/sim/slot.py:
its node addresses, namespace prefix and directories), which every process of the lab inherits."""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile

import yaml

SIM_DIR = pathlib.Path(__file__).resolve().parent.parent / "sim"
if str(SIM_DIR) not in sys.path:
    sys.path.insert(0, str(SIM_DIR))

import build  # noqa: E402  (where the sim cache is)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
STEP_TIMEOUT = 1800


def run_logged(cmd, name, timeout=STEP_TIMEOUT, **kwargs):
    """``(returncode, output)`` of ``cmd`` (stdout and stderr together), written while it runs to a temporary file
    named after ``name`` (udn-lab-<name>-*.log), so a run that stalls can be followed with ``tail -f``. On ``timeout`` the whole process
    group (ansible's forks too) is killed and the test fails with the last lines: the task that did not finish."""
    handle, log = tempfile.mkstemp(prefix="udn-lab-%s-" % re.sub(r"[^A-Za-z0-9_.]+", "-", name), suffix=".log")
    os.close(handle)
    log = pathlib.Path(log)
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, **kwargs)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise AssertionError("%s did not finish in %d s (log %s); its last lines:\n%s" % (
                " ".join(str(c) for c in cmd[:4]), timeout, log, ANSI.sub("", log.read_text())[-8000:]))
    out = log.read_text()
    log.unlink()
    return proc.returncode, out


def kubectl(kubeconfig, *args, stdin=None, check=True, timeout=120):
    """The sim build's kubectl on ``kubeconfig`` (a CompletedProcess, text); with ``check`` a failure fails the test
    naming the command and kubectl's error."""
    proc = subprocess.run([str(build.bin_dir() / "kubectl"), "--kubeconfig", str(kubeconfig)] + list(args),
                          input=stdin, capture_output=True, text=True, check=False, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError("kubectl %s: %s" % (" ".join(args), proc.stderr))
    return proc


def flat(text):
    """Output with colours, molecule's frame characters and line wrapping taken out (messages on one line)."""
    return re.sub(r"\s+", " ", re.sub(r"[\u2500-\u257f]", " ", ANSI.sub("", text)))


def problem():
    if os.environ.get("UDN_LAB_E2E_SIM", "1") == "0":
        return "the end-to-end sim run was switched off (UDN_LAB_E2E_SIM=0)"
    if os.geteuid() != 0:
        return "the data plane creates network namespaces: run as root"
    for tool in ("ip", "nft", "iperf3", "ping", "ssh", "/usr/sbin/sshd", "nc"):
        if not (shutil.which(tool) or os.path.exists(tool)):
            return "%s is missing (apt-get install iproute2 nftables iperf3 iputils-ping openssh-client openssh-server netcat-openbsd)" % tool
    if not shutil.which("molecule"):
        return "molecule is not installed"
    return None


class Lab(object):
    """The scenario's lab: molecule steps, playbooks against it with the scenario's inventory, sim restarts."""

    def __init__(self, repo_root, upstream_dir, ephemeral, family="ipv4"):
        self.root = repo_root
        self.family = family
        self.ephemeral = ephemeral
        cache = str(build.cache_dir())
        self.env = dict(os.environ, MOLECULE_GLOB="molecule/*/molecule.yml", UDN_LAB_UPSTREAM_DIR=str(upstream_dir),
                        UDN_LAB_SIM_BUILD="1", MOLECULE_EPHEMERAL_DIRECTORY=str(ephemeral), ANSIBLE_NOCOLOR="1",
                        PY_COLORS="0")
        self.env.pop("ANSIBLE_COLLECTIONS_PATH", None)
        self.env["UDN_LAB_SIM_IP_FAMILY"] = family  # molecule/sim/group_vars: the lab's udn_lab_ip_family
        self.env.pop("UDNSIM_PREFIX", None)  # this lab is a user's lab: its slot's namespace prefix
        # what molecule's provisioner sets, for playbooks run directly against the lab
        self.play_env = dict(self.env, MOLECULE_PROJECT_DIRECTORY=str(repo_root),
                             MOLECULE_SCENARIO_DIRECTORY=str(repo_root / "molecule" / "sim"),
                             ANSIBLE_COLLECTIONS_PATH=str(repo_root / ".collections"),
                             ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"),
                             PATH=os.pathsep.join([str(repo_root / "tests" / "sim" / "bin"), os.path.join(cache, "bin"),
                                                   os.environ.get("PATH", "")]))
        self.config = repo_root / "molecule" / "sim" / "simulation.yml"

    def molecule(self, step):
        rc, out = run_logged(["molecule", step, "-s", "sim"], "molecule-" + step, cwd=str(self.root),
                             env=self.env)
        out = ANSI.sub("", out)
        sys.stdout.write(out[-20000:])
        return rc, out

    def playbook_cmd(self, playbook, *extra):
        inventory = self.ephemeral / "inventory" / "ansible_inventory.yml"
        return ["ansible-playbook", "-i", str(inventory), str(self.root / playbook)] + list(extra)

    def playbook(self, playbook, *extra):
        rc, out = run_logged(self.playbook_cmd(playbook, *extra), pathlib.Path(playbook).stem, cwd=str(self.root),
                             env=self.play_env)
        sys.stdout.write(out[-20000:])
        return rc, out

    def restart_sim(self, **faults):
        """Restart the simulators and data plane with the scenario's settings plus ``faults`` (run_sim keys)."""
        settings = yaml.safe_load(self.config.read_text())
        for key, value in faults.items():
            section = {"leak": "dataplane", "migration_fail": "kubevirt", "node_kvm": "kubevirt"}[key]
            settings.setdefault(section, {})[key] = value
        path = self.ephemeral / "sim-faults.yml"
        path.write_text(yaml.safe_dump(settings))
        run_sim = [sys.executable, str(self.root / "tests" / "sim" / "run_sim.py")]
        pid_file = str(self.ephemeral / "sim.pid")
        subprocess.run(run_sim + ["stop", "--pid-file", pid_file], env=self.env, check=False, timeout=180)
        subprocess.run(run_sim + ["start", "--kubeconfig", str(self.ephemeral / "lab" / "kubeconfig"), "--config",
                                  str(path), "--dataplane", "--pid-file", pid_file, "--log-file",
                                  str(self.ephemeral / "sim.log")], env=self.env, check=True, timeout=180)

    def kubectl(self, *args):
        return subprocess.run(["kubectl", "--kubeconfig", str(self.ephemeral / "lab" / "kubeconfig")] + list(args),
                              env=self.play_env, check=False, capture_output=True, universal_newlines=True, timeout=60)


# What existing mode must leave exactly as it found it (issue: existing-cluster mode, look first): per kind, the
# fields compared. resourceVersions for objects nothing else writes; labels and annotations for nodes (their
# status moves with every heartbeat).
CLUSTER_SNAPSHOT_KINDS = (
    "customresourcedefinitions.apiextensions.k8s.io", "daemonsets.apps", "deployments.apps", "namespaces",
    "kubevirts.kubevirt.io",
)


def cluster_snapshot(kubectl):
    """``{(kind, namespace, name): fingerprint}`` of the cluster's infrastructure: DaemonSets and Deployments by
    generation, labels and annotations; CRDs, namespaces, KubeVirt CRs, kube-system ConfigMaps and helm release
    Secrets by resourceVersion; nodes by labels and annotations. ``kubectl(*args)`` returns a CompletedProcess."""
    import json

    out = {}
    kinds = list(CLUSTER_SNAPSHOT_KINDS)
    for kind in kinds:
        proc = kubectl("get", kind, "-A", "-o", "json")
        if proc.returncode != 0:  # a kind the cluster does not serve (no KubeVirt): nothing to compare
            continue
        for obj in json.loads(proc.stdout)["items"]:
            m = obj["metadata"]
            if obj["kind"] in ("Deployment", "DaemonSet"):
                # their controllers rewrite the status whenever a pod's readiness moves (a cluster under load
                # settles late): what the lab must leave is the spec (generation), the labels and the annotations
                out[(obj["kind"], m.get("namespace", ""), m["name"])] = json.dumps(
                    [m.get("generation"), m.get("labels") or {}, m.get("annotations") or {}], sort_keys=True)
                continue
            out[(obj["kind"], m.get("namespace", ""), m["name"])] = m["resourceVersion"]
    for args in (("get", "configmaps", "-n", "kube-system", "-o", "json"),
                 ("get", "secrets", "-A", "--field-selector", "type=helm.sh/release.v1", "-o", "json")):
        proc = kubectl(*args)
        assert proc.returncode == 0, proc.stderr
        for obj in json.loads(proc.stdout)["items"]:
            m = obj["metadata"]
            out[(obj["kind"], m.get("namespace", ""), m["name"])] = m["resourceVersion"]
    proc = kubectl("get", "nodes", "-o", "json")
    assert proc.returncode == 0, proc.stderr
    for obj in json.loads(proc.stdout)["items"]:
        m = obj["metadata"]
        out[("Node", "", m["name"])] = json.dumps([m.get("labels") or {}, m.get("annotations") or {}], sort_keys=True)
    return out


def existing_mode_cmd(repo_root, *playbooks):
    """ansible-playbook with the existing_cluster inventory (KUBECONFIG and HOME come from the caller's env)."""
    return ["ansible-playbook", "-i", str(repo_root / "inventories" / "existing_cluster")] + [
        str(repo_root / p) for p in playbooks]
