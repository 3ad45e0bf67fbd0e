"""Policy review cadence: which documents are overdue or due soon.

Every policy is reviewed at least once per its interval: annual by default, quarterly for AI
policies (``documents.review_interval`` and ``documents.ai_review_interval`` in the profile). A
document's due date is its ``next_review`` field, which ``policy approve`` and ``policy review`` move
forward; a document without one is due one interval after its last approval, review or effective
date. The dashboard and ``soc2kit reviews`` both read this module.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from soc2kit.errors import UserError
from soc2kit.render.documents import as_date, parse_policy_document
from soc2kit.render.policies import INTERVAL_MONTHS, add_months

DEFAULT_WITHIN_DAYS = 30


def interval_for(meta: dict[str, Any], profile) -> str:
    """The review interval of a document: its own ``review_interval`` field, else the profile's."""
    own = meta.get("review_interval")
    if isinstance(own, str) and own in INTERVAL_MONTHS:
        return own
    return profile.documents.ai_review_interval if meta.get("ai_policy") is True else profile.documents.review_interval


def next_review_after(day: dt.date, interval: str) -> dt.date:
    return add_months(day, INTERVAL_MONTHS[interval])


def due_date(meta: dict[str, Any], interval: str) -> tuple[dt.date | None, str]:
    """(due date, where it came from): ``next_review``, else the last approval/review/effective date + interval."""
    explicit = as_date(meta.get("next_review"))
    if explicit is not None:
        return explicit, "next_review"
    anchors = [d for d in (as_date(meta.get("last_reviewed")), as_date(meta.get("approved_on")), as_date(meta.get("effective_date"))) if d]
    if anchors:
        return next_review_after(max(anchors), interval), "computed"
    return None, "unknown"


def parse_within(value: str | int | None) -> int | None:
    """``30``, ``30d``, ``6w`` or ``3m`` (months of 30 days) as a number of days."""
    if value is None:
        return None
    if isinstance(value, int):
        days = value
    else:
        m = re.fullmatch(r"\s*(\d{1,5})\s*([dwm]?)\s*", value.lower())
        if not m:
            raise UserError(f"{value!r} is not a duration", hint="write it as a number of days (30 or 30d), weeks (6w) or months (3m)")
        days = int(m.group(1)) * {"": 1, "d": 1, "w": 7, "m": 30}[m.group(2)]
    if days < 0:
        raise UserError(f"the duration {value!r} is negative")
    return days


def due_reviews(ws, *, today: dt.date, within_days: int | None = None, window_days: int | None = None) -> list[dict[str, Any]]:
    """Every policy document with its review state, soonest due first.

    ``within_days=None`` returns every document; a number returns only those overdue or due within
    that many days. Each item: ``policy``, ``title``, ``path``, ``ai_policy``, ``status`` (the
    document's), ``version``, ``review_interval``, ``next_review`` (ISO date or None), ``due_from``
    (``next_review``/``computed``/``unknown``), ``days_left`` (negative when overdue), ``state``
    (``overdue``, ``due`` within the window, ``scheduled``, or ``unknown`` without any date),
    ``approved_by``, ``approved_on``, ``last_reviewed``. ``window_days`` sets the "due" window when
    every document is listed (default 30 days).
    """
    window = within_days if within_days is not None else (DEFAULT_WITHIN_DAYS if window_days is None else window_days)
    items: list[dict[str, Any]] = []
    if not ws.policies_dir.is_dir():
        return items
    for path in sorted(ws.policies_dir.glob("*.md")):
        doc = parse_policy_document(path)
        meta = doc.meta
        interval = interval_for(meta, ws.profile)
        due, source = due_date(meta, interval)
        days = (due - today).days if due else None
        if days is None:
            state = "unknown"
        elif days < 0:
            state = "overdue"
        elif days <= window:
            state = "due"
        else:
            state = "scheduled"
        if within_days is not None and state not in ("overdue", "due", "unknown"):
            continue
        approved_on = as_date(meta.get("approved_on"))
        last_reviewed = as_date(meta.get("last_reviewed"))
        items.append({
            "policy": doc.id, "title": doc.title, "path": str(path.relative_to(ws.root)), "ai_policy": meta.get("ai_policy") is True,
            "status": meta.get("status"), "version": None if meta.get("version") is None else str(meta.get("version")),
            "review_interval": interval, "next_review": due.isoformat() if due else None, "due_from": source, "days_left": days, "state": state,
            "approved_by": meta.get("approved_by") or None, "approved_on": approved_on.isoformat() if approved_on else None,
            "last_reviewed": last_reviewed.isoformat() if last_reviewed else None,
        })
    order = {"overdue": 0, "unknown": 1, "due": 2, "scheduled": 3}
    items.sort(key=lambda i: (order[i["state"]], i["days_left"] if i["days_left"] is not None else 0, i["policy"]))
    return items
