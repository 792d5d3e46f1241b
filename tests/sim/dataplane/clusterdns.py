"""Cluster DNS for the simulated data plane (pure: records from the API's Services, DNS wire format).

What CoreDNS's ``kubernetes`` plugin answers on a kind cluster, reduced to what the lab resolves:

* ``<service>.<namespace>.svc.<domain>`` A/AAAA → the Service's ClusterIPs (headless: the ready pods' primary
  addresses); any other name of the cluster domain → NXDOMAIN, so a resolver's search list ends where it does on
  a real cluster;
* names outside the cluster domain: kubeadm's Corefile (kubernetes v1.35.0
  ``cmd/kubeadm/app/phases/addons/dns/manifests.go`` ``CoreDNSConfigMap``: ``forward . /etc/resolv.conf``) sends
  them to the node's resolver (on kind, Docker's DNS, which asks the host's). Here the simulated outside world
  answers (:func:`external_records`: a few names, each resolving to the outside's addresses); every other name
  is NXDOMAIN;
* a name that exists but has no address of the asked family → NOERROR with no answer (NODATA).

``resolv_conf`` is what the kubelet writes into a pod (``ClusterFirst``): the search list of the pod's
namespace, the ``kube-dns`` Service address, ``ndots:5``.
"""

from __future__ import annotations

import ipaddress
import struct
from typing import Dict, Iterable, List, Optional, Tuple

CLUSTER_DOMAIN = "cluster.local"
TTL = 5
TYPE_A, TYPE_AAAA, CLASS_IN = 1, 28, 1
RCODE_OK, RCODE_FORMERR, RCODE_NXDOMAIN, RCODE_NOTIMP = 0, 1, 3, 4


def _meta(obj):
    return (obj or {}).get("metadata") or {}


def service_records(services, headless_addresses=None, domain=CLUSTER_DOMAIN) -> Dict[str, List[str]]:
    """``{fqdn (lower case, no trailing dot): [addresses]}`` for every Service.

    ``headless_addresses``: ``{(namespace, name): [pod addresses]}`` for Services with ``clusterIP: None``.
    """
    records: Dict[str, List[str]] = {}
    for svc in services:
        spec = svc.get("spec") or {}
        ns, name = _meta(svc).get("namespace"), _meta(svc).get("name")
        if not ns or not name or spec.get("type") == "ExternalName":
            continue
        ips = [ip for ip in (spec.get("clusterIPs") or [spec.get("clusterIP")]) if ip and ip != "None"]
        if not ips:
            ips = list((headless_addresses or {}).get((ns, name)) or [])
        records["%s.%s.svc.%s" % (name, ns, domain)] = sorted(set(ips))
    return records


def external_records(external) -> Dict[str, List[str]]:
    """``{name: addresses}`` the simulated outside world's DNS answers (``external``: the data plan's outside
    world, ``{"names": [...], "addresses": [...]}``; None: no outside world, no names)."""
    if not external:
        return {}
    addresses = sorted(set(external.get("addresses") or []))
    return dict((name.lower().rstrip("."), addresses) for name in external.get("names") or [])


def dns_server_ips(services) -> List[str]:
    """The ClusterIPs of ``kube-system/kube-dns`` (where pods send their queries)."""
    for svc in services:
        if _meta(svc).get("namespace") == "kube-system" and _meta(svc).get("name") == "kube-dns":
            spec = svc.get("spec") or {}
            return [ip for ip in (spec.get("clusterIPs") or [spec.get("clusterIP")]) if ip and ip != "None"]
    return []


def resolv_conf(namespace: Optional[str], nameservers: Iterable[str], domain=CLUSTER_DOMAIN) -> str:
    """The kubelet's ``ClusterFirst`` resolv.conf for a pod of ``namespace`` (None: a VM guest, no search)."""
    lines = []
    if namespace:
        lines.append("search %s.svc.%s svc.%s %s" % (namespace, domain, domain, domain))
    lines += ["nameserver %s" % ip for ip in nameservers]
    lines.append("options ndots:5")
    return "\n".join(lines) + "\n"


def parse_query(data: bytes) -> Tuple[int, int, str, int, int, int]:
    """``(id, flags, name, qtype, qclass, end of question)``; raises ValueError on a malformed query."""
    if len(data) < 12:
        raise ValueError("short header")
    qid, flags, qdcount = struct.unpack("!HHH", data[:6])
    if qdcount != 1:
        raise ValueError("%d questions" % qdcount)
    labels, pos = [], 12
    while True:
        if pos >= len(data):
            raise ValueError("truncated name")
        length = data[pos]
        pos += 1
        if length == 0:
            break
        if length & 0xC0:
            raise ValueError("compressed name in a question")
        labels.append(data[pos:pos + length].decode("ascii", "replace"))
        pos += length
    if pos + 4 > len(data):
        raise ValueError("truncated question")
    qtype, qclass = struct.unpack("!HH", data[pos:pos + 4])
    return qid, flags, ".".join(labels).lower(), qtype, qclass, pos + 4


def answer(data: bytes, records: Dict[str, List[str]]) -> Optional[bytes]:
    """The response to one query (None: not even a header to answer)."""
    try:
        qid, flags, name, qtype, qclass, end = parse_query(data)
    except ValueError:
        if len(data) < 2:
            return None
        return struct.pack("!HHHHHH", struct.unpack("!H", data[:2])[0], 0x8000 | RCODE_FORMERR, 0, 0, 0, 0)
    question = data[12:end]
    opcode = (flags >> 11) & 0xF
    head = 0x8000 | 0x0400 | (flags & 0x0100) | 0x0080  # QR, AA, RD copied, RA
    if opcode != 0:
        return struct.pack("!HHHHHH", qid, head | (opcode << 11) | RCODE_NOTIMP, 1, 0, 0, 0) + question
    addresses = records.get(name.rstrip("."))
    if addresses is None:
        return struct.pack("!HHHHHH", qid, head | RCODE_NXDOMAIN, 1, 0, 0, 0) + question
    rrs = []
    if qclass == CLASS_IN and qtype in (TYPE_A, TYPE_AAAA):
        version = 4 if qtype == TYPE_A else 6
        for text in addresses:
            ip = ipaddress.ip_address(text)
            if ip.version == version:
                rrs.append(struct.pack("!HHHIH", 0xC00C, qtype, CLASS_IN, TTL, len(ip.packed)) + ip.packed)
    return struct.pack("!HHHHHH", qid, head | RCODE_OK, 1, len(rrs), 0, 0) + question + b"".join(rrs)


def query(name: str, qtype: int = TYPE_A, qid: int = 0x1234) -> bytes:
    """A standard recursive query (for tests and probes)."""
    labels = b"".join(bytes([len(part)]) + part.encode("ascii") for part in name.rstrip(".").split("."))
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + labels + b"\x00" + struct.pack("!HH", qtype, CLASS_IN)
