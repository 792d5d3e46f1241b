"""Shared pieces of the simulators: pure helpers, a tiny REST client, informers and a controller runtime.

Design: every simulator decision is a pure function ``reconcile(obj, cache, config, now) -> Result`` that
returns the API actions to perform (create/patch/patch-status/delete) and when to look again. The runtime
around it is thin: informers (list + watch with reconnect) keep an in-memory cache of the watched
resources, a single worker pops keys from a delay queue, calls the pure function and applies its actions,
writing the server's answer back into the cache so the next decision sees it.
"""

from __future__ import annotations

import datetime
import hashlib
import heapq
import ipaddress
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

LOG = logging.getLogger("sim")


# --------------------------------------------------------------------------- resources


@dataclass(frozen=True)
class Res:
    """One API resource type, addressed without discovery (CRDs may appear after the simulator starts)."""

    group: str
    version: str
    plural: str
    namespaced: bool
    kind: str

    @property
    def api_version(self) -> str:
        return "%s/%s" % (self.group, self.version) if self.group else self.version

    def path(self, namespace: Optional[str] = None, name: Optional[str] = None, sub: Optional[str] = None) -> str:
        base = "/api/%s" % self.version if not self.group else "/apis/%s/%s" % (self.group, self.version)
        if self.namespaced and namespace:
            base += "/namespaces/%s" % namespace
        base += "/" + self.plural
        if name:
            base += "/" + name
        if sub:
            base += "/" + sub
        return base


NAMESPACES = Res("", "v1", "namespaces", False, "Namespace")
NODES = Res("", "v1", "nodes", False, "Node")
PODS = Res("", "v1", "pods", True, "Pod")
EVENTS = Res("", "v1", "events", True, "Event")
CONFIGMAPS = Res("", "v1", "configmaps", True, "ConfigMap")
DEPLOYMENTS = Res("apps", "v1", "deployments", True, "Deployment")
ENDPOINTSLICES = Res("discovery.k8s.io", "v1", "endpointslices", True, "EndpointSlice")
UDNS = Res("k8s.ovn.org", "v1", "userdefinednetworks", True, "UserDefinedNetwork")
CUDNS = Res("k8s.ovn.org", "v1", "clusteruserdefinednetworks", False, "ClusterUserDefinedNetwork")
NADS = Res("k8s.cni.cncf.io", "v1", "network-attachment-definitions", True, "NetworkAttachmentDefinition")
IPAMCLAIMS = Res("k8s.cni.cncf.io", "v1alpha1", "ipamclaims", True, "IPAMClaim")
KUBEVIRTS = Res("kubevirt.io", "v1", "kubevirts", True, "KubeVirt")
VMS = Res("kubevirt.io", "v1", "virtualmachines", True, "VirtualMachine")
VMIS = Res("kubevirt.io", "v1", "virtualmachineinstances", True, "VirtualMachineInstance")
VMIMS = Res("kubevirt.io", "v1", "virtualmachineinstancemigrations", True, "VirtualMachineInstanceMigration")


# --------------------------------------------------------------------------- actions


@dataclass
class Action:
    """One API call a reconcile decided on. ``verb``: create, patch, patch_status, delete."""

    verb: str
    res: Res
    namespace: Optional[str]
    name: Optional[str]
    body: Optional[Dict[str, Any]] = None

    def describe(self) -> str:
        where = "%s/%s" % (self.namespace, self.name) if self.namespace else str(self.name)
        return "%s %s %s" % (self.verb, self.res.kind, where)


@dataclass
class Result:
    """What a reconcile wants: actions to apply and, optionally, a re-check after ``requeue`` seconds."""

    actions: List[Action] = field(default_factory=list)
    requeue: Optional[float] = None

    def then(self, seconds: Optional[float]) -> "Result":
        if seconds is not None and (self.requeue is None or seconds < self.requeue):
            self.requeue = seconds
        return self


def create(res: Res, body: Dict[str, Any]) -> Action:
    meta = body.get("metadata") or {}
    return Action("create", res, meta.get("namespace"), meta.get("name") or meta.get("generateName"), body)


def patch(res: Res, obj_or_ns, name=None, body=None) -> Action:
    namespace, name = _ns_name(obj_or_ns, name)
    return Action("patch", res, namespace, name, body)


def patch_status(res: Res, obj_or_ns, name=None, status=None) -> Action:
    namespace, name = _ns_name(obj_or_ns, name)
    return Action("patch_status", res, namespace, name, {"status": status})


