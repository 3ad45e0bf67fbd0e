"""The dashboard through FastAPI's TestClient: every route, the writes, security and the one error shape."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soc2kit.assess.assessment import Assessment
from soc2kit.assess.service import gap as service_gap
from soc2kit.errors import UsageError, UserError
from soc2kit.evidence.acknowledgements import list_acknowledgements
from soc2kit.evidence.store import EvidenceStore, NewEvidence
from soc2kit.web import Settings, create_app
from soc2kit.web.errors import scrub
from soc2kit.web.settings import hash_token, is_loopback, load_token_hash
from soc2kit.web.state import WorkspaceState
from soc2kit.web.uploads import check_content, clean_name
from soc2kit.workspace import Workspace

with warnings.catch_warnings():  # starlette's TestClient announces a future move to httpx2 when imported
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TODAY = dt.date(2027, 2, 15)  # inside llm-startup's observation window; five policies are due for review on 2027-03-01
TOKEN = "correct-horse-battery-staple-42"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PAGES = ["/", "/criteria", "/criteria/CC6.1", "/controls", "/controls/AC-05", "/policies", "/policies/information-security",
         "/reports/acknowledgements", "/gap", "/plan", "/login"]
API = ["/api/overview", "/api/gap", "/api/plan", "/api/controls/AC-05", "/api/acknowledgements", "/healthz"]


def client(root: Path, **kw) -> TestClient:
    kw.setdefault("today", lambda: TODAY)
    return TestClient(create_app(Settings(workspace=root, **kw)), base_url="http://127.0.0.1:8000", raise_server_exceptions=False)


def csrf(c: TestClient, path: str = "/controls/AC-05") -> str:
    """The CSRF token of the form on ``path`` (the double-submit cookie's value); the cookie itself when the page has no form."""
    r = c.get(path, headers={"accept": "text/html"})
    m = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
    if m:
        assert m.group(1) == c.cookies["soc2kit_csrf"]
        return m.group(1)
    return c.cookies["soc2kit_csrf"]


def assert_error(r, status: int, root: Path | None = None) -> None:
    """The one error shape: JSON {"error": {"status", "message"}} or the error page; no traceback, no path."""
    assert r.status_code == status, (r.status_code, r.text[:300])
    body = r.text
    if r.headers["content-type"].startswith("application/json"):
        data = r.json()
        assert set(data) == {"error"} and set(data["error"]) == {"status", "message"}
        assert data["error"]["status"] == status and data["error"]["message"]
    else:
        assert r.headers["content-type"].startswith("text/html")
        assert f"<h1>{status} " in body and 'class="error-message"' in body
    for leak in ("Traceback", "File \"", "site-packages", "/tmp/", "/work/", "/usr/"):
        assert leak not in body
    if root is not None:
        assert str(root) not in body


@pytest.fixture
def ws(workspace):
    return workspace("llm-startup")


def add(root: Path, *items: NewEvidence, actor: str = "tester") -> list[int]:
    store = EvidenceStore.open(Workspace.open(root))
    try:
        return [r.id for r in store.add_many(list(items), actor=actor)]
    finally:
        store.close()


# --- every page -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES + API)
def test_every_page_renders_with_security_headers(ws, path):
    with client(ws) as c:
        r = c.get(path, headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code == (303 if path == "/login" else 200), r.text[:300]  # no token: the login form sends you home
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    if path.startswith(("/api/", "/healthz")):
        assert r.headers["content-type"].startswith("application/json")
        json.loads(r.text)
    elif path != "/login":
        assert "Quillnote AI" in r.text and "<script" not in r.text
        assert "compliant" not in r.text.lower() and "certified" not in r.text.lower()


def test_stylesheet_reuses_the_static_sites_look_and_is_cacheable(ws):
    with client(ws) as c:
        r = c.get("/static/style.css")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")
        assert "--accent" in r.text and "form.stack" in r.text
        assert c.get("/static/style.css", headers={"if-none-match": r.headers["etag"]}).status_code == 304


def test_overview_shows_readiness_ai_gaps_freshness_reviews_and_checks(ws):
    a = Assessment.load(ws)
    a.set("AC-05", {"status": "implemented"}, by="tester")
    a.set("OPS-01", {"status": "implemented"}, by="tester")
    a.save()
    add(ws, NewEvidence(controls=["AC-05"], data=b"old review", name="old.txt", collected_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC)),
        NewEvidence(controls=["MDL-07"], data=json.dumps({"check": "bias", "status": "fail"}).encode(), name="bias.json", source_kind="check", source_id="bias"))
    with client(ws) as c:
        html = c.get("/").text
        data = c.get("/api/overview").json()
    assert "Readiness by Trust Services Criteria category" in html and "Readiness by control area" in html and "<svg" in html
    assert data["company"] == "Quillnote AI, Inc."
    assert data["ai_gaps"] and all(g["status"] != "implemented" for g in data["ai_gaps"])
    stale = {r["id"]: r for r in data["stale"]}
    assert stale["AC-05"]["latest"] == "2026-01-05" and stale["AC-05"]["count"] == 1  # quarterly control, evidence 13 months old
    assert "/controls/AC-05" in html
    due = {r["id"] for r in data["due_reviews"]}
    assert len(due) == 5 and all(not r["overdue"] for r in data["due_reviews"])
    assert [(k["check"], k["status"]) for k in data["checks"]] == [("bias", "fail")]
    assert ">bias<" in html and ">fail<" in html


def test_aggregated_gap_equals_the_gap_command(ws):
    """The dashboard's SQL aggregates score exactly as `soc2kit gap` does from every record."""
    a = Assessment.load(ws)
    for cid in ("AC-05", "AC-01", "OPS-01", "CHG-01", "GOV-05"):
        a.set(cid, {"status": "implemented"}, by="tester")
    a.set("AC-02", {"status": "partial"}, by="tester")
    a.save()
    add(ws, NewEvidence(controls=["AC-05", "AC-01"], data=b"1", name="a.txt", period=(dt.date(2026, 12, 1), dt.date(2027, 1, 31))),
        NewEvidence(controls=["OPS-01"], data=b"2", name="b.txt", collected_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)),
        NewEvidence(controls=["CHG-01"], data=b"3", name="c.txt", period=(dt.date(2020, 1, 1), dt.date(2020, 1, 2)), collected_at=dt.datetime(2027, 2, 14, tzinfo=dt.UTC)))
    expected = service_gap(Workspace.open(ws), today=TODAY)
    state = WorkspaceState(ws)
    try:
        assert state.gap(TODAY) == expected
    finally:
        state.close()


