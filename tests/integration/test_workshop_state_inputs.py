# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""The lab state record's input digest, as the action plugin of ovnk.udn_lab.lab_state computes it for the
workshop parts: it follows every input that changes what a part applies (an image overridden through
udn_lab_versions_override once did not re-run the part), with no hand-listed inputs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

import pytest
from test_render_vms import run_playbook


def digest(repo_root, tmp_path, **extra):
    out = run_playbook(repo_root, tmp_path, "workshop_state_digest.yml", **extra)
    assert out.returncode == 0, out.stdout + out.stderr
    # (the callback wraps the long line: read it without whitespace)
    text = re.sub(r"\s+", "", out.stdout.split("PLAY RECAP")[0])
    found = re.search(r"DIGEST=([0-9a-f]{64})CURRENT=(\w+)PARTS=([\w:.,]*)", text)
    assert found, out.stdout
    assert found.group(2) == "False"  # no kubeconfig: the part runs in full
    return found.group(1), found.group(3).split(",")


@pytest.mark.parametrize("part,entry", [("vm", "vm_disk"), ("pod", "test_pod")])
def test_an_image_override_changes_the_digest(repo_root, tmp_path, part, entry):
    base = digest(repo_root, tmp_path, state_part=part)[0]
    again = digest(repo_root, tmp_path, state_part=part)[0]
    other = digest(repo_root, tmp_path, state_part=part,
                   udn_lab_versions_override={entry: {"image": "example.org/other:1"}})[0]
    assert base == again
    assert other != base


def test_every_input_without_a_list(repo_root, tmp_path):
    """Every <role>_* variable of the workshop's role and every udn_lab_* variable is an input, and the role's code
    is; the internal __<role>_* variables and the other workshop's settings are not (they are another role's)."""
    base, parts = digest(repo_root, tmp_path, state_part="pod")
    assert {"pod_workshop_namespaces", "udn_lab_dir", "udn_lab_versions_default", "code:pod_workshop",
            "code:plugins", "code:versions.yml"} <= set(parts)
    assert not [name for name in parts if name.startswith("__")]
    assert not [name for name in parts if name.startswith("vm_workshop_")]
    # a udn_lab_* variable nobody listed anywhere counts
    assert digest(repo_root, tmp_path, state_part="pod", udn_lab_new_setting="x")[0] != base
    # the VM settings do not re-run the pod workshop, and do re-run the VM workshop
    assert digest(repo_root, tmp_path, state_part="pod", vm_workshop_user="someone")[0] == base
    vms = digest(repo_root, tmp_path, state_part="vm")[0]
    assert digest(repo_root, tmp_path, state_part="vm", vm_workshop_user="someone")[0] != vms
