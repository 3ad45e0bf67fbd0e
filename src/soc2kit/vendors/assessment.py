"""``soc2kit vendor assess``: the questionnaire built from the Vendor Management Policy's criteria,
inherent and residual risk scores, findings with owners and due dates, stored as evidence.

Scoring method (also in docs/vendors.md, with a worked example):

- sensitivity S: 1 when the vendor receives none of the profile's data types, 2 when the most
  sensitive is Confidential (``pii``, ``customer_confidential``), 3 when it receives a Restricted
  type (``phi``, ``payment_card``, ``biometric``, ``children``);
- criticality C: low 1, medium 2, high 3; impact I = S x C (1..9);
- likelihood L (exposure) = 1 + one point each for: it serves an in-scope system; it is an AI model
  or AI service provider; it is a carve-out subservice organization; it holds data outside the
  regions the profile commits to, or its regions are not recorded while it receives data (1..5);
- inherent = I x L (1..45);
- effectiveness E = credit / weight over the applicable questions not answered ``na``: a ``yes``
  with evidence earns the question's weight, a ``yes`` without evidence half of it, ``no`` or
  ``unknown`` nothing;
- residual = inherent x (1 - 0.8 x E), rounded half-up to one decimal (answers can remove at most
  80% of the inherent risk);
- bands for both scores: High >= 18, Medium >= 8, Low below 8.

Each ``no`` or ``unknown`` answer becomes a finding owned by the question's role, due 30, 60 or 90
days after the assessment for a High, Medium or Low residual risk.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, StrictStr, field_validator

from soc2kit._fs import atomic_write_text
from soc2kit._yaml import dump_yaml
from soc2kit.errors import Location, UserError
from soc2kit.profile.load import suggest
from soc2kit.profile.vocab import ROLES
from soc2kit.vendors.register import AI_KINDS, PERSONAL_TYPES, RESTRICTED_TYPES, Day, Vendor, _Model, load_register, set_last_review
from soc2kit.vendors.yamlmodel import FileProblems, load_document, located, validate

Answer = Literal["yes", "no", "na", "unknown"]
ANSWERS = ("yes", "no", "na", "unknown")
BANDS = ((18, "high"), (8, "medium"), (0, "low"))
DUE_DAYS = {"high": 30, "medium": 60, "low": 90}
SENSITIVITY_LABEL = {1: "no listed data types", 2: "Confidential data", 3: "Restricted data"}
CRITICALITY = {"low": 1, "medium": 2, "high": 3}
ASSESSMENTS_DIR = Path("vendors") / "assessments"


@dataclass(frozen=True)
class Question:
    id: str
    criterion: str
    text: str  # may use {hours}, {rto}, {rpo}, {regions}
    owner: str  # role key
    weight: int
    ai_only: bool = False
    applies: Callable[[Vendor], bool] | None = None  # None: always

    def render(self, params: dict[str, Any]) -> str:
        return self.text.format(**params)


def _personal(v: Vendor) -> bool:
    return any(t in PERSONAL_TYPES for t in v.data_shared)


QUESTIONS: tuple[Question, ...] = (
    Question("CERT-1", "security certifications", "Is there a current SOC 2 Type II report (period ended within 12 months, or covered by a bridge letter) or an unexpired ISO/IEC 27001 certificate whose scope includes the service used?", "security_officer", 3),
    Question("CERT-2", "security certifications", "Were the report's opinion, exceptions, carved-out subservice organizations and complementary user-entity controls reviewed and recorded?", "security_officer", 2),
    Question("DATA-1", "data handling", "Does the vendor encrypt company data at rest and in transit?", "security_officer", 2),
    Question("DATA-2", "data handling", "Is vendor staff access to company data limited to need (least privilege, multi-factor authentication, background checks)?", "security_officer", 2),
    Question("DATA-3", "data handling", "Does the vendor return or delete company data on request and at termination, with written confirmation?", "security_officer", 2),
    Question("DATA-4", "data handling", "Does the vendor use company data only to provide the service (no analytics, product improvement or model training of its own)?", "security_officer", 3),
    Question("DATA-5", "data handling", "Is a data processing agreement signed before personal information is shared?", "legal_counsel", 2, applies=_personal),
    Question("DATA-6", "data handling", "Are the subprocessors that receive company data disclosed, with advance notice of changes?", "legal_counsel", 1),
    Question("SLA-1", "service levels", "Do the committed availability, support response times and recovery objectives support the company's own (RTO {rto} h, RPO {rpo} h)?", "head_of_engineering", 2,
             applies=lambda v: bool(v.systems) or v.criticality == "high"),
    Question("INC-1", "incident notification", "Must the vendor report a security incident affecting company data within {hours} hours of becoming aware of it?", "legal_counsel", 3),
    Question("INC-2", "incident notification", "Does the vendor have a documented incident response process and a named security contact?", "security_officer", 1),
    Question("AI-1", "AI: training and inference use", "Do contract or enterprise terms bar the provider from training or improving its models on the company's inputs and outputs?", "head_of_ml", 3, ai_only=True),
    Question("AI-2", "AI: training and inference use", "Is the training opt-out or contractual bar verified with a dated screenshot or API output?", "head_of_ml", 1, ai_only=True),
    Question("AI-3", "AI: training and inference use", "Is the retention of prompts and outputs recorded, with zero data retention for every endpoint receiving Restricted data?", "head_of_ml", 2, ai_only=True),
    Question("AI-4", "AI: data residency and cross-border transfer", "Are prompts, outputs and files processed and stored only in the committed regions ({regions}), or under a recorded transfer mechanism?", "privacy_officer", 2, ai_only=True),
    Question("AI-5", "AI: intellectual property", "Do the terms leave the company owner of its inputs and outputs and keep prompts and system prompts confidential?", "legal_counsel", 2, ai_only=True),
    Question("AI-6", "AI: integration and API security", "Are API keys scoped per environment and service, kept in the secrets manager, with rate and spend limits and usage logging?", "head_of_engineering", 2, ai_only=True),
    Question("AI-7", "AI: certifications", "Does the provider hold ISO/IEC 42001 certification for the service used (weighed, not required)?", "security_officer", 1, ai_only=True),
)
BY_ID = {q.id: q for q in QUESTIONS}


def questions_for(v: Vendor) -> list[Question]:
    return [q for q in QUESTIONS if (not q.ai_only or v.kind in AI_KINDS) and (q.applies is None or q.applies(v))]


def question_params(profile) -> dict[str, Any]:
    p = profile.parameters
    return {"hours": p.vendor_breach_notice_hours, "rto": p.rto_hours, "rpo": p.rpo_hours,
            "regions": ", ".join(profile.data.residency) or "none committed"}


def suggested_answers(v: Vendor, profile, on: dt.date) -> dict[str, str]:
    """Answers the register already implies (offered as defaults in the interactive questionnaire)."""
    out: dict[str, str] = {}
    if any(c.type in ("soc2_type2", "iso27001") and c.valid_until() >= on for c in v.certifications):
        out["CERT-1"] = "yes"
    elif v.certifications or v.criticality == "high":
        out["CERT-1"] = "no"
    if v.dpa_signed is not None:
        out["DATA-5"] = "yes" if v.dpa_signed else "no"
    if v.incident_notice_hours is not None:
        out["INC-1"] = "yes" if v.incident_notice_hours <= profile.parameters.vendor_breach_notice_hours else "no"
    if v.ai is not None:
        if v.ai.trains_on_data is not None:
            out["AI-1"] = "no" if v.ai.trains_on_data else "yes"
        out["AI-2"] = "yes" if v.ai.opt_out_verified else "no"
        if v.ai.output_ownership is not None:
            out["AI-5"] = "yes" if v.ai.output_ownership else "no"
    if v.is_ai and v.regions:
        out["AI-4"] = "yes" if _outside_regions(v, profile) is False or v.transfer_mechanism not in (None, "not_needed") else "no"
    if any(c.type == "iso42001" and c.valid_until() >= on for c in v.certifications):
        out["AI-7"] = "yes"
    return out


def _outside_regions(v: Vendor, profile) -> bool | None:
    """True when the vendor holds data outside the committed regions, None when unknown."""
    committed = {r.lower() for r in profile.data.residency}
    if not committed:
        return False
    if not v.regions:
        return None
    return any(r.lower() not in committed for r in v.regions)


class AnswerItem(_Model):
    answer: Answer
    evidence: StrictStr = Field(default="", max_length=1000)
    note: StrictStr = Field(default="", max_length=2000)


class AnswersFile(_Model):
    date: Day | None = None
    assessor: StrictStr = Field(default="", max_length=200)
    decision: Literal["approve", "approve_with_conditions", "reject"] | None = None
    risk_accepted_by: StrictStr = Field(default="", max_length=200)
    answers: dict[str, AnswerItem]

    @field_validator("answers", mode="before")
    @classmethod
    def _short_form(cls, value):
        if isinstance(value, dict):
            return {k: ({"answer": v} if isinstance(v, str) or v is None else v) for k, v in value.items()}
        return value


def _band(score: float) -> str:
    return next(name for floor, name in BANDS if score >= floor)


def _round1(x: Fraction) -> float:
    return float((Decimal(x.numerator) / Decimal(x.denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def inherent_risk(v: Vendor, profile) -> dict[str, Any]:
    if any(t in RESTRICTED_TYPES for t in v.data_shared):
        s = 3
    elif v.data_shared:
        s = 2
    else:
        s = 1
    c = CRITICALITY[v.criticality]
    exposure = []
    if v.systems:
        exposure.append("serves in-scope systems: " + ", ".join(v.systems))
    if v.is_ai:
        exposure.append("AI model or AI service provider")
    if v.subservice.carve_out:
        exposure.append("carve-out subservice organization")
    outside = _outside_regions(v, profile)
    if outside or (outside is None and v.data_shared):
        exposure.append("data outside the committed regions" if outside else "regions not recorded")
    likelihood = 1 + len(exposure)
    score = s * c * likelihood
    return {"sensitivity": s, "sensitivity_reason": SENSITIVITY_LABEL[s], "criticality": c, "impact": s * c, "likelihood": likelihood,
            "exposure": exposure, "score": score, "band": _band(score)}


def residual_risk(inherent: int, answers: list[dict[str, Any]]) -> dict[str, Any]:
    weight = sum(a["weight"] for a in answers if a["answer"] != "na")
    credit = sum(Fraction(a["credit"]) for a in answers if a["answer"] != "na")
    eff = Fraction(credit) / weight if weight else Fraction(0)
    score = _round1(inherent * (1 - Fraction(4, 5) * eff))
    return {"weight": weight, "credit": float(credit), "effectiveness": round(float(eff), 4), "score": score, "band": _band(score)}


def _credit(q: Question, answer: str, evidence: str) -> Fraction:
    if answer != "yes":
        return Fraction(0)
    return Fraction(q.weight) if evidence.strip() else Fraction(q.weight, 2)


def _role(profile, key: str) -> str:
    return getattr(profile.roles, key, "") or ROLES[key][0]


def score_assessment(v: Vendor, profile, given: dict[str, tuple[str, str, str]], *, on: dt.date, assessor: str = "",
                     decision: str | None = None, risk_accepted_by: str = "") -> dict[str, Any]:
    """The assessment record from answers ``{question id: (answer, evidence, note)}``."""
    params = question_params(profile)
    qs = questions_for(v)
    answers = []
    for q in qs:
        ans, evidence, note = given[q.id]
        answers.append({"id": q.id, "criterion": q.criterion, "question": q.render(params), "answer": ans, "evidence": evidence, "note": note,
                        "weight": q.weight, "credit": float(_credit(q, ans, evidence)), "owner_role": q.owner})
    inh = inherent_risk(v, profile)
    res = residual_risk(inh["score"], answers)
    due = on + dt.timedelta(days=DUE_DAYS[res["band"]])
    findings = [{"question": a["id"], "criterion": a["criterion"], "finding": f"{a['question']} Answer: {a['answer']}.", "owner_role": a["owner_role"],
                 "owner": _role(profile, a["owner_role"]), "due": due.isoformat()} for a in answers if a["answer"] in ("no", "unknown")]
    if res["band"] == "high" and decision in ("approve", "approve_with_conditions") and not risk_accepted_by:
        findings.append({"question": None, "criterion": "risk acceptance", "finding": "Residual risk is High: enter it in the risk register and record the CEO's acceptance before approval (VMP-5.1).",
                         "owner_role": "ceo", "owner": _role(profile, "ceo"), "due": on.isoformat()})
    suggested = "reject" if res["band"] == "high" else "approve_with_conditions" if findings else "approve"
    controls = ["VEN-02", "VEN-04"] + (["VEN-05"] if v.is_ai else [])
    return {
        "kind": "vendor-assessment",
        "vendor": v.name,
        "service": v.service,
        "vendor_kind": v.kind,
        "criticality": v.criticality,
        "data_shared": list(v.data_shared),
        "date": on.isoformat(),
        "assessor": assessor,
        "method": "inherent = (sensitivity x criticality) x likelihood; residual = inherent x (1 - 0.8 x effectiveness); bands High >= 18, Medium >= 8 (docs/vendors.md)",
        "inherent": inh,
        "residual": res,
        "answers": answers,
        "findings": findings,
        "decision": decision or suggested,
        "decision_suggested": suggested,
        "risk_accepted_by": risk_accepted_by,
        "controls": controls,
    }


def read_answers(path: Path, v: Vendor) -> tuple[dict[str, tuple[str, str, str]], AnswersFile]:
    document = load_document(path, what="answers file")
    parsed: AnswersFile = validate(AnswersFile, document, source=path, what="answers file")
    wanted = {q.id for q in questions_for(v)}
    problems: list[tuple[Location, str, str | None]] = []
    out: dict[str, tuple[str, str, str]] = {}
    for qid, item in parsed.answers.items():
        if qid not in BY_ID:
            guess = suggest(qid, sorted(wanted))
            problems.append((located(document, path, ("answers", qid)), f"unknown question {qid!r}" + (f" (did you mean '{guess}'?)" if guess else ""),
                             f"questions for this vendor: {', '.join(sorted(wanted))}"))
        elif qid not in wanted:
            why = "asked only of AI model or AI service providers" if BY_ID[qid].ai_only and not v.is_ai else "does not apply to this vendor"
            problems.append((located(document, path, ("answers", qid)), f"question {qid} {why}", "remove it"))
        else:
            out[qid] = (item.answer, item.evidence, item.note)
    missing = sorted(wanted - set(out))
    if missing:
        problems.append((located(document, path, ("answers",)), f"unanswered question(s): {', '.join(missing)}", "answer each with yes, no, na or unknown"))
    if problems:
        raise FileProblems("answers file", problems)
    return out, parsed


@dataclass
class Stored:
    record: dict[str, Any]
    path: Path
    evidence_id: int | None
    report_evidence_id: int | None


def run_assessment(ws, name: str, given: dict[str, tuple[str, str, str]], *, on: dt.date, assessor: str = "", decision: str | None = None,
                   risk_accepted_by: str = "", report: Path | None = None, store_evidence: bool = True) -> Stored:
    """Score, store the vendor report (optional) and the assessment as evidence, write
    ``vendors/assessments/<vendor>-<date>.yaml`` and record ``last_review`` in the register."""
    from soc2kit.evidence.store import EvidenceStore, NewEvidence

    loaded = load_register(ws, must_exist=True)
    v = loaded.get(name)
    if report is not None and not report.is_file():
        raise UserError("vendor report not found" if not report.exists() else "the vendor report must be a file", location=Location(report))
    record = score_assessment(v, ws.profile, given, on=on, assessor=assessor, decision=decision, risk_accepted_by=risk_accepted_by)
    target = ws.root / ASSESSMENTS_DIR / f"{v.slug}-{on.isoformat()}.yaml"
    ev_id = rep_id = None
    if store_evidence:
        store = EvidenceStore.open(ws)
        try:
            if report is not None:
                rep = store.add(NewEvidence(controls=["VEN-02", "VEN-04"], path=report, description=f"Assurance report of {v.name} filed with its assessment of {on.isoformat()}",
                                            source_kind="assessment", source_id=v.name))
                rep_id = rep.id
                record["report"] = {"file": report.name, "sha256": rep.sha256, "evidence_id": rep.id}
            body = (json.dumps(record, indent=1, ensure_ascii=False) + "\n").encode()
            rec = store.add(NewEvidence(controls=record["controls"], data=body, name=f"vendor-assessment-{v.slug}-{on.isoformat()}.json",
                                        description=f"Assessment of {v.name} on {on.isoformat()}: inherent {record['inherent']['band']}, residual {record['residual']['band']} ({record['residual']['score']}), {len(record['findings'])} finding(s), decision {record['decision']}",
                                        period=(on, on), source_kind="assessment", source_id=v.name))
            ev_id = rec.id
            store.record("vendor.assess", {"vendor": v.name, "evidence_id": rec.id, "residual": record["residual"]["score"], "decision": record["decision"]})
        finally:
            store.close()
    elif report is not None:
        record["report"] = {"file": report.name, "evidence_id": None}
    text = dump_yaml({**record, "evidence_id": ev_id})
    atomic_write_text(target, "# Vendor assessment written by `soc2kit vendor assess`; the stored evidence is the JSON body without evidence_id.\n" + text)
    set_last_review(ws, v.name, on)
    return Stored(record, target, ev_id, rep_id)


def list_assessments(ws, name: str | None = None) -> list[dict[str, Any]]:
    """The assessment files in the workspace, newest last (optionally for one vendor)."""
    from soc2kit._yaml import to_plain

    folder = ws.root / ASSESSMENTS_DIR
    out = []
    for p in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        data = to_plain(load_document(p, what="vendor assessment"))
        if isinstance(data, dict) and (name is None or str(data.get("vendor", "")).lower() == name.lower()):
            data["file"] = str(p.relative_to(ws.root))
            out.append(data)
    out.sort(key=lambda d: str(d.get("date", "")))
    return out
