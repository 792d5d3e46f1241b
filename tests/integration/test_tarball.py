"""The collection tarball holds the collection only: what a user installs from Galaxy, without the repository's
tests of the lab, the simulated cluster, benchmarks, developer scripts or CI."""

from __future__ import annotations

import os
import subprocess
import tarfile

LEFT_OUT = ("tests/sim/", "tests/integration/", "tests/unit/sim/", "benchmarks/", "hack/", "molecule/", ".github/",
            ".ci/", ".venv/", ".collections/", "collections/", "Makefile", "BENCHMARKS.md")
KEPT = ("MANIFEST.json", "FILES.json", "README.md", "LICENSE", "versions.yml", "meta/runtime.yml",
        "site.yml", "playbooks/teardown.yml", "inventories/existing_cluster/group_vars/all.yml",
        "roles/pod_workshop/meta/argument_specs.yml", "roles/vm_workshop/meta/argument_specs.yml",
        "roles/lab_report/meta/argument_specs.yml", "plugins/modules/rollout_wait.py",
        "plugins/module_utils/preflight.py", "plugins/action/rollout_wait.py", "plugins/filter/kubeconfig_merge.py",
        "tests/sanity/ignore-2.19.txt", "tests/unit/plugins/module_utils/test_state.py", "changelogs/config.yaml")


def test_the_tarball_holds_the_collection_only(repo_root, tmp_path):
    env = dict(os.environ, ANSIBLE_CONFIG=str(repo_root / "ansible.cfg"))
    proc = subprocess.run(["ansible-galaxy", "collection", "build", "--force", "--output-path", str(tmp_path), "."],
                          cwd=str(repo_root), env=env, capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (tarball,) = tmp_path.glob("ovnk-udn_lab-*.tar.gz")
    with tarfile.open(str(tarball)) as tar:
        names = [m.name[2:] if m.name.startswith("./") else m.name for m in tar.getmembers()]
    shipped = [n for n in names if any(n == p.rstrip("/") or n.startswith(p) for p in LEFT_OUT)]
    assert shipped == [], shipped
    missing = [k for k in KEPT if k not in names]
    assert missing == [], missing
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
