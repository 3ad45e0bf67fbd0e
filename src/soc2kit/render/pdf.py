"""PDF output (WeasyPrint): one PDF per policy and a combined policy manual.

Each policy is laid out once from print HTML (``assets/print-policy.html.j2`` + ``assets/print.css``):
a cover with the document-control table and the contents (page numbers by ``target-counter``), then
the body on new pages; the running header carries the company name, title and version, the footer
the document id and "Page N of M". Layout is most of the cost (about 50 ms a page), so documents are
laid out in parallel worker processes, each holding one ``FontConfiguration`` and one parsed
stylesheet for all its documents.

The manual is assembled from the per-policy PDFs rather than laid out a second time: a front part
(cover and contents, with page numbers computed from the policies' page counts and the pages their
sections fell on) is rendered, the policy PDFs are appended with pypdf, every page after the cover
is stamped "Policy manual · page X of T" (an extra content stream), and the contents entries become links and bookmarks.
Rendering the manual as one HTML document instead would double the layout time, and splitting
such a render per policy would cost each policy its own cover, contents and page numbering.

Output is deterministic for a given workspace: PDF dates come from the documents' own dates
(effective date, approval date), never from the clock, and nothing is fetched over the network
(images in a policy are skipped; see ``_worker_init``).
"""

from __future__ import annotations

import dataclasses
import io
import math
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from soc2kit import __version__
from soc2kit.errors import UserError
from soc2kit.render.documents import PolicyDocument, as_date
from soc2kit.render.environment import html_env
from soc2kit.render.html import _md, markdown_to_html

ASSETS = Path(__file__).resolve().parent / "assets"
MANUAL = "policy-manual.pdf"
PANGO_HINT = (
    "WeasyPrint needs the Pango text library; on Debian or Ubuntu run "
    "`apt-get install -y libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core` "
    "(macOS: `brew install pango`), or build the other formats: --format md,html,docx"
)


class MissingSystemLibrary(UserError):
    """A system library that an output format needs is not installed."""


def load_weasyprint() -> Any:
    """Import WeasyPrint, turning a missing Pango (an ``OSError`` from cffi at import) into a UserError."""
    try:
        import weasyprint
    except OSError as exc:  # cffi: "cannot load library 'libpango-1.0-0'" and similar
        raise MissingSystemLibrary(f"PDF output needs a system library that could not be loaded ({exc})", hint=PANGO_HINT) from None
    except ImportError as exc:
        raise MissingSystemLibrary(f"PDF output needs the WeasyPrint package ({exc})", hint="install soc2kit with its dependencies: pip install soc2kit") from None
    return weasyprint


# --------------------------------------------------------------------------- the print HTML

@dataclasses.dataclass(frozen=True)
class TocEntry:
    level: int
    title: str
    anchor: str


def inline_text(markdown: str) -> str:
    """Plain text of one line of inline Markdown (a heading's title): emphasis and escapes removed."""
    tokens = _md().parseInline(markdown)
    if not tokens or not tokens[0].children:
        return markdown
    return "".join(t.content for t in tokens[0].children if t.type in ("text", "code_inline")) or markdown


def _text(value: Any, empty: str = "—") -> str:
    if value is None or value == "":
        return empty
    return str(value)


def document_control(doc: PolicyDocument) -> dict[str, Any]:
    """The document-control values, as text, for the PDF cover and the DOCX table."""
    m = doc.meta
    approved = bool(m.get("approved_by")) and bool(m.get("approved_on"))
    return {
        "version": _text(m.get("version")), "status": _text(m.get("status")), "owner": _text(m.get("owner")),
        "approver": _text(m.get("approver")), "approved_by": _text(m.get("approved_by"), "not yet approved"),
        "approved_on": _text(m.get("approved_on"), "not yet approved"), "effective_date": _text(m.get("effective_date")),
        "review_interval": _text(m.get("review_interval")), "next_review": _text(m.get("next_review")), "approved": approved,
    }


