# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""participants: a participant's RBAC and kubeconfig put on a (fake) cluster and taken away, and the fences proven
by review and by real request."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import re
import stat

import pytest
import yaml

from ansible_collections.ovnk.udn_lab.plugins.module_utils import classroom, participants
from ansible_collections.ovnk.udn_lab.plugins.module_utils.waits import FlowError

from fake_api import FakeApi

LABELS = {"app.kubernetes.io/managed-by": "ovnk.udn_lab", "udn-lab.ovnk.io/lab": "class"}
NOW = 1800000000
ADA = {"namespaces": ["ada-blue", "ada-red", "ada-vm"], "cluster_networks": ["ada-enterprise"], "vms": [["ada-vm", "vm-a"]]}
BOB = {"namespaces": ["bob-blue", "bob-red", "bob-vm"], "cluster_networks": ["bob-enterprise"], "vms": [["bob-vm", "vm-a"]]}


def jwt(claims):
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return "{0}.{1}.c2ln".format(part({"alg": "RS256"}), part(claims))


def issuer(api, now=NOW):
    """An API server's TokenRequest: a token of the stored ServiceAccount's uid, valid for the seconds asked."""
    issued = []

    def answer(method, path, body, query):
        match = re.match(r"^/api/v1/namespaces/([^/]+)/serviceaccounts/([^/]+)/token$", path)
        account = match and api.find("ServiceAccount", match.group(2), match.group(1))
        if method != "POST" or account is None:
            return 404, {"kind": "Status", "message": "not found"}
        token = jwt({"exp": now + body["spec"]["expirationSeconds"],
                     "kubernetes.io": {"serviceaccount": {"uid": account["metadata"]["uid"]}}})
        issued.append(token)
        return 201, dict(body, status={"token": token, "expirationTimestamp": "later"})
    api.answer = answer
    return issued


def give(api, dest, **kwargs):
    args = dict(participant="ada", namespaces=ADA["namespaces"], cluster_networks=ADA["cluster_networks"],
                labels=LABELS, dest=str(dest), now=NOW, dump=yaml.safe_dump, load=yaml.safe_load)
    args.update(kwargs)
    return participants.give_access(api, **args)


def stored(api):
    return sorted((kind, o["metadata"].get("namespace") or "", o["metadata"]["name"])
                  for kind, items in api.objects.items() for o in items)


def test_present_makes_the_rbac_and_a_private_kubeconfig_and_a_second_run_changes_nothing(tmp_path):
    api = FakeApi()
    issued = issuer(api)
    dest = tmp_path / "ada" / "kubeconfig"
    first = give(api, dest)
    assert first["changed"] and first["token_renewed"] and first["kubeconfig"] == str(dest)
    assert [c["action"] for c in first["objects"]] == ["create"] * 7
    assert stored(api) == [("ClusterRole", "", "udn-lab-participant"), ("ClusterRole", "", "udn-lab-participant-ada"),
                           ("ClusterRoleBinding", "", "udn-lab-participant-ada"),
                           ("RoleBinding", "ada-blue", "udn-lab-participant"),
                           ("RoleBinding", "ada-red", "udn-lab-participant"),
                           ("RoleBinding", "ada-vm", "udn-lab-participant"), ("ServiceAccount", "ada-blue", "ada")]
    # the token asked for, and only written into the kubeconfig (mode 0600, the connection's CA and server)
    (token_call,) = [c for c in api.calls if c[0] == "request"]
    assert token_call[1:3] == ("POST", "/api/v1/namespaces/ada-blue/serviceaccounts/ada/token")
    assert token_call[4]["spec"] == {"expirationSeconds": 86400}
    assert stat.S_IMODE(os.stat(str(dest)).st_mode) == 0o600
    config = yaml.safe_load(dest.read_text())
    assert config["users"] == [{"name": "ada", "user": {"token": issued[0]}}]
    assert config["clusters"] == [{"name": "class", "cluster": {"server": "https://127.0.0.1:6443",
                                                                "certificate-authority-data": "Q0E="}}]
    assert config["contexts"][0]["context"]["namespace"] == "ada-blue"
    assert issued[0] not in json.dumps(first)
    assert first["expires"] == participants.iso_time(NOW + 86400)
    assert os.listdir(str(dest.parent)) == ["kubeconfig"]  # no temporary file left
    # again: nothing written, no token asked for, the same kubeconfig
    before = len(api.calls)
    second = give(api, dest)
    assert not second["changed"] and second["objects"] == [] and not second["token_renewed"]
    assert [c[0] for c in api.calls[before:]] == ["get"] * 7
    assert yaml.safe_load(dest.read_text()) == config and second["expires"] == first["expires"]


