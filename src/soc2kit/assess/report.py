"""The gap report and the plan as Markdown, HTML and (plan only) a task-tracker CSV.

Both reports are first laid out as a short list of blocks (headings, paragraphs, lists, tables,
the chart) and then written out by one Markdown writer and one HTML writer, so the two formats
always say the same thing.

Every value from the report dicts is data: in Markdown it is backslash-escaped (``\\ ` * _ [ ] < >
| { } # ~ & !``, newlines folded to spaces, so a ``|`` in a title never adds a table column); in
HTML it goes through ``html.escape``. The HTML pages are standalone: inline CSS, the chart as
inline SVG, no scripts and no external resources (a Content-Security-Policy meta tag says so too).

The wording follows docs/language.md: the reports measure readiness and list gaps; only an
independent CPA firm issues a SOC 2 report.

CSV priority mapping (``plan_csv``): tasks with a numeric priority of 1 or more (1 = most urgent)
are ranked against each other and mapped by rank quartile: a task is *Highest* when fewer than 25%
of the ranked tasks are more urgent, *High* below 50%, *Medium* below 75%, *Low* otherwise (ties
share a level). Tasks without a rank (priority missing or 0: the plan's fixed milestones such as
scoping, policy approvals, training and the readiness review, which sit on the critical path) are
*High*.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from soc2kit.assess.charts import gantt, percent, readiness_bars
from soc2kit.render.environment import escape_markdown
from soc2kit.render.matrix import safe_cell

__all__ = [
    "CSV_COLUMNS", "gap_chart", "gap_html", "gap_markdown", "plan_chart", "plan_csv", "plan_html", "plan_markdown", "priority_label",
]

STATUS_LABELS = {
    "implemented": "Implemented",
    "partial": "Partial",
    "implemented_no_evidence": "Implemented, no current evidence",
    "planned": "Planned",
    "not_started": "Not started",
    "not_applicable": "Not applicable",
}
STATUS_ORDER = ("implemented", "implemented_no_evidence", "partial", "planned", "not_started", "not_applicable")
CSV_COLUMNS = ["Summary", "Description", "Assignee", "Start date", "Due date", "Priority", "Labels", "Phase", "Depends on", "Control", "Effort (days)"]
PRIORITIES = ("Highest", "High", "Medium", "Low")
UNRANKED_PRIORITY = "High"
DASH = "\u2014"


# -- blocks ---------------------------------------------------------------------------------------


class Strong(str):
    """A span of a paragraph shown in bold."""


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Para:
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Chart:
    alt: str
    svg: str


Block = Heading | Para | Bullets | Table | Chart


def _para(*parts: str) -> Para:
    return Para(tuple(parts))


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Iterable[int] = ()) -> Table:
    return Table(tuple(headers), tuple(tuple(_cell(v) for v in r) for r in rows), frozenset(numeric))


def _cell(value: Any) -> str:
    if value is None or value == "":
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _status(value: Any) -> str:
    return STATUS_LABELS.get(str(value), str(value))


def _ids(values: Iterable[Any] | None) -> str:
    return ", ".join(str(v) for v in values or []) or DASH


# -- Markdown writer ------------------------------------------------------------------------------

_BLOCK_START = re.compile(r"^(\s*)([-+=]|\d+(?=[.)](?:\s|$)))")


def md(text: Any) -> str:
    """One line of inline Markdown that shows ``text`` literally."""
    flat = re.sub(r"\s+", " ", str(text))  # a newline would end a table row or a paragraph
    out = escape_markdown(flat)
    # A leading "-", "+", "=" or "1." would start a list or an underline when the line starts a block.
    return _BLOCK_START.sub(lambda m: m.group(1) + (m.group(2) + "\\" if m.group(2)[0].isdigit() else "\\" + m.group(2)), out, count=1)


def _md_link_target(path: str) -> str:
    return quote(str(path).replace("\\", "/"), safe="/:._-~%")


def _to_markdown(blocks: list[Block], chart_path: str) -> str:
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append("#" * b.level + " " + md(b.text.strip()))
        elif isinstance(b, Para):
            out.append("".join(f"**{md(p)}**" if isinstance(p, Strong) else md(p) for p in b.parts))
        elif isinstance(b, Bullets):
            out.append("\n".join("- " + md(item.strip()) for item in b.items))
        elif isinstance(b, Table):
            lines = ["| " + " | ".join(md(h.strip()) for h in b.headers) + " |",
                     "| " + " | ".join("---:" if i in b.numeric else "---" for i in range(len(b.headers))) + " |"]
            lines += ["| " + " | ".join(md(c.strip()) or DASH for c in row) + " |" for row in b.rows]
            out.append("\n".join(lines))
        elif isinstance(b, Chart):
            out.append(f"![{md(b.alt)}]({_md_link_target(chart_path)})")
    return "\n\n".join(out) + "\n"


# -- HTML writer ----------------------------------------------------------------------------------

CSS = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #d9dde5; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); }
main { max-width: 70rem; margin: 0 auto; padding: 1rem 2rem 3rem; }
h1 { font-size: 1.6rem; margin-bottom: .3rem; }
h2 { margin-top: 2rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { border: 1px solid var(--line); padding: .35rem .6rem; text-align: left; vertical-align: top; }
th { background: #f5f7fa; }
td.num, th.num { text-align: right; white-space: nowrap; }
figure { margin: 1rem 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
ul.warnings li { color: #7b241c; }
footer { color: var(--muted); font-size: .85rem; margin-top: 3rem; }
@media print { figure { break-inside: avoid; } }
""".strip()

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def h(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _to_html(title: str, blocks: list[Block], *, list_class: str = "") -> str:
    body: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            body.append(f"<h{b.level}>{h(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            body.append("<p>" + "".join(f"<strong>{h(p)}</strong>" if isinstance(p, Strong) else h(p) for p in b.parts) + "</p>")
        elif isinstance(b, Bullets):
            cls = f' class="{h(list_class)}"' if list_class else ""
            body.append(f"<ul{cls}>" + "".join(f"<li>{h(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            def cell(tag: str, i: int, v: str, b: Table = b) -> str:
                return f'<{tag} class="num">{h(v)}</{tag}>' if i in b.numeric else f"<{tag}>{h(v)}</{tag}>"

            head = "<tr>" + "".join(cell("th", i, v) for i, v in enumerate(b.headers)) + "</tr>"
            rows = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>" for r in b.rows)
            body.append(f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>")
        elif isinstance(b, Chart):
            body.append(f'<figure aria-label="{h(b.alt)}">{b.svg.strip()}</figure>')  # the SVG escapes its own text
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{h(CSP)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{h(title)}</title>\n<style>\n{CSS}\n</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n<footer>Generated by soc2kit. It measures readiness and lists gaps; a SOC 2 report is issued only by an independent CPA firm.</footer>\n"
        "</main>\n</body>\n</html>\n"
    )


# -- gap report -----------------------------------------------------------------------------------


def gap_chart(gap: dict[str, Any]) -> str:
    """The gap report's SVG: overall readiness, then each category, then each control area."""
    items: list[tuple[str, float]] = [("Overall", gap.get("overall", {}).get("readiness", 0.0))]
    items += [(c.get("label") or key, c.get("readiness", 0.0)) for key, c in gap.get("categories", {}).items()]
    items += [(f"{code} {a.get('name', '')}".strip(), a.get("readiness", 0.0)) for code, a in gap.get("areas", {}).items()]
    return readiness_bars(items, f"{gap.get('company', '')}: readiness by category and control area")


def _gap_title(gap: dict[str, Any]) -> str:
    return f"SOC 2 readiness gap report: {gap.get('company', '')}"


def _gap_blocks(gap: dict[str, Any], svg: str) -> list[Block]:
    company = str(gap.get("company", ""))
    overall = gap.get("overall", {})
    met, total = overall.get("criteria_met", 0), overall.get("criteria_total", 0)
    scoring = gap.get("scoring", {})
    criteria = gap.get("criteria", {})
    blocks: list[Block] = [
        Heading(1, _gap_title(gap)),
        _para(f"Generated on {gap.get('generated_on', '')}."),
        _para(f"Overall readiness of {company}: ", Strong(percent(overall.get("readiness", 0.0))),
              f", with {met} of {total} criteria in scope met. "
              "Readiness is the weighted share of applicable controls implemented; it measures preparation for a SOC 2 examination, "
              "and this report is not an audit opinion: only an independent CPA firm issues a SOC 2 report."),
    ]
    if gap.get("evidence_checked"):
        blocks.append(_para("Evidence was checked: a control recorded as implemented without current evidence in the evidence store "
                            f"counts {scoring.get('implemented_no_evidence', 0.5):g} and is listed as a gap."))
    else:
        blocks.append(_para("Evidence was not checked: controls recorded as implemented count in full without looking for their evidence. "
                            "Run the gap analysis against the evidence store before the observation window."))
    blocks.append(Chart("Readiness overall, by category and by control area", svg))

    blocks.append(Heading(2, "Readiness by category"))
    cats = gap.get("categories", {})
    blocks.append(_table(["Category", "Readiness", "Criteria met"],
                         ([c.get("label") or k, percent(c.get("readiness", 0.0)), f"{c.get('criteria_met', 0)} of {c.get('criteria_total', 0)}"] for k, c in cats.items()),
                         numeric=(1, 2)) if cats else _para("No categories in scope."))

    blocks.append(Heading(2, "Readiness by control area"))
    areas = gap.get("areas", {})
    blocks.append(_table(["Area", "Name", "Readiness", "Controls"],
                         ([code, a.get("name", ""), percent(a.get("readiness", 0.0)), a.get("controls", 0)] for code, a in areas.items()),
                         numeric=(2, 3)) if areas else _para("No control areas apply."))

    blocks.append(Heading(2, "Controls by status"))
    counts = overall.get("controls", {})
    order = [s for s in STATUS_ORDER if s in counts] + [s for s in counts if s not in STATUS_ORDER]
    blocks.append(_table(["Status", "Controls", "Counts as"],
                         ([_status(s), counts.get(s, 0), f"{scoring[s]:g}" if s in scoring else "not scored"] for s in order), numeric=(1, 2)))

    blocks.append(Heading(2, "Criteria not met"))
    gaps = gap.get("gaps", [])
    if not gaps:
        blocks.append(_para("Every criterion in scope has all its applicable controls implemented."))
    else:
        blocks.append(_table(["Criterion", "Title", "Readiness", "Missing", "Partial", "No current evidence"],
                             ([g.get("criterion", ""), g.get("title", ""), percent(criteria.get(g.get("criterion"), {}).get("readiness", 0.0)),
                               _ids(g.get("missing")), _ids(g.get("partial")), _ids(g.get("no_evidence"))] for g in gaps), numeric=(2,)))
        blocks.append(Heading(3, "Controls to close"))
        rows = []
        for g in gaps:
            by_id = {c.get("id"): c for c in criteria.get(g.get("criterion"), {}).get("controls", [])}
            for cid in [*(g.get("missing") or []), *(g.get("partial") or []), *(g.get("no_evidence") or [])]:
                c = by_id.get(cid, {})
                rows.append([g.get("criterion", ""), cid, c.get("title", ""), _status(c.get("status", "")), "yes" if c.get("ai_specific") else "no",
                             c.get("owner", ""), c.get("target_date")])
        blocks.append(_table(["Criterion", "Control", "Title", "Status", "AI-specific", "Owner", "Target date"], rows))

    blocks.append(Heading(2, "AI-specific gaps"))
    ai = gap.get("ai_gaps", [])
    blocks.append(_table(["Control", "Title", "Status", "Criteria"],
                         ([a.get("id", ""), a.get("title", ""), _status(a.get("status", "")), _ids(a.get("criteria")) if a.get("criteria") else "no TSC mapping"] for a in ai))
                  if ai else _para("No AI-specific control is open."))

    vendor = gap.get("vendor_findings")
    if vendor is not None:
        blocks.append(Heading(2, "Vendor register findings"))
        blocks.append(_table(["Control", "Vendor", "Finding", "Detail"], ([v.get("control", ""), v.get("vendor", ""), v.get("kind", ""), v.get("detail", "")]
                                                                          for v in vendor))
                      if vendor else _para("The vendor register (vendors.yaml) has no open finding: reviews, certifications, AI training terms and "
                                           "data types are in order."))
    return blocks


def gap_markdown(gap: dict[str, Any], chart_path: str) -> str:
    """The gap report as Markdown; the chart is an image link to ``chart_path`` (the caller writes ``gap_chart(gap)`` there)."""
    return _to_markdown(_gap_blocks(gap, ""), chart_path)


def gap_html(gap: dict[str, Any]) -> str:
    """The gap report as one standalone HTML page with its chart inline."""
    return _to_html(_gap_title(gap), _gap_blocks(gap, gap_chart(gap)))


# -- plan -----------------------------------------------------------------------------------------


def plan_chart(plan: dict[str, Any]) -> str:
    """The plan's SVG timeline: phases, their tasks and the observation window."""
    return gantt(plan.get("phases", []), plan.get("observation_window"), f"{plan.get('company', '')}: SOC 2 readiness plan")


def _plan_title(plan: dict[str, Any]) -> str:
    return f"SOC 2 readiness plan: {plan.get('company', '')}"


def _tasks(plan: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(p, t) for p in plan.get("phases", []) for t in p.get("tasks") or []]


def _plan_blocks(plan: dict[str, Any], svg: str) -> list[Block]:
    phases = plan.get("phases", [])
    pairs = _tasks(plan)
    effort = sum(int(t.get("effort_days") or 0) for _, t in pairs)
    window = plan.get("observation_window")
    blocks: list[Block] = [Heading(1, _plan_title(plan)), _para(f"Generated on {plan.get('generated_on', '')}.")]
    warnings = plan.get("warnings") or []
    if warnings:
        blocks += [Heading(2, "Warnings"), Bullets(tuple(str(w) for w in warnings))]
    blocks.append(_para(f"The plan runs from {plan.get('start', '')} to {plan.get('end', '')}: {len(phases)} phases, {len(pairs)} tasks, ",
                        Strong(f"{effort} effort days"), "."))
    if window:
        blocks.append(_para(f"Observation window (SOC 2 Type II): {window.get('start', '')} to {window.get('end', '')}."))
    else:
        blocks.append(_para("No observation window is set yet."))
    blocks.append(_para("The plan schedules the work that closes the gaps the gap report lists, so that the controls operate, with evidence, "
                        "before the observation window opens. It plans readiness; the SOC 2 report itself is issued by an independent CPA firm."))
    blocks.append(Chart("Timeline of the phases, their tasks and the observation window", svg))
    if phases:
        blocks.append(Heading(2, "Phases"))
        blocks.append(_table(["Phase", "Name", "Start", "End", "Tasks", "Effort (days)"],
                             ([p.get("number", ""), p.get("name", ""), p.get("start"), p.get("end"), len(p.get("tasks") or []),
                               sum(int(t.get("effort_days") or 0) for t in p.get("tasks") or [])] for p in phases), numeric=(0, 4, 5)))
    else:
        blocks.append(_para("No tasks planned."))
    for p in phases:
        tasks = p.get("tasks") or []
        number = p.get("number")
        blocks.append(Heading(2, f"Phase {number}: {p.get('name', '')}" if number is not None else str(p.get("name", ""))))
        blocks.append(_para(f"{p.get('start') or DASH} to {p.get('end') or DASH}, {len(tasks)} task{'s' if len(tasks) != 1 else ''}."))
        if tasks:
            blocks.append(_table(["ID", "Task", "Owner", "Start", "End", "Effort (days)", "Depends on"],
                                 ([t.get("id", ""), t.get("title", ""), t.get("owner", ""), t.get("start"), t.get("end"), t.get("effort_days"),
                                   _ids(t.get("depends_on"))] for t in tasks), numeric=(5,)))
    return blocks


def plan_markdown(plan: dict[str, Any], chart_path: str) -> str:
    """The plan as Markdown, warnings first; the chart is an image link to ``chart_path`` (the caller writes ``plan_chart(plan)`` there)."""
    return _to_markdown(_plan_blocks(plan, ""), chart_path)


def plan_html(plan: dict[str, Any]) -> str:
    """The plan as one standalone HTML page with its timeline inline."""
    return _to_html(_plan_title(plan), _plan_blocks(plan, plan_chart(plan)), list_class="warnings")


# -- CSV ------------------------------------------------------------------------------------------


def priority_label(priority: Any, ranked: Sequence[int]) -> str:
    """Jira priority for a numeric ``priority`` among the ``ranked`` priorities of the plan (see the module docstring)."""
    if not isinstance(priority, int) or isinstance(priority, bool) or priority < 1 or not ranked:
        return UNRANKED_PRIORITY
    more_urgent = sum(1 for p in ranked if p < priority)
    return PRIORITIES[min(3, int(4 * more_urgent / len(ranked)))]


def _csv_value(value: Any) -> str:
    text = "" if value is None else str(value)
    return safe_cell(text.replace("\r\n", "\n").replace("\r", "\n"))


def _label(value: Any) -> str:
    return "-".join(str(value).split())  # a Jira label cannot hold spaces


def plan_csv(plan: dict[str, Any]) -> str:
    """The plan's tasks as CSV for Jira, Linear and GitHub Projects (one row per task, ``\\n`` line ends)."""
    pairs = _tasks(plan)
    ranked = [t["priority"] for _, t in pairs if isinstance(t.get("priority"), int) and not isinstance(t.get("priority"), bool) and t["priority"] >= 1]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for phase, t in pairs:
        labels = list(dict.fromkeys(lbl for lbl in (_label(x) for x in t.get("labels") or []) if lbl))
        ref = [f"soc2kit task {t.get('id', '')}"]
        if t.get("control"):
            ref.append(f"control {t['control']}")
        if t.get("policy"):
            ref.append(f"policy {t['policy']}")
        description = "\n\n".join(x for x in (str(t.get("description") or "").strip(), ", ".join(ref) + ".") if x)
        number = phase.get("number")
        row = {
            "Summary": t.get("title", ""),
            "Description": description,
            "Assignee": t.get("owner", ""),
            "Start date": t.get("start"),
            "Due date": t.get("end"),
            "Priority": priority_label(t.get("priority"), ranked),
            "Labels": " ".join(labels),
            "Phase": f"{number}. {phase.get('name', '')}" if number is not None else phase.get("name", ""),
            "Depends on": " ".join(str(d) for d in t.get("depends_on") or []),
            "Control": t.get("control"),
            "Effort (days)": t.get("effort_days"),
        }
        writer.writerow({k: _csv_value(v) for k, v in row.items()})
    return buf.getvalue()
