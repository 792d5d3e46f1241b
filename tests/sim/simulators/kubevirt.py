"""KubeVirt stand-in: plays virt-operator, virt-controller, virt-handler and kubevirt-ipam-controller.

Against a real API server (decisions are the pure functions below, unit-tested):

* KubeVirt CR → ``Available=True`` (``phase: Deployed``) a configurable delay after the operator Deployment
  exists; then nodes get ``kubevirt.io/schedulable=true`` (virt-handler's label, launcher pods select it).
* VirtualMachine (runStrategy Always / running: true) → VirtualMachineInstance (owner reference) →
  virt-launcher pod ``virt-launcher-<vm>-<5 chars>`` (generateName, like KubeVirt) scheduled by the real
  scheduler → VMI phases Scheduling → Scheduled → Running with conditions Ready, LiveMigratable (from the
  network binding's ``migration``), AgentConnected (no reason, no message: v1.8.4 ``updateGuestAgentConditions``)
  after ``boot_delay``: boot and cloud-init, since the test-tooling disks start qemu-guest-agent only after
  ``cloud-init status --wait``; ``guestOSInfo`` is the container disk's OS (``guest.DISKS``).
* ``status.interfaces`` as v1.8.4 virt-handler fills it for a network binding plugin (``netpod/discover.go``
  ``storePodInterfaceData``, ``netstat.go``): the pod interface's (``ovn-udn1``, the primary UDN entry of
  ``k8s.ovn.org/pod-networks``) first global IPv4 and IPv6 with ``infoSource: domain``; once the agent connects
  ``domain, guest-agent``, the pod's addresses kept per family (``updateVMIIfaceStatusWithGuestAgentData`` does
  not override a family the pod cache had, and the guest always reports at least an IPv6 link-local address).
  So the status shows an IPv6 address even when the guest configured none: what the guest really holds is the
  data plane's business (``guest.py``), and only a check inside the guest tells.
* Primary Layer2 networks with persistent IPs: IPAMClaim ``<vm>.<network>`` owned by the VM and the launcher
  pod annotation ``k8s.ovn.org/primary-udn-ipamclaim`` (what ipam-extensions does).
* VirtualMachineInstanceMigration → Pending, Scheduling, Scheduled, PreparingTarget, TargetReady, Running,
  Succeeded (per-phase minimum durations), target pod kept off the source node, VMI ``migrationState`` and
  ``nodeName``, source pod Succeeded; injectable failure → Failed; stays Pending without another node.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Dict, List, Optional

from .common import (DEPLOYMENTS, IPAMCLAIMS, KUBEVIRTS, NADS, NODES, PODS, VMIMS, VMIS, VMS, Controller, Result,
                     annotations_of, conditions_equal, create, delete, find_condition, labels_of, meta, node_ready,
                     owner_ref, parse_time, patch, patch_status, rfc3339, rfc3339_micro, set_condition)
from . import guest
from .ovnk import IPAMCLAIM_ANNOTATION, NETWORK_STATUS, POD_NETWORKS, parse_nad, pod_networks

SCHEDULABLE_LABEL = "kubevirt.io/schedulable"
KVM_RESOURCE = "devices.kubevirt.io/kvm"
TUN_RESOURCE = "devices.kubevirt.io/tun"
VHOST_NET_RESOURCE = "devices.kubevirt.io/vhost-net"
CREATED_BY = "kubevirt.io/created-by"
MIGRATION_JOB = "kubevirt.io/migrationJobUID"
NODE_NAME_LABEL = "kubevirt.io/nodeName"
VM_NAME_LABEL = "vm.kubevirt.io/name"
MIGRATION_PHASES = ("Pending", "Scheduling", "Scheduled", "PreparingTarget", "TargetReady", "Running")
FINAL = ("Succeeded", "Failed")
NOT_MIGRATABLE_MESSAGE = (
    "cannot migrate VMI which does not use masquerade, bridge with kubevirt.io/allow-pod-bridge-network-live-"
    "migration VM annotation or a migratable plugin to connect to the pod network"
)

DEFAULTS = {
    "kubevirt_version": "v1.8.4",
    "operator_deployment": "virt-operator",
    "available_delay": 2.0,
    "boot_delay": 3.0,
    "launcher_image": "quay.io/kubevirt/virt-launcher:v1.8.4",
    "launcher_tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}],
    # Minimum seconds a migration spends in each phase before moving on.
    "migration_delays": {"Pending": 0.2, "Scheduling": 0.5, "Scheduled": 0.5, "PreparingTarget": 1.0,
                         "TargetReady": 0.5, "Running": 5.0},
    # true (every migration), or a list of "namespace/vmi" names whose migrations fail while Running.
    "migration_fail": False,
    "migration_fail_reason": "Live migration failed: injected failure",
    # Whether the nodes have /dev/kvm (kind nodes share the host's): decides their devices.kubevirt.io/kvm.
    "node_kvm": False,
    # Whether they have /dev/net/tun and /dev/vhost-net (every kind node does): devices.kubevirt.io/tun, vhost-net.
    "node_tun": True,
    "node_vhost_net": True,
}


# --------------------------------------------------------------------------- helpers


def kubevirt_cr(cache) -> Optional[Dict[str, Any]]:
    items = [kv for kv in cache.list(KUBEVIRTS) if not meta(kv).get("deletionTimestamp")]
    return items[0] if items else None


def kubevirt_available(cache) -> bool:
    kv = kubevirt_cr(cache)
    cond = find_condition(((kv or {}).get("status") or {}).get("conditions"), "Available")
    return bool(cond and cond.get("status") == "True")


def phase_entered(obj: Dict[str, Any], phase: str) -> Optional[float]:
    for item in reversed((obj.get("status") or {}).get("phaseTransitionTimestamps") or []):
        if item.get("phase") == phase:
            return parse_time(item.get("phaseTransitionTimestamp"))
    return None


def with_phase(status: Dict[str, Any], phase: str, now: float) -> Dict[str, Any]:
    """Copy of a status moved to ``phase`` with its phaseTransitionTimestamps entry appended."""
    out = copy.deepcopy(status)
    out["phase"] = phase
    out["phaseTransitionTimestamps"] = list(out.get("phaseTransitionTimestamps") or []) + [
        {"phase": phase, "phaseTransitionTimestamp": rfc3339_micro(now)}]
    return out


def launcher_pods(vmi: Dict[str, Any], cache) -> List[Dict[str, Any]]:
    uid = meta(vmi).get("uid")
    return [p for p in cache.list(PODS, meta(vmi)["namespace"]) if labels_of(p).get(CREATED_BY) == uid]


def pod_live(pod) -> bool:
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed") and not meta(pod).get(
        "deletionTimestamp")


def pod_running(pod) -> bool:
    return (pod or {}).get("status", {}).get("phase") == "Running" and not meta(pod).get("deletionTimestamp")


def vm_name_of(vmi: Dict[str, Any]) -> str:
    for ref in meta(vmi).get("ownerReferences") or []:
        if ref.get("kind") == "VirtualMachine":
            return ref["name"]
    return meta(vmi)["name"]


def pod_network_name(vmi: Dict[str, Any]) -> Optional[str]:
    for net in (vmi.get("spec") or {}).get("networks") or []:
        if "pod" in net:
            return net.get("name")
    return None


def persistent_primary(namespace: str, cache) -> Optional[Dict[str, Any]]:
    """The namespace's primary OVN network when it keeps IPs (allowPersistentIPs): ipam-extensions' trigger."""
    for nad in cache.list(NADS, namespace):
        net = parse_nad(nad)
        if net and net["role"] == "primary" and net["persistent"]:
            return net
    return None


def tolerated(taint, tolerations) -> bool:
    for tol in tolerations or []:
        if tol.get("effect") and tol.get("effect") != taint.get("effect"):
            continue
        if tol.get("operator") == "Exists" and (not tol.get("key") or tol.get("key") == taint.get("key")):
            return True
        if tol.get("key") == taint.get("key") and (tol.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def schedulable_nodes(cache, exclude: Optional[str] = None, tolerations=None) -> List[str]:
    """Nodes a virt-launcher pod can land on: Ready, not cordoned, kubevirt.io/schedulable=true, taints tolerated."""
    out = []
    for node in cache.list(NODES):
        name = meta(node)["name"]
        spec = node.get("spec") or {}
        if name == exclude or spec.get("unschedulable") or not node_ready(node):
            continue
        if labels_of(node).get(SCHEDULABLE_LABEL) != "true":
            continue
        if any(t.get("effect") in ("NoSchedule", "NoExecute") and not tolerated(t, tolerations)
               for t in spec.get("taints") or []):
            continue
        out.append(name)
    return out


def live_migratable(vmi: Dict[str, Any], kv: Optional[Dict[str, Any]]):
    """``(True, "", "")`` or ``(False, reason, message)`` for the VMI's pod-network binding."""
    bindings = ((((kv or {}).get("spec") or {}).get("configuration") or {}).get("network") or {}).get("binding") or {}
    pod_nets = set(n.get("name") for n in (vmi.get("spec") or {}).get("networks") or [] if "pod" in n)
    allow_bridge = "kubevirt.io/allow-pod-bridge-network-live-migration" in annotations_of(vmi)
    for iface in (((vmi.get("spec") or {}).get("domain") or {}).get("devices") or {}).get("interfaces") or []:
        if iface.get("name") not in pod_nets:
            continue
        if "binding" in iface:
            plugin = bindings.get((iface.get("binding") or {}).get("name")) or {}
            if plugin.get("migration") is None:
                return False, "InterfaceNotLiveMigratable", NOT_MIGRATABLE_MESSAGE
        elif "bridge" in iface and not allow_bridge:
            return False, "InterfaceNotLiveMigratable", NOT_MIGRATABLE_MESSAGE
    return True, "", ""


