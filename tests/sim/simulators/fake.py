"""An in-memory stand-in for :class:`common.Kube` (unit tests): applies actions with API-server semantics.

Creates assign uid/creationTimestamp/resourceVersion (and names for generateName), merge patches merge
(RFC 7386: null deletes), status patches touch only ``status``. Objects live in the given Cache, so a test
can chain reconciles exactly like the controller does.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any, Dict

from .common import Action, ApiError, Cache, meta, rfc3339

_counter = itertools.count(1)


def merge_patch(target: Any, patch_body: Any) -> Any:
    if not isinstance(patch_body, dict):
        return copy.deepcopy(patch_body)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch_body.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


class FakeKube:
    def __init__(self, cache: Cache, now: float = 1_800_000_000.0):
        self.cache = cache
        self.now = now
        self.log = []

    def apply_action(self, action: Action) -> Dict[str, Any]:
        self.log.append(action)
        res = action.res
        if action.verb == "create":
            body = copy.deepcopy(action.body)
            body.setdefault("apiVersion", res.api_version)
            body.setdefault("kind", res.kind)
            m = body.setdefault("metadata", {})
            n = next(_counter)
            if not m.get("name"):
                m["name"] = "%s%05d" % (m.get("generateName", "obj-"), n)
            if self.cache.get(res, m.get("namespace"), m["name"]) is not None:
                raise ApiError(409, "AlreadyExists")
            m.setdefault("uid", "uid-%d" % n)
            m.setdefault("creationTimestamp", rfc3339(self.now))
            m["resourceVersion"] = str(n)
            self.cache.put(res, body)
            return body
        obj = self.cache.get(res, action.namespace, action.name)
        if obj is None:
            raise ApiError(404, "NotFound")
        if action.verb == "delete":
            self.cache.remove(res, obj)
            return {"kind": "Status", "status": "Success"}
        if action.verb == "patch":
            body = {k: v for k, v in action.body.items() if k != "status"}
        else:
            body = {"status": action.body.get("status")}
        new = merge_patch(obj, body)
        new["metadata"]["resourceVersion"] = str(next(_counter))
        self.cache.put(res, new)
        return new


def drive(controller, rounds: int = 20) -> None:
    """Reconcile every handled object until no action is produced (or ``rounds`` passes). Ignores requeues."""
    for _ in range(rounds):
        before = len(controller.kube.log)
        for plural in controller.handlers():
            res = controller.by_plural[plural]
            for obj in controller.cache.list(res):
                ns, name = meta(obj).get("namespace") or "", meta(obj)["name"]
                controller.reconcile_key((plural, ns, name))
        if len(controller.kube.log) == before:
            return
