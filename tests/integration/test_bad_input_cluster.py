# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""kind_cluster: each bad input fails before any change, with the variable named in the message."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from test_render_cluster import run_role

CASES = {
    "bad pod CIDR": (
        dict(kind_cluster_pod_subnet="10.244.0.0/33"),
        r'kind_cluster_pod_subnet "10\.244\.0\.0/33" is not a CIDR \(address/prefix\), e\.g\..*: set kind_cluster_pod_subnet to e\.g\. 10\.244\.0\.0/16',
    ),
    "bad service CIDR": (
        dict(kind_cluster_service_subnet="fd00:10:96:::/112", kind_cluster_ip_family="ipv6"),
        r'kind_cluster_service_subnet "fd00:10:96:::/112" is not a CIDR',
    ),
    "garbage in a dual list": (
        dict(kind_cluster_ip_family="dual", kind_cluster_pod_subnet="10.244.0.0/16,banana"),
        r'kind_cluster_pod_subnet "banana" is not a CIDR',
    ),
    "pod subnet family mismatch": (
        dict(kind_cluster_ip_family="ipv6", kind_cluster_pod_subnet="10.244.0.0/16"),
        r'kind_cluster_pod_subnet \["10\.244\.0\.0/16"\] holds ipv4, which does not match kind_cluster_ip_family ipv6',
    ),
    "service subnet not dual": (
        dict(kind_cluster_ip_family="dual", kind_cluster_service_subnet="10.96.0.0/16"),
        r'kind_cluster_service_subnet \["10\.96\.0\.0/16"\] holds ipv4, which does not match kind_cluster_ip_family dual: '
        r"it needs one CIDR of each of ipv4, ipv6",
    ),
    "pod subnet over the service subnet": (
        dict(kind_cluster_pod_subnet="10.96.0.0/12"),
        r"kind_cluster_pod_subnet 10\.96\.0\.0/12 overlaps kind_cluster_service_subnet 10\.96\.0\.0/16: pod and service "
        r"subnets must be disjoint",
    ),
    "service subnet over OVN-K's join subnet": (
        dict(kind_cluster_service_subnet="100.64.0.0/16"),
        r"kind_cluster_service_subnet 100\.64\.0\.0/16 overlaps 100\.64\.0\.0/16, the default network's join subnet",
    ),
    "negative workers": (
        dict(kind_cluster_workers=-1),
        r"kind_cluster_workers '-1' must be an integer >= 0",
    ),
    "unknown ip family": (
        dict(kind_cluster_ip_family="ipv5"),
        r"kind_cluster_ip_family.*ipv4, ipv6, dual",
    ),
    "unknown runtime": (
        dict(kind_cluster_runtime="containerd"),
        r"kind_cluster_runtime.*auto, docker, podman",
    ),
    "unknown operation": (
        dict(kind_cluster_operation="upgrade"),
        r"kind_cluster_operation.*create, delete, render, existing",
    ),
    "bad cluster name": (
        dict(kind_cluster_name="Bad_Name"),
        r"kind_cluster_name 'Bad_Name' is not a valid kind cluster name",
    ),
    "missing runtime": (
        dict(kind_cluster_runtime="docker", kind_cluster_runtime_bin="/nonexistent/bin/docker"),
        r"kind_cluster_runtime_bin '/nonexistent/bin/docker' is not an executable command",
    ),
    "missing kind": (
        # A runtime that answers `info` (true) so preflight passes; kind points nowhere.
        dict(kind_cluster_runtime="docker", kind_cluster_runtime_bin="true", kind_cluster_manage_host_sysctls=False,
             kind_cluster_kind_bin="/nonexistent/bin/kind"),
        r"kind_cluster_kind_bin '/nonexistent/bin/kind' is not an executable command",
    ),
    "runtime that does not answer": (
        dict(kind_cluster_runtime="podman", kind_cluster_runtime_bin="false"),
        r"kind_cluster_runtime: '\S*false info' failed",
    ),
}


