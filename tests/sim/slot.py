"""Which simulated lab on this machine a process belongs to: its *slot* (env ``UDN_LAB_SIM_SLOT``, 0 to 99, default
0), and what each slot owns alone, so several simulated labs run on one machine at once (a test worker each, or
the two lab hosts of a classroom inventory) without touching each other.

A slot owns:
* its node addresses: IPv4 ``127.0.<slot>.<n>`` (all loopback); IPv6 ``::1`` for slot 0's control plane and
  ``fc00:f853:ccd:e793::<n>`` for its workers (kind's default IPv6 network), ``fc00:f853:ccd:e793:<slot hex>::<n>``
  for every node of another slot (put on a host-only link by the launcher, as slot 0's workers are);
* the data plane's network namespace prefix: ``udnsim-`` (slot 0), ``udnsim<slot>-`` otherwise;
* the data plane's state directory: ``/run/udnsim`` (slot 0), ``/run/udnsim<slot>`` otherwise;
* the launcher's home (clusters, kwok work dir, kept logs): ``<cache>/clusters`` (slot 0), ``<cache>/clusters/slot<slot>``
  otherwise, so two slots may each run a cluster of the same name (every lab calls its cluster ``ovn-k-helm``).

Slot 0 is exactly the single lab of earlier releases. ``UDNSIM_PREFIX`` and ``UDN_LAB_SIM_HOME``, when set, still
win over the slot's prefix and home (tests that make their own namespaces or clusters).
Shared by every slot: the ``/agnhost`` link (the data plane's agents keep it while any of them runs) and the
build cache.
"""

from __future__ import annotations

import os
import re

ENV = "UDN_LAB_SIM_SLOT"
MAX_SLOT = 99
IPV6_NODES = "fc00:f853:ccd:e793"
PREFIX_PATTERN = re.compile(r"^udnsim[0-9]*-")
"""Every data plane namespace of every slot matches it (and nothing else of this machine should)."""


class SlotError(ValueError):
    pass


def current(environ=None) -> int:
    """This process's slot: ``UDN_LAB_SIM_SLOT`` as an integer 0..99 (unset or empty: 0)."""
    environ = os.environ if environ is None else environ
    raw = (environ.get(ENV) or "0").strip()
    if not raw.isdigit() or int(raw) > MAX_SLOT:
        raise SlotError("%s must be an integer from 0 to %d, got %r" % (ENV, MAX_SLOT, raw))
    return int(raw)


def node_ipv4(slot: int, index: int) -> str:
    """Node ``index``'s IPv4 address (0: the control plane)."""
    if not 0 <= index < 254:
        raise SlotError("a simulated cluster has at most 254 nodes")
    return "127.0.%d.%d" % (slot, index + 1)


def node_ipv6(slot: int, index: int) -> str:
    """Node ``index``'s IPv6 address (0: the control plane)."""
    if slot == 0:
        return "::1" if index == 0 else "%s::%x" % (IPV6_NODES, index + 1)
    return "%s:%x::%x" % (IPV6_NODES, slot, index + 1)


def advertise_ipv6(slot: int) -> str:
    """What an IPv6-first API server advertises (the kubernetes Service's endpoint: never dialled here, and
    kube-apiserver refuses a loopback one)."""
    return "%s::1" % IPV6_NODES if slot == 0 else node_ipv6(slot, 0)


def netns_prefix(slot: int) -> str:
    return "udnsim-" if slot == 0 else "udnsim%d-" % slot


def dataplane_state_dir(slot: int) -> str:
    return "/run/udnsim" if slot == 0 else "/run/udnsim%d" % slot


def home_suffix(slot: int) -> str:
    """The launcher home's sub-directory of this slot ("" for slot 0)."""
    return "" if slot == 0 else "slot%d" % slot


def current_netns_prefix(environ=None) -> str:
    """``UDNSIM_PREFIX`` when set, else this slot's prefix."""
    environ = os.environ if environ is None else environ
    return environ.get("UDNSIM_PREFIX") or netns_prefix(current(environ))
