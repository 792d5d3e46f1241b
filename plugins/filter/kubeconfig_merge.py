# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: kubeconfig_merge
short_description: Several kubeconfig files (KUBECONFIG=a:b) merged the way kubectl merges them
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - Merges kubeconfig files by the rules of client-go v0.35.0 (C(tools/clientcmd/loader.go)), which kubectl
    follows for a C(KUBECONFIG) that lists several files.
  - A file that does not exist is skipped; a file that does not parse is a problem. The first file to define a
    cluster, context or user name wins, entirely. C(current-context) and C(preferences) come from the first file
    that sets them. Relative paths inside a file (certificate-authority, client-certificate, client-key, tokenFile)
    are made absolute against the folder of that file.
options:
  _input:
    description: The paths of the files in C(KUBECONFIG) order.
    type: list
    elements: str
    required: true
  contents:
    description: The base64 content of each file that exists, by path (what M(ansible.builtin.slurp) returns as
      C(content) for its C(source)). A path without content does not exist.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Read the files of KUBECONFIG that exist
  ansible.builtin.slurp:
    src: "{{ item }}"
  loop: [/home/me/.kube/a]
  register: read

- name: Merge them (b does not exist)
  ansible.builtin.set_fact:
    merged: >-
      {{ ['/home/me/.kube/a', '/home/me/.kube/b']
         | ovnk.udn_lab.kubeconfig_merge(read.results | items2dict(key_name='source', value_name='content')) }}
"""

RETURN = r"""
_value:
  description: C(config) (the merged kubeconfig; null when there are problems), C(problems) (list of strings; empty
    when the merge worked), C(missing) (paths skipped because they do not exist) and C(used) (paths merged).
  type: dict
"""

import base64

from ansible_collections.ovnk.udn_lab.plugins.module_utils.kubeconfig import merge


def kubeconfig_merge(paths, contents):
    """Filter entry point: see DOCUMENTATION."""
    contents = contents or {}
    return merge([(path, base64.b64decode(contents[path]).decode("utf-8", "replace") if path in contents else None)
                  for path in paths or []])


class FilterModule(object):
    """ovnk.udn_lab kubeconfig merge filter."""

    def filters(self):
        return {"kubeconfig_merge": kubeconfig_merge}
