"""Unit tests for plugins/module_utils/k8s.py: watch_until against a fake list/watch API."""

from __future__ import annotations

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s


def obj(name, rv, ready=False, ns="ns"):
    return {"metadata": {"name": name, "namespace": ns, "resourceVersion": str(rv)}, "ready": ready}


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class ApiError(Exception):
    def __init__(self, status, reason=""):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class FakeApi:
    """Scripted API: `lists` are returned by successive list calls; `watches` is a list of scripts,
    each a list of events or exceptions (raised when reached); an exhausted script = watch expired."""

    def __init__(self, lists, watches, clock=None, step=0.0):
        self.lists = list(lists)
        self.watches = list(watches)
        self.list_calls = 0
        self.watch_calls = []
        self.clock = clock
        self.step = step

    def list_fn(self):
        self.list_calls += 1
        return self.lists.pop(0)

    def watch_fn(self, rv, timeout):
        self.watch_calls.append((rv, timeout))
        script = self.watches.pop(0) if self.watches else []
        for item in script:
            if self.clock is not None:
                self.clock.now += self.step
            if isinstance(item, Exception):
                raise item
            yield item


def all_ready(names):
    return lambda objects: set(names) <= set(objects) and all(objects[n]["ready"] for n in names)


def test_returns_immediately_when_list_already_satisfies():
    api = FakeApi([([obj("a", 1, True)], "10")], [])
    res = k8s.watch_until(api.list_fn, api.watch_fn, all_ready(["ns/a"]), deadline=5, clock=lambda: 0)
    assert res["done"] and api.watch_calls == []


def test_returns_on_the_completing_event_and_tracks_resource_version():
    events = [
        {"type": "MODIFIED", "object": obj("a", 11, True)},
        {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "12"}}},
        {"type": "ADDED", "object": obj("b", 13, True)},
        {"type": "MODIFIED", "object": obj("b", 14, False)},  # must not be consumed
    ]
    api = FakeApi([([obj("a", 1)], "10")], [events])
    res = k8s.watch_until(api.list_fn, api.watch_fn, all_ready(["ns/a", "ns/b"]), deadline=100, clock=lambda: 0)
    assert res["done"]
    assert res["objects"]["ns/b"]["ready"] is True
    assert api.watch_calls == [("10", 55)]
    assert res["stats"]["events"] == 3


def test_reconnects_from_last_resource_version_after_expiry():
    scripts = [[{"type": "MODIFIED", "object": obj("a", 11)}], [], [{"type": "MODIFIED", "object": obj("a", 12, True)}]]
    api = FakeApi([([obj("a", 1)], "10")], scripts)
    res = k8s.watch_until(api.list_fn, api.watch_fn, all_ready(["ns/a"]), deadline=100, clock=lambda: 0)
    assert res["done"]
    assert [c[0] for c in api.watch_calls] == ["10", "11", "11"]
    assert res["stats"]["reconnects"] == 2 and api.list_calls == 1


@pytest.mark.parametrize("gone", [
    {"type": "ERROR", "object": {"kind": "Status", "code": 410, "message": "too old resource version: 10 (20)"}},
    ApiError(410, "Gone"),
])
def test_relists_on_410_gone(gone):
    api = FakeApi([([obj("a", 1)], "10"), ([obj("a", 20)], "20")],
                  [[gone], [{"type": "MODIFIED", "object": obj("a", 21, True)}]])
    res = k8s.watch_until(api.list_fn, api.watch_fn, all_ready(["ns/a"]), deadline=100, clock=lambda: 0)
    assert res["done"]
    assert api.list_calls == 2
    assert [c[0] for c in api.watch_calls] == ["10", "20"]
    assert res["stats"]["relists"] == 1
    assert "410" in res["last_error"]


def test_dropped_connection_backs_off_and_reconnects():
    clock = FakeClock()
    api = FakeApi([([obj("a", 1)], "10")],
                  [[{"type": "MODIFIED", "object": obj("a", 11)}, ConnectionResetError("peer reset")],
                   [OSError("read timed out")],
                   [{"type": "MODIFIED", "object": obj("a", 12, True)}]])
    res = k8s.watch_until(api.list_fn, api.watch_fn, all_ready(["ns/a"]), deadline=100, clock=clock, sleep=clock.sleep)
    assert res["done"]
    assert clock.sleeps == [0.1, 0.2]
    assert [c[0] for c in api.watch_calls] == ["10", "11", "11"]
    assert res["stats"]["errors"] == 2


def test_success_resets_backoff():
    clock = FakeClock()
    api = FakeApi([([obj("a", 1)], "10")],
                  [[OSError("x")], [{"type": "MODIFIED", "object": obj("a", 2)}, OSError("y")],
                   [{"type": "MODIFIED", "object": obj("a", 3, True)}]])
    k8s.watch_until(api.list_fn, api.watch_fn, all_ready(["ns/a"]), deadline=100, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == [0.1, 0.1]


def test_deadline_returns_not_done_with_last_state():
    clock = FakeClock()
    events = [{"type": "MODIFIED", "object": obj("a", 10 + i)} for i in range(100)]
    api = FakeApi([([obj("a", 1)], "10")], [events], clock=clock, step=1.0)
    res = k8s.watch_until(api.list_fn, api.watch_fn, all_ready(["ns/a"]), deadline=30, clock=clock)
    assert res["done"] is False
    assert clock.now == 30
    assert res["objects"]["ns/a"]["metadata"]["resourceVersion"] == "39"
    assert api.watch_calls[0][1] == 30  # server-side timeout never beyond the deadline


def test_fatal_status_raises_at_once():
    api = FakeApi([([], "1")], [[ApiError(403, "Forbidden")]])
    with pytest.raises(k8s.WatchFatalError, match="403 Forbidden"):
        k8s.watch_until(api.list_fn, api.watch_fn, lambda o: False, deadline=100, clock=lambda: 0)


def test_deleted_objects_and_keep_filter():
    api = FakeApi([([obj("a", 1), obj("x", 1, ns="other")], "10")],
                  [[{"type": "DELETED", "object": obj("a", 11)}, {"type": "ADDED", "object": obj("y", 12, True, ns="other")},
                    {"type": "ADDED", "object": obj("a", 13, True)}]])
    seen = []

    def done(objects):
        seen.append(sorted(objects))
        return "ns/a" in objects and objects["ns/a"]["ready"]

    res = k8s.watch_until(api.list_fn, api.watch_fn, done, deadline=100, clock=lambda: 0,
                          keep=lambda o: o["metadata"]["namespace"] == "ns")
    assert res["done"]
    assert seen == [["ns/a"], [], [], ["ns/a"]]


def test_describe_error():
    assert k8s.describe_error(ApiError(403, "Forbidden")) == "HTTP 403 Forbidden"
    assert k8s.describe_error(OSError("boom")) == "OSError: boom"
