# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: kubeconfig_info
short_description: What a kubeconfig says (context, cluster, server) and why it cannot work, without contacting anything
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - Reads a kubeconfig's text and returns its context, cluster and server (scheme, host, port), and the problems
    that make it unusable however often the API is retried - it does not parse, it sets no current context, the
    context or its cluster is missing, the server is not an C(http(s)://host:port) URL.
options:
  _input:
    description: The kubeconfig's text.
    type: str
    required: true
  context:
    description: The context to read instead of C(current-context).
    type: str
"""

EXAMPLES = r"""
- name: Read the kubeconfig
  ansible.builtin.slurp:
    src: "{{ udn_lab_kubeconfig }}"
  register: __kubeconfig

- name: Refuse a kubeconfig that cannot work
  ansible.builtin.assert:
    that: (__kubeconfig.content | b64decode | ovnk.udn_lab.kubeconfig_info).problems | length == 0
"""

RETURN = r"""
_value:
  description: C(problems) (list of strings; empty when usable), C(context), C(cluster), C(server), C(scheme),
    C(host), C(port).
  type: dict
"""

from ansible_collections.ovnk.udn_lab.plugins.module_utils.kubeconfig import inspect


def kubeconfig_info(text, context=None):
    """Filter entry point: see DOCUMENTATION."""
    return inspect(text, context=context)


class FilterModule(object):
    """ovnk.udn_lab kubeconfig filter."""

    def filters(self):
        return {"kubeconfig_info": kubeconfig_info}
