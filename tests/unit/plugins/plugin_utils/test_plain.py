"""plain: nested mappings and sequences become plain dicts and lists; scalars pass through."""

from __future__ import annotations

from collections import OrderedDict

from ansible_collections.ovnk.udn_lab.plugins.plugin_utils.plain import plain


def test_nested_mappings_and_sequences_become_plain_data():
    value = OrderedDict(a=(1, {"b": [OrderedDict(c="d")]}), e="f")
    out = plain(value)
    assert out == {"a": [1, {"b": [{"c": "d"}]}], "e": "f"}
    # plain types, not the subclasses (or lazy containers) that came in
    assert [type(x).__name__ for x in (out, out["a"], out["a"][1]["b"][0])] == ["dict", "list", "dict"]
    assert plain("text") == "text" and plain(None) is None