def vmi_interfaces(vmi: Dict[str, Any], pod: Dict[str, Any], agent: bool) -> List[Dict[str, Any]]:
    """``status.interfaces`` from the launcher pod's OVN annotations (primary UDN entry first choice)."""
    nets = pod_networks(pod)
    try:
        status = json.loads(annotations_of(pod).get(NETWORK_STATUS) or "[]")
    except ValueError:
        status = []
    out = []
    for net in (vmi.get("spec") or {}).get("networks") or []:
        entry, pod_iface = None, None
        if "pod" in net:
            primary = [(k, v) for k, v in nets.items() if k != "default" and v.get("role") == "primary"]
            if primary:
                entry, pod_iface = primary[0][1], "ovn-udn1"
            else:
                entry, pod_iface = nets.get("default"), "eth0"
        elif "multus" in net:
            wanted = (net["multus"] or {}).get("networkName", "")
            if "/" not in wanted:
                wanted = "%s/%s" % (meta(vmi)["namespace"], wanted)
            entry = nets.get(wanted)
            pod_iface = next((s.get("interface") for s in status if s.get("name") == wanted), None)
        if not entry:
            continue
        ips = [ip.split("/")[0] for ip in entry.get("ip_addresses") or []]
        item = {
            "name": net["name"],
            "interfaceName": "eth0" if "pod" in net else "eth%d" % len(out),
            "mac": entry.get("mac_address"),
            "linkState": "up",
            "queueCount": 1,
            "podInterfaceName": pod_iface,
            "infoSource": "domain, guest-agent" if agent else "domain",
        }
        if ips:
            item["ipAddress"] = ips[0]
            item["ipAddresses"] = ips
        out.append(item)
    return out