def delete(res: Res, obj_or_ns, name=None) -> Action:
    namespace, name = _ns_name(obj_or_ns, name)
    return Action("delete", res, namespace, name)


def _ns_name(obj_or_ns, name):
    if isinstance(obj_or_ns, dict):
        meta = obj_or_ns.get("metadata") or {}
        return meta.get("namespace"), meta.get("name")
    return obj_or_ns, name


# --------------------------------------------------------------------------- pure helpers


def rfc3339(now: float) -> str:
    """Epoch seconds → ``2026-11-27T06:00:12Z`` (what the API server stores for metav1.Time)."""
    return datetime.datetime.fromtimestamp(int(now), tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_micro(now: float) -> str:
    """Epoch seconds → ``2026-11-27T06:00:12.408311Z`` (metav1.MicroTime style, used by migration state)."""
    return datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: Optional[str]) -> Optional[float]:
    if not text:
        return None
    text = str(text).replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(text).timestamp()


def meta(obj: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    return (obj or {}).get("metadata") or {}


def labels_of(obj) -> Dict[str, str]:
    return meta(obj).get("labels") or {}


def annotations_of(obj) -> Dict[str, str]:
    return meta(obj).get("annotations") or {}


def key_of(obj) -> Tuple[str, str]:
    m = meta(obj)
    return (m.get("namespace") or "", m.get("name") or "")


def find_condition(conditions: Iterable[Dict[str, Any]], ctype: str) -> Optional[Dict[str, Any]]:
    for cond in conditions or []:
        if cond.get("type") == ctype:
            return cond
    return None


def set_condition(conditions, ctype, status, reason, message, now, extra=None) -> List[Dict[str, Any]]:
    """Return a new condition list with ``ctype`` set; ``lastTransitionTime`` only moves when status changes."""
    out = [dict(c) for c in conditions or [] if c.get("type") != ctype]
    old = find_condition(conditions, ctype)
    cond = {"type": ctype, "status": status, "reason": reason, "message": message}
    if old and old.get("status") == status and old.get("lastTransitionTime"):
        cond["lastTransitionTime"] = old["lastTransitionTime"]
    else:
        cond["lastTransitionTime"] = rfc3339(now)
    if extra:
        cond.update(extra)
    out.append(cond)
    return out


def conditions_equal(a, b) -> bool:
    """Compare condition lists ignoring order and timestamps."""

    def norm(conds):
        return sorted(
            (c.get("type"), str(c.get("status")), c.get("reason"), c.get("message")) for c in conds or []
        )

    return norm(a) == norm(b)


def selector_matches(selector: Optional[Dict[str, Any]], labels: Dict[str, str]) -> bool:
    """metav1.LabelSelector semantics. An empty selector matches everything; None matches nothing."""
    if selector is None:
        return False
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def mac_for_ip(ip: str) -> str:
    """OVN-Kubernetes' MAC for an address (v1.3.0 ``util.IPAddrToHWAddr``): ``0a:58`` + the 4 IPv4 bytes; for
    IPv6 ``0a:58`` + the first 4 bytes of the SHA-256 of the address's canonical text."""
    addr = ipaddress.ip_address(ip.split("/")[0])
    packed = addr.packed if addr.version == 4 else hashlib.sha256(str(addr).encode()).digest()[:4]
    return "0a:58:" + ":".join("%02x" % b for b in packed)


def ipv6_lla(mac: str) -> str:
    """v1.3.0 ``util.HWAddrToIPv6LLA``: the EUI-64 link-local address of a MAC."""
    b = [int(x, 16) for x in mac.split(":")]
    eui = bytes([0xfe, 0x80, 0, 0, 0, 0, 0, 0, b[0] ^ 0x02, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]])
    return str(ipaddress.ip_address(eui))


def router_lla(gateway_ips) -> Optional[str]:
    """The link-local address a Layer2 primary UDN's router advertises from (its RAs give the guest's IPv6
    default route): v1.3.0 sets the router port MAC to ``IPAddrToHWAddr`` of the network's first gateway IP
    (IPv4 when the network has one) and OVN-K's e2e expects ``HWAddrToIPv6LLA`` of it as the gateway
    (``test/e2e/kubevirt/net.go`` ``GenerateGatewayIPv6RouterLLA``)."""
    gateway_ips = [g for g in gateway_ips or [] if g]
    if not gateway_ips:
        return None
    return ipv6_lla(mac_for_ip(gateway_ips[0]))