def document_dates(doc: PolicyDocument) -> tuple[str | None, str | None]:
    """(created, modified) as ISO dates from the document itself: effective date, and the approval date if later."""
    effective = as_date(doc.meta.get("effective_date"))
    approved = as_date(doc.meta.get("approved_on"))
    created = effective or approved
    modified = max(d for d in (effective, approved) if d) if (effective or approved) else None
    return (created.isoformat() if created else None, modified.isoformat() if modified else None)


def table_of_contents(doc: PolicyDocument, max_level: int = 3) -> list[TocEntry]:
    """Headings for a document's contents: levels 1-3, without the heading that repeats the title."""
    entries = []
    for s in doc.sections:
        if s.level > max_level or (s.level == 1 and inline_text(s.title).strip() == doc.title.strip()):
            continue
        entries.append(TocEntry(s.level, inline_text(s.title), s.anchor))
    if entries:
        top = min(e.level for e in entries)  # a document without level-1 sections: its level 2 is the top
        entries = [dataclasses.replace(e, level=e.level - top + 2) for e in entries if e.level - top + 2 <= 3]
    return entries


def _env() -> jinja2.Environment:
    return html_env(loader=jinja2.FileSystemLoader(str(ASSETS)))


def policy_print_html(doc: PolicyDocument, company: str, env: jinja2.Environment | None = None) -> str:
    env = env or _env()
    created, modified = document_dates(doc)
    return env.get_template("print-policy.html.j2").render(
        doc=doc, company=company, control=document_control(doc), toc=table_of_contents(doc),
        body_html=Markup(markdown_to_html(doc.body)),  # markdown-it with raw HTML disabled: already escaped
        kit_version=__version__, created=created, modified=modified,
    )


# --------------------------------------------------------------------------- layout (worker side)

@dataclasses.dataclass
class RenderedPdf:
    key: str
    pdf: bytes
    pages: int
    anchors: dict[str, int]  #: anchor -> 1-based page number
    links: list[tuple[int, str, tuple[float, float, float, float]]]  #: (page index, anchor, rect in PDF points)
    seconds: float


_WORKER: dict[str, Any] = {}


def _worker_init() -> None:
    if _WORKER:
        return
    weasyprint = load_weasyprint()
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    _WORKER["weasyprint"] = weasyprint
    _WORKER["fonts"] = fonts
    _WORKER["css"] = weasyprint.CSS(string=(ASSETS / "print.css").read_text(encoding="utf-8"), font_config=fonts)
    # no protocol allowed: the build never reads files or the network on a document's behalf (an
    # image in a policy is left out of the PDF)
    _WORKER["fetcher"] = weasyprint.urls.URLFetcher(allowed_protocols=())


def _layout(html: str) -> Any:
    _worker_init()
    weasyprint = _WORKER["weasyprint"]
    return weasyprint.HTML(string=html, url_fetcher=_WORKER["fetcher"]).render(stylesheets=[_WORKER["css"]], font_config=_WORKER["fonts"])


def render_html(key: str, html: str) -> RenderedPdf:
    """Lay out print HTML and write the PDF; runs in a worker process (or in-process)."""
    started = time.perf_counter()
    document = _layout(html)
    anchors: dict[str, int] = {}
    links = []
    height_px = document.pages[0].height
    to_pt = 0.75  # CSS px -> PDF points
    for number, page in enumerate(document.pages, 1):
        for anchor in page.anchors:
            anchors.setdefault(anchor, number)
        for link_type, target, (x, y, w, h), _box in page.links:
            if link_type == "internal":
                rect = (x * to_pt, (height_px - y - h) * to_pt, (x + w) * to_pt, (height_px - y) * to_pt)
                links.append((number - 1, target, rect))
    pdf = document.write_pdf()
    return RenderedPdf(key, pdf, len(document.pages), anchors, links, time.perf_counter() - started)


def _render_job(job: tuple[str, str]) -> RenderedPdf:
    return render_html(*job)