# --- drill-down --------------------------------------------------------------------------------------


def test_criterion_to_control_to_evidence_drill_down(ws):
    a = Assessment.load(ws)
    a.set("AC-05", {"status": "partial", "owner": "Dana <b>Ops</b>", "notes": "first pass"}, by="dana")
    a.set("AC-05", {"status": "implemented"}, by="lee")
    a.save()
    (eid,) = add(ws, NewEvidence(controls=["AC-05"], data=b"review export\n", name="review-q1.csv", description="Q1 access review", period=(dt.date(2027, 1, 1), dt.date(2027, 1, 31))))
    with client(ws) as c:
        crit = c.get("/criteria").text
        assert 'href="/criteria/CC6.2"' in crit
        page = c.get("/criteria/CC6.2").text
        assert 'href="/controls/AC-05"' in page
        ctl = c.get("/controls/ac-05").text  # ids are case-insensitive
        assert "Test procedure" in ctl and "Pass criteria" in ctl
        assert "Dana &lt;b&gt;Ops&lt;/b&gt;" in ctl and "<b>Ops</b>" not in ctl  # escaped
        assert ctl.index(">lee<") < ctl.index(">dana<")  # newest change first
        assert f'href="/evidence/{eid}/download"' in ctl and "Q1 access review" in ctl and "2027-01-01 to 2027-01-31" in ctl
        r = c.get(f"/evidence/{eid}/download")
    assert r.status_code == 200 and r.content == b"review export\n"
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"].startswith("attachment") and "review-q1.csv" in r.headers["content-disposition"]


