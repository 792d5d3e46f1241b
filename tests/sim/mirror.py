#!/usr/bin/env python3
"""Build a mirror directory for ``udn_lab_mirror_dir``: every ``file`` versions.yml names, for the simulated lab.

    python tests/sim/mirror.py [--dest .cache/sim/mirror] [--upstream DIR] [--bin-dir DIR] [--allow-missing]

What goes in (names expanded from versions.yml like the ``artifact`` filter does):
  * binaries: kind (tests/sim/bin stand-in), kubectl and helm (built by tests/sim/build.sh into --bin-dir, else
    found on PATH; helm is packed like the release tarball, ``<os>-<arch>/helm``), virtctl (tests/sim/bin stand-in);
  * the OVN-Kubernetes chart tarball: tests/sim/standins/ovn-kubernetes-chart laid out like the GitHub archive
    (one top directory, chart at ``chart_dir``), with the real UDN/CUDN CRDs copied into its crds/;
  * real upstream manifests where available (multus daemonset, IPAMClaim CRD, MultiNetworkPolicy scheme) —
    byte-identical, so versions.yml's sha256 pins hold;
  * stand-ins for kubevirt-operator.yaml, kubevirt-cr.yaml, cert-manager.yaml and ipam-extensions install.yaml.
Upstream data comes from --upstream (env UDN_LAB_UPSTREAM_DIR, else ../shared/upstream next to the checkout);
nothing upstream is stored in the repository.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import pathlib
import shutil
import sys
import tarfile
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
STANDINS = HERE / "standins"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

import yaml  # noqa: E402

import build as sim_build  # noqa: E402  (where the sim cache is)


def load_artifacts_module():
    """plugins/module_utils/artifacts.py (pure) without needing the collection on the Python path."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("udn_lab_artifacts", REPO / "plugins" / "module_utils" / "artifacts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upstream_default():
    env = os.environ.get("UDN_LAB_UPSTREAM_DIR")
    if env:
        return pathlib.Path(env)
    return REPO.parent / "shared" / "upstream"


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def find_binary(name, bin_dirs):
    for directory in bin_dirs:
        candidate = pathlib.Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    return pathlib.Path(found) if found else None


def _add_bytes(tar, arcname, data, mode=0o644):
    info = tarfile.TarInfo(arcname)
    info.size = len(data)
    info.mode = mode
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def _add_dir(tar, arcname):
    info = tarfile.TarInfo(arcname)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    info.mtime = int(time.time())
    tar.addfile(info)


UPSTREAM_COPIES = ("multus", "multi_networkpolicy_crd", "ipamclaims_crd")
STRICT_COPIES = ("multus", "ipamclaims_crd")
"""Artifacts the mirror copies byte for byte from upstream; everything else is a stand-in or a local build."""


def build_chart_tarball(dest, version, chart_dir, upstream):
    """The stand-in chart as ``ovn-kubernetes-<version without v>/<chart_dir>/…`` plus the real CRDs."""
    top = "ovn-kubernetes-%s" % version.lstrip("v")
    crd_dir = upstream / ("ovn-kubernetes-%s" % version)
    crds = sorted(crd_dir.glob("k8s.ovn.org_*.yaml")) if crd_dir.is_dir() else []
    if not crds:
        raise SystemExit("the UDN/CUDN CRDs are missing from %s (needed in the stand-in chart)" % crd_dir)
    src = STANDINS / "ovn-kubernetes-chart"
    with tarfile.open(dest, "w:gz") as tar:
        _add_dir(tar, top)
        parts = chart_dir.strip("/").split("/")
        for depth in range(1, len(parts) + 1):
            _add_dir(tar, "/".join([top] + parts[:depth]))
        base = "%s/%s" % (top, chart_dir.strip("/"))
        for path in sorted(src.rglob("*")):
            rel = path.relative_to(src).as_posix()
            if rel.endswith(".gotmpl"):  # kept off .yaml in the repository: helm templates are not YAML
                rel = rel[: -len(".gotmpl")]
            if path.is_dir():
                _add_dir(tar, "%s/%s" % (base, rel))
            else:
                _add_bytes(tar, "%s/%s" % (base, rel), path.read_bytes())
        _add_dir(tar, base + "/crds")
        for crd in crds:
            _add_bytes(tar, "%s/crds/%s" % (base, crd.name), crd.read_bytes())


def build_helm_tarball(dest, helm, os_name, arch):
    with tarfile.open(dest, "w:gz") as tar:
        _add_dir(tar, "%s-%s" % (os_name, arch))
        _add_bytes(tar, "%s-%s/helm" % (os_name, arch), helm.read_bytes(), mode=0o755)


def standin_manifest(name, version):
    return (STANDINS / "manifests" / name).read_text().replace("{version}", version).encode()


def plan(matrix, resolve, os_name, arch):
    """``[(artifact name, resolved entry)]`` for every matrix entry that has a ``file``."""
    out = []

    def walk(node, prefix):
        for key, value in node.items():
            if not isinstance(value, dict):
                continue
            name = prefix + key
            if "file" in value:
                out.append((name, resolve(matrix, name, mirror_dir="", os_name=os_name, arch=arch)))
            walk(value, name + ".")

    walk(matrix, "")
    return out


