"""Assessment (status with history), gap scoring and the phased plan."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import yaml

from conftest import write
from soc2kit.assess.gap import compute_gap
from soc2kit.assess.plan import add_workdays, next_workday
from soc2kit.library import load_catalog
from soc2kit.profile import parse_profile_text
from soc2kit.render.context import build_context
from soc2kit.render.selection import select_controls


def run(cli, ws, *args):
    return cli("-w", ws, *args)


def test_setting_a_status_keeps_history_and_validates(cli, workspace, monkeypatch):
    ws = workspace("llm-startup")
    monkeypatch.setenv("SOC2KIT_ACTOR", "Priya")
    assert run(cli, ws, "assess", "--control", "AC-05", "--status", "planned", "--target-date", "2027-02-01", "--owner", "Priya").code == 0
    assert run(cli, ws, "assess", "--control", "ac-05", "--status", "i").code == 0
    data = yaml.safe_load((ws / "assessment.yaml").read_text())["controls"]["AC-05"]
    assert data["status"] == "implemented" and data["owner"] == "Priya"
    assert [h["status"] for h in data["history"]] == ["planned", "implemented"]
    assert all(h["by"] == "Priya" and h["at"].endswith("Z") for h in data["history"])
    r = run(cli, ws, "assess", "--control", "AC-05", "--status", "not_applicable")
    assert r.code == 2 and "needs a justification" in r.err
    r = run(cli, ws, "assess", "--control", "AC-99", "--status", "planned")
    assert r.code == 2 and "unknown or not applicable control 'AC-99'" in r.err
    r = run(cli, ws, "assess", "--control", "AC-05", "--status", "done")
    assert r.code == 2 and "not one of" in r.err
    assert yaml.safe_load((ws / "assessment.yaml").read_text())["controls"]["AC-05"]["status"] == "implemented"


def test_status_changes_are_logged_in_the_audit_log_when_the_store_exists(cli, workspace, monkeypatch):
    ws = workspace("llm-startup")
    write(ws / "x.txt", "x")
    assert run(cli, ws, "evidence", "add", ws / "x.txt", "--control", "AC-05").code == 0  # creates the store
    assert run(cli, ws, "assess", "--control", "AC-05", "--status", "partial").code == 0
    report = json.loads(run(cli, ws, "audit", "verify", "--format", "json").out)
    assert report["ok"] and report["entries"] == 2


def test_csv_round_trip_is_identical(cli, workspace, tmp_path):
    ws = workspace("healthtech")
    assert run(cli, ws, "assess", "--control", "AC-05", "--status", "partial", "--notes", "=cmd|' /C calc'!A0 stays text").code == 0
    first = tmp_path / "a.csv"
    assert run(cli, ws, "assess", "--export", first).code == 0
    rows = list(csv.DictReader(io.StringIO(first.read_text())))
    assert list(rows[0]) == ["control_id", "status", "owner", "target_date", "justification", "notes"]
    by_id = {r["control_id"]: r for r in rows}
    assert by_id["AC-05"]["notes"].startswith("'=")  # formula neutralised in the file
    assert run(cli, ws, "assess", "--import", first).code == 0
    second = tmp_path / "b.csv"
    assert run(cli, ws, "assess", "--export", second).code == 0
    assert first.read_text() == second.read_text()
    notes = yaml.safe_load((ws / "assessment.yaml").read_text())["controls"]["AC-05"]["notes"]
    assert notes.startswith("=cmd")  # and read back as the text it was


def test_import_reports_every_problem_with_its_line_and_changes_nothing(cli, workspace, tmp_path):
    ws = workspace("llm-startup")
    assert run(cli, ws, "assess", "--control", "AC-05", "--status", "partial").code == 0
    before = (ws / "assessment.yaml").read_text()
    bad = write(tmp_path / "bad.csv", "control_id,status,owner,target_date,justification,notes\n"
                                      "AC-01,implemented,Priya,,,\n"
                                      "ZZ-01,implemented,,,,\n"
                                      "AC-02,not_applicable,,,,\n"
                                      "AC-03,finished,,,,\n"
                                      "AC-04,planned,,2027-13-40,,\n")
    r = run(cli, ws, "assess", "--import", bad)
    assert r.code == 2
    for line, text in ((3, "ZZ-01"), (4, "justification"), (5, "'finished'"), (6, "2027-13-40")):
        assert f"bad.csv:{line}" in r.err and text in r.err, r.err
    assert (ws / "assessment.yaml").read_text() == before
    wrong = write(tmp_path / "wrong.csv", "id,state\nAC-01,implemented\n")
    r = run(cli, ws, "assess", "--import", wrong)
    assert r.code == 2 and "wrong.csv:1" in r.err and "missing columns control_id" in r.err


def test_interactive_assessment_resumes_after_an_interrupt(cli, workspace, monkeypatch):
    ws = workspace("llm-startup")

    class Tty(io.StringIO):
        def isatty(self):
            return True

    answers = iter(["i", "", "p", "", "2027-03-01"])

    def fake_input(prompt=""):
        try:
            return next(answers)
        except StopIteration:
            raise KeyboardInterrupt from None

    monkeypatch.setattr("sys.stdin", Tty())
    monkeypatch.setattr("builtins.input", fake_input)
    r = run(cli, ws, "assess")
    assert r.code == 130  # interrupted
    saved = yaml.safe_load((ws / "assessment.yaml").read_text())["controls"]
    assert len(saved) == 2  # both answers already given were kept
    first, second = sorted(saved.values(), key=lambda v: v["history"][0]["at"])
    assert {v["status"] for v in saved.values()} == {"implemented", "partial"}
    answers = iter(["q"])
    r = run(cli, ws, "assess")
    assert "2 already assessed" in r.out


PROFILE = """\
company: {name: Score Co, employees: 5}
ai: {uses_third_party_models: true, use_cases: [llm_application]}
data: {types: [pii]}
scope: {tsc: [security, confidentiality]}
"""


def _fixture(statuses: dict[str, str]):
    from soc2kit.assess.assessment import Assessment

    catalog = load_catalog()
    profile = parse_profile_text(PROFILE)
    views = select_controls(catalog, profile, build_context(profile))
    a = Assessment(None, {})
    for cid, st in statuses.items():
        a.set(cid, {"status": st, "justification": "no such system" if st == "not_applicable" else ""}, by="t")
    return catalog, views, a


def test_scoring_by_hand():
    catalog, views, a = _fixture({})
    c11 = [c.id for c in catalog.controls_for("C1.1") if any(v.id == c.id and v.applicable for v in views)]
    c12 = [c.id for c in catalog.controls_for("C1.2") if any(v.id == c.id and v.applicable for v in views)]
    assert len(c11) >= 2 and len(c12) >= 1
    statuses = {c11[0]: "implemented", c11[1]: "partial"}
    statuses.update({cid: "not_applicable" for cid in c11[2:]})
    statuses.update({cid: "implemented" for cid in c12})
    catalog, views, a = _fixture(statuses)
    gap = compute_gap(catalog, views, a, company="Score Co", tsc=["security", "confidentiality"])
    c11_score = gap["criteria"]["C1.1"]
    assert c11_score["readiness"] == 0.75 and c11_score["met"] is False  # (1 + 0.5) / 2, N/A excluded
    assert gap["criteria"]["C1.2"]["readiness"] == 1.0 and gap["criteria"]["C1.2"]["met"] is True
    assert gap["categories"]["confidentiality"]["readiness"] == round((0.75 + 1.0) / 2, 4)
    assert gap["categories"]["confidentiality"]["criteria_met"] == 1
    crit_scores = [c["readiness"] for c in gap["criteria"].values() if c["readiness"] is not None]
    assert gap["overall"]["readiness"] == round(sum(crit_scores) / len(crit_scores), 4)
    assert {"criterion": "C1.1"}.items() <= next(g for g in gap["gaps"] if g["criterion"] == "C1.1").items()
    assert gap["overall"]["controls"]["not_applicable"] == len(c11) - 2
    assert all(g["status"] != "implemented" for g in gap["ai_gaps"]) and gap["ai_gaps"]


def test_implemented_without_current_evidence_scores_half():
    from types import SimpleNamespace

    catalog, views, a = _fixture({"AC-05": "implemented", "AC-01": "implemented"})
    today = dt.date(2027, 6, 1)
    fresh = SimpleNamespace(period_end=dt.date(2027, 5, 1), collected_at=dt.datetime(2027, 5, 2, tzinfo=dt.UTC))
    stale = SimpleNamespace(period_end=None, collected_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    gap = compute_gap(catalog, views, a, company="x", tsc=["security"], evidence={"AC-05": [fresh], "AC-01": [stale]}, today=today)
    rows = {r["id"]: r for c in gap["criteria"].values() for r in c["controls"]}
    assert rows["AC-05"]["status"] == "implemented" and rows["AC-05"]["score"] == 1.0
    assert rows["AC-01"]["status"] == "implemented_no_evidence" and rows["AC-01"]["score"] == 0.5


def test_gap_json_shape(cli, workspace):
    ws = workspace("genai-platform")
    data = json.loads(run(cli, ws, "gap", "--format", "json").out)
    assert 0 <= data["overall"]["readiness"] <= 1
    assert set(data["categories"]) == {"security", "availability", "confidentiality", "processing_integrity", "privacy"}
    cc61 = data["criteria"]["CC6.1"]
    assert {"readiness", "met", "controls"} <= set(cc61) and cc61["met"] is False
    assert data["ai_gaps"]


def test_workdays():
    assert next_workday(dt.date(2027, 1, 2)) == dt.date(2027, 1, 4)  # Saturday -> Monday
    assert add_workdays(dt.date(2027, 1, 1), 1) == dt.date(2027, 1, 1)
    assert add_workdays(dt.date(2027, 1, 1), 3) == dt.date(2027, 1, 5)  # Friday, Monday, Tuesday


def test_plan_phases_order_and_dependencies(cli, workspace):
    ws = workspace("healthtech")
    assert run(cli, ws, "assess", "--control", "AC-05", "--status", "partial").code == 0
    data = json.loads(run(cli, ws, "plan", "--start", "2027-01-04", "--format", "json").out)
    names = [p["name"] for p in data["phases"]]
    assert names == ["Gap analysis and planning", "Policy development and customization", "Implementation and training", "Monitoring and continuous improvement"]
    tasks = {t["id"]: t for p in data["phases"] for t in p["tasks"]}
    assert data["phases"][0]["start"] == "2027-01-04"
    for t in tasks.values():
        assert t["start"] <= t["end"]
        assert dt.date.fromisoformat(t["start"]).weekday() < 5 and dt.date.fromisoformat(t["end"]).weekday() < 5
        for dep in t["depends_on"]:
            assert tasks[dep]["end"] < t["start"], (t["id"], dep)
    training = next(t for t in tasks.values() if t["title"].startswith("Train staff"))
    approvals = [t["id"] for t in tasks.values() if t["policy"]]
    assert set(approvals) <= set(training["depends_on"])  # policies approved before staff training
    controls = [t for t in tasks.values() if t["control"] and t["priority"]]
    assert [t["priority"] for t in controls] == sorted(t["priority"] for t in controls)
    by_owner: dict[str, list] = {}
    for t in tasks.values():
        by_owner.setdefault(t["owner"], []).append(t)
    for owned in by_owner.values():  # one task at a time per owner
        owned.sort(key=lambda t: t["start"])
        for a, b in zip(owned, owned[1:], strict=False):
            assert a["end"] < b["start"]
    assert data["observation_window"] == {"start": "2027-02-01", "end": "2027-10-31"}
    assert data["warnings"]  # this much work cannot finish before the window starts


def test_plan_csv_and_reports_are_written(cli, workspace, tmp_path):
    ws = workspace("llm-startup")
    r = run(cli, ws, "plan", "--start", "2027-01-04", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert rows and {"Summary", "Assignee", "Start date", "Due date", "Priority", "Labels", "Phase"} <= set(rows[0])
    assert run(cli, ws, "plan", "--start", "2027-01-04").code == 0
    assert (ws / "dist" / "reports" / "plan.md").exists() and (ws / "dist" / "reports" / "plan-timeline.svg").exists()
    assert run(cli, ws, "gap", "--format", "html").code == 0
    assert "<script" not in (ws / "dist" / "reports" / "gap.html").read_text()
    assert run(cli, ws, "gap").code == 0 and (ws / "dist" / "reports" / "gap-readiness.svg").exists()
    r = run(cli, ws, "plan", "--start", "2027-02-30")
    assert r.code == 2 and "not a date" in r.err


@pytest.mark.parametrize("bad", ["controls: [1, 2]\n", "controls:\n  AC-05: {status: maybe}\n", "controls:\n  AC-05: {status: planned, target_date: soon}\n"])
def test_a_damaged_assessment_file_is_reported_not_overwritten(cli, workspace, bad):
    ws = workspace("llm-startup")
    (ws / "assessment.yaml").write_text(bad)
    r = run(cli, ws, "assess", "--control", "AC-01", "--status", "planned")
    assert r.code == 2 and "assessment.yaml" in r.err
    assert (ws / "assessment.yaml").read_text() == bad
