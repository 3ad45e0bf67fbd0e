"""`soc2kit evidence …`, `soc2kit audit …` and `soc2kit sample`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from soc2kit.cli.app import TableFormat, _emit_json, _open_workspace, app, err, out
from soc2kit.errors import ExitCode

evidence_app = typer.Typer(help="Add, list and verify evidence; show coverage of the observation window.", no_args_is_help=True, rich_markup_mode=None)
audit_app = typer.Typer(help="Verify the audit log, sign checkpoints, print and check inclusion proofs.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(evidence_app, name="evidence")
app.add_typer(audit_app, name="audit")


def _store():
    from soc2kit.evidence.store import EvidenceStore

    ws = _open_workspace()
    return ws, EvidenceStore.open(ws)


@evidence_app.command("add")
def evidence_add(
    files: Annotated[list[Path], typer.Argument(help="Evidence files to add.", show_default=False)],
    control: Annotated[list[str], typer.Option("--control", "-c", help="Control the evidence supports (repeat for several).")],
    period: Annotated[str | None, typer.Option("--period", help="The period the evidence covers: START..END (YYYY-MM-DD..YYYY-MM-DD).")] = None,
    description: Annotated[str, typer.Option("--description", "-d", help="What the evidence shows.")] = "",
    name: Annotated[str | None, typer.Option("--name", help="File name to record (default: the file's own name); one file only.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who adds it (default: $SOC2KIT_ACTOR or the login name).")] = None,
) -> None:
    """Store files as evidence for controls (content-addressed; logged in the audit log)."""
    from soc2kit.errors import UsageError
    from soc2kit.evidence.store import NewEvidence, parse_period

    if name is not None and len(files) != 1:
        raise UsageError("--name applies to a single file")
    start_end = parse_period(period)
    ws, store = _store()
    try:
        records = store.add_many([NewEvidence(controls=control, path=f, name=name, description=description, period=start_end) for f in files], actor=by)
    finally:
        store.close()
    for r in records:
        out.print(f"evidence {r.id}: {r.name} ({r.size} bytes, sha256 {r.sha256[:12]}…) for {', '.join(r.controls)}; audit entry {r.audit_seq}")


@evidence_app.command("list")
def evidence_list(
    control: Annotated[str | None, typer.Option("--control", "-c", help="Only evidence for this control.")] = None,
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = TableFormat.table,
) -> None:
    """List evidence records."""
    ws, store = _store()
    try:
        records = store.list(control=control)
    finally:
        store.close()
    if fmt == TableFormat.json:
        _emit_json({"evidence": [r.as_dict() for r in records]})
        return
    table = Table("Id", "Controls", "Name", "Collected", "Period", "Source", "Added by", box=None, pad_edge=False)
    for r in records:
        period = f"{r.period_start}..{r.period_end}" if r.period_start else "-"
        table.add_row(str(r.id), ", ".join(r.controls), r.name, r.collected_at.strftime("%Y-%m-%d %H:%M"), period, r.source_kind + (f":{r.source_id}" if r.source_id else ""), r.added_by)
    out.print(table)
    out.print(f"{len(records)} record(s)")


@evidence_app.command("show")
def evidence_show(
    evidence_id: Annotated[int, typer.Argument(help="Evidence id.")],
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = TableFormat.table,
) -> None:
    """Show one evidence record, where its file is, and its audit entry."""
    ws, store = _store()
    try:
        rec = store.get(evidence_id)
        path = store.blob_path(rec.sha256)
    finally:
        store.close()
    data = rec.as_dict() | {"file": str(path)}
    if fmt == TableFormat.json:
        _emit_json(data)
        return
    for key in ("id", "name", "controls", "description", "collected_at", "period", "source", "added_by", "sha256", "size", "file", "audit_entry"):
        value = data[key]
        if isinstance(value, list):
            value = ", ".join(value)
        elif isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items() if v)
        out.print(f"{key:13} {value}")


@evidence_app.command("verify")
def evidence_verify(
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = TableFormat.table,
) -> None:
    """Re-hash every evidence file; report missing, altered or unrecorded files and altered records (exit 1)."""
    ws, store = _store()
    try:
        store.clean_incoming()
        count, problems = store.verify_files()
        record_problems = store.verify_records()
    finally:
        store.close()
    failed = bool(record_problems) or any(p.kind in ("missing", "altered") for p in problems)
    if fmt == TableFormat.json:
        _emit_json({"ok": not failed, "files": count, "problems": [p.__dict__ for p in problems], "record_problems": record_problems})
    else:
        for p in problems:
            used = f" (evidence {', '.join(map(str, p.evidence_ids))})" if p.evidence_ids else ""
            (err if p.kind != "orphan" else out).print(f"{p.kind}: {p.path}{used}")
        for msg in record_problems:
            err.print(msg)
        out.print(f"{count} file(s) checked: " + ("all match their SHA-256" if not failed else "problems found"))
    if failed:
        raise typer.Exit(ExitCode.FINDINGS)


@evidence_app.command("coverage")
def evidence_coverage(
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = TableFormat.table,
    gaps_only: Annotated[bool, typer.Option("--gaps", help="Only controls with periods lacking evidence.")] = False,
) -> None:
    """For each applicable control, the periods of the observation window that lack evidence."""
    from soc2kit.evidence import service

    ws, store = _store()
    try:
        data = service.coverage(ws, store)
    finally:
        store.close()
    if gaps_only:
        data["controls"] = {k: v for k, v in data["controls"].items() if v["missing"]}
    if fmt == TableFormat.json:
        _emit_json(data)
        return
    s = data["summary"]
    out.print(f"Observation window {data['window']['start']} to {data['window']['end']}: {s['covered_periods']} of {s['expected_periods']} periods have evidence ({s['coverage']:.0%}); {s['controls_with_gaps']} controls have gaps")
    table = Table("Control", "Frequency", "Covered", "Missing periods", box=None, pad_edge=False)
    for cid, v in data["controls"].items():
        if v["expected"] is None:
            table.add_row(cid, v["frequency"], f"{v['events']} events", "-")
        else:
            missing = ", ".join(p["label"] for p in v["missing"][:6]) + (f" (+{len(v['missing']) - 6})" if len(v["missing"]) > 6 else "")
            table.add_row(cid, v["frequency"], f"{v['covered']}/{v['expected']}", missing or "-")
    out.print(table)


@audit_app.command("verify")
def audit_verify(
    checkpoint: Annotated[Path | None, typer.Option("--checkpoint", help="A checkpoint published earlier: also detect a rewritten or truncated log.")] = None,
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = TableFormat.table,
) -> None:
    """Check the audit log's hash chain (and, with --checkpoint, against a signed tree head). Exit 1 on any problem."""
    from soc2kit.evidence import audit, service

    cp = audit.load_checkpoint(checkpoint) if checkpoint else None
    ws, store = _store()
    try:
        report = service.verify_log(store, cp)
    finally:
        store.close()
    if fmt == TableFormat.json:
        _emit_json({"ok": report.ok, "entries": report.entries, "first_bad_entry": report.first_bad_seq, "problems": report.problems,
                    "root_hash": report.root.hex(), "checkpoint": report.checkpoint})
    else:
        for p in report.problems[:20]:
            err.print(p)
        if len(report.problems) > 20:
            err.print(f"… and {len(report.problems) - 20} more")
        if report.ok:
            tail = f"; consistent with the checkpoint of {report.checkpoint['timestamp']} ({report.checkpoint['tree_size']} entries)" if report.checkpoint else ""
            out.print(f"audit log OK: {report.entries} entries, chain intact{tail}")
        else:
            first = f" first bad entry: {report.first_bad_seq}" if report.first_bad_seq else ""
            err.print(f"audit log FAILED verification ({report.entries} entries).{first}")
    if not report.ok:
        raise typer.Exit(ExitCode.FINDINGS)


