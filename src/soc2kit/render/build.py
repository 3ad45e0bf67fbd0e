"""``soc2kit build``: the company's policies (as edited) → Markdown, HTML site, PDF, DOCX and control matrix.

Stages, in order (each a function below):
  1. ``load``      — profile, catalog, the company's policy documents
  2. ``select``    — applicable controls with text rendered for the profile
  3. ``trace``     — criterion → controls → policy sections, from the documents' citations
  4. ``convert``   — each requested format, in memory (PDF: ``render.pdf``, DOCX: ``render.word``)
  5. ``write``     — a staging directory swapped in atomically over the output directory

Templates are never re-rendered over the company's documents here. PDF and DOCX are opt-in
(``--format pdf,docx`` or ``--format all``): they take seconds where Markdown and HTML take a
fraction of one (see docs/benchmarks.md).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from soc2kit import __version__
from soc2kit._fs import staging_dir, swap_in, write_tree
from soc2kit.errors import Location, UsageError, WorkspaceError
from soc2kit.library import load_catalog
from soc2kit.library.models import Catalog
from soc2kit.profile import vocab
from soc2kit.render.context import build_context
from soc2kit.render.documents import Citation, PolicyDocument, read_policy_documents
from soc2kit.render.environment import escape_markdown, html_env
from soc2kit.render.html import markdown_to_html
from soc2kit.render.matrix import matrix_csv, matrix_rows
from soc2kit.render.pdf import build_pdfs
from soc2kit.render.selection import ControlView, select_controls
from soc2kit.render.word import build_docx
from soc2kit.workspace import Workspace

ASSETS = Path(__file__).resolve().parent / "assets"
FORMATS = ("md", "html", "pdf", "docx")
DEFAULT_FORMATS = ("md", "html")  #: pdf and docx are opt-in: seconds instead of a fraction of one
BUILD_MARKER = ".soc2kit-build"
#: top-level entries of the output directory that ``build`` owns and replaces
BUILD_PRODUCTS = frozenset({"md", "html", "pdf", "docx", "control-matrix.csv", BUILD_MARKER})
#: what other soc2kit commands write into ``dist/`` by default; ``build`` keeps them
OTHER_OUTPUTS = ("oscal", "reports", "control-matrix.xlsx", "system-description.md", "system-description.html", "system-description.docx")


def _other_output(name: str) -> bool:
    return name in OTHER_OUTPUTS or (name.endswith(".zip") and "-soc2-package-" in name)


def _carry_over(target: Path, staged: Path) -> None:
    """Hard-link what other commands wrote into the output directory (exports, reports) into the
    staged tree, so the swap replaces only the build's own products. The originals stay in place
    until the swap, so a failure loses nothing."""
    import shutil

    if not target.is_dir():
        return
    for entry in target.iterdir():
        if entry.name in BUILD_PRODUCTS or entry.name.startswith(".") and entry.name.endswith((".tmp", ".old")):
            continue
        dest = staged / entry.name
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, dest, copy_function=_link_or_copy, symlinks=True)
        else:
            _link_or_copy(entry, dest)


def _link_or_copy(src, dst) -> None:
    import shutil

    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)

def parse_formats(value: str | None) -> list[str]:
    """``"md,pdf"`` → ``["md", "pdf"]``; empty → the default formats; ``all`` → every format."""
    if not value:
        return list(DEFAULT_FORMATS)
    chosen = []
    for raw in value.split(","):
        fmt = raw.strip().lower()
        if not fmt:
            continue
        if fmt == "all":
            chosen.extend(f for f in FORMATS if f not in chosen)
            continue
        if fmt not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}", hint=f"choose from: {', '.join(FORMATS)} (or all)")
        if fmt not in chosen:
            chosen.append(fmt)
    if not chosen:
        raise UsageError("no format given", hint=f"choose from: {', '.join(FORMATS)} (or all)")
    return chosen

@dataclass
class Trace:
    cited_by: dict[str, list[Citation]]
    rows_by_category: list[dict[str, Any]]
    uncited: list[str]
    uncovered: list[str]  #: in-scope criteria with no applicable control

@dataclass
class BuildResult:
    out_dir: Path
    files: list[str]
    policies: int
    controls: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    document_seconds: dict[str, float] = field(default_factory=dict)  #: output file (pdf/…, docx/…) → seconds
    pages: dict[str, int] = field(default_factory=dict)  #: PDF file → page count

def trace(catalog: Catalog, profile_tsc: list[str], views: list[ControlView], documents: list[PolicyDocument]) -> Trace:
    applicable = {v.id: v for v in views if v.applicable}
    titles = {d.id: d.title for d in documents}
    cited_by: dict[str, list[Citation]] = {}
    for doc in documents:
        for cit in doc.citations:
            lst = cited_by.setdefault(cit.control_id, [])
            if not any(c.policy_id == cit.policy_id and c.anchor == cit.anchor and c.statement == cit.statement for c in lst):
                lst.append(cit)
    rows_by_category = []
    uncovered = []
    for cat in profile_tsc:
        rows = []
        for crit in (c for c in catalog.criteria.values() if c.category == cat):
            controls = [applicable[c.id] for c in catalog.controls_for(crit.id) if c.id in applicable]
            if not controls:
                uncovered.append(crit.id)
            citations = []
            for v in controls:
                for cit in cited_by.get(v.id, []):
                    citations.append({"policy_id": cit.policy_id, "policy_title": titles.get(cit.policy_id, cit.policy_id),
                                      "anchor": cit.anchor, "statement": cit.statement, "section": cit.section})
            unique = list({(c["policy_id"], c["anchor"], c["statement"]): c for c in citations}.values())
            rows.append({"criterion": crit, "controls": controls, "citations": unique})
        rows_by_category.append({"key": cat, "label": vocab.label(vocab.TSC_CATEGORIES, cat), "rows": rows})
    uncited = [cid for cid in applicable if cid not in cited_by]
    return Trace(cited_by, rows_by_category, uncited, uncovered)

def _doc_control_table(doc: PolicyDocument) -> str:
    m = doc.meta
    approved = f"{m.get('approved_by')}, {m.get('approved_on')}" if m.get("approved_by") else "not yet approved"
    rows = [
        ("Document", f"{doc.title} ({doc.id})"), ("Version", m.get("version", "")), ("Status", m.get("status", "")),
        ("Owner", m.get("owner", "")), ("Approver", m.get("approver", "")), ("Approved", approved),
        ("Effective date", m.get("effective_date", "")), ("Next review", m.get("next_review", "")),
    ]
    lines = ["| Document control | |", "| --- | --- |"]
    lines += [f"| {k} | {escape_markdown(str(v))} |" for k, v in rows]
    return "\n".join(lines) + "\n\n"

def convert_markdown(documents: list[PolicyDocument]) -> dict[str, bytes]:
    return {f"md/{doc.id}.md": (_doc_control_table(doc) + doc.body.lstrip("\n")).encode() for doc in documents}

def convert_html(ws: Workspace, catalog: Catalog, views: list[ControlView], documents: list[PolicyDocument], tr: Trace, today: dt.date) -> dict[str, bytes]:
    env = html_env(loader=jinja2.FileSystemLoader(str(ASSETS)))
    profile = ws.profile
    base = {"company": profile.company.model_dump(), "kit_version": __version__, "built_on": today.isoformat()}
    files: dict[str, bytes] = {"html/style.css": (ASSETS / "style.css").read_bytes()}
    policy_rows = []
    for doc in documents:
        cited = {c.control_id for c in doc.citations}
        policy_rows.append({"id": doc.id, "title": doc.title, "meta": doc.meta, "control_count": len(cited)})
        html = env.get_template("policy.html.j2").render(base, root="../", doc=doc, meta=doc.meta, body_html=_safe(markdown_to_html(doc.body)))
        files[f"html/policies/{doc.id}.html"] = html.encode()
    applicable = [v for v in views if v.applicable]
    in_scope = [c for c in catalog.criteria.values() if c.category in profile.scope.tsc]
    files["html/index.html"] = env.get_template("index.html.j2").render(
        base, root="", policies=policy_rows, applicable_count=len(applicable),
        covered_count=len(in_scope) - len(tr.uncovered), in_scope_count=len(in_scope),
        scope_labels=", ".join(vocab.label(vocab.TSC_CATEGORIES, c) for c in profile.scope.tsc), uncited=tr.uncited,
    ).encode()
    files["html/controls.html"] = env.get_template("controls.html.j2").render(
        base, root="", applicable=applicable, not_applicable=[v for v in views if not v.applicable], cited_by=tr.cited_by,
    ).encode()
    files["html/traceability.html"] = env.get_template("traceability.html.j2").render(base, root="", categories=tr.rows_by_category).encode()
    return files

def _safe(html: str) -> Markup:

    return Markup(html)  # produced by markdown-it with raw HTML disabled: already escaped

def resolve_out_dir(ws: Workspace, out: Path | None) -> Path:
    target = (out if out is not None else ws.root / "dist")
    target = target if target.is_absolute() else (Path.cwd() / target)
    target = target.resolve()
    if target.exists():
        if not target.is_dir():
            raise UsageError("the output path exists and is not a directory", hint="choose another --out", location=Location(target))
        entries = [e.name for e in target.iterdir()]
        if entries and not (target / BUILD_MARKER).exists() and not all(_other_output(n) for n in entries):
            raise UsageError(
                "the output directory is not empty and was not made by soc2kit build; refusing to replace it",
                location=Location(target), hint="choose an empty or new directory with --out",
            )
    if target == ws.root or target in ws.root.parents or ws.root == target:
        raise UsageError("the output directory cannot be the workspace or one of its parents", location=Location(target))
    if target == ws.policies_dir or ws.policies_dir in target.parents or target == ws.state_dir:
        raise UsageError("the output directory cannot be inside policies/ or .soc2kit/", location=Location(target))
    return target

def build(ws: Workspace, *, formats: list[str] | None = None, out: Path | None = None, today: dt.date | None = None,
          workers: int | None = None) -> BuildResult:
    """Build the requested formats. ``workers``: processes laying out PDFs (default: the usable cores,
    or the ``SOC2KIT_JOBS`` environment variable)."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    formats = formats or list(DEFAULT_FORMATS)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise UsageError(f"unknown format {unknown[0]!r}", hint=f"choose from: {', '.join(FORMATS)}")
    today = today or dt.date.today()
    out_dir = resolve_out_dir(ws, out)

    t = time.perf_counter()
    catalog = load_catalog()
    documents = read_policy_documents(ws.policies_dir)
    if not documents:
        raise WorkspaceError("policies/ holds no Markdown documents", location=Location(ws.policies_dir), hint="run `soc2kit init` to create them")
    timings["load"] = time.perf_counter() - t

    t = time.perf_counter()
    context = build_context(ws.profile)
    views = select_controls(catalog, ws.profile, context, cache_dir=ws.state_dir / "cache")
    timings["select"] = time.perf_counter() - t

    t = time.perf_counter()
    tr = trace(catalog, list(ws.profile.scope.tsc), views, documents)
    timings["trace"] = time.perf_counter() - t

    files: dict[str, bytes] = {BUILD_MARKER: f"built by soc2kit {__version__}\n".encode()}
    t = time.perf_counter()
    if "md" in formats:
        files.update(convert_markdown(documents))
    if "html" in formats:
        files.update(convert_html(ws, catalog, views, documents, tr, today))
    files["control-matrix.csv"] = matrix_csv(matrix_rows(views, tr.cited_by)).encode()
    timings["convert"] = time.perf_counter() - t
    document_seconds: dict[str, float] = {}
    pages: dict[str, int] = {}
    company = ws.profile.company.name
    if "pdf" in formats or "docx" in formats:
        t = time.perf_counter()
        docx_files: dict[str, bytes] = {}

        def make_docx() -> None:  # runs while the PDF workers lay out pages
            if "docx" in formats:
                built = build_docx(documents, company)
                docx_files.update(built.files)
                document_seconds.update(built.seconds)

        if "pdf" in formats:
            built_pdf = build_pdfs(documents, company, workers=workers, meanwhile=make_docx)
            files.update(built_pdf.files)
            document_seconds.update(built_pdf.seconds)
            pages.update(built_pdf.pages)
        else:
            make_docx()
        files.update(docx_files)
        timings["pdf+docx" if "pdf" in formats and "docx" in formats else ("pdf" if "pdf" in formats else "docx")] = time.perf_counter() - t

    t = time.perf_counter()
    with staging_dir(out_dir) as staged:
        write_tree(staged, files)
        _carry_over(out_dir, staged)
        swap_in(staged, out_dir)
    timings["write"] = time.perf_counter() - t
    return BuildResult(out_dir, sorted(f for f in files if f != BUILD_MARKER), len(documents), sum(v.applicable for v in views),
                       time.perf_counter() - started, timings, document_seconds, pages)
