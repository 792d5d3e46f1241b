#!/usr/bin/env python3
"""Build the upstream binaries of the simulated cluster once, from the Go module proxy, into a git-ignored cache.

    python tests/sim/build.py            # build what is missing or outdated, reuse the rest; print the bin dir
    python tests/sim/build.py --check    # exit 1 (listing what is missing) instead of building
    python tests/sim/build.py --force    # rebuild everything (the Go caches still make it quick)
    python tests/sim/build.py --update-sums   # copy the go.sum files of the last build back into tests/sim/go/

Versions come from tests/sim/versions.yml (and versions.yml's `helm.version`, so the roles find helm at the pinned
version). Each component is built in its own Go module under <cache>/src/<component>/: go.mod is written here
from versions.yml, go.sum and tools.go (the package list) come from tests/sim/go/<component>/. For Kubernetes
the `replace` lines pinning every k8s.io staging module to v0.<minor>.<patch> are generated from the go.mod of
the k8s.io/kubernetes release itself.

Cache: $UDN_LAB_SIM_CACHE, else $XDG_CACHE_HOME/ovnk-udn-lab/sim (~/.cache when XDG_CACHE_HOME is unset): per
user, outside the clone, so every clone on the machine shares one build. gomod/ (GOMODCACHE), gocache/ (GOCACHE),
src/, logs/ and bin/ with manifest.json recording what each binary was built from. A binary whose manifest does
not match this clone's versions.yml is rebuilt; an empty cache (a new machine) builds everything.
"""

import argparse
import concurrent.futures
import contextlib
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
GO_SRC = HERE / "go"
LDFLAGS = "-s -w"
MODULE_PREFIX = "ovnk.io/udnlab/sim/"


def cache_dir(environ=None):
    """$UDN_LAB_SIM_CACHE, else $XDG_CACHE_HOME/ovnk-udn-lab/sim, else ~/.cache/ovnk-udn-lab/sim."""
    environ = os.environ if environ is None else environ
    if environ.get("UDN_LAB_SIM_CACHE"):
        return pathlib.Path(environ["UDN_LAB_SIM_CACHE"])
    base = environ.get("XDG_CACHE_HOME") or os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "ovnk-udn-lab" / "sim"


def bin_dir():
    return cache_dir() / "bin"


def load_matrix():
    """The collection's version matrix (versions.yml) plus the simulated cluster's own versions
    (tests/sim/versions.yml) under ``sim``."""
    import yaml  # PyYAML: in the test virtualenv (ansible-core depends on it)

    matrix = yaml.safe_load((ROOT / "versions.yml").read_text())["udn_lab_versions_default"]
    matrix["sim"] = yaml.safe_load((ROOT / "tests" / "sim" / "versions.yml").read_text())["sim"]
    return matrix


def k8s_version_flags(version):
    """-X flags giving the Kubernetes binaries their release version (upstream's hack/lib/version.sh sets them)."""
    m = re.match(r"^v(\d+)\.(\d+)\.\d+", version)
    if not m:
        raise SystemExit("sim.kubernetes.version %r is not vX.Y.Z" % version)
    flags = []
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            "-X %s.gitVersion=%s" % (pkg, version),
            "-X %s.gitMajor=%s" % (pkg, m.group(1)),
            "-X %s.gitMinor=%s" % (pkg, m.group(2)),
            "-X %s.gitTreeState=clean" % pkg,
        ]
    return flags


