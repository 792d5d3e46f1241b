# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Data a filter gets from Ansible, as plain dicts and lists (controller side)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping


def plain(value):
    """``value`` as plain dicts and lists, every nested template resolved now: ansible-core 2.19 hands a filter
    lazy containers whose nested values are templated on access, and a deep copy of one keeps templates that no
    longer have their context."""
    if isinstance(value, Mapping):
        return dict((key, plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value
