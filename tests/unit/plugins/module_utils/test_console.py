# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""Tests for module_utils/console.py: a login on a VM's serial console, driven like a person would."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.ovnk.udn_lab.plugins.module_utils import console as C

PASSWORD = "s3cr3t-pw"
ADDRESSES = json.dumps([{"ifname": "eth0", "addr_info": [{"family": "inet", "local": "192.168.0.3"}]}])


class Guest(object):
    """A getty and a shell behind a terminal that echoes what is typed (as a pty does), with a fake clock."""

    def __init__(self, password=PASSWORD, banner=True, prompt_first=True, silent=False, output=ADDRESSES, rc=0,
                 escape=True):
        self.password, self.output, self.rc, self.silent, self.escape = password, output, rc, silent, escape
        self.now = 0.0
        self.queue = []
        self.typed = []
        self.state = "login"
        self.closed = False
        if banner and not silent:
            self.queue.append("Successfully connected to red console. Press Ctrl+] or Ctrl+5 to exit console.\r\n\r\n")
        if prompt_first and not silent:
            self.queue.append("red login: ")

    def clock(self):
        return self.now

    def read(self, timeout):
        if self.queue:
            return self.queue.pop(0)
        if self.closed:
            return None
        self.now += timeout
        return ""

    def write(self, text):
        self.typed.append(text)
        if text == C.ESCAPE:
            self.closed = True
            return
        if self.silent:
            return
        line = text.rstrip("\r")
        if self.state == "password":
            self.queue.append("\r\n")
        else:
            self.queue.append(text.replace("\r", "\r\n"))  # the terminal's echo
        if self.state == "login":
            if line:
                self.user = line
                self.state = "password"
                self.queue.append("Password: ")
            else:
                self.queue.append("red login: ")
        elif self.state == "password":
            if line == self.password:
                self.state = "shell"
                self.queue.append("\x1b[?2004h[fedora@red ~]$ ")
            else:
                self.state = "login"
                self.queue.append("\r\nLogin incorrect\r\nred login: ")
        elif self.state == "shell" and line.startswith("echo "):
            self.queue.append("__UDNLAB_BEGIN__\r\n{0}\r\n__UDNLAB_END__ {1}\r\n[fedora@red ~]$ ".format(
                self.output, self.rc))


def run(guest, timeout=60):
    return C.login_and_run(guest, "fedora", PASSWORD, ["ip", "-j", "-4", "addr", "show", "scope", "global"], timeout,
                           guest.clock)


def test_a_login_as_the_workshop_does_then_the_command_then_out():
    guest = Guest()
    result = run(guest)
    assert result["error"] is None, result
    assert (result["connected"], result["logged_in"], result["rc"]) == (True, True, 0)
    assert json.loads(result["stdout"])[0]["addr_info"][0]["local"] == "192.168.0.3"
    assert guest.typed[:2] == ["fedora\r", PASSWORD + "\r"]
    assert guest.typed[-2:] == ["exit\r", C.ESCAPE]


def test_the_password_never_shows():
    guest = Guest(password="other")
    result = run(guest)
    assert PASSWORD not in repr(result)
    result = run(Guest())
    assert PASSWORD not in repr(result)


def test_a_refused_login_says_so():
    result = run(Guest(password="other"))
    assert not result["logged_in"] and result["rc"] is None
    assert "refused the login of fedora" in result["error"] and "console password" in result["error"]


def test_a_console_without_a_prompt_is_nudged_with_enter():
    guest = Guest(prompt_first=False)
    result = run(guest)
    assert result["error"] is None and guest.typed[0] == "\r"


def test_a_silent_console_times_out_with_a_reason():
    result = run(Guest(silent=True), timeout=10)
    assert not result["connected"]
    assert result["error"] == "no answer from virtctl console in 10 s"


def test_the_exit_status_and_markers_are_read_from_the_shell_not_the_echo():
    line = C.command_line(["ip", "-j", "addr"])
    assert C.BEGIN not in line and C.END not in line
    echo_only = "[fedora@red ~]$ " + line + "\r\n"
    assert C.extract(echo_only) == (None, None)
    result = run(Guest(rc=1, output=""))
    assert result["rc"] == 1 and result["stdout"] == ""


def test_a_console_that_closes_is_an_answer():
    class Closing(Guest):
        def write(self, text):
            self.typed.append(text)
            self.closed = True
            self.queue.append("error: VMI red-namespace/red is not running\r\n")
    result = run(Closing())
    assert result["error"].startswith("the console closed: ")


def test_clean_removes_escape_sequences_and_carriage_returns():
    assert C.clean("\x1b[?2004h[fedora@red ~]$ \x1b[01;32mok\x1b[0m\r\n") == "[fedora@red ~]$ ok\n"
