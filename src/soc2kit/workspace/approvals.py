"""Policy approvals, reviews and history.

- ``approve_policy``: a named person approves a document. Its control block gets ``approved_by``,
  ``approved_on``, ``status: approved``, a bumped version (1.0 → 1.1, or 2.0 with ``major``), the
  approval date as ``effective_date`` and the next review one interval later; a row is added to the
  revision history. The approved text is stored as evidence (GOV-01, GOV-05) and the approval is
  an audit-log entry carrying the document's SHA-256.
- ``review_policy``: a completed periodic review that changed nothing: ``last_reviewed`` and
  ``next_review`` move, a history row is added, and a review record (JSON) is stored as evidence.
- ``policy_history``: what the audit log says about one policy: approvals, reviews, updates merged
  by ``soc2kit update``, acknowledgements.

The document is written first (atomically); if recording the evidence fails, the previous text is
put back, so a document never claims an approval the evidence store does not hold.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from soc2kit._fs import atomic_write_bytes
from soc2kit.errors import Location, UserError, WorkspaceError
from soc2kit.workspace import Workspace, sha256_bytes
from soc2kit.workspace.frontmatter import add_history_row, bump_version, conflict_lines, scalar_text, set_fields, split_document
from soc2kit.workspace.reviews import interval_for, next_review_after

CONTROLS = ("GOV-01", "GOV-05")
SOURCE_KIND = "review"
HISTORY_ACTIONS = {"policy.approved": "approved", "policy.reviewed": "reviewed", "policy.updated": "updated"}


def policy_path(ws: Workspace, name: str) -> Path:
    """The document of policy ``name`` (an id such as ``access-control``, or ``policies/access-control.md``)."""
    from soc2kit.evidence.store import check_text

    check_text(name, "policy name", max_len=200)
    stem = Path(name).name
    stem = stem[:-3] if stem.endswith(".md") else stem
    path = ws.policies_dir / f"{stem}.md"
    if not stem or stem.startswith(".") or not path.is_file():
        from soc2kit.profile.load import suggest

        known = sorted(p.stem for p in ws.policies_dir.glob("*.md")) if ws.policies_dir.is_dir() else []
        guess = suggest(stem, known) if stem else None
        raise UserError(f"no policy {name!r} in {ws.policies_dir}" + (f" (did you mean {guess!r}?)" if guess else ""),
                        hint="list the policies with `soc2kit policies`")
    return path


def _person(value: str, what: str) -> str:
    from soc2kit.evidence.store import check_text

    value = check_text(value.strip(), what, max_len=200)
    if not value:
        raise UserError(f"the {what} is empty", hint="give the person's full name, e.g. --by \"Ana Ruiz\"")
    return value


def _date(on: dt.date | None, today: dt.date, what: str) -> dt.date:
    on = on or today
    if on > today:
        raise UserError(f"the {what} date {on.isoformat()} is in the future", hint="record it on or after the day it happens")
    return on


def _read(path: Path, ws: Workspace) -> tuple[str, bytes]:
    """(text with LF line ends, the file's bytes)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        raise WorkspaceError(f"not valid UTF-8 (byte {exc.start})", location=Location(path), hint="save the file as UTF-8") from None
    markers = conflict_lines(text)
    if markers:
        raise WorkspaceError("the document still has conflict markers from `soc2kit update`", location=Location(path.relative_to(ws.root), markers[0][0]),
                             hint="resolve each <<<<<<< … ======= … >>>>>>> block (keep the text you want, delete the marker lines), then try again")
    return text, raw


def _open_for_change(ws, name: str):
    """The policy a command will change: path, path relative to the workspace, text, exact bytes, the
    split front matter, and the document id. A document without front matter is refused."""
    path = policy_path(ws, name)
    rel = str(path.relative_to(ws.root))
    text, raw = _read(path, ws)
    split = split_document(text, rel)
    if not split.plain:
        raise WorkspaceError("the document has no document control block (front matter)", location=Location(rel, 1),
                             hint="start the file with '---', the fields id, title, version, status, owner, approver, then '---'")
    return path, rel, text, raw, split, str(split.plain.get("id") or path.stem)


def _as_written(new: str, raw: bytes) -> bytes:
    """``new`` (LF) with the line ends of the file it replaces: a CRLF document stays CRLF."""
    return (new.replace("\n", "\r\n") if b"\r\n" in raw else new).encode("utf-8")


@contextmanager
def _store(ws: Workspace, store) -> Iterator[Any]:
    if store is not None:
        yield store
        return
    from soc2kit.evidence.store import EvidenceStore

    opened = EvidenceStore.open(ws)
    try:
        yield opened
    finally:
        opened.close()


def _write_then_record(path: Path, old: bytes, new: bytes, record) -> Any:
    atomic_write_bytes(path, new)
    try:
        return record()
    except BaseException:
        atomic_write_bytes(path, old)
        raise


def _controls(store) -> list[str]:
    known = getattr(store, "known_controls", None)
    return [c for c in CONTROLS if known is None or c in known] or [CONTROLS[0]]


def approve_policy(ws: Workspace, name: str, *, by: str, on: dt.date | None = None, major: bool = False, note: str = "",
                   today: dt.date | None = None, store=None) -> dict[str, Any]:
    """Record an approval of policy ``name`` by ``by`` (see the module docstring); returns what was recorded."""
    from soc2kit.evidence.store import NewEvidence, check_text

    today = today or dt.date.today()
    by = _person(by, "approver name")
    note = check_text(note.strip(), "approval note", max_len=500)
    on = _date(on, today, "approval")
    path, rel, text, raw, split, doc_id = _open_for_change(ws, name)
    meta = split.plain
    previous = scalar_text(split.meta.get("version", "1.0"))
    version = bump_version(previous, major=major)
    interval = interval_for(meta, ws.profile)
    next_review = next_review_after(on, interval)
    new = set_fields(text, rel, {"version": version, "status": "approved", "approved_by": by, "approved_on": on,
                                 "effective_date": on, "next_review": next_review})
    new = add_history_row(new, [version, on.isoformat(), by, "Approved" + (f": {note}" if note else "")])
    data = _as_written(new, raw)
    sha = sha256_bytes(data)
    result = {"policy": doc_id, "path": rel, "version": version, "previous_version": str(previous), "approved_by": by,
              "approved_on": on.isoformat(), "effective_date": on.isoformat(), "next_review": next_review.isoformat(),
              "review_interval": interval, "sha256": sha, "note": note}

    def record() -> dict[str, Any]:
        with _store(ws, store) as st:
            rec = st.add(NewEvidence(controls=_controls(st), data=data, name=f"{doc_id}-v{version}-approved.md",
                                     description=f"{meta.get('title') or doc_id} version {version} approved by {by} on {on.isoformat()}" + (f" ({note})" if note else ""),
                                     period=(on, on), source_kind=SOURCE_KIND, source_id=doc_id, source_version=version))
            entry = st.record("policy.approved", result | {"evidence_id": rec.id})
        return result | {"evidence_id": rec.id, "audit_entry": entry.seq, "controls": list(rec.controls)}

    return _write_then_record(path, raw, data, record)


def review_policy(ws: Workspace, name: str, *, by: str, on: dt.date | None = None, notes: str = "",
                  today: dt.date | None = None, store=None) -> dict[str, Any]:
    """Record a completed review of policy ``name`` that changed nothing; the next review moves one interval on."""
    from soc2kit.evidence.store import NewEvidence, check_text

    today = today or dt.date.today()
    by = _person(by, "reviewer name")
    notes = check_text(notes.strip(), "review notes", max_len=4000, multiline=True)
    on = _date(on, today, "review")
    path, rel, text, raw, split, doc_id = _open_for_change(ws, name)
    meta = split.plain
    version = scalar_text(split.meta.get("version", ""))
    interval = interval_for(meta, ws.profile)
    next_review = next_review_after(on, interval)
    new = set_fields(text, rel, {"last_reviewed": on, "next_review": next_review})
    summary = notes.splitlines()[0][:120] if notes else ""
    new = add_history_row(new, [version, on.isoformat(), by, "Reviewed; no change" + (f" ({summary})" if summary else "")])
    body = {"kind": "policy-review", "policy": doc_id, "title": meta.get("title"), "version": version, "reviewed_by": by,
            "reviewed_on": on.isoformat(), "outcome": "no change", "notes": notes, "review_interval": interval,
            "next_review": next_review.isoformat(), "document_sha256": sha256_bytes(raw)}
    data = (json.dumps(body, indent=1, ensure_ascii=False) + "\n").encode()
    written = _as_written(new, raw)

    def record() -> dict[str, Any]:
        with _store(ws, store) as st:
            rec = st.add(NewEvidence(controls=_controls(st), data=data, name=f"review-{doc_id}-v{version}-{on.isoformat()}.json",
                                     description=f"{meta.get('title') or doc_id} version {version} reviewed by {by} on {on.isoformat()}: no change",
                                     period=(on, on), source_kind=SOURCE_KIND, source_id=doc_id, source_version=version))
            payload = {"policy": doc_id, "path": rel, "version": version, "reviewed_by": by, "reviewed_on": on.isoformat(),
                       "next_review": next_review.isoformat(), "evidence_id": rec.id, "sha256": sha256_bytes(written)}
            entry = st.record("policy.reviewed", payload)
        return payload | {"audit_entry": entry.seq, "review_interval": interval, "notes": notes, "controls": list(rec.controls)}

    return _write_then_record(path, raw, written, record)


def policy_history(ws: Workspace, name: str, *, store=None) -> list[dict[str, Any]]:
    """Approvals, reviews, merged updates and acknowledgements of one policy, oldest first, from the audit log."""
    from soc2kit.evidence import audit

    path = policy_path(ws, name)
    try:
        doc_id = str(split_document(path.read_text(encoding="utf-8"), path).plain.get("id") or path.stem)
    except (UserError, UnicodeDecodeError):
        doc_id = path.stem
    ids = {doc_id, path.stem}
    events: list[dict[str, Any]] = []
    with _store(ws, store) as st, st.engine.connect() as conn:
        for entry in audit.iter_entries(conn):
            data = entry.data
            action, payload = data.get("action"), data.get("payload") or {}
            if action in HISTORY_ACTIONS and payload.get("policy") in ids:
                event = HISTORY_ACTIONS[action]
            elif action == "evidence.added" and (payload.get("source") or {}).get("kind") == "acknowledgement" and payload["source"].get("id") in ids:
                event = "acknowledged"
            else:
                continue
            events.append({"seq": entry.seq, "at": data.get("ts"), "actor": data.get("actor"), "event": event, "details": payload})
        conn.rollback()
    return events


def describe(event: dict[str, Any]) -> str:
    """One line for a history event."""
    d = event["details"]
    kind = event["event"]
    if kind == "approved":
        return f"version {d.get('version')} approved by {d.get('approved_by')} on {d.get('approved_on')} (was {d.get('previous_version')}; next review {d.get('next_review')})"
    if kind == "reviewed":
        return f"version {d.get('version')} reviewed by {d.get('reviewed_by')} on {d.get('reviewed_on')}: no change (next review {d.get('next_review')})"
    if kind == "updated":
        extra = f", {d.get('conflicts')} conflict(s) to resolve" if d.get("conflicts") else ""
        return f"soc2kit {d.get('kit_version')} update: {d.get('outcome')}{extra}" + (" (profile changed)" if d.get("profile_changed") else "")
    return f"acknowledged: {d.get('description')}"
