# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Connectivity probes: command shapes, target resolution, poll-until-match, truth tables, JUnit.

Everything here is pure or takes its I/O as an injected callable, so it is unit-tested with fakes:

* :func:`validate_probes` / :func:`expand_families` – input checks and per-family expansion.
* :func:`resolve_target` – a declared target (pod, service, NodePort, Kubernetes API, DNS name, address)
  to ``host``/``port`` through a *lookup* object (``get_pod``, ``get_service``, ``list_nodes``).
* :func:`probe_command` – the argv run INSIDE a pod (agnhost image: ``/agnhost connect``, ``curl``,
  ``ping``). A simulated data plane runs the very same argv in a network namespace.
* :func:`classify` – an exec result (rc, stdout, stderr, error) → ``.`` reachable, ``X`` blocked, ``?`` unknown.
* :func:`poll_until_match` – repeat one probe until it shows the expected mark (absorbs CNI lag).
* :func:`run_probes` – all probes concurrently (bounded), results in declaration order.
* :func:`truth_tables`, :func:`summarize`, :func:`junit_xml`, :func:`reproduce_command` – reporting.
* :class:`KubernetesExecTransport` / :class:`HostTransport` – the two ways a probe command runs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import shlex
import socket
import subprocess
import threading
import time
import uuid

from ansible_collections.ovnk.udn_lab.plugins.module_utils import junit, ovn

REACHABLE = "."
BLOCKED = "X"
UNKNOWN = "?"
EXPECT_MARKS = {"reachable": REACHABLE, "blocked": BLOCKED}
NOT_APPLICABLE = "-"
MARK_WORDS = {REACHABLE: "reachable", BLOCKED: "blocked", UNKNOWN: "no answer", NOT_APPLICABLE: "not applicable"}

PROTOCOLS = ("icmp", "tcp", "http")
TARGET_KINDS = ("pod", "service", "nodeport", "kubernetes_api", "dns", "address")
FAMILIES = ovn.FAMILIES
DEFAULT_HTTP_PATH = "/hostname"
AGNHOST = "/agnhost"

STATUS_CORRECT = "correct"
STATUS_WRONG = "wrong"
STATUS_UNKNOWN = "unknown"
STATUS_SKIPPED = "not applicable"
"""A claim that cannot apply in this cluster (e.g. an IPv6 claim against the single-stack Kubernetes API Service
of a dual-stack cluster): reported with its reason, neither proven nor failed."""


class Unresolved(Exception):
    """A target that cannot be turned into an address yet (no annotation, no ClusterIP, no node IP…)."""


class NotApplicable(Exception):
    """A target that this cluster does not have in the probe's family, by design (not yet, nor ever)."""


# --------------------------------------------------------------------------- input


def validate_probes(probes):
    """List of error messages (empty when valid). Each message names the probe and the fix."""
    errors = []
    seen = set()
    for index, probe in enumerate(probes or []):
        pid = probe.get("id") or "#{0}".format(index)
        where = "probe {0!r}".format(pid)
        if not probe.get("id"):
            errors.append("{0}: set an id (unique name of the probe)".format(where))
        elif pid in seen:
            errors.append("{0}: id used twice; every probe id must be unique".format(where))
        seen.add(pid)
        if probe.get("expect") not in EXPECT_MARKS:
            errors.append("{0}: expect must be reachable or blocked, got {1!r}".format(where, probe.get("expect")))
        protocol = probe.get("protocol") or "tcp"
        if protocol not in PROTOCOLS:
            errors.append("{0}: protocol must be one of {1}, got {2!r}".format(where, ", ".join(PROTOCOLS), protocol))
        if probe.get("family") not in (None, "") + FAMILIES:
            errors.append("{0}: family must be ipv4 or ipv6, got {1!r}".format(where, probe.get("family")))
        src = probe.get("from") or {}
        if not src.get("host") and not (src.get("namespace") and (src.get("pod") or src.get("selector"))):
            errors.append("{0}: from needs namespace and pod (or selector), or host: true".format(where))
        dst = probe.get("to") or {}
        kind = dst.get("kind") or "pod"
        if kind not in TARGET_KINDS:
            errors.append("{0}: to.kind must be one of {1}, got {2!r}".format(where, ", ".join(TARGET_KINDS), kind))
            continue
        if kind in ("pod", "service", "nodeport") and not (dst.get("namespace") and dst.get("name")):
            errors.append("{0}: to.kind {1} needs to.namespace and to.name".format(where, kind))
        if kind == "dns" and not dst.get("name"):
            errors.append("{0}: to.kind dns needs to.name (the DNS name)".format(where))
        if kind == "address" and not dst.get("address"):
            errors.append("{0}: to.kind address needs to.address (an IP, or a dict ipv4/ipv6 → IP)".format(where))
        if dst.get("answered_by") is not None and (kind != "address" or not isinstance(dst["answered_by"], list)):
            errors.append("{0}: to.answered_by is a list of pod names, for to.kind address only".format(where))
        if protocol != "icmp" and kind in ("pod", "dns", "address") and not probe.get("port"):
            errors.append("{0}: protocol {1} needs a port".format(where, protocol))
        port = probe.get("port")
        if port is not None and not (isinstance(port, int) and 0 < port < 65536):
            errors.append("{0}: port must be 1-65535, got {1!r}".format(where, port))
    return errors


def expand_families(probes, families):
    """One probe per family in ``families`` for each probe without ``family`` (id gets ``/<family>`` when
    more than one family is asked); probes with a family are kept once, if their family is asked."""
    families = [f for f in families or ["ipv4"] if f in FAMILIES] or ["ipv4"]
    out = []
    for probe in probes or []:
        if probe.get("family"):
            if probe["family"] in families:
                out.append(dict(probe))
            continue
        for fam in families:
            item = dict(probe)
            item["family"] = fam
            if len(families) > 1:
                item["id"] = "{0}/{1}".format(probe["id"], fam)
            out.append(item)
    return out


# --------------------------------------------------------------------------- labels


def source_label(src):
    if src.get("host"):
        return "host"
    who = src.get("pod") or "[{0}]".format(src.get("selector"))
    label = "{0}/{1}".format(src.get("namespace"), who)
    if src.get("container"):
        label += ":" + src["container"]
    return label


def target_label(probe):
    dst = probe.get("to") or {}
    kind = dst.get("kind") or "pod"
    if kind == "pod":
        name = "{0}/{1} ({2})".format(dst.get("namespace"), dst.get("name"), dst.get("network") or "primary")
    elif kind == "service":
        name = "svc {0}/{1}".format(dst.get("namespace"), dst.get("name"))
    elif kind == "nodeport":
        name = "nodeport {0}/{1}{2}".format(dst.get("namespace"), dst.get("name"),
                                            "@" + dst["node"] if dst.get("node") else "")
    elif kind == "kubernetes_api":
        name = "kubernetes API"
    elif kind == "dns":
        name = dst.get("name")
    else:
        addr = dst.get("address")
        name = addr.get(probe.get("family") or "ipv4") if isinstance(addr, dict) else addr
    proto = probe.get("protocol") or "tcp"
    port = probe.get("port")
    return "{0} {1}{2} {3}".format(name, proto, "/{0}".format(port) if port else "", probe.get("family") or "ipv4")


