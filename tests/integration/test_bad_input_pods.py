# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""pod_workshop: bad input fails before any change (no file, no cluster access) with messages naming the
variable, the culprit and the fix."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest
import yaml

from test_render_pods import run_playbook


@pytest.fixture(scope="module")
def defaults(repo_root):
    return yaml.safe_load((repo_root / "roles" / "pod_workshop" / "defaults" / "main.yml").read_text())


def run_create(repo_root, tmp_path, **extra):
    # create against a kubeconfig that does not exist: any cluster access would fail with another message
    result = run_playbook(repo_root, tmp_path, "pods_entry.yml", entry="main", pod_workshop_operation="create",
                          udn_lab_kubeconfig=str(tmp_path / "no-such-kubeconfig"), **extra)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert not (tmp_path / "lab" / "rendered").exists(), "nothing may be written before the inputs are valid"
    assert "kubernetes.core.k8s" not in out and "k8s_info" not in out
    return out


def test_many_problems_reported_together(repo_root, tmp_path, defaults):
    networks = copy.deepcopy(defaults["pod_workshop_networks"])
    networks[0]["subnets"]["ipv4"]["cidr"] = "103.103.1.0/16"        # host bits set: not a network
    networks[1]["subnets"]["ipv4"]["host_subnet"] = 16               # not larger than the /16 prefix
    networks.append(dict(networks[4], namespaces=["red"]))          # a second blue-green-secondary
    probes = copy.deepcopy(defaults["pod_workshop_probes"])
    probes[0]["from"]["pod"] = "app-blue-9"                          # no such pod
    probes[1]["to"]["namespace"] = "purple"                          # no such namespace
    out = run_create(repo_root, tmp_path, pod_workshop_networks=networks, pod_workshop_probes=probes)
    assert "Invalid pod workshop input (6 problem(s))" in out
    # blue-network's new CIDR no longer matches overlapping-with-blue's: the overlapping-subnets claim says so
    assert ("pod_workshop_overlapping_networks overlapping-subnets: the networks have different ipv4 subnets "
            "(103.103.0.0/16, 103.103.1.0/16): give them the same one") in out
    assert ("pod_workshop_networks blue-network: subnets.ipv4 103.103.1.0/16 is not a network: its address has host bits "
            "set beyond /16 (use 103.103.0.0/16)") in out
    assert "pod_workshop_networks green-network: subnets.ipv4: host_subnet 16 must be larger than the prefix /16 of 203.203.0.0/16" in out
    assert "pod_workshop_networks blue-green-secondary: two networks are named blue-green-secondary: network names must be unique" in out
    assert ("pod_workshop_probes blue-to-blue: source pod blue/app-blue-9 is not a pod of pod_workshop_apps "
            "(pods in blue: app-blue-0, app-blue-1, app-multihomed-blue-0)") in out
    assert ("pod_workshop_probes blue-to-blue-infra-locked: target namespace \"purple\" is not a namespace of this workshop"
            in out)


def test_ipv6_cidr_and_missing_family(repo_root, tmp_path, defaults):
    networks = copy.deepcopy(defaults["pod_workshop_networks"])
    networks[0]["subnets"]["ipv6"]["cidr"] = "fd00:103:103::1/48"
    networks[2]["subnets"] = {"ipv4": "192.168.0.0/16"}
    networks[3]["subnets"]["ipv6"] = {"cidr": "not-a-cidr", "host_subnet": 64}
    out = run_create(repo_root, tmp_path, pod_workshop_networks=networks, udn_lab_ip_family="dual")
    assert "pod_workshop_networks blue-network: subnets.ipv6 fd00:103:103::1/48 is not a network" in out
    assert "pod_workshop_networks colored-enterprise: subnets.ipv6 is missing: pod_workshop_ip_family dual needs a subnet per family" in out
    assert ("pod_workshop_networks overlapping-with-blue-network: subnets.ipv6 \"not-a-cidr\" is not an ipv6 CIDR "
            "(address/prefix), e.g. fd00:103:103::/48") in out


