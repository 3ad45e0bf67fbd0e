"""The evidence store: content-addressed files plus metadata and the audit log in one database.

Files live under ``evidence/sha256/ab/cdef…`` named by their SHA-256, so identical content is
stored once and a file's name proves its content. A file is created with ``O_TMPFILE`` and linked
into place when complete (or, where the platform lacks it, written to a temporary name, fsync-ed
and renamed), so a crash never leaves a partial file under a content name. The database rows and
the audit entry for an addition are written in one transaction: both or neither.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import getpass
import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from soc2kit import __version__
from soc2kit.errors import Location, UserError
from soc2kit.evidence import audit
from soc2kit.evidence.db import make_engine, migrate, resolve_url, writer
from soc2kit.evidence.schema import evidence, evidence_blob, evidence_control

EVIDENCE_DIR = "evidence"
SOURCE_KINDS = ("upload", "check", "collector", "acknowledgement", "review", "assessment")
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def actor_name() -> str:
    env = os.environ.get("SOC2KIT_ACTOR")
    if env:
        return env[:200]
    try:
        return getpass.getuser()[:200]
    except (KeyError, OSError):
        return "unknown"


def check_text(value: str, what: str, *, max_len: int, multiline: bool = False) -> str:
    """Reject text that is not valid UTF-8 (surrogate-escaped bytes), too long, or has control characters."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UserError(f"the {what} is not valid UTF-8 text", hint="pass plain UTF-8 text") from None
    allowed = "\n\t" if multiline else ""
    if any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value):
        raise UserError(f"the {what} contains control characters", hint="remove them")
    if len(value) > max_len:
        raise UserError(f"the {what} is {len(value)} characters long; the limit is {max_len}")
    return value


def check_name(name: str) -> str:
    check_text(name, "evidence file name", max_len=255)
    if not name or name in (".", "..") or _BAD_NAME.search(name) or name.startswith("..") or ".." in name.split(os.sep):
        raise UserError(f"the evidence file name {name!r} is not a plain file name", hint="use a name without path separators or '..', e.g. access-review-2027-Q1.xlsx")
    return name


def parse_period(value: str | None) -> tuple[dt.date | None, dt.date | None]:
    if not value:
        return None, None
    m = re.fullmatch(r"\s*(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})\s*", value)
    if not m:
        raise UserError(f"the period {value!r} is not START..END", hint="write it as 2027-01-01..2027-03-31")
    try:
        start, end = dt.date.fromisoformat(m.group(1)), dt.date.fromisoformat(m.group(2))
    except ValueError as exc:
        raise UserError(f"the period {value!r} has an invalid date: {exc}") from None
    if end < start:
        raise UserError(f"the period {value!r} ends before it starts")
    return start, end


@dataclass(frozen=True)
class EvidenceRecord:
    id: int
    sha256: str
    size: int
    name: str
    description: str
    collected_at: dt.datetime
    period_start: dt.date | None
    period_end: dt.date | None
    source_kind: str
    source_id: str
    source_version: str
    added_by: str
    audit_seq: int
    controls: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "sha256": self.sha256, "size": self.size, "name": self.name, "description": self.description,
            "controls": list(self.controls), "collected_at": audit.iso(self.collected_at),
            "period": {"start": self.period_start.isoformat() if self.period_start else None, "end": self.period_end.isoformat() if self.period_end else None},
            "source": {"kind": self.source_kind, "id": self.source_id, "version": self.source_version},
            "added_by": self.added_by, "audit_entry": self.audit_seq,
        }


@dataclass
class NewEvidence:
    """One item to add: bytes or a path, with its metadata."""

    controls: Sequence[str]
    path: Path | None = None
    data: bytes | None = None
    name: str | None = None
    description: str = ""
    period: tuple[dt.date | None, dt.date | None] = (None, None)
    collected_at: dt.datetime | None = None
    source_kind: str = "upload"
    source_id: str = ""
    source_version: str = ""


