"""Tests for plugins/module_utils/probes.py: commands, classification, polling, tables, JUnit, transports."""

from __future__ import absolute_import, division, print_function

import functools
import json
import socket
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import probes as P

from fake_api import Clock, FakeApi


def pod(ns, name, networks=None, pod_ips=None, phase="Running", labels=None):
    ann = {"k8s.ovn.org/pod-networks": json.dumps(networks)} if networks is not None else {}
    return {"metadata": {"name": name, "namespace": ns, "annotations": ann, "labels": labels or {}},
            "status": {"phase": phase, "podIPs": [{"ip": ip} for ip in pod_ips or []]}}


def udn_pod(ns, name, udn_ip, default_ip, nad):
    return pod(ns, name, {
        "default": {"ip_addresses": [default_ip + "/24"], "role": "infrastructure-locked"},
        "{0}/{1}".format(ns, nad): {"ip_addresses": [udn_ip + "/24"], "role": "primary"},
    })


def FakeLookup(pods=(), services=(), nodes=(), namespaces=(), logs=None):
    """The collection's own lookup over the one fake API holding these pods, services, nodes and namespaces (each
    pod's and service's namespace exists too)."""
    names = set(namespaces) | set(o["metadata"]["namespace"] for o in list(pods) + list(services))
    api = FakeApi(None, {"Pod": list(pods), "Service": list(services), "Node": list(nodes),
                         "Namespace": [{"metadata": {"name": n}} for n in sorted(names)]})
    return P.KubernetesLookup(api, logs=logs)


BLUE0 = udn_pod("blue", "app-blue-0", "103.103.1.4", "10.244.1.4", "blue-network")
BLUE1 = udn_pod("blue", "app-blue-1", "103.103.2.5", "10.244.2.5", "blue-network")
GREEN1 = udn_pod("green", "app-green-1", "203.203.2.6", "10.244.2.6", "green-network")
SVC_BLUE = {"metadata": {"name": "service-blue", "namespace": "blue"},
            "spec": {"type": "NodePort", "clusterIP": "10.96.10.10", "clusterIPs": ["10.96.10.10", "fd00:10:96::a"],
                     "ports": [{"name": "web", "port": 80, "targetPort": 8080, "nodePort": 31080}]}}
