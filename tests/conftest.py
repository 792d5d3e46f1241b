"""Shared pytest fixtures for ovnk.udn_lab."""

from __future__ import annotations

import os
import pathlib

import sys

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
COLLECTIONS_DIR = REPO_ROOT / ".collections"

# `hack/bootstrap.sh` links this checkout as .collections/ansible_collections/ovnk/udn_lab, next to
# kubernetes.core and kubevirt.core: make `ansible_collections.*` importable for unit tests.
if COLLECTIONS_DIR.is_dir() and str(COLLECTIONS_DIR) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS_DIR))


def _upstream_candidates():
    env = os.environ.get("UDN_LAB_UPSTREAM_DIR")
    if env:
        yield pathlib.Path(env)
    # A checkout laid next to the project's shared data (…/main and …/shared/upstream).
    yield REPO_ROOT.parent / "shared" / "upstream"


@pytest.fixture(scope="session")
def repo_root() -> pathlib.Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def upstream_dir() -> pathlib.Path:
    """The folder of unmodified upstream CRDs/schemas; skips the test when it is absent."""
    for candidate in _upstream_candidates():
        if candidate.is_dir():
            return candidate
    pytest.skip(
        "upstream schemas not found: set UDN_LAB_UPSTREAM_DIR to a folder with the upstream CRDs "
        "(ovn-kubernetes-v1.3.0/, kubevirt-v1.8.4/swagger.json, ...)"
    )
