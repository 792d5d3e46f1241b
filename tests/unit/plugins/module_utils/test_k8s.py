"""Unit tests for plugins/module_utils/k8s.py: watch_until against the one fake API's list/watch."""

from __future__ import annotations

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s

from fake_api import ApiError, Clock, FakeApi


def obj(name, rv, ready=False, ns="ns"):
    return {"metadata": {"name": name, "namespace": ns, "resourceVersion": str(rv)}, "ready": ready}


def pods(objects, script, clock=None, event_step=0.0):
    """``(api, list_fn, watch_fn)``: the one fake API holding ``objects`` as Pods, ``script`` their watch."""
    api = FakeApi(clock or Clock(0.0), {"Pod": objects}, {"Pod": script}, event_step=event_step)
    list_fn, watch_fn = api.list_watch("v1", "Pod")
    return api, list_fn, watch_fn


def all_ready(names):
    return lambda objects: set(names) <= set(objects) and all(objects[n]["ready"] for n in names)


def test_returns_immediately_when_list_already_satisfies():
    api, list_fn, watch_fn = pods([obj("a", 10, True)], [])
    res = k8s.watch_until(list_fn, watch_fn, all_ready(["ns/a"]), deadline=5, clock=lambda: 0)
    assert res["done"] and api.watches == []


def test_returns_on_the_completing_event_and_tracks_resource_version():
    events = [
        {"type": "MODIFIED", "object": obj("a", 11, True)},
        {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "12"}}},
        {"type": "ADDED", "object": obj("b", 13, True)},
        {"type": "MODIFIED", "object": obj("b", 14, False)},  # must not be consumed
    ]
    api, list_fn, watch_fn = pods([obj("a", 10)], events)
    res = k8s.watch_until(list_fn, watch_fn, all_ready(["ns/a", "ns/b"]), deadline=100, clock=lambda: 0)
    assert res["done"]
    assert res["objects"]["ns/b"]["ready"] is True
    assert api.watches == [("Pod", "10", 55)]
    assert res["stats"]["events"] == 3


def test_reconnects_from_last_resource_version_after_expiry():
    clock = Clock(0.0)
    script = [{"type": "MODIFIED", "object": obj("a", 11)}, "expire", "expire",
              {"type": "MODIFIED", "object": obj("a", 12, True)}]
    api, list_fn, watch_fn = pods([obj("a", 10)], script, clock)
    res = k8s.watch_until(list_fn, watch_fn, all_ready(["ns/a"]), deadline=1000, clock=clock)
    assert res["done"]
    assert [c[1] for c in api.watches] == ["10", "11", "11"]
    assert res["stats"]["reconnects"] == 2 and api.lists == ["Pod"]


@pytest.mark.parametrize("gone", ["gone", ApiError(410, "Gone")])
def test_relists_on_410_gone(gone):
    """The history the watch needs was compacted meanwhile (the store moved on without an event): a relist."""
    script = [("silent", obj("a", 20)), gone, {"type": "MODIFIED", "object": obj("a", 21, True)}]
    api, list_fn, watch_fn = pods([obj("a", 10)], script)
    res = k8s.watch_until(list_fn, watch_fn, all_ready(["ns/a"]), deadline=100, clock=lambda: 0)
    assert res["done"]
    assert api.lists == ["Pod", "Pod"]
    assert [c[1] for c in api.watches] == ["10", "20"]
    assert res["stats"]["relists"] == 1
    assert "410" in res["last_error"]


def test_dropped_connection_backs_off_and_reconnects():
    clock = Clock(0.0)
    script = [{"type": "MODIFIED", "object": obj("a", 11)}, ConnectionResetError("peer reset"),
              OSError("read timed out"), {"type": "MODIFIED", "object": obj("a", 12, True)}]
    api, list_fn, watch_fn = pods([obj("a", 10)], script, clock)
    res = k8s.watch_until(list_fn, watch_fn, all_ready(["ns/a"]), deadline=100, clock=clock, sleep=clock.sleep)
    assert res["done"]
    assert clock.sleeps == [0.1, 0.2]
    assert [c[1] for c in api.watches] == ["10", "11", "11"]
    assert res["stats"]["errors"] == 2


