"""The upstream workshop's steps and the lab's coverage table (docs/workshop_coverage.yml).

    python hack/workshop_coverage.py            write docs/WORKSHOP_COVERAGE.md from the table
    python hack/workshop_coverage.py --check    exit 1 when the page is not the one the table gives

``upstream_steps`` reads the workshop's files (its cheat sheet, instructions script and README) the way the
table's header describes; tests/unit/test_workshop_coverage.py holds the table to them.
"""

import argparse
import collections
import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
TABLE = ROOT / "docs" / "workshop_coverage.yml"
PAGE = ROOT / "docs" / "WORKSHOP_COVERAGE.md"
UPSTREAM_REPO = "https://github.com/maiqueb/devconf2025-one-size-does-not-fit-all/blob/e8d01d9"
STATUSES = ("asserted", "asserted_differently", "performed", "not_asserted", "not_checkable")
STATUS_WORDS = {"asserted": "asserted", "asserted_differently": "asserted differently", "performed": "performed",
                "not_asserted": "not asserted yet", "not_checkable": "not checkable"}

_COMMAND = re.compile(r"^(kubectl|kind|helm|git clone|for node|export|virtctl) ")
_PROMPT = re.compile(r"^\[\w+@[\w-]+ ~\][#$] (\S.*)$")


def _cheatsheet(text):
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("* "):
            yield number, line[2:].strip()


def _script(text):
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("run_cmd "):
            yield number, line[len("run_cmd "):].strip()
        elif line.startswith('echo "$PODINFO"'):
            yield number, line.strip()
        elif line.startswith("# SHOW "):
            yield number, line[2:].strip()


def _readme(text):
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            continue
        prompt = _PROMPT.match(line)
        if prompt:
            yield number, prompt.group(1).strip()
        elif _COMMAND.match(line):
            yield number, line.strip()


PARSERS = {"cheatsheet": _cheatsheet, "script": _script, "readme": _readme}


def upstream_steps(workshop_dir, sources):
    """``[(source, line, text)]`` for every step of the workshop checkout at ``workshop_dir``."""
    out = []
    for source, relpath in sources.items():
        text = (pathlib.Path(workshop_dir) / relpath).read_text(encoding="utf-8")
        out += [(source, number, step) for number, step in PARSERS[source](text)]
    return out


def normalize(step):
    """A step's text with what may differ between its places made equal: ``oc`` is ``kubectl``, every ``${...}``
    is ``${}``, ``ping -w N``."""
    step = re.sub(r"^oc ", "kubectl ", step.strip())
    step = re.sub(r"\$\{[^}]*\}", "${}", step)
    return re.sub(r"-w \d+", "-w N", step)


def positions(row):
    """``[(source, line)]`` of a table row."""
    out = []
    for place in row.get("at") or []:
        source, dummy, line = str(place).partition(":")
        out.append((source, int(line) if line.isdigit() else -1))
    return out


def load(path=TABLE):
    return yaml.safe_load(pathlib.Path(path).read_text(encoding="utf-8"))


def counts(table):
    """Steps (places in the upstream files) per status, and rows per status."""
    places, rows = collections.Counter(), collections.Counter()
    for row in table["steps"]:
        places[row["status"]] += len(row.get("at") or [])
        rows[row["status"]] += 1
    return places, rows


def render_markdown(table):
    places, rows = counts(table)
    total = sum(places.values())
    out = ["# The upstream workshop, step by step", "",
           "<!-- generated from docs/workshop_coverage.yml by hack/workshop_coverage.py: edit the table, not this page -->",
           "",
           "Every command of the DevConf 2025 workshop (its participants' cheat sheet, its instructions script and its",
           "README, [upstream at e8d01d9]({0})) and what the lab does with it. A step that appears in two files".format(
               UPSTREAM_REPO),
           "is one row with both places. Claim ids are the ids in the report's truth tables (`vm:` a VM check,",
           "`migration` the iperf3 stream across the live migration).", "",
           "| status | steps (places) | rows |", "|---|---|---|"]
    for status in STATUSES:
        out.append("| {0} | {1} | {2} |".format(STATUS_WORDS[status], places[status], rows[status]))
    out += ["| **total** | **{0}** | **{1}** |".format(total, len(table["steps"])), ""]
    out += ["Where the isolation claims send their packets: the workshop's subnets 103.103.0.0/16 and 203.203.0.0/16",
            "are public address space. On a real cluster OVN-Kubernetes does not drop a packet from one UDN to another",
            "UDN's pod address: it routes it out of the node's gateway like any egress (okep-5193, shared gateway",
            "mode). A \"blocked\" claim between UDN pods therefore means nothing answered from there, and its packet",
            "left the node.", ""]
    out += ["| upstream | step | status | claims / done by | why |", "|---|---|---|---|---|"]
    for row in table["steps"]:
        where = ", ".join("[{0}:{1}]({2}/{3}#L{1})".format(source, line, UPSTREAM_REPO, table["sources"][source])
                          for source, line in positions(row))
        done = ", ".join("`{0}`".format(c) for c in row.get("claims") or []) or (row.get("by") or "")
        cells = [where, "`{0}`".format(row["step"].replace("|", "\\|")), STATUS_WORDS[row["status"]],
                 done.replace("|", "\\|"), (row.get("why") or "").replace("|", "\\|").strip()]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the page is not the one the table gives")
    args = parser.parse_args(argv)
    page = render_markdown(load())
    if args.check:
        if not PAGE.exists() or PAGE.read_text(encoding="utf-8") != page:
            print("docs/WORKSHOP_COVERAGE.md is stale: run python hack/workshop_coverage.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
