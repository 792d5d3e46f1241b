"""The ownership filter wraps module_utils.ownership and turns its errors into AnsibleFilterError."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ovnk.udn_lab.plugins.filter.ownership import FilterModule


def test_filter_is_registered_and_builds_the_selector():
    ownership = FilterModule().filters()["ownership"]
    got = ownership({"app.kubernetes.io/managed-by": "ovnk.udn_lab", "udn-lab.ovnk.io/lab": "lab"}, "lab")
    assert got["selector"] == "app.kubernetes.io/managed-by=ovnk.udn_lab,udn-lab.ovnk.io/lab=lab"


def test_filter_error_names_the_variable():
    ownership = FilterModule().filters()["ownership"]
    with pytest.raises(AnsibleFilterError, match="^pod_workshop_labels lacks"):
        ownership({}, "lab", variable="pod_workshop_labels")
