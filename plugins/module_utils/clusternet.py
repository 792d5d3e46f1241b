# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""How a cluster the lab did not build is wired, read without changing anything (pure functions): the API
server's endpoint for host-network pods and the cluster's pod and service CIDRs, which OVN-Kubernetes' chart needs
(``k8sAPIServer``, ``podNetwork``, ``serviceNetwork``) when the user lets the lab install it there, and which the
workshops' subnets must not overlap; and whether its nodes have KVM, which decides KubeVirt's emulation when the
lab installs KubeVirt there (the nodes', never the machine that runs Ansible).

Each is read from the first source that has it, and the result names its source:

* the API endpoint: the EndpointSlice of the ``default/kubernetes`` Service (label
  ``kubernetes.io/service-name=kubernetes``; kube-apiserver's endpoint reconciler writes its advertise address and
  its ``https`` port), an address of the lab's family;
* the service CIDRs: the ServiceCIDR ``kubernetes`` (``networking.k8s.io/v1``; kube-apiserver creates it from
  ``--service-cluster-ip-range``), else kubeadm's ``kube-system/kubeadm-config`` (``ClusterConfiguration``,
  ``networking.serviceSubnet``);
* the pod CIDRs: kubeadm's ``networking.podSubnet``, else the ``--cluster-cidr`` of a kube-controller-manager pod
  in ``kube-system`` (the static pod of kubeadm and kind clusters);
* KVM: the nodes' ``devices.kubevirt.io/kvm``, which a running KubeVirt's virt-handler advertises on every node it
  runs on (1000 devices) and marks unhealthy where ``/dev/kvm`` is missing, so allocatable ``0`` (KubeVirt v1.8.4
  ``pkg/virt-handler/device-manager`` ``PermanentHostDevicePlugins``, ``GenericDevicePlugin.healthCheck``).
  Without KubeVirt no node says: unknown.

What no source has is listed in ``unknown``, with the variable that states it instead.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core
    HAS_YAML = False

KUBEADM_CONFIG = ("kube-system", "kubeadm-config")
KUBEADM_KEY = "ClusterConfiguration"
DEFAULT_SERVICE_CIDR = "kubernetes"
API_SERVICE_LABEL = "kubernetes.io/service-name=kubernetes"
CONTROLLER_MANAGER_LABEL = "component=kube-controller-manager"
FAMILIES = {"ipv4": ("ipv4",), "ipv6": ("ipv6",), "dual": ("ipv4", "ipv6")}
VARIABLES = {
    "api_server_url": "kind_cluster_api_server_internal_url",
    "pod_subnets": "kind_cluster_pod_subnet",
    "service_subnets": "kind_cluster_service_subnet",
    "use_emulation_recommended": "kubevirt_use_emulation",
}
KVM_RESOURCE = "devices.kubevirt.io/kvm"


def _family(address):
    try:
        return "ipv6" if ipaddress.ip_network(str(address).strip(), strict=False).version == 6 else "ipv4"
    except ValueError:
        return None


def _split(text):
    return [c.strip() for c in str(text or "").split(",") if c.strip() and _family(c.strip())]


def for_families(cidrs, ip_family):
    """The CIDRs of the lab's families (``ipv4``, ``ipv6`` or ``dual``), IPv4 first."""
    wanted = FAMILIES.get(ip_family, ("ipv4",))
    return sorted((c for c in cidrs or [] if _family(c) in wanted), key=lambda c: wanted.index(_family(c)))


def kubeadm_networking(configmap):
    """``networking`` of the ClusterConfiguration kubeadm uploads (``{}`` when absent or unreadable)."""
    text = ((configmap or {}).get("data") or {}).get(KUBEADM_KEY)
    if not text or not HAS_YAML:
        return {}
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    networking = (config or {}).get("networking") if isinstance(config, dict) else None
    return networking if isinstance(networking, dict) else {}


def api_server_url(slices, ip_family):
    """``https://<address>:<port>`` of the ``default/kubernetes`` EndpointSlices (the port named ``https``, an
    address of the lab's first family; IPv6 in brackets), or None."""
    family = FAMILIES.get(ip_family, ("ipv4",))[0]
    for item in slices or []:
        port = next((p.get("port") for p in item.get("ports") or [] if p.get("name") == "https" and p.get("port")),
                    None)
        if port is None:
            continue
        for endpoint in item.get("endpoints") or []:
            if (endpoint.get("conditions") or {}).get("ready") is False:
                continue
            for address in endpoint.get("addresses") or []:
                if _family(address) == family:
                    host = "[{0}]".format(address) if family == "ipv6" else address
                    return "https://{0}:{1}".format(host, port)
    return None


