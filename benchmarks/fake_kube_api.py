# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""A tiny in-process fake of the Kubernetes API for benchmarks and Ansible-level tests.

Serves discovery (/api, /apis, /api/v1, /apis/<group>/v1), get, list, create (with generateName) and
watch (resourceVersion, timeoutSeconds, labelSelector k=v, fieldSelector metadata.name=/involvedObject.name=)
for core v1 pods/nodes/events/namespaces/services, KubeVirt VMIs, VMIMs and VMs and OVN-Kubernetes UDNs and CUDNs
(the ``RESOURCES`` table), over plain HTTP on 127.0.0.1.
``compact()`` makes older resourceVersions answer ``410 Gone`` like a compacted etcd.

Not a conformance fake: just enough for kubernetes' DynamicClient and kubernetes.core's waiter.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import re
import threading
import time
import uuid

try:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlparse
except ImportError:  # pragma: no cover - Python 2 is not supported by this helper
    BaseHTTPRequestHandler = object
    ThreadingHTTPServer = None

KUBEVIRT_GROUP = "kubevirt.io"
OVN_GROUP = "k8s.ovn.org"
RESOURCES = {
    # plural: (group, version, kind, namespaced)
    "pods": ("", "v1", "Pod", True),
    "nodes": ("", "v1", "Node", False),
    "events": ("", "v1", "Event", True),
    "namespaces": ("", "v1", "Namespace", False),
    "services": ("", "v1", "Service", True),
    "virtualmachineinstances": (KUBEVIRT_GROUP, "v1", "VirtualMachineInstance", True),
    "virtualmachineinstancemigrations": (KUBEVIRT_GROUP, "v1", "VirtualMachineInstanceMigration", True),
    "virtualmachines": (KUBEVIRT_GROUP, "v1", "VirtualMachine", True),
    "userdefinednetworks": (OVN_GROUP, "v1", "UserDefinedNetwork", True),
    "clusteruserdefinednetworks": (OVN_GROUP, "v1", "ClusterUserDefinedNetwork", False),
}
PATH_RE = re.compile(
    r"^/(?:api/v1|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
    r"(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[a-z]+)(?:/(?P<name>[^/]+))?$"
)