def test_check_mode_predicts_exactly_and_writes_nothing(tmp_path):
    api = FakeApi()
    issuer(api)
    dest = tmp_path / "kubeconfig"
    predicted = give(api, dest, check_mode=True)
    assert predicted["changed"] and predicted["token_renewed"] and predicted["expires"] is None
    assert len(predicted["objects"]) == 7 and not api.writes and not dest.exists()
    assert not [c for c in api.calls if c[0] == "request"]
    real = give(api, dest)
    assert real["objects"] == predicted["objects"]
    assert give(api, dest, check_mode=True)["changed"] is False


def test_a_real_difference_is_updated_and_a_difference_elsewhere_is_not(tmp_path):
    api = FakeApi()
    issuer(api)
    dest = tmp_path / "kubeconfig"
    give(api, dest)
    # what the API server adds (uid, resourceVersion, another label) is no difference
    api.find("ClusterRole", "udn-lab-participant")["metadata"].update(resourceVersion="7", labels=dict(
        LABELS, extra="yes"))
    assert not give(api, dest)["changed"]
    # a rule someone widened, a subject added, a label dropped: each put back
    api.find("ClusterRole", "udn-lab-participant-ada")["rules"][0]["resourceNames"].append("bob-blue")
    api.find("RoleBinding", "udn-lab-participant", "ada-red")["subjects"].append({"kind": "User", "name": "eve"})
    del api.find("ServiceAccount", "ada", "ada-blue")["metadata"]["labels"][classroom.PARTICIPANT_LABEL]
    before = len(api.calls)
    out = give(api, dest)
    assert out["changed"] and not out["token_renewed"]
    assert out["objects"] == [{"object": "ServiceAccount ada-blue/ada", "action": "update"},
                              {"object": "ClusterRole udn-lab-participant-ada", "action": "update"},
                              {"object": "RoleBinding ada-red/udn-lab-participant", "action": "update"}]
    assert [c[0] for c in api.calls[before:] if c[0] != "get"] == ["patch"] * 3
    assert api.find("ClusterRole", "udn-lab-participant-ada")["rules"][0]["resourceNames"] == ADA["namespaces"]
    assert len(api.find("RoleBinding", "udn-lab-participant", "ada-red")["subjects"]) == 1
    # a roleRef cannot change in place: the binding is replaced
    api.find("RoleBinding", "udn-lab-participant", "ada-blue")["roleRef"]["name"] = "cluster-admin"
    out = give(api, dest)
    assert out["objects"] == [{"object": "RoleBinding ada-blue/udn-lab-participant", "action": "replace"}]
    assert api.find("RoleBinding", "udn-lab-participant", "ada-blue")["roleRef"]["name"] == "udn-lab-participant"