def default_jobs() -> int:
    env = os.environ.get("SOC2KIT_JOBS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def render_many(jobs: list[tuple[str, str]], workers: int | None = None, meanwhile: Callable[[], None] | None = None) -> dict[str, RenderedPdf]:
    """Lay out many documents, in worker processes when there are several cores and documents.

    ``meanwhile`` runs in this process while the workers lay out pages (the build writes DOCX then)."""
    load_weasyprint()  # fail early, in this process, with the installation hint
    workers = max(1, min(workers or default_jobs(), len(jobs)))
    order = sorted(jobs, key=lambda j: -len(j[1]))  # longest first: the last job to finish is short
    if workers == 1:
        if meanwhile is not None:
            meanwhile()
        return {j[0]: render_html(*j) for j in order}
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_init) as pool:
        futures = [pool.submit(_render_job, job) for job in order]
        if meanwhile is not None:
            meanwhile()
        return {r.key: r for r in (f.result() for f in futures)}


# --------------------------------------------------------------------------- per-policy PDFs

@dataclasses.dataclass
class PdfBuild:
    files: dict[str, bytes]
    seconds: dict[str, float]  #: output file -> seconds (layout + write, in its worker)
    pages: dict[str, int]


def build_pdfs(documents: list[PolicyDocument], company: str, *, workers: int | None = None, manual: bool = True,
               meanwhile: Callable[[], None] | None = None) -> PdfBuild:
    """Every policy as a PDF (``pdf/<id>.pdf``) and, with ``manual``, the combined ``pdf/policy-manual.pdf``."""
    env = _env()
    jobs = [(doc.id, policy_print_html(doc, company, env)) for doc in documents]
    rendered = render_many(jobs, workers, meanwhile)
    files: dict[str, bytes] = {}
    seconds: dict[str, float] = {}
    pages: dict[str, int] = {}
    for doc in documents:
        r = rendered[doc.id]
        files[f"pdf/{doc.id}.pdf"] = r.pdf
        seconds[f"pdf/{doc.id}.pdf"] = r.seconds
        pages[f"pdf/{doc.id}.pdf"] = r.pages
    if manual:
        t = time.perf_counter()
        data, total = assemble_manual(documents, [rendered[d.id] for d in documents], company, env)
        files[f"pdf/{MANUAL}"] = data
        seconds[f"pdf/{MANUAL}"] = time.perf_counter() - t
        pages[f"pdf/{MANUAL}"] = total
    return PdfBuild(files, seconds, pages)


# --------------------------------------------------------------------------- the manual

# Helvetica widths (1/1000 em) for the characters of the stamp; base-14 fonts need no embedding.
_HELVETICA = {**dict.fromkeys("0123456789", 556), " ": 278, "\u00b7": 278, "P": 667, "o": 556, "l": 222, "i": 222, "c": 500,
              "y": 500, "m": 833, "a": 556, "n": 556, "u": 556, "p": 556, "g": 556, "e": 556, "f": 278}


def _stamp(writer: Any, index: int, text: str, size: float = 7.5) -> None:
    """Add a line of text at the foot of a page, centred, as an extra content stream.

    The page's own streams are kept as they are (compressed) and wrapped in q/Q so that their
    graphics state cannot move the stamp; much cheaper than laying out and merging a stamp page."""
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject

    page = writer.pages[index]
    width = float(page.mediabox.width)
    text_width = sum(_HELVETICA.get(ch, 556) for ch in text) * size / 1000
    x, y = (width - text_width) / 2, 20 * 72 / 25.4 - 3 * 72 / 25.4 - size  # inside the bottom margin, level with the footer
    body = text.encode("cp1252").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    streams = []
    for data in (b"q\n", b"Q\nq 0.184 0.357 0.827 rg BT /SocStamp " + f"{size} Tf {x:.2f} {y:.2f} Td (".encode() + body + b") Tj ET Q\n"):
        stream = DecodedStreamObject()
        stream.set_data(data)
        streams.append(writer._add_object(stream))
    contents = page.get("/Contents")
    existing = list(contents.get_object()) if isinstance(contents.get_object(), ArrayObject) else ([contents] if contents is not None else [])
    page[NameObject("/Contents")] = ArrayObject([streams[0], *existing, streams[1]])
    resources = page["/Resources"].get_object()
    fonts = resources.get("/Font")
    if fonts is None:
        fonts = DictionaryObject()
        resources[NameObject("/Font")] = fonts
    fonts = fonts.get_object()
    if "/SocStamp" not in fonts:
        font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                                 NameObject("/BaseFont"): NameObject("/Helvetica"), NameObject("/Encoding"): NameObject("/WinAnsiEncoding")})
        fonts[NameObject("/SocStamp")] = writer._add_object(font)