def _resource_list(group, version):
    out = []
    for plural, (grp, ver, kind, namespaced) in sorted(RESOURCES.items()):
        if grp == group and ver == version:
            out.append({"name": plural, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind,
                        "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]})
    gv = "{0}/{1}".format(group, version) if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}


def _matches(obj, namespace, label_selector, field_selector):
    meta = obj.get("metadata") or {}
    if namespace and meta.get("namespace") != namespace:
        return False
    for part in filter(None, (label_selector or "").split(",")):
        key, dummy, value = part.partition("=")
        if (meta.get("labels") or {}).get(key) != value:
            return False
    for part in filter(None, (field_selector or "").split(",")):
        key, dummy, value = part.partition("=")
        current = obj
        for step in key.split("."):
            current = (current or {}).get(step) if isinstance(current, dict) else None
        if current != value:
            return False
    return True


class FakeKubeApi(object):
    """Thread-safe object store + HTTP server. ``put()`` stores an object and wakes watchers."""

    def __init__(self):
        self.lock = threading.Condition()
        self.rv = 100
        self.compacted_rv = 0
        self.objects = {}  # (plural, namespace, name) -> obj
        self.log = []  # (rv, type, plural, obj)
        self.requests = []  # (method, path with query)
        self.gone_watches = 0  # the next N watch requests answer 410 Gone
        self.dropped_watches = 0  # the next N watch requests are cut mid-stream (no final chunk)
        self.server = None
        self.thread = None

    # ---------------------------------------------------------------- store
    def put(self, plural, obj, event_type=None):
        """Store ``obj`` (a dict with metadata.name/namespace) and emit ADDED/MODIFIED. Returns the stored copy."""
        with self.lock:
            obj = copy.deepcopy(obj)
            group, version, kind = RESOURCES[plural][:3]
            # (the API server answers every object with its apiVersion and kind)
            obj.setdefault("apiVersion", "{0}/{1}".format(group, version) if group else version)
            obj.setdefault("kind", kind)
            meta = obj.setdefault("metadata", {})
            key = (plural, meta.get("namespace") or "", meta["name"])
            meta.setdefault("uid", str(uuid.uuid4()))
            self.rv += 1
            meta["resourceVersion"] = str(self.rv)
            etype = event_type or ("MODIFIED" if key in self.objects else "ADDED")
            self.objects[key] = obj
            self.log.append((self.rv, etype, plural, copy.deepcopy(obj)))
            self.lock.notify_all()
            return copy.deepcopy(obj)

    def compact(self):
        """Forget history: watches from an older resourceVersion get 410 Gone."""
        with self.lock:
            self.compacted_rv = self.rv
            self.log = []

    def create(self, plural, namespace, body):
        meta = body.setdefault("metadata", {})
        if not meta.get("name"):
            meta["name"] = meta.pop("generateName", "obj-") + uuid.uuid4().hex[:5]
        meta["namespace"] = namespace or meta.get("namespace")
        meta["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return self.put(plural, body, "ADDED")

    # ---------------------------------------------------------------- server
    def start(self):
        """Serve on 127.0.0.1 (random port); returns the base URL."""
        api = self

        class Handler(_Handler):
            store = api

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self.url

    @property
    def url(self):
        return "http://127.0.0.1:{0}".format(self.server.server_address[1])

    def stop(self):
        if self.server:
            with self.lock:
                self.lock.notify_all()
            self.server.shutdown()
            self.server.server_close()

    def kubeconfig(self, path):
        """Write a kubeconfig pointing at this server (token auth, plain HTTP)."""
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": {"token": "fake-token"}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}],
        }
        with open(path, "w") as handle:
            json.dump(config, handle)
        return path


class _Handler(BaseHTTPRequestHandler):
    store = None
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):  # keep benchmark/test output clean
        return None

    def _send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _status(self, code, reason, message):
        self._send(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason,
                          "message": message, "code": code})

    def do_GET(self):
        url = urlparse(self.path)
        query = dict((k, v[0]) for k, v in parse_qs(url.query).items())
        self.store.requests.append(("GET", self.path))
        if url.path == "/version":
            return self._send(200, {"major": "1", "minor": "35", "gitVersion": "v1.35.0"})
        if url.path == "/api":
            return self._send(200, {"kind": "APIVersions", "versions": ["v1"]})
        groups = sorted(set((grp, ver) for grp, ver, dummy, dummy2 in RESOURCES.values() if grp))
        if url.path == "/apis":
            listed = []
            for grp, ver in groups:
                gv = {"groupVersion": "{0}/{1}".format(grp, ver), "version": ver}
                listed.append({"name": grp, "versions": [gv], "preferredVersion": gv})
            return self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": listed})
        if url.path == "/api/v1":
            return self._send(200, _resource_list("", "v1"))
        for grp, ver in groups:
            if url.path == "/apis/{0}/{1}".format(grp, ver):
                return self._send(200, _resource_list(grp, ver))
        match = PATH_RE.match(url.path)
        if not match or match.group("plural") not in RESOURCES:
            return self._status(404, "NotFound", "the server could not find the requested resource")
        plural, ns, name = match.group("plural"), match.group("ns"), match.group("name")
        group, version, kind = RESOURCES[plural][:3]
        api_version = "{0}/{1}".format(group, version) if group else version
        if name:
            with self.store.lock:
                obj = self.store.objects.get((plural, ns or "", name))
            if obj is None:
                return self._status(404, "NotFound", '{0} "{1}" not found'.format(plural, name))
            return self._send(200, obj)
        if query.get("watch") in ("true", "1", "True"):
            return self._watch(plural, ns, query)
        with self.store.lock:
            items = [copy.deepcopy(o) for (p, dummy, dummy2), o in sorted(self.store.objects.items())
                     if p == plural and _matches(o, ns, query.get("labelSelector"), query.get("fieldSelector"))]
            rv = str(self.store.rv)
        return self._send(200, {"kind": kind + "List", "apiVersion": api_version,
                                "metadata": {"resourceVersion": rv}, "items": items})

    def _watch(self, plural, ns, query):
        store = self.store
        since = int(query.get("resourceVersion") or 0)
        deadline = time.monotonic() + float(query.get("timeoutSeconds") or 60)
        # Like the real API server: HTTP/1.1 chunked, one event per chunk (clients stream chunk by chunk).
        self.protocol_version = "HTTP/1.1"
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            with store.lock:
                gone = store.gone_watches > 0
                dropped = store.dropped_watches > 0 and not gone
                store.gone_watches -= 1 if gone else 0
                store.dropped_watches -= 1 if dropped else 0
            if dropped:
                time.sleep(0.1)
                return  # close without the terminating chunk: the client sees a broken stream
            with store.lock:
                if gone or (since and since < store.compacted_rv):
                    self._line({"type": "ERROR", "object": {
                        "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Expired", "code": 410,
                        "message": "too old resource version: {0} ({1})".format(since, store.compacted_rv)}})
                    self.wfile.write(b"0\r\n\r\n")
                    return
            last = since
            while True:
                with store.lock:
                    pending = [e for e in store.log if e[0] > last]
                    if not pending:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            self.wfile.write(b"0\r\n\r\n")
                            return
                        store.lock.wait(min(remaining, 1.0))
                        continue
                for rv, etype, p, obj in pending:
                    last = rv
                    if p == plural and _matches(obj, ns, query.get("labelSelector"), query.get("fieldSelector")):
                        self._line({"type": etype, "object": obj})
        except (BrokenPipeError, ConnectionResetError):
            return

    def _line(self, event):
        data = json.dumps(event).encode() + b"\n"
        self.wfile.write("{0:x}\r\n".format(len(data)).encode() + data + b"\r\n")
        self.wfile.flush()

    def do_POST(self):
        url = urlparse(self.path)
        self.store.requests.append(("POST", self.path))
        match = PATH_RE.match(url.path)
        if not match or match.group("plural") not in RESOURCES:
            return self._status(404, "NotFound", "the server could not find the requested resource")
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        created = self.store.create(match.group("plural"), match.group("ns"), body)
        return self._send(201, created)
