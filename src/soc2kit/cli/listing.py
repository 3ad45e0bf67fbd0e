"""Data for the listing commands (criteria, controls, policies): plain dicts with stable keys."""

from __future__ import annotations

from typing import Any

from soc2kit.library import load_catalog
from soc2kit.library.models import Catalog
from soc2kit.render.policies import cited_controls


def _template_citations(catalog: Catalog) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for t in catalog.policies.values():
        for cid in cited_controls(t.body):
            out.setdefault(cid, []).append(t.id)
    return out


def _workspace_citations(ws) -> tuple[dict[str, list[str]], list]:
    from soc2kit.render.documents import read_policy_documents

    docs = read_policy_documents(ws.policies_dir)
    out: dict[str, list[str]] = {}
    for d in docs:
        for cit in d.citations:
            lst = out.setdefault(cit.control_id, [])
            if d.id not in lst:
                lst.append(d.id)
    return out, docs


def controls_listing(ws) -> dict[str, Any]:
    catalog = load_catalog()
    views = {}
    if ws is not None:
        from soc2kit.render.context import build_context
        from soc2kit.render.selection import select_controls

        views = {v.id: v for v in select_controls(catalog, ws.profile, build_context(ws.profile))}
        cites, _ = _workspace_citations(ws)
    else:
        cites = _template_citations(catalog)
    items = []
    for c in catalog.controls.values():
        item: dict[str, Any] = {
            "id": c.id,
            "title": c.title,
            "area": c.area,
            "criteria": list(c.criteria),
            "crosswalk": {k: list(v) for k, v in c.crosswalk.items()},
            "frequency": c.frequency,
            "frequency_param": c.frequency_param,
            "owner": c.owner,
            "ai_specific": c.ai_specific,
            "policies": cites.get(c.id, []),
            "applies_when": c.applies_when,
            "check": c.check,
        }
        if c.id in views:
            v = views[c.id]
            item["applicable"] = v.applicable
            item["not_applicable_reason"] = v.reason or None
            item["statement"] = v.statement
            item["frequency"] = v.frequency
        items.append(item)
    return {"controls": items}


def criteria_listing(ws) -> dict[str, Any]:
    catalog = load_catalog()
    in_scope = set(ws.profile.scope.tsc) if ws is not None else {c.category for c in catalog.criteria.values()}
    applicable = None
    if ws is not None:
        from soc2kit.render.context import build_context
        from soc2kit.render.selection import select_controls

        applicable = {v.id for v in select_controls(catalog, ws.profile, build_context(ws.profile)) if v.applicable}
    items = []
    for crit in catalog.criteria.values():
        controls = [c.id for c in catalog.controls_for(crit.id) if applicable is None or c.id in applicable]
        items.append({
            "id": crit.id, "category": crit.category, "group": crit.group, "title": crit.title, "summary": crit.summary,
            "in_scope": crit.category in in_scope, "controls": controls,
        })
    return {"criteria": items, "count": len(items)}


def policies_listing(ws) -> dict[str, Any]:
    catalog = load_catalog()
    items = []
    if ws is None:
        for t in catalog.policies.values():
            items.append({"id": t.id, "title": t.title, "summary": t.summary, "owner": t.owner, "ai_policy": t.ai_policy,
                          "applies_when": t.applies_when, "controls": cited_controls(t.body)})
        return {"policies": items}
    _, docs = _workspace_citations(ws)
    for d in docs:
        controls: list[str] = []
        for cit in d.citations:
            if cit.control_id not in controls:
                controls.append(cit.control_id)
        m = d.meta
        items.append({
            "id": d.id, "title": d.title, "path": str(d.path.relative_to(ws.root)), "version": m.get("version"),
            "status": m.get("status"), "owner": m.get("owner"), "approver": m.get("approver"),
            "effective_date": m.get("effective_date"), "next_review": m.get("next_review"), "controls": controls,
        })
    return {"policies": items}
