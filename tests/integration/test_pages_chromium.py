# -*- coding: utf-8 -*-
# Copyright: ovnk.udn_lab contributors
# Apache License 2.0 (see LICENSE)
"""The HTML pages (module_utils/pages.py) as a person sees them: rendered by headless Chromium (Debian's
``chromium``, which .ci/run installs), the DOM read after rendering and a screenshot measured.

The pages carry no script; the test wraps a page in a harness (the page with one inline script appended) that,
after the load event, writes what the browser laid out into the DOM as JSON: the truth tables' rows and cells,
each claim's class, text, background colour and box, the plot's decoded size, the document's scroll width.
No golden image: fonts differ between machines; the screenshot is checked for what holds on any of them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import html
import json
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from ansible_collections.ovnk.udn_lab.plugins.module_utils import classroom, iperf3, pages, report

CHROMIUM = os.environ.get("UDN_LAB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
WIDTH, HEIGHT = 1280, 2000
IPERF3 = pathlib.Path(__file__).resolve().parents[1] / "unit" / "plugins" / "module_utils" / "fixtures" / "iperf3"
WINDOW = (1795757300.485, 1795757302.509)  # the blackhole fixture's outage (test_iperf3.py)
OK_RGB, WRONG_RGB = (0xbf, 0xe8, 0xbf), (0xf4, 0xb8, 0xb8)  # .claim.ok, .claim.wrong in pages.CSS
PASSWORD = "Classroom-Pw-7"

HARNESS = """<script>
window.addEventListener("load", function () {
  function box(el) {
    var r = el.getBoundingClientRect();
    return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height];
  }
  // how much of the plot's last pixel row is opaque once decoded: a matplotlib PNG is opaque all over, a PNG
  // whose data stops early is drawn only down to where its data stops
  function opaqueBottom(img) {
    if (!img.naturalWidth) { return 0; }
    var canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    var ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0);
    var row = ctx.getImageData(0, img.naturalHeight - 1, img.naturalWidth, 1).data, opaque = 0;
    for (var i = 3; i < row.length; i += 4) { if (row[i] === 255) { opaque++; } }
    return opaque / img.naturalWidth;
  }
  var img = document.getElementById("migration-plot");
  var out = {
    scrollWidth: document.documentElement.scrollWidth,
    plot: img ? {complete: img.complete, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
                 opaqueBottom: opaqueBottom(img), box: box(img)} : null,
    tables: {}, claims: [], links: []
  };
  Array.prototype.forEach.call(document.querySelectorAll("table"), function (t) {
    var rows = t.tBodies.length ? Array.prototype.slice.call(t.tBodies[0].rows) : [];
    out.tables[t.id] = {rows: rows.length, cells: rows.map(function (row) { return row.cells.length; }),
                        headers: t.tHead ? t.tHead.rows[0].cells.length : 0, box: box(t),
                        // shown whole, without scrolling its box sideways
                        fits: t.parentNode.scrollWidth <= t.parentNode.clientWidth};
  });
  Array.prototype.forEach.call(document.querySelectorAll(".claim[data-claim]"), function (c) {
    out.claims.push({id: c.getAttribute("data-claim"), cls: c.className, text: c.innerText,
                     bg: getComputedStyle(c).backgroundColor, box: box(c),
                     table: c.closest("table") ? c.closest("table").id : null});
  });
  Array.prototype.forEach.call(document.querySelectorAll("a"), function (a) {
    out.links.push({text: a.innerText, href: a.getAttribute("href"), resolved: a.href});
  });
  var pre = document.createElement("pre");
  pre.id = "harness-result";
  pre.hidden = true;
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