@audit_app.command("checkpoint")
def audit_checkpoint(
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write it (default: .soc2kit/checkpoints/).")] = None,
) -> None:
    """Sign a tree head (entry count + Merkle root) with the workspace's Ed25519 key.

    Hand the file to someone who keeps it where you cannot change it (the auditor, write-once
    storage): a later rewrite of the log is caught against it.
    """
    from soc2kit.evidence import service

    ws, store = _store()
    try:
        cp, path = service.make_checkpoint(ws, store, out_file)
    finally:
        store.close()
    out.print(f"checkpoint of {cp['tree_size']} entries, root {cp['root_hash']}, signed by key {cp['public_key']}")
    out.print(f"written to {path}")


@audit_app.command("prove")
def audit_prove(
    entry: Annotated[int, typer.Argument(help="Audit entry number (sequence).")],
    checkpoint: Annotated[Path, typer.Option("--checkpoint", help="The checkpoint to prove inclusion against.")],
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="Write the proof to this file instead of standard output.")] = None,
) -> None:
    """Print an RFC 9162 inclusion proof of an entry under a checkpoint, checkable without the database."""
    from soc2kit._fs import atomic_write_text
    from soc2kit.evidence import audit, service

    cp = audit.load_checkpoint(checkpoint)
    ws, store = _store()
    try:
        proof = service.prove(store, entry, cp)
    finally:
        store.close()
    text = json.dumps(proof, indent=2, ensure_ascii=False) + "\n"
    if out_file:
        atomic_write_text(out_file, text)
        out.print(f"proof written to {out_file}")
    else:
        typer.echo(text, nl=False)