def test_an_object_the_lab_did_not_make_or_another_participants_is_never_taken_over(tmp_path):
    theirs = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
              "metadata": {"name": "udn-lab-participant", "namespace": "ada-red", "labels": {"team": "x"}},
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
              "subjects": []}
    api = FakeApi(objects=[theirs])
    issuer(api)
    dest = tmp_path / "kubeconfig"
    with pytest.raises(FlowError) as err:
        give(api, dest)
    assert "RoleBinding ada-red/udn-lab-participant exists without the lab's ownership labels" in str(err.value)
    assert "app.kubernetes.io/managed-by=ovnk.udn_lab" in str(err.value)
    assert not api.writes and not dest.exists()
    api.put(dict(theirs, metadata=dict(theirs["metadata"], labels=dict(LABELS, **{classroom.PARTICIPANT_LABEL: "bob"}))))
    with pytest.raises(FlowError) as err:
        give(api, dest)
    assert "belongs to participant 'bob', not 'ada'" in str(err.value) and not api.writes


def test_a_token_near_its_end_a_new_server_or_a_new_service_account_renews_the_kubeconfig(tmp_path):
    api = FakeApi()
    issued = issuer(api)
    dest = tmp_path / "kubeconfig"
    give(api, dest, token_seconds=7200)
    assert not give(api, dest, renew_before=3600)["token_renewed"]
    out = give(api, dest, renew_before=7201)
    assert out["changed"] and out["token_renewed"] and out["objects"] == [] and len(issued) == 2
    out = give(api, dest, server="https://lab.example:6443")
    assert out["token_renewed"] and yaml.safe_load(dest.read_text())["clusters"][0]["cluster"]["server"] == (
        "https://lab.example:6443")
    # the ServiceAccount deleted and made anew: the old token is no longer the account's
    api.remove("ServiceAccount", "ada", "ada-blue")
    api.put({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {
        "name": "ada", "namespace": "ada-blue", "uid": "another", "labels": dict(
            LABELS, **{classroom.PARTICIPANT_LABEL: "ada"})}})
    out = give(api, dest, server="https://lab.example:6443")
    assert out["token_renewed"] and out["objects"] == [] and len(issued) == 4
    # a readable file of the right content is made private again
    os.chmod(str(dest), 0o644)
    out = give(api, dest, server="https://lab.example:6443")
    assert out["objects"] == [{"object": "file " + str(dest), "action": "mode 0600"}] and not out["token_renewed"]
    assert stat.S_IMODE(os.stat(str(dest)).st_mode) == 0o600


def test_a_refused_token_request_fails_naming_the_service_account(tmp_path):
    api = FakeApi(answer=lambda *args: (403, {"message": "forbidden"}))
    with pytest.raises(FlowError) as err:
        give(api, tmp_path / "kubeconfig")
    assert "no token for ServiceAccount ada-blue/ada (HTTP 403: forbidden)" in str(err.value)
    assert not (tmp_path / "kubeconfig").exists()


@pytest.mark.parametrize("labels", [{}, {"app.kubernetes.io/managed-by": "ovnk.udn_lab"}])
def test_without_both_ownership_labels_nothing_is_done(tmp_path, labels):
    api = FakeApi()
    with pytest.raises(FlowError, match="labels lacks udn-lab.ovnk.io/lab"):
        give(api, tmp_path / "kubeconfig", labels=labels)
    with pytest.raises(FlowError, match="labels lacks"):
        participants.take_access(api, "ada", labels, str(tmp_path / "kubeconfig"))
    assert not api.writes


