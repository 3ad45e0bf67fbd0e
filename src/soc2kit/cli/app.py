"""Typer commands. Each parses its options, calls the library and prints; no business logic here."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from soc2kit import __version__
from soc2kit.errors import ExitCode, UsageError, UserError

app = typer.Typer(
    name="soc2kit",
    help="SOC 2 readiness kit for AI companies: policies, controls, gaps and evidence.\n\n"
    "soc2kit measures readiness; only an independent CPA firm issues a SOC 2 report.",
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    rich_markup_mode=None,
)

# Piped output (a file, grep, CI logs) gets wide lines instead of Rich's default 80 columns, so
# tables are not truncated with "…"; a terminal keeps its own width.
def _pipe_width() -> int | None:
    try:
        if sys.stdout.isatty():
            return None
        columns = os.environ.get("COLUMNS", "")
        return max(int(columns) if columns.isdigit() else 0, 200)
    except (AttributeError, ValueError, OSError):
        return None


_PIPE_WIDTH = _pipe_width()
out = Console(highlight=False, soft_wrap=True, emoji=False, markup=False, width=_PIPE_WIDTH)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False, markup=False)


class _State:
    workspace: Path | None = None


STATE = _State()


class TableFormat(StrEnum):
    table = "table"
    json = "json"


class LintFormat(StrEnum):
    text = "text"
    json = "json"


def _emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _workspace_path() -> Path:
    from soc2kit.workspace import find_workspace

    return find_workspace(STATE.workspace)


def _open_workspace():
    from soc2kit.workspace import Workspace

    return Workspace.open(_workspace_path())


def _maybe_workspace():
    """The workspace if the current/selected directory is one, else None (for listing commands)."""
    from soc2kit.profile import PROFILE_FILE

    path = _workspace_path()
    if (path / PROFILE_FILE).exists():
        return _open_workspace()
    return None


def _version_callback(value: bool) -> None:
    if value:
        sys.stdout.write(f"soc2kit {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    workspace: Annotated[
        Path | None,
        typer.Option("--workspace", "-w", envvar="SOC2KIT_WORKSPACE", help="Workspace directory (default: the current directory).", show_default=False),
    ] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    STATE.workspace = workspace


@app.command()
def init(
    directory: Annotated[Path | None, typer.Argument(help="Directory to create (default: the workspace directory).", show_default=False)] = None,
    example: Annotated[str | None, typer.Option("--example", "-e", help="Start from a bundled example profile (see `soc2kit examples`).")] = None,
    profile: Annotated[Path | None, typer.Option("--profile", "-p", help="Start from your own profile YAML file.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Write into a non-empty directory; files you edited are kept.")] = False,
) -> None:
    """Create a workspace: profile, rendered policies and kit state.

    With neither --example nor --profile, and a terminal on standard input, asks the profile
    questions interactively (answers are kept if you interrupt and run it again).
    """
    from soc2kit.profile import PROFILE_FILE
    from soc2kit.workspace.init import example_text, init_workspace

    if example and profile:
        raise UsageError("give either --example or --profile, not both")
    target = directory if directory is not None else _workspace_path()
    if example:
        text, source = example_text(example), f"example '{example}'"
    elif profile:
        from soc2kit._yaml import load_yaml  # for the clear missing-file / size / encoding messages

        load_yaml(profile, what="company profile")
        text, source = profile.read_text(encoding="utf-8"), str(profile)
    else:
        if not sys.stdin.isatty():
            raise UsageError(
                "no profile given and standard input is not a terminal",
                hint="pass --example NAME (see `soc2kit examples`) or --profile FILE",
            )
        from soc2kit.profile.questionnaire import run_questionnaire

        text, source = run_questionnaire(target), PROFILE_FILE
    result = init_workspace(target, text, source=source, force=force)
    if not example and not profile:
        from soc2kit.profile.questionnaire import forget_answers

        forget_answers(target)
    out.print(f"Workspace ready: {result.root}")
    if result.written:
        out.print(f"  wrote {len(result.written)} files ({sum(1 for f in result.written if f.startswith('policies/'))} policies)")
    if result.unchanged:
        out.print(f"  {len(result.unchanged)} files already up to date")
    for rel in result.kept:
        err.print(f"  kept {rel}: it differs from what soc2kit last wrote (your edit); not overwritten")
    out.print(f"Next: soc2kit --workspace {result.root} build")


@app.command()
def build(
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="Comma-separated output formats: md, html, pdf, docx, or all (default: md,html; pdf and docx take seconds, so they are opt-in).")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="Output directory (default: WORKSPACE/dist).")] = None,
) -> None:
    """Convert the workspace's policies (as edited) into the output formats, plus the control matrix."""
    from soc2kit.render.build import build as run_build
    from soc2kit.render.build import parse_formats
    from soc2kit.render.pdf import MANUAL

    formats = parse_formats(fmt)
    ws = _open_workspace()
    result = run_build(ws, formats=formats, out=out_dir)
    out.print(f"Built {result.policies} policies and a matrix of {result.controls} applicable controls in {result.seconds:.2f} s")
    if "html" in formats:
        out.print(f"  HTML site:      {result.out_dir / 'html' / 'index.html'}")
    if "md" in formats:
        out.print(f"  Markdown:       {result.out_dir / 'md'}")
    if "pdf" in formats:
        out.print(f"  PDF:            {result.out_dir / 'pdf'} ({result.policies} policies)")
        out.print(f"  Policy manual:  {result.out_dir / 'pdf' / MANUAL} ({result.pages.get('pdf/' + MANUAL, 0)} pages)")
    if "docx" in formats:
        out.print(f"  Word (DOCX):    {result.out_dir / 'docx'}")
    out.print(f"  Control matrix: {result.out_dir / 'control-matrix.csv'}")