@pytest.fixture(scope="module")
def chromium():
    """Debian's chromium; missing, the test fails (a skipped browser test must not pass as a run one)."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail("chromium is missing ({0}): apt-get install chromium fonts-liberation (.ci/run installs them), "
                    "or point UDN_LAB_CHROMIUM at a Chromium".format(CHROMIUM))
    return CHROMIUM


def run_chromium(binary, profile, url, *args):
    cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
           "--no-first-run", "--user-data-dir=" + str(profile), "--window-size={0},{1}".format(WIDTH, HEIGHT),
           "--run-all-compositor-stages-before-draw", "--virtual-time-budget=5000"] + list(args) + [url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, "chromium failed ({0}): {1}".format(proc.returncode, proc.stderr[-2000:])
    return proc


def dump_dom(binary, tmp_path, path):
    return run_chromium(binary, tmp_path / "profile-dom", path.as_uri(), "--dump-dom").stdout


def rendered(binary, tmp_path, page_text, name):
    """What the browser laid out for ``page_text`` (the harness's JSON) and the harness page's path."""
    assert "</body>" in page_text
    path = tmp_path / name
    path.write_text(page_text.replace("</body>", HARNESS + "\n</body>"))
    dom = dump_dom(binary, tmp_path, path)
    found = re.search(r'<pre id="harness-result" hidden="">(.*?)</pre>', dom, re.S)
    assert found, "the harness wrote nothing: the page did not load or the script did not run:\n" + dom[-1500:]
    return json.loads(html.unescape(found.group(1))), path


# --------------------------------------------------------------------------- realistic report data


def pod_results():
    """A dual-stack pod workshop: blue and red pods on their own UDNs, green on the default network, every source
    probing every target per family; red -> blue on 8080 wrongly reachable over IPv6."""
    pods = ["blue/app-blue-0", "blue/app-blue-1", "red/app-red-0", "green/app-green-0"]
    results = []
    for fam in ("ipv4", "ipv6"):
        for src in pods:
            for dst in pods:
                if src == dst:
                    continue
                same = src.split("/", maxsplit=1)[0] == dst.split("/", maxsplit=1)[0]
                expected = "." if same else "X"
                observed = expected
                if (src, dst, fam) == ("red/app-red-0", "blue/app-blue-0", "ipv6"):
                    observed = "."
                results.append({
                    "id": "{0}-to-{1}/{2}".format(src.split("/")[1], dst.split("/")[1], fam), "claim": (
                        "pods on one UDN reach each other" if same else "a UDN is isolated from other networks"),
                    "phase": "udn", "from": src, "to": dst + ":8080", "protocol": "http", "port": 8080, "family": fam,
                    "expect": "reachable" if same else "blocked", "expected": expected, "observed": observed,
                    "status": "correct" if observed == expected else "wrong",
                    "detail": "200 from {0}".format(dst) if observed == "." else "TIMEOUT", "attempts": 1,
                    "reproduce": "kubectl exec -n {0} {1} -- curl -m 3 http://{2}:8080/hostname".format(
                        src.split("/", maxsplit=1)[0], src.split("/")[1], dst)})
    return {"results": results}


def vm_observations():
    out = []
    addresses = {"p1-red-namespace/red": ("192.168.0.3", "fd00:192:168::3"),
                 "p1-blue-namespace/blue": ("192.168.0.4", "fd00:192:168::4")}
    for vm, (v4, v6) in sorted(addresses.items()):
        for fam, gateway in (("ipv4", "192.168.0.1"), ("ipv6", "fe80::858:c0ff:fea8:1")):
            out.append({"vm": vm, "network": "p1-happy-tenant", "check": "default-route", "family": fam,
                        "target": "gateway", "rc": 0, "stdout": json.dumps([{"dst": "default", "gateway": gateway,
                                                                             "dev": "eth0"}])})
        peer = [p for p in addresses if p != vm][0]
        out.append({"vm": vm, "network": "p1-happy-tenant", "check": "east-west", "family": "ipv4", "target": peer,
                    "rc": 0})
        out.append({"vm": vm, "network": "p1-happy-tenant", "check": "egress", "family": "ipv4",
                    "target": "8.8.8.8", "rc": 1, "stderr": "100% packet loss"})
    return out


def migrations():
    parsed = iperf3.parse((IPERF3 / "blackhole_2s.json").read_text())
    analysis = iperf3.analyse(parsed, iperf3.align_window(parsed, *WINDOW), max_outage_seconds=3.0)
    return [{"index": index, "vm": "p1-blue-namespace/blue", "family": fam, "source_node": "worker",
             "target_node": "worker2", "ips_unchanged": True,
             "migration": {"ok": True, "duration_seconds": 2.0, "errors": []}, "analysis": analysis}
            for index in (1, 2) for fam in ("ipv4", "ipv6")]


def participant_report(name):
    access = {"user": "fedora", "vms": [{
        "name": vm, "namespace": "{0}-{1}-namespace".format(name, vm), "ips": ["192.168.0.3", "fd00:192:168::3"],
        "node": "worker", "console_command": "virtctl console -n {0}-{1}-namespace {1}".format(name, vm),
        "ssh_command": ("ssh -i ~/.ovnk-udn-lab/classroom/{0}/id_ed25519 -o 'ProxyCommand=kubectl exec -i -n "
                        "{0}-{1}-namespace deploy/udn-lab-bastion -- nc %h %p' -o StrictHostKeyChecking=no "
                        "-o UserKnownHostsFile=/dev/null fedora@192.168.0.3").format(name, vm)}
        for vm in ("red", "blue")]}
    return report.build_report(
        versions={"kubevirt": "v1.8.4", "ovn_kubernetes": "v1.3.0"}, cluster={"name": "classroom"},
        networks=[{"name": name + "-happy-tenant", "cidrs": ["192.168.0.0/16", "fd00:192:168::/64"],
                   "namespaces": [name + "-red-namespace", name + "-blue-namespace"]}],
        pod_results=pod_results(), vm_observations=vm_observations(), migrations=migrations(), access=access,
        ip_family="dual", generated="2026-12-07T10:00:00Z")


STEPS = [{"title": "Your networks", "text": "{participant}'s cluster network",
          "commands": ["kubectl get clusteruserdefinednetwork {net:happy-tenant} -o yaml"]},
         {"title": "Your pods", "commands": ["kubectl get pods -n {ns:blue} -o wide", "kubectl get pods -n {ns:red}"]}]


@pytest.fixture(scope="module")
def plot_png(tmp_path_factory):
    path = tmp_path_factory.mktemp("plot") / "migration.png"
    size = report.plot_migrations(migrations(), str(path))
    return path, size


def participant_page(name, plot):
    return pages.report_page(participant_report(name), "{0}'s UDN lab".format(name),
                             kubeconfig_path="~/.ovnk-udn-lab/classroom/{0}/kubeconfig".format(name),
                             steps=pages.fill_steps(STEPS, name), plot_png=plot, secrets=[PASSWORD])


# --------------------------------------------------------------------------- the participant's page


def test_participant_page_as_rendered(chromium, tmp_path, plot_png):
    plot, (width, height) = plot_png
    built = participant_report("p1")
    seen, dummy = rendered(chromium, tmp_path, participant_page("p1", str(plot)), "p1.html")

    # one truth table per family: 4 sources, 4 targets (each source skips itself), a header cell per row
    for fam in ("ipv4", "ipv6"):
        table = seen["tables"]["truth-" + fam]
        assert table["rows"] == 4 and table["cells"] == [5, 5, 5, 5] and table["headers"] == 5, table
        assert table["fits"], "the %s truth table needs scrolling sideways in a %d px window" % (fam, WIDTH)
    claims = dict((c["id"], c) for c in seen["claims"])
    pods = built["pods"]["results"]
    assert len([c for c in seen["claims"] if c["table"].startswith("truth-")]) == len(pods) == 24
    for res in pods:
        claim = claims[res["id"]]
        assert claim["table"] == "truth-" + res["family"]
        if res["status"] == "correct":
            assert claim["cls"] == "claim ok" and claim["text"].startswith("\u2713"), claim
            assert claim["bg"] == "rgb({0}, {1}, {2})".format(*OK_RGB)
        else:
            assert claim["cls"] == "claim wrong" and claim["text"].startswith("\u2717"), claim
            assert claim["bg"] == "rgb({0}, {1}, {2})".format(*WRONG_RGB)
        assert claim["box"][2] > 0 and claim["box"][3] > 0, "claim %s not laid out" % res["id"]
    assert [c["id"] for c in seen["claims"] if c["cls"] == "claim wrong" and c["table"].startswith("truth")] == [
        "app-red-0-to-app-blue-0/ipv6"]
    # VM checks: two VMs per family, the failed egress marked
    assert seen["tables"]["vm-checks-ipv4"]["rows"] == 2 and seen["tables"]["vm-checks-ipv6"]["rows"] == 2
    egress = [c for c in seen["claims"] if c["table"] == "vm-checks-ipv4" and c["cls"] == "claim wrong"]
    assert len(egress) == 2
    # the plot decoded at its own size and shown within the page
    assert seen["plot"]["complete"] is True
    assert (seen["plot"]["naturalWidth"], seen["plot"]["naturalHeight"]) == (width, height)
    assert seen["plot"]["opaqueBottom"] == 1
    assert 0 < seen["plot"]["box"][2] <= WIDTH
    assert seen["tables"]["migrations"]["rows"] == 4
    # nothing wider than the window (long SSH commands wrap)
    assert seen["scrollWidth"] <= WIDTH, seen["scrollWidth"]


def test_a_broken_plot_is_seen_as_broken(chromium, tmp_path, plot_png):
    """The plot check can fail: a PNG cut short (its signature and size intact) is drawn only in part, and one
    whose data after the signature is garbage not at all."""
    plot, (width, dummy) = plot_png
    data = plot.read_bytes()
    seen, dummy = rendered(chromium, tmp_path, participant_page("p1", data[:len(data) // 2]), "short.html")
    assert seen["plot"]["naturalWidth"] == width and seen["plot"]["opaqueBottom"] < 1
    seen, dummy = rendered(chromium, tmp_path, participant_page("p1", data[:8] + b"garbage" * 50), "garbage.html")
    assert seen["plot"]["naturalWidth"] == 0 and seen["plot"]["opaqueBottom"] == 0


def test_screenshot_layout(chromium, tmp_path, plot_png):
    """Measured on a screenshot, not compared with one: the page is not blank, the truth table's area shows the
    pass and fail colours where the browser put those claims, and nothing is wider than the window."""
    image_module = pytest.importorskip("PIL.Image")
    plot, dummy = plot_png
    seen, page = rendered(chromium, tmp_path, participant_page("p1", str(plot)), "p1.html")
    shot = tmp_path / "shot.png"
    run_chromium(chromium, tmp_path / "profile-shot", page.as_uri(), "--screenshot=" + str(shot))
    image = image_module.open(str(shot)).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    pixels = image.load()

    sample = [pixels[x, y] for x in range(0, WIDTH, 4) for y in range(0, HEIGHT, 4)]
    non_white = sum(1 for p in sample if min(p) < 235)
    assert non_white > len(sample) * 0.02, "the page looks blank: %d of %d sampled pixels not white" % (
        non_white, len(sample))
    assert len(set(sample)) > 50

    def near(pixel, rgb, tolerance=8):
        return all(abs(a - b) <= tolerance for a, b in zip(pixel, rgb))

    def share(box, rgb):
        left, top, width, height = [int(round(v)) for v in box]
        inside = [pixels[x, y] for x in range(left + 1, min(left + width - 1, WIDTH))
                  for y in range(top + 1, min(top + height - 1, HEIGHT))]
        assert inside, "box %s is outside the screenshot" % (box,)
        return sum(1 for p in inside if near(p, rgb)) / float(len(inside))

    table = seen["tables"]["truth-ipv4"]["box"]
    assert table[1] + table[3] <= HEIGHT, "the IPv4 truth table is below the first %d pixels" % HEIGHT
    assert share(table, OK_RGB) > 0.05
    for claim in seen["claims"]:
        if claim["table"] not in ("truth-ipv4", "truth-ipv6") or claim["box"][1] + claim["box"][3] > HEIGHT:
            continue
        expected = OK_RGB if claim["cls"] == "claim ok" else WRONG_RGB
        other = WRONG_RGB if expected == OK_RGB else OK_RGB
        # the claim's background is most of its box (its text the rest), never the other verdict's colour
        assert share(claim["box"], expected) > 0.5, claim
        assert share(claim["box"], other) == 0, claim
    wrong = [c for c in seen["claims"] if c["id"] == "app-red-0-to-app-blue-0/ipv6"][0]
    assert wrong["box"][1] + wrong["box"][3] <= HEIGHT, "the wrong claim is not in the screenshot"
    assert seen["scrollWidth"] <= WIDTH


# --------------------------------------------------------------------------- the organizer's page


def test_organizer_page_links_reach_each_participants_page(chromium, tmp_path, plot_png):
    plot, dummy = plot_png
    names = ["p1", "p2", "p3"]
    root = tmp_path / "classroom"
    others = dict((n, {"namespaces": [classroom.prefixed(n, "blue-namespace")]}) for n in names)
    rows = []
    for name in names[:2]:
        directory = root / "labs" / name / "report"
        directory.mkdir(parents=True)
        (directory / "report.html").write_text(participant_page(name, str(plot)))
        checks = classroom.fence_checks(name, others)
        fences = classroom.judge_fences(checks, dict((c["id"], c["expect"]) for c in checks))
        rows.append(pages.organizer_row(name, participant_report(name), fences,
                                        pages.relative_href(str(root / "index"), str(directory / "report.html"))))
    rows.append(pages.organizer_row("p3"))
    (root / "index").mkdir()
    seen, dummy = rendered(chromium, root / "index", pages.organizer_page(rows, "Room 2"), "index.html")

    table = seen["tables"]["participants"]
    assert table["rows"] == 3 and table["cells"] == [6, 6, 6]
    assert [link["href"] for link in seen["links"]] == [
        "../labs/p1/report/report.html", "../labs/p2/report/report.html"]
    for name, link in zip(names, seen["links"]):
        assert link["resolved"].startswith("file://")
        target = pathlib.Path(link["resolved"][len("file://"):])
        assert target.is_file(), "%s links to %s, which does not exist" % (name, target)
        dom = dump_dom(chromium, tmp_path, target)
        assert 'data-title="{0}\'s UDN lab"'.format(name) in dom or \
            "data-title=\"{0}&#x27;s UDN lab\"".format(name) in dom, "the link of %s opens another page" % name
        assert PASSWORD not in dom
    assert seen["scrollWidth"] <= WIDTH