def build(dest, upstream, bin_dirs, os_name="linux", arch="amd64", allow_missing=False, log=print):
    artifacts = load_artifacts_module()
    matrix = yaml.safe_load((REPO / "versions.yml").read_text())["udn_lab_versions_default"]
    dest = pathlib.Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    sim_bin = HERE / "bin"
    missing, written, override = [], {}, {}
    lookup = artifacts.lookup_entry

    def put_bytes(entry, data, mode=0o644):
        path = dest / entry["file"]
        path.write_bytes(data)
        path.chmod(mode)
        written[entry["file"]] = path

    def put_file(entry, src, mode=0o644):
        path = dest / entry["file"]
        shutil.copyfile(src, path)
        path.chmod(mode)
        written[entry["file"]] = path

    for name, entry in plan(matrix, artifacts.resolve, os_name, arch):
        version = entry["version"]
        if name == "kind":
            src = find_binary("kind", [sim_bin])
            put_file(entry, src, 0o755) if src else missing.append("kind (tests/sim/bin/kind stand-in)")
        elif name == "kubectl":
            src = find_binary("kubectl", bin_dirs)
            put_file(entry, src, 0o755) if src else missing.append("kubectl (build it with tests/sim/build.sh)")
        elif name == "helm":
            src = find_binary("helm", bin_dirs)
            if src:
                build_helm_tarball(dest / entry["file"], src, os_name, arch)
                written[entry["file"]] = dest / entry["file"]
            else:
                missing.append("helm (build it with tests/sim/build.sh)")
        elif name == "virtctl":
            put_file(entry, sim_bin / "virtctl", 0o755)
        elif name == "ovn_kubernetes_chart":
            build_chart_tarball(dest / entry["file"], version, entry.get("chart_dir", "helm/ovn-kubernetes"), upstream)
            written[entry["file"]] = dest / entry["file"]
        elif name == "multus":
            put_file(entry, upstream / ("multus-cni-%s" % version) / "multus-daemonset.yml")
        elif name == "multi_networkpolicy_crd":
            put_file(entry, upstream / "multi-networkpolicy" / "scheme.yml")
        elif name == "ipamclaims_crd":
            put_file(entry, upstream / ("ipamclaims-%s" % version) / "k8s.cni.cncf.io_ipamclaims.yaml")
        elif name == "kubevirt.operator":
            put_bytes(entry, standin_manifest("kubevirt-operator.yaml", version))
        elif name == "kubevirt.cr":
            put_bytes(entry, standin_manifest("kubevirt-cr.yaml", version))
        elif name == "cert_manager":
            put_bytes(entry, standin_manifest("cert-manager.yaml", version))
        elif name == "ipam_extensions":
            put_bytes(entry, standin_manifest("ipam-extensions.yaml", version))
        else:
            missing.append("%s (%s): no source known to the mirror builder" % (name, entry["file"]))
            continue
        if entry["file"] not in written:
            continue
        got = sha256(written[entry["file"]])
        exact = name in UPSTREAM_COPIES and (not entry.get("sha256") or got == entry["sha256"])
        if name in STRICT_COPIES and not exact:
            raise SystemExit("%s: sha256 %s differs from versions.yml %s: the upstream copy in %s is not the "
                             "pinned file" % (entry["file"], got, entry["sha256"], upstream))
        if name in UPSTREAM_COPIES and not exact:
            log("  warning: %s is an upstream copy of another revision than versions.yml pins; its sha256 goes "
                "into the override" % entry["file"])
        if not exact:
            # A stand-in or locally built file: pin what was written, for udn_lab_versions_override.
            node = override
            for part in name.split("."):
                node = node.setdefault(part, {})
            raw = lookup(matrix, name).get("sha256")
            node["sha256"] = {"%s-%s" % (os_name, arch): got} if isinstance(raw, dict) else got
        log("  %-48s %s%s" % (entry["file"], name, "" if exact else " (stand-in or other revision)"))
    override_file = dest / "versions-override.yml"
    override_file.write_text(
        "# udn_lab_versions_override for this mirror: checksums of its stand-in and locally built files.\n"
        "# Use: ansible-playbook ... -e udn_lab_mirror_dir=<this dir> -e @<this file>\n"
        + yaml.safe_dump({"udn_lab_versions_override": override, "udn_lab_mirror_dir": str(dest.resolve())},
                         sort_keys=True))
    if missing:
        log("missing:\n  " + "\n  ".join(missing))
        if not allow_missing:
            raise SystemExit(2)
    return written, missing, override


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cache = sim_build.cache_dir()
    parser.add_argument("--dest", default=str(cache / "mirror"))
    parser.add_argument("--upstream", default=str(upstream_default()))
    parser.add_argument("--bin-dir", action="append", default=None,
                        help="where built kubectl/helm are (repeatable; default: bin/ of the sim cache, see build.py)")
    parser.add_argument("--os", default="linux")
    parser.add_argument("--arch", default="amd64")
    parser.add_argument("--allow-missing", action="store_true", help="write what is available, exit 0")
    args = parser.parse_args(argv)
    bin_dirs = args.bin_dir or [str(cache / "bin")]
    upstream = pathlib.Path(args.upstream)
    if not upstream.is_dir():
        parser.error("upstream data not found at %s: pass --upstream or set UDN_LAB_UPSTREAM_DIR" % upstream)
    print("mirror: %s" % args.dest)
    build(args.dest, upstream, bin_dirs, args.os, args.arch, args.allow_missing)
    print("set udn_lab_mirror_dir=%s" % pathlib.Path(args.dest).resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