@app.command()
def lint(
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as failures.")] = False,
    fmt: Annotated[LintFormat, typer.Option("--format", "-f", help="Output format.")] = LintFormat.text,
) -> None:
    """Check content, profile and policies; report every problem with file:line. Exit 1 on findings."""
    from soc2kit.lint import lint_workspace

    problems = lint_workspace(_workspace_path())
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    failed = bool(errors) or (strict and bool(warnings))
    if fmt == LintFormat.json:
        _emit_json({"ok": not failed, "errors": len(errors), "warnings": len(warnings), "problems": [p.as_dict() for p in problems]})
    else:
        for p in problems:
            (err if p.severity == "error" else out).print(str(p), markup=False)
        out.print(f"{len(errors)} error(s), {len(warnings)} warning(s)" + (" (strict: warnings fail)" if strict and warnings else ""))
    if failed:
        raise typer.Exit(ExitCode.FINDINGS)


@app.command()
def examples() -> None:
    """List the bundled example profiles."""
    from soc2kit.profile import parse_profile_text
    from soc2kit.workspace.init import example_names, example_text

    for name in example_names():
        p = parse_profile_text(example_text(name), name)
        out.print(f"{name:28} {p.company.name} — {p.company.description}", markup=False)


@app.command()
def criteria(
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = TableFormat.table,
) -> None:
    """List the 61 Trust Services Criteria with their controls (and scope, inside a workspace)."""
    from soc2kit.cli.listing import criteria_listing

    data = criteria_listing(_maybe_workspace())
    if fmt == TableFormat.json:
        _emit_json(data)
        return
    table = Table("Criterion", "Category", "Title", "In scope", "Controls", box=None, pad_edge=False)
    for c in data["criteria"]:
        table.add_row(c["id"], c["category"], c["title"], "yes" if c["in_scope"] else "no", ", ".join(c["controls"]) or "-")
    out.print(table)


@app.command()
def controls(
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = TableFormat.table,
    ai_only: Annotated[bool, typer.Option("--ai", help="Only AI-specific controls.")] = False,
) -> None:
    """List the control catalog with criteria, crosswalks and the policies that state each control."""
    from soc2kit.cli.listing import controls_listing

    data = controls_listing(_maybe_workspace())
    if ai_only:
        data["controls"] = [c for c in data["controls"] if c["ai_specific"]]
    if fmt == TableFormat.json:
        _emit_json(data)
        return
    table = Table("Control", "Title", "Criteria", "Frequency", "Owner", "AI", "Applies", box=None, pad_edge=False)
    for c in data["controls"]:
        table.add_row(c["id"], c["title"], ", ".join(c["criteria"]) or "-", c["frequency"], c["owner"], "yes" if c["ai_specific"] else "", "yes" if c.get("applicable", True) else "no")
    out.print(table)


@app.command()
def crosswalk(
    framework: Annotated[str, typer.Option("--framework", help="iso42001, nist-ai-rmf or iso27001.")],
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = TableFormat.table,
) -> None:
    """Show which ids of a framework the controls cover, and which they don't.

    Inside a workspace only the company's applicable controls count.
    """
    from soc2kit.library import load_catalog
    from soc2kit.library.crosswalk import coverage, framework_key

    key = framework_key(framework)
    catalog = load_catalog()
    ws = _maybe_workspace()
    applicable = None
    if ws is not None:
        from soc2kit.render.context import build_context
        from soc2kit.render.selection import select_controls

        applicable = [v.id for v in select_controls(catalog, ws.profile, build_context(ws.profile)) if v.applicable]
    data = coverage(catalog, key, applicable)
    if fmt == TableFormat.json:
        _emit_json(data)
        return
    out.print(f"{data['name']}: {data['covered']} of {data['total']} ids covered ({data['coverage']:.0%}) by {data['scope']}")
    table = Table("Id", "Title", "Controls", box=None, pad_edge=False)
    for fid, entry in data["ids"].items():
        table.add_row(fid, entry["title"], ", ".join(entry["controls"]) or "— not covered")
    out.print(table)
    groups = ", ".join(f"{g or '-'} {v['covered']}/{v['total']}" for g, v in data["groups"].items())
    out.print(f"By group: {groups}")


@app.command()
def policies(
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = TableFormat.table,
) -> None:
    """List the policies (the workspace's documents, or the bundled templates outside a workspace)."""
    from soc2kit.cli.listing import policies_listing

    data = policies_listing(_maybe_workspace())
    if fmt == TableFormat.json:
        _emit_json(data)
        return
    table = Table("Policy", "Title", "Version", "Status", "Owner", "Next review", "Controls", box=None, pad_edge=False)
    for p in data["policies"]:
        table.add_row(p["id"], p["title"], str(p.get("version") or "-"), str(p.get("status") or "-"), str(p.get("owner") or "-"), str(p.get("next_review") or "-"), str(len(p["controls"])))
    out.print(table)


__all__ = ["app", "UserError"]
