"""Unit tests for plugins/module_utils/kubevirt.py (pure predicates over real-shaped objects)."""

from __future__ import annotations

import copy
import pathlib

import pytest
import yaml

from ansible_collections.ovnk.udn_lab.plugins.module_utils import kubevirt as kv

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "kubevirt"


def load(name):
    return yaml.safe_load((FIXTURES / name).read_text())


def test_seed_vmi_is_ready_and_summarised():
    ready, missing, summary = kv.vmi_readiness(load("vmi_ready.yml"), interface="happy")
    assert ready, missing
    assert missing == []
    assert summary["node"] == "ovn-k-helm-worker"
    # link-local addresses are not workshop addresses
    assert summary["interfaces"]["happy"]["ips"] == ["192.168.0.4"]
    assert summary["conditions"]["AgentConnected"]["status"] == "True"


def test_agent_not_connected_and_domain_only_ip_are_both_reported():
    ready, missing, dummy = kv.vmi_readiness(load("vmi_agent_not_connected.yml"), interface="happy")
    assert not ready
    assert any("AgentConnected=absent" in m for m in missing)
    assert any("guest agent" in m and "192.168.0.3" in m and "(domain)" in m for m in missing)


def test_scheduling_vmi_reports_phase_and_condition_reason():
    ready, missing, dummy = kv.vmi_readiness(load("vmi_scheduling.yml"))
    assert not ready
    assert missing[0] == "phase is Scheduling, not Running"
    assert any("Ready=False (GuestNotRunning: Guest VM is not reported as running)" in m for m in missing)


def test_unknown_interface_names_the_reported_ones():
    ready, missing, dummy = kv.vmi_readiness(load("vmi_ready.yml"), interface="default")
    assert not ready
    assert missing == ["interface default not in status.interfaces (reported: happy)"]


@pytest.mark.parametrize(
    "family,fixture,ready",
    [
        ("ipv4", "vmi_ready.yml", True),
        ("ipv6", "vmi_ready.yml", False),  # only a link-local v6 address
        ("dual", "vmi_ready.yml", False),
        ("dual", "vmi_dual_stack.yml", True),
        ("ipv6", "vmi_dual_stack.yml", True),
    ],
)
def test_address_family_requirement(family, fixture, ready):
    got, missing, dummy = kv.vmi_readiness(load(fixture), interface="happy", family=family)
    assert got is ready, missing
    if not ready:
        assert "no IPv6 address" in missing[-1]


def test_require_migratable_quotes_the_reason():
    vmi = load("vmi_not_migratable.yml")
    assert kv.vmi_readiness(vmi)[0] is True
    ready, missing, dummy = kv.vmi_readiness(vmi, require_migratable=True)
    assert not ready
    assert "InterfaceNotLiveMigratable" in missing[0]


def test_bad_family_is_rejected():
    with pytest.raises(ValueError, match="family must be one of"):
        kv.vmi_readiness(load("vmi_ready.yml"), family="both")


def test_launcher_pod_state_explains_pending():
    state = kv.launcher_pod_state(load("launcher_pod_pending.yml"))
    assert state["phase"] == "Pending"
    assert "Insufficient devices.kubevirt.io/kvm" in state["problems"][0]
    assert kv.launcher_pod_state(None)["problems"] == ["no virt-launcher pod found"]


def test_launcher_pod_waiting_container():
    pod = {"metadata": {"name": "p"}, "status": {"phase": "Pending", "containerStatuses": [
        {"name": "compute", "state": {"waiting": {"reason": "ImagePullBackOff", "message": "pull failed"}}}]}}
    assert kv.launcher_pod_state(pod)["problems"] == ["container compute waiting: ImagePullBackOff: pull failed"]


def test_schedulable_nodes_excludes_tainted_control_plane():
    ok, refused = kv.schedulable_nodes(load("nodes.yml"))
    assert ok == ["ovn-k-helm-worker", "ovn-k-helm-worker2"]
    assert "taint node-role.kubernetes.io/control-plane:NoSchedule" == refused["ovn-k-helm-control-plane"]


def test_toleration_and_cordon_and_selector():
    nodes = load("nodes.yml")
    vmi = {"spec": {"tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
                                     "effect": "NoSchedule"}]}}
    assert len(kv.schedulable_nodes(nodes, vmi)[0]) == 3
    nodes[1]["spec"]["unschedulable"] = True
    ok, refused = kv.schedulable_nodes(nodes)
    assert ok == ["ovn-k-helm-worker2"] and refused["ovn-k-helm-worker"] == "cordoned"
    vmi = {"spec": {"nodeSelector": {"disk": "ssd"}}}
    assert kv.schedulable_nodes(load("nodes.yml"), vmi)[0] == []


def test_migration_refusal_for_not_migratable_and_single_node():
    nodes = load("nodes.yml")[:2]
    reasons = kv.migration_refusal(load("vmi_not_migratable.yml"), nodes)
    assert len(reasons) == 2
    assert "not live-migratable" in reasons[0] and "InterfaceNotLiveMigratable" in reasons[0]
    assert "at least 2 schedulable nodes, found 1" in reasons[1]
    assert kv.migration_refusal(load("vmi_ready.yml"), load("nodes.yml")) == []


