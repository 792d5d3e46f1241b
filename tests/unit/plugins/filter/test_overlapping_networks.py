# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""Tests for the ovnk.udn_lab.overlapping_networks filter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ovnk.udn_lab.plugins.filter.overlapping_networks import FilterModule, overlapping_networks


def test_registered():
    assert FilterModule().filters() == {"overlapping_networks": overlapping_networks}


def test_no_pods_is_wrong_per_family():
    networks = [{"name": n, "kind": "UserDefinedNetwork", "namespace": n, "subnets": {"ipv4": "10.1.0.0/16"}}
                for n in ("a", "b")]
    results = overlapping_networks({}, {"id": "o", "networks": ["a", "b"]}, networks, ["ipv4"])
    assert [r["status"] for r in results] == ["wrong"]
    assert "no pod of a holds a primary ipv4 address" in results[0]["detail"]


@pytest.mark.parametrize("pods,check", [({}, None), ({}, {"id": "o"}), ([], {"id": "o", "networks": []})])
def test_bad_arguments_are_refused(pods, check):
    with pytest.raises(AnsibleFilterError, match="overlapping_networks"):
        overlapping_networks(pods, check, [], ["ipv4"])
