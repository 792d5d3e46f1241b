# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""carry_results filter: the role's entry to probes.carry_over (earlier results document in, marked results out)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ovnk.udn_lab.plugins.filter.carry_results import FilterModule


def test_filter_merges_marks_and_refuses_a_document_that_is_not_one():
    carry = FilterModule().filters()["carry_results"]
    earlier = {"run_at": "2026-12-01T10:00:00Z",
               "results": [{"id": "red-to-yellow", "phase": "before_policy", "status": "correct"}]}
    merged = carry(earlier, [{"id": "blue-to-blue", "phase": "always", "status": "correct"}],
                   ["red-to-yellow", "blue-to-blue"], "2026-12-06T17:00:00Z")
    assert [(r["id"], r["carried"], r["proven_at"]) for r in merged] == [
        ("red-to-yellow", True, "2026-12-01T10:00:00Z"), ("blue-to-blue", False, "2026-12-06T17:00:00Z")]
    # the first run has no earlier document ({} from the role)
    assert [r["id"] for r in carry({}, [{"id": "x", "status": "correct"}], ["x"], "t")] == ["x"]
    # another phase list carries those phases instead
    assert carry(earlier, [], ["red-to-yellow"], "t", phases=["after_policy"]) == []
    with pytest.raises(AnsibleFilterError, match="must be a dict"):
        carry(["not", "a", "document"], [], [], "t")
