# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Shared wait options of the ovnk.udn_lab modules that watch KubeVirt objects."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  timeout:
    description:
      - Seconds to wait in total. One deadline covers every object the task waits for, not one per object.
      - The wait uses the Kubernetes watch API, so the task returns as soon as the last object is ready; an
        expired watch is resumed, a dropped connection is retried with backoff and C(410 Gone) triggers a relist.
      - On timeout the task fails with what is still missing and why.
    type: int
    default: 600
"""
