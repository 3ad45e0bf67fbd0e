"""The vendor register (``vendors.yaml`` in the workspace): one Pydantic model, validated as a whole.

The file is edited by hand or by ``soc2kit vendor add``; both go through :func:`load_register`, so
an unknown key, a data type the profile does not list, a system that is not in scope, a duplicate
vendor or dates out of order are reported with file:line before anything uses the register.
Writes keep the user's comments (ruamel round-trip) and are atomic.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictInt, field_validator, model_validator
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from soc2kit._fs import atomic_write_text
from soc2kit._yaml import dump_yaml, parse_yaml
from soc2kit.errors import Location, UserError
from soc2kit.profile.load import suggest
from soc2kit.profile.schema import StrictModel
from soc2kit.profile.vocab import DATA_TYPES
from soc2kit.vendors.yamlmodel import FileProblems, load_document, located, validate

REGISTER_FILE = "vendors.yaml"

Kind = Literal["cloud", "ai_model", "ai_service", "saas", "professional_services", "data_labelling", "other"]
Criticality = Literal["high", "medium", "low"]
CertType = Literal["soc2_type2", "soc2_type1", "soc3", "iso27001", "iso42001"]
Transfer = Literal["not_needed", "adequacy", "scc", "uk_idta", "dpf", "bcr", "other"]
OptOut = Literal["contractual_bar", "opted_out", "not_opted_out", "not_offered", "unknown"]

AI_KINDS = ("ai_model", "ai_service")
#: Data types the Data Management policy classifies as Restricted; the others are Confidential.
RESTRICTED_TYPES = ("phi", "payment_card", "biometric", "children")
PERSONAL_TYPES = ("pii", "phi", "biometric", "children")
CERT_LABELS = {"soc2_type2": "SOC 2 Type II", "soc2_type1": "SOC 2 Type I", "soc3": "SOC 3", "iso27001": "ISO/IEC 27001", "iso42001": "ISO/IEC 42001"}

Text = Annotated[str, Field(max_length=500)]
#: Dates the register may hold: the review arithmetic (12 months after a report period, the next
#: review date) must stay within what Python's dates can represent.
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


def check_day(value: dt.date) -> dt.date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"date {value.isoformat()} is out of range; use a date between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}")
    return value


Day = Annotated[dt.date, AfterValidator(check_day)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class _Model(StrictModel):
    """The profile's strict model (unknown keys rejected, control characters refused, text stripped)."""


class Certification(_Model):
    type: CertType = Field(description="soc2_type2, soc2_type1, soc3, iso27001 or iso42001.")
    period_start: Day | None = Field(default=None, description="First day of a SOC report's period.")
    period_end: Day | None = Field(default=None, description="Last day of a SOC report's period.")
    bridge_letter_until: Day | None = Field(default=None, description="Last day a SOC report's bridge letter covers.")
    issued: Day | None = Field(default=None, description="Issue date of an ISO certificate.")
    expires: Day | None = Field(default=None, description="Expiry date of an ISO certificate.")
    scope: Text = Field(default="", description="What the report or certificate covers.")
    exceptions: StrictInt = Field(default=0, ge=0, le=1000, description="Number of exceptions the report lists.")

    @model_validator(mode="after")
    def _dates(self) -> Certification:
        if self.type.startswith("soc"):
            if self.period_end is None:
                raise ValueError(f"a {CERT_LABELS[self.type]} report needs period_end (and period_start for a Type II report)")
            if self.type == "soc2_type2" and self.period_start is None:
                raise ValueError("a SOC 2 Type II report needs period_start")
            if self.period_start and self.period_start > self.period_end:
                raise ValueError(f"dates out of order: period_start {self.period_start} is after period_end {self.period_end}")
            if self.bridge_letter_until and self.bridge_letter_until < self.period_end:
                raise ValueError(f"dates out of order: bridge_letter_until {self.bridge_letter_until} is before period_end {self.period_end}")
            if self.issued or self.expires:
                raise ValueError("issued/expires are for ISO certificates; a SOC report has period_start/period_end")
        else:
            if self.expires is None:
                raise ValueError(f"an {CERT_LABELS[self.type]} certificate needs its expires date")
            if self.issued and self.issued > self.expires:
                raise ValueError(f"dates out of order: issued {self.issued} is after expires {self.expires}")
            if self.period_start or self.period_end or self.bridge_letter_until:
                raise ValueError("period_start/period_end/bridge_letter_until are for SOC reports; an ISO certificate has issued/expires")
        return self

    def valid_until(self) -> dt.date:
        """The last day the certification can be relied on: an ISO certificate's expiry; a SOC
        report 12 months after its period end (Vendor Management Policy: stale after that), or the
        end of its bridge letter when that is later."""
        if self.expires is not None:
            return self.expires
        assert self.period_end is not None
        end = add_months(self.period_end, 12)
        return max(end, self.bridge_letter_until) if self.bridge_letter_until else end


