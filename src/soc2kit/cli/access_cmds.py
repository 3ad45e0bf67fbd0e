"""`soc2kit check access`: user access review of an identity-provider export against the HR roster (AC-05)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from soc2kit.cli.app import TableFormat, _maybe_workspace, err, out
from soc2kit.cli.check_cmds import _finish, check_app


@check_app.command("access")
def check_access(
    idp: Annotated[Path, typer.Option("--idp", help="Identity-provider export: AWS IAM credential report, Google Workspace, Entra ID, Okta or the neutral CSV (.csv or .xlsx).")],
    hr: Annotated[Path, typer.Option("--hr", help="HR roster: BambooHR, Rippling or the neutral CSV (.csv or .xlsx).")],
    roles: Annotated[Path | None, typer.Option("--roles", help="Optional CSV group,duty for segregation-of-duties conflicts.")] = None,
    unused_days: Annotated[int, typer.Option("--unused-days", help="Accounts not used for this many days are reported.")] = 90,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Review date YYYY-MM-DD (default: today).")] = None,
    worksheet: Annotated[Path | None, typer.Option("--worksheet", help="Write a reviewer worksheet here: FILE.csv or FILE.xlsx (decision drop-down, About sheet).")] = None,
    idp_mapping: Annotated[Path | None, typer.Option("--idp-mapping", help="YAML column mapping for an identity-provider export the kit does not know (see docs/checks.md).")] = None,
    hr_mapping: Annotated[Path | None, typer.Option("--hr-mapping", help="YAML column mapping for an HR export the kit does not know.")] = None,
    report_path: Annotated[Path | None, typer.Option("--report", help="Also write a readable report: FILE.md (with an SVG chart beside it) or FILE.html.")] = None,
    no_evidence: Annotated[bool, typer.Option("--no-evidence", help="Do not store the result as evidence.")] = False,
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = TableFormat.table,
) -> None:
    """Leavers with live accounts, accounts with no person, privileged accounts, duty conflicts and unused accounts."""
    from soc2kit.checks.access import review_access, write_worksheet
    from soc2kit.errors import UsageError

    if as_of is None:
        day = date.today()
    else:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            raise UsageError(f"--as-of {as_of!r} is not a date", hint="use YYYY-MM-DD") from None
    ws = _maybe_workspace()
    review = review_access(idp, hr, as_of=day, roles=roles, unused_days=unused_days, idp_mapping=idp_mapping, hr_mapping=hr_mapping)
    result = review.result
    if worksheet is not None:
        result["worksheet"] = str(write_worksheet(review, worksheet))

    def show(r: dict[str, Any]) -> None:
        out.print(f"identity provider: {r['idp_source']} ({r['idp_file']}, {r['accounts']} accounts); HR: {r['hr_source']} ({r['hr_file']}, {r['people']} people); as of {r['as_of']}")
        out.print("mapping: " + "; ".join(f"{k} <- {v}" for k, v in r["mapping"]["idp"].items() if v))
        table = Table("Finding", "Account", "E-mail", "Detail", box=None, pad_edge=False)
        for kind, items in r["findings"].items():
            for i in items:
                if kind == "sod_conflicts":
                    table.add_row(kind, i["person"], "", f"{i['duties'][0]} + {i['duties'][1]}")
                else:
                    detail = i.get("reason") or i.get("note") or i.get("hr_status") or ", ".join(i.get("why", [])) or str(i.get("last_login") or "")
                    if kind == "unused" and i.get("days") is not None:
                        detail = f"last used {i['last_login']} ({i['days']} days)"
                    table.add_row(kind, i["account"], i["email"] or "", detail)
        out.print(table)
        for w in r["warnings"]:
            err.print(f"warning: {w}")
        if r.get("worksheet"):
            out.print(f"worksheet: {r['worksheet']}")
        out.print(f"status: {r['status']}")

    _finish(result, ws, no_evidence, "AC-05", f"access-review-{day.isoformat()}.json",
            f"Access review of {idp.name} against {hr.name} as of {day.isoformat()}: {result['status']}", fmt, show, report_path)


@check_app.command("access-signoff")
def check_access_signoff(
    worksheet: Annotated[Path, typer.Argument(help="The completed worksheet (.csv or .xlsx) written by `check access --worksheet`.")],
    no_evidence: Annotated[bool, typer.Option("--no-evidence", help="Check the worksheet without storing it.")] = False,
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = TableFormat.table,
) -> None:
    """Check a signed access-review worksheet (a decision, reviewer and date on every account; a ticket
    for every change or removal) and store it as AC-05 evidence. Exit 1 while incomplete."""
    from soc2kit.checks.access import read_signoff
    from soc2kit.cli.app import _emit_json
    from soc2kit.errors import ExitCode

    signoff = read_signoff(worksheet)
    result = signoff.as_dict()
    ws = _maybe_workspace()
    if ws is not None and not no_evidence and signoff.complete:
        from soc2kit.evidence.store import EvidenceStore, NewEvidence

        store = EvidenceStore.open(ws)
        try:
            rec = store.add(NewEvidence(controls=["AC-05"], path=worksheet, name=worksheet.name,
                                        description=f"Signed access-review worksheet: {signoff.rows} accounts, "
                                                    + ", ".join(f"{n} {d}" for d, n in signoff.decisions.items()) + f"; reviewed by {', '.join(signoff.reviewers)}",
                                        period=(signoff.signed_on, signoff.signed_on), source_kind="review", source_id="access-signoff"))
            store.record("access.signoff", {"worksheet": worksheet.name, "evidence_id": rec.id, "rows": signoff.rows, "decisions": signoff.decisions,
                                            "reviewers": signoff.reviewers, "signed_on": result["signed_on"]})
            result["evidence"] = rec.id
        finally:
            store.close()
    if fmt == TableFormat.json:
        _emit_json(result)
    else:
        out.print(f"{worksheet.name}: {signoff.rows} accounts; " + ", ".join(f"{n} {d}" for d, n in signoff.decisions.items())
                  + (f"; reviewed by {', '.join(signoff.reviewers)} (latest {result['signed_on']})" if signoff.reviewers else ""))
        for p in signoff.problems:
            err.print(f"  {p}")
        if result.get("evidence"):
            out.print(f"stored as evidence {result['evidence']} for AC-05")
        out.print(f"status: {result['status']}" + ("" if signoff.complete else f" ({len(signoff.problems)} rows to complete)"))
    if not signoff.complete:
        raise typer.Exit(ExitCode.FINDINGS)
