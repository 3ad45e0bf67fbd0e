"""The bundled content: complete criteria, valid controls, every criterion covered."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import SHARED
from soc2kit.library import AREAS, load_catalog
from soc2kit.library.models import CHECK_IDS
from soc2kit.profile import parse_profile_text
from soc2kit.render.context import build_context
from soc2kit.render.selection import select_controls
from soc2kit.workspace.init import example_names, example_text

# A copy of shared/reference/ (identifiers only) so the test runs anywhere; when the shared folder
# sits beside the repository, it is checked to be identical to the copy.
REFERENCE = Path(__file__).parent / "data" / "reference"


def test_reference_copy_matches_the_shared_reference():
    shared = SHARED / "reference"
    if not shared.exists():
        pytest.skip("shared/reference is not beside this checkout; the bundled copy is used")
    for path in REFERENCE.glob("*.json"):
        assert path.read_bytes() == (shared / path.name).read_bytes(), path.name


def test_catalog_loads_without_problems():
    problems = []
    load_catalog(problems=problems)
    assert [str(p) for p in problems if p.severity == "error"] == []


def test_catalog_criteria_equal_the_61_reference_ids():
    catalog = load_catalog()
    ref_path = REFERENCE / "tsc-2017.json"
    reference = json.loads(ref_path.read_text())
    assert list(catalog.criteria) == [c["id"] for c in reference["criteria"]]
    assert len(catalog.criteria) == 61
    for c in reference["criteria"]:
        assert catalog.criteria[c["id"]].category == c["category"]


def test_bundled_framework_ids_match_the_reference():
    catalog = load_catalog()
    for key, name in (("iso42001", "iso42001-annexA.json"), ("nist_ai_rmf", "nist-ai-rmf.json"), ("iso27001", "iso27001-2022-annexA.json")):
        path = REFERENCE / name
        text = path.read_text()
        ref_ids = set(re.findall(r'"id":\s*"([^"]+)"', text))
        assert set(catalog.frameworks[key]) <= ref_ids
    assert len(catalog.frameworks["iso42001"]) == 38
    assert len(catalog.frameworks["nist_ai_rmf"]) == 72
    assert len(catalog.frameworks["iso27001"]) == 93


def test_every_criterion_maps_to_at_least_one_control():
    catalog = load_catalog()
    missing = [cid for cid in catalog.criteria if not catalog.controls_for(cid)]
    assert missing == []


def test_control_ids_follow_the_area_scheme_and_checks_are_known():
    catalog = load_catalog()
    for c in catalog.controls.values():
        area, num = c.id.split("-")
        assert area in AREAS and area == c.area and len(num) == 2
        assert c.check is None or c.check in CHECK_IDS
        if c.ai_specific:
            assert c.crosswalk["iso42001"] or c.crosswalk["nist_ai_rmf"], c.id


def test_the_five_essential_policies_are_present():
    catalog = load_catalog()
    for pid in ("information-security", "data-management", "access-control", "incident-response", "vendor-management"):
        assert pid in catalog.policies
        assert catalog.policies[pid].applies_when is None


@pytest.mark.parametrize("example", example_names())
def test_each_in_scope_criterion_has_an_applicable_control_for_each_example(example):
    catalog = load_catalog()
    profile = parse_profile_text(example_text(example))
    views = select_controls(catalog, profile, build_context(profile))
    applicable = {v.id for v in views if v.applicable}
    for crit in catalog.criteria.values():
        if crit.category in profile.scope.tsc:
            assert any(c.id in applicable for c in catalog.controls_for(crit.id)), crit.id


def test_there_are_at_least_three_distinct_examples():
    names = example_names()
    assert {"llm-startup", "healthtech", "genai-platform"} <= set(names)
    profiles = {n: parse_profile_text(example_text(n)) for n in names}
    assert not profiles["llm-startup"].ai.trains_models and profiles["llm-startup"].ai.uses_third_party_models
    assert profiles["healthtech"].ai.trains_models and "phi" in profiles["healthtech"].data.types and "hipaa" in profiles["healthtech"].regulations
    assert profiles["genai-platform"].ai.trains_models and "eu_ai_act" in profiles["genai-platform"].regulations
