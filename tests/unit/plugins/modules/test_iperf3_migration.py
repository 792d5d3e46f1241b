# -*- coding: utf-8 -*-
"""iperf3_migration through its main() with reports captured from iperf3 3.12."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pathlib

import pytest

from ansible_collections.ovnk.udn_lab.plugins.modules import iperf3_migration

from fake_api import main_result

FIXTURES = pathlib.Path(__file__).parent.parent / "module_utils" / "fixtures" / "iperf3"
BLACKHOLE = str(FIXTURES / "blackhole_2s.json")
# epoch 1795757300.485 / 1795757302.509 as RFC3339, as vmi_migrate returns them
WINDOW = {"window_start": "2026-11-27T05:28:20.485Z", "window_end": "2026-11-27T05:28:22.509Z"}


def run(capsys, args, check_mode=False):
    return main_result(iperf3_migration, args, capsys, check_mode)


def test_blackhole_from_file_with_rfc3339_window(capsys):
    out = run(capsys, dict(WINDOW, src=BLACKHOLE, max_outage_seconds=3))
    assert out["changed"] is False and out["survived"] and out["passed"]
    assert out["window"] == {"start": 3.485, "end": 5.509}
    assert out["longest_outage"]["seconds"] == 2.5
    assert len(out["series"]["bits_per_second"]) == 16


def test_fail_on_verdict_fails_with_the_message(capsys):
    out = run(capsys, dict(WINDOW, src=BLACKHOLE, fail_on_verdict=True, return_series=False))
    assert out["failed"] is True
    assert out["msg"].startswith("FAIL: stream survived; longest outage 2.5 s")
    assert out["survived"] is True and "series" not in out


def test_server_killed_from_content(capsys):
    out = run(capsys, {"content": (FIXTURES / "server_killed.json").read_text()})
    assert out["survived"] is False
    assert out["message"] == "FAIL: control socket has closed unexpectedly at 2.0 s"


def test_json_stream_content_with_relative_window(capsys):
    out = run(capsys, {"content": (FIXTURES / "blackhole_2s.jsonstream").read_text(), "window_start": 3.5,
                       "window_end": "5.5", "window_relative": True})
    assert out["format"] == "json-stream" and out["window"] == {"start": 3.5, "end": 5.5}


def test_plot_check_mode_then_write_then_idempotent(capsys, tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is optional; plotting is skipped without it")
    png = tmp_path / "plot.png"
    out = run(capsys, dict(WINDOW, src=BLACKHOLE, plot_path=str(png)), check_mode=True)
    assert out["changed"] is True and not png.exists()
    out = run(capsys, dict(WINDOW, src=BLACKHOLE, plot_path=str(png)))
    assert out["changed"] is True and png.read_bytes()[:4] == b"\x89PNG"
    out = run(capsys, dict(WINDOW, src=BLACKHOLE, plot_path=str(png)))
    assert out["changed"] is False


@pytest.mark.parametrize("args,msg", [
    ({}, "one of the following is required: src, content"),
    ({"src": BLACKHOLE, "content": "{}"}, "parameters are mutually exclusive: src|content"),
    ({"content": "iperf3: error - unable to connect to server"}, "content: no JSON object in the iperf3 report"),
    ({"src": "/nonexistent/report.json"}, "cannot read src /nonexistent/report.json"),
    ({"src": BLACKHOLE, "window_start": "yesterday"}, "window_start/window_end: Invalid isoformat string"),
    ({"src": BLACKHOLE, "window_start": 5, "window_end": 4, "window_relative": True},
     "window_start/window_end: window end (4) is before window start (5)"),
    ({"src": BLACKHOLE, "recovery_fraction": 2}, "max_outage_seconds must be >= 0 and recovery_fraction between 0 and 1"),
    ({"src": BLACKHOLE, "plot_path": "/nonexistent-dir/p.png"}, "plot_path directory /nonexistent-dir does not exist"),
])
def test_bad_input(capsys, args, msg):
    out = run(capsys, args)
    assert out["failed"] is True
    assert out["msg"].startswith(msg), out["msg"]
