"""`soc2kit assess`, `soc2kit gap` and `soc2kit plan`."""

from __future__ import annotations

import datetime as dt
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from soc2kit.cli.app import _emit_json, _open_workspace, app, err, out
from soc2kit.errors import UsageError

STATUS_KEYS = {"i": "implemented", "p": "partial", "pl": "planned", "n": "not_started", "na": "not_applicable"}


class ReportFormat(StrEnum):
    md = "md"
    html = "html"
    json = "json"


class PlanFormat(StrEnum):
    md = "md"
    html = "html"
    json = "json"
    csv = "csv"


def _actor(by: str | None) -> str:
    from soc2kit.evidence.store import actor_name, check_text

    return check_text(by or actor_name(), "author name", max_len=200)


def _date_option(value: str | None, what: str) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{what} {value!r} is not a date", hint="write it as YYYY-MM-DD") from None


@app.command()
def assess(
    export: Annotated[Path | None, typer.Option("--export", help="Write one CSV row per applicable control.")] = None,
    import_file: Annotated[Path | None, typer.Option("--import", help="Read statuses from a CSV (or assessment YAML) file.")] = None,
    control: Annotated[str | None, typer.Option("--control", "-c", help="Set one control's status (with --status).")] = None,
    status: Annotated[str | None, typer.Option("--status", "-s", help="implemented, partial, planned, not_started or not_applicable.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Who owns the control's implementation.")] = None,
    target_date: Annotated[str | None, typer.Option("--target-date", help="When it will be implemented (YYYY-MM-DD).")] = None,
    justification: Annotated[str | None, typer.Option("--justification", help="Why it does not apply (required for not_applicable).")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Free notes.")] = None,
    revisit: Annotated[bool, typer.Option("--revisit", help="Interactive: ask about controls already assessed too.")] = False,
    by: Annotated[str | None, typer.Option("--by", help="Author of the change (default: $SOC2KIT_ACTOR or the login name).")] = None,
) -> None:
    """Record each applicable control's status, owner, target date and notes (history kept).

    Without options, in a terminal: asks control by control, grouped by area, and saves every answer
    at once (an interrupted session resumes where it stopped).
    """
    from soc2kit.assess import service
    from soc2kit.assess.assessment import Assessment, export_csv, parse_import, validate_values

    ws = _open_workspace()
    views = [v for v in service.applicable_views(ws) if v.applicable]
    known = {v.id for v in views}
    assessment = Assessment.load(ws.root)
    modes = sum(x is not None for x in (export, import_file, control))
    if modes > 1:
        raise UsageError("use one of --export, --import and --control at a time")
    if export is not None:
        from soc2kit._fs import atomic_write_text

        atomic_write_text(export, export_csv(assessment.export_rows([v.id for v in views])))
        out.print(f"wrote {len(views)} controls to {export}")
        return
    author = _actor(by)
    if import_file is not None:
        changes = parse_import(import_file, known)
        changed = service.record(ws, assessment, changes, by=author)
        out.print(f"imported {len(changes)} rows from {import_file}: {len(changed)} controls changed")
        return
    if control is not None:
        cid = control.strip().upper()
        if status is None:
            raise UsageError("--control needs --status")
        current = assessment.get(cid)
        values = current.values() | {"status": STATUS_KEYS.get(status, status)}
        for key, value in (("owner", owner), ("justification", justification), ("notes", notes)):
            if value is not None:
                values[key] = value
        if target_date is not None:
            values["target_date"] = _date_option(target_date, "--target-date")
        problems = validate_values(cid, values, known)
        if problems:
            from soc2kit.errors import UserError

            raise UserError(f"control {cid}: " + "; ".join(problems), hint="see `soc2kit assess --help`")
        changed = service.record(ws, assessment, {cid: values}, by=author)
        out.print(f"{cid}: {values['status']}" + ("" if changed else " (unchanged)"))
        return
    if not sys.stdin.isatty():
        raise UsageError("no input: pass --import FILE, --control ID --status STATUS, or run in a terminal", hint="export a template with --export FILE.csv")
    _interactive(ws, assessment, views, author, revisit)


def _interactive(ws, assessment, views, author: str, revisit: bool) -> None:
    from soc2kit.assess import service
    from soc2kit.assess.assessment import validate_values
    from soc2kit.library.models import AREAS

    pending = [v for v in views if revisit or v.id not in assessment.controls]
    done = len(views) - len(pending)
    out.print(f"{len(views)} applicable controls, {done} already assessed. Answers are saved as you go; Ctrl-C to stop.")
    out.print("Status: i=implemented, p=partial, pl=planned, n=not started, na=not applicable; Enter keeps the current value; q quits.")
    by_area: dict[str, list] = {}
    for v in pending:
        by_area.setdefault(v.control.area, []).append(v)
    count = done
    for area, items in by_area.items():
        out.print(f"\n== {area}: {AREAS.get(area, area)} ({len(items)} controls) ==")
        for v in items:
            count += 1
            current = assessment.get(v.id)
            out.print(f"\n[{count}/{len(views)}] {v.id} {v.control.title}  (currently {current.status})")
            out.print(f"  {v.statement[:400]}{'…' if len(v.statement) > 400 else ''}")
            while True:
                answer = input("  status [i/p/pl/n/na, Enter keeps, q quits]: ").strip().lower()
                if answer == "q":
                    out.print(f"Stopped; {count - 1} of {len(views)} assessed. Run `soc2kit assess` again to continue.")
                    return
                new_status = current.status if answer == "" else STATUS_KEYS.get(answer, answer)
                values = current.values() | {"status": new_status}
                owner = input(f"  owner [{current.owner or v.owner_title}]: ").strip()
                values["owner"] = owner or current.owner or v.owner_title
                if new_status == "not_applicable":
                    values["justification"] = input(f"  why it does not apply [{current.justification}]: ").strip() or current.justification
                elif new_status != "implemented":
                    raw = input(f"  target date YYYY-MM-DD [{current.target_date or ''}]: ").strip()
                    try:
                        values["target_date"] = dt.date.fromisoformat(raw) if raw else current.target_date
                    except ValueError:
                        err.print("  not a date; try again")
                        continue
                problems = validate_values(v.id, values, None)
                if problems:
                    err.print("  " + "; ".join(problems))
                    continue
                service.record(ws, assessment, {v.id: values}, by=author)
                break
    out.print("\nAll applicable controls assessed. Next: soc2kit gap")


def _write_report(path: Path, text: str, svg: str | None = None, svg_name: str | None = None) -> None:
    from soc2kit._fs import atomic_write_text

    if svg is not None and svg_name is not None:
        atomic_write_text(path.parent / svg_name, svg)
    atomic_write_text(path, text)


def _write_md_or_html(path: Path, markdown: bool, data: dict, md_fn, html_fn, chart_fn, chart_suffix: str) -> None:
    """Markdown with its chart as an SVG file beside it, or a standalone HTML page (chart inline)."""
    if markdown:
        svg_name = f"{path.stem}-{chart_suffix}.svg"
        _write_report(path, md_fn(data, svg_name), chart_fn(data), svg_name)
    else:
        _write_report(path, html_fn(data))


@app.command()
def gap(
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="Report format.")] = ReportFormat.md,
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write md/html (default: dist/reports/gap.md|html); json goes to standard output unless given.")] = None,
) -> None:
    """Readiness overall, per category, criterion and control area; unmet criteria; AI gaps."""
    from soc2kit.assess import report, service

    ws = _open_workspace()
    data = service.gap(ws)
    if fmt == ReportFormat.json:
        if out_file:
            import json

            _write_report(out_file, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
            out.print(f"wrote {out_file}")
        else:
            _emit_json(data)
        return
    path = service.report_path(ws, f"gap.{fmt.value}", out_file)
    _write_md_or_html(path, fmt == ReportFormat.md, data, report.gap_markdown, report.gap_html, report.gap_chart, "readiness")
    o = data["overall"]
    table = Table("Category", "Readiness", "Criteria met", box=None, pad_edge=False)
    for c in data["categories"].values():
        table.add_row(c["label"], f"{c['readiness']:.0%}", f"{c['criteria_met']}/{c['criteria_total']}")
    out.print(f"Overall readiness {o['readiness']:.0%}: {o['criteria_met']} of {o['criteria_total']} in-scope criteria met; {len(data['ai_gaps'])} AI-specific controls open")
    out.print(table)
    out.print(f"report: {path}")


@app.command()
def plan(
    start: Annotated[str | None, typer.Option("--start", help="First day of the plan (YYYY-MM-DD; default today).")] = None,
    fmt: Annotated[PlanFormat, typer.Option("--format", "-f", help="Output format; csv imports into Jira, Linear or GitHub Projects.")] = PlanFormat.md,
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write (default: dist/reports/plan.md|html; json and csv go to standard output unless given).")] = None,
) -> None:
    """A dated remediation plan in the brief's four phases, followed by the observation window."""
    from soc2kit.assess import report, service

    ws = _open_workspace()
    data = service.plan(ws, start=_date_option(start, "--start"))
    if fmt in (PlanFormat.json, PlanFormat.csv):
        import json

        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n" if fmt == PlanFormat.json else report.plan_csv(data)
        if out_file:
            _write_report(out_file, text)
            out.print(f"wrote {out_file}")
        else:
            sys.stdout.write(text)
        return
    path = service.report_path(ws, f"plan.{fmt.value}", out_file)
    _write_md_or_html(path, fmt == PlanFormat.md, data, report.plan_markdown, report.plan_html, report.plan_chart, "timeline")
    for w in data["warnings"][:5]:
        err.print(f"warning: {w}")
    for ph in data["phases"]:
        out.print(f"{ph['number']}. {ph['name']}: {ph['start']} to {ph['end']} ({len(ph['tasks'])} tasks)")
    if data["observation_window"]:
        out.print(f"   Type II observation window: {data['observation_window']['start']} to {data['observation_window']['end']}")
    out.print(f"report: {path}")
