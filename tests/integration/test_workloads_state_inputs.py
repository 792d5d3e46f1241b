# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""The lab state record's input digest of the workshop parts follows every input that changes what they apply:
an image overridden through udn_lab_versions_override must re-run the part (it once did not)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

import pytest
from test_render_vms import run_playbook


def digest(repo_root, tmp_path, **extra):
    out = run_playbook(repo_root, tmp_path, "workloads_state_digest.yml", **extra)
    assert out.returncode == 0, out.stdout + out.stderr
    return re.search(r"DIGEST=([0-9a-f]{64})", out.stdout).group(1)


@pytest.mark.parametrize("part,entry", [("vms", "vm_disk"), ("pods", "test_pod")])
def test_an_image_override_changes_the_digest(repo_root, tmp_path, part, entry):
    base = digest(repo_root, tmp_path, state_part=part)
    again = digest(repo_root, tmp_path, state_part=part)
    other = digest(repo_root, tmp_path, state_part=part,
                   udn_lab_versions_override={entry: {"image": "example.org/other:1"}})
    assert base == again
    assert other != base
