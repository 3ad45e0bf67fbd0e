"""The Type II observation window: the occurrences a control's frequency implies, and which of
them have evidence.

Occurrence periods by frequency (calendar-aligned, clipped to the window):
daily — each day; weekly — ISO weeks (Monday to Sunday); monthly — calendar months; quarterly —
calendar quarters; semiannual — January–June and July–December; annual — calendar years;
continuous — calendar months (a continuously operating control is evidenced by at least one
dated record a month, e.g. a monitoring report or alert export); per_event — no fixed periods:
the population is the events recorded as evidence in the window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

ONE = dt.timedelta(days=1)


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    label: str

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "label": self.label}


def _month_end(d: dt.date) -> dt.date:
    nxt = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - ONE


def periods(frequency: str, start: dt.date, end: dt.date) -> list[Period]:
    """The occurrence periods of a control in [start, end]; empty for per-event controls."""
    out: list[Period] = []
    if frequency == "per_event":
        return out
    if frequency == "daily":
        d = start
        while d <= end:
            out.append(Period(d, d, d.isoformat()))
            d += ONE
        return out
    if frequency == "weekly":
        d = start - dt.timedelta(days=start.weekday())
        while d <= end:
            iso = d.isocalendar()
            out.append(Period(max(d, start), min(d + dt.timedelta(days=6), end), f"{iso.year}-W{iso.week:02d}"))
            d += dt.timedelta(days=7)
        return out
    months = {"monthly": 1, "continuous": 1, "quarterly": 3, "semiannual": 6, "annual": 12}.get(frequency)
    if months is None:
        raise ValueError(f"unknown frequency {frequency!r}")
    first_month = ((start.month - 1) // months) * months + 1
    d = dt.date(start.year, first_month, 1)
    while d <= end:
        last = d
        for _ in range(months - 1):
            last = _month_end(last) + ONE
        p_end = _month_end(last)
        if months == 1:
            label = f"{d.year}-{d.month:02d}"
        elif months == 3:
            label = f"{d.year}-Q{(d.month - 1) // 3 + 1}"
        elif months == 6:
            label = f"{d.year}-H{1 if d.month == 1 else 2}"
        else:
            label = str(d.year)
        out.append(Period(max(d, start), min(p_end, end), label))
        d = p_end + ONE
    return out


def covers(period: Period, ev_start: dt.date | None, ev_end: dt.date | None, collected: dt.date) -> bool:
    """Evidence covers a period when the period it documents overlaps it (or, without a stated
    period, when it was collected within it)."""
    if ev_start is not None and ev_end is not None:
        return ev_start <= period.end and ev_end >= period.start
    return period.start <= collected <= period.end


def coverage(controls: Iterable[tuple[str, str, str]], records: Iterable[Any], start: dt.date, end: dt.date) -> dict[str, Any]:
    """``controls``: (id, title, frequency) of applicable controls; ``records``: EvidenceRecord."""
    by_control: dict[str, list[Any]] = {}
    for rec in records:
        for cid in rec.controls:
            by_control.setdefault(cid, []).append(rec)
    result: dict[str, Any] = {}
    expected_total = covered_total = 0
    for cid, title, frequency in controls:
        recs = by_control.get(cid, [])
        plist = periods(frequency, start, end)
        if not plist:  # per event
            in_window = [r.id for r in recs if covers(Period(start, end, ""), r.period_start, r.period_end, r.collected_at.date())]
            result[cid] = {"title": title, "frequency": frequency, "expected": None, "covered": None, "events": len(in_window),
                           "evidence": in_window, "missing": [], "periods": []}
            continue
        rows = []
        missing = []
        for p in plist:
            ids = [r.id for r in recs if covers(p, r.period_start, r.period_end, r.collected_at.date())]
            rows.append({**p.as_dict(), "evidence": ids})
            if not ids:
                missing.append(p.as_dict())
        covered = len(plist) - len(missing)
        expected_total += len(plist)
        covered_total += covered
        result[cid] = {"title": title, "frequency": frequency, "expected": len(plist), "covered": covered, "missing": missing, "periods": rows}
    return {
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "summary": {"expected_periods": expected_total, "covered_periods": covered_total,
                    "coverage": round(covered_total / expected_total, 4) if expected_total else 0.0,
                    "controls_complete": sum(1 for v in result.values() if v["expected"] and not v["missing"]),
                    "controls_with_gaps": sum(1 for v in result.values() if v["missing"])},
        "controls": result,
    }