KUBERNETES = {"metadata": {"name": "kubernetes", "namespace": "default"},
              "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443}]}}
NODES = [
    {"metadata": {"name": "lab-control-plane", "labels": {"node-role.kubernetes.io/control-plane": ""}},
     "status": {"addresses": [{"type": "InternalIP", "address": "172.18.0.2"}]}},
    {"metadata": {"name": "lab-worker", "labels": {}},
     "status": {"addresses": [{"type": "InternalIP", "address": "172.18.0.3"},
                              {"type": "InternalIP", "address": "fc00:f853:ccd:e793::3"},
                              {"type": "Hostname", "address": "lab-worker"}]}},
]
LOOKUP = FakeLookup([BLUE0, BLUE1, GREEN1], [SVC_BLUE, KUBERNETES], NODES)


def probe(pid, to, expect="reachable", protocol="tcp", port=8080, src=None, **extra):
    item = {"id": pid, "claim": "claim " + pid, "from": src or {"namespace": "blue", "pod": "app-blue-0"},
            "to": to, "protocol": protocol, "port": port, "expect": expect, "family": "ipv4"}
    item.update(extra)
    return item


# ------------------------------------------------------------------ validation and expansion

def test_validate_reports_each_problem_by_probe():
    bad = [
        probe("a", {"kind": "pod", "namespace": "blue", "name": "x"}),
        probe("a", {"kind": "pod", "namespace": "blue"}, expect="maybe"),
        probe("c", {"kind": "dns"}, protocol="udp"),
        probe("d", {"kind": "address", "address": "1.1.1.1"}, port=None, src={"namespace": "blue"}),
        probe("e", {"kind": "pod", "namespace": "blue", "name": "x"}, port=70000),
    ]
    errors = P.validate_probes(bad)
    text = "\n".join(errors)
    assert "probe 'a': id used twice" in text
    assert "probe 'a': expect must be reachable or blocked, got 'maybe'" in text
    assert "probe 'a': to.kind pod needs to.namespace and to.name" in text
    assert "probe 'c': protocol must be one of icmp, tcp, http, got 'udp'" in text
    assert "probe 'c': to.kind dns needs to.name" in text
    assert "probe 'd': from needs namespace and pod (or selector), or host: true" in text
    assert "probe 'd': protocol tcp needs a port" in text
    assert "probe 'e': port must be 1-65535" in text
    assert P.validate_probes([probe("ok", {"kind": "pod", "namespace": "blue", "name": "x"})]) == []


def test_expand_families():
    base = probe("p", {"kind": "pod", "namespace": "blue", "name": "x"})
    del base["family"]
    fixed = dict(base, id="v6only", family="ipv6")
    assert [p["id"] for p in P.expand_families([base, fixed], ["ipv4"])] == ["p"]
    out = P.expand_families([base, fixed], ["ipv4", "ipv6"])
    assert [(p["id"], p["family"]) for p in out] == [("p/ipv4", "ipv4"), ("p/ipv6", "ipv6"), ("v6only", "ipv6")]


# ------------------------------------------------------------------ resolution

@pytest.mark.parametrize("to,family,expected", [
    ({"kind": "pod", "namespace": "blue", "name": "app-blue-1"}, "ipv4", ("103.103.2.5", 8080)),
    ({"kind": "pod", "namespace": "blue", "name": "app-blue-1", "network": "infrastructure-locked"}, "ipv4",
     ("10.244.2.5", 8080)),
    ({"kind": "service", "namespace": "blue", "name": "service-blue"}, "ipv6", ("fd00:10:96::a", 8080)),
    ({"kind": "kubernetes_api"}, "ipv4", ("10.96.0.1", 8080)),
    ({"kind": "dns", "name": "kubernetes.default.svc"}, "ipv4", ("kubernetes.default.svc", 8080)),
    ({"kind": "address", "address": {"ipv4": "8.8.8.8", "ipv6": "2001:4860:4860::8888"}}, "ipv6",
     ("2001:4860:4860::8888", 8080)),
])
def test_resolve(to, family, expected):
    res = P.resolve_target(probe("r", to, family=family), LOOKUP)
    assert (res["host"], res["port"]) == expected


def test_resolve_service_port_defaults_to_service_port():
    res = P.resolve_target(probe("r", {"kind": "kubernetes_api"}, port=None), LOOKUP)
    assert (res["host"], res["port"]) == ("10.96.0.1", 443)


def test_resolve_nodeport_picks_first_worker_and_family():
    res = P.resolve_target(probe("n", {"kind": "nodeport", "namespace": "blue", "name": "service-blue"}, port=None,
                                 family="ipv6"), LOOKUP)
    assert res == {"host": "fc00:f853:ccd:e793::3", "port": 31080, "family": "ipv6", "node": "lab-worker",
                   "hostnames": None}  # service-blue of this fixture selects nothing
    res = P.resolve_target(probe("n", {"kind": "nodeport", "namespace": "blue", "name": "service-blue",
                                       "node": "lab-control-plane"}, port=None), LOOKUP)
    assert res["host"] == "172.18.0.2"


def test_resolve_nodeport_on_the_node_the_workshop_names_when_it_exists():
    """The script curls blue's NodePort on ovn-k-helm-worker and green's on ovn-k-helm-worker2 (script:230, 235):
    prefer_node uses that node when the cluster has it, else the first worker; node stays strict."""
    def resolve(**to):
        return P.resolve_target(probe("n", dict({"kind": "nodeport", "namespace": "blue", "name": "service-blue"}, **to),
                                      port=None), LOOKUP)
    assert resolve(prefer_node="lab-control-plane")["node"] == "lab-control-plane"
    assert resolve(prefer_node="lab-worker9")["node"] == "lab-worker"
    with pytest.raises(P.Unresolved, match="node 'lab-worker9' not found"):
        resolve(node="lab-worker9", prefer_node="lab-control-plane")


@pytest.mark.parametrize("to,family,msg", [
    ({"kind": "pod", "namespace": "blue", "name": "app-blue-9"}, "ipv4", "pod blue/app-blue-9 not found"),
    ({"kind": "pod", "namespace": "blue", "name": "app-blue-1"}, "ipv6", "no ipv6 address on network 'primary'"),
    ({"kind": "service", "namespace": "default", "name": "kubernetes"}, "ipv6", "no ipv6 ClusterIP"),
    ({"kind": "nodeport", "namespace": "default", "name": "kubernetes"}, "ipv4", "has no nodePort"),
])
def test_resolve_unresolved(to, family, msg):
    with pytest.raises(P.Unresolved, match=msg):
        P.resolve_target(probe("u", to, family=family, port=None), LOOKUP)


# ------------------------------------------------------------------ commands and classification

def test_probe_commands():
    assert P.probe_command("tcp", "103.103.2.5", 8080) == [
        "/agnhost", "connect", "103.103.2.5:8080", "--timeout=3s", "--protocol=tcp"]
    assert P.probe_command("tcp", "fd00::5", 8080)[2] == "[fd00::5]:8080"
    http = P.probe_command("http", "fd00::5", 80, "ipv6", 2, "hostname")
    assert http[0] == "curl" and http[-1] == "http://[fd00::5]:80/hostname" and "2" in http
    assert P.probe_command("icmp", "fd00::5", None, "ipv6", 2) == ["ping", "-6", "-c", "1", "-W", "2", "fd00::5"]
    with pytest.raises(ValueError):
        P.probe_command("sctp", "1.2.3.4", 1)
    assert P.host_command("tcp", "fd00::5", 80) == "timeout 3 bash -c '</dev/tcp/[fd00::5]/80' && echo connected"


@pytest.mark.parametrize("protocol,result,mark", [
    ("tcp", {"rc": 0}, P.REACHABLE),
    ("tcp", {"rc": 1, "stderr": "TIMEOUT\n"}, P.BLOCKED),
    ("tcp", {"rc": 1, "stderr": "REFUSED\n"}, P.BLOCKED),
    ("tcp", {"rc": 1, "stderr": "DNS: lookup nope: no such host"}, P.BLOCKED),
    ("tcp", {"rc": 1, "stderr": "OTHER: permission denied"}, P.UNKNOWN),
    ("tcp", {"rc": 127, "stderr": "exec: \"/agnhost\": stat /agnhost: no such file or directory"}, P.UNKNOWN),
    ("http", {"rc": 0, "stdout": "200"}, P.REACHABLE),
    ("http", {"rc": 0, "stdout": "app-blue-1\n200"}, P.REACHABLE),
    ("http", {"rc": 28, "stderr": "curl: (28) Connection timed out"}, P.BLOCKED),
    ("http", {"rc": 7}, P.BLOCKED),
    ("http", {"rc": 3, "stderr": "URL malformed"}, P.UNKNOWN),
    ("icmp", {"rc": 0}, P.REACHABLE),
    ("icmp", {"rc": 1, "stdout": "1 packets transmitted, 0 received"}, P.BLOCKED),
    ("icmp", {"rc": 2, "stderr": "ping: permission denied (are you root?)"}, P.UNKNOWN),
    ("tcp", {"rc": None, "error": "HTTP 404 Not Found"}, P.UNKNOWN),
    ("tcp", {"rc": None}, P.UNKNOWN),
])
def test_classify(protocol, result, mark):
    assert P.classify(protocol, result)[0] == mark


@pytest.mark.parametrize("stdout,mark,detail", [
    ("app-blue-1\n200", P.REACHABLE, "HTTP 200 from app-blue-1"),
    ("app-blue-0\n200", P.UNKNOWN, "HTTP 200 answered by 'app-blue-0', not the target (app-blue-1)"),
    ("<html>gateway</html>\n502", P.UNKNOWN, "HTTP 502 answered by '<html>gateway</html>', not the target"),
    ("200", P.UNKNOWN, "HTTP 200 answered by '', not the target"),
])
def test_a_reachable_http_claim_needs_its_target_to_answer(stdout, mark, detail):
    """agnhost netexec answers /hostname with its pod's name: anyone else answering proves nothing."""
    got = P.classify("http", {"rc": 0, "stdout": stdout}, hostnames=["app-blue-1"])
    assert got[0] == mark and got[1].startswith(detail)


def test_an_address_target_names_who_may_answer_and_only_address_targets_may():
    """The overlapping networks' shared address: only the caller's own network's holder may answer."""
    to = {"kind": "address", "address": "103.103.2.3", "answered_by": ["app-blue-1"]}
    assert P.resolve_target(probe("r", to), LOOKUP)["hostnames"] == ["app-blue-1"]
    assert P.resolve_target(probe("r", {"kind": "address", "address": "8.8.8.8"}), LOOKUP)["hostnames"] is None
    assert P.validate_probes([probe("ok", to)]) == []
    errors = P.validate_probes([probe("x", {"kind": "pod", "namespace": "blue", "name": "x", "answered_by": ["a"]}),
                                probe("y", dict(to, answered_by="app-blue-1"))])
    assert errors == ["probe 'x': to.answered_by is a list of pod names, for to.kind address only",
                      "probe 'y': to.answered_by is a list of pod names, for to.kind address only"]


def test_http_answer_splits_body_and_status():
    assert P.http_answer("app-blue-1\n200\n") == (200, "app-blue-1")
    assert P.http_answer("multi\nline body\n404") == (404, "multi\nline body")
    assert P.http_answer("no status") == (None, "no status")


# ------------------------------------------------------------------ polling

def test_poll_until_match_absorbs_lag():
    clock = Clock(0.0)
    answers = iter([(P.UNKNOWN, "no address yet"), (P.BLOCKED, "TIMEOUT"), (P.REACHABLE, "ok")])
    out = P.poll_until_match(lambda: next(answers), P.REACHABLE, timeout=30, interval=2, clock=clock,
                             sleep=clock.sleep)
    assert out == {"mark": P.REACHABLE, "detail": "ok", "attempts": 3, "history": "?X.", "span": 0.0}
    assert clock.sleeps == [2, 2]


def test_poll_needs_the_streak_to_span_min_span():
    """A blocked verdict: several failed attempts over at least min_span seconds, not one 3-second attempt."""
    clock = Clock(0.0)
    out = P.poll_until_match(lambda: (P.BLOCKED, "TIMEOUT"), P.BLOCKED, timeout=60, interval=2, clock=clock,
                             sleep=clock.sleep, stable=2, min_span=5)
    assert out["attempts"] == 4 and out["span"] == 6  # t = 0, 2, 4, 6
    clock = Clock(0.0)
    answers = iter([(P.BLOCKED, "TIMEOUT")] * 2 + [(P.REACHABLE, "ok")] + [(P.BLOCKED, "TIMEOUT")] * 9)
    out = P.poll_until_match(lambda: next(answers), P.BLOCKED, timeout=60, interval=2, clock=clock,
                             sleep=clock.sleep, stable=2, min_span=5)
    assert out["history"] == "X.X" and out["attempts"] == 7  # the streak restarts after the answer


def test_poll_gives_up_at_deadline_with_last_observation():
    clock = Clock(0.0)
    calls = []

    def attempt():
        calls.append(clock())
        return P.BLOCKED, "TIMEOUT"

    out = P.poll_until_match(attempt, P.REACHABLE, timeout=10, interval=3, clock=clock, sleep=clock.sleep)
    assert out["mark"] == P.BLOCKED and out["attempts"] == 4 and calls == [0, 3, 6, 9]


def test_poll_stable_needs_consecutive_matches():
    clock = Clock(0.0)
    answers = iter([P.BLOCKED, P.REACHABLE, P.BLOCKED, P.BLOCKED])
    out = P.poll_until_match(lambda: (next(answers), ""), P.BLOCKED, timeout=60, interval=1, clock=clock,
                             sleep=clock.sleep, stable=2)
    assert out["attempts"] == 4 and out["history"] == "X.X"


# ------------------------------------------------------------------ runner with a fake exec endpoint

class FakeExec(object):
    """Answers like agnhost would in a lab where blue pods reach blue and nothing else."""

    def __init__(self, reachable, fail_first=0):
        self.reachable = set(reachable)
        self.fail_first = fail_first
        self.calls = []

    def run(self, namespace, pod, container, command, timeout):
        self.calls.append((namespace, pod, container, tuple(command)))
        if self.fail_first:
            self.fail_first -= 1
            return {"rc": 1, "stdout": "", "stderr": "TIMEOUT", "error": None}
        addr = command[2] if command[0] == P.AGNHOST else command[-1]
        if addr in self.reachable:
            return {"rc": 0, "stdout": "", "stderr": "", "error": None}
        return {"rc": 1, "stdout": "", "stderr": "TIMEOUT", "error": None}


class FakeHost(object):
    def __init__(self, answer):
        self.answer = answer

    def probe(self, protocol, host, port, family, timeout, path):
        return self.answer


def run(probes, transport, host=None, timeout=10, **kw):
    clock = Clock(0.0)
    runner = P.make_runner(LOOKUP, transport, host or FakeHost({"rc": 0}), timeout=timeout, interval=1,
                           clock=clock, sleep=clock.sleep, **kw)
    return P.run_probes(probes, runner, concurrency=3)


def test_runner_matrix_and_reproduce():
    probes = [
        probe("blue-blue", {"kind": "pod", "namespace": "blue", "name": "app-blue-1"}),
        probe("blue-green", {"kind": "pod", "namespace": "green", "name": "app-green-1"}, expect="blocked"),
        probe("blue-locked", {"kind": "pod", "namespace": "blue", "name": "app-blue-1",
                              "network": "infrastructure-locked"}, expect="blocked"),
        probe("wrong", {"kind": "pod", "namespace": "green", "name": "app-green-1"},
              src={"namespace": "blue", "pod": "app-blue-0", "container": "agnhost-container"}),
    ]
    fake = FakeExec(["103.103.2.5:8080"])
    results = run(probes, fake, kubeconfig="/tmp/kc")
    assert [r["id"] for r in results] == ["blue-blue", "blue-green", "blue-locked", "wrong"]
    assert [r["status"] for r in results] == ["correct", "correct", "correct", "wrong"]
    wrong = results[3]
    assert wrong["observed"] == P.BLOCKED and wrong["expected"] == P.REACHABLE
    assert wrong["attempts"] == 11  # t = 0, 1, ..., 10
    assert wrong["reproduce"] == ("kubectl --kubeconfig=/tmp/kc exec -n blue app-blue-0 -c agnhost-container -- "
                                  "/agnhost connect 203.203.2.6:8080 --timeout=3s --protocol=tcp")
    assert ("blue", "app-blue-0", None, tuple(P.probe_command("tcp", "10.244.2.5", 8080))) in fake.calls
    summary = P.summarize(results)
    assert summary["line"] == "connectivity: 4 probes, 3 correct, 1 wrong, 0 unknown"


def test_runner_polls_through_cni_lag():
    fake = FakeExec(["103.103.2.5:8080"], fail_first=2)
    results = run([probe("blue-blue", {"kind": "pod", "namespace": "blue", "name": "app-blue-1"})], fake)
    assert results[0]["status"] == "correct" and results[0]["attempts"] == 3 and results[0]["history"] == "X."


def test_runner_unknown_when_target_never_resolves():
    lookup_pod = pod("blue", "app-blue-2", networks={})
    lookup = FakeLookup([BLUE0, lookup_pod])
    clock = Clock(0.0)
    runner = P.make_runner(lookup, FakeExec([]), FakeHost({}), timeout=4, interval=2, clock=clock, sleep=clock.sleep)
    res = runner(probe("late", {"kind": "pod", "namespace": "blue", "name": "app-blue-2"}))
    assert res["status"] == "unknown" and res["observed"] == P.UNKNOWN
    assert "no ipv4 address" in res["detail"]
    # forgotten after each attempt: every poll read the pod again
    assert lookup.api.calls.count(("get", "v1", "Pod", "app-blue-2", "blue")) == res["attempts"] > 1


def test_runner_selector_source_and_host_source():
    labelled = dict(BLUE0, metadata=dict(BLUE0["metadata"], labels={"app": "blue"}))
    clock = Clock(0.0)
    fake = FakeExec(["103.103.2.5:8080"])
    runner = P.make_runner(FakeLookup([labelled, BLUE1], [SVC_BLUE], NODES), fake, FakeHost({"rc": 0, "stdout": "200"}),
                           timeout=0, interval=1, clock=clock, sleep=clock.sleep)
    res = runner(probe("sel", {"kind": "pod", "namespace": "blue", "name": "app-blue-1"},
                       src={"namespace": "blue", "selector": "app=blue"}))
    assert res["status"] == "correct" and fake.calls[0][1] == "app-blue-0"
    res = runner(probe("np", {"kind": "nodeport", "namespace": "blue", "name": "service-blue"}, protocol="http",
                       port=None, src={"host": True}))
    assert res["status"] == "correct" and res["from"] == "host" and res["address"] == "172.18.0.3:31080"
    assert res["reproduce"].startswith("curl ") and "http://172.18.0.3:31080/hostname" in res["reproduce"]


def test_run_probes_turns_crash_into_unknown():
    def boom(p):
        raise RuntimeError("kaboom")
    res = P.run_probes([probe("x", {"kind": "pod", "namespace": "a", "name": "b"})], boom)
    assert res[0]["status"] == "unknown" and "kaboom" in res[0]["detail"]


# ------------------------------------------------------------------ reporting

def _results():
    fake = FakeExec(["103.103.2.5:8080"])
    return run([
        probe("blue-blue", {"kind": "pod", "namespace": "blue", "name": "app-blue-1"}),
        probe("blue-green", {"kind": "pod", "namespace": "green", "name": "app-green-1"}, expect="reachable"),
        probe("green-blue", {"kind": "pod", "namespace": "blue", "name": "app-blue-1"}, expect="blocked",
              src={"namespace": "green", "pod": "app-green-1"}),
    ], fake) + [dict(P.base_result(probe("svc", {"kind": "service", "namespace": "blue", "name": "service-blue"})),
                     observed=P.UNKNOWN, status="unknown", detail="exec failed: HTTP 404")]


def test_truth_tables():
    tables = P.truth_tables(_results())
    assert tables["expected"].splitlines()[:4] == [
        "expected (. reachable, X blocked, ? no answer, - not applicable)",
        "                   1  2  3",
        "blue/app-blue-0    .  .  .",
        "green/app-green-1  X      ",
    ]
    # the fake data plane lets everyone reach 103.103.2.5, so green -> blue is wrongly reachable
    observed = tables["observed"].splitlines()
    assert observed[2:4] == ["blue/app-blue-0    .  X  ?", "green/app-green-1  .      "]
    diff = tables["diff"].splitlines()
    assert diff[0] == "diff (. as expected, X wrong, ? unknown, - not applicable)"
    assert diff[2:4] == ["blue/app-blue-0    .  X  ?", "green/app-green-1  X      "]
    assert "   1 blue/app-blue-1 (primary) tcp/8080 ipv4" in tables["diff"].splitlines()
    assert "   3 svc blue/service-blue tcp/8080 ipv4" in tables["diff"].splitlines()


def test_probe_lines():
    lines = P.probe_lines(_results())
    assert lines[0].startswith("[ok] blue-blue: blue/app-blue-0 -> blue/app-blue-1 (primary) tcp/8080 ipv4: expected "
                               "reachable, observed reachable")
    assert lines[1].startswith("[WRONG] blue-green:")
    assert lines[3].startswith("[UNKNOWN] svc:")


def test_junit_is_well_formed_and_counts():
    xml = P.junit_xml(_results())
    root = ET.fromstring(xml)
    suite = root.find("testsuite")
    assert suite.get("tests") == "4" and suite.get("failures") == "2" and suite.get("errors") == "1"
    cases = suite.findall("testcase")
    assert [c.find("failure") is not None for c in cases] == [False, True, True, False]
    assert cases[3].find("error") is not None
    assert "reproduce: kubectl exec -n blue app-blue-0 -- /agnhost connect 203.203.2.6:8080" in cases[1].find(
        "failure").text


# ------------------------------------------------------------------ transports

class FakeWS(object):
    """The parts of kubernetes.stream.ws_client.WSClient the transport uses."""

    def __init__(self, stdout="", stderr="", returncode=0, still_open=False, fail_run=None, status=None):
        self._stdout, self._stderr, self.returncode = stdout, stderr, returncode
        self.still_open, self.fail_run = still_open, fail_run
        if status is None:
            # what a kubelet writes on the error channel (v4.channel.k8s.io)
            status = {"metadata": {}, "status": "Success"} if returncode == 0 else {
                "metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
                "message": "command terminated with non-zero exit code: error executing command [x], exit code %d"
                % returncode,
                "details": {"causes": [{"reason": "ExitCode", "message": str(returncode)}]}}
        self._status = json.dumps(status)
        self.closed = False
        self.run_timeout = None

    def run_forever(self, timeout=None):
        self.run_timeout = timeout
        if self.fail_run:
            raise self.fail_run

    def peek_stdout(self):
        return bool(self._stdout)

    def peek_stderr(self):
        return bool(self._stderr)

    def read_stdout(self):
        return self._stdout

    def read_stderr(self):
        return self._stderr

    def is_open(self):
        return self.still_open

    def read_channel(self, channel):
        assert channel == P.EXEC_ERROR_CHANNEL
        return self._status

    def close(self):
        self.closed = True


class FakeCore(object):
    def connect_get_namespaced_pod_exec(self, *args, **kwargs):  # the stream fake calls nothing; identity only
        raise AssertionError("stream() must be given the method, not call it")


class ApiError(Exception):
    def __init__(self, status, reason):
        super(ApiError, self).__init__(reason)
        self.status, self.reason = status, reason


def test_exec_transport_calls_stream_like_the_api_wants():
    core = FakeCore()
    ws = FakeWS(stderr="TIMEOUT\n", returncode=1)
    seen = {}

    def stream(method, name, namespace, **kwargs):
        seen.update(method=method, name=name, namespace=namespace, **kwargs)
        return ws

    out = P.KubernetesExecTransport(core, stream).run("red", "app-red-0", "agnhost-container-8080",
                                                      ["/agnhost", "connect", "1.2.3.4:9090"], 8)
    assert out == {"rc": 1, "stdout": "", "stderr": "TIMEOUT\n", "error": None}
    assert seen["method"] == core.connect_get_namespaced_pod_exec
    assert (seen["name"], seen["namespace"], seen["container"]) == ("app-red-0", "red", "agnhost-container-8080")
    assert seen["command"] == ["/agnhost", "connect", "1.2.3.4:9090"]
    assert seen["stdin"] is False and seen["tty"] is False and seen["_preload_content"] is False
    assert ws.run_timeout == 8 and ws.closed


def test_exec_transport_without_container_and_errors():
    seen = {}

    def stream(method, name, namespace, **kwargs):
        seen.update(kwargs)
        return FakeWS(stdout="200", returncode=0)

    assert P.KubernetesExecTransport(FakeCore(), stream).run("blue", "p", None, ["curl"], 5)["rc"] == 0
    assert "container" not in seen

    def missing(method, name, namespace, **kwargs):
        raise ApiError(404, "Not Found")

    out = P.KubernetesExecTransport(FakeCore(), missing).run("blue", "gone", None, ["x"], 5)
    assert out["error"] == "HTTP 404 Not Found" and P.classify("tcp", out)[0] == P.UNKNOWN
    hung = P.KubernetesExecTransport(FakeCore(), lambda *a, **k: FakeWS(still_open=True)).run("b", "p", None, ["x"], 5)
    assert "still running" in hung["error"]
    broken = P.KubernetesExecTransport(FakeCore(), lambda *a, **k: FakeWS(fail_run=OSError("reset"))).run(
        "b", "p", None, ["x"], 5)
    assert broken["error"] == "OSError: reset"


def test_exec_never_swaps_the_transport_of_the_client_the_lookups_share():
    """kubernetes.stream.stream (the real one, with a fake websocket) swaps call_api on the ApiClient of the
    method it is given while the socket opens; a lookup thread using that client meanwhile would send its GET as
    a websocket handshake. With ``new_api`` the shared client is never touched."""
    client = pytest.importorskip("kubernetes.client")
    from kubernetes.stream.stream import _websocket_request

    shared = client.CoreV1Api(client.ApiClient(client.Configuration()))
    untouched = []

    def websocket_call(configuration, method, url, **kwargs):
        untouched.append(shared.api_client.call_api == shared.api_client.__class__.call_api.__get__(shared.api_client))
        return FakeWS(stdout="ok", returncode=0)

    stream = functools.partial(_websocket_request, websocket_call, None)
    private = P.KubernetesExecTransport(shared, stream, new_api=lambda: client.CoreV1Api(
        client.ApiClient(shared.api_client.configuration)))
    assert private.run("blue", "p", None, ["true"], 5)["rc"] == 0
    assert untouched == [True]
    # the hazard itself, as the shared client would see it without new_api
    assert P.KubernetesExecTransport(shared, stream).run("blue", "p", None, ["true"], 5)["rc"] == 0
    assert untouched == [True, False]


class FakeSock(object):
    def __init__(self, answer=b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nlab-worker-pod"):
        self.answer, self.sent, self.closed = answer, b"", False

    def settimeout(self, t):
        pass

    def sendall(self, data):
        self.sent += data

    def recv(self, n):
        answer, self.answer = self.answer, b""  # then the server closes
        return answer

    def close(self):
        self.closed = True


def test_host_transport_tcp_http_and_failures():
    sock = FakeSock()
    host = P.HostTransport(connect=lambda addr, timeout: sock)
    assert P.classify("tcp", host.probe("tcp", "172.18.0.3", 31080, "ipv4", 3, "/")) == (P.REACHABLE, "ok")
    out = host.probe("http", "172.18.0.3", 31080, "ipv4", 3, "/hostname")
    assert P.classify("http", out) == (P.REACHABLE, "HTTP 200 from lab-worker-pod")
    assert sock.sent.startswith(b"GET /hostname HTTP/1.0")
    sock = FakeSock()
    out = P.HostTransport(connect=lambda addr, timeout: sock).probe("http", "172.18.0.3", 31080, "ipv4", 3, "/hostname")
    assert P.classify("http", out, hostnames=["lab-worker-pod"]) == (P.REACHABLE, "HTTP 200 from lab-worker-pod")

    def refuse(addr, timeout):
        raise ConnectionRefusedError()

    def slow(addr, timeout):
        raise socket.timeout()

    assert P.classify("tcp", P.HostTransport(connect=refuse).probe("tcp", "h", 1, "ipv4", 3, "/"))[0] == P.BLOCKED
    assert P.classify("http", P.HostTransport(connect=refuse).probe("http", "h", 1, "ipv4", 3, "/"))[0] == P.BLOCKED
    assert P.classify("http", P.HostTransport(connect=slow).probe("http", "h", 1, "ipv4", 3, "/"))[0] == P.BLOCKED
    garbage = P.HostTransport(connect=lambda a, t: FakeSock(b"SSH-2.0"))
    assert P.classify("http", garbage.probe("http", "h", 22, "ipv4", 3, "/"))[0] == P.UNKNOWN


def test_host_transport_icmp_uses_local_ping():
    seen = []

    def run_cmd(argv, timeout):
        seen.append(argv)
        return {"rc": 127, "stdout": "", "stderr": "ping: not found in $PATH", "error": None}

    out = P.HostTransport(run_cmd=run_cmd).probe("icmp", "8.8.8.8", None, "ipv4", 2, "/")
    assert seen == [["ping", "-4", "-c", "1", "-W", "2", "8.8.8.8"]] and P.classify("icmp", out)[0] == P.UNKNOWN


# ------------------------------------------------------------------ lookups and preflight

def test_kubernetes_lookup_caches_and_forgets():
    labelled = dict(BLUE0, metadata=dict(BLUE0["metadata"], labels={"x": "y"}))
    lookup = FakeLookup([labelled, BLUE1])

    def reads():
        return lookup.api.calls.count(("get", "v1", "Pod", "app-blue-0", "blue"))

    assert lookup.get_pod("blue", "app-blue-0")["metadata"]["name"] == "app-blue-0"
    lookup.get_pod("blue", "app-blue-0")
    assert reads() == 1
    lookup.forget("pod", "blue", "app-blue-0")
    lookup.get_pod("blue", "app-blue-0")
    assert reads() == 2
    assert lookup.get_pod("blue", "nope") is None
    assert lookup.find_pod("blue", "x=y")["metadata"]["name"] == "app-blue-0"
    assert lookup.find_pod("blue", "x=z") is None
    with pytest.raises(RuntimeError, match="reads no container logs"):
        lookup.read_log("blue", "app-blue-0", None, 5)


def test_preflight_names_missing_objects():
    lookup = FakeLookup([BLUE0, BLUE1])
    errors = P.preflight([
        probe("typo", {"kind": "pod", "namespace": "blue", "name": "app-blue-9"}),
        probe("nons", {"kind": "pod", "namespace": "blue", "name": "app-blue-1"},
              src={"namespace": "purple", "pod": "app-purple-0"}),
        probe("ok", {"kind": "pod", "namespace": "blue", "name": "app-blue-1"}),
    ], lookup)
    assert errors == [
        "probe 'typo': target pod blue/app-blue-9 not found (pods in blue: app-blue-0, app-blue-1)",
        "probe 'nons': source namespace 'purple' not found",
    ]


def test_exit_code_from_kubelet_status():
    ok = json.dumps({"status": "Success"})
    failed = json.dumps({"status": "Failure", "reason": "NonZeroExitCode",
                         "details": {"causes": [{"reason": "ExitCode", "message": "7"}]}})
    assert P.exit_code_from_status(ok) == (0, None)
    assert P.exit_code_from_status(failed) == (7, None)


def test_exit_code_from_a_status_that_only_has_a_message():
    # kwok's kubelet API: no causes, the code only in the message
    kwok = json.dumps({"status": "Failure", "message": "Internal error occurred: error executing command in container: "
                       "cmd wait: ping -4 -c 1 -W 3 103.103.1.3: exit status 1"})
    assert P.exit_code_from_status(kwok) == (1, None)


def test_exit_code_unknown_is_an_error_not_a_guess():
    rc, error = P.exit_code_from_status(json.dumps({"status": "Failure", "message": "container not found"}))
    assert rc is None and "container not found" in error
    assert P.exit_code_from_status("")[0] is None
    assert P.exit_code_from_status("<html>")[0] is None


def test_exec_transport_reads_a_message_only_status():
    status = {"status": "Failure", "message": "error executing command: exit status 1"}
    ws = FakeWS(stderr="", returncode=None, status=status)
    out = P.KubernetesExecTransport(FakeCore(), lambda *a, **k: ws).run("b", "p", None, ["ping"], 5)
    assert out == {"rc": 1, "stdout": "", "stderr": "", "error": None}


# ------------------------------------------------------------------ claims that cannot apply

# What a real dual-stack kube-apiserver returns for default/kubernetes: single-stack, the first family of the
# service range (--service-cluster-ip-range=10.96.0.0/16,fd00:10:96::/112).
KUBERNETES_DUAL_CLUSTER = {"metadata": {"name": "kubernetes", "namespace": "default"},
                           "spec": {"clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"], "ipFamilies": ["IPv4"],
                                    "ipFamilyPolicy": "SingleStack", "type": "ClusterIP",
                                    "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}}


def test_an_api_claim_in_the_other_family_of_a_dual_stack_cluster_is_not_applicable():
    lookup = FakeLookup([BLUE0, BLUE1], [KUBERNETES_DUAL_CLUSTER], NODES)
    clock = Clock(0.0)
    fake = FakeExec(["10.96.0.1:443"])
    runner = P.make_runner(lookup, fake, FakeHost({}), timeout=30, interval=2, clock=clock, sleep=clock.sleep)
    api = probe("blue-to-api", {"kind": "kubernetes_api"}, port=None)
    del api["family"]
    probes = P.expand_families([api], ["ipv4", "ipv6"])
    results = [runner(p) for p in probes]
    assert [(r["family"], r["status"]) for r in results] == [("ipv4", "correct"), ("ipv6", "not applicable")]
    skipped = results[1]
    assert skipped["observed"] == P.NOT_APPLICABLE and skipped["attempts"] == 0
    assert "has no ipv6 ClusterIP in this cluster (ipFamilies IPv4)" in skipped["detail"]
    assert clock.sleeps == []  # no polling for a claim that cannot apply
    summary = P.summarize(results)
    assert summary["line"] == "connectivity: 2 probes, 1 correct, 0 wrong, 0 unknown, 1 not applicable"
    assert "<skipped message=\"not applicable: the Kubernetes API Service" in P.junit_xml(results)
    assert P.truth_tables(results)["diff"].count("-") >= 1
    assert P.probe_lines(results)[1].startswith("[N/A] blue-to-api/ipv6")


def test_a_lab_service_without_a_family_stays_unresolved_not_skipped():
    """Only the API Service is single-stack by design: a workshop Service missing a family is a real problem."""
    svc = dict(SVC_BLUE, spec=dict(SVC_BLUE["spec"], clusterIPs=["10.96.10.10"]))
    with pytest.raises(P.Unresolved, match="no ipv6 ClusterIP"):
        P.resolve_target(probe("s", {"kind": "service", "namespace": "blue", "name": "service-blue"}, family="ipv6"),
                         FakeLookup([BLUE0], [svc], NODES))


# --------------------------------------------------------------------------- results carried across runs


def _res(pid, status="correct", phase="always", **extra):
    return dict({"id": pid, "status": status, "phase": phase, "from": "a", "to": "b", "expected": ".",
                 "observed": "." if status == "correct" else "?", "detail": "", "claim": ""}, **extra)


def test_carry_over_marks_what_this_run_did_not_prove_with_the_time_of_the_run_that_did():
    previous = {"run_at": "2026-12-01T10:00:00Z", "results": [
        _res("red-to-yellow", phase="before_policy"),
        _res("red-to-kapi", phase="before_policy", proven_at="2026-11-30T09:00:00Z", carried=True),
        _res("blue-to-blue"),                                # re-run now: the new result wins
        _res("red-to-yellow-9090-after-policy", phase="after_policy"),  # not a carried phase: dropped
    ]}
    current = [_res("blue-to-blue"), _res("red-to-yellow-9090-after-policy", phase="after_policy")]
    order = ["blue-to-blue", "red-to-yellow", "red-to-kapi", "red-to-yellow-9090-after-policy"]
    merged = P.carry_over(previous, current, order, "2026-12-06T17:00:00Z")
    assert [(r["id"], r["carried"], r["proven_at"]) for r in merged] == [
        ("blue-to-blue", False, "2026-12-06T17:00:00Z"),
        ("red-to-yellow", True, "2026-12-01T10:00:00Z"),
        ("red-to-kapi", True, "2026-11-30T09:00:00Z"),       # keeps the time of the run that proved it
        ("red-to-yellow-9090-after-policy", False, "2026-12-06T17:00:00Z")]
    summary = P.summarize(merged)
    assert summary["carried"] == 2
    assert summary["line"].endswith("; 2 carried from an earlier run, not re-proven by this one")
    lines = P.probe_lines(merged)
    assert "[carried: proven by the run of 2026-12-01T10:00:00Z, not re-proven]" in lines[1]
    assert "carried" not in lines[0]


def test_carry_over_keeps_a_failed_claim_failed_and_orders_dual_stack_ids_by_their_probe():
    previous = {"results": [_res("red-to-yellow/ipv6", status="unknown", phase="before_policy"),
                            _res("red-to-yellow/ipv4", phase="before_policy")]}
    current = [_res("blue-to-blue/ipv4"), _res("blue-to-blue/ipv6")]
    merged = P.carry_over(previous, current, ["red-to-yellow", "blue-to-blue"], "now")
    assert [r["id"] for r in merged] == ["red-to-yellow/ipv6", "red-to-yellow/ipv4", "blue-to-blue/ipv4",
                                         "blue-to-blue/ipv6"]
    assert merged[0]["status"] == "unknown" and merged[0]["carried"] and merged[0]["proven_at"] == "unknown"
    assert P.summarize(merged)["unknown"] == 1
    # no earlier document: only this run's results, stamped
    assert [r["carried"] for r in P.carry_over(None, current, [], "now")] == [False, False]


def test_probe_namespaces_are_where_a_network_policy_can_change_a_verdict():
    probes = [{"from": {"namespace": "red", "pod": "a"}, "to": {"kind": "pod", "namespace": "yellow", "name": "b"}},
              {"from": {"host": True}, "to": {"kind": "nodeport", "namespace": "blue", "name": "s"}},
              {"from": {"namespace": "green", "pod": "c"}, "to": {"kind": "kubernetes_api"}},
              {"from": {"namespace": "green", "pod": "c"}, "to": {"kind": "address", "address": "8.8.8.8"}}]
    assert P.probe_namespaces(probes) == ["blue", "green", "red", "yellow"]


# ------------------------------------------------------------------ "blocked", proven at the receiver

def netexec_pod(base, containers):
    out = json.loads(json.dumps(base))
    out["spec"] = {"containers": containers}
    return out


GREEN_NETEXEC = netexec_pod(GREEN1, [{"name": "agnhost-container", "args": ["netexec", "--http-port=8080"]}])
YELLOW_NO_UDP = netexec_pod(udn_pod("yellow", "app-yellow-1", "192.168.0.7", "10.244.1.7", "colored-enterprise"), [
    {"name": "agnhost-container-8080", "args": ["netexec", "--http-port=8080", "--udp-port=-1"]},
    {"name": "agnhost-container-9090", "args": ["netexec", "--http-port=9090", "--udp-port=-1"]}])


class Logs(object):
    """The target containers' logs: what ``logged`` holds for a (ns, pod, container), as the API returns it."""

    def __init__(self, logged=None, broken=False):
        self.logged = logged or {}
        self.reads = []
        self.broken = broken

    def __call__(self, ns, name, container, since_seconds):
        self.reads.append((ns, name, container, since_seconds))
        if self.broken:
            raise RuntimeError("logs unavailable")
        return self.logged.get((ns, name, container), "")


def WitnessLookup(pods, logged=None, broken=False):
    return FakeLookup(pods, logs=Logs(logged, broken))


def witnessed_run(lookup, transport, probes):
    clock = Clock(0.0)
    runner = P.make_runner(lookup, transport, FakeHost({}), timeout=10, interval=1, clock=clock, sleep=clock.sleep,
                           new_nonce=lambda: "udnlabfeedface01", wall_clock=clock)
    return P.run_probes(probes, runner, concurrency=1)


def test_a_blocked_ping_is_followed_by_a_udp_witness_and_the_targets_log_is_read():
    lookup = WitnessLookup([BLUE0, GREEN_NETEXEC])
    transport = FakeExec([])
    (res,) = witnessed_run(lookup, transport, [{"id": "blue-to-green", "from": {"namespace": "blue", "pod": "app-blue-0"},
                                                "to": {"kind": "pod", "namespace": "green", "name": "app-green-1"},
                                                "protocol": "icmp", "expect": "blocked"}])
    assert res["status"] == "correct"
    assert res["receiver"] == {"verdict": "nothing arrived", "witness": "udp", "nonce": "udnlabfeedface01",
                               "log": "green/app-green-1:agnhost-container", "seconds": res["receiver"]["seconds"]}
    assert res["receiver"]["seconds"] >= 5 + 5  # the whole window (>= 5 s of failures) and a margin
    assert transport.calls[-1] == ("blue", "app-blue-0", None, (
        "sh", "-c", "echo 'echo udnlabfeedface01' | nc -u -w1 203.203.2.6 8081 >/dev/null 2>&1; true"))
    assert lookup.logs.reads == [("green", "app-green-1", "agnhost-container", res["receiver"]["seconds"])]
    assert P.summarize([res])["line"].endswith("; 1 blocked claims confirmed at the receiver")
    assert "[receiver: nothing of this probe in green/app-green-1:agnhost-container's log" in P.probe_lines([res])[0]


def test_a_packet_the_target_logged_makes_the_blocked_claim_wrong_whatever_the_source_saw():
    line = "2026/12/06 17:00:01 Echoing udnlabfeedface01 to UDP client 103.103.1.4:40000"
    lookup = WitnessLookup([BLUE0, GREEN_NETEXEC], {("green", "app-green-1", "agnhost-container"): line + "\n"})
    (res,) = witnessed_run(lookup, FakeExec([]), [{
        "id": "blue-to-green", "from": {"namespace": "blue", "pod": "app-blue-0"},
        "to": {"kind": "pod", "namespace": "green", "name": "app-green-1"}, "protocol": "icmp", "expect": "blocked"}])
    assert res["observed"] == "X" and res["status"] == "wrong"
    assert res["receiver"]["verdict"] == "arrived" and res["receiver"]["line"] == line
    assert "yet the target logged this probe's nonce: the packet reached it" in res["detail"]


def test_a_blocked_http_probe_carries_its_nonce_in_the_echo_path_and_reads_the_serving_containers_log():
    lookup = WitnessLookup([netexec_pod(udn_pod("red", "app-red-0", "192.168.0.5", "10.244.1.5", "colored-enterprise"), []),
                            YELLOW_NO_UDP])

    class CurlTimesOut(FakeExec):
        def run(self, namespace, pod, container, command, timeout):
            self.calls.append((namespace, pod, container, tuple(command)))
            return {"rc": 28, "stdout": "", "stderr": "curl: (28) Connection timed out", "error": None}

    transport = CurlTimesOut([])
    (res,) = witnessed_run(lookup, transport, [{
        "id": "red-to-yellow-9090", "from": {"namespace": "red", "pod": "app-red-0", "container": "c"},
        "to": {"kind": "pod", "namespace": "yellow", "name": "app-yellow-1"}, "protocol": "http", "port": 9090,
        "expect": "blocked"}])
    assert transport.calls[0][3][-1] == "http://192.168.0.7:9090/echo?msg=udnlabfeedface01"
    assert res["receiver"]["witness"] == "http" and res["receiver"]["log"] == "yellow/app-yellow-1:agnhost-container-9090"
    # no UDP datagram: the HTTP request itself is the witness
    assert not [c for c in transport.calls if c[3][0] == "sh"]


def test_without_a_witness_the_claim_says_why_and_stands_on_the_source_alone():
    lookup = WitnessLookup([netexec_pod(udn_pod("red", "app-red-0", "192.168.0.5", "10.244.1.5", "colored-enterprise"), []),
                            YELLOW_NO_UDP])
    (res,) = witnessed_run(lookup, FakeExec([]), [{
        "id": "red-to-yellow-icmp", "from": {"namespace": "red", "pod": "app-red-0"},
        "to": {"kind": "pod", "namespace": "yellow", "name": "app-yellow-1"}, "protocol": "icmp", "expect": "blocked"}])
    assert res["status"] == "correct"
    assert res["receiver"] == {"verdict": "no witness",
                               "why": "the target's netexec has no UDP server (--udp-port=-1) to log a witness"}
    assert lookup.logs.reads == []
    broken = WitnessLookup([BLUE0, GREEN_NETEXEC], broken=True)
    (res,) = witnessed_run(broken, FakeExec([]), [{
        "id": "blue-to-green", "from": {"namespace": "blue", "pod": "app-blue-0"},
        "to": {"kind": "pod", "namespace": "green", "name": "app-green-1"}, "protocol": "icmp", "expect": "blocked"}])
    assert res["status"] == "correct" and res["receiver"]["verdict"] == "no witness"
    assert res["receiver"]["why"] == "cannot read agnhost-container's log: RuntimeError: logs unavailable"


def test_reachable_claims_and_host_probes_carry_no_witness():
    lookup = WitnessLookup([BLUE0, netexec_pod(BLUE1, [{"name": "a", "args": ["netexec"]}])])
    (res,) = witnessed_run(lookup, FakeExec(["103.103.2.5"]), [{
        "id": "blue-to-blue", "from": {"namespace": "blue", "pod": "app-blue-0"},
        "to": {"kind": "pod", "namespace": "blue", "name": "app-blue-1"}, "protocol": "icmp", "expect": "reachable"}])
    assert "receiver" not in res and lookup.logs.reads == []


def test_netexec_servers_follow_agnhost_flags_and_defaults():
    assert P.netexec_servers(GREEN_NETEXEC) == [{"container": "agnhost-container", "http_port": 8080, "udp_port": 8081}]
    assert [s["udp_port"] for s in P.netexec_servers(YELLOW_NO_UDP)] == [-1, -1]
    assert P.netexec_servers({"spec": {"containers": [{"name": "x", "args": ["pause"]}]}}) == []
    assert P.nonce_in_log("a\n2026/12/06 Echoing UDNLABFEEDFACE01 to\n", "udnlabfeedface01").startswith("2026/12/06")
