"""Where tests/sim/build.py keeps the simulated cluster's build: per user, outside the clone, so a second clone on
the machine reuses it; what stays per lab (the molecule scenario's mirror)."""

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


def test_the_sim_scenario_keeps_its_mirror_per_lab_not_in_the_shared_cache():
    """Two labs on one machine (a pytest-xdist worker each) rebuild their mirrors at different times; a rebuilt
    tarball has another sha256 than the one the other lab's run read from the mirror's versions-override.yml. The
    build cache (build.py, shared) is found by build.py itself."""
    group_vars = yaml.safe_load((REPO / "molecule" / "sim" / "group_vars" / "all.yml").read_text())
    assert group_vars["udn_lab_mirror_dir"] == "{{ udn_lab_sim_state }}/mirror"
    assert "MOLECULE_EPHEMERAL_DIRECTORY" in group_vars["udn_lab_sim_state"]
