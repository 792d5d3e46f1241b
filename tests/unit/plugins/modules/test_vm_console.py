# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""Tests for the vm_console module: a real pseudo-terminal, with a stand-in for virtctl console (a getty and a
shell that echo like a terminal)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import stat
import sys

from ansible_collections.ovnk.udn_lab.plugins.modules import vm_console

from fake_api import main_result

PASSWORD = "pw-Secret-42"
GETTY = r'''#!{python}
import subprocess, sys
args = sys.argv[1:]
assert args[:2] == ["console", "red"] and args[2:4] == ["-n", "red-namespace"], args
sys.stdout.write("Successfully connected to red console. Press Ctrl+] or Ctrl+5 to exit console.\n\n")
for attempt in range(3):
    sys.stdout.write("red login: "); sys.stdout.flush()
    user = sys.stdin.readline().strip()
    sys.stdout.write("Password: "); sys.stdout.flush()
    if user == "fedora" and sys.stdin.readline().strip() == "{password}":
        break
    sys.stdout.write("\nLogin incorrect\n")
else:
    sys.exit(1)
while True:
    sys.stdout.write("[fedora@red ~]$ "); sys.stdout.flush()
    line = sys.stdin.readline()
    if not line or line.strip() == "exit":
        sys.exit(0)
    sys.stdout.write(subprocess.run(["sh", "-c", line], capture_output=True, text=True).stdout)
'''


def fake_virtctl(tmp_path):
    path = tmp_path / "virtctl"
    path.write_text(GETTY.replace("{python}", sys.executable).replace("{password}", PASSWORD))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def args(tmp_path, **extra):
    out = dict(virtctl=fake_virtctl(tmp_path), name="red", namespace="red-namespace", user="fedora",
               password=PASSWORD, command=["echo", "it's", "me"], timeout=20)
    out.update(extra)
    return out


def test_logs_in_runs_the_command_and_leaves(tmp_path, capsys):
    out = main_result(vm_console, args(tmp_path), capsys)
    assert out["error"] is None, out
    assert (out["changed"], out["connected"], out["logged_in"], out["rc"]) == (False, True, True, 0)
    assert out["stdout"] == "it's me"
    assert PASSWORD not in repr(out) and "********" in out["transcript"]


def test_a_wrong_password_is_an_answer_not_a_failure(tmp_path, capsys):
    out = main_result(vm_console, args(tmp_path, password="wrong-one"), capsys, check_mode=True)
    assert "failed" not in out and out["logged_in"] is False and out["rc"] is None
    assert "refused the login of fedora" in out["error"]
    assert "wrong-one" not in repr(out)


def test_virtctl_that_cannot_start_fails(tmp_path, capsys):
    out = main_result(vm_console, args(tmp_path, virtctl=str(tmp_path / "missing")), capsys)
    assert out["failed"] is True and out["msg"] == "cannot run {0}: not found or not executable".format(tmp_path / "missing")
    out = main_result(vm_console, args(tmp_path, virtctl="no-such-virtctl-here"), capsys)
    assert out["failed"] is True and out["msg"] == "cannot run no-such-virtctl-here: not found or not executable"
