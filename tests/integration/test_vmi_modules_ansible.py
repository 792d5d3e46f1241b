# -*- coding: utf-8 -*-
"""vmi_wait, vmi_migrate and iperf3_migration run by Ansible (ad-hoc `ansible localhost -m …`, results read
with --tree) against captured iperf3 reports and an in-process fake Kubernetes API (benchmarks/fake_kube_api.py)
that serves discovery, list, create and chunked watch streams, and can answer 410 Gone or cut a watch."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import importlib.util
import json
import os
import pathlib
import re
import subprocess
import sys
import threading
import time

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
KV = REPO / "tests" / "unit" / "plugins" / "module_utils" / "fixtures" / "kubevirt"
IPERF3 = REPO / "tests" / "unit" / "plugins" / "module_utils" / "fixtures" / "iperf3"
VMIS = "virtualmachineinstances"
VMIMS = "virtualmachineinstancemigrations"

_spec = importlib.util.spec_from_file_location("fake_kube_api", str(REPO / "benchmarks" / "fake_kube_api.py"))
fake_kube_api = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake_kube_api)


def load(name):
    return yaml.safe_load((KV / name).read_text())


def ansible(tmp_path, module, args, check=False):
    """Run one module on localhost with the venv interpreter; return (rc, result dict, output)."""
    tree = tmp_path / "tree-{0}".format(time.monotonic_ns())
    cmd = ["ansible", "localhost", "-m", "ovnk.udn_lab." + module, "-a", json.dumps(args), "--tree", str(tree),
           "-e", "ansible_python_interpreter=" + sys.executable]
    if check:
        cmd.append("--check")
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    # pytest-ansible exports a collections path for in-process imports; let ansible.cfg decide instead
    # (it also finds kubernetes.core).
    for var in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
        env.pop(var, None)
    proc = subprocess.run(cmd, cwd=str(REPO), env=env, capture_output=True, text=True, timeout=300, check=False)
    out_file = tree / "localhost"
    assert out_file.exists(), "no result written: rc={0}\n{1}\n{2}".format(proc.returncode, proc.stdout, proc.stderr)
    return proc.returncode, json.loads(out_file.read_text()), proc.stdout + proc.stderr


@pytest.fixture
def api(tmp_path):
    server = fake_kube_api.FakeKubeApi()
    server.start()
    server.kubeconfig_path = server.kubeconfig(str(tmp_path / "kubeconfig"))
    for node in load("nodes.yml"):
        server.put("nodes", node)
    yield server
    server.stop()


# ---------------------------------------------------------------- iperf3_migration


WINDOW = {"window_start": "2026-11-27T05:28:20.485Z", "window_end": "2026-11-27T05:28:22.509Z"}


def test_iperf3_migration_reports_outage_without_failing(tmp_path):
    args = dict(WINDOW, src=str(IPERF3 / "blackhole_2s.json"), return_series=False)
    rc, res, out = ansible(tmp_path, "iperf3_migration", args)
    assert rc == 0, out
    assert res["survived"] is True and res["passed"] is False and res["changed"] is False
    assert res["longest_outage"] == {"seconds": 2.5, "start": 3.0, "end": 5.5}
    assert "series" not in res


def test_iperf3_migration_fail_on_verdict(tmp_path):
    args = {"src": str(IPERF3 / "server_killed.json"), "fail_on_verdict": True}
    rc, res, dummy = ansible(tmp_path, "iperf3_migration", args)
    assert rc != 0
    assert res["msg"] == "FAIL: control socket has closed unexpectedly at 2.0 s"


def test_iperf3_migration_check_mode_plot(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is optional; plotting is skipped without it")
    png = tmp_path / "plot.png"
    args = dict(WINDOW, src=str(IPERF3 / "blackhole_2s.json"), plot_path=str(png))
    rc, res, out = ansible(tmp_path, "iperf3_migration", args, check=True)
    assert rc == 0, out
    assert res["changed"] is True and not png.exists()


def test_iperf3_migration_needs_a_source(tmp_path):
    rc, res, dummy = ansible(tmp_path, "iperf3_migration", {"max_outage_seconds": 1})
    assert rc != 0 and res["msg"] == "one of the following is required: src, content"


# ---------------------------------------------------------------- vmi_wait


def test_vmi_wait_rejects_bad_family(tmp_path):
    rc, res, dummy = ansible(tmp_path, "vmi_wait", {"name": ["a/b"], "ip_family": "both"})
    assert rc != 0
    assert "value of ip_family must be one of: any, ipv4, ipv6, dual, got: both" in res["msg"]


def test_vmi_wait_survives_gone_and_dropped_watch_and_returns_on_ready(tmp_path, api):
    api.put(VMIS, load("vmi_agent_not_connected.yml"))
    api.put(VMIS, load("vmi_ready.yml"))
    api.gone_watches = 1
    api.dropped_watches = 1
    ready = load("vmi_ready.yml")
    ready["metadata"].update(name="red", namespace="red-namespace")

    def flip_after_third_watch():
        # 1st watch: 410 Gone (relist), 2nd: cut mid-stream (reconnect), 3rd: gets the change
        while sum(1 for r in list(api.requests) if "watch=true" in r[1]) < 3:
            time.sleep(0.05)
        time.sleep(0.2)
        api.put(VMIS, ready)

    threading.Thread(target=flip_after_third_watch, daemon=True).start()
    rc, res, out = ansible(tmp_path, "vmi_wait", {
        "kubeconfig": api.kubeconfig_path, "name": ["red-namespace/red", "blue-namespace/blue"],
        "interface": "happy", "ip_family": "ipv4", "timeout": 60})
    assert rc == 0, out
    assert res["changed"] is False
    assert [v["ready"] for v in res["vmis"]] == [True, True]
    assert res["watch"]["relists"] >= 1 and res["watch"]["errors"] >= 1
    assert res["elapsed_seconds"] < 60


def test_vmi_wait_timeout_diagnostics(tmp_path, api):
    api.put(VMIS, load("vmi_scheduling.yml"))
    api.put("pods", load("launcher_pod_pending.yml"))
    args = {"kubeconfig": api.kubeconfig_path, "name": ["red"], "namespace": ["red-namespace"], "timeout": 3}
    rc, res, dummy = ansible(tmp_path, "vmi_wait", args)
    assert rc != 0
    assert res["msg"].startswith("timed out after 3 s waiting for 1 of 1 VMIs: red-namespace/red: phase is Scheduling")
    assert "Insufficient devices.kubevirt.io/kvm" in res["msg"]
    assert res["not_ready"][0]["launcher_pods"][0]["name"] == "virt-launcher-red-abcde"


def test_a_long_vmi_wait_shows_what_it_waits_for_between_30_s_slices(tmp_path, api):
    """Ansible shows nothing while a module runs: the action plugin runs the wait in 30 s slices and prints, in
    the default output, what is still pending; the result is the whole wait's."""
    api.put(VMIS, load("vmi_scheduling.yml"))
    api.put("pods", load("launcher_pod_pending.yml"))
    ready = load("vmi_ready.yml")
    ready["metadata"].update(name="red", namespace="red-namespace")

    def become_ready():
        time.sleep(36)
        api.put(VMIS, ready)

    threading.Thread(target=become_ready, daemon=True).start()
    rc, res, out = ansible(tmp_path, "vmi_wait", {
        "kubeconfig": api.kubeconfig_path, "name": ["red"], "namespace": ["red-namespace"], "timeout": 120})
    assert rc == 0, out
    progress = [line for line in out.splitlines() if line.startswith("VMIs: waiting ")]
    assert len(progress) == 1, out
    # (the slice ends at 30 s of watching; the module's start-up adds a second or two)
    assert re.match(r"VMIs: waiting 3\d/120 s: red-namespace/red Scheduling: missing phase is Scheduling", progress[0]), \
        progress
    assert res["slices"] == 2 and 30 <= res["elapsed_seconds"] < 120
    assert [v["ready"] for v in res["vmis"]] == [True]


