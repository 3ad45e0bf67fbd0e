"""Gap and plan reports: SVG charts, Markdown, HTML and the task-tracker CSV."""

from __future__ import annotations

import copy
import csv
import io
import re
import xml.etree.ElementTree as ET

import pytest

from soc2kit.assess.charts import gantt, percent, readiness_bars
from soc2kit.assess.report import CSV_COLUMNS, gap_chart, gap_html, gap_markdown, plan_chart, plan_csv, plan_html, plan_markdown, priority_label

SVG = "{http://www.w3.org/2000/svg}"
EVIL = "Evil <script>alert(1)</script> {{7*7}} | *x*"
CLAIMS = re.compile(r"\b(?:is|are|fully)\s+(?:\w+\s+)?(?:soc\s?2\s+)?(?:compliant|certified)\b|\bsoc\s?2\s+(?:compliant|certified|certification)\b", re.I)


def _gap(company: str = EVIL) -> dict:
    controls = [
        {"id": "AC-05", "title": "Access | reviews", "status": "not_started", "score": 0.0, "ai_specific": False, "owner": "CTO", "target_date": "2025-03-01"},
        {"id": "AC-06", "title": "MFA *everywhere*", "status": "partial", "score": 0.5, "ai_specific": False, "owner": "IT lead", "target_date": None},
        {"id": "AC-01", "title": "Access policy", "status": "implemented_no_evidence", "score": 0.5, "ai_specific": False, "owner": "CISO", "target_date": None},
    ]
    return {
        "company": company,
        "generated_on": "2025-01-15",
        "scoring": {"implemented": 1.0, "partial": 0.5, "implemented_no_evidence": 0.5, "planned": 0.0, "not_started": 0.0},
        "overall": {"readiness": 0.42, "criteria_met": 1, "criteria_total": 2,
                    "controls": {"implemented": 3, "partial": 1, "planned": 0, "not_started": 1, "not_applicable": 2, "implemented_no_evidence": 1}},
        "categories": {"security": {"label": "Security", "readiness": 0.42, "criteria_met": 1, "criteria_total": 2},
                       "processing_integrity": {"label": "Processing Integrity", "readiness": 0.9, "criteria_met": 1, "criteria_total": 1}},
        "criteria": {
            "CC6.1": {"title": "Logical access | <b>security</b>", "category": "security", "readiness": 1 / 3, "met": False, "controls": controls},
            "PI1.3": {"title": "Processing", "category": "processing_integrity", "readiness": 0.9, "met": True, "controls": []},
        },
        "areas": {"AC": {"name": "Access control", "readiness": 0.65, "controls": 3},
                  "MDL": {"name": "Model & data <lifecycle>", "readiness": 0.0, "controls": 2}},
        "gaps": [{"criterion": "CC6.1", "title": "Logical access | <b>security</b>", "missing": ["AC-05"], "partial": ["AC-06"], "no_evidence": ["AC-01"]}],
        "ai_gaps": [{"id": "MDL-07", "title": "Model | eval [drift]", "status": "not_started", "criteria": ["PI1.3"]},
                    {"id": "AIG-03", "title": "Bias testing", "status": "planned", "criteria": []}],
        "evidence_checked": True,
    }


def _task(tid: str, title: str, start: str, end: str, *, priority: int = 0, depends: list[str] | None = None, labels: list[str] | None = None,
          owner: str = "CTO", control: str | None = None, effort: int = 3) -> dict:
    return {"id": tid, "title": title, "description": f"Do {title}.", "control": control, "policy": None, "owner": owner, "start": start, "end": end,
            "effort_days": effort, "priority": priority, "depends_on": depends or [], "labels": labels or ["soc2"]}


def _plan(company: str = EVIL, window: dict | None = None) -> dict:
    impl = [_task(f"T1{i:02d}", f"Implement control {i}", "2025-03-03", f"2025-03-{10 + i}", priority=i + 1, labels=["soc2", "AC"], control=f"AC-{i:02d}")
            for i in range(15)]
    return {
        "company": company, "generated_on": "2025-01-15", "start": "2025-01-06", "end": "2025-05-30",
        "observation_window": window if window is not None else {"start": "2025-07-01", "end": "2025-12-31"},
        "warnings": ["AC-05: scheduled | late *again*"],
        "phases": [
            {"number": 1, "name": "Gap analysis and planning", "start": "2025-01-06", "end": "2025-01-17",
             "tasks": [_task("T001", "=HYPERLINK(\"http://evil\") | scope", "2025-01-06", "2025-01-10", labels=["soc2", "planning"]),
                       _task("T002", "Approve | the plan", "2025-01-13", "2025-01-17", depends=["T001"], owner="-CEO")]},
            {"number": 2, "name": "Policy development and customization", "start": "2025-01-20", "end": "2025-02-28",
             "tasks": [_task("T003", "+Review policies", "2025-01-20", "2025-02-28", depends=["T002"], labels=["soc2", "policy", "ai"])]},
            {"number": 3, "name": "Implementation and training", "start": "2025-03-03", "end": "2025-04-30", "tasks": impl},
            {"number": 4, "name": "Monitoring and continuous improvement", "start": "2025-05-01", "end": "2025-05-30", "tasks": []},
        ],
    }


