# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""The inputs of a role for the lab state record, computed on the controller (by the action plugin of
ovnk.udn_lab.lab_state): which variables are inputs, and the digest of those values and of the role's code.

No hand-listed inputs: every ``<role>_*`` variable, every ``udn_lab_*`` variable, the role's files, the collection's
plugins and its version matrix. A value is digested, never stored.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import re

from ansible_collections.ovnk.udn_lab.plugins.module_utils.state import inputs_fingerprint

SKIPPED_SUFFIXES = (".pyc", ".pyo")
SKIPPED_DIRS = ("__pycache__",)
SHARED_PREFIX = "udn_lab_"
# Shared variables that are no role's input: a classroom's list of participants is read by the playbooks, which run
# a role once per participant with <role>_participant (an input); adding a participant must not re-run every role
# and every other participant's workshops. A teardown's choice of participant is read by the teardown alone.
NOT_INPUTS = ("udn_lab_participants", "udn_lab_teardown_participant")
# plugins/plugin_utils/role_inputs.py -> the collection root
COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class RoleInputsError(Exception):
    """A role or an ignore pattern that cannot be used."""


# ---------------------------------------------------------------------------------------------------------------------
# Which variables are inputs
# ---------------------------------------------------------------------------------------------------------------------

def role_name(name):
    """The short name of a role (``ovnk.udn_lab.multus`` -> ``multus``)."""
    short = str(name or "").rsplit(".", 1)[-1]
    if not re.match(r"^[a-z][a-z0-9_]*$", short):
        raise RoleInputsError("%r is not a role name of this collection" % (name,))
    return short


def variable_names(names, role, ignore=()):
    """The input variables among ``names``: ``<role>_*`` and ``udn_lab_*`` (but not :data:`NOT_INPUTS`), minus names
    matching a pattern of ``ignore`` (``re.match``), sorted. Internal variables (``__<role>_*``) never count."""
    try:
        patterns = [re.compile(pattern) for pattern in ignore or ()]
    except re.error as exc:
        raise RoleInputsError("ignore_inputs: %s" % exc)
    prefixes = (role_name(role) + "_", SHARED_PREFIX)
    return sorted(str(name) for name in names
                  if str(name).startswith(prefixes) and str(name) not in NOT_INPUTS
                  and not any(p.match(str(name)) for p in patterns))


# ---------------------------------------------------------------------------------------------------------------------
# The role's code
# ---------------------------------------------------------------------------------------------------------------------

def code_paths(role, root=COLLECTION_ROOT):
    """The files that are the role's code: its directory, the collection's plugins and its version matrix."""
    role_dir = os.path.join(root, "roles", role_name(role))
    if not os.path.isdir(role_dir):
        raise RoleInputsError("role %s has no directory %s" % (role, os.path.relpath(role_dir, root)))
    return [role_dir, os.path.join(root, "plugins"), os.path.join(root, "versions.yml")]


def tree_digest(path):
    """sha256 over the relative path and content of every file under ``path`` (sorted; compiled Python skipped),
    or over one file."""
    sha = hashlib.sha256()
    if os.path.isfile(path):
        with open(path, "rb") as handle:
            sha.update(handle.read())
        return sha.hexdigest()
    if not os.path.isdir(path):
        raise RoleInputsError("code path %s does not exist" % path)
    for top, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            if name.endswith(SKIPPED_SUFFIXES):
                continue
            full = os.path.join(top, name)
            sha.update(os.path.relpath(full, path).encode("utf-8") + b"\0")
            with open(full, "rb") as handle:
                sha.update(handle.read())
            sha.update(b"\0")
    return sha.hexdigest()


# ---------------------------------------------------------------------------------------------------------------------
# The digest
# ---------------------------------------------------------------------------------------------------------------------

def digest(values, code=()):
    """``{"digest": sha256 over every part, "parts": {name: 12-digit digest}}``: one part per variable (by name)
    and one per code path (``code:<base name>``), so a changed input is reported by name."""
    result = inputs_fingerprint(dict(values or {}))
    for path in code or ():
        path = os.path.normpath(str(path))
        result["parts"]["code:%s" % os.path.basename(path)] = tree_digest(path)[:12]
    result["digest"] = inputs_fingerprint(result["parts"])["digest"]
    return result