def test_control_evidence_is_paged(ws):
    add(ws, *[NewEvidence(controls=["AC-05"], data=b"r%d" % i, name=f"r{i}.txt") for i in range(80)])
    with client(ws) as c:
        first = c.get("/api/controls/AC-05").json()
        second = c.get("/api/controls/AC-05?page=2").json()
        html = c.get("/controls/AC-05?page=2").text
    assert first["evidence_total"] == 80 and first["pages"] == 2 and len(first["evidence"]) == 50 and len(second["evidence"]) == 30
    assert first["evidence"][0]["id"] == 80 and second["evidence"][-1]["id"] == 1
    assert "Page 2 of 2" in html and "?page=1#evidence" in html


def test_altered_evidence_file_is_not_served(ws):
    (eid,) = add(ws, NewEvidence(controls=["AC-05"], data=b"original", name="x.txt"))
    blob = EvidenceStore.open(Workspace.open(ws)).blob_path(hashlib.sha256(b"original").hexdigest())
    blob.chmod(0o644)
    blob.write_bytes(b"tampered")
    with client(ws) as c:
        assert_error(c.get(f"/evidence/{eid}/download", headers={"accept": "application/json"}), 409, ws)
        blob.unlink()
        assert_error(c.get(f"/evidence/{eid}/download"), 410, ws)


# --- uploads -----------------------------------------------------------------------------------------


def upload(c: TestClient, token: str, *, name="scan.pdf", data=PDF, control="AC-05", **fields):
    form = {"csrf_token": token, "added_by": "Dana Ops", "description": "signed review"} | fields
    return c.post(f"/controls/{control}/evidence", data=form, files={"file": (name, data, "application/pdf")}, follow_redirects=False)


def test_upload_stores_evidence_through_the_store_and_audit_log(ws):
    with client(ws) as c:
        r = upload(c, csrf(c, "/controls/AC-05"), period_start="2027-01-01", period_end="2027-01-31")
        assert r.status_code == 303 and r.headers["location"].startswith("/controls/AC-05?added=1")
        page = c.get(r.headers["location"]).text
        assert "Evidence 1 stored" in page and "scan.pdf" in page
    store = EvidenceStore.open(Workspace.open(ws))
    try:
        (rec,) = store.list(control="AC-05")
        assert rec.name == "scan.pdf" and rec.added_by == "Dana Ops (dashboard)" and rec.period_start == dt.date(2027, 1, 1)
        assert store.blob_path(rec.sha256).read_bytes() == PDF
        assert store.verify_records() == []
        from soc2kit.evidence.service import verify_log

        assert verify_log(store).ok and verify_log(store).entries == 1
    finally:
        store.close()


@pytest.mark.parametrize(("name", "data", "fields", "status", "says"), [
    ("../../etc/passwd.pdf", PDF, {}, 400, "not a plain file name"),
    ("a\\b.pdf", PDF, {}, 400, "not a plain file name"),
    ("page.html", b"<html><script>alert(1)</script></html>", {}, 400, "not accepted"),
    ("fake.pdf", b"MZ\x90\x00 executable", {}, 400, "not a PDF file"),
    ("notes.txt", b"\x00\x01binary", {}, 400, "binary data"),
    ("notes.txt", b"<svg onload=alert(1)>", {}, 400, "HTML or SVG"),
    ("empty.txt", b"", {}, 400, "empty"),
    ("scan.pdf", PDF, {"period_start": "2027-01-01"}, 400, "both"),
    ("scan.pdf", PDF, {"period_start": "2027-02-01", "period_end": "2027-01-01"}, 400, "ends before"),
    ("scan.pdf", PDF, {"period_start": "yesterday", "period_end": "2027-01-01"}, 400, "YYYY-MM-DD"),
    ("scan.pdf", PDF, {"added_by": "  "}, 400, "who is adding"),
    ("scan.pdf", PDF, {"added_by": "x\x1b[31m"}, 400, "control characters"),
])
def test_bad_uploads_are_refused_and_nothing_is_stored(ws, name, data, fields, status, says):
    with client(ws) as c:
        r = upload(c, csrf(c), name=name, data=data, **fields)
    assert_error(r, status, ws)
    assert says in r.text
    assert not (ws / "soc2kit.db").exists() or EvidenceStore.open(Workspace.open(ws)).list() == []