def failure_message(result):
    """The msg of the failed task (the assert's fail_msg or the argument spec error), on one line."""
    text = re.sub(r"\s+", " ", result.stdout + result.stderr)
    return text


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_fails_fast(repo_root, tmp_path, case):
    variables, expected = CASES[case]
    lab = tmp_path / "lab"
    args = dict(kind_cluster_operation="create", kind_cluster_dir=str(lab), kind_cluster_render_dir=str(lab / "rendered"))
    args.update(variables)
    result = run_role(repo_root, tmp_path, **args)
    assert result.returncode != 0, result.stdout
    message = failure_message(result)
    assert re.search(expected, message), message[-3000:]
    # Nothing was created: no lab directory, no rendered config, no kubeconfig.
    assert not lab.exists()


@pytest.mark.parametrize("how", ["missing", "unreadable", "directory"])
def test_existing_with_unusable_kubeconfig(repo_root, tmp_path, how):
    kubeconfig = tmp_path / "kubeconfig"
    if how == "unreadable":
        if os.geteuid() == 0:
            pytest.skip("root reads any file: an unreadable kubeconfig cannot be simulated")
        kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
        kubeconfig.chmod(0)
    elif how == "directory":
        kubeconfig.mkdir()
    result = run_role(repo_root, tmp_path, kind_cluster_operation="existing", kind_cluster_kubeconfig=str(kubeconfig),
                      kind_cluster_dir=str(tmp_path / "lab"))
    assert result.returncode != 0
    expected = {"missing": "does not exist", "unreadable": "is not readable", "directory": "is not a regular file"}[how]
    message = failure_message(result)
    assert re.search(r"kind_cluster_kubeconfig '%s' %s" % (re.escape(str(kubeconfig)), expected), message), message[-3000:]
    assert not (tmp_path / "lab").exists()


