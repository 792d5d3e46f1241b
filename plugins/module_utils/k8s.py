# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Kubernetes client creation and a list-then-watch helper shared by the collection's modules.

Public API (other modules import these):

* :data:`AUTH_ARG_SPEC` – kubernetes.core's connection options, to merge into an argument spec
  (document them with the doc fragment ``kubernetes.core.k8s_auth_options``).
* :func:`client_from_module` – a DynamicClient built from those options through kubernetes.core.
* :func:`resource_list_watch` – ``(list_fn, watch_fn)`` for one resource type and scope.
* :func:`exit_flow` – end a module with a flow's result, or fail it with the flow's diagnostics.
* :func:`watch_until` – list, then watch until a predicate holds or a deadline passes; reconnects when a
  watch expires or the connection drops, relists on ``410 Gone``. Pure: the list/watch functions and the
  clock are injected, so it runs against a fake event stream in tests.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import math
import time

try:
    from kubernetes import watch as k8s_watch
except ImportError:  # AnsibleK8SModule fails the module first, naming the missing library
    k8s_watch = None

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC as _K8S_AUTH_ARG_SPEC
    HAS_K8S_CORE = True
except ImportError:  # pragma: no cover - kubernetes.core is a declared dependency
    _K8S_AUTH_ARG_SPEC = {}
    HAS_K8S_CORE = False

from ansible_collections.ovnk.udn_lab.plugins.module_utils.waits import FlowError

AUTH_ARG_SPEC = dict(_K8S_AUTH_ARG_SPEC)

HTTP_GONE = 410
FATAL_HTTP_STATUSES = (400, 401, 403, 404, 422)
EVENT_ADDED = "ADDED"
EVENT_MODIFIED = "MODIFIED"
EVENT_DELETED = "DELETED"
EVENT_BOOKMARK = "BOOKMARK"
EVENT_ERROR = "ERROR"

DEFAULT_WATCH_SECONDS = 55
"""Server-side lifetime asked for each watch request; the helper reconnects after it."""
RECONNECT_BACKOFF_SECONDS = (0.1, 0.2, 0.5, 1.0, 2.0)
"""Sleep before the n-th consecutive reconnect after an error (last value repeats)."""
REQUEST_TIMEOUT_SLACK_SECONDS = 10
"""Client-side read timeout = watch lifetime + this, so a silently dead connection is noticed."""


class WatchFatalError(Exception):
    """Raised by :func:`watch_until` for errors that retrying cannot fix (401/403/404/…)."""


def object_key(obj):
    """``namespace/name`` of an object dict (cluster-scoped objects give ``/name``)."""
    meta = (obj or {}).get("metadata") or {}
    return "{0}/{1}".format(meta.get("namespace") or "", meta.get("name") or "")


def _status_of(exc):
    status = getattr(exc, "status", None)
    try:
        return int(status)
    except (TypeError, ValueError):
        return None


def describe_error(exc):
    """One line for an exception from the client: ``HTTP 403 Forbidden: …`` or the exception text."""
    if isinstance(exc, WatchFatalError):
        return str(exc)
    status = _status_of(exc)
    if status is not None:
        reason = getattr(exc, "reason", "") or ""
        body = getattr(exc, "body", "") or ""
        return "HTTP {0} {1}{2}".format(status, reason, (": " + str(body)[:300]) if body else "")
    return "{0}: {1}".format(type(exc).__name__, exc)