class AITerms(_Model):
    trains_on_data: StrictBool | None = Field(default=None, description="The provider may train or improve its models on the company's inputs or outputs (null: not yet known).")
    opt_out: OptOut = Field(default="unknown", description="State of the training opt-out: contractual_bar, opted_out, not_opted_out, not_offered or unknown.")
    opt_out_verified: Day | None = Field(default=None, description="Date the opt-out or contractual bar was last verified.")
    training_approved_by: Text = Field(default="", description="Who approved the provider training on company data, when it does.")
    training_approved_on: Day | None = Field(default=None, description="Date of that approval.")
    prompt_retention_days: StrictInt | None = Field(default=None, ge=0, le=3650, description="Days the provider keeps prompts and outputs.")
    zero_data_retention: StrictBool = Field(default=False, description="Zero-data-retention terms are in force for the endpoints used.")
    models: list[Name] = Field(default_factory=list, description="Models or endpoints used.")
    output_ownership: StrictBool | None = Field(default=None, description="The terms leave the company owner of inputs and outputs.")


class Subservice(_Model):
    carve_out: StrictBool = Field(default=False, description="The vendor is a subservice organization carved out of the company's system description.")
    complementary_controls: list[Annotated[str, Field(min_length=1, max_length=1000)]] = Field(
        default_factory=list, description="Controls the company must operate for the vendor's controls to work (complementary user-entity controls).")


class Vendor(_Model):
    name: Name = Field(description="Vendor name, unique in the register.")
    service: Text = Field(description="What the vendor provides to the company.")
    kind: Kind = Field(default="saas", description="cloud, ai_model, ai_service, saas, professional_services, data_labelling or other.")
    criticality: Criticality = Field(description="Tier from the Vendor Management Policy: high, medium or low.")
    owner: Text = Field(default="", description="Business owner (the manager who requested the vendor).")
    status: Literal["active", "retired"] = Field(default="active", description="active or retired.")
    data_shared: list[str] = Field(default_factory=list, description="Data types the vendor receives, from the profile's data.types.")
    systems: list[str] = Field(default_factory=list, description="In-scope systems (scope.systems names) the vendor serves.")
    certifications: list[Certification] = Field(default_factory=list, description="Assurance reports and certificates on file.")
    dpa_signed: StrictBool | None = Field(default=None, description="A data processing agreement is signed.")
    baa_signed: StrictBool | None = Field(default=None, description="A business associate agreement is signed.")
    sla_availability: Annotated[float, Field(gt=0, le=100)] | None = Field(default=None, description="Committed availability in percent, e.g. 99.9.")
    incident_notice_hours: StrictInt | None = Field(default=None, ge=0, le=8760, description="Hours within which the vendor must report a security incident.")
    regions: list[Name] = Field(default_factory=list, description="Regions where the vendor stores or processes company data.")
    transfer_mechanism: Transfer | None = Field(default=None, description="Cross-border transfer mechanism: not_needed, adequacy, scc, uk_idta, dpf, bcr or other.")
    ai: AITerms | None = Field(default=None, description="Terms of an AI model or AI service provider (only for kind ai_model or ai_service).")
    subservice: Subservice = Field(default_factory=Subservice, description="Subservice organization (carve-out) and complementary controls.")
    contract_start: Day | None = Field(default=None, description="Contract start date.")
    contract_end: Day | None = Field(default=None, description="Contract end or renewal date.")
    last_review: Day | None = Field(default=None, description="Date of the last completed assessment or review.")

    @model_validator(mode="after")
    def _consistent(self) -> Vendor:
        if self.contract_start and self.contract_end and self.contract_start > self.contract_end:
            raise ValueError(f"dates out of order: contract_start {self.contract_start} is after contract_end {self.contract_end}")
        if self.ai is not None and self.kind not in AI_KINDS:
            raise ValueError(f"the ai block is for AI providers; set kind to ai_model or ai_service, or remove it (kind is {self.kind!r})")
        return self

    @property
    def is_ai(self) -> bool:
        return self.kind in AI_KINDS

    @property
    def slug(self) -> str:
        return slugify(self.name)