def _pdf_date(iso: str | None) -> str | None:
    return f"D:{iso.replace('-', '')}000000Z" if iso else None


def _manual_entries(documents: list[PolicyDocument], rendered: list[RenderedPdf], front_pages: int) -> list[dict[str, Any]]:
    entries = []
    start = front_pages + 1
    for doc, r in zip(documents, rendered, strict=True):
        sections = []
        for s in doc.sections:
            if s.level == 2 and s.anchor in r.anchors:
                sections.append({"title": inline_text(s.title), "anchor": s.anchor, "page": start + r.anchors[s.anchor] - 1})
        control = document_control(doc)
        entries.append({"id": doc.id, "title": doc.title, "version": control["version"], "status": control["status"],
                        "approved": control["approved"], "page": start, "pages": r.pages, "sections": sections})
        start += r.pages
    return entries


def assemble_manual(documents: list[PolicyDocument], rendered: list[RenderedPdf], company: str, env: jinja2.Environment | None = None) -> tuple[bytes, int]:
    """Cover and contents + every policy PDF, stamped with manual page numbers; returns (PDF, pages)."""
    import pypdf
    from pypdf.annotations import Link
    from pypdf.generic import NameObject

    env = env or _env()
    dates = [document_dates(d) for d in documents]
    created = min((c for c, _ in dates if c), default=None)
    modified = max((m for _, m in dates if m), default=None)
    template = env.get_template("print-manual.html.j2")

    lines = len(documents) * 1.3 + sum(1 for d in documents for s in d.sections if s.level == 2)
    front_pages, front = 1 + max(1, math.ceil(lines / 44)), None  # cover + contents, at about 44 lines a page
    for _ in range(4):  # the contents' own length moves every page number: iterate until stable
        entries = _manual_entries(documents, rendered, front_pages)
        html = template.render(company=company, entries=entries, as_of=modified, approved=sum(e["approved"] for e in entries),
                               kit_version=__version__, created=created, modified=modified)
        front = render_html("manual-front", html)
        if front.pages == front_pages:
            break
        front_pages = front.pages
    assert front is not None
    total = front_pages + sum(r.pages for r in rendered)

    writer = pypdf.PdfWriter()
    writer.append(pypdf.PdfReader(io.BytesIO(front.pdf)), import_outline=False)
    for page in writer.pages:  # the contents entries link to themselves in the front part; re-targeted below
        if "/Annots" in page:
            del page[NameObject("/Annots")]
    writer.add_outline_item(title="Contents", page_number=1 if front_pages > 1 else 0)
    for entry, r in zip(entries, rendered, strict=True):
        first = len(writer.pages)
        writer.append(pypdf.PdfReader(io.BytesIO(r.pdf)), import_outline=False)
        parent = writer.add_outline_item(title=entry["title"], page_number=first)
        for s in entry["sections"]:
            writer.add_outline_item(title=s["title"], page_number=s["page"] - 1, parent=parent)

    for index in range(1, total):  # the cover is not stamped
        _stamp(writer, index, f"Policy manual \u00b7 page {index + 1} of {total}")

    targets = {f"soc2kit-manual-{e['id']}": e["page"] - 1 for e in entries}
    targets.update({f"soc2kit-manual-{e['id']}-{s['anchor']}": s["page"] - 1 for e in entries for s in e["sections"]})
    for page_index, anchor, rect in front.links:
        if anchor in targets:
            writer.add_annotation(page_index, Link(rect=rect, target_page_index=targets[anchor]))

    info = {"/Title": f"Policy manual — {company}", "/Author": company, "/Subject": f"Policy manual: {len(documents)} policies",
            "/Creator": f"soc2kit {__version__}", "/Producer": "soc2kit (WeasyPrint, pypdf)"}
    for key, value in (("/CreationDate", _pdf_date(created)), ("/ModDate", _pdf_date(modified))):
        if value:
            info[key] = value
    writer.add_metadata(info)
    writer._root_object[NameObject("/PageMode")] = NameObject("/UseOutlines")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue(), total
