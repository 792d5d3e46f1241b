#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: fetch_artifact
short_description: Download one artifact of the lab's version matrix, verified
version_added: 0.1.0
author: ovnk.udn_lab maintainers (@ovnk)
description:
  - Puts the file of one version-matrix artifact, as resolved by the P(ovnk.udn_lab.artifact#filter) filter, at
    O(dest). It is downloaded from its upstream URL with retries, or copied from the mirror directory.
  - The content is verified against the sha256 pinned in the version matrix. Artifacts whose upstream publishes
    no digest are verified against the digest recorded in O(record) the first time this lab fetched them
    (trust on first use), so a file that changes upstream under the same URL is refused.
  - Nothing is written when O(dest) already holds the expected content.
options:
  artifact:
    description:
      - The resolved artifact, the output of the P(ovnk.udn_lab.artifact#filter) filter. Keys used are
        C(name), C(url), C(upstream_url), C(local) and C(sha256).
    type: dict
    required: true
  dest:
    description: Absolute path of the file to write. Its directory must exist.
    type: path
    required: true
  mode:
    description: Permissions of O(dest).
    type: raw
    default: '0644'
  record:
    description:
      - JSON file of C(upstream url -> sha256) first-use records. Without it, an artifact with no pinned sha256
        is accepted unverified.
    type: path
  retries:
    description: How many more times a failed download is tried.
    type: int
    default: 3
  delay:
    description: Seconds between download attempts.
    type: int
    default: 5
  timeout:
    description: Seconds a download may stall before it is abandoned.
    type: int
    default: 60
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reports whether O(dest) would be written, without downloading.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
notes:
  - Downloads honour the usual proxy environment variables.
"""

EXAMPLES = r"""
- name: Fetch the pinned kind binary (sha256-verified)
  ovnk.udn_lab.fetch_artifact:
    artifact: "{{ udn_lab_versions_default | ovnk.udn_lab.artifact('kind', mirror_dir=udn_lab_mirror_dir) }}"
    dest: "{{ udn_lab_dir }}/bin/kind-v0.31.0"
    mode: "0755"

- name: Fetch the KubeVirt operator manifest (no upstream digest; recorded on first use)
  ovnk.udn_lab.fetch_artifact:
    artifact: "{{ udn_lab_versions_default | ovnk.udn_lab.artifact('kubevirt.operator') }}"
    dest: "{{ udn_lab_dir }}/cache/kubevirt-operator.yaml"
    record: "{{ udn_lab_dir }}/checksums.json"
"""

RETURN = r"""
dest:
  description: The file written or found.
  returned: always
  type: str
sha256:
  description: sha256 of O(dest) (not set in check mode when nothing was downloaded).
  returned: success
  type: str
  sample: eb244cbafcc157dff60cf68693c14c9a75c4e6e6fedaf9cd71c58117cb93e3fa
verified_by:
  description:
    - V(pinned) (the version matrix's sha256), V(recorded) (this lab's first-use record) or V(first-use)
      (nothing known yet; the digest was recorded now).
  returned: success
  type: str
source:
  description: Where the content came from (URL or mirror path); empty when O(dest) was already right.
  returned: always
  type: str
attempts:
  description: Download attempts made.
  returned: always
  type: int
"""

import os
import shutil
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import fetch_url
from ansible_collections.ovnk.udn_lab.plugins.module_utils import fetch


def _download(module, url, target):
    """Stream ``url`` into ``target``; return None or an error message."""
    response, info = fetch_url(module, url, timeout=module.params["timeout"])
    if info.get("status") != 200 or response is None:
        return "%s: HTTP %s %s" % (url, info.get("status"), info.get("msg", ""))
    with open(target, "wb") as handle:
        shutil.copyfileobj(response, handle, fetch.CHUNK)
    return None


def _obtain(module, artifact, directory):
    """Fetch the artifact into a temporary file next to dest; returns (path, attempts)."""
    handle, tmp = tempfile.mkstemp(dir=directory, prefix=".fetch-")
    os.close(handle)
    if artifact.get("local"):
        try:
            shutil.copyfile(artifact["url"], tmp)
        except (IOError, OSError) as exc:
            os.unlink(tmp)
            module.fail_json(msg="mirror file %s of %s is not readable (%s): put %s from %s in udn_lab_mirror_dir"
                             % (artifact["url"], artifact.get("name"), exc, os.path.basename(artifact["url"]),
                                artifact.get("upstream_url")))
        return tmp, 0
    errors = []
    for attempt in range(1, module.params["retries"] + 2):
        error = _download(module, artifact["url"], tmp)
        if error is None:
            return tmp, attempt
        errors.append(error)
        if attempt <= module.params["retries"]:
            time.sleep(module.params["delay"])
    os.unlink(tmp)
    module.fail_json(msg="could not download %s after %d attempts: %s. Offline? Set udn_lab_mirror_dir to a directory "
                     "holding %s." % (artifact.get("name"), len(errors), errors[-1], artifact.get("file")),
                     attempts=len(errors), errors=errors)


def _write_records(module, path, records):
    handle, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".record-")
    with os.fdopen(handle, "w") as out:
        out.write(fetch.dump_records(records))
    module.atomic_move(tmp, path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            artifact=dict(type="dict", required=True),
            dest=dict(type="path", required=True),
            mode=dict(type="raw", default="0644"),
            record=dict(type="path"),
            retries=dict(type="int", default=3),
            delay=dict(type="int", default=5),
            timeout=dict(type="int", default=60),
        ),
        supports_check_mode=True,
    )
    artifact, dest, record_path = module.params["artifact"], module.params["dest"], module.params["record"]
    if not artifact.get("url"):
        module.fail_json(msg="option artifact has no url: pass the output of the ovnk.udn_lab.artifact filter")
    directory = os.path.dirname(dest) or "."
    if not os.path.isdir(directory):
        module.fail_json(msg="the directory of dest (%s) does not exist: create it first" % directory)

    records = {}
    if record_path and os.path.exists(record_path):
        with open(record_path) as handle:
            try:
                records = fetch.load_records(handle.read())
            except (ValueError, fetch.VerificationError) as exc:
                module.fail_json(msg="record file %s is not valid: %s" % (record_path, exc))
    expected, how = fetch.expected_digest(artifact, records)

    result = dict(changed=False, dest=dest, source="", attempts=0)
    if os.path.isfile(dest):
        current = fetch.sha256_of_file(dest)
        # A file already in place is kept when it is the expected one, or when nothing is known about the
        # artifact yet (it is then recorded, so any later change upstream is caught).
        if expected is None or current == expected:
            new_records = fetch.updated_records(artifact, records, current, how) if record_path else None
            if new_records is not None and not module.check_mode:
                _write_records(module, record_path, new_records)
            attrs_changed = module.set_fs_attributes_if_different(
                module.load_file_common_arguments(dict(path=dest, mode=module.params["mode"])), False)
            result.update(sha256=current, verified_by=how, changed=attrs_changed or new_records is not None)
            module.exit_json(**result)

    if module.check_mode:
        result.update(changed=True, source=artifact["url"], verified_by=how)
        module.exit_json(**result)

    tmp, result["attempts"] = _obtain(module, artifact, directory)
    actual = fetch.sha256_of_file(tmp)
    try:
        how = fetch.verify(artifact, records, actual)
    except fetch.VerificationError as exc:
        os.unlink(tmp)
        module.fail_json(msg=str(exc), **result)
    new_records = fetch.updated_records(artifact, records, actual, how) if record_path else None
    if new_records is not None:
        _write_records(module, record_path, new_records)
    same = os.path.isfile(dest) and fetch.sha256_of_file(dest) == actual
    if same:
        os.unlink(tmp)
    else:
        module.atomic_move(tmp, dest)
    attrs_changed = module.set_fs_attributes_if_different(
        module.load_file_common_arguments(dict(path=dest, mode=module.params["mode"])), False)
    result.update(changed=(not same) or attrs_changed or new_records is not None, sha256=actual,
                  verified_by=how, source=artifact["url"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
