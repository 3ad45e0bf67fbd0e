"""`soc2kit vendor add|list|show|assess|review`: the vendor and AI-subprocessor register (VEN controls)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from soc2kit.cli.app import TableFormat, _emit_json, _open_workspace, app, err, out
from soc2kit.errors import ExitCode, UsageError

vendor_app = typer.Typer(help="Vendor and AI-subprocessor register (vendors.yaml): add, list, assess and review vendors. Exit 0 ok, 1 findings, 2 bad input.",
                         no_args_is_help=True, rich_markup_mode=None)
app.add_typer(vendor_app, name="vendor")

FormatOption = Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")]


def _day(value: str | None, option: str) -> date:
    if value is None:
        return date.today()
    from soc2kit.vendors.register import check_day

    try:
        return check_day(date.fromisoformat(value))
    except ValueError as exc:
        raise UsageError(f"{option} {value!r} is not a date" + (f": {exc}" if "out of range" in str(exc) else ""), hint="use YYYY-MM-DD") from None


def _split(value: str | None) -> list[str]:
    return [x.strip() for x in (value or "").split(",") if x.strip()]


@vendor_app.command("add")
def vendor_add(
    name: Annotated[str, typer.Argument(help="Vendor name (unique in the register).")],
    service: Annotated[str, typer.Option("--service", help="What the vendor provides.")],
    criticality: Annotated[str, typer.Option("--criticality", help="high, medium or low (Vendor Management Policy tiers).")],
    kind: Annotated[str, typer.Option("--kind", help="cloud, ai_model, ai_service, saas, professional_services, data_labelling or other.")] = "saas",
    data: Annotated[str | None, typer.Option("--data", help="Data types shared, comma-separated, from the profile's data.types.")] = None,
    systems: Annotated[list[str] | None, typer.Option("--system", help="In-scope system the vendor serves (repeatable).")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Business owner.")] = None,
    regions: Annotated[str | None, typer.Option("--regions", help="Regions holding company data, comma-separated (e.g. US,EU).")] = None,
    dpa: Annotated[bool | None, typer.Option("--dpa/--no-dpa", help="A data processing agreement is signed.")] = None,
    notice_hours: Annotated[int | None, typer.Option("--notice-hours", help="Contractual incident-notification window in hours.")] = None,
    carve_out: Annotated[bool, typer.Option("--carve-out", help="Subservice organization carved out of the system description.")] = False,
    cuec: Annotated[list[str] | None, typer.Option("--cuec", help="Complementary control the company runs for this vendor (repeatable).")] = None,
    trains_on_data: Annotated[bool | None, typer.Option("--trains-on-data/--no-training", help="AI providers: whether it trains on company data.")] = None,
) -> None:
    """Add a vendor to vendors.yaml (created if needed); the whole register is validated before it is written."""
    from soc2kit.vendors.register import add_vendor

    ws = _open_workspace()
    entry: dict[str, Any] = {"name": name, "service": service, "kind": kind, "criticality": criticality, "owner": owner, "data_shared": _split(data),
                             "systems": list(systems or []), "regions": _split(regions), "dpa_signed": dpa, "incident_notice_hours": notice_hours}
    if carve_out or cuec:
        entry["subservice"] = {"carve_out": carve_out, "complementary_controls": list(cuec or [])}
    if trains_on_data is not None:
        entry["ai"] = {"trains_on_data": trains_on_data}
    v = add_vendor(ws, entry)
    out.print(f"added {v.name} ({v.kind}, {v.criticality}) to vendors.yaml")


@vendor_app.command("list")
def vendor_list(fmt: FormatOption = TableFormat.table) -> None:
    """Every vendor with its tier, kind, data shared and last review."""
    from soc2kit.vendors.register import load_register
    from soc2kit.vendors.review import next_review

    ws = _open_workspace()
    vendors = load_register(ws).vendors
    rows = []
    for v in vendors:
        due, _ = next_review(v, ws.profile)
        rows.append({"name": v.name, "service": v.service, "kind": v.kind, "criticality": v.criticality, "status": v.status, "data_shared": list(v.data_shared),
                     "systems": list(v.systems), "carve_out": v.subservice.carve_out, "last_review": v.last_review.isoformat() if v.last_review else None,
                     "next_review": due.isoformat() if due else None})
    if fmt == TableFormat.json:
        _emit_json(rows)
        return
    if not rows:
        out.print("no vendors yet: add one with `soc2kit vendor add NAME --service ... --criticality ...`")
        return
    table = Table("Vendor", "Kind", "Tier", "Data shared", "Last review", "Next review", box=None, pad_edge=False)
    for r in rows:
        table.add_row(r["name"] + (" (retired)" if r["status"] == "retired" else ""), r["kind"], r["criticality"], ", ".join(r["data_shared"]) or "-",
                      r["last_review"] or "never", r["next_review"] or "-")
    out.print(table)


@vendor_app.command("show")
def vendor_show(name: Annotated[str, typer.Argument(help="Vendor name.")], fmt: FormatOption = TableFormat.table) -> None:
    """One vendor's register entry and its assessments."""
    from soc2kit.vendors.assessment import list_assessments
    from soc2kit.vendors.register import load_register

    ws = _open_workspace()
    v = load_register(ws, must_exist=True).get(name)
    data = v.model_dump(mode="json")
    data["assessments"] = [{"date": a.get("date"), "file": a["file"], "inherent": (a.get("inherent") or {}).get("score"), "residual": (a.get("residual") or {}).get("score"),
                            "decision": a.get("decision"), "findings": len(a.get("findings") or []), "evidence_id": a.get("evidence_id")} for a in list_assessments(ws, v.name)]
    if fmt == TableFormat.json:
        _emit_json(data)
        return
    for key, value in data.items():
        if key == "assessments" or value in (None, [], {}, ""):
            continue
        out.print(f"{key}: {value}")
    for a in data["assessments"]:
        out.print(f"assessment {a['date']}: inherent {a['inherent']}, residual {a['residual']}, {a['findings']} finding(s), {a['decision']} ({a['file']}, evidence {a['evidence_id']})")


