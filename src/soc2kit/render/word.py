"""DOCX output (python-docx): a policy as an editable Word document.

The Markdown is parsed with the same markdown-it configuration as the HTML output and its tokens are
mapped onto Word's own structures, so that legal can edit the result in Word: ``#``..``###`` become
the built-in styles Heading 1..3 (deeper levels Heading 4), lists become ``List Bullet`` / ``List
Number`` paragraphs (each numbered list restarts at its own first number: a new ``w:num`` with a
``startOverride``), pipe tables become ``Table Grid`` tables with a repeating header row, and inline
bold/italic/code/strikethrough become run formatting. A title block and the document-control table
come first; the header carries the company name and the document title, the footer "Page N of M"
(PAGE and NUMPAGES fields). Core properties: title, author (the company), subject (title and
version), comments (version and status), and dates taken from the document, not the clock.

The file is re-zipped with fixed timestamps, so the same workspace gives byte-identical output.
"""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from dataclasses import dataclass
from typing import Any

from soc2kit import __version__
from soc2kit.render.documents import PolicyDocument, as_date
from soc2kit.render.html import _md
from soc2kit.render.pdf import document_control

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass
class _ListState:
    ordered: bool
    num_id: int | None  #: the w:num of this ordered list (restarted numbering)
    level: int


def _docx():
    import docx

    return docx


# --------------------------------------------------------------------------- Word XML helpers

def _field(paragraph: Any, instruction: str) -> None:
    """Append a simple field (PAGE, NUMPAGES) to a paragraph."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    run = paragraph.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    placeholder = OxmlElement("w:t")
    placeholder.text = "1"
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    for element in (begin, instr, separate, placeholder, end):
        run._r.append(element)


def _list_number_abstract(document: Any) -> int:
    """The abstractNumId behind the ``List Number`` style of the default template."""
    from docx.oxml.ns import qn

    style = document.styles["List Number"]
    num_pr = style.element.pPr.find(qn("w:numPr"))
    num_id = int(num_pr.find(qn("w:numId")).get(qn("w:val")))
    numbering = document.part.numbering_part.element
    for num in numbering.findall(qn("w:num")):
        if int(num.get(qn("w:numId"))) == num_id:
            return int(num.find(qn("w:abstractNumId")).get(qn("w:val")))
    raise LookupError("List Number style has no numbering definition")  # pragma: no cover - default template


def _restarted_numbering(document: Any, abstract_id: int, start: int) -> int:
    """A new w:num over the List Number definition whose first level restarts at ``start``."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    numbering = document.part.numbering_part.element
    num = numbering.add_num(abstract_id)
    for level in range(3):
        override = OxmlElement("w:lvlOverride")
        override.set(qn("w:ilvl"), str(level))
        start_el = OxmlElement("w:startOverride")
        start_el.set(qn("w:val"), str(start if level == 0 else 1))
        override.append(start_el)
        num.append(override)
    return int(num.numId)


def _set_numbering(paragraph: Any, num_id: int, level: int) -> None:
    p_pr = paragraph._p.get_or_add_pPr()
    num_pr = p_pr.get_or_add_numPr()
    num_pr.get_or_add_ilvl().val = level
    num_pr.get_or_add_numId().val = num_id


