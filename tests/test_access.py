"""The access review: source detection, findings, worksheet and the CLI (fixtures in tests/data/exports)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

from soc2kit.checks.access import access_review, detect, norm_key, parse_bool, read_table, review_access, worksheet_csv
from soc2kit.errors import UserError

EX = Path(__file__).parent / "data" / "exports"
AS_OF = date(2026, 11, 27)


def run(idp: str, hr: str, **kw):
    return access_review(EX / idp, EX / hr, as_of=AS_OF, **kw)


def accounts(items: list[dict]) -> set[str]:
    return {i["account"] for i in items}


@pytest.mark.parametrize(("name", "side", "source"), [
    ("aws_credential_report.csv", "idp", "aws_iam"),
    ("google_users.csv", "idp", "google_workspace"),
    ("entra_users.csv", "idp", "entra_id"),
    ("okta_password_health.csv", "idp", "okta"),
    ("idp_neutral.csv", "idp", "neutral_idp"),
    ("bamboohr.csv", "hr", "bamboohr"),
    ("rippling.csv", "hr", "rippling"),
    ("hr_neutral.csv", "hr", "neutral_hr"),
])
def test_source_detection(name, side, source):
    assert detect(read_table(EX / name), side).name == source


def test_header_key_and_booleans():
    assert norm_key("Email Address [Required]") == norm_key("Email Address") == "emailaddress"
    assert norm_key("last_login") == "lastlogin"
    assert [parse_bool(v) for v in ("TRUE", "true", "False", "Yes", "no", "maybe", "", None)] == [True, True, False, True, False, "unknown", "unknown", "unknown"]


def test_google_suffixes_removed_and_semicolon_tab(tmp_path):
    (tmp_path / "g.csv").write_text("First Name\tLast Name\tEmail Address\tStatus\tLast Sign In\nA\tB\ta@example.com\tActive\tNever logged in\n")
    assert detect(read_table(tmp_path / "g.csv"), "idp").name == "google_workspace"
    r = access_review(tmp_path / "g.csv", EX / "hr_neutral.csv", as_of=AS_OF)
    assert r["mapping"]["idp"]["email"] == "Email Address"
    assert r["findings"]["orphaned"][0]["email"] == "a@example.com"


def test_aws_root_sentinels_and_orphans():
    r = run("aws_credential_report.csv", "bamboohr.csv")
    assert r["idp_source"] == "aws_iam" and r["hr_source"] == "bamboohr" and r["accounts"] == 4
    assert accounts(r["findings"]["privileged"]) == {"<root_account>"}
    assert accounts(r["findings"]["orphaned"]) == {"ci-deploy"}  # root is not an orphan, alice and bob map by e-mail
    assert accounts(r["findings"]["terminated_active"]) == {"bob@example.com"}
    unused = {i["account"]: i for i in r["findings"]["unused"]}
    assert unused["bob@example.com"]["reason"] == "never"  # no_information
    assert unused["ci-deploy"]["days"] == 299  # latest of the key dates; N/A ignored
    assert r["status"] == "fail"
    assert r["mapping"]["idp"]["last_login"] == ["password_last_used", "access_key_1_last_used_date", "access_key_2_last_used_date"]


def test_google_never_logged_in_and_case_insensitive_email():
    r = run("google_users.csv", "bamboohr.csv")
    assert r["findings"]["orphaned"] == []  # Alice@Example.com matches alice@example.com
    assert accounts(r["findings"]["terminated_active"]) == {"bob@example.com"}
    assert [i["reason"] for i in r["findings"]["unused"]] == ["never"]
    assert all(i["account"] != "carol@example.com" for k in r["findings"].values() for i in k)  # suspended, last use old: no finding


def test_entra_true_false_and_termination_date_wins():
    r = run("entra_users.csv", "bamboohr.csv")
    assert r["mapping"]["idp"]["enabled"] == "accountEnabled"
    (t,) = r["findings"]["terminated_active"]
    assert t["email"] == "dave@example.com" and "date decides" in t["note"]
    assert r["findings"]["orphaned"] == []  # the guest is disabled


def test_okta_and_rippling_pass():
    r = run("okta_password_health.csv", "rippling.csv")
    assert r["status"] == "pass" and r["findings"]["terminated_active"] == []  # Erin is DEPROVISIONED


def test_neutral_pair_every_finding_kind():
    r = run("idp_neutral.csv", "hr_neutral.csv", roles=EX / "roles.csv", unused_days=90)
    f = r["findings"]
    assert accounts(f["terminated_active"]) == {"frank"}
    assert accounts(f["privileged"]) == {"alice", "gina"}
    assert accounts(f["unused"]) == {"frank", "gina"}  # hank is suspended
    (c,) = f["sod_conflicts"]
    assert c["person"] == "alice@example.com" and c["duties"] == ["train_models", "deploy_production"]
    assert f["orphaned"] == []
    assert r["status"] == "fail"
    r2 = run("idp_neutral.csv", "hr_neutral.csv", unused_days=400)
    assert accounts(r2["findings"]["unused"]) == {"gina"}


def test_orphaned_against_other_roster():
    r = run("idp_neutral.csv", "bamboohr.csv")
    assert accounts(r["findings"]["orphaned"]) == {"frank", "gina", "ivan"}


def test_worksheet_columns_and_formula_neutralised():
    rev = review_access(EX / "entra_users.csv", EX / "bamboohr.csv", as_of=AS_OF)
    rows = list(csv.reader(io.StringIO(worksheet_csv(rev))))
    assert rows[0] == ["account", "email", "name", "source_status", "hr_status", "privileged", "last_login", "findings", "decision", "ticket",
                       "reviewer", "date"]
    dave = next(r for r in rows if r[1] == "dave@example.com")
    assert dave[2] == "'=HYPERLINK(\"http://evil\")"
    assert dave[7] == "terminated_active" and dave[8:] == ["", "", "", ""]
    assert len(rows) == 4


def test_bad_inputs(tmp_path):
    with pytest.raises(UserError, match="not found"):
        run("missing.csv", "hr_neutral.csv")
    with pytest.raises(UserError) as e:
        run("idp_unknown.csv", "hr_neutral.csv")
    assert "login_name, enabled_flag" in str(e.value) and "aws_iam" in str(e.value)
    with pytest.raises(UserError) as e:
        run("idp_neutral.csv", "hr_bad_date.csv")
    assert "hr_bad_date.csv:3" in str(e.value) and "30/09/2026" in str(e.value)
    (tmp_path / "roles.csv").write_text("group,duty\nml-train,trian_models\n")
    with pytest.raises(UserError, match="unknown duty"):
        run("idp_neutral.csv", "hr_neutral.csv", roles=tmp_path / "roles.csv")
    (tmp_path / "x.xlsx").write_bytes(b"PK")
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        with pytest.raises(UserError, match="pip install openpyxl"):
            access_review(tmp_path / "x.xlsx", EX / "hr_neutral.csv", as_of=AS_OF)


def test_cli_exit_codes_and_worksheet(cli, tmp_path):
    args = ["check", "access", "--as-of", "2026-11-27", "--no-evidence"]
    r = cli(*args, "--idp", EX / "okta_password_health.csv", "--hr", EX / "rippling.csv")
    assert r.code == 0, r.err
    out = tmp_path / "ws.csv"
    r = cli(*args, "--idp", EX / "idp_neutral.csv", "--hr", EX / "hr_neutral.csv", "--roles", EX / "roles.csv", "--worksheet", out, "--format", "json")
    assert r.code == 1
    data = json.loads(r.out)
    assert data["check"] == "access.review" and data["findings"]["sod_conflicts"]
    assert out.read_text(encoding="utf-8-sig").startswith("account,email,name,")
    for bad in (["--idp", EX / "idp_unknown.csv", "--hr", EX / "hr_neutral.csv"],
                ["--idp", tmp_path / "nope.csv", "--hr", EX / "hr_neutral.csv"],
                ["--idp", EX / "idp_neutral.csv", "--hr", EX / "hr_bad_date.csv"]):
        r = cli(*args, *bad)
        assert r.code == 2 and r.err.startswith("error:") and "Traceback" not in r.err
    r = cli("check", "access", "--as-of", "27/11/2026", "--idp", EX / "idp_neutral.csv", "--hr", EX / "hr_neutral.csv")
    assert r.code == 2


def test_cli_stores_evidence_for_ac05(cli, workspace):
    root = workspace()
    r = cli("check", "access", "--as-of", "2026-11-27", "--idp", EX / "okta_password_health.csv", "--hr", EX / "rippling.csv", "--format", "json", cwd=root)
    assert r.code == 0, r.err
    assert isinstance(json.loads(r.out)["evidence"], int)
    r = cli("evidence", "list", cwd=root)
    assert "access-review-2026-11-27.json" in r.out


def test_a_user_mapping_reads_an_export_the_kit_does_not_know(cli, tmp_path):
    idp = tmp_path / "acme-sso.csv"
    idp.write_text("Username,Work Email,Account State,Last Login (UTC)\n"
                   "ann,ann@acme.example,active,2027-03-01 09:00\n"
                   "ben,ben@acme.example,active,-\n"
                   "old,old@acme.example,active,2026-01-02 10:00\n", encoding="utf-8")
    mapping = tmp_path / "acme-sso.yaml"
    mapping.write_text("name: acme-sso\ncolumns:\n  account: Username\n  email: Work Email\n  status: Account State\n  last_login: Last Login (UTC)\n"
                       "date_formats: ['%Y-%m-%d %H:%M']\nnever: ['-']\n", encoding="utf-8")
    hr = tmp_path / "hr.csv"
    hr.write_text("email,name,status,termination_date\nann@acme.example,Ann,active,\nben@acme.example,Ben,terminated,2027-02-01\n", encoding="utf-8")
    r = cli("-w", tmp_path, "check", "access", "--idp", idp, "--hr", hr, "--idp-mapping", mapping, "--as-of", "2027-03-15", "--format", "json")
    data = json.loads(r.out)
    assert r.code == 1 and data["idp_source"] == "acme-sso"
    assert [x["account"] for x in data["findings"]["terminated_active"]] == ["ben"]
    assert [x["account"] for x in data["findings"]["orphaned"]] == ["old"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns:\n  status: Account State\n", encoding="utf-8")
    r = cli("-w", tmp_path, "check", "access", "--idp", idp, "--hr", hr, "--idp-mapping", bad)
    assert r.code == 2 and "e-mail column" in r.err
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("columns:\n  email: E-mail\n", encoding="utf-8")
    r = cli("-w", tmp_path, "check", "access", "--idp", idp, "--hr", hr, "--idp-mapping", wrong)
    assert r.code == 2 and "lacks the column" in r.err


def _sign(path: Path, decide) -> None:
    """Fill the reviewer columns of an XLSX worksheet the way a reviewer would in Excel."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    sheet = wb["Review"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        values = dict(zip(header, row, strict=True))
        for key, value in decide(values["email"].value or "", values["findings"].value or "").items():
            values[key].value = value
    wb.save(path)


