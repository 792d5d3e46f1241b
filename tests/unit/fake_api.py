# -*- coding: utf-8 -*-
"""The unit tests' one fake Kubernetes API and one fake clock, and running a module's main() against them.

- :class:`Clock`: time that only moves when the code under test sleeps or a fake watch waits (no real waiting).
- :class:`FakeApi`: the part of ``module_utils.k8s.KubeApi`` the collection's flows use (get, list, create, patch,
  delete, list_watch), in memory, with scripted watches, kinds the cluster does not serve, and every call recorded.

Imported by name (``tests/unit/conftest.py`` puts this folder on the path).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import functools
import json
import pathlib
import types

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args

from ansible_collections.ovnk.udn_lab.plugins.module_utils import k8s


KUBEVIRT_FIXTURES = pathlib.Path(__file__).parent / "plugins" / "module_utils" / "fixtures" / "kubevirt"


def load(name):
    """A KubeVirt object recorded from a cluster (tests/unit/plugins/module_utils/fixtures/kubevirt)."""
    return yaml.safe_load((KUBEVIRT_FIXTURES / name).read_text())


class Clock:
    """A monotonic clock: ``clock()`` or ``clock.monotonic()`` reads it, ``clock.sleep(s)`` moves it (and is kept
    in ``sleeps``)."""

    def __init__(self, now=1000.0):
        self.now = now
        self.sleeps = []

    def __call__(self):
        return self.now

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def patch_clock(monkeypatch, module):
    """A fake clock for ``module`` (its ``time.monotonic``) and for watch_until's reconnect back-off."""
    clock = Clock()
    monkeypatch.setattr(module, "time", types.SimpleNamespace(monotonic=clock.monotonic))
    # (watch_until's default ``sleep`` is bound at definition)
    monkeypatch.setattr(k8s, "watch_until", functools.partial(k8s.watch_until, sleep=clock.sleep))
    return clock


def _selector(text):
    return dict(part.split("=", 1) for part in text.split(",")) if text else {}


class ApiError(Exception):
    """An API error as the client raises it: ``status`` and ``reason``."""

    def __init__(self, status, reason=""):
        super(ApiError, self).__init__(reason)
        self.status = status
        self.reason = reason


class NotFound(Exception):
    """What the client raises for a missing object (HTTP 404)."""

    status = 404
    reason = "Not Found"


class Conflict(Exception):
    """What the client raises for a create of an existing name (HTTP 409)."""

    status = 409
    reason = "AlreadyExists"


