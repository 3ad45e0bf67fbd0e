"""Approvals, reviews, history and the review cadence of policy documents (real workspaces, real
evidence store, the real CLI)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import tree
from soc2kit.errors import UserError
from soc2kit.evidence.store import EvidenceStore
from soc2kit.render.policies import add_months
from soc2kit.workspace import Workspace
from soc2kit.workspace.frontmatter import add_history_row, bump_version, conflict_lines
from soc2kit.workspace.reviews import due_reviews, parse_within

AC = "policies/access-control.md"
TODAY = dt.date.today()


def _records(root):
    store = EvidenceStore.open(Workspace.open(root))
    try:
        return store, store.list()
    finally:
        store.close()


def test_approve_records_approver_date_version_and_evidence(cli, workspace):
    root = workspace("llm-startup")
    on = TODAY - dt.timedelta(days=2)
    r = cli("--workspace", root, "policy", "approve", "access-control", "--by", "Dana Whitfield", "--date", on.isoformat(), "--format", "json")
    assert r.code == 0, r.err
    result = json.loads(r.out)
    text = (root / AC).read_text()
    for line in ("version: '1.1'", "status: approved", "approved_by: Dana Whitfield", f"approved_on: {on.isoformat()}",
                 f"effective_date: {on.isoformat()}", f"next_review: {add_months(on, 12).isoformat()}"):
        assert line in text, line
    assert f"| 1.1 | {on.isoformat()} | Dana Whitfield | Approved |" in text  # revision history row
    assert result["sha256"] == hashlib.sha256((root / AC).read_bytes()).hexdigest()
    store, records = _records(root)
    rec = next(x for x in records if x.id == result["evidence_id"])
    assert set(rec.controls) == {"GOV-01", "GOV-05"} and rec.source_kind == "review" and rec.source_id == "access-control" and rec.source_version == "1.1"
    assert store.blob_path(rec.sha256).read_bytes() == (root / AC).read_bytes()  # the approved text itself is the evidence
    # the audit log holds the approval with the document hash; verification passes
    h = json.loads(cli("--workspace", root, "policy", "history", "access-control", "--format", "json").out)["events"]
    assert [e["event"] for e in h] == ["approved"]
    assert h[0]["details"]["sha256"] == result["sha256"] and h[0]["details"]["approved_by"] == "Dana Whitfield"
    assert cli("--workspace", root, "audit", "verify").code == 0
    # a second approval bumps the minor version again; --major goes to the next major
    assert cli("--workspace", root, "policy", "approve", "access-control", "--by", "Dana Whitfield").code == 0
    assert "version: '1.2'" in (root / AC).read_text()
    r = cli("--workspace", root, "policy", "approve", "access-control", "--by", "Dana Whitfield", "--major", "--note", "rewritten section 7")
    assert r.code == 0 and "version 2.0 approved" in r.out
    assert "| 2.0 | " in (root / AC).read_text() and "Approved: rewritten section 7 |" in (root / AC).read_text()
    text_out = cli("--workspace", root, "policy", "history", "access-control")
    assert text_out.code == 0 and "3 event(s)" in text_out.out and "version 2.0 approved by Dana Whitfield" in text_out.out


def test_ai_policy_approval_sets_a_quarterly_next_review(cli, workspace):
    root = workspace("llm-startup")
    r = cli("--workspace", root, "policy", "approve", "policies/ai-acceptable-use.md", "--by", "Dana Whitfield", "--date", TODAY.isoformat())
    assert r.code == 0, r.err
    assert f"next_review: {add_months(TODAY, 3).isoformat()}" in (root / "policies" / "ai-acceptable-use.md").read_text()
    assert "(quarterly)" in r.out


@pytest.mark.parametrize(("args", "needle"), [
    (["policy", "approve", "acces-control", "--by", "A B"], "did you mean 'access-control'"),
    (["policy", "approve", "access-control", "--by", "  "], "approver name is empty"),
    (["policy", "approve", "access-control", "--by", "A\x1bB"], "control characters"),
    (["policy", "approve", "access-control", "--by", "A B", "--date", "2026-13-01"], "not a date"),
    (["policy", "approve", "access-control", "--by", "A B", "--date", (TODAY + dt.timedelta(days=1)).isoformat()], "in the future"),
    (["policy", "approve", "../soc2kit.yaml", "--by", "A B"], "no policy"),
    (["policy", "review", "access-control", "--by", ""], "reviewer name is empty"),
    (["reviews", "--due-within", "soon"], "not a duration"),
    (["policy", "history", "nothing-here"], "no policy"),
])
def test_bad_input_is_refused_and_nothing_changes(cli, workspace, args, needle):
    root = workspace("llm-startup")
    before = tree(root)
    r = cli("--workspace", root, *args)
    assert r.code == 2, (r.out, r.err)
    assert needle in r.err and "Traceback" not in r.err
    assert tree(root) == before


def test_a_malformed_document_or_version_is_refused(cli, workspace):
    root = workspace("llm-startup")
    path = root / AC
    original = path.read_text()
    path.write_text(original.replace("version: '1.0'", "version: draft-one"))
    r = cli("--workspace", root, "policy", "approve", "access-control", "--by", "A B")
    assert r.code == 2 and "not MAJOR.MINOR" in r.err
    path.write_text(original.replace("title: Access Control Policy", "title: [unclosed"))
    r = cli("--workspace", root, "policy", "approve", "access-control", "--by", "A B")
    assert r.code == 2 and "front matter" in r.err and f"{AC}:" in r.err
    assert path.read_text() == original.replace("title: Access Control Policy", "title: [unclosed")


def test_a_failed_evidence_write_puts_the_document_back(cli, workspace):
    root = workspace("llm-startup")
    (root / "evidence").write_text("not a directory")  # the evidence store cannot write its files
    before = (root / AC).read_bytes()
    r = cli("--workspace", root, "policy", "approve", "access-control", "--by", "Dana Whitfield")
    assert r.code == 2 and "Traceback" not in r.err
    assert (root / AC).read_bytes() == before  # no approval claimed without its evidence


def test_review_moves_the_next_review_and_stores_a_review_record(cli, workspace):
    root = workspace("llm-startup")
    on = TODAY - dt.timedelta(days=1)
    r = cli("--workspace", root, "policy", "review", "ai-security", "--by", "Priya Raman", "--notes", "Checked the provider list; no change.",
            "--date", on.isoformat(), "--format", "json")
    assert r.code == 0, r.err
    result = json.loads(r.out)
    text = (root / "policies" / "ai-security.md").read_text()
    assert f"last_reviewed: {on.isoformat()}" in text and f"next_review: {add_months(on, 3).isoformat()}" in text
    assert "version: '1.0'" in text  # a review without change does not bump the version
    assert f"| 1.0 | {on.isoformat()} | Priya Raman | Reviewed; no change (Checked the provider list; no change.) |" in text
    store, records = _records(root)
    rec = next(x for x in records if x.id == result["evidence_id"])
    body = json.loads(store.blob_path(rec.sha256).read_bytes())
    assert body["kind"] == "policy-review" and body["reviewed_by"] == "Priya Raman" and body["outcome"] == "no change"
    assert body["notes"] == "Checked the provider list; no change." and rec.source_kind == "review" and "GOV-05" in rec.controls
    events = json.loads(cli("--workspace", root, "policy", "history", "ai-security", "--format", "json").out)["events"]
    assert [e["event"] for e in events] == ["reviewed"]


def test_history_includes_acknowledgements(cli, workspace):
    from soc2kit.evidence.acknowledgements import record_acknowledgement

    root = workspace("llm-startup")
    assert cli("--workspace", root, "policy", "approve", "code-of-conduct", "--by", "Dana Whitfield").code == 0
    store = EvidenceStore.open(Workspace.open(root))
    try:
        record_acknowledgement(store, policy="code-of-conduct", version="1.1", name="Jo Park", email="jo@example.com")
    finally:
        store.close()
    events = json.loads(cli("--workspace", root, "policy", "history", "code-of-conduct", "--format", "json").out)["events"]
    assert [e["event"] for e in events] == ["approved", "acknowledged"]
    assert events[0]["seq"] < events[1]["seq"]


def _set(root, rel, old, new):
    path = root / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _next_review(root, rel):
    return next(line.split(": ", 1)[1] for line in (root / rel).read_text().splitlines() if line.startswith("next_review: "))


def test_reviews_lists_overdue_and_due_soon_and_fails_on_overdue(cli, workspace):
    root = workspace("llm-startup")
    assert cli("--workspace", root, "reviews").code in (0, 1)
    overdue = (TODAY - dt.timedelta(days=5)).isoformat()
    soon = (TODAY + dt.timedelta(days=10)).isoformat()
    _set(root, AC, f"next_review: {_next_review(root, AC)}", f"next_review: {overdue}")
    _set(root, "policies/backup.md", f"next_review: {_next_review(root, 'policies/backup.md')}", f"next_review: {soon}")
    r = cli("--workspace", root, "reviews", "--format", "json")
    assert r.code == 1, r.err
    data = json.loads(r.out)
    states = {i["policy"]: i for i in data["reviews"]}
    assert states["access-control"]["state"] == "overdue" and states["access-control"]["days_left"] == -5
    assert states["backup"]["state"] == "due" and states["backup"]["days_left"] == 10
    assert data["overdue"] == 1 and data["reviews"][0]["policy"] == "access-control"  # most urgent first
    r = cli("--workspace", root, "reviews", "--due-within", "5d")
    assert r.code == 1 and "backup" not in r.out and "access-control" in r.out and "1 overdue" in r.out
    assert "soc2kit policy review NAME" in r.err
    # the review completes: nothing overdue any more
    assert cli("--workspace", root, "policy", "review", "access-control", "--by", "Priya Raman").code == 0
    r = cli("--workspace", root, "reviews")
    assert r.code == 0 and "0 overdue" in r.out
    everything = json.loads(cli("--workspace", root, "reviews", "--all", "--format", "json").out)["reviews"]
    assert len(everything) == len(list((root / "policies").glob("*.md")))


def test_due_reviews_uses_the_profile_cadence_by_default(workspace):
    root = workspace("llm-startup")
    ws = Workspace.open(root)
    items = {i["policy"]: i for i in due_reviews(ws, today=dt.date(2026, 12, 1))}
    assert items["ai-security"]["review_interval"] == "quarterly" and items["access-control"]["review_interval"] == "annual"
    assert items["ai-security"]["next_review"] == "2027-03-01" and items["access-control"]["next_review"] == "2027-12-01"
    # a document without next_review is due one interval (the profile's) after its last date
    _set(root, AC, "review_interval: annual\n", "")
    _set(root, AC, "next_review: 2027-12-01\n", "")
    _set(root, "soc2kit.yaml", "documents:\n", "documents:\n  review_interval: semiannual\n")
    ws = Workspace.open(root)
    item = next(i for i in due_reviews(ws, today=dt.date(2026, 12, 1)) if i["policy"] == "access-control")
    assert item["next_review"] == "2027-06-01" and item["due_from"] == "computed" and item["review_interval"] == "semiannual"
    # far in the future every document is overdue; a window filters
    late = due_reviews(ws, today=dt.date(2030, 1, 1), within_days=0)
    assert late and all(i["state"] == "overdue" for i in late)
    assert due_reviews(ws, today=dt.date(2026, 12, 1), within_days=30) == []


@given(st.integers(0, 99999), st.sampled_from(["", "d", "w", "m", "D", " d"]))
def test_property_parse_within(n, unit):
    days = parse_within(f"{n}{unit}")
    assert days == n * {"": 1, "d": 1, "w": 7, "m": 30}[unit.strip().lower()]


@given(st.text(max_size=12).filter(lambda s: not s.strip().lower().rstrip("dwm").strip().isdigit()))
def test_property_parse_within_refuses_everything_else(value):
    with pytest.raises(UserError):
        parse_within(value)


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.booleans())
def test_property_bump_version(major_n, minor_n, major):
    bumped = bump_version(f"{major_n}.{minor_n}", major=major)
    assert bumped == (f"{major_n + 1}.0" if major else f"{major_n}.{minor_n + 1}")


@given(st.lists(st.text(min_size=1, max_size=30), min_size=4, max_size=4))
def test_property_history_row_stays_one_table_row(cells):
    text = "## Appendix B. Revision history\n\n| Version | Date | Author | Change |\n| --- | --- | --- | --- |\n| 1.0 | d | soc2kit | x |\n"
    out = add_history_row(text, cells)
    rows = [line for line in out.splitlines() if line.startswith("|")]
    assert len(rows) == 4 and out.startswith(text)
    assert not conflict_lines(out)


def test_an_unquoted_version_is_read_as_written(cli, workspace):
    """`version: 1.10` is a YAML float (1.1) unless read as written: it must become 1.11, never 1.2."""
    root = workspace("llm-startup")
    _set(root, AC, "version: '1.0'", "version: 1.10")
    r = cli("--workspace", root, "policy", "review", "access-control", "--by", "Priya Raman", "--format", "json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["version"] == "1.10" and f"| 1.10 | {TODAY.isoformat()} | Priya Raman | Reviewed; no change |" in (root / AC).read_text()
    listed = {p["id"]: p for p in json.loads(cli("--workspace", root, "policies", "--format", "json").out)["policies"]}
    assert listed["access-control"]["version"] == "1.10"  # the listings read it as written too
    r = cli("--workspace", root, "policy", "approve", "access-control", "--by", "Dana Whitfield", "--format", "json")
    assert r.code == 0, r.err
    result = json.loads(r.out)
    assert result["previous_version"] == "1.10" and result["version"] == "1.11"
    assert "version: '1.11'" in (root / AC).read_text()


def test_approve_and_review_keep_crlf_line_endings(cli, workspace):
    root = workspace("llm-startup")
    path = root / AC
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    r = cli("--workspace", root, "policy", "approve", "access-control", "--by", "Dana Whitfield", "--format", "json")
    assert r.code == 0, r.err
    data = path.read_bytes()
    assert b"approved_by: Dana Whitfield\r\n" in data and data.count(b"\n") == data.count(b"\r\n")  # no line was rewritten to LF
    assert json.loads(r.out)["sha256"] == hashlib.sha256(data).hexdigest()
    store, records = _records(root)
    assert store.blob_path(records[-1].sha256).read_bytes() == data  # the evidence is the file as written
    assert cli("--workspace", root, "policy", "review", "access-control", "--by", "Priya Raman").code == 0
    data = path.read_bytes()
    assert b"Reviewed; no change |\r\n" in data and data.count(b"\n") == data.count(b"\r\n")


def test_a_failed_evidence_write_puts_back_the_exact_bytes(cli, workspace):
    root = workspace("llm-startup")
    path = root / AC
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    before = path.read_bytes()
    (root / "evidence").write_text("not a directory")
    r = cli("--workspace", root, "policy", "approve", "access-control", "--by", "Dana Whitfield")
    assert r.code == 2 and "Traceback" not in r.err
    assert path.read_bytes() == before