class Register(_Model):
    vendors: list[Vendor] = Field(default_factory=list, description="Every vendor in scope of the Vendor Management Policy.")

    @field_validator("vendors", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return [] if value is None else value  # ``vendors:`` with no entries left


def add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    import calendar

    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def slugify(name: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", name.lower())).strip("-") or "vendor"


@dataclass
class LoadedRegister:
    path: Path
    document: Any  # the round-trip document (comments, positions)
    register: Register

    @property
    def vendors(self) -> list[Vendor]:
        return list(self.register.vendors)

    def get(self, name: str) -> Vendor:
        for v in self.register.vendors:
            if v.name.lower() == name.lower() or v.slug == slugify(name):
                return v
        names = [v.name for v in self.register.vendors]
        guess = suggest(name, names)
        raise UserError(f"no vendor named {name!r} in the register" + (f" (did you mean {guess!r}?)" if guess else ""), location=Location(self.path),
                        hint="list them with `soc2kit vendor list`" if names else "add one with `soc2kit vendor add NAME --service ... --criticality ...`")

    def index(self, name: str) -> int:
        v = self.get(name)
        return self.register.vendors.index(v)


def register_path(ws) -> Path:
    return ws.root / REGISTER_FILE


def _check_against_profile(reg: Register, document: Any, source: Path, profile) -> None:
    problems: list[tuple[Location, str, str | None]] = []
    data_types = list(profile.data.types)
    systems = [s.name for s in profile.scope.systems]
    seen: dict[str, int] = {}
    for i, v in enumerate(reg.vendors):
        key = slugify(v.name)
        if key in seen:
            problems.append((located(document, source, ("vendors", i, "name")), f"duplicate vendor {v.name!r} (also vendor {seen[key] + 1})",
                             "keep one entry per vendor; list each service it provides in 'service'"))
        seen.setdefault(key, i)
        for j, t in enumerate(v.data_shared):
            if t in data_types:
                continue
            if t in DATA_TYPES:
                problems.append((located(document, source, ("vendors", i, "data_shared", j)), f"data type {t!r} is not in the profile's data.types",
                                 "add it to data.types in soc2kit.yaml if the company processes it, or remove it here"))
            else:
                guess = suggest(t, data_types or list(DATA_TYPES))
                problems.append((located(document, source, ("vendors", i, "data_shared", j)), f"unknown data type {t!r}" + (f" (did you mean '{guess}'?)" if guess else ""),
                                 f"the profile's data types: {', '.join(data_types) or '(none)'}"))
        for j, s in enumerate(v.systems):
            if s not in systems:
                guess = suggest(s, systems)
                problems.append((located(document, source, ("vendors", i, "systems", j)), f"unknown system {s!r}" + (f" (did you mean '{guess}'?)" if guess else ""),
                                 f"systems in scope (scope.systems in soc2kit.yaml): {', '.join(systems) or '(none)'}"))
    if problems:
        raise FileProblems("vendor register", problems)


def validate_document(document: Any, source: Path, profile) -> Register:
    if document is None:
        return Register()
    reg = validate(Register, document, source=source, what="vendor register")
    _check_against_profile(reg, document, source, profile)
    return reg


def load_register(ws, *, must_exist: bool = False) -> LoadedRegister:
    """The workspace's register; an empty one when the file does not exist (unless ``must_exist``)."""
    path = register_path(ws)
    if not path.exists():
        if must_exist:
            raise UserError("the workspace has no vendor register", location=Location(path), hint="add a vendor with `soc2kit vendor add NAME ...`")
        doc = CommentedMap()
        doc["vendors"] = CommentedSeq()
        return LoadedRegister(path, doc, Register())
    document = load_document(path, what="vendor register")
    return LoadedRegister(path, document, validate_document(document, path, ws.profile))


HEADER = ("# Vendor register (Vendor Management Policy, controls VEN-01..VEN-08). Edit by hand or with\n"
          "# `soc2kit vendor add`; every key is described in docs/vendors.md.\n")


def save_document(ws, document: Any) -> Register:
    """Validate the whole edited document, then write it atomically (comments kept)."""
    path = register_path(ws)
    text = dump_yaml(document)
    if not path.exists():
        text = HEADER + text
    reg = validate_document(parse_yaml(text, path), path, ws.profile)
    atomic_write_text(path, text)
    return reg


def _plain_to_yaml(value: Any) -> Any:
    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            if v is None or v == [] or v == {}:
                continue
            m[k] = _plain_to_yaml(v)
        return m
    if isinstance(value, list):
        s = CommentedSeq()
        s.extend(_plain_to_yaml(v) for v in value)
        return s
    return value


def add_vendor(ws, entry: dict[str, Any]) -> Vendor:
    """Append one vendor (plain data, as in the file) and save; the whole register is re-validated."""
    loaded = load_register(ws)
    if any(slugify(v.name) == slugify(str(entry.get("name", ""))) for v in loaded.vendors):
        raise UserError(f"vendor {entry.get('name')!r} is already in the register", location=Location(loaded.path),
                        hint="edit its entry in vendors.yaml, or choose another name")
    doc = loaded.document
    if not isinstance(doc, CommentedMap):
        raise UserError("the vendor register must be a mapping with a 'vendors' list", location=Location(loaded.path, 1))
    if doc.get("vendors") is None:
        doc["vendors"] = CommentedSeq()
    doc["vendors"].append(_plain_to_yaml(entry))
    reg = save_document(ws, doc)
    return reg.vendors[-1]


def set_last_review(ws, name: str, day: dt.date) -> None:
    """Record a completed assessment date on the vendor's entry (comments kept)."""
    loaded = load_register(ws, must_exist=True)
    i = loaded.index(name)
    last = loaded.register.vendors[i].last_review
    if last is not None and last >= day:
        return  # a backdated assessment does not move the last review back
    loaded.document["vendors"][i]["last_review"] = day
    save_document(ws, loaded.document)