def components(matrix):
    """What to build: name -> {module, version, go_mod (extra lines), builds: [(package, output name)], ldflags}."""
    sim = matrix["sim"]
    k8s = sim["kubernetes"]
    etcd = sim["etcd"]
    kwok = sim["kwok"]
    helm_version = matrix["helm"]["version"]
    helm_module = sim.get("helm_module", "helm.sh/helm/v3")
    return {
        "kubernetes": {
            "requires": {k8s["module"]: k8s["version"], etcd["module"]: etcd["version"]},
            "replace_staging_of": (k8s["module"], k8s["version"]),
            "builds": [
                ("%s/cmd/%s" % (k8s["module"], cmd), cmd)
                for cmd in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
            ]
            + [(etcd["module"], "etcd")],
            "ldflags": k8s_version_flags(k8s["version"]),
            "versions": {"kubernetes": k8s["version"], "etcd": etcd["version"]},
        },
        "kwok": {
            "requires": {kwok["module"]: kwok["version"]},
            "builds": [("%s/cmd/kwok" % kwok["module"], "kwok"), ("%s/cmd/kwokctl" % kwok["module"], "kwokctl")],
            "ldflags": ["-X %s/pkg/consts.Version=%s" % (kwok["module"], kwok["version"].lstrip("v"))],
            "versions": {"kwok": kwok["version"]},
            # kwokctl's default stages for a binary-runtime cluster (v0.8.0 pkg/kwokctl/runtime/cluster.go
            # getDefaultNodeStages/getDefaultPodStages), from the module source the binaries are built from: the
            # launcher passes them to kwokctl with pod-ready changed (launcher.kwok_stages), and kwokctl uses
            # given stages INSTEAD of its defaults, so all five must be given.
            "files": [(kwok["module"], kwok["version"], "kustomize/stage/%s.yaml" % stage, "kwok-stages/%s.yaml"
                       % stage.rsplit("/", 1)[-1])
                      for stage in ("node/fast/node-initialize", "node/heartbeat-with-lease/node-heartbeat-with-lease",
                                    "pod/fast/pod-ready", "pod/fast/pod-complete", "pod/fast/pod-delete")],
        },
        "helm": {
            "requires": {helm_module: helm_version},
            "builds": [("%s/cmd/helm" % helm_module, "helm")],
            "ldflags": ["-X %s/internal/version.version=%s" % (helm_module, helm_version),
                        "-X %s/internal/version.gitTreeState=clean" % helm_module],
            "versions": {"helm": helm_version},
        },
    }


def fingerprint(name, comp):
    """What a binary depends on: versions, flags and the committed go.sum/tools.go of its component."""
    h = hashlib.sha256()
    inputs = [name, comp["requires"], comp["ldflags"], LDFLAGS, comp["builds"]]
    if comp.get("files"):
        inputs.append(comp["files"])
    h.update(json.dumps(inputs, sort_keys=True).encode())
    for f in ("go.sum", "tools.go"):
        p = GO_SRC / name / f
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def manifest_path():
    return bin_dir() / "manifest.json"


def read_manifest():
    try:
        return json.loads(manifest_path().read_text())
    except (OSError, ValueError):
        return {}


def missing(matrix):
    """Components whose binaries are absent or were built from something else: {name: reason}."""
    manifest = read_manifest()
    out = {}
    for name, comp in components(matrix).items():
        entry = manifest.get(name) or {}
        absent = [b for _, b in comp["builds"] if not os.access(bin_dir() / b, os.X_OK)]
        absent += [f[3] for f in comp.get("files", []) if not (bin_dir() / f[3]).is_file()]
        if absent:
            out[name] = "missing " + ", ".join(absent)
        elif entry.get("fingerprint") != fingerprint(name, comp):
            out[name] = "built from other versions or flags (%s)" % entry.get("versions", "unknown")
    return out


def go_binary():
    for cand in (os.environ.get("GO"), shutil.which("go"), "/usr/local/go/bin/go"):
        if cand and os.access(cand, os.X_OK):
            return cand
    raise SystemExit("no Go toolchain: install Go (see tests/sim/README.md) or set GO=/path/to/go")


def go_env():
    c = cache_dir()
    env = dict(os.environ)
    env.update(
        GOMODCACHE=str(c / "gomod"),
        GOCACHE=str(c / "gocache"),
        GOFLAGS="-mod=mod -buildvcs=false",
        GOTOOLCHAIN="local",
        GOWORK="off",
    )
    return env


def run(argv, cwd, log, env):
    log.write("$ %s\n" % " ".join(argv))
    log.flush()
    rc = subprocess.call(argv, cwd=str(cwd), env=env, stdout=log, stderr=subprocess.STDOUT)
    if rc != 0:
        raise RuntimeError("%s failed (rc %d)" % (" ".join(argv[:3]), rc))