def test_existing_with_kubeconfig_of_nothing(repo_root, tmp_path):
    """A readable kubeconfig whose API does not answer fails with the kubeconfig named, not a bare timeout."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9', insecure-skip-tls-verify: true}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
    )
    kubeconfig.chmod(0o600)
    result = run_role(repo_root, tmp_path, kind_cluster_operation="existing", kind_cluster_kubeconfig=str(kubeconfig),
                      kind_cluster_api_timeout=1)
    assert result.returncode != 0
    message = failure_message(result)
    assert "did not answer" in message and "kind_cluster_kubeconfig '%s'" % kubeconfig in message, message[-3000:]


@pytest.mark.parametrize(
    "cidr, family",
    [
        ("10.244.0.0/16", "ipv4"),
        ("0.0.0.0/0", "ipv4"),
        ("10.0.0.0/32", "ipv4"),
        ("fd00:10:244::/48", "ipv6"),
        ("::/0", "ipv6"),
        ("2001:db8::1/128", "ipv6"),
        ("1:2:3:4::/64", "ipv6"),
        ("1:2:3:4:5:6:7:8/64", None),  # host bits set: refused, the message names 1:2:3:4::/64
        ("256.1.1.1/8", None),
        ("10.0.0/8", None),
        ("10.0.0.0/33", None),
        ("10.0.0.0", None),
        ("fd00:10:96:::/112", None),
        ("12345::/64", None),
        ("1:2:3/64", None),
        ("fd00::/129", None),
        ("a::b::c/64", None),
    ],
)
def test_cidrs_as_the_validation_library_reads_them(cidr, family):
    """Every role reads CIDRs with module_utils/validation.py (Python's ipaddress), not per-role patterns."""
    from ansible_collections.ovnk.udn_lab.plugins.module_utils import validation

    network, _reason = validation.parse_cidr(cidr)
    assert (validation.family_of(network) if network is not None else None) == family


STUB = r'''#!/usr/bin/env python3
import json, os, sys
tool = os.path.basename(sys.argv[0])
with open(os.environ["STUB_LOG"], "a") as log:
    log.write(json.dumps([tool] + sys.argv[1:]) + "\n")
if tool == "kind" and sys.argv[1:3] == ["get", "clusters"]:
    print("\n".join(os.environ["STUB_CLUSTERS"].split(",")))
'''


@pytest.mark.parametrize("clusters, deleted", [
    ("ovn-k-helm-2,my-ovn-k", False),  # names that merely contain the requested one
    ("ovn-k-helm-2,ovn-k", True),
])
def test_delete_matches_the_exact_name_only(repo_root, tmp_path, clusters, deleted):
    """kind_cluster_name 'ovn-k' never selects 'ovn-k-helm-2' (no partial matching), and nothing is created."""
    bin_dir = tmp_path / "stubs"
    bin_dir.mkdir()
    for name in ("kind", "docker"):
        (bin_dir / name).write_text(STUB.replace("/usr/bin/env python3", sys.executable))
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "calls.log"
    env_extra = {"STUB_LOG": str(log), "STUB_CLUSTERS": clusters}
    old = {key: os.environ.get(key) for key in env_extra}
    os.environ.update(env_extra)
    try:
        result = run_role(repo_root, tmp_path, kind_cluster_operation="delete", kind_cluster_name="ovn-k",
                          kind_cluster_dir=str(tmp_path / "lab"), kind_cluster_runtime_bin=str(bin_dir / "docker"),
                          kind_cluster_kind_bin=str(bin_dir / "kind"))
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert result.returncode == 0, result.stdout + result.stderr
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    deletes = [call for call in calls if call[:3] == ["kind", "delete", "cluster"]]
    if deleted:
        assert deletes == [["kind", "delete", "cluster", "--name", "ovn-k", "--kubeconfig", str(tmp_path / "lab" / "kubeconfig")]]
    else:
        assert deletes == []
    assert not (tmp_path / "lab").exists()


GOOD_KUBECONFIG = (
    "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
    "clusters: [{name: c, cluster: {server: '%s', insecure-skip-tls-verify: true}}]\n"
    "contexts: [{name: c, context: {cluster: c, user: u}}]\n"
    "users: [{name: u, user: {token: t}}]\n"
)


@pytest.mark.parametrize("content,expected", [
    ("{{ not yaml: [", "it does not parse as YAML"),
    ("", "it is empty"),
    (GOOD_KUBECONFIG.replace("current-context: c\n", "") % "https://127.0.0.1:9", "it sets no current-context"),
])
def test_existing_with_a_garbage_kubeconfig_fails_at_once(repo_root, tmp_path, content, expected):
    """A kubeconfig that cannot work is refused before any connection, naming the file, what is wrong and
    KUBECONFIG (what the README tells users to set): no retries (measured in the closing note: seconds)."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(content)
    result = run_role(repo_root, tmp_path, kind_cluster_operation="existing", kind_cluster_kubeconfig=str(kubeconfig))
    message = " ".join(failure_message(result).split())
    assert result.returncode != 0
    assert "kind_cluster_kubeconfig '%s' cannot reach a cluster: %s" % (kubeconfig, expected) in message, message[-2000:]
    assert "KUBECONFIG" in message
    assert "Connect to" not in result.stdout  # refused before any connection attempt


def test_existing_with_a_server_that_is_not_kubernetes_fails_within_its_timeouts(repo_root, tmp_path):
    """Something answers TCP at the server, but it is no API server: the nodes cannot be read, and the run fails
    after kind_cluster_existing_api_timeout, naming the kubeconfig."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]

    def serve():
        while True:
            try:
                conn, dummy = listener.accept()
            except OSError:
                return
            conn.close()  # talks no TLS, no HTTP

    threading.Thread(target=serve, daemon=True).start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(GOOD_KUBECONFIG % ("https://127.0.0.1:%d" % port))
    kubeconfig.chmod(0o600)
    try:
        result = run_role(repo_root, tmp_path, kind_cluster_operation="existing",
                          kind_cluster_kubeconfig=str(kubeconfig), kind_cluster_existing_api_timeout=5)
    finally:
        listener.close()
    message = " ".join(failure_message(result).split())
    assert result.returncode != 0
    assert "did not answer with its nodes within 5s (kind_cluster_existing_api_timeout)" in message, message[-2000:]
    assert "kind_cluster_kubeconfig '%s'" % kubeconfig in message


def test_existing_merges_several_kubeconfig_files_as_kubectl_does(repo_root, tmp_path):
    """KUBECONFIG=a:b: the first file picks the context, a later file defines its cluster; a missing file is
    skipped. The merged kubeconfig (0600, in the lab dir) is what the lab uses: the failure names its server."""
    first, second = tmp_path / "a", tmp_path / "b"
    first.write_text("current-context: c\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
                     "users: [{name: u, user: {token: t}}]\n")
    second.write_text(GOOD_KUBECONFIG.replace("current-context: c\n", "current-context: other\n")
                      % "https://127.0.0.1:9")
    merged = tmp_path / "lab" / "kubeconfig"
    result = run_role(repo_root, tmp_path, kind_cluster_operation="existing", kind_cluster_kubeconfig=str(merged),
                      kind_cluster_kubeconfig_sources=[str(first), str(tmp_path / "gone"), str(second)],
                      kind_cluster_existing_connect_timeout=2)
    message = failure_message(result)
    assert result.returncode != 0
    assert "Merged %s, %s into %s (skipped, missing: %s)" % (first, second, merged, tmp_path / "gone") in message
    assert "did not answer at https://127.0.0.1:9 (context c)" in message, message[-3000:]
    assert os.stat(merged).st_mode & 0o777 == 0o600
    assert yaml.safe_load(merged.read_text())["current-context"] == "c"
    assert "token: t" not in result.stdout  # the merged credentials are not shown


def test_existing_refuses_a_kubeconfig_file_kubectl_would_refuse(repo_root, tmp_path):
    bad, good = tmp_path / "bad", tmp_path / "good"
    bad.write_text("clusters: [\n")
    good.write_text(GOOD_KUBECONFIG % "https://127.0.0.1:9")
    result = run_role(repo_root, tmp_path, kind_cluster_operation="existing",
                      kind_cluster_kubeconfig=str(tmp_path / "lab" / "kubeconfig"),
                      kind_cluster_kubeconfig_sources=[str(good), str(bad)])
    message = failure_message(result)
    assert result.returncode != 0
    assert "KUBECONFIG (kind_cluster_kubeconfig_sources: %s:%s) cannot be merged: %s does not parse as YAML" % (
        good, bad, bad) in message, message[-3000:]
    assert not (tmp_path / "lab").exists()


def test_existing_cluster_inventory_reads_several_files_from_kubeconfig(repo_root, tmp_path):
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"), HOME=str(tmp_path),
               KUBECONFIG="%s/a::%s/b" % (tmp_path, tmp_path), ANSIBLE_NOCOLOR="1")
    for name in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
        env.pop(name, None)
    out = {}
    for var in ("udn_lab_kubeconfig_sources", "udn_lab_kubeconfig"):
        proc = subprocess.run(["ansible", "-i", "inventories/existing_cluster", "localhost", "-m",
                               "ansible.builtin.debug", "-a", "var=" + var], cwd=str(repo_root), env=env,
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        out[var] = proc.stdout
    # (the empty entry of a::b is dropped, as kubectl ignores it)
    assert "udn_lab_kubeconfig_sources:\n    - %s/a\n    - %s/b\n" % (tmp_path, tmp_path) in out[
        "udn_lab_kubeconfig_sources"], out
    assert "udn_lab_kubeconfig: %s/.ovnk-udn-lab/existing/kubeconfig" % tmp_path in out["udn_lab_kubeconfig"], out