def watch_until(list_fn, watch_fn, done, deadline, clock=time.monotonic, sleep=time.sleep,
                watch_seconds=DEFAULT_WATCH_SECONDS, keep=None):
    """List objects, then watch them until ``done(objects)`` is true or ``clock()`` reaches ``deadline``.

    :param list_fn: ``list_fn() -> (items, resource_version)`` – items are object dicts.
    :param watch_fn: ``watch_fn(resource_version, timeout_seconds) -> iterable of {"type", "object"}``.
        The iterable may end (watch expired: reconnect from the last resourceVersion), raise an exception
        with ``status == 410`` or yield an ``ERROR`` event with code 410 (history gone: relist), or raise
        anything else (dropped connection: reconnect with backoff). Errors with a status in
        :data:`FATAL_HTTP_STATUSES` raise :class:`WatchFatalError` at once.
    :param done: ``done(objects) -> bool`` with ``objects`` = ``{namespace/name: object dict}``; called after
        the list and after every event, so the helper returns on the event that completes the wait.
    :param deadline: absolute time on ``clock`` after which the helper gives up (one deadline for all).
    :param keep: optional ``keep(obj) -> bool`` filter applied to listed and watched objects.
    :returns: dict ``done`` (bool), ``objects``, ``stats`` (lists, watches, events, reconnects, relists,
        errors) and ``last_error`` (text of the last transient error or None). Never raises on timeout.
    """
    keep = keep or (lambda obj: True)
    stats = {"lists": 0, "watches": 0, "events": 0, "reconnects": 0, "relists": 0, "errors": 0}
    state = {"objects": {}, "rv": None, "last_error": None}

    def result(is_done):
        return {"done": is_done, "objects": state["objects"], "stats": stats, "last_error": state["last_error"]}

    def do_list():
        items, rv = list_fn()
        stats["lists"] += 1
        state["objects"] = dict((object_key(o), o) for o in items if keep(o))
        state["rv"] = rv

    failures = 0
    need_list = True
    while True:
        try:
            if need_list:
                do_list()
                need_list = False
                if done(state["objects"]):
                    return result(True)
            remaining = deadline - clock()
            if remaining <= 0:
                return result(False)
            stats["watches"] += 1
            timeout = max(1, int(math.ceil(min(watch_seconds, remaining))))
            for event in watch_fn(state["rv"], timeout):
                etype = event.get("type")
                obj = event.get("object") or {}
                if etype == EVENT_ERROR:
                    code = obj.get("code")
                    if code == HTTP_GONE:
                        raise _Gone(obj.get("message") or "resourceVersion too old")
                    if code in FATAL_HTTP_STATUSES:
                        raise WatchFatalError("watch error {0}: {1}".format(code, obj.get("message")))
                    raise _Transient("watch error {0}: {1}".format(code, obj.get("message")))
                stats["events"] += 1
                rv = (obj.get("metadata") or {}).get("resourceVersion")
                if rv:
                    state["rv"] = rv
                if etype == EVENT_BOOKMARK:
                    continue
                key = object_key(obj)
                if etype == EVENT_DELETED or not keep(obj):
                    state["objects"].pop(key, None)
                else:
                    state["objects"][key] = obj
                failures = 0
                if done(state["objects"]):
                    return result(True)
                if clock() >= deadline:
                    return result(False)
            stats["reconnects"] += 1
        except WatchFatalError:
            raise
        except _Gone as exc:
            stats["relists"] += 1
            state["last_error"] = "410 Gone: {0}".format(exc)
            need_list = True
        except Exception as exc:  # dropped connections come as many types (urllib3, socket, ssl, ApiException)
            status = _status_of(exc)
            if status == HTTP_GONE:
                stats["relists"] += 1
                state["last_error"] = describe_error(exc)
                need_list = True
                continue
            if status in FATAL_HTTP_STATUSES:
                raise WatchFatalError(describe_error(exc))
            stats["errors"] += 1
            stats["reconnects"] += 1
            state["last_error"] = describe_error(exc) if not isinstance(exc, _Transient) else str(exc)
            pause = RECONNECT_BACKOFF_SECONDS[min(failures, len(RECONNECT_BACKOFF_SECONDS) - 1)]
            failures += 1
            if clock() + pause >= deadline:
                return result(False)
            sleep(pause)


class _Gone(Exception):
    pass


class _Transient(Exception):
    pass


# --------------------------------------------------------------------------- real client glue


def client_from_module(module):
    """Build a kubernetes DynamicClient from the module's kubernetes.core connection options.

    ``module`` is kubernetes.core's ``AnsibleK8SModule`` whose argument spec includes :data:`AUTH_ARG_SPEC` (the
    one client path of the collection, as in kubevirt.core). Uses kubernetes.core's ``get_api_client``
    (kubeconfig, context, host, token, proxy, impersonation, environment variables K8S_AUTH_*), so behaviour
    matches kubernetes.core modules. Raises whatever kubernetes.core raises (``CoreException``) when the
    configuration is unusable.
    """
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client

    return get_api_client(module=module).client


def exit_flow(module, flow, what):
    """End a module with the result of ``flow(api)`` (``api`` a :class:`KubeApi` on the module's connection).

    The result dict is returned as is (``changed`` false unless it says otherwise). A :class:`waits.FlowError`
    fails the module with its message and structured details; any other error (client, configuration, API)
    fails it in one line: ``cannot <what>: <error>``.
    """
    try:
        result = dict(flow(KubeApi(client_from_module(module))))
    except FlowError as exc:
        details = dict(exc.details)
        details.setdefault("changed", False)
        module.fail_json(msg=str(exc), **details)
    except Exception as exc:  # client/configuration errors: report them in one line
        module.fail_json(msg="cannot {0}: {1}".format(what, describe_error(exc)), changed=False)
    result.setdefault("changed", False)
    module.exit_json(**result)


def get_resource(client, api_version, kind):
    """The DynamicClient resource for ``api_version``/``kind`` (e.g. ``kubevirt.io/v1``, ``VirtualMachineInstance``)."""
    return client.resources.get(api_version=api_version, kind=kind)


def to_plain(obj):
    """ResourceInstance / dict → plain dict."""
    if obj is None:
        return None
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return obj


