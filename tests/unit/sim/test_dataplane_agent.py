"""The data plane agent's API side (no namespaces made): the kwok Exec objects that route `kubectl exec` into pods."""

import pytest

from dataplane.agent import EXECS, DataplaneAgent, exec_body
from simulators.common import PODS, Cache
from simulators.fake import FakeKube

NOW = 1_800_000_000.0


def pod(namespace, name):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "uid": name},
            "spec": {"nodeName": "lab-worker", "containers": [{"name": "c"}]}}


def netns_of(cache, namespace, name):
    envs = cache.get(EXECS, namespace, name)["spec"]["execs"][0]["local"]["envs"]
    return dict((env["name"], env["value"]) for env in envs)["UDNSIM_NETNS"]


@pytest.fixture
def agent(tmp_path):
    cache = Cache.from_objects({PODS: [pod("blue", "app-blue-0")]})
    return DataplaneAgent(FakeKube(cache, NOW), {"state_dir": str(tmp_path)}, cache=cache)


def test_a_new_pod_gets_an_exec_naming_its_namespace(agent):
    assert agent.ensure_exec(pod("blue", "app-blue-0"), "udnsim-pod-aaa")
    assert netns_of(agent.kube.cache, "blue", "app-blue-0") == "udnsim-pod-aaa"
    assert [a.verb for a in agent.kube.log] == ["create"]


def test_an_exec_left_by_an_earlier_data_plane_is_brought_in_line(agent):
    # an earlier agent (another namespace prefix, or the pod's namesake before it was recreated)
    agent.kube.cache.put(EXECS, exec_body(pod("blue", "app-blue-0"), "udnsimtest-pod-aaa"))
    assert agent.ensure_exec(pod("blue", "app-blue-0"), "udnsim-pod-aaa")
    assert netns_of(agent.kube.cache, "blue", "app-blue-0") == "udnsim-pod-aaa"
    assert [a.verb for a in agent.kube.log] == ["create", "patch"]


def test_an_exec_that_cannot_be_written_is_tried_again_later(agent, monkeypatch):
    from simulators.common import ApiError

    def refuse(action):
        raise ApiError(403, "forbidden")

    monkeypatch.setattr(agent.kube, "apply_action", refuse)
    assert not agent.ensure_exec(pod("blue", "app-blue-0"), "udnsim-pod-aaa")


def test_a_pod_running_netexec_gets_kwok_logs_naming_each_containers_log_file(agent, tmp_path):
    from dataplane.agent import LOGS
    ep = {"netexecs": [{"container": "agnhost-container-8080", "http_port": 8080, "udp_port": -1},
                       {"container": "agnhost-container-9090", "http_port": 9090, "udp_port": -1}]}
    assert agent.ensure_logs(pod("red", "app-red-0"), ep)
    logs = agent.kube.cache.get(LOGS, "red", "app-red-0")
    assert logs["kind"] == "Logs" and logs["apiVersion"] == "kwok.x-k8s.io/v1alpha1"
    assert logs["spec"]["logs"] == [
        {"containers": ["agnhost-container-8080"], "follow": True,
         "logsFile": str(tmp_path / "logs" / "red_app-red-0_agnhost-container-8080.log")},
        {"containers": ["agnhost-container-9090"], "follow": True,
         "logsFile": str(tmp_path / "logs" / "red_app-red-0_agnhost-container-9090.log")}]
    # again (a restarted agent): brought in line, not an error
    assert agent.ensure_logs(pod("red", "app-red-0"), ep)
    assert [a.verb for a in agent.kube.log] == ["create", "create", "patch"]  # (the second create was refused: 409)
    # a pod with no netexec needs none
    assert agent.ensure_logs(pod("blue", "app-blue-0"), {"netexecs": []})
    assert agent.kube.cache.get(LOGS, "blue", "app-blue-0") is None
