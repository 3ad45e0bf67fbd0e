"""Docs stay honest: every command is documented, generated references are current."""

from __future__ import annotations

import re
from pathlib import Path

from soc2kit import _docgen

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_command_has_a_section_in_the_command_reference():
    text = (DOCS / "cli.md").read_text()
    for name in _docgen.command_names():
        assert f"\n## soc2kit {name}\n" in text, f"command {name!r} is undocumented: run `make docs`"


def test_generated_references_are_current():
    for name, make in _docgen.GENERATED.items():
        assert (DOCS / name).read_text() == make(), f"docs/{name} is stale: run `make docs`"


def test_every_profile_key_is_documented():
    from soc2kit.profile.schema import Profile

    text = (DOCS / "profile.md").read_text()
    for section, field in Profile.model_fields.items():
        assert f"| `{section}` |" in text
        model = field.annotation
        for key in getattr(model, "model_fields", {}):
            assert f"| `{section}.{key}` |" in text


def test_tutorial_mentions_every_command():
    text = (DOCS / "tutorial.md").read_text()
    for name in _docgen.command_names():
        assert re.search(rf"soc2kit (?:[-\w/ ]+ )?{name}\b", text), f"the tutorial never shows `soc2kit {name}`"


def test_readme_quick_start_is_the_two_make_commands():
    readme = (DOCS.parent / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "make demo" in quick and "make test" in quick
