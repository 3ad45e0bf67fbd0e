"""User access review (control AC-05): an identity-provider export against an HR roster.

Both files are read as the tools write them (see ``/work/shared/reference/export-formats.md``):
CSV (UTF-8 with or without a byte-order mark, ``,`` ``;`` or tab, sniffed from the header line) or
``.xlsx`` when openpyxl is installed. The source is detected from the headers, compared by a
normalised key (lower case, ``[...]`` suffixes and every space or punctuation mark dropped), so
``Email Address [Required]`` and ``Email Address`` are the same column.

Identity providers: ``aws_iam`` (IAM credential report), ``google_workspace`` (Admin console
"Download users"), ``entra_id`` ("Download users"), ``okta`` (Password Health report or a flattened
API export) and ``neutral_idp`` (``account,email,name,status,last_login,privileged,groups``;
``status`` active/enabled or suspended/disabled, ``privileged`` a boolean, ``groups`` separated by
``;`` or ``|``, ``last_login`` ``YYYY-MM-DD`` or ISO 8601).
HR systems: ``bamboohr`` (API field names or the UI report labels), ``rippling`` (report builder)
and ``neutral_hr`` (``email,name,status,termination_date``; status active or terminated/inactive).

Dates are parsed with each source's own formats, in order; day-first and month-first are never
both tried. Sentinels ("N/A", "no_information", "Never logged in", "0000-00-00"...) become ``None``
with a reason (``never``, ``not_applicable``, ``not_supported``, ``missing_column``).

Findings:

- ``terminated_active``: an enabled account of a person HR lists as terminated (status, or a
  termination date on or before ``as_of``; the date wins when the two disagree, and the
  disagreement is noted);
- ``orphaned``: an enabled account whose e-mail (case-insensitive) matches no person in the roster,
  or that has no e-mail at all (AWS IAM users); the AWS root user is reported as privileged instead;
- ``privileged``: admin flags (neutral ``privileged``, an ``isAdmin`` column when present), the AWS
  root user, and groups named like admin/owner/root/superuser;
- ``sod_conflicts``: from an optional roles CSV (``group,duty``), one person (by e-mail, else
  account) whose groups give two duties listed in :data:`CONFLICTS`;
- ``unused``: enabled accounts never used, or not used in ``unused_days`` days before ``as_of``.

The check fails when ``terminated_active``, ``orphaned`` or ``sod_conflicts`` is non-empty.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from soc2kit.errors import Location, UsageError, UserError

UNKNOWN: Literal["unknown"] = "unknown"

#: Duties that one person must not hold together (segregation of duties). Duty names are the
#: ``duty`` column of the roles CSV; any other duty name is an error, so a typo cannot hide a conflict.
CONFLICTS: list[tuple[str, str, str]] = [
    ("author_change", "approve_change", "a change author must not approve their own change"),
    ("train_models", "deploy_production", "whoever trains a model must not also push it to production"),
    ("train_models", "approve_model_release", "whoever trains a model must not sign off its release"),
    ("deploy_production", "approve_change", "whoever deploys must not approve what they deploy"),
    ("administer_access", "review_access", "access administrators must not review their own grants"),
    ("label_data", "evaluate_models", "who labels the evaluation data must not grade the model on it"),
]
DUTIES = sorted({d for a, b, _ in CONFLICTS for d in (a, b)})

PRIVILEGED_GROUP = re.compile(r"admin|owner|root|superuser|super_user|privileged", re.IGNORECASE)

_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}


def norm_key(header: str) -> str:
    """The comparison key of a header: lower case, no ``[...]`` suffix, no spaces or punctuation."""
    return re.sub(r"[^0-9a-z]", "", re.sub(r"\[[^\]]*\]", "", header).lower())


def parse_bool(value: str | None) -> bool | Literal["unknown"]:
    """True/False from the words the exports use (any case); ``"unknown"`` for anything else."""
    v = (value or "").strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    return UNKNOWN


@dataclass(frozen=True)
class Source:
    name: str
    side: str  # "idp" or "hr"
    fingerprint: frozenset[str]  # normalised keys that must all be present
    fields: dict[str, tuple[str, ...]]  # canonical field -> header keys, first present wins
    date_formats: tuple[str, ...]  # strptime formats, or "iso" for datetime.fromisoformat
    sentinels: dict[str, str] = field(default_factory=dict)  # lower-cased cell -> reason
    zone: str = "unknown"


_AWS_SENTINELS = {"n/a": "not_applicable", "no_information": "never", "not_supported": "not_supported"}

SOURCES: list[Source] = [
    Source("aws_iam", "idp", frozenset({"user", "arn", "passwordenabled", "mfaactive"}),
           {"account": ("user",), "arn": ("arn",), "password_enabled": ("passwordenabled",),
            "key1_active": ("accesskey1active",), "key2_active": ("accesskey2active",),
            "last_login": ("passwordlastused", "accesskey1lastuseddate", "accesskey2lastuseddate")},
           ("iso",), _AWS_SENTINELS, "UTC (offset in the value)"),
    Source("google_workspace", "idp", frozenset({"emailaddress", "status", "lastsignin"}),
           {"email": ("emailaddress",), "first_name": ("firstname",), "last_name": ("lastname",), "status": ("status",),
            "last_login": ("lastsignin",), "privileged": ("isadmin",)},
           ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M"), {"never logged in": "never"}, "unknown (not documented by Google)"),
    Source("entra_id", "idp", frozenset({"userprincipalname", "displayname", "accountenabled"}),
           {"account": ("objectid", "id", "userprincipalname"), "email": ("mail", "userprincipalname"), "name": ("displayname",),
            "enabled": ("accountenabled",), "privileged": ("isadmin",),
            "last_login": ("lastsuccessfulsignindatetime", "lastinteractivesignindate", "lastsignindatetime")},
           ("iso", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M", "%m/%d/%Y"), {"never": "never"}, "downloader's locale (US sample)"),
    Source("okta", "idp", frozenset({"login", "status"}),
           {"account": ("id", "login"), "email": ("email", "login"), "name": ("user", "displayname"), "first_name": ("firstname",),
            "last_name": ("lastname",), "status": ("status",), "last_login": ("lastlogin", "lastlogindate")},
           ("iso", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M", "%m/%d/%Y"), {"null": "never", "never": "never"}, "UTC per current Okta doc (older doc: US Pacific)"),
    Source("neutral_idp", "idp", frozenset({"account", "email", "status", "lastlogin"}),
           {"account": ("account",), "email": ("email",), "name": ("name",), "status": ("status",), "last_login": ("lastlogin",),
            "privileged": ("privileged",), "groups": ("groups",)},
           ("iso",), {"never": "never", "n/a": "not_applicable"}, "as written in the file"),
    Source("bamboohr", "hr", frozenset({"workemail", "hiredate"}),
           {"email": ("workemail",), "name": ("displayname",), "first_name": ("firstname",), "last_name": ("lastname",),
            "status": ("status", "employmentstatus"), "termination_date": ("terminationdate",)},
           ("%Y-%m-%d", "%d %b %Y"), {"0000-00-00": "not_applicable"}),
    Source("rippling", "hr", frozenset({"workemail", "employmentstatus", "startdate"}),
           {"email": ("workemail",), "name": ("employeename",), "first_name": ("legalfirstname",), "last_name": ("legallastname",),
            "status": ("employmentstatus", "rolestate"), "termination_date": ("terminationdate", "enddate")},
           ("%Y-%m-%d", "%m/%d/%Y")),
    Source("neutral_hr", "hr", frozenset({"email", "status", "terminationdate"}),
           {"email": ("email",), "name": ("name",), "status": ("status",), "termination_date": ("terminationdate",)},
           ("%Y-%m-%d",)),
]

_IDP_ENABLED = {"active": True, "enabled": True, "recovery": True, "passwordreset": True, "passwordexpired": True,
                "lockedout": True, "suspended": False, "disabled": False, "deactivated": False, "deprovisioned": False,
                "staged": False, "provisioned": False, "pendinguseraction": False, "blocked": False, "archived": False}
_HR_STATUS = {"active": "active", "employed": "active", "inactive": "terminated", "terminated": "terminated", "ended": "terminated",
              "hired": "pre_start", "accepted": "pre_start", "init": "pre_start", "garden leave": "leaving", "gardenleave": "leaving"}


@dataclass
class Table:
    path: Path
    headers: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (line number, normalised key -> raw cell)
    warnings: list[str]


def read_table(path: Path | str) -> Table:
    """Header and rows of a CSV (sniffed delimiter, utf-8-sig) or .xlsx file."""
    path = Path(path)
    if not path.exists():
        raise UserError("input file not found", location=Location(path))
    if path.is_dir():
        raise UserError("input must be a file, not a directory", location=Location(path))
    warnings: list[str] = []
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raw_rows = _read_xlsx(path)
    else:
        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
            warnings.append(f"{path.name} is not UTF-8; read as latin-1")
        first = text.split("\n", 1)[0]
        delim = max([",", ";", "\t"], key=first.count)
        raw_rows = list(enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delim), start=1))
    raw_rows = [(n, r) for n, r in raw_rows if any(c.strip() for c in r)]
    if not raw_rows:
        raise UserError("the file is empty (no header row)", location=Location(path))
    _, header = raw_rows[0]
    headers = [h.strip() for h in header]
    keys = [norm_key(h) for h in headers]
    rows = []
    for n, r in raw_rows[1:]:
        rows.append((n, {k: (r[i].strip() if i < len(r) else "") for i, k in enumerate(keys) if k}))
    return Table(path, headers, rows, warnings)


def _read_xlsx(path: Path) -> list[tuple[int, list[str]]]:
    try:
        import openpyxl
    except ImportError:
        raise UserError("reading .xlsx needs openpyxl, which is not installed", location=Location(path),
                        hint="pip install openpyxl, or save the sheet as CSV") from None
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises assorted errors for damaged files
        raise UserError(f"cannot read the workbook: {exc}", location=Location(path)) from None
    out = []
    for n, row in enumerate(wb.worksheets[0].iter_rows(values_only=True), start=1):
        out.append((n, ["" if v is None else v.isoformat() if isinstance(v, (datetime, date)) else str(v) for v in row]))
    wb.close()
    return out


IDP_FIELDS = ("account", "email", "name", "first_name", "last_name", "status", "enabled", "last_login", "privileged", "groups")
HR_FIELDS = ("email", "name", "first_name", "last_name", "status", "termination_date")


def source_from_mapping(path: Path | str, side: str) -> Source:
    """A source described by the user, for an export the kit does not know::

        name: acme-sso                  # shown in the result
        columns:                        # canonical field: the header in the export
          email: Work Email
          status: Account State
          last_login: Last Login (UTC)
        date_formats: ["%Y-%m-%d %H:%M"]   # strptime formats, or iso
        never: ["-", "never"]               # cells that mean "never" (optional)
    """
    from soc2kit._yaml import load_yaml, to_plain

    where = Location(Path(path))
    data = to_plain(load_yaml(Path(path), what="column mapping"))
    allowed = IDP_FIELDS if side == "idp" else HR_FIELDS
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict) or not data["columns"]:
        raise UserError("a column mapping needs a 'columns' mapping of field: header", location=where, hint=f"fields: {', '.join(allowed)}")
    unknown = sorted(set(data["columns"]) - set(allowed))
    if unknown:
        raise UserError(f"unknown field(s) {', '.join(unknown)} in the column mapping", location=where, hint=f"fields: {', '.join(allowed)}")
    if "email" not in data["columns"]:
        raise UserError("the column mapping must name the e-mail column (people are matched by e-mail)", location=where)
    formats = tuple(str(f) for f in (data.get("date_formats") or ["iso"]))
    columns = {str(k): norm_key(str(v)) for k, v in data["columns"].items()}
    return Source(str(data.get("name") or f"mapped_{side}"), side, frozenset(columns.values()), {k: (v,) for k, v in columns.items()}, formats,
                  {str(v).lower(): "never" for v in (data.get("never") or [])}, "as the mapping declares")


def detect(table: Table, side: str, mapping: Path | str | None = None) -> Source:
    if mapping is not None:
        src = source_from_mapping(mapping, side)
        missing = sorted(src.fingerprint - {norm_key(h) for h in table.headers})
        if missing:
            raise UserError(f"the export lacks the column(s) the mapping names ({', '.join(missing)}); columns found: {', '.join(table.headers)}",
                            location=Location(table.path))
        return src
    keys = {norm_key(h) for h in table.headers}
    matches = [s for s in SOURCES if s.side == side and s.fingerprint <= keys]
    known = [s.name for s in SOURCES if s.side == side]
    if not matches:
        raise UserError(f"unknown {'identity-provider' if side == 'idp' else 'HR'} export: columns found: {', '.join(table.headers)}",
                        location=Location(table.path), hint=f"known sources: {', '.join(known)}; or use the neutral CSV "
                        + ("(account,email,name,status,last_login,privileged,groups)" if side == "idp" else "(email,name,status,termination_date)"))
    matches.sort(key=lambda s: len(s.fingerprint), reverse=True)
    if len(matches) > 1 and len(matches[0].fingerprint) == len(matches[1].fingerprint):
        raise UserError(f"the columns fit several sources: {', '.join(m.name for m in matches)}", location=Location(table.path),
                        hint="remove the extra columns or use the neutral CSV")
    return matches[0]


def mapping_for(table: Table, source: Source) -> dict[str, str | list[str] | None]:
    """Canonical field -> the original header used (a list where several are combined)."""
    by_key = {norm_key(h): h for h in table.headers}
    out: dict[str, str | list[str] | None] = {}
    for fld, keys in source.fields.items():
        present = [by_key[k] for k in keys if k in by_key]
        if fld == "last_login" and source.name == "aws_iam":
            out[fld] = present  # the latest of the password and access-key dates
        else:
            out[fld] = present[0] if present else None
    return out


def _cell(row: dict[str, str], source: Source, fld: str) -> str | None:
    """The first non-blank cell among the field's aliases; "" when only blanks; None when no column."""
    found = None
    for k in source.fields.get(fld, ()):
        if k in row:
            if row[k]:
                return row[k]
            found = ""
    return found


