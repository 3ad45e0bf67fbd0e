"""Framework coverage: which ISO/IEC 42001, NIST AI RMF or ISO/IEC 27001 ids the controls reach."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from soc2kit.errors import UsageError
from soc2kit.library.loader import CONTENT_DIR
from soc2kit.library.models import FRAMEWORKS, Catalog

#: CLI name -> crosswalk key in the control YAML
FRAMEWORK_NAMES = {"iso42001": "iso42001", "nist-ai-rmf": "nist_ai_rmf", "iso27001": "iso27001"}
_FILES = {"iso42001": "iso42001.json", "nist_ai_rmf": "nist-ai-rmf.json", "iso27001": "iso27001.json"}


def framework_key(name: str) -> str:
    key = FRAMEWORK_NAMES.get(name.lower())
    if key is None:
        raise UsageError(f"unknown framework {name!r}", hint=f"choose from: {', '.join(FRAMEWORK_NAMES)}")
    return key


def _groups(key: str) -> dict[str, str]:
    data = json.loads((CONTENT_DIR / "frameworks" / _FILES[key]).read_text(encoding="utf-8"))
    return {c["id"]: c.get("group", "") for c in data["controls"]}


def coverage(catalog: Catalog, key: str, applicable: Iterable[str] | None = None) -> dict[str, Any]:
    """Coverage of one framework. With ``applicable`` (a company's applicable control ids), only
    those controls count, so the result says what that company's control set reaches."""
    allowed = set(applicable) if applicable is not None else None
    groups = _groups(key)
    ids: dict[str, dict[str, Any]] = {}
    for fid, title in catalog.frameworks[key].items():
        controls = [c.id for c in catalog.controls.values() if fid in c.crosswalk[key] and (allowed is None or c.id in allowed)]
        ids[fid] = {"title": title, "group": groups.get(fid, ""), "controls": controls}
    by_group: dict[str, dict[str, int]] = {}
    for entry in ids.values():
        g = by_group.setdefault(entry["group"], {"total": 0, "covered": 0})
        g["total"] += 1
        g["covered"] += bool(entry["controls"])
    covered = sum(1 for e in ids.values() if e["controls"])
    return {
        "framework": key,
        "name": FRAMEWORKS[key],
        "scope": "all controls" if allowed is None else "applicable controls of the workspace",
        "total": len(ids),
        "covered": covered,
        "coverage": round(covered / len(ids), 4) if ids else 0.0,
        "groups": by_group,
        "ids": ids,
        "uncovered": [fid for fid, e in ids.items() if not e["controls"]],
    }
