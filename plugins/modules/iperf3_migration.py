#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Analyse an iperf3 client report around a live-migration window."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: iperf3_migration
short_description: Tell whether an iperf3 stream survived a live migration, and how long it stalled
version_added: 0.1.0
description:
  - Reads an iperf3 client report - the JSON of C(iperf3 --json), or the line stream of C(--json-stream)
    (iperf3 3.17 and later) - from a file (O(src)) or a string (O(content)).
  - The stream B(survived) when the report has no C(error) (iperf3 3.12 exits 0 even on errors in JSON mode,
    so the exit code proves nothing), it does not end in zero-byte intervals, and intervals with data continue
    after the migration window. Repeated last intervals (written by iperf3 when it stops on an error) are
    dropped.
  - Measures, at interval resolution, the longest outage (contiguous zero-throughput time) and the total zero
    time; retransmits and median throughput before, during and after the window; and the recovery time after
    it. Totals at the end of a report hide outages; only intervals show them.
  - The verdict RV(passed) is survived and longest outage at most O(max_outage_seconds) (and retransmits at
    most O(max_retransmits) when set). RV(message) says what happened in words.
  - Optionally writes a PNG plot (O(plot_path)) of throughput over time with the window and outages shaded.
  - Supports check mode; only writing a plot that differs from the file on disk reports a change.
author:
  - ovnk.udn_lab maintainers (@ovnk)
