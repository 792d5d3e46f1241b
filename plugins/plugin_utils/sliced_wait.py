# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""A long wait as short module runs, with a progress line between them (controller side).

Ansible's default output shows nothing while a module runs, so a 900 s wait looks hung. The action plugins of
``vmi_wait`` and ``network_wait`` run their module for at most :data:`SLICE_SECONDS` at a time and, while it
reports ``timed_out`` with ``pending`` (what it still waits for), print ``waiting <elapsed>/<timeout> s: <pending>``
and run it again, until it succeeds, fails for another reason, or the whole timeout is spent. The last failure is
returned as it is, its "timed out after N s" naming the whole timeout.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time

SLICE_SECONDS = 30
_TIMED_OUT = re.compile(r"^timed out after \d+ s")


def run_sliced(execute, args, default_timeout, progress, what, slice_seconds=SLICE_SECONDS, clock=time.monotonic,
               next_args=None):
    """Run ``execute(module_args) -> result`` in slices of at most ``slice_seconds`` of ``args["timeout"]``
    (``default_timeout`` when unset); ``progress(line)`` is called between slices. ``next_args(args, result)``
    gives the arguments of the next slice after a timed-out one (a wait that started something resumes it instead
    of starting it again). The result is ``changed`` when any slice changed something."""
    try:
        timeout = int(args.get("timeout", default_timeout))
    except (TypeError, ValueError):
        return execute(dict(args))  # the module refuses it with its own message
    if timeout <= slice_seconds:
        return execute(dict(args))
    started = clock()
    slices = 0
    watch = {}
    changed = False
    current = dict(args)
    while True:
        remaining = timeout - (clock() - started)
        this = max(1, int(min(slice_seconds, remaining)))
        result = execute(dict(current, timeout=this))
        slices += 1
        changed = changed or bool(result.get("changed"))
        watch = add_watch_stats(watch, result.get("watch"))
        elapsed = clock() - started
        if not result.get("failed") or not result.get("timed_out") or elapsed >= timeout - 0.5:
            break
        progress("{0}: waiting {1}/{2} s: {3}".format(what, int(elapsed), timeout, result.get("pending") or "not ready"))
        if next_args is not None:
            current = next_args(current, result)
    if result.get("failed") and result.get("timed_out") and isinstance(result.get("msg"), str):
        result["msg"] = _TIMED_OUT.sub("timed out after {0} s".format(timeout), result["msg"], count=1)
    if "elapsed_seconds" in result:
        result["elapsed_seconds"] = round(clock() - started, 3)
    if watch:
        result["watch"] = watch
    if changed:
        result["changed"] = True
    result["slices"] = slices
    return result


def add_watch_stats(total, stats):
    """The watch statistics of the whole wait: counts summed over the slices, other fields from the last slice
    that had them (a watch that broke in an early slice still shows in the result)."""
    if not isinstance(stats, dict):
        return total
    out = dict(total)
    for key, value in stats.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = out.get(key, 0) + value
        elif value or key not in out:
            out[key] = value
    return out


try:
    from ansible.plugins.action import ActionBase
    from ansible.utils.display import Display
except ImportError:  # pragma: no cover - only the controller imports the action plugins
    ActionBase, Display = object, None


class SlicedWaitAction(ActionBase):
    """Base of the wait modules' action plugins: ``MODULE`` run through :func:`run_sliced` (``DEFAULT_TIMEOUT``:
    the module's default; ``WHAT``: how progress lines start)."""

    MODULE = None
    DEFAULT_TIMEOUT = 600
    WHAT = "waiting"

    def next_args(self, args, result):
        """The arguments of the slice after a timed-out one (default: the same)."""
        return args

    def run(self, tmp=None, task_vars=None):
        result = super(SlicedWaitAction, self).run(tmp, task_vars)

        def execute(module_args):
            return self._execute_module(module_name=self.MODULE, module_args=module_args, task_vars=task_vars)

        result.update(run_sliced(execute, dict(self._task.args), self.DEFAULT_TIMEOUT, Display().display, self.WHAT,
                                 next_args=self.next_args))
        return result
