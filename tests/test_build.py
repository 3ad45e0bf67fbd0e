"""`soc2kit build`: converts the company's policies as edited; HTML site, Markdown and matrix."""

from __future__ import annotations

import csv
import io
import re

from conftest import tree, write
from soc2kit.library import load_catalog


def test_build_writes_site_markdown_and_matrix(cli, workspace):
    root = workspace("genai-platform")
    r = cli("--workspace", root, "build")
    assert r.code == 0, r.err
    dist = root / "dist"
    policies = sorted(p.stem for p in (root / "policies").glob("*.md"))
    for pid in policies:
        assert (dist / "html" / "policies" / f"{pid}.html").exists()
        assert (dist / "md" / f"{pid}.md").exists()
    for page in ("index.html", "controls.html", "traceability.html", "style.css"):
        assert (dist / "html" / page).exists()
    assert str(dist / "html" / "index.html") in r.out


def test_policy_pages_carry_document_control(cli, workspace):
    root = workspace("healthtech")
    assert cli("-w", root, "build").code == 0
    html = (root / "dist" / "html" / "policies" / "access-control.html").read_text()
    for label in ("Version", "Owner", "Approver", "Effective date", "Next review", "not yet approved"):
        assert label in html
    md = (root / "dist" / "md" / "access-control.md").read_text()
    assert md.startswith("| Document control |")
    assert "| Effective date | 2027-01-15 |" in md


def test_traceability_page_lists_every_in_scope_criterion(cli, workspace):
    root = workspace("genai-platform")
    assert cli("-w", root, "build").code == 0
    html = (root / "dist" / "html" / "traceability.html").read_text()
    catalog = load_catalog()
    for cid in catalog.criteria:  # all five categories are in scope for this example
        assert f'id="{cid.lower()}"' in html
    assert "policies/access-control.html#" in html


def test_out_of_scope_categories_are_left_out(cli, workspace):
    root = workspace("llm-startup")  # security + confidentiality only
    assert cli("-w", root, "build").code == 0
    html = (root / "dist" / "html" / "traceability.html").read_text()
    assert 'id="c1.1"' in html and 'id="cc6.1"' in html
    assert 'id="p1.1"' not in html and 'id="a1.1"' not in html


def test_build_uses_the_company_edits_and_never_rewrites_policies(cli, workspace):
    root = workspace("llm-startup")
    doc = root / "policies" / "access-control.md"
    doc.write_text(doc.read_text().replace("## 1. Purpose", "## 1. Purpose\n\nEdited by our Security Officer on purpose.\n\n**ACP-99.1** Extra statement. *Controls: AC-05.*", 1))
    before = tree(root / "policies")
    r = cli("-w", root, "build")
    assert r.code == 0, r.err
    assert tree(root / "policies") == before
    html = (root / "dist" / "html" / "policies" / "access-control.html").read_text()
    assert "Edited by our Security Officer on purpose." in html
    matrix = (root / "dist" / "control-matrix.csv").read_text()
    assert "access-control ACP-99.1" in matrix


def test_control_matrix_has_one_row_per_control_and_is_formula_safe(cli, workspace):
    root = workspace("healthtech")
    assert cli("-w", root, "build").code == 0
    rows = list(csv.DictReader(io.StringIO((root / "dist" / "control-matrix.csv").read_text())))
    catalog = load_catalog()
    assert [r["control_id"] for r in rows] == list(catalog.controls)
    for r in rows:
        for v in r.values():
            assert not re.match(r"^[=+\-@]", v)
        assert r["applicable"] in ("yes", "no")
        if r["applicable"] == "no":
            assert r["not_applicable_reason"]
    by_id = {r["control_id"]: r for r in rows}
    assert by_id["TRD-01"]["applicable"] == "yes"  # trains models
    assert "{{" not in by_id["AC-05"]["statement"]


def test_build_replaces_previous_output(cli, workspace):
    root = workspace("llm-startup")
    assert cli("-w", root, "build").code == 0
    stale = root / "dist" / "html" / "policies" / "stale.html"
    stale.write_text("old")
    assert cli("-w", root, "build", "--format", "md").code == 0
    assert not stale.exists() and not (root / "dist" / "html").exists()
    assert (root / "dist" / "md").is_dir()


def test_build_refuses_a_foreign_non_empty_output_directory(cli, workspace, tmp_path):
    root = workspace("llm-startup")
    foreign = tmp_path / "important"
    write(foreign / "keep.txt", "precious")
    r = cli("-w", root, "build", "--out", foreign)
    assert r.code == 2 and "not made by soc2kit build" in r.err
    assert (foreign / "keep.txt").read_text() == "precious"