def test_upload_size_limit_is_enforced_while_streaming(ws):
    with client(ws, max_upload_bytes=1024) as c:
        token = csrf(c)
        assert upload(c, token, data=PDF + b"x" * 900).status_code == 303
        r = upload(c, token, data=PDF + b"x" * 1000)  # just over the limit: caught after parsing
        assert_error(r, 413, ws)
        r = upload(c, token, data=PDF + b"x" * 200_000)  # far over: cut off while the body streams in
        assert_error(r, 413, ws)
    assert len(EvidenceStore.open(Workspace.open(ws)).list()) == 1


def test_upload_limit_defaults_to_the_profile(ws):
    text = (ws / "soc2kit.yaml").read_text()
    (ws / "soc2kit.yaml").write_text(text + "evidence:\n  max_file_mb: 1\n")
    app = create_app(Settings(workspace=ws))
    assert app.state.settings.max_upload_bytes == 1024 * 1024


def test_upload_for_unknown_or_inapplicable_control(ws):
    with client(ws) as c:
        token = csrf(c)
        assert_error(upload(c, token, control="ZZ-99"), 404, ws)
        assert_error(upload(c, token, control="..%2F..%2Fetc"), 404, ws)


def test_csrf_is_required_on_every_form(ws):
    with client(ws) as c:
        csrf(c)
        for r in (upload(c, "forged-token-value-that-is-long"),
                  c.post("/controls/AC-05/evidence", files={"file": ("a.pdf", PDF)}, data={"added_by": "x"}),
                  c.post("/policies/information-security/acknowledge", data={"name": "A", "email": "a@example.com"}),
                  c.post("/logout", data={})):
            assert_error(r, 403, ws)
            assert "security token" in r.text
    assert not (ws / "soc2kit.db").exists()


def test_cross_site_origin_is_refused(ws):
    with client(ws) as c:
        token = csrf(c)
        r = c.post("/policies/information-security/acknowledge", data={"csrf_token": token, "name": "A", "email": "a@example.com"},
                   headers={"origin": "https://evil.example"})
        assert_error(r, 403, ws)


# --- acknowledgements --------------------------------------------------------------------------------


def test_acknowledgement_is_evidence_and_appears_in_the_report(ws):
    with client(ws) as c:
        token = csrf(c, "/policies/information-security")
        r = c.post("/policies/information-security/acknowledge", data={"csrf_token": token, "name": "Ana Lima", "email": "Ana@Example.com"},
                   follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/policies/information-security?acknowledged=1#acknowledgements"
        page = c.get(r.headers["location"]).text
        assert "Your acknowledgement is recorded" in page and "Ana Lima" in page and "ana@example.com" in page
        report = c.get("/reports/acknowledgements").text
        assert "1 acknowledgement recorded" in report and "Ana Lima" in report and 'href="/controls/GOV-05"' in report
        data = c.get("/api/acknowledgements").json()
        assert data["groups"][[g["id"] for g in data["groups"]].index("information-security")]["current_people"] == 1
        assert "acknowledgements" in c.get("/policies").text.lower()
    store = EvidenceStore.open(Workspace.open(ws))
    try:
        (ack,) = list_acknowledgements(store)  # the format of soc2kit.evidence.acknowledgements
        assert (ack.policy, ack.version, ack.name, ack.email, ack.via) == ("information-security", "1.0", "Ana Lima", "ana@example.com", "dashboard")
        (rec,) = store.list()
        assert rec.source_kind == "acknowledgement" and "GOV-05" in rec.controls
    finally:
        store.close()


@pytest.mark.parametrize(("fields", "says"), [
    ({"name": "Ana", "email": "not-an-address"}, "not an e-mail address"),
    ({"name": " ", "email": "a@example.com"}, "empty"),
    ({"name": "A" * 300, "email": "a@example.com"}, "limit is 200"),
])
def test_bad_acknowledgements_are_refused(ws, fields, says):
    with client(ws) as c:
        r = c.post("/policies/information-security/acknowledge", data={"csrf_token": csrf(c)} | fields, headers={"accept": "application/json"})
    assert_error(r, 400, ws)
    assert says in r.json()["error"]["message"]


def test_acknowledging_an_unknown_policy(ws):
    with client(ws) as c:
        assert_error(c.post("/policies/../../x/acknowledge", data={"csrf_token": csrf(c), "name": "A", "email": "a@example.com"}), 404, ws)
        assert_error(c.post("/policies/no-such-policy/acknowledge", data={"csrf_token": csrf(c), "name": "A", "email": "a@example.com"}), 404, ws)


# --- read-only ---------------------------------------------------------------------------------------


def test_read_only_mode_refuses_writes_and_hides_forms(ws):
    with client(ws, read_only=True) as c:
        page = c.get("/controls/AC-05").text
        assert "read-only" in page and 'type="file"' not in page
        assert 'action="/policies/information-security/acknowledge"' not in c.get("/policies/information-security").text
        token = csrf(c)
        assert_error(upload(c, token), 403, ws)
        r = c.post("/policies/information-security/acknowledge", data={"csrf_token": token, "name": "A", "email": "a@example.com"},
                   headers={"accept": "application/json"})
        assert_error(r, 403, ws)
        assert "read-only" in r.json()["error"]["message"]
    assert not (ws / "soc2kit.db").exists()


# --- access token --------------------------------------------------------------------------------------


def test_token_protects_every_page_bearer_and_login(ws):
    with client(ws, token_hash=hash_token(TOKEN)) as c:
        r = c.get("/controls/AC-05", headers={"accept": "text/html"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert_error(c.get("/api/overview"), 401, ws)
        assert c.get("/api/overview").headers["www-authenticate"] == "Bearer"
        assert_error(c.get("/api/overview", headers={"authorization": "Bearer wrong-token-wrong-token"}), 401, ws)
        assert c.get("/api/overview", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
        # a Bearer client needs no CSRF field (browsers never add that header by themselves)
        r = c.post("/policies/information-security/acknowledge", data={"name": "Bo", "email": "bo@example.com"},
                   headers={"authorization": f"Bearer {TOKEN}", "accept": "application/json"})
        assert r.status_code == 201 and r.json()["policy"] == "information-security"
        assert c.get("/static/style.css").status_code == 200 and c.get("/healthz").status_code == 200
        login = c.get("/login")
        assert login.status_code == 200 and 'type="password"' in login.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
        bad = c.post("/login", data={"csrf_token": token, "token": "wrong"})
        assert bad.status_code == 401 and "not the right one" in bad.text
        ok = c.post("/login", data={"csrf_token": token, "token": TOKEN}, follow_redirects=False)
        assert ok.status_code == 303
        cookie = ok.headers["set-cookie"]
        assert "soc2kit_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
        assert TOKEN not in cookie
        home = c.get("/")
        assert home.status_code == 200 and "Log out" in home.text
        c.post("/logout", data={"csrf_token": token})
        assert c.get("/", headers={"accept": "text/html"}, follow_redirects=False).status_code == 303


def test_cookies_are_secure_beyond_loopback(ws):
    settings = Settings.for_serving(ws, host="0.0.0.0", port=8443, token_hash=hash_token(TOKEN))
    assert settings.secure_cookies and settings.allowed_hosts is None
    with TestClient(create_app(settings), base_url="https://dash.example.com") as c:
        r = c.get("/login")
        assert "Secure" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]
        token = re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)
        ok = c.post("/login", data={"csrf_token": token, "token": TOKEN}, follow_redirects=False)
        assert "Secure" in ok.headers["set-cookie"]


def test_without_a_token_only_loopback_host_names_are_answered(ws):
    settings = Settings.for_serving(ws, host="127.0.0.1", port=8000, token_hash=None)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as c:
        assert c.get("/").status_code == 200
        assert c.get("/", headers={"host": "localhost:8000"}).status_code == 200
        assert_error(c.get("/", headers={"host": "attacker.example:8000"}), 400, ws)


def test_serving_beyond_loopback_needs_a_token(ws, tmp_path, cli, monkeypatch):
    with pytest.raises(UsageError, match="without an access token"):
        Settings.for_serving(ws, host="0.0.0.0", port=80, token_hash=None)
    monkeypatch.delenv("SOC2KIT_TOKEN", raising=False)
    r = cli("--workspace", ws, "serve", "--host", "0.0.0.0")
    assert r.code == 2 and "without an access token" in r.err and "SOC2KIT_TOKEN" in r.err
    short = tmp_path / "short"
    short.write_text("abc\n")
    r = cli("--workspace", ws, "serve", "--host", "0.0.0.0", "--token-file", short)
    assert r.code == 2 and "at least 16" in r.err
    r = cli("--workspace", ws, "serve", "--host", "0.0.0.0", "--token-file", tmp_path / "missing")
    assert r.code == 2 and "token file not found" in r.err
    good = tmp_path / "token"
    good.write_text(TOKEN + "\n")
    assert load_token_hash(good, {}) == hashlib.sha256(TOKEN.encode()).hexdigest()
    assert load_token_hash(None, {"SOC2KIT_TOKEN": TOKEN}) == hash_token(TOKEN)
    assert load_token_hash(None, {}) is None
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and not is_loopback("0.0.0.0") and not is_loopback("10.0.0.1")


def test_serve_refuses_a_broken_workspace(tmp_path, cli):
    r = cli("--workspace", tmp_path, "serve")
    assert r.code == 2 and "not a soc2kit workspace" in r.err


# --- one error shape ------------------------------------------------------------------------------------

HOSTILE = ["ZZ-99", "..%2F..", "a..b", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "<script>alert(1)</script>", "x" * 300, "AC-05'--", "%00", "CC9.9", "-1", "99999999999999999999"]


def test_every_route_answers_bad_input_with_the_one_error_shape(ws):
    """Walk every route of the app with hostile path values, bad query values and wrong methods."""
    with client(ws) as c:
        routes = [r for r in c.app.routes if hasattr(r, "methods")]
        assert len(routes) >= 20
        token = csrf(c)
        for route in routes:
            params = re.findall(r"{(\w+)}", route.path)
            for value in HOSTILE if params else [None]:
                path = route.path
                for p in params:
                    path = path.replace("{" + p + "}", value)
                for accept in ("text/html", "application/json"):
                    if "GET" in route.methods and params:
                        r = c.get(path, headers={"accept": accept})
                        assert r.status_code in (400, 404, 422), (path, r.status_code)
                        assert_error(r, r.status_code, ws)
                    if "POST" in route.methods and params:
                        r = c.post(path, data={"csrf_token": token, "name": "A", "email": "a@example.com", "added_by": "A"},
                                   files={"file": ("a.pdf", PDF)} if "evidence" in path else None, headers={"accept": accept})
                        assert_error(r, r.status_code, ws)
                    other = "DELETE" if "GET" in route.methods else "GET"
                    r = c.request(other, path, headers={"accept": accept})
                    if r.status_code >= 400:
                        assert_error(r, r.status_code, ws)
            if route.path in ("/controls/{control_id}", "/api/controls/{control_id}"):
                for bad in ("0", "-3", "abc", "1e9", "999999999"):
                    assert_error(c.get(route.path.replace("{control_id}", "AC-05") + f"?page={bad}"), 400, ws)
        for path in ("/nope", "/static/../soc2kit.yaml", "/evidence/abc/download", "/api/nope"):
            assert_error(c.get(path), c.get(path).status_code, ws)


def test_internal_errors_are_logged_not_shown(ws, caplog):
    app = create_app(Settings(workspace=ws, today=lambda: TODAY))

    @app.get("/boom")
    def boom():
        raise RuntimeError(f"secret detail at {ws}/.soc2kit/keys/private.pem")

    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
        for accept in ("text/html", "application/json"):
            r = c.get("/boom", headers={"accept": accept})
            assert_error(r, 500, ws)
            assert "secret detail" not in r.text and "private.pem" not in r.text
    assert "secret detail" in caplog.text


def test_workspace_errors_show_no_absolute_path(ws):
    with client(ws) as c:
        assert c.get("/").status_code == 200
        (ws / "assessment.yaml").write_text("controls: [unclosed\n")
        r = c.get("/gap")
    assert_error(r, 400, ws)
    assert "assessment.yaml" in r.text


# --- units and properties -----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=0, max_size=80))
def test_upload_names_are_plain_or_refused(name):
    try:
        cleaned = clean_name(name)
    except UserError:
        return
    assert "/" not in cleaned and "\\" not in cleaned and "\x00" not in cleaned and cleaned not in (".", "..") and not cleaned.startswith("..")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64), st.sampled_from(["a.pdf", "a.png", "a.xlsx", "a.txt", "a.csv", "a.json", "a.exe", "a.svg", "a"]))
def test_content_sniffing_accepts_only_matching_content(data, name):
    try:
        kind = check_content(name, data)
    except UserError:
        return
    assert kind in (".pdf", ".png", ".xlsx", ".txt", ".csv", ".json")
    if kind == ".pdf":
        assert data.startswith(b"%PDF-")
    if kind in (".txt", ".csv", ".json"):
        assert b"\x00" not in data
        data.decode("utf-8")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_scrub_removes_absolute_paths(text):
    out = scrub(f"failed at /srv/data/{text}/x.db and C:\\Users\\me\\x and '{text}'", Path("/srv/ws"))
    assert "/srv/data" not in out and "C:\\Users" not in out


# --- the same SQL on both databases ------------------------------------------------------------------


def test_dashboard_queries_on_sqlite_and_postgresql(ws, db_url, monkeypatch):
    """The dashboard's own aggregate queries (web/queries.py) give the gap command's result and the
    control page's evidence on a real PostgreSQL as on SQLite."""
    monkeypatch.setenv("SOC2KIT_DATABASE_URL", db_url)
    a = Assessment.load(ws)
    for cid in ("AC-05", "AC-01", "OPS-01"):
        a.set(cid, {"status": "implemented"}, by="tester")
    a.save()
    ids = add(ws, NewEvidence(controls=["AC-05", "AC-01"], data=b"q4 review\n", name="q4.csv", period=(dt.date(2026, 10, 1), dt.date(2026, 12, 31))),
              NewEvidence(controls=["AC-05"], data=b"q1 review\n", name="q1.csv", period=(dt.date(2027, 1, 1), dt.date(2027, 1, 31))),
              NewEvidence(controls=["OPS-01"], data=b"old\n", name="inv.txt", collected_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)),
              NewEvidence(controls=["MDL-07"], data=json.dumps({"check": "ai.bias", "status": "pass"}).encode(), name="bias.json",
                          source_kind="check", source_id="ai.bias"))
    state = WorkspaceState(ws)
    try:
        assert state.gap(TODAY) == service_gap(Workspace.open(ws), today=TODAY)
    finally:
        state.close()
    with client(ws) as c:
        ctl = c.get("/api/controls/AC-05").json()
        overview = c.get("/api/overview").json()
        r = c.get(f"/evidence/{ids[1]}/download")
    assert ctl["evidence_total"] == 2 and [e["id"] for e in ctl["evidence"]] == [ids[1], ids[0]]
    assert [(k["check"], k["status"]) for k in overview["checks"]] == [("ai.bias", "pass")]
    assert "OPS-01" in {s["id"] for s in overview["stale"]}
    assert r.status_code == 200 and r.content == b"q1 review\n"