@dataclass
class FileProblem:
    kind: str  # missing | altered | orphan
    sha256: str
    path: str
    evidence_ids: list[int] = field(default_factory=list)


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class EvidenceStore:
    def __init__(self, root: Path, engine: Engine, *, max_bytes: int, known_controls: Iterable[str] | None = None):
        self.root = root
        self.engine = engine
        self.max_bytes = max_bytes
        self.known_controls = set(known_controls) if known_controls is not None else None

    # --- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, workspace, *, url: str | None = None) -> EvidenceStore:
        from soc2kit.library import load_catalog

        engine = make_engine(url or resolve_url(workspace.root, workspace.profile.database_url))
        migrate(engine)
        return cls(workspace.root, engine, max_bytes=workspace.profile.evidence.max_file_mb * 1024 * 1024, known_controls=load_catalog().controls)

    @classmethod
    def at(cls, root: Path, url: str, *, max_bytes: int = 100 * 1024 * 1024, known_controls: Iterable[str] | None = None) -> EvidenceStore:
        engine = make_engine(url)
        migrate(engine)
        return cls(root, engine, max_bytes=max_bytes, known_controls=known_controls)

    def close(self) -> None:
        self.engine.dispose()

    # --- files ---------------------------------------------------------------------------
    def blob_path(self, sha: str) -> Path:
        return self.root / EVIDENCE_DIR / "sha256" / sha[:2] / sha[2:]

    def _incoming(self) -> Path:
        path = self.root / EVIDENCE_DIR / ".incoming"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @contextlib.contextmanager
    def _writing(self):
        """Held (shared) by every writer while it has temporary files in evidence/.incoming/."""
        fd = os.open(self._incoming() / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    def clean_incoming(self) -> int:
        """Remove temporary files left by writers that died. Only when no writer is active (the
        exclusive lock is free): a live writer's files are never touched."""
        directory = self.root / EVIDENCE_DIR / ".incoming"
        if not directory.is_dir():
            return 0
        fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        removed = 0
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return 0  # writers at work; a later run cleans up
            for path in directory.iterdir():
                if path.name != ".lock":
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                        removed += 1
        finally:
            os.close(fd)
        return removed

    def _store_bytes(self, data: bytes) -> str:
        """Write content under its SHA-256 name: a locked temporary file in evidence/.incoming/,
        fsync-ed, then renamed into place. A writer killed midway leaves only its temporary file,
        which ``clean_incoming`` removes once the writer's lock is gone."""
        sha = hashlib.sha256(data).hexdigest()
        target = self.blob_path(sha)
        if target.exists():
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        with self._writing():
            fd, tmp = tempfile.mkstemp(prefix="blob-", dir=self._incoming())
            try:
                with os.fdopen(fd, "wb", closefd=False) as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(tmp, 0o444)
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
            finally:
                os.close(fd)
        self._fsync_dir(target.parent)
        return sha

    def _store_batch(self, datas: Sequence[bytes]) -> list[str]:
        """Store many files with two filesystem syncs in all instead of two per file: write every
        temporary file, sync, rename each into place, sync again; only then are rows committed."""
        if len(datas) < 4:
            return [self._store_bytes(d) for d in datas]
        shas = [hashlib.sha256(d).hexdigest() for d in datas]
        incoming = self._incoming()
        with self._writing():
            return self._store_batch_locked(datas, shas, incoming)

    def _store_batch_locked(self, datas: Sequence[bytes], shas: list[str], incoming: Path) -> list[str]:
        pending: list[tuple[int, str, Path]] = []
        seen: set[str] = set()
        try:
            for data, sha in zip(datas, shas, strict=True):
                target = self.blob_path(sha)
                if sha in seen or target.exists():
                    continue
                seen.add(sha)
                fd, tmp = tempfile.mkstemp(prefix="blob-", dir=incoming)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fchmod(fd, 0o444)
                pending.append((fd, tmp, target))
            os.sync()
            for _fd, tmp, target in pending:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
            os.sync()
        finally:
            for fd, tmp, _target in pending:
                os.close(fd)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        return shas

    @staticmethod
    def _fsync_dir(path: Path) -> None:
        try:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            pass

    def _read_input(self, item: NewEvidence) -> tuple[bytes, str]:
        if item.data is not None:
            data = item.data
            name = item.name or "evidence"
        else:
            path = item.path
            if path is None:
                raise UserError("no evidence file given")
            if not path.exists():
                raise UserError("evidence file not found", location=Location(path), hint="check the path")
            if path.is_dir():
                raise UserError("evidence must be a file, not a directory", location=Location(path), hint="add the files inside it, or zip the directory first")
            if not path.is_file():
                raise UserError("evidence must be a regular file", location=Location(path))
            size = path.stat().st_size
            if size > self.max_bytes:
                raise UserError(f"evidence file is {size} bytes; the limit is {self.max_bytes} bytes", location=Location(path), hint="raise evidence.max_file_mb in soc2kit.yaml, or split the file")
            data = path.read_bytes()
            name = item.name or path.name
        if len(data) > self.max_bytes:
            raise UserError(f"evidence is {len(data)} bytes; the limit is {self.max_bytes} bytes", hint="raise evidence.max_file_mb in soc2kit.yaml")
        return data, check_name(name)

    def _check_controls(self, controls: Sequence[str]) -> list[str]:
        if not controls:
            raise UserError("evidence must support at least one control", hint="pass --control ID (e.g. --control AC-05)")
        out = []
        for c in controls:
            cid = c.strip().upper()
            if self.known_controls is not None and cid not in self.known_controls:
                from soc2kit.profile.load import suggest

                guess = suggest(cid, sorted(self.known_controls))
                raise UserError(f"unknown control {c!r}" + (f" (did you mean {guess}?)" if guess else ""), hint="list controls with `soc2kit controls`")
            if cid not in out:
                out.append(cid)
        return out

    # --- writing -------------------------------------------------------------------------
    def add(self, item: NewEvidence, *, actor: str | None = None) -> EvidenceRecord:
        return self.add_many([item], actor=actor)[0]

    def add_many(self, items: Sequence[NewEvidence], *, actor: str | None = None) -> list[EvidenceRecord]:
        """Validate everything first, then store files, then write all rows and audit entries in one
        transaction (nothing is recorded if anything fails)."""
        actor = check_text(actor or actor_name(), "actor name", max_len=200)
        prepared = []
        for item in items:
            controls = self._check_controls(item.controls)
            description = check_text(item.description or "", "description", max_len=4000, multiline=True)
            if item.source_kind not in SOURCE_KINDS:
                raise UserError(f"unknown evidence source {item.source_kind!r}", hint=f"one of {', '.join(SOURCE_KINDS)}")
            check_text(item.source_id, "source id", max_len=120)
            check_text(item.source_version, "source version", max_len=60)
            data, name = self._read_input(item)
            start, end = item.period
            if (start is None) != (end is None) or (start and end and end < start):
                raise UserError("the evidence period needs a start and an end, in order")
            prepared.append((item, controls, description, data, name))
        self.clean_incoming()
        shas = self._store_batch([data for _, _, _, data, _ in prepared])
        stored = [(item, controls, description, name, sha, len(data)) for (item, controls, description, data, name), sha in zip(prepared, shas, strict=True)]
        now = audit.utc_now()
        records = []
        with writer(self.engine).begin() as conn:
            audit.lock_chain(conn)
            next_id = (conn.execute(select(func.max(evidence.c.id))).scalar() or 0) + 1
            wanted = sorted({sha for *_, sha, _size in stored})
            existing: set[str] = set()
            for k in range(0, len(wanted), 500):
                existing.update(conn.execute(select(evidence_blob.c.sha256).where(evidence_blob.c.sha256.in_(wanted[k:k + 500]))).scalars())
            blob_rows, entry_items, ev_rows, link_rows = [], [], [], []
            for item, controls, description, name, sha, size in stored:
                if sha not in existing:
                    existing.add(sha)
                    blob_rows.append({"sha256": sha, "size": size, "created_at": now})
                collected = _as_utc(item.collected_at) if item.collected_at else now
                start, end = item.period
                version = item.source_version or (__version__ if item.source_kind != "upload" else "")
                payload = {
                    "evidence_id": next_id, "sha256": sha, "size": size, "name": name, "description": description,
                    "controls": controls, "collected_at": audit.iso(collected),
                    "period": {"start": start.isoformat() if start else None, "end": end.isoformat() if end else None},
                    "source": {"kind": item.source_kind, "id": item.source_id, "version": version},
                    "added_by": actor,
                }
                entry_items.append(("evidence.added", payload, actor))
                ev_rows.append({"id": next_id, "sha256": sha, "name": name, "description": description, "collected_at": collected,
                                "period_start": start, "period_end": end, "source_kind": item.source_kind, "source_id": item.source_id,
                                "source_version": version, "added_by": actor})
                link_rows.extend({"evidence_id": next_id, "control_id": c} for c in controls)
                records.append((next_id, sha, size, name, description, collected, start, end, item.source_kind, item.source_id, version, actor, tuple(controls)))
                next_id += 1
            if blob_rows:
                conn.execute(evidence_blob.insert(), blob_rows)
            entries = audit.append_many(conn, entry_items, now=now)
            for row, entry in zip(ev_rows, entries, strict=True):
                row["audit_seq"] = entry.seq
            conn.execute(evidence.insert(), ev_rows)
            conn.execute(evidence_control.insert(), link_rows)
        records = [EvidenceRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], e.seq, r[12]) for r, e in zip(records, entries, strict=True)]
        return records

    def record(self, action: str, payload: dict[str, Any], *, actor: str | None = None) -> audit.Entry:
        """Append an audit entry for any other write (status change, approval, sample drawn, check run)."""
        with writer(self.engine).begin() as conn:
            return audit.append(conn, action, payload, check_text(actor or actor_name(), "actor name", max_len=200))

    # --- reading -------------------------------------------------------------------------
    def list(self, *, control: str | None = None, since: dt.date | None = None, until: dt.date | None = None) -> list[EvidenceRecord]:
        query = select(evidence, evidence_blob.c.size).join(evidence_blob, evidence_blob.c.sha256 == evidence.c.sha256).order_by(evidence.c.id)
        if control:
            query = query.where(evidence.c.id.in_(select(evidence_control.c.evidence_id).where(evidence_control.c.control_id == control.upper())))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            links: dict[int, list[str]] = {}
            for eid, cid in conn.execute(select(evidence_control.c.evidence_id, evidence_control.c.control_id).order_by(evidence_control.c.evidence_id, evidence_control.c.control_id)):
                links.setdefault(eid, []).append(cid)
            conn.rollback()
        out = []
        for r in rows:
            m = r._mapping
            out.append(EvidenceRecord(m["id"], m["sha256"], m["size"], m["name"], m["description"], _as_utc(m["collected_at"]), m["period_start"], m["period_end"],
                                      m["source_kind"], m["source_id"], m["source_version"], m["added_by"], m["audit_seq"], tuple(links.get(m["id"], ()))))
        return out

    def get(self, evidence_id: int) -> EvidenceRecord:
        for rec in self.list():
            if rec.id == evidence_id:
                return rec
        raise UserError(f"no evidence with id {evidence_id}", hint="list evidence with `soc2kit evidence list`")

    # --- verification --------------------------------------------------------------------
    def verify_records(self) -> list[str]:
        """Each evidence record must equal what its audit entry recorded (metadata tampering)."""
        from soc2kit.evidence.schema import audit_log

        problems = []
        bodies: dict[int, dict[str, Any]] = {}
        records = self.list()
        wanted = [r.audit_seq for r in records]
        with self.engine.connect() as conn:
            for k in range(0, len(wanted), 500):
                for seq, body in conn.execute(select(audit_log.c.seq, audit_log.c.body).where(audit_log.c.seq.in_(wanted[k:k + 500]))):
                    data = audit.json.loads(bytes(body))
                    if data.get("action") == "evidence.added":
                        bodies[seq] = data.get("payload", {})
            conn.rollback()
        for rec in records:
            p = bodies.get(rec.audit_seq)
            if p is None:
                problems.append(f"evidence {rec.id}: its audit entry {rec.audit_seq} is missing")
                continue
            expected = {
                "evidence_id": rec.id, "sha256": rec.sha256, "name": rec.name, "description": rec.description, "controls": sorted(rec.controls),
                "collected_at": audit.iso(rec.collected_at), "period": {"start": rec.period_start.isoformat() if rec.period_start else None, "end": rec.period_end.isoformat() if rec.period_end else None},
                "added_by": rec.added_by,
            }
            recorded = {k: (sorted(p.get(k, [])) if k == "controls" else p.get(k)) for k in expected}
            if recorded != expected:
                fields = sorted(k for k in expected if recorded[k] != expected[k])
                problems.append(f"evidence {rec.id}: {', '.join(fields)} differ from what audit entry {rec.audit_seq} recorded (the record was altered)")
        return problems

    def verify_files(self) -> tuple[int, list[FileProblem]]:
        """Re-hash every stored file; report missing and altered files, and files no record uses."""
        problems: list[FileProblem] = []
        with self.engine.connect() as conn:
            blobs = {sha: size for sha, size in conn.execute(select(evidence_blob.c.sha256, evidence_blob.c.size))}
            users: dict[str, list[int]] = {}
            for eid, sha in conn.execute(select(evidence.c.id, evidence.c.sha256)):
                users.setdefault(sha, []).append(eid)
            conn.rollback()
        for sha in sorted(blobs):
            path = self.blob_path(sha)
            rel = str(path.relative_to(self.root))
            if not path.is_file():
                problems.append(FileProblem("missing", sha, rel, users.get(sha, [])))
                continue
            h = hashlib.sha256()
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            if h.hexdigest() != sha:
                problems.append(FileProblem("altered", sha, rel, users.get(sha, [])))
        base = self.root / EVIDENCE_DIR / "sha256"
        if base.is_dir():
            for path in sorted(base.glob("*/*")):
                sha = path.parent.name + path.name
                if sha not in blobs:
                    problems.append(FileProblem("orphan", sha, str(path.relative_to(self.root))))
        return len(blobs), problems
