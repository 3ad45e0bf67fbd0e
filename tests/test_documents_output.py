"""`soc2kit build --format pdf,docx`: per-policy PDFs, the policy manual and editable DOCX files.

PDFs are read back with pypdf and DOCX files re-opened with python-docx; nothing is mocked. One full
example is built once for the module; the other tests build a few policies of a workspace copy.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import docx
import pypdf
import pytest
from docx.oxml.ns import qn

from conftest import REPO, require_pdf
from soc2kit.render.build import DEFAULT_FORMATS, build, parse_formats
from soc2kit.render.documents import read_policy_documents
from soc2kit.render.html import _md
from soc2kit.render.pdf import MANUAL, inline_text
from soc2kit.workspace import Workspace

RAW_MARKUP = ("{{", "{%", "**", "*Controls:")
KEEP = ("access-control", "incident-response", "policy-management")


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def pdf_pages(path: Path) -> list[str]:
    return [flat(p.extract_text() or "") for p in pypdf.PdfReader(path).pages]


def subset(root: Path, keep: tuple[str, ...] = KEEP) -> Path:
    for p in (root / "policies").glob("*.md"):
        if p.stem not in keep:
            p.unlink()
    return root


@pytest.fixture(scope="module")
def full(tmp_path_factory, _initialised_examples):
    """genai-platform (27 policies) built once to PDF and DOCX through the real CLI."""
    require_pdf()
    from soc2kit.cli import main

    root = tmp_path_factory.mktemp("docs") / "genai"
    shutil.copytree(_initialised_examples("genai-platform"), root)
    sink = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        try:
            main(["-w", str(root), "build", "--format", "pdf,docx"])
        except SystemExit as exc:
            assert not exc.code, sink.getvalue()
    return root, sink.getvalue()


def test_every_policy_gets_a_pdf_a_docx_and_the_cli_names_the_manual(full):
    root, output = full
    ids = sorted(p.stem for p in (root / "policies").glob("*.md"))
    assert len(ids) == 27
    dist = root / "dist"
    assert sorted(p.stem for p in (dist / "pdf").glob("*.pdf") if p.name != MANUAL) == ids
    assert sorted(p.stem for p in (dist / "docx").glob("*.docx")) == ids
    assert (dist / "pdf" / MANUAL).exists() and (dist / "control-matrix.csv").exists()
    assert not (dist / "html").exists()  # only the formats asked for
    assert str(dist / "pdf" / MANUAL) in flat(output) and str(dist / "docx") in flat(output)


def test_policy_pdf_has_cover_control_table_contents_headings_and_page_numbers(full):
    root, _ = full
    doc = next(d for d in read_policy_documents(root / "policies") if d.id == "access-control")
    pages = pdf_pages(root / "dist" / "pdf" / "access-control.pdf")
    text = " ".join(pages)
    n = len(pages)
    assert n >= 5
    cover = pages[0]
    assert cover.startswith("Northwind Generative Ltd. Access Control Policy")
    for label in ("Document control", "Version 1.0", "Owner Security Officer", "Approver Chief Executive Officer",
                  "Approval date not yet approved", "Next review 2027-12-15", "Effective date 2026-12-15", "Contents"):
        assert label in cover, label
    for i, page in enumerate(pages, 1):
        assert f"Page {i} of {n}" in page
        assert "access-control" in page
        if i > 1:
            assert "Northwind Generative Ltd." in page and "Access Control Policy · Version 1.0" in page
    for section in doc.sections:
        assert inline_text(section.title) in text, section.title
    # contents entries carry the page the section starts on
    purpose_page = next(i for i, p in enumerate(pages[1:], 2) if "1. Purpose" in p)
    assert f"1. Purpose {purpose_page} 2. Scope" in cover
    assert "ACP-4.1 Every workforce member" in text and "Controls: AC-01." in text
    for raw in RAW_MARKUP:
        assert raw not in text, raw


def test_manual_contents_list_every_policy_at_the_page_where_it_starts(full):
    root, _ = full
    reader = pypdf.PdfReader(root / "dist" / "pdf" / MANUAL)
    total = len(reader.pages)

    def page(number: int) -> str:  # text extraction is slow: read only the pages checked
        return flat(reader.pages[number - 1].extract_text() or "")

    documents = read_policy_documents(root / "policies")
    per_policy = {d.id: len(pypdf.PdfReader(root / "dist" / "pdf" / f"{d.id}.pdf").pages) for d in documents}
    front = total - sum(per_policy.values())
    assert front >= 2 and page(1).startswith("Northwind Generative Ltd. Policy manual 27 policies")
    contents = " ".join(page(n) for n in range(2, front + 1))
    expected_start = front + 1
    for d in documents:
        m = re.search(re.escape(d.title) + r" version 1\.0, draft (\d+) ", contents)
        assert m, d.title
        start = int(m.group(1))
        assert start == expected_start
        first = page(start)
        assert d.title in first and f"Page 1 of {per_policy[d.id]}" in first  # each policy starts on its own page
        assert f"Policy manual · page {start} of {total}" in first
        expected_start += per_policy[d.id]
    for n in (2, front, total):
        assert f"Policy manual · page {n} of {total}" in page(n)
    assert "Policy manual · page" not in page(1)
    # bookmarks: one per policy, with its top-level sections under it
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert titles[0] == "Contents" and titles[1:] == [d.title for d in documents]
    links = [a for p in reader.pages[1:front] for a in (p.get("/Annots") or []) if a.get_object().get("/Subtype") == "/Link"]
    assert len(links) >= len(documents)
    for raw in RAW_MARKUP:
        assert raw not in contents


def _numbering(document) -> dict[str, dict[str, str]]:
    """numId -> {ilvl: startOverride} from the numbering part."""
    result = {}
    for num in document.part.numbering_part.element.findall(qn("w:num")):
        overrides = {}
        for o in num.findall(qn("w:lvlOverride")):
            start = o.find(qn("w:startOverride"))
            if start is not None:
                overrides[o.get(qn("w:ilvl"))] = start.get(qn("w:val"))
        result[num.get(qn("w:numId"))] = overrides
    return result


def test_docx_has_word_headings_restarted_numbered_lists_and_tables(full):
    root, _ = full
    doc = next(d for d in read_policy_documents(root / "policies") if d.id == "access-control")
    word = docx.Document(str(root / "dist" / "docx" / "access-control.docx"))
    styles = Counter(p.style.name for p in word.paragraphs)
    assert styles["Title"] == 1 and styles["Heading 1"] == 1
    assert styles["Heading 2"] == sum(s.level == 2 for s in doc.sections)
    assert styles["Heading 3"] == sum(s.level == 3 for s in doc.sections)
    headings = [p.text for p in word.paragraphs if p.style.name.startswith("Heading")]
    assert headings == [inline_text(s.title) for s in doc.sections]

    # numbered lists: one numbering per Markdown list, each restarting at 1
    ordered_lists = sum(1 for t in _md().parse(doc.body) if t.type == "ordered_list_open" and t.level == 0)
    assert ordered_lists >= 2
    runs: list[str] = []
    for p in word.paragraphs:
        if p.style.name == "List Number":
            runs.append(p._p.pPr.numPr.numId.val)
    num_ids = list(dict.fromkeys(str(n) for n in runs))
    assert len(num_ids) == ordered_lists
    numbering = _numbering(word)
    for num_id in num_ids:
        assert numbering[num_id].get("0") == "1"
    first_item = next(p for p in word.paragraphs if p.style.name == "List Number")
    assert first_item.text.startswith("The People Lead enters the new hire's start date")

    # document-control table first, then the policy's own tables with a repeated header row
    control = word.tables[0]
    labels = [row.cells[0].text for row in control.rows]
    assert labels == ["Document", "Version", "Status", "Owner", "Approver", "Approved by", "Approval date", "Effective date", "Review interval", "Next review"]
    assert control.rows[1].cells[1].text == "1.0" and control.rows[9].cells[1].text == "2027-12-15"
    roles = word.tables[1]
    assert [c.text for c in roles.rows[0].cells] == ["Role", "Responsibilities under this policy"]
    assert roles.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    appendix = next(t for t in word.tables if t.rows[0].cells[0].text == "Control")
    assert [r.cells[0].text for r in appendix.rows[1:]][:2] == ["AC-01", "AC-07"]

    # statements keep their bold id and italic citation as run formatting, not Markdown
    statement = next(p for p in word.paragraphs if p.text.startswith("ACP-4.1 "))
    assert statement.runs[0].text == "ACP-4.1" and statement.runs[0].bold
    assert any(r.italic and "Controls: AC-01." in r.text for r in statement.runs)
    body_text = "\n".join(p.text for p in word.paragraphs)
    for raw in RAW_MARKUP:
        assert raw not in body_text

    section = word.sections[0]
    assert "Northwind Generative Ltd." in section.header.paragraphs[0].text
    footer_xml = section.footer.paragraphs[0]._p.xml
    assert " PAGE " in footer_xml and " NUMPAGES " in footer_xml
    props = word.core_properties
    assert props.title == "Access Control Policy" and props.author == "Northwind Generative Ltd."
    assert "version 1.0" in props.subject and "1.0" in props.comments
    assert props.created.date().isoformat() == "2026-12-15"


def test_hostile_company_and_policy_text_appear_literally(cli, workspace):
    require_pdf()
    root = subset(workspace("llm-startup"), ("access-control",))
    evil = "Acme {{ 7*7 }} <script>alert(1)</script> *x*"
    profile = root / "soc2kit.yaml"
    text = profile.read_text()
    old_name = re.search(r"^  name: (.*)$", text, re.M).group(1)
    profile.write_text(text.replace(f"  name: {old_name}", f"  name: '{evil}'", 1))
    policy = root / "policies" / "access-control.md"
    hostile = ("Injected: {{ 6*7 }} {% if true %}yes{% endif %} <script>alert(2)</script> <b>raw</b> "
               "![leak](file:///etc/passwd) ![remote](http://127.0.0.1:9/x.png)")
    policy.write_text(policy.read_text().replace("## 2. Scope", hostile + "\n\n## 2. Scope", 1))

    r = cli("-w", root, "build", "--format", "pdf,docx")
    assert r.code == 0, r.err
    pages = pdf_pages(root / "dist" / "pdf" / "access-control.pdf")
    text = " ".join(pages)
    assert evil in pages[0] and evil in pages[1]  # cover and running header
    assert "Acme 49" not in text and "Injected: 42" not in text
    assert "Injected: {{ 6*7 }} {% if true %}yes{% endif %} <script>alert(2)</script> <b>raw</b>" in text
    assert "root:" not in text  # the image was not fetched
    manual = " ".join(pdf_pages(root / "dist" / "pdf" / MANUAL))
    assert evil in manual

    word = docx.Document(str(root / "dist" / "docx" / "access-control.docx"))
    assert evil in word.sections[0].header.paragraphs[0].text and word.core_properties.author == evil
    body = "\n".join(p.text for p in word.paragraphs)
    assert "Injected: {{ 6*7 }} {% if true %}yes{% endif %} <script>alert(2)</script> <b>raw</b>" in body


def test_outputs_are_deterministic_and_do_not_depend_on_the_worker_count(workspace):
    require_pdf()
    root = subset(workspace("healthtech"), ("backup", "policy-management"))
    ws = Workspace.open(root)
    first = build(ws, formats=["pdf", "docx"], out=root / "one", workers=1)
    second = build(ws, formats=["pdf", "docx"], out=root / "two", workers=2)
    assert first.files == second.files
    for rel in first.files:
        assert (root / "one" / rel).read_bytes() == (root / "two" / rel).read_bytes(), rel
    info = pypdf.PdfReader(root / "one" / "pdf" / "backup.pdf").metadata
    assert info["/CreationDate"].startswith("D:2027")  # the document's effective date, not the clock
    assert info["/Author"] == ws.profile.company.name
    assert first.pages["pdf/backup.pdf"] >= 3 and set(first.document_seconds) >= {"pdf/backup.pdf", "docx/backup.docx", f"pdf/{MANUAL}"}


def test_ordered_list_numbering_restarts_and_nests(tmp_path, workspace):
    require_pdf()
    root = subset(workspace("llm-startup"), ("policy-management",))
    policy = root / "policies" / "policy-management.md"
    policy.write_text(policy.read_text() + textwrap.dedent("""
        ## Test lists

        1. first a
        2. second a
           1. nested one
           2. nested two
        3. third a

        Between the lists.

        3. starts at three
        4. four

        - bullet *em* and `code` and ~~gone~~
    """))
    build(Workspace.open(root), formats=["docx"])
    word = docx.Document(str(root / "dist" / "docx" / "policy-management.docx"))
    paras = word.paragraphs[[p.text for p in word.paragraphs].index("Test lists"):]
    items = {p.text: p for p in paras if p._p.pPr is not None and p._p.pPr.numPr is not None}
    a, nested, c = items["first a"], items["nested one"], items["starts at three"]
    num = a._p.pPr.numPr.numId.val
    assert items["third a"]._p.pPr.numPr.numId.val == num
    assert nested._p.pPr.numPr.numId.val == num and nested._p.pPr.numPr.ilvl.val == 1
    assert c._p.pPr.numPr.numId.val != num
    numbering = _numbering(word)
    assert numbering[str(num)]["0"] == "1" and numbering[str(c._p.pPr.numPr.numId.val)]["0"] == "3"
    bullet = next(p for p in paras if p.text.startswith("bullet"))
    assert bullet.style.name == "List Bullet"
    assert [(r.text, bool(r.italic), bool(r.font.strike)) for r in bullet.runs if r.text.strip()] == [
        ("bullet ", False, False), ("em", True, False), (" and ", False, False), ("code", False, False), (" and ", False, False), ("gone", False, True)]


def test_format_choice():
    assert parse_formats(None) == list(DEFAULT_FORMATS) == ["md", "html"]
    assert parse_formats("pdf, docx,pdf") == ["pdf", "docx"]
    assert parse_formats("all") == ["md", "html", "pdf", "docx"]


MISSING_PANGO = """
import cffi.api
real = cffi.api.FFI.dlopen
def dlopen(self, name, *args, **kwargs):
    if "pango" in str(name):
        raise OSError(f"cannot load library '{name}': {name}: cannot open shared object file: No such file or directory")
    return real(self, name, *args, **kwargs)
cffi.api.FFI.dlopen = dlopen
import sys
from soc2kit.cli import main
main(sys.argv[1:])
"""


def test_a_missing_pango_library_is_a_user_error_with_the_install_hint(workspace, tmp_path):
    root = subset(workspace("llm-startup"), ("backup",))
    script = tmp_path / "no_pango.py"
    script.write_text(MISSING_PANGO)
    r = subprocess.run([sys.executable, str(script), "-w", str(root), "build", "--format", "pdf"],
                       capture_output=True, text=True, cwd=REPO, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "PDF output needs a system library" in r.stderr and "apt-get install -y libpango-1.0-0" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (root / "dist").exists()
