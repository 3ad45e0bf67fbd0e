"""The vendor register, assessment scoring, review rules and the round trip register -> assessment
-> evidence -> system description (fixtures in tests/data/vendors, profile: llm-startup)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soc2kit.errors import UserError
from soc2kit.vendors import load_register, vendors_for_system_description
from soc2kit.vendors.assessment import inherent_risk, questions_for, residual_risk, score_assessment
from soc2kit.vendors.feeds import vendor_gap_items
from soc2kit.vendors.register import Vendor, add_months
from soc2kit.vendors.review import parse_window, review_vendors
from soc2kit.workspace import Workspace

DATA = Path(__file__).parent / "data" / "vendors"
AS_OF = dt.date(2026, 11, 27)


@pytest.fixture
def ws_path(workspace):
    root = workspace("llm-startup")
    shutil.copy(DATA / "vendors.yaml", root / "vendors.yaml")
    return root


@pytest.fixture
def ws(ws_path):
    return Workspace.open(ws_path)


def write_register(root: Path, body: str) -> None:
    (root / "vendors.yaml").write_text(body, encoding="utf-8")


def vendor(**kw) -> Vendor:
    base = {"name": "X", "service": "s", "criticality": "high"}
    return Vendor.model_validate({**base, **kw})


# --- register validation ------------------------------------------------------------------------

def test_register_loads(ws):
    reg = load_register(ws)
    assert [v.name for v in reg.vendors] == ["Amazon Web Services", "OpenAI", "Anthropic", "Linear", "Notion", "OldCRM"]
    assert reg.get("openai").is_ai and not reg.get("Linear").is_ai


@pytest.mark.parametrize(("snippet", "line", "message"), [
    ("    data_shared: [pii, phi]\n", 5, "data type 'phi' is not in the profile's data.types"),
    ("    data_shared: [pi]\n", 5, "unknown data type 'pi' (did you mean 'pii'?)"),
    ("    systems: [LLM gatway]\n", 5, "unknown system 'LLM gatway' (did you mean 'LLM gateway'?)"),
    ("    critcality: high\n", 5, "unknown key 'critcality' (did you mean 'criticality'?)"),
    ("    contract_start: 2026-05-01\n    contract_end: 2026-01-01\n", 2, "dates out of order"),
    ("    certifications:\n      - {type: soc2_type2, period_start: 2026-06-01, period_end: 2026-01-01}\n", 6, "dates out of order"),
    ("    certifications:\n      - {type: iso27001}\n", 6, "needs its expires date"),
    ("    ai: {trains_on_data: false}\n", 2, "the ai block is for AI providers"),
])
def test_register_errors_have_file_and_line(ws_path, cli, snippet, line, message):
    write_register(ws_path, "vendors:\n  - name: Acme\n    service: x\n    criticality: high\n" + snippet)
    r = cli("--workspace", ws_path, "vendor", "list")
    assert r.code == 2, r.out
    assert f"vendors.yaml:{line}" in r.err and message in r.err


def test_duplicate_vendor_and_unknown_criticality(ws_path, cli):
    write_register(ws_path, "vendors:\n  - {name: Acme, service: x, criticality: high}\n  - {name: acme, service: y, criticality: urgent}\n")
    r = cli("--workspace", ws_path, "vendor", "list")
    assert r.code == 2
    assert "vendors.yaml:3" in r.err and "unknown value 'urgent'" in r.err and "choose one of: high, medium, low" in r.err
    write_register(ws_path, "vendors:\n  - {name: Acme, service: x, criticality: high}\n  - {name: acme, service: y, criticality: low}\n")
    r = cli("--workspace", ws_path, "vendor", "list")
    assert r.code == 2 and "vendors.yaml:3" in r.err and "duplicate vendor 'acme' (also vendor 1)" in r.err


def test_malformed_yaml_is_a_located_error(ws_path, cli):
    write_register(ws_path, "vendors:\n  - name: Acme\n   service: [\n")
    r = cli("--workspace", ws_path, "vendor", "review")
    assert r.code == 2 and "vendors.yaml:" in r.err and "malformed YAML" in r.err


def test_add_keeps_comments_and_validates(ws_path, cli):
    r = cli("--workspace", ws_path, "vendor", "add", "Pinecone", "--service", "Vector database", "--kind", "ai_service", "--criticality", "high",
            "--data", "customer_confidential", "--system", "LLM gateway", "--regions", "US", "--dpa", "--notice-hours", "24", "--no-training",
            "--carve-out", "--cuec", "The company rotates the Pinecone API key every 90 days (AC-12).")
    assert r.code == 0, r.err
    text = (ws_path / "vendors.yaml").read_text()
    assert text.startswith("# Vendor register for the llm-startup example") and "# longer than the policy's 48 hours" in text
    v = load_register(Workspace.open(ws_path)).get("Pinecone")
    assert v.kind == "ai_service" and v.ai and v.ai.trains_on_data is False and v.subservice.complementary_controls
    before = (ws_path / "vendors.yaml").read_bytes()
    bad = cli("--workspace", ws_path, "vendor", "add", "Foo", "--service", "x", "--criticality", "high", "--data", "phi")
    assert bad.code == 2 and "not in the profile's data.types" in bad.err
    assert (ws_path / "vendors.yaml").read_bytes() == before  # nothing half-written
    dup = cli("--workspace", ws_path, "vendor", "add", "pinecone", "--service", "x", "--criticality", "low")
    assert dup.code == 2 and "already in the register" in dup.err


def test_add_creates_the_register(workspace, cli):
    root = workspace("llm-startup")
    r = cli("--workspace", root, "vendor", "add", "Slack", "--service", "Chat", "--criticality", "medium")
    assert r.code == 0 and (root / "vendors.yaml").read_text().startswith("# Vendor register")
    listed = json.loads(cli("--workspace", root, "vendor", "list", "--format", "json").out)
    assert listed[0]["name"] == "Slack" and listed[0]["next_review"] is None


# --- risk scoring (hand-computed) --------------------------------------------------------------

def test_inherent_risk_hand_computed(ws):
    reg = load_register(ws)
    # OpenAI: Confidential data (S=2), high (C=3), exposure: systems, AI, carve-out (L=4): 2*3*4 = 24
    i = inherent_risk(reg.get("OpenAI"), ws.profile)
    assert (i["sensitivity"], i["criticality"], i["impact"], i["likelihood"], i["score"], i["band"]) == (2, 3, 6, 4, 24, "high")
    # Anthropic: S=2, C=3; systems, AI, EU outside US (no carve-out): L=4 -> 24
    assert inherent_risk(reg.get("Anthropic"), ws.profile)["exposure"][-1] == "data outside the committed regions"
    # Linear: no data (S=1), medium (C=2), no exposure (L=1): 2, low
    i = inherent_risk(reg.get("Linear"), ws.profile)
    assert (i["score"], i["band"]) == (2, "low")
    # a low-tier SaaS with Restricted data would be 3*1*(1 + regions unknown) = 6
    v = vendor(criticality="low", data_shared=["phi"])
    assert inherent_risk(v, ws.profile)["score"] == 6


def test_residual_risk_hand_computed():
    answers = [{"answer": "yes", "weight": 3, "credit": 3}, {"answer": "yes", "weight": 2, "credit": 1}, {"answer": "no", "weight": 2, "credit": 0},
               {"answer": "na", "weight": 5, "credit": 0}]
    r = residual_risk(24, answers)
    # E = 4/7; residual = 24 * (1 - 0.8 * 4/7) = 24 * 19/35 = 13.028... -> 13.0
    assert (r["weight"], r["credit"], r["effectiveness"], r["score"], r["band"]) == (7, 4.0, 0.5714, 13.0, "medium")
    assert residual_risk(45, [{"answer": "yes", "weight": 1, "credit": 1}])["score"] == 9.0  # at most 80% removed
    assert residual_risk(10, [])["score"] == 10.0


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 45), st.lists(st.tuples(st.sampled_from(["yes", "no", "na", "unknown"]), st.integers(1, 3), st.booleans()), max_size=18))
def test_residual_bounds(inherent, raw):
    answers = [{"answer": a, "weight": w, "credit": (w if ev else w / 2) if a == "yes" else 0} for a, w, ev in raw]
    r = residual_risk(inherent, answers)
    assert inherent * 0.2 - 0.05 <= r["score"] <= inherent + 0.05
    assert 0 <= r["effectiveness"] <= 1


def test_questionnaire_ai_only_for_ai_vendors(ws):
    reg = load_register(ws)
    ai_ids = {q.id for q in questions_for(reg.get("OpenAI"))}
    plain_ids = {q.id for q in questions_for(reg.get("Linear"))}
    assert {"AI-1", "AI-4", "AI-6"} <= ai_ids and not any(i.startswith("AI-") for i in plain_ids)
    assert "DATA-5" in ai_ids and "DATA-5" not in plain_ids  # DPA question only when personal data is shared
    assert "SLA-1" not in plain_ids  # Linear: medium tier, no in-scope system


def test_findings_owners_and_due_dates(ws):
    v = load_register(ws).get("Linear")
    given_ = {q.id: ("yes", "doc", "") for q in questions_for(v)}
    given_["INC-1"] = ("no", "", "")
    rec = score_assessment(v, ws.profile, given_, on=AS_OF)
    assert rec["residual"]["band"] == "low" and rec["decision_suggested"] == "approve_with_conditions"
    [f] = rec["findings"]
    assert f["question"] == "INC-1" and f["owner_role"] == "legal_counsel" and f["owner"] == "Hartley & Moss LLP (outside counsel)"
    assert f["due"] == "2027-02-25"  # low residual: 90 days
    assert "within 48 hours" in f["finding"]


# --- review rules ---------------------------------------------------------------------------------

def kinds(result, rule):
    return {(i["vendor"], i["rule"]) for i in result["findings"][rule]}


def test_review_rules_on_fixture(ws):
    r = review_vendors(ws, as_of=AS_OF, within_days=30)
    assert r["active"] == 5 and r["status"] == "fail"
    assert kinds(r, "review_due") == {("OpenAI", "overdue"), ("Linear", "overdue"), ("Notion", "due_soon")}
    openai = next(i for i in r["findings"]["review_due"] if i["vendor"] == "OpenAI")
    assert openai["due"] == "2026-11-02" and openai["overdue_days"] == 25 and openai["deficiency"] is False  # 366 days after 2025-11-01
    assert kinds(r, "certifications") == {("OpenAI", "expired"), ("OpenAI", "no_current_assurance"), ("Anthropic", "expiring")}
    assert kinds(r, "ai_training") == {("Anthropic", "training_without_approval")}
    assert kinds(r, "data_not_allowed") == {("Anthropic", "outside_regions")}  # SCC recorded, so no transfer finding
    assert kinds(r, "incident_notice") == {("OpenAI", "notice_too_long")}
    assert "OldCRM" not in json.dumps(r["findings"])  # retired vendors are skipped


def test_review_window_changes_due_soon(ws):
    r = review_vendors(ws, as_of=AS_OF, within_days=10)
    assert ("Notion", "due_soon") not in kinds(r, "review_due") and ("Anthropic", "expiring") not in kinds(r, "certifications")
    r = review_vendors(ws, as_of=AS_OF, within_days=60)
    assert ("Amazon Web Services", "expiring") in kinds(r, "certifications")  # ISO certificate expires 2027-01-14


@pytest.mark.parametrize(("entry", "rule", "kind"), [
    ({"last_review": "2025-10-01"}, "review_due", "overdue"),
    ({"last_review": None}, "review_due", "never_reviewed"),
    ({"certifications": [{"type": "soc2_type2", "period_start": "2025-06-01", "period_end": "2026-05-31"}]}, "certifications", "bridge_letter_missing"),
    ({"certifications": [{"type": "soc2_type1", "period_end": "2026-06-30"}]}, "certifications", "no_current_assurance"),
    ({"kind": "ai_model", "data_shared": ["pii"], "dpa_signed": True, "regions": ["US"], "ai": {"opt_out": "not_opted_out"}}, "ai_training", "training_without_approval"),
    ({"kind": "ai_model", "data_shared": ["pii"], "dpa_signed": True, "regions": ["US"]}, "ai_training", "training_use_unknown"),
    ({"data_shared": ["pii"], "regions": ["US"]}, "data_not_allowed", "no_dpa"),
    ({"data_shared": ["customer_confidential"]}, "data_not_allowed", "regions_unknown"),
    ({"data_shared": ["pii"], "dpa_signed": True, "regions": ["IN"]}, "data_not_allowed", "no_transfer_mechanism"),
    ({"criticality": "medium", "data_shared": ["customer_confidential"], "regions": ["US"]}, "data_not_allowed", "tier_too_low"),
    ({"subservice": {"carve_out": True}}, "data_not_allowed", "carve_out_without_cuec"),
    ({"incident_notice_hours": 96}, "incident_notice", "notice_too_long"),
    ({"incident_notice_hours": None}, "incident_notice", "notice_unknown"),
])
def test_each_review_rule(ws_path, entry, rule, kind):
    base = {"name": "Acme", "service": "x", "criticality": "high", "last_review": "2026-11-01", "incident_notice_hours": 24,
            "certifications": [{"type": "iso27001", "expires": "2028-01-01"}]}
    base = {k: v for k, v in {**base, **entry}.items() if v is not None}
    write_register(ws_path, json.dumps({"vendors": [base]}))
    r = review_vendors(Workspace.open(ws_path), as_of=AS_OF, within_days=30)
    assert ("Acme", kind) in kinds(r, rule), r["findings"]
    others = {k: n for k, n in r["counts"].items() if k != rule and n}
    assert not others or rule in ("ai_training", "data_not_allowed"), others  # one rule at a time, except where the data involved trips a sibling


def test_phi_needs_baa_and_zdr(workspace):
    root = workspace("healthtech")
    w = Workspace.open(root)
    assert "phi" in w.profile.data.types
    system = w.profile.scope.systems[0].name
    write_register(root, json.dumps({"vendors": [{"name": "LLM Co", "service": "x", "kind": "ai_model", "criticality": "high", "data_shared": ["phi"],
                                                  "systems": [system], "dpa_signed": True, "regions": list(w.profile.data.residency) or ["US"],
                                                  "ai": {"trains_on_data": False}}]}))
    r = review_vendors(Workspace.open(root), as_of=AS_OF)
    assert {"no_baa", "restricted_without_zdr"} <= {i["rule"] for i in r["findings"]["data_not_allowed"]}


def test_clean_vendor_passes(ws_path):
    write_register(ws_path, json.dumps({"vendors": [{"name": "Acme", "service": "x", "criticality": "high", "last_review": "2026-11-01", "incident_notice_hours": 24,
                                                     "certifications": [{"type": "iso27001", "expires": "2028-01-01"}]}]}))
    r = review_vendors(Workspace.open(ws_path), as_of=AS_OF)
    assert r["status"] == "pass" and sum(r["counts"].values()) == 0


def test_window_parsing_and_soc_validity():
    assert [parse_window(x) for x in ("30d", "6w", "3m", "45")] == [30, 42, 90, 45]
    with pytest.raises(UserError):
        parse_window("soon")
    assert add_months(dt.date(2025, 8, 31), 6) == dt.date(2026, 2, 28)
    c = vendor(certifications=[{"type": "soc2_type2", "period_start": "2025-01-01", "period_end": "2025-06-30", "bridge_letter_until": "2025-12-31"}]).certifications[0]
    assert c.valid_until() == dt.date(2026, 6, 30)


# --- CLI and the round trip ---------------------------------------------------------------------

def test_review_cli_json_exit_and_evidence(ws_path, cli):
    r = cli("--workspace", ws_path, "vendor", "review", "--due-within", "30d", "--as-of", "2026-11-27", "--format", "json")
    assert r.code == 1
    data = json.loads(r.out)
    assert data["counts"]["review_due"] == 3 and data["evidence"]
    ev = json.loads(cli("--workspace", ws_path, "evidence", "list", "--format", "json").out)
    assert any(e["source"]["kind"] == "review" and "VEN-04" in e["controls"] for e in (ev if isinstance(ev, list) else ev["evidence"]))


def test_round_trip_register_assessment_evidence_sysdesc(ws_path, cli, tmp_path):
    report = tmp_path / "openai-soc2.pdf"
    report.write_bytes(b"%PDF-1.4\n% a vendor report stand-in\n")
    r = cli("--workspace", ws_path, "vendor", "assess", "OpenAI", "--answers", DATA / "answers-openai.yaml", "--report", report, "--format", "json")
    assert r.code == 0, r.err
    rec = json.loads(r.out)
    # worked example of docs/vendors.md: inherent 24; credit 25 of 36; residual 24 * (1 - 0.8 * 25/36) = 10.67 -> 10.7
    assert rec["inherent"]["score"] == 24 and rec["residual"]["credit"] == 25.0 and rec["residual"]["weight"] == 36
    assert rec["residual"]["score"] == 10.7 and rec["residual"]["band"] == "medium"
    assert [f["question"] for f in rec["findings"]] == ["CERT-1", "SLA-1", "INC-1", "AI-7"]
    assert all(f["due"] == "2027-01-26" for f in rec["findings"])  # medium: 60 days
    assert rec["decision"] == "approve_with_conditions" and rec["controls"] == ["VEN-02", "VEN-04", "VEN-05"]
    # the file, the evidence (assessment and report) and the register's last_review
    saved = ws_path / "vendors" / "assessments" / "openai-2026-11-27.yaml"
    assert saved.exists() and "residual" in saved.read_text()
    w = Workspace.open(ws_path)
    assert load_register(w).get("OpenAI").last_review == AS_OF
    from soc2kit.evidence.store import EvidenceStore

    store = EvidenceStore.open(w)
    try:
        recs = [x for x in store.list() if x.source_kind == "assessment"]
        assert {x.source_id for x in recs} == {"OpenAI"} and len(recs) == 2
        body = json.loads(store.blob_path(next(x for x in recs if x.id == rec["evidence_id"]).sha256).read_bytes())
        assert body["residual"]["score"] == 10.7 and body["report"]["evidence_id"] in {x.id for x in recs}
        assert "VEN-05" in next(x for x in recs if x.id == rec["evidence_id"]).controls
    finally:
        store.close()
    shown = json.loads(cli("--workspace", ws_path, "vendor", "show", "OpenAI", "--format", "json").out)
    assert shown["assessments"][0]["residual"] == 10.7 and shown["last_review"] == "2026-11-27"
    # the assessment cleared the overdue review
    after = review_vendors(w, as_of=AS_OF)
    assert ("OpenAI", "overdue") not in kinds(after, "review_due")
    # the system description's view
    sd = vendors_for_system_description(w)
    assert [d["name"] for d in sd] == ["Amazon Web Services", "OpenAI", "Anthropic"]
    aws = sd[0]
    assert aws == {"name": "Amazon Web Services", "service": aws["service"], "kind": "cloud", "carve_out": True, "complementary_controls": aws["complementary_controls"]}
    assert len(aws["complementary_controls"]) == 2 and sd[1]["kind"] == "ai_model"
    gap = vendor_gap_items(w, as_of=AS_OF)
    assert {"control": "VEN-05", "vendor": "Anthropic", "rule": "ai_training", "kind": "training_without_approval"}.items() <= next(g for g in gap if g["control"] == "VEN-05").items()


@pytest.mark.parametrize(("answers", "message"), [
    ("answers:\n  CERT-1: maybe\n", "unknown value 'maybe'"),
    ("answers:\n  CERT-9: yes\n", "unknown question 'CERT-9'"),
    ("answers:\n  CERT-1: yes\n", "unanswered question(s)"),
    ("answers:\n  CERT-1: {answer: yes, proof: x}\n", "unknown key 'proof'"),
])
def test_answers_file_errors(ws_path, cli, tmp_path, answers, message):
    f = tmp_path / "a.yaml"
    f.write_text(answers)
    r = cli("--workspace", ws_path, "vendor", "assess", "OpenAI", "--answers", f)
    assert r.code == 2 and message in r.err and "a.yaml:" in r.err
    assert not (ws_path / "vendors" / "assessments").exists()


def test_ai_question_for_plain_vendor_is_rejected(ws_path, cli, tmp_path):
    f = tmp_path / "a.yaml"
    f.write_text("answers:\n  AI-1: yes\n")
    r = cli("--workspace", ws_path, "vendor", "assess", "Linear", "--answers", f)
    assert r.code == 2 and "asked only of AI model or AI service providers" in r.err


def test_unknown_vendor_and_no_terminal(ws_path, cli):
    r = cli("--workspace", ws_path, "vendor", "show", "OpenIA")
    assert r.code == 2 and "did you mean 'OpenAI'" in r.err
    r = cli("--workspace", ws_path, "vendor", "assess", "OpenAI")
    assert r.code == 2 and "--answers" in r.err


@given(st.integers(0, 9999), st.sampled_from(["", "d", "w", "m"]))
def test_window_property(n, unit):
    assert parse_window(f"{n}{unit}") == n * {"": 1, "d": 1, "w": 7, "m": 30}[unit]


@given(st.text(max_size=12).filter(lambda t: not __import__("re").fullmatch(r"\s*\d{1,4}\s*[dwm]?\s*", t)))
def test_window_rejects_anything_else(text):
    with pytest.raises(UserError):
        parse_window(text)


def test_register_findings_feed_the_gap_report_and_the_dashboard(ws_path, cli, tmp_path):
    from soc2kit.assess.service import gap
    from soc2kit.web.state import WorkspaceState

    expected = vendor_gap_items(Workspace.open(ws_path), as_of=AS_OF)
    assert expected, "the fixture register has findings"
    result = gap(Workspace.open(ws_path), today=AS_OF)
    assert result["vendor_findings"] == expected
    assert {f["control"] for f in expected} <= {f"VEN-0{i}" for i in range(1, 9)}
    state = WorkspaceState(ws_path)
    try:
        assert state.gap(AS_OF)["vendor_findings"] == expected
    finally:
        state.close()
    out = tmp_path / "gap.html"
    assert cli("gap", "--format", "html", "--out", out, cwd=ws_path).code == 0
    html = out.read_text()
    assert "Vendor register findings" in html and expected[0]["vendor"] in html
    (ws_path / "vendors.yaml").unlink()
    assert "vendor_findings" not in gap(Workspace.open(ws_path), today=AS_OF)


def test_lint_reports_every_register_problem_with_its_line(ws_path, cli):
    write_register(ws_path, "vendors:\n  - name: Acme\n    service: x\n    criticality: high\n    data_shared: [pii, phii]\n"
                            "  - name: Beta\n    service: y\n    criticality: medium\n    systems: [Nowhere]\n")
    r = cli("--workspace", ws_path, "lint", "--format", "json")
    assert r.code == 1, r.err
    found = [p for p in json.loads(r.out)["problems"] if p["code"] == "vendor-register"]
    assert len(found) == 2, found
    r = cli("--workspace", ws_path, "lint")
    text = r.out + r.err
    assert "vendors.yaml:5" in text and "unknown data type 'phii'" in text and "vendors.yaml:9" in text and "unknown system 'Nowhere'" in text
    (ws_path / "vendors.yaml").unlink()
    assert not [p for p in json.loads(cli("--workspace", ws_path, "lint", "--format", "json").out)["problems"] if p["code"] == "vendor-register"]


# --- review findings (defects found in review) ----------------------------------------------------

def test_medium_review_falls_due_on_the_second_anniversary(ws_path):
    # every 2 years is calendar years: reviewed 2023-03-01 (2024 is a leap year), due 2025-03-01, not 2025-02-28
    write_register(ws_path, json.dumps({"vendors": [{"name": "Acme", "service": "x", "criticality": "medium", "incident_notice_hours": 24,
                                                     "last_review": "2023-03-01"}]}))
    r = review_vendors(Workspace.open(ws_path), as_of=dt.date(2025, 3, 1), within_days=0)
    [item] = r["findings"]["review_due"]
    assert (item["rule"], item["due"], item["overdue_days"]) == ("due_soon", "2025-03-01", 0)


@pytest.mark.parametrize("snippet", ["    last_review: 2026-02-30\n", "    contract_end: 2026-04-31\n"])
def test_impossible_calendar_date_is_a_located_error(ws_path, cli, snippet):
    write_register(ws_path, "vendors:\n  - name: Acme\n    service: x\n    criticality: high\n" + snippet)
    for command in (("vendor", "list"), ("vendor", "review", "--no-evidence")):
        r = cli("--workspace", ws_path, *command)
        assert r.code == 2, r.err
        assert "vendors.yaml:5" in r.err and "not a calendar date" in r.err


def test_impossible_date_in_answers_file(ws_path, cli, tmp_path):
    f = tmp_path / "a.yaml"
    f.write_text("date: 2026-02-29\nanswers:\n  CERT-1: \"yes\"\n")
    r = cli("--workspace", ws_path, "vendor", "assess", "Linear", "--answers", f)
    assert r.code == 2 and "a.yaml:1" in r.err and "not a calendar date" in r.err, r.err


@pytest.mark.parametrize("snippet", ["    last_review: 9999-12-31\n",
                                     "    certifications:\n      - {type: soc2_type2, period_start: 9999-01-01, period_end: 9999-12-31}\n"])
def test_far_future_dates_are_refused_not_a_crash(ws_path, cli, snippet):
    write_register(ws_path, "vendors:\n  - name: Acme\n    service: x\n    criticality: high\n" + snippet)
    for command in (("vendor", "list"), ("vendor", "review", "--no-evidence"), ("gap",)):
        r = cli("--workspace", ws_path, *command)
        assert r.code == 2, (command, r.err)
        assert "vendors.yaml:" in r.err and "out of range" in r.err


def test_far_future_as_of_is_bad_input(ws_path, cli):
    r = cli("--workspace", ws_path, "vendor", "review", "--as-of", "9999-12-31", "--no-evidence")
    assert r.code == 2 and "--as-of" in r.err, r.err


def test_empty_vendors_key_is_an_empty_register(ws_path, cli):
    write_register(ws_path, "# all vendors removed\nvendors:\n")
    assert load_register(Workspace.open(ws_path)).vendors == []
    r = cli("--workspace", ws_path, "vendor", "add", "Slack", "--service", "Chat", "--criticality", "low")
    assert r.code == 0, r.err
    assert [v.name for v in load_register(Workspace.open(ws_path)).vendors] == ["Slack"]


def test_backdated_assessment_keeps_the_latest_review_date(ws_path, cli, tmp_path):
    w = Workspace.open(ws_path)
    v = load_register(w).get("Linear")
    f = tmp_path / "a.yaml"
    f.write_text("answers:\n" + "".join(f"  {q.id}: \"yes\"\n" for q in questions_for(v)))
    assert cli("--workspace", ws_path, "vendor", "assess", "Linear", "--answers", f, "--date", "2026-11-20").code == 0
    assert cli("--workspace", ws_path, "vendor", "assess", "Linear", "--answers", f, "--date", "2026-01-10").code == 0  # filed late, for the record
    assert load_register(Workspace.open(ws_path)).get("Linear").last_review == dt.date(2026, 11, 20)


def test_suggested_residency_answer_needs_a_real_transfer_mechanism(ws):
    from soc2kit.vendors.assessment import suggested_answers

    assert ws.profile.data.residency  # the llm-startup profile commits to its regions
    base = {"kind": "ai_model", "data_shared": ["pii"], "regions": ["IN"]}
    assert suggested_answers(vendor(**base, transfer_mechanism="not_needed"), ws.profile, AS_OF)["AI-4"] == "no"
    assert suggested_answers(vendor(**base, transfer_mechanism="scc"), ws.profile, AS_OF)["AI-4"] == "yes"