# --------------------------------------------------------------------------- resolution


def _family_address(addresses, family):
    for addr in addresses or []:
        if addr and ovn.ip_family(addr) == family:
            return ovn.strip_prefix(addr)
    return None


def _service_port(svc, probe, node_port=False):
    ports = (svc.get("spec") or {}).get("ports") or []
    want = (probe.get("to") or {}).get("service_port")
    chosen = None
    for port in ports:
        if want is None or want in (port.get("name"), port.get("port")):
            chosen = port
            break
    if chosen is None:
        raise Unresolved("service {0}/{1} has no port {2!r}".format(
            svc["metadata"].get("namespace"), svc["metadata"].get("name"), want))
    if node_port:
        if not chosen.get("nodePort"):
            raise Unresolved("service {0}/{1} has no nodePort (type {2})".format(
                svc["metadata"].get("namespace"), svc["metadata"].get("name"), svc["spec"].get("type")))
        return chosen["nodePort"]
    return chosen.get("port")


def node_address(node, family):
    """The InternalIP of ``node`` for ``family`` (None when the node has none)."""
    addrs = [a.get("address") for a in (node.get("status") or {}).get("addresses") or [] if a.get("type") == "InternalIP"]
    return _family_address(addrs, family)


def pick_node(nodes, wanted=None, preferred=None):
    """The node named ``wanted`` (None when it does not exist), else the one named ``preferred`` when it exists
    (the node the workshop names), else the first worker (no control-plane role label) by name, else the first."""
    nodes = sorted(nodes or [], key=lambda n: n["metadata"]["name"])
    if wanted:
        return next((n for n in nodes if n["metadata"]["name"] == wanted), None)
    chosen = next((n for n in nodes if preferred and n["metadata"]["name"] == preferred), None)
    if chosen is not None:
        return chosen
    workers = [n for n in nodes if "node-role.kubernetes.io/control-plane" not in (n["metadata"].get("labels") or {})]
    return (workers or nodes or [None])[0]


def _backend_names(svc, lookup):
    """Names of the pods a Service selects (who may answer through it); None when it selects nothing."""
    selector = (svc.get("spec") or {}).get("selector")
    if not selector:
        return None
    namespace = (svc.get("metadata") or {}).get("namespace")
    pods = lookup.list_pods(namespace, ",".join("{0}={1}".format(k, v) for k, v in sorted(selector.items())))
    return sorted(p["metadata"]["name"] for p in pods or []) or None


def resolve_target(probe, lookup):
    """``{"host", "port", "family", "address_kind"}`` for the probe's target; raises :class:`Unresolved`."""
    dst = probe.get("to") or {}
    kind = dst.get("kind") or "pod"
    family = probe.get("family") or "ipv4"
    port = probe.get("port")
    if kind == "pod":
        pod = lookup.get_pod(dst["namespace"], dst["name"])
        if pod is None:
            raise Unresolved("pod {0}/{1} not found".format(dst["namespace"], dst["name"]))
        network = dst.get("network") or "primary"
        try:
            ips = ovn.pod_ips(pod, network, family)
        except ovn.AnnotationError as exc:
            raise Unresolved(str(exc))
        if not ips:
            raise Unresolved("pod {0}/{1} has no {2} address on network {3!r} yet".format(
                dst["namespace"], dst["name"], family, network))
        return {"host": ips[0], "port": port, "family": family, "hostnames": [dst["name"]]}
    if kind in ("service", "kubernetes_api"):
        ns, name = (dst["namespace"], dst["name"]) if kind == "service" else ("default", "kubernetes")
        svc = lookup.get_service(ns, name)
        if svc is None:
            raise Unresolved("service {0}/{1} not found".format(ns, name))
        spec = svc.get("spec") or {}
        addr = _family_address(spec.get("clusterIPs") or [spec.get("clusterIP")], family)
        if not addr and kind == "kubernetes_api":
            # kube-apiserver makes default/kubernetes single-stack, in the first family of the service range:
            # a dual-stack cluster has no ClusterIP of the other family for the API (nor will it get one)
            raise NotApplicable("the Kubernetes API Service default/kubernetes has no {0} ClusterIP in this cluster "
                                "(ipFamilies {1}): the API is reached in its own family".format(
                                    family, ", ".join(spec.get("ipFamilies") or ["?"])))
        if not addr:
            raise Unresolved("service {0}/{1} has no {2} ClusterIP".format(ns, name, family))
        return {"host": addr, "port": port or _service_port(svc, probe), "family": family,
                "hostnames": _backend_names(svc, lookup) if kind == "service" else None}
    if kind == "nodeport":
        svc = lookup.get_service(dst["namespace"], dst["name"])
        if svc is None:
            raise Unresolved("service {0}/{1} not found".format(dst["namespace"], dst["name"]))
        node = pick_node(lookup.list_nodes(), dst.get("node"), dst.get("prefer_node"))
        if node is None:
            raise Unresolved("node {0!r} not found".format(dst.get("node") or "(any)"))
        addr = node_address(node, family)
        if not addr:
            raise Unresolved("node {0} has no {1} InternalIP".format(node["metadata"]["name"], family))
        return {"host": addr, "port": _service_port(svc, probe, node_port=True), "family": family,
                "node": node["metadata"]["name"], "hostnames": _backend_names(svc, lookup)}
    if kind == "dns":
        return {"host": dst["name"], "port": port, "family": family}
    addr = dst.get("address")
    if isinstance(addr, dict):
        addr = addr.get(family)
        if not addr:
            raise Unresolved("no {0} address given in to.address".format(family))
    return {"host": str(addr), "port": port, "family": family, "hostnames": list(dst.get("answered_by") or []) or None}


# --------------------------------------------------------------------------- commands


def host_port(host, port):
    """``host:port`` with IPv6 literals bracketed."""
    if ovn.ip_family(host) == "ipv6":
        return "[{0}]:{1}".format(host, port)
    return "{0}:{1}".format(host, port)


