"""The company's assessment of its controls: status, owner, target date, justification, notes,
with the full history of every change (``assessment.yaml`` in the workspace, written atomically).

Statuses: ``implemented``, ``partial``, ``planned``, ``not_started``, ``not_applicable`` (which
needs a justification). A control never assessed counts as ``not_started``: every control starts
unmet. Each change appends a history record (time, author, the values) and, when the workspace
has an evidence store, an ``assessment.changed`` entry in the audit log.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from soc2kit._fs import atomic_write_text
from soc2kit._yaml import line_of, load_yaml, to_plain
from soc2kit.errors import Location, UserError

ASSESSMENT_FILE = "assessment.yaml"
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FAST_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
STATUSES = ("implemented", "partial", "planned", "not_started", "not_applicable")
CSV_COLUMNS = ["control_id", "status", "owner", "target_date", "justification", "notes"]
FIELDS = ("status", "owner", "target_date", "justification", "notes")


@dataclass
class ControlStatus:
    status: str = "not_started"
    owner: str = ""
    target_date: dt.date | None = None
    justification: str = ""
    notes: str = ""
    history: list[dict[str, Any]] = field(default_factory=list)

    def values(self) -> dict[str, Any]:
        return {"status": self.status, "owner": self.owner, "target_date": self.target_date, "justification": self.justification, "notes": self.notes}


class AssessmentError(UserError):
    """One or more problems in an assessment file; nothing was changed."""

    def __init__(self, problems: list[tuple[Location, str]], hint: str | None = None):
        self.problems = problems
        lines = "\n  ".join(f"{loc}: {msg}" for loc, msg in problems)
        super().__init__(f"the assessment input has {len(problems)} problem(s); nothing was changed:\n  {lines}", hint=hint)

    def render(self) -> str:
        return self.message + (f"\n  hint: {self.hint}" if self.hint else "")


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip())


def validate_values(control_id: str, values: dict[str, Any], known: set[str] | None) -> list[str]:
    """Problems with one control's values (empty when valid)."""
    problems = []
    if known is not None and control_id not in known:
        problems.append(f"unknown or not applicable control {control_id!r}")
    status = values.get("status")
    if status not in STATUSES:
        problems.append(f"status {status!r} is not one of {', '.join(STATUSES)}")
    if status == "not_applicable" and not str(values.get("justification") or "").strip():
        problems.append("not_applicable needs a justification (why the control does not apply)")
    for key in ("owner", "justification", "notes"):
        v = values.get(key) or ""
        if not isinstance(v, str):
            problems.append(f"{key} must be text")
        elif len(v) > 2000:
            problems.append(f"{key} is longer than 2000 characters")
        elif any(ord(ch) < 32 and ch not in "\n\t" for ch in v):
            problems.append(f"{key} contains control characters")
        else:
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                problems.append(f"{key} is not valid UTF-8 text")
    return problems