def test_absent_deletes_only_that_participants_labelled_objects_and_the_file(tmp_path):
    api = FakeApi()
    issuer(api)
    ada, bob = tmp_path / "ada", tmp_path / "bob"
    give(api, ada)
    give(api, bob, participant="bob", namespaces=BOB["namespaces"], cluster_networks=BOB["cluster_networks"])
    # look-alikes: ada's label without the lab's, and another lab's ada
    api.put({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {
        "name": "ada", "namespace": "elsewhere", "labels": {classroom.PARTICIPANT_LABEL: "ada"}}})
    other_lab = dict(LABELS, **{"udn-lab.ovnk.io/lab": "other", classroom.PARTICIPANT_LABEL: "ada"})
    api.put({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
             "metadata": {"name": "other-lab-ada", "labels": other_lab}})
    before = stored(api)
    predicted = participants.take_access(api, "ada", LABELS, str(ada), check_mode=True)
    assert predicted["changed"] and stored(api) == before and ada.exists()
    out = participants.take_access(api, "ada", LABELS, str(ada))
    assert out["objects"] == predicted["objects"]
    assert sorted(c["object"] for c in out["objects"]) == sorted([
        "RoleBinding ada-blue/udn-lab-participant", "RoleBinding ada-red/udn-lab-participant",
        "RoleBinding ada-vm/udn-lab-participant", "ClusterRoleBinding udn-lab-participant-ada", "ClusterRole udn-lab-participant-ada",
        "ServiceAccount ada-blue/ada", "file " + str(ada)])
    assert [c["object"] for c in out["objects"]][:2] == ["RoleBinding ada-blue/udn-lab-participant",
                                                         "RoleBinding ada-red/udn-lab-participant"]
    assert not ada.exists() and bob.exists()
    assert [o for o in stored(api) if "ada" in o[1] + o[2]] == [
        ("ClusterRole", "", "other-lab-ada"), ("ServiceAccount", "elsewhere", "ada")]
    assert ("ClusterRole", "", "udn-lab-participant") in stored(api)  # bob's bindings use it
    assert ("ServiceAccount", "bob-blue", "bob") in stored(api)
    # gone already: nothing to do; then the shared ClusterRole only when asked
    assert participants.take_access(api, "ada", LABELS, str(ada)) == {"changed": False, "objects": [],
                                                                      "kubeconfig": str(ada)}
    out = participants.take_access(api, "ada", LABELS, str(ada), remove_shared=True)
    assert out["objects"] == [{"object": "ClusterRole udn-lab-participant", "action": "delete"}]


# --------------------------------------------------------------------------- the fences


@pytest.mark.parametrize("attributes, request_", [
    ({"namespace": "b", "verb": "list", "resource": "pods"}, ("GET", "/api/v1/namespaces/b/pods", {})),
    ({"namespace": "b", "verb": "delete", "group": "k8s.ovn.org", "resource": "userdefinednetworks"},
     ("DELETE", "/apis/k8s.ovn.org/v1/namespaces/b/userdefinednetworks/udn-lab-fence-probe", {"dryRun": "All"})),
    ({"namespace": "b", "verb": "get", "group": "kubevirt.io", "resource": "virtualmachines", "name": "vm-a"},
     ("GET", "/apis/kubevirt.io/v1/namespaces/b/virtualmachines/vm-a", {})),
    ({"verb": "get", "group": "k8s.ovn.org", "resource": "clusteruserdefinednetworks", "name": "n"},
     ("GET", "/apis/k8s.ovn.org/v1/clusteruserdefinednetworks/n", {})),
    ({"verb": "list", "resource": "namespaces"}, ("GET", "/api/v1/namespaces", {})),
    ({"namespace": "b", "verb": "create", "resource": "pods"}, None),
    ({"namespace": "b", "verb": "get", "group": "subresources.kubevirt.io", "resource": "virtualmachineinstances",
      "subresource": "console", "name": "vm-a"}, None),
])
def test_a_plain_get_list_or_delete_has_a_real_request_and_a_delete_is_a_dry_run(attributes, request_):
    got = participants.real_request(attributes)
    assert (got and (got["method"], got["path"], got["query"])) == (request_ or None)


