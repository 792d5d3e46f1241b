# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""Tests for the ovnk.udn_lab.state_inputs filter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ovnk.udn_lab.plugins.filter.state_inputs import FilterModule, state_inputs

INPUTS = {"multus_version": "v4.2.2", "multus_password": "s3cr3t", "multus_nodes": ["a", "b"]}


@pytest.fixture
def role(tmp_path):
    """A small role directory: tasks, templates, and a module with its compiled files beside it."""
    root = tmp_path / "multus"
    (root / "tasks").mkdir(parents=True)
    (root / "tasks" / "main.yml").write_text("- name: one\n  ansible.builtin.debug:\n")
    (root / "templates").mkdir()
    (root / "templates" / "ds.yml.j2").write_text("kind: DaemonSet\n")
    (root / "library").mkdir()
    (root / "library" / "mod.py").write_text("print('x')\n")
    return root


def differing(one, two):
    return sorted(k for k in set(one["parts"]) | set(two["parts"]) if one["parts"].get(k) != two["parts"].get(k))


def test_registered():
    assert FilterModule().filters() == {"state_inputs": state_inputs}


def test_same_inputs_same_digest(role):
    one = state_inputs(dict(INPUTS), [str(role)])
    two = state_inputs(dict(reversed(list(INPUTS.items()))), [str(role)])
    assert one == two
    assert re.match(r"^[0-9a-f]{64}$", one["digest"])
    assert sorted(one["parts"]) == ["code:multus", "multus_nodes", "multus_password", "multus_version"]
    assert all(re.match(r"^[0-9a-f]{12}$", v) for v in one["parts"].values())


def test_values_are_not_in_the_result(role):
    assert "s3cr3t" not in repr(state_inputs(INPUTS, [str(role)]))


def test_a_changed_value_changes_the_digest_and_only_its_part(role):
    one = state_inputs(INPUTS, [str(role)])
    two = state_inputs(dict(INPUTS, multus_nodes=["a", "b", "c"]), [str(role)])
    assert one["digest"] != two["digest"]
    assert differing(one, two) == ["multus_nodes"]


def test_a_changed_file_changes_the_code_part(role):
    one = state_inputs(INPUTS, [str(role)])
    (role / "templates" / "ds.yml.j2").write_text("kind: DaemonSet\nspec: {}\n")
    two = state_inputs(INPUTS, [str(role)])
    assert one["digest"] != two["digest"]
    assert differing(one, two) == ["code:multus"]


@pytest.mark.parametrize("change", ["add", "rename", "remove"])
def test_files_added_renamed_or_removed_change_the_code_part(role, change):
    one = state_inputs({}, [str(role)])
    if change == "add":
        (role / "tasks" / "extra.yml").write_text("")
    elif change == "rename":
        (role / "tasks" / "main.yml").rename(role / "tasks" / "other.yml")
    else:
        (role / "library" / "mod.py").unlink()
    assert state_inputs({}, [str(role)])["parts"]["code:multus"] != one["parts"]["code:multus"]


def test_compiled_python_is_ignored(role):
    one = state_inputs(INPUTS, [str(role)])
    (role / "library" / "__pycache__").mkdir()
    (role / "library" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\x00compiled")
    (role / "library" / "__pycache__" / "notes.txt").write_text("anything under __pycache__")
    (role / "library" / "mod.pyc").write_bytes(b"\x00compiled")
    (role / "library" / "mod.pyo").write_bytes(b"\x00optimized")
    assert state_inputs(INPUTS, [str(role)]) == one


def test_each_code_path_is_one_part(role, tmp_path):
    versions = tmp_path / "versions.yml"
    versions.write_text("multus: v4.2.2\n")
    one = state_inputs(INPUTS, [str(role) + "/", str(versions)])
    assert sorted(k for k in one["parts"] if k.startswith("code:")) == ["code:multus", "code:versions.yml"]
    versions.write_text("multus: v4.2.3\n")
    two = state_inputs(INPUTS, [str(role), str(versions)])
    assert one["digest"] != two["digest"]
    assert differing(one, two) == ["code:versions.yml"]


def test_a_path_with_dots_is_named_by_its_normalised_base_name(role):
    plugins = role.parent / "plugins"
    plugins.mkdir()
    (plugins / "x.py").write_text("")
    out = state_inputs({}, [str(role / ".." / "plugins")])
    assert list(out["parts"]) == ["code:plugins"]
    assert out == state_inputs({}, [str(plugins)])


def test_without_code():
    out = state_inputs(INPUTS)
    assert sorted(out["parts"]) == sorted(INPUTS)
    assert state_inputs(INPUTS, []) == out
    assert state_inputs(None)["parts"] == {}
    assert out["digest"] != state_inputs(dict(INPUTS, multus_version="v5"))["digest"]


def test_a_missing_code_path_fails(tmp_path):
    missing = tmp_path / "no-such-role"
    with pytest.raises(AnsibleFilterError, match="code path %s does not exist" % re.escape(str(missing))):
        state_inputs(INPUTS, [str(missing)])
