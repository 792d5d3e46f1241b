"""The simulator runner's config handling."""

import run_sim


def test_shortcuts_land_in_their_sections():
    cfg = run_sim.normalise_config({"migration_fail": True, "leak": [["blue", "green"]],
                                    "kubevirt": {"boot_delay": 1}, "resync_seconds": 3})
    assert cfg["kubevirt"] == {"boot_delay": 1, "migration_fail": True, "resync_seconds": 3}
    assert cfg["dataplane"]["leak"] == [["blue", "green"]]
    assert cfg["ovnk"] == {"resync_seconds": 3}


def test_config_file_yaml_and_json(tmp_path):
    y = tmp_path / "c.yml"
    y.write_text("network_fail: [blue/blue-network]\novnk: {mtu: 1300}\n")
    assert run_sim.load_config(str(y))["ovnk"] == {"mtu": 1300, "network_fail": ["blue/blue-network"]}
    j = tmp_path / "c.json"
    j.write_text('{"dataplane": {"blackhole_seconds": 2}}')
    assert run_sim.load_config(str(j))["dataplane"] == {"blackhole_seconds": 2}
    assert run_sim.load_config(None) == {"ovnk": {}, "kubevirt": {}, "dataplane": {}}
