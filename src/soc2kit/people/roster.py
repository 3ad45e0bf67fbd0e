"""Reading a roster (HR export) and training completions (learning-platform export) as the tools
write them, into neutral records. Files are read with :func:`soc2kit.checks.access.read_table`
(CSV with any of the usual delimiters, UTF-8 with or without BOM, or .xlsx) and dates with
:func:`soc2kit.checks.access.parse_date`, so both checks agree on what a cell means.

HR sources: ``bamboohr`` (API field names or UI report labels), ``rippling`` (report builder),
``neutral_people`` (``email,name,start_date,end_date,background_check_date,access_removed_at``).
Training sources: ``knowbe4`` (training enrollments, API field names flattened: ``user.email``,
``module_name``, ``completion_date``, ``status``), ``talentlms`` (user-course records with
``completed_on_timestamp`` in Unix seconds), ``neutral_training`` (``email,course,completed_at,status``).
Anything else: a column mapping file (``--mapping``), see docs/people.md.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, StrictStr, field_validator

from soc2kit.checks.access import Source, Table, norm_key, parse_date, read_table
from soc2kit.errors import Location, UserError
from soc2kit.vendors.register import _Model
from soc2kit.vendors.yamlmodel import load_document, validate

HR_FIELDS = ("email", "name", "first_name", "last_name", "status", "start_date", "end_date", "background_check_date", "access_removed_at")
TRAINING_FIELDS = ("email", "course", "completed_at", "status", "due_date")

_BG = ("backgroundcheckdate", "backgroundcheckcompleted", "backgroundcheckcompletiondate", "backgroundcheck")
HR_SOURCES: list[Source] = [
    Source("bamboohr", "hr", frozenset({"workemail", "hiredate"}),
           {"email": ("workemail",), "name": ("displayname",), "first_name": ("firstname",), "last_name": ("lastname",),
            "status": ("status", "employmentstatus"), "start_date": ("hiredate",), "end_date": ("terminationdate",), "background_check_date": _BG,
            "access_removed_at": ("accessremovedat", "accessremoved")},
           ("%Y-%m-%d", "%d %b %Y"), {"0000-00-00": "not_applicable"}),
    Source("rippling", "hr", frozenset({"workemail", "employmentstatus", "startdate"}),
           {"email": ("workemail",), "name": ("employeename",), "first_name": ("legalfirstname",), "last_name": ("legallastname",),
            "status": ("employmentstatus", "rolestate"), "start_date": ("startdate",), "end_date": ("terminationdate", "enddate"), "background_check_date": _BG,
            "access_removed_at": ("accessremovedat", "accessremoved")},
           ("%Y-%m-%d", "%m/%d/%Y")),
    Source("neutral_people", "hr", frozenset({"email", "startdate"}),
           {"email": ("email",), "name": ("name",), "status": ("status",), "start_date": ("startdate",), "end_date": ("enddate",),
            "background_check_date": ("backgroundcheckdate",), "access_removed_at": ("accessremovedat",)},
           ("iso",)),
]
TRAINING_SOURCES: list[Source] = [
    Source("knowbe4", "training", frozenset({"modulename", "completiondate", "status"}),
           {"email": ("useremail", "email"), "course": ("modulename",), "completed_at": ("completiondate",), "status": ("status",), "due_date": ("extendedduedate", "duedate")},
           ("iso", "%Y-%m-%d", "%m/%d/%Y"), {"null": "never"}),
    Source("talentlms", "training", frozenset({"completionstatus", "completedontimestamp"}),
           {"email": ("email", "useremail", "login"), "course": ("coursename", "name"), "completed_at": ("completedontimestamp",), "status": ("completionstatus",)},
           ("unix",)),
    Source("neutral_training", "training", frozenset({"email", "course", "completedat"}),
           {"email": ("email",), "course": ("course",), "completed_at": ("completedat",), "status": ("status",), "due_date": ("duedate",)},
           ("iso",)),
]
NEUTRAL_HR = "email,name,start_date,end_date,background_check_date,access_removed_at"
NEUTRAL_TRAINING = "email,course,completed_at,status"

#: Canonical training status from the words the platforms use (export-formats.md section 4.3).
_COMPLETED = {"passed", "completed", "complete", "done", "finished"}
_TRAINING_STATUS = {"inprogress": "in_progress", "incomplete": "in_progress", "started": "in_progress", "notstarted": "not_started",
                    "notattempted": "not_started", "pastdue": "overdue", "overdue": "overdue", "exemption": "exempt", "equivalency": "exempt",
                    "notapplicable": "exempt", "failed": "not_completed"}


@functools.lru_cache(maxsize=256)
def training_status(raw: str | None) -> str:
    key = norm_key(raw or "")
    if not key:
        return "completed"  # no status column or blank: the completion date decides
    if key in _COMPLETED:
        return "completed"
    if key.startswith("canceled") or key.startswith("cancelled"):
        return "not_completed"
    return _TRAINING_STATUS.get(key, "unknown")


class _Columns(_Model):
    name: StrictStr = Field(default="", max_length=100)
    columns: dict[str, StrictStr]
    date_formats: list[StrictStr] = Field(default_factory=lambda: ["iso"])


class Mapping(_Model):
    """The ``--mapping`` file: how to read an HR or training export the kit does not know, and
    which course names count as which training."""

    hr: _Columns | None = None
    training: _Columns | None = None
    courses: dict[str, StrictStr] = Field(default_factory=dict)

    @field_validator("courses")
    @classmethod
    def _patterns(cls, value: dict[str, str]) -> dict[str, str]:
        for k, v in value.items():
            if k not in ("security_awareness", "ai_literacy"):
                raise ValueError(f"unknown course kind {k!r}; use security_awareness or ai_literacy")
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"courses.{k} is not a valid regular expression: {exc}") from None
        return value


def load_mapping(path: Path) -> Mapping:
    document = load_document(path, what="column mapping")
    m: Mapping = validate(Mapping, document, source=path, what="column mapping")
    for side, fields, section in (("hr", HR_FIELDS, m.hr), ("training", TRAINING_FIELDS, m.training)):
        if section is None:
            continue
        unknown = sorted(set(section.columns) - set(fields))
        if unknown:
            raise UserError(f"unknown field(s) {', '.join(unknown)} in {side}.columns", location=Location(path), hint=f"fields: {', '.join(fields)}")
        needed = ("email", "start_date") if side == "hr" else ("email", "course", "completed_at")
        missing = [f for f in needed if f not in section.columns]
        if missing:
            raise UserError(f"{side}.columns must name the column(s) for {', '.join(missing)}", location=Location(path))
    return m


def _mapped_source(section: _Columns, side: str) -> Source:
    cols = {k: norm_key(v) for k, v in section.columns.items()}
    return Source(section.name or f"mapped_{side}", side, frozenset(cols.values()), {k: (v,) for k, v in cols.items()}, tuple(section.date_formats))


def detect(table: Table, side: str, mapping: Mapping | None = None) -> Source:
    section = getattr(mapping, side, None) if mapping is not None else None
    keys = {norm_key(h) for h in table.headers}
    if section is not None:
        src = _mapped_source(section, side)
        missing = sorted(h for h in section.columns.values() if norm_key(h) not in keys)
        if missing:
            raise UserError(f"the export lacks the column(s) the mapping names ({', '.join(missing)}); columns found: {', '.join(table.headers)}", location=Location(table.path, 1))
        return src
    sources = HR_SOURCES if side == "hr" else TRAINING_SOURCES
    matches = sorted((s for s in sources if s.fingerprint <= keys), key=lambda s: len(s.fingerprint), reverse=True)
    if not matches:
        neutral = NEUTRAL_HR if side == "hr" else NEUTRAL_TRAINING
        raise UserError(f"unknown {'HR' if side == 'hr' else 'training'} export, or a column is missing: columns found: {', '.join(table.headers)}",
                        location=Location(table.path, 1), hint=f"known sources: {', '.join(s.name for s in sources)}; or the neutral CSV ({neutral}); or --mapping FILE")
    return matches[0]


def _get(row: dict[str, str], src: Source, fld: str) -> str | None:
    found = None
    for k in src.fields.get(fld, ()):
        if k in row:
            if row[k]:
                return row[k]
            found = ""
    return found


def _date(value: str | None, src: Source, where: Location, column: str) -> dt.datetime | None:
    v = (value or "").strip()
    if "unix" in src.date_formats and re.fullmatch(r"\d{9,11}", v):
        return dt.datetime.fromtimestamp(int(v), dt.UTC).replace(tzinfo=None)
    if re.match(r"\d{4}-\d{2}-\d{2}", v):
        # ISO 8601 (year first, never ambiguous) from every source: .xlsx date cells arrive in this form.
        # A time with an offset keeps the date and time written in the export, to compare with the
        # HR system's dates, which carry no zone.
        try:
            return dt.datetime.fromisoformat(v.replace("Z", "+00:00")).replace(tzinfo=None)
        except ValueError:
            pass  # sentinels such as 0000-00-00, or a malformed date: parse_date decides
    if "unix" in src.date_formats:
        src = Source(src.name, src.side, src.fingerprint, src.fields, tuple(f for f in src.date_formats if f != "unix") + ("iso",), src.sentinels, src.zone)
    d, _ = parse_date(value, src, where, column)
    return d


@dataclass
class Person:
    email: str
    name: str
    start: dt.date
    end: dt.date | None
    background_check: dt.date | None
    access_removed: dt.datetime | None
    raw_status: str
    line: int


@dataclass
class Roster:
    path: Path
    source: str
    people: list[Person]
    has_background: bool
    has_access_removed: bool
    columns: dict[str, str | None]


def read_roster(path: Path | str, mapping: Mapping | None = None) -> Roster:
    table = read_table(path)
    src = detect(table, "hr", mapping)
    by_key = {norm_key(h): h for h in table.headers}
    columns = {f: next((by_key[k] for k in src.fields.get(f, ()) if k in by_key), None) for f in HR_FIELDS}
    if columns["start_date"] is None:
        raise UserError(f"the HR export has no start date column; columns found: {', '.join(table.headers)}", location=Location(table.path, 1),
                        hint="add the hire or start date to the report, or name its column in --mapping")
    people: list[Person] = []
    seen: dict[str, int] = {}
    for line, row in table.rows:
        where = Location(table.path, line)
        email = (_get(row, src, "email") or "").strip().lower()
        if not email:
            raise UserError("row has no e-mail address (people are matched by work e-mail)", location=where, hint="fill it in or remove the row")
        if email in seen:
            raise UserError(f"duplicate person {email} (also on line {seen[email]})", location=where, hint="keep one row per person; for a rehire keep the current employment")
        seen[email] = line
        start = _date(_get(row, src, "start_date"), src, where, columns["start_date"] or "start date")
        if start is None:
            raise UserError(f"no start date for {email}", location=where, hint="every person needs a start (hire) date")
        end = _date(_get(row, src, "end_date"), src, where, columns["end_date"] or "end date")
        if end is not None and end.date() < start.date():
            raise UserError(f"dates out of order for {email}: end date {end.date()} is before start date {start.date()}", location=where)
        bg = _date(_get(row, src, "background_check_date"), src, where, columns["background_check_date"] or "background check")
        removed = _date(_get(row, src, "access_removed_at"), src, where, columns["access_removed_at"] or "access removed")
        if removed is not None and end is None:
            raise UserError(f"access removal recorded for {email}, who has no end date", location=where)
        name = _get(row, src, "name") or " ".join(x for x in (_get(row, src, "first_name"), _get(row, src, "last_name")) if x) or email
        people.append(Person(email, name, start.date(), end.date() if end else None, bg.date() if bg else None, removed, _get(row, src, "status") or "", line))
    return Roster(table.path, src.name, people, columns["background_check_date"] is not None, columns["access_removed_at"] is not None, columns)


@dataclass
class Completion:
    email: str
    course: str
    completed_at: dt.date
    file: str
    line: int


@dataclass
class Training:
    files: list[dict[str, Any]] = field(default_factory=list)
    completions: list[Completion] = field(default_factory=list)
    not_completed: int = 0


def read_training(paths: list[Path], mapping: Mapping | None = None) -> Training:
    out = Training()
    for path in paths:
        table = read_table(path)
        src = detect(table, "training", mapping)
        count = 0
        for line, row in table.rows:
            where = Location(table.path, line)
            email = (_get(row, src, "email") or "").strip().lower()
            course = (_get(row, src, "course") or "").strip()
            if not email or not course:
                raise UserError("training row without e-mail or course", location=where, hint="every completion names the person's work e-mail and the course")
            when = _date(_get(row, src, "completed_at"), src, where, "completion date")
            if when is None or training_status(_get(row, src, "status")) != "completed":
                out.not_completed += 1
                continue  # only a completed row with a date is evidence of completion
            out.completions.append(Completion(email, course, when.date(), table.path.name, line))
            count += 1
        out.files.append({"file": table.path.name, "source": src.name, "rows": len(table.rows), "completions": count, "warnings": table.warnings})
    return out
