"""The dashboard: a FastAPI app over one workspace (``create_app(settings)``).

Pages are rendered on the server from the templates in ``templates/`` by the kit's sandboxed,
autoescaping Jinja environment, and work without JavaScript. Every page has a JSON twin under
``/api/`` where that is useful to scripts. Writes (evidence upload, policy acknowledgement) go
through the evidence store, so each is hashed and in the audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from soc2kit import __version__
from soc2kit.assess import charts
from soc2kit.assess.report import gap_chart, plan_chart
from soc2kit.errors import UserError
from soc2kit.evidence import acknowledgements
from soc2kit.evidence.store import NewEvidence, check_text
from soc2kit.library.models import AREAS
from soc2kit.profile import vocab
from soc2kit.render.build import ASSETS
from soc2kit.render.environment import html_env
from soc2kit.render.html import markdown_to_html
from soc2kit.web import queries
from soc2kit.web.errors import WebError, describe_user_error, json_body, reason, scrub, wants_json
from soc2kit.web.security import CSRF_FIELD, SESSION_COOKIE, Guard, Sessions, check_csrf, cookie_header, token_matches
from soc2kit.web.settings import Settings
from soc2kit.web.state import Snapshot, WorkspaceState
from soc2kit.web.uploads import ALLOWED, check_content, clean_name

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
PAGE_SIZE = 50  # evidence records per control page: a page renders in about 5 ms
_CONTROL_ID = re.compile(r"^[A-Za-z]{2,4}-\d{1,3}$")
_POLICY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
_DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also accepts '²', which int() refuses
STATUS_LABELS = {"implemented": "implemented", "partial": "partial", "planned": "planned", "not_started": "not started",
                 "not_applicable": "not applicable", "implemented_no_evidence": "implemented, no current evidence"}


def _status_label(value: Any) -> str:
    return STATUS_LABELS.get(str(value), str(value))


def _percent(value: Any) -> str:
    return "—" if value is None else charts.percent(value)


def create_app(settings: Settings) -> FastAPI:
    """The dashboard for ``settings.workspace``. The workspace is opened now, so a broken profile
    is reported at start-up (a ``UserError``), not on the first request."""
    root = settings.workspace.resolve()
    state = WorkspaceState(root, write_cache=not settings.read_only)
    snap0 = state.snapshot()
    if settings.max_upload_bytes is None:
        settings.max_upload_bytes = snap0.ws.profile.evidence.max_file_mb * 1024 * 1024
    sessions = Sessions(settings.session_hours)
    env = html_env(loader=jinja2.FileSystemLoader(str(TEMPLATES)))
    env.filters.update({"percent": _percent, "status_label": _status_label, "colour": charts.readiness_colour})
    stylesheet = (ASSETS / "style.css").read_bytes() + b"\n" + (HERE / "static" / "dashboard.css").read_bytes()
    stylesheet_etag = hashlib.sha256(stylesheet).hexdigest()[:16]

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        try:
            yield
        finally:
            state.close()

    app = FastAPI(title="soc2kit dashboard", version=__version__, docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.workspace = state
    app.state.settings = settings
    app.state.sessions = sessions

    def today() -> dt.date:
        return settings.today() if settings.today else dt.date.today()

    # --- rendering and errors ------------------------------------------------------------------
    def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        try:
            company = state.snapshot().ws.profile.company.name
        except UserError:
            company = "soc2kit"
        base = {"company": company, "kit_version": __version__, "today": today().isoformat(), "csrf_field": CSRF_FIELD,
                "csrf": request.scope.get("state", {}).get("csrf", ""), "read_only": settings.read_only,
                "logged_in": request.scope.get("state", {}).get("auth") == "session", "path": request.url.path}
        html = env.get_template(template).render(base | context)
        return HTMLResponse(html, status_code=status)

    def error_parts(scope: dict[str, Any], status: int, message: str, headers: dict[str, str]) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        message = scrub(message, root)
        hdrs = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        accept = ""
        for k, v in scope.get("headers", []):
            if k == b"accept":
                accept = v.decode("latin-1")
        if wants_json(scope.get("path", ""), accept):
            return status, hdrs + [(b"content-type", b"application/json")], json_body(status, message)
        try:
            company = state.snapshot().ws.profile.company.name
        except Exception:  # the error page must render even when the workspace cannot be read
            company = "soc2kit"
        html = env.get_template("error.html.j2").render(company=company, kit_version=__version__, status=status, title=reason(status), message=message,
                                                        read_only=settings.read_only, logged_in=False, csrf="", csrf_field=CSRF_FIELD, path="",
                                                        today=today().isoformat())
        return status, hdrs + [(b"content-type", b"text/html; charset=utf-8")], html.encode()

    def error_response(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        code, hdrs, body = error_parts(request.scope, status, message, headers or {})
        response = Response(body, status_code=code)
        response.raw_headers.extend(hdrs)
        return response

    @app.exception_handler(WebError)
    async def _web_error(request: Request, exc: WebError) -> Response:
        return error_response(request, exc.status, exc.message, exc.headers)

    @app.exception_handler(UserError)
    async def _user_error(request: Request, exc: UserError) -> Response:
        return error_response(request, 400, describe_user_error(exc, root))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {404: "there is no such page", 405: "this page does not accept that method"}
        return error_response(request, exc.status_code, messages.get(exc.status_code, reason(exc.status_code).lower()),
                              {k: v for k, v in (exc.headers or {}).items() if k.lower() == "allow"})

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for e in exc.errors()[:5]:
            where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "path", "body"))
            parts.append(f"{where}: {e.get('msg', 'invalid')}" if where else str(e.get("msg", "invalid")))
        return error_response(request, 422, "the request is not valid: " + "; ".join(parts))

    app.add_middleware(Guard, settings=settings, sessions=sessions, on_error=error_parts)

    # --- helpers -------------------------------------------------------------------------------
    def control_or_404(snap: Snapshot, control_id: str):
        cid = control_id.strip().upper()
        if not _CONTROL_ID.match(cid) or cid not in snap.catalog.controls:
            raise WebError(404, "there is no control with that id in the catalog")
        view = snap.applicable.get(cid)
        if view is None:
            why = next((v.reason for v in snap.views if v.id == cid), "")
            raise WebError(404, f"control {cid} does not apply to {snap.ws.profile.company.name}" + (f" ({why})" if why else ""))
        return view

    def policy_or_404(snap: Snapshot, policy_id: str):
        doc = snap.documents.get(policy_id) if _POLICY_ID.match(policy_id) else None
        if doc is None:
            raise WebError(404, "there is no policy with that id in this workspace")
        return doc

    def overview_data() -> dict[str, Any]:
        d = today()
        gap = state.gap(d)
        due, due_source = state.due_reviews(d)
        store = state.store()
        ver = state.evidence_version()
        return {
            "gap": gap, "stale": state.freshness(d), "due_reviews": due, "due_source": due_source,
            "checks": state.latest_checks(), "has_store": store is not None,
            "evidence_total": ver[1] if ver else 0,
        }

    def control_rows(snap: Snapshot, ids: list[str] | None = None) -> list[dict[str, Any]]:
        gap = state.gap(today())
        agg = state.aggregates() or {}
        statuses = {c["id"]: c["status"] for crit in gap["criteria"].values() for c in crit["controls"]}
        stale = {r["id"] for r in state.freshness(today())}
        rows = []
        for cid, v in snap.applicable.items():
            if ids is not None and cid not in ids:
                continue
            a = agg.get(cid)
            rows.append({"id": cid, "title": v.control.title, "area": v.control.area, "frequency": v.frequency, "ai": v.control.ai_specific,
                         "status": statuses.get(cid, snap.assessment.get(cid).status), "count": a.count if a else 0,
                         "latest": a.latest if a else None, "stale": cid in stale})
        return rows

    def control_data(snap: Snapshot, view, page_no: int) -> dict[str, Any]:
        cid = view.id
        store = state.store()
        a = (state.aggregates() or {}).get(cid)
        total = a.count if a else 0
        records = queries.for_control(store.engine, cid, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE) if store is not None else []
        status = snap.assessment.get(cid)
        gap_status = next((c["status"] for crit in state.gap(today())["criteria"].values() for c in crit["controls"] if c["id"] == cid), status.status)
        cited = []
        for doc in snap.documents.values():
            for cit in doc.citations:
                if cit.control_id == cid and not any(c["policy"] == doc.id and c["anchor"] == cit.anchor for c in cited):
                    cited.append({"policy": doc.id, "title": doc.title, "anchor": cit.anchor, "label": cit.statement or cit.section})
        return {
            "id": cid, "title": view.control.title, "area": view.control.area, "area_name": AREAS.get(view.control.area, ""),
            "statement": view.statement, "frequency": view.frequency, "owner": status.owner or view.owner_title, "ai": view.control.ai_specific,
            "criteria": list(view.control.criteria), "test_procedure": dict(view.test_procedure.__dict__), "evidence_expected": list(view.control.evidence),
            "status": gap_status, "recorded_status": status.status, "target_date": status.target_date, "justification": status.justification, "notes": status.notes,
            "history": list(reversed(status.history)), "evidence_total": total, "latest": a.latest if a else None,
            "evidence": [r.as_dict() for r in records], "page": page_no, "pages": max(1, -(-total // PAGE_SIZE)),
            "checks": state.check_runs(cid, limit=20), "cited_by": cited, "check": view.control.check,
        }

    def page_number(value: str | None) -> int:
        if value is None or value == "":
            return 1
        if not _DIGITS.fullmatch(value) or not 1 <= int(value) <= 100_000:
            raise WebError(400, "the page number must be a whole number from 1")
        return int(value)

    # --- pages ---------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> Response:
        data = overview_data()
        gap = data["gap"]
        cat_chart = charts.readiness_bars([("Overall", gap["overall"]["readiness"])] + [(c["label"], c["readiness"]) for c in gap["categories"].values()],
                                          "Readiness by Trust Services Criteria category")
        area_chart = charts.readiness_bars([(f"{k} {a['name']}", a["readiness"]) for k, a in gap["areas"].items()], "Readiness by control area")
        return page(request, "overview.html.j2", **data, cat_chart=Markup(cat_chart), area_chart=Markup(area_chart))

    @app.get("/criteria", response_class=HTMLResponse)
    def criteria(request: Request) -> Response:
        snap = state.snapshot()
        gap = state.gap(today())
        groups = []
        for cat in snap.ws.profile.scope.tsc:
            rows = [{"id": k, **v} for k, v in gap["criteria"].items() if v["category"] == cat]
            groups.append({"key": cat, "label": vocab.label(vocab.TSC_CATEGORIES, cat), "readiness": gap["categories"].get(cat, {}).get("readiness"), "rows": rows})
        return page(request, "criteria.html.j2", groups=groups)

    @app.get("/criteria/{criterion_id}", response_class=HTMLResponse)
    def criterion(request: Request, criterion_id: str) -> Response:
        snap = state.snapshot()
        gap = state.gap(today())
        cid = criterion_id.strip().upper()
        crit = snap.catalog.criteria.get(cid) if len(cid) <= 12 else None
        if crit is None:
            raise WebError(404, "there is no such criterion")
        data = gap["criteria"].get(cid)
        if data is None:
            raise WebError(404, f"criterion {cid} is in a category outside this workspace's scope")
        rows = control_rows(snap, [c["id"] for c in data["controls"]])
        return page(request, "criterion.html.j2", crit=crit, data=data, rows=rows)

    @app.get("/controls", response_class=HTMLResponse)
    def controls(request: Request) -> Response:
        snap = state.snapshot()
        return page(request, "controls.html.j2", rows=control_rows(snap), areas=AREAS)

    @app.get("/controls/{control_id}", response_class=HTMLResponse)
    def control(request: Request, control_id: str) -> Response:
        snap = state.snapshot()
        view = control_or_404(snap, control_id)
        data = control_data(snap, view, page_number(request.query_params.get("page")))
        added = request.query_params.get("added")
        notice = f"Evidence {int(added)} stored and recorded in the audit log." if added and _DIGITS.fullmatch(added) and len(added) < 12 else None
        return page(request, "control.html.j2", c=data, notice=notice, allowed=", ".join(ALLOWED),
                    max_mb=(settings.max_upload_bytes or 0) // (1024 * 1024), statuses=STATUS_LABELS)

    @app.post("/controls/{control_id}/evidence")
    async def upload(request: Request, control_id: str) -> Response:
        limit = settings.max_upload_bytes or 0
        form = await request.form(max_files=1, max_fields=10)
        try:
            check_csrf(request, form.get(CSRF_FIELD))
            snap = await run_in_threadpool(state.snapshot)
            view = control_or_404(snap, control_id)
            file = form.get("file")
            if not isinstance(file, UploadFile):
                raise WebError(400, "no file was uploaded; choose a file and submit the form again")
            data = await file.read(limit + 1)
            if len(data) > limit:
                raise WebError(413, f"the upload is larger than the limit of {limit // (1024 * 1024)} MiB (evidence.max_file_mb in soc2kit.yaml)")
            name = clean_name(file.filename)
            check_content(name, data)
            by = check_text(str(form.get("added_by") or "").strip(), "name of the person adding it", max_len=200)
            if not by:
                raise WebError(400, "say who is adding the evidence (your name)")
            description = check_text(str(form.get("description") or ""), "description", max_len=4000, multiline=True)
            period = _period(form.get("period_start"), form.get("period_end"))
        finally:
            await form.close()

        def store_it() -> int:
            store = state.store(create=True)
            assert store is not None
            rec = store.add(NewEvidence(controls=[view.id], data=data, name=name, description=description, period=period), actor=f"{by} (dashboard)")
            return rec.id

        evidence_id = await run_in_threadpool(store_it)
        if request.headers.get("authorization") and wants_json(request.url.path, request.headers.get("accept", "")):
            return JSONResponse({"evidence_id": evidence_id, "control": view.id}, status_code=201)
        return RedirectResponse(f"/controls/{view.id}?added={evidence_id}#evidence", status_code=303)

    @app.get("/evidence/{evidence_id}/download")
    def download(evidence_id: int) -> Response:
        store = state.store()
        rec = queries.record(store.engine, evidence_id) if store is not None and 0 < evidence_id < 2**62 else None
        if rec is None or store is None:
            raise WebError(404, "there is no evidence with that id")
        path = store.blob_path(rec.sha256)
        h = hashlib.sha256()
        try:
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
        except FileNotFoundError:
            raise WebError(410, f"the file of evidence {rec.id} is missing from the store; run `soc2kit evidence verify`") from None
        if h.hexdigest() != rec.sha256:
            raise WebError(409, f"the file of evidence {rec.id} no longer matches its recorded hash; run `soc2kit evidence verify`")
        return FileResponse(path, filename=rec.name, media_type="application/octet-stream", content_disposition_type="attachment")

    @app.get("/policies", response_class=HTMLResponse)
    def policies(request: Request) -> Response:
        snap = state.snapshot()
        store = state.store()
        counts = queries.acknowledgement_counts(store.engine) if store is not None else {}
        rows = [{"id": d.id, "title": d.title, "meta": d.meta, "acks": counts.get(d.id, 0)} for d in snap.documents.values()]
        return page(request, "policies.html.j2", rows=rows)

    @app.get("/policies/{policy_id}", response_class=HTMLResponse)
    def policy(request: Request, policy_id: str) -> Response:
        snap = state.snapshot()
        doc = policy_or_404(snap, policy_id)
        store = state.store()
        acks = queries.acknowledgements_of(store, doc.id) if store is not None else []
        notice = "Your acknowledgement is recorded as evidence." if request.query_params.get("acknowledged") == "1" else None
        return page(request, "policy.html.j2", doc=doc, meta=doc.meta, body_html=Markup(markdown_to_html(doc.body)), acks=list(reversed(acks)),
                    version=str(doc.meta.get("version") or ""), notice=notice)

    @app.post("/policies/{policy_id}/acknowledge")
    async def acknowledge(request: Request, policy_id: str) -> Response:
        form = await request.form(max_files=0, max_fields=10)
        check_csrf(request, form.get(CSRF_FIELD))
        name, email = str(form.get("name") or ""), str(form.get("email") or "")

        def record_it() -> tuple[str, int]:
            snap = state.snapshot()
            doc = policy_or_404(snap, policy_id)
            version = str(doc.meta.get("version") or "").strip()
            if not version:
                raise WebError(409, f"policy {doc.id} has no version in its document control block; add one before collecting acknowledgements")
            store = state.store(create=True)
            assert store is not None
            ack = acknowledgements.record_acknowledgement(store, policy=doc.id, version=version, name=name, email=email, via="dashboard",
                                                          known_controls=set(snap.applicable))
            return doc.id, ack.evidence_id

        pid, evidence_id = await run_in_threadpool(record_it)
        if request.headers.get("authorization") and wants_json(request.url.path, request.headers.get("accept", "")):
            return JSONResponse({"evidence_id": evidence_id, "policy": pid}, status_code=201)
        return RedirectResponse(f"/policies/{pid}?acknowledged=1#acknowledgements", status_code=303)

    @app.get("/reports/acknowledgements", response_class=HTMLResponse)
    def acknowledgement_report(request: Request) -> Response:
        return page(request, "acknowledgements.html.j2", **acknowledgement_data())

    def acknowledgement_data() -> dict[str, Any]:
        snap = state.snapshot()
        store = state.store()
        acks = queries.acknowledgements_of(store) if store is not None else []
        groups = []
        for doc in snap.documents.values():
            current = str(doc.meta.get("version") or "")
            mine = [a for a in acks if a.policy == doc.id]
            people = {a.email for a in mine if a.version == current}
            groups.append({"id": doc.id, "title": doc.title, "version": current, "current_people": len(people),
                           "acks": [a.as_dict() | {"current": a.version == current} for a in reversed(mine)]})
        return {"groups": groups, "total": len(acks), "controls": [c for c in acknowledgements.CONTROLS if c in snap.applicable]}

    @app.get("/gap", response_class=HTMLResponse)
    def gap_page(request: Request) -> Response:
        gap = state.gap(today())
        return page(request, "gap.html.j2", gap=gap, chart=Markup(gap_chart(gap)))

    @app.get("/plan", response_class=HTMLResponse)
    def plan_page(request: Request) -> Response:
        plan = state.plan(today())
        return page(request, "plan.html.j2", plan=plan, chart=Markup(plan_chart(plan)))

    # --- login ---------------------------------------------------------------------------------
    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        if settings.token_hash is None:
            return RedirectResponse("/", status_code=303)
        return page(request, "login.html.j2", failed=False)

    @app.post("/login")
    async def login(request: Request) -> Response:
        if settings.token_hash is None:
            return RedirectResponse("/", status_code=303)
        form = await request.form(max_files=0, max_fields=5)
        check_csrf(request, form.get(CSRF_FIELD))
        token = form.get("token")
        if not isinstance(token, str) or not token_matches(token.strip(), settings.token_hash):
            await asyncio.sleep(0.25)  # slows down guessing; tokens are long anyway
            return page(request, "login.html.j2", status=401, failed=True)
        response = RedirectResponse("/", status_code=303)
        response.raw_headers.append((b"set-cookie", cookie_header(SESSION_COOKIE, sessions.create(), secure=settings.secure_cookies,
                                                                  max_age=int(settings.session_hours * 3600))))
        return response

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=5)
        check_csrf(request, form.get(CSRF_FIELD))
        sessions.drop(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login" if settings.token_hash else "/", status_code=303)
        response.raw_headers.append((b"set-cookie", cookie_header(SESSION_COOKIE, "", secure=settings.secure_cookies, max_age=0)))
        return response

    # --- static and JSON -----------------------------------------------------------------------
    @app.get("/static/style.css")
    def style(request: Request) -> Response:
        if request.headers.get("if-none-match") == f'"{stylesheet_etag}"':
            return Response(status_code=304)
        return Response(stylesheet, media_type="text/css", headers={"ETag": f'"{stylesheet_etag}"', "Cache-Control": "max-age=3600"})

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/api/overview")
    def api_overview() -> Response:
        data = overview_data()
        gap = data.pop("gap")
        data.update({"company": gap["company"], "overall": gap["overall"], "categories": gap["categories"], "areas": gap["areas"], "ai_gaps": gap["ai_gaps"]})
        return JSONResponse(jsonable_encoder(data))

    @app.get("/api/gap")
    def api_gap() -> Response:
        return JSONResponse(jsonable_encoder(state.gap(today())))

    @app.get("/api/plan")
    def api_plan() -> Response:
        return JSONResponse(jsonable_encoder(state.plan(today())))

    @app.get("/api/controls/{control_id}")
    def api_control(request: Request, control_id: str) -> Response:
        snap = state.snapshot()
        view = control_or_404(snap, control_id)
        return JSONResponse(jsonable_encoder(control_data(snap, view, page_number(request.query_params.get("page")))))

    @app.get("/api/acknowledgements")
    def api_acknowledgements() -> Response:
        return JSONResponse(jsonable_encoder(acknowledgement_data()))

    return app


def _period(start: Any, end: Any) -> tuple[dt.date | None, dt.date | None]:
    start, end = str(start or "").strip(), str(end or "").strip()
    if not start and not end:
        return None, None
    if not start or not end:
        raise WebError(400, "give both the first and the last day of the period the evidence covers, or neither")
    try:
        a, b = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError:
        raise WebError(400, "the period's dates must be written YYYY-MM-DD") from None
    if b < a:
        raise WebError(400, "the period ends before it starts")
    return a, b
