# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""The lab state record's input digest of the workshop parts follows every input that changes what they apply:
an image overridden through udn_lab_versions_override must re-run the part (it once did not)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import subprocess
import sys

import pytest


def digest(repo_root, tmp_path, **extra):
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"), HOME=str(tmp_path / "home"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_NOCOLOR="1")
    for name in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
        env.pop(name, None)
    (tmp_path / "home").mkdir(exist_ok=True)
    variables = dict(ansible_python_interpreter=sys.executable, ansible_connection="local",
                     udn_lab_dir=str(tmp_path / "lab"), udn_lab_render_dir=str(tmp_path / "lab" / "rendered"))
    variables.update(extra)
    playbook = os.path.join("tests", "integration", "playbooks", "workloads_state_digest.yml")
    cmd = ["ansible-playbook", "-i", "localhost,", playbook, "-e", json.dumps(variables)]
    out = subprocess.run(cmd, cwd=str(repo_root), env=env, capture_output=True, text=True, check=False)
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