def probe_command(protocol, host, port=None, family="ipv4", timeout=3, path=DEFAULT_HTTP_PATH):
    """The argv run in the source pod (agnhost image) for one attempt.

    * ``tcp``: ``/agnhost connect <host:port> --timeout=<t>s --protocol=tcp`` (exit 0 = connected; on failure
      stderr says TIMEOUT, REFUSED, DNS or OTHER).
    * ``http``: ``curl`` printing the body, then the HTTP status on a line of its own (agnhost netexec answers
      ``/hostname`` with its pod's name: :func:`classify` checks who answered).
    * ``icmp``: ``ping -4|-6 -c 1 -W <t> <host>``.
    """
    timeout = max(1, int(timeout))
    if protocol == "tcp":
        return [AGNHOST, "connect", host_port(host, port), "--timeout={0}s".format(timeout), "--protocol=tcp"]
    if protocol == "http":
        path = path or "/"
        if not path.startswith("/"):
            path = "/" + path
        return ["curl", "-sS", "-g", "-w", "\\n%{http_code}",
                "--connect-timeout", str(timeout), "--max-time", str(timeout + 2),
                "http://{0}{1}".format(host_port(host, port), path)]
    if protocol == "icmp":
        return ["ping", "-6" if family == "ipv6" else "-4", "-c", "1", "-W", str(timeout), host]
    raise ValueError("unknown protocol {0!r}".format(protocol))


def host_command(protocol, host, port=None, family="ipv4", timeout=3, path=DEFAULT_HTTP_PATH):
    """A shell command doing the same check from the lab host (used in reproduce hints)."""
    if protocol == "tcp":
        hp = "[{0}]".format(host) if ovn.ip_family(host) == "ipv6" else host
        return "timeout {0} bash -c '</dev/tcp/{1}/{2}' && echo connected".format(int(timeout), hp, port)
    return " ".join(shlex.quote(a) for a in probe_command(protocol, host, port, family, timeout, path))


# curl exit codes meaning "no connection" (blocked), not "could not tell"
_CURL_BLOCKED = {6: "DNS", 7: "REFUSED/UNREACHABLE", 28: "TIMEOUT", 56: "RESET"}
_NOT_FOUND_HINTS = ("executable file not found", "not found in $path", "no such file or directory")


def http_answer(stdout):
    """``(status, body)`` from the output of :func:`probe_command`'s curl (body, then the status line)."""
    text = (stdout or "").rstrip("\n")
    body, dummy, status = text.rpartition("\n")
    if not status.strip().isdigit():
        return None, text.strip()
    return int(status.strip()), body.strip()


def classify(protocol, result, hostnames=None):
    """``(mark, detail)`` for one attempt. ``result``: dict rc, stdout, stderr, error (exec-level failure).

    ``hostnames``: for an HTTP ``/hostname`` probe that must reach its target, the pod names that may answer
    (the target pod, or the pods behind the target Service): an answer from anyone else, or not ``200``, proves
    nothing about the target and is ``?``. Without it, any HTTP answer is reachable (what a "blocked" claim
    needs: whoever answered, the packet got through)."""
    if result.get("error"):
        return UNKNOWN, "exec failed: {0}".format(result["error"])
    rc = result.get("rc")
    out = (result.get("stdout") or "").strip()
    err = (result.get("stderr") or "").strip()
    text = (err + " " + out).strip()
    if rc is None:
        return UNKNOWN, "no exit status (command did not finish)"
    if rc == 0:
        if protocol == "http":
            status, body = http_answer(result.get("stdout"))
            if hostnames:
                if status != 200 or body not in hostnames:
                    return UNKNOWN, "HTTP {0} answered by {1!r}, not the target ({2})".format(
                        status if status is not None else "?", body[:80], ", ".join(sorted(hostnames)))
                return REACHABLE, "HTTP 200 from {0}".format(body)
            return REACHABLE, "HTTP {0}{1}".format(status if status is not None else "?",
                                                   " from {0}".format(body[:80]) if body else "")
        return REACHABLE, "ok"
    if rc in (126, 127) or any(h in text.lower() for h in _NOT_FOUND_HINTS):
        return UNKNOWN, "probe command unusable in this container (rc {0}): {1}".format(rc, text[:200])
    if protocol == "tcp":
        for word in ("TIMEOUT", "REFUSED", "DNS"):
            if word in text:
                return BLOCKED, word
        if "unreachable" in text.lower():
            return BLOCKED, "UNREACHABLE"
        return UNKNOWN, "rc {0}: {1}".format(rc, text[:200])
    if protocol == "http":
        if rc in _CURL_BLOCKED:
            return BLOCKED, "curl rc {0} ({1})".format(rc, _CURL_BLOCKED[rc])
        return UNKNOWN, "curl rc {0}: {1}".format(rc, text[:200])
    if protocol == "icmp":
        if rc == 1:
            return BLOCKED, "no echo reply"
        low = text.lower()
        if "bad address" in low or "unknown host" in low or "unreachable" in low:
            return BLOCKED, text[:200]
        return UNKNOWN, "ping rc {0}: {1}".format(rc, text[:200])
    return UNKNOWN, "rc {0}".format(rc)


# --------------------------------------------------------------------------- transports


EXEC_ERROR_CHANNEL = 3
_EXIT_STATUS_RE = re.compile(r"exit (?:status|code) (\d+)")


def exit_code_from_status(text):
    """Exit code of an exec from the Status object on its error channel: ``(rc, error)``.

    Success is 0; a kubelet's NonZeroExitCode carries the code in ``details.causes[reason=ExitCode]``; other
    implementations of the kubelet API (kwok, for one) only say "... exit status N" in the message. A status
    with no code at all is an error (``rc`` None), never a guessed exit code.
    """
    if not text:
        return None, "the exec ended without a status"
    try:
        status = json.loads(text)
    except ValueError:
        return None, "unreadable exec status: {0}".format(text[:200])
    if status.get("status") == "Success":
        return 0, None
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            try:
                return int(cause.get("message")), None
            except (TypeError, ValueError):
                break
    found = _EXIT_STATUS_RE.search(status.get("message") or "")
    if found:
        return int(found.group(1)), None
    return None, "exec failed: {0}".format((status.get("message") or text)[:200])