def parse_date(value: str | None, source: Source, where: Location, column: str) -> tuple[datetime | None, str | None]:
    """(value, None), or (None, reason) for blanks and sentinels; a UserError naming the row otherwise."""
    if value is None:
        return None, "missing_column"
    v = value.strip()
    if not v:
        return None, "blank"
    reason = source.sentinels.get(v.lower())
    if reason:
        return None, reason
    for fmt in source.date_formats:
        try:
            d = datetime.fromisoformat(v.replace("Z", "+00:00")) if fmt == "iso" else datetime.strptime(v, fmt)
        except ValueError:
            continue
        if d.tzinfo is not None:  # compare everything as naive UTC
            d = d.astimezone(UTC).replace(tzinfo=None)
        return d, None
    if v.startswith("{"):  # Entra 2025 preview writes the whole signInActivity object
        import json

        try:
            obj = json.loads(v)
            for k in ("lastSuccessfulSignInDateTime", "lastSignInDateTime", "lastNonInteractiveSignInDateTime"):
                if obj.get(k):
                    return parse_date(obj[k], source, where, column)
            return None, "never"
        except (ValueError, AttributeError):
            pass
    shown = " or ".join("ISO 8601" if f == "iso" else f for f in source.date_formats)
    raise UserError(f"cannot read the date {v!r} in column {column!r}", location=where, hint=f"{source.name} dates are {shown}")


