"""`soc2kit export oscal`: the control catalog, the workspace's selection, its components and a
system security plan as OSCAL 1.1.3 JSON, validated before they are written."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from soc2kit.cli.app import TableFormat, _emit_json, _open_workspace, out
from soc2kit.cli.export_cmds import export_app


@export_app.command("oscal")
def export_oscal_cmd(
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="Output directory, replaced as a whole on each export (default: WORKSPACE/dist/oscal).")] = None,
    date: Annotated[str | None, typer.Option("--date", help="last-modified of every document: YYYY-MM-DD or an ISO 8601 date-time "
                                                              "(default: SOURCE_DATE_EPOCH, else when the profile, assessment or kit state last changed).")] = None,
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format of the summary.")] = TableFormat.table,
) -> None:
    """Write catalog.json, profile.json, component-definition.json and ssp.json (OSCAL 1.1.3), each
    validated against NIST's JSON schema; re-exporting an unchanged workspace gives identical files."""
    from soc2kit.export.oscal import export_oscal, parse_date

    moment = parse_date(date) if date is not None else None
    ws = _open_workspace()
    result = export_oscal(ws, out_dir, date=moment)
    if fmt == TableFormat.json:
        _emit_json(result.as_dict())
        return
    c = result.counts
    out.print(f"OSCAL {result.as_dict()['oscal_version']} written to {result.out_dir} (last-modified {result.last_modified}); every document validated against the bundled schema")
    out.print(f"  {result.out_dir / 'catalog.json'}: {c['catalog_controls']} controls in {c['catalog_groups']} groups")
    out.print(f"  {result.out_dir / 'profile.json'}: {c['profile_controls']} applicable controls, {c['profile_parameters']} parameters set")
    out.print(f"  {result.out_dir / 'component-definition.json'}: {c['components']} components, {c['component_requirements']} implemented requirements")
    out.print(f"  {result.out_dir / 'ssp.json'}: {c['ssp_requirements']} implemented requirements")
