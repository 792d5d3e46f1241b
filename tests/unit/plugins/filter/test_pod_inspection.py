# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""pod_inspection filter: the role's entry to podcheck (an inspection's own checks, refusal of bad input)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ovnk.udn_lab.plugins.filter.pod_inspection import FilterModule


def test_filter_runs_the_inspections_checks_only_and_refuses_what_is_not_a_pod():
    inspect = FilterModule().filters()["pod_inspection"]
    pod = {"metadata": {"name": "app-green-0", "namespace": "green"}, "spec": {"containers": [{"name": "c"}]}}
    results = inspect(pod, {"id": "g", "namespace": "green", "pod": "app-green-0", "checks": ["interfaces"]}, None,
                      ["ipv4", "ipv6"])
    assert [(r["id"], r["status"]) for r in results] == [("g-interfaces/ipv4", "wrong"), ("g-interfaces/ipv6", "wrong")]
    assert results[0]["detail"] == "the inspection command did not run in the pod"
    # without checks: all five (mtu, annotation and liveness once, not per family)
    assert [r["id"] for r in inspect(pod, {"id": "g", "namespace": "green", "pod": "app-green-0"}, None,
                                     ["ipv4", "ipv6"])] \
        == ["g-interfaces/ipv4", "g-default-route/ipv4", "g-interfaces/ipv6", "g-default-route/ipv6", "g-mtu",
            "g-annotation", "g-liveness"]
    with pytest.raises(AnsibleFilterError, match="expects the pod object"):
        inspect("app-green-0", {"id": "g"}, None, ["ipv4"])