def node_address(node: Optional[Dict[str, Any]]) -> Optional[str]:
    for addr in ((node or {}).get("status") or {}).get("addresses") or []:
        if addr.get("type") == "InternalIP":
            return addr.get("address")
    return None


def sanitized_hostname(vmi) -> str:
    """v1.8.4 ``dns.SanitizeHostname``: ``spec.hostname``, else the VMI name cut at the first dot, 63 chars."""
    return ((vmi.get("spec") or {}).get("hostname") or meta(vmi)["name"].split(".")[0])[:63]


def launcher_pod_body(vmi, config, claim_name=None, migration=None, source_node=None,
                      allow_emulation=True) -> Dict[str, Any]:
    """v1.8.4 ``pkg/virt-controller/services/template.go``: generateName ``virt-launcher-<vmi>-``, the VMI's labels
    plus ``kubevirt.io: virt-launcher``, ``kubevirt.io/created-by`` and ``vm.kubevirt.io/name`` (the sanitized
    hostname), annotations ``kubevirt.io/domain``, the default container ``compute`` with the device plugin
    resources it needs (:func:`launcher_resources`) and the unix migration transport; owned (controller) by the VMI."""
    m = meta(vmi)
    labels = dict(labels_of(vmi))
    labels.update({"kubevirt.io": "virt-launcher", CREATED_BY: m["uid"], VM_NAME_LABEL: sanitized_hostname(vmi)})
    annotations = {"kubevirt.io/domain": m["name"], "kubectl.kubernetes.io/default-container": "compute",
                   "kubevirt.io/migrationTransportUnix": "true"}
    if claim_name:
        annotations[IPAMCLAIM_ANNOTATION] = claim_name
    spec = {
        "containers": [{"name": "compute", "image": config["launcher_image"],
                        "command": ["/usr/bin/virt-launcher-monitor", "--name", m["name"]],
                        "resources": {"limits": launcher_resources(vmi, allow_emulation)}}],
        "restartPolicy": "Never",
        "nodeSelector": {SCHEDULABLE_LABEL: "true"},
        "tolerations": list(config.get("launcher_tolerations") or []),
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": 30,
    }
    node_selector = (vmi.get("spec") or {}).get("nodeSelector")
    if node_selector:
        spec["nodeSelector"].update(node_selector)
    if migration:
        # v1.8.4 pkg/virt-controller/watch/migration/migration.go createMigrationPodAntiAffinityRule: not on a
        # node that runs a pod of this VMI
        labels[MIGRATION_JOB] = meta(migration)["uid"]
        spec["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {CREATED_BY: m["uid"]}}, "topologyKey": "kubernetes.io/hostname"}]}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"generateName": "virt-launcher-%s-" % m["name"], "namespace": m["namespace"],
                     "labels": labels, "annotations": annotations, "ownerReferences": [owner_ref(vmi)]},
        "spec": spec,
    }


def ipamclaim_body(vmi, vm, claim_name, net) -> Dict[str, Any]:
    """kubevirt/ipam-extensions v0.3.1 ``pkg/vminetworkscontroller/vmi_controller.go``: ``<vmi>.<network name>``,
    label ``kubevirt.io/vm``, owned (controller, blockOwnerDeletion) by the VM (or the VMI without one),
    ``spec.network`` = the NAD config's ``name`` and ``spec.interface`` empty (the Go struct of ipamclaims
    v0.5.0-alpha it builds with has no omitempty: ``"interface": ""``, which the v0.5.1-alpha CRD's ``required``
    accepts). (Upstream also sets the finalizer ``kubevirt.io/persistent-ipam``
    and removes it when the VM goes; the simulator leaves both out: FIDELITY.md, divergences.)"""
    owner = vm if vm is not None else vmi
    ref = owner_ref(owner, controller=True)
    ref["blockOwnerDeletion"] = True
    return {
        "apiVersion": IPAMCLAIMS.api_version,
        "kind": IPAMCLAIMS.kind,
        "metadata": {"name": claim_name, "namespace": meta(vmi)["namespace"],
                     "labels": {"kubevirt.io/vm": meta(vmi)["name"]}, "ownerReferences": [ref]},
        "spec": {"network": net["ovn_name"], "interface": ""},
    }


