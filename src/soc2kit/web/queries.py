"""Aggregate and single-record queries on the evidence store for the dashboard.

``EvidenceStore.list`` loads every record (and every control link); a page that needs counts, the
latest date per control or one control's records asks the database for exactly that instead, so
a page costs the same with 500 or 50,000 records. Read-only: writes go through the store.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, case, func, select

from soc2kit.evidence import acknowledgements
from soc2kit.evidence.schema import evidence, evidence_blob, evidence_control
from soc2kit.evidence.store import EvidenceRecord, EvidenceStore


@dataclass(frozen=True)
class ControlEvidence:
    """What the gap analysis needs of a control's evidence: how many records, and the latest date
    a record documents (its period end, or the day it was collected when it states no period)."""

    count: int
    latest: dt.date | None

    # duck-typed as an evidence record for soc2kit.assess.gap.evidence_freshness
    @property
    def period_end(self) -> dt.date | None:
        return self.latest


def _as_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


_counts: dict[tuple[str, int], int] = {}


def version(engine: Engine) -> tuple[int, int]:
    """(largest id, number of records): a key that changes whenever evidence is added. The store is
    append-only, so the largest id (one index lookup) is enough; the count is taken once per id."""
    with engine.connect() as conn:
        top = int(conn.execute(select(func.max(evidence.c.id))).scalar() or 0)
        key = (str(engine.url), top)
        count = _counts.get(key)  # read once: another thread may clear the dict at any moment
        if count is None:
            count = int(conn.execute(select(func.count()).select_from(evidence)).scalar() or 0)
            if len(_counts) > 64:
                _counts.clear()
            _counts[key] = count
        conn.rollback()
    return top, count


def per_control(engine: Engine) -> dict[str, ControlEvidence]:
    """Count and latest documented date of the evidence of every control, in one grouped query."""
    no_period = evidence.c.period_end.is_(None)
    query = (
        select(evidence_control.c.control_id, func.count(evidence.c.id), func.max(evidence.c.period_end),
               func.max(case((no_period, evidence.c.collected_at), else_=None)))
        .join(evidence, evidence.c.id == evidence_control.c.evidence_id)
        .group_by(evidence_control.c.control_id)
    )
    out: dict[str, ControlEvidence] = {}
    with engine.connect() as conn:
        for cid, count, period_end, collected in conn.execute(query):
            dates = [d for d in (_as_date(period_end), _as_date(collected)) if d is not None]
            out[cid] = ControlEvidence(int(count), max(dates) if dates else None)
        conn.rollback()
    return out


def _records(engine: Engine, where, *, limit: int | None = None, offset: int = 0, newest_first: bool = True) -> list[EvidenceRecord]:
    query = select(evidence, evidence_blob.c.size).join(evidence_blob, evidence_blob.c.sha256 == evidence.c.sha256).where(where)
    query = query.order_by(evidence.c.id.desc() if newest_first else evidence.c.id)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        ids = [r._mapping["id"] for r in rows]
        links: dict[int, list[str]] = {}
        for k in range(0, len(ids), 500):
            chunk = ids[k:k + 500]
            for eid, cid in conn.execute(select(evidence_control.c.evidence_id, evidence_control.c.control_id)
                                         .where(evidence_control.c.evidence_id.in_(chunk)).order_by(evidence_control.c.control_id)):
                links.setdefault(eid, []).append(cid)
        conn.rollback()
    out = []
    for r in rows:
        m = r._mapping
        collected = m["collected_at"]
        collected = collected.replace(tzinfo=dt.UTC) if collected.tzinfo is None else collected.astimezone(dt.UTC)
        out.append(EvidenceRecord(m["id"], m["sha256"], m["size"], m["name"], m["description"], collected, m["period_start"], m["period_end"],
                                  m["source_kind"], m["source_id"], m["source_version"], m["added_by"], m["audit_seq"], tuple(links.get(m["id"], ()))))
    return out


def _ids(engine: Engine, query) -> list[int]:
    with engine.connect() as conn:
        ids = [int(i) for i in conn.execute(query).scalars()]
        conn.rollback()
    return ids


def for_control(engine: Engine, control_id: str, *, limit: int = 100, offset: int = 0) -> list[EvidenceRecord]:
    """One control's evidence, newest first, one page at a time (the page's ids come from the
    control-link index, then only those records are read)."""
    ids = _ids(engine, select(evidence_control.c.evidence_id).where(evidence_control.c.control_id == control_id)
               .order_by(evidence_control.c.evidence_id.desc()).limit(limit).offset(offset))
    return _records(engine, evidence.c.id.in_(ids)) if ids else []


def record(engine: Engine, evidence_id: int) -> EvidenceRecord | None:
    found = _records(engine, evidence.c.id == evidence_id)
    return found[0] if found else None


def _body(store: EvidenceStore, rec: EvidenceRecord) -> dict[str, Any] | None:
    try:
        data = json.loads(store.blob_path(rec.sha256).read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def check_runs(store: EvidenceStore, *, control_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Stored check results (source kind ``check``), newest first, with the status from their JSON body."""
    if control_id is not None:
        ids = _ids(store.engine, select(evidence.c.id).join(evidence_control, evidence_control.c.evidence_id == evidence.c.id)
                   .where(evidence_control.c.control_id == control_id, evidence.c.source_kind == "check").order_by(evidence.c.id.desc()).limit(limit))
        where = evidence.c.id.in_(ids)
    else:
        where = evidence.c.source_kind == "check"
    out = []
    for rec in _records(store.engine, where, limit=limit):
        body = _body(store, rec) or {}
        out.append({"evidence_id": rec.id, "check": str(body.get("check") or rec.source_id), "status": str(body.get("status") or "unknown"),
                    "collected_at": rec.collected_at, "controls": list(rec.controls), "name": rec.name})
    return out


