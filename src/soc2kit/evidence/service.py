"""Operations on a workspace's evidence store, shared by the CLI and (later) the dashboard."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from soc2kit._fs import atomic_write_text
from soc2kit.errors import UserError
from soc2kit.evidence import audit, sampling, window
from soc2kit.evidence.store import EvidenceStore

CHECKPOINT_DIR = "checkpoints"


def keys_dir(ws) -> Path:
    return ws.state_dir / "keys"


def verify_log(store: EvidenceStore, checkpoint: dict[str, Any] | None = None) -> audit.ChainReport:
    with store.engine.connect() as conn:
        report, leaves = audit.verify_chain(audit.iter_entries(conn))
        conn.rollback()
    if checkpoint is not None:
        audit.check_against_checkpoint(report, leaves, checkpoint)
    return report


def make_checkpoint(ws, store: EvidenceStore, out: Path | None = None) -> tuple[dict[str, Any], Path]:
    report = verify_log(store)
    if not report.ok:
        raise UserError("the audit log fails verification; refusing to sign a checkpoint over it", hint="run `soc2kit audit verify` to see the first bad entry")
    signer = audit.Signer.load_or_create(keys_dir(ws))
    cp = signer.checkpoint(f"soc2kit:{ws.profile.company.name}", report.entries, report.root)
    target = out or (ws.state_dir / CHECKPOINT_DIR / f"checkpoint-{report.entries:08d}.json")
    atomic_write_text(target, audit.canonical(cp) + "\n")
    store.record("audit.checkpoint", {"tree_size": cp["tree_size"], "root_hash": cp["root_hash"], "file": target.name})
    return cp, target


def prove(store: EvidenceStore, seq: int, checkpoint: dict[str, Any]) -> dict[str, Any]:
    with store.engine.connect() as conn:
        entries = list(audit.iter_entries(conn))
        conn.rollback()
    report, leaves = audit.verify_chain(entries)
    proof = audit.inclusion(leaves, seq, checkpoint)
    proof["entry_body"] = entries[seq - 1].text
    return proof


def applicable_controls(ws) -> list[tuple[str, str, str]]:
    from soc2kit.library import load_catalog
    from soc2kit.render.context import build_context
    from soc2kit.render.selection import select_controls

    views = select_controls(load_catalog(), ws.profile, build_context(ws.profile))
    return [(v.id, v.control.title, v.frequency) for v in views if v.applicable]


def observation_window(ws) -> tuple[dt.date, dt.date]:
    period = ws.profile.scope.observation_period
    if period is None:
        raise UserError("no observation period is set", hint="add scope.observation_period: {start: YYYY-MM-DD, end: YYYY-MM-DD} to soc2kit.yaml")
    return period.start, period.end


def coverage(ws, store: EvidenceStore) -> dict[str, Any]:
    start, end = observation_window(ws)
    return window.coverage(applicable_controls(ws), store.list(), start, end)


def sample(ws, store: EvidenceStore, control_id: str, seed: int | None = None) -> dict[str, Any]:
    cid = control_id.strip().upper()
    controls = {c[0]: c for c in applicable_controls(ws)}
    if cid not in controls:
        from soc2kit.library import load_catalog

        if cid in load_catalog().controls:
            raise UserError(f"control {cid} does not apply to this company", hint="see `soc2kit controls` for the applicable controls")
        raise UserError(f"unknown control {control_id!r}", hint="list controls with `soc2kit controls`")
    _, title, frequency = controls[cid]
    start, end = observation_window(ws)
    records = store.list(control=cid)
    if frequency == "per_event":
        population = [
            {"kind": "event", "evidence": r.id, "collected_at": audit.iso(r.collected_at), "name": r.name}
            for r in records
            if window.covers(window.Period(start, end, ""), r.period_start, r.period_end, r.collected_at.date())
        ]
    else:
        population = []
        for p in window.periods(frequency, start, end):
            ids = [r.id for r in records if window.covers(p, r.period_start, r.period_end, r.collected_at.date())]
            population.append({"kind": "occurrence", **p.as_dict(), "evidence": ids})
    used_seed, picked = sampling.draw(population, frequency, seed)
    result = {
        "control": cid, "title": title, "frequency": frequency, "window": {"start": start.isoformat(), "end": end.isoformat()},
        "population_size": len(population), "sample_size": len(picked), "seed": used_seed,
        "population": population, "sample": [population[i] for i in picked],
    }
    entry = store.record("sample.drawn", {"control": cid, "frequency": frequency, "seed": used_seed, "population_size": len(population),
                                           "sample": [population[i].get("label") or population[i].get("evidence") for i in picked]})
    result["audit_entry"] = entry.seq
    return result