# ---------------------------------------------------------------- vmi_migrate


def fake_kubevirt_migration(api, stop):
    """Play KubeVirt's part: walk a new VMIM through its phases and move the VMI to the other worker."""
    while not stop.is_set():
        with api.lock:
            pending = [o for (p, dummy, dummy2), o in api.objects.items() if p == VMIMS and not o.get("status")]
        for vmim in pending:
            vmim = copy.deepcopy(vmim)
            stamps = []
            for phase in ("Scheduling", "PreparingTarget", "Running", "Succeeded"):
                stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                stamps.append({"phase": phase, "phaseTransitionTimestamp": stamp})
                vmim["status"] = {"phase": phase, "phaseTransitionTimestamps": list(stamps)}
                if phase == "Succeeded":
                    after = load("vmi_after_migration.yml")
                    after["status"]["migrationState"]["migrationUid"] = vmim["metadata"]["uid"]
                    api.put(VMIS, after)
                vmim = api.put(VMIMS, vmim)
                time.sleep(0.2)
        time.sleep(0.05)


def test_vmi_migrate_check_mode_creates_nothing(tmp_path, api):
    api.put(VMIS, load("vmi_ready.yml"))
    rc, res, out = ansible(tmp_path, "vmi_migrate", {"kubeconfig": api.kubeconfig_path, "name": "blue",
                                                     "namespace": "blue-namespace"}, check=True)
    assert rc == 0, out
    assert res["changed"] is True and res["would"] == "create"
    assert not [r for r in api.requests if r[0] == "POST"]


