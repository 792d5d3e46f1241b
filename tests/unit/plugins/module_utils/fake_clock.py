# -*- coding: utf-8 -*-
"""A clock for the module_utils unit tests that only moves when the code under test sleeps (no real waiting, no
timing). Imported as a sibling module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class FakeClock(object):
    def __init__(self, now=0.0):
        self.now = now
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds
