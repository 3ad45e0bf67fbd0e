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
    worksheet: Annotated[Path | None, typer.Option("--worksheet", help="Write a reviewer worksheet CSV here.")] = None,
    idp_mapping: Annotated[Path | None, typer.Option("--idp-mapping", help="YAML column mapping for an identity-provider export the kit does not know (see docs/checks.md).")] = None,
    hr_mapping: Annotated[Path | None, typer.Option("--hr-mapping", help="YAML column mapping for an HR export the kit does not know.")] = None,
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
            f"Access review of {idp.name} against {hr.name} as of {day.isoformat()}: {result['status']}", fmt, show)
