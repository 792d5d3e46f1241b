# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""Shared options of the ovnk.udn_lab filters that judge the workshop's claims."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # families: every claim filter that returns one claim per address family
    DOCUMENTATION = r"""
options:
  families:
    description: Address families of the lab (V(ipv4), V(ipv6)).
    type: list
    elements: str
    required: true
"""

    # the overlapping networks' filters: the pods by namespace, the check and the declared networks
    OVERLAP = r"""
options:
  _input:
    description: The pods of the networks' namespaces, by namespace.
    type: dict
    required: true
  check:
    description: The entry of C(pod_workshop_overlapping_networks) (C(id), C(networks)).
    type: dict
    required: true
  networks:
    description: The declared networks (C(pod_workshop_networks)).
    type: list
    elements: dict
    required: true
"""
