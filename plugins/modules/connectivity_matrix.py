#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: connectivity_matrix
short_description: Prove declared pod connectivity claims with an expected vs observed truth table
version_added: 0.1.0
author:
  - ovnk.udn_lab maintainers (@ovnk)
description:
  - Runs declared probes from a pod container (through the Kubernetes exec API) or from the host running the
    module to a target, and compares what it observes with what each probe expects.
  - "A target is a pod (by name, resolved to its address on its primary network, the default network, the
    infrastructure-locked default network or a secondary network from the C(k8s.ovn.org/pod-networks)
    annotation), a ClusterIP service, a NodePort on a node IP, the Kubernetes API service, a DNS name or an
    address."
  - Probes run concurrently (at most O(concurrency) at a time); each is repeated until it shows the expected
    result or O(timeout) is spent, which absorbs the delay until the CNI programs a new pod.
  - "Returns expected, observed and diff truth tables (V(.) reachable, V(X) blocked, V(?) no answer), a one-line
    summary, a JSON-ready report, JUnit XML and, for every probe that does not match, a command reproducing it."
  - Before any probe runs, every source and target pod, service and namespace is checked to exist; a missing one
    fails the task naming the probe and what exists instead.
  - Commands run inside the pod come from the agnhost test image (C(/agnhost connect), C(curl), C(ping), C(nc)).
  - A V(blocked) probe between pods is also judged at the receiver, when the target runs agnhost netexec; see
    RV(results[].receiver).
  - Probes only read; the module never changes the cluster and also runs in check mode.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  probes:
    description:
      - The probes, in the order they are reported.
    type: list
    elements: dict
    required: true
    suboptions:
      id:
        description: Unique name of the probe (used in tables, JUnit and failure messages).
        type: str
        required: true
      claim:
        description: The sentence this probe proves, for humans.
        type: str
        default: ""
      phase:
        description: Free label grouping probes (for example the workshop step); reported and used as JUnit class.
        type: str
        default: ""
      tags:
        description: Free labels (for example V(egress)); reported only.
        type: list
        elements: str
        default: []
      from:
        description: Where the probe runs.
        type: dict
        required: true
        suboptions:
          host:
            description: Run from the machine running the module instead of a pod.
            type: bool
            default: false
          namespace:
            description: Namespace of the source pod.
            type: str
          pod:
            description: Name of the source pod.
            type: str
          selector:
            description: Label selector choosing the source pod (first running pod by name) when O(probes[].from.pod) is not set.
            type: str
          container:
            description: Container to exec into (the pod's default container when unset).
            type: str
      to:
        description: What the probe tries to reach.
        type: dict
        required: true
        suboptions:
          kind:
            description:
              - V(pod) a pod's address on O(probes[].to.network); V(service) a service ClusterIP; V(nodeport) a
                service's NodePort on a node InternalIP; V(kubernetes_api) the ClusterIP of C(default/kubernetes);
                V(dns) a DNS name; V(address) a literal address.
            type: str
            choices: [pod, service, nodeport, kubernetes_api, dns, address]
            default: pod
          namespace:
            description: Namespace of the target pod or service.
            type: str
          name:
            description: Name of the target pod or service, or the DNS name for V(dns).
            type: str
          network:
            description:
              - For V(pod) targets, which of the pod's networks to use.
              - V(primary) (the primary UDN, else the default network), V(default), V(infrastructure-locked), or a
                network attachment C(<namespace>/<name>) or C(<name>) (namespace of the target pod).
            type: str
            default: primary
          node:
            description: For V(nodeport), the node whose InternalIP is used (default the first worker by name).
            type: str
          prefer_node:
            description:
              - For V(nodeport) without O(probes[].to.node), the node to use when it exists (the node the workshop
                names, for example V(ovn-k-helm-worker)); otherwise the first worker by name.
            type: str
          service_port:
            description: For services, the port name or number to use (default the first port).
            type: raw
          address:
            description: For V(address), an IP address, or a dict C(ipv4)/C(ipv6) to an address.
            type: raw
          answered_by:
            description:
              - For V(address) with O(probes[].expect=reachable) over HTTP C(/hostname), the names of the pods that
                may answer; an answer from any other is wrong (for example the pod of another network that holds
                the same address).
            type: list
            elements: str
      protocol:
        description: V(icmp) (ping), V(tcp) (connect) or V(http) (any HTTP answer counts as reachable).
        type: str
        choices: [icmp, tcp, http]
        default: tcp
      port:
        description: Target port; for services the service port is used when unset.
        type: int
      path:
        description: HTTP path.
        type: str
        default: /hostname
      family:
        description: IP family of the target address; unset means one probe per family in O(ip_families).
        type: str
        choices: [ipv4, ipv6]
      expect:
        description: What the probe must observe.
        type: str
        choices: [reachable, blocked]
        required: true
  ip_families:
    description: Families probes without O(probes[].family) are expanded to (ids get a C(/<family>) suffix when two).
    type: list
    elements: str
    choices: [ipv4, ipv6]
    default: [ipv4]
  concurrency:
    description: At most this many probes run at the same time.
    type: int
    default: 8
  timeout:
    description: Seconds each probe is repeated until it matches its expectation.
    type: int
    default: 60
  interval:
    description: Seconds between two attempts of one probe.
    type: float
    default: 2
  attempt_timeout:
    description: Seconds one attempt (connect, HTTP request, echo reply) may take.
    type: int
    default: 3
  stable_attempts:
    description: Consecutive matching attempts needed before a probe counts as matching.
    type: int
    default: 1
  blocked_min_seconds:
    description:
      - A probe expected V(blocked) counts as blocked only after at least two failed attempts in a row spanning
        this many seconds. One attempt that times out proves little; isolation is judged over several seconds, as
        OVN-Kubernetes' e2e does. The result says how long the failures lasted (C(span_seconds)).
    type: float
    default: 5
  fail_on_mismatch:
    description: Fail the task when a probe is wrong (or unknown, see O(fail_on_unknown)); V(false) only reports.
    type: bool
    default: true
  fail_on_unknown:
    description: Count probes without an answer (exec failed, target unresolved) as failures.
    type: bool
    default: true
  own_labels:
    description:
      - The labels every object the caller made carries. When set, before any probe the module lists the
        policies that can change a verdict and that do not carry them all, as RV(foreign_policies). These are the
        NetworkPolicies in the namespaces the probes run in or target, and every AdminNetworkPolicy and
        BaselineAdminNetworkPolicy (an API the cluster does not serve is named as such).
      - They are only reported; a verdict they change is still judged against the probe's expectation.
    type: dict
    default: {}
requirements:
  - kubernetes >= 29.0.0 (Python client, only when a probe runs from a pod or names a cluster object)
notes:
  - The reproduce commands use C(kubectl exec) with O(kubeconfig) and O(context) when they are set.
  - Host probes use Python sockets for V(tcp) and V(http) and the local C(ping) for V(icmp).
seealso:
  - module: kubernetes.core.k8s_exec
"""

EXAMPLES = r"""
- name: Prove the blue network is isolated from the green one
  ovnk.udn_lab.connectivity_matrix:
    kubeconfig: "{{ udn_lab_kubeconfig }}"
    probes:
      - id: blue-to-blue
        claim: pods of one UDN reach each other on their primary address
        from: {namespace: blue, pod: app-blue-0}
        to: {kind: pod, namespace: blue, name: app-blue-1}
        protocol: tcp
        port: 8080
        expect: reachable
      - id: blue-to-green
        claim: a UDN is isolated from another UDN
        from: {namespace: blue, pod: app-blue-0}
        to: {kind: pod, namespace: green, name: app-green-1}
        protocol: tcp
        port: 8080
        expect: blocked
      - id: host-to-nodeport
        from: {host: true}
        to: {kind: nodeport, namespace: blue, name: service-blue}
        protocol: http
        expect: reachable
  register: matrix

- name: Show the diff table
  ansible.builtin.debug:
    msg: "{{ matrix.tables.diff.splitlines() }}"

- name: Only report, on both families
  ovnk.udn_lab.connectivity_matrix:
    probes: "{{ my_probes }}"
    ip_families: [ipv4, ipv6]
    fail_on_mismatch: false
  register: matrix
"""

RETURN = r"""
results:
  description: One entry per probe (after family expansion), in declaration order.
  returned: always
  type: list
  elements: dict
  sample:
    - id: blue-to-green
      claim: a UDN is isolated from another UDN
      phase: ""
      from: blue/app-blue-0
      to: green/app-green-1 (primary) tcp/8080 ipv4
      protocol: tcp
      port: 8080
      family: ipv4
      expect: blocked
      expected: X
      observed: X
      status: correct
      detail: TIMEOUT
      attempts: 3
      history: X
      span_seconds: 7.1
      address: 203.203.2.4:8080
      command: [/agnhost, connect, "203.203.2.4:8080", --timeout=3s, --protocol=tcp]
      reproduce: kubectl exec -n blue app-blue-0 -- /agnhost connect 203.203.2.4:8080 --timeout=3s --protocol=tcp
  contains:
    id:
      description: Probe id (with a C(/<family>) suffix when expanded to two families).
      type: str
    claim:
      description: The claim the probe proves.
      type: str
    phase:
      description: The probe's O(probes[].phase).
      type: str
    from:
      description: Source label (C(<namespace>/<pod>[:<container>]) or C(host)).
      type: str
    to:
      description: Target label (target, network, protocol/port, family); the column of the truth tables.
      type: str
    protocol:
      description: V(icmp), V(tcp) or V(http).
      type: str
    port:
      description: Declared port (null when taken from the service).
      type: int
    family:
      description: V(ipv4) or V(ipv6).
      type: str
    expect:
      description: V(reachable) or V(blocked).
      type: str
    expected:
      description: Expected mark, V(.) or V(X).
      type: str
    observed:
      description: Observed mark of the last attempt, V(.), V(X) or V(?).
      type: str
    status:
      description: V(correct), V(wrong) or V(unknown).
      type: str
    detail:
      description: What the last attempt saw (for example C(TIMEOUT), C(HTTP 200), an exec error).
      type: str
    attempts:
      description: Attempts made before the probe matched or the timeout was spent.
      type: int
    history:
      description: Distinct marks seen over the attempts, in order (for example C(?X.)).
      type: str
    span_seconds:
      description: How long the final run of equal observations lasted (a blocked verdict needs at least
        O(blocked_min_seconds)).
      type: float
    address:
      description: Resolved target address (C(host:port) when a port applies).
      type: str
    command:
      description: The argv of the last attempt.
      type: list
      elements: str
    reproduce:
      description: A command reproducing the probe (C(kubectl exec ...) for pod sources).
      type: str
    receiver:
      description:
        - For a V(blocked) probe from a pod to a pod, what the target's log says. The probe carries a nonce (HTTP
          C(/echo?msg=<nonce>); other protocols one UDP C(echo <nonce>) to the target's agnhost netexec), and the
          target container's log over the probe window is read back.
        - C(verdict) V(nothing arrived) (with C(witness), C(nonce), C(log), C(seconds)), V(arrived) (with the
          C(line) that holds the nonce; the result is then wrong whatever the source saw) or V(no witness) (with
          C(why)).
      type: dict
      returned: for blocked probes between pods that were observed blocked
tables:
  description: Text truth tables, rows = sources and numbered columns = targets (legend under each table).
  returned: always
  type: dict
  contains:
    expected:
      description: Expected marks (V(.) reachable, V(X) blocked).
      type: str
    observed:
      description: Observed marks (V(.) reachable, V(X) blocked, V(?) no answer).
      type: str
    diff:
      description: V(.) as expected, V(X) wrong, V(?) unknown.
      type: str
summary:
  description: Counts of probes by status and a one-line text.
  returned: always
  type: dict
  sample: {total: 18, correct: 17, wrong: 1, unknown: 0, line: "connectivity: 18 probes, 17 correct, 1 wrong, 0 unknown"}
lines:
  description: One line per probe with its status, expected and observed result.
  returned: always
  type: list
  elements: str
mismatches:
  description: The results whose status is not correct, each with its RV(results[].reproduce) command.
  returned: always
  type: list
  elements: dict
junit_xml:
  description: JUnit XML (one testcase per probe; wrong probes are failures, unknown ones errors).
  returned: always
  type: str
foreign_policies:
  description: The policies the caller did not make that can change a verdict, read before any probe ran.
  returned: when O(own_labels) is set and a probe involves the cluster
  type: dict
  contains:
    policies:
      description: One entry per policy, C(kind), C(namespace) (null for cluster-scoped ones) and C(name).
      type: list
      elements: dict
    not_served:
      description: Policy kinds this cluster's API does not serve.
      type: list
      elements: str
    line:
      description: One line naming them, or saying there are none.
      type: str
  sample:
    policies: [{kind: NetworkPolicy, namespace: blue, name: deny-all}]
    not_served: [AdminNetworkPolicy, BaselineAdminNetworkPolicy]
    line: "policies the lab did not make that can change a verdict: NetworkPolicy blue/deny-all; not served ..."
"""

import traceback

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule

from ansible_collections.ovnk.udn_lab.plugins.module_utils import probes as P
from ansible_collections.ovnk.udn_lab.plugins.module_utils.k8s import AUTH_ARG_SPEC, KubeApi, client_from_module

try:
    from kubernetes import client as k8s_client
    from kubernetes.dynamic.exceptions import ResourceNotFoundError
    from kubernetes.stream import stream as k8s_stream
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()

    class ResourceNotFoundError(Exception):
        """Stand-in when the kubernetes client is missing (build_cluster fails first)."""

FROM_SPEC = dict(
    host=dict(type="bool", default=False),
    namespace=dict(type="str"),
    pod=dict(type="str"),
    selector=dict(type="str"),
    container=dict(type="str"),
)
TO_SPEC = dict(
    kind=dict(type="str", choices=list(P.TARGET_KINDS), default="pod"),
    namespace=dict(type="str"),
    name=dict(type="str"),
    network=dict(type="str", default="primary"),
    node=dict(type="str"),
    prefer_node=dict(type="str"),
    service_port=dict(type="raw"),
    address=dict(type="raw"),
    answered_by=dict(type="list", elements="str"),
)
PROBE_SPEC = {
    "id": dict(type="str", required=True),
    "claim": dict(type="str", default=""),
    "phase": dict(type="str", default=""),
    "tags": dict(type="list", elements="str", default=[]),
    "from": dict(type="dict", required=True, options=FROM_SPEC),
    "to": dict(type="dict", required=True, options=TO_SPEC),
    "protocol": dict(type="str", choices=list(P.PROTOCOLS), default="tcp"),
    "port": dict(type="int"),
    "path": dict(type="str", default=P.DEFAULT_HTTP_PATH),
    "family": dict(type="str", choices=list(P.FAMILIES)),
    "expect": dict(type="str", choices=list(P.EXPECT_MARKS), required=True),
}


def argument_spec():
    spec = dict(AUTH_ARG_SPEC)
    spec.update(
        probes=dict(type="list", elements="dict", required=True, options=PROBE_SPEC),
        ip_families=dict(type="list", elements="str", choices=list(P.FAMILIES), default=["ipv4"]),
        concurrency=dict(type="int", default=8),
        timeout=dict(type="int", default=60),
        interval=dict(type="float", default=2),
        attempt_timeout=dict(type="int", default=3),
        stable_attempts=dict(type="int", default=1),
        blocked_min_seconds=dict(type="float", default=5),
        fail_on_mismatch=dict(type="bool", default=True),
        fail_on_unknown=dict(type="bool", default=True),
        own_labels=dict(type="dict", default={}),
    )
    return spec


def needs_cluster(probes):
    """True when a probe runs in a pod or names a cluster object."""
    for probe in probes:
        if not probe["from"].get("host") or probe["to"].get("kind") not in ("dns", "address"):
            return True
    return False


def build_cluster(module):
    """``(lookup, pod_transport)`` over a real API server (kubernetes.core connection options)."""
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=KUBERNETES_IMPORT_ERROR)
    dyn = client_from_module(module)
    core_v1 = k8s_client.CoreV1Api(dyn.client)
    configuration = dyn.client.configuration

    def exec_api():
        # each exec on its own ApiClient: stream() swaps the transport of the client it is given (see the class)
        return k8s_client.CoreV1Api(k8s_client.ApiClient(configuration))

    def read_log(namespace, name, container, since_seconds):
        return core_v1.read_namespaced_pod_log(name, namespace, container=container, since_seconds=since_seconds,
                                               _preload_content=False).data

    api = KubeApi(dyn)
    # the kinds the probes read, resolved once before the probes' threads share the client
    for kind in ("Pod", "Service", "Namespace", "Node"):
        api.resource("v1", kind)
    return P.KubernetesLookup(api, logs=read_log), P.KubernetesExecTransport(core_v1, k8s_stream, new_api=exec_api)


def read_policies(module, namespaces):
    """``{kind: [object] | None}`` of the policy kinds of ``P.POLICY_APIS`` (None: the API is not served)."""
    dyn = client_from_module(module)
    out = {}
    for kind, api_version, namespaced in P.POLICY_APIS:
        try:
            resource = dyn.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            out[kind] = None
            continue
        if namespaced:
            items = []
            for namespace in namespaces:
                items += resource.get(namespace=namespace).to_dict().get("items") or []
        else:
            items = resource.get().to_dict().get("items") or []
        out[kind] = items
    return out


def run_module(module, build=build_cluster, host_transport=None, clock=None, sleep=None, policies=read_policies):
    params = module.params
    probes = P.expand_families(params["probes"], params["ip_families"])
    errors = P.validate_probes(probes)
    if params["concurrency"] < 1 or params["timeout"] < 0 or params["interval"] < 0 or params["attempt_timeout"] < 1 \
            or params["blocked_min_seconds"] < 0:
        errors.append("concurrency and attempt_timeout must be >= 1, timeout, interval and blocked_min_seconds >= 0")
    if errors:
        module.fail_json(msg="invalid probes: " + "; ".join(errors), errors=errors, changed=False)

    lookup, pod_transport = (None, None)
    if needs_cluster(probes):
        try:
            lookup, pod_transport = build(module)
            errors = P.preflight(probes, lookup)
        except Exception as exc:
            module.fail_json(msg="cannot read the cluster: {0}".format(P._describe(exc)), changed=False)
        if errors:
            module.fail_json(msg="probes name objects that do not exist: " + "; ".join(errors),
                             errors=errors, changed=False)
    foreign = None
    if lookup is not None and params["own_labels"]:
        namespaces = P.probe_namespaces(probes)
        try:
            foreign = P.foreign_policies(policies(module, namespaces), params["own_labels"], namespaces)
        except Exception as exc:
            module.fail_json(msg="cannot read the cluster's policies: {0}".format(P._describe(exc)), changed=False)

    kwargs = {}
    if clock is not None:
        kwargs["clock"] = clock
    if sleep is not None:
        kwargs["sleep"] = sleep
    runner = P.make_runner(lookup, pod_transport, host_transport or P.HostTransport(),
                           timeout=params["timeout"], interval=params["interval"],
                           attempt_timeout=params["attempt_timeout"], stable=params["stable_attempts"],
                           blocked_min_seconds=params["blocked_min_seconds"],
                           kubeconfig=params.get("kubeconfig"), context=params.get("context"), **kwargs)
    results = P.run_probes(probes, runner, params["concurrency"])
    summary = P.summarize(results)
    mismatches = [r for r in results if r["status"] not in (P.STATUS_CORRECT, P.STATUS_SKIPPED)]
    out = dict(
        changed=False,
        results=results,
        tables=P.truth_tables(results),
        summary=summary,
        lines=P.probe_lines(results),
        mismatches=mismatches,
        junit_xml=P.junit_xml(results),
    )
    if foreign is not None:
        out["foreign_policies"] = foreign
    failing = summary[P.STATUS_WRONG] + (summary[P.STATUS_UNKNOWN] if params["fail_on_unknown"] else 0)
    if failing and params["fail_on_mismatch"]:
        repro = ["{0}: {1}".format(r["id"], r["reproduce"] or r["detail"]) for r in mismatches]
        module.fail_json(msg="{0}; reproduce: {1}".format(summary["line"], " | ".join(repro)), **out)
    module.exit_json(**out)


def main():
    # check_k8s off: probes from the controller host alone need no kubernetes client (build_cluster checks it)
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True, check_k8s=False)
    run_module(module)


if __name__ == "__main__":
    main()
