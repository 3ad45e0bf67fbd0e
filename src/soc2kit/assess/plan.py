"""The phased, dated implementation plan (``soc2kit plan``).

Tasks come from the gap analysis and the policy set, laid into the brief's four phases:

1. *Gap analysis and planning* — confirm scope, finish the assessment, approve the plan;
2. *Policy development and customization* — review and approve every policy not yet approved;
3. *Implementation and training* — one task per control that is not implemented, then staff
   training, which waits for the policies it teaches;
4. *Monitoring and continuous improvement* — start evidence collection for each owner's controls,
   then an internal readiness review and a signed audit-log checkpoint;

followed by the Type II observation window from the profile.

Priority: a control that leaves more in-scope criteria unmet comes first; AI-specific controls
get a boost (the AI risks are what generic programmes miss); partial controls are quick wins.
Effort estimates are planning defaults in working days (``EFFORT``), halved for partial controls.
Scheduling: every owner works on one task at a time in priority order; a task starts after its
dependencies (a control after the approval of the policies that state it; training after every
approval) and on a working day.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from soc2kit.library.models import Catalog
from soc2kit.render.selection import ControlView

PHASES = ("Gap analysis and planning", "Policy development and customization", "Implementation and training", "Monitoring and continuous improvement")
TECHNICAL_AREAS = {"AC", "NET", "CRY", "OPS", "CHG", "MDL", "BCP", "DAT", "TRD"}
EFFORT = {"technical": 5, "process": 3, "ai_extra": 3, "policy": 2, "ai_policy": 3}


def next_workday(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def add_workdays(start: dt.date, days: int) -> dt.date:
    """The last working day of a task of ``days`` working days starting on ``start``."""
    day = next_workday(start)
    remaining = max(days, 1) - 1
    while remaining:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            remaining -= 1
    return day


@dataclass
class Task:
    id: str
    title: str
    description: str
    owner: str
    effort_days: int
    phase: int
    priority: int = 0
    control: str | None = None
    policy: str | None = None
    depends_on: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    start: dt.date | None = None
    end: dt.date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "description": self.description, "control": self.control, "policy": self.policy,
                "owner": self.owner, "start": self.start.isoformat() if self.start else None, "end": self.end.isoformat() if self.end else None,
                "effort_days": self.effort_days, "priority": self.priority, "depends_on": list(self.depends_on), "labels": list(self.labels)}


def effort(view: ControlView, status: str) -> int:
    base = EFFORT["technical"] if view.control.area in TECHNICAL_AREAS else EFFORT["process"]
    if view.control.ai_specific:
        base += EFFORT["ai_extra"]
    if status in ("partial", "implemented_no_evidence"):
        base = math.ceil(base / 2)
    return base


def build_plan(catalog: Catalog, views: list[ControlView], gap: dict[str, Any], documents: list[Any], *, company: str, roles: dict[str, str],
               start: dt.date, window: tuple[dt.date, dt.date] | None, unassessed: int, people: dict[str, str] | None = None) -> dict[str, Any]:
    """``roles``: role key -> who holds it; ``people``: role title -> person (so that one person
    holding two roles works through one queue)."""
    people = people or {}

    def who(name: str) -> str:
        return people.get(name, name)

    applicable = {v.id: v for v in views if v.applicable}
    status = {r["id"]: r["status"] for c in gap["criteria"].values() for r in c["controls"]}
    owners = {r["id"]: who(r["owner"]) for c in gap["criteria"].values() for r in c["controls"]}
    for cid, v in applicable.items():  # controls mapped to no criterion (AI governance)
        status.setdefault(cid, "not_started")
        owners.setdefault(cid, who(v.owner_title))
    unmet_by_control: dict[str, int] = {}
    for crit in gap["criteria"].values():
        if crit.get("met") is False:
            for r in crit["controls"]:
                unmet_by_control[r["id"]] = unmet_by_control.get(r["id"], 0) + 1
    tasks: list[Task] = []
    counter = iter(range(1, 100000))

    def new(**kw: Any) -> Task:
        t = Task(id=f"T{next(counter):03d}", **kw)
        tasks.append(t)
        return t

    so, ceo, people_lead = roles["security_officer"], roles["ceo"], roles["people_lead"]
    # Phase 1
    t_scope = new(title="Confirm the report scope, systems and owners", description="Review soc2kit.yaml: in-scope Trust Services Criteria, systems, observation window and the people holding each role.",
                  owner=so, effort_days=2, phase=1, labels=["soc2", "planning"])
    t_assess = new(title="Complete the control assessment", description=f"Record the status of every applicable control with `soc2kit assess` ({unassessed} not yet assessed).",
                   owner=so, effort_days=max(2, math.ceil(unassessed / 25)), phase=1, depends_on=[t_scope.id], labels=["soc2", "planning"])
    t_approve_plan = new(title="Approve the remediation plan and its resources", description="Review this plan, its priorities and dates, and assign the people.",
                         owner=ceo, effort_days=1, phase=1, depends_on=[t_assess.id], labels=["soc2", "planning"])
    # Phase 2
    approval_of: dict[str, str] = {}
    for doc in documents:
        if doc.meta.get("approved_by"):
            continue
        ai = bool(doc.meta.get("ai_policy"))
        t = new(title=f"Review and approve the {doc.title}", description=f"The owner ({doc.meta.get('owner', '')}) checks every statement against how the company works, edits policies/{doc.id}.md, runs `soc2kit lint`, and the approver ({doc.meta.get('approver', '')}) approves it.",
                owner=who(str(doc.meta.get("owner") or "")) or so, effort_days=EFFORT["ai_policy"] if ai else EFFORT["policy"], phase=2, policy=doc.id,
                depends_on=[t_approve_plan.id], labels=["soc2", "policy"] + (["ai"] if ai else []))
        approval_of[doc.id] = t.id
    cited_in: dict[str, list[str]] = {}
    for doc in documents:
        for cit in doc.citations:
            cited_in.setdefault(cit.control_id, [])
            if doc.id not in cited_in[cit.control_id]:
                cited_in[cit.control_id].append(doc.id)
    # Phase 3: controls, most important first
    open_controls = [cid for cid in applicable if status.get(cid) in ("partial", "planned", "not_started")]
    open_controls.sort(key=lambda cid: (-(unmet_by_control.get(cid, 0) * 2 + (2 if applicable[cid].control.ai_specific else 0) + (1 if status[cid] == "partial" else 0)), cid))
    for rank, cid in enumerate(open_controls, start=1):
        v = applicable[cid]
        deps = [approval_of[p] for p in cited_in.get(cid, []) if p in approval_of] or [t_approve_plan.id]
        verb = "Complete" if status[cid] == "partial" else "Implement"
        new(title=f"{verb} {cid}: {v.control.title}", description=v.statement, owner=owners.get(cid) or who(v.owner_title), effort_days=effort(v, status[cid]),
            phase=3, control=cid, depends_on=deps, priority=rank, labels=["soc2", v.control.area] + (["ai"] if v.control.ai_specific else []))
    t_training = new(title="Train staff on the approved policies", description="Security, privacy and AI-literacy training on the approved policy set; record completion per person (HR-02).",
                     owner=people_lead, effort_days=5, phase=3, control="HR-02" if "HR-02" in applicable else None,
                     depends_on=list(approval_of.values()) or [t_approve_plan.id], labels=["soc2", "training"])
    # Phase 4
    by_owner: dict[str, list[str]] = {}
    impl = {t.control: t.id for t in tasks if t.phase == 3 and t.control}
    for cid in applicable:
        if status.get(cid) not in ("not_applicable",):
            by_owner.setdefault(owners.get(cid) or who(applicable[cid].owner_title), []).append(cid)
    collect_ids = []
    for owner, cids in sorted(by_owner.items()):
        deps = sorted({impl[c] for c in cids if c in impl}) or [t_approve_plan.id]
        t = new(title=f"Start evidence collection for {len(cids)} controls owned by {owner}", description="Add dated evidence for each control at its frequency with `soc2kit evidence add`; check gaps with `soc2kit evidence coverage`. Controls: " + ", ".join(cids),
                owner=owner, effort_days=2, phase=4, depends_on=deps, labels=["soc2", "evidence"])
        collect_ids.append(t.id)
    new(title="Internal readiness review and audit-log checkpoint", description="Re-run `soc2kit gap`, test a sample of controls (GOV-06), sign `soc2kit audit checkpoint` and send it to the auditor.",
        owner=so, effort_days=5, phase=4, depends_on=collect_ids + [t_training.id], labels=["soc2", "monitoring"])

    _schedule(tasks, start)
    phases = []
    for number, name in enumerate(PHASES, start=1):
        items = [t for t in tasks if t.phase == number]
        phases.append({"number": number, "name": name, "start": min(t.start for t in items).isoformat() if items else None,
                       "end": max(t.end for t in items).isoformat() if items else None, "tasks": [t.as_dict() for t in items]})
    end = max(t.end for t in tasks)
    warnings = []
    if window is not None and window[0] <= end:
        warnings.append(f"The observation window starts on {window[0].isoformat()}, before this plan completes on {end.isoformat()}: controls implemented after the window starts will show exceptions. Move the window or add people.")
    targets = {cid: r for c in gap["criteria"].values() for r in c["controls"] for cid in [r["id"]]}
    for t in tasks:
        if t.control and targets.get(t.control, {}).get("target_date") and t.end and t.end.isoformat() > targets[t.control]["target_date"]:
            warnings.append(f"{t.control}: scheduled to finish {t.end.isoformat()}, after its target date {targets[t.control]['target_date']}.")
    return {"company": company, "generated_on": dt.date.today().isoformat(), "start": start.isoformat(), "end": end.isoformat(),
            "observation_window": {"start": window[0].isoformat(), "end": window[1].isoformat()} if window else None,
            "warnings": warnings, "phases": phases}


def _schedule(tasks: list[Task], start: dt.date) -> None:
    """Phase by phase, in priority order: start after every dependency and when the owner is free."""
    by_id = {t.id: t for t in tasks}
    owner_free: dict[str, dt.date] = {}
    first = next_workday(start)
    for t in sorted(tasks, key=lambda x: (x.phase, x.priority or 0, x.id)):
        earliest = first
        for dep in t.depends_on:
            d = by_id[dep]
            if d.end is not None:
                earliest = max(earliest, d.end + dt.timedelta(days=1))
        earliest = max(earliest, owner_free.get(t.owner, earliest))
        t.start = next_workday(earliest)
        t.end = add_workdays(t.start, t.effort_days)
        owner_free[t.owner] = t.end + dt.timedelta(days=1)
