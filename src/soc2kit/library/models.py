"""Typed content: criteria, controls, policy templates and the catalog that joins them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from soc2kit.errors import Location

AREAS: dict[str, str] = {
    "GOV": "Governance and control environment",
    "RSK": "Risk management",
    "HR": "People and training",
    "AIG": "AI governance",
    "AC": "Access control",
    "NET": "Network security",
    "CRY": "Cryptography and secrets",
    "OPS": "Security operations",
    "PHY": "Physical security and media disposal",
    "CHG": "Change management and secure development",
    "MDL": "Model lifecycle and model security",
    "DAT": "Data management and processing integrity",
    "TRD": "Training data governance",
    "PRV": "Privacy",
    "IR": "Incident response",
    "BCP": "Business continuity and availability",
    "VEN": "Vendor and AI-provider management",
}

CHECK_IDS: dict[str, str] = {
    "ai.bias": "bias and fairness metrics over predictions",
    "ai.drift": "data drift between a reference and a current dataset",
    "ai.performance": "model performance against the release baseline",
    "ai.dataset": "dataset integrity manifest",
    "ai.registry": "model registry audit trail",
    "access.review": "user access review against the HR roster",
}

FRAMEWORKS: dict[str, str] = {
    "iso42001": "ISO/IEC 42001:2023 Annex A",
    "nist_ai_rmf": "NIST AI RMF 1.0",
    "iso27001": "ISO/IEC 27001:2022 Annex A",
}


@dataclass(frozen=True)
class Criterion:
    id: str
    category: str
    series: str
    group: str
    title: str
    summary: str


@dataclass(frozen=True)
class TestProcedure:
    inquiry: str
    inspection: str
    observation: str
    reperformance: str
    pass_criteria: str


@dataclass(frozen=True)
class Control:
    id: str
    area: str
    title: str
    statement: str  #: Jinja text; render with ``render.text`` for a profile
    criteria: tuple[str, ...]
    crosswalk: dict[str, tuple[str, ...]]
    frequency: str  #: the default; see ``frequency_param``
    frequency_param: str | None  #: a profile parameter (e.g. access_review_interval) that sets the frequency
    owner: str  #: role key
    ai_specific: bool
    applies_when: str | None
    check: str | None
    evidence: tuple[str, ...]
    test_procedure: TestProcedure
    location: Location = field(default_factory=Location, compare=False)


@dataclass(frozen=True)
class PolicyTemplate:
    id: str
    title: str
    code: str
    owner: str
    approver: str | None
    ai_policy: bool
    applies_when: str | None
    summary: str
    body: str  #: Jinja source; front matter replaced by blank lines so line numbers match the file
    path: Path
    source: str  #: whole file text

    @property
    def location(self) -> Location:
        return Location(self.path)


@dataclass
class Catalog:
    criteria: dict[str, Criterion]
    controls: dict[str, Control]
    policies: dict[str, PolicyTemplate]
    frameworks: dict[str, dict[str, str]]  #: framework key -> {id: title}

    def controls_for(self, criterion_id: str) -> list[Control]:
        return [c for c in self.controls.values() if criterion_id in c.criteria]

    def categories(self) -> dict[str, list[Criterion]]:
        out: dict[str, list[Criterion]] = {}
        for crit in self.criteria.values():
            out.setdefault(crit.category, []).append(crit)
        return out