@dataclass
class Account:
    account: str
    email: str | None
    name: str
    status: str
    enabled: bool | Literal["unknown"]
    privileged: bool | Literal["unknown"]
    privileged_why: list[str]
    last_login: datetime | None
    last_login_reason: str | None
    groups: list[str]
    line: int
    findings: list[str] = field(default_factory=list)
    hr_status: str = ""


def idp_accounts(table: Table, src: Source) -> list[Account]:
    out = []
    for line, row in table.rows:
        where = Location(table.path, line)
        get = lambda f, row=row: _cell(row, src, f)  # noqa: E731
        email = (get("email") or "").strip() or None
        name = get("name") or " ".join(x for x in (get("first_name"), get("last_name")) if x) or ""
        account = get("account") or email or ""
        why: list[str] = []
        groups = [g.strip() for g in re.split(r"[;|]", get("groups") or "") if g.strip()]
        privileged: bool | Literal["unknown"] = parse_bool(get("privileged")) if get("privileged") is not None else UNKNOWN
        if privileged is True:
            why.append("admin flag")
        if src.name == "aws_iam":
            pw, k1, k2 = (parse_bool(get(f)) for f in ("password_enabled", "key1_active", "key2_active"))
            enabled: bool | Literal["unknown"] = account == "<root_account>" or True in (pw, k1, k2)
            status = "access" if enabled else "no password or active key"
            if account == "<root_account>":
                privileged, status = True, "root"
                why.append("AWS root user")
            if email is None and "@" in account:
                email = account
            dates = []
            reasons = []
            for k in src.fields["last_login"]:
                if k in row:
                    d, r = parse_date(row[k], src, where, k)
                    (dates.append(d) if d else reasons.append(r))
            last = max(dates) if dates else None
            reason = None if last else ("never" if "never" in reasons or not reasons else reasons[0])
        else:
            if src.name == "entra_id":
                enabled = parse_bool(get("enabled"))
                status = {True: "enabled", False: "disabled"}.get(enabled, get("enabled") or "")  # type: ignore[arg-type]
            else:
                status = get("status") or ""
                enabled = _IDP_ENABLED.get(norm_key(status), UNKNOWN)
            last, reason = parse_date(get("last_login"), src, where, "last login")
        if src.name == "okta" and email and "@" not in email:
            email = None
        if groups:
            admin_groups = [g for g in groups if PRIVILEGED_GROUP.search(g)]
            if admin_groups:
                privileged = True
                why.append("group " + ", ".join(admin_groups))
        out.append(Account(account, email.lower() if email else None, name, status, enabled, privileged, why, last, reason, groups, line))
    return out


