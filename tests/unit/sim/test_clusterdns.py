"""Cluster DNS of the simulated data plane: records, resolv.conf, and answers in DNS wire format."""

import ipaddress
import struct

import pytest

from dataplane import clusterdns

SERVICES = [
    {"metadata": {"name": "kubernetes", "namespace": "default"},
     "spec": {"clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1", "fd00:10:96::1"]}},
    {"metadata": {"name": "kube-dns", "namespace": "kube-system"}, "spec": {"clusterIP": "10.96.0.10"}},
    {"metadata": {"name": "db", "namespace": "blue"}, "spec": {"clusterIP": "None"}},
    {"metadata": {"name": "ext", "namespace": "blue"}, "spec": {"type": "ExternalName", "externalName": "x.org"}},
]


def parse_answers(reply):
    """(rcode, [addresses]) of a response to a single-question query."""
    _qid, flags, qd, an, _ns, _ar = struct.unpack("!HHHHHH", reply[:12])
    assert flags & 0x8000 and qd == 1
    pos = 12
    while reply[pos]:
        pos += reply[pos] + 1
    pos += 5
    out = []
    for dummy in range(an):
        _ptr, qtype, _cls, ttl, size = struct.unpack("!HHHIH", reply[pos:pos + 12])
        assert ttl == clusterdns.TTL
        out.append(str(ipaddress.ip_address(reply[pos + 12:pos + 12 + size])))
        pos += 12 + size
    return flags & 0xF, out


def test_records_name_every_service_with_its_cluster_ips_and_headless_pods():
    records = clusterdns.service_records(SERVICES, {("blue", "db"): ["103.103.0.3"]})
    assert records["kubernetes.default.svc.cluster.local"] == ["10.96.0.1", "fd00:10:96::1"]
    assert records["db.blue.svc.cluster.local"] == ["103.103.0.3"]
    assert "ext.blue.svc.cluster.local" not in records
    assert clusterdns.dns_server_ips(SERVICES) == ["10.96.0.10"]


def test_resolv_conf_is_the_kubelet_cluster_first_one():
    text = clusterdns.resolv_conf("blue", ["10.96.0.10"])
    assert text.splitlines() == ["search blue.svc.cluster.local svc.cluster.local cluster.local",
                                 "nameserver 10.96.0.10", "options ndots:5"]
    assert not clusterdns.resolv_conf(None, ["10.96.0.10"]).startswith("search")


@pytest.mark.parametrize("name, qtype, rcode, addresses", [
    ("kubernetes.default.svc.cluster.local", clusterdns.TYPE_A, 0, ["10.96.0.1"]),
    ("KUBERNETES.default.svc.cluster.local.", clusterdns.TYPE_AAAA, 0, ["fd00:10:96::1"]),
    ("kube-dns.kube-system.svc.cluster.local", clusterdns.TYPE_AAAA, 0, []),  # NODATA
    ("kubernetes.default.svc.cluster.local.blue.svc.cluster.local", clusterdns.TYPE_A, 3, []),  # search miss
    ("example.org", clusterdns.TYPE_A, 3, []),
])
def test_answers(name, qtype, rcode, addresses):
    records = clusterdns.service_records(SERVICES)
    reply = clusterdns.answer(clusterdns.query(name, qtype, qid=0xBEEF), records)
    assert struct.unpack("!H", reply[:2])[0] == 0xBEEF
    assert parse_answers(reply) == (rcode, addresses)


def test_malformed_and_unsupported_queries_get_an_error_not_a_crash():
    assert clusterdns.answer(b"\x01", {}) is None
    formerr = clusterdns.answer(b"\x12\x34" + b"\x00" * 4, {})
    assert struct.unpack("!HH", formerr[:4]) == (0x1234, 0x8000 | clusterdns.RCODE_FORMERR)
    notify = bytearray(clusterdns.query("a.b"))
    notify[2] |= 4 << 3  # opcode NOTIFY
    assert struct.unpack("!H", clusterdns.answer(bytes(notify), {})[2:4])[0] & 0xF == clusterdns.RCODE_NOTIMP


def test_names_outside_the_cluster_domain_resolve_only_through_the_outside_world():
    """kind's CoreDNS forwards them to the node's resolver: here the simulated outside world's few names."""
    outside = {"names": ["Google.com.", "www.google.com"], "addresses": ["2001:4860:4860::8888", "8.8.8.8"]}
    records = dict(clusterdns.service_records(SERVICES), **clusterdns.external_records(outside))
    for name, qtype, want in (("google.com", clusterdns.TYPE_A, ["8.8.8.8"]),
                              ("www.google.com", clusterdns.TYPE_AAAA, ["2001:4860:4860::8888"])):
        assert parse_answers(clusterdns.answer(clusterdns.query(name, qtype), records)) == (0, want)
    # the search list's first tries stay NXDOMAIN, and other names are unknown out there too
    for name in ("google.com.blue.svc.cluster.local", "example.org"):
        assert parse_answers(clusterdns.answer(clusterdns.query(name), records)) == (3, [])
    assert clusterdns.external_records(None) == {}
