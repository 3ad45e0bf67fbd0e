"""Assessment, gap and plan operations on a workspace (called by the CLI, later the dashboard)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from soc2kit.assess.assessment import Assessment
from soc2kit.assess.gap import compute_gap
from soc2kit.assess.plan import build_plan
from soc2kit.evidence.db import DB_FILE, ENV_URL
from soc2kit.library import load_catalog
from soc2kit.profile import vocab
from soc2kit.render.context import build_context
from soc2kit.render.selection import ControlView, select_controls


def applicable_views(ws) -> list[ControlView]:
    return select_controls(load_catalog(), ws.profile, build_context(ws.profile))


def has_store(ws) -> bool:
    return bool(os.environ.get(ENV_URL) or ws.profile.database_url or (ws.root / DB_FILE).exists())


def _store(ws):
    from soc2kit.evidence.store import EvidenceStore

    return EvidenceStore.open(ws)


def record(ws, assessment: Assessment, changes: dict[str, dict[str, Any]], *, by: str) -> list[str]:
    """Apply changes, keep history, save atomically, and log each change when a store exists."""
    now = dt.datetime.now(dt.UTC)
    changed = [cid for cid, values in changes.items() if assessment.set(cid, values, by=by, at=now)]
    if not changed:
        return []
    assessment.save()
    if has_store(ws):
        store = _store(ws)
        try:
            for cid in changed:
                v = assessment.get(cid)
                store.record("assessment.changed", {"control": cid, "status": v.status, "owner": v.owner,
                                                    "target_date": v.target_date.isoformat() if v.target_date else None,
                                                    "justification": v.justification, "notes": v.notes}, actor=by)
        finally:
            store.close()
    return changed


def evidence_by_control(ws) -> dict[str, list[Any]] | None:
    if not has_store(ws):
        return None
    store = _store(ws)
    try:
        out: dict[str, list[Any]] = {}
        for rec in store.list():
            for cid in rec.controls:
                out.setdefault(cid, []).append(rec)
        return out
    finally:
        store.close()


def vendor_findings(ws, today: dt.date | None) -> list[dict[str, Any]] | None:
    """The vendor register's open findings (reviews due, certifications, AI training, data types),
    or None when the workspace keeps no register."""
    from soc2kit.vendors.register import REGISTER_FILE

    if not (ws.root / REGISTER_FILE).exists():
        return None
    from soc2kit.vendors.feeds import vendor_gap_items

    return vendor_gap_items(ws, as_of=today)


def gap(ws, *, today: dt.date | None = None) -> dict[str, Any]:
    catalog = load_catalog()
    views = select_controls(catalog, ws.profile, build_context(ws.profile))
    result = compute_gap(catalog, views, Assessment.load(ws.root), company=ws.profile.company.name, tsc=list(ws.profile.scope.tsc),
                         evidence=evidence_by_control(ws), today=today)
    findings = vendor_findings(ws, today)
    if findings is not None:
        result["vendor_findings"] = findings
    return result


def plan(ws, *, start: dt.date | None = None, today: dt.date | None = None) -> dict[str, Any]:
    from soc2kit.render.documents import read_policy_documents

    catalog = load_catalog()
    views = select_controls(catalog, ws.profile, build_context(ws.profile))
    assessment = Assessment.load(ws.root)
    g = compute_gap(catalog, views, assessment, company=ws.profile.company.name, tsc=list(ws.profile.scope.tsc), evidence=evidence_by_control(ws), today=today)
    roles = {key: (getattr(ws.profile.roles, key) or title) for key, (title, _) in vocab.ROLES.items()}
    people = {title: (getattr(ws.profile.roles, key) or title) for key, (title, _) in vocab.ROLES.items()}
    period = ws.profile.scope.observation_period
    unassessed = sum(1 for v in views if v.applicable and v.id not in assessment.controls)
    return build_plan(catalog, views, g, read_policy_documents(ws.policies_dir), company=ws.profile.company.name, roles=roles,
                      start=start or today or dt.date.today(), window=(period.start, period.end) if period else None, unassessed=unassessed, people=people)


def report_path(ws, name: str, out: Path | None) -> Path:
    return out if out is not None else ws.root / "dist" / "reports" / name