options:
  src:
    description: Path of the iperf3 report on the host running the module. Mutually exclusive with O(content).
    type: path
  content:
    description: The iperf3 report as a string (for example the registered stdout of the client).
    type: str
  window_start:
    description:
      - Start of the migration window - an RFC3339 timestamp (RV(ovnk.udn_lab.vmi_migrate#module:start)), or epoch
        seconds; with O(window_relative=true) seconds since the iperf3 test start.
      - Absolute times are aligned through the report's C(start.timestamp.timesecs), which iperf3 writes in
        whole seconds, so the alignment is good to about one second.
    type: raw
  window_end:
    description: End of the migration window, same forms as O(window_start).
    type: raw
  window_relative:
    description: Read O(window_start) and O(window_end) as seconds since the iperf3 test start.
    type: bool
    default: false
  max_outage_seconds:
    description: Longest tolerated contiguous zero-throughput time for RV(passed).
    type: float
    default: 2.0
  max_retransmits:
    description: When set, the most retransmits tolerated during and after the window for RV(passed).
    type: int
  zero_bps:
    description: Intervals at or below this many bits per second count as zero throughput.
    type: float
    default: 0.0
  recovery_fraction:
    description:
      - Recovery ends at the first interval after the window reaching this fraction of the median throughput
        before the window.
    type: float
    default: 0.5
  fail_on_verdict:
    description: Fail the task when RV(passed) is false (the analysis is still returned).
    type: bool
    default: false
  return_series:
    description: Return the interval time series (RV(series)) for plotting elsewhere.
    type: bool
    default: true
  plot_path:
    description: Write a PNG plot here. Needs the Python library matplotlib on the host running the module.
    type: path
requirements:
  - matplotlib (only for O(plot_path))
seealso:
  - module: ovnk.udn_lab.vmi_migrate
"""

EXAMPLES = r"""
- name: Analyse the stream that ran across the migration
  ovnk.udn_lab.iperf3_migration:
    content: "{{ iperf3_client.stdout }}"
    window_start: "{{ migration.start }}"
    window_end: "{{ migration.end }}"
    max_outage_seconds: 2.0
    plot_path: "{{ udn_lab_dir }}/report/iperf3-migration.png"
    fail_on_verdict: true
  register: stream

- name: Say what happened
  ansible.builtin.debug:
    msg: "{{ stream.message }}"
"""

RETURN = r"""
survived:
  description: No error, no stall at the end, and data flowed after the window.
  returned: always
  type: bool
passed:
  description: RV(survived) and within the thresholds.
  returned: always
  type: bool
message:
  description: What happened, in words.
  returned: always
  type: str
  sample: "FAIL: control socket has closed unexpectedly at 4.0 s"
failures:
  description: Each reason RV(passed) is false.
  returned: always
  type: list
  elements: str
error:
  description: The report's C(error) text, if any.
  returned: always
  type: str
longest_outage:
  description: Longest contiguous zero-throughput time (seconds, start, end; seconds since the test start).
  returned: always
  type: dict
  sample: {"seconds": 2.5, "start": 3.0, "end": 5.5}
zero_seconds:
  description: Total zero-throughput time.
  returned: always
  type: float
outages:
  description: Every zero-throughput run (start, end, seconds).
  returned: always
  type: list
  elements: dict
window:
  description: The window in seconds since the test start (null without a window).
  returned: always
  type: dict
retransmits:
  description: Retransmits before, during and after the window, and in total (phases null without a window).
  returned: always
  type: dict
median_bps:
  description: Median throughput in bits/s before, during, after the window and in total.
  returned: always
  type: dict
recovery_seconds:
  description: Seconds after the window until throughput recovered (null when it did not, or without a window).
  returned: always
  type: float
interval_count:
  description: Intervals analysed (repeats and omitted intervals excluded).
  returned: always
  type: int
duration_seconds:
  description: End of the last interval.
  returned: always
  type: float
series:
  description: Interval start, end, bits_per_second and retransmits lists.
  returned: when O(return_series=true)
  type: dict
plot_path:
  description: Where the PNG plot was written.
  returned: when O(plot_path) is set
  type: str
"""

import os
import tempfile
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.ovnk.udn_lab.plugins.module_utils import iperf3

try:
    import matplotlib  # noqa: F401  pylint: disable=unused-import
    HAS_MATPLOTLIB = True
    MATPLOTLIB_IMPORT_ERROR = None
except ImportError:
    HAS_MATPLOTLIB = False
    MATPLOTLIB_IMPORT_ERROR = traceback.format_exc()


def argument_spec():
    return dict(
        src=dict(type="path"),
        content=dict(type="str"),
        window_start=dict(type="raw"),
        window_end=dict(type="raw"),
        window_relative=dict(type="bool", default=False),
        max_outage_seconds=dict(type="float", default=iperf3.DEFAULT_MAX_OUTAGE_SECONDS),
        max_retransmits=dict(type="int"),
        zero_bps=dict(type="float", default=0.0),
        recovery_fraction=dict(type="float", default=iperf3.DEFAULT_RECOVERY_FRACTION),
        fail_on_verdict=dict(type="bool", default=False),
        return_series=dict(type="bool", default=True),
        plot_path=dict(type="path"),
    )


def write_plot(module, analysis, path):
    """Render the plot to a temporary file; replace ``path`` only when the bytes differ. Returns changed."""
    if not HAS_MATPLOTLIB:
        module.fail_json(msg=missing_required_lib("matplotlib", reason="for plot_path"), exception=MATPLOTLIB_IMPORT_ERROR)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        module.fail_json(msg="plot_path directory {0} does not exist: create it first".format(directory))
    handle, tmp = tempfile.mkstemp(suffix=".png", dir=module.tmpdir)
    os.close(handle)
    try:
        iperf3.plot(analysis, tmp)
        with open(tmp, "rb") as new:
            data = new.read()
        old = None
        if os.path.exists(path):
            with open(path, "rb") as current:
                old = current.read()
        if old == data:
            return False
        if not module.check_mode:
            module.atomic_move(tmp, path)
        return True
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           mutually_exclusive=[("src", "content")], required_one_of=[("src", "content")])
    p = module.params
    if p["max_outage_seconds"] < 0 or not 0 <= p["recovery_fraction"] <= 1:
        module.fail_json(msg="max_outage_seconds must be >= 0 and recovery_fraction between 0 and 1")
    if p["src"] is not None:
        try:
            with open(p["src"], "rb") as handle:
                text = handle.read()
        except (IOError, OSError) as exc:
            module.fail_json(msg="cannot read src {0}: {1}".format(p["src"], exc))
    else:
        text = p["content"]
    try:
        report = iperf3.parse(text)
    except iperf3.Iperf3ReportError as exc:
        module.fail_json(msg="{0}: {1}".format("src" if p["src"] is not None else "content", exc))
    try:
        window = iperf3.align_window(report, p["window_start"], p["window_end"], p["window_relative"])
    except (TypeError, ValueError) as exc:
        module.fail_json(msg="window_start/window_end: {0} (use RFC3339 timestamps or epoch seconds, or seconds since "
                             "the test start with window_relative=true)".format(exc))
    analysis = iperf3.analyse(report, window, p["max_outage_seconds"], p["zero_bps"], p["recovery_fraction"],
                              p["max_retransmits"], include_series=p["return_series"] or bool(p["plot_path"]))
    changed = False
    if p["plot_path"]:
        changed = write_plot(module, analysis, p["plot_path"])
        analysis["plot_path"] = p["plot_path"]
    if not p["return_series"]:
        analysis.pop("series", None)
    if p["fail_on_verdict"] and not analysis["passed"]:
        module.fail_json(msg=analysis["message"], changed=changed, **dict((k, v) for k, v in analysis.items() if k != "message"))
    module.exit_json(changed=changed, **analysis)


if __name__ == "__main__":
    main()
