"""``soc2kit people check``: each person's onboarding and offboarding duties, from the HR roster,
training exports, policy acknowledgements and (optionally) an identity-provider export.

Duties (numbers from the profile's parameters; statements from the HR Security, Information
Security and Access Control policies):

- ``background_check`` (HR-01, HRS-4): a background check completed on or before the start date.
  Evaluated only when the HR export has a background-check date column.
- ``policy_acknowledgement`` (GOV-02, HRS-4): each required policy (default: the code of conduct)
  acknowledged on or before the start date and again within every year after. Evaluated inside a
  workspace, from the acknowledgements in the evidence store.
- ``security_awareness`` and ``ai_literacy`` (HR-02, HRS-5/HRS-6): completed within
  ``training_days_after_hire`` days of the start date, then again within every
  ``training_interval``. Courses are told apart by name (patterns in :data:`COURSE_PATTERNS`, or
  ``courses`` in the mapping file); a course matching both counts for both.
- ``access_removal`` (AC-03, HRS-11): a leaver's access removed within ``deprovision_hours`` hours
  of the end of their last day. The removal time comes from the HR export's ``access_removed_at``
  column when present; otherwise an identity-provider export shows whether an account is still
  enabled.

Periodic duties are checked as a chain: the first deadline, then each completion resets the next
deadline to completion + interval; a completion after its deadline is ``late`` (due and actual
dates), a deadline passed with no completion is ``overdue``. Duties stop at a leaver's end date;
people whose start date is after ``as_of`` are not checked yet.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from soc2kit.errors import UserError
from soc2kit.people.roster import Mapping, Person, read_roster, read_training
from soc2kit.profile.vocab import FREQUENCY_DAYS

COURSE_PATTERNS = {
    "security_awareness": r"security|awareness|phishing|privacy",
    "ai_literacy": r"\bai\b|a\.i\.|artificial intelligence|literacy|generative|machine learning|\bllm",
}
DUTIES = ("background_check", "policy_acknowledgement", "security_awareness", "ai_literacy", "access_removal")
CONTROL = {"background_check": "HR-01", "policy_acknowledgement": "GOV-02", "security_awareness": "HR-02", "ai_literacy": "HR-02", "access_removal": "AC-03"}
ANNUAL_DAYS = FREQUENCY_DAYS["annual"] or 366


def chain(first_due: dt.date, interval: int, done: list[dt.date], until: dt.date) -> list[dict[str, Any]]:
    """Exceptions of a periodic duty: ``late`` completions and an ``overdue`` deadline (see module doc)."""
    found = []
    due = first_due
    prev: dt.date | None = None
    for c in sorted(set(done)):
        if c > until:
            break
        if prev is not None and c <= prev:
            continue
        if c > due:
            found.append({"rule": "late", "due": due.isoformat(), "actual": c.isoformat(), "days_late": (c - due).days})
        # a completion before the start (a contractor later hired, say) never brings the first deadline forward
        prev, due = c, max(c + dt.timedelta(days=interval), first_due)
    if due < until:
        found.append({"rule": "overdue", "due": due.isoformat(), "actual": None, "days_late": (until - due).days})
    return found


def _exc(p: Person, duty: str, item: dict[str, Any], detail: str) -> dict[str, Any]:
    return {"email": p.email, "name": p.name, "line": p.line, "duty": duty, "control": CONTROL[duty], **item, "detail": detail}


def people_check(hr: Path | str, training: list[Path], *, profile, as_of: dt.date, idp: Path | str | None = None, mapping: Path | None = None,
                 idp_mapping: Path | None = None, acknowledgements: list[Any] | None = None, policies: list[str] | None = None) -> dict[str, Any]:
    """The JSON-ready report. ``acknowledgements``: records from
    :func:`soc2kit.evidence.acknowledgements.list_acknowledgements` (None outside a workspace)."""
    from soc2kit.people.roster import load_mapping

    m: Mapping | None = load_mapping(mapping) if mapping is not None else None
    patterns = {**COURSE_PATTERNS, **(m.courses if m else {})}
    compiled = {k: re.compile(v, re.IGNORECASE) for k, v in patterns.items()}
    roster = read_roster(hr, m)
    train = read_training(list(training), m)
    p = profile.parameters
    interval = FREQUENCY_DAYS[p.training_interval] or ANNUAL_DAYS
    removal_hours = p.deprovision_hours
    policies = list(policies or ["code-of-conduct"])

    accounts_by_email: dict[str, list[Any]] = {}
    idp_source = None
    if idp is not None:
        from soc2kit.checks.access import detect, idp_accounts, read_table

        t = read_table(idp)
        s = detect(t, "idp", idp_mapping)
        idp_source = s.name
        for a in idp_accounts(t, s):
            if a.email:
                accounts_by_email.setdefault(a.email, []).append(a)

    by_person: dict[str, dict[str, list[dt.date]]] = {}
    roster_emails = {x.email for x in roster.people}
    unmatched: dict[str, int] = {}
    for c in train.completions:
        if c.email not in roster_emails:
            unmatched[c.email] = unmatched.get(c.email, 0) + 1
            continue
        for kind, rx in compiled.items():
            if rx.search(c.course):
                by_person.setdefault(c.email, {}).setdefault(kind, []).append(c.completed_at)
    acks: dict[tuple[str, str], list[dt.date]] = {}
    for a in acknowledgements or []:
        acks.setdefault((a.email.lower(), a.policy), []).append(a.acknowledged_at.date())

    not_evaluated: dict[str, str] = {}
    if not roster.has_background:
        not_evaluated["background_check"] = "the HR export has no background-check date column"
    if acknowledgements is None:
        not_evaluated["policy_acknowledgement"] = "outside a workspace there are no recorded acknowledgements"
    if not training:
        not_evaluated["security_awareness"] = not_evaluated["ai_literacy"] = "no training export given (--training)"
    if not roster.has_access_removed and idp is None:
        not_evaluated["access_removal"] = "neither an access_removed_at column in the HR export nor an identity-provider export (--idp)"

    exceptions: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    checked = pre_start = leavers = 0
    day_start = dt.datetime.combine(as_of, dt.time())  # the exports are of as_of, time unknown: a deadline counts as passed once it is before that day
    for person in roster.people:
        if person.start > as_of:
            pre_start += 1
            continue
        checked += 1
        until = min(as_of, person.end) if person.end else as_of
        if "background_check" not in not_evaluated:
            if person.background_check is None:
                exceptions.append(_exc(person, "background_check", {"rule": "missing", "due": person.start.isoformat(), "actual": None}, "no background check recorded"))
            elif person.background_check > person.start:
                exceptions.append(_exc(person, "background_check", {"rule": "late", "due": person.start.isoformat(), "actual": person.background_check.isoformat(),
                                                                    "days_late": (person.background_check - person.start).days}, "background check completed after the start date"))
        if "policy_acknowledgement" not in not_evaluated:
            for pol in policies:
                for e in chain(person.start, ANNUAL_DAYS, acks.get((person.email, pol), []), until):
                    exceptions.append(_exc(person, "policy_acknowledgement", {**e, "policy": pol},
                                           f"{pol} acknowledgement " + ("missing" if e["actual"] is None else "late")))
        if training:
            for kind in ("security_awareness", "ai_literacy"):
                first = person.start + dt.timedelta(days=p.training_days_after_hire)
                for e in chain(first, interval, by_person.get(person.email, {}).get(kind, []), until):
                    what = "security awareness" if kind == "security_awareness" else "AI literacy"
                    exceptions.append(_exc(person, kind, e, f"{what} training " + ("not completed by the deadline" if e["actual"] is None else "completed late")))
        if person.end is not None and person.end <= as_of:
            leavers += 1
            deadline = dt.datetime.combine(person.end + dt.timedelta(days=1), dt.time()) + dt.timedelta(hours=removal_hours)
            if person.access_removed is not None:
                if person.access_removed > deadline:
                    exceptions.append(_exc(person, "access_removal", {"rule": "late", "due": deadline.isoformat(), "actual": person.access_removed.isoformat()},
                                           f"access removed more than {removal_hours} hours after the last day"))
            elif idp is not None:
                live = [a for a in accounts_by_email.get(person.email, []) if a.enabled is not False]
                if live and deadline <= day_start:
                    exceptions.append(_exc(person, "access_removal", {"rule": "still_enabled", "due": deadline.isoformat(), "actual": None,
                                                                      "accounts": [a.account for a in live]},
                                           f"account(s) {', '.join(a.account for a in live)} still enabled in the identity-provider export"))
                elif not live:
                    notes.append({"email": person.email, "duty": "access_removal", "note": "no enabled account in the identity-provider export; removal time not recorded"})
            elif roster.has_access_removed and deadline <= day_start:
                exceptions.append(_exc(person, "access_removal", {"rule": "missing", "due": deadline.isoformat(), "actual": None}, "no access removal recorded for a leaver"))
    exceptions.sort(key=lambda e: (e["email"], DUTIES.index(e["duty"]), e["due"] or ""))
    counts = {d: sum(1 for e in exceptions if e["duty"] == d) for d in DUTIES}
    return {
        "check": "people.check",
        "status": "fail" if exceptions else "pass",
        "as_of": as_of.isoformat(),
        "parameters": {"training_days_after_hire": p.training_days_after_hire, "training_interval": p.training_interval, "training_interval_days": interval,
                       "deprovision_hours": removal_hours, "acknowledgement_interval_days": ANNUAL_DAYS},
        "hr": {"file": roster.path.name, "source": roster.source, "people": len(roster.people), "mapping": roster.columns},
        "training": train.files,
        "idp": {"file": Path(idp).name, "source": idp_source} if idp is not None else None,
        "course_patterns": patterns,
        "policies": policies,
        "checked": checked,
        "pre_start": pre_start,
        "leavers": leavers,
        "exceptions": exceptions,
        "counts": counts,
        "not_evaluated": not_evaluated,
        "notes": notes,
        "unmatched_training": [{"email": e, "rows": n} for e, n in sorted(unmatched.items())],
    }


def store_report(ws, result: dict[str, Any]) -> int:
    """Store the report as evidence for the controls it tests, with an audit-log entry."""
    from soc2kit.evidence.store import EvidenceStore, NewEvidence

    controls = sorted({CONTROL[d] for d in DUTIES if d not in result["not_evaluated"]}) or ["HR-02"]
    day = dt.date.fromisoformat(result["as_of"])
    store = EvidenceStore.open(ws)
    try:
        rec = store.add(NewEvidence(controls=controls, data=(json.dumps(result, indent=1, ensure_ascii=False) + "\n").encode(), name=f"people-check-{day.isoformat()}.json",
                                    description=f"People check as of {day.isoformat()}: {result['checked']} people, {len(result['exceptions'])} exception(s)",
                                    period=(day, day), source_kind="check", source_id="people.check"))
        store.record("check.run", {"check": "people.check", "status": result["status"], "evidence_id": rec.id})
        return rec.id
    finally:
        store.close()


def workspace_acknowledgements(ws) -> list[Any]:
    from soc2kit.evidence.acknowledgements import list_acknowledgements
    from soc2kit.evidence.store import EvidenceStore

    store = EvidenceStore.open(ws)
    try:
        return list_acknowledgements(store)
    finally:
        store.close()


def policy_path(ws, policy: str) -> Path:
    """The workspace's policy file for ``policy``; a UserError with a "did you mean" when there is none."""
    from soc2kit.profile.load import suggest

    path = ws.policies_dir / f"{policy}.md"
    if not path.is_file():
        known = sorted(x.stem for x in ws.policies_dir.glob("*.md")) if ws.policies_dir.is_dir() else []
        guess = suggest(policy, known)
        raise UserError(f"no policy {policy!r} in the workspace" + (f" (did you mean {guess!r}?)" if guess else ""), hint="policy ids are the file names in policies/, e.g. code-of-conduct")
    return path


def acknowledge(ws, *, policy: str, name: str, email: str, version: str | None = None, at: dt.datetime | None = None):
    """Record one acknowledgement through the shared module; the version defaults to the
    workspace policy's front-matter version."""
    from soc2kit.evidence.acknowledgements import record_acknowledgement
    from soc2kit.evidence.store import EvidenceStore
    from soc2kit.render.documents import parse_policy_document

    path = policy_path(ws, policy)
    if version is None:
        version = str(parse_policy_document(path).meta.get("version") or "1.0")
    store = EvidenceStore.open(ws)
    try:
        return record_acknowledgement(store, policy=policy, version=version, name=name, email=email, at=at, via="cli")
    finally:
        store.close()
