# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Pieces every wait of the collection shares (pure, no Kubernetes client needed).

* :class:`FlowError` - a wait or flow could not finish; its ``details`` become fields of the module result.
* :class:`ReadyTracker` - the ``done(objects)`` callback of :func:`k8s.watch_until` for "wait until every wanted
  object is ready": keeps each object's last assessment and when it was first seen ready (a drop resets it).
  Subclasses say what is wanted and how one object is assessed (networks.NetworkTracker,
  kubevirt.ReadinessTracker).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class FlowError(Exception):
    """A flow could not finish; ``details`` carries structured diagnostics for the module result."""

    def __init__(self, msg, **details):
        super(FlowError, self).__init__(msg)
        self.details = details


class ReadyTracker(object):
    """``done(objects)`` for k8s.watch_until: true once every wanted object is ready.

    ``state[key]`` holds the last ``assess`` result (a tuple whose first item is the readiness) and
    ``ready_at[key]`` the seconds from ``started`` (on ``clock``) at which the key was first seen ready in a row.
    """

    def __init__(self, keys, clock, started):
        self.keys = list(keys)
        self.clock = clock
        self.started = started
        self.ready_at = {}
        self.state = {}

    def wanted(self, objects):
        """The keys to wait for (default: the explicit keys)."""
        return self.keys

    def assess(self, key, obj):
        """``(ready, ...)`` for one wanted key; ``obj`` is None when it is not (yet) in the objects."""
        raise NotImplementedError

    def __call__(self, objects):
        wanted = self.wanted(objects)
        now = None
        all_ready = bool(wanted)
        for key in wanted:
            state = self.assess(key, objects.get(key))
            self.state[key] = state
            if state[0]:
                if key not in self.ready_at:
                    now = self.clock() if now is None else now
                    self.ready_at[key] = round(now - self.started, 3)
            else:
                self.ready_at.pop(key, None)
                all_ready = False
        return all_ready
