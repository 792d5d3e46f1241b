# -*- coding: utf-8 -*-
"""The unit tests' one fake Kubernetes API and fake clock (``fake_api``) is imported by name from every test folder
below this one."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
