"""The kit never tells a company it is compliant or certified (docs/language.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from soc2kit.library import load_catalog
from soc2kit.profile import parse_profile_text
from soc2kit.render.context import build_context
from soc2kit.render.policies import render_policies
from soc2kit.render.selection import select_controls
from soc2kit.workspace.init import example_names, example_text

CLAIMS = re.compile(
    r"\b(?:is|are|be|being|become|becomes|became|remain|remains|fully|guarantee[sd]?|achieve[sd]?|make[s]?)\s+(?:\w+\s+)?(?:soc\s?2\s+)?(?:compliant|certified)\b"
    r"|\bsoc\s?2\s+(?:compliant|certified|certification|certificate|compliance)\b"
    r"|\bpass(?:es|ed)?\s+(?:the\s+|a\s+)?soc\s?2\b",
    re.IGNORECASE,
)
SRC = Path(__file__).resolve().parent.parent / "src" / "soc2kit"


@pytest.mark.parametrize("example", example_names())
def test_rendered_policies_and_controls_make_no_compliance_claims(example):
    catalog = load_catalog()
    profile = parse_profile_text(example_text(example))
    texts = [d.text for d in render_policies(catalog, profile)]
    for v in select_controls(catalog, profile, build_context(profile)):
        texts += [v.statement, v.test_procedure.pass_criteria]
    hits = [m.group(0) for t in texts for m in CLAIMS.finditer(t)]
    assert hits == []


def test_the_kits_own_text_makes_no_compliance_claims():
    hits = []
    for path in SRC.rglob("*"):
        if path.suffix in {".py", ".j2", ".yaml", ".md", ".html", ".css"} and path.is_file():
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if CLAIMS.search(line) and "CLAIMS" not in line:
                    hits.append(f"{path.relative_to(SRC)}:{n}: {line.strip()[:120]}")
    assert hits == []


def test_the_pattern_catches_the_claims_it_should():
    for bad in ("Acme is SOC 2 compliant.", "becomes fully certified", "passes SOC 2", "SOC 2 certification", "is compliant with CC6.1"):
        assert CLAIMS.search(bad), bad
    for ok in ("an ISO/IEC 27001 certificate", "the vendor's SOC 2 Type II report", "non-compliant devices are quarantined"):
        assert not CLAIMS.search(ok), ok
