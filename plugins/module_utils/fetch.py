# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Decisions behind ovnk.udn_lab.fetch_artifact: how a downloaded artifact is verified and recorded.

An artifact is verified by the sha256 pinned in the version matrix when there is one; otherwise by the
digest recorded the first time the lab downloaded it (trust on first use), so a file that changes upstream
under the same URL is refused instead of silently used.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json

PINNED = "pinned"
RECORDED = "recorded"
FIRST_USE = "first-use"
CHUNK = 1024 * 1024


class VerificationError(ValueError):
    """The artifact's content is not the one the lab expects; the message says which and what to do."""


def sha256_of_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def record_key(artifact):
    """Records are keyed by the upstream URL: the same file taken from a mirror shares the record."""
    return artifact.get("upstream_url") or artifact.get("url")


def expected_digest(artifact, records):
    """Return (digest, how) the content must match, or (None, FIRST_USE) when nothing is known yet."""
    pinned = artifact.get("sha256")
    if pinned:
        return pinned.lower(), PINNED
    recorded = records.get(record_key(artifact))
    if recorded:
        return recorded, RECORDED
    return None, FIRST_USE


def verify(artifact, records, actual):
    """Check ``actual`` (hex sha256) against what is expected. Returns how it was verified."""
    expected, how = expected_digest(artifact, records)
    if expected is None or expected == actual:
        return how
    name = artifact.get("name", record_key(artifact))
    if how == PINNED:
        raise VerificationError(
            "%s from %s has sha256 %s but versions.yml pins %s: the download is corrupt or not the pinned release "
            "(a mirror file must be byte-identical to %s)"
            % (name, artifact.get("url"), actual, expected, artifact.get("upstream_url") or artifact.get("url"))
        )
    raise VerificationError(
        "%s from %s has sha256 %s but this lab recorded %s when it first downloaded it: the file changed upstream. "
        "Review it, then pin the new digest in udn_lab_versions_override or remove its entry from the record file"
        % (name, artifact.get("url"), actual, expected)
    )


def updated_records(artifact, records, actual, how):
    """Return the records to write (None when nothing changes)."""
    if how != FIRST_USE:
        return None
    new = dict(records)
    new[record_key(artifact)] = actual
    return new


def load_records(text):
    if not text.strip():
        return {}
    data = json.loads(text)
    if not isinstance(data, dict):
        raise VerificationError("the checksum record must be a JSON object of url: sha256")
    return data


def dump_records(records):
    return json.dumps(records, indent=2, sort_keys=True) + "\n"
