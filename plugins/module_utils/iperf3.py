# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Parse and analyse iperf3 client reports around a live-migration window.

* :func:`parse` – the JSON of ``iperf3 --json`` or the line stream of ``--json-stream`` (iperf3 >= 3.17)
  into one normalised report dict.
* :func:`analyse` – survival, outages at interval resolution, retransmits and median throughput
  before/during/after a window, recovery time, a verdict and a human message.
* :func:`plot` – optional PNG of throughput over time with the window shaded (needs matplotlib).

iperf3 3.12 exits 0 even on errors in JSON mode and repeats the last interval when it stops on an error:
the analysis reads the ``error`` key and drops repeated intervals.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.ovnk.udn_lab.plugins.module_utils.kubevirt import to_epoch

FORMAT_JSON = "json"
FORMAT_JSON_STREAM = "json-stream"
STREAM_EVENT_START = "start"
STREAM_EVENT_INTERVAL = "interval"
STREAM_EVENT_END = "end"
STREAM_EVENT_ERROR = "error"

DEFAULT_MAX_OUTAGE_SECONDS = 2.0
DEFAULT_RECOVERY_FRACTION = 0.5
EPSILON = 1e-6


class Iperf3ReportError(ValueError):
    """The text is not an iperf3 JSON report."""


# --------------------------------------------------------------------------- parsing


def _first_json_line(text):
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line
    return ""


