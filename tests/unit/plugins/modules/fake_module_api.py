# -*- coding: utf-8 -*-
"""What the wait modules' unit tests share: a fake clock, an in-memory API with scripted watches (the part of
module_utils.k8s.KubeApi the flows use), and running a module's main() against them.

Imported as a sibling module by the module tests (``main_result`` runs any module's main()).
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


KUBEVIRT_FIXTURES = pathlib.Path(__file__).parent.parent / "module_utils" / "fixtures" / "kubevirt"


def load(name):
    """A KubeVirt object recorded from a cluster (tests/unit/plugins/module_utils/fixtures/kubevirt)."""
    return yaml.safe_load((KUBEVIRT_FIXTURES / name).read_text())


class Clock:
    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
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


class NotFound(Exception):
    """What the client raises for a missing object (HTTP 404)."""

    status = 404
    reason = "Not Found"


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
    """In-memory objects per kind; one watch script per kind: events, ``"expire"`` (the server ends the watch),
    ``"gone"`` (410) or exceptions (raised when reached). An exhausted script behaves like a watch the server
    ended at its timeout: the fake clock jumps by it. Events are selected by their ``involvedObject`` fields."""

    def __init__(self, clock, objects, scripts=None):
        self.clock = clock
        self.objects = objects
        self.scripts = scripts or {}
        self.calls = []
        self.created = []
        self.watch_args = []

    def _match(self, kind, namespace=None, label_selector=None, field_selector=None):
        out = []
        for obj in self.objects.get(kind, []):
            meta = obj.get("metadata") or {}
            if kind == "Event":
                want = _selector(field_selector)
                if any(obj["involvedObject"].get(k.split(".", 1)[1]) != v for k, v in want.items()):
                    continue
                if namespace and meta.get("namespace", namespace) != namespace:
                    continue
                out.append(copy.deepcopy(obj))
                continue
            if namespace and meta.get("namespace") != namespace:
                continue
            if field_selector and meta.get("name") != _selector(field_selector).get("metadata.name", meta.get("name")):
                continue
            if any((meta.get("labels") or {}).get(k) != v for k, v in _selector(label_selector).items()):
                continue
            out.append(copy.deepcopy(obj))
        return out

    def get(self, api_version, kind, name, namespace=None):
        found = [o for o in self._match(kind, namespace) if o["metadata"]["name"] == name]
        return found[0] if found else None

    def list(self, api_version, kind, namespace=None, label_selector=None, field_selector=None):
        self.calls.append(("list", api_version, kind, namespace, field_selector))
        return self._match(kind, namespace, label_selector, field_selector)

    def create(self, api_version, kind, body, namespace=None):
        obj = copy.deepcopy(body)
        if "generateName" in obj["metadata"]:
            obj["metadata"]["name"] = obj["metadata"].pop("generateName") + "abcde"
        obj["metadata"]["uid"] = "9e0a6b7c-1111-4222-8333-944455556666"
        obj["status"] = {}
        self.objects.setdefault(kind, []).append(obj)
        self.created.append(obj)
        return copy.deepcopy(obj)

    def _find(self, kind, name, namespace):
        for obj in self.objects.get(kind, []):
            meta = obj.get("metadata") or {}
            if meta.get("name") == name and (meta.get("namespace") or None) == (namespace or None):
                return obj
        return None

    def patch(self, api_version, kind, name, body, namespace=None, content_type="application/merge-patch+json"):
        """A JSON merge patch (RFC 7386) of the stored object; the call is kept in ``calls``."""
        self.calls.append(("patch", api_version, kind, name, namespace, content_type, copy.deepcopy(body)))
        obj = self._find(kind, name, namespace)
        if obj is None:
            raise NotFound("%s %s not found" % (kind, name))
        _merge_patch(obj, body)
        return copy.deepcopy(obj)

    def delete(self, api_version, kind, name, namespace=None):
        """Remove the stored object; True when it existed. The call is kept in ``calls``."""
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
            return self._match(kind, namespace, label_selector, field_selector), "1"

        def watch_fn(rv, timeout):
            script = self.scripts.get(kind) or []
            while script:
                event = script.pop(0)
                if event == "expire":
                    self.clock.now += timeout
                    return
                if event == "gone":
                    yield {"type": "ERROR", "object": {"kind": "Status", "code": 410, "message": "too old resource version"}}
                    continue
                if isinstance(event, Exception):
                    raise event
                self._apply(kind, event)
                yield event
            self.clock.now += timeout

        return list_fn, watch_fn

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
        meta = event["object"]["metadata"]
        items = self.objects.setdefault(kind, [])
        items[:] = [o for o in items if (o["metadata"].get("namespace"), o["metadata"]["name"])
                    != (meta.get("namespace"), meta["name"])]
        if event["type"] != "DELETED":
            items.append(copy.deepcopy(event["object"]))


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
