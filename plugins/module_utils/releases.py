# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""Helm releases the lab changed on a cluster it did not build (pure functions over ``helm history -o json``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

ROLLBACK_DESCRIPTION = "Rollback to {0}"
"""What helm v3.22.0 writes as the description of the revision a rollback makes (pkg/action/rollback.go)."""


class ReleaseError(ValueError):
    pass


def history_entries(history):
    """The entries of ``helm history -o json`` (its text or the parsed list)."""
    if isinstance(history, str):
        try:
            history = json.loads(history or "[]")
        except ValueError as exc:
            raise ReleaseError("helm history did not print JSON: {0}".format(exc))
    if not isinstance(history, list):
        raise ReleaseError("helm history printed {0!r}, not a list".format(type(history).__name__))
    return [h for h in history if isinstance(h, dict)]


def rollback_done(history, revision):
    """Whether the release already stands where a rollback to ``revision`` would put it: its deployed revision is
    ``revision`` itself, or the revision a rollback to it made (an interrupted teardown that rolled back and stopped
    before forgetting the release must not roll back again: each rollback writes a new revision)."""
    revision = int(revision)
    deployed = [h for h in history_entries(history) if str(h.get("status", "")).lower() == "deployed"]
    if not deployed:
        return False
    last = max(deployed, key=lambda h: int(h.get("revision") or 0))
    return int(last.get("revision") or 0) == revision or last.get("description") == ROLLBACK_DESCRIPTION.format(revision)