def parse(text):
    """Parse iperf3 output into ``{"format", "start", "intervals", "end", "error"}``.

    Accepts the single JSON document of ``--json`` or the newline-delimited events of ``--json-stream``
    (``{"event": "start|interval|end|error", "data": …}``). Leading non-JSON lines (warnings printed by a
    console or ssh wrapper) are skipped. Raises :class:`Iperf3ReportError` with a precise reason otherwise.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str) or not text.strip():
        raise Iperf3ReportError("the iperf3 report is empty")
    brace = text.find("{")
    if brace < 0:
        raise Iperf3ReportError("no JSON object in the iperf3 report (was iperf3 run with --json?): {0!r}".format(text[:120]))
    text = text[brace:]
    first = _first_json_line(text)
    is_stream = False
    if first.endswith("}"):
        try:
            is_stream = "event" in json.loads(first)
        except ValueError:
            is_stream = False
    if is_stream:
        return _parse_stream(text)
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise Iperf3ReportError("the iperf3 report is not valid JSON ({0}); a truncated file?".format(exc))
    if not isinstance(doc, dict) or not ("start" in doc or "intervals" in doc or "error" in doc):
        raise Iperf3ReportError("JSON does not look like an iperf3 client report (no start/intervals/error keys)")
    return {
        "format": FORMAT_JSON,
        "start": doc.get("start") or {},
        "intervals": doc.get("intervals") or [],
        "end": doc.get("end") or {},
        "error": doc.get("error"),
    }


def _parse_stream(text):
    report = {"format": FORMAT_JSON_STREAM, "start": {}, "intervals": [], "end": {}, "error": None}
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        try:
            event = json.loads(line)
        except ValueError as exc:
            raise Iperf3ReportError("line {0} of the --json-stream report is not JSON: {1}".format(lineno, exc))
        kind, data = event.get("event"), event.get("data")
        if kind == STREAM_EVENT_INTERVAL:
            report["intervals"].append(data or {})
        elif kind == STREAM_EVENT_START:
            report["start"] = data or {}
        elif kind == STREAM_EVENT_END:
            report["end"] = data or {}
        elif kind == STREAM_EVENT_ERROR:
            report["error"] = data if isinstance(data, str) else json.dumps(data)
    return report


def report_start_epoch(report):
    """``start.timestamp.timesecs`` (whole seconds, as iperf3 writes it) or None."""
    ts = (report.get("start") or {}).get("timestamp") or {}
    value = ts.get("timesecs")
    return float(value) if value is not None else None


def intervals(report):
    """Interval rows ``(start, end, bytes, retransmits)`` from each interval's ``sum``.

    Omitted (``-O``) intervals are skipped, and an interval that does not start after the previous one
    ended (iperf3 repeats the last interval when it stops on an error) is dropped.
    """
    rows = []
    last_end = -1.0
    for item in report.get("intervals") or ():
        total = item.get("sum") or {}
        if total.get("omitted"):
            continue
        start = total.get("start", 0.0)
        if start < last_end - EPSILON:
            continue
        end = total.get("end", start)
        rows.append((start, end, total.get("bytes", 0) or 0, total.get("retransmits", 0) or 0))
        last_end = end
    return rows


# --------------------------------------------------------------------------- analysis


def _median(values):
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2.0


def align_window(report, start=None, end=None, relative=False):
    """Migration window in seconds since the report's start.

    ``start``/``end`` are RFC3339 strings (as vmi_migrate returns) or epoch seconds; with ``relative`` they
    are already seconds since the iperf3 test start. Returns ``(start, end)`` or None when both are None.
    Raises ValueError when the report has no ``start.timestamp`` to align with, or end < start.
    """
    if start is None and end is None:
        return None
    if relative:
        ws, we = (float(start) if start is not None else None), (float(end) if end is not None else None)
    else:
        origin = report_start_epoch(report)
        if origin is None:
            raise ValueError("the iperf3 report has no start.timestamp.timesecs to align the window with")
        ws = (_epoch(start) - origin) if start is not None else None
        we = (_epoch(end) - origin) if end is not None else None
    if ws is None:
        ws = we
    if we is None:
        we = ws
    if we < ws:
        raise ValueError("window end ({0}) is before window start ({1})".format(end, start))
    return (round(ws, 6), round(we, 6))


def _epoch(value):
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        return to_epoch(text)


def _fmt(seconds):
    return "{0:.1f} s".format(seconds)


def analyse(report, window=None, max_outage_seconds=DEFAULT_MAX_OUTAGE_SECONDS, zero_bps=0.0,
            recovery_fraction=DEFAULT_RECOVERY_FRACTION, max_retransmits=None, include_series=True):
    """Analyse a parsed report (see :func:`parse`) around ``window`` = ``(start, end)`` seconds or None.

    An interval is "zero" when it carried 0 bytes or at most ``zero_bps`` bits/s. Returns a dict with
    ``survived``, ``passed``, ``message``, ``failures``, ``error``, ``duration_seconds``,
    ``interval_count``, ``longest_outage`` ({seconds, start, end}), ``zero_seconds``, ``outages``,
    ``stalled_intervals``, ``window``, ``retransmits`` and ``median_bps`` (before/during/after/total),
    ``recovery_seconds`` and ``series`` (start, end, bits_per_second, retransmits lists).
    """
    rows = intervals(report)
    error = report.get("error")
    n = len(rows)
    starts, ends, bps, retr = [], [], [], []
    outages = []
    run_start = None
    zero_seconds = 0.0
    for start, end, nbytes, rtx in rows:
        seconds = end - start
        rate = (nbytes * 8.0 / seconds) if seconds > 0 else 0.0
        starts.append(start)
        ends.append(end)
        bps.append(rate)
        retr.append(rtx)
        if nbytes <= 0 or rate <= zero_bps:
            zero_seconds += seconds
            if run_start is None:
                run_start = start
            run_end = end
        elif run_start is not None:
            outages.append((run_start, run_end))
            run_start = None
    if run_start is not None:
        outages.append((run_start, run_end))
    stalled = 0
    for rate_value, row in zip(reversed(bps), reversed(rows)):
        if row[2] <= 0 or rate_value <= zero_bps:
            stalled += 1
        else:
            break

    longest = max(outages, key=lambda o: o[1] - o[0]) if outages else None
    longest_outage = {
        "seconds": round(longest[1] - longest[0], 3) if longest else 0.0,
        "start": round(longest[0], 3) if longest else None,
        "end": round(longest[1], 3) if longest else None,
    }
    duration = ends[-1] if ends else 0.0

    retrans = {"before": 0, "during": 0, "after": 0, "total": sum(retr)}
    medians = {"total": _median(bps)}
    recovery = None
    if window is not None:
        ws, we = window
        split = {"before": [], "during": [], "after": []}
        for i in range(n):
            phase = "before" if ends[i] <= ws + EPSILON else ("after" if starts[i] >= we - EPSILON else "during")
            split[phase].append(bps[i])
            retrans[phase] += retr[i]
        for phase in ("before", "during", "after"):
            medians[phase] = _median(split[phase])
        target = (medians["before"] or 0.0) * recovery_fraction
        for i in range(n):
            if ends[i] > we + EPSILON and bps[i] > zero_bps and rows[i][2] > 0 and bps[i] >= target:
                recovery = round(max(0.0, starts[i] - we), 3)
                break
    else:
        for phase in ("before", "during", "after"):
            medians[phase] = None
            retrans[phase] = None

    failures = []
    story = []
    if error:
        where = " at {0}".format(_fmt(duration)) if n else " before any interval"
        failures.append("iperf3 error: {0}{1}".format(error, where))
        story.append("{0}{1}".format(error, where))
    if n == 0 and not error:
        failures.append("the report has no intervals")
        story.append("no intervals in the report")
    if stalled and n:
        failures.append("stalled: last {0} interval{1} carried 0 bytes (since {2})".format(
            stalled, "" if stalled == 1 else "s", _fmt(starts[n - stalled])))
        story.append(failures[-1])
    if window is not None and n and duration < window[1] - EPSILON:
        failures.append("the report ends at {0}, before the migration window ends at {1}".format(
            _fmt(duration), _fmt(window[1])))
        story.append(failures[-1])
    if window is not None and n and not error and recovery is None and duration >= window[1]:
        if not any(rows[i][2] > 0 for i in range(n) if ends[i] > window[1] + EPSILON):
            failures.append("no data after the migration window")
            story.append(failures[-1])
    survived = not failures
    if survived:
        if longest:
            story.append("stream survived; longest outage {0} ({1}-{2}), {3} with zero throughput in total".format(
                _fmt(longest_outage["seconds"]), _fmt(longest[0]), _fmt(longest[1]), _fmt(zero_seconds)))
        else:
            story.append("stream survived without any zero-throughput interval")
        if window is not None:
            story.append("{0} retransmits during and {1} after the window; recovered {2} after it".format(
                retrans["during"], retrans["after"],
                _fmt(recovery) if recovery is not None else "never to {0:.0%} of the earlier rate".format(recovery_fraction)))
    if longest_outage["seconds"] > max_outage_seconds + EPSILON:
        failures.append("longest outage {0} exceeds the maximum {1}".format(
            _fmt(longest_outage["seconds"]), _fmt(max_outage_seconds)))
    if max_retransmits is not None and window is not None:
        moved = (retrans["during"] or 0) + (retrans["after"] or 0)
        if moved > max_retransmits:
            failures.append("{0} retransmits during/after the window exceed the maximum {1}".format(moved, max_retransmits))
    passed = not failures
    verdict = "PASS" if passed else "FAIL"
    message = "{0}: {1}".format(verdict, "; ".join(story))
    if not passed and survived:
        message += " ({0})".format("; ".join(failures))

    result = {
        "survived": survived,
        "passed": passed,
        "message": message,
        "failures": failures,
        "error": error,
        "format": report.get("format"),
        "start_epoch": report_start_epoch(report),
        "duration_seconds": round(duration, 3),
        "interval_count": n,
        "interval_seconds": round(_median([e - s for s, e in zip(starts, ends)]) or 0.0, 3),
        "longest_outage": longest_outage,
        "zero_seconds": round(zero_seconds, 3),
        "outages": [{"start": round(s, 3), "end": round(e, 3), "seconds": round(e - s, 3)} for s, e in outages],
        "stalled_intervals": stalled,
        "window": {"start": window[0], "end": window[1]} if window is not None else None,
        "retransmits": retrans,
        "median_bps": medians,
        "recovery_seconds": recovery,
        "thresholds": {"max_outage_seconds": max_outage_seconds, "max_retransmits": max_retransmits},
    }
    if include_series:
        result["series"] = {"start": starts, "end": ends, "bits_per_second": bps, "retransmits": retr}
    return result


# --------------------------------------------------------------------------- plotting


def plot(analysis, path, title=None):
    """Write a PNG of throughput over time to ``path``, shading the migration window and outages.

    Needs matplotlib (raises ImportError otherwise) and ``analysis["series"]``.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    series = analysis["series"]
    fig, axis = pyplot.subplots(figsize=(10, 4))
    try:
        xs, ys = [], []
        for start, end, rate in zip(series["start"], series["end"], series["bits_per_second"]):
            xs.extend((start, end))
            ys.extend((rate / 1e6, rate / 1e6))
        axis.plot(xs, ys, color="tab:blue", linewidth=1.2, label="throughput")
        for outage in analysis.get("outages") or []:
            axis.axvspan(outage["start"], outage["end"], color="tab:red", alpha=0.15)
        window = analysis.get("window")
        if window:
            axis.axvspan(window["start"], max(window["end"], window["start"] + 0.05), color="tab:orange",
                         alpha=0.3, label="migration window")
        axis.set_xlabel("seconds since iperf3 start")
        axis.set_ylabel("Mbit/s")
        axis.set_title(title or analysis.get("message", "")[:100], fontsize=9)
        axis.set_ylim(bottom=0)
        axis.legend(loc="lower right")
        axis.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(path, format="png", dpi=100)
    finally:
        pyplot.close(fig)
    return path