def _svg(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == f"{SVG}svg"
    return root


def _texts(root: ET.Element) -> list[str]:
    return ["".join(e.itertext()) for e in root.iter(f"{SVG}text")]


def _md_cells(line: str) -> int:
    return len(re.split(r"(?<!\\)\|", line.strip())) - 2


# -- charts ---------------------------------------------------------------------------------------


def test_readiness_bars_parse_and_show_labels_and_percentages():
    root = _svg(readiness_bars([("Security", 0.42), ("Availability", 1.0), ("Confidentiality", 0.0)], EVIL))
    texts = _texts(root)
    assert {"Security", "Availability", "Confidentiality", "42%", "100%", "0%"} <= set(texts)
    assert {"0%", "25%", "50%", "75%", "100%"} <= set(texts)  # the axis
    assert root.find(f"{SVG}title").text == EVIL  # accessible title, escaped in the source, exact when parsed
    assert "42%" in root.find(f"{SVG}desc").text
    assert root.get("width") == "720"
    fills = [r.get("fill") for r in root.iter(f"{SVG}rect")]
    assert "#b03a2e" in fills and "#1e8449" in fills  # red for 42%, green for 100%


def test_readiness_bars_height_grows_and_escape_survives():
    few = _svg(readiness_bars([("a", 0.1)], "t"))
    many = _svg(readiness_bars([(f"<&'\"{i}>", 0.6) for i in range(10)], "t"))
    assert int(many.get("height")) > int(few.get("height"))
    assert "<&'\"3>" in _texts(many)
    assert _svg(readiness_bars([], "nothing"))  # empty chart still parses


def test_percent_rounding():
    assert percent(0.42) == "42%"
    assert percent(0.999) == "99%"  # never 100% before everything is done
    assert percent(1.0) == "100%"
    assert percent(float("nan")) == "0%"


def test_gantt_rows_per_phase_window_and_truncation():
    plan = _plan()
    root = _svg(plan_chart(plan))
    phases = [g for g in root.iter(f"{SVG}g") if g.get("class") == "phase"]
    assert len(phases) == 4
    texts = _texts(root)
    for p in plan["phases"]:
        assert f"{p['number']}. {p['name']}" in texts
    assert "Observation window" in texts
    assert any(g.get("class") == "window" for g in root.iter(f"{SVG}g"))
    assert "+3 more tasks" in texts  # 15 tasks in phase 3, 12 shown
    assert sum(1 for g in root.iter(f"{SVG}g") if g.get("class") == "task") == 2 + 1 + 12
    assert "Jan 2025" in texts and any(t.startswith("Dec") or t.startswith("Nov") for t in texts)
    assert EVIL in root.find(f"{SVG}title").text


def test_gantt_without_window_and_empty_plan():
    root = _svg(gantt(_plan()["phases"], None, "no window"))
    assert "Observation window" not in _texts(root)
    empty = _svg(gantt([], None, "empty"))
    assert "No tasks planned." in _texts(empty)
    dateless = _svg(gantt([{"number": 1, "name": "Gap analysis and planning", "start": None, "end": None, "tasks": []}], None, "x"))
    assert "1. Gap analysis and planning" in _texts(dateless)
    with pytest.raises(ValueError, match="ISO date"):
        gantt([{"number": 1, "name": "x", "start": "01/02/2025", "end": None, "tasks": []}], None, "bad")


# -- Markdown -------------------------------------------------------------------------------------


def _check_tables(text: str) -> int:
    """Every table row has as many cells as its header; returns the number of tables."""
    tables = 0
    width = None
    for line in text.splitlines():
        if line.startswith("|"):
            n = _md_cells(line)
            if width is None:
                width, tables = n, tables + 1
            assert n == width, line
        else:
            width = None
    return tables


def test_gap_markdown_tables_escaping_and_chart_link():
    text = gap_markdown(_gap(), "gap chart.svg")
    assert _check_tables(text) == 6
    assert "![Readiness overall, by category and by control area](gap%20chart.svg)" in text
    assert not re.search(r"(?<!\\)<script", text) and "\\<script\\>" in text
    assert "\\{\\{7\\*7\\}\\}" in text and "\\*x\\*" in text
    assert "42%" in text and "readiness" in text.lower()
    assert "Access \\| reviews" in text and "AC-05" in text and "AC-06" in text
    assert "MDL-07" in text and "no TSC mapping" in text
    assert not CLAIMS.search(text)


def test_plan_markdown_warnings_first_and_task_tables():
    text = plan_markdown(_plan(), "plan.svg")
    assert text.index("## Warnings") < text.index("![") < text.index("## Phase 1: Gap analysis and planning")
    assert "scheduled \\| late \\*again\\*" in text
    _check_tables(text)
    header = "| ID | Task | Owner | Start | End | Effort (days) | Depends on |"
    assert text.count(header) == 3  # phase 4 has no tasks
    row = next(line for line in text.splitlines() if line.startswith("| T002 "))
    assert _md_cells(row) == 7 and "Approve \\| the plan" in row and "T001" in row and "\\-CEO" in row
    assert "## Phase 4: Monitoring and continuous improvement" in text
    assert not CLAIMS.search(text)


# -- HTML -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", [lambda: gap_html(_gap()), lambda: plan_html(_plan())])
def test_html_is_standalone_and_escaped(page):
    text = page()
    assert text.startswith("<!DOCTYPE html>")
    assert "<script" not in text.lower()
    assert "Evil &lt;script&gt;alert(1)&lt;/script&gt; {{7*7}} | *x*" in text
    assert "<svg xmlns=" in text and "<style>" in text
    assert not re.search(r"""(?:src|href)\s*=|@import|url\((?!#)""", text)  # no external resources
    assert not CLAIMS.search(text)


def test_gap_html_escapes_values_and_shows_percentages():
    text = gap_html(_gap())
    assert "&lt;b&gt;security&lt;/b&gt;" in text and "<b>" not in text
    assert "Model &amp; data &lt;lifecycle&gt;" in text
    assert ">42%<" in text


def test_plan_html_contains_every_task():
    plan = _plan()
    text = plan_html(plan)
    for p in plan["phases"]:
        for t in p["tasks"]:
            assert f"<td>{t['id']}</td>" in text
    assert "Observation window" in text


# -- CSV ------------------------------------------------------------------------------------------


def test_plan_csv_columns_rows_injection_and_labels():
    plan = _plan()
    text = plan_csv(plan)
    assert "\r" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and list(rows[0].keys()) == CSV_COLUMNS
    assert len(rows) == sum(len(p["tasks"]) for p in plan["phases"])
    first = rows[0]
    assert first["Summary"] == "'=HYPERLINK(\"http://evil\") | scope"
    assert first["Labels"] == "soc2 planning"
    assert first["Start date"] == "2025-01-06" and first["Due date"] == "2025-01-10"
    assert first["Phase"] == "1. Gap analysis and planning"
    assert "T001" in first["Description"]
    assert rows[1]["Assignee"] == "'-CEO" and rows[1]["Depends on"] == "T001"
    assert rows[2]["Summary"] == "'+Review policies" and rows[2]["Labels"] == "soc2 policy ai"
    impl = [r for r in rows if r["Control"]]
    assert impl[0]["Control"] == "AC-00" and impl[0]["Effort (days)"] == "3"
    for r in rows:
        for v in r.values():
            assert not v or v[0] not in "=+-@\t\r"


def test_plan_csv_priority_quartiles():
    ranked = list(range(1, 9))
    assert [priority_label(p, ranked) for p in ranked] == ["Highest"] * 2 + ["High"] * 2 + ["Medium"] * 2 + ["Low"] * 2
    assert priority_label(0, ranked) == "High"  # unranked milestone
    assert priority_label(None, ranked) == "High"
    assert priority_label(3, [3, 3, 3]) == "Highest"  # ties share a level
    rows = list(csv.DictReader(io.StringIO(plan_csv(_plan()))))
    by_control = {r["Control"]: r["Priority"] for r in rows if r["Control"]}
    assert by_control["AC-00"] == "Highest" and by_control["AC-14"] == "Low"


def test_plan_csv_labels_with_spaces_and_newlines():
    plan = _plan()
    task = plan["phases"][0]["tasks"][0]
    task["labels"] = ["soc2", "data retention", "soc2"]
    task["description"] = "line one\r\nline two"
    rows = list(csv.DictReader(io.StringIO(plan_csv(plan))))
    assert rows[0]["Labels"] == "soc2 data-retention"
    assert rows[0]["Description"].startswith("line one\nline two")


def test_empty_plan_renders_everywhere():
    plan = copy.deepcopy(_plan())
    plan.update(phases=[], warnings=[], observation_window=None)
    assert "No tasks planned." in plan_markdown(plan, "p.svg")
    assert "<svg" in plan_html(plan)
    assert plan_csv(plan) == ",".join(f'"{c}"' if " " in c and "(" in c else c for c in CSV_COLUMNS).replace('"Effort (days)"', "Effort (days)") + "\n"
    gap = _gap("Acme")
    gap.update(gaps=[], ai_gaps=[])
    text = gap_markdown(gap, "g.svg")
    assert "No AI-specific control is open." in text
    _svg(gap_chart(gap))