def test_success_resets_backoff():
    clock = Clock(0.0)
    script = [OSError("x"), {"type": "MODIFIED", "object": obj("a", 2)}, OSError("y"),
              {"type": "MODIFIED", "object": obj("a", 3, True)}]
    api, list_fn, watch_fn = pods([obj("a", 1)], script, clock)
    k8s.watch_until(list_fn, watch_fn, all_ready(["ns/a"]), deadline=100, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == [0.1, 0.1]


def test_deadline_returns_not_done_with_last_state():
    clock = Clock(0.0)
    events = [{"type": "MODIFIED", "object": obj("a", 10 + i)} for i in range(100)]
    api, list_fn, watch_fn = pods([obj("a", 1)], events, clock, event_step=1.0)
    res = k8s.watch_until(list_fn, watch_fn, all_ready(["ns/a"]), deadline=30, clock=clock)
    assert res["done"] is False
    assert clock.now == 30
    assert res["objects"]["ns/a"]["metadata"]["resourceVersion"] == "39"
    assert api.watches[0][2] == 30  # server-side timeout never beyond the deadline


def test_fatal_status_raises_at_once():
    api, list_fn, watch_fn = pods([], [ApiError(403, "Forbidden")])
    with pytest.raises(k8s.WatchFatalError, match="403 Forbidden"):
        k8s.watch_until(list_fn, watch_fn, lambda o: False, deadline=100, clock=lambda: 0)


def test_deleted_objects_and_keep_filter():
    script = [{"type": "DELETED", "object": obj("a", 11)}, {"type": "ADDED", "object": obj("y", 12, True, ns="other")},
              {"type": "ADDED", "object": obj("a", 13, True)}]
    api, list_fn, watch_fn = pods([obj("a", 1), obj("x", 1, ns="other")], script)
    seen = []

    def done(objects):
        seen.append(sorted(objects))
        return "ns/a" in objects and objects["ns/a"]["ready"]

    res = k8s.watch_until(list_fn, watch_fn, done, deadline=100, clock=lambda: 0,
                          keep=lambda o: o["metadata"]["namespace"] == "ns")
    assert res["done"]
    assert seen == [["ns/a"], [], [], ["ns/a"]]


def test_describe_error():
    assert k8s.describe_error(ApiError(403, "Forbidden")) == "HTTP 403 Forbidden"
    assert k8s.describe_error(OSError("boom")) == "OSError: boom"


# ---------------------------------------------------------------- the real kubernetes client against a local fake API


def _fake_api_module():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[4] / "benchmarks" / "fake_kube_api.py"
    spec = importlib.util.spec_from_file_location("fake_kube_api", str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def live_api(tmp_path):
    pytest.importorskip("kubernetes", reason="the kubernetes Python client is needed to talk to the fake API")

    server = _fake_api_module().FakeKubeApi()
    server.start()
    from ansible.module_utils.testing import patch_module_args
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule

    # the module class every module of the collection that talks to Kubernetes uses (one client path)
    with patch_module_args({"kubeconfig": server.kubeconfig(str(tmp_path / "kubeconfig"))}):
        module = AnsibleK8SModule(argument_spec=dict(k8s.AUTH_ARG_SPEC), supports_check_mode=True)
    client = k8s.KubeApi(k8s.client_from_module(module))
    yield server, client
    server.stop()


def test_real_client_relists_on_gone_and_reconnects_after_a_cut_stream(live_api):
    import threading
    import time

    server, client = live_api
    server.put("pods", {"metadata": {"name": "p", "namespace": "ns"}, "ready": False})
    server.gone_watches = 1
    server.dropped_watches = 1

    def flip():
        while sum(1 for r in list(server.requests) if "watch=true" in r[1]) < 3:
            time.sleep(0.02)
        time.sleep(0.1)
        server.put("pods", {"metadata": {"name": "p", "namespace": "ns"}, "ready": True})

    threading.Thread(target=flip, daemon=True).start()
    list_fn, watch_fn = client.list_watch("v1", "Pod", "ns")
    res = k8s.watch_until(list_fn, watch_fn, all_ready(["ns/p"]), deadline=time.monotonic() + 30)
    assert res["done"], res
    assert res["stats"]["relists"] == 1 and res["stats"]["errors"] == 1
    assert res["stats"]["lists"] == 2


def test_real_client_get_create_list(live_api):
    server, client = live_api
    assert client.get("kubevirt.io/v1", "VirtualMachineInstance", "nope", "ns") is None
    made = client.create("kubevirt.io/v1", "VirtualMachineInstanceMigration",
                         {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration",
                          "metadata": {"generateName": "kubevirt-migrate-vm-", "namespace": "ns"},
                          "spec": {"vmiName": "blue"}}, "ns")
    assert made["metadata"]["name"].startswith("kubevirt-migrate-vm-") and made["metadata"]["uid"]
    assert [m["spec"] for m in client.list("kubevirt.io/v1", "VirtualMachineInstanceMigration", "ns")] == [{"vmiName": "blue"}]


def test_real_client_reads_what_the_probes_read(live_api):
    """probes.KubernetesLookup over KubeApi, as connectivity_matrix builds it: get (None on 404), label-selected
    lists, cluster-scoped nodes and namespaces, each cached until forgotten."""
    from ansible_collections.ovnk.udn_lab.plugins.module_utils import probes

    server, client = live_api
    server.put("namespaces", {"metadata": {"name": "blue"}})
    server.put("nodes", {"metadata": {"name": "lab-worker"}})
    server.put("services", {"metadata": {"name": "service-blue", "namespace": "blue"}, "spec": {"clusterIP": "10.96.0.9"}})
    for name, app in (("app-blue-0", "blue"), ("app-blue-1", "other")):
        server.put("pods", {"metadata": {"name": name, "namespace": "blue", "labels": {"app": app}},
                            "status": {"phase": "Running"}})
    lookup = probes.KubernetesLookup(client)
    assert lookup.get_pod("blue", "app-blue-0")["metadata"]["labels"] == {"app": "blue"}
    assert lookup.get_pod("blue", "nope") is None and lookup.get_namespace("purple") is None
    assert lookup.get_namespace("blue")["metadata"]["name"] == "blue"
    assert lookup.get_service("blue", "service-blue")["spec"]["clusterIP"] == "10.96.0.9"
    assert [n["metadata"]["name"] for n in lookup.list_nodes()] == ["lab-worker"]
    assert lookup.find_pod("blue", "app=blue")["metadata"]["name"] == "app-blue-0"
    assert sorted(p["metadata"]["name"] for p in lookup.list_pods("blue")) == ["app-blue-0", "app-blue-1"]
    reads = len([r for r in server.requests if r[1].startswith("/api/v1/namespaces/blue/pods/app-blue-0")])
    lookup.get_pod("blue", "app-blue-0")
    assert len([r for r in server.requests if r[1].startswith("/api/v1/namespaces/blue/pods/app-blue-0")]) == reads
    lookup.forget("pod", "blue", "app-blue-0")
    lookup.get_pod("blue", "app-blue-0")
    assert len([r for r in server.requests if r[1].startswith("/api/v1/namespaces/blue/pods/app-blue-0")]) == reads + 1


class _Response:
    def __init__(self, status, data):
        self.status, self.data = status, data


class _RequestClient:
    """A DynamicClient's request() and configuration: answers ``answers[path]`` (a response, or an error to raise)."""

    def __init__(self, answers, ca_file=None):
        self.answers = answers
        self.sent = []
        self.client = type("ApiClient", (), {"configuration": type("Configuration", (), {
            "host": "https://10.0.0.1:6443", "ssl_ca_cert": ca_file})()})()

    def request(self, method, path, body=None, query_params=None, serialize=True):
        self.sent.append((method, path, body, query_params, serialize))
        answer = self.answers[path]
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_a_request_by_path_returns_the_status_and_the_body_and_never_raises_an_answer():
    refused = ApiError(403, "Forbidden")
    refused.body = '{"kind": "Status", "code": 403}'
    client = _RequestClient({"/ok": _Response(201, b'{"status": {"token": "t"}}'), "/no": refused,
                             "/text": _Response(200, b"not json"), "/down": OSError("connection refused")})
    api = k8s.KubeApi(client)
    assert api.request("POST", "/ok", body={"a": 1}, query={"dryRun": "All"}) == (201, {"status": {"token": "t"}})
    assert client.sent[0] == ("POST", "/ok", {"a": 1}, [("dryRun", "All")], False)
    assert api.request("GET", "/no") == (403, {"kind": "Status", "code": 403})
    assert api.request("GET", "/text") == (200, None)
    with pytest.raises(OSError):
        api.request("GET", "/down")


def test_the_connection_is_the_clients_server_and_its_ca_as_kubeconfig_data(tmp_path):
    ca = tmp_path / "ca.crt"
    ca.write_bytes(b"CA")
    assert k8s.KubeApi(_RequestClient({}, str(ca))).connection() == {"server": "https://10.0.0.1:6443",
                                                                     "ca_data": "Q0E="}
    assert k8s.KubeApi(_RequestClient({})).connection() == {"server": "https://10.0.0.1:6443", "ca_data": None}
