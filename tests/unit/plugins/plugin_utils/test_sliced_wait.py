# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""sliced_wait: a long wait as module runs of <= 30 s with a progress line between them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ovnk.udn_lab.plugins.plugin_utils.sliced_wait import run_sliced


class Module(object):
    """A wait module that becomes ready at ``ready_at`` seconds (a clock it advances as a module run would)."""

    def __init__(self, ready_at, pending="red-namespace/red Scheduling: missing Running", other_failure_at=None):
        self.now = 0.0
        self.ready_at = ready_at
        self.pending = pending
        self.other_failure_at = other_failure_at
        self.calls = []

    def clock(self):
        return self.now

    def execute(self, args):
        self.calls.append(dict(args))
        if not isinstance(args["timeout"], int):
            return {"failed": True, "msg": "argument 'timeout' is of type str and we were unable to convert to int"}
        if self.other_failure_at is not None and self.now >= self.other_failure_at:
            return {"failed": True, "msg": "cannot wait for VMIs: HTTP 403 Forbidden"}
        if self.now + args["timeout"] >= self.ready_at:
            self.now = self.ready_at
            return {"changed": False, "elapsed_seconds": 1.0, "vmis": []}
        self.now += args["timeout"]
        return {"failed": True, "timed_out": True, "pending": self.pending, "elapsed_seconds": args["timeout"],
                "msg": "timed out after {0} s waiting for 1 of 2 VMIs: red-namespace/red: ...".format(args["timeout"])}


def run(module, timeout, default=600):
    lines = []
    args = {"name": ["red"], "namespace": ["red-namespace"]}
    if timeout is not None:
        args["timeout"] = timeout
    result = run_sliced(module.execute, args, default, lines.append, "VMIs", clock=module.clock)
    return result, lines


def test_a_long_wait_prints_what_it_waits_for_at_least_every_30_s_then_succeeds():
    module = Module(ready_at=75)
    result, lines = run(module, 900)
    assert not result.get("failed") and result["slices"] == 3
    assert [c["timeout"] for c in module.calls] == [30, 30, 30]
    assert lines == ["VMIs: waiting 30/900 s: red-namespace/red Scheduling: missing Running",
                     "VMIs: waiting 60/900 s: red-namespace/red Scheduling: missing Running"]
    assert result["elapsed_seconds"] == 75.0  # the whole wait, not the last slice


def test_a_wait_that_times_out_fails_once_naming_the_whole_timeout():
    module = Module(ready_at=10000)
    result, lines = run(module, 100)
    assert [c["timeout"] for c in module.calls] == [30, 30, 30, 10]
    assert len(lines) == 3 and lines[-1].startswith("VMIs: waiting 90/100 s:")
    assert result["failed"] and result["msg"].startswith("timed out after 100 s waiting for 1 of 2 VMIs")


def test_other_failures_end_the_wait_at_once_and_short_waits_run_once():
    module = Module(ready_at=10000, other_failure_at=30)
    result, lines = run(module, 600)
    assert result["msg"] == "cannot wait for VMIs: HTTP 403 Forbidden" and len(module.calls) == 2 and len(lines) == 1
    short = Module(ready_at=10000)
    result, lines = run(short, 20)
    assert short.calls == [{"name": ["red"], "namespace": ["red-namespace"], "timeout": 20}] and lines == []
    # no timeout given: the module's default, sliced
    default = Module(ready_at=45)
    result, lines = run(default, None, default=600)
    assert [c["timeout"] for c in default.calls] == [30, 30] and lines == [
        "VMIs: waiting 30/600 s: red-namespace/red Scheduling: missing Running"]
    # a timeout the module will refuse is passed through as given
    bad = Module(ready_at=0)
    run(bad, "soon")
    assert bad.calls[0]["timeout"] == "soon"


def test_the_watch_statistics_are_the_whole_waits():
    """A watch that broke in an early slice still shows in the result (the last slice alone saw no break)."""
    class Watching(Module):
        def execute(self, args):
            result = super(Watching, self).execute(args)
            first = len(self.calls) == 1
            result["watch"] = {"lists": 1, "events": 2, "reconnects": 1 if first else 0, "errors": 1 if first else 0,
                               "last_error": "watch dropped" if first else None}
            return result

    module = Watching(ready_at=45)
    result, dummy = run(module, 600)
    assert result["watch"] == {"lists": 2, "events": 4, "reconnects": 1, "errors": 1, "last_error": "watch dropped"}


def test_a_wait_that_started_something_resumes_it_and_reports_the_change():
    """vmi_migrate's action plugin: the first slice creates the migration (changed), the next ones get the
    arguments next_args gives (resume that migration) and change nothing; the result is still changed."""
    class Migrating(Module):
        def execute(self, args):
            result = super(Migrating, self).execute(args)
            result["changed"] = "resume" not in args
            if result.get("timed_out"):
                result["migration"] = {"name": "kubevirt-migrate-vm-abcde", "vmi_before": {"status": {}}}
            return result

    module = Migrating(ready_at=70)
    seen = []

    def next_args(args, result):
        seen.append(result["migration"]["name"])
        return dict(args, resume=result["migration"])

    lines = []
    result = run_sliced(module.execute, {"name": "blue", "timeout": 300}, 600, lines.append, "migration",
                        clock=module.clock, next_args=next_args)
    assert not result.get("failed") and result["changed"] is True and result["slices"] == 3
    assert ["resume" in c for c in module.calls] == [False, True, True]
    assert seen == ["kubevirt-migrate-vm-abcde"] * 2 and len(lines) == 2
