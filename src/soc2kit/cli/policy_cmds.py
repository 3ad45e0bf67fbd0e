"""`soc2kit update`, `soc2kit policy approve|review|history` and `soc2kit reviews`: living policies."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Annotated

import typer
from rich.table import Table

from soc2kit.cli.app import TableFormat, _emit_json, _open_workspace, app, err, out
from soc2kit.errors import ExitCode, UsageError

policy_app = typer.Typer(help="Approve, review and trace the history of one policy document.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(policy_app, name="policy")

FormatOption = Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")]
NameArgument = Annotated[str, typer.Argument(help="Policy id, e.g. access-control (see `soc2kit policies`).", show_default=False)]


def _parse_date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a date", hint="write it as YYYY-MM-DD") from None


@app.command()
def update(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the changes as a diff; write nothing.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Update even if policies/ or .soc2kit/ have uncommitted git changes.")] = False,
    fmt: FormatOption = TableFormat.table,
) -> None:
    """Merge template improvements and profile changes into your edited policies (three-way).

    Your edits stay; overlapping changes are written as conflict blocks (<<<<<<< your edit /
    ======= / >>>>>>> soc2kit template) to resolve by hand, and give exit 1. New policies are
    added; policies that no longer apply are reported, never deleted.
    """
    from soc2kit.workspace.update import update_workspace

    ws = _open_workspace()
    result = update_workspace(ws, dry_run=dry_run, force=force)
    if fmt == TableFormat.json:
        data = result.as_dict()
        if dry_run:
            data["diff"] = "".join(d.diff for d in result.documents) + result.profile_diff
        _emit_json(data)
    else:
        if dry_run:
            if result.profile_diff:
                sys.stdout.write(result.profile_diff)
            for d in result.documents:
                if d.diff:
                    sys.stdout.write(d.diff)
        verb = {"updated": "would update" if dry_run else "updated", "merged": "would merge" if dry_run else "merged",
                "added": "would add" if dry_run else "added", "conflict": "would conflict" if dry_run else "CONFLICT"}
        for d in result.documents:
            if d.outcome == "unchanged" and not d.notes:
                continue
            label = verb.get(d.outcome, d.outcome)
            extra = f" ({d.conflicts} conflict block(s))" if d.conflicts else ""
            (err if d.outcome in ("conflict", "unresolved") else out).print(f"{label:14} {d.path}{extra}")
            for note in d.notes:
                out.print(f"{'':14}   {note}")
        s = result.as_dict()["summary"]
        head = "Dry run: nothing written. " if dry_run else ""
        out.print(f"{head}soc2kit {result.kit_version} (workspace had {result.previous_kit_version or 'unknown'}); profile "
                  f"{'changed' if result.profile_changed else 'unchanged'}: {s['updated'] + s['merged']} updated, {s['added']} added, "
                  f"{s['conflict'] + s['unresolved']} with conflicts, {s['dropped']} dropped, {s['unchanged']} unchanged")
        if result.conflicts and not dry_run:
            err.print("Resolve each <<<<<<< … ======= … >>>>>>> block (keep the text you want, delete the marker lines), "
                      "check with `soc2kit lint`, then run `soc2kit update` again.")
    if result.conflicts:
        raise typer.Exit(ExitCode.FINDINGS)


@policy_app.command("approve")
def policy_approve(
    name: NameArgument,
    by: Annotated[str, typer.Option("--by", help="Who approves (full name).", show_default=False)],
    date: Annotated[str | None, typer.Option("--date", help="Approval date YYYY-MM-DD (default: today).")] = None,
    major: Annotated[bool, typer.Option("--major", help="Bump the major version (1.3 → 2.0) instead of the minor one (1.3 → 1.4).")] = False,
    note: Annotated[str, typer.Option("--note", help="A short note for the revision history.")] = "",
    fmt: FormatOption = TableFormat.table,
) -> None:
    """Record an approval: version bumped, approver and date set, evidence stored (GOV-01, GOV-05)."""
    from soc2kit.workspace.approvals import approve_policy

    result = approve_policy(_open_workspace(), name, by=by, on=_parse_date(date, "--date"), major=major, note=note)
    if fmt == TableFormat.json:
        _emit_json(result)
        return
    out.print(f"{result['path']}: version {result['version']} approved by {result['approved_by']} on {result['approved_on']} "
              f"(was {result['previous_version']}); next review {result['next_review']} ({result['review_interval']})")
    out.print(f"  evidence {result['evidence_id']} for {', '.join(result['controls'])}; audit entry {result['audit_entry']}; sha256 {result['sha256'][:12]}…")


@policy_app.command("review")
def policy_review(
    name: NameArgument,
    by: Annotated[str, typer.Option("--by", help="Who reviewed (full name).", show_default=False)],
    notes: Annotated[str, typer.Option("--notes", help="What was checked.")] = "",
    date: Annotated[str | None, typer.Option("--date", help="Review date YYYY-MM-DD (default: today).")] = None,
    fmt: FormatOption = TableFormat.table,
) -> None:
    """Record a completed review that changed nothing: the next review moves one interval on; evidence stored."""
    from soc2kit.workspace.approvals import review_policy

    result = review_policy(_open_workspace(), name, by=by, on=_parse_date(date, "--date"), notes=notes)
    if fmt == TableFormat.json:
        _emit_json(result)
        return
    out.print(f"{result['path']}: version {result['version']} reviewed by {result['reviewed_by']} on {result['reviewed_on']}; "
              f"next review {result['next_review']} ({result['review_interval']})")
    out.print(f"  evidence {result['evidence_id']} for {', '.join(result['controls'])}; audit entry {result['audit_entry']}")


@policy_app.command("history")
def policy_history(name: NameArgument, fmt: FormatOption = TableFormat.table) -> None:
    """Approvals, reviews, merged updates and acknowledgements of a policy, from the audit log."""
    from soc2kit.workspace.approvals import describe
    from soc2kit.workspace.approvals import policy_history as history

    events = history(_open_workspace(), name)
    if fmt == TableFormat.json:
        _emit_json({"policy": name, "events": events})
        return
    table = Table("Entry", "When (UTC)", "By", "Event", box=None, pad_edge=False)
    for e in events:
        table.add_row(str(e["seq"]), str(e["at"])[:19].replace("T", " "), str(e["actor"]), describe(e))
    out.print(table)
    out.print(f"{len(events)} event(s)")


@app.command()
def reviews(
    due_within: Annotated[str, typer.Option("--due-within", help="Also list reviews due within this period: 30d, 6w, 3m.")] = "30d",
    show_all: Annotated[bool, typer.Option("--all", help="List every document, with its next review.")] = False,
    fmt: FormatOption = TableFormat.table,
) -> None:
    """Policies overdue or due soon for review (annual; quarterly for AI policies). Exit 1 if any is overdue."""
    from soc2kit.workspace.reviews import due_reviews, parse_within

    within = parse_within(due_within)
    today = dt.date.today()
    ws = _open_workspace()
    items = due_reviews(ws, today=today, within_days=None if show_all else within, window_days=within)
    overdue = [i for i in items if i["state"] == "overdue"]
    if fmt == TableFormat.json:
        _emit_json({"today": today.isoformat(), "due_within_days": within, "overdue": len(overdue), "reviews": items})
    else:
        table = Table("Policy", "Interval", "Next review", "Days", "State", "Version", "Approved", box=None, pad_edge=False)
        for i in items:
            approved = f"{i['approved_by']} {i['approved_on']}" if i["approved_by"] else "-"
            table.add_row(i["policy"], i["review_interval"], i["next_review"] or "-", "" if i["days_left"] is None else str(i["days_left"]),
                          i["state"], i["version"] or "-", approved)
        if items:
            out.print(table)
        out.print(f"{len(overdue)} overdue, {sum(1 for i in items if i['state'] == 'due')} due within {within} days")
        if overdue:
            err.print("Review each with `soc2kit policy review NAME --by PERSON` (no change) or edit and `soc2kit policy approve NAME --by PERSON`.")
    if overdue:
        raise typer.Exit(ExitCode.FINDINGS)