@dataclass
class Person:
    email: str
    name: str
    status: str  # canonical: active, terminated, pre_start, leaving, unknown
    raw_status: str
    termination_date: date | None
    note: str | None


def _hr_people(table: Table, src: Source, as_of: date) -> dict[str, Person]:
    people: dict[str, Person] = {}
    for line, row in table.rows:
        where = Location(table.path, line)
        get = lambda f, row=row: _cell(row, src, f)  # noqa: E731
        email = (get("email") or "").strip().lower()
        if not email:
            continue
        raw = get("status") or ""
        status = _HR_STATUS.get(raw.strip().lower(), "unknown")
        term, _ = parse_date(get("termination_date"), src, where, "termination date")
        tdate = term.date() if term else None
        note = None
        if tdate is not None:
            if tdate <= as_of:
                if status != "terminated":
                    note = f"HR status {raw!r} but termination date {tdate.isoformat()} has passed: the date decides"
                status = "terminated"
            elif status == "active":
                status = "leaving"
        name = get("name") or " ".join(x for x in (get("first_name"), get("last_name")) if x)
        people[email] = Person(email, name, status, raw, tdate, note)
    return people


def _roles(path: Path | str) -> dict[str, set[str]]:
    table = read_table(path)
    keys = {norm_key(h) for h in table.headers}
    if not {"group", "duty"} <= keys:
        raise UserError(f"the roles file needs the columns group,duty; columns found: {', '.join(table.headers)}", location=Location(table.path))
    out: dict[str, set[str]] = {}
    for line, row in table.rows:
        duty = row.get("duty", "").strip().lower()
        if duty not in DUTIES:
            raise UserError(f"unknown duty {duty!r}", location=Location(table.path, line), hint=f"known duties: {', '.join(DUTIES)}")
        out.setdefault(row.get("group", "").strip().lower(), set()).add(duty)
    return out


