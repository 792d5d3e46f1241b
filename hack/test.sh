#!/usr/bin/env bash
# The whole test suite, in stages: `hack/test.sh all` (what `make test` and CI run) or one stage:
#   lint       yamllint, ansible-lint (production profile), syntax check of every playbook, changelog lint
#   sanity     ansible-test sanity on a physical copy laid out as ansible_collections/ovnk/udn_lab
#   build      ansible-galaxy collection build + install of the tarball, ansible-doc of every plugin and role
#   sim-build  the simulated cluster's binaries (kube-apiserver, etcd, ... built from the Go module proxy)
#   pytest     unit, integration and scenario tests (tests/), the last stage so its summary closes the run
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
# shellcheck disable=SC1091
. .venv/bin/activate
export ANSIBLE_CONFIG="$here/ansible.cfg"
export ANSIBLE_PYTHON_INTERPRETER="$here/.venv/bin/python"
export MOLECULE_GLOB="molecule/*/molecule.yml"

# Each step says how long the run has taken so far (CI's budget: 45 min on a fresh clone).
step() { printf '\n==== %s (at %dm%02ds) ====\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }

work=$(mktemp -d "${TMPDIR:-/tmp}/udn-lab-test.XXXXXX")
sim_build_pid=
cleanup() {
  # a background build still running when an earlier stage failed: stop it and its Go compilers
  [[ -n $sim_build_pid ]] && kill -- "-$sim_build_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# Copy the tracked (and new, not ignored) files of this checkout to $1/ansible_collections/ovnk/udn_lab.
copy_collection() {
  local dest="$1/ansible_collections/ovnk/udn_lab"
  mkdir -p "$dest"
  git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [[ -e "$f" ]] && printf '%s\0' "$f"
  done | tar --null -T - -cf - | tar -xf - -C "$dest"
  for dep in kubernetes/core; do
    mkdir -p "$1/ansible_collections/$dep"
    cp -a ".collections/ansible_collections/$dep/." "$1/ansible_collections/$dep/"
  done
  printf '%s\n' "$dest"
}

# actionlint (rhysd/actionlint), built from the Go module proxy at a pinned version (go.sum-verified by the
# checksum database), cached per user: lints the GitHub Actions workflow that runs the kind scenario.
ACTIONLINT_VERSION=v1.7.7
actionlint_bin() {
  local dir="${XDG_CACHE_HOME:-$HOME/.cache}/ovnk-udn-lab/tools/actionlint-$ACTIONLINT_VERSION"
  if [[ ! -x "$dir/actionlint" ]]; then
    command -v go >/dev/null || { echo "actionlint needs Go to build (or put it at $dir/actionlint)" >&2; return 1; }
    GOBIN="$dir" GOTOOLCHAIN=local GOFLAGS=-mod=mod go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" >&2
  fi
  printf '%s\n' "$dir/actionlint"
}

stage_lint() {
  step "yamllint"
  yamllint -s .
  step "actionlint $ACTIONLINT_VERSION (GitHub Actions workflows)"
  local actionlint
  actionlint=$(actionlint_bin)
  "$actionlint" -no-color .github/workflows/*.yml
  echo "ok: $(ls .github/workflows/*.yml | tr '\n' ' ')"
  step "ansible-lint (production profile)"
  ansible-lint --profile production --offline
  step "syntax check of every playbook"
  local pb
  for pb in site.yml playbooks/*.yml; do
    ansible-playbook --syntax-check "$pb" >/dev/null
    echo "ok: $pb"
  done
  step "changelog fragments"
  antsibull-changelog lint
}

stage_sanity() {
  step "ansible-test sanity"
  local cache="$HOME/.ansible/test/cache"
  mkdir -p "$cache"
  local pip_version
  pip_version=$(python - <<'PY'
import re, pathlib, ansible_test
src = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([0-9.]+)'", src.read_text()).group(1))
PY
)
  local get_pip="$cache/get_pip_${pip_version//./_}.py"
  [[ -f "$get_pip" ]] || cp hack/ansible-test-get-pip.py "$get_pip"
  local dest py root="${XDG_CACHE_HOME:-$HOME/.cache}/ovnk-udn-lab/ansible-test"
  # A persistent copy keeps ansible-test's per-test virtualenvs (tests/output) between runs.
  if [[ -d "$root/ansible_collections/ovnk/udn_lab" ]]; then
    find "$root/ansible_collections/ovnk/udn_lab" -mindepth 1 -maxdepth 1 ! -name tests -exec rm -rf {} +
    find "$root/ansible_collections/ovnk/udn_lab/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
  fi
  dest=$(copy_collection "$root")
  py=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  local excludes=() path
  # Test scaffolding that is not collection content (scenario playbooks, simulator programs).
  for path in molecule/ tests/sim/; do
    [[ -e "$dest/$path" ]] && excludes+=(--exclude "$path")
  done
  (cd "$dest" && ansible-test sanity --venv --python "$py" --color no "${excludes[@]}" ${UDN_LAB_SANITY_ARGS:-})
}

# ansible-doc exits 0 with a warning when a plugin cannot be loaded: demand documentation and no warning.
doc_ok() {
  local inst=$1 out
  shift
  out=$(ANSIBLE_COLLECTIONS_PATH="$inst" ansible-doc "$@" 2>&1) || { echo "$out" >&2; return 1; }
  # (ansible-doc's own complaints; not the word "found" in a plugin's prose)
  if [[ -z "$out" ]] || grep -qE '\[WARNING\]|\[ERROR\]|^ERROR!|^(module|role|filter|plugin) .* not found' <<<"$out"; then
    echo "ansible-doc $* failed:" >&2
    echo "$out" | head -20 >&2
    return 1
  fi
  echo "ok: ansible-doc $*"
}

stage_build() {
  step "ansible-galaxy collection build + install"
  local out="$work/build" inst="$work/installed"
  mkdir -p "$out" "$inst"
  ansible-galaxy collection build --force --output-path "$out" . >/dev/null
  local tarball
  tarball=$(ls "$out"/ovnk-udn_lab-*.tar.gz)
  echo "built $(basename "$tarball")"
  # Only the tarball's content counts: hide this checkout's own collections path from the installer.
  ANSIBLE_COLLECTIONS_PATH="$inst" ansible-galaxy collection install --force --offline --no-deps -p "$inst" "$tarball" >/dev/null
  [[ -f "$inst/ansible_collections/ovnk/udn_lab/MANIFEST.json" ]] || { echo "the tarball did not install" >&2; return 1; }
  cp -a .collections/ansible_collections/kubernetes "$inst/ansible_collections/"
  step "ansible-doc of every plugin and role (from the installed tarball)"
  local plugin role type
  for type in module filter; do
    local dir=modules
    [[ $type == filter ]] && dir=filter
    for plugin in plugins/"$dir"/*.py; do
      [[ "$(basename "$plugin")" == __init__.py ]] && continue
      if [[ $type == filter ]]; then
        # A filter file may hold several filters; document each name the file registers.
        mapfile -t names < <(python - "$plugin" <<'PY'
import ast, sys
tree = ast.parse(open(sys.argv[1]).read())
names = []
for node in ast.walk(tree):
    if isinstance(node, ast.FunctionDef) and node.name == "filters":
        for ret in ast.walk(node):
            if isinstance(ret, ast.Dict):
                names.extend(k.value for k in ret.keys if isinstance(k, ast.Constant))
print("\n".join(names))
PY
)
      else
        names=("$(basename "$plugin" .py)")
      fi
      for name in "${names[@]}"; do
        [[ -n "$name" ]] || continue
        doc_ok "$inst" -t "$type" "ovnk.udn_lab.$name"
      done
    done
  done
  for role in roles/*/; do
    role=$(basename "$role")
    doc_ok "$inst" -t role "ovnk.udn_lab.$role"
  done
}

stage_sim_build() {
  step "simulated cluster: control-plane binaries from the Go module proxy (cached after the first build)"
  python tests/sim/build.py
}

# The cold Go build is the longest stage and mostly waits on downloads and the linker: in `all` it runs in the
# background (its own process group) while lint, sanity and build run, and is waited for before pytest.
sim_build_background() {
  step "simulated cluster: building the control-plane binaries in the background"
  setsid python tests/sim/build.py >"$work/sim-build.log" 2>&1 &
  sim_build_pid=$!
}

sim_build_wait() {
  step "simulated cluster: waiting for the background build"
  local rc=0
  wait "$sim_build_pid" || rc=$?
  sim_build_pid=
  cat "$work/sim-build.log"
  if [[ $rc != 0 ]]; then
    echo "the simulated cluster's build failed (exit $rc): see the log above" >&2
    return 1
  fi
}

# pytest-xdist runs the tests on one worker per core (`UDN_LAB_TEST_WORKERS` overrides), each worker in a
# simulated-lab slot of its own (tests/conftest.py, tests/sim/slot.py): each test module is a group one worker runs
# (the IP families' labs are a group each), the longest labs first, so two labs run at once.
stage_pytest() {
  step "pytest"
  # The simulated-cluster tests build what is missing instead of skipping.
  export UDN_LAB_SIM_BUILD=1
  # pytest's own exit code: 5 (nothing collected) fails the run like any other failure.
  if [[ $# -gt 0 ]]; then
    python -m pytest tests "$@"
    return
  fi
  # pytest-ansible links this checkout under ./collections when a pytest starts, unless the links exist: one
  # pytest makes them first, or the workers race creating the same links (FileExistsError).
  python -m pytest -p no:cacheprovider --collect-only -q tests/unit/test_repository.py >"$work/pytest-links.log" 2>&1 ||
    { cat "$work/pytest-links.log"; return 1; }
  python -m pytest tests -p no:cacheprovider -n "${UDN_LAB_TEST_WORKERS:-2}" --dist loadgroup --no-loadscope-reorder
}

stage=${1:-all}
shift || true
case "$stage" in
  lint) stage_lint ;;
  sanity) stage_sanity ;;
  build) stage_build ;;
  sim-build) stage_sim_build ;;
  pytest) stage_pytest "$@" ;;
  all)
    sim_build_background
    stage_lint
    stage_sanity
    stage_build
    sim_build_wait
    stage_pytest "$@"
    ;;
  *) echo "usage: $0 [all|lint|sanity|build|sim-build|pytest]" >&2; exit 2 ;;
esac
