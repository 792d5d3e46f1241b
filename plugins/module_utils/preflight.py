# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""What a cluster the lab did not build must already run, read without changing anything (pure functions).

On an existing cluster the lab reads first. Per component it checks what the workshop relies on, where the
upstream release at the lab's pinned tag exposes it:

* ``multus``: the NetworkAttachmentDefinition and MultiNetworkPolicy CRDs, and the multus DaemonSet
  ``kube-multus-ds`` rolled out.
* ``ovn_kubernetes``: the UDN and CUDN CRDs; the Deployment ``ovnkube-control-plane`` and the DaemonSet
  ``ovnkube-node`` rolled out; multi-network and network segmentation switched on. OVN-Kubernetes v1.3.0's chart
  sets them as the container env ``OVN_MULTI_NETWORK_ENABLE`` / ``OVN_NETWORK_SEGMENTATION_ENABLE`` (``"true"``),
  which ``dist/images/ovnkube.sh`` turns into ``--enable-multi-network`` / ``--enable-network-segmentation``;
  either form is accepted. With the VM workshop, persistent IPs too (``OVN_ENABLE_PERSISTENT_IPS``,
  ``--enable-persistent-ips``) and the IPAMClaim CRD.
* ``kubevirt``: a KubeVirt CR that is ``Available``, with the ``l2bridge`` network binding registered as the VM
  workshop uses it (``domainAttachmentType: managedTap``, and ``migration`` so such VMs can live-migrate:
  KubeVirt v1.8.4 ``pkg/network/vmispec/interface.go``).
* ``cert_manager`` and ``ipam_extensions``: their Deployments (``cert-manager-webhook``,
  ``kubevirt-ipam-controller-manager``) rolled out.

Objects are found by name in any namespace: a cluster may run them elsewhere than the lab would.