class Assessment:
    def __init__(self, path: Path, controls: dict[str, ControlStatus]):
        self.path = path
        self.controls = controls

    # --- file ------------------------------------------------------------------------------
    @classmethod
    def load(cls, root: Path) -> Assessment:
        path = root / ASSESSMENT_FILE
        if not path.exists():
            return cls(path, {})
        try:  # fast path (libyaml); the line-keeping parser runs only when something is wrong
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_FAST_LOADER) or {}
            result = cls._from_data(path, data, None)
            if result is not None:
                return result
        except (yaml.YAMLError, UnicodeDecodeError, AssessmentError):
            pass
        doc = load_yaml(path, what="assessment file")
        data = to_plain(doc) or {}
        result = cls._from_data(path, data, doc)
        assert result is not None
        return result

    @classmethod
    def _from_data(cls, path: Path, data: Any, doc: Any) -> Assessment | None:
        """Build from parsed data; with ``doc`` None (fast path) any problem returns None so the
        caller re-parses with line numbers."""
        problems: list[tuple[Location, str]] = []
        if not isinstance(data, dict) or not isinstance(data.get("controls", {}), dict):
            if doc is None:
                return None
            raise AssessmentError([(Location(path, 1), "expected a mapping with a 'controls' mapping")])
        controls: dict[str, ControlStatus] = {}
        for cid, raw in (data.get("controls") or {}).items():
            line, _ = line_of(doc, ("controls", cid)) if doc is not None else (None, None)
            if not isinstance(raw, dict):
                problems.append((Location(path, line, key=f"controls.{cid}"), "expected a mapping of status, owner, target_date, justification, notes, history"))
                continue
            unknown = set(raw) - set(FIELDS) - {"history"}
            if unknown:
                problems.append((Location(path, line, key=f"controls.{cid}"), f"unknown keys: {', '.join(sorted(unknown))}"))
            try:
                target = _date(raw.get("target_date"))
            except ValueError:
                problems.append((Location(path, line, key=f"controls.{cid}.target_date"), f"target_date {raw.get('target_date')!r} is not a date (YYYY-MM-DD)"))
                target = None
            values = {k: raw.get(k, "") or "" for k in ("owner", "justification", "notes")} | {"status": raw.get("status", "not_started")}
            for msg in validate_values(str(cid), values, None):
                problems.append((Location(path, line, key=f"controls.{cid}"), msg))
            history = raw.get("history") or []
            controls[str(cid)] = ControlStatus(values["status"], values["owner"], target, values["justification"], values["notes"], list(history))
        if problems:
            if doc is None:
                return None
            raise AssessmentError(problems, hint="fix assessment.yaml (or restore it from git)")
        return cls(path, controls)

    def save(self) -> None:
        data: dict[str, Any] = {"controls": {}}
        for cid in sorted(self.controls):
            st = self.controls[cid]
            entry = {k: v for k, v in st.values().items()}
            entry["history"] = st.history
            data["controls"][cid] = entry
        header = "# Control assessment: written by `soc2kit assess`; history keeps every change (time, author, values).\n"
        body = yaml.dump(data, Dumper=_FAST_DUMPER, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
        atomic_write_text(self.path, header + body)

    # --- queries ---------------------------------------------------------------------------
    def get(self, control_id: str) -> ControlStatus:
        return self.controls.get(control_id) or ControlStatus()

    # --- changes ---------------------------------------------------------------------------
    def set(self, control_id: str, values: dict[str, Any], *, by: str, at: dt.datetime | None = None) -> bool:
        """Apply values; returns False when nothing changed (no history record then)."""
        current = self.get(control_id)
        new = current.values() | {k: v for k, v in values.items() if k in FIELDS}
        if new["status"] != "not_applicable" and values.get("justification") is None and current.status == "not_applicable":
            new["justification"] = ""
        if new == current.values() and control_id in self.controls:
            return False
        stamp = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        record = {"at": stamp, "by": by} | {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in new.items()}
        history = current.history + [record]
        self.controls[control_id] = ControlStatus(new["status"], new["owner"], new["target_date"], new["justification"], new["notes"], history)
        return True

    # --- CSV -------------------------------------------------------------------------------
    def export_rows(self, control_ids: list[str]) -> list[dict[str, str]]:
        rows = []
        for cid in control_ids:
            st = self.get(cid)
            rows.append({"control_id": cid, "status": st.status, "owner": st.owner, "target_date": st.target_date.isoformat() if st.target_date else "",
                         "justification": st.justification, "notes": st.notes})
        return rows


def export_csv(rows: list[dict[str, str]]) -> str:
    from soc2kit.render.matrix import safe_csv

    return safe_csv(CSV_COLUMNS, rows)


def _unsafe(value: str) -> str:
    return value[1:] if value.startswith("'") and len(value) > 1 and value[1] in "=+-@\t\r" else value


def parse_import(path: Path, known: set[str]) -> dict[str, dict[str, Any]]:
    """Read a CSV (or YAML) assessment; every problem is collected with its line, then raised."""
    if not path.exists():
        raise UserError("import file not found", location=Location(path))
    if path.suffix.lower() in (".yaml", ".yml"):
        return _parse_yaml_import(path, known)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(f"the import file is not UTF-8 (byte {exc.start})", location=Location(path), hint="save it as UTF-8 CSV") from None
    reader = csv.DictReader(io.StringIO(text))
    headers = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in headers]
    extra = [h for h in headers if h not in CSV_COLUMNS]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing columns {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected columns {', '.join(extra)}")
        raise AssessmentError([(Location(path, 1), "; ".join(parts))], hint=f"the header must be: {','.join(CSV_COLUMNS)}")
    problems: list[tuple[Location, str]] = []
    result: dict[str, dict[str, Any]] = {}
    for row in reader:
        line = reader.line_num
        cid = (row.get("control_id") or "").strip().upper()
        values: dict[str, Any] = {k: _unsafe((row.get(k) or "").strip()) for k in ("status", "owner", "justification", "notes")}
        try:
            values["target_date"] = _date(row.get("target_date"))
        except ValueError:
            problems.append((Location(path, line, key="target_date"), f"target_date {row.get('target_date')!r} is not a date (YYYY-MM-DD)"))
            continue
        for msg in validate_values(cid, values, known):
            problems.append((Location(path, line, key=cid or "control_id"), msg))
        if cid in result:
            problems.append((Location(path, line, key=cid), f"control {cid} appears twice"))
        result[cid] = values
    if problems:
        raise AssessmentError(problems)
    return result


def _parse_yaml_import(path: Path, known: set[str]) -> dict[str, dict[str, Any]]:
    tmp = Assessment.load(path.parent) if path.name == ASSESSMENT_FILE else None
    if tmp is None:
        doc = load_yaml(path, what="assessment import")
        data = to_plain(doc) or {}
        if not isinstance(data, dict) or not isinstance(data.get("controls"), dict):
            raise AssessmentError([(Location(path, 1), "expected a mapping with a 'controls' mapping")])
        problems: list[tuple[Location, str]] = []
        result: dict[str, dict[str, Any]] = {}
        for cid, raw in data["controls"].items():
            line, _ = line_of(doc, ("controls", cid))
            raw = raw if isinstance(raw, dict) else {}
            try:
                target = _date(raw.get("target_date"))
            except ValueError:
                problems.append((Location(path, line, key=f"controls.{cid}.target_date"), "target_date is not a date (YYYY-MM-DD)"))
                continue
            values = {"status": raw.get("status", ""), "owner": raw.get("owner", "") or "", "target_date": target,
                      "justification": raw.get("justification", "") or "", "notes": raw.get("notes", "") or ""}
            for msg in validate_values(str(cid).upper(), values, known):
                problems.append((Location(path, line, key=f"controls.{cid}"), msg))
            result[str(cid).upper()] = values
        if problems:
            raise AssessmentError(problems)
        return result
    return {cid: st.values() for cid, st in tmp.controls.items()}
