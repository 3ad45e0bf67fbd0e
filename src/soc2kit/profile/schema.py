"""The company profile (``soc2kit.yaml``): one Pydantic model, validated as a whole.

Every key has a documented meaning and default (``docs/profile.md`` is generated from the field
descriptions). Unknown keys are errors; :mod:`soc2kit.profile.load` turns them into messages with
file:line and a "did you mean" suggestion.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator, model_validator

UseCase = Literal[
    "llm_application", "ai_agent", "generative_media", "predictive_model",
    "computer_vision", "speech", "recommendation", "decision_support",
]
DataType = Literal["pii", "phi", "payment_card", "biometric", "children", "customer_confidential"]
Regulation = Literal["gdpr", "uk_gdpr", "ccpa", "hipaa", "eu_ai_act", "pci_dss", "coppa", "bipa"]
Category = Literal["security", "availability", "confidentiality", "processing_integrity", "privacy"]
Cloud = Literal["aws", "gcp", "azure", "oci", "on_prem", "other"]
Frequency = Literal["continuous", "daily", "weekly", "monthly", "quarterly", "semiannual", "annual", "per_event"]
ReviewInterval = Literal["monthly", "quarterly", "semiannual", "annual"]
RoleKey = Literal["ceo", "security_officer", "head_of_engineering", "head_of_ml", "privacy_officer", "people_lead", "legal_counsel"]

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean_text(value: str) -> str:
    if _CONTROL_CHARS.search(value):
        raise ValueError("contains control characters; remove them (only tabs and line breaks are allowed)")
    return value.strip()


Text = Annotated[str, Field(max_length=500)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


def _dedupe(values: list) -> list:
    seen: list = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value):
        if isinstance(value, str):
            return _clean_text(value)
        if isinstance(value, list):
            return [_clean_text(v) if isinstance(v, str) else v for v in value]
        return value


#: the strict base model other YAML files of the workspace share (the vendor register)
StrictModel = _Model


class Company(_Model):
    name: Name = Field(description="Legal or trading name used throughout the policies.")
    website: str | None = Field(default=None, max_length=300, description="Public website (http or https URL).")
    employees: StrictInt = Field(ge=1, le=1_000_000, description="Number of staff (employees and long-term contractors).")
    description: Text = Field(default="", description="One sentence on what the company does; used in scope sections and the system description.")
    has_offices: StrictBool = Field(default=True, description="The company operates offices; when false (fully remote), office physical-access controls do not apply.")

    @field_validator("website")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.fullmatch(r"https?://[^\s<>\"'`{}|\\^]+", value):
            raise ValueError("must be an http:// or https:// URL without spaces or quotes, e.g. https://acme.example")
        return value


class AI(_Model):
    trains_models: StrictBool = Field(default=False, description="The company trains or fine-tunes its own models.")
    uses_third_party_models: StrictBool = Field(default=False, description="The company calls models hosted by AI vendors (for example through an API).")
    use_cases: list[UseCase] = Field(default_factory=list, description="What the AI does, from a fixed vocabulary (see below).")
    automated_decisions: StrictBool = Field(default=False, description="Model outputs materially affect individuals (eligibility, pricing, hiring, clinical decisions).")
    model_providers: list[Name] = Field(default_factory=list, description="Names of hosted-model providers in use (e.g. OpenAI, Anthropic).")

    _dedupe_lists = field_validator("use_cases", "model_providers")(classmethod(lambda cls, v: _dedupe(v)))


class Data(_Model):
    types: list[DataType] = Field(default_factory=list, description="Kinds of sensitive data the company processes, from a fixed vocabulary.")
    customer_data_in_training: StrictBool = Field(default=False, description="Customer data is used to train or fine-tune models.")
    residency: list[Name] = Field(default_factory=list, description="Regions where customer data is stored (e.g. US, EU).")

    _dedupe_lists = field_validator("types", "residency")(classmethod(lambda cls, v: _dedupe(v)))


class ObservationPeriod(_Model):
    start: dt.date = Field(description="First day of the Type II observation window.")
    end: dt.date = Field(description="Last day of the Type II observation window.")

    @model_validator(mode="after")
    def _order(self) -> ObservationPeriod:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if (self.end - self.start).days > 366:
            raise ValueError("a SOC 2 Type II observation window is at most 12 months; shorten the period")
        return self

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class System(_Model):
    name: Name = Field(description="System name, e.g. 'Inference API'.")
    description: Text = Field(default="", description="What the system does and what data it holds.")


class Scope(_Model):
    tsc: list[Category] = Field(default_factory=lambda: ["security"], description="Trust Services Criteria categories in scope; security is always included.")
    observation_period: ObservationPeriod | None = Field(default=None, description="The Type II observation window (3 to 12 months).")
    systems: list[System] = Field(default_factory=list, description="Systems in scope of the report (each with name and description).")

    @field_validator("tsc")
    @classmethod
    def _security_first(cls, value: list[str]) -> list[str]:
        order = ["security", "availability", "confidentiality", "processing_integrity", "privacy"]
        chosen = set(value) | {"security"}
        return [c for c in order if c in chosen]


class Roles(_Model):
    ceo: Text = Field(default="", description="Person holding the Chief Executive Officer role.")
    security_officer: Text = Field(default="", description="Person accountable for the security program.")
    head_of_engineering: Text = Field(default="", description="Person owning production systems and change management.")
    head_of_ml: Text = Field(default="", description="Person owning models, training data and AI evaluation.")
    privacy_officer: Text = Field(default="", description="Person owning privacy notices and data-subject requests.")
    people_lead: Text = Field(default="", description="Person owning hiring, onboarding, offboarding and training records.")
    legal_counsel: Text = Field(default="", description="Person owning contracts and regulatory notifications.")


class VulnSLA(_Model):
    critical: StrictInt = Field(default=7, ge=1, le=365, description="Days to remediate a critical vulnerability.")
    high: StrictInt = Field(default=30, ge=1, le=365, description="Days to remediate a high vulnerability.")
    medium: StrictInt = Field(default=90, ge=1, le=730, description="Days to remediate a medium vulnerability.")
    low: StrictInt = Field(default=180, ge=1, le=730, description="Days to remediate a low vulnerability.")


Ratio = Annotated[float, Field(gt=0, le=1)]


class Parameters(_Model):
    """Numbers the policies and controls commit to. Defaults follow common audit practice."""

    access_review_interval: ReviewInterval = Field(default="quarterly", description="How often user access to production and restricted data is reviewed.")
    privileged_access_review_interval: ReviewInterval = Field(default="quarterly", description="How often privileged (admin) access is reviewed.")
    deprovision_hours: StrictInt = Field(default=24, ge=1, le=168, description="Hours to revoke all access after a person leaves.")
    role_change_days: StrictInt = Field(default=5, ge=1, le=30, description="Business days to adjust access after a role change.")
    credential_rotation_days: StrictInt = Field(default=90, ge=1, le=730, description="Maximum age of service-account keys and API tokens.")
    password_min_length: StrictInt = Field(default=12, ge=8, le=128, description="Minimum password length where passwords are used.")
    vuln_sla_days: VulnSLA = Field(default_factory=VulnSLA, description="Vulnerability remediation deadlines by severity.")
    pentest_interval: ReviewInterval = Field(default="annual", description="How often an independent penetration test is run.")
    log_retention_days: StrictInt = Field(default=365, ge=30, le=3650, description="Days security and audit logs are kept.")
    backup_interval: Literal["continuous", "daily", "weekly"] = Field(default="daily", description="How often production data is backed up.")
    backup_retention_days: StrictInt = Field(default=35, ge=1, le=3650, description="Days backups are kept.")
    restore_test_interval: ReviewInterval = Field(default="quarterly", description="How often a restore from backup is tested.")
    rto_hours: StrictInt = Field(default=24, ge=1, le=720, description="Recovery time objective in hours.")
    rpo_hours: StrictInt = Field(default=24, ge=1, le=720, description="Recovery point objective in hours.")
    sev1_response_minutes: StrictInt = Field(default=30, ge=5, le=1440, description="Minutes to engage an incident commander for a Sev-1 incident.")
    customer_breach_notice_hours: StrictInt = Field(default=72, ge=1, le=720, description="Hours to notify affected customers of a confirmed breach.")
    vendor_breach_notice_hours: StrictInt = Field(default=48, ge=1, le=720, description="Hours a vendor has to notify the company of a breach.")
    post_incident_review_days: StrictInt = Field(default=10, ge=1, le=60, description="Business days after closing a Sev-1/Sev-2 incident to hold the review.")
    training_days_after_hire: StrictInt = Field(default=30, ge=1, le=180, description="Days after start date to complete security awareness training.")
    training_interval: ReviewInterval = Field(default="annual", description="How often awareness training is repeated.")
    risk_assessment_interval: ReviewInterval = Field(default="annual", description="How often the full risk assessment is performed.")
    vendor_review_interval: ReviewInterval = Field(default="annual", description="How often high-criticality vendors are reviewed.")
    bias_dp_ratio_min: Ratio = Field(default=0.8, description="Minimum demographic parity ratio (the four-fifths rule).")
    bias_eo_difference_max: Ratio = Field(default=0.1, description="Maximum equalized-odds difference.")
    bias_min_group_size: StrictInt = Field(default=100, ge=1, le=1_000_000, description="Groups smaller than this are flagged rather than judged.")
    bias_test_interval: ReviewInterval = Field(default="quarterly", description="How often production models are re-tested for bias.")
    drift_psi_warning: Ratio = Field(default=0.1, description="PSI at which a feature's shift is investigated.")
    drift_psi_alert: Annotated[float, Field(gt=0, le=10)] = Field(default=0.25, description="PSI at which a feature's shift is an incident trigger.")
    performance_drop_max: Ratio = Field(default=0.05, description="Largest tolerated absolute drop of the primary metric against the release baseline.")
    model_monitoring_interval: Literal["continuous", "daily", "weekly"] = Field(default="daily", description="How often production model metrics are evaluated.")
    ai_inventory_review_interval: ReviewInterval = Field(default="quarterly", description="How often the AI system inventory is reviewed.")
    customer_data_deletion_days: StrictInt = Field(default=30, ge=1, le=365, description="Days after contract end to delete customer data.")
    dsar_response_days: StrictInt = Field(default=30, ge=1, le=90, description="Days to answer a data-subject request.")

    @model_validator(mode="after")
    def _bands(self) -> Parameters:
        if self.drift_psi_alert <= self.drift_psi_warning:
            raise ValueError("drift_psi_alert must be greater than drift_psi_warning")
        return self


class Documents(_Model):
    version: Annotated[str, Field(pattern=r"^\d+\.\d+$")] = Field(default="1.0", description="Version given to newly generated policies (MAJOR.MINOR).")
    effective_date: dt.date | None = Field(default=None, description="Effective date printed on new policies; default: the day of `init`.")
    review_interval: ReviewInterval = Field(default="annual", description="Review cadence of policies.")
    ai_review_interval: ReviewInterval = Field(default="quarterly", description="Review cadence of AI policies (the brief recommends quarterly).")
    approver: RoleKey = Field(default="ceo", description="Role that approves policies unless a policy names another.")


class EvidenceSettings(_Model):
    max_file_mb: StrictInt = Field(default=100, ge=1, le=10240, description="Largest evidence file accepted, in MiB.")


class Profile(_Model):
    """The whole company profile."""

    company: Company = Field(description="Who the company is.")
    ai: AI = Field(default_factory=AI, description="How the company builds and uses AI.")
    data: Data = Field(default_factory=Data, description="The sensitive data the company processes.")
    regulations: list[Regulation] = Field(default_factory=list, description="Regulations the company is subject to, from a fixed vocabulary.")
    scope: Scope = Field(default_factory=Scope, description="What the SOC 2 report covers.")
    cloud: list[Cloud] = Field(default_factory=list, description="Where production runs.")
    roles: Roles = Field(default_factory=Roles, description="Who holds each role named in the policies (\"Name, Title\").")
    parameters: Parameters = Field(default_factory=Parameters, description="Numbers the policies and controls commit to.")
    documents: Documents = Field(default_factory=Documents, description="Document control defaults for generated policies.")
    evidence: EvidenceSettings = Field(default_factory=EvidenceSettings, description="Evidence store settings.")
    database_url: str | None = Field(default=None, max_length=1000, description="SQLAlchemy URL of a shared evidence store (PostgreSQL); default: soc2kit.db in the workspace. The SOC2KIT_DATABASE_URL environment variable takes precedence.")

    _dedupe_lists = field_validator("regulations", "cloud")(classmethod(lambda cls, v: _dedupe(v)))
