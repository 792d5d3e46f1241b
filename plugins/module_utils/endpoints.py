# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""What ``kubectl get endpointslices -n <namespace>`` shows the workshop, as claims.

A Service in a namespace with a primary UDN has two kinds of EndpointSlice (OVN-Kubernetes v1.3.0
``go-controller/pkg/clustermanager/endpointslicemirror/endpointslice_mirror_controller.go``; ``pkg/types/const.go``):

* the default slice, written by kube-controller-manager (label ``endpointslice.kubernetes.io/managed-by:
  endpointslice-controller.k8s.io``, ``kubernetes.io/service-name``): the pods' ``status.podIPs``, i.e. their
  infrastructure-locked default-network addresses;
* its mirror, written by OVN-Kubernetes (``managed-by: endpointslice-mirror-controller.k8s.ovn.org``, found by
  ``k8s.ovn.org/service-name`` as OVN-K's own e2e does, annotated ``k8s.ovn.org/endpointslice-network``): the same
  endpoints with each pod's primary-UDN address. This is what makes the Service answer on the UDN.

One claim per Service and address family, judged from the slices and the pods' ``k8s.ovn.org/pod-networks``; the
results have the fields of :mod:`probes` results, so the truth tables, JUnit and the report take them as they are.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ovnk.udn_lab.plugins.module_utils import ovn, probes

MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
DEFAULT_CONTROLLER = "endpointslice-controller.k8s.io"
MIRROR_CONTROLLER = "endpointslice-mirror-controller.k8s.ovn.org"
SERVICE_LABEL = "kubernetes.io/service-name"
MIRROR_SERVICE_LABEL = "k8s.ovn.org/service-name"
NETWORK_ANNOTATION = "k8s.ovn.org/endpointslice-network"
ADDRESS_TYPES = {"ipv4": "IPv4", "ipv6": "IPv6"}
CLAIM = ("OVN-Kubernetes mirrors the Service's EndpointSlice onto its UDN: the mirror lists every pod behind the "
         "Service at its primary UDN address, the default slice at its infrastructure-locked one "
         "(kubectl get endpointslices)")


def _labels(obj):
    return (obj.get("metadata") or {}).get("labels") or {}


def _name(obj):
    return (obj.get("metadata") or {}).get("name")


def slices_of(slices, service, family):
    """``(default slices, mirrors)`` of ``service`` with the family's address type."""
    kind = ADDRESS_TYPES[family]
    mine = [s for s in slices or [] if s.get("addressType") == kind]
    default = [s for s in mine if _labels(s).get(MANAGED_BY) == DEFAULT_CONTROLLER
               and _labels(s).get(SERVICE_LABEL) == service]
    mirrors = [s for s in mine if _labels(s).get(MANAGED_BY) == MIRROR_CONTROLLER
               and _labels(s).get(MIRROR_SERVICE_LABEL) == service]
    return default, mirrors


def _by_pod(slice_obj):
    """``{pod name: [addresses]}`` of a slice's endpoints that point at pods."""
    out = {}
    for endpoint in slice_obj.get("endpoints") or []:
        ref = endpoint.get("targetRef") or {}
        if ref.get("kind") == "Pod" and ref.get("name"):
            out.setdefault(ref["name"], []).extend(endpoint.get("addresses") or [])
    return out


def judge(check, slices, pods, family):
    """``(ok, detail)`` for one Service (``check``: ``{namespace, service}``) and family."""
    service = check["service"]
    default, mirrors = slices_of(slices, service, family)
    if len(default) != 1:
        return False, "{0} default {1} EndpointSlice(s) of Service {2} (want 1)".format(
            len(default), ADDRESS_TYPES[family], service)
    if len(mirrors) != 1:
        return False, "{0} EndpointSlice(s) of Service {1} mirrored by OVN-Kubernetes for {2} (want 1; found by {3}={1})".format(
            len(mirrors), service, ADDRESS_TYPES[family], MIRROR_SERVICE_LABEL)
    source, mirror = _by_pod(default[0]), _by_pod(mirrors[0])
    if not source:
        return False, "the default slice {0} lists no pod: nothing behind Service {1}".format(_name(default[0]), service)
    by_name = dict((_name(p), p) for p in pods or [])
    problems, shown_udn, shown_locked = [], [], []
    for pod_name in sorted(set(source) | set(mirror)):
        pod = by_name.get(pod_name)
        if pod is None:
            problems.append("pod {0} is listed but does not exist".format(pod_name))
            continue
        try:
            summary = ovn.pod_networks(pod)
        except ovn.AnnotationError as exc:
            problems.append("pod {0}: {1}".format(pod_name, exc))
            continue
        primary, locked = summary["primary"], summary["infrastructure_locked"]
        if primary is None or locked is None:
            problems.append("pod {0} is not on a primary UDN ({1} has no primary and infrastructure-locked entries)".format(
                pod_name, ovn.POD_NETWORKS_ANNOTATION))
            continue
        want_udn, want_locked = primary[family][:1], locked[family][:1]
        if pod_name not in mirror:
            problems.append("the mirror lacks pod {0}".format(pod_name))
        elif mirror[pod_name] != want_udn:
            problems.append("the mirror lists pod {0} at {1}, its UDN address is {2}".format(
                pod_name, ", ".join(mirror[pod_name]) or "nothing", ", ".join(want_udn) or "none"))
        if pod_name not in source:
            problems.append("the mirror lists pod {0}, the default slice does not".format(pod_name))
        elif source[pod_name] != want_locked:
            problems.append("the default slice lists pod {0} at {1}, its infrastructure-locked address is {2}".format(
                pod_name, ", ".join(source[pod_name]) or "nothing", ", ".join(want_locked) or "none"))
        shown_udn.append("{0} {1}".format(pod_name, ", ".join(mirror.get(pod_name) or [])))
        shown_locked.append("{0} {1}".format(pod_name, ", ".join(source.get(pod_name) or [])))
    if problems:
        return False, "; ".join(problems)
    network = ((mirrors[0].get("metadata") or {}).get("annotations") or {}).get(NETWORK_ANNOTATION) or "?"
    return True, "mirror {0} (network {1}): {2}; default slice {3}: {4}".format(
        _name(mirrors[0]), network, ", ".join(shown_udn), _name(default[0]), ", ".join(shown_locked))


def service_endpoints(check, slices, pods, families):
    """The claims of one entry of ``pod_workshop_endpoint_slices`` (``{id, namespace, service}``): one per family."""
    families = [f for f in families if f in ovn.FAMILIES] or ["ipv4"]
    results = []
    for family in families:
        ok, detail = judge(check, slices, pods, family)
        results.append(probes.observed_result(
            "{0}{1}".format(check["id"], "/" + family if len(families) > 1 else ""), CLAIM, "endpointslices",
            "{0}/{1}".format(check["namespace"], check["service"]), "EndpointSlices", family, ok, detail,
            "kubectl get endpointslices -n {0} -l {1}={2} -o wide; kubectl get endpointslices -n {0} -l {3}={2} "
            "-o wide".format(check["namespace"], SERVICE_LABEL, check["service"], MIRROR_SERVICE_LABEL)))
    return results
