"""`soc2kit export matrix` (XLSX) and `soc2kit export auditor` (the zip): re-opened and checked."""

from __future__ import annotations

import hashlib
import json
import zipfile

import openpyxl

from conftest import require_pdf
from soc2kit.export.auditor import evidence_index_rows, iter_manifest
from soc2kit.export.matrix import CONTROL_COLUMNS


def _sheet_rows(sheet) -> list[dict[str, object]]:
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_matrix_xlsx_has_one_row_per_control_with_status_and_evidence(cli, workspace, tmp_path):
    root = workspace("healthtech")
    (root / "ev.txt").write_text("quarterly access review\n")
    assert cli("evidence", "add", root / "ev.txt", "-c", "AC-05", "--period", "2026-07-01..2026-09-30", cwd=root).code == 0
    assert cli("assess", "-c", "AC-05", "--status", "implemented", "--owner", "Dana", cwd=root).code == 0
    controls = json.loads(cli("controls", "--format", "json", cwd=root).out)
    out = tmp_path / "matrix.xlsx"
    r = cli("export", "matrix", "--out", out, "--format", "json", cwd=root)
    assert r.code == 0, r.err
    summary = json.loads(r.out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Controls", "Criteria", "Crosswalk", "About"]
    sheet = wb["Controls"]
    assert [c.value for c in sheet[1]] == CONTROL_COLUMNS
    assert sheet.freeze_panes == "B2" and sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(CONTROL_COLUMNS)).column_letter}{sheet.max_row}"
    rows = _sheet_rows(sheet)
    catalog_ids = {c["id"] for c in controls["controls"]}
    assert [r["control_id"] for r in rows].count("AC-05") == 1 and {r["control_id"] for r in rows} == catalog_ids  # one row per control
    assert summary["controls"] == len(rows) and summary["applicable"] == sum(r["applicable"] == "yes" for r in rows)
    ac05 = next(r for r in rows if r["control_id"] == "AC-05")
    assert ac05["status"] == "implemented" and ac05["status_owner"] == "Dana"
    assert ac05["evidence_count"] == 1 and ac05["last_evidence"] == "2026-09-30"
    assert ac05["test_inspection"] and ac05["owner"] and ac05["frequency"] and "ACP-" in ac05["policy_sections"]
    assert all(r["status"] == "not applicable" for r in rows if r["applicable"] == "no")
    crit = _sheet_rows(wb["Criteria"])
    assert {r["criterion"] for r in crit} >= {"CC6.1", "CC7.2"} and all(r["control_count"] >= 1 for r in crit)
    cw = _sheet_rows(wb["Crosswalk"])
    assert {r["framework"] for r in cw} == {"ISO/IEC 42001:2023 Annex A", "NIST AI RMF 1.0", "ISO/IEC 27001:2022 Annex A"}
    about = {r["Field"]: r["Value"] for r in _sheet_rows(wb["About"])}
    assert about["Company"] == "Meridian Clinical AI, Inc." and about["Evidence records"] == 1
    r = cli("export", "matrix", "--out", tmp_path / "matrix.csv", cwd=root)
    assert r.code == 2 and ".xlsx" in r.err


def test_matrix_cells_are_text_never_formulas(cli, workspace, tmp_path):
    root = workspace()
    assert cli("assess", "-c", "AC-01", "--status", "partial", "--owner", "=HYPERLINK(\"http://x\")", cwd=root).code == 0
    out = tmp_path / "m.xlsx"
    assert cli("export", "matrix", "--out", out, cwd=root).code == 0
    wb = openpyxl.load_workbook(out)
    assert all(c.data_type != "f" for s in wb.worksheets for row in s.iter_rows() for c in row)
    ac01 = next(r for r in _sheet_rows(wb["Controls"]) if r["control_id"] == "AC-01")
    assert ac01["status_owner"] == '=HYPERLINK("http://x")'