def cluster_as(own):
    """An API server's answers to ``own``'s reviews and requests, RBAC as participant_rbac grants: anything in their
    namespaces (but creating namespaces), reading their cluster networks and namespaces by name; nothing else."""
    def allowed(attrs):
        if attrs.get("namespace"):
            return attrs["namespace"] in own["namespaces"]
        if attrs.get("resource") == "clusteruserdefinednetworks":
            return attrs.get("verb") == "get" and attrs.get("name") in own["cluster_networks"]
        return False

    def answer(method, path, body, query):
        if path == participants.REVIEW_PATH:
            return 201, dict(body, status={"allowed": allowed(body["spec"]["resourceAttributes"])})
        match = re.match(r"^/apis?/(?:[^/]+/)?v1/(?:namespaces/([^/]+)/)?([^/]+)(?:/([^/]+))?$", path)
        attrs = {"namespace": match.group(1), "resource": match.group(2), "name": match.group(3),
                 "verb": {"DELETE": "delete"}.get(method, "get" if match.group(3) else "list")}
        if not allowed(attrs):
            return 403, {"kind": "Status", "code": 403}
        return (404, None) if match.group(3) == participants.PROBE_NAME else (200, {})
    return answer


def test_every_fence_is_proven_by_review_and_by_real_request():
    checks = classroom.fence_checks("ada", {"ada": ADA, "bob": BOB})
    api = FakeApi(answer=cluster_as(ADA))
    out = participants.prove_fences(api, checks)
    assert out["wrong"] == [] and out["summary"] == "{0} of {0} fences hold".format(len(checks))
    fences = dict((f["id"], f) for f in out["fences"])
    assert fences["ada:not-bob-pods"]["http_status"] == 403
    assert fences["ada:not-bob-pods"]["request"] == "GET /api/v1/namespaces/bob-blue/pods"
    assert fences["ada:own-cudn-ada-enterprise"]["http_status"] == 200
    assert fences["ada:not-bob-udn"]["request"].startswith("DELETE ")
    assert fences["ada:own-pods"]["request"] is None and fences["ada:own-pods"]["http_status"] is None
    # reads only: every delete a dry run
    deletes = [c for c in api.calls if c[0] == "request" and c[1] == "DELETE"]
    assert deletes and all(c[3] == {"dryRun": "All"} for c in deletes)
    assert not api.writes


def test_a_fence_the_review_calls_closed_but_the_request_passes_is_wrong():
    checks = classroom.fence_checks("ada", {"ada": ADA, "bob": BOB})
    leaky = cluster_as(ADA)

    def answer(method, path, body, query):
        if path == "/api/v1/namespaces/bob-blue/pods":
            return 200, {}
        return leaky(method, path, body, query)
    out = participants.prove_fences(FakeApi(answer=answer), checks)
    assert out["wrong"] == ["ada:not-bob-pods"] and "not: ada:not-bob-pods" in out["summary"]
    (fence,) = [f for f in out["fences"] if f["status"] != "correct"]
    assert (fence["observed"], fence["http_status"], fence["status"]) == (False, 200, "wrong")


def test_a_review_not_answered_is_unknown_and_an_allowed_request_answered_403_is_wrong():
    checks = classroom.fence_checks("ada", {"ada": ADA, "bob": BOB})
    out = participants.prove_fences(FakeApi(answer=lambda *args: (403, {"kind": "Status"})), checks)
    statuses = dict((f["id"], f["status"]) for f in out["fences"])
    assert statuses["ada:own-pods"] == "unknown"
    assert statuses["ada:own-cudn-ada-enterprise"] == "wrong"  # allowed by the checks, refused for real
    assert len(out["wrong"]) == len(checks)


def test_labels_of_another_owner_are_refused_before_anything_is_done(tmp_path):
    """The ownership checks are the collection's one set (module_utils ownership): labels that mark another owner
    would select what the lab never made."""
    api = FakeApi()
    labels = {"app.kubernetes.io/managed-by": "someone-else", "udn-lab.ovnk.io/lab": "ovn-k-helm"}
    with pytest.raises(FlowError, match="app.kubernetes.io/managed-by is 'someone-else'"):
        give(api, tmp_path / "kubeconfig", labels=labels)
    with pytest.raises(FlowError, match="app.kubernetes.io/managed-by is 'someone-else'"):
        participants.take_access(api, "ada", labels, str(tmp_path / "kubeconfig"))
    assert not api.writes