def owner_ref(obj: Dict[str, Any], controller: bool = True) -> Dict[str, Any]:
    return {
        "apiVersion": obj.get("apiVersion"),
        "kind": obj.get("kind"),
        "name": meta(obj).get("name"),
        "uid": meta(obj).get("uid"),
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def owned_by(obj: Dict[str, Any], owner_uid: str) -> bool:
    return any(ref.get("uid") == owner_uid for ref in meta(obj).get("ownerReferences") or [])


def node_ready(node: Dict[str, Any]) -> bool:
    cond = find_condition((node.get("status") or {}).get("conditions"), "Ready")
    return bool(cond and cond.get("status") == "True")


# --------------------------------------------------------------------------- cache


class Cache:
    """In-memory copy of the watched resources: ``{plural: {(namespace, name): obj}}``. Thread-safe."""

    def __init__(self):
        self._data: Dict[str, Dict[Tuple[str, str], Dict[str, Any]]] = {}
        self._lock = threading.RLock()

    def put(self, res: Res, obj: Dict[str, Any]) -> None:
        with self._lock:
            self._data.setdefault(res.plural, {})[key_of(obj)] = obj

    def remove(self, res: Res, obj: Dict[str, Any]) -> None:
        with self._lock:
            self._data.setdefault(res.plural, {}).pop(key_of(obj), None)

    def replace(self, res: Res, objs: Iterable[Dict[str, Any]]) -> None:
        with self._lock:
            self._data[res.plural] = dict((key_of(o), o) for o in objs)

    def get(self, res: Res, namespace: Optional[str], name: str) -> Optional[Dict[str, Any]]:
        with self._lock:
            return self._data.get(res.plural, {}).get((namespace or "", name))

    def list(self, res: Res, namespace: Optional[str] = None) -> List[Dict[str, Any]]:
        with self._lock:
            items = list(self._data.get(res.plural, {}).values())
        if namespace is not None:
            items = [o for o in items if meta(o).get("namespace") == namespace]
        return sorted(items, key=lambda o: (meta(o).get("creationTimestamp") or "", key_of(o)))

    @classmethod
    def from_objects(cls, mapping: Dict[Res, Iterable[Dict[str, Any]]]) -> "Cache":
        """Build a cache from fixtures (used by unit tests)."""
        cache = cls()
        for res, objs in mapping.items():
            cache.replace(res, objs)
        return cache


# --------------------------------------------------------------------------- REST client


class ApiError(Exception):
    def __init__(self, status: int, text: str):
        super().__init__("HTTP %s: %s" % (status, text[:300]))
        self.status = status


class Kube:
    """A small REST client over the kubernetes package's ApiClient (auth/TLS from a kubeconfig)."""

    def __init__(self, kubeconfig: Optional[str] = None):
        from kubernetes import client, config

        cfg = client.Configuration()
        config.load_kube_config(config_file=kubeconfig, client_configuration=cfg)
        self.api = client.ApiClient(cfg)

    def request(self, method: str, path: str, body=None, query=None, content_type="application/json",
                stream=False, timeout=30):
        """One API call; returns the decoded JSON (or, with ``stream``, the raw urllib3 response)."""
        from kubernetes.client.exceptions import ApiException

        headers = {"Accept": "application/json", "Content-Type": content_type}
        try:
            if hasattr(self.api, "param_serialize"):  # kubernetes client >= 31 (new generator)
                method_, url, headers_, body_, post = self.api.param_serialize(
                    method=method, resource_path=path, query_params=list((query or {}).items()),
                    header_params=headers, body=body, auth_settings=["BearerToken"])
                raw = self.api.call_api(method_, url, header_params=headers_, body=body_, post_params=post,
                                        _request_timeout=timeout).response
            else:  # older clients
                raw = self.api.call_api(
                    path, method, query_params=list((query or {}).items()), header_params=headers, body=body,
                    auth_settings=["BearerToken"], _preload_content=False, _request_timeout=timeout)[0]
        except ApiException as exc:
            raise ApiError(exc.status or 0, exc.body.decode() if isinstance(exc.body, bytes) else str(exc.body))
        if raw.status >= 400:
            text = raw.data.decode(errors="replace") if raw.data else raw.reason or ""
            raise ApiError(raw.status, text)
        if stream:
            return raw
        data = raw.data
        return json.loads(data) if data else None

    def list(self, res: Res, namespace=None, **query):
        return self.request("GET", res.path(namespace), query=query)

    def get(self, res: Res, namespace, name):
        return self.request("GET", res.path(namespace, name))

    def apply_action(self, action: Action) -> Optional[Dict[str, Any]]:
        res = action.res
        if action.verb == "create":
            body = dict(action.body)
            body.setdefault("apiVersion", res.api_version)
            body.setdefault("kind", res.kind)
            return self.request("POST", res.path(action.namespace), body=body)
        if action.verb == "patch":
            return self.request("PATCH", res.path(action.namespace, action.name), body=action.body,
                                content_type="application/merge-patch+json")
        if action.verb == "patch_status":
            return self.request("PATCH", res.path(action.namespace, action.name, "status"), body=action.body,
                                content_type="application/merge-patch+json")
        if action.verb == "delete":
            return self.request("DELETE", res.path(action.namespace, action.name))
        raise ValueError("unknown verb %s" % action.verb)

    def watch(self, res: Res, resource_version: str, timeout_seconds: int = 60):
        """Yield watch events (dicts with type and object) until the server closes the stream."""
        resp = self.request(
            "GET", res.path(), query={"watch": "1", "resourceVersion": resource_version,
                                      "allowWatchBookmarks": "true", "timeoutSeconds": str(timeout_seconds)},
            stream=True, timeout=timeout_seconds + 15,
        )
        buf = b""
        try:
            for chunk in resp.stream(4096, decode_content=False):
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.strip():
                        yield json.loads(line)
        finally:
            resp.release_conn()


# --------------------------------------------------------------------------- runtime


class DelayQueue:
    """Keys to reconcile, each due at a time; a key queued twice keeps its earliest due time."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._heap: List[Tuple[float, int, Any]] = []
        self._due: Dict[Any, float] = {}
        self._cv = threading.Condition()
        self._seq = 0
        self._clock = clock
        self.closed = False

    def add(self, key, delay: float = 0.0) -> None:
        with self._cv:
            due = self._clock() + max(0.0, delay)
            if key in self._due and self._due[key] <= due:
                return
            self._due[key] = due
            self._seq += 1
            heapq.heappush(self._heap, (due, self._seq, key))
            self._cv.notify()

    def pop(self, timeout: float = 1.0):
        """The next due key, or None after ``timeout`` seconds (or when closed)."""
        end = self._clock() + timeout
        with self._cv:
            while not self.closed:
                now = self._clock()
                while self._heap and self._due.get(self._heap[0][2]) != self._heap[0][0]:
                    heapq.heappop(self._heap)  # superseded entry
                if self._heap and self._heap[0][0] <= now:
                    _, _, key = heapq.heappop(self._heap)
                    del self._due[key]
                    return key
                wait = end - now
                if self._heap:
                    wait = min(wait, self._heap[0][0] - now)
                if wait <= 0:
                    return None
                self._cv.wait(wait)
        return None

    def close(self) -> None:
        with self._cv:
            self.closed = True
            self._cv.notify_all()


class Informer(threading.Thread):
    """List + watch one resource type into the cache; reconnects on errors, relists on 410 Gone.

    While the resource type does not exist yet (CRD not installed: 404) it retries every few seconds.
    ``on_event(res, event_type, obj, old)`` is called for every change.
    """

    def __init__(self, kube: Kube, res: Res, cache: Cache, on_event, stop: threading.Event, watch_seconds=60):
        super().__init__(name="informer-%s" % res.plural, daemon=True)
        self.kube, self.res, self.cache, self.on_event, self.stop = kube, res, cache, on_event, stop
        self.watch_seconds = watch_seconds
        self.synced = threading.Event()

    def run(self):
        backoff = 0.2
        rv = None
        while not self.stop.is_set():
            try:
                if rv is None:
                    listing = self.kube.list(self.res)
                    items = listing.get("items") or []
                    for item in items:
                        item.setdefault("apiVersion", self.res.api_version)
                        item.setdefault("kind", self.res.kind)
                    old = dict((key_of(o), o) for o in self.cache.list(self.res))
                    self.cache.replace(self.res, items)
                    for item in items:
                        self.on_event(self.res, "ADDED", item, old.pop(key_of(item), None))
                    for gone in old.values():
                        self.on_event(self.res, "DELETED", gone, gone)
                    rv = listing["metadata"]["resourceVersion"]
                    self.synced.set()
                for event in self.kube.watch(self.res, rv, self.watch_seconds):
                    if self.stop.is_set():
                        return
                    etype, obj = event.get("type"), event.get("object") or {}
                    if etype == "ERROR":
                        if obj.get("code") == 410:
                            rv = None
                        break
                    rv = meta(obj).get("resourceVersion") or rv
                    if etype == "BOOKMARK":
                        continue
                    old = self.cache.get(self.res, meta(obj).get("namespace"), meta(obj).get("name"))
                    if etype == "DELETED":
                        self.cache.remove(self.res, obj)
                    else:
                        self.cache.put(self.res, obj)
                    self.on_event(self.res, etype, obj, old)
                backoff = 0.2
            except ApiError as exc:
                if exc.status == 410:
                    rv = None
                    continue
                level = logging.DEBUG if exc.status == 404 else logging.WARNING
                LOG.log(level, "%s: %s; retrying", self.res.plural, exc)
                if exc.status == 404:
                    self.synced.set()  # resource type absent: an empty cache is the truth for now
                self.stop.wait(3.0 if exc.status == 404 else backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception as exc:  # connection dropped, timeouts: reconnect
                LOG.debug("%s watch ended: %s", self.res.plural, exc)
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)


class Controller:
    """Runs pure reconcile functions over the cache. Subclasses declare ``resources`` and ``handlers``.

    ``handlers``: ``{plural: reconcile(obj, cache, config, now) -> Result}``; ``fanout(res, obj)`` maps an
    event to the keys ``(plural, namespace, name)`` to reconcile.
    """

    resources: Tuple[Res, ...] = ()
    name = "controller"

    def __init__(self, kube: Optional[Kube], config: Dict[str, Any], cache: Optional[Cache] = None,
                 clock: Callable[[], float] = time.time):
        self.kube = kube
        self.config = config
        self.cache = cache or Cache()
        self.queue = DelayQueue()
        self.stop = threading.Event()
        self.clock = clock
        self.log = logging.getLogger("sim.%s" % self.name)
        self.informers: List[Informer] = []
        self.by_plural = dict((r.plural, r) for r in self.resources)

    # subclasses -----------------------------------------------------------
    def handlers(self) -> Dict[str, Callable]:
        raise NotImplementedError

    def fanout(self, res: Res, obj: Dict[str, Any]) -> List[Tuple[str, str, str]]:
        ns, name = key_of(obj)
        return [(res.plural, ns, name)] if res.plural in self.handlers() else []

    # runtime --------------------------------------------------------------
    def on_event(self, res, etype, obj, old):
        for key in self.fanout(res, obj):
            self.queue.add(key)

    def reconcile_key(self, key) -> None:
        plural, ns, name = key
        res = self.by_plural[plural]
        obj = self.cache.get(res, ns, name)
        if obj is None:
            return
        result = self.handlers()[plural](obj, self.cache, self.config, self.clock())
        for action in result.actions:
            self.apply(action)
        if result.requeue is not None:
            self.queue.add(key, result.requeue)

    def apply(self, action: Action) -> None:
        self.log.info("%s", action.describe())
        try:
            out = self.kube.apply_action(action)
        except ApiError as exc:
            if action.verb == "create" and exc.status == 409:
                return
            if action.verb == "delete" and exc.status == 404:
                return
            self.log.warning("%s failed: %s", action.describe(), exc)
            return
        res = action.res
        if out and out.get("kind") not in (None, "Status"):
            out.setdefault("apiVersion", res.api_version)
            out.setdefault("kind", res.kind)
            if res.plural in self.by_plural:
                if action.verb == "delete" and not meta(out).get("deletionTimestamp"):
                    self.cache.remove(res, out)
                else:
                    self.cache.put(res, out)
                    for key in self.fanout(res, out):
                        self.queue.add(key, 0.05)

    def start(self) -> None:
        for res in self.resources:
            inf = Informer(self.kube, res, self.cache, self.on_event, self.stop)
            inf.start()
            self.informers.append(inf)
        for inf in self.informers:
            inf.synced.wait(30)
        self.worker = threading.Thread(target=self._work, name="%s-worker" % self.name, daemon=True)
        self.worker.start()
        self.resync = threading.Thread(target=self._resync, name="%s-resync" % self.name, daemon=True)
        self.resync.start()

    def _work(self) -> None:
        while not self.stop.is_set():
            key = self.queue.pop(timeout=0.5)
            if key is None:
                continue
            try:
                self.reconcile_key(key)
            except Exception:  # one bad object must not kill the simulator
                self.log.exception("reconcile %s failed", key)
                self.queue.add(key, 2.0)

    def _resync(self) -> None:
        period = float(self.config.get("resync_seconds", 10))
        while not self.stop.wait(period):
            for res in self.resources:
                for obj in self.cache.list(res):
                    for key in self.fanout(res, obj):
                        self.queue.add(key)

    def shutdown(self) -> None:
        self.stop.set()
        self.queue.close()
