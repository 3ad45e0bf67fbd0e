"""`soc2kit people check|acknowledge`: onboarding and offboarding duties per person (HR-01, HR-02, GOV-02, AC-03)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from soc2kit.cli.app import TableFormat, _emit_json, _maybe_workspace, _open_workspace, app, err, out
from soc2kit.errors import ExitCode, UsageError

people_app = typer.Typer(help="People and training records: per-person onboarding/offboarding check and policy acknowledgements. Exit 0 ok, 1 exceptions, 2 bad input.",
                         no_args_is_help=True, rich_markup_mode=None)
app.add_typer(people_app, name="people")


@people_app.command("check")
def people_check_cmd(
    hr: Annotated[Path, typer.Option("--hr", help="HR roster: BambooHR, Rippling or the neutral CSV (.csv or .xlsx).")],
    training: Annotated[list[Path] | None, typer.Option("--training", help="Training completions: KnowBe4, TalentLMS or the neutral CSV (repeatable).")] = None,
    idp: Annotated[Path | None, typer.Option("--idp", help="Identity-provider export (as for `check access`), to see whether leavers' accounts are still enabled.")] = None,
    mapping: Annotated[Path | None, typer.Option("--mapping", help="YAML column mapping for HR/training exports the kit does not know, and course-name patterns (docs/people.md).")] = None,
    idp_mapping: Annotated[Path | None, typer.Option("--idp-mapping", help="YAML column mapping for an identity-provider export (as for `check access`).")] = None,
    policy: Annotated[list[str] | None, typer.Option("--policy", help="Policy every person acknowledges (repeatable; default: code-of-conduct).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Check date YYYY-MM-DD (default: today).")] = None,
    no_evidence: Annotated[bool, typer.Option("--no-evidence", help="Do not store the report as evidence.")] = False,
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = TableFormat.table,
) -> None:
    """Background check, policy acknowledgement, security-awareness and AI-literacy training, and leavers' access removal, per person."""
    from soc2kit.people.check import people_check, policy_path, store_report, workspace_acknowledgements
    from soc2kit.profile.schema import Profile

    try:
        day = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        raise UsageError(f"--as-of {as_of!r} is not a date", hint="use YYYY-MM-DD") from None
    ws = _maybe_workspace()
    profile = ws.profile if ws is not None else Profile.model_validate({"company": {"name": "-", "employees": 1}})
    if ws is not None:
        for pol in policy or []:
            policy_path(ws, pol)  # a mistyped id would make everyone's acknowledgement "missing"
    acks = workspace_acknowledgements(ws) if ws is not None else None
    result = people_check(hr, list(training or []), profile=profile, as_of=day, idp=idp, mapping=mapping, idp_mapping=idp_mapping, acknowledgements=acks, policies=policy)
    if ws is not None and not no_evidence:
        result["evidence"] = store_report(ws, result)
    if fmt == TableFormat.json:
        _emit_json(result)
    else:
        out.print(f"HR: {result['hr']['source']} ({result['hr']['file']}, {result['hr']['people']} people; {result['checked']} checked, {result['pre_start']} not started yet, "
                  f"{result['leavers']} leavers) as of {result['as_of']}")
        for t in result["training"]:
            out.print(f"training: {t['source']} ({t['file']}, {t['completions']} completions of {t['rows']} rows)")
        table = Table("Person", "Duty", "Exception", "Due", "Actual", "Detail", box=None, pad_edge=False)
        for e in result["exceptions"]:
            table.add_row(e["email"], e["duty"], e["rule"], (e["due"] or "")[:16], (e["actual"] or "-")[:16], e["detail"])
        if table.row_count:
            out.print(table)
        for duty, why in result["not_evaluated"].items():
            err.print(f"not evaluated: {duty}: {why}")
        for u in result["unmatched_training"]:
            err.print(f"warning: {u['rows']} training row(s) for {u['email']}, who is not in the HR roster")
        if result.get("evidence"):
            out.print(f"stored as evidence {result['evidence']}")
        out.print(f"status: {result['status']} ({len(result['exceptions'])} exception(s))")
    if result["status"] != "pass":
        raise typer.Exit(ExitCode.FINDINGS)


@people_app.command("acknowledge")
def people_acknowledge(
    policy: Annotated[str, typer.Option("--policy", help="Policy id (file name in policies/, e.g. code-of-conduct).")],
    name: Annotated[str, typer.Option("--name", help="Full name of the person acknowledging.")],
    email: Annotated[str, typer.Option("--email", help="Their work e-mail (matched against the HR roster).")],
    version: Annotated[str | None, typer.Option("--version", help="Policy version (default: the workspace policy's version).")] = None,
    at: Annotated[str | None, typer.Option("--at", help="When they acknowledged, YYYY-MM-DD or ISO 8601 (default: now).")] = None,
) -> None:
    """Record that a person read and accepted a policy (stored as evidence for GOV-05/GOV-02)."""
    from soc2kit.people.check import acknowledge

    when = None
    if at:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            raise UsageError(f"--at {at!r} is not a date", hint="use YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
    ws = _open_workspace()
    ack = acknowledge(ws, policy=policy, name=name, email=email, version=version, at=when)
    out.print(f"recorded: {ack.name} <{ack.email}> acknowledged {ack.policy} version {ack.version} at {ack.acknowledged_at.isoformat()} (evidence {ack.evidence_id})")
