"""Unit tests for plugins/module_utils/fetch.py (artifact verification and first-use records)."""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import fetch

PINNED = {"name": "kind", "url": "https://u/kind", "upstream_url": "https://u/kind", "sha256": "a" * 64}
UNPINNED = {"name": "kubevirt.operator", "url": "/mirror/op.yaml", "upstream_url": "https://u/op.yaml", "sha256": None}


def test_pinned_digest_wins_over_records():
    assert fetch.expected_digest(PINNED, {"https://u/kind": "b" * 64}) == ("a" * 64, fetch.PINNED)


def test_unpinned_uses_the_record_keyed_by_upstream_url():
    assert fetch.expected_digest(UNPINNED, {"https://u/op.yaml": "c" * 64}) == ("c" * 64, fetch.RECORDED)
    assert fetch.expected_digest(UNPINNED, {}) == (None, fetch.FIRST_USE)


def test_verify_accepts_matching_content():
    assert fetch.verify(PINNED, {}, "a" * 64) == fetch.PINNED


def test_verify_rejects_a_pinned_mismatch_and_says_so():
    with pytest.raises(fetch.VerificationError, match="versions.yml pins a{64}"):
        fetch.verify(PINNED, {}, "d" * 64)


def test_verify_rejects_a_changed_recorded_file():
    with pytest.raises(fetch.VerificationError, match="changed upstream"):
        fetch.verify(UNPINNED, {"https://u/op.yaml": "c" * 64}, "d" * 64)


def test_first_use_is_recorded_once():
    how = fetch.verify(UNPINNED, {}, "e" * 64)
    assert how == fetch.FIRST_USE
    assert fetch.updated_records(UNPINNED, {}, "e" * 64, how) == {"https://u/op.yaml": "e" * 64}
    assert fetch.updated_records(UNPINNED, {"https://u/op.yaml": "e" * 64}, "e" * 64, fetch.RECORDED) is None


def test_records_round_trip_and_reject_non_objects():
    text = fetch.dump_records({"https://u/x": "f" * 64})
    assert fetch.load_records(text) == {"https://u/x": "f" * 64}
    assert fetch.load_records("  ") == {}
    with pytest.raises(fetch.VerificationError):
        fetch.load_records("[1, 2]")


def test_sha256_of_file(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(b"x" * (fetch.CHUNK + 7))
    assert fetch.sha256_of_file(str(path)) == hashlib.sha256(b"x" * (fetch.CHUNK + 7)).hexdigest()
