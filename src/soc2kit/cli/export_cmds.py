"""`soc2kit export ...`: auditor-facing outputs (control matrix, auditor package; OSCAL and the
system description register their commands on ``export_app`` from their own modules)."""

from __future__ import annotations

import typer

from soc2kit.cli.app import app

export_app = typer.Typer(help="Auditor-facing outputs: control matrix (XLSX), system description, auditor package, OSCAL.",
                         no_args_is_help=True, rich_markup_mode=None)
app.add_typer(export_app, name="export")
