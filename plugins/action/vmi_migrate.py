# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Controller side of ovnk.udn_lab.vmi_migrate: the wait for the migration in 30 s slices, with a progress line
between them. The first slice creates (or adopts) the migration; every later slice resumes that same migration
(``resume``: its name, uid and the VMI as it was before), so a slow migration is never started twice."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ovnk.udn_lab.plugins.plugin_utils.sliced_wait import SlicedWaitAction


class ActionModule(SlicedWaitAction):
    MODULE = "ovnk.udn_lab.vmi_migrate"
    DEFAULT_TIMEOUT = 600  # the module's default
    WHAT = "migration"

    def next_args(self, args, result):
        migration = result.get("migration")
        if isinstance(migration, dict) and migration.get("name") and migration.get("vmi_before"):
            return dict(args, resume=migration)
        return args