def test_vmi_migrate_runs_and_verifies(tmp_path, api):
    api.put(VMIS, load("vmi_ready.yml"))
    stop = threading.Event()
    worker = threading.Thread(target=fake_kubevirt_migration, args=(api, stop), daemon=True)
    worker.start()
    try:
        rc, res, out = ansible(tmp_path, "vmi_migrate", {
            "kubeconfig": api.kubeconfig_path, "name": "blue", "namespace": "blue-namespace", "interface": "happy",
            "timeout": 60, "labels": {"udn-lab.ovnk.io/lab": "ovn-k-helm"}})
    finally:
        stop.set()
    assert rc == 0, out
    assert res["changed"] is True
    assert (res["source_node"], res["target_node"]) == ("ovn-k-helm-worker", "ovn-k-helm-worker2")
    assert res["ips_unchanged"] is True
    assert set(res["phase_transitions"]) == {"Scheduling", "PreparingTarget", "Running", "Succeeded"}
    posts = [r for r in api.requests if r[0] == "POST"]
    assert posts == [("POST", "/apis/kubevirt.io/v1/namespaces/blue-namespace/virtualmachineinstancemigrations")]
    created = [o for (p, dummy, dummy2), o in api.objects.items() if p == VMIMS][0]
    assert created["metadata"]["labels"] == {"udn-lab.ovnk.io/lab": "ovn-k-helm"}
    assert created["metadata"]["name"].startswith("kubevirt-migrate-vm-")


def test_vmi_migrate_refuses_not_migratable(tmp_path, api):
    api.put(VMIS, load("vmi_not_migratable.yml"))
    args = {"kubeconfig": api.kubeconfig_path, "name": "blue", "namespace": "blue-namespace"}
    rc, res, dummy = ansible(tmp_path, "vmi_migrate", args)
    assert rc != 0 and res["changed"] is False
    assert "is not live-migratable: LiveMigratable=False (InterfaceNotLiveMigratable" in res["msg"]
    assert not [r for r in api.requests if r[0] == "POST"]
