# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""A login on a VM's serial console (``virtctl console``), as the workshop does it, driven like a person would.

The workshop logs into its VMs with ``virtctl console -n<ns> <vm>``: virt-api reaches virt-handler, which opens the
launcher's serial socket (KubeVirt v1.8.4 ``pkg/virtctl/console``; no pod network is involved, so it works for a VM
whose primary network is a UDN). What the console shows is the guest's getty: ``<vm> login:``, ``Password:``, then
a shell prompt ending in ``$`` (or ``#``).

:func:`login_and_run` is the state machine over a terminal (``read(timeout)`` → text, ``""`` on timeout, None at
the end; ``write(text)``) with an injected clock, so it is tested without a VM. It logs in, runs one command
between markers, logs out and leaves the console (Ctrl+]). The password never appears in what it returns.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import shlex

ESCAPE = "\x1d"  # Ctrl+]: virtctl console's escape
ENTER = "\r"
MASK = "********"
LOGIN = re.compile(r"login:\s*$")
PASSWORD = re.compile(r"[Pp]assword:\s*$")
PROMPT = re.compile(r"[$#]\s*$")
INCORRECT = "Login incorrect"
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-Za-z]")
BEGIN, END = "__UDNLAB_BEGIN__", "__UDNLAB_END__"
# Typed with an empty quote inside, so the echo of the typed line never matches what the shell prints.
BEGIN_TYPED, END_TYPED = "__UDNLAB_\"\"BEGIN__", "__UDNLAB_\"\"END__"
OUTPUT = re.compile(re.escape(BEGIN) + r"\n(.*?)\n?" + re.escape(END) + r" (\d+)", re.S)
MAX_LOGIN_ATTEMPTS = 2
TRANSCRIPT_TAIL = 4000


def clean(text):
    """Terminal output without escape sequences and carriage returns."""
    return ANSI.sub("", text or "").replace("\r", "")


def command_line(argv):
    """The line typed at the prompt: the command between two markers, then its exit status."""
    return "echo {0}; {1}; echo {2} $?".format(BEGIN_TYPED, " ".join(shlex.quote(str(a)) for a in argv), END_TYPED)


def extract(text):
    """``(output, rc)`` of the command in the cleaned console text, or ``(None, None)``."""
    found = OUTPUT.findall(clean(text))
    if not found:
        return None, None
    output, rc = found[-1]
    return output, int(rc)


def mask(text, secret):
    return text.replace(secret, MASK) if secret else text


def login_and_run(term, user, password, argv, timeout, clock):
    """Log in as ``user`` and run ``argv``; returns ``{connected, logged_in, rc, stdout, error, transcript}``.

    ``error`` says what went wrong (no console, a refused login, no prompt, no output in time); the transcript is
    the last part of what the console showed, the password masked."""
    deadline = clock() + timeout
    seen, pending = "", ""
    result = {"connected": False, "logged_in": False, "rc": None, "stdout": None, "error": None}
    attempts, sent_command, nudged = 0, False, False

    def finish(error=None):
        result["error"] = error
        result["transcript"] = mask(clean(seen), password)[-TRANSCRIPT_TAIL:]
        return result

    while clock() < deadline:
        chunk = term.read(min(1.0, max(deadline - clock(), 0.01)))
        if chunk is None:
            return finish(None if result["rc"] is not None else "the console closed: {0}".format(
                clean(pending).strip()[-300:] or "no output"))
        if chunk:
            seen += chunk
            pending += chunk
            result["connected"] = True
        text = clean(pending)
        if sent_command:
            output, rc = extract(seen)
            if rc is not None:
                result["stdout"], result["rc"] = output, rc
                term.write("exit" + ENTER)
                term.write(ESCAPE)
                return finish()
            continue
        if INCORRECT in text and attempts >= MAX_LOGIN_ATTEMPTS:
            return finish("the console refused the login of {0} ({1}): check the console password".format(
                user, INCORRECT))
        if LOGIN.search(text):
            attempts += 1
            if attempts > MAX_LOGIN_ATTEMPTS:
                return finish("the console refused the login of {0} {1} times: check the console password".format(
                    user, MAX_LOGIN_ATTEMPTS))
            pending = ""
            term.write(user + ENTER)
        elif PASSWORD.search(text):
            pending = ""
            term.write(password + ENTER)
        elif PROMPT.search(text) and (attempts or nudged):
            result["logged_in"] = True
            pending = ""
            sent_command = True
            term.write(command_line(argv) + ENTER)
        elif not chunk and not nudged:
            nudged = True  # a getty prints its prompt again on Enter (the console may show an old screen, or none)
            pending = ""
            term.write(ENTER)
    if not result["connected"]:
        return finish("no answer from virtctl console in {0} s".format(int(timeout)))
    if not result["logged_in"]:
        return finish("no login prompt or shell prompt on the console in {0} s".format(int(timeout)))
    return finish("logged in, but the command printed no result in {0} s".format(int(timeout)))
