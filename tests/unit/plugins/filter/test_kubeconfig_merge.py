"""The kubeconfig_merge filter: slurp's base64 contents by path, merged in KUBECONFIG order."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

from ansible_collections.ovnk.udn_lab.plugins.filter.kubeconfig_merge import FilterModule


def b64(text):
    return base64.b64encode(text.encode()).decode()


def test_paths_without_content_are_missing_and_order_is_kept():
    merge = FilterModule().filters()["kubeconfig_merge"]
    a = "current-context: x\nclusters: [{name: c, cluster: {server: 'https://a:6443'}}]\n"
    b = "current-context: y\nclusters: [{name: c, cluster: {server: 'https://b:6443'}}]\n"
    got = merge(["/k/b", "/k/gone", "/k/a"], {"/k/a": b64(a), "/k/b": b64(b)})
    assert got["used"] == ["/k/b", "/k/a"] and got["missing"] == ["/k/gone"]
    assert got["config"]["current-context"] == "y"
    assert got["config"]["clusters"] == [{"name": "c", "cluster": {"server": "https://b:6443"}}]