Look first, too, before installing by opt-in: a component the user lets the lab install (``udn_lab_existing_install``)
must not run there already, unless this lab installed it (its marker entry ``existing-install-<component>`` in the
lab's state record, written before the first change, so an interrupted install completes when re-run, and removed
by that component's teardown). The lab never upgrades a
helm release, re-applies a manifest or patches a CR that it did not install.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.ovnk.udn_lab.plugins.module_utils import rollout

COMPONENTS = ("multus", "ovn_kubernetes", "kubevirt", "cert_manager", "ipam_extensions")
OPT_IN_VARIABLE = "udn_lab_existing_install"

CRDS = {
    "multus": ("network-attachment-definitions.k8s.cni.cncf.io", "multi-networkpolicies.k8s.cni.cncf.io"),
    "ovn_kubernetes": ("userdefinednetworks.k8s.ovn.org", "clusteruserdefinednetworks.k8s.ovn.org"),
    "kubevirt": ("kubevirts.kubevirt.io", "virtualmachines.kubevirt.io", "virtualmachineinstances.kubevirt.io",
                 "virtualmachineinstancemigrations.kubevirt.io"),
}
IPAMCLAIM_CRD = "ipamclaims.k8s.cni.cncf.io"
WORKLOADS = {
    "multus": [("DaemonSet", "kube-multus-ds")],
    "ovn_kubernetes": [("Deployment", "ovnkube-control-plane"), ("DaemonSet", "ovnkube-node")],
    "cert_manager": [("Deployment", "cert-manager-webhook")],
    "ipam_extensions": [("Deployment", "kubevirt-ipam-controller-manager")],
}
# (env of the v1.3.0 chart, ovnkube flag, what it is)
OVNK_FEATURES = (
    ("OVN_MULTI_NETWORK_ENABLE", "--enable-multi-network", "multi-network", "global.enableMultiNetwork"),
    ("OVN_NETWORK_SEGMENTATION_ENABLE", "--enable-network-segmentation", "network segmentation",
     "global.enableNetworkSegmentation"),
)
OVNK_PERSISTENT_IPS = ("OVN_ENABLE_PERSISTENT_IPS", "--enable-persistent-ips", "persistent IPs",
                       "global.enablePersistentIPs")

INSTALL = {
    "multus": "install multus (thick plugin) with its CRDs",
    "ovn_kubernetes": "install OVN-Kubernetes v1.3.0 with multi-network and network segmentation",
    "kubevirt": "install KubeVirt v1.8.4",
    "cert_manager": "install cert-manager",
    "ipam_extensions": "install kubevirt ipam-extensions",
}


OPT_IN_COMPONENTS = ("multus", "ovn_kubernetes", "kubevirt")
"""The components ``udn_lab_existing_install`` may name."""

# The opt-in that installs a component: cert-manager and ipam-extensions come with the lab's KubeVirt install.
INSTALLED_BY = {"cert_manager": "kubevirt", "ipam_extensions": "kubevirt"}


VM_WORKSHOP_ONLY = ("kubevirt", "cert_manager", "ipam_extensions")
"""Components only the VM workshop needs: without them the lab can run the pod workshop alone, when asked."""
WORKSHOPS_VARIABLE = "udn_lab_workshops"


def opt_in(component):
    by = INSTALLED_BY.get(component, component)
    return "{0}, or let the lab install it: {1}: [{2}]{3}{4}".format(
        INSTALL[component], OPT_IN_VARIABLE, by, " (with KubeVirt)" if by != component else "",
        ", or run the pod workshop alone: {0}: [pods]".format(WORKSHOPS_VARIABLE)
        if component in VM_WORKSHOP_ONLY else "")


def _check(component, check, ok, found, problem=None, fix=None):
    return {"component": component, "check": check, "ok": bool(ok), "found": found,
            "problem": None if ok else problem, "fix": None if ok else fix}


def _established(crd):
    for cond in (crd.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Established":
            return cond.get("status") == "True"
    return False


def crd_checks(component, crds, names):
    """One check per CRD name: it exists and is Established (``crds``: name -> CRD object)."""
    out = []
    for name in names:
        crd = crds.get(name)
        out.append(_check(component, "CRD {0}".format(name), crd is not None and _established(crd),
                          "established" if crd is not None and _established(crd) else (
                              "not established" if crd is not None else None),
                          "CustomResourceDefinition {0} is {1}".format(
                              name, "not Established" if crd is not None else "missing"),
                          opt_in(component)))
    return out


def workload_checks(component, objects, wanted):
    """One check per (kind, name) of ``wanted``: found in some namespace, and rolled out (kubectl's rules)."""
    out = []
    for kind, name in wanted:
        found = objects.get((kind, name)) or []
        if not found:
            out.append(_check(component, "{0} {1}".format(kind, name), False, None,
                              "no {0} named {1} in any namespace".format(kind, name), opt_in(component)))
            continue
        obj = found[0]
        ref = "{0}/{1}".format(obj["metadata"].get("namespace"), name)
        ready, state = rollout.readiness({"kind": kind, "condition": "Ready"}, obj)
        out.append(_check(component, "{0} {1}".format(kind, name), ready, ref,
                          "{0} {1} is not rolled out: {2}".format(kind, ref, state),
                          "check why {0} {1} is not ready (kubectl -n {2} describe {3} {4})".format(
                              kind, ref, obj["metadata"].get("namespace"), kind.lower(), name)))
    return out


def container_switches(deployment):
    """``{env name: value}`` and the set of ``--flags`` of every container of a Deployment's pod template."""
    env, flags = {}, set()
    for container in (((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
            "containers") or []:
        for item in container.get("env") or []:
            if isinstance(item, dict) and "value" in item:
                env[item.get("name")] = item.get("value")
        for arg in (container.get("command") or []) + (container.get("args") or []):
            for word in str(arg).split():
                name, sep, value = word.partition("=")
                if not sep or value.lower() == "true":
                    flags.add(name)
    return env, flags


def feature_checks(deployment, features):
    """Each OVN-K feature switched on in ``ovnkube-control-plane``: env ``"true"`` or its flag."""
    env, flags = container_switches(deployment)
    ref = "{0}/{1}".format(deployment["metadata"].get("namespace"), deployment["metadata"].get("name"))
    out = []
    for var, flag, what, value in features:
        on = str(env.get(var, "")).lower() == "true" or flag in flags
        shown = "{0}={1!r}".format(var, env[var]) if var in env else "no {0} and no {1}".format(var, flag)
        out.append(_check("ovn_kubernetes", "OVN-Kubernetes {0}".format(what), on, shown,
                          "OVN-Kubernetes ({0}) runs without {1} ({2})".format(ref, what, shown),
                          "switch {0} on in that OVN-Kubernetes (helm value {1}=true, ovnkube {2}); the lab does "
                          "not change an OVN-Kubernetes it did not install".format(what, value, flag)))
    return out


def kubevirt_checks(kubevirts, adopted=None):
    """The KubeVirt CR: Available, and the l2bridge binding registered with managedTap and migration - unless the
    user lets the lab patch that CR (``adopted``: ``{namespace, name}``), which then registers the binding itself."""
    if not kubevirts:
        return [_check("kubevirt", "KubeVirt CR", False, None, "no KubeVirt CR in any namespace",
                       opt_in("kubevirt"))]
    cr = kubevirts[0]
    ref = "{0}/{1}".format(cr["metadata"].get("namespace"), cr["metadata"].get("name"))
    ready, state = rollout.condition_readiness(cr, "Available")
    out = [_check("kubevirt", "KubeVirt CR Available", ready, ref,
                  "KubeVirt {0} is not Available: {1}".format(ref, state),
                  "check the KubeVirt operator (kubectl -n {0} get kubevirt,pods)".format(
                      cr["metadata"].get("namespace")))]
    ref_pair = (cr["metadata"].get("namespace"), cr["metadata"].get("name"))
    if adopted and ref_pair == (adopted["namespace"], adopted["name"]):
        out.append(_check("kubevirt", "l2bridge binding", True, "registered by the lab ({0})".format(ADOPT_VARIABLE)))
        return out
    binding = ((((cr.get("spec") or {}).get("configuration") or {}).get("network") or {}).get("binding") or {}).get(
        "l2bridge")
    fix = ("register it in the KubeVirt CR {0}: spec.configuration.network.binding.l2bridge: "
           "{{domainAttachmentType: managedTap, migration: {{}}}}; the lab does not patch a KubeVirt it did not "
           "install".format(ref))
    if not isinstance(binding, dict):
        out.append(_check("kubevirt", "l2bridge binding", False, None,
                          "KubeVirt {0} has no l2bridge network binding".format(ref), fix))
        return out
    attach = binding.get("domainAttachmentType")
    out.append(_check("kubevirt", "l2bridge binding", attach == "managedTap" and "migration" in binding,
                      "domainAttachmentType={0}, migration {1}".format(
                          attach, "set" if "migration" in binding else "absent"),
                      "KubeVirt {0}'s l2bridge binding has domainAttachmentType {1!r} and {2} migration (the VM "
                      "workshop needs managedTap and migration, to live-migrate)".format(
                          ref, attach, "a" if "migration" in binding else "no"), fix))
    return out


def assess(components, crds, workloads, kubevirts, adopted=None):
    """Every check of ``components`` over what was read.

    :param crds: ``{name: CRD object}`` of the CRDs that exist.
    :param workloads: ``{(kind, name): [objects in any namespace]}``.
    :param kubevirts: KubeVirt CRs (any namespace).
    :param adopted: :func:`parse_adopt`'s mapping (an adopted KubeVirt CR gets its binding from the lab).
    :returns: ``[check]``, each ``{component, check, ok, found, problem, fix}``.
    """
    out = []
    vms = "kubevirt" in components
    for component in COMPONENTS:
        if component not in components:
            continue
        out += crd_checks(component, crds, CRDS.get(component, ()))
        if component == "ovn_kubernetes" and vms:
            out += crd_checks(component, crds, (IPAMCLAIM_CRD,))
        out += workload_checks(component, workloads, WORKLOADS.get(component, ()))
        if component == "ovn_kubernetes":
            found = workloads.get(("Deployment", "ovnkube-control-plane")) or []
            if found:
                out += feature_checks(found[0], OVNK_FEATURES + ((OVNK_PERSISTENT_IPS,) if vms else ()))
        if component == "kubevirt":
            out += kubevirt_checks(kubevirts, (adopted or {}).get("kubevirt"))
    return out


def summary(checks, components):
    """The failure message: every missing piece with its fix, in one message, one numbered entry per component
    (empty when all hold)."""
    failed = [c for c in checks if not c["ok"]]
    if not failed:
        return ""
    entries = []
    for component in COMPONENTS:
        mine = [c for c in failed if c["component"] == component]
        if not mine:
            continue
        fixes = []
        for check in mine:
            if check["fix"] not in fixes:
                fixes.append(check["fix"])
        entries.append("{0}) {1}: {2}. Fix: {3}.".format(len(entries) + 1, component,
                                                         "; ".join(c["problem"] for c in mine), "; ".join(fixes)))
    return "The existing cluster lacks {0} of the {1} things the lab needs from {2} (nothing was changed): {3}".format(
        len(failed), len(checks), ", ".join(components), " ".join(entries))


# ---------------------------------------------------------------------------------------------- look first

LOOK_FIRST = "not installed by someone else"
ADOPT_CHECKS = ("adopted helm release", "adopted KubeVirt CR")
"""Checks that :func:`install_summary` reports (with :data:`LOOK_FIRST`)."""
INSTALL_MARKER = "existing-install-"
"""Prefix of the lab state entries naming each component (``existing-install-multus``, ...) this lab installed on
a cluster it did not build, recorded before the first change."""
PRESENCE = {
    "multus": [("DaemonSet", "kube-multus-ds")],
    "ovn_kubernetes": [("Deployment", "ovnkube-control-plane"), ("DaemonSet", "ovnkube-node")],
    "kubevirt": [("Deployment", "virt-operator")],
    "cert_manager": [("Deployment", "cert-manager"), ("Deployment", "cert-manager-webhook")],
    "ipam_extensions": [("Deployment", "kubevirt-ipam-controller-manager")],
}
"""What shows a component already runs: these workloads by name in any namespace (and, for KubeVirt, any KubeVirt
CR)."""


def installing(install):
    """The components an opt-in list installs, in :data:`COMPONENTS` order (``kubevirt`` brings cert-manager and
    ipam-extensions)."""
    wanted = set(install or ())
    return [c for c in COMPONENTS if c in wanted or INSTALLED_BY.get(c) in wanted]


def recorded_installs(entries):
    """The components this lab's state record says it installed (its :data:`INSTALL_MARKER` entries; KubeVirt's
    brings cert-manager and ipam-extensions), in :data:`COMPONENTS` order."""
    return installing([c for c in OPT_IN_COMPONENTS if INSTALL_MARKER + c in (entries or {})])


def recorded_prior(entries):
    """What this lab recorded, before it changed them, of the objects it adopted: ``{"ovn_kubernetes": {namespace,
    name, revision}, "kubevirt": {namespace, name, spec}}`` (only those recorded)."""
    out = {}
    ovnk = (((entries or {}).get(INSTALL_MARKER + "ovn_kubernetes") or {}).get("facts") or {}).get("adopted")
    if ovnk:
        out["ovn_kubernetes"] = ovnk
    kubevirt = ((entries or {}).get(ADOPT_MARKER + "kubevirt") or {}).get("facts")
    if kubevirt:
        out["kubevirt"] = kubevirt
    return out


def recorded_facts(entries):
    """``{component: the facts of its marker}`` of the components this lab's state record says it installed."""
    return dict((c, ((entries or {}).get(INSTALL_MARKER + c) or {}).get("facts") or {})
                for c in OPT_IN_COMPONENTS if INSTALL_MARKER + c in (entries or {}))


def _ref(obj):
    m = obj.get("metadata") or {}
    return "{0} {1}/{2}".format(obj.get("kind") or "", m.get("namespace") or "", m.get("name") or "").strip()


def install_checks(install, mine, presence, kubevirts, adopted=None):
    """One check per component the lab would install: it does not run yet, or this lab installed it, or (for
    OVN-Kubernetes) every object found belongs to the helm release the user lets the lab adopt.

    :param install: the opt-in (``udn_lab_existing_install``); expanded by :func:`installing`.
    :param mine: components this lab installed earlier (:func:`recorded_installs`).
    :param presence: ``{(kind, name): [objects in any namespace]}`` of :data:`PRESENCE`.
    :param kubevirts: KubeVirt CRs (any namespace).
    :param adopted: what :func:`parse_adopt` made of ``udn_lab_existing_adopt``.
    """
    out = []
    release = (adopted or {}).get("helm")
    for component in installing(install):
        objects = []
        for kind, name in PRESENCE[component]:
            objects += [dict(o, kind=kind) for o in presence.get((kind, name)) or []]
        if component == "kubevirt":
            objects += [dict(o, kind="KubeVirt") for o in kubevirts or []]
        found = [_ref(o) for o in objects]
        by = INSTALLED_BY.get(component, component)
        adopting = (component == "ovn_kubernetes" and release and objects
                    and all(helm_owner(o) == (release["namespace"], release["name"]) for o in objects))
        ok = not found or component in (mine or ()) or adopting
        out.append(_check(
            component, LOOK_FIRST, ok,
            (", ".join(found) + (" (helm release {namespace}/{name}, adopted: {0})".format(ADOPT_VARIABLE, **release)
                                 if adopting else "")) or None,
            "{0} names {1}, and the cluster already runs {2} ({3}), which this lab did not install: the lab never "
            "upgrades a helm release, re-applies a manifest or patches a CR it did not install".format(
                OPT_IN_VARIABLE, by, component.replace("_", "-"), ", ".join(found)),
            "drop {0} from {1}; the lab then checks the cluster's own {2} and changes nothing of it{3}".format(
                by, OPT_IN_VARIABLE, component.replace("_", "-"),
                " (or let the lab upgrade that helm release, restored at teardown: {0}: "
                "['helm:<namespace>/<release>'])".format(ADOPT_VARIABLE) if component == "ovn_kubernetes" else
                "" if by == component else " (install KubeVirt v1.8.4 yourself, or remove the cluster's {0} "
                "first)".format(component.replace("_", "-")))))
    return out


# ---------------------------------------------------------------------------------------------- adopting

ADOPT_VARIABLE = "udn_lab_existing_adopt"
ADOPT_MARKER = "existing-adopt-"
"""Prefix of the lab state entry recording the prior state of a KubeVirt CR the lab patched (``existing-adopt-kubevirt``;
the prior revision of an adopted helm release is recorded with the OVN-Kubernetes install marker)."""
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
HELM_RELEASE_NAME = "meta.helm.sh/release-name"
HELM_RELEASE_NAMESPACE = "meta.helm.sh/release-namespace"


def parse_adopt(items):
    """``({"helm": {namespace, name}, "kubevirt": {namespace, name}}, problems)`` of ``udn_lab_existing_adopt``:
    ``helm:<namespace>/<release>`` (the OVN-Kubernetes release the lab may upgrade) and ``kubevirt:<namespace>/<name>``
    (the KubeVirt CR the lab may patch), at most one of each."""
    out, problems = {}, []
    for item in items or ():
        text = str(item)
        kind, ref = text.partition(":")[::2]
        namespace, name = ref.partition("/")[::2]
        if kind not in ("helm", "kubevirt") or not _NAME.match(namespace) or not _NAME.match(name):
            problems.append("{0!r} is neither helm:<namespace>/<release> nor kubevirt:<namespace>/<name>".format(text))
        elif kind in out:
            problems.append("it names two objects of kind {0}; the lab adopts one".format(kind))
        else:
            out[kind] = {"namespace": namespace, "name": name}
    return out, problems


def helm_owner(obj):
    """``(namespace, release)`` of the helm release that manages ``obj`` (helm 3's annotations), or ``(None, None)``."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return annotations.get(HELM_RELEASE_NAMESPACE), annotations.get(HELM_RELEASE_NAME)


def release_revision(secrets):
    """The deployed revision of a helm release from its storage Secrets (helm 3 labels them ``owner=helm``,
    ``name``, ``status``, ``version``), or None."""
    revisions = []
    for secret in secrets or ():
        labels = (secret.get("metadata") or {}).get("labels") or {}
        if labels.get("owner") == "helm" and labels.get("status") == "deployed" and str(labels.get("version")).isdigit():
            revisions.append(int(labels["version"]))
    return max(revisions) if revisions else None


def adopt_checks(adopted, install, release_secrets, kubevirt):
    """The objects the user lets the lab change, read before any change: ``(checks, prior)``.

    :param adopted: :func:`parse_adopt`'s mapping.
    :param install: ``udn_lab_existing_install``: an adopted release is what the lab installs OVN-Kubernetes into;
        an adopted KubeVirt CR is patched, not installed over (``kubevirt`` must not be in it).
    :param release_secrets: the adopted release's helm storage Secrets.
    :param kubevirt: the adopted KubeVirt CR, or None.
    :returns: checks, and ``prior`` - ``{"ovn_kubernetes": {namespace, name, revision}, "kubevirt": {namespace,
        name, spec}}`` - what teardown restores.
    """
    checks, prior = [], {}
    release = adopted.get("helm")
    if release:
        ref = "{namespace}/{name}".format(**release)
        revision = release_revision(release_secrets)
        wanted = "ovn_kubernetes" in (install or ())
        checks.append(_check(
            "ovn_kubernetes", "adopted helm release", wanted and revision is not None,
            "helm release {0} revision {1}".format(ref, revision) if revision is not None else None,
            "{0} names helm release {1}, {2}".format(ADOPT_VARIABLE, ref, "which the cluster does not have deployed"
                                                     if revision is None else "but ovn_kubernetes is not in " + OPT_IN_VARIABLE),
            "name the OVN-Kubernetes release the cluster runs (helm list -A), and add ovn_kubernetes to {0}".format(
                OPT_IN_VARIABLE)))
        if revision is not None:
            prior["ovn_kubernetes"] = dict(release, revision=revision)
    cr = adopted.get("kubevirt")
    if cr:
        ref = "{namespace}/{name}".format(**cr)
        wanted = "kubevirt" not in (install or ())
        checks.append(_check(
            "kubevirt", "adopted KubeVirt CR", wanted and kubevirt is not None,
            "KubeVirt {0}".format(ref) if kubevirt is not None else None,
            "{0} names KubeVirt {1}, {2}".format(ADOPT_VARIABLE, ref, "which the cluster does not have"
                                                 if kubevirt is None else "and " + OPT_IN_VARIABLE + " names kubevirt"),
            "name the KubeVirt CR the cluster runs (kubectl get kubevirt -A); the lab patches it only when it does not "
            "install KubeVirt itself"))
        if kubevirt is not None:
            prior["kubevirt"] = dict(cr, spec=kubevirt.get("spec") or {})
    return checks, prior


def describe_changes(entries):
    """What this lab changed on a cluster it did not build, one line each, from its state record's markers (the lab
    report shows them): what it installed, the helm release it upgraded and the KubeVirt CR it patched (with what
    teardown restores), and the zone labels it set."""
    entries = entries or {}
    out = []
    for component in OPT_IN_COMPONENTS:
        if INSTALL_MARKER + component not in entries:
            continue
        facts = (entries[INSTALL_MARKER + component] or {}).get("facts") or {}
        release = facts.get("adopted")
        if release:
            out.append("upgraded helm release {namespace}/{name} (revision {revision}) with the lab's OVN-Kubernetes "
                       "values; a cluster teardown rolls it back to revision {revision}".format(**release))
        else:
            out.append("installed {0}; a cluster teardown removes it".format(component.replace("_", "-")))
        if facts.get("zone_labelled"):
            out.append("set the zone label on node(s) {0}; a cluster teardown removes it".format(
                ", ".join(facts["zone_labelled"])))
    kubevirt = (entries.get(ADOPT_MARKER + "kubevirt") or {}).get("facts")
    if kubevirt:
        out.append("patched KubeVirt {namespace}/{name} (emulation, the l2bridge binding, feature gates); a cluster "
                   "teardown gives it back its spec".format(**kubevirt))
    return out


def read_adopted(api, adopted):
    """What :func:`adopt_checks` reads (gets and lists only): the release's storage Secrets, the KubeVirt CR."""
    secrets, kubevirt = [], None
    if adopted.get("helm"):
        secrets = api.list("v1", "Secret", adopted["helm"]["namespace"],
                           label_selector="owner=helm,name={0}".format(adopted["helm"]["name"]))
    if adopted.get("kubevirt") and api.get("apiextensions.k8s.io/v1", "CustomResourceDefinition",
                                           "kubevirts.kubevirt.io") is not None:
        kubevirt = api.get("kubevirt.io/v1", "KubeVirt", adopted["kubevirt"]["name"],
                           namespace=adopted["kubevirt"]["namespace"])
    return secrets, kubevirt


def install_summary(checks):
    """The failure message of :func:`install_checks` (empty when all hold)."""
    failed = [c for c in checks if not c["ok"]]
    if not failed:
        return ""
    return "Look first: {0} (nothing was changed). Fix: {1}.".format(
        "; ".join(c["problem"] for c in failed), "; ".join(sorted(set(c["fix"] for c in failed))))


def read_presence(api, components):
    """What :func:`install_checks` needs, for the components an opt-in installs (lists and gets only)."""
    presence = {}
    for component in components:
        for kind, name in PRESENCE[component]:
            presence[(kind, name)] = api.list("apps/v1", kind, None, field_selector="metadata.name={0}".format(name))
    kubevirts = []
    if "kubevirt" in components and api.get("apiextensions.k8s.io/v1", "CustomResourceDefinition",
                                            "kubevirts.kubevirt.io") is not None:
        kubevirts = api.list("kubevirt.io/v1", "KubeVirt")
    return presence, kubevirts


def read_cluster(api, components):
    """Read what :func:`assess` needs through a k8s.KubeApi-like ``api`` (lists and gets only)."""
    crds = {}
    names = set()
    for component in components:
        names.update(CRDS.get(component, ()))
    if "kubevirt" in components and "ovn_kubernetes" in components:
        names.add(IPAMCLAIM_CRD)
    for name in sorted(names):
        crd = api.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name)
        if crd is not None:
            crds[name] = crd
    workloads = {}
    for component in components:
        for kind, name in WORKLOADS.get(component, ()):
            workloads[(kind, name)] = api.list("apps/v1", kind, None, field_selector="metadata.name={0}".format(name))
    kubevirts = []
    if "kubevirt" in components and "kubevirts.kubevirt.io" in crds:
        kubevirts = api.list("kubevirt.io/v1", "KubeVirt")
    return crds, workloads, kubevirts