def staging_replaces(go, env, module, version, workdir, log):
    """`replace k8s.io/X => k8s.io/X v0.M.P` for every `k8s.io/X => ./staging/...` of the release's own go.mod."""
    out = subprocess.run([go, "mod", "download", "-json", "%s@%s" % (module, version)], cwd=str(workdir), env=env,
                         stdout=subprocess.PIPE, stderr=log, universal_newlines=True, check=True)
    gomod = pathlib.Path(json.loads(out.stdout)["GoMod"]).read_text()
    staging_version = re.sub(r"^v1\.", "v0.", version)
    mods = re.findall(r"^\s*(k8s\.io/[A-Za-z0-9._/-]+)\s+=>\s+\./staging/", gomod, re.M)
    if not mods:
        raise RuntimeError("no staging replace lines in the go.mod of %s@%s" % (module, version))
    return ["\t%s => %s %s" % (m, m, staging_version) for m in mods]


def go_line(go, env):
    """The `go` line of the generated modules: the toolchain's own language version (dependencies may need it)."""
    out = subprocess.run([go, "env", "GOVERSION"], env=env, stdout=subprocess.PIPE, universal_newlines=True, check=True)
    m = re.match(r"go(\d+)\.(\d+)", out.stdout.strip())
    return "go %s.%s.0" % (m.group(1), m.group(2)) if m else "go 1.25.0"


def write_module(go, env, name, comp, workdir, log):
    workdir.mkdir(parents=True, exist_ok=True)
    header = ["// Written by tests/sim/build.py from versions.yml; do not edit.", "module %s%s" % (MODULE_PREFIX, name),
              "", go_line(go, env)]
    # a minimal module first: `go mod download` below runs inside it
    (workdir / "go.mod").write_text("\n".join(header) + "\n")
    lines = header + ["", "require ("]
    lines += ["\t%s %s" % (m, v) for m, v in sorted(comp["requires"].items())]
    lines.append(")")
    if comp.get("replace_staging_of"):
        lines += ["", "replace ("] + staging_replaces(go, env, *comp["replace_staging_of"], workdir, log) + [")"]
    (workdir / "go.mod").write_text("\n".join(lines) + "\n")
    src = GO_SRC / name
    shutil.copyfile(str(src / "tools.go"), str(workdir / "tools.go"))
    if (src / "go.sum").exists():
        shutil.copyfile(str(src / "go.sum"), str(workdir / "go.sum"))
    elif (workdir / "go.sum").exists():
        (workdir / "go.sum").unlink()


def build_component(name, comp):
    go = go_binary()
    env = go_env()
    workdir = cache_dir() / "src" / name
    logs = cache_dir() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    bin_dir().mkdir(parents=True, exist_ok=True)
    started = time.time()
    with open(str(logs / ("build-%s.log" % name)), "w") as log:
        write_module(go, env, name, comp, workdir, log)
        ldflags = " ".join([LDFLAGS] + comp["ldflags"])
        # one `go build` per output name; packages sharing a module build in one invocation (shared work)
        multi = [pkg for pkg, out in comp["builds"] if pkg.rsplit("/", 1)[-1] == out]
        single = [(pkg, out) for pkg, out in comp["builds"] if pkg.rsplit("/", 1)[-1] != out]
        tmp = cache_dir() / "tmp-bin" / name
        if tmp.exists():
            shutil.rmtree(str(tmp))
        tmp.mkdir(parents=True)
        if multi:
            run([go, "build", "-trimpath", "-ldflags", ldflags, "-o", str(tmp) + "/"] + multi, workdir, log, env)
        for pkg, out in single:
            run([go, "build", "-trimpath", "-ldflags", ldflags, "-o", str(tmp / out), pkg], workdir, log, env)
        for _, out in comp["builds"]:
            os.replace(str(tmp / out), str(bin_dir() / out))
        for module, version, path, out in comp.get("files", []):
            src = pathlib.Path(env["GOMODCACHE"]) / ("%s@%s" % (module_escape(module), version)) / path
            dest = bin_dir() / out
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(str(src), str(dest))
            log.write("copied %s -> %s\n" % (src, dest))
    return time.time() - started


