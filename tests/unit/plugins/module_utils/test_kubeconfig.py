# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Unit tests for plugins/module_utils/kubeconfig.py: an unusable kubeconfig is known without contacting anything."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import kubeconfig

GOOD = """apiVersion: v1
kind: Config
current-context: kind-lab
clusters: [{name: kind-lab, cluster: {server: 'https://127.0.0.1:6443'}}]
contexts: [{name: kind-lab, context: {cluster: kind-lab, user: u}}, {name: v6, context: {cluster: v6, user: u}}]
users: [{name: u, user: {token: t}}]
"""


def test_a_usable_kubeconfig_gives_its_server():
    got = kubeconfig.inspect(GOOD)
    assert got["problems"] == []
    assert (got["context"], got["cluster"], got["server"]) == ("kind-lab", "kind-lab", "https://127.0.0.1:6443")
    assert (got["scheme"], got["host"], got["port"]) == ("https", "127.0.0.1", 6443)


def test_ipv6_server_and_default_port():
    text = GOOD.replace("https://127.0.0.1:6443", "https://[fd00::1]")
    assert (kubeconfig.inspect(text)["host"], kubeconfig.inspect(text)["port"]) == ("fd00::1", 443)


@pytest.mark.parametrize("text,problem", [
    ("", "it is empty"),
    ("this: is: not: yaml: [", "it does not parse as YAML"),
    ("- a\n- list\n", "it is not a kubeconfig"),
    (GOOD.replace("current-context: kind-lab\n", ""), "it sets no current-context"),
    (GOOD.replace("current-context: kind-lab", "current-context: other"), "its context 'other' is not among"),
    (GOOD.replace("{cluster: kind-lab, user: u}", "{cluster: gone, user: u}"), "names cluster 'gone', which it"),
    (GOOD.replace("'https://127.0.0.1:6443'", "'127.0.0.1:6443'"), "has no usable server URL"),
    (GOOD.replace("'https://127.0.0.1:6443'", "'https://127.0.0.1:notaport'"), "has no usable server URL"),
])
def test_unusable_kubeconfigs_say_why(text, problem):
    problems = kubeconfig.inspect(text)["problems"]
    assert len(problems) == 1 and problem in problems[0], problems


def test_another_context_can_be_read():
    assert kubeconfig.inspect(GOOD, context="v6")["problems"] == [
        "context 'v6' names cluster 'v6', which it does not define"]


# --------------------------------------------------------------------------- KUBECONFIG=a:b (client-go merge rules)

FIRST = """current-context: work
clusters: [{name: shared, cluster: {server: 'https://first:6443', certificate-authority: ca.crt}}]
contexts: [{name: work, context: {cluster: shared, user: me}}]
users: [{name: me, user: {client-certificate: certs/me.crt, client-key: /abs/me.key}}]
"""
SECOND = """current-context: other
preferences: {colors: true}
clusters: [{name: shared, cluster: {server: 'https://second:6443'}}, {name: lab, cluster: {server: 'https://lab:6443'}}]
contexts: [{name: lab, context: {cluster: lab, user: lab-admin}}]
users: [{name: me, user: {token: second-token}}, {name: lab-admin, user: {token: t}}]
"""


def test_merge_first_file_wins_per_name_and_for_current_context():
    got = kubeconfig.merge([("/k/a", FIRST), ("/k/missing", None), ("/other/b", SECOND)])
    assert got["problems"] == [] and got["missing"] == ["/k/missing"] and got["used"] == ["/k/a", "/other/b"]
    config = got["config"]
    assert config["current-context"] == "work"
    assert config["preferences"] == {"colors": True}
    clusters = dict((c["name"], c["cluster"]) for c in config["clusters"])
    # the first file's "shared" entirely, its relative CA made absolute against its folder
    assert clusters == {"shared": {"server": "https://first:6443", "certificate-authority": "/k/ca.crt"},
                        "lab": {"server": "https://lab:6443"}}
    users = dict((u["name"], u["user"]) for u in config["users"])
    assert users["me"] == {"client-certificate": "/k/certs/me.crt", "client-key": "/abs/me.key"}
    assert [c["name"] for c in config["contexts"]] == ["work", "lab"]
    assert kubeconfig.inspect(__import__("yaml").safe_dump(config))["server"] == "https://first:6443"


def test_merge_takes_the_current_context_from_a_later_file_when_the_first_sets_none():
    got = kubeconfig.merge([("/k/a", FIRST.replace("current-context: work\n", "")), ("/k/b", SECOND)])
    assert got["config"]["current-context"] == "other"


@pytest.mark.parametrize("files, problem", [
    ([("/k/a", "clusters: [\n"), ("/k/b", SECOND)], "/k/a does not parse as YAML"),
    ([("/k/a", "- a list"), ("/k/b", SECOND)], "/k/a is not a kubeconfig"),
    ([("/k/a", None), ("/k/b", None)], "none of the files exists: /k/a, /k/b"),
])
def test_merge_problems_name_the_file(files, problem):
    got = kubeconfig.merge(files)
    assert got["config"] is None and got["problems"][0].startswith(problem)