def test_xlsx_worksheet_signoff_becomes_evidence(cli, workspace, tmp_path):
    import openpyxl

    root = workspace()
    sheet = tmp_path / "access-review-2026-Q4.xlsx"
    r = cli("check", "access", "--as-of", "2026-11-27", "--idp", EX / "entra_users.csv", "--hr", EX / "bamboohr.csv", "--worksheet", sheet,
            "--no-evidence", cwd=root)
    assert r.code == 1 and sheet.exists()
    wb = openpyxl.load_workbook(sheet)
    review = wb["Review"]
    assert [c.value for c in review[1]][-4:] == ["decision", "ticket", "reviewer", "date"]
    assert review.freeze_panes == "B2" and review.auto_filter.ref.startswith("A1:")
    assert review.data_validations.dataValidation[0].formula1 == '"keep,change,remove"'
    cells = {c.value for row in review.iter_rows(min_row=2) for c in row}
    assert '=HYPERLINK("http://evil")' in cells  # kept as text ...
    assert all(c.data_type != "f" for row in review.iter_rows() for c in row)  # ... never a formula
    assert "soc2kit check access-signoff" in " ".join(str(c.value) for row in wb["About"].iter_rows() for c in row)
    rows = review.max_row - 1

    # Incomplete: one account left undecided, one removal without a ticket.
    def partly(email, findings):
        if email.startswith("dave"):
            return {"decision": "remove", "reviewer": "Maya Chen", "date": "2026-12-02"}
        if email.startswith("guest"):
            return {}
        return {"decision": "keep", "reviewer": "Maya Chen", "date": "2026-12-02"}

    _sign(sheet, partly)
    r = cli("check", "access-signoff", sheet, "--format", "json", cwd=root)
    data = json.loads(r.out)
    assert r.code == 1 and data["status"] == "fail" and "evidence" not in data
    assert any("needs the ticket" in p for p in data["problems"]) and any("no decision" in p for p in data["problems"])

    def fully(email, findings):
        if "terminated" in findings:
            return {"decision": "remove", "ticket": "IT-812", "reviewer": "Maya Chen", "date": "2026-12-03"}
        return {"decision": "keep", "reviewer": "Maya Chen", "date": "2026-12-02"}

    _sign(sheet, fully)
    r = cli("check", "access-signoff", sheet, "--format", "json", cwd=root)
    data = json.loads(r.out)
    assert r.code == 0, data["problems"]
    assert data["rows"] == rows and data["decisions"]["remove"] >= 1 and data["signed_on"] == "2026-12-03" and data["reviewers"] == ["Maya Chen"]
    listed = json.loads(cli("evidence", "list", "--control", "AC-05", "--format", "json", cwd=root).out)
    assert any(e["name"] == sheet.name and e["source"]["kind"] == "review" for e in listed["evidence"])