def test_auditor_package_manifest_matches_and_is_organized_by_criterion(cli, workspace, tmp_path):
    require_pdf()
    root = workspace("llm-startup")
    (root / "review.csv").write_text("account,decision\nann,keep\n")
    (root / "config.json").write_text('{"mfa": true}\n')
    assert cli("evidence", "add", root / "review.csv", "-c", "AC-05", "--period", "2026-07-01..2026-09-30", cwd=root).code == 0
    assert cli("evidence", "add", root / "config.json", "-c", "AC-01", "-c", "CHG-01", cwd=root).code == 0
    out = tmp_path / "package.zip"
    r = cli("export", "auditor", "--out", out, "--format", "json", cwd=root)
    assert r.code == 0, r.err
    summary = json.loads(r.out)
    checked = 0
    for sha, name, data in iter_manifest(out):
        assert hashlib.sha256(data).hexdigest() == sha, name
        checked += 1
    with zipfile.ZipFile(out) as zf:
        names = [n.split("/", 1)[1] for n in zf.namelist()]
    assert checked == len(names) - 1 == summary["files"] - 1  # every file but the manifest itself
    policies = json.loads(cli("policies", "--format", "json", cwd=root).out)["policies"]
    for p in policies:
        assert f"policies/{p['id']}.pdf" in names and f"policies/source/{p['id']}.md" in names
    assert "policies/policy-manual.pdf" in names
    assert {"control-matrix.xlsx", "reports/gap-report.html", "reports/gap-report.json", "reports/plan.html", "README.md",
            "evidence/index.csv", "evidence/index.json", "audit/checkpoint.json", "audit/verification.json"} <= set(names)
    assert "criteria/CC6.1/README.md" in names and "criteria/CC1.1/README.md" in names
    assert "system-description.md" in names and {f"oscal/{n}.json" for n in ("catalog", "profile", "component-definition", "ssp")} <= set(names)
    index = evidence_index_rows(out)
    assert [r["controls"] for r in index] == ["AC-05", "AC-01; CHG-01"]
    for row in index:
        assert row["file"] in names and len(row["sha256"]) == 64 and row["collected_at"]
    assert index[0]["period_start"] == "2026-07-01" and index[0]["period_end"] == "2026-09-30" and index[0]["criteria"]
    with zipfile.ZipFile(out) as zf:
        top = zf.namelist()[0].split("/", 1)[0]
        cc62 = zf.read(f"{top}/criteria/{index[0]['criteria'].split('; ')[0]}/README.md").decode()
        assert f"../../{index[0]['file']}" in cc62 and index[0]["sha256"] in cc62
        cp = json.loads(zf.read(f"{top}/audit/checkpoint.json"))
    assert cp["tree_size"] >= 2
    # the checkpoint in the package verifies the workspace's log
    (tmp_path / "cp.json").write_text(json.dumps(cp))
    assert cli("audit", "verify", "--checkpoint", tmp_path / "cp.json", cwd=root).code == 0

    # A tampered evidence file stops the export and leaves the earlier package as it was.
    before = out.read_bytes()
    from soc2kit.evidence.store import EvidenceStore
    from soc2kit.workspace import Workspace

    store = EvidenceStore.open(Workspace.open(root))
    blob = store.blob_path(index[0]["sha256"])
    store.close()
    blob.chmod(0o644)
    blob.write_text("altered\n")
    r = cli("export", "auditor", "--out", out, cwd=root)
    assert r.code == 2 and "no longer matches" in r.err and "Traceback" not in r.err
    assert out.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def _links(markdown: str) -> list[str]:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(markdown)
    return [child.attrs["href"] for tok in tokens if tok.children for child in tok.children if child.type == "link_open"]


def test_auditor_package_with_odd_evidence_names_unpacks_and_links_resolve(cli, workspace, tmp_path):
    require_pdf()
    """Spaces, parentheses, unicode, a 255-character name and two records with one name: the package unpacks on an
    ordinary file system (no path component over 255 bytes), every criterion link reaches its file, the manifest checks."""
    import posixpath
    from urllib.parse import unquote

    root = workspace("llm-startup")
    names = ["my file (1).txt", "證據 ファイル.txt", "日" * 251 + ".txt", "report: Q1?.txt", "same.txt", "same.txt"]
    for n, name in enumerate(names):
        (root / f"e{n}.bin").write_text(f"evidence {n}\n")
        r = cli("evidence", "add", root / f"e{n}.bin", "-c", "AC-05", "--name", name, cwd=root)
        assert r.code == 0, r.err
    out = tmp_path / "package.zip"
    assert cli("export", "auditor", "--out", out, "--no-checkpoint", cwd=root).code == 0
    with zipfile.ZipFile(out) as zf:
        members = zf.namelist()
        assert all(len(part.encode()) <= 255 for m in members for part in m.split("/"))
        assert not [m for m in members if any(ch in m for ch in '<>:"|?*\\')]  # unpackable on Windows too
        zf.extractall(tmp_path / "unpacked")
        top = members[0].split("/", 1)[0]
        index = evidence_index_rows(out)
        criterion = index[0]["criteria"].split("; ")[0]
        page = zf.read(f"{top}/criteria/{criterion}/README.md").decode()
    folder = tmp_path / "unpacked" / top
    for sha, name, _ in iter_manifest(out):
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == sha, name
    files = [row["file"] for row in index]
    assert len(set(files)) == len(names) and all((folder / f).is_file() for f in files)
    assert [row["name"] for row in index] == names  # the index keeps the recorded names
    links = [unquote(h) for h in _links(page) if "evidence/files/" in h]
    assert len(links) == len(names)
    assert sorted(posixpath.normpath(posixpath.join(f"criteria/{criterion}", h)) for h in links) == sorted(files)


def test_auditor_package_without_an_evidence_store_says_what_it_holds(cli, workspace, tmp_path):
    require_pdf()
    root = workspace("llm-startup")
    out = tmp_path / "package.zip"
    assert cli("export", "auditor", "--out", out, cwd=root).code == 0
    assert not (root / "soc2kit.db").exists()  # exporting creates no store
    with zipfile.ZipFile(out) as zf:
        top = zf.namelist()[0].split("/", 1)[0]
        names = {n.split("/", 1)[1] for n in zf.namelist()}
        readme = zf.read(f"{top}/README.md").decode()
    assert {"evidence/index.csv", "evidence/index.json"} <= names  # the (empty) index the README lists
    assert evidence_index_rows(out) == []
    assert not any(n.startswith("audit/") for n in names)
    assert "signed checkpoint" not in readme and "no evidence store" in readme


def test_matrix_workbook_is_the_same_bytes_when_nothing_changed(workspace):
    """Two exports of an unchanged workspace on one day are identical (the XLSX is a zip with time stamps inside)."""
    import datetime as dt
    import time

    from soc2kit.export.matrix import matrix_workbook
    from soc2kit.workspace import Workspace

    ws = Workspace.open(workspace("llm-startup"))
    first = matrix_workbook(ws, today=dt.date(2026, 11, 27)).data
    time.sleep(2.1)  # zip time stamps have a two-second resolution
    assert matrix_workbook(ws, today=dt.date(2026, 11, 27)).data == first
