"""Readiness scoring (``soc2kit gap``).

The score, documented in docs/gap-analysis.md:

* a control scores 1 when ``implemented`` (and, where the workspace has an evidence store, has
  current evidence for its frequency), 0.5 when ``partial`` or implemented without current
  evidence ("implemented, no evidence": an auditor would find an exception), 0 when ``planned``
  or ``not_started``; ``not_applicable`` controls (always with a justification) are left out;
* a criterion's readiness is the mean score of its applicable controls; it is *met* only when every
  one of them is implemented (with current evidence where checked);
* a category's readiness is the mean over its in-scope criteria, each criterion weighing the same,
  and the overall readiness is the mean over all in-scope criteria;
* a control area's readiness is the mean score of its applicable controls.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from soc2kit.assess.assessment import Assessment
from soc2kit.library.models import AREAS, Catalog
from soc2kit.profile import vocab
from soc2kit.render.selection import ControlView

SCORES = {"implemented": 1.0, "partial": 0.5, "implemented_no_evidence": 0.5, "planned": 0.0, "not_started": 0.0}


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def evidence_freshness(records: list[Any], frequency: str, today: dt.date) -> bool:
    """Is there evidence recent enough for the control's frequency?"""
    days = vocab.FREQUENCY_DAYS.get(frequency) or 366
    horizon = today - dt.timedelta(days=days)
    for rec in records:
        latest = rec.period_end or rec.collected_at.date()
        if latest >= horizon:
            return True
    return False


def compute_gap(catalog: Catalog, views: list[ControlView], assessment: Assessment, *, company: str, tsc: list[str],
                evidence: dict[str, list[Any]] | None = None, today: dt.date | None = None) -> dict[str, Any]:
    today = today or dt.date.today()
    applicable = {v.id: v for v in views if v.applicable}
    statuses: dict[str, str] = {}
    for cid, v in applicable.items():
        st = assessment.get(cid).status
        if st == "implemented" and evidence is not None and not evidence_freshness(evidence.get(cid, []), v.frequency, today):
            st = "implemented_no_evidence"
        statuses[cid] = st
    counts = {k: 0 for k in ("implemented", "partial", "planned", "not_started", "not_applicable", "implemented_no_evidence")}
    for st in statuses.values():
        counts[st] += 1

    def control_row(cid: str) -> dict[str, Any]:
        v = applicable[cid]
        a = assessment.get(cid)
        st = statuses[cid]
        return {"id": cid, "title": v.control.title, "status": st, "score": SCORES.get(st, 0.0), "ai_specific": v.control.ai_specific,
                "owner": a.owner or v.owner_title, "target_date": a.target_date.isoformat() if a.target_date else None}

    criteria: dict[str, Any] = {}
    gaps = []
    for crit in catalog.criteria.values():
        if crit.category not in tsc:
            continue
        ids = [c.id for c in catalog.controls_for(crit.id) if c.id in applicable]
        rows = [control_row(cid) for cid in ids]
        counted = [r for r in rows if r["status"] != "not_applicable"]
        if not counted:
            criteria[crit.id] = {"title": crit.title, "category": crit.category, "readiness": None, "met": None, "controls": rows, "not_applicable": True}
            continue
        met = all(r["status"] == "implemented" for r in counted)
        criteria[crit.id] = {"title": crit.title, "category": crit.category, "readiness": _mean([r["score"] for r in counted]), "met": met, "controls": rows}
        if not met:
            gaps.append({
                "criterion": crit.id, "title": crit.title,
                "missing": [r["id"] for r in counted if r["status"] in ("planned", "not_started")],
                "partial": [r["id"] for r in counted if r["status"] == "partial"],
                "no_evidence": [r["id"] for r in counted if r["status"] == "implemented_no_evidence"],
            })
    scored = {k: v for k, v in criteria.items() if v["readiness"] is not None}
    categories = {}
    for cat in tsc:
        crits = [v for v in scored.values() if v["category"] == cat]
        categories[cat] = {"label": vocab.label(vocab.TSC_CATEGORIES, cat), "readiness": _mean([c["readiness"] for c in crits]),
                           "criteria_met": sum(1 for c in crits if c["met"]), "criteria_total": len(crits)}
    areas = {}
    for area, name in AREAS.items():
        ids = [cid for cid, v in applicable.items() if v.control.area == area and statuses[cid] != "not_applicable"]
        if ids:
            areas[area] = {"name": name, "readiness": _mean([SCORES[statuses[c]] for c in ids]), "controls": len(ids)}
    ai_gaps = [
        {"id": cid, "title": applicable[cid].control.title, "status": statuses[cid], "criteria": list(applicable[cid].control.criteria)}
        for cid in applicable if applicable[cid].control.ai_specific and statuses[cid] not in ("implemented", "not_applicable")
    ]
    return {
        "company": company,
        "generated_on": today.isoformat(),
        "scoring": dict(SCORES),
        "overall": {"readiness": _mean([c["readiness"] for c in scored.values()]), "criteria_met": sum(1 for c in scored.values() if c["met"]),
                    "criteria_total": len(scored), "controls": counts},
        "categories": categories,
        "criteria": criteria,
        "areas": areas,
        "gaps": gaps,
        "ai_gaps": ai_gaps,
        "evidence_checked": evidence is not None,
    }