class KubernetesExecTransport(object):
    """Runs argv in a container through the Kubernetes exec API (``connect_get_namespaced_pod_exec``).

    ``core_v1`` is a ``kubernetes.client.CoreV1Api``; ``stream_fn`` is ``kubernetes.stream.stream`` (injected
    so tests use a fake websocket); ``new_api`` returns a CoreV1Api on a fresh ``ApiClient`` for each exec.
    ``stream`` swaps ``call_api`` on the ApiClient it is given while the websocket opens, so with probes running
    concurrently an ApiClient shared with the lookups would send their GETs as websocket handshakes (they fail
    with "Handshake status 200 OK"): give every exec its own. Never raises: failures come back as
    ``{"error": ...}``.
    """

    def __init__(self, core_v1, stream_fn, new_api=None):
        self.core_v1 = core_v1
        self.stream_fn = stream_fn
        self.new_api = new_api

    def run(self, namespace, pod, container, command, timeout):
        kwargs = dict(command=command, stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
        if container:
            kwargs["container"] = container
        try:
            api = self.new_api() if self.new_api else self.core_v1
            resp = self.stream_fn(api.connect_get_namespaced_pod_exec, pod, namespace, **kwargs)
        except Exception as exc:  # ApiException (404 pod, 400 container), websocket/handshake errors
            return {"rc": None, "stdout": "", "stderr": "", "error": _describe(exc)}
        try:
            resp.run_forever(timeout=timeout)
            stdout = resp.read_stdout() if resp.peek_stdout() else ""
            stderr = resp.read_stderr() if resp.peek_stderr() else ""
            if resp.is_open():
                return {"rc": None, "stdout": stdout, "stderr": stderr,
                        "error": "command still running after {0}s".format(timeout)}
            rc, error = exit_code_from_status(resp.read_channel(EXEC_ERROR_CHANNEL))
            return {"rc": rc, "stdout": stdout, "stderr": stderr, "error": error}
        except Exception as exc:
            return {"rc": None, "stdout": "", "stderr": "", "error": _describe(exc)}
        finally:
            try:
                resp.close()
            except Exception:
                pass


def _describe(exc):
    status = getattr(exc, "status", None)
    if status:
        return "HTTP {0} {1}".format(status, getattr(exc, "reason", "") or "").strip()
    return "{0}: {1}".format(type(exc).__name__, exc)


class HostTransport(object):
    """Runs a probe from the machine running the module (the lab host): TCP and HTTP in Python, ICMP with
    the local ``ping``. Returns the same result shape as the exec transport, classified the same way."""

    def __init__(self, connect=None, run_cmd=None):
        self.connect = connect or socket.create_connection
        self.run_cmd = run_cmd or _run_local

    def probe(self, protocol, host, port, family, timeout, path):
        if protocol == "icmp":
            return self.run_cmd(probe_command("icmp", host, port, family, timeout, path), timeout + 5)
        try:
            sock = self.connect((host, port), timeout)
        except socket.timeout:
            return {"rc": 1 if protocol == "tcp" else 28, "stdout": "", "stderr": "TIMEOUT", "error": None}
        except ConnectionRefusedError:
            return {"rc": 1, "stdout": "", "stderr": "REFUSED", "error": None} if protocol == "tcp" else \
                {"rc": 7, "stdout": "", "stderr": "connection refused", "error": None}
        except socket.gaierror as exc:
            return {"rc": 1 if protocol == "tcp" else 6, "stdout": "", "stderr": "DNS: {0}".format(exc), "error": None}
        except OSError as exc:
            return {"rc": 1 if protocol == "tcp" else 7, "stdout": "", "stderr": "unreachable: {0}".format(exc),
                    "error": None}
        if protocol == "tcp":
            sock.close()
            return {"rc": 0, "stdout": "", "stderr": "", "error": None}
        raw = b""
        try:
            sock.settimeout(timeout)
            request = "GET {0} HTTP/1.0\r\nHost: {1}\r\n\r\n".format(path or "/", host_port(host, port))
            sock.sendall(request.encode("ascii"))
            raw = b""
            while len(raw) < 65536:  # HTTP/1.0: the server closes after its answer
                chunk = sock.recv(4096)
                if not chunk:
                    break
                raw += chunk
        except socket.timeout:
            if not raw:
                return {"rc": 28, "stdout": "", "stderr": "timeout reading the answer", "error": None}
        except OSError as exc:
            return {"rc": 56, "stdout": "", "stderr": str(exc), "error": None}
        finally:
            sock.close()
        head, dummy, body = raw.decode("latin-1").partition("\r\n\r\n")
        parts = head.split()
        if len(parts) >= 2 and parts[0].startswith("HTTP/"):
            # the shape of the pod probe's curl output: body, then the status on a line of its own
            return {"rc": 0, "stdout": "{0}\n{1}".format(body.strip(), parts[1]), "stderr": "", "error": None}
        return {"rc": 52, "stdout": "", "stderr": "no HTTP answer: {0!r}".format(head[:40]), "error": None}


def _run_local(argv, timeout):
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, check=False)
    except FileNotFoundError:
        return {"rc": 127, "stdout": "", "stderr": "{0}: not found in $PATH".format(argv[0]), "error": None}
    except subprocess.TimeoutExpired:
        return {"rc": None, "stdout": "", "stderr": "", "error": "timed out after {0}s".format(timeout)}
    return {"rc": proc.returncode, "stdout": proc.stdout.decode("utf-8", "replace"),
            "stderr": proc.stderr.decode("utf-8", "replace"), "error": None}


# --------------------------------------------------------------------------- running


def poll_until_match(attempt, expected, timeout, interval, clock=time.monotonic, sleep=time.sleep, stable=1,
                     min_span=0.0):
    """Call ``attempt() -> (mark, detail)`` until it returns ``expected`` ``stable`` times in a row, those
    attempts spanning at least ``min_span`` seconds (from the start of the first to the end of the last), or the
    ``timeout`` (seconds, on ``clock``) is spent. Returns ``{"mark", "detail", "attempts", "history",
    "span"}`` of the last attempt; ``history`` keeps the distinct marks seen, in order; ``span`` is how long the
    final streak of equal marks lasted."""
    deadline = clock() + timeout
    attempts = 0
    streak = 0
    streak_start = None
    history = []
    while True:
        started = clock()
        mark, detail = attempt()
        attempts += 1
        if not history or history[-1] != mark:
            history.append(mark)
        if mark == expected:
            streak += 1
            streak_start = started if streak == 1 else streak_start
        else:
            streak, streak_start = 0, None
        if streak >= max(1, stable) and clock() - streak_start >= min_span:
            break
        if clock() + interval > deadline:
            break
        sleep(interval)
    span = clock() - streak_start if streak_start is not None else 0.0
    return {"mark": mark, "detail": detail, "attempts": attempts, "history": "".join(history),
            "span": round(span, 3)}


def status_of(expected_mark, observed_mark):
    if observed_mark == expected_mark:
        return STATUS_CORRECT
    if observed_mark == UNKNOWN:
        return STATUS_UNKNOWN
    return STATUS_WRONG


