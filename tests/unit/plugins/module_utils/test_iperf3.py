"""Unit tests for plugins/module_utils/iperf3.py over reports captured from iperf3 3.12 in network namespaces
(a clean run, a 2 s blackhole, link down, server killed, unable to connect) and synthetic reports."""

from __future__ import annotations

import json
import pathlib

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import iperf3

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "iperf3"
# The blackhole fixture: tc blackhole added at this epoch and removed at the next (report timesecs 1795757297).
BLACKHOLE_WINDOW = (1795757300.485, 1795757302.509)


def report(name):
    return iperf3.parse((FIXTURES / name).read_text())


def synthetic(rows, error=None, timesecs=1795760000, interval=1.0):
    """rows: list of (bytes, retransmits) for consecutive intervals."""
    ivals = []
    for i, (nbytes, rtx) in enumerate(rows):
        s = {"start": i * interval, "end": (i + 1) * interval, "seconds": interval, "bytes": nbytes,
             "bits_per_second": nbytes * 8 / interval, "retransmits": rtx, "omitted": False, "sender": True}
        ivals.append({"streams": [dict(s, socket=5)], "sum": s})
    doc = {"start": {"timestamp": {"time": "x", "timesecs": timesecs}}, "intervals": ivals, "end": {}}
    if error:
        doc["error"] = error
        doc["intervals"].append(ivals[-1])
    return iperf3.parse(json.dumps(doc))


def test_clean_run_passes():
    res = iperf3.analyse(report("clean.json"))
    assert res["survived"] and res["passed"]
    assert res["longest_outage"]["seconds"] == 0.0
    assert res["interval_count"] == 4
    assert res["median_bps"]["total"] == pytest.approx(100e6, rel=0.05)
    assert res["message"] == "PASS: stream survived without any zero-throughput interval"


def test_blackhole_window_aligned_through_start_timestamp():
    rep = report("blackhole_2s.json")
    window = iperf3.align_window(rep, *BLACKHOLE_WINDOW)
    assert window == pytest.approx((3.485, 5.509))
    res = iperf3.analyse(rep, window)
    assert res["survived"] is True
    assert res["longest_outage"] == {"seconds": 2.5, "start": 3.0, "end": 5.5}
    assert res["zero_seconds"] == pytest.approx(2.5)
    # the 5.5-6.0 s interval straddles the window end (5.509 s), so its 91 retransmits count as "during"
    assert res["retransmits"] == {"before": 2, "during": 93, "after": 0, "total": 95}
    assert res["median_bps"]["before"] == pytest.approx(100e6, rel=0.05)
    assert res["median_bps"]["during"] == 0.0
    assert res["recovery_seconds"] == 0.0
    # 2.5 s > default 2.0 s: survived but fails the gate, and says so
    assert res["passed"] is False
    assert "longest outage 2.5 s exceeds the maximum 2.0 s" in res["failures"]
    assert res["message"].startswith("FAIL: stream survived; longest outage 2.5 s (3.0 s-5.5 s)")
    assert iperf3.analyse(rep, window, max_outage_seconds=3.0)["passed"] is True


def test_json_stream_gives_the_same_analysis():
    a = iperf3.analyse(report("blackhole_2s.json"), (3.5, 5.5))
    b = iperf3.analyse(report("blackhole_2s.jsonstream"), (3.5, 5.5))
    assert report("blackhole_2s.jsonstream")["format"] == "json-stream"
    a.pop("format"), b.pop("format")
    assert a == b


def test_link_down_survives():
    res = iperf3.analyse(report("link_down.json"), max_outage_seconds=5)
    assert res["survived"] and res["passed"]
    assert res["longest_outage"]["seconds"] == pytest.approx(2.5)


@pytest.mark.parametrize("name", ["server_killed.json", "server_killed.jsonstream"])
def test_server_killed_is_not_survived_and_repeated_interval_dropped(name):
    rep = report(name)
    assert rep["error"] == "control socket has closed unexpectedly"
    res = iperf3.analyse(rep)
    assert res["survived"] is False and res["passed"] is False
    assert res["interval_count"] == 4  # iperf3 repeated the last interval; counted once
    assert "control socket has closed unexpectedly at 2.0 s" in res["message"]


