"""`soc2kit init`: examples, own profiles, and every bad input from the issue (exit 2, one clear
message, nothing written)."""

from __future__ import annotations

import hashlib
import json

from conftest import tree, write

GOOD = """\
company: {name: "Tiny Models, Inc.", employees: 7}
ai: {uses_third_party_models: true, use_cases: [llm_application]}
data: {types: [pii]}
scope: {tsc: [security], observation_period: {start: 2027-01-01, end: 2027-06-30}}
roles: {security_officer: "Ana Ruiz, CTO"}
"""


def test_init_from_example_creates_a_complete_workspace(cli, tmp_path):
    root = tmp_path / "acme"
    r = cli("init", root, "--example", "healthtech")
    assert r.code == 0, r.err
    assert "Workspace ready" in r.out
    files = tree(root)
    assert "soc2kit.yaml" in files and ".gitignore" in files and "README.md" in files
    policies = sorted(f for f in files if f.startswith("policies/"))
    assert len(policies) >= 5
    state = json.loads(files[".soc2kit/state.json"])
    assert state["kit_version"] and set(state["policies"]) == {p[len("policies/"):-3] for p in policies}
    for p in policies:  # a pristine base copy of each document for later updates
        assert files[f".soc2kit/base/{p}"] == files[p]
    # what `soc2kit update` merges from: the profile used, and per document its base, date, kit and profile
    assert files[".soc2kit/profile.yaml"] == files["soc2kit.yaml"]
    assert set(state["documents"]) == set(state["policies"])
    for pid, entry in state["documents"].items():
        assert entry["path"] == f"policies/{pid}.md" and entry["kit_version"] == state["kit_version"]
        assert entry["profile_sha256"] == state["profile_sha256"] and entry["rendered_on"] == state["created_on"]
        assert entry["base_sha256"] == hashlib.sha256(files[f".soc2kit/base/{entry['path']}"]).hexdigest()
    text = files["policies/access-control.md"].decode()
    assert "Meridian Clinical AI, Inc." in text and "version: '1.0'" in text and "next_review:" in text


def test_init_from_own_profile(cli, tmp_path):
    prof = write(tmp_path / "me.yaml", GOOD)
    r = cli("init", tmp_path / "ws", "--profile", prof)
    assert r.code == 0, r.err
    assert (tmp_path / "ws" / "soc2kit.yaml").read_text() == GOOD  # kept verbatim, comments and all


def test_init_defaults_to_the_workspace_option(cli, tmp_path):
    r = cli("--workspace", tmp_path / "via-option", "init", "--example", "llm-startup")
    assert r.code == 0, r.err
    assert (tmp_path / "via-option" / "policies").is_dir()


def _assert_refused(r, *needles):
    assert r.code == 2, (r.out, r.err)
    assert "Traceback" not in r.err
    assert r.err.startswith("error: ")
    for n in needles:
        assert n in r.err, r.err


def test_malformed_yaml_names_file_line_and_column(cli, tmp_path):
    prof = write(tmp_path / "bad.yaml", "company:\n  name: Acme\n  employees: [40\nai: {}\n")
    r = cli("init", tmp_path / "ws", "--profile", prof)
    _assert_refused(r, "bad.yaml:", "malformed YAML")
    assert not (tmp_path / "ws").exists()


def test_wrong_types_are_refused(cli, tmp_path):
    prof = write(tmp_path / "p.yaml", "company: {name: Acme, employees: lots}\nai: {trains_models: sometimes}\n")
    r = cli("init", tmp_path / "ws", "--profile", prof)
    _assert_refused(r, "company.employees", "ai.trains_models", "p.yaml:1")
    assert not (tmp_path / "ws").exists()


def test_unknown_keys_are_refused_with_a_suggestion(cli, tmp_path):
    prof = write(tmp_path / "p.yaml", GOOD + "regulation: [gdpr]\n")
    r = cli("init", tmp_path / "ws", "--profile", prof)
    _assert_refused(r, "unknown key 'regulation'", "did you mean 'regulations'", "p.yaml:6")
    assert not (tmp_path / "ws").exists()


def test_missing_profile_file(cli, tmp_path):
    r = cli("init", tmp_path / "ws", "--profile", tmp_path / "nope.yaml")
    _assert_refused(r, "nope.yaml", "not found")
    assert not (tmp_path / "ws").exists()


def test_unknown_example_name(cli, tmp_path):
    r = cli("init", tmp_path / "ws", "--example", "healthtek")
    _assert_refused(r, "unknown example 'healthtek'", "did you mean 'healthtech'", "llm-startup")
    assert not (tmp_path / "ws").exists()