def _repeat_header(row: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


# --------------------------------------------------------------------------- Markdown tokens -> Word

class _Writer:
    def __init__(self, document: Any):
        self.doc = document
        self.lists: list[_ListState] = []
        self.abstract = _list_number_abstract(document)
        self.paragraph: Any = None
        self.table: Any = None
        self.row_cells: list[Any] = []
        self.cell_index = 0
        self.in_header = False
        self.quotes = 0
        self.style_ids = {style.name: style.style_id for style in document.styles}

    def add_paragraph(self, style: str | None = None, text: str = "") -> Any:
        """A body paragraph; the style is set by id (python-docx's by-name lookup dominated the time)."""
        paragraph = self.doc.add_paragraph(text)
        if style is not None and style in self.style_ids:
            paragraph._p.style = self.style_ids[style]
        return paragraph

    def _list_paragraph(self) -> Any:
        state = self.lists[-1]
        base = "List Number" if state.ordered else "List Bullet"
        name = base if state.level == 0 else f"{base} {min(state.level + 1, 3)}"
        paragraph = self.add_paragraph(name if name in self.style_ids else base)
        if state.ordered and state.num_id is not None:
            _set_numbering(paragraph, state.num_id, min(state.level, 2))
        return paragraph

    def inline(self, paragraph: Any, children: list[Any], *, bold: bool = False) -> None:
        strong = em = strike = 0
        for t in children:
            kind = t.type
            if kind == "strong_open":
                strong += 1
            elif kind == "strong_close":
                strong -= 1
            elif kind == "em_open":
                em += 1
            elif kind == "em_close":
                em -= 1
            elif kind == "s_open":
                strike += 1
            elif kind == "s_close":
                strike -= 1
            elif kind in ("text", "code_inline"):
                if not t.content:
                    continue
                run = paragraph.add_run(t.content)
                run.bold = True if (strong or bold) else None
                run.italic = True if em else None
                if strike:
                    run.font.strike = True
                if kind == "code_inline":
                    run.font.name = "Consolas"
            elif kind == "softbreak":
                paragraph.add_run(" ")
            elif kind == "hardbreak":
                paragraph.add_run().add_break()
            elif kind == "image":
                paragraph.add_run(f"[image: {t.content or t.attrGet('src') or ''}]")
            # link_open/link_close: the link text is kept as text (children between them)

    def write(self, tokens: list[Any]) -> None:
        for i, t in enumerate(tokens):
            kind = t.type
            if kind == "heading_open":
                level = int(t.tag[1])
                self.paragraph = self.add_paragraph(f"Heading {min(level, 4)}")
            elif kind == "heading_close":
                self.paragraph = None
            elif kind == "paragraph_open":
                if self.table is not None:
                    continue
                if self.lists and not _continuation(tokens, i):
                    self.paragraph = self._list_paragraph()
                elif self.lists:
                    self.paragraph = self.add_paragraph("List Continue")
                else:
                    self.paragraph = self.add_paragraph("Quote" if self.quotes else None)
            elif kind == "paragraph_close":
                self.paragraph = None
            elif kind == "inline":
                if self.table is not None:
                    cell = self.row_cells[self.cell_index]
                    self.inline(cell.paragraphs[0], t.children or [], bold=self.in_header)
                elif self.paragraph is not None:
                    self.inline(self.paragraph, t.children or [])
            elif kind in ("bullet_list_open", "ordered_list_open"):
                ordered = kind == "ordered_list_open"
                num_id = None
                if ordered and self.lists and self.lists[-1].ordered:
                    num_id = self.lists[-1].num_id  # nested ordered list: next level of the same numbering
                elif ordered:
                    num_id = _restarted_numbering(self.doc, self.abstract, int(t.attrGet("start") or 1))
                self.lists.append(_ListState(ordered, num_id, len(self.lists)))
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
            elif kind == "table_open":
                self.table = self.doc.add_table(rows=0, cols=_table_columns(tokens, i))
                self.table.style = self.doc.styles["Table Grid"]
            elif kind == "table_close":
                self.table = None
            elif kind == "thead_open":
                self.in_header = True
            elif kind == "thead_close":
                self.in_header = False
            elif kind == "tr_open":
                row = self.table.add_row()
                if self.in_header:
                    _repeat_header(row)
                self.row_cells = row.cells
                self.cell_index = -1
            elif kind in ("th_open", "td_open"):
                self.cell_index += 1
            elif kind in ("fence", "code_block"):
                for line in t.content.rstrip("\n").split("\n"):
                    run = self.add_paragraph("No Spacing").add_run(line)
                    run.font.name = "Consolas"
            elif kind == "blockquote_open":
                self.quotes += 1
            elif kind == "blockquote_close":
                self.quotes -= 1
            elif kind == "hr":
                self.add_paragraph(None, "—")


def _continuation(tokens: list[Any], i: int) -> bool:
    """True for the second and later paragraphs of one list item (they carry no new number)."""
    return i == 0 or tokens[i - 1].type != "list_item_open"


def _table_columns(tokens: list[Any], i: int) -> int:
    cols = 0
    for t in tokens[i + 1:]:
        if t.type in ("th_open", "td_open"):
            cols += 1
        elif t.type == "tr_close":
            break
    return max(cols, 1)


# --------------------------------------------------------------------------- a policy -> DOCX

def _datetime(value: Any) -> dt.datetime | None:
    d = as_date(value)
    return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC) if d else None


