"""`soc2kit lint`: every problem at once, each with file:line and key path."""

from __future__ import annotations

import json
import shutil

from conftest import write
from soc2kit.library.loader import CONTENT_DIR
from soc2kit.lint import lint_workspace


def test_a_fresh_example_workspace_lints_clean(cli, workspace):
    root = workspace("genai-platform")
    r = cli("-w", root, "lint", "--strict")
    assert r.code == 0, r.out + r.err
    assert "0 error(s), 0 warning(s)" in r.out


def test_bundled_content_lints_clean_outside_a_workspace(cli, tmp_path):
    r = cli("-w", tmp_path, "lint", "--strict")
    assert r.code == 0, r.out + r.err


def test_all_problems_are_reported_at_once_with_locations(cli, workspace):
    root = workspace("llm-startup")
    doc = root / "policies" / "access-control.md"
    lines = doc.read_text().splitlines()
    lines.insert(20, "**ACP-9.9** The team reviews things. *Controls: AC-99.*")
    lines.insert(21, "Owner: TBD")
    lines.insert(22, "Welcome to {{ company.name }}")
    doc.write_text("\n".join(lines) + "\n")
    prof = root / "soc2kit.yaml"
    prof.write_text(prof.read_text() + "colud: [aws]\n")
    r = cli("-w", root, "lint", "--format", "json")
    assert r.code == 1
    data = json.loads(r.out)
    found = {(p["code"], p["file"], p["line"]) for p in data["problems"]}
    assert ("dangling-control", "policies/access-control.md", 21) in found
    assert ("placeholder", "policies/access-control.md", 22) in found
    assert ("placeholder", "policies/access-control.md", 23) in found
    unknown = [p for p in data["problems"] if p["code"] == "unknown-profile-key"]
    assert unknown and unknown[0]["key"] == "colud" and "did you mean 'cloud'" in unknown[0]["message"]
    assert unknown[0]["file"].endswith("soc2kit.yaml") and unknown[0]["line"] == len(prof.read_text().splitlines())


def test_warnings_fail_only_in_strict_mode(cli, workspace):
    root = workspace("llm-startup")
    prof = root / "soc2kit.yaml"
    prof.write_text(prof.read_text().replace("  people_lead: Jo Park, Operations Manager\n", ""))
    r = cli("-w", root, "lint")
    assert r.code == 0 and "unassigned-role" in r.out
    r = cli("-w", root, "lint", "--strict")
    assert r.code == 1


def test_in_scope_criterion_without_control_is_an_error(tmp_path, workspace):
    root = workspace("llm-startup")
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    path = content / "controls" / "phy.yaml"
    path.write_text(path.read_text().replace("CC6.4", "CC6.1"))
    problems = lint_workspace(root, content_dir=content)
    assert any(p.code == "criterion-without-control" and p.location.key == "CC6.4" for p in problems)


def test_content_errors_are_located(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    ac = content / "controls" / "ac.yaml"
    text = ac.read_text()
    text = text.replace("criteria: [CC6.1]", "criteria: [CC6.1, CC99.9]", 1)
    text = text.replace("frequency: quarterly", "frequency: fortnightly", 1)
    ac.write_text(text)
    tpl = content / "policies" / "access-control.md.j2"
    tpl.write_text(tpl.read_text() + "\nSee {{ company.nmae }} and control ZZ-01 and AC-77.\n")
    write(content / "controls" / "zzz.yaml", "area: ZZZ\nname: nope\ncontrols: []\n")
    problems = lint_workspace(tmp_path / "no-workspace", content_dir=content)
    codes = {(p.code, str(p.location.path).split("/")[-1]) for p in problems}
    assert ("dangling-criterion", "ac.yaml") in codes
    assert ("content-schema", "ac.yaml") in codes
    assert ("unknown-area", "zzz.yaml") in codes
    assert ("dangling-control", "access-control.md.j2") in codes
    templ = [p for p in problems if p.code == "template"]
    assert templ and "nmae" in templ[0].message and templ[0].location.line == len(tpl.read_text().splitlines())
    schema = [p for p in problems if p.code == "content-schema"]
    assert all(p.location.line for p in schema)


def test_a_statement_without_a_control_and_a_control_without_text_are_errors(cli, workspace):
    root = workspace("llm-startup")
    doc = root / "policies" / "access-control.md"
    text = doc.read_text()
    lines = text.splitlines()
    n = next(i for i, line in enumerate(lines) if line.startswith("**ACP-4.1**"))
    lines[n] = "**ACP-4.1** Every workforce member uses a unique named account."  # citation removed
    lines.insert(n + 1, "")
    lines.insert(n + 2, "**ACP-4.1** A second statement with the same id. *Controls: AC-07.*")
    doc.write_text("\n".join(lines) + "\n")
    for other in (root / "policies").glob("*.md"):  # AC-01 is now stated nowhere
        other.write_text(other.read_text().replace("AC-01", "AC-07"))
    data = json.loads(cli("-w", root, "lint", "--format", "json").out)
    found = {(p["code"], p["file"], p["line"]) for p in data["problems"]}
    assert ("statement-without-control", "policies/access-control.md", n + 1) in found
    assert ("duplicate-statement", "policies/access-control.md", n + 3) in found
    assert any(p["code"] == "control-without-policy" and "AC-01" in p["message"] and p["severity"] == "error" for p in data["problems"])
