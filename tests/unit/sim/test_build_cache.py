"""Where tests/sim/build.py keeps the simulated cluster's build: per user, outside the clone, so a second clone on
the machine reuses it (and the molecule scenario's group_vars agree)."""

from __future__ import annotations

import pathlib

import yaml

import build

REPO = pathlib.Path(__file__).resolve().parents[3]


def test_cache_follows_the_environment_and_never_the_clone():
    assert build.cache_dir({"UDN_LAB_SIM_CACHE": "/u", "XDG_CACHE_HOME": "/x", "HOME": "/h"}) == pathlib.Path("/u")
    assert build.cache_dir({"XDG_CACHE_HOME": "/x", "HOME": "/h"}) == pathlib.Path("/x/ovnk-udn-lab/sim")
    assert build.cache_dir({"HOME": "/h"}) == pathlib.Path("/h/.cache/ovnk-udn-lab/sim")
    assert REPO not in build.cache_dir({"HOME": "/h"}).parents


def test_the_sim_scenario_looks_in_the_same_place():
    text = yaml.safe_load((REPO / "molecule" / "sim" / "group_vars" / "all.yml").read_text())["udn_lab_sim_cache"]
    for env in ("UDN_LAB_SIM_CACHE", "XDG_CACHE_HOME", "HOME"):
        assert "'%s'" % env in text
    assert "/ovnk-udn-lab/sim" in text and ".cache" in text
