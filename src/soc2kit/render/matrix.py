"""The control matrix as CSV (one row per control), safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from soc2kit.render.documents import Citation
from soc2kit.render.selection import ControlView

COLUMNS = [
    "control_id", "title", "area", "applicable", "not_applicable_reason", "criteria", "statement", "frequency",
    "owner", "ai_specific", "automated_check", "policy_sections", "iso42001", "nist_ai_rmf", "iso27001",
    "evidence_examples", "test_inquiry", "test_inspection", "test_observation", "test_reperformance", "pass_criteria",
]


def safe_cell(value: str) -> str:
    """Neutralise spreadsheet formula injection (cells starting with = + - @ tab or CR)."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def matrix_rows(views: Iterable[ControlView], cited_by: dict[str, list[Citation]]) -> list[dict[str, str]]:
    rows = []
    for v in views:
        c = v.control
        tp = v.test_procedure
        cites = cited_by.get(c.id, [])
        rows.append({
            "control_id": c.id,
            "title": c.title,
            "area": c.area,
            "applicable": "yes" if v.applicable else "no",
            "not_applicable_reason": v.reason,
            "criteria": "; ".join(c.criteria),
            "statement": v.statement,
            "frequency": v.frequency,
            "owner": v.owner_title,
            "ai_specific": "yes" if c.ai_specific else "no",
            "automated_check": c.check or "",
            "policy_sections": "; ".join(f"{x.policy_id} {x.statement or x.section}" for x in cites),
            "iso42001": "; ".join(c.crosswalk["iso42001"]),
            "nist_ai_rmf": "; ".join(c.crosswalk["nist_ai_rmf"]),
            "iso27001": "; ".join(c.crosswalk["iso27001"]),
            "evidence_examples": " | ".join(c.evidence),
            "test_inquiry": tp.inquiry,
            "test_inspection": tp.inspection,
            "test_observation": tp.observation,
            "test_reperformance": tp.reperformance,
            "pass_criteria": tp.pass_criteria,
        })
    return rows


def safe_csv(columns: list[str], rows: list[dict[str, object]]) -> str:
    """CSV with a header, ``\n`` line ends and every cell passed through ``safe_cell``."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: safe_cell(str(v)) for k, v in row.items()})
    return buf.getvalue()


def matrix_csv(rows: list[dict[str, str]]) -> str:
    return safe_csv(COLUMNS, rows)
