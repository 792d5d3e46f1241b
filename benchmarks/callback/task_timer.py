# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Benchmark helper (not part of the collection): records each task's wall time to a JSON-lines file.

    ANSIBLE_CALLBACK_PLUGINS=benchmarks/callback ANSIBLE_CALLBACKS_ENABLED=task_timer \
    UDN_LAB_TASK_TIMES=/tmp/times.jsonl ansible-playbook ...
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: task_timer
type: aggregate
short_description: write each task's wall time to $UDN_LAB_TASK_TIMES (JSON lines)
description: Benchmark helper of ovnk.udn_lab, not shipped in the collection.
requirements: [enable in configuration]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.path = os.environ.get("UDN_LAB_TASK_TIMES")
        self.current = None

    def _flush(self):
        if self.current and self.path:
            name, role, started = self.current
            with open(self.path, "a") as handle:
                handle.write(json.dumps({"task": name, "role": role, "seconds": round(time.time() - started, 3)}) + "\n")
        self.current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._flush()
        self.current = (task.get_name(), task._role.get_name() if task._role else "", time.time())

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def v2_playbook_on_stats(self, stats):
        self._flush()