def _iso(d: datetime | None) -> str | None:
    return d.isoformat() if d else None


@dataclass
class Review:
    result: dict[str, Any]
    accounts: list[Account]


def review_access(idp: Path | str, hr: Path | str, *, as_of: date, roles: Path | str | None = None, unused_days: int = 90,
                  idp_mapping: Path | str | None = None, hr_mapping: Path | str | None = None) -> Review:
    """Run the review; ``result`` is the JSON-ready evidence, ``accounts`` feed the worksheet."""
    if unused_days < 1:
        raise UserError(f"unused days must be at least 1, not {unused_days}")
    idp_t, hr_t = read_table(idp), read_table(hr)
    idp_s, hr_s = detect(idp_t, "idp", idp_mapping), detect(hr_t, "hr", hr_mapping)
    accounts = idp_accounts(idp_t, idp_s)
    people = _hr_people(hr_t, hr_s, as_of)
    duties_of_group = _roles(roles) if roles is not None else {}

    f: dict[str, list[dict[str, Any]]] = {k: [] for k in ("terminated_active", "orphaned", "privileged", "sod_conflicts", "unused")}
    cutoff = as_of - timedelta(days=unused_days)
    for a in accounts:
        base = {"account": a.account, "email": a.email, "name": a.name, "line": a.line}
        p = people.get(a.email) if a.email else None
        a.hr_status = p.status if p else ("no e-mail" if not a.email else "not in HR")
        live = a.enabled is not False
        if live and p is not None and p.status == "terminated":
            a.findings.append("terminated_active")
            item = {**base, "hr_status": p.raw_status, "termination_date": p.termination_date.isoformat() if p.termination_date else None}
            if p.note:
                item["note"] = p.note
            f["terminated_active"].append(item)
        if live and p is None and a.account != "<root_account>":
            a.findings.append("orphaned")
            f["orphaned"].append({**base, "reason": "no e-mail in the export; map the account to a person" if not a.email else "e-mail not in the HR roster"})
        if a.privileged is True:
            a.findings.append("privileged")
            f["privileged"].append({**base, "why": a.privileged_why})
        if live:
            if a.last_login is None and a.last_login_reason == "never":
                a.findings.append("unused")
                f["unused"].append({**base, "last_login": None, "reason": "never"})
            elif a.last_login is not None and a.last_login.date() < cutoff:
                a.findings.append("unused")
                f["unused"].append({**base, "last_login": _iso(a.last_login), "days": (as_of - a.last_login.date()).days})
    if duties_of_group:
        holders: dict[str, dict[str, set[str]]] = {}  # person -> duty -> groups
        for a in accounts:
            if a.enabled is False:
                continue
            who = a.email or a.account
            for g in a.groups:
                for d in duties_of_group.get(g.lower(), ()):
                    holders.setdefault(who, {}).setdefault(d, set()).add(g)
        for who, duties in sorted(holders.items()):
            for x, y, why in CONFLICTS:
                if x in duties and y in duties:
                    f["sod_conflicts"].append({"person": who, "duties": [x, y], "groups": {x: sorted(duties[x]), y: sorted(duties[y])}, "rule": why})
                    for a in accounts:
                        if (a.email or a.account) == who and "sod_conflict" not in a.findings:
                            a.findings.append("sod_conflict")
    fail = bool(f["terminated_active"] or f["orphaned"] or f["sod_conflicts"])
    result: dict[str, Any] = {
        "check": "access.review",
        "status": "fail" if fail else "pass",
        "as_of": as_of.isoformat(),
        "unused_days": unused_days,
        "idp_source": idp_s.name,
        "hr_source": hr_s.name,
        "idp_file": idp_t.path.name,
        "hr_file": hr_t.path.name,
        "mapping": {"idp": mapping_for(idp_t, idp_s), "hr": mapping_for(hr_t, hr_s),
                    "idp_date_formats": list(idp_s.date_formats), "hr_date_formats": list(hr_s.date_formats), "idp_time_zone": idp_s.zone},
        "accounts": len(accounts),
        "people": len(people),
        "findings": f,
        "conflict_rules": [list(c[:2]) for c in CONFLICTS] if duties_of_group else [],
        "warnings": idp_t.warnings + hr_t.warnings,
    }
    return Review(result, accounts)