def test_a_network_over_a_range_ovnk_refuses(repo_root, tmp_path, defaults):
    networks = copy.deepcopy(defaults["pod_workshop_networks"])
    networks[0]["subnets"]["ipv4"]["cidr"] = "100.88.0.0/16"  # Layer3: OVN-K's transit subnet
    out = run_create(repo_root, tmp_path, pod_workshop_networks=networks)
    assert ("pod_workshop_networks blue-network: subnets.ipv4 100.88.0.0/16 overlaps 100.88.0.0/16, the transit subnet of "
            "Layer3 networks (OVN-K v1.3.0 ClusterManager.V4TransitSubnet): OVN-Kubernetes refuses it") in " ".join(
        out.split())


def test_primary_network_needs_labelled_namespace(repo_root, tmp_path, defaults):
    namespaces = [n for n in defaults["pod_workshop_namespaces"] if n["name"] != "yellow"]
    namespaces.append({"name": "yellow", "primary_udn": False})
    out = run_create(repo_root, tmp_path, pod_workshop_namespaces=namespaces)
    assert ("pod_workshop_networks colored-enterprise: namespace yellow has a primary network but is not in pod_workshop_namespaces "
            "with primary_udn: true") in out


def test_argument_spec_rejects_unknown_keys(repo_root, tmp_path, defaults):
    networks = copy.deepcopy(defaults["pod_workshop_networks"])
    networks[0]["cdir"] = "10.0.0.0/8"
    out = run_create(repo_root, tmp_path, pod_workshop_networks=networks)
    assert "pod_workshop_networks" in out and "cdir" in out


# --------------------------------------------------------------------------- teardown: ownership labels


def run_teardown(repo_root, tmp_path, **extra):
    """playbooks/teardown.yml against a kubeconfig that does not exist: any cluster access would fail otherwise."""
    variables = dict(udn_lab_cluster_name="lab-7", udn_lab_kubeconfig=str(tmp_path / "no-such-kubeconfig"),
                     udn_lab_teardown_scope="workloads")
    variables.update(extra)
    result = run_playbook(repo_root, tmp_path, "teardown_entry.yml", **variables)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("labels,message", [
    ({}, "udn_lab_labels lacks app.kubernetes.io/managed-by and udn-lab.ovnk.io/lab"),
    ({"udn-lab.ovnk.io/lab": "lab-7"}, "udn_lab_labels lacks app.kubernetes.io/managed-by"),
    ({"app.kubernetes.io/managed-by": "ovnk.udn_lab", "udn-lab.ovnk.io/lab": "other-lab"},
     "udn-lab.ovnk.io/lab is 'other-lab', not this lab's cluster name 'lab-7'"),
    ({"app.kubernetes.io/managed-by": "ovnk.udn_lab", "udn-lab.ovnk.io/lab": ""},
     "udn_lab_labels lacks udn-lab.ovnk.io/lab"),
])
def test_teardown_refuses_a_selector_that_could_match_what_the_lab_never_made(repo_root, tmp_path, labels, message):
    """An empty or partial selector matches objects of others (an empty one matches everything): refused before
    the first API call, naming the variable the user set."""
    rc, out = run_teardown(repo_root, tmp_path, udn_lab_labels=labels)
    assert rc != 0
    assert message in " ".join(out.split())
    assert FIRST_CLUSTER_TASK not in out  # refused before its first cluster call


FIRST_CLUSTER_TASK = "Forget the workshop in the lab state record first"


def test_teardown_with_the_labels_of_this_lab_goes_on_to_the_cluster(repo_root, tmp_path):
    """The control: the right labels pass the check and the run goes on to the lab (which is missing here: the
    next check says so, before any cluster call)."""
    labels = {"app.kubernetes.io/managed-by": "ovnk.udn_lab", "udn-lab.ovnk.io/lab": "lab-7"}
    rc, out = run_teardown(repo_root, tmp_path, udn_lab_labels=labels)
    assert rc != 0 and "No lab exists at" in " ".join(out.split()), out[-3000:]
    assert FIRST_CLUSTER_TASK not in out
