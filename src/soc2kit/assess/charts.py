"""Two small SVG charts for the gap and plan reports, written by hand.

The reports need exactly two chart kinds: horizontal readiness bars (gap report) and a Gantt-style
timeline (plan). A plotting library would bring a heavy dependency tree (and fonts, backends and
version churn) for two simple pictures, so this module writes SVG text directly: rectangles, lines
and text, nothing else. The output is a complete standalone ``<svg xmlns=...>`` document that is
also valid inline inside an HTML page.

Every piece of text (company names, titles, task names) goes through ``xml.sax.saxutils.escape``
(with quotes escaped too, so the same helper is safe in attributes), and characters XML 1.0 does
not allow are dropped, so a name like ``Evil <script> {{7*7}} & "x"`` is shown literally and the
SVG always parses. Each chart carries an accessible ``<title>`` and ``<desc>``; values are printed
as numbers, so colour is never the only carrier of meaning.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from typing import Any
from xml.sax.saxutils import escape

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"

RED, AMBER, GREEN = "#b03a2e", "#b9770e", "#1e8449"
PHASE_COLOURS = ("#2e86c1", "#17a589", "#ca6f1e", "#7d3c98")
WINDOW_COLOUR = "#2c3e50"
GRID, INK, MUTED = "#d9dde5", "#1d2330", "#5b6475"

MAX_TASK_ROWS = 12

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def esc(text: Any) -> str:
    """Text safe as SVG/XML content and inside double- or single-quoted attributes."""
    return escape(_XML_INVALID.sub("", str(text)), {'"': "&quot;", "'": "&apos;"})


def percent(value: float) -> str:
    """``0.42`` -> ``"42%"``. Rounded half up, but never shows 100% for a value below 1."""
    v = _clamp(value)
    p = math.floor(v * 100 + 0.5)
    if p == 100 and v < 1:
        p = 99
    return f"{p}%"


def readiness_colour(value: float) -> str:
    v = _clamp(value)
    return RED if v < 0.5 else AMBER if v < 0.8 else GREEN


def _clamp(value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return 0.0
    if not math.isfinite(v):
        return 0.0
    return min(max(v, 0.0), 1.0)


def _truncate(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _ids(kind: str, title: str) -> tuple[str, str]:
    """Element ids unique enough for two charts on one HTML page."""
    h = hashlib.sha256(f"{kind}\0{title}".encode()).hexdigest()[:8]
    return f"{kind}-title-{h}", f"{kind}-desc-{h}"


def _open(kind: str, width: int, height: int, title: str, desc: str) -> list[str]:
    tid, did = _ids(kind, title)
    return [
        f'<svg xmlns="{SVG_NS}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{tid} {did}" font-family="{esc(FONT)}" font-size="12">',
        f'<title id="{tid}">{esc(title)}</title>',
        f'<desc id="{did}">{esc(desc)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="10" y="22" font-size="15" font-weight="600" fill="{INK}">{esc(_truncate(title, width // 9))}</text>',
    ]


# -- readiness bars -----------------------------------------------------------------------------

BARS_WIDTH = 720
_LABEL_RIGHT = 200  # labels are right-aligned at this x
_BAR_X0 = 210
_BAR_SPAN = 420
_ROW = 26
_BAR_H = 16
_BARS_TOP = 44


def readiness_bars(items: list[tuple[str, float]], title: str) -> str:
    """A horizontal bar chart: one bar per ``(label, readiness 0..1)``, with its percentage printed.

    Colour by value (red below 50%, amber below 80%, green otherwise), a 0/25/50/75/100% axis, and
    a height that grows with the number of bars.
    """
    rows = [(str(label), _clamp(value)) for label, value in items]
    desc = "Readiness: " + "; ".join(f"{label}: {percent(v)}" for label, v in rows) + "." if rows else "No readiness data."
    desc += " Colours: red below 50%, amber below 80%, green from 80%."
    body_h = max(len(rows), 1) * _ROW
    height = _BARS_TOP + body_h + 34
    out = _open("bars", BARS_WIDTH, height, title, desc)
    axis_y = _BARS_TOP + body_h
    for tick in (0, 25, 50, 75, 100):
        x = _BAR_X0 + _BAR_SPAN * tick / 100
        out.append(f'<line x1="{x:.1f}" y1="{_BARS_TOP - 4}" x2="{x:.1f}" y2="{axis_y}" stroke="{GRID}" stroke-width="1"/>')
        out.append(f'<text x="{x:.1f}" y="{axis_y + 16}" text-anchor="middle" fill="{MUTED}">{tick}%</text>')
    out.append(f'<line x1="{_BAR_X0}" y1="{axis_y}" x2="{_BAR_X0 + _BAR_SPAN}" y2="{axis_y}" stroke="{MUTED}" stroke-width="1"/>')
    if not rows:
        out.append(f'<text x="{_BAR_X0 + _BAR_SPAN / 2:.1f}" y="{_BARS_TOP + 17}" text-anchor="middle" fill="{MUTED}">No data</text>')
    for i, (label, v) in enumerate(rows):
        y = _BARS_TOP + i * _ROW + (_ROW - _BAR_H) / 2
        w = _BAR_SPAN * v
        pct = percent(v)
        out.append("<g>")
        out.append(f"<title>{esc(label)}: {pct}</title>")
        out.append(f'<text x="{_LABEL_RIGHT}" y="{y + 12:.1f}" text-anchor="end" fill="{INK}">{esc(_truncate(label, 27))}</text>')
        out.append(f'<rect x="{_BAR_X0}" y="{y:.1f}" width="{w:.1f}" height="{_BAR_H}" fill="{readiness_colour(v)}"/>')
        out.append(f'<text x="{_BAR_X0 + w + 6:.1f}" y="{y + 12:.1f}" fill="{INK}" font-weight="600">{pct}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


# -- gantt --------------------------------------------------------------------------------------

GANTT_WIDTH = 960
_G_LABEL_X = 10
_G_X0 = 300
_G_X1 = GANTT_WIDTH - 20
_G_TOP = 58  # first row
_PHASE_ROW, _TASK_ROW, _WINDOW_ROW = 24, 17, 30
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"not an ISO date (YYYY-MM-DD): {value!r}") from exc


def _span(item: dict[str, Any]) -> tuple[dt.date, dt.date] | None:
    start, end = _date(item.get("start")), _date(item.get("end"))
    if start is None and end is None:
        return None
    start = start or end
    end = end or start
    assert start is not None and end is not None
    return (start, end) if start <= end else (end, start)


def _month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def _next_month(d: dt.date) -> dt.date:
    return dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def _important_tasks(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Up to ``MAX_TASK_ROWS`` tasks, shown by start date.

    Chosen in the plan's own order of urgency: unranked tasks (priority missing or 0, the plan's few
    fixed milestones) first, then by priority (1 = most urgent), then the longest.
    """

    def rank(t: dict[str, Any]) -> tuple[Any, ...]:
        p = t.get("priority")
        p = p if isinstance(p, int) and p >= 1 else 0
        return (p, -(t.get("effort_days") or 0), str(t.get("id", "")))

    chosen = sorted(tasks, key=rank)[:MAX_TASK_ROWS]
    return sorted(chosen, key=lambda t: (str(t.get("start") or "9999"), str(t.get("id", ""))))


