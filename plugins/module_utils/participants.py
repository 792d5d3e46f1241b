# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""A classroom participant's credentials, and the proof of their fences, as flows against an injected API.

The objects come from :mod:`classroom` (:func:`classroom.participant_rbac`, :func:`classroom.participant_cluster_role`,
:func:`classroom.fence_checks`); this module puts them on a cluster and reads them back:

* :func:`give_access` – the shared ClusterRole and the participant's ServiceAccount and bindings (created when
  missing, updated only where what matters differs, never taken over from someone else), then a kubeconfig with a
  token the API server issues (TokenRequest), kept while it lasts;
* :func:`take_access` – deletes what carries the lab's ownership labels and this participant's label, and the
  kubeconfig;
* :func:`prove_fences` – as the participant: a SelfSubjectAccessReview per fence check, and the real request for
  each plain get/list/delete, whose HTTP status must say the same.

``api`` is :class:`k8s.KubeApi` (or the unit tests' fake): get, list, create, patch, delete, request, connection.
The token never leaves :func:`give_access` except into the kubeconfig file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import json
import os
import tempfile

from ansible_collections.ovnk.udn_lab.plugins.module_utils import classroom
from ansible_collections.ovnk.udn_lab.plugins.module_utils import ownership
from ansible_collections.ovnk.udn_lab.plugins.module_utils.ownership import LAB, REQUIRED
from ansible_collections.ovnk.udn_lab.plugins.module_utils.waits import FlowError

RBAC = "rbac.authorization.k8s.io/v1"
# the participant's kinds, in the order they are made (absent deletes them in reverse)
KINDS = (("v1", "ServiceAccount"), (RBAC, "ClusterRole"), (RBAC, "ClusterRoleBinding"), (RBAC, "RoleBinding"))
# what matters in an object besides its labels (the rest is the API server's)
COMPARED = ("rules", "subjects", "roleRef")
DEFAULT_CLUSTER_NAME = "udn-lab"
FORBIDDEN = 403
PROBE_NAME = "udn-lab-fence-probe"
"""The name a real delete (dry run) asks for when its check names none: refused (403), or allowed and absent (404)."""


# --------------------------------------------------------------------------- labels and objects


def label_problems(labels):
    """Why ``labels`` cannot tell the lab's objects apart (list of strings; empty = fine): each ownership label
    missing, else what :func:`ownership.ownership` refuses (another owner than the collection, keys or values
    Kubernetes would refuse)."""
    missing = ["labels lacks {0}".format(key) for key in REQUIRED if not str((labels or {}).get(key) or "").strip()]
    if missing:
        return missing
    try:
        ownership.ownership(labels, labels.get(LAB), "labels")
    except ownership.OwnershipError as exc:
        return [str(exc)]
    return []


def selector(labels, participant):
    """The label selector of ``participant``'s objects: every ownership label and the participant label."""
    wanted = dict(labels or {}, **{classroom.PARTICIPANT_LABEL: participant})
    return ",".join("{0}={1}".format(k, wanted[k]) for k in sorted(wanted))


def carries(obj, labels):
    """Whether ``obj`` carries every label of ``labels`` with the same value."""
    have = (obj.get("metadata") or {}).get("labels") or {}
    return all(have.get(k) == v for k, v in (labels or {}).items())


def refusal(want, have, labels):
    """Why ``have`` (the object on the cluster under ``want``'s name) is not the lab's to change, or None: it
    lacks the lab's ownership labels, or it is another participant's."""
    if not carries(have, labels):
        return ("{0} exists without the lab's ownership labels ({1}): it is not the lab's, and the lab does not take "
                "it over. Remove it, or label it if it is the lab's".format(
                    ownership.object_ref(want), ", ".join("{0}={1}".format(k, labels[k]) for k in sorted(labels))))
    mine = ((want.get("metadata") or {}).get("labels") or {}).get(classroom.PARTICIPANT_LABEL)
    theirs = ((have.get("metadata") or {}).get("labels") or {}).get(classroom.PARTICIPANT_LABEL)
    if theirs is not None and theirs != mine:
        return "{0} belongs to participant {1!r}, not {2!r}".format(ownership.object_ref(want), theirs, mine)
    return None


def difference(want, have):
    """What ``have`` needs to become ``want``: ``None`` (nothing), ``"replace"`` (its roleRef, which the API server
    never changes in place), or a JSON merge patch of the labels and fields that differ."""
    if have.get("roleRef") is not None and want.get("roleRef") is not None and have["roleRef"] != want["roleRef"]:
        return "replace"
    patch = {}
    labels = (want.get("metadata") or {}).get("labels") or {}
    if not carries(have, labels):
        patch["metadata"] = {"labels": dict(labels)}
    for key in COMPARED:
        if key in want and (have.get(key) or []) != want[key]:
            patch[key] = want[key]
    return patch or None


def _namespace(obj):
    return (obj.get("metadata") or {}).get("namespace")


def plan(api, wanted, labels):
    """``[(want, have, action)]`` for ``wanted`` (action ``create``, ``replace``, a merge patch, or None), or a
    :class:`FlowError` naming every object the lab may not change (nothing is written then)."""
    steps, refused = [], []
    for want in wanted:
        have = api.get(want["apiVersion"], want["kind"], want["metadata"]["name"], namespace=_namespace(want))
        if have is None:
            steps.append((want, None, "create"))
            continue
        problem = refusal(want, have, labels)
        if problem:
            refused.append(problem)
            continue
        steps.append((want, have, difference(want, have)))
    if refused:
        raise FlowError("; ".join(refused), refused=refused)
    return steps


def apply_plan(api, steps, check_mode):
    """Carry out :func:`plan`'s steps (none in check mode); ``[{"object", "action"}]`` of the changes, and the
    ServiceAccounts made anew (their old tokens no longer work)."""
    changes = []
    for want, have, action in steps:
        if action is None:
            continue
        api_version, kind, namespace = want["apiVersion"], want["kind"], _namespace(want)
        if not check_mode:
            if action == "create":
                api.create(api_version, kind, want, namespace=namespace)
            elif action == "replace":
                api.delete(api_version, kind, want["metadata"]["name"], namespace=namespace)
                api.create(api_version, kind, want, namespace=namespace)
            else:
                api.patch(api_version, kind, want["metadata"]["name"], action, namespace=namespace)
        changes.append({"object": ownership.object_ref(want),
                        "action": action if action in ("create", "replace") else "update"})
    return changes


# --------------------------------------------------------------------------- the kubeconfig


def token_request(seconds):
    """The TokenRequest a ServiceAccount's ``token`` subresource takes."""
    return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": {"expirationSeconds": int(seconds)}}


def token_path(namespace, name):
    """The ``token`` subresource of ServiceAccount ``namespace/name``."""
    return "/api/v1/namespaces/{0}/serviceaccounts/{1}/token".format(namespace, name)


def token_service_account(token):
    """The ServiceAccount uid a bound token was issued for (unverified), or None."""
    try:
        part = str(token).split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode((part + "=" * (-len(part) % 4)).encode("ascii")).decode("utf-8"))
        return claims["kubernetes.io"]["serviceaccount"]["uid"]
    except Exception:
        return None


