"""``soc2kit export matrix``: the control matrix as an XLSX workbook for the auditor.

Sheets:
  Controls    one row per control of the catalog (applicable first), with the rendered statement,
              owner, frequency, the company's status, owner and target date from the assessment,
              the policy statements citing it, evidence count and last evidence date, the test
              procedure and the crosswalks
  Criteria    one row per in-scope Trust Services Criterion: its applicable controls, how many are
              implemented, and the policy statements that implement them
  Crosswalk   one row per ISO/IEC 42001, NIST AI RMF and ISO/IEC 27001 id: the applicable controls
              reaching it (ids no control reaches are listed too, with an empty control list)
  About       company, build date, kit version, counts, and how the columns are defined

Every sheet has a bold frozen header and filters; every text cell is stored as text (a control or
policy text starting with ``=`` never becomes a formula).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass

from soc2kit import __version__, _xlsx
from soc2kit.assess.assessment import Assessment
from soc2kit.library import load_catalog
from soc2kit.library.crosswalk import coverage
from soc2kit.library.models import FRAMEWORKS
from soc2kit.render.context import build_context
from soc2kit.render.documents import read_policy_documents
from soc2kit.render.matrix import matrix_rows
from soc2kit.render.selection import select_controls

CONTROL_COLUMNS = [
    "control_id", "title", "area", "applicable", "not_applicable_reason", "ai_specific", "criteria", "statement", "owner", "frequency",
    "status", "status_owner", "target_date", "justification", "evidence_count", "last_evidence", "policy_sections", "automated_check",
    "iso42001", "nist_ai_rmf", "iso27001", "evidence_examples", "test_inquiry", "test_inspection", "test_observation", "test_reperformance",
    "pass_criteria",
]
CRITERIA_COLUMNS = ["criterion", "category", "title", "controls", "control_count", "implemented", "policy_statements"]
CROSSWALK_COLUMNS = ["framework", "id", "title", "group", "controls"]


@dataclass
class MatrixExport:
    data: bytes
    controls: int  #: rows on the Controls sheet
    applicable: int
    criteria: int
    evidence_records: int


def _evidence_summary(ws) -> tuple[dict[str, tuple[int, str]], int]:
    from soc2kit.assess.service import has_store

    if not has_store(ws):
        return {}, 0
    from soc2kit.evidence.store import EvidenceStore

    store = EvidenceStore.open(ws)
    try:
        records = store.list()
    finally:
        store.close()
    out: dict[str, tuple[int, str]] = {}
    for rec in records:
        when = (rec.period_end or rec.collected_at.date()).isoformat()
        for cid in rec.controls:
            n, last = out.get(cid, (0, ""))
            out[cid] = (n + 1, max(last, when))
    return out, len(records)


def _stable(data: bytes, day: dt.date) -> bytes:
    """The workbook with the build date in place of the save time (in its zip entries and its document
    properties), so that an unchanged workspace exported twice on one day gives the same bytes."""
    stamp = f"{day.isoformat()}T00:00:00Z".encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)\b[^>]*>)[^<]*", lambda m: m.group(1) + stamp, body)
            entry = zipfile.ZipInfo(info.filename, date_time=(day.year, day.month, day.day, 0, 0, 0))
            entry.compress_type, entry.external_attr = info.compress_type, info.external_attr
            dst.writestr(entry, body)
    return out.getvalue()


def matrix_workbook(ws, *, today: dt.date | None = None) -> MatrixExport:
    from soc2kit.render.build import trace

    today = today or dt.date.today()
    catalog = load_catalog()
    views = select_controls(catalog, ws.profile, build_context(ws.profile), cache_dir=ws.state_dir / "cache")
    views.sort(key=lambda v: (not v.applicable, v.id))
    documents = read_policy_documents(ws.policies_dir)
    tr = trace(catalog, list(ws.profile.scope.tsc), views, documents)
    assessment = Assessment.load(ws.root)
    evidence, n_records = _evidence_summary(ws)

    rows = []
    for view, base in zip(views, matrix_rows(views, tr.cited_by), strict=True):
        st = assessment.controls.get(view.id)
        count, last = evidence.get(view.id, (0, ""))
        status = (st.status if st else "not assessed") if view.applicable else "not applicable"
        rows.append([base["control_id"], base["title"], base["area"], base["applicable"], base["not_applicable_reason"], base["ai_specific"],
                     base["criteria"], base["statement"], base["owner"], base["frequency"], status, st.owner if st else "",
                     st.target_date.isoformat() if st and st.target_date else "", st.justification if st else "", count, last,
                     base["policy_sections"], base["automated_check"], base["iso42001"], base["nist_ai_rmf"], base["iso27001"],
                     base["evidence_examples"], base["test_inquiry"], base["test_inspection"], base["test_observation"], base["test_reperformance"],
                     base["pass_criteria"]])

    wb = _xlsx.workbook()
    long_text = ["statement", "policy_sections", "evidence_examples", "test_inquiry", "test_inspection", "test_observation", "test_reperformance",
                 "pass_criteria", "not_applicable_reason", "justification"]
    widths = dict.fromkeys(long_text, 50) | {"title": 40, "criteria": 18, "iso42001": 16, "nist_ai_rmf": 18, "iso27001": 14}
    _xlsx.add_table_sheet(wb, "Controls", CONTROL_COLUMNS, rows, widths=widths, wrap=long_text)

    crit_rows = []
    for cat in tr.rows_by_category:
        for row in cat["rows"]:
            crit = row["criterion"]
            ids = [v.id for v in row["controls"]]
            implemented = sum(1 for cid in ids if (s := assessment.controls.get(cid)) and s.status == "implemented")
            cites = "; ".join(f"{c['policy_id']} {c['statement'] or c['section']}" for c in row["citations"])
            crit_rows.append([crit.id, crit.category, crit.title, ", ".join(ids), len(ids), implemented, cites])
    _xlsx.add_table_sheet(wb, "Criteria", CRITERIA_COLUMNS, crit_rows, widths={"title": 60, "controls": 40, "policy_statements": 60},
                          wrap=["title", "controls", "policy_statements"])

    applicable_ids = [v.id for v in views if v.applicable]
    cw_rows = []
    for key, name in FRAMEWORKS.items():
        cov = coverage(catalog, key, applicable_ids)
        for fid, entry in cov["ids"].items():
            cw_rows.append([name, fid, entry["title"], entry["group"], ", ".join(entry["controls"])])
    _xlsx.add_table_sheet(wb, "Crosswalk", CROSSWALK_COLUMNS, cw_rows, widths={"framework": 22, "title": 60, "controls": 40}, wrap=["title", "controls"])

    about = [
        ("Company", ws.profile.company.name),
        ("Built on", today.isoformat()),
        ("Built by", f"soc2kit {__version__}"),
        ("Trust Services categories in scope", ", ".join(ws.profile.scope.tsc)),
        ("Controls (applicable / catalog)", f"{len(applicable_ids)} / {len(views)}"),
        ("Criteria in scope", len(crit_rows)),
        ("Evidence records", n_records),
        ("status", "The company's own assessment (soc2kit assess): implemented, partial, planned, not_started, not_applicable; "
                   "'not assessed' when no status was recorded yet."),
        ("evidence_count / last_evidence", "Records in the workspace's evidence store linked to the control, and the latest period end "
                                           "(or collection date) among them."),
        ("policy_sections", "The statements of the company's policies (as edited) that cite the control."),
        ("Reading this workbook", "It measures readiness and evidence; it is not an auditor's opinion."),
    ]
    _xlsx.add_table_sheet(wb, "About", ["Field", "Value"], about, widths={"Field": 34, "Value": 100}, wrap=["Value"])
    return MatrixExport(_stable(_xlsx.to_bytes(wb), today), len(rows), len(applicable_ids), len(crit_rows), n_records)