def _merge_patch(target, patch):
    """Apply a JSON merge patch to the dict ``target`` in place: None removes a key, dicts merge recursively."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_patch(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class FakeApi:
    """In-memory objects per kind (a dict of lists, or one list of objects that carry their ``kind``).

    Every call is kept in ``calls``: ``("get", api_version, kind, name, namespace)``, ``("list", api_version, kind,
    namespace, field_selector, label_selector)``, ``("create", api_version, kind, namespace, body)``, ``("patch",
    api_version, kind, name, namespace, content_type, body)``, ``("delete", api_version, kind, name, namespace)``,
    ``("list_watch", api_version, kind)``, ``("request", method, path, query, body)``; :attr:`writes` holds the
    creates, patches and deletes.

    Requests by path (:meth:`request`) are answered by ``answer(method, path, body, query) -> (status, body)``
    (404 without one); :meth:`connection` answers ``connection``.

    Kinds in ``unserved`` raise ``unserved[kind]`` on every read (what a client raises for a kind the cluster does
    not serve, or an RBAC refusal).

    Watches: one script per kind, consumed across watch calls. Script items: an event (applied to the store, then
    yielded), ``"expire"`` (the server ends this watch at its timeout: the clock jumps by it), ``"gone"`` (an ERROR
    410 event), ``("silent", obj)`` (the store changes without an event, as in a compacted history), ``("wait",
    seconds)`` (the stream is quiet that long: the clock moves), or an exception
    (raised when reached: a dropped connection or an API error). An exhausted script behaves like ``"expire"``.
    With ``event_step`` each event also moves the clock. A list answers the highest ``resourceVersion`` held
    (``"1"`` when none). Events are selected by their ``involvedObject`` fields.
    """

    def __init__(self, clock=None, objects=None, scripts=None, unserved=None, event_step=0.0, answer=None,
                 connection=None):
        self.clock = clock if clock is not None else Clock()
        if isinstance(objects, dict):
            self.objects = dict((kind, list(items)) for kind, items in objects.items())
        else:
            self.objects = {}
            for item in objects or ():
                self.put(item)
        self.scripts = scripts or {}
        self.unserved = dict(unserved or {})
        self.event_step = event_step
        self.answer = answer
        self._connection = dict(connection or {"server": "https://127.0.0.1:6443", "ca_data": "Q0E="})
        self.calls = []
        self.created = []
        self.watch_args = []
        self.lists = []
        self.watches = []

    # ------------------------------------------------------------------ the store

    def put(self, obj, kind=None):
        """Store ``obj`` (replacing the object of the same kind, namespace and name)."""
        kind = kind or obj["kind"]
        meta = obj["metadata"]
        items = self.objects.setdefault(kind, [])
        items[:] = [o for o in items if (o["metadata"].get("namespace"), o["metadata"]["name"])
                    != (meta.get("namespace"), meta["name"])]
        items.append(copy.deepcopy(obj))

    def remove(self, kind, name, namespace=None):
        obj = self._find(kind, name, namespace)
        self.objects[kind].remove(obj)

    def find(self, kind, name, namespace=None):
        """The stored object itself (not a copy), or None."""
        return self._find(kind, name, namespace)

    @property
    def writes(self):
        return [c for c in self.calls if c[0] in ("create", "patch", "delete")]

    def _served(self, kind):
        if kind in self.unserved:
            raise self.unserved[kind]

    @staticmethod
    def _selected(kind, obj, namespace=None, label_selector=None, field_selector=None):
        """Whether a list or watch with these selectors holds ``obj`` (as the API server filters)."""
        meta = obj.get("metadata") or {}
        if kind == "Event":
            want = _selector(field_selector)
            if any(obj["involvedObject"].get(k.split(".", 1)[1]) != v for k, v in want.items()):
                return False
            return not namespace or meta.get("namespace", namespace) == namespace
        if namespace and meta.get("namespace") != namespace:
            return False
        if field_selector and meta.get("name") != _selector(field_selector).get("metadata.name", meta.get("name")):
            return False
        return all((meta.get("labels") or {}).get(k) == v for k, v in _selector(label_selector).items())

    def _match(self, kind, namespace=None, label_selector=None, field_selector=None):
        return [copy.deepcopy(obj) for obj in self.objects.get(kind, [])
                if self._selected(kind, obj, namespace, label_selector, field_selector)]

    def _find(self, kind, name, namespace):
        for obj in self.objects.get(kind, []):
            meta = obj.get("metadata") or {}
            if meta.get("name") == name and (meta.get("namespace") or None) == (namespace or None):
                return obj
        return None

    def _resource_version(self):
        versions = [int(o["metadata"]["resourceVersion"]) for items in self.objects.values() for o in items
                    if str((o.get("metadata") or {}).get("resourceVersion", "")).isdigit()]
        return str(max(versions)) if versions else "1"

    # ------------------------------------------------------------------ KubeApi

    def get(self, api_version, kind, name, namespace=None):
        self.calls.append(("get", api_version, kind, name, namespace))
        self._served(kind)
        obj = self._find(kind, name, namespace)
        if obj is None and namespace is None:
            found = [o for o in self._match(kind) if o["metadata"]["name"] == name]
            return found[0] if found else None
        return copy.deepcopy(obj)

    def list(self, api_version, kind, namespace=None, label_selector=None, field_selector=None):
        self.calls.append(("list", api_version, kind, namespace, field_selector, label_selector))
        self._served(kind)
        return self._match(kind, namespace, label_selector, field_selector)

    def create(self, api_version, kind, body, namespace=None):
        """Stores ``body`` as the API server would: a name from ``generateName``, a uid, an empty status; an
        existing name is refused (409)."""
        self.calls.append(("create", api_version, kind, namespace, copy.deepcopy(body)))
        obj = copy.deepcopy(body)
        if "generateName" in obj["metadata"]:
            obj["metadata"]["name"] = obj["metadata"].pop("generateName") + "abcde"
        if self._find(kind, obj["metadata"]["name"], namespace or obj["metadata"].get("namespace")) is not None:
            raise Conflict("%s %s already exists" % (kind, obj["metadata"]["name"]))
        obj["metadata"].setdefault("uid", "9e0a6b7c-1111-4222-8333-944455556666")
        if kind not in ("ConfigMap", "Secret"):
            obj["status"] = {}
        self.objects.setdefault(kind, []).append(obj)
        self.created.append(obj)
        return copy.deepcopy(obj)

    def patch(self, api_version, kind, name, body, namespace=None, content_type="application/merge-patch+json"):
        """A JSON merge patch (RFC 7386) of the stored object."""
        self.calls.append(("patch", api_version, kind, name, namespace, content_type, copy.deepcopy(body)))
        obj = self._find(kind, name, namespace)
        if obj is None:
            raise NotFound("%s %s not found" % (kind, name))
        _merge_patch(obj, body)
        return copy.deepcopy(obj)

    def delete(self, api_version, kind, name, namespace=None):
        """Remove the stored object; True when it existed."""
        self.calls.append(("delete", api_version, kind, name, namespace))
        obj = self._find(kind, name, namespace)
        if obj is None:
            return False
        self.objects[kind].remove(obj)
        return True

    def list_watch(self, api_version, kind, namespace=None, label_selector=None, field_selector=None):
        self.calls.append(("list_watch", api_version, kind))
        self.watch_args.append((kind, namespace, label_selector, field_selector))

        def list_fn():
            self.lists.append(kind)
            self._served(kind)
            return self._match(kind, namespace, label_selector, field_selector), self._resource_version()

        def watch_fn(rv, timeout):
            self.watches.append((kind, rv, timeout))
            script = self.scripts.get(kind) or []
            while script:
                event = script.pop(0)
                if event == "expire":
                    self.clock.now += timeout
                    return
                if event == "gone":
                    yield {"type": "ERROR", "object": {"kind": "Status", "code": 410, "message": "too old resource version"}}
                    continue
                if isinstance(event, tuple) and event[0] == "silent":
                    self.put(event[1], kind)
                    continue
                if isinstance(event, tuple) and event[0] == "wait":
                    self.clock.now += event[1]
                    continue
                if isinstance(event, Exception):
                    raise event
                self.clock.now += self.event_step
                self._apply(kind, event)
                if event.get("type") in ("BOOKMARK", "ERROR") or self._selected(
                        kind, event["object"], namespace, label_selector, field_selector):
                    yield copy.deepcopy(event)
            self.clock.now += timeout

        return list_fn, watch_fn

    def request(self, method, path, body=None, query=None):
        self.calls.append(("request", method, path, dict(query or {}), copy.deepcopy(body)))
        if self.answer is None:
            return 404, {"kind": "Status", "code": 404}
        return self.answer(method, path, copy.deepcopy(body), dict(query or {}))

    def connection(self):
        return dict(self._connection)

    def refuse_lists(self, status=403, reason="Forbidden"):
        """Every list answers an API error (what an RBAC refusal looks like to the client)."""
        error = type(reason, (Exception,), {"status": status, "reason": reason})

        def list_watch(*args, **kwargs):
            def list_fn():
                raise error()
            return list_fn, None
        self.list_watch = list_watch
        return self

    def _apply(self, kind, event):
        if event["type"] in ("BOOKMARK", "ERROR"):
            return
        if event["type"] == "DELETED":
            meta = event["object"]["metadata"]
            found = self._find(kind, meta["name"], meta.get("namespace"))
            if found is not None:
                self.objects[kind].remove(found)
        else:
            self.put(event["object"], kind)


def main_result(module, args, capsys, check_mode=False):
    """``module.main()`` with ``args`` (any module of the collection); returns the module's JSON result."""
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def run_main(monkeypatch, module, api, args, capsys, check_mode=False):
    """``module.main()`` with ``args`` against ``api`` (a Kubernetes module); returns the module's JSON result."""
    monkeypatch.setattr(k8s, "client_from_module", lambda _module: api.calls.append(("client",)))
    monkeypatch.setattr(k8s, "KubeApi", lambda client: api)
    return main_result(module, args, capsys, check_mode)
