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