def access_review(idp: Path | str, hr: Path | str, *, as_of: date, roles: Path | str | None = None, unused_days: int = 90,
                  idp_mapping: Path | str | None = None, hr_mapping: Path | str | None = None) -> dict[str, Any]:
    return review_access(idp, hr, as_of=as_of, roles=roles, unused_days=unused_days, idp_mapping=idp_mapping, hr_mapping=hr_mapping).result


WORKSHEET_COLUMNS = ["account", "email", "name", "source_status", "hr_status", "privileged", "last_login", "findings", "decision", "ticket", "reviewer", "date"]
REVIEWER_COLUMNS = ("decision", "ticket", "reviewer", "date")
DECISIONS = ("keep", "change", "remove")


def _worksheet_rows(review: Review) -> list[list[str]]:
    rows = []
    for a in review.accounts:
        last = _iso(a.last_login) or (a.last_login_reason or "")
        priv = "yes" if a.privileged is True else "no" if a.privileged is False else "unknown"
        rows.append([a.account, a.email or "", a.name, a.status, a.hr_status, priv, last, "; ".join(a.findings), "", "", "", ""])
    return rows


def worksheet_csv(review: Review) -> str:
    """The reviewer worksheet: one row per account; decision, ticket, reviewer and date left for the reviewer."""
    from soc2kit.render.matrix import safe_cell

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(WORKSHEET_COLUMNS)
    for row in _worksheet_rows(review):
        w.writerow([safe_cell(str(v)) for v in row])
    return buf.getvalue()


