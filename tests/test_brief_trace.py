"""Every bullet of the product brief is answered by controls the policies state."""

from __future__ import annotations

from pathlib import Path

from soc2kit import _docgen
from soc2kit.library import load_catalog

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_bullet_has_controls_that_exist_and_are_stated_in_a_policy():
    catalog = load_catalog()
    index = _docgen.statement_index()
    problems = []
    for section in _docgen.load_brief():
        for bullet in section["bullets"]:
            controls = bullet.get("controls", [])
            if not controls:
                problems.append(f"{bullet['text']}: no control")
            for cid in controls:
                if cid not in catalog.controls:
                    problems.append(f"{bullet['text']}: unknown control {cid}")
                elif not index.get(cid):
                    problems.append(f"{bullet['text']}: {cid} is stated in no policy of any example")
    assert problems == []


def test_the_brief_trace_covers_every_section_of_the_brief():
    titles = [s["title"] for s in _docgen.load_brief()]
    for needed in ("Information Security Policy: core components", "Information Security Policy: AI-specific additions",
                   "Access Control Policy: AI-specific access controls", "Incident Response Policy: AI-specific incident types",
                   "Vendor Management Policy: AI vendor considerations", "Phase 1: gap analysis and planning",
                   "Phase 4: monitoring and continuous improvement"):
        assert needed in titles
    assert sum(len(s["bullets"]) for s in _docgen.load_brief()) >= 70


def test_the_generated_brief_trace_is_current():
    assert (DOCS / "brief-trace.md").read_text() == _docgen.brief_trace(), "docs/brief-trace.md is stale: run `make docs`"
