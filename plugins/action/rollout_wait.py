# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Controller side of ovnk.udn_lab.rollout_wait: the wait in 30 s slices, with a progress line between them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ovnk.udn_lab.plugins.plugin_utils.sliced_wait import SlicedWaitAction


class ActionModule(SlicedWaitAction):
    MODULE = "ovnk.udn_lab.rollout_wait"
    DEFAULT_TIMEOUT = 600  # the module's default
    WHAT = "rollout_wait"
