#!/usr/bin/env bash
# Prepare this checkout to run the lab or its tests:
#   - a Python virtualenv in .venv with requirements.txt (and tests/requirements.txt with --test)
#   - the collections from requirements.yml in .collections (Galaxy first; offline fallback: the
#     collections bundled in the `ansible` package on PyPI)
#   - this checkout made visible as the collection ovnk.udn_lab inside .collections
# Safe to run again: it only does what is missing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

python=${UDN_LAB_PYTHON:-python3}
venv=${UDN_LAB_VENV:-.venv}
collections_dir=.collections
# The ansible package whose bundled collections are used when Galaxy cannot be reached.
ansible_bundle_version=${UDN_LAB_ANSIBLE_BUNDLE:-12.3.0}
collections_source=${UDN_LAB_COLLECTIONS_SOURCE:-auto}   # auto | galaxy | pypi

log() { printf '[bootstrap] %s\n' "$*" >&2; }

if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  log "Python 3.11 or newer is required (found: $("$python" --version 2>&1)); set UDN_LAB_PYTHON to one."
  exit 2
fi

if [[ ! -x "$venv/bin/python" ]]; then
  log "creating virtualenv $venv"
  "$python" -m venv "$venv"
fi
# shellcheck disable=SC1091
. "$venv/bin/activate"

req=requirements.txt
[[ $want_test == 1 ]] && req=tests/requirements.txt
stamp="$venv/.installed-$(sha256sum "$req" requirements.txt | sha256sum | cut -c1-16)"
if [[ ! -f "$stamp" ]]; then
  log "installing Python packages from $req"
  python -m pip install --disable-pip-version-check -q --retries 5 -r "$req"
  touch "$stamp"
fi

have_collection() {
  [[ -f "$collections_dir/ansible_collections/$1/$2/MANIFEST.json" ]]
}

install_from_galaxy() {
  log "installing collections from Galaxy (requirements.yml)"
  local out rc=0
  out=$(ansible-galaxy collection install -r requirements.yml -p "$collections_dir" --timeout 30 2>&1) || rc=$?
  if [[ $rc != 0 ]]; then
    # one line, not ansible-galaxy's [ERROR] block: the caller says what happens next
    log "Galaxy did not answer: $(grep -m1 -oE 'urlopen error[^>]*|Name or service not known|timed out|Connection refused' <<<"$out" || echo "exit $rc")"
    return 1
  fi
  printf '%s\n' "$out" >&2
}

install_from_pypi() {
  log "installing collections from the ansible $ansible_bundle_version package on PyPI"
  local cache=hack/cache
  mkdir -p "$cache"
  local wheel="$cache/ansible-$ansible_bundle_version-py3-none-any.whl"
  if [[ ! -f "$wheel" ]]; then
    python -m pip download --disable-pip-version-check -q --retries 5 --no-deps \
      "ansible==$ansible_bundle_version" -d "$cache"
  fi
  python - "$wheel" "$collections_dir" <<'PY'
import sys
import zipfile

wheel, dest = sys.argv[1], sys.argv[2]
wanted = ("ansible_collections/kubernetes/core/",)
with zipfile.ZipFile(wheel) as archive:
    members = [name for name in archive.namelist() if name.startswith(wanted)]
    if not members:
        sys.exit("the ansible wheel holds none of " + ", ".join(wanted))
    archive.extractall(dest, members)
PY
}

if ! have_collection kubernetes core; then
  case "$collections_source" in
    galaxy) install_from_galaxy ;;
    pypi) install_from_pypi ;;
    auto) install_from_galaxy || { log "Galaxy unreachable; falling back to PyPI"; install_from_pypi; } ;;
    *) log "UDN_LAB_COLLECTIONS_SOURCE must be auto, galaxy or pypi (got '$collections_source')"; exit 2 ;;
  esac
fi

# This checkout is the collection ovnk.udn_lab: expose it where Ansible looks for collections.
mkdir -p "$collections_dir/ansible_collections/ovnk"
link="$collections_dir/ansible_collections/ovnk/udn_lab"
if [[ ! -L "$link" ]]; then
  rm -rf "$link"
  ln -s ../../.. "$link"
fi
log "ready: . $venv/bin/activate"