@audit_app.command("check-proof")
def audit_check_proof(
    proof_file: Annotated[Path, typer.Argument(help="A proof printed by `soc2kit audit prove`.")],
    public_key: Annotated[str | None, typer.Option("--public-key", help="The signing key you trust (base64); default: the key in the proof.")] = None,
) -> None:
    """Check an inclusion proof on its own: no workspace or database needed (exit 1 if it fails)."""
    from soc2kit._fs import read_json
    from soc2kit.errors import Location, UserError
    from soc2kit.evidence import audit

    proof = read_json(proof_file, "proof file")
    if not isinstance(proof, dict):
        raise UserError("not a soc2kit inclusion proof", location=Location(proof_file))
    if public_key is not None and proof.get("checkpoint", {}).get("public_key") != public_key:
        err.print("the checkpoint was signed by a different key than the one you trust")
        raise typer.Exit(ExitCode.FINDINGS)
    ok, message = audit.verify_inclusion_proof(proof, proof.get("entry_body"))
    (out if ok else err).print(("valid: " if ok else "INVALID: ") + message)
    if not ok:
        raise typer.Exit(ExitCode.FINDINGS)


@app.command()
def sample(
    control: Annotated[str, typer.Option("--control", "-c", help="Control to sample.")],
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for a reproducible draw (default: random, and printed).")] = None,
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = TableFormat.table,
) -> None:
    """Draw a reproducible sample of a control's occurrences in the observation window (logged)."""
    from soc2kit.evidence import service

    ws, store = _store()
    try:
        result = service.sample(ws, store, control, seed)
    finally:
        store.close()
    if fmt == TableFormat.json:
        _emit_json(result)
        return
    out.print(f"{result['control']} ({result['frequency']}): population {result['population_size']}, sample {result['sample_size']}, seed {result['seed']} (audit entry {result['audit_entry']})")
    for item in result["sample"]:
        if item["kind"] == "occurrence":
            ev = ", ".join(map(str, item["evidence"])) or "no evidence"
            out.print(f"  {item['label']} ({item['start']}..{item['end']}): evidence {ev}")
        else:
            out.print(f"  evidence {item['evidence']}: {item['name']} collected {item['collected_at']}")