def gantt(phases: list[dict[str, Any]], window: dict[str, Any] | None, title: str) -> str:
    """A Gantt-style timeline: a row per phase, up to 12 task rows under each, the observation window last.

    ``phases`` follow the plan schema (``number``, ``name``, ``start``, ``end``, ``tasks``); dates
    are ISO strings and end dates are inclusive. When a phase has more than 12 tasks, the 12 most
    urgent (then longest) are drawn and a "+N more tasks" row says how many are not.
    """
    # Layout rows first: (kind, payload)
    rows: list[tuple[str, Any]] = []
    spans: list[tuple[dt.date, dt.date]] = []
    for index, phase in enumerate(phases):
        tasks = list(phase.get("tasks") or [])
        pspan = _span(phase)
        tspans = [s for s in (_span(t) for t in tasks) if s]
        if pspan is None and tspans:
            pspan = (min(s[0] for s in tspans), max(s[1] for s in tspans))
        spans += tspans + ([pspan] if pspan else [])
        colour = PHASE_COLOURS[index % len(PHASE_COLOURS)]
        rows.append(("phase", (phase, pspan, colour, len(tasks))))
        shown = _important_tasks(tasks)
        for t in shown:
            rows.append(("task", (t, _span(t), colour)))
        if len(tasks) > len(shown):
            rows.append(("more", len(tasks) - len(shown)))
    wspan = _span(window) if window else None
    if wspan:
        spans.append(wspan)
        rows.append(("window", wspan))

    desc_parts = []
    if spans:
        first, last = min(s[0] for s in spans), max(s[1] for s in spans)
        desc_parts.append(f"Timeline from {first.isoformat()} to {last.isoformat()}.")
    for phase, pspan, _, n in (p for k, p in rows if k == "phase"):
        name = _phase_label(phase)
        when = f"{pspan[0].isoformat()} to {pspan[1].isoformat()}" if pspan else "no dates"
        desc_parts.append(f"{name}: {when}, {n} task{'s' if n != 1 else ''}.")
    if wspan:
        desc_parts.append(f"Observation window: {wspan[0].isoformat()} to {wspan[1].isoformat()}.")
    if not phases:
        desc_parts.append("No tasks planned.")
    desc = " ".join(desc_parts)

    heights = {"phase": _PHASE_ROW, "task": _TASK_ROW, "more": _TASK_ROW, "window": _WINDOW_ROW}
    body_h = sum(heights[k] for k, _ in rows) + (8 if wspan else 0)
    if not rows:
        body_h = 30
    height = _G_TOP + body_h + 16
    out = _open("gantt", GANTT_WIDTH, height, title, desc)
    stripes = _ids("gantt", title)[0].replace("title", "stripes")
    out.append(
        f'<defs><pattern id="{stripes}" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect width="8" height="8" fill="{WINDOW_COLOUR}"/><rect width="3" height="8" fill="#ffffff" fill-opacity="0.35"/></pattern></defs>'
    )
    if not rows:
        out.append(f'<text x="{(_G_X0 + _G_X1) / 2:.1f}" y="{_G_TOP + 18}" text-anchor="middle" fill="{MUTED}">No tasks planned.</text>')
        out.append("</svg>")
        return "\n".join(out) + "\n"

    lo = _month_start(min((s[0] for s in spans), default=dt.date(2000, 1, 1)))
    hi = _next_month(max((s[1] for s in spans), default=lo))
    total_days = (hi - lo).days
    scale = (_G_X1 - _G_X0) / total_days

    def x_of(d: dt.date) -> float:
        return _G_X0 + (d - lo).days * scale

    # month grid and labels (none when nothing has a date)
    bottom = _G_TOP + body_h
    months = []
    m = lo
    while spans and m < hi:
        months.append(m)
        m = _next_month(m)
    if months:
        px_per_month = (_G_X1 - _G_X0) / len(months)
        step = max(1, math.ceil(56 / px_per_month))
        for i, m in enumerate(months):
            x = x_of(m)
            out.append(f'<line x1="{x:.1f}" y1="{_G_TOP - 14}" x2="{x:.1f}" y2="{bottom}" stroke="{GRID}" stroke-width="1"/>')
            if i % step == 0:
                out.append(f'<text x="{x + 3:.1f}" y="{_G_TOP - 18}" fill="{MUTED}" font-size="11">{_MONTHS[m.month - 1]} {m.year}</text>')
        out.append(f'<line x1="{_G_X1}" y1="{_G_TOP - 14}" x2="{_G_X1}" y2="{bottom}" stroke="{GRID}" stroke-width="1"/>')
    else:
        out.append(f'<text x="{(_G_X0 + _G_X1) / 2:.1f}" y="{_G_TOP - 18}" text-anchor="middle" fill="{MUTED}">No dates planned.</text>')

    y = _G_TOP
    for kind, payload in rows:
        if kind == "phase":
            phase, pspan, colour, n = payload
            label = _phase_label(phase)
            out.append(f'<g class="phase"><title>{esc(label)}: {_when(pspan)}, {n} task{"s" if n != 1 else ""}</title>')
            out.append(f'<text x="{_G_LABEL_X}" y="{y + 16}" font-weight="700" fill="{INK}">{esc(_truncate(label, 44))}</text>')
            if pspan:
                out.append(_bar(x_of(pspan[0]), x_of(pspan[1] + dt.timedelta(days=1)), y + 5, 14, colour))
            out.append("</g>")
            y += _PHASE_ROW
        elif kind == "task":
            task, tspan, colour = payload
            label = " ".join(p for p in (str(task.get("id") or ""), str(task.get("title") or "")) if p)
            out.append(f'<g class="task"><title>{esc(label)}: {_when(tspan)}</title>')
            out.append(f'<text x="{_G_LABEL_X + 14}" y="{y + 12}" font-size="11" fill="{INK}">{esc(_truncate(label, 46))}</text>')
            if tspan:
                out.append(_bar(x_of(tspan[0]), x_of(tspan[1] + dt.timedelta(days=1)), y + 5, 8, colour, opacity=0.6))
            out.append("</g>")
            y += _TASK_ROW
        elif kind == "more":
            out.append(f'<text x="{_G_LABEL_X + 14}" y="{y + 12}" font-size="11" font-style="italic" fill="{MUTED}">+{payload} more tasks</text>')
            y += _TASK_ROW
        else:  # window
            y += 8
            ws, we = payload
            out.append(f'<line x1="{_G_LABEL_X}" y1="{y - 4}" x2="{_G_X1}" y2="{y - 4}" stroke="{MUTED}" stroke-width="1" stroke-dasharray="4 3"/>')
            out.append(f'<g class="window"><title>Observation window: {_when(payload)}</title>')
            out.append(f'<text x="{_G_LABEL_X}" y="{y + 19}" font-weight="700" fill="{WINDOW_COLOUR}">Observation window</text>')
            x0, x1 = x_of(ws), x_of(we + dt.timedelta(days=1))
            out.append(_bar(x0, x1, y + 6, 18, f"url(#{stripes})", stroke=WINDOW_COLOUR))
            text = f"{ws.isoformat()} \u2013 {we.isoformat()}"
            if x1 - x0 >= 150:
                out.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{y + 19}" text-anchor="middle" font-size="11" font-weight="600" fill="#ffffff">{text}</text>')
            elif x0 - _G_X0 >= 150:
                out.append(f'<text x="{x0 - 4:.1f}" y="{y + 19}" text-anchor="end" font-size="11" fill="{INK}">{text}</text>')
            out.append("</g>")
            y += _WINDOW_ROW
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _phase_label(phase: dict[str, Any]) -> str:
    number, name = phase.get("number"), str(phase.get("name") or "")
    return f"{number}. {name}" if number is not None else name


def _when(span: tuple[dt.date, dt.date] | None) -> str:
    return f"{span[0].isoformat()} to {span[1].isoformat()}" if span else "no dates"


def _bar(x0: float, x1: float, y: float, h: int, fill: str, *, opacity: float | None = None, stroke: str | None = None) -> str:
    w = max(x1 - x0, 2.0)
    extra = f' fill-opacity="{opacity}"' if opacity is not None else ""
    extra += f' stroke="{stroke}" stroke-width="1"' if stroke else ""
    return f'<rect x="{x0:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h}" rx="2" fill="{fill}"{extra}/>'