def test_unknown_formats_are_usage_errors(cli, workspace):
    root = workspace("llm-startup")
    r = cli("-w", root, "build", "--format", "html,rtf")
    assert r.code == 2 and "unknown format 'rtf'" in r.err and "pdf, docx" in r.err
    r = cli("-w", root, "build", "--format", " , ")
    assert r.code == 2 and "no format given" in r.err
    assert not (root / "dist").exists()


def test_build_outside_a_workspace_explains_how_to_start(cli, tmp_path):
    r = cli("-w", tmp_path, "build")
    assert r.code == 2 and "soc2kit.yaml is missing" in r.err and "soc2kit init" in r.err


def test_malformed_front_matter_in_an_edited_policy_is_located(cli, workspace):
    root = workspace("llm-startup")
    doc = root / "policies" / "access-control.md"
    doc.write_text(doc.read_text().replace("version: '1.0'", "version: [1.0", 1))
    r = cli("-w", root, "build")
    assert r.code == 2 and "access-control.md:" in r.err and "front matter" in r.err
    assert not (root / "dist").exists()


def test_a_failure_while_writing_leaves_the_previous_build_intact(cli, workspace, monkeypatch):
    root = workspace("llm-startup")
    assert cli("-w", root, "build").code == 0
    before = tree(root / "dist")

    def failing_write(staged, files):
        (staged / "partial.html").write_text("half")
        raise OSError("disk full")

    monkeypatch.setattr("soc2kit.render.build.write_tree", failing_write)
    r = cli("-w", root, "build")
    assert r.code == 2 and "disk full" in r.err and "Traceback" not in r.err
    assert tree(root / "dist") == before
    assert not [p for p in root.iterdir() if p.name.startswith(".dist.")]  # no staging leftovers


def test_control_frequency_follows_the_profile_parameter(cli, workspace):
    root = workspace("healthtech")  # pentest_interval: semiannual in this example
    assert cli("-w", root, "build", "--format", "md").code == 0
    rows = {r["control_id"]: r for r in csv.DictReader(io.StringIO((root / "dist" / "control-matrix.csv").read_text()))}
    assert rows["OPS-03"]["frequency"] == "semiannual"
    assert rows["AC-05"]["frequency"] == "quarterly"


def test_the_control_text_cache_is_invisible_and_follows_the_profile(cli, workspace):
    root = workspace("llm-startup")
    assert cli("-w", root, "build", "--format", "md").code == 0
    first = (root / "dist" / "control-matrix.csv").read_text()
    assert list((root / ".soc2kit" / "cache").glob("controls-*.json"))
    assert cli("-w", root, "build", "--format", "md").code == 0
    assert (root / "dist" / "control-matrix.csv").read_text() == first  # from the cache, byte-identical
    prof = root / "soc2kit.yaml"
    prof.write_text(prof.read_text() + "parameters:\n  access_review_interval: monthly\n")
    assert cli("-w", root, "build", "--format", "md").code == 0
    rows = {r["control_id"]: r for r in csv.DictReader(io.StringIO((root / "dist" / "control-matrix.csv").read_text()))}
    assert rows["AC-05"]["statement"].startswith("Every month,") and rows["AC-05"]["frequency"] == "monthly"


def test_build_keeps_what_other_commands_wrote_into_dist(cli, workspace):
    """Exports and reports live in dist/ by default; a build replaces only its own products."""
    root = workspace()
    dist = root / "dist"
    assert cli("gap", "--format", "html", cwd=root).code == 0  # dist/reports/gap.html, before any build
    assert cli("export", "matrix", cwd=root).code == 0
    (dist / "acme-soc2-package-2026-11-27.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    assert cli("build", "--format", "md", cwd=root).code == 0
    kept = {"reports/gap.html", "control-matrix.xlsx", "acme-soc2-package-2026-11-27.zip"}
    assert all((dist / k).is_file() for k in kept)
    matrix = (dist / "control-matrix.xlsx").read_bytes()
    (dist / "md" / "stale.md").write_text("left over from an earlier build")
    assert cli("build", "--format", "html", cwd=root).code == 0
    assert not (dist / "md").exists() and (dist / "html" / "index.html").is_file()  # the build's own products are replaced
    assert all((dist / k).is_file() for k in kept) and (dist / "control-matrix.xlsx").read_bytes() == matrix
    (dist / "notes.txt").write_text("mine")
    assert cli("build", "--format", "md", cwd=root).code == 0 and (dist / "notes.txt").read_text() == "mine"