def worksheet_xlsx(review: Review) -> bytes:
    """The same worksheet as XLSX: a drop-down for the decision, frozen header, filters, and an
    "About" sheet with the review's sources and the sign-off instructions."""
    from openpyxl.worksheet.datavalidation import DataValidation

    from soc2kit import _xlsx

    wb = _xlsx.workbook()
    rows = _worksheet_rows(review)
    sheet = _xlsx.add_table_sheet(wb, "Review", WORKSHEET_COLUMNS, rows, widths={"findings": 40, "decision": 12, "ticket": 14, "reviewer": 22, "date": 12},
                                  wrap=["findings"])
    col = WORKSHEET_COLUMNS.index("decision") + 1
    letter = sheet.cell(row=1, column=col).column_letter
    dv = DataValidation(type="list", formula1='"' + ",".join(DECISIONS) + '"', allow_blank=True, showErrorMessage=True,
                        errorTitle="Decision", error="Choose keep, change or remove.")
    dv.add(f"{letter}2:{letter}{len(rows) + 1}")
    sheet.add_data_validation(dv)
    r = review.result
    about = [("As of", r["as_of"]), ("Identity provider export", f"{r['idp_file']} ({r['idp_source']})"), ("HR export", f"{r['hr_file']} ({r['hr_source']})"),
             ("Accounts", len(rows)), ("Status", r["status"]),
             ("How to sign off", "For every row: choose keep, change or remove; give the ticket for a change or removal; write your name and the date "
              "(YYYY-MM-DD). Then run: soc2kit check access-signoff THIS-FILE")]
    _xlsx.add_table_sheet(wb, "About", ["Field", "Value"], about, widths={"Field": 26, "Value": 90}, wrap=["Value"])
    return _xlsx.to_bytes(wb)


