"""People and training: roster and training imports as the tools write them, each duty rule, the
CLI and acknowledgements (fixtures in tests/data/people, written from export-formats.md)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soc2kit.errors import UserError
from soc2kit.people.check import chain, people_check
from soc2kit.people.roster import read_roster, read_training, training_status
from soc2kit.profile.schema import Profile

DATA = Path(__file__).parent / "data" / "people"
AS_OF = dt.date(2026, 11, 27)
PROFILE = Profile.model_validate({"company": {"name": "Acme", "employees": 5}})


def run(hr: str, training: list[str], **kw):
    idp = kw.pop("idp", None)
    return people_check(DATA / hr, [DATA / t for t in training], profile=kw.pop("profile", PROFILE), as_of=kw.pop("as_of", AS_OF),
                        idp=DATA / idp if idp else None, **kw)


def exc(result, email=None, duty=None):
    return [(e["email"].split("@")[0], e["duty"], e["rule"], e["due"], e["actual"]) for e in result["exceptions"]
            if (email is None or e["email"].startswith(email)) and (duty is None or e["duty"] == duty)]


# --- reading exports ------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "source", "people"), [("bamboohr_report.csv", "bamboohr", 4), ("people_neutral.csv", "neutral_people", 3)])
def test_roster_sources(name, source, people):
    r = read_roster(DATA / name)
    assert r.source == source and len(r.people) == people and r.has_background


def test_bamboohr_ui_dates_and_rippling(tmp_path):
    alice = read_roster(DATA / "bamboohr_report.csv").people[0]
    assert (alice.start, alice.background_check, alice.end) == (dt.date(2022, 3, 14), dt.date(2022, 3, 1), None)
    (tmp_path / "r.csv").write_text("Employee name,Work email,Title,Manager - Work email,Employment status,Start date,Department\n"
                                    "Erin East,erin@example.com,Engineer,,Terminated,03/01/2022,Eng\n")
    r = read_roster(tmp_path / "r.csv")
    assert r.source == "rippling" and r.people[0].start == dt.date(2022, 3, 1) and not r.has_background


@pytest.mark.parametrize(("name", "source", "completions"), [("knowbe4_enrollments.csv", "knowbe4", 9), ("talentlms_courses.csv", "talentlms", 5)])
def test_training_sources(name, source, completions):
    t = read_training([DATA / name])
    assert t.files[0]["source"] == source and len(t.completions) == completions
    assert t.not_completed == 1


def test_talentlms_unix_timestamps():
    t = read_training([DATA / "talentlms_courses.csv"])
    assert t.completions[0].completed_at == dt.date(2026, 1, 20) and t.completions[0].course == "Security Awareness 2026"


def test_training_status_words():
    assert [training_status(w) for w in ("Passed", "Completed", "complete", "", "In Progress", "not_attempted", "Past Due", "Exemption", "Canceled: left", "failed", "weird")] == \
        ["completed", "completed", "completed", "completed", "in_progress", "not_started", "overdue", "exempt", "not_completed", "not_completed", "unknown"]


def test_xlsx_roster(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["email", "name", "start_date", "end_date", "background_check_date"])
    ws.append(["kim@example.com", "Kim Kay", dt.datetime(2026, 2, 1), None, dt.datetime(2026, 1, 20)])
    wb.save(tmp_path / "hr.xlsx")
    r = read_roster(tmp_path / "hr.xlsx")
    assert r.source == "neutral_people" and r.people[0].start == dt.date(2026, 2, 1) and r.people[0].background_check == dt.date(2026, 1, 20)


@pytest.mark.parametrize(("body", "line", "message"), [
    ("email,name,start_date\na@example.com,A,2026-01-01\na@example.com,A2,2026-02-01\n", 3, "duplicate person a@example.com (also on line 2)"),
    ("email,name,start_date,end_date\na@example.com,A,2026-05-01,2026-01-01\n", 2, "dates out of order"),
    ("email,name,start_date\na@example.com,A,yesterday\n", 2, "cannot read the date 'yesterday'"),
    ("email,name,start_date\n,A,2026-01-01\n", 2, "no e-mail address"),
    ("email,name,status\na@example.com,A,active\n", 1, "unknown HR export, or a column is missing"),
])
def test_bad_roster_exit_2_with_file_line(tmp_path, cli, body, line, message):
    (tmp_path / "hr.csv").write_text(body)
    r = cli("people", "check", "--hr", tmp_path / "hr.csv", cwd=tmp_path)
    assert r.code == 2 and f"hr.csv:{line}" in r.err and message in r.err, r.err


def test_bad_training_csv(tmp_path, cli):
    (tmp_path / "t.csv").write_text("email,course\na@example.com,Security\n")
    r = cli("people", "check", "--hr", DATA / "people_neutral.csv", "--training", tmp_path / "t.csv", cwd=tmp_path)
    assert r.code == 2 and "t.csv:1" in r.err and "columns found: email, course" in r.err


# --- the duty rules ---------------------------------------------------------------------------------

def test_chain_rule():
    d = dt.date
    # first due Feb 1, yearly; on time, then a late renewal, then overdue
    assert chain(d(2024, 2, 1), 366, [d(2024, 1, 20), d(2025, 3, 1)], d(2026, 11, 27)) == [
        {"rule": "late", "due": "2025-01-20", "actual": "2025-03-01", "days_late": 40},
        {"rule": "overdue", "due": "2026-03-02", "actual": None, "days_late": 270}]
    assert chain(d(2026, 12, 1), 366, [], d(2026, 11, 27)) == []  # not due yet
    assert chain(d(2026, 1, 1), 366, [d(2027, 1, 5)], d(2026, 11, 27))[0]["rule"] == "overdue"  # completions after the end do not count


@settings(max_examples=200, deadline=None)
@given(st.dates(dt.date(2020, 1, 1), dt.date(2026, 1, 1)), st.lists(st.dates(dt.date(2019, 1, 1), dt.date(2027, 1, 1)), max_size=8))
def test_chain_properties(first, done):
    until = dt.date(2026, 11, 27)
    found = chain(first, 366, done, until)
    assert sum(1 for f in found if f["rule"] == "overdue") <= 1
    for f in found:
        assert f["due"] <= until.isoformat()
        if f["actual"]:
            assert f["actual"] > f["due"]
    if not [x for x in done if x <= until]:
        assert found == ([{"rule": "overdue", "due": first.isoformat(), "actual": None, "days_late": (until - first).days}] if first < until else [])


def test_background_check_rule():
    r = run("bamboohr_report.csv", [])
    assert exc(r, duty="background_check") == [("bob", "background_check", "late", "2026-09-01", "2026-09-05"),
                                               ("carol", "background_check", "missing", "2025-01-10", None)]
    assert r["pre_start"] == 1  # dave starts 2026-12-15


def test_background_check_not_evaluated_without_column(tmp_path):
    (tmp_path / "hr.csv").write_text("email,name,start_date\na@example.com,A,2026-01-01\n")
    r = people_check(tmp_path / "hr.csv", [], profile=PROFILE, as_of=AS_OF)
    assert "background_check" in r["not_evaluated"] and r["exceptions"] == []


def test_security_awareness_rule():
    r = run("bamboohr_report.csv", ["knowbe4_enrollments.csv"])
    assert exc(r, duty="security_awareness") == [("bob", "security_awareness", "overdue", "2026-10-01", None),   # 30 days after 2026-09-01, still in progress
                                                 ("carol", "security_awareness", "overdue", "2026-01-21", None)]  # 2025-01-20 + 366, before her end date
    assert not exc(r, "alice", "security_awareness")  # five yearly completions, each within 366 days
    assert r["unmatched_training"] == [{"email": "eve@example.com", "rows": 1}]


def test_ai_literacy_rule():
    r = run("bamboohr_report.csv", ["knowbe4_enrollments.csv"])
    assert exc(r, duty="ai_literacy") == [("alice", "ai_literacy", "late", "2022-04-13", "2025-06-01"), ("alice", "ai_literacy", "overdue", "2026-06-02", None),
                                          ("bob", "ai_literacy", "overdue", "2026-10-01", None),
                                          ("carol", "ai_literacy", "late", "2025-02-09", "2025-02-15"), ("carol", "ai_literacy", "overdue", "2026-02-16", None)]


def test_one_course_counts_for_both_and_profile_parameters():
    profile = Profile.model_validate({"company": {"name": "Acme", "employees": 5}, "parameters": {"training_days_after_hire": 60, "training_interval": "semiannual"}})
    r = run("people_neutral.csv", ["talentlms_courses.csv"], profile=profile)
    assert r["parameters"]["training_interval_days"] == 183
    # ivy: 2025-05-20 and 2026-05-15 are 360 days apart, more than 183
    assert ("ivy", "security_awareness", "late", "2025-11-19", "2026-05-15") in exc(r, "ivy")
    # gina's AI literacy course on 2026-03-01 is within 60 days of 2026-01-05 (on time); the next falls due 183 days later
    assert exc(r, "gina", "ai_literacy") == [("gina", "ai_literacy", "overdue", "2026-08-31", None)]


def test_access_removal_from_hr_column():
    r = run("people_neutral.csv", ["talentlms_courses.csv"])
    assert exc(r, duty="access_removal") == [("hal", "access_removal", "late", "2026-11-03T00:00:00", "2026-11-03T09:00:00")]
    assert r["leavers"] == 2  # ivy's removal on 2026-08-15 08:00 was within 24 hours of the end of 2026-08-14


def test_access_removal_from_idp_export():
    r = run("bamboohr_report.csv", [], idp="idp.csv")
    [e] = [x for x in r["exceptions"] if x["duty"] == "access_removal"]
    assert (e["email"], e["rule"], e["due"], e["accounts"]) == ("carol@example.com", "still_enabled", "2026-11-02T00:00:00", ["carol"])
    assert r["idp"]["source"] == "neutral_idp"
    r = run("bamboohr_report.csv", [])
    assert "access_removal" in r["not_evaluated"]


def test_mapping_file_for_unknown_exports():
    r = run("acme_hr.csv", ["acme_lms.csv"], mapping=DATA / "mapping.yaml")
    assert r["hr"]["source"] == "acme-hris" and r["training"][0]["source"] == "acme-lms"
    assert exc(r) == [("jo", "ai_literacy", "late", "2026-04-01", "2026-04-15")]


def test_bad_mapping(tmp_path):
    (tmp_path / "m.yaml").write_text("hr:\n  columns: {email: Mail, start_date: Joined, shoe_size: Size}\n")
    with pytest.raises(UserError, match="unknown field"):
        run("acme_hr.csv", [], mapping=tmp_path / "m.yaml")
    (tmp_path / "m.yaml").write_text("hr:\n  colums: {email: Mail}\n")
    with pytest.raises(UserError, match=r"m.yaml:2:3.*did you mean 'columns'"):
        run("acme_hr.csv", [], mapping=tmp_path / "m.yaml")
    (tmp_path / "m.yaml").write_text("courses:\n  ai_literacy: '(unclosed'\n")
    with pytest.raises(UserError, match="not a valid regular expression"):
        run("acme_hr.csv", [], mapping=tmp_path / "m.yaml")


# --- CLI, acknowledgements and evidence -----------------------------------------------------------

def test_cli_outside_workspace_json(tmp_path, cli):
    r = cli("people", "check", "--hr", DATA / "bamboohr_report.csv", "--training", DATA / "knowbe4_enrollments.csv", "--as-of", "2026-11-27", "--format", "json", cwd=tmp_path)
    assert r.code == 1
    data = json.loads(r.out)
    assert data["counts"]["ai_literacy"] == 5 and "policy_acknowledgement" in data["not_evaluated"] and "evidence" not in data


def test_acknowledgements_count_and_report_is_evidence(workspace, cli):
    root = workspace("llm-startup")
    ok = cli("--workspace", root, "people", "acknowledge", "--policy", "code-of-conduct", "--name", "Bob Baker", "--email", "Bob@Example.com", "--at", "2026-08-30")
    assert ok.code == 0 and "version 1.0" in ok.out
    cli("--workspace", root, "people", "acknowledge", "--policy", "code-of-conduct", "--name", "Alice Able", "--email", "alice@example.com", "--at", "2026-03-01")
    bad = cli("--workspace", root, "people", "acknowledge", "--policy", "code-of-condcut", "--name", "X", "--email", "x@example.com")
    assert bad.code == 2 and "did you mean 'code-of-conduct'" in bad.err
    bad = cli("--workspace", root, "people", "acknowledge", "--policy", "code-of-conduct", "--name", "X", "--email", "not-an-email")
    assert bad.code == 2
    r = cli("--workspace", root, "people", "check", "--hr", DATA / "bamboohr_report.csv", "--training", DATA / "knowbe4_enrollments.csv",
            "--idp", DATA / "idp.csv", "--as-of", "2026-11-27", "--format", "json")
    assert r.code == 1
    data = json.loads(r.out)
    acks = [(e["email"].split("@")[0], e["rule"], e["due"], e["actual"]) for e in data["exceptions"] if e["duty"] == "policy_acknowledgement"]
    assert acks == [("alice", "late", "2022-03-14", "2026-03-01"), ("carol", "overdue", "2025-01-10", None)]  # bob acknowledged before his start
    assert data["not_evaluated"] == {} and data["evidence"]
    ev = json.loads(cli("--workspace", root, "evidence", "show", str(data["evidence"]), "--format", "json").out)
    assert set(ev.get("controls", [])) >= {"HR-01", "HR-02", "GOV-02", "AC-03"}


# --- review findings (defects found in review) ----------------------------------------------------

@pytest.mark.parametrize(("headers", "source"), [
    (["Employee #", "First Name", "Last Name", "Work Email", "Hire Date", "Termination Date", "Employment Status"], "bamboohr"),
    (["Employee name", "Work email", "Employment status", "Start date", "Termination date"], "rippling"),
])
def test_xlsx_with_date_cells_from_known_hr_sources(tmp_path, headers, source):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.append(headers)
    row = {"Work Email": "al@example.com", "Work email": "al@example.com", "Hire Date": dt.datetime(2026, 2, 1), "Start date": dt.datetime(2026, 2, 1),
           "Termination Date": dt.datetime(2026, 10, 30), "Termination date": dt.datetime(2026, 10, 30)}
    sheet.append([row.get(h, "x") for h in headers])
    wb.save(tmp_path / "hr.xlsx")
    r = read_roster(tmp_path / "hr.xlsx")
    assert r.source == source and (r.people[0].start, r.people[0].end) == (dt.date(2026, 2, 1), dt.date(2026, 10, 30))


def test_offset_timestamps_keep_the_date_written_in_the_export(tmp_path):
    # finished at 20:00 Pacific on the deadline day: the export says 2026-02-04, so it is on time
    (tmp_path / "hr.csv").write_text("email,name,start_date\nal@example.com,Al,2026-01-05\n")
    (tmp_path / "kb.csv").write_text("module_name,user.email,completion_date,status\n"
                                     "Security Awareness and AI Literacy,al@example.com,2026-02-04T20:00:00-08:00,Passed\n")
    t = read_training([tmp_path / "kb.csv"])
    assert t.completions[0].completed_at == dt.date(2026, 2, 4)
    r = people_check(tmp_path / "hr.csv", [tmp_path / "kb.csv"], profile=PROFILE, as_of=dt.date(2026, 3, 1))
    assert r["exceptions"] == []


def test_completion_before_the_start_does_not_move_the_first_deadline_earlier():
    d = dt.date
    # a contractor converted to an employee on 2026-06-01 took the course on 2025-01-10: the policy's first deadline is 30 days after the start
    assert chain(d(2026, 7, 1), 366, [d(2025, 1, 10)], d(2026, 6, 10)) == []
    assert chain(d(2026, 7, 1), 366, [d(2025, 1, 10)], d(2026, 7, 5)) == [{"rule": "overdue", "due": "2026-07-01", "actual": None, "days_late": 4}]


def test_still_enabled_only_once_the_deadline_has_passed(tmp_path):
    # 36 hours after the end of 2026-10-31 is 2026-11-02T12:00: an export dated 2026-11-02 may predate it
    profile = Profile.model_validate({"company": {"name": "Acme", "employees": 5}, "parameters": {"deprovision_hours": 36}})
    r = run("bamboohr_report.csv", [], idp="idp.csv", profile=profile, as_of=dt.date(2026, 11, 2))
    assert not [e for e in r["exceptions"] if e["duty"] == "access_removal"]
    r = run("bamboohr_report.csv", [], idp="idp.csv", profile=profile, as_of=dt.date(2026, 11, 3))
    assert [(e["email"], e["rule"]) for e in r["exceptions"] if e["duty"] == "access_removal"] == [("carol@example.com", "still_enabled")]


def test_impossible_date_in_mapping_file_is_bad_input(tmp_path):
    (tmp_path / "m.yaml").write_text("hr:\n  name: x\n  columns: {email: Mail, start_date: Joined}\n  date_formats: [iso]\nsince: 2026-02-30\n")
    with pytest.raises(UserError, match=r"m.yaml:5"):
        run("acme_hr.csv", [], mapping=tmp_path / "m.yaml")


@settings(max_examples=200, deadline=None)
@given(st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2090, 1, 1)).map(lambda d: d.replace(microsecond=0)), st.integers(-14 * 60, 14 * 60))
def test_iso_timestamps_read_as_written(when, offset_minutes):
    from soc2kit.errors import Location
    from soc2kit.people.roster import TRAINING_SOURCES, _date

    zone = dt.timezone(dt.timedelta(minutes=offset_minutes))
    for src in TRAINING_SOURCES:
        assert _date(when.replace(tzinfo=zone).isoformat(), src, Location("t.csv", 2), "completion date") == when


def test_unknown_policy_to_check_is_bad_input_not_everyone_missing(workspace, cli):
    root = workspace("llm-startup")
    r = cli("--workspace", root, "people", "check", "--hr", DATA / "people_neutral.csv", "--policy", "code-of-condcut", "--as-of", "2026-11-27")
    assert r.code == 2 and "did you mean 'code-of-conduct'" in r.err, r.err
    ev = json.loads(cli("--workspace", root, "evidence", "list", "--format", "json").out)
    assert not [e for e in (ev if isinstance(ev, list) else ev["evidence"]) if e["source"]["id"] == "people.check"]  # nothing stored