# --------------------------------------------------------------------------- KubeVirt CR


def reconcile_kubevirt(kv, cache, config, now) -> Result:
    result = Result()
    ns = meta(kv)["namespace"]
    status = kv.get("status") or {}
    operator = cache.get(DEPLOYMENTS, ns, config["operator_deployment"])
    conds = status.get("conditions") or []
    if operator is None:
        new = set_condition(conds, "Available", "False", "DeploymentNotFound",
                            "virt-operator Deployment %s/%s not found" % (ns, config["operator_deployment"]), now)
        if not conditions_equal(new, conds):
            result.actions.append(patch_status(KUBEVIRTS, kv, status={"phase": "Deploying", "conditions": new}))
        return result.then(2.0)
    since = max(parse_time(meta(kv).get("creationTimestamp")) or now,
                parse_time(meta(operator).get("creationTimestamp")) or now)
    wait = since + float(config["available_delay"]) - now
    available = find_condition(conds, "Available")
    if wait > 0 and not (available and available.get("status") == "True"):
        new = set_condition(conds, "Progressing", "True", "DeploymentInProgress", "Deploying version %s"
                            % config["kubevirt_version"], now)
        if not conditions_equal(new, conds):
            result.actions.append(patch_status(KUBEVIRTS, kv, status={"phase": "Deploying", "conditions": new}))
        return result.then(wait)
    # v1.8.4 pkg/virt-operator/util/client.go UpdateConditionsAvailable / UpdateConditionsCreated
    new = set_condition(conds, "Available", "True", "AllComponentsReady", "All components are ready.", now)
    new = set_condition(new, "Progressing", "False", "AllComponentsReady", "All components are ready.", now)
    new = set_condition(new, "Degraded", "False", "AllComponentsReady", "All components are ready.", now)
    new = set_condition(new, "Created", "True", "AllResourcesCreated", "All resources were created.", now)
    want = {"phase": "Deployed", "conditions": new, "observedKubeVirtVersion": config["kubevirt_version"],
            "targetKubeVirtVersion": config["kubevirt_version"],
            "observedGeneration": meta(kv).get("generation", 1)}
    if status.get("phase") != "Deployed" or not conditions_equal(new, conds) or status.get(
            "observedGeneration") != want["observedGeneration"]:
        result.actions.append(patch_status(KUBEVIRTS, kv, status=want))
    # v1.8.4 virt-handler's permanent device plugins (PermanentHostDevicePlugins: /dev/kvm, /dev/net/tun,
    # /dev/vhost-net): 1000 devices each on every node it runs on, unhealthy where the device file is missing, so
    # the kubelet reports them in capacity, not in allocatable
    devices = node_devices(config)
    for node in cache.list(NODES):
        if labels_of(node).get(SCHEDULABLE_LABEL) != "true":
            result.actions.append(patch(NODES, node, body={"metadata": {"labels": {SCHEDULABLE_LABEL: "true"}}}))
        node_status = node.get("status") or {}
        capacity, allocatable = node_status.get("capacity") or {}, node_status.get("allocatable") or {}
        if any(capacity.get(name) != "1k" or allocatable.get(name) != value for name, value in devices.items()):
            result.actions.append(patch_status(NODES, node, status={
                "capacity": {name: "1k" for name in devices}, "allocatable": dict(devices)}))
    return result


def node_devices(config) -> Dict[str, str]:
    """Allocatable of each permanent device plugin resource on a node: ``1k`` where its device file exists."""
    return {KVM_RESOURCE: "1k" if config.get("node_kvm") else "0",
            TUN_RESOURCE: "1k" if config.get("node_tun", True) else "0",
            VHOST_NET_RESOURCE: "1k" if config.get("node_vhost_net", True) else "0"}


def use_emulation(cache) -> bool:
    """v1.8.4 ``ClusterConfig.AllowEmulation``: the KubeVirt CR's ``developerConfiguration.useEmulation``."""
    kv = kubevirt_cr(cache) or {}
    dev = (((kv.get("spec") or {}).get("configuration") or {}).get("developerConfiguration") or {})
    return bool(dev.get("useEmulation"))


def launcher_resources(vmi, allow_emulation) -> Dict[str, str]:
    """v1.8.4 ``renderresources.go`` ``getRequiredResources``: the device plugin resources of the ``compute``
    container's limits (the API server defaults its requests to them). ``tun`` when the VMI has interfaces or
    autoattaches the pod interface; ``vhost-net`` for a virtio interface (no model is virtio) and ``kvm`` (the KVM
    hypervisor's device), both only when emulation is not allowed."""
    devices = ((vmi.get("spec") or {}).get("domain") or {}).get("devices") or {}
    interfaces = devices.get("interfaces") or []
    res = {}
    if interfaces or devices.get("autoattachPodInterface") in (None, True):
        res[TUN_RESOURCE] = "1"
    if not allow_emulation and any(i.get("model") in (None, "", "virtio") for i in interfaces):
        res[VHOST_NET_RESOURCE] = "1"
    if not allow_emulation:
        res[KVM_RESOURCE] = "1"
    return res


