"""participant_fences_info through its main(): the fences from participant + others or from checks, never a
change, failing on a wrong fence unless told not to."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ovnk.udn_lab.plugins.module_utils import classroom, participants
from ansible_collections.ovnk.udn_lab.plugins.modules import participant_fences_info

from fake_api import FakeApi, run_main

OTHERS = {"ada": {"namespaces": ["ada-blue"], "cluster_networks": ["ada-net"], "vms": [["ada-blue", "vm-a"]]},
          "bob": {"namespaces": ["bob-blue"], "cluster_networks": ["bob-net"], "vms": [["bob-blue", "vm-a"]]}}


def answer_as(own, leak=None):
    """Reviews and requests answered as RBAC grants ``own``: their namespace and their networks only; ``leak``: a
    path served anyway."""
    def allowed(namespace, resource, name, verb):
        if namespace:
            return namespace in own["namespaces"]
        return resource == "clusteruserdefinednetworks" and verb == "get" and name in own["cluster_networks"]

    def answer(method, path, body, query):
        if path == participants.REVIEW_PATH:
            a = body["spec"]["resourceAttributes"]
            return 201, {"status": {"allowed": allowed(a.get("namespace"), a["resource"], a.get("name"), a["verb"])}}
        if path == leak:
            return 200, {}
        parts = path.split("/")
        namespace = parts[parts.index("namespaces") + 1] if "namespaces" in parts[:-1] else None
        name = parts[-1] if parts[-2] in ("clusteruserdefinednetworks",) else None
        return (200, {}) if allowed(namespace, parts[-2] if name else parts[-1], name, "get") else (403, {})
    return answer


def test_fences_from_participant_and_others_hold_and_nothing_changes(monkeypatch, capsys):
    api = FakeApi(answer=answer_as(OTHERS["ada"]))
    out = run_main(monkeypatch, participant_fences_info, api, {"participant": "ada", "others": OTHERS}, capsys,
                   check_mode=True)
    assert not out.get("failed"), out.get("msg")
    assert out["changed"] is False and out["wrong"] == [] and not api.writes
    assert len(out["fences"]) == len(classroom.fence_checks("ada", OTHERS))
    statuses = dict((f["id"], f["http_status"]) for f in out["fences"])
    assert statuses["ada:not-bob-pods"] == 403 and statuses["ada:not-bob-vm-vm-a"] == 403
    assert statuses["ada:own-pods"] is None


def test_a_wrong_fence_fails_the_module_unless_told_not_to(monkeypatch, capsys):
    leak = "/api/v1/namespaces/bob-blue/pods"
    api = FakeApi(answer=answer_as(OTHERS["ada"], leak=leak))
    checks = classroom.fence_checks("ada", OTHERS)
    out = run_main(monkeypatch, participant_fences_info, api, {"checks": checks}, capsys)
    assert out["failed"] and out["changed"] is False and out["wrong"] == ["ada:not-bob-pods"]
    assert out["msg"].endswith("not: ada:not-bob-pods")
    out = run_main(monkeypatch, participant_fences_info, api, {"checks": checks, "fail_on_wrong": False}, capsys)
    assert not out.get("failed") and out["wrong"] == ["ada:not-bob-pods"]


def test_a_participant_missing_from_others_is_refused(monkeypatch, capsys):
    out = run_main(monkeypatch, participant_fences_info, FakeApi(), {"participant": "cy", "others": OTHERS}, capsys)
    assert out["failed"] and "others must hold the participant 'cy'" in out["msg"]