def resource_list_watch(resource, namespace=None, label_selector=None, field_selector=None):
    """``(list_fn, watch_fn)`` for :func:`watch_until` over one DynamicClient ``resource`` and scope.

    The watch asks for bookmarks and sets a client read timeout slightly above the server-side watch
    lifetime, so a silently dropped connection ends in an exception (and a reconnect) instead of a hang.
    """
    def list_fn():
        res = to_plain(resource.get(namespace=namespace, label_selector=label_selector, field_selector=field_selector))
        return res.get("items") or [], (res.get("metadata") or {}).get("resourceVersion")

    def watch_fn(resource_version, timeout_seconds):
        watcher = k8s_watch.Watch()
        stream = watcher.stream(
            resource.get,
            namespace=namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            resource_version=resource_version,
            timeout_seconds=timeout_seconds,
            allow_watch_bookmarks=True,
            serialize=False,
            _request_timeout=timeout_seconds + REQUEST_TIMEOUT_SLACK_SECONDS,
        )
        try:
            for event in stream:
                raw = event.get("raw_object")
                yield {"type": event.get("type"), "object": raw if isinstance(raw, dict) else to_plain(event.get("object"))}
        finally:
            watcher.stop()

    return list_fn, watch_fn


class KubeApi(object):
    """Small facade over a DynamicClient returning plain dicts; the seam the collection's flows are tested at.

    Methods: :meth:`get` (None when absent), :meth:`list`, :meth:`create`, :meth:`patch`, :meth:`delete`,
    :meth:`list_watch`
    (``(list_fn, watch_fn)`` for :func:`watch_until`), :meth:`request` (one HTTP request by path: subresources
    such as a ServiceAccount's token, reviews, a request whose answer is its status) and :meth:`connection` (the
    API server and its CA as the client holds them). Tests pass a fake object with the same methods.
    """

    def __init__(self, client):
        self.client = client
        self._resources = {}

    def resource(self, api_version, kind):
        """Cached DynamicClient resource for ``api_version``/``kind``."""
        key = (api_version, kind)
        if key not in self._resources:
            self._resources[key] = get_resource(self.client, api_version, kind)
        return self._resources[key]

    def get(self, api_version, kind, name, namespace=None):
        """The object as a dict, or None when it does not exist (HTTP 404)."""
        try:
            return to_plain(self.resource(api_version, kind).get(name=name, namespace=namespace))
        except Exception as exc:  # the client raises NotFoundError (an ApiException subclass) for 404
            if _status_of(exc) == 404:
                return None
            raise

    def list(self, api_version, kind, namespace=None, label_selector=None, field_selector=None):
        """List objects as dicts."""
        res = to_plain(self.resource(api_version, kind).get(
            namespace=namespace, label_selector=label_selector, field_selector=field_selector))
        return res.get("items") or []

    def create(self, api_version, kind, body, namespace=None):
        """Create ``body`` and return the stored object."""
        return to_plain(self.resource(api_version, kind).create(body=body, namespace=namespace))

    def patch(self, api_version, kind, name, body, namespace=None, content_type="application/merge-patch+json"):
        """Patch ``name`` with ``body`` (a JSON merge patch by default) and return the stored object."""
        return to_plain(self.resource(api_version, kind).patch(
            body=body, name=name, namespace=namespace, content_type=content_type))

    def delete(self, api_version, kind, name, namespace=None):
        """Delete ``name``; True when it existed."""
        try:
            self.resource(api_version, kind).delete(name=name, namespace=namespace)
        except Exception as exc:  # NotFoundError: already gone
            if _status_of(exc) == 404:
                return False
            raise
        return True

    def list_watch(self, api_version, kind, namespace=None, label_selector=None, field_selector=None):
        """``(list_fn, watch_fn)`` for :func:`watch_until`."""
        return resource_list_watch(self.resource(api_version, kind), namespace, label_selector, field_selector)

    def request(self, method, path, body=None, query=None):
        """One request to ``path`` (``/api/v1/...``); ``(HTTP status, decoded JSON body or None)``. An answer the
        API server refused (4xx, 5xx) is returned, not raised; only a request that got no answer raises."""
        try:
            response = self.client.request(method, path, body=body, query_params=sorted((query or {}).items()),
                                           serialize=False)
            status, data = response.status, response.data
        except Exception as exc:  # DynamicApiError (an ApiException) for an answer outside 2xx
            status = _status_of(exc)
            if status is None:
                raise
            data = getattr(exc, "body", None)
        if isinstance(data, bytes):
            data = data.decode("utf-8", "replace")
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, None

    def connection(self):
        """``{"server", "ca_data"}``: the API server URL and its CA certificate (base64, as a kubeconfig's
        ``certificate-authority-data``; None when the client trusts the system CAs)."""
        configuration = self.client.client.configuration
        ca_data = None
        if getattr(configuration, "ssl_ca_cert", None):
            with open(configuration.ssl_ca_cert, "rb") as handle:
                ca_data = base64.b64encode(handle.read()).decode("ascii")
        return {"server": configuration.host, "ca_data": ca_data}