# --------------------------------------------------------------------------- VirtualMachine


def vm_should_run(vm) -> bool:
    spec = vm.get("spec") or {}
    strategy = spec.get("runStrategy")
    if strategy:
        return strategy in ("Always", "RerunOnFailure", "Once")
    return bool(spec.get("running"))


def vmi_for_vm(vm) -> Dict[str, Any]:
    template = (vm.get("spec") or {}).get("template") or {}
    tmeta = template.get("metadata") or {}
    m = meta(vm)
    annotations = dict(tmeta.get("annotations") or {})
    annotations["kubevirt.io/vm-generation"] = str(m.get("generation", 1))
    return {
        "apiVersion": VMIS.api_version,
        "kind": VMIS.kind,
        "metadata": {"name": m["name"], "namespace": m["namespace"], "labels": dict(tmeta.get("labels") or {}),
                     "annotations": annotations, "ownerReferences": [owner_ref(vm)]},
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def reconcile_vm(vm, cache, config, now) -> Result:
    result = Result()
    m = meta(vm)
    if m.get("deletionTimestamp"):
        return result
    if not kubevirt_available(cache):
        return result.then(2.0)
    vmi = cache.get(VMIS, m["namespace"], m["name"])
    run = vm_should_run(vm)
    if vmi is not None and meta(vmi).get("deletionTimestamp"):
        vmi = None
    if run and vmi is None:
        result.actions.append(create(VMIS, vmi_for_vm(vm)))
    elif not run and vmi is not None:
        result.actions.append(delete(VMIS, vmi))
    elif run and vmi is not None and (vmi.get("status") or {}).get("phase") in FINAL:
        strategy = (vm.get("spec") or {}).get("runStrategy") or "Always"
        if strategy == "Always" or (strategy == "RerunOnFailure" and vmi["status"]["phase"] == "Failed"):
            result.actions.append(delete(VMIS, vmi))
    vmi_status = (vmi or {}).get("status") or {}
    ready_cond = find_condition(vmi_status.get("conditions"), "Ready")
    ready = bool(ready_cond and ready_cond.get("status") == "True")
    phase = vmi_status.get("phase")
    if vmi is None:
        printable = "Starting" if run else "Stopped"
    elif phase == "Running":
        printable = "Migrating" if vmi_status.get("migrationState") and not (
            vmi_status["migrationState"].get("completed") or vmi_status["migrationState"].get("failed")) else "Running"
    elif phase in ("Scheduling", "Scheduled", "Pending", None, ""):
        printable = "Starting"
    else:
        printable = "Stopped" if phase == "Succeeded" else "ErrorUnschedulable" if phase == "Failed" else "Starting"
    conds = (vm.get("status") or {}).get("conditions") or []
    new = set_condition(conds, "Ready", "True" if ready else "False", "" if ready else "VMINotReady" if vmi
                        else "VMINotExists", "" if ready else "VMI does not exist" if vmi is None
                        else "VMI is not ready", now)
    want = {"created": vmi is not None, "ready": ready, "printableStatus": printable,
            "observedGeneration": m.get("generation", 1), "desiredGeneration": m.get("generation", 1)}
    have = vm.get("status") or {}
    if any(have.get(k) != v for k, v in want.items()) or not conditions_equal(new, conds):
        want["conditions"] = new
        result.actions.append(patch_status(VMS, vm, status=want))
    return result


# --------------------------------------------------------------------------- VirtualMachineInstance


def migration_in_flight(vmi) -> bool:
    state = (vmi.get("status") or {}).get("migrationState") or {}
    return bool(state) and not (state.get("completed") or state.get("failed"))


def reconcile_vmi(vmi, cache, config, now) -> Result:
    result = Result()
    m = meta(vmi)
    if m.get("deletionTimestamp"):
        return result
    status = vmi.get("status") or {}
    phase = status.get("phase") or ""
    if phase in FINAL:
        return result
    if not kubevirt_available(cache):
        return result.then(2.0)
    ns = m["namespace"]
    pods = launcher_pods(vmi, cache)
    kv = kubevirt_cr(cache)

    if phase in ("", "Pending"):
        claim_name = None
        net = persistent_primary(ns, cache)
        net_name = pod_network_name(vmi)
        if net and net_name:
            claim_name = "%s.%s" % (vm_name_of(vmi), net_name)
            if cache.get(IPAMCLAIMS, ns, claim_name) is None:
                vm = cache.get(VMS, ns, vm_name_of(vmi))
                result.actions.append(create(IPAMCLAIMS, ipamclaim_body(vmi, vm, claim_name, net)))
        if not pods:
            result.actions.append(create(PODS, launcher_pod_body(vmi, config, claim_name,
                                                                          allow_emulation=use_emulation(cache))))
        new = with_phase(status, "Pending", now) if phase == "" else status
        new = with_phase(new, "Scheduling", now)
        new["conditions"] = set_condition(new.get("conditions"), "Ready", "False", "PodNotExists",
                                          "virt-launcher pod has not yet been scheduled", now)
        new.setdefault("guestOSInfo", {})
        result.actions.append(patch_status(VMIS, vmi, status=new))
        return result.then(0.5)

    in_flight = migration_in_flight(vmi)
    target_name = ((status.get("migrationState") or {}).get("targetPod")) if in_flight else None
    candidates = [p for p in pods if pod_live(p) and meta(p)["name"] != target_name
                  and (MIGRATION_JOB not in labels_of(p) or (p.get("spec") or {}).get("nodeName") == status.get(
                      "nodeName"))]
    if status.get("nodeName"):
        on_node = [p for p in candidates if (p.get("spec") or {}).get("nodeName") == status["nodeName"]]
        candidates = on_node or candidates
    pod = candidates[0] if candidates else None

    if phase == "Scheduling":
        if pod is None:
            return result.then(1.0)
        node = (pod.get("spec") or {}).get("nodeName")
        if not node:
            sched = find_condition((pod.get("status") or {}).get("conditions"), "PodScheduled")
            if sched and sched.get("status") == "False":
                conds = set_condition(status.get("conditions"), "PodScheduled", "False", sched.get("reason", ""),
                                      sched.get("message", ""), now)
                if not conditions_equal(conds, status.get("conditions")):
                    result.actions.append(patch_status(VMIS, vmi, status={"conditions": conds}))
            return result.then(1.0)
        new = with_phase(status, "Scheduled", now)
        new["nodeName"] = node
        new["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        result.actions.append(patch(VMIS, vmi, body={"metadata": {"labels": {NODE_NAME_LABEL: node}}}))
        result.actions.append(patch_status(VMIS, vmi, status=new))
        return result.then(0.2)

    if phase == "Scheduled":
        if pod is None:
            return result.then(1.0)
        if not pod_running(pod) or POD_NETWORKS not in annotations_of(pod):
            return result.then(0.5)
        new = with_phase(status, "Running", now)
        new.update(running_status(vmi, pod, kv, config, now, agent=False, conds=status.get("conditions"), cache=cache))
        result.actions.append(patch_status(VMIS, vmi, status=new))
        return result.then(float(config["boot_delay"]))

    if phase == "Running":
        if pod is None and not in_flight:
            new = with_phase(status, "Failed", now)
            new["conditions"] = set_condition(status.get("conditions"), "Ready", "False", "PodTerminating",
                                              "virt-launcher pod is gone", now)
            result.actions.append(patch_status(VMIS, vmi, status=new))
            return result
        if pod is None:
            return result.then(1.0)
        booted_at = (phase_entered(vmi, "Running") or now) + float(config["boot_delay"])
        agent = now >= booted_at
        want = running_status(vmi, pod, kv, config, now, agent=agent, conds=status.get("conditions"), cache=cache)
        if any(status.get(k) != v for k, v in want.items() if k != "conditions") or not conditions_equal(
                want["conditions"], status.get("conditions")):
            result.actions.append(patch_status(VMIS, vmi, status=want))
        if not agent:
            result.then(max(0.05, booted_at - now))
        return result
    return result


def active_pods(vmi, cache, extra=None) -> Dict[str, Any]:
    """``status.activePods``: every pod the VMI controls, whatever its phase (a migration's completed source pod
    too), uid -> node (KubeVirt v1.8.4 ``lifecycle.go`` ``setActivePods``); ``extra`` is a pod just created."""
    pods = launcher_pods(vmi, cache) + ([extra] if extra is not None else [])
    return dict((meta(p).get("uid"), (p.get("spec") or {}).get("nodeName")) for p in pods)


def running_status(vmi, pod, kv, config, now, agent, conds, cache=None) -> Dict[str, Any]:
    migratable, reason, message = live_migratable(vmi, kv)
    conds = set_condition(conds, "Ready", "True", "", "", now)
    conds = set_condition(conds, "LiveMigratable", "True" if migratable else "False", reason, message, now)
    if agent:
        conds = set_condition(conds, "AgentConnected", "True", "", "", now)
    else:
        conds = [c for c in conds if c.get("type") != "AgentConnected"]
    out = {
        "nodeName": (pod.get("spec") or {}).get("nodeName"),
        "conditions": conds,
        "interfaces": vmi_interfaces(vmi, pod, agent),
        "activePods": active_pods(vmi, cache) if cache is not None else {
            meta(pod).get("uid"): (pod.get("spec") or {}).get("nodeName")},
        "launcherContainerImageVersion": config["launcher_image"],
        "migrationMethod": "BlockMigration",
        "migrationTransport": "Unix",
        "qosClass": "Burstable",
        # the OS of the VMI's container disk (guest.DISKS), reported by the agent
        "guestOSInfo": dict(guest.disk_of(vmi)[1]["os"]) if agent else {},
    }
    return out


# --------------------------------------------------------------------------- migrations


def migration_should_fail(vmi, config) -> bool:
    fail = config.get("migration_fail")
    if fail is True:
        return True
    if isinstance(fail, (list, tuple)):
        return "%s/%s" % (meta(vmi)["namespace"], meta(vmi)["name"]) in fail or meta(vmi)["name"] in fail
    return False


def reconcile_vmim(vmim, cache, config, now) -> Result:
    result = Result()
    m = meta(vmim)
    status = vmim.get("status") or {}
    phase = status.get("phase") or ""
    if phase in FINAL or m.get("deletionTimestamp"):
        return result
    ns = m["namespace"]
    vmi_name = (vmim.get("spec") or {}).get("vmiName")
    vmi = cache.get(VMIS, ns, vmi_name)
    delays = dict(DEFAULTS["migration_delays"])
    delays.update(config.get("migration_delays") or {})

    def fail(message, reason="MigrationFailed"):
        new = with_phase(status, "Failed", now)
        new["conditions"] = set_condition(status.get("conditions"), "Failed", "True", reason, message, now)
        return new

    if vmi is None or (vmi.get("status") or {}).get("phase") != "Running":
        result.actions.append(patch_status(VMIMS, vmim, status=fail(
            "VMI %s/%s does not exist or is not running" % (ns, vmi_name), "VMINotRunning")))
        return result
    vstatus = vmi.get("status") or {}
    source_node = vstatus.get("nodeName")

    if phase == "":
        migratable = find_condition(vstatus.get("conditions"), "LiveMigratable")
        if not migratable or migratable.get("status") != "True":
            message = "Cannot migrate VMI, Reason: %s, Message: %s" % (
                (migratable or {}).get("reason", "unknown"), (migratable or {}).get("message", ""))
            result.actions.append(patch_status(VMIMS, vmim, status=fail(message, "NotMigratable")))
            return result
        others = [v for v in cache.list(VMIMS, ns) if (v.get("spec") or {}).get("vmiName") == vmi_name
                  and meta(v).get("uid") != m.get("uid") and (v.get("status") or {}).get("phase") not in FINAL + ("",)]
        if others:
            result.actions.append(patch_status(VMIMS, vmim, status=fail(
                "in-flight migration detected: %s" % meta(others[0])["name"], "MigrationInFlight")))
            return result
        result.actions.append(patch_status(VMIMS, vmim, status=with_phase(status, "Pending", now)))
        return result.then(delays["Pending"])

    entered = phase_entered(vmim, phase) or now
    remaining = entered + float(delays.get(phase, 0)) - now
    if remaining > 0:
        return result.then(remaining)
    targets = [p for p in cache.list(PODS, ns) if labels_of(p).get(MIGRATION_JOB) == m.get("uid")]
    target = targets[0] if targets else None
    target_node = ((target or {}).get("spec") or {}).get("nodeName")

    if phase == "Pending":
        if not schedulable_nodes(cache, exclude=source_node, tolerations=config.get("launcher_tolerations")):
            return result.then(2.0)  # no other node: the migration cannot be scheduled
        if target is None:
            source_pod = next((p for p in launcher_pods(vmi, cache)
                               if (p.get("spec") or {}).get("nodeName") == source_node), {})
            claim = annotations_of(source_pod).get(IPAMCLAIM_ANNOTATION)
            result.actions.append(create(PODS, launcher_pod_body(vmi, config, claim, vmim, source_node,
                                                                          allow_emulation=use_emulation(cache))))
            return result.then(0.2)
        result.actions.append(patch_status(VMIMS, vmim, status=with_phase(status, "Scheduling", now)))
        return result.then(delays["Scheduling"])

    if target is None or not pod_live(target):
        new = fail("target virt-launcher pod disappeared")
        result.actions.append(patch_status(VMIMS, vmim, status=new))
        result.actions.append(patch_status(VMIS, vmi, status={"migrationState": dict(
            vstatus.get("migrationState") or {}, failed=True, completed=False, endTimestamp=rfc3339_micro(now),
            failureReason="target pod disappeared")}))
        return result

    if phase == "Scheduling":
        if not target_node:
            return result.then(0.5)
        result.actions.append(patch_status(VMIMS, vmim, status=with_phase(status, "Scheduled", now)))
        return result.then(delays["Scheduled"])

    if phase == "Scheduled":
        state = {"migrationUid": m.get("uid"), "sourceNode": source_node, "targetNode": target_node,
                 "targetPod": meta(target)["name"], "sourcePod": next(
                     (meta(p)["name"] for p in launcher_pods(vmi, cache)
                      if (p.get("spec") or {}).get("nodeName") == source_node and pod_live(p)), None),
                 "mode": "PreCopy", "completed": False, "failed": False}
        result.actions.append(patch_status(VMIS, vmi, status={"migrationState": state}))
        new = with_phase(status, "PreparingTarget", now)
        new["migrationState"] = state
        result.actions.append(patch_status(VMIMS, vmim, status=new))
        return result.then(delays["PreparingTarget"])

    if phase == "PreparingTarget":
        if not pod_running(target) or POD_NETWORKS not in annotations_of(target):
            return result.then(0.5)
        node = cache.get(NODES, None, target_node)
        state = dict(vstatus.get("migrationState") or {})
        state.update(targetNodeAddress=node_address(node) or (target.get("status") or {}).get("podIP"),
                     targetNodeDomainDetected=True, targetNodeDomainReadyTimestamp=rfc3339(now))
        result.actions.append(patch_status(VMIS, vmi, status={"migrationState": state}))
        new = with_phase(status, "TargetReady", now)
        new["migrationState"] = state
        result.actions.append(patch_status(VMIMS, vmim, status=new))
        return result.then(delays["TargetReady"])

    if phase == "TargetReady":
        state = dict(vstatus.get("migrationState") or {})
        state["startTimestamp"] = rfc3339_micro(now)
        result.actions.append(patch_status(VMIS, vmi, status={"migrationState": state}))
        new = with_phase(status, "Running", now)
        new["migrationState"] = state
        result.actions.append(patch_status(VMIMS, vmim, status=new))
        return result.then(delays["Running"])

    if phase == "Running":
        state = dict(vstatus.get("migrationState") or {})
        state["endTimestamp"] = rfc3339_micro(now)
        if migration_should_fail(vmi, config):
            state.update(failed=True, completed=False, failureReason=config["migration_fail_reason"])
            result.actions.append(patch_status(VMIS, vmi, status={"migrationState": state}))
            new = fail(config["migration_fail_reason"])
            new["migrationState"] = state
            result.actions.append(patch_status(VMIMS, vmim, status=new))
            result.actions.append(delete(PODS, target))
            return result
        state.update(completed=True, failed=False)
        conds = set_condition(vstatus.get("conditions"), "Ready", "True", "", "", now)
        new_vmi = {"migrationState": state, "nodeName": target_node, "conditions": conds,
                   "activePods": active_pods(vmi, cache)}
        agent = find_condition(vstatus.get("conditions"), "AgentConnected")
        new_vmi["interfaces"] = vmi_interfaces(vmi, target, bool(agent and agent.get("status") == "True"))
        result.actions.append(patch(VMIS, vmi, body={"metadata": {"labels": {NODE_NAME_LABEL: target_node}}}))
        result.actions.append(patch_status(VMIS, vmi, status=new_vmi))
        source = next((p for p in launcher_pods(vmi, cache) if meta(p)["name"] == state.get("sourcePod")), None)
        if source is not None and pod_live(source):
            result.actions.append(patch_status(PODS, source, status=completed_pod_status(source, now)))
        new = with_phase(status, "Succeeded", now)
        new["migrationState"] = state
        result.actions.append(patch_status(VMIMS, vmim, status=new))
        return result
    return result


def completed_pod_status(pod, now) -> Dict[str, Any]:
    """Status of a virt-launcher pod whose domain moved away (the pod shows Completed)."""
    started = ((pod.get("status") or {}).get("startTime")) or rfc3339(now)
    statuses = []
    for c in (pod.get("spec") or {}).get("containers") or []:
        statuses.append({"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": False,
                         "restartCount": 0, "started": False,
                         "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started,
                                                  "finishedAt": rfc3339(now)}}})
    conds = set_condition((pod.get("status") or {}).get("conditions"), "Ready", "False", "PodCompleted", "", now)
    conds = set_condition(conds, "ContainersReady", "False", "PodCompleted", "", now)
    return {"phase": "Succeeded", "conditions": conds, "containerStatuses": statuses}