def _interactive(v, profile, on: date) -> dict[str, tuple[str, str, str]]:
    from rich.prompt import Prompt

    from soc2kit.vendors.assessment import ANSWERS, question_params, questions_for, suggested_answers

    if not sys.stdin.isatty():
        raise UsageError("no --answers file given and standard input is not a terminal", hint="pass --answers FILE.yaml (see docs/vendors.md)")
    params = question_params(profile)
    defaults = suggested_answers(v, profile, on)
    given = {}
    for q in questions_for(v):
        out.print(f"\n[{q.id}] {q.criterion}")
        ans = Prompt.ask(q.render(params), choices=list(ANSWERS), default=defaults.get(q.id, "unknown"), console=out)
        evidence = Prompt.ask("  evidence (document, link or ticket; blank if none)", default="", console=out) if ans == "yes" else ""
        given[q.id] = (ans, evidence, "")
    return given


@vendor_app.command("assess")
def vendor_assess(
    name: Annotated[str, typer.Argument(help="Vendor name.")],
    answers: Annotated[Path | None, typer.Option("--answers", help="YAML answers file (non-interactive); without it the questions are asked in the terminal.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="The vendor's assurance report (e.g. its SOC 2 report PDF), stored as evidence.")] = None,
    on: Annotated[str | None, typer.Option("--date", help="Assessment date YYYY-MM-DD (default: the answers file's date, else today).")] = None,
    assessor: Annotated[str | None, typer.Option("--assessor", help="Who completed the assessment.")] = None,
    no_evidence: Annotated[bool, typer.Option("--no-evidence", help="Do not store the assessment as evidence.")] = False,
    fmt: FormatOption = TableFormat.table,
) -> None:
    """Questionnaire from the policy's criteria (AI questions for AI providers), inherent and residual risk, findings with owners."""
    from soc2kit.vendors.assessment import read_answers, run_assessment
    from soc2kit.vendors.register import load_register

    ws = _open_workspace()
    v = load_register(ws, must_exist=True).get(name)
    decision, accepted, who = None, "", assessor or ""
    if answers is not None:
        given, parsed = read_answers(answers, v)
        day = _day(on, "--date") if on else (parsed.date or date.today())
        decision, accepted, who = parsed.decision, parsed.risk_accepted_by, assessor or parsed.assessor
    else:
        day = _day(on, "--date")
        given = _interactive(v, ws.profile, day)
    stored = run_assessment(ws, v.name, given, on=day, assessor=who, decision=decision, risk_accepted_by=accepted, report=report, store_evidence=not no_evidence)
    r = stored.record
    if fmt == TableFormat.json:
        _emit_json({**r, "file": str(stored.path.relative_to(ws.root)), "evidence_id": stored.evidence_id})
    else:
        i, res = r["inherent"], r["residual"]
        out.print(f"{r['vendor']} assessed {r['date']}: inherent {i['score']} ({i['band']}) = sensitivity {i['sensitivity']} x criticality {i['criticality']} x likelihood {i['likelihood']}; "
                  f"residual {res['score']} ({res['band']}) with effectiveness {res['effectiveness']:.2f}")
        if r["findings"]:
            table = Table("Question", "Finding", "Owner", "Due", box=None, pad_edge=False)
            for f in r["findings"]:
                table.add_row(f["question"] or "-", f["finding"], f["owner"], f["due"])
            out.print(table)
        out.print(f"decision: {r['decision']} (suggested {r['decision_suggested']}); written to {stored.path.relative_to(ws.root)}")
        if stored.evidence_id:
            out.print(f"stored as evidence {stored.evidence_id} for {', '.join(r['controls'])}" + (f"; vendor report evidence {stored.report_evidence_id}" if stored.report_evidence_id else ""))


@vendor_app.command("review")
def vendor_review(
    due_within: Annotated[str, typer.Option("--due-within", help="Also list reviews and certifications falling due within this window (30d, 6w, 3m).")] = "30d",
    as_of: Annotated[str | None, typer.Option("--as-of", help="Review date YYYY-MM-DD (default: today).")] = None,
    no_evidence: Annotated[bool, typer.Option("--no-evidence", help="Do not store the result as evidence.")] = False,
    fmt: FormatOption = TableFormat.table,
) -> None:
    """Reviews due, certifications expired or expiring, AI training without approval, data the policy does not allow, notice windows."""
    from soc2kit.vendors.review import parse_window, review_vendors

    ws = _open_workspace()
    day = _day(as_of, "--as-of")
    result = review_vendors(ws, as_of=day, within_days=parse_window(due_within))
    if not no_evidence and result["active"]:
        import json

        from soc2kit.evidence.store import EvidenceStore, NewEvidence

        store = EvidenceStore.open(ws)
        try:
            rec = store.add(NewEvidence(controls=["VEN-04", "VEN-01"], data=(json.dumps(result, indent=1, ensure_ascii=False) + "\n").encode(),
                                        name=f"vendor-review-{day.isoformat()}.json", period=(day, day), source_kind="review", source_id="vendors.review",
                                        description=f"Vendor register review as of {day.isoformat()}: {sum(result['counts'].values())} finding(s)"))
            result["evidence"] = rec.id
        finally:
            store.close()
    if fmt == TableFormat.json:
        _emit_json(result)
    else:
        out.print(f"{result['active']} active vendor(s) of {result['vendors']}, as of {result['as_of']}, window {result['due_within_days']} days")
        table = Table("Rule", "Vendor", "Tier", "Kind", "Detail", box=None, pad_edge=False)
        for rule, items in result["findings"].items():
            for i in items:
                table.add_row(rule, i["vendor"], i["criticality"], i["rule"] + (" (deficiency)" if i.get("deficiency") else ""), i["detail"])
        if table.row_count:
            out.print(table)
        if result.get("evidence"):
            out.print(f"stored as evidence {result['evidence']} for VEN-04, VEN-01")
        out.print(f"status: {result['status']}")
        if not result["active"]:
            err.print("the register has no active vendors: add them with `soc2kit vendor add`")
    if result["status"] != "pass":
        raise typer.Exit(ExitCode.FINDINGS)