def test_signoff_of_a_file_that_is_not_a_worksheet(cli, tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("account,email\nann,ann@example.com\n", encoding="utf-8")
    r = cli("check", "access-signoff", other)
    assert r.code == 2 and "not a soc2kit access-review worksheet" in r.err and "decision" in r.err
    r = cli("check", "access", "--idp", EX / "idp_neutral.csv", "--hr", EX / "hr_neutral.csv", "--worksheet", tmp_path / "w.pdf", "--no-evidence")
    assert r.code == 2 and ".csv or .xlsx" in r.err


def test_access_review_report_lists_each_finding(cli, tmp_path):
    md, page = tmp_path / "access.md", tmp_path / "access.html"
    for path in (md, page):
        r = cli("check", "access", "--as-of", "2026-11-27", "--idp", EX / "entra_users.csv", "--hr", EX / "bamboohr.csv", "--no-evidence", "--report", path)
        assert r.code == 1, r.err
    text = md.read_text()
    assert "# User access review" in text and "## Active accounts of people who left (1)" in text and "dave@example.com" in text
    assert "## Accounts matching no person" in text and (tmp_path / "access.svg").exists()
    html = page.read_text()
    assert "=HYPERLINK(&quot;http://evil&quot;)" in html and '=HYPERLINK("http://evil")' not in html  # escaped, never markup