# --------------------------------------------------------------------------- controller


class KubevirtSimulator(Controller):
    name = "kubevirt"
    resources = (NODES, PODS, DEPLOYMENTS, NADS, IPAMCLAIMS, KUBEVIRTS, VMS, VMIS, VMIMS)

    def __init__(self, kube, config, **kw):
        merged = copy.deepcopy(DEFAULTS)
        for key, value in (config or {}).items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key].update(value)
            else:
                merged[key] = value
        super().__init__(kube, merged, **kw)

    def handlers(self):
        return {KUBEVIRTS.plural: reconcile_kubevirt, VMS.plural: reconcile_vm, VMIS.plural: reconcile_vmi,
                VMIMS.plural: reconcile_vmim}

    def fanout(self, res, obj):
        ns, name = meta(obj).get("namespace") or "", meta(obj).get("name")
        if res in (KUBEVIRTS, VMS, VMIMS):
            return [(res.plural, ns, name)]
        if res is VMIS:
            keys = [(VMIS.plural, ns, name), (VMS.plural, ns, vm_name_of(obj))]
            keys += [(VMIMS.plural, ns, meta(v)["name"]) for v in self.cache.list(VMIMS, ns)
                     if (v.get("spec") or {}).get("vmiName") == name]
            return keys
        if res is PODS and labels_of(obj).get("kubevirt.io") == "virt-launcher":
            keys = [(VMIS.plural, ns, meta(v)["name"]) for v in self.cache.list(VMIS, ns)
                    if meta(v).get("uid") == labels_of(obj).get(CREATED_BY)]
            job = labels_of(obj).get(MIGRATION_JOB)
            if job:
                keys += [(VMIMS.plural, ns, meta(v)["name"]) for v in self.cache.list(VMIMS, ns)
                         if meta(v).get("uid") == job]
            return keys
        if res in (DEPLOYMENTS, NODES):
            keys = [(KUBEVIRTS.plural, meta(k)["namespace"], meta(k)["name"]) for k in self.cache.list(KUBEVIRTS)]
            if res is NODES:
                keys += [(VMIMS.plural, meta(v)["namespace"], meta(v)["name"]) for v in self.cache.list(VMIMS)
                         if (v.get("status") or {}).get("phase") == "Pending"]
            return keys
        return []

    def on_event(self, res, etype, obj, old):
        super().on_event(res, etype, obj, old)
        if res is KUBEVIRTS:  # KubeVirt becoming Available releases every waiting VM
            for vm in self.cache.list(VMS):
                self.queue.add((VMS.plural, meta(vm)["namespace"], meta(vm)["name"]))