def service_cidrs(servicecidrs, networking):
    """``(cidrs, source)``: the default ServiceCIDR's, else kubeadm's ``serviceSubnet``; ``([], None)``."""
    for item in servicecidrs or []:
        if (item.get("metadata") or {}).get("name") == DEFAULT_SERVICE_CIDR:
            cidrs = [c for c in (item.get("spec") or {}).get("cidrs") or [] if _family(c)]
            if cidrs:
                return cidrs, "ServiceCIDR {0}".format(DEFAULT_SERVICE_CIDR)
    cidrs = _split((networking or {}).get("serviceSubnet"))
    if cidrs:
        return cidrs, "ConfigMap {0}/{1} (networking.serviceSubnet)".format(*KUBEADM_CONFIG)
    return [], None


def _flag(pod, name):
    for container in (pod.get("spec") or {}).get("containers") or []:
        for arg in (container.get("command") or []) + (container.get("args") or []):
            if str(arg).startswith(name + "="):
                return str(arg).split("=", 1)[1]
    return None


def pod_cidrs(networking, controller_managers):
    """``(cidrs, source)``: kubeadm's ``podSubnet``, else a kube-controller-manager pod's ``--cluster-cidr``."""
    cidrs = _split((networking or {}).get("podSubnet"))
    if cidrs:
        return cidrs, "ConfigMap {0}/{1} (networking.podSubnet)".format(*KUBEADM_CONFIG)
    for pod in controller_managers or []:
        cidrs = _split(_flag(pod, "--cluster-cidr"))
        if cidrs:
            return cidrs, "pod {0}/{1} (--cluster-cidr)".format(
                (pod.get("metadata") or {}).get("namespace"), (pod.get("metadata") or {}).get("name"))
    return [], None


def _quantity(value):
    text = str(value or "").strip()
    try:
        return int(text[:-1]) * 1000 if text.endswith("k") else int(text)
    except ValueError:
        return None


def kvm_from_nodes(nodes):
    """``(use_emulation_recommended, source)``: False when every node that advertises ``devices.kubevirt.io/kvm``
    has some allocatable, True when one has none, ``(None, None)`` when no node advertises it (no KubeVirt)."""
    seen = []
    for node in nodes or []:
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        if KVM_RESOURCE in allocatable:
            seen.append(((node.get("metadata") or {}).get("name"), _quantity(allocatable[KVM_RESOURCE])))
    if not seen:
        return None, None
    without = sorted(name for name, count in seen if not count)
    source = "nodes' allocatable {0} ({1})".format(KVM_RESOURCE, ", ".join(
        "{0}: {1}".format(name, count) for name, count in sorted(seen, key=lambda x: str(x[0]))))
    return bool(without), source


def assess(ip_family, slices, servicecidrs, kubeadm_config, controller_managers, nodes=None):
    """The cluster's wiring for the lab's ``ip_family``: ``{api_server_url, pod_subnets, service_subnets,
    use_emulation_recommended, sources: {what: source}, unknown: [{what, variable}]}``; a CIDR list holds only
    the lab's families."""
    networking = kubeadm_networking(kubeadm_config)
    url = api_server_url(slices, ip_family)
    services, services_from = service_cidrs(servicecidrs, networking)
    pods, pods_from = pod_cidrs(networking, controller_managers)
    emulation, emulation_from = kvm_from_nodes(nodes)
    out = {"api_server_url": url, "pod_subnets": for_families(pods, ip_family),
           "service_subnets": for_families(services, ip_family), "use_emulation_recommended": emulation,
           "sources": {"api_server_url": "EndpointSlice default/kubernetes" if url else None,
                       "pod_subnets": pods_from, "service_subnets": services_from,
                       "use_emulation_recommended": emulation_from}}
    out["unknown"] = [{"what": what, "variable": VARIABLES[what]} for what in VARIABLES
                      if out[what] is None or out[what] == []]
    return out


def read(api, ip_family):
    """Read what :func:`assess` needs through a k8s.KubeApi-like ``api`` (lists and gets only; a source the
    cluster does not serve, such as the ServiceCIDR API before Kubernetes 1.33, counts as empty)."""
    def safe(call, *args, **kwargs):
        try:
            return call(*args, **kwargs)
        except Exception:  # pylint: disable=broad-except
            return None
    slices = safe(api.list, "discovery.k8s.io/v1", "EndpointSlice", "default", label_selector=API_SERVICE_LABEL)
    servicecidrs = safe(api.list, "networking.k8s.io/v1", "ServiceCIDR")
    kubeadm_config = safe(api.get, "v1", "ConfigMap", KUBEADM_CONFIG[1], KUBEADM_CONFIG[0])
    managers = safe(api.list, "v1", "Pod", KUBEADM_CONFIG[0], label_selector=CONTROLLER_MANAGER_LABEL)
    nodes = safe(api.list, "v1", "Node")
    return assess(ip_family, slices, servicecidrs, kubeadm_config, managers, nodes)
