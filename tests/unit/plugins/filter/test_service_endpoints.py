# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""Tests for the ovnk.udn_lab.service_endpoints filter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ovnk.udn_lab.plugins.filter.service_endpoints import FilterModule, service_endpoints


def test_registered():
    assert FilterModule().filters() == {"service_endpoints": service_endpoints}


def test_nothing_read_is_one_wrong_claim_per_family():
    check = {"id": "endpoints-service-blue", "namespace": "blue", "service": "service-blue"}
    results = service_endpoints(None, check, None, ["ipv4", "ipv6"])
    assert [(r["id"], r["status"]) for r in results] == [
        ("endpoints-service-blue/ipv4", "wrong"), ("endpoints-service-blue/ipv6", "wrong")]


@pytest.mark.parametrize("check", [None, {}, {"id": "x", "namespace": "blue"}])
def test_an_incomplete_check_is_refused(check):
    with pytest.raises(AnsibleFilterError, match="id, namespace and service"):
        service_endpoints([], check, [], ["ipv4"])
