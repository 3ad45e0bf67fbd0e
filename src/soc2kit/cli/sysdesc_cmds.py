"""`soc2kit export system-description`: a draft SOC 2 system description filled from the profile,
with the places the company must complete counted and listed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from soc2kit.cli.app import TableFormat, _emit_json, _open_workspace, out
from soc2kit.cli.export_cmds import export_app


@export_app.command("system-description")
def export_system_description(
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="File to write: .md (default WORKSPACE/dist/system-description.md), .html or .docx.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the file even if it is not the draft soc2kit last wrote there (your edits in it are lost).")] = False,
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format of the summary: table or json (path, sections, places to complete).")] = TableFormat.table,
) -> None:
    """Draft SOC 2 system description: services, commitments, components, AI systems and data flows,
    controls by criterion, subservice organizations and their complementary controls, complementary
    user entity controls. Places the company must complete are marked [TO COMPLETE: ...] and listed."""
    from soc2kit.export.system_description import export_system_description as export

    result = export(_open_workspace(), out_path, force=force)
    if fmt == TableFormat.json:
        _emit_json(result.summary())
        return
    desc = result.description
    out.print(f"wrote {result.path}")
    if result.vendor_register:
        out.print("subservice organizations: from the profile and the vendor register")
    count = len(desc.to_complete)
    out.print(f"{count} place{'' if count == 1 else 's'} to complete:")
    for item in desc.to_complete:
        out.print(f"  line {item.line} ({item.section}): {item.instruction}")
