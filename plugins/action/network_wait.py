# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Controller side of ovnk.udn_lab.network_wait: the wait in 30 s slices, with a progress line between them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible_collections.ovnk.udn_lab.plugins.plugin_utils.sliced_wait import run_sliced

display = Display()
DEFAULT_TIMEOUT = 600  # the module's default


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)

        def execute(module_args):
            return self._execute_module(module_name="ovnk.udn_lab.network_wait", module_args=module_args, task_vars=task_vars)

        result.update(run_sliced(execute, dict(self._task.args), DEFAULT_TIMEOUT, display.display, "networks"))
        return result