def test_successful_migration_verdict():
    verdict = kv.migration_verdict(load("vmi_ready.yml"), load("vmi_after_migration.yml"), load("vmim_succeeded.yml"))
    assert verdict["ok"], verdict["errors"]
    assert verdict["source_node"] == "ovn-k-helm-worker"
    assert verdict["target_node"] == "ovn-k-helm-worker2"
    assert verdict["duration_seconds"] == pytest.approx(28.492, abs=0.001)
    assert verdict["phase_transitions"]["Succeeded"] == "2026-11-27T06:00:41Z"
    assert verdict["ips_unchanged"] is True
    assert verdict["ips_before"] == ["happy=192.168.0.4"]


def test_failed_migration_verdict_carries_reason():
    verdict = kv.migration_verdict(load("vmi_ready.yml"), load("vmi_after_failed_migration.yml"), load("vmim_failed.yml"))
    assert not verdict["ok"]
    assert "migration phase is Failed, not Succeeded" in verdict["errors"]
    assert "migrationState.failed is true" in verdict["errors"]
    assert "stuck for 150 sec" in verdict["failure_reason"]


def test_uid_mismatch_is_an_error():
    vmim = load("vmim_succeeded.yml")
    vmim["metadata"]["uid"] = "another-uid"
    verdict = kv.migration_verdict(load("vmi_ready.yml"), load("vmi_after_migration.yml"), vmim)
    assert verdict["errors"] == [
        "migrationState.migrationUid 9e0a6b7c-1111-4222-8333-944455556666 does not match migration uid another-uid"
    ]


def test_same_node_and_node_mismatch_are_errors():
    after = load("vmi_after_migration.yml")
    after["status"]["migrationState"]["targetNode"] = "ovn-k-helm-worker"
    verdict = kv.migration_verdict(load("vmi_ready.yml"), after, load("vmim_succeeded.yml"))
    assert "target node equals source node ovn-k-helm-worker" in verdict["errors"]
    assert any("!= status.nodeName ovn-k-helm-worker2" in e for e in verdict["errors"])


def test_ip_change_and_missing_timestamps_are_detected():
    after = load("vmi_after_migration.yml")
    after["status"]["interfaces"][0]["ipAddresses"] = ["192.168.0.9"]
    after["status"]["interfaces"][0]["ipAddress"] = "192.168.0.9"
    del after["status"]["migrationState"]["endTimestamp"]
    verdict = kv.migration_verdict(load("vmi_ready.yml"), after, load("vmim_succeeded.yml"))
    assert verdict["ips_unchanged"] is False
    assert verdict["errors"] == ["migrationState.endTimestamp is missing"]
    assert verdict["duration_seconds"] is None


def test_in_flight_migration_is_adopted_oldest_first():
    done = load("vmim_succeeded.yml")
    a = copy.deepcopy(done)
    a["metadata"].update(name="a", creationTimestamp="2026-11-27T06:05:00Z")
    a["status"] = {"phase": "Scheduling"}
    b = copy.deepcopy(a)
    b["metadata"].update(name="b", creationTimestamp="2026-11-27T06:04:00Z")
    other = copy.deepcopy(a)
    other["spec"]["vmiName"] = "red"
    assert kv.in_flight_migration([done, a, b, other], "blue")["metadata"]["name"] == "b"
    assert kv.in_flight_migration([done], "blue") is None


def test_vmim_definition_and_settled():
    body = kv.vmim_definition("blue", "blue-namespace", {"app.kubernetes.io/managed-by": "ovnk.udn_lab"})
    assert body["metadata"]["generateName"] == "kubevirt-migrate-vm-"
    assert body["spec"] == {"vmiName": "blue"}
    after = load("vmi_after_migration.yml")
    assert kv.vmi_migration_settled(after, "9e0a6b7c-1111-4222-8333-944455556666")
    assert not kv.vmi_migration_settled(after, "other")
    assert kv.vmim_finished(load("vmim_failed.yml"))


@pytest.mark.parametrize(
    "text,epoch",
    [
        ("2026-11-27T06:00:12Z", 1795759212.0),
        ("2026-11-27T06:00:12.408311Z", 1795759212.408311),
        ("2026-11-27T07:00:12.5+01:00", 1795759212.5),
        ("2026-11-27T06:00:12.123456789Z", 1795759212.123456),
    ],
)
def test_parse_time(text, epoch):
    assert kv.to_epoch(text) == pytest.approx(epoch, abs=1e-6)
    assert kv.to_epoch(None) is None


def test_pending_vmis_says_what_each_waits_for_and_which_are_ready():
    line = kv.pending_vmis([
        {"namespace": "red-namespace", "name": "red", "phase": "Scheduling", "ready": False,
         "missing": ["phase Running", "guest agent connected"]},
        {"namespace": "blue-namespace", "name": "blue", "phase": "Running", "ready": True, "missing": []}])
    assert line == ("red-namespace/red Scheduling: missing phase Running, guest agent connected; "
                    "ready: blue-namespace/blue")
    assert kv.pending_vmis([]) == "no VMI matches yet"