def test_unable_to_connect():
    res = iperf3.analyse(report("unable_to_connect.json"))
    assert not res["survived"]
    assert res["message"] == "FAIL: unable to connect to server: Connection refused before any interval"


def test_seed_demo_one_zero_interval():
    rows = [(600e6, 0)] * 74 + [(0, 1), (25e6, 24), (341e6, 3)] + [(600e6, 0)] * 5
    rep = synthetic(rows)
    res = iperf3.analyse(rep, iperf3.align_window(rep, 1795760073.5, 1795760075.5))
    assert res["survived"] and res["passed"]
    assert res["longest_outage"] == {"seconds": 1.0, "start": 74.0, "end": 75.0}
    assert res["retransmits"]["during"] == 25 and res["retransmits"]["after"] == 3
    # 25 MB/s is below half the earlier rate: recovery counted from the 341 MB interval
    assert res["recovery_seconds"] == pytest.approx(0.5)


def test_stall_at_the_end_is_not_survived():
    res = iperf3.analyse(synthetic([(1e6, 0)] * 5 + [(0, 1)] * 3))
    assert not res["survived"]
    assert "stalled: last 3 intervals carried 0 bytes (since 5.0 s)" in res["message"]
    assert res["stalled_intervals"] == 3


def test_report_ending_inside_window_is_not_survived():
    rep = synthetic([(1e6, 0)] * 5)
    res = iperf3.analyse(rep, (3.0, 8.0))
    assert not res["survived"]
    assert "the report ends at 5.0 s, before the migration window ends at 8.0 s" in res["failures"]


def test_max_retransmits_gate_and_zero_threshold():
    rep = synthetic([(1e6, 0)] * 3 + [(1000, 50)] + [(1e6, 0)] * 3)
    assert iperf3.analyse(rep, (3, 4))["passed"]
    res = iperf3.analyse(rep, (3, 4), max_retransmits=10)
    assert not res["passed"] and "50 retransmits during/after the window exceed the maximum 10" in res["failures"]
    res = iperf3.analyse(rep, (3, 4), zero_bps=10000)
    assert res["longest_outage"]["seconds"] == 1.0


def test_omitted_intervals_ignored_and_series_shape():
    rep = synthetic([(1e6, 0)] * 3)
    rep["intervals"][0]["sum"]["omitted"] = True
    res = iperf3.analyse(rep)
    assert res["series"]["start"] == [1.0, 2.0]
    assert iperf3.analyse(rep, include_series=False).get("series") is None


@pytest.mark.parametrize("text,match", [
    ("", "empty"),
    ("iperf3: error - unable to connect", "no JSON object"),
    ('{"start": {', "not valid JSON"),
    ('{"foo": 1}', "does not look like an iperf3"),
])
def test_parse_errors(text, match):
    with pytest.raises(iperf3.Iperf3ReportError, match=match):
        iperf3.parse(text)


def test_parse_skips_leading_noise():
    text = "Warning: Permanently added host\n" + (FIXTURES / "clean.json").read_text()
    assert len(iperf3.parse(text)["intervals"]) == 4


def test_align_window_variants():
    rep = synthetic([(1, 0)])
    assert iperf3.align_window(rep, "2026-11-27T06:13:30Z", "2026-11-27T06:13:32.5Z") == (10.0, 12.5)
    assert iperf3.align_window(rep, 2.0, 3.0, relative=True) == (2.0, 3.0)
    assert iperf3.align_window(rep, None, None) is None
    assert iperf3.align_window(rep, "1795760004", None) == (4.0, 4.0)
    with pytest.raises(ValueError, match="before window start"):
        iperf3.align_window(rep, 5, 4, relative=True)
    with pytest.raises(ValueError, match="no start.timestamp"):
        iperf3.align_window({"start": {}}, 5, 6)


def test_plot_writes_png(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is optional; plotting is skipped without it")
    rep = report("blackhole_2s.json")
    res = iperf3.analyse(rep, (3.485, 5.509))
    out = iperf3.plot(res, str(tmp_path / "p.png"))
    assert pathlib.Path(out).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