def iso_time(seconds):
    """Seconds since the epoch as UTC ISO 8601 (``2026-11-27T10:00:00Z``), None for None."""
    if seconds is None:
        return None
    return datetime.datetime.fromtimestamp(int(seconds), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def kept_config(config, server, participant, now, renew_before, account_uid):
    """Whether the existing kubeconfig ``config`` (a dict, or None) stays: :func:`classroom.kubeconfig_still_good`
    and, when both the ServiceAccount's uid and the token's are known, a token of that very account (a
    ServiceAccount made anew invalidates the tokens of the old one)."""
    if not isinstance(config, dict) or not classroom.kubeconfig_still_good(config, server, participant, now,
                                                                           renew_before):
        return False
    issued_for = token_service_account(config["users"][0]["user"]["token"])
    return account_uid is None or issued_for is None or issued_for == account_uid


def read_config(path, load):
    """The kubeconfig at ``path`` parsed by ``load`` (a YAML loader), or None when missing or unreadable."""
    try:
        with open(path) as handle:
            return load(handle.read())
    except Exception:  # missing, unreadable or not YAML: the file is written anew
        return None


def write_private(path, text):
    """Write ``text`` to ``path`` atomically (a file of mode 0600 in the same directory, renamed over it)."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".kubeconfig-")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except Exception:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _mode(path):
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        return None


# --------------------------------------------------------------------------- present and absent


def give_access(api, participant, namespaces, cluster_networks, labels, dest, now, dump, load, server=None,
                service_account_namespace=None, token_seconds=86400, renew_before=3600, check_mode=False):
    """Give ``participant`` their RBAC and their kubeconfig ``dest`` (see the module ``participant_access``).

    ``now``: seconds since the epoch; ``dump``/``load``: YAML text from a dict and back. Returns ``changed``,
    ``objects`` (the changes, :func:`apply_plan`), ``kubeconfig`` (``dest``), ``token_renewed`` and ``expires``
    (the token's expiry, UTC; None when check mode predicts a new token). The token itself is only written to
    ``dest``."""
    problems = label_problems(labels)
    if not participant or not namespaces:
        problems.append("a participant and at least one namespace are needed")
    if problems:
        raise FlowError("participant_access: " + "; ".join(problems))
    home = service_account_namespace or namespaces[0]
    wanted = [classroom.participant_cluster_role(labels)] + sorted(
        classroom.participant_rbac(participant, namespaces, cluster_networks or [], labels, home),
        key=lambda o: [kind for dummy, kind in KINDS].index(o["kind"]))
    steps = plan(api, wanted, labels)
    changes = apply_plan(api, steps, check_mode)
    account = [have for want, have, action in steps if want["kind"] == "ServiceAccount"][0]
    account_new = account is None  # (a ServiceAccount is patched, never replaced)
    if account_new and not check_mode:
        account = api.get("v1", "ServiceAccount", participant, namespace=home)
    account_uid = ((account or {}).get("metadata") or {}).get("uid")
    connection = api.connection()
    server = server or connection["server"]
    existing = read_config(dest, load)
    keep = not (account_new and check_mode) and kept_config(existing, server, participant, now, renew_before,
                                                            account_uid)
    result = {"kubeconfig": dest, "objects": changes, "token_renewed": not keep, "expires": None}
    if keep:
        result["expires"] = iso_time(classroom.token_expiry(existing["users"][0]["user"]["token"]))
        if _mode(dest) != 0o600:
            if not check_mode:
                os.chmod(dest, 0o600)
            changes.append({"object": "file " + dest, "action": "mode 0600"})
    elif not check_mode:
        status, answer = api.request("POST", token_path(home, participant), body=token_request(token_seconds))
        token = ((answer or {}).get("status") or {}).get("token")
        if status not in (200, 201) or not token:
            raise FlowError("participant_access: the API server issued no token for ServiceAccount {0}/{1} (HTTP "
                            "{2}: {3})".format(home, participant, status, (answer or {}).get("message", "")),
                            objects=changes)
        cluster_name = (labels or {}).get(LAB) or DEFAULT_CLUSTER_NAME
        config = classroom.participant_kubeconfig(participant, server, connection.get("ca_data"), token,
                                                  namespaces[0], cluster_name)
        write_private(dest, dump(config))
        result["expires"] = iso_time(classroom.token_expiry(token)) or (answer.get("status") or {}).get(
            "expirationTimestamp")
    result["changed"] = bool(changes) or not keep
    return result


def take_access(api, participant, labels, dest, remove_shared=False, check_mode=False):
    """Delete ``participant``'s objects (those carrying every ownership label and this participant's label, and
    nothing else), the kubeconfig ``dest`` and, with ``remove_shared``, the shared ClusterRole (when it carries
    the ownership labels). Returns ``changed``, ``objects`` (``[{"object", "action": "delete"}]``) and
    ``kubeconfig``."""
    problems = label_problems(labels)
    if problems:
        raise FlowError("participant_access: " + "; ".join(problems) + " (a narrower selector is needed to delete "
                        "only the lab's objects)")
    mine = dict(labels, **{classroom.PARTICIPANT_LABEL: participant})
    found = []
    for api_version, kind in reversed(KINDS):
        for obj in api.list(api_version, kind, label_selector=selector(labels, participant)):
            if carries(obj, mine):  # (the selector already says so; a second look costs nothing)
                found.append((api_version, dict(obj, kind=kind)))
    if remove_shared:
        shared = api.get(RBAC, "ClusterRole", classroom.PARTICIPANT_CLUSTER_ROLE)
        if shared is not None and carries(shared, labels):
            found.append((RBAC, dict(shared, kind="ClusterRole")))
    changes = []
    for api_version, obj in found:
        if check_mode or api.delete(api_version, obj["kind"], obj["metadata"]["name"], namespace=_namespace(obj)):
            changes.append({"object": ownership.object_ref(obj), "action": "delete"})
    if os.path.lexists(dest):
        if not check_mode:
            os.unlink(dest)
        changes.append({"object": "file " + dest, "action": "delete"})
    return {"changed": bool(changes), "objects": changes, "kubeconfig": dest}


# --------------------------------------------------------------------------- the fences, proven


REVIEW_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
API_VERSIONS = {"": "v1"}
"""The version a real request uses per API group (``v1`` when not listed: every group the fences name)."""


def real_request(attributes):
    """The plain request a check's ``attributes`` stand for (``{"method", "path", "query"}``), or None when they
    are not a plain get, list or delete (a subresource, a create): a delete is a dry run (``dryRun=All``: the API
    server authorizes it as a delete and changes nothing)."""
    verb = attributes.get("verb")
    if verb not in ("get", "list", "delete") or attributes.get("subresource"):
        return None
    group = attributes.get("group") or ""
    version = attributes.get("version") or API_VERSIONS.get(group, "v1")
    path = "/api/{0}".format(version) if not group else "/apis/{0}/{1}".format(group, version)
    if attributes.get("namespace"):
        path += "/namespaces/{0}".format(attributes["namespace"])
    path += "/" + attributes["resource"]
    if verb == "list":
        return {"method": "GET", "path": path, "query": {}}
    path += "/" + (attributes.get("name") or PROBE_NAME)
    if verb == "get":
        return {"method": "GET", "path": path, "query": {}}
    return {"method": "DELETE", "path": path, "query": {"dryRun": "All"}}


def judge_requests(judged, answered):
    """``judged`` (:func:`classroom.judge_fences`) with ``request`` (``METHOD path``, or None) and ``http_status``
    (``answered[id]``, or None): a refused check whose real request was not answered 403, or an allowed one that
    was, is ``wrong`` whatever the review said."""
    out = []
    for check in judged:
        request = real_request(check["attributes"])
        status = answered.get(check["id"])
        check = dict(check, request="{0} {1}".format(request["method"], request["path"]) if request else None,
                     http_status=status)
        if status is not None and (status == FORBIDDEN) == bool(check["expect"]):
            check["status"] = "wrong"
        out.append(check)
    return out


def prove_fences(api, checks):
    """As the participant ``api`` is connected as: a SelfSubjectAccessReview per check, and each plain request
    (:func:`real_request`); returns ``fences`` (:func:`judge_requests`), ``wrong`` (the ids not proven correct) and
    ``summary``. Reads only (a delete is a dry run)."""
    allowed, answered = {}, {}
    for check in checks:
        status, answer = api.request("POST", REVIEW_PATH, body=classroom.review_body(check["attributes"]))
        if status in (200, 201):
            allowed[check["id"]] = bool(((answer or {}).get("status") or {}).get("allowed"))
        request = real_request(check["attributes"])
        if request:
            answered[check["id"]], dummy = api.request(request["method"], request["path"], query=request["query"])
    fences = judge_requests(classroom.judge_fences(checks, allowed), answered)
    wrong = [f["id"] for f in fences if f["status"] != "correct"]
    summary = "{0} of {1} fences hold{2}".format(len(fences) - len(wrong), len(fences),
                                                 "" if not wrong else "; not: " + ", ".join(wrong))
    return {"fences": fences, "wrong": wrong, "summary": summary}
