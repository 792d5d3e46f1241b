"""The simulators' thin I/O: REST client, informer (list + watch, 410 relist, absent CRD) and the controller loop,
against a small in-process HTTP server speaking the API server's list/watch protocol."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from simulators.common import (NAMESPACES, UDNS, Cache, Controller, DelayQueue, Informer, Kube, Result, meta,
                               patch_status)


class FakeApi:
    """Namespaces (list + one watch event, then 410 once) and UDNs (404 until ``crd`` is set)."""

    def __init__(self):
        self.requests = []
        self.patches = []
        self.crd = False
        self.gone_sent = False
        self.rv = 10

    def handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_):
                pass

            def send_json(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urlparse(self.path)
                query = parse_qs(url.query)
                api.requests.append((url.path, query.get("watch", ["0"])[0], query.get("resourceVersion", [""])[0]))
                if url.path == "/api/v1/namespaces":
                    if query.get("watch") == ["1"]:
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Transfer-Encoding", "chunked")
                        self.end_headers()
                        if not api.gone_sent:
                            api.gone_sent = True
                            events = [{"type": "ADDED", "object": {"metadata": {"name": "blue", "resourceVersion": "11"}}},
                                      {"type": "ERROR", "object": {"kind": "Status", "code": 410}}]
                        else:
                            events = []
                            time.sleep(0.5)
                        for event in events:
                            line = (json.dumps(event) + "\n").encode()
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                        self.wfile.write(b"0\r\n\r\n")
                        return
                    items = [{"metadata": {"name": "default", "resourceVersion": "5"}}]
                    if api.gone_sent:
                        items.append({"metadata": {"name": "blue", "resourceVersion": "11"}})
                    return self.send_json(200, {"kind": "NamespaceList", "metadata": {"resourceVersion": "10"},
                                                "items": items})
                if url.path.startswith("/apis/k8s.ovn.org/v1/userdefinednetworks"):
                    if not api.crd:
                        return self.send_json(404, {"kind": "Status", "code": 404, "reason": "NotFound"})
                    if query.get("watch") == ["1"]:
                        time.sleep(0.5)
                        self.send_response(200)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    return self.send_json(200, {"kind": "UserDefinedNetworkList", "metadata": {"resourceVersion": "3"},
                                                "items": [{"metadata": {"name": "u", "namespace": "blue", "uid": "1"}}]})
                return self.send_json(404, {"kind": "Status", "code": 404})

            def do_PATCH(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                api.patches.append((self.path, self.headers.get("Content-Type"), body))
                obj = {"apiVersion": "k8s.ovn.org/v1", "kind": "UserDefinedNetwork",
                       "metadata": {"name": "u", "namespace": "blue", "uid": "1"}, "status": body.get("status")}
                self.send_json(200, obj)

        return Handler


@pytest.fixture
def api(tmp_path):
    fake = FakeApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), fake.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "t",
        "clusters": [{"name": "t", "cluster": {"server": "http://127.0.0.1:%d" % server.server_address[1]}}],
        "users": [{"name": "t", "user": {"token": "x"}}],
        "contexts": [{"name": "t", "context": {"cluster": "t", "user": "t"}}]}))
    yield fake, Kube(str(kubeconfig))
    server.shutdown()


def wait(predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_informer_lists_watches_and_relists_after_gone(api):
    fake, kube = api
    cache, stop, events = Cache(), threading.Event(), []
    inf = Informer(kube, NAMESPACES, cache, lambda res, t, obj, old: events.append((t, meta(obj)["name"])), stop,
                   watch_seconds=1)
    inf.start()
    try:
        assert wait(lambda: ("ADDED", "blue") in events)
        # 410 Gone → a fresh list (without resourceVersion) follows the first watch
        assert wait(lambda: sum(1 for p, w, dummy in fake.requests if p == "/api/v1/namespaces" and w == "0") >= 2)
        assert sorted(meta(n)["name"] for n in cache.list(NAMESPACES)) == ["blue", "default"]
        first_watch = next(r for r in fake.requests if r[1] == "1")
        assert first_watch[2] == "10"
    finally:
        stop.set()
        inf.join(5)


def test_informer_waits_for_an_absent_crd(api):
    fake, kube = api
    cache, stop = Cache(), threading.Event()
    inf = Informer(kube, UDNS, cache, lambda *a: None, stop, watch_seconds=1)
    inf.start()
    try:
        assert inf.synced.wait(5)  # 404: synced with an empty cache
        assert cache.list(UDNS) == []
        fake.crd = True
        assert wait(lambda: len(cache.list(UDNS)) == 1, timeout=10)
    finally:
        stop.set()
        inf.join(5)


class OneShot(Controller):
    name = "test"
    resources = (UDNS,)

    def handlers(self):
        def reconcile(obj, cache, config, now):
            if (obj.get("status") or {}).get("conditions"):
                return Result()
            return Result([patch_status(UDNS, obj, status={"conditions": [{"type": "NetworkCreated", "status": "True"}]})])
        return {UDNS.plural: reconcile}


def test_controller_applies_merge_patches_to_the_status_subresource(api):
    fake, kube = api
    fake.crd = True
    controller = OneShot(kube, {"resync_seconds": 60})
    controller.start()
    try:
        assert wait(lambda: fake.patches)
        path, content_type, body = fake.patches[0]
        assert path == "/apis/k8s.ovn.org/v1/namespaces/blue/userdefinednetworks/u/status"
        assert content_type == "application/merge-patch+json"
        assert body == {"status": {"conditions": [{"type": "NetworkCreated", "status": "True"}]}}
        # the answer went into the cache, so the reconcile does not patch again
        time.sleep(0.5)
        assert len(fake.patches) == 1
    finally:
        controller.shutdown()


def test_delay_queue_orders_by_due_time_and_keeps_the_earliest():
    now = [0.0]
    queue = DelayQueue(clock=lambda: now[0])
    queue.add("late", 5.0)
    queue.add("soon", 1.0)
    queue.add("late", 10.0)  # later duplicate: ignored
    assert queue.pop(timeout=0) is None
    now[0] = 1.0
    assert queue.pop(timeout=0) == "soon"
    now[0] = 5.0
    assert queue.pop(timeout=0) == "late"
    assert queue.pop(timeout=0) is None