def write_worksheet(review: Review, path: Path | str) -> Path:
    """Write the worksheet as CSV or XLSX, chosen by the suffix."""
    from soc2kit._fs import atomic_write_bytes

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        atomic_write_bytes(path, worksheet_xlsx(review))
    elif suffix in (".csv", ""):
        atomic_write_bytes(path, worksheet_csv(review).encode("utf-8-sig"))
    else:
        raise UsageError(f"the worksheet must be a .csv or .xlsx file, not {path.name!r}", hint="e.g. --worksheet access-review-2027-Q1.xlsx")
    return path


@dataclass
class Signoff:
    path: Path
    rows: int
    decisions: dict[str, int]
    reviewers: list[str]
    signed_on: date | None
    problems: list[str]

    @property
    def complete(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"check": "access-signoff", "status": "pass" if self.complete else "fail", "worksheet": str(self.path), "rows": self.rows,
                "decisions": self.decisions, "reviewers": self.reviewers, "signed_on": self.signed_on.isoformat() if self.signed_on else None,
                "problems": self.problems}


def read_signoff(path: Path | str) -> Signoff:
    """Read back a completed worksheet and check that every account has a decision, a reviewer and a
    date, and that every change or removal names its ticket."""
    path = Path(path)
    table = read_table(path)
    keys = {norm_key(h) for h in table.headers}
    missing = [c for c in ("account", *REVIEWER_COLUMNS) if c not in keys]
    if missing:
        raise UserError(f"{path.name} is not a soc2kit access-review worksheet: no column {', '.join(missing)}", location=Location(path, 1),
                        hint="sign off the worksheet written by `soc2kit check access --worksheet FILE`")
    problems: list[str] = []
    decisions = dict.fromkeys(DECISIONS, 0)
    reviewers: list[str] = []
    dates: list[date] = []
    for line, row in table.rows:
        get = {k: (row.get(k) or "").strip() for k in ("account", *REVIEWER_COLUMNS)}
        who = get["account"] or f"row {line}"
        decision = get["decision"].lower()
        if decision not in DECISIONS:
            problems.append(f"line {line} ({who}): decision {get['decision']!r} is not one of {', '.join(DECISIONS)}" if decision
                            else f"line {line} ({who}): no decision")
        else:
            decisions[decision] += 1
            if decision != "keep" and not get["ticket"]:
                problems.append(f"line {line} ({who}): a {decision} needs the ticket that carries it out")
        if not get["reviewer"]:
            problems.append(f"line {line} ({who}): no reviewer")
        elif get["reviewer"] not in reviewers:
            reviewers.append(get["reviewer"])
        if not get["date"]:
            problems.append(f"line {line} ({who}): no review date")
        else:
            try:
                dates.append(date.fromisoformat(get["date"][:10]))
            except ValueError:
                problems.append(f"line {line} ({who}): review date {get['date']!r} is not YYYY-MM-DD")
    if not table.rows:
        problems.append("the worksheet has no accounts")
    return Signoff(path, len(table.rows), decisions, reviewers, max(dates) if dates else None, problems)
