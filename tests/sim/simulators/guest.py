"""The guest inside a simulated VM (pure): which OS the container disk holds, what cloud-init reads, and which
addresses the guest really configures on its primary NIC.

Upstream behaviour modelled here (sources in tests/sim/FIDELITY.md):

* KubeVirt v1.8.4 ``pkg/cloud-init/cloud-init.go`` (``resolveNoCloudSecrets``): a ``cloudInitNoCloud`` volume
  carries user data inline (``userData``), base64 (``userDataBase64``) or in a Secret (``secretRef``, key
  ``userdata`` tried before ``userData``), and network data likewise (``networkData``, ``networkDataBase64``,
  ``networkDataSecretRef``: key ``networkdata`` before ``networkData``). Inline wins over base64.
* Without network data, cloud-init renders its *fallback* configuration: before cloud-init 24.1 that is DHCPv4
  on the first NIC only (no DHCPv6). The Fedora images of the pinned container disks ship older cloud-init.
* On a Layer2 primary UDN, OVN-Kubernetes v1.3.0 hands IPv6 out only by stateful DHCPv6 (router advertisements
  with ``address_mode: dhcpv6_stateful``; no SLAAC): a guest gets its IPv6 address only when its network
  configuration runs DHCPv6 on that NIC (OVN-K's own e2e gives l2bridge VMs ``dhcp4: true, dhcp6: true``).
* The test-tooling images order ``qemu-guest-agent`` after ``cloud-init status --wait`` (kubevirtci
  ``fedora-with-test-tooling`` cloud-config: ``wait-for-cloud-init.service``), so the agent connects only once
  cloud-init is done.
"""

from __future__ import annotations

import base64
import fnmatch
from typing import Any, Callable, Dict, Optional, Tuple

import yaml

PRIMARY_NIC = "eth0"
"""Name of the guest's first NIC in the Fedora cloud images (the seed's console shows ``eth0``, altname
``enp1s0``)."""

FEDORA_35 = {"id": "fedora", "name": "Fedora Linux", "prettyName": "Fedora Linux 35 (Cloud Edition)",
             "version": "35 (Cloud Edition)", "versionId": "35", "kernelRelease": "5.14.10-300.fc35.x86_64"}
FEDORA_39 = {"id": "fedora", "name": "Fedora Linux", "prettyName": "Fedora Linux 39 (Cloud Edition)",
             "version": "39 (Cloud Edition)", "versionId": "39", "kernelRelease": "6.5.6-300.fc39.x86_64"}

# Container disk (tag) -> guest. KubeVirt re-publishes kubevirtci's fedora-with-test-tooling image with each
# release: Fedora 35 up to the switch in kubevirt commit 4d34f12061 (v1.4.0 has Fedora 35), Fedora 39 after it
# (v1.8.4). Both ship a cloud-init older than 24.1.
DISKS = {
    "quay.io/kubevirt/fedora-with-test-tooling-container-disk:v1.4.0": {"os": FEDORA_35, "cloud_init": "21.3"},
    "quay.io/kubevirt/fedora-with-test-tooling-container-disk:v1.8.4": {"os": FEDORA_39, "cloud_init": "23.2"},
}
UNKNOWN_DISK = {"os": FEDORA_39, "cloud_init": "23.2"}


def disk_of(vmi: Dict[str, Any]) -> Tuple[Optional[str], Dict[str, Any]]:
    """``(image, guest)`` of the VMI's first container disk (an unknown image behaves like the newest known)."""
    for vol in (vmi.get("spec") or {}).get("volumes") or []:
        image = (vol.get("containerDisk") or {}).get("image")
        if image:
            return image, DISKS.get(image, UNKNOWN_DISK)
    return None, UNKNOWN_DISK


def _version(text: str) -> Tuple[int, ...]:
    return tuple(int(p) for p in str(text).split(".") if p.isdigit())


def _secret_value(secret: Optional[Dict[str, Any]], keys) -> Optional[str]:
    """The first of ``keys`` found in a Secret (``data`` is base64; ``stringData`` only in unsaved objects)."""
    secret = secret or {}
    for key in keys:
        raw = (secret.get("data") or {}).get(key)
        if raw is not None:
            return base64.b64decode(raw).decode()
        text = (secret.get("stringData") or {}).get(key)
        if text is not None:
            return text
    return None


