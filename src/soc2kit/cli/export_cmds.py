"""`soc2kit export ...`: auditor-facing outputs (control matrix, auditor package; OSCAL and the
system description register their commands on ``export_app`` from their own modules)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from soc2kit.cli.app import TableFormat, _emit_json, _open_workspace, app, out

export_app = typer.Typer(help="Auditor-facing outputs: control matrix (XLSX), system description, auditor package, OSCAL.",
                         no_args_is_help=True, rich_markup_mode=None)
app.add_typer(export_app, name="export")


@export_app.command("matrix")
def export_matrix(
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="XLSX file to write (default: WORKSPACE/dist/control-matrix.xlsx).")] = None,
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format of the summary.")] = TableFormat.table,
) -> None:
    """The control matrix as XLSX: controls with owner, frequency, status, test procedure, evidence count and last
    evidence date; criteria → controls; crosswalks. Frozen headers and filters on every sheet."""
    from soc2kit._fs import atomic_write_bytes
    from soc2kit.errors import UsageError
    from soc2kit.export.matrix import matrix_workbook

    ws = _open_workspace()
    path = out_file or ws.root / "dist" / "control-matrix.xlsx"
    if path.suffix.lower() != ".xlsx":
        raise UsageError(f"the matrix is written as XLSX; {path.name!r} does not end in .xlsx", hint="e.g. --out control-matrix.xlsx")
    result = matrix_workbook(ws)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, result.data)
    summary = {"path": str(path), "controls": result.controls, "applicable": result.applicable, "criteria": result.criteria,
               "evidence_records": result.evidence_records}
    if fmt == TableFormat.json:
        _emit_json(summary)
        return
    out.print(f"Control matrix: {path}")
    out.print(f"  {result.applicable} applicable controls of {result.controls}, {result.criteria} criteria, {result.evidence_records} evidence records")


@export_app.command("auditor")
def export_auditor(
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="Zip file to write (default: WORKSPACE/dist/<company>-soc2-package-<date>.zip).")] = None,
    no_checkpoint: Annotated[bool, typer.Option("--no-checkpoint", help="Do not sign a new audit-log checkpoint for the package.")] = False,
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format of the summary.")] = TableFormat.table,
) -> None:
    """One zip for the auditor, organized by criterion: policies (PDF), control matrix, gap report, evidence index with the
    evidence files, a signed audit-log checkpoint, and a SHA-256 manifest of every file."""
    from soc2kit.export.auditor import build_package

    ws = _open_workspace()
    result = build_package(ws, out=out_file, checkpoint=not no_checkpoint)
    summary = {"path": str(result.path), "files": result.files, "bytes": result.bytes, "policies_pdf": result.policies, "criteria": result.criteria,
               "evidence": result.evidence, "checkpoint": result.checkpoint}
    if fmt == TableFormat.json:
        _emit_json(summary)
        return
    out.print(f"Auditor package: {result.path}")
    out.print(f"  {result.files} files ({result.bytes / 1e6:.1f} MB): {result.policies} policy PDFs, {result.criteria} criterion folders, {result.evidence} evidence records")
    if result.checkpoint:
        out.print(f"  audit-log checkpoint over {result.checkpoint['tree_size']} entries, root {result.checkpoint['root_hash']}")
    out.print("  check it with: sha256sum -c MANIFEST.sha256 (inside the unpacked folder)")