def run_probes(probes, run_one, concurrency=8):
    """Run ``run_one(probe) -> result dict`` for every probe with at most ``concurrency`` at a time.
    Results come back in the order of ``probes``; an exception in one probe becomes an unknown result."""
    results = [None] * len(probes)
    lock = threading.Lock()
    queue = list(enumerate(probes))

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                index, probe = queue.pop(0)
            try:
                results[index] = run_one(probe)
            except Exception as exc:  # a bug or an unexpected client error must not hide the other probes
                results[index] = base_result(probe)
                results[index].update(observed=UNKNOWN, status=STATUS_UNKNOWN,
                                      detail="probe crashed: {0}".format(_describe(exc)))

    threads = [threading.Thread(target=worker) for dummy in range(max(1, min(concurrency, len(probes))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def base_result(probe):
    """The reporting fields of a probe before it ran."""
    src = probe.get("from") or {}
    return {
        "id": probe.get("id"),
        "claim": probe.get("claim") or "",
        "phase": probe.get("phase") or "",
        "from": source_label(src),
        "to": target_label(probe),
        "protocol": probe.get("protocol") or "tcp",
        "port": probe.get("port"),
        "family": probe.get("family") or "ipv4",
        "expect": probe.get("expect"),
        "expected": EXPECT_MARKS.get(probe.get("expect"), UNKNOWN),
        "observed": UNKNOWN,
        "status": STATUS_UNKNOWN,
        "detail": "",
        "attempts": 0,
        "history": "",
        "address": None,
        "command": [],
        "reproduce": None,
    }


def observed_result(claim_id, claim, check, source, target, family, ok, detail, reproduce, command=(),
                    phase="always", protocol="inspect"):
    """A claim judged from what the cluster shows (inside a pod, its EndpointSlices, its addresses), shaped like a
    probe result so the truth tables, JUnit and the report take it as it is: expected reachable ("holds"), observed
    reachable when ``ok``."""
    mark = REACHABLE if ok else BLOCKED
    return {
        "id": claim_id,
        "claim": claim,
        "phase": phase,
        "check": check,
        "from": source,
        "to": target,
        "protocol": protocol,
        "port": None,
        "family": family,
        "expect": "reachable",
        "expected": REACHABLE,
        "observed": mark,
        "status": STATUS_CORRECT if ok else STATUS_WRONG,
        "detail": detail,
        "attempts": 1,
        "history": mark,
        "address": None,
        "command": list(command),
        "reproduce": reproduce,
    }


def reproduce_command(probe, command, kubeconfig=None, context=None, pod=None):
    """The one command a person runs to see what the probe saw."""
    src = probe.get("from") or {}
    if src.get("host"):
        return command if isinstance(command, str) else " ".join(shlex.quote(str(a)) for a in command)
    parts = ["kubectl"]
    if kubeconfig:
        parts.append("--kubeconfig={0}".format(kubeconfig))
    if context:
        parts.append("--context={0}".format(context))
    parts += ["exec", "-n", src.get("namespace"), pod or src.get("pod")]
    if src.get("container"):
        parts += ["-c", src["container"]]
    parts.append("--")
    parts += list(command)
    return " ".join(shlex.quote(str(a)) for a in parts)


# --------------------------------------------------------------------------- proof at the receiver


NETEXEC_HTTP_PORT = 8080
NETEXEC_UDP_PORT = 8081


def netexec_servers(pod):
    """``[{"container", "http_port", "udp_port"}]`` of the pod's containers running ``agnhost netexec`` (its
    ``--http-port``/``--udp-port``, else agnhost's defaults 8080 and 8081; ``udp_port`` <= 0: no UDP server)."""
    out = []
    for container in ((pod or {}).get("spec") or {}).get("containers") or []:
        argv = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
        if "netexec" not in argv:
            continue
        flags = dict(a[2:].split("=", 1) for a in argv if a.startswith("--") and "=" in a)
        try:
            out.append({"container": container.get("name"),
                        "http_port": int(flags.get("http-port", NETEXEC_HTTP_PORT)),
                        "udp_port": int(flags.get("udp-port", NETEXEC_UDP_PORT))})
        except ValueError:
            continue
    return out


def witness_plan(probe, target_pod, port):
    """How the receiver can show it got nothing: ``{"kind": "http"|"udp", "container", "port"}``, or
    ``{"kind": None, "why"}``. HTTP probes carry the nonce in ``/echo?msg=`` (agnhost netexec logs it); other
    probes are followed by one UDP ``echo <nonce>`` datagram to the container's netexec UDP server."""
    servers = netexec_servers(target_pod)
    if not servers:
        return {"kind": None, "why": "the target runs no agnhost netexec, which would log what reaches it"}
    protocol = probe.get("protocol") or "tcp"
    if protocol == "http":
        match = [s for s in servers if s["http_port"] == port]
        if match:
            return {"kind": "http", "container": match[0]["container"], "port": port}
        return {"kind": None, "why": "no netexec container of the target serves HTTP on {0}".format(port)}
    udp = [s for s in servers if s["udp_port"] > 0]
    if udp:
        return {"kind": "udp", "container": udp[0]["container"], "port": udp[0]["udp_port"]}
    return {"kind": None, "why": "the target's netexec has no UDP server (--udp-port=-1) to log a witness"}


def witness_command(host, port, nonce):
    """One UDP datagram ``echo <nonce>`` to ``host:port`` from the source pod (netcat of the agnhost image)."""
    return ["sh", "-c", "echo 'echo {0}' | nc -u -w1 {1} {2} >/dev/null 2>&1; true".format(nonce, host, int(port))]


def nonce_in_log(log_text, nonce):
    """The first log line holding ``nonce`` (netexec lower-cases UDP commands: compared without case), or None."""
    for line in (log_text or "").splitlines():
        if nonce.lower() in line.lower():
            return line.strip()
    return None


def _new_nonce():
    return "udnlab{0}".format(uuid.uuid4().hex[:12])


def make_runner(lookup, pod_transport, host_transport, timeout=60, interval=2, attempt_timeout=3, stable=1,
                kubeconfig=None, context=None, clock=time.monotonic, sleep=time.sleep, blocked_min_seconds=5.0,
                new_nonce=None, wall_clock=time.time):
    """``run_one(probe) -> result`` for :func:`run_probes`: resolves source and target on every attempt (so
    a pod that gets its address late is picked up), runs the command, classifies, polls until it matches.

    ``lookup`` has ``get_pod(ns, name)``, ``get_service(ns, name)``, ``list_nodes()``,
    ``find_pod(ns, selector)`` and ``forget(kind, ns, name)`` (drop a cached object so it is read again).

    A "blocked" verdict needs at least two failed attempts spanning ``blocked_min_seconds`` (as OVN-Kubernetes'
    e2e decides isolation over several seconds, not one attempt); a "reachable" HTTP ``/hostname`` claim needs the
    answer from its target (:func:`classify`).

    A "blocked" claim from a pod to a pod is also judged at the receiver (:func:`witness_plan`): the probe
    carries a nonce (HTTP: ``/echo?msg=<nonce>``; otherwise one UDP ``echo <nonce>`` after the attempts), and the
    target container's log over the probe window (``lookup.read_log``) must not hold it. Found, the packet reached
    the target: the claim is wrong whatever the source saw. ``result["receiver"]``: ``{"verdict": "nothing
    arrived" | "arrived" | "no witness", ...}``.
    """
    new_nonce = new_nonce or _new_nonce

    def run_one(probe):
        result = base_result(probe)
        src = probe.get("from") or {}
        dst = probe.get("to") or {}
        protocol = probe.get("protocol") or "tcp"
        expected = EXPECT_MARKS[probe["expect"]]
        state = {}
        witnessed = expected == BLOCKED and not src.get("host") and (dst.get("kind") or "pod") == "pod"
        nonce = new_nonce() if witnessed else None
        path = probe.get("path") or DEFAULT_HTTP_PATH
        if witnessed and protocol == "http":
            path = "/echo?msg={0}".format(nonce)  # any answer still counts as reachable: the path only marks it
        window_start = wall_clock()

        def attempt():
            try:
                target = resolve_target(probe, lookup)
            except Unresolved as exc:
                dst = probe.get("to") or {}
                if dst.get("namespace") and dst.get("name"):
                    lookup.forget(dst.get("kind") or "pod", dst["namespace"], dst["name"])
                return UNKNOWN, "target unresolved: {0}".format(exc)
            state["address"] = host_port(target["host"], target["port"]) if target.get("port") else target["host"]
            if src.get("host"):
                state["command"] = host_command(protocol, target["host"], target["port"], target["family"],
                                                attempt_timeout, probe.get("path") or DEFAULT_HTTP_PATH)
                res = host_transport.probe(protocol, target["host"], target["port"], target["family"],
                                           attempt_timeout, probe.get("path") or DEFAULT_HTTP_PATH)
                return classify(protocol, res, who_may_answer(target))
            pod = src.get("pod")
            if not pod:
                found = lookup.find_pod(src["namespace"], src["selector"])
                if found is None:
                    return UNKNOWN, "no running pod matches {0} in {1}".format(src["selector"], src["namespace"])
                pod = found["metadata"]["name"]
            state["pod"] = pod
            command = probe_command(protocol, target["host"], target["port"], target["family"], attempt_timeout, path)
            state["command"] = command
            state["target"] = target
            res = pod_transport.run(src["namespace"], pod, src.get("container"), command, attempt_timeout + 5)
            return classify(protocol, res, who_may_answer(target))

        def receiver_check(probe, state, nonce, window_start):
            dst = probe["to"]
            try:
                target_pod = lookup.get_pod(dst["namespace"], dst["name"])
            except Exception as exc:
                return {"verdict": "no witness", "why": "cannot read the target pod: {0}".format(_describe(exc))}
            plan = witness_plan(probe, target_pod, state["target"].get("port"))
            if plan["kind"] is None:
                return {"verdict": "no witness", "why": plan["why"]}
            if plan["kind"] == "udp":
                pod_transport.run(src["namespace"], state["pod"], src.get("container"),
                                  witness_command(state["target"]["host"], plan["port"], nonce), attempt_timeout + 5)
            seconds = int(wall_clock() - window_start) + 5
            try:
                text = lookup.read_log(dst["namespace"], dst["name"], plan["container"], seconds)
            except Exception as exc:
                return {"verdict": "no witness", "why": "cannot read {0}'s log: {1}".format(
                    plan["container"], _describe(exc))}
            where = "{0}/{1}:{2}".format(dst["namespace"], dst["name"], plan["container"])
            line = nonce_in_log(text, nonce)
            out = {"witness": plan["kind"], "nonce": nonce, "log": where, "seconds": seconds}
            if line:
                out.update(verdict="arrived", line=line)
            else:
                out.update(verdict="nothing arrived")
            return out

        def who_may_answer(target):
            if expected != REACHABLE or (probe.get("path") or DEFAULT_HTTP_PATH) != DEFAULT_HTTP_PATH:
                return None
            return target.get("hostnames")

        try:
            resolve_target(probe, lookup)
        except NotApplicable as exc:
            result.update(observed=NOT_APPLICABLE, status=STATUS_SKIPPED, detail=str(exc), attempts=0, history="",
                          span_seconds=0.0, command=[])
            return result
        except Unresolved:
            pass  # polled below: it may resolve in time
        blocked = expected == BLOCKED
        polled = poll_until_match(attempt, expected, timeout, interval, clock=clock, sleep=sleep,
                                  stable=max(stable, 2) if blocked else stable,
                                  min_span=blocked_min_seconds if blocked else 0.0)
        result.update(observed=polled["mark"], detail=polled["detail"], attempts=polled["attempts"],
                      history=polled["history"], span_seconds=polled["span"], address=state.get("address"),
                      command=state.get("command") or [])
        result["status"] = status_of(expected, polled["mark"])
        if witnessed and polled["mark"] == BLOCKED and state.get("target"):
            result["receiver"] = receiver_check(probe, state, nonce, window_start)
            if result["receiver"]["verdict"] == "arrived":
                result["status"] = STATUS_WRONG
                result["detail"] = "{0}; yet the target logged this probe's nonce: the packet reached it ({1})".format(
                    result["detail"], result["receiver"]["line"][:200])
        if result["command"]:
            result["reproduce"] = reproduce_command(probe, result["command"], kubeconfig, context, state.get("pod"))
        if isinstance(result["command"], str):
            result["command"] = ["sh", "-c", result["command"]]
        return result

    return run_one


# --------------------------------------------------------------------------- reporting


def _matrix(results, cell, title, legend):
    rows = []
    cols = []
    for res in results:
        if res["from"] not in rows:
            rows.append(res["from"])
        if res["to"] not in cols:
            cols.append(res["to"])
    grid = dict(((res["from"], res["to"]), cell(res)) for res in results)
    width = max([len(r) for r in rows] + [4])
    numw = max(2, len(str(len(cols))))
    lines = ["{0} ({1})".format(title, legend)]
    lines.append(" " * width + " " + " ".join(str(i + 1).rjust(numw) for i in range(len(cols))))
    for row in rows:
        lines.append(row.ljust(width) + " " + " ".join(grid.get((row, col), "").rjust(numw) for col in cols))
    lines.append("targets:")
    for i, col in enumerate(cols):
        lines.append("  {0} {1}".format(str(i + 1).rjust(numw), col))
    return "\n".join(lines)


def truth_tables(results):
    """``{"expected", "observed", "diff"}`` text matrices: rows = sources, numbered columns = targets.
    expected/observed cells: ``.`` reachable, ``X`` blocked, ``?`` no answer. diff cells: ``.`` as
    expected, ``X`` wrong, ``?`` unknown."""
    legend = ". reachable, X blocked, ? no answer, - not applicable"
    diff_marks = {STATUS_CORRECT: REACHABLE, STATUS_WRONG: BLOCKED, STATUS_UNKNOWN: UNKNOWN,
                  STATUS_SKIPPED: NOT_APPLICABLE}
    return {
        "expected": _matrix(results, lambda r: r["expected"], "expected", legend),
        "observed": _matrix(results, lambda r: r["observed"], "observed", legend),
        "diff": _matrix(results, lambda r: diff_marks[r["status"]], "diff",
                        ". as expected, X wrong, ? unknown, - not applicable"),
    }


def summarize(results):
    counts = {"total": len(results), STATUS_CORRECT: 0, STATUS_WRONG: 0, STATUS_UNKNOWN: 0, STATUS_SKIPPED: 0,
              "carried": 0}
    for res in results:
        counts[res["status"]] += 1
        counts["carried"] += 1 if res.get("carried") else 0
    counts["line"] = "connectivity: {total} probes, {correct} correct, {wrong} wrong, {unknown} unknown".format(**counts)
    if counts[STATUS_SKIPPED]:
        counts["line"] += ", {0} not applicable".format(counts[STATUS_SKIPPED])
    counts["receiver_proven"] = sum(1 for res in results if (res.get("receiver") or {}).get("verdict")
                                    == "nothing arrived" and res["status"] == STATUS_CORRECT)
    if counts["receiver_proven"]:
        counts["line"] += "; {0} blocked claims confirmed at the receiver".format(counts["receiver_proven"])
    if counts["carried"]:
        counts["line"] += "; {0} carried from an earlier run, not re-proven by this one".format(counts["carried"])
    return counts


def _base_id(result_id):
    """``blue-to-blue`` for ``blue-to-blue/ipv6`` (ids of a dual-stack lab carry their family)."""
    return str(result_id or "").split("/", 1)[0]


def carry_over(previous, current, order, now, phases=("before_policy",)):
    """This run's results, plus the earlier run's results this run could not prove again, each marked.

    ``previous``: the earlier results document (``{"results": [...], "run_at": ...}``) or None; ``current``: this
    run's results; ``order``: the declared probe ids (results come back in that order, the rest after);
    ``now``: this run's time. This run's results get ``proven_at: now``. An earlier result is kept only when its
    phase is in ``phases`` (the claims that hold before a NetworkPolicy cannot be proven once it exists) and this
    run has no result of that id: it keeps its status and gets ``carried: true`` and ``proven_at``, the time of
    the run that proved it (its own stamp, else that document's ``run_at``, else ``"unknown"``). A carried result
    that was not correct stays so: it still fails the run, which cannot re-prove it.
    """
    fresh = [dict(res, proven_at=now, carried=False) for res in current or []]
    seen = set(res.get("id") for res in fresh)
    previous = previous or {}
    kept = []
    for res in previous.get("results") or []:
        if res.get("phase") in phases and res.get("id") not in seen:
            kept.append(dict(res, carried=True,
                             proven_at=res.get("proven_at") or previous.get("run_at") or "unknown"))
            seen.add(res.get("id"))
    merged = fresh + kept
    rank = dict((pid, index) for index, pid in enumerate(order or []))
    last = len(rank)
    return [res for dummy, res in sorted(enumerate(merged),
                                         key=lambda item: (rank.get(_base_id(item[1].get("id")), last), item[0]))]


def probe_lines(results):
    """One line per probe, declaration order: ``[ok|WRONG|UNKNOWN] id: claim — expected X, observed Y``."""
    tag = {STATUS_CORRECT: "ok", STATUS_WRONG: "WRONG", STATUS_UNKNOWN: "UNKNOWN", STATUS_SKIPPED: "N/A"}
    lines = []
    for res in results:
        lines.append("[{0}] {1}: {2} -> {3}: expected {4}, observed {5} ({6}){7}{8}".format(
            tag[res["status"]], res["id"], res["from"], res["to"], MARK_WORDS.get(res["expected"]),
            MARK_WORDS.get(res["observed"]), res["detail"],
            " — " + res["claim"] if res["claim"] else "",
            " [carried: proven by the run of {0}, not re-proven]".format(res.get("proven_at"))
            if res.get("carried") else "") + receiver_note(res))
    return lines


def receiver_note(res):
    """`` [receiver: ...]`` for a result judged at the receiver, else ``""``."""
    receiver = res.get("receiver") or {}
    if receiver.get("verdict") == "nothing arrived":
        return " [receiver: nothing of this probe in {0}'s log over {1} s ({2} witness)]".format(
            receiver.get("log"), receiver.get("seconds"), receiver.get("witness"))
    if receiver.get("verdict") == "arrived":
        return " [receiver: {0} logged this probe: {1}]".format(receiver.get("log"), receiver.get("line"))
    if receiver.get("verdict") == "no witness":
        return " [receiver: no witness, {0}]".format(receiver.get("why"))
    return ""


JUNIT_OUTCOMES = {STATUS_WRONG: junit.FAILURE, STATUS_UNKNOWN: junit.ERROR, STATUS_SKIPPED: junit.SKIPPED}


def junit_cases(results, suite_name="connectivity_matrix"):
    """One JUnit case per claim (module_utils/junit.py): wrong -> failure, unknown -> error, not applicable ->
    skipped; the text says the claim, expected and observed, the attempts and how to reproduce it."""
    cases = []
    for res in results:
        expected, observed = MARK_WORDS.get(res.get("expected")), MARK_WORDS.get(res.get("observed"))
        text = "{0}\nexpected {1}, observed {2} after {3} attempt(s): {4}\nreproduce: {5}".format(
            res.get("claim"), expected, observed, res.get("attempts"), res.get("detail"), res.get("reproduce") or "-")
        outcome = JUNIT_OUTCOMES.get(res.get("status"), junit.PASSED)
        message = {junit.FAILURE: "expected {0}, observed {1}".format(expected, observed),
                   junit.ERROR: "no answer: {0}".format(res.get("detail")),
                   junit.SKIPPED: "not applicable: {0}".format(res.get("detail"))}.get(outcome, "")
        cases.append(junit.case("{0}.{1}".format(suite_name, res.get("phase") or "probes"),
                                "{0}: {1} -> {2}".format(res.get("id"), res.get("from"), res.get("to")),
                                outcome, message, text, kind={junit.FAILURE: "mismatch", junit.ERROR: "unknown"}.get(outcome)))
    return cases


def junit_xml(results, suite_name="connectivity_matrix", declaration=False):
    """A JUnit XML document of one suite: one testcase per claim (see :func:`junit_cases`)."""
    return junit.document(suite_name, [(suite_name, junit_cases(results, suite_name))], declaration=declaration)


# --------------------------------------------------------------------------- policies the lab did not make


POLICY_APIS = (
    ("NetworkPolicy", "networking.k8s.io/v1", True),
    ("AdminNetworkPolicy", "policy.networking.k8s.io/v1alpha1", False),
    ("BaselineAdminNetworkPolicy", "policy.networking.k8s.io/v1alpha1", False),
)
"""``(kind, apiVersion, namespaced)`` of every policy that can change a probe's verdict on OVN-Kubernetes v1.3.0:
NetworkPolicy, and the cluster-scoped AdminNetworkPolicy / BaselineAdminNetworkPolicy (network-policy-api), which
OVN-K enforces on the default network and on primary UDNs alike."""


def probe_namespaces(probes):
    """The namespaces the probes run in or target (where a NetworkPolicy can change a verdict)."""
    out = set()
    for probe in probes or []:
        src, dst = probe.get("from") or {}, probe.get("to") or {}
        if not src.get("host") and src.get("namespace"):
            out.add(src["namespace"])
        if (dst.get("kind") or "pod") in ("pod", "service", "nodeport") and dst.get("namespace"):
            out.add(dst["namespace"])
    return sorted(out)


def foreign_policies(objects, own_labels, namespaces):
    """The policies among ``objects`` (``{kind: [object] | None}``; None: that API is not served) that the lab did
    not make and that can change a verdict: a NetworkPolicy in one of ``namespaces``, any (Baseline)AdminNetworkPolicy.
    An object is the lab's when it carries every label of ``own_labels`` with its value.

    Returns ``{"policies": [{"kind", "namespace", "name"}], "not_served": [kind], "line": text}``."""
    found, not_served = [], []
    wanted = set(namespaces or [])
    for kind, dummy, namespaced in POLICY_APIS:
        items = (objects or {}).get(kind)
        if items is None:
            not_served.append(kind)
            continue
        for obj in items:
            meta = obj.get("metadata") or {}
            labels = meta.get("labels") or {}
            if own_labels and all(labels.get(k) == v for k, v in own_labels.items()):
                continue
            if namespaced and meta.get("namespace") not in wanted:
                continue
            found.append({"kind": kind, "namespace": meta.get("namespace") if namespaced else None,
                          "name": meta.get("name")})
    found.sort(key=lambda p: ([k for k, d, n in POLICY_APIS].index(p["kind"]), p["namespace"] or "", p["name"] or ""))
    if found:
        line = "policies the lab did not make that can change a verdict: {0}".format(", ".join(
            "{0} {1}".format(p["kind"], "{0}/{1}".format(p["namespace"], p["name"]) if p["namespace"] else p["name"])
            for p in found))
    else:
        line = "no policy the lab did not make can change a verdict (the workshop asks for none)"
    if not_served:
        line += "; not served by this cluster: {0}".format(", ".join(not_served))
    return {"policies": found, "not_served": not_served, "line": line}


# --------------------------------------------------------------------------- cluster lookups


class KubernetesLookup(object):
    """Reads pods, services, nodes and namespaces through ``api`` (a :class:`k8s.KubeApi`, or any object with its
    ``get`` and ``list``) as plain JSON dicts (camelCase, as kubectl shows them), caching each object until
    :meth:`forget` drops it. ``logs`` reads a container's log: ``logs(namespace, name, container, since_seconds)``
    (the pod ``log`` subresource, which the dynamic client does not read). Thread-safe."""

    def __init__(self, api, logs=None):
        self.api = api
        self.logs = logs
        self._cache = {}
        self._lock = threading.Lock()

    def _read(self, key, fn, *args, **kwargs):
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        value = fn(*args, **kwargs)
        with self._lock:
            self._cache[key] = value
        return value

    def forget(self, kind, namespace, name):
        kind = {"nodeport": "service"}.get(kind, kind)
        with self._lock:
            self._cache.pop((kind, namespace, name), None)
            self._cache.pop(("service", "default", "kubernetes"), None)
            self._cache.pop(("nodes",), None)

    def get_pod(self, namespace, name):
        return self._read(("pod", namespace, name), self.api.get, "v1", "Pod", name, namespace)

    def get_service(self, namespace, name):
        return self._read(("service", namespace, name), self.api.get, "v1", "Service", name, namespace)

    def get_namespace(self, name):
        return self._read(("namespace", name), self.api.get, "v1", "Namespace", name)

    def list_nodes(self):
        return self._read(("nodes",), self.api.list, "v1", "Node") or []

    def read_log(self, namespace, name, container, since_seconds):
        """The container's log over the last ``since_seconds`` (text; never cached)."""
        if self.logs is None:
            raise RuntimeError("this lookup reads no container logs")
        data = self.logs(namespace, name, container, max(1, int(since_seconds)))
        return data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)

    def list_pods(self, namespace, selector=None):
        return self.api.list("v1", "Pod", namespace, label_selector=selector or None)

    def find_pod(self, namespace, selector):
        running = [p for p in self.list_pods(namespace, selector) if (p.get("status") or {}).get("phase") == "Running"
                   and not (p.get("metadata") or {}).get("deletionTimestamp")]
        running.sort(key=lambda p: p["metadata"]["name"])
        return running[0] if running else None


def json_loads(data):
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    return json.loads(data)


def preflight(probes, lookup):
    """Errors for probes naming a namespace, pod or service that does not exist (checked before any probe
    runs, so a typo fails fast with the names that do exist)."""
    errors = []

    def check_pod(pid, role, namespace, name):
        if lookup.get_pod(namespace, name) is not None:
            return
        if lookup.get_namespace(namespace) is None:
            errors.append("probe {0!r}: {1} namespace {2!r} not found".format(pid, role, namespace))
            return
        names = sorted(p["metadata"]["name"] for p in lookup.list_pods(namespace))
        errors.append("probe {0!r}: {1} pod {2}/{3} not found (pods in {2}: {4})".format(
            pid, role, namespace, name, ", ".join(names) or "none"))

    def check_service(pid, namespace, name):
        if lookup.get_service(namespace, name) is not None:
            return
        if lookup.get_namespace(namespace) is None:
            errors.append("probe {0!r}: target namespace {1!r} not found".format(pid, namespace))
            return
        errors.append("probe {0!r}: target service {1}/{2} not found".format(pid, namespace, name))

    for probe in probes:
        pid = probe.get("id")
        src = probe.get("from") or {}
        if not src.get("host"):
            if src.get("pod"):
                check_pod(pid, "source", src["namespace"], src["pod"])
            elif lookup.get_namespace(src["namespace"]) is None:
                errors.append("probe {0!r}: source namespace {1!r} not found".format(pid, src["namespace"]))
        dst = probe.get("to") or {}
        kind = dst.get("kind") or "pod"
        if kind == "pod":
            check_pod(pid, "target", dst["namespace"], dst["name"])
        elif kind in ("service", "nodeport"):
            check_service(pid, dst["namespace"], dst["name"])
    return errors