# --- review: defects found and fixed --------------------------------------------------------------------


@pytest.mark.parametrize("query", ["page=%C2%B2", "page=%E2%91%A0", "added=%C2%B2", "page=%EF%BC%91"])
def test_non_ascii_digits_in_query_values_are_bad_input_not_a_crash(ws, query):
    """'²' and '①' pass str.isdigit() but int() refuses them: they must be a 400 (or ignored), never a 500."""
    with client(ws) as c:
        for path in ("/controls/AC-05", "/api/controls/AC-05"):
            r = c.get(f"{path}?{query}", headers={"accept": "application/json"})
            if query.startswith("added="):
                assert r.status_code == 200 and "stored and recorded" not in r.text
            else:
                assert_error(r, 400, ws)


@pytest.mark.parametrize(("name", "data"), [
    ("a.txt", b"\xef\xbb\xbf<html><body>hi</body></html>"),  # UTF-8 byte-order mark first
    ("a.xml", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ("a.xml", b'<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x">\n<svg/>'),
    ("a.txt", b"<!-- saved page -->\n<html><script>alert(1)</script></html>"),
    ("a.txt", b"<body onload=alert(1)>"),
    ("a.md", b"  <iframe src=x></iframe>"),
])
def test_markup_behind_a_prolog_comment_or_bom_is_refused(name, data):
    with pytest.raises(UserError, match="HTML or SVG"):
        check_content(name, data)


@pytest.mark.parametrize(("name", "data"), [
    ("notes.md", b"# Review\n\nWe removed the <script> tag from the login page.\n"),
    ("feed.xml", b'<?xml version="1.0"?>\n<!-- export -->\n<users><user>ana</user></users>\n'),
    ("a.txt", b"\xef\xbb\xbfplain text with a byte-order mark\n"),
])
def test_text_that_only_mentions_markup_is_accepted(name, data):
    assert check_content(name, data) == name[name.rfind("."):]


def test_evidence_version_survives_a_concurrent_cache_clear(ws):
    """queries.version() memoises the record count in a module-level dict that another request's thread may
    clear at any moment; simulated here by clearing it when the connection goes back to the pool."""
    from sqlalchemy import event

    from soc2kit.web import queries

    add(ws, NewEvidence(controls=["AC-05"], data=b"one", name="one.txt"))
    store = EvidenceStore.open(Workspace.open(ws))
    try:
        queries._counts.clear()
        event.listen(store.engine, "checkin", lambda *_: queries._counts.clear())
        assert queries.version(store.engine) == (1, 1)
    finally:
        store.close()


def test_port_zero_is_refused(ws, cli):
    """A random port (0) would answer every browser request with 400: the loopback Host check lists the
    bound port, and the start-up line would print ':0'. The option refuses it instead."""
    r = cli("--workspace", ws, "serve", "--port", "0")
    assert r.code == 2 and "--port" in r.err


def test_a_port_in_use_is_bad_input(ws, cli):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = cli("--workspace", ws, "serve", "--port", port)
    assert r.code == 2 and f"cannot listen on 127.0.0.1:{port}" in r.err and "another --port" in r.err


def test_a_malformed_csrf_cookie_is_replaced_not_trusted(ws):
    """A cookie the guard rejects (wrong shape) is not what the form token is compared with: the form
    must carry the token the guard issued for this request."""
    bad = "x"  # too short to be one of ours
    with client(ws) as c:
        c.cookies.set("soc2kit_csrf", bad)
        r = upload(c, bad)
    assert_error(r, 403, ws)
    assert not (ws / "soc2kit.db").exists()
