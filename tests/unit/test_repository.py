"""Repository-wide conventions that no single plugin test sees (docs/DEVELOPING.md)."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if p.is_dir())


def _defaults(role):
    """Every variable a role's defaults define (defaults/main.yml or the defaults/main/ directory)."""
    files = [role / "defaults" / "main.yml"] if (role / "defaults" / "main.yml").exists() else sorted(
        (role / "defaults" / "main").glob("*.yml"))
    names = {}
    for path in files:
        names.update(yaml.safe_load(path.read_text()) or {})
    return names


def _spec_options(role):
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    options = {}
    for entry in specs.values():
        options.update(entry.get("options") or {})
    return options


def test_readme_version_table_is_generated_from_versions_yml():
    result = subprocess.run([sys.executable, str(ROOT / "hack" / "versions_table.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_readme_has_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## The two commands.*?```sh\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make lab", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^exec make test$", ci, re.M), ".ci/run must run exactly the README's test command"


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_role_defaults_match_argument_specs(role):
    assert (role / "meta" / "argument_specs.yml").exists(), "%s has no meta/argument_specs.yml" % role.name
    defaults, options = _defaults(role), _spec_options(role)
    undocumented = sorted(set(defaults) - set(options))
    assert not undocumented, "defaults without an argument_specs entry: %s" % undocumented
    for name, value in defaults.items():
        assert name.startswith(role.name + "_"), "public variable %s must start with %s_" % (name, role.name)
        spec_default = options[name].get("default")
        if isinstance(value, str) and "{{" in value:
            continue  # templated defaults are documented in prose
        if options[name].get("required"):
            continue
        assert spec_default == value, "%s: argument_specs default %r != defaults %r" % (name, spec_default, value)
    # and the other way: an option with a default in the spec has it in defaults/ (a default only in the spec is
    # applied only when the entry point's validation runs: not for tasks_from, not for other roles reading it)
    only_in_spec = sorted(n for n, o in options.items() if "default" in o and n not in defaults)
    assert not only_in_spec, "argument_specs defaults missing from defaults/: %s" % only_in_spec


ROLES_WITH_VARS = [r for r in ROLES if (r / "vars" / "main.yml").exists()]


@pytest.mark.parametrize("role", ROLES_WITH_VARS, ids=[r.name for r in ROLES_WITH_VARS])
def test_role_internal_variables_are_prefixed(role):
    vars_file = role / "vars" / "main.yml"
    names = yaml.safe_load(vars_file.read_text()) or {}
    wrong = [n for n in names if not n.startswith("__%s_" % role.name)]
    assert not wrong, "internal variables must start with __%s_: %s" % (role.name, wrong)


def test_every_module_is_in_the_readme_and_documented():
    readme = (ROOT / "README.md").read_text()
    modules = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
    assert modules
    for name in modules:
        assert "ovnk.udn_lab.%s" % name in readme, "README does not list module %s" % name
        source = (ROOT / "plugins" / "modules" / (name + ".py")).read_text()
        for block in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
            assert re.search(r"^%s = r?[\"']{3}" % block, source, re.M), "%s lacks %s" % (name, block)


def test_no_machine_paths_in_tracked_files():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    home = str(pathlib.Path.home())
    offenders = []
    for name in files:
        path = ROOT / name
        if not path.is_file():
            continue
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        if str(ROOT) + "/" in text or (home not in ("/", "") and home + "/" in text):
            offenders.append(name)
    assert not offenders, "files holding paths of this machine: %s" % offenders


# Variables a reader is told to set: `-e NAME=VALUE`, and every `<prefix>_name` in backticks.
_PREFIXES = ("udn_lab",) + tuple(r.name for r in ROLES)
_DOC_FILES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md")) + sorted(ROOT.glob("roles/*/README.md"))


def _documented_variables():
    """``{name: [file, ...]}`` of the variables the README and docs name."""
    found = {}
    pattern = re.compile(r"(?:-e\s+['\"]?([a-z_][a-z0-9_]*)=)|`((?:%s)_[a-z0-9_]+)" % "|".join(_PREFIXES))
    for path in _DOC_FILES:
        for match in pattern.finditer(path.read_text()):
            name = match.group(1) or match.group(2)
            if not name.endswith("_"):  # `ovn_kubernetes_image_*`: a family of variables, not one
                found.setdefault(name, []).append(path.name)
    return found


def _read_variables():
    """Every variable a role option documents, or that the roles, playbooks and inventories read or set."""
    names = set()
    for role in ROLES:
        names.update(_spec_options(role))
    words = re.compile(r"\b[a-z_][a-z0-9_]*\b")
    for pattern in ("roles/*/defaults/**/*.yml", "roles/*/vars/*.yml", "roles/*/tasks/*.yml", "playbooks/*.yml",
                    "site.yml", "inventories/**/*.yml", "molecule/*/*.yml"):
        for path in ROOT.glob(pattern):
            names.update(words.findall(path.read_text()))
    return names


def test_every_variable_the_docs_name_exists():
    """Docs that run: a variable the README or docs tell users to set is a real one (the README once offered
    -e pod_workshop_probe_external=false, which nothing reads: an offline lab still probed the internet)."""
    known = _read_variables()
    missing = dict((name, files) for name, files in _documented_variables().items() if name not in known)
    assert not missing, "variables named in the docs that nothing reads: %s" % missing


def test_every_extra_var_of_the_docs_is_documented():
    """An `-e NAME=VALUE` the docs show is a role option or a collection-wide udn_lab_* / playbook variable."""
    options = set()
    for role in ROLES:
        options.update(_spec_options(role))
    extra = re.compile(r"-e\s+['\"]?([a-z_][a-z0-9_]*)=")
    shown = set(m.group(1) for path in _DOC_FILES for m in extra.finditer(path.read_text()))
    assert shown, "the README shows -e examples: the pattern must find them"
    playbook_level = set(re.findall(r"\b(udn_lab_[a-z0-9_]+|migrations)\b", "".join(
        p.read_text() for p in list(ROOT.glob("playbooks/*.yml")) + [ROOT / "site.yml"]
        + list(ROOT.glob("inventories/**/*.yml")) + list(ROOT.glob("roles/*/defaults/**/*.yml")))))
    unknown = sorted(shown - options - playbook_level)
    assert not unknown, "-e variables in the docs that are neither role options nor playbook variables: %s" % unknown


def test_every_module_that_talks_to_kubernetes_is_in_the_action_group():
    """module_defaults for group/ovnk.udn_lab.udn_lab reach every module that takes kubernetes.core's connection
    options (kubeconfig, context, ...)."""
    group = set(yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["action_groups"]["udn_lab"])
    talking = set(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if "AUTH_ARG_SPEC" in p.read_text())
    assert talking and talking - group == set(), sorted(talking - group)
    assert group - talking == set(), sorted(group - talking)


def test_every_module_that_talks_to_kubernetes_builds_its_client_one_way():
    """One client path: kubernetes.core's AnsibleK8SModule, and its get_api_client (directly or through
    module_utils/k8s.client_from_module); a plain AnsibleModule only for modules that never contact the cluster."""
    for path in sorted((ROOT / "plugins" / "modules").glob("*.py")):
        text = path.read_text()
        if "AUTH_ARG_SPEC" in text:
            assert "AnsibleK8SModule(" in text and "AnsibleModule(" not in text, path.name
        else:
            assert "AnsibleK8SModule" not in text and "client_from_module" not in text, path.name
    assert "_ModuleShim" not in (ROOT / "plugins" / "module_utils" / "k8s.py").read_text()


def _collections_used():
    """The collection namespaces named by FQCN in the roles, playbooks and plugins."""
    text = "".join(p.read_text() for p in list(ROOT.glob("roles/*/tasks/*.yml")) + list(ROOT.glob("playbooks/*.yml"))
                   + [ROOT / "site.yml"] + list(ROOT.glob("roles/*/handlers/*.yml")))
    used = set(re.findall(r"^\s*-?\s*([a-z_]+\.[a-z_]+)\.[a-z_0-9]+:\s*$", text, re.M))
    used |= set(re.findall(r"\bgroup/([a-z_]+\.[a-z_]+)\.", text))
    for path in (ROOT / "plugins").rglob("*.py"):
        found = re.findall(r"^from ansible_collections\.([a-z_]+)\.([a-z_]+)\.", path.read_text(), re.M)
        used |= set(".".join(names) for names in found)
    return used - {"ansible.builtin", "ovnk.udn_lab"}


def test_the_dependencies_are_exactly_the_collections_used():
    """galaxy.yml and requirements.yml declare the same collections, and exactly those the content uses."""
    galaxy = set((yaml.safe_load((ROOT / "galaxy.yml").read_text()).get("dependencies") or {}))
    requirements = set(c["name"] for c in yaml.safe_load((ROOT / "requirements.yml").read_text())["collections"])
    assert galaxy == requirements
    assert galaxy == _collections_used()


def test_one_junit_writer():
    """Every JUnit file comes from module_utils/junit.py: no other plugin or template spells out the elements."""
    writers = sorted(str(p.relative_to(ROOT)) for p in list((ROOT / "plugins").rglob("*.py")) + list(ROOT.glob("roles/**/*.j2"))
                     if re.search(r"[\"'<]testsuites?\b", p.read_text()))
    assert writers == ["plugins/module_utils/junit.py"]


_SET_FILTERS = re.compile(r"\|\s*(difference|union|symmetric_difference|intersect)\s*\(")


def test_no_set_filters_where_order_can_show():
    """ansible-core's difference, union, symmetric_difference and intersect go through a Python set when the items
    hash, so the order of their result changes from run to run. A list that a message prints or a loop walks then
    comes out in any order (a teardown once named what it removes in a different order on every run): the content
    uses select/reject('in', ...) instead, which keep the order."""
    content = [p for p in sorted(ROOT.glob("roles/**/*")) + sorted(ROOT.glob("playbooks/**/*")) + sorted(ROOT.glob("molecule/**/*"))
               + [ROOT / "site.yml"] if p.is_file() and p.suffix in (".yml", ".yaml", ".j2")]
    found = sorted(f"{p.relative_to(ROOT)}:{n}" for p in content
                   for n, line in enumerate(p.read_text().splitlines(), 1) if _SET_FILTERS.search(line))
    assert found == []


def _non_text_descriptions(doc, path=()):
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key == "description":
                for item in value if isinstance(value, list) else [value]:
                    if not isinstance(item, str):
                        yield "/".join(path) or "(top)", item
            else:
                yield from _non_text_descriptions(value, path + (str(key),))


def test_every_plugin_description_is_text():
    """A plain YAML scalar with ': ' in a description list becomes a mapping, which ansible-doc (and ansible-test
    sanity) cannot show: every description line of every plugin's DOCUMENTATION parses as text."""
    import ast

    found = []
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
                found.extend("%s %s: %r" % (path.relative_to(ROOT), where, item)
                             for where, item in _non_text_descriptions(yaml.safe_load(node.value.value)))
    assert found == []
