"""network_facts_info through its main(): reads the cluster's settings and the namespaces' NADs, never writes, and
warns naming what the ConfigMap leaves out."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.ovnk.udn_lab.plugins.modules import network_facts_info

from fake_api import Clock, FakeApi, run_main

OVN_CONFIG = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "ovn-kubernetes", "name": "ovn-config"},
              "data": {"net_cidr": "10.244.0.0/16/24", "svc_cidr": "10.96.0.0/16", "mtu": "1400"}}


def nad(namespace, name, **config):
    body = {"cniVersion": "1.0.0", "type": "ovn-k8s-cni-overlay", "name": "{0}_{1}".format(namespace, name)}
    body.update(config)
    return {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"namespace": namespace, "name": name}, "spec": {"config": json.dumps(body)}}


def record_warnings(monkeypatch):
    """The module's warnings (in a unit test ansible takes itself for the controller and prints them instead of
    returning them)."""
    warned = []
    monkeypatch.setattr(network_facts_info.AnsibleK8SModule, "warn", lambda self, msg, **kw: warned.append(msg))
    return warned


def test_the_networks_of_the_namespaces_asked_for_and_the_clusters_settings(monkeypatch, capsys):
    warned = record_warnings(monkeypatch)
    api = FakeApi(Clock(), {"ConfigMap": [OVN_CONFIG], "NetworkAttachmentDefinition": [
        nad("blue", "blue-network", topology="layer2", role="primary", subnets="10.0.0.0/24"),
        nad("green", "green-network", topology="layer2", role="primary", subnets="10.0.0.0/24", mtu=1300),
        nad("other", "other-network", topology="layer2", role="primary", subnets="10.9.0.0/24")]})
    out = run_main(monkeypatch, network_facts_info, api, {"namespaces": ["blue", "green", "blue"]}, capsys,
                   check_mode=True)
    assert not out.get("failed") and out["changed"] is False and out["missing"] == []
    facts = out["network_facts"]
    assert sorted(facts) == ["blue/blue-network", "default", "green/green-network"]
    assert (facts["default"]["mtu"], facts["blue/blue-network"]["mtu"], facts["green/green-network"]["mtu"]) == (
        1400, 1400, 1300)
    assert facts["blue/blue-network"]["service_cidrs"] == ["10.96.0.0/16"]
    # reads only: the ConfigMap once, each namespace's NADs once
    assert [c[0] for c in api.calls if c[0] != "client"] == ["get", "list", "list"], api.calls
    assert not api.writes
    assert warned == []


def test_a_configmap_that_leaves_things_out_warns_naming_them_and_the_variable(monkeypatch, capsys):
    warned = record_warnings(monkeypatch)
    api = FakeApi(Clock(), {"NetworkAttachmentDefinition": []})
    out = run_main(monkeypatch, network_facts_info, api, {"namespaces": ["blue"],
                                                          "cluster_mtu_variable": "pod_workshop_cluster_mtu"}, capsys)
    assert not out.get("failed") and out["missing"] == ["mtu", "subnets", "service_cidrs"]
    assert warned == [
        "ConfigMap ovn-kubernetes/ovn-config does not say the cluster's MTU (set pod_workshop_cluster_mtu), cluster "
        "subnets, service CIDRs (OVN-Kubernetes installed another way than its chart?): the claims that need them are "
        "wrong and say so."]
    # the user's MTU fills the gap it names
    del warned[:]
    out = run_main(monkeypatch, network_facts_info, api, {"namespaces": ["blue"], "cluster_mtu": 1400}, capsys)
    assert out["missing"] == ["subnets", "service_cidrs"] and out["network_facts"]["default"]["mtu"] == 1400
    assert len(warned) == 1 and "MTU" not in warned[0]


def test_a_cluster_without_the_nad_kind_has_no_networks(monkeypatch, capsys):
    class ResourceNotFoundError(Exception):
        pass

    api = FakeApi(Clock(), {"ConfigMap": [OVN_CONFIG]},
                  unserved={"NetworkAttachmentDefinition": ResourceNotFoundError("no such kind")})
    out = run_main(monkeypatch, network_facts_info, api, {"namespaces": ["blue"]}, capsys)
    assert not out.get("failed") and sorted(out["network_facts"]) == ["default"]


def test_an_incomplete_configmap_reference_is_refused(monkeypatch, capsys):
    out = run_main(monkeypatch, network_facts_info, FakeApi(Clock()), {"ovn_config": {"name": "ovn-config"}}, capsys)
    assert out["failed"] is True and out["msg"].startswith("ovn_config needs a namespace and a name")
