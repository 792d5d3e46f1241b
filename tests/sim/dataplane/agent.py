"""Data plane agent: keeps the network namespaces in line with the API server (needs root).

Watches pods, NADs, VMIs and migrations; on every change rebuilds the plan (plan.py, pure) and lets the Fabric
(netlink.py) converge to it. Extras:
* VMs: an sshd in the VM's namespace accepting the keys of the VMI's cloud-init (user from cloud-init, default
  fedora), reached over the VM's own network only (its addresses are those the guest configures; the virtctl
  stand-in's port-forward dials from the default network, as virt-api does);
* kwok exec: per pod a ``kwok.x-k8s.io/v1alpha1`` Exec whose env puts ``dataplane/shims`` first in PATH and
  names the pod's namespace (``UDNSIM_NETNS``): ``kubectl exec`` commands then run inside the pod's network.
* services: ClusterIPs inside their network's router, NodePorts on the host's node addresses and the Kubernetes
  API from every network, through the userspace proxy svcproxy.py; the cluster DNS (clusterdns.py) on the
  ``kube-dns`` Service address in every network, and each pod's resolv.conf pointing at it.
Config keys (run_sim.py ``dataplane:``): blackhole_seconds, blackhole_after_seconds, leak, vm_sshd (true),
kwok_exec (true), services (true), network_policies (true: NetworkPolicy as nft rules in the pod's
namespace), state_dir (default: the slot's, /run/udnsim for slot 0, see slot.py), agnhost_link (default /agnhost: a
symlink to the shim while any agent of this machine runs, so the absolute `/agnhost` of probe commands works; the
last agent to stop removes it; "" to skip).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import threading
import time

import yaml

import slot as sim_slot
from simulators.common import (CONFIGMAPS, NADS, NAMESPACES, NODES, PODS, VMIMS, VMIS, Action, ApiError, Controller, Res,
                               create, meta)

from simulators import guest
from simulators import ovnk as sim_ovnk

from . import plan as dp_plan
from .netlink import Fabric, cleanup_all

EXECS = Res("kwok.x-k8s.io", "v1alpha1", "execs", True, "Exec")
LOGS = Res("kwok.x-k8s.io", "v1alpha1", "logs", True, "Logs")
SERVICES = Res("", "v1", "services", True, "Service")
ENDPOINTS = Res("", "v1", "endpoints", True, "Endpoints")
SECRETS = Res("", "v1", "secrets", True, "Secret")
NETPOLS = Res("networking.k8s.io", "v1", "networkpolicies", True, "NetworkPolicy")
HERE = os.path.dirname(os.path.abspath(__file__))
SHIMS = os.path.join(HERE, "shims")
KEY = ("dataplane", "", "all")


def cloud_init_access(vmi, secret_lookup=None):
    """``(user, [public keys])`` from the VMI's cloud-init user data, read as KubeVirt reads it
    (``simulators/guest.py``: inline, base64 or ``secretRef``; ``secret_lookup(namespace, name)`` returns the
    Secret)."""
    user, keys = "fedora", []
    text = guest.cloud_init_sources(vmi, secret_lookup)["user_data"]
    try:
        data = yaml.safe_load(text) if text else {}
    except yaml.YAMLError:
        data = {}
    if not isinstance(data, dict):
        return user, keys
    keys += list(data.get("ssh_authorized_keys") or [])
    if data.get("user"):
        user = data["user"]
    for entry in data.get("users") or []:
        if isinstance(entry, dict):
            keys += list(entry.get("ssh_authorized_keys") or [])
            if entry.get("name") and entry["name"] != "default":
                user = entry["name"]
    return user, keys


def exec_body(pod, netns):
    m = meta(pod)
    path = "%s:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" % SHIMS
    return {
        "apiVersion": EXECS.api_version, "kind": EXECS.kind,
        "metadata": {"name": m["name"], "namespace": m["namespace"]},
        "spec": {"execs": [{"local": {"workDir": "/", "envs": [
            {"name": "UDNSIM_NETNS", "value": netns}, {"name": "PATH", "value": path}]}}]},
    }


def logs_body(pod, netexecs, log_dir):
    """kwok's Logs for the pod: each netexec container's log file (CRI format, followed), so the API server's pod
    log endpoint serves what the container logged (kwok v0.8.0 ``pkg/kwok/server/debugging_logs.go``)."""
    m = meta(pod)
    return {
        "apiVersion": LOGS.api_version, "kind": LOGS.kind,
        "metadata": {"name": m["name"], "namespace": m["namespace"]},
        "spec": {"logs": [{"containers": [n["container"]], "follow": True,
                           "logsFile": dp_plan.container_log(log_dir, m["namespace"], m["name"], n["container"])}
                          for n in netexecs]},
    }


GUEST_DIR = "/run/udnsim-guest"
"""Where a simulated VM sees its own state directory, in its mount namespace (on this machine: an empty directory)."""


def link_users_dir(link):
    """Where the agents using ``link`` register (one empty file per agent, named by its pid)."""
    return "/run/udnsim-link-users" + link.replace("/", "-")


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remaining_users(names, own_pid, alive=pid_alive):
    """The registered pids other than ``own_pid`` whose process still runs (pure but for ``alive``)."""
    return sorted(int(n) for n in names if n.isdigit() and int(n) != own_pid and alive(int(n)))


def release_link(link, users_dir, own_pid, alive=pid_alive):
    """Unregister this agent; remove the link (and the register) when no other running agent uses it."""
    try:
        os.unlink(os.path.join(users_dir, str(own_pid)))
    except FileNotFoundError:
        pass
    others = remaining_users(os.listdir(users_dir) if os.path.isdir(users_dir) else [], own_pid, alive)
    if others:
        return False
    if os.path.islink(link):
        os.unlink(link)
    shutil.rmtree(users_dir, ignore_errors=True)
    return True


class DataplaneAgent(Controller):
    name = "dataplane"
    resources = (PODS, NADS, VMIS, VMIMS, SERVICES, ENDPOINTS, NODES, NETPOLS, NAMESPACES, SECRETS, CONFIGMAPS)

    def __init__(self, kube, config, **kw):
        super().__init__(kube, dict(config or {}), **kw)
        self.fabric = Fabric()
        self.state_dir = self.config.get("state_dir") or sim_slot.dataplane_state_dir(sim_slot.current())
        self.fabric.log_dir = os.path.join(self.state_dir, "logs")
        self.sshd = {}
        self.execs_done = set()
        self.synced = threading.Event()  # set once the network matches the API server for the first time

    def handlers(self):
        return {"dataplane": None}

    def fanout(self, res, obj):
        return [KEY]

    def start(self):
        if self.config.get("clean_start"):
            cleanup_all()  # opt-in: removes EVERY udnsim- namespace, also those of another running agent
        os.makedirs(self.state_dir, exist_ok=True)
        link = self.config.get("agnhost_link", "/agnhost")
        if link:
            # shared by the agents of every slot: each registers, the last one to stop removes it
            self._link_users = link_users_dir(link)
            os.makedirs(self._link_users, exist_ok=True)
            open(os.path.join(self._link_users, str(os.getpid())), "w").close()
            if not os.path.lexists(link):
                os.symlink(os.path.join(SHIMS, "agnhost"), link)
            self._link = link
        self.by_plural["dataplane"] = None
        super().start()
        self.queue.add(KEY)

    def reconcile_key(self, key):
        now = self.clock()
        plan = dp_plan.build_plan(self.cache.list(PODS), self.cache.list(VMIS), self.cache.list(VMIMS),
                                  self.cache.list(NADS), self.config, now, secret_lookup=self.lookup_secret,
                                  cluster_mtu=sim_ovnk.cluster_mtu(self.cache))
        changed = self.fabric.apply(plan)
        if self.config.get("services", True):
            svc = dp_plan.service_plan(self.cache.list(SERVICES), self.cache.list(PODS), self.cache.list(ENDPOINTS),
                                       self.cache.list(NODES), self.cache.list(NADS), plan["routers"],
                                       plan["endpoints"], plan.get("external"))
            self.fabric.apply_services(svc, os.path.join(self.state_dir, "svcproxy.json"))
        for netns in changed:
            ep = plan["endpoints"][netns]
            if ep["kind"] == "vm" and self.config.get("vm_sshd", True):
                self.start_sshd(netns, ep["vmi"])
        if self.config.get("network_policies", True):
            pods, policies = self.cache.list(PODS), self.cache.list(NETPOLS)
            namespaces, nads = self.cache.list(NAMESPACES), self.cache.list(NADS)
            for netns, ep in plan["endpoints"].items():
                if ep["kind"] != "pod":
                    continue
                pod = self.cache.get(PODS, ep["namespace"], ep["name"])
                if pod is None:
                    continue
                primary = next((link["ifname"] for link in ep["links"] if link["role"] == "primary"), "eth0")
                rules = dp_plan.policy_rules(pod, policies, pods, namespaces, nads)
                self.fabric.apply_policy(netns, dp_plan.policy_nft(rules, primary))
        for netns in list(self.sshd):
            if netns not in plan["endpoints"]:
                self.sshd.pop(netns).terminate()
        if self.config.get("kwok_exec", True):
            for netns, ep in plan["endpoints"].items():
                if ep["kind"] == "pod" and netns not in self.execs_done:
                    pod = self.cache.get(PODS, ep["namespace"], ep["name"])
                    if pod is not None and self.ensure_exec(pod, netns) and self.ensure_logs(pod, ep):
                        self.execs_done.add(netns)
            self.execs_done &= set(plan["endpoints"])
        if plan["next_change"] is not None:
            self.queue.add(KEY, max(0.02, plan["next_change"]))
        self.synced.set()

    def ensure_exec(self, pod, netns):
        """The pod's kwok Exec names ``netns``; an Exec left by an earlier data plane (another namespace prefix,
        a pod of the same name before) is brought in line, not kept: commands would run in a namespace that is
        gone. True once the Exec is right."""
        return self.create_or_patch(EXECS, exec_body(pod, netns), "it existed: now it names %s" % netns)

    def create_or_patch(self, res, body, why_patched):
        """Create ``body``, or bring an existing object of that name in line (its spec). True once it is right."""
        action = create(res, body)
        try:
            self.kube.apply_action(action)
            self.log.info("%s", action.describe())
            return True
        except ApiError as exc:
            if exc.status != 409:
                self.log.warning("%s failed: %s", action.describe(), exc)
                return False
        patch = Action("patch", res, action.namespace, action.name, {"spec": body["spec"]})
        try:
            self.kube.apply_action(patch)
        except ApiError as exc:
            self.log.warning("%s failed: %s", patch.describe(), exc)
            return False
        self.log.info("%s (%s)", patch.describe(), why_patched)
        return True

    def ensure_logs(self, pod, ep):
        """The pod's kwok Logs names its containers' log files (replaced when it exists). True once it is right."""
        if not ep.get("netexecs"):
            return True
        return self.create_or_patch(LOGS, logs_body(pod, ep["netexecs"], self.fabric.log_dir),
                                    "it existed: now it names this data plane's log files")

    def wait_ready(self, timeout):
        """True once the first reconcile built every namespace, link, server and sshd (run_sim waits for it, so
        a (re)started data plane answers before anything probes it)."""
        return self.synced.wait(timeout)

    def start_sshd(self, netns, vmi):
        """sshd in the VM's network namespace, in private mount and PID namespaces; the cloud-init user maps to
        root."""
        sshd = "/usr/sbin/sshd"
        if not os.path.exists(sshd):
            self.log.warning("no %s: VM %s has no ssh", sshd, netns)
            return
        user, keys = cloud_init_access(vmi, self.lookup_secret)
        vm_dir = os.path.join(self.state_dir, netns)
        os.makedirs(vm_dir, exist_ok=True)
        # Inside the VM's mount namespace its state directory is seen at GUEST_DIR (wherever it lives on this
        # machine, /tmp included), and its own tmp/ at /tmp.
        guest = GUEST_DIR
        host_key = os.path.join(vm_dir, "ssh_host_ed25519_key")
        if not os.path.exists(host_key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", host_key], check=True)
        with open(os.path.join(vm_dir, "authorized_keys"), "w") as handle:
            handle.write("\n".join(keys) + "\n")
        os.chmod(os.path.join(vm_dir, "authorized_keys"), 0o600)
        with open("/etc/passwd") as handle:
            passwd = handle.read()
        # a fresh home, as a new guest's user has: none of this machine's shell start-up files (which may put
        # version-manager shims first on PATH and break Ansible's interpreter discovery in the "VM")
        os.makedirs(os.path.join(vm_dir, "home"), mode=0o700, exist_ok=True)
        with open(os.path.join(vm_dir, "passwd"), "w") as handle:
            handle.write(passwd + "%s:x:0:0:simulated VM user:%s:/bin/bash\n" % (user, os.path.join(guest, "home")))
        with open(os.path.join(vm_dir, "sshd_config"), "w") as handle:
            handle.write("\n".join([
                "Port 22", "ListenAddress 0.0.0.0", "ListenAddress ::",
                "HostKey %s" % os.path.join(guest, "ssh_host_ed25519_key"),
                "AuthorizedKeysFile %s" % os.path.join(guest, "authorized_keys"), "PermitRootLogin yes",
                "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no",
                "PidFile %s" % os.path.join(guest, "sshd.pid"), "Subsystem sftp internal-sftp", ""]))
        os.makedirs("/run/sshd", exist_ok=True)
        os.makedirs(guest, exist_ok=True)  # (an empty mount point on this machine)
        tmp = os.path.join(vm_dir, "tmp")
        os.makedirs(tmp, exist_ok=True)
        os.chmod(tmp, 0o1777)
        # Like a guest, it sees only its own processes (PID namespace: `pkill iperf3` in one VM leaves the others
        # alone) and its own /tmp (a guest's disk is its own: two VMs, or the VMs of two labs on this machine, never
        # see each other's files there; it lives in the VM's state directory, so it stays across a migration); the
        # rest of the file system is this machine's.
        script = " && ".join([
            "mount --bind %s %s" % (shlex.quote(vm_dir), guest),
            "mount --bind %s/passwd /etc/passwd" % guest,
            "mount --bind %s/tmp /tmp" % guest,
            "exec %s -D -e -f %s/sshd_config" % (sshd, guest)])
        log = open(os.path.join(vm_dir, "sshd.log"), "a")
        self.sshd[netns] = subprocess.Popen(["ip", "netns", "exec", netns, "unshare", "--mount", "--pid", "--fork",
                                             "--mount-proc", "--kill-child", "sh", "-c", script],
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)

    def lookup_secret(self, namespace, name):
        """A VM's cloud-init Secret, from the watched cache (a missing one means no keys, no network data)."""
        return self.cache.get(SECRETS, namespace, name)

    def shutdown(self):
        super().shutdown()
        time.sleep(0.1)
        for proc in self.sshd.values():
            proc.terminate()
        self.fabric.teardown()  # only what this agent made: another agent may run on the same machine
        link = getattr(self, "_link", None)
        if link:
            release_link(link, self._link_users, os.getpid())
