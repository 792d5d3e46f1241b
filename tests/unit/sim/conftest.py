"""Make tests/sim importable (the simulators package lives there) and load fixtures."""

import pathlib
import sys

import pytest
import yaml

SIM_DIR = pathlib.Path(__file__).resolve().parents[2] / "sim"
FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures"
if str(SIM_DIR) not in sys.path:
    sys.path.insert(0, str(SIM_DIR))


def load(name):
    """Objects of a fixture file (one YAML document holding a list of objects)."""
    with open(FIXTURES / name) as handle:
        return [doc for doc in yaml.safe_load(handle) if doc]


@pytest.fixture
def fixture_objects():
    return load