def test_example_and_profile_together_are_refused(cli, tmp_path):
    prof = write(tmp_path / "p.yaml", GOOD)
    r = cli("init", tmp_path / "ws", "--profile", prof, "--example", "healthtech")
    _assert_refused(r, "either --example or --profile")


def test_no_profile_and_no_terminal_is_refused(cli, tmp_path, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    r = cli("init", tmp_path / "ws")
    _assert_refused(r, "--example NAME", "--profile FILE")


def test_non_empty_target_is_refused_without_force(cli, tmp_path):
    target = tmp_path / "ws"
    write(target / "notes.txt", "mine")
    before = tree(target)
    r = cli("init", target, "--example", "llm-startup")
    _assert_refused(r, "not empty", "--force")
    assert tree(target) == before


def test_force_never_overwrites_an_edited_file(cli, tmp_path):
    target = tmp_path / "ws"
    assert cli("init", target, "--example", "llm-startup").code == 0
    edited = target / "policies" / "access-control.md"
    edited.write_text(edited.read_text() + "\nOur own addition.\n")
    (target / "policies" / "vendor-management.md").unlink()
    write(target / "notes.txt", "mine")
    r = cli("init", target, "--example", "llm-startup", "--force")
    assert r.code == 0, r.err
    assert "Our own addition." in edited.read_text()
    assert "kept policies/access-control.md" in r.err
    assert (target / "policies" / "vendor-management.md").exists()  # missing file restored
    assert (target / "notes.txt").read_text() == "mine"


def test_force_refreshes_untouched_files_for_a_changed_profile(cli, tmp_path):
    target = tmp_path / "ws"
    prof = write(tmp_path / "p.yaml", GOOD)
    assert cli("init", target, "--profile", prof).code == 0
    (target / "soc2kit.yaml").unlink()
    prof2 = write(tmp_path / "p2.yaml", GOOD.replace("Tiny Models, Inc.", "Renamed Models, Inc."))
    r = cli("init", target, "--profile", prof2, "--force")
    assert r.code == 0, r.err
    assert "Renamed Models, Inc." in (target / "policies" / "access-control.md").read_text()


def test_hostile_profile_strings_are_rendered_literally_and_escaped(cli, tmp_path):
    hostile = "Evil {{ 7*7 }} {% if true %}x{% endif %} <script>alert(1)</script> *bold* [a](javascript:alert(1))"
    prof = write(tmp_path / "p.yaml", GOOD.replace('"Tiny Models, Inc."', json.dumps(hostile)).replace('"Ana Ruiz, CTO"', json.dumps("<img src=x onerror=alert(1)>")))
    r = cli("init", tmp_path / "ws", "--profile", prof)
    assert r.code == 0, r.err
    md = (tmp_path / "ws" / "policies" / "access-control.md").read_text()
    assert "49" not in md.split("\n# ")[1].split("\n")[0]
    assert "Evil \\{\\{ 7\\*7 \\}\\}" in md  # literal, Markdown-escaped
    r = cli("--workspace", tmp_path / "ws", "build")
    assert r.code == 0, r.err
    for page in (tmp_path / "ws" / "dist" / "html").rglob("*.html"):
        html = page.read_text()
        assert "<script" not in html and "<img" not in html and 'href="javascript:' not in html, page
    html = (tmp_path / "ws" / "dist" / "html" / "policies" / "access-control.html").read_text()
    assert "Evil {{ 7*7 }} {% if true %}x{% endif %} &lt;script&gt;" in html


def test_profile_error_leaves_an_existing_workspace_untouched(cli, tmp_path):
    target = tmp_path / "ws"
    assert cli("init", target, "--example", "llm-startup").code == 0
    before = tree(target)
    prof = write(tmp_path / "p.yaml", "company: {name: X}\n")
    r = cli("init", target, "--profile", prof, "--force")
    _assert_refused(r, "company.employees")
    assert tree(target) == before


def test_target_that_is_a_file_is_refused(cli, tmp_path):
    f = write(tmp_path / "file", "x")
    r = cli("init", f, "--example", "llm-startup")
    _assert_refused(r, "not a directory")


def test_a_render_error_writes_nothing(cli, tmp_path, monkeypatch):
    from soc2kit.errors import RenderError

    def broken(*a, **k):
        raise RenderError("undefined template variable: 'x' is undefined")

    monkeypatch.setattr("soc2kit.workspace.init.render_policies", broken)
    r = cli("init", tmp_path / "ws", "--example", "llm-startup")
    _assert_refused(r, "undefined template variable")
    assert not (tmp_path / "ws").exists()
    assert list(tmp_path.iterdir()) == []
