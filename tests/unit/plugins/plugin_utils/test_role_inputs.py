# -*- coding: utf-8 -*-
# Apache License 2.0 (see LICENSE)
"""Tests for plugin_utils/role_inputs.py: the inputs of a role for the lab state record (the action plugin of
ovnk.udn_lab.lab_state)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest
from ansible_collections.ovnk.udn_lab.plugins.plugin_utils.role_inputs import (
    COLLECTION_ROOT,
    RoleInputsError,
    code_paths,
    digest,
    role_name,
    variable_names,
)

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


def test_same_inputs_same_digest(role):
    one = digest(dict(INPUTS), [str(role)])
    two = digest(dict(reversed(list(INPUTS.items()))), [str(role)])
    assert one == two
    assert re.match(r"^[0-9a-f]{64}$", one["digest"])
    assert sorted(one["parts"]) == ["code:multus", "multus_nodes", "multus_password", "multus_version"]
    assert all(re.match(r"^[0-9a-f]{12}$", v) for v in one["parts"].values())


def test_values_are_not_in_the_result(role):
    assert "s3cr3t" not in repr(digest(INPUTS, [str(role)]))


def test_a_changed_value_changes_the_digest_and_only_its_part(role):
    one = digest(INPUTS, [str(role)])
    two = digest(dict(INPUTS, multus_nodes=["a", "b", "c"]), [str(role)])
    assert one["digest"] != two["digest"]
    assert differing(one, two) == ["multus_nodes"]


def test_a_changed_file_changes_the_code_part(role):
    one = digest(INPUTS, [str(role)])
    (role / "templates" / "ds.yml.j2").write_text("kind: DaemonSet\nspec: {}\n")
    two = digest(INPUTS, [str(role)])
    assert one["digest"] != two["digest"]
    assert differing(one, two) == ["code:multus"]


@pytest.mark.parametrize("change", ["add", "rename", "remove"])
def test_files_added_renamed_or_removed_change_the_code_part(role, change):
    one = digest({}, [str(role)])
    if change == "add":
        (role / "tasks" / "extra.yml").write_text("")
    elif change == "rename":
        (role / "tasks" / "main.yml").rename(role / "tasks" / "other.yml")
    else:
        (role / "library" / "mod.py").unlink()
    assert digest({}, [str(role)])["parts"]["code:multus"] != one["parts"]["code:multus"]


def test_compiled_python_is_ignored(role):
    one = digest(INPUTS, [str(role)])
    (role / "library" / "__pycache__").mkdir()
    (role / "library" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\x00compiled")
    (role / "library" / "__pycache__" / "notes.txt").write_text("anything under __pycache__")
    (role / "library" / "mod.pyc").write_bytes(b"\x00compiled")
    (role / "library" / "mod.pyo").write_bytes(b"\x00optimized")
    assert digest(INPUTS, [str(role)]) == one


def test_each_code_path_is_one_part(role, tmp_path):
    versions = tmp_path / "versions.yml"
    versions.write_text("multus: v4.2.2\n")
    one = digest(INPUTS, [str(role) + "/", str(versions)])
    assert sorted(k for k in one["parts"] if k.startswith("code:")) == ["code:multus", "code:versions.yml"]
    versions.write_text("multus: v4.2.3\n")
    two = digest(INPUTS, [str(role), str(versions)])
    assert one["digest"] != two["digest"]
    assert differing(one, two) == ["code:versions.yml"]


def test_a_path_with_dots_is_named_by_its_normalised_base_name(role):
    plugins = role.parent / "plugins"
    plugins.mkdir()
    (plugins / "x.py").write_text("")
    out = digest({}, [str(role / ".." / "plugins")])
    assert list(out["parts"]) == ["code:plugins"]
    assert out == digest({}, [str(plugins)])


def test_without_code():
    out = digest(INPUTS)
    assert sorted(out["parts"]) == sorted(INPUTS)
    assert digest(INPUTS, []) == out
    assert digest(None)["parts"] == {}
    assert out["digest"] != digest(dict(INPUTS, multus_version="v5"))["digest"]


def test_a_missing_code_path_fails(tmp_path):
    missing = tmp_path / "no-such-role"
    with pytest.raises(RoleInputsError, match="code path %s does not exist" % re.escape(str(missing))):
        digest(INPUTS, [str(missing)])


# ---------------------------------------------------------------------------------------------------------------------
# Which variables are inputs
# ---------------------------------------------------------------------------------------------------------------------

NAMES = ["multus_version", "multus_kubeconfig", "__multus_state_name", "udn_lab_dir", "udn_lab_versions_override",
         "kubevirt_version", "multusx", "ansible_check_mode", "hostvars", "kind_cluster_facts"]


def test_the_role_and_the_shared_variables_are_inputs():
    assert variable_names(NAMES, "multus") == ["multus_kubeconfig", "multus_version", "udn_lab_dir",
                                               "udn_lab_versions_override"]


def test_a_classrooms_participant_list_is_no_roles_input():
    """A participant's copy of a workshop depends on <role>_participant, not on who else is in the class: adding a
    participant leaves every role's digest, and every other participant's, as it was."""
    names = NAMES + ["udn_lab_participants", "udn_lab_teardown_participant", "pod_workshop_participant"]
    assert variable_names(names, "pod_workshop") == ["pod_workshop_participant", "udn_lab_dir",
                                                     "udn_lab_versions_override"]
    assert variable_names(names, "multus") == variable_names(NAMES, "multus")


def test_a_fully_qualified_role_name_counts_as_its_short_name():
    assert variable_names(NAMES, "ovnk.udn_lab.multus") == variable_names(NAMES, "multus")
    assert role_name("ovnk.udn_lab.kind_cluster") == "kind_cluster"


def test_ignored_patterns_leave_variables_out():
    assert variable_names(NAMES, "multus", ["^multus_kube"]) == ["multus_version", "udn_lab_dir",
                                                                 "udn_lab_versions_override"]
    assert variable_names(NAMES, "kind_cluster", ["^kind_cluster_facts$"]) == ["udn_lab_dir",
                                                                               "udn_lab_versions_override"]


@pytest.mark.parametrize("role", ["", None, "../multus", "Multus", "multus-x"])
def test_a_bad_role_name_is_refused(role):
    with pytest.raises(RoleInputsError, match="not a role name"):
        variable_names(NAMES, role)


def test_a_bad_pattern_is_named():
    with pytest.raises(RoleInputsError, match="ignore_inputs"):
        variable_names(NAMES, "multus", ["^multus_("])


# ---------------------------------------------------------------------------------------------------------------------
# The role's code
# ---------------------------------------------------------------------------------------------------------------------

def test_the_code_of_each_role_of_the_collection():
    roles = sorted(os.listdir(os.path.join(COLLECTION_ROOT, "roles")))
    assert "multus" in roles
    for role in roles:
        paths = code_paths(role)
        assert [os.path.relpath(p, COLLECTION_ROOT) for p in paths] == [
            os.path.join("roles", role), "plugins", "versions.yml"]
        assert all(os.path.exists(p) for p in paths)
        assert sorted(digest({}, paths)["parts"]) == sorted(["code:%s" % role, "code:plugins", "code:versions.yml"])


def test_a_role_outside_the_collection_is_refused(tmp_path):
    with pytest.raises(RoleInputsError, match="no directory roles/nothere"):
        code_paths("nothere")
    (tmp_path / "roles" / "mine").mkdir(parents=True)
    assert code_paths("mine", root=str(tmp_path))[0] == str(tmp_path / "roles" / "mine")