def latest_checks(store: EvidenceStore) -> list[dict[str, Any]]:
    """The latest stored result of each check."""
    newest = select(func.max(evidence.c.id)).where(evidence.c.source_kind == "check").group_by(evidence.c.source_id)
    out = []
    for rec in _records(store.engine, evidence.c.id.in_(newest)):
        body = _body(store, rec) or {}
        out.append({"evidence_id": rec.id, "check": str(body.get("check") or rec.source_id), "status": str(body.get("status") or "unknown"),
                    "collected_at": rec.collected_at, "controls": list(rec.controls), "name": rec.name})
    return sorted(out, key=lambda c: c["check"])


def acknowledgement_counts(engine: Engine) -> dict[str, int]:
    """Acknowledgements recorded per policy id."""
    query = select(evidence.c.source_id, func.count(evidence.c.id)).where(evidence.c.source_kind == acknowledgements.SOURCE_KIND).group_by(evidence.c.source_id)
    with engine.connect() as conn:
        out = {str(pid): int(n) for pid, n in conn.execute(query)}
        conn.rollback()
    return out


def acknowledgements_of(store: EvidenceStore, policy: str | None = None) -> list[acknowledgements.Acknowledgement]:
    """Acknowledgements (oldest first) read back from their stored, hashed bodies: the same records
    and the same format as :func:`soc2kit.evidence.acknowledgements.list_acknowledgements`, without
    loading the rest of the store."""
    where = evidence.c.source_kind == acknowledgements.SOURCE_KIND
    if policy is not None:
        where = where & (evidence.c.source_id == policy)
    out = []
    for rec in _records(store.engine, where, newest_first=False):
        body = _body(store, rec)
        if body is None:
            continue
        try:
            at = dt.datetime.fromisoformat(str(body["acknowledged_at"]))
            out.append(acknowledgements.Acknowledgement(rec.id, str(body["policy"]), str(body["version"]), str(body["name"]), str(body["email"]),
                                                        at, str(body.get("via", ""))))
        except (KeyError, ValueError):
            continue
    return out
