"""`soc2kit update`: the company's edits stay, template improvements and profile changes arrive.

Stories run the real CLI on real workspaces; the "newer kit" is tests/data/templates-next applied
through the maintainer hook SOC2KIT_TEMPLATE_DIR. Properties (hypothesis) pin the two promises:
no company edit → the update equals a fresh render; no template or profile change → the company's
files are byte-identical.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import tree
from soc2kit import __version__
from soc2kit.library import load_catalog
from soc2kit.library.loader import CONTENT_DIR
from soc2kit.render.policies import add_months, render_policies
from soc2kit.workspace import Workspace, read_state
from soc2kit.workspace.frontmatter import conflict_lines
from soc2kit.workspace.update import TEMPLATE_DIR_ENV, catalog_with_templates, merge_document, update_workspace

NEXT = Path(__file__).parent / "data" / "templates-next"
AC = "policies/access-control.md"
NEW_SECTION = "## Access by AI agents"


def insert_before(source: str, heading_word: str, text: str) -> str:
    lines = source.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("## ") and heading_word in line:
            return "".join(lines[:i]) + text.rstrip("\n") + "\n\n" + "".join(lines[i:])
    raise AssertionError(f"no '## ' heading containing {heading_word!r}: update tests/data/templates-next/changes.yaml")


def next_templates(target: Path, changes: dict | None = None, *, with_new: bool = True) -> Path:
    """Build a "newer kit" template directory: the bundled templates with ``changes`` applied, plus new policies."""
    out = target / "templates-next"
    (out / "policies").mkdir(parents=True, exist_ok=True)
    spec = yaml.safe_load((NEXT / "changes.yaml").read_text()) if changes is None else changes
    for template_id, edits in spec.items():
        source = (CONTENT_DIR / "policies" / f"{template_id}.md.j2").read_text()
        for edit in edits:
            source = insert_before(source, edit["before"], edit["text"])
        (out / "policies" / f"{template_id}.md.j2").write_text(source)
    if with_new:
        for path in (NEXT / "policies").glob("*.md.j2"):
            shutil.copy(path, out / "policies" / path.name)
    return out


def edit_purpose(root: Path, rel: str = AC, words: str = "Our own words about why this policy exists.") -> str:
    path = root / rel
    text = path.read_text()
    head, _, rest = text.partition("## 1. Purpose\n\n")
    assert rest, "the document has no Purpose section"
    path.write_text(head + "## 1. Purpose\n\n" + words + " " + rest)
    return words


@pytest.fixture
def newer(tmp_path, monkeypatch):
    out = next_templates(tmp_path)
    monkeypatch.setenv(TEMPLATE_DIR_ENV, str(out))
    return out


def test_update_keeps_the_company_edit_and_brings_the_template_change(cli, workspace, newer):
    root = workspace("llm-startup")
    words = edit_purpose(root)
    before = tree(root / "policies")
    r = cli("--workspace", root, "update")
    assert r.code == 0, (r.out, r.err)
    text = (root / AC).read_text()
    assert words in text and NEW_SECTION in text  # the edit stayed, the improvement arrived
    assert not conflict_lines(text)
    assert "merged" in r.out and AC in r.out
    assert (root / "policies" / "model-incident-disclosure.md").exists()  # a new policy was added
    assert "added" in r.out and "policies/model-incident-disclosure.md" in r.out
    after = tree(root / "policies")
    for name, data in before.items():  # a document the update does not name is not rewritten
        if f"policies/{name}" not in r.out:
            assert after[name] == data, name
    assert any(f"policies/{name}" not in r.out for name in before)
    state = read_state(root)
    assert "model-incident-disclosure" in state["policies"] and "model-incident-disclosure" in state["documents"]
    base = (root / ".soc2kit" / "base" / AC).read_text()
    assert NEW_SECTION in base and words not in base  # the new base is the kit's pristine render
    assert AC not in state["files"]  # holds company edits: `init --force` must never treat it as untouched
    # the update is in the audit log and the policy history
    h = cli("--workspace", root, "policy", "history", "access-control", "--format", "json")
    assert h.code == 0, h.err
    events = json.loads(h.out)["events"]
    assert [e["event"] for e in events] == ["updated"] and events[0]["details"]["outcome"] == "merged"
    # a second update has nothing left to do
    again = cli("--workspace", root, "update")
    assert again.code == 0 and (root / AC).read_text() == text
    assert "0 updated, 0 added" in again.out


def test_an_untouched_document_becomes_the_new_render(cli, workspace, newer):
    root = workspace("llm-startup")
    r = cli("--workspace", root, "update", "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    outcomes = {d["policy"]: d["outcome"] for d in data["documents"]}
    assert outcomes["access-control"] == "updated" and outcomes["model-incident-disclosure"] == "added"
    assert (root / AC).read_bytes() == (root / ".soc2kit" / "base" / AC).read_bytes()
    assert read_state(root)["files"][AC]  # the kit's own text: recorded as such


def test_a_conflicting_edit_gives_labelled_markers_and_exit_1(cli, workspace, newer):
    root = workspace("llm-startup")
    path = root / AC
    path.write_text(insert_before(path.read_text(), "Exceptions", "## Our agent rules\n\nAgents are switched off on Fridays."))
    before_base = (root / ".soc2kit" / "base" / AC).read_bytes()
    r = cli("--workspace", root, "update")
    assert r.code == 1, (r.out, r.err)
    assert "CONFLICT" in r.err and AC in r.err and "Resolve each" in r.err
    text = path.read_text()
    assert f"<<<<<<< your edit ({AC})" in text and f">>>>>>> soc2kit {__version__} template (override)" in text
    assert "Agents are switched off on Fridays." in text and NEW_SECTION in text
    assert (root / ".soc2kit" / "base" / AC).read_bytes() == before_base  # base kept until resolved
    assert (root / ".soc2kit" / "pending" / AC).exists()
    # the other documents were still updated
    assert (root / "policies" / "model-incident-disclosure.md").exists()
    # lint flags the markers with their lines; approve refuses
    lint = cli("--workspace", root, "lint", "--format", "json")
    markers = [p for p in json.loads(lint.out)["problems"] if p["code"] == "conflict-marker"]
    assert lint.code == 1 and len(markers) == 3 and all(p["line"] and p["file"] == AC for p in markers)
    ap = cli("--workspace", root, "policy", "approve", "access-control", "--by", "Dana Whitfield")
    assert ap.code == 2 and "conflict markers" in ap.err
    # an update before resolving changes nothing and still fails
    snapshot = tree(root)
    r = cli("--workspace", root, "update")
    assert r.code == 1 and "unresolved" in r.err
    assert {k: v for k, v in tree(root).items() if k != ".soc2kit/state.json"} == {k: v for k, v in snapshot.items() if k != ".soc2kit/state.json"}
    # resolve: keep both sections, drop the marker lines
    resolved = "".join(line for line in text.splitlines(keepends=True) if not line.startswith(("<<<<<<< ", "=======", ">>>>>>> ")))
    path.write_text(resolved)
    r = cli("--workspace", root, "update")
    assert r.code == 0, (r.out, r.err)
    assert path.read_text() == resolved  # the resolution stands; the conflict is not raised again
    assert NEW_SECTION in (root / ".soc2kit" / "base" / AC).read_text()
    assert not (root / ".soc2kit" / "pending" / AC).exists()
    assert cli("--workspace", root, "update").code == 0


def test_a_dry_run_prints_the_diff_and_changes_nothing(cli, workspace, newer):
    root = workspace("llm-startup")
    edit_purpose(root)
    before = tree(root)
    r = cli("--workspace", root, "update", "--dry-run")
    assert r.code == 0, r.err
    assert f"--- a/{AC}" in r.out and f"+{NEW_SECTION}" in r.out
    assert "+++ b/policies/model-incident-disclosure.md" in r.out
    assert "Dry run: nothing written" in r.out
    assert tree(root) == before
    assert not (root / "soc2kit.db").exists()  # not even the audit log


def _git(root: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | {
        "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env=env)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_dirty_git_tree_is_refused_unless_forced(cli, workspace, newer):
    root = workspace("llm-startup")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "init")
    edit_purpose(root)  # not committed
    before = tree(root)
    r = cli("--workspace", root, "update")
    assert r.code == 2, (r.out, r.err)
    assert "uncommitted changes" in r.err and AC in r.err and "--force" in r.err and "--dry-run" in r.err
    assert tree(root) == before
    assert cli("--workspace", root, "update", "--dry-run").code == 0  # a dry run is always allowed
    r = cli("--workspace", root, "update", "--force")
    assert r.code == 0, r.err
    assert NEW_SECTION in (root / AC).read_text()
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "update")
    (root / "soc2kit.yaml").write_text((root / "soc2kit.yaml").read_text().replace("employees: 18", "employees: 19"))
    assert cli("--workspace", root, "update").code == 0  # an uncommitted profile change is the input, not a blocker
    leftover = root / ".soc2kit" / ".update.k1ll3d.tmp"  # what an update killed mid-write leaves behind
    leftover.mkdir()
    (leftover / "access-control.md").write_text("half")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "profile")
    leftover.mkdir(exist_ok=True)
    (leftover / "access-control.md").write_text("half")
    assert cli("--workspace", root, "update").code == 0  # the kit's own scratch space does not make the tree dirty


def test_a_profile_change_flows_through_update(cli, workspace):
    root = workspace("llm-startup")
    words = edit_purpose(root)
    profile = root / "soc2kit.yaml"
    text = profile.read_text()
    text = text.replace("types: [pii, customer_confidential]", "types: [pii, customer_confidential, phi]")
    text = text.replace("regulations: [gdpr, ccpa]", "regulations: [gdpr, ccpa, hipaa]")
    text = text.replace("trains_models: false", "trains_models: true")
    text = text.replace("documents:\n", "documents:\n  ai_review_interval: monthly\n")
    profile.write_text(text)
    r = cli("--workspace", root, "update", "--dry-run")
    assert r.code == 0 and "+    types: [pii, customer_confidential, phi]" not in r.out and "+  types: [pii, customer_confidential, phi]" in r.out
    r = cli("--workspace", root, "update")
    assert r.code == 0, (r.out, r.err)
    assert "profile changed" in r.out
    ac = (root / AC).read_text()
    assert words in ac and "protected health information (PHI)" in ac  # the edit stays, the PHI rules arrive
    assert (root / "policies" / "training-data-governance.md").exists()  # newly applicable policy added
    ai = (root / "policies" / "ai-acceptable-use.md").read_text()
    assert "review_interval: monthly" in ai and "next_review: 2027-01-01" in ai  # cadence from the profile
    assert (root / ".soc2kit" / "profile.yaml").read_text() == text
    assert read_state(root)["profile_sha256"] != ""


def test_interval_change_moves_next_review_of_an_approved_document(cli, workspace):
    root = workspace("llm-startup")
    approved = dt.date.today() - dt.timedelta(days=3)
    assert cli("--workspace", root, "policy", "approve", "ai-security", "--by", "Dana Whitfield", "--date", approved.isoformat()).code == 0
    profile = root / "soc2kit.yaml"
    profile.write_text(profile.read_text().replace("documents:\n", "documents:\n  ai_review_interval: monthly\n"))
    r = cli("--workspace", root, "update")
    assert r.code == 0, (r.out, r.err)
    doc = (root / "policies" / "ai-security.md").read_text()
    assert "version: '1.1'" in doc and "approved_by: Dana Whitfield" in doc and "status: approved" in doc  # approvals never conflict
    due = add_months(approved, 1).isoformat()
    assert "review_interval: monthly" in doc and f"next_review: {due}" in doc
    assert f"next_review moved to {due}" in r.out


def test_dropped_policies_are_reported_and_never_deleted(cli, workspace):
    root = workspace("llm-startup")
    profile = root / "soc2kit.yaml"
    profile.write_text(profile.read_text().replace("uses_third_party_models: true", "uses_third_party_models: false"))
    kept = (root / "policies" / "third-party-ai.md").read_bytes()
    r = cli("--workspace", root, "update", "--format", "json")
    assert r.code == 0, r.err
    dropped = [d for d in json.loads(r.out)["documents"] if d["outcome"] == "dropped"]
    assert "third-party-ai" in {d["policy"] for d in dropped}
    assert (root / "policies" / "third-party-ai.md").read_bytes() == kept
    r = cli("--workspace", root, "update")
    assert "dropped" in r.out and "policies/third-party-ai.md" in r.out


def test_a_deleted_policy_is_not_recreated(cli, workspace, newer):
    root = workspace("llm-startup")
    (root / AC).unlink()
    r = cli("--workspace", root, "update")
    assert r.code == 0, r.err
    assert not (root / AC).exists() and "you deleted policies/access-control.md" in r.out


def test_update_without_kit_state_is_refused(cli, workspace):
    root = workspace("llm-startup")
    shutil.rmtree(root / ".soc2kit")
    r = cli("--workspace", root, "update")
    assert r.code == 2 and "no kit state" in r.err and "init --force" in r.err


def test_a_broken_override_template_writes_nothing(cli, workspace, tmp_path, monkeypatch):
    root = workspace("llm-startup")
    bad = tmp_path / "bad"
    (bad / "policies").mkdir(parents=True)
    src = (CONTENT_DIR / "policies" / "access-control.md.j2").read_text()
    (bad / "policies" / "access-control.md.j2").write_text(src.replace("## 1. Purpose", "## 1. Purpose {{ no_such_variable.x }}"))
    monkeypatch.setenv(TEMPLATE_DIR_ENV, str(bad))
    before = tree(root)
    r = cli("--workspace", root, "update")
    assert r.code == 2 and "undefined" in r.err and "Traceback" not in r.err
    assert tree(root) == before


def test_init_force_keeps_the_base_of_an_edited_document(cli, workspace, tmp_path):
    """`init --force` must not replace the base of a file it kept, or a later update would lose the template change."""
    root = workspace("llm-startup")
    edit_purpose(root)
    base_before = (root / ".soc2kit" / "base" / AC).read_bytes()
    r = cli("init", root, "--example", "llm-startup", "--force")
    assert r.code == 0 and "kept policies/access-control.md" in r.err
    assert (root / ".soc2kit" / "base" / AC).read_bytes() == base_before


# --- properties ------------------------------------------------------------------------------
_cache: dict[str, Path] = {}


def _pristine(example: str = "llm-startup") -> Path:
    """One initialised workspace per session for the property tests (copied for each example)."""
    if example not in _cache:
        from soc2kit.workspace.init import example_text, init_workspace

        root = Path(tempfile.mkdtemp(prefix="soc2kit-update-")) / example
        init_workspace(root, example_text(example), today=dt.date(2026, 11, 27))
        _cache[example] = root
    return _cache[example]


def _copy(tmpdir: str) -> Path:
    root = Path(tmpdir) / "ws"
    shutil.copytree(_pristine(), root)
    return root


SAFE_TEXT = st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd"), whitelist_characters=" .,;:-()'"), min_size=1, max_size=60).map(str.strip).filter(bool)
HEADINGS = ("Purpose", "Scope", "Roles", "Exceptions", "Enforcement", "Related")


@st.composite
def template_changes(draw):
    ids = draw(st.lists(st.sampled_from(["access-control", "backup", "ai-acceptable-use", "incident-response", "encryption"]), min_size=1, max_size=3, unique=True))
    return {tid: [{"before": draw(st.sampled_from(HEADINGS)), "text": "Added by the next kit: " + draw(SAFE_TEXT) + "."}
                  for _ in range(draw(st.integers(1, 2)))] for tid in ids}


def _applicable_heading(template_id: str, word: str) -> bool:
    return any(line.startswith("## ") and word in line for line in (CONTENT_DIR / "policies" / f"{template_id}.md.j2").read_text().splitlines())


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=template_changes())
def test_property_with_no_company_edit_update_equals_a_fresh_render(changes):
    changes = {tid: [e for e in edits if _applicable_heading(tid, e["before"])] for tid, edits in changes.items()}
    with tempfile.TemporaryDirectory() as tmpdir:
        root = _copy(tmpdir)
        override = next_templates(Path(tmpdir), changes)
        ws = Workspace.open(root)
        result = update_workspace(ws, template_dir=override, force=True, record=False)
        assert not result.conflicts
        fresh = render_policies(catalog_with_templates(load_catalog(), override), ws.profile, today=dt.date(2026, 11, 27))
        assert sorted(p.name for p in (root / "policies").glob("*.md")) == sorted(f"{d.id}.md" for d in fresh)
        for doc in fresh:
            assert (root / doc.relpath).read_text() == doc.text, doc.relpath
            assert (root / ".soc2kit" / "base" / doc.relpath).read_text() == doc.text


@st.composite
def company_edits(draw):
    """A list of (policy index, operation, line fraction, text) edits a company might make."""
    return draw(st.lists(st.tuples(st.integers(0, 100), st.sampled_from(["insert", "delete", "replace", "meta", "append"]), st.floats(0, 1), SAFE_TEXT),
                         min_size=1, max_size=6))


def _apply_edits(root: Path, edits) -> None:
    paths = sorted((root / "policies").glob("*.md"))
    for index, op, where, text in edits:
        path = paths[index % len(paths)]
        lines = path.read_text().splitlines(keepends=True)
        at = min(int(where * len(lines)), len(lines) - 1)
        if op == "insert":
            lines.insert(at, text + "\n")
        elif op == "delete" and len(lines) > 20:
            del lines[at]
        elif op == "replace":
            lines[at] = text + "\n"
        elif op == "meta":
            lines = "".join(lines).replace("status: draft", f"status: {json.dumps(text)}", 1).splitlines(keepends=True)
        else:
            lines.append(text)  # no final newline
        path.write_text("".join(lines))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=company_edits())
def test_property_with_no_template_or_profile_change_company_files_stay_byte_identical(edits):
    with tempfile.TemporaryDirectory() as tmpdir:
        root = _copy(tmpdir)
        _apply_edits(root, edits)
        before = tree(root / "policies")
        result = update_workspace(Workspace.open(root), force=True, record=False)
        assert tree(root / "policies") == before
        assert not result.changed


@settings(max_examples=200, deadline=None)
@given(n=st.integers(12, 40), data=st.data())
def test_property_disjoint_edits_merge_cleanly(n, data):
    """The company's edit and the template's change, a few lines apart, both survive the merge."""
    base_lines = [f"line {i} of the policy text" for i in range(n)]
    split = data.draw(st.integers(3, n - 6))
    mine_at = data.draw(st.integers(0, split - 3))
    new_at = data.draw(st.integers(split + 1, n - 1))
    mine_text, new_text = data.draw(SAFE_TEXT), data.draw(SAFE_TEXT)
    mine = base_lines.copy()
    mine[mine_at] = "company: " + mine_text
    new = base_lines.copy()
    new.insert(new_at, "template: " + new_text)
    header = "---\nid: x\ntitle: X\nversion: '1.0'\n---\n"
    merged = merge_document(header + "\n".join(base_lines) + "\n", header + "\n".join(mine) + "\n", header + "\n".join(new) + "\n", rel="policies/x.md", new_label="t")
    assert merged.conflicts == 0
    assert "company: " + mine_text in merged.text and "template: " + new_text in merged.text
    assert base_lines[mine_at] not in merged.text.splitlines()


def test_front_matter_merges_field_wise():
    base = "---\nid: x\ntitle: Old title\nversion: '1.0'\nstatus: draft\nreview_interval: annual\napproved_by: ''\n---\nBody\n"
    mine = "---\nid: x\ntitle: Old title\nversion: '1.3'\nstatus: approved\nreview_interval: annual\napproved_by: Ana  # signed\n---\nBody\n"
    new = "---\nid: x\ntitle: New title\nversion: '2.0'\nstatus: draft\nreview_interval: annual\napproved_by: ''\n---\nBody\n"
    merged = merge_document(base, mine, new, rel="policies/x.md", new_label="t")
    assert merged.conflicts == 0
    assert "title: New title" in merged.text and "version: '1.3'" in merged.text and "status: approved" in merged.text
    assert "approved_by: Ana  # signed" in merged.text  # the company's comment survives
    both = merge_document(base, mine.replace("Old title", "Our title"), new, rel="policies/x.md", new_label="t")
    assert "title: Our title" in both.text and any("kept your title" in n for n in both.notes)


def test_a_workspace_recorded_before_per_document_state_still_updates(cli, workspace, newer):
    root = workspace("llm-startup")
    state_path = root / ".soc2kit" / "state.json"
    state = json.loads(state_path.read_text())
    del state["documents"]  # as written by kits that kept only the base files
    state_path.write_text(json.dumps(state))
    words = edit_purpose(root)
    r = cli("--workspace", root, "update")
    assert r.code == 0, (r.out, r.err)
    text = (root / AC).read_text()
    assert words in text and NEW_SECTION in text
    assert "access-control" in read_state(root)["documents"]


def test_a_crlf_document_keeps_its_line_endings(cli, workspace, newer):
    """A company editing on Windows: the merge must not rewrite every line of the file to LF."""
    root = workspace("llm-startup")
    words = edit_purpose(root)
    path = root / AC
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    untouched = root / "policies" / "backup.md"
    untouched.write_bytes(untouched.read_bytes().replace(b"\n", b"\r\n"))
    r = cli("--workspace", root, "update", "--format", "json")
    assert r.code == 0, r.err
    docs = {d["path"]: d for d in json.loads(r.out)["documents"]}
    data = path.read_bytes()
    assert words.encode() in data and NEW_SECTION.encode() in data
    assert data.count(b"\n") == data.count(b"\r\n")
    assert docs[AC]["outcome"] == "merged" and docs[AC]["sha256"] == hashlib.sha256(data).hexdigest()
    assert untouched.read_bytes().count(b"\r\n") == untouched.read_bytes().count(b"\n")  # unchanged by the kit: not touched at all


def test_a_crlf_conflict_is_written_with_crlf_and_resolves(cli, workspace, newer):
    root = workspace("llm-startup")
    path = root / AC
    text = insert_before(path.read_text(), "Exceptions", "## Our agent rules\n\nAgents are switched off on Fridays.")
    path.write_bytes(text.replace("\n", "\r\n").encode())
    r = cli("--workspace", root, "update")
    assert r.code == 1, (r.out, r.err)
    data = path.read_bytes()
    assert f"<<<<<<< your edit ({AC})\r\n".encode() in data and data.count(b"\n") == data.count(b"\r\n")
    resolved = b"".join(line for line in data.splitlines(keepends=True) if not line.startswith((b"<<<<<<< ", b"=======", b">>>>>>> ")))
    path.write_bytes(resolved)
    r = cli("--workspace", root, "update")
    assert r.code == 0, (r.out, r.err)
    assert path.read_bytes() == resolved


def test_a_failure_while_renaming_into_place_puts_every_file_back(cli, workspace, newer):
    """A rename that fails midway (here: a directory where a new policy goes) leaves no half-applied update."""
    root = workspace("llm-startup")
    edit_purpose(root)
    (root / "policies" / "model-incident-disclosure.md").mkdir()
    before = tree(root)
    r = cli("--workspace", root, "update")
    assert r.code == 2 and "Traceback" not in r.err, (r.out, r.err)
    assert tree(root) == before
    assert not [p for p in (root / ".soc2kit").iterdir() if p.name.startswith(".update.")]