def _control_table(document: Any, doc: PolicyDocument, control: dict[str, Any]) -> None:
    rows = [
        ("Document", f"{doc.title} ({doc.id})"), ("Version", control["version"]), ("Status", control["status"]),
        ("Owner", control["owner"]), ("Approver", control["approver"]), ("Approved by", control["approved_by"]),
        ("Approval date", control["approved_on"]), ("Effective date", control["effective_date"]),
        ("Review interval", control["review_interval"]), ("Next review", control["next_review"]),
    ]
    document.add_paragraph().add_run("Document control").bold = True
    table = document.add_table(rows=0, cols=2)
    table.style = document.styles["Table Grid"]
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].paragraphs[0].add_run(label).bold = True
        cells[1].paragraphs[0].add_run(str(value))


def policy_docx(doc: PolicyDocument, company: str) -> bytes:
    docx = _docx()
    from docx.enum.text import WD_BREAK
    from docx.shared import Pt

    document = docx.Document()
    control = document_control(doc)
    normal = document.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10.5)

    section = document.sections[0]
    section.header.paragraphs[0].text = f"{company} — {doc.title}, version {control['version']}"
    footer = section.footer.paragraphs[0]
    footer.add_run(f"{doc.id} · {control['status']} · Page ")
    _field(footer, "PAGE")
    footer.add_run(" of ")
    _field(footer, "NUMPAGES")

    document.add_paragraph(company, style="Subtitle")
    document.add_paragraph(doc.title, style="Title")
    sub = document.add_paragraph(f"{doc.id} · Version {control['version']} · {control['status']}")
    if not control["approved"]:
        sub.add_run(" · NOT YET APPROVED").bold = True
    _control_table(document, doc, control)
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    _Writer(document).write(_md().parse(doc.body))

    props = document.core_properties
    props.title = doc.title
    props.author = company
    props.last_modified_by = company
    props.subject = f"{doc.title}, version {control['version']}"
    props.comments = f"Version {control['version']}, status {control['status']}; built from policies/{doc.path.name} by soc2kit {__version__}"
    props.keywords = f"{doc.id}; policy; SOC 2 readiness"
    props.category = "Policy"
    props.version = control["version"]
    props.revision = 1
    created = _datetime(doc.meta.get("effective_date")) or dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    props.created = created
    props.modified = _datetime(doc.meta.get("approved_on")) or created
    props.last_printed = created

    raw = io.BytesIO()
    document.save(raw)
    return _fixed_zip(raw.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """Re-zip with fixed timestamps and order so that output depends only on the content."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


@dataclass
class DocxBuild:
    files: dict[str, bytes]
    seconds: dict[str, float]


def build_docx(documents: list[PolicyDocument], company: str) -> DocxBuild:
    files: dict[str, bytes] = {}
    seconds: dict[str, float] = {}
    for doc in documents:
        t = time.perf_counter()
        files[f"docx/{doc.id}.docx"] = policy_docx(doc, company)
        seconds[f"docx/{doc.id}.docx"] = time.perf_counter() - t
    return DocxBuild(files, seconds)