def module_escape(path):
    """A module path as the module cache spells it (capitals as ``!`` + lower case)."""
    return "".join("!" + c.lower() if c.isupper() else c for c in path)


def update_manifest(name, comp, seconds):
    manifest = read_manifest()
    manifest[name] = {
        "fingerprint": fingerprint(name, comp),
        "versions": comp["versions"],
        "binaries": [out for _, out in comp["builds"]],
        "build_seconds": round(seconds, 1),
        "go": subprocess.run([go_binary(), "env", "GOVERSION"], stdout=subprocess.PIPE, universal_newlines=True,
                             env=go_env()).stdout.strip(),
    }
    manifest_path().write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


@contextlib.contextmanager
def build_lock():
    """One build at a time per cache: a second build.py (a test's fixture while `make test` builds in the
    background) waits, then finds the binaries built and reuses them."""
    import fcntl

    cache_dir().mkdir(parents=True, exist_ok=True)
    with open(str(cache_dir() / "build.lock"), "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            print("sim build: another build of %s is running, waiting for it" % cache_dir(), file=sys.stderr)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build(names=None, force=False, out=sys.stderr):
    """Build the components needing it (all with force); returns {name: seconds}. Raises RuntimeError on failure."""
    with build_lock():
        return _build(names, force, out)


def _build(names, force, out):
    matrix = load_matrix()
    comps = components(matrix)
    todo = {n: r for n, r in missing(matrix).items()} if not force else {n: "forced" for n in comps}
    if names:
        todo = {n: r for n, r in todo.items() if n in names}
    if not todo:
        return {}
    for n, why in sorted(todo.items()):
        out.write("sim build: %s: %s -> building (log: %s)\n" % (n, why, cache_dir() / "logs" / ("build-%s.log" % n)))
    times, errors = {}, {}
    # Components build concurrently: one's downloads and links overlap another's compiles.
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(todo)) as pool:
        futures = {pool.submit(build_component, n, comps[n]): n for n in todo}
        for fut in concurrent.futures.as_completed(futures):
            n = futures[fut]
            try:
                times[n] = fut.result()
                update_manifest(n, comps[n], times[n])
                out.write("sim build: %s done in %.0fs\n" % (n, times[n]))
            except Exception as exc:  # report every failed component, not only the first
                errors[n] = str(exc)
    if errors:
        for n, msg in sorted(errors.items()):
            log = cache_dir() / "logs" / ("build-%s.log" % n)
            tail = log.read_text().splitlines()[-30:] if log.exists() else []
            out.write("sim build: %s FAILED: %s\n%s\n" % (n, msg, "\n".join("  " + t for t in tail)))
        raise RuntimeError("sim build failed for " + ", ".join(sorted(errors)))
    return times


def update_sums():
    for name in components(load_matrix()):
        built = cache_dir() / "src" / name / "go.sum"
        if built.exists():
            shutil.copyfile(str(built), str(GO_SRC / name / "go.sum"))
            print("updated tests/sim/go/%s/go.sum" % name)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a binary is missing or outdated")
    parser.add_argument("--force", action="store_true", help="rebuild every component")
    parser.add_argument("--only", action="append", choices=["kubernetes", "kwok", "helm"], help="build only these")
    parser.add_argument("--update-sums", action="store_true", help="copy the built go.sum files into tests/sim/go/")
    args = parser.parse_args(argv)
    if args.update_sums:
        update_sums()
        return 0
    if args.check:
        todo = missing(load_matrix())
        for n, why in sorted(todo.items()):
            print("%s: %s" % (n, why), file=sys.stderr)
        if not todo:
            print(bin_dir())
        return 1 if todo else 0
    started = time.time()
    try:
        times = build(args.only, args.force)
    except RuntimeError as exc:
        print("ERROR: %s" % exc, file=sys.stderr)
        return 1
    if times:
        print("sim build: finished in %.0fs" % (time.time() - started), file=sys.stderr)
    print(bin_dir())
    return 0


if __name__ == "__main__":
    sys.exit(main())
