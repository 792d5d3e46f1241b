# -*- coding: utf-8 -*-
"""vmi_migrate through its main() against the fake API of test_vmi_wait (scripted watch events, fake clock)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s
from ansible_collections.ovnk.udn_lab.plugins.modules import vmi_migrate

from fake_api import FakeApi, load, patch_clock, run_main

VMIM = "VirtualMachineInstanceMigration"
VMI = "VirtualMachineInstance"
UID = "9e0a6b7c-1111-4222-8333-944455556666"  # what FakeApi.create assigns (and the fixtures use)


@pytest.fixture
def clock(monkeypatch):
    return patch_clock(monkeypatch, vmi_migrate)


def run(monkeypatch, capsys, api, args, check_mode=False):
    args = dict({"name": "blue", "namespace": "blue-namespace", "interface": "happy"}, **args)
    return run_main(monkeypatch, vmi_migrate, api, args, capsys, check_mode)


def vmim_event(phase, name="kubevirt-migrate-vm-abcde"):
    obj = load("vmim_succeeded.yml")
    obj["metadata"]["name"] = name
    obj["status"]["phase"] = phase
    if phase != "Succeeded":
        obj["status"]["phaseTransitionTimestamps"] = obj["status"]["phaseTransitionTimestamps"][:2]
    return {"type": "MODIFIED", "object": obj}


def cluster(clock, vmi=None, nodes=None, vmims=None, scripts=None):
    return FakeApi(clock, {VMI: [vmi or load("vmi_ready.yml")], "Node": nodes or load("nodes.yml"), VMIM: vmims or []},
                   scripts)


def test_migrates_and_verifies(monkeypatch, capsys, clock):
    during = load("vmi_ready.yml")
    during["status"]["migrationState"] = {"migrationUid": UID, "completed": False}
    api = cluster(clock, scripts={
        VMIM: [vmim_event("Scheduling"), vmim_event("PreparingTarget"), "expire", vmim_event("Running"),
               vmim_event("Succeeded")],
        VMI: [{"type": "MODIFIED", "object": during}, {"type": "MODIFIED", "object": load("vmi_after_migration.yml")}],
    })
    out = run(monkeypatch, capsys, api, {"labels": {"udn-lab.ovnk.io/lab": "ovn-k-helm"}})
    assert out.get("failed") is not True, out
    assert out["changed"] is True
    assert len(api.created) == 1
    assert api.created[0]["spec"] == {"vmiName": "blue"}
    assert api.created[0]["metadata"]["labels"] == {"udn-lab.ovnk.io/lab": "ovn-k-helm"}
    assert out["migration"] == {"name": "kubevirt-migrate-vm-abcde", "uid": UID, "adopted": False}
    assert (out["source_node"], out["target_node"]) == ("ovn-k-helm-worker", "ovn-k-helm-worker2")
    assert out["start"] == "2026-11-27T06:00:12.408311Z" and out["duration_seconds"] == 28.492
    assert out["ips_unchanged"] is True and out["ready_after"] is True
    assert out["schedulable_nodes"] == ["ovn-k-helm-worker", "ovn-k-helm-worker2"]
    assert out["elapsed_seconds"] == 55.0  # one expired watch in between


def test_check_mode_creates_nothing(monkeypatch, capsys, clock):
    api = cluster(clock)
    out = run(monkeypatch, capsys, api, {}, check_mode=True)
    assert out["changed"] is True and out["would"] == "create"
    assert out["msg"] == ("would create a migration of VMI blue-namespace/blue away from node ovn-k-helm-worker "
                          "(possible targets: ovn-k-helm-worker2)")
    assert api.created == []


def test_check_mode_adopts_in_flight(monkeypatch, capsys, clock):
    flying = vmim_event("Scheduling", name="kubevirt-migrate-vm-zzzzz")["object"]
    out = run(monkeypatch, capsys, cluster(clock, vmims=[flying]), {}, check_mode=True)
    assert out["would"] == "adopt" and out["migration"]["name"] == "kubevirt-migrate-vm-zzzzz"


def test_check_mode_still_refuses(monkeypatch, capsys, clock):
    out = run(monkeypatch, capsys, cluster(clock, vmi=load("vmi_not_migratable.yml")), {}, check_mode=True)
    assert out["failed"] and "InterfaceNotLiveMigratable" in out["msg"]


def test_refuses_not_migratable_with_reason(monkeypatch, capsys, clock):
    api = cluster(clock, vmi=load("vmi_not_migratable.yml"))
    out = run(monkeypatch, capsys, api, {})
    assert out["failed"] and out["changed"] is False
    assert out["msg"].startswith("VMI blue-namespace/blue is not live-migratable: LiveMigratable=False "
                                 "(InterfaceNotLiveMigratable: cannot migrate VMI")
    assert api.created == []


def test_refuses_single_schedulable_node(monkeypatch, capsys, clock):
    nodes = load("nodes.yml")
    nodes[2]["spec"]["unschedulable"] = True
    api = cluster(clock, nodes=nodes)
    out = run(monkeypatch, capsys, api, {})
    assert out["msg"] == ("live migration needs at least 2 schedulable nodes, found 1 (ovn-k-helm-worker); unschedulable: "
                          "ovn-k-helm-control-plane (taint node-role.kubernetes.io/control-plane:NoSchedule), "
                          "ovn-k-helm-worker2 (cordoned)")
    assert api.created == []


def test_adopts_in_flight_migration(monkeypatch, capsys, clock):
    flying = vmim_event("Running")["object"]
    api = cluster(clock, vmims=[flying], scripts={
        VMIM: [vmim_event("Succeeded")],
        VMI: [{"type": "MODIFIED", "object": load("vmi_after_migration.yml")}],
    })
    out = run(monkeypatch, capsys, api, {})
    assert out["changed"] is True and out["migration"]["adopted"] is True
    assert api.created == []


def test_refuses_in_flight_without_adopt(monkeypatch, capsys, clock):
    api = cluster(clock, vmims=[vmim_event("Scheduling")["object"]])
    out = run(monkeypatch, capsys, api, {"adopt": False})
    assert "already in flight (phase Scheduling); set adopt=true" in out["msg"]


def test_failed_migration_fails_with_reason(monkeypatch, capsys, clock):
    failed = load("vmim_failed.yml")
    failed["metadata"].update(name="kubevirt-migrate-vm-abcde", uid=UID)
    after = load("vmi_after_failed_migration.yml")
    after["status"]["migrationState"]["migrationUid"] = UID

    class FailingApi(FakeApi):
        def _apply(self, kind, event):
            super(FailingApi, self)._apply(kind, event)
            self.objects[VMI] = [after]  # the VMI as KubeVirt leaves it after the abort

    api = FailingApi(clock, {VMI: [load("vmi_ready.yml")], "Node": load("nodes.yml"), VMIM: []},
                     {VMIM: [{"type": "MODIFIED", "object": failed}]})
    out = run(monkeypatch, capsys, api, {})
    assert out["failed"], out
    assert out["changed"] is True, out["msg"]
    assert out["msg"].startswith("migration kubevirt-migrate-vm-abcde of VMI blue-namespace/blue did not verify: "
                                 "migration phase is Failed, not Succeeded")
    assert "(failure reason: Live migration abort detected" in out["msg"]


def test_timeout_in_preparing_target_shows_the_target_pod(monkeypatch, capsys, clock):
    pod = copy.deepcopy(load("launcher_pod_pending.yml"))
    pod["metadata"].update(name="virt-launcher-blue-pzsrk", namespace="blue-namespace",
                           labels={"kubevirt.io/migrationJobUID": UID})
    api = cluster(clock, scripts={VMIM: [vmim_event("PreparingTarget")]})
    api.objects["Pod"] = [pod]
    out = run(monkeypatch, capsys, api, {"timeout": 150})
    assert out["failed"] and out["changed"] is True
    assert out["msg"].startswith("timed out after 150 s waiting for the migration of blue-namespace/blue: "
                                 "migration kubevirt-migrate-vm-abcde in phase PreparingTarget")
    assert "target pod virt-launcher-blue-pzsrk Pending on no node: PodScheduled=False (Unschedulable" in out["msg"]


def test_missing_vmi(monkeypatch, capsys, clock):
    api = FakeApi(clock, {})
    out = run(monkeypatch, capsys, api, {})
    assert out["msg"].startswith("VMI blue-namespace/blue not found")


def test_required_options(monkeypatch, capsys, clock):
    monkeypatch.setattr(k8s, "client_from_module", lambda module: None)
    with patch_module_args({"name": "blue"}):
        with pytest.raises(SystemExit):
            vmi_migrate.main()
    out = json.loads(capsys.readouterr().out)
    assert out["msg"] == "missing required arguments: namespace"


def test_a_timed_out_slice_says_what_it_waits_for_and_how_to_resume(monkeypatch, capsys, clock):
    api = cluster(clock, scripts={VMIM: [vmim_event("Scheduling"), vmim_event("Running")]})
    out = run(monkeypatch, capsys, api, {"timeout": 30})
    assert out["failed"] and out["timed_out"] is True and out["changed"] is True
    assert out["pending"] == "migration kubevirt-migrate-vm-abcde: phase Running"
    resume = out["migration"]
    assert (resume["name"], resume["uid"], resume["adopted"]) == ("kubevirt-migrate-vm-abcde", UID, False)
    assert resume["vmi_before"]["status"]["nodeName"] == "ovn-k-helm-worker"
    assert len(api.created) == 1


def test_a_resumed_wait_creates_nothing_and_judges_against_the_vmi_before(monkeypatch, capsys, clock):
    """The next slice: the migration finished meanwhile (no migration in flight any more, the VMI already on the
    target): the module waits for that same migration, creates none, and compares with the VMI as it was."""
    before = load("vmi_ready.yml")
    snapshot = {"metadata": {"name": "blue", "namespace": "blue-namespace"},
                "status": {"nodeName": before["status"]["nodeName"], "interfaces": before["status"]["interfaces"]}}
    done = vmim_event("Succeeded")["object"]
    done["metadata"]["uid"] = UID
    api = cluster(clock, vmi=load("vmi_after_migration.yml"), vmims=[done])
    resume = {"name": "kubevirt-migrate-vm-abcde", "uid": UID, "adopted": False, "vmi_before": snapshot}
    out = run(monkeypatch, capsys, api, {"resume": resume})
    assert out.get("failed") is not True, out
    assert api.created == []
    assert (out["source_node"], out["target_node"]) == ("ovn-k-helm-worker", "ovn-k-helm-worker2")
    assert out["ips_unchanged"] is True and out["ips_before"] == out["ips_after"] and out["ips_before"]


def test_a_resumed_migration_that_is_gone_fails_clearly(monkeypatch, capsys, clock):
    api = cluster(clock)
    resume = {"name": "kubevirt-migrate-vm-gone", "uid": UID, "adopted": False, "vmi_before": {"status": {}}}
    out = run(monkeypatch, capsys, api, {"resume": resume})
    assert out["failed"] and out["msg"] == ("migration kubevirt-migrate-vm-gone of VMI blue-namespace/blue, which "
                                            "this wait started, is gone (deleted while waiting?)")
    assert api.created == []
