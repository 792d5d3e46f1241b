# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""releases.rollback_done over helm history as helm v3.22.0 prints it (cmd/helm/history.go releaseInfo)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.ovnk.udn_lab.plugins.filter.rollback_done import FilterModule
from ansible_collections.ovnk.udn_lab.plugins.module_utils import releases


def entry(revision, status, description):
    return {"revision": revision, "updated": "2026-12-07T10:00:00Z", "status": status,
            "chart": "ovn-kubernetes-1.3.0", "app_version": "1.3.0", "description": description}


USER = entry(1, "deployed", "Install complete")
UPGRADED = [dict(USER, status="superseded"), entry(2, "deployed", "Upgrade complete")]
ROLLED_BACK = [dict(USER, status="superseded"), entry(2, "superseded", "Upgrade complete"),
               entry(3, "deployed", "Rollback to 1")]


def test_a_release_the_lab_upgraded_needs_its_rollback():
    assert releases.rollback_done(UPGRADED, 1) is False


def test_a_release_already_rolled_back_or_never_upgraded_needs_none():
    assert releases.rollback_done(ROLLED_BACK, 1) is True
    assert releases.rollback_done(json.dumps(ROLLED_BACK), "1") is True
    assert releases.rollback_done([USER], 1) is True


def test_a_later_upgrade_after_the_rollback_needs_another():
    history = ROLLED_BACK[:2] + [dict(ROLLED_BACK[2], status="superseded"), entry(4, "deployed", "Upgrade complete")]
    assert releases.rollback_done(history, 1) is False
    # a rollback to another revision is not this one
    assert releases.rollback_done([dict(USER, status="superseded"), entry(2, "deployed", "Rollback to 7")], 1) is False


def test_a_failed_rollback_or_nothing_deployed_needs_one():
    failed = UPGRADED[:1] + [dict(UPGRADED[1], status="superseded"), entry(3, "failed", "Rollback \"x\" failed")]
    assert releases.rollback_done(failed, 1) is False
    assert releases.rollback_done([], 1) is False


def test_the_filter_names_bad_history():
    rollback_done = FilterModule().filters()["rollback_done"]
    assert rollback_done(json.dumps(ROLLED_BACK), 1) is True
    with pytest.raises(Exception, match="rollback_done: helm history did not print JSON"):
        rollback_done("Error: release: not found", 1)
