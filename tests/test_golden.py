"""Golden documents: each example profile renders exactly the reviewed text.

Refresh only with `make golden` (SOC2KIT_UPDATE_GOLDEN=1), then read the diff before committing.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
from pathlib import Path

import pytest

from soc2kit.render.build import build
from soc2kit.workspace import Workspace
from soc2kit.workspace.init import example_names, example_text, init_workspace

GOLDEN = Path(__file__).parent / "golden"
TODAY = dt.date(2026, 11, 27)
UPDATE = os.environ.get("SOC2KIT_UPDATE_GOLDEN") == "1"


def rendered_files(root: Path) -> dict[str, str]:
    files = {f"policies/{p.name}": p.read_text() for p in sorted((root / "policies").glob("*.md"))}
    files["control-matrix.csv"] = (root / "dist" / "control-matrix.csv").read_text()
    return files


@pytest.mark.parametrize("example", example_names())
def test_example_renders_its_golden_documents(example, tmp_path):
    root = tmp_path / example
    init_workspace(root, example_text(example), today=TODAY)
    build(Workspace.open(root), formats=["md"], today=TODAY)
    actual = rendered_files(root)
    golden_dir = GOLDEN / example
    if UPDATE:
        if golden_dir.exists():
            for old in golden_dir.rglob("*"):
                if old.is_file():
                    old.unlink()
        for rel, text in actual.items():
            (golden_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (golden_dir / rel).write_text(text)
        return
    assert golden_dir.exists(), f"no golden documents for {example}: run `make golden` and review the result"
    expected = {str(p.relative_to(golden_dir)): p.read_text() for p in sorted(golden_dir.rglob("*")) if p.is_file()}
    assert sorted(actual) == sorted(expected), "the set of rendered documents changed; run `make golden` and review"
    for rel in expected:
        if actual[rel] != expected[rel]:
            diff = "".join(difflib.unified_diff(expected[rel].splitlines(True), actual[rel].splitlines(True), f"golden/{rel}", f"rendered/{rel}", n=1))
            pytest.fail(f"{example}: {rel} differs from its golden copy (refresh with `make golden` if intended):\n{diff[:4000]}")
