# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""What a kubeconfig says, read without contacting anything (pure functions).

A kubeconfig that does not parse, has no current context, or whose context names no cluster with a server URL
cannot work however often it is retried: the lab says so at once, naming the file and what is wrong, instead of
retrying the API for minutes. The server (scheme, host, port) comes back so the next step can check, quickly,
that something answers there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported by the collection
    from urlparse import urlsplit

try:
    import yaml
except ImportError:  # module_utils may be imported where PyYAML is missing (the filter runs on the controller)
    yaml = None


def _named(items, name):
    for item in items or []:
        if isinstance(item, dict) and item.get("name") == name:
            return item
    return None


def inspect(text, context=None):
    """``{"problems": [...], "context", "cluster", "server", "host", "port", "scheme"}`` of a kubeconfig's text.

    ``problems`` is empty when the kubeconfig can be used: it parses as a YAML mapping, the context
    (``context`` or ``current-context``) exists and names a cluster whose ``server`` is an ``http(s)://host[:port]``
    URL. ``port`` defaults to 443 (https) or 80 (http), as client-go does.
    """
    out = {"problems": [], "context": None, "cluster": None, "server": None, "host": None, "port": None,
           "scheme": None}
    if yaml is None:
        out["problems"].append("PyYAML is not installed on the Ansible controller: it cannot read a kubeconfig")
        return out
    try:
        data = yaml.safe_load(text) if text and text.strip() else None
    except yaml.YAMLError as exc:
        out["problems"].append("it does not parse as YAML ({0})".format(str(exc).splitlines()[0]))
        return out
    if not isinstance(data, dict):
        out["problems"].append("it is empty" if data is None else "it is not a kubeconfig (a YAML mapping with "
                                                                  "clusters, contexts and users)")
        return out
    name = context or data.get("current-context")
    if not name:
        out["problems"].append("it sets no current-context")
        return out
    out["context"] = name
    ctx = _named(data.get("contexts"), name)
    if ctx is None:
        out["problems"].append("its context {0!r} is not among its contexts".format(name))
        return out
    cluster_name = (ctx.get("context") or {}).get("cluster")
    out["cluster"] = cluster_name
    cluster = _named(data.get("clusters"), cluster_name)
    if cluster is None:
        out["problems"].append("context {0!r} names cluster {1!r}, which it does not define".format(
            name, cluster_name))
        return out
    server = (cluster.get("cluster") or {}).get("server")
    out["server"] = server
    try:
        url = urlsplit(str(server or ""))
        port = url.port
    except ValueError:
        url, port = None, None
    if not server or url is None or url.scheme not in ("https", "http") or not url.hostname:
        out["problems"].append("cluster {0!r} has no usable server URL (got {1!r}; expected https://host:port)".format(
            cluster_name, server))
        return out
    out.update(scheme=url.scheme, host=url.hostname, port=port or (443 if url.scheme == "https" else 80))
    return out


# Fields of a kubeconfig entry that hold a path, resolved against the folder of the file that holds them (client-go
# ResolveLocalPaths: clusters' certificate-authority, users' client-certificate, client-key and tokenFile).
_PATH_FIELDS = {"clusters": ("certificate-authority",), "users": ("client-certificate", "client-key", "tokenFile")}
_MAPS = {"clusters": "cluster", "contexts": "context", "users": "user"}


def merge(files):
    """Several kubeconfig files (``KUBECONFIG=a:b``) merged the way kubectl does (client-go v0.35.0
    ``tools/clientcmd/loader.go`` ``ClientConfigLoadingRules.Load``).

    :param files: ``[(path, text)]`` in ``KUBECONFIG`` order; ``text`` None for a file that does not exist.
    :returns: ``{"config": dict, "problems": [...], "missing": [paths], "used": [paths]}``. A missing file is
        skipped, as kubectl does; a file that does not parse is a problem (kubectl refuses it too). The first file
        to define a cluster, context or user name wins, entirely; ``current-context`` and ``preferences`` come from
        the first file that sets them. Relative paths inside a file are made absolute against its folder.
    """
    out = {"config": None, "problems": [], "missing": [], "used": []}
    docs = []
    for path, text in files:
        if not path:
            continue
        if text is None:
            out["missing"].append(path)
            continue
        if yaml is None:
            out["problems"].append("PyYAML is not installed on the Ansible controller: it cannot read a kubeconfig")
            return out
        try:
            data = yaml.safe_load(text) if text.strip() else {}
        except yaml.YAMLError as exc:
            out["problems"].append("{0} does not parse as YAML ({1})".format(path, str(exc).splitlines()[0]))
            continue
        if not isinstance(data, dict):
            out["problems"].append("{0} is not a kubeconfig (a YAML mapping with clusters, contexts and "
                                   "users)".format(path))
            continue
        docs.append((path, data))
        out["used"].append(path)
    if out["problems"]:
        return out
    if not docs:
        out["problems"].append("none of the files exists: {0}".format(", ".join(out["missing"])))
        return out
    config = {"apiVersion": "v1", "kind": "Config", "clusters": [], "contexts": [], "users": [],
              "current-context": "", "preferences": {}}
    for path, data in docs:
        folder = path.rsplit("/", 1)[0] if "/" in path else "."
        for key, inner in _MAPS.items():
            seen = set(item.get("name") for item in config[key])
            for item in data.get(key) or []:
                if not isinstance(item, dict) or item.get("name") in seen:
                    continue
                seen.add(item.get("name"))
                config[key].append(_resolved(item, inner, _PATH_FIELDS.get(key, ()), folder))
        if not config["current-context"] and data.get("current-context"):
            config["current-context"] = data["current-context"]
        if not config["preferences"] and data.get("preferences"):
            config["preferences"] = data["preferences"]
    out["config"] = config
    return out


def _resolved(item, inner, fields, folder):
    body = dict(item.get(inner) or {})
    for field in fields:
        value = body.get(field)
        if isinstance(value, str) and value and not value.startswith("/"):
            body[field] = "{0}/{1}".format(folder, value)
    return dict(item, **{inner: body})