def cloud_init_sources(vmi: Dict[str, Any], secret_lookup: Optional[Callable] = None) -> Dict[str, Optional[str]]:
    """``{"user_data": text | None, "network_data": text | None}`` of the VMI's NoCloud (or ConfigDrive) volume,
    read the way KubeVirt v1.8.4 does; ``secret_lookup(namespace, name)`` returns a Secret or None."""
    namespace = ((vmi.get("metadata") or {}).get("namespace"))
    out = {"user_data": None, "network_data": None}
    for vol in (vmi.get("spec") or {}).get("volumes") or []:
        src = vol.get("cloudInitNoCloud") or vol.get("cloudInitConfigDrive")
        if not src:
            continue
        for key, inline, b64, ref, secret_keys in (
                ("user_data", "userData", "userDataBase64", "secretRef", ("userdata", "userData")),
                ("network_data", "networkData", "networkDataBase64", "networkDataSecretRef",
                 ("networkdata", "networkData"))):
            text = src.get(inline)
            if not text and src.get(b64):
                text = base64.b64decode(src[b64]).decode()
            if not text and (src.get(ref) or {}).get("name") and secret_lookup is not None:
                text = _secret_value(secret_lookup(namespace, src[ref]["name"]), secret_keys)
            out[key] = text or None
        break
    return out


def _load(text: Optional[str]) -> Optional[Dict[str, Any]]:
    if not text:
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def _nic_matches(key: str, entry: Dict[str, Any], nic: str) -> bool:
    match = (entry or {}).get("match")
    if isinstance(match, dict) and match.get("name"):
        return fnmatch.fnmatch(nic, str(match["name"]))
    if isinstance(match, dict) and match:
        return False  # a MAC or driver match: the simulated NIC has none of the guest's hardware facts
    return key == nic


def nic_config(network_data: Optional[str], cloud_init_version: str, nic: str = PRIMARY_NIC) -> Dict[str, Any]:
    """``{"dhcp4": bool, "dhcp6": bool, "source": str}`` for ``nic``: what cloud-init configures on it.

    Network config v2 (``ethernets``) and v1 (``config`` of ``physical`` entries with ``dhcp``/``dhcp4``/
    ``dhcp6`` subnets) are read; no (or unreadable) network data means the fallback configuration: DHCPv4 only
    before cloud-init 24.1, DHCPv4 and DHCPv6 from 24.1 on."""
    data = _load(network_data)
    if data is not None and "network" in data and isinstance(data["network"], dict):
        data = data["network"]
    if data is not None and str(data.get("version")) == "2":
        for key, entry in (data.get("ethernets") or {}).items():
            if isinstance(entry, dict) and _nic_matches(str(key), entry, nic):
                return {"dhcp4": bool(entry.get("dhcp4")), "dhcp6": bool(entry.get("dhcp6")),
                        "source": "network data v2 (%s)" % key}
        return {"dhcp4": False, "dhcp6": False, "source": "network data v2 without %s" % nic}
    if data is not None and str(data.get("version")) == "1":
        for entry in data.get("config") or []:
            if isinstance(entry, dict) and entry.get("type") == "physical" and entry.get("name") == nic:
                kinds = set(str((s or {}).get("type")) for s in entry.get("subnets") or [])
                return {"dhcp4": bool(kinds & {"dhcp", "dhcp4"}), "dhcp6": "dhcp6" in kinds,
                        "source": "network data v1"}
        return {"dhcp4": False, "dhcp6": False, "source": "network data v1 without %s" % nic}
    modern = _version(cloud_init_version) >= (24, 1)
    return {"dhcp4": True, "dhcp6": modern,
            "source": "cloud-init %s fallback (%s)" % (cloud_init_version, "DHCPv4 + DHCPv6" if modern else
                                                       "DHCPv4 only")}


def guest_network(vmi: Dict[str, Any], secret_lookup: Optional[Callable] = None) -> Dict[str, Any]:
    """What the guest of ``vmi`` configures on its primary NIC (see :func:`nic_config`), with its disk."""
    image, disk = disk_of(vmi)
    sources = cloud_init_sources(vmi, secret_lookup)
    out = nic_config(sources["network_data"], disk["cloud_init"])
    out.update(image=image, os=disk["os"])
    return out


def guest_addresses(addresses, network: Dict[str, Any]):
    """The subset of the interface's ``addresses`` (CIDRs or IPs) the guest holds: IPv4 through DHCPv4, IPv6
    through DHCPv6 (stateful: the only IPv6 assignment OVN-K offers on a Layer2 primary UDN)."""
    out = []
    for addr in addresses or []:
        if ":" in str(addr):
            if network.get("dhcp6"):
                out.append(addr)
        elif network.get("dhcp4"):
            out.append(addr)
    return out
