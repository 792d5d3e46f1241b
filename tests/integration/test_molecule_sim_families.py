"""The `sim` molecule scenario for an IPv6-only and a dual-stack lab, end to end: create → converge (site.yml) →
verify (verify.yml again, then the report against what the simulation did: every claim correct, every family of
the lab with its claims, VM checks and an iperf3 stream across the live migration with its outage) → destroy.

The IPv4 lab (test_molecule_sim.py) also runs the repair, fault and interruption runs; these two prove that every
claim and the migration hold in the other families, on the same two-worker cluster shape.
"""

from __future__ import annotations

import json
import re

import pytest
import sim_lab
from sim_lab import flat

pytestmark = [pytest.mark.scenario, pytest.mark.sim, pytest.mark.machine]

FAMILIES = {"ipv6": ["ipv6"], "dual": ["ipv4", "ipv6"]}


# one lab per family, each its own xdist group: under make test two workers may run them at once (tests/conftest.py)
@pytest.fixture(scope="module", params=[pytest.param(f, id=f, marks=pytest.mark.xdist_group("sim-family-" + f))
                                        for f in sorted(FAMILIES)])
def family_lab(request, repo_root, upstream_dir, tmp_path_factory):
    problem = sim_lab.problem()
    if problem:
        pytest.skip(problem)
    lab = sim_lab.Lab(repo_root, upstream_dir, tmp_path_factory.mktemp("molecule-sim-" + request.param),
                      family=request.param)
    lab.molecule("destroy")
    rc, out = lab.molecule("create")
    assert rc == 0, "molecule create -s sim (%s) failed:\n%s" % (request.param, out[-6000:])
    try:
        yield lab
    finally:
        rc, out = lab.molecule("destroy")
        assert rc == 0, "molecule destroy -s sim (%s) failed:\n%s" % (request.param, out[-4000:])


def test_site_yml_converges_with_every_claim_of_the_family(family_lab):
    rc, out = family_lab.molecule("converge")
    assert rc == 0, "site.yml on the simulated %s cluster failed:\n%s" % (family_lab.family, out[-12000:])
    text = flat(out)
    rounds = re.findall(r"connectivity: (\d+) probes, (\d+) correct, (\d+) wrong, (\d+) unknown"
                        r"(?:, (\d+) not applicable)?", text)
    assert rounds, out[-6000:]
    for probes, correct, wrong, unknown, skipped in rounds:
        assert int(probes) == int(correct) + int(skipped or 0) and wrong == unknown == "0", (rounds, out[-6000:])
    # a claim that cannot apply is only the API in the family its Service lacks (dual: default/kubernetes is
    # single-stack IPv4), reported with that reason
    not_applicable = re.findall(r"\[N/A\] ([\w/-]+): (.*?) expected", text)
    claims = [match[0] for match in not_applicable]
    assert all(c.split("/")[0].endswith("-to-kapi") or "-to-kapi-" in c for c in claims), not_applicable
    if family_lab.family == "ipv6":
        assert not not_applicable, not_applicable
    # every probe ran in a family of the lab, and each family of the lab was probed
    probed = set(re.findall(r"\[ok\] [\w/-]+: .*? (ipv[46]): expected", text))
    assert probed == set(FAMILIES[family_lab.family]), probed


def test_verify_proves_every_family_and_measures_each_migration_stream(family_lab):
    rc, out = family_lab.molecule("verify")
    assert rc == 0, "verify (%s) failed:\n%s" % (family_lab.family, out[-8000:])
    # verify.yml's own per-family assertion ran and passed (its message is YAML-quoted in molecule's output)
    assert "report ok" in out and "Every address family of the lab has its claims" in out, out[-4000:]
    report = json.loads((family_lab.ephemeral / "lab" / "report" / "report.json").read_text())
    assert report["ip_family"] == family_lab.family and report["families"] == FAMILIES[family_lab.family]
    rows = report["migrations"]["rows"]
    assert sorted(r["family"] for r in rows) == FAMILIES[family_lab.family]
    # one line per family for the log of the run (claims proven, outage measured)
    for family in FAMILIES[family_lab.family]:
        proven = [r for r in report["pods"]["results"] if r["family"] == family and r["status"] == "correct"]
        vm_ok = [r for r in report["vm_checks"]["results"] if r["family"] == family and r["ok"]]
        outages = [r["outage_seconds"] for r in rows if r["family"] == family]
        print("%s lab, %s: %d pod claims proven, %d VM checks, migration outage %s s" % (
            family_lab.family, family, len(proven), len(vm_ok), outages))
        assert proven and vm_ok and all(r["survived"] for r in rows if r["family"] == family)


