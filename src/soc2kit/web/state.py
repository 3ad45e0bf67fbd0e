"""What the dashboard knows about a workspace, computed once per workspace state.

The profile, catalog, applicable controls and policy documents are recomputed only when one of the
files they come from changes (``soc2kit.yaml``, ``assessment.yaml``, ``policies/*.md``: size and
modification time are compared on each request, a few ``stat`` calls). Evidence aggregates are
recomputed only when evidence was added (the store is append-only, so its largest id is a version).
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soc2kit.assess.assessment import ASSESSMENT_FILE, Assessment
from soc2kit.assess.gap import compute_gap, evidence_freshness
from soc2kit.assess.plan import build_plan
from soc2kit.assess.service import has_store, vendor_findings
from soc2kit.evidence.store import EvidenceStore
from soc2kit.library import load_catalog
from soc2kit.library.models import Catalog
from soc2kit.profile import PROFILE_FILE, vocab
from soc2kit.render.context import build_context
from soc2kit.render.documents import PolicyDocument, as_date, read_policy_documents
from soc2kit.render.selection import ControlView, select_controls
from soc2kit.vendors.register import REGISTER_FILE
from soc2kit.web import queries
from soc2kit.workspace import Workspace

REVIEW_WITHIN_DAYS = 30


@dataclass
class Snapshot:
    key: tuple
    ws: Workspace
    catalog: Catalog
    views: list[ControlView]
    applicable: dict[str, ControlView]
    documents: dict[str, PolicyDocument]
    assessment: Assessment
    derived: dict[Any, Any] = field(default_factory=dict)  #: results computed from this snapshot (gap, plan), by key


def _stat_key(path: Path) -> tuple:
    try:
        st = path.stat()
    except FileNotFoundError:
        return (path.name, None)
    return (path.name, st.st_mtime_ns, st.st_size)


class WorkspaceState:
    def __init__(self, root: Path, *, write_cache: bool = True):
        self.root = root
        self.write_cache = write_cache
        self._lock = threading.RLock()
        self._snapshot: Snapshot | None = None
        self._store: EvidenceStore | None = None
        self._aggregates: tuple[tuple[int, int], dict[str, queries.ControlEvidence]] | None = None
        self._check_runs: dict[tuple[str, tuple[int, int]], list[dict[str, Any]]] = {}

    # --- files -------------------------------------------------------------------------------
    def _key(self) -> tuple:
        policies = self.root / "policies"
        try:
            docs = tuple(sorted(_stat_key(p) for p in policies.glob("*.md")))
        except OSError:
            docs = ()
        return (_stat_key(self.root / PROFILE_FILE), _stat_key(self.root / ASSESSMENT_FILE), _stat_key(self.root / REGISTER_FILE), docs)

    def snapshot(self) -> Snapshot:
        key = self._key()
        with self._lock:
            if self._snapshot is not None and self._snapshot.key == key:
                return self._snapshot
            ws = Workspace.open(self.root)
            catalog = load_catalog()
            views = select_controls(catalog, ws.profile, build_context(ws.profile), cache_dir=ws.state_dir / "cache" if self.write_cache else None)
            documents = {d.id: d for d in read_policy_documents(ws.policies_dir)} if ws.policies_dir.is_dir() else {}
            self._snapshot = Snapshot(key, ws, catalog, views, {v.id: v for v in views if v.applicable}, documents, Assessment.load(ws.root))
            return self._snapshot

    # --- evidence store ----------------------------------------------------------------------
    def store(self, *, create: bool = False) -> EvidenceStore | None:
        """The evidence store, opened once; None while the workspace has none (unless ``create``)."""
        with self._lock:
            if self._store is None:
                ws = self.snapshot().ws
                if not create and not has_store(ws):
                    return None
                self._store = EvidenceStore.open(ws)
            return self._store

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def evidence_version(self) -> tuple[int, int] | None:
        store = self.store()
        return queries.version(store.engine) if store is not None else None

    def aggregates(self) -> dict[str, queries.ControlEvidence] | None:
        store = self.store()
        if store is None:
            return None
        ver = queries.version(store.engine)
        with self._lock:
            if self._aggregates is not None and self._aggregates[0] == ver:
                return self._aggregates[1]
        result = queries.per_control(store.engine)
        with self._lock:
            self._aggregates = (ver, result)
        return result

    def check_runs(self, control_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """A control's stored check results, newest first; reused until evidence is added."""
        store = self.store()
        if store is None:
            return []
        key = (control_id, queries.version(store.engine))
        with self._lock:
            hit = self._check_runs.get(key)
        if hit is not None:
            return hit
        runs = queries.check_runs(store, control_id=control_id, limit=limit)
        with self._lock:
            if len(self._check_runs) > 512 or any(k[1] != key[1] for k in self._check_runs):
                self._check_runs.clear()
            self._check_runs[key] = runs
        return runs

    # --- derived views -----------------------------------------------------------------------
    def _derived(self, name: str, today: dt.date, compute) -> Any:
        snap = self.snapshot()
        key = (name, today, self.evidence_version())
        with self._lock:
            if key in snap.derived:
                return snap.derived[key]
        value = compute(snap)
        with self._lock:
            snap.derived = {k: v for k, v in snap.derived.items() if k[0] != name}  # keep only the newest of each
            snap.derived[key] = value
        return value

    def gap(self, today: dt.date) -> dict[str, Any]:
        def compute(snap: Snapshot) -> dict[str, Any]:
            agg = self.aggregates()
            evidence = None if agg is None else {cid: [a] for cid, a in agg.items()}
            p = snap.ws.profile
            result = compute_gap(snap.catalog, snap.views, snap.assessment, company=p.company.name, tsc=list(p.scope.tsc), evidence=evidence, today=today)
            findings = vendor_findings(snap.ws, today)
            if findings is not None:
                result["vendor_findings"] = findings
            return result

        return self._derived("gap", today, compute)

    def plan(self, today: dt.date) -> dict[str, Any]:
        def compute(snap: Snapshot) -> dict[str, Any]:
            p = snap.ws.profile
            roles = {key: (getattr(p.roles, key) or title) for key, (title, _) in vocab.ROLES.items()}
            people = {title: (getattr(p.roles, key) or title) for key, (title, _) in vocab.ROLES.items()}
            period = p.scope.observation_period
            unassessed = sum(1 for v in snap.views if v.applicable and v.id not in snap.assessment.controls)
            return build_plan(snap.catalog, snap.views, self.gap(today), list(snap.documents.values()), company=p.company.name, roles=roles,
                              start=today, window=(period.start, period.end) if period else None, unassessed=unassessed, people=people)

        return self._derived("plan", today, compute)

    def freshness(self, today: dt.date) -> list[dict[str, Any]]:
        """Applicable controls whose evidence is stale (or missing) for their frequency; per-event
        controls have no fixed cadence and are left out. Empty when the workspace has no store."""
        def compute(snap: Snapshot) -> list[dict[str, Any]]:
            agg = self.aggregates()
            if agg is None:
                return []
            rows = []
            for cid, v in snap.applicable.items():
                if not vocab.FREQUENCY_DAYS.get(v.frequency):
                    continue
                a = agg.get(cid)
                if a is not None and evidence_freshness([a], v.frequency, today):
                    continue
                rows.append({"id": cid, "title": v.control.title, "frequency": v.frequency, "latest": a.latest if a else None,
                             "count": a.count if a else 0, "status": snap.assessment.get(cid).status})
            return rows

        return self._derived("freshness", today, compute)

    def latest_checks(self) -> list[dict[str, Any]]:
        store = self.store()
        if store is None:
            return []
        return self._derived("checks", dt.date.min, lambda snap: queries.latest_checks(store))

    def due_reviews(self, today: dt.date) -> tuple[list[dict[str, Any]], str]:
        """Policies overdue or due for review within 30 days (and those with no review date at all), and
        where the answer came from: ``soc2kit.workspace.reviews`` when present, else each policy's
        ``next_review`` front matter."""
        try:
            from soc2kit.workspace.reviews import due_reviews
        except ImportError:
            due_reviews = None
        if due_reviews is not None:
            def compute(snap: Snapshot) -> list[dict[str, Any]]:
                rows = []
                for item in due_reviews(snap.ws, today=today, within_days=REVIEW_WITHIN_DAYS):
                    pid = str(item.get("policy") or "")
                    rows.append({"id": pid, "title": str(item.get("title") or pid), "next_review": as_date(item.get("next_review")),
                                 "overdue": item.get("state") == "overdue", "state": str(item.get("state") or "")})
                return rows

            return self._derived("reviews", today, compute), "soc2kit.workspace.reviews"

        def fallback(snap: Snapshot) -> list[dict[str, Any]]:
            rows = []
            horizon = today + dt.timedelta(days=REVIEW_WITHIN_DAYS)
            for doc in snap.documents.values():
                due = as_date(doc.meta.get("next_review"))
                if due is None or due <= horizon:
                    state = "unknown" if due is None else "overdue" if due < today else "due"
                    rows.append({"id": doc.id, "title": doc.title, "next_review": due, "overdue": state == "overdue", "state": state})
            rows.sort(key=lambda r: (r["next_review"] or dt.date.min, r["id"]))
            return rows

        return self._derived("reviews", today, fallback), "front matter"