CLASSROOM = ["ada", "bob", "cy"]
PARTICIPANT_LABEL = "udn-lab.ovnk.io/participant"


def _names(lab, *args):
    res = lab.kubectl("get", *args, "-o", "json")
    assert res.returncode == 0, res.stderr
    return sorted(o["metadata"]["name"] for o in json.loads(res.stdout)["items"])


def _state_entries(lab):
    res = lab.kubectl("get", "configmap", "-n", "kube-system", "ovnk-udn-lab-state-ovn-k-helm", "-o", "json")
    assert res.returncode == 0, res.stderr
    return sorted(json.loads(res.stdout).get("data") or {})


# The classroom runs on the dual-stack lab only (both families at once; the IPv6-only lab proves the single-user
# claims): the same lab instance as its two tests above, so the same xdist group.
@pytest.mark.xdist_group("sim-family-dual")
@pytest.mark.parametrize("family_lab", ["dual"], indirect=True)
def test_a_classroom_proves_each_participants_claims_and_tears_one_participant_down(family_lab):
    """Three participants on the lab's cluster, beside its own workshops: each gets the pod and the VM workshop under
    their prefix (namespaces, cluster UDNs selecting only their namespaces, every object labelled as theirs), with
    every claim of the family proven, their VMs checked inside and live-migrated under iperf3; the fences between
    them hold on the data plane and, with each participant's own kubeconfig, on the API server; each has a handout
    and the organizer a page; a second run changes nothing; a teardown of one participant removes exactly that
    participant's objects, access and state, and the others still prove their claims."""
    participants = json.dumps({"udn_lab_participants": CLASSROOM})
    rc, out = family_lab.playbook("playbooks/pod_workshop.yml", "-e", participants)
    assert rc == 0, out[-8000:]
    rounds = re.findall(r"connectivity: (\d+) probes, (\d+) correct, (\d+) wrong, (\d+) unknown"
                        r"(?:, (\d+) not applicable)?", flat(out))
    # each participant's claims, in the two rounds around the NetworkPolicy, then the fences between them
    assert len(rounds) == 2 * len(CLASSROOM) + 1, rounds
    for probes, correct, wrong, unknown, skipped in rounds:
        assert int(probes) == int(correct) + int(skipped or 0) and wrong == unknown == "0", (rounds, out[-6000:])
    lab_dir = family_lab.ephemeral / "lab"
    fences = json.loads((lab_dir / "report" / "classroom" / "data" / "pods-fences.json").read_text())
    # every ordered pair, two Services and one default-network probe each, in every family of the lab
    assert len(fences["results"]) == 6 * 3 * len(FAMILIES[family_lab.family]), fences
    assert {r["status"] for r in fences["results"]} == {"correct"} and {r["expect"] for r in fences["results"]} == {"blocked"}
    assert "All %d fences between participants hold" % len(fences["results"]) in out
    for p in CLASSROOM:
        cudn = json.loads(family_lab.kubectl("get", "clusteruserdefinednetwork", p + "-colored-enterprise",
                                             "-o", "json").stdout)
        assert cudn["metadata"]["labels"][PARTICIPANT_LABEL] == p
        assert cudn["spec"]["namespaceSelector"]["matchExpressions"][0]["values"] == [p + "-red", p + "-yellow"], cudn
        pods = json.loads(family_lab.kubectl("get", "pods", "-n", p + "-blue", "-o", "json").stdout)["items"]
        assert pods and all(o["metadata"]["labels"].get(PARTICIPANT_LABEL) == p for o in pods), pods

    rc, out = family_lab.playbook("playbooks/vm_workshop.yml", "-e", participants)
    assert rc == 0, out[-8000:]
    for p in CLASSROOM:
        theirs = _names(family_lab, "namespaces", "-l", "%s=%s" % (PARTICIPANT_LABEL, p))
        assert theirs == sorted("%s-%s" % (p, n) for n in (
            "blue", "green", "red", "yellow", "overlapping-with-blue", "default", "blue-namespace", "red-namespace")), theirs
        vms = json.loads(family_lab.kubectl("get", "vm", "-A", "-l", "%s=%s" % (PARTICIPANT_LABEL, p), "-o",
                                            "json").stdout)["items"]
        assert sorted((v["metadata"]["namespace"], v["metadata"]["name"]) for v in vms) == [
            (p + "-blue-namespace", "blue"), (p + "-red-namespace", "red")], vms
        checks = json.loads((lab_dir / "report" / "participants" / p / "data" / "vm-checks.json").read_text())
        assert checks["observations"], checks
        assert (lab_dir / "participants" / p / "ssh" / "id_ed25519").exists()
    assert {"pod-workshop-" + p for p in CLASSROOM} | {"vm-workshop-" + p for p in CLASSROOM} <= set(_state_entries(family_lab))

    rc, out = family_lab.playbook("playbooks/classroom.yml", "-e", participants)
    assert rc == 0, out[-8000:]
    # each participant's kubeconfig (0600), fenced: their own namespaces and VMs yes, another's no, as the API
    # server says, by review and by the real request
    for p in CLASSROOM:
        assert oct((lab_dir / "participants" / p / "kubeconfig").stat().st_mode & 0o777) == "0o600"
    api_fences = json.loads((lab_dir / "report" / "classroom" / "data" / "api-fences.json").read_text())
    assert api_fences["results"] and {f["status"] for f in api_fences["results"]} == {"correct"}, api_fences
    assert {f["id"].split(":")[0] for f in api_fences["results"]} == set(CLASSROOM)
    assert [f for f in api_fences["results"] if f["id"] == "ada:not-bob-vm-blue"], api_fences
    ada = str(lab_dir / "participants" / "ada" / "kubeconfig")
    own = family_lab.kubectl("--kubeconfig", ada, "get", "pods", "-n", "ada-blue", "-o", "name")
    assert own.returncode == 0 and "pod/app-blue-0" in own.stdout, own.stderr
    own_vm = family_lab.kubectl("--kubeconfig", ada, "get", "vm", "-n", "ada-blue-namespace", "-o", "name")
    assert own_vm.returncode == 0 and "blue" in own_vm.stdout, own_vm.stderr
    for args in (("get", "pods", "-n", "bob-blue"), ("get", "vm", "-n", "bob-blue-namespace"), ("get", "namespaces")):
        theirs = family_lab.kubectl("--kubeconfig", ada, *args, "-o", "name")
        assert theirs.returncode != 0 and "forbidden" in theirs.stderr.lower(), (args, theirs.stdout, theirs.stderr)
    # the lab's own workshops are untouched by the classroom beside them
    assert {"blue", "blue-namespace"} <= set(_names(family_lab, "namespaces"))

    # a second run changes nothing
    for playbook in ("playbooks/pod_workshop.yml", "playbooks/vm_workshop.yml", "playbooks/classroom.yml"):
        rc, out = family_lab.playbook(playbook, "-e", participants)
        assert rc == 0, out[-6000:]
        recap = re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+) ", out, re.M)
        # the lab host, and each participant's own host for the workshops (all three at once)
        hosts = {"localhost"} | ({"%s@localhost" % p for p in CLASSROOM} if "workshop" in playbook else set())
        assert {h for h, dummy in recap} == hosts and {c for dummy, c in recap} == {"0"}, (playbook, out[-3000:])

    # each participant's VM live-migrates under iperf3 and keeps its streams
    rc, out = family_lab.playbook("playbooks/migrate.yml", "-e", participants)
    assert rc == 0, out[-8000:]
    for p in CLASSROOM:
        records = json.loads((lab_dir / "report" / "participants" / p / "data" / "migrations.json").read_text())["records"]
        assert records and all(r["migration_ok"] for r in records), records
        assert all(r["vm"] == p + "-blue-namespace/blue" for r in records), records

    # each participant's handout and the organizer's page, one row per participant with their fences
    rc, out = family_lab.playbook("playbooks/report.yml", "-e", participants)
    assert rc == 0, out[-6000:]
    report_dir = lab_dir / "report"
    for p in CLASSROOM:
        report = json.loads((report_dir / "participants" / p / "report.json").read_text())
        assert report["pods"]["results"] and all(r["status"] in ("correct", "not applicable")
                                                 for r in report["pods"]["results"]), report["pods"]
        assert report["vm_checks"]["results"] and all(r["ok"] for r in report["vm_checks"]["results"])
        page = (report_dir / "participants" / p / "report.html").read_text()
        assert "UDN lab: " + p in page and ("%s-blue" % p) in page
        assert str(lab_dir / "participants" / p / "kubeconfig") in page
    index = (report_dir / "classroom" / "index.html").read_text()
    for p in CLASSROOM:
        assert 'href="../participants/%s/report.html"' % p in index, index

    rc, out = family_lab.playbook("playbooks/teardown.yml", "-e", "udn_lab_teardown_participant=bob")
    assert rc == 0, out[-6000:]
    assert _names(family_lab, "namespaces", "-l", PARTICIPANT_LABEL + "=bob") == []
    assert "bob-colored-enterprise" not in _names(family_lab, "clusteruserdefinednetworks")
    assert "bob-happy-tenant" not in _names(family_lab, "clusteruserdefinednetworks")
    assert not (lab_dir / "participants" / "bob" / "kubeconfig").exists()
    assert not (lab_dir / "participants" / "bob" / "ssh").exists()
    assert _names(family_lab, "clusterroles", "-l", PARTICIPANT_LABEL + "=bob") == []
    assert _names(family_lab, "clusterroles", "-l", PARTICIPANT_LABEL + "=ada") != []
    assert "udn-lab-participant" in _names(family_lab, "clusterroles")  # shared by the others
    entries = set(_state_entries(family_lab))
    assert not {"pod-workshop-bob", "vm-workshop-bob"} & entries
    assert {"pod-workshop-ada", "vm-workshop-cy", "pod-workshop", "vm-workshop"} <= entries
    for p in ("ada", "cy"):
        assert len(_names(family_lab, "namespaces", "-l", "%s=%s" % (PARTICIPANT_LABEL, p))) == 8
    assert {"blue", "blue-namespace"} <= set(_names(family_lab, "namespaces"))
    still = family_lab.kubectl("--kubeconfig", str(lab_dir / "participants" / "cy" / "kubeconfig"),
                               "get", "pods", "-n", "cy-blue", "-o", "name")
    assert still.returncode == 0 and "pod/app-blue-0" in still.stdout, still.stderr

    # the others still prove their claims and fences, and so does the lab's own workshop
    two = json.dumps({"udn_lab_participants": ["ada", "cy"]})
    rc, out = family_lab.playbook("playbooks/pod_workshop.yml", "-e", two, "-e", "pod_workshop_operation=verify")
    assert rc == 0, out[-6000:]
    rounds = re.findall(r"connectivity: (\d+) probes, (\d+) correct, (\d+) wrong, (\d+) unknown", flat(out))
    # verify proves once per participant (the claims of the NetworkPolicy in place), then the fences between them
    assert len(rounds) == 3 and all(int(r[0]) > 0 and r[2] == r[3] == "0" for r in rounds), rounds
    fences = json.loads((report_dir / "classroom" / "data" / "pods-fences.json").read_text())
    assert fences["participants"] == ["ada", "cy"] and len(fences["results"]) == 2 * 3 * len(FAMILIES[family_lab.family])
    rc, out = family_lab.playbook("playbooks/classroom.yml", "-e", two)
    assert rc == 0, out[-6000:]
    rc, out = family_lab.playbook("playbooks/pod_workshop.yml", "-e", "pod_workshop_operation=verify")
    assert rc == 0, out[-6000:]
