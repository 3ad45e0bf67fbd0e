"""``soc2kit update``: bring template improvements and profile changes into the company's documents
without losing the company's edits.

For each policy the kit re-renders the template with the installed kit and the current profile (at
the date the document was first rendered, so an unchanged template renders byte for byte the same)
and merges three versions: the *base* (the kit's pristine render the company's file started from,
kept in ``.soc2kit/base/``), the company's file, and the new render.

- The document control block (front matter) is merged field by field: the company's version,
  status and approval fields always stay; template fields (title, owner, approver, review interval)
  arrive unless the company changed them too; ``next_review`` follows a changed review interval.
- The rest is merged line by line (``merge3``). Overlapping changes become conflict blocks with
  labelled markers (``<<<<<<< your edit (policies/x.md)`` / ``=======`` / ``>>>>>>> soc2kit V
  template``); the file is written with them for the company to resolve, and the new render is kept
  as *pending* in ``.soc2kit/pending/``. The next ``update`` after the markers are gone makes the
  pending render the new base, so a resolved conflict is not raised again.
- New policies are added; policies that no longer apply are reported and left in place; a policy
  file the company deleted is not re-created.

Everything is computed in memory first; the files are then written to a staging directory inside
``.soc2kit/`` and renamed into place, and ``state.json`` is written last.

Maintainer hook: ``template_dir=`` (or the ``SOC2KIT_TEMPLATE_DIR`` environment variable) names a
directory of ``<id>.md.j2`` templates (directly or under ``policies/``) that replace or add to the
bundled ones. The tests use it to play "a newer kit version ships a changed template"; it is not a
customisation mechanism (edit the workspace documents instead).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import merge3

from soc2kit import __version__
from soc2kit._fs import _fsync_dir, atomic_write_bytes, staging_dir
from soc2kit._yaml import to_plain
from soc2kit.errors import ContentError, Location, UserError, WorkspaceError
from soc2kit.library import load_catalog
from soc2kit.library.loader import load_policy_templates
from soc2kit.library.models import Catalog
from soc2kit.profile import PROFILE_FILE
from soc2kit.render.context import build_context
from soc2kit.render.documents import as_date
from soc2kit.render.policies import INTERVAL_MONTHS, add_months, applicable_policies, render_policy
from soc2kit.workspace import BASE_DIR, PROFILE_COPY, STATE_DIR, STATE_FILE, Workspace, read_state, sha256_bytes
from soc2kit.workspace.frontmatter import END_MARKER, MID_MARKER, START_MARKER, dump_meta, has_conflicts, try_split

TEMPLATE_DIR_ENV = "SOC2KIT_TEMPLATE_DIR"
PENDING_DIR = "pending"
#: front-matter fields that belong to the company's document control: never taken from a template
COMPANY_FIELDS = ("version", "status", "approved_by", "approved_on", "last_reviewed")
#: the paths ``update`` rewrites; only these must be committed before it runs
GIT_CHECKED = ("policies", STATE_DIR)
CHANGED = ("updated", "merged", "conflict", "added")
_MISSING = object()


@dataclass
class DocumentUpdate:
    id: str
    path: str  #: workspace-relative, "policies/<id>.md"
    outcome: str  #: unchanged | updated | merged | conflict | unresolved | added | dropped | deleted | skipped
    conflicts: int = 0  #: conflict blocks written
    notes: list[str] = field(default_factory=list)
    diff: str = ""  #: unified diff of the company's file (dry run, and always for changed files)
    sha256: str | None = None  #: of the file as written

    def as_dict(self) -> dict[str, Any]:
        return {"policy": self.id, "path": self.path, "outcome": self.outcome, "conflicts": self.conflicts, "notes": self.notes, "sha256": self.sha256}


@dataclass
class UpdateResult:
    root: Path
    kit_version: str
    previous_kit_version: str | None
    profile_changed: bool
    dry_run: bool
    template_dir: str | None
    documents: list[DocumentUpdate] = field(default_factory=list)
    profile_diff: str = ""

    def by_outcome(self, *outcomes: str) -> list[DocumentUpdate]:
        return [d for d in self.documents if d.outcome in outcomes]

    @property
    def conflicts(self) -> list[DocumentUpdate]:
        return self.by_outcome("conflict", "unresolved")

    @property
    def changed(self) -> list[DocumentUpdate]:
        return self.by_outcome(*CHANGED)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kit_version": self.kit_version, "previous_kit_version": self.previous_kit_version, "profile_changed": self.profile_changed,
            "dry_run": self.dry_run, "template_dir": self.template_dir, "ok": not self.conflicts,
            "documents": [d.as_dict() for d in self.documents],
            "summary": {o: len(self.by_outcome(o)) for o in ("unchanged", "updated", "merged", "conflict", "unresolved", "added", "dropped", "deleted", "skipped")},
        }


# --- templates --------------------------------------------------------------------------------
def catalog_with_templates(catalog: Catalog, template_dir: Path | None) -> Catalog:
    """The catalog with the templates of ``template_dir`` replacing or adding to the bundled ones."""
    if template_dir is None:
        return catalog
    template_dir = Path(template_dir)
    directory = template_dir / "policies" if (template_dir / "policies").is_dir() else template_dir
    if not directory.is_dir():
        raise UserError("the template override directory does not exist", location=Location(template_dir), hint=f"unset {TEMPLATE_DIR_ENV} or point it at a directory of <id>.md.j2 files")
    problems: list = []
    extra = load_policy_templates(directory, problems)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ContentError("the override templates have errors:\n  " + "\n  ".join(str(p) for p in errors))
    if not extra:
        raise UserError("the template override directory holds no <id>.md.j2 templates", location=Location(directory))
    return dataclasses.replace(catalog, policies={**catalog.policies, **extra})


# --- merging ----------------------------------------------------------------------------------
@dataclass
class Merged:
    text: str
    conflicts: int
    notes: list[str]


def _lines(text: str) -> list[str]:
    if text and not text.endswith("\n"):
        text += "\n"  # a marker must never be glued to a last line without a newline
    return text.splitlines(keepends=True)


def merge_text(base: str, mine: str, new: str, *, mine_label: str, new_label: str) -> tuple[str, int]:
    """Line-based three-way merge; returns (text, number of conflict blocks)."""
    m3 = merge3.Merge3(_lines(base), _lines(mine), _lines(new))
    conflicts = sum(1 for group in m3.merge_groups() if group[0] == "conflict")
    lines = m3.merge_lines(name_a=mine_label, name_b=new_label, start_marker=START_MARKER, mid_marker=MID_MARKER, end_marker=END_MARKER)
    return "".join(lines), conflicts


def _anchor(meta: dict[str, Any]) -> dt.date | None:
    dates = [d for d in (as_date(meta.get("last_reviewed")), as_date(meta.get("approved_on")), as_date(meta.get("effective_date"))) if d]
    return max(dates) if dates else None


def _three_way(key: str, base: dict[str, Any], mine, mine_plain: dict[str, Any], new: dict[str, Any], notes: list[str]) -> bool:
    b, m, n = base.get(key, _MISSING), mine_plain.get(key, _MISSING), new.get(key, _MISSING)
    if n == b or m == n:
        return False
    if m == b:
        if n is _MISSING:
            del mine[key]
        else:
            mine[key] = n
        return True
    shown = {id(_MISSING): "(removed)"}
    notes.append(f"kept your {key}: {shown.get(id(m), m)!s}; the new render says {shown.get(id(n), n)!s}")
    return False


def merge_meta(base: dict[str, Any], mine, new: dict[str, Any]) -> tuple[bool, list[str]]:
    """Merge front-matter fields into ``mine`` (a round-trip map, changed in place). Returns
    (changed, notes). The company's document-control fields always stay; every other field takes the
    template's change unless the company changed it too, in which case the company's value stays.
    When the review interval changes, ``next_review`` is recomputed from the company's own dates."""
    notes: list[str] = []
    mine_plain = to_plain({str(k): v for k, v in mine.items()})
    changed = False
    for key in dict.fromkeys([*base, *new]):
        if key in COMPANY_FIELDS or key == "next_review":
            continue
        changed |= _three_way(key, base, mine, mine_plain, new, notes)
    interval = mine.get("review_interval")
    if interval != mine_plain.get("review_interval") and isinstance(interval, str) and interval in INTERVAL_MONTHS:
        anchor = _anchor(mine_plain)
        if anchor is not None:
            moved = add_months(anchor, INTERVAL_MONTHS[interval])
            if moved != as_date(mine_plain.get("next_review")):
                mine["next_review"] = moved
                changed = True
                notes.append(f"next_review moved to {moved.isoformat()} for the {interval} review interval")
    else:
        changed |= _three_way("next_review", base, mine, mine_plain, new, notes)
    return changed, notes


def merge_document(base: str, mine: str, new: str, *, rel: str, new_label: str) -> Merged:
    """Three-way merge of one document: front matter field-wise, the rest line-wise."""
    mine_label = f"your edit ({rel})"
    sb, sm, sn = try_split(base), try_split(mine), try_split(new)
    if sb is None or sm is None or sn is None or sb.meta is None or sm.meta is None or sn.meta is None:
        text, conflicts = merge_text(base, mine, new, mine_label=mine_label, new_label=new_label)
        return Merged(text, conflicts, ["merged as plain text: one of the versions has no readable document control block"])
    changed, notes = merge_meta(sb.plain, sm.meta, sn.plain)
    body, conflicts = merge_text(sb.body, sm.body, sn.body, mine_label=mine_label, new_label=new_label)
    header = ("---\n" + dump_meta(sm.meta) + "---\n") if changed else sm.header
    return Merged(header + body, conflicts, notes)


# --- git ----------------------------------------------------------------------------------------
def git_dirty_paths(root: Path, paths: tuple[str, ...] = GIT_CHECKED) -> list[str]:
    """Uncommitted changes (including untracked files) under ``paths`` of a workspace inside a git
    work tree; empty when git is not on PATH or the workspace is not in a repository."""
    git = shutil.which("git")
    if git is None:
        return []
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    try:
        inside = subprocess.run([git, "-C", str(root), "rev-parse", "--is-inside-work-tree"], capture_output=True, text=True, timeout=60, env=env, check=False)
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return []
        status = subprocess.run([git, "-C", str(root), "status", "--porcelain", "--untracked-files=all", "--", *paths],
                                capture_output=True, text=True, timeout=120, env=env, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    if status.returncode != 0:
        raise WorkspaceError(f"git status failed: {status.stderr.strip()[:500]}", location=Location(root), hint="fix the repository, or pass --force to update without the check")
    changed = [line[3:] for line in status.stdout.splitlines() if line.strip()]
    # the kit's own scratch space (staging left by an interrupted update or build) is not the company's work
    return [p for p in changed if not re.match(r'^"?\.soc2kit/\.[^/]+\.(tmp|old)(/|"?$)', p)]


# --- state --------------------------------------------------------------------------------------
def document_states(state: dict[str, Any], root: Path) -> dict[str, dict[str, Any]]:
    """Per-document kit state; workspaces created before it was recorded get it from the base files."""
    docs = state.get("documents")
    if isinstance(docs, dict):
        return {k: dict(v) for k, v in docs.items() if isinstance(v, dict)}
    out: dict[str, dict[str, Any]] = {}
    created = state.get("created_on")
    for pid in state.get("policies", []) or []:
        base = root / STATE_DIR / BASE_DIR / "policies" / f"{pid}.md"
        if base.is_file():
            out[str(pid)] = {"path": f"policies/{pid}.md", "base_sha256": sha256_bytes(base.read_bytes()), "rendered_on": created,
                             "kit_version": state.get("kit_version")}
    return out


def _render_date(entry: dict[str, Any] | None, state: dict[str, Any], today: dt.date) -> dt.date:
    for value in ((entry or {}).get("rendered_on"), state.get("created_on")):
        day = as_date(value)
        if day is not None:
            return day
    return today


def _decode(raw: bytes, path: Path) -> str:
    """The text with LF line ends (as text-mode reading gives it); the merge works on these."""
    try:
        return raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        raise WorkspaceError(f"not valid UTF-8 (byte {exc.start})", location=Location(path), hint="save the file as UTF-8") from None


def _read_text(path: Path) -> str:
    return _decode(path.read_bytes(), path)


def _diff(old: str | None, new: str, rel: str) -> str:
    return "".join(difflib.unified_diff((old or "").splitlines(True), new.splitlines(True), "/dev/null" if old is None else f"a/{rel}", f"b/{rel}"))


# --- the update ---------------------------------------------------------------------------------
def update_workspace(ws: Workspace, *, dry_run: bool = False, force: bool = False, template_dir: Path | None = None,
                     today: dt.date | None = None, record: bool = True) -> UpdateResult:
    """Re-render and three-way merge every policy document (see the module docstring).

    Raises ``WorkspaceError`` for a workspace without kit state or (unless ``force`` or
    ``dry_run``) with uncommitted changes to ``policies/`` or ``.soc2kit/`` in git. ``record``
    appends one audit-log entry per changed document.
    """
    today = today or dt.date.today()
    root = ws.root
    state = read_state(root)
    if not state:
        raise WorkspaceError("this workspace has no kit state (.soc2kit/state.json), so its documents have no base to merge from",
                             location=Location(root / STATE_DIR / STATE_FILE), hint="run `soc2kit init --force` with your profile once to record it, then `soc2kit update`")
    if not dry_run and not force:
        dirty = git_dirty_paths(root)
        if dirty:
            shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
            raise WorkspaceError(
                f"the workspace has uncommitted changes in git: {shown}",
                location=Location(root),
                hint="commit them first so that the update can be reviewed and undone with git; `soc2kit update --dry-run` shows what "
                     "would change, and --force updates anyway",
            )
    if template_dir is None and os.environ.get(TEMPLATE_DIR_ENV):
        template_dir = Path(os.environ[TEMPLATE_DIR_ENV])
    catalog = catalog_with_templates(load_catalog(), template_dir)
    profile = ws.profile
    profile_bytes = ws.profile_path.read_bytes()
    profile_sha = sha256_bytes(profile_bytes)
    context = build_context(profile)
    templates = applicable_policies(catalog, context)
    docs = document_states(state, root)
    new_label = f"soc2kit {__version__} template" + (" (override)" if template_dir else "")

    result = UpdateResult(root, __version__, state.get("kit_version"), state.get("profile_sha256") != profile_sha, dry_run,
                          str(template_dir) if template_dir else None)
    copy_path = root / STATE_DIR / PROFILE_COPY
    if result.profile_changed and copy_path.is_file():
        result.profile_diff = _diff(_read_text(copy_path), profile_bytes.decode("utf-8", "replace"), PROFILE_FILE)

    writes: dict[str, bytes] = {}
    removes: list[str] = []
    files_state: dict[str, str] = dict(state.get("files", {})) if isinstance(state.get("files"), dict) else {}
    applicable_ids = [t.id for t in templates]

    for template in templates:
        rel = f"policies/{template.id}.md"
        entry = docs.get(template.id)
        rendered_on = _render_date(entry, state, today) if entry else today
        effective = profile.documents.effective_date or rendered_on
        new_text = render_policy(template, catalog, profile, context, effective).text
        new_bytes = new_text.encode("utf-8")
        path = root / rel
        base_rel = f"{STATE_DIR}/{BASE_DIR}/{rel}"
        base_path = root / base_rel
        pending_rel = f"{STATE_DIR}/{PENDING_DIR}/{rel}"
        raw = path.read_bytes() if path.is_file() else None
        mine = _decode(raw, path) if raw is not None else None
        crlf = raw is not None and b"\r\n" in raw  # a company file with CRLF line ends is written back with them
        doc = DocumentUpdate(template.id, rel, "unchanged")
        result.documents.append(doc)
        new_entry = {"path": rel, "base_sha256": sha256_bytes(new_bytes), "rendered_on": rendered_on.isoformat(), "kit_version": __version__, "profile_sha256": profile_sha}

        if entry is None or not base_path.is_file():
            if mine is None and entry is not None:
                doc.outcome = "deleted"
                doc.notes.append(f"you deleted {rel} (and its base is gone); it is not re-created")
                continue
            if mine is None:
                doc.outcome, doc.diff, doc.sha256 = "added", _diff(None, new_text, rel), sha256_bytes(new_bytes)
                writes[rel] = writes[base_rel] = new_bytes
                files_state[rel] = sha256_bytes(new_bytes)
                docs[template.id] = new_entry
            elif mine == new_text:
                writes[base_rel] = new_bytes
                files_state[rel] = sha256_bytes(new_bytes)
                docs[template.id] = new_entry
            else:
                doc.outcome = "skipped"
                doc.notes.append(f"{rel} exists but soc2kit has no base for it (the kit did not write it); left as it is")
            continue

        entry.pop("dropped", None)
        docs[template.id] = entry
        base = _read_text(base_path)
        if entry.get("pending_sha256"):
            if mine is not None and has_conflicts(mine):
                doc.outcome, doc.conflicts = "unresolved", sum(1 for line in mine.splitlines() if line.startswith(START_MARKER))
                doc.notes.append("conflict markers from the last update are still in the file; resolve them, then run update again")
                continue
            pending_path = root / pending_rel
            if pending_path.is_file():  # the company resolved the conflict: the pending render becomes the base
                base = _read_text(pending_path)
                writes[base_rel] = base.encode("utf-8")
                entry["base_sha256"] = sha256_bytes(base.encode("utf-8"))
                doc.notes.append("your resolution of the last conflict was accepted; its template version is now the base")
            removes.append(pending_rel)
            entry.pop("pending_sha256", None)
        if mine is None:
            doc.outcome = "deleted"
            doc.notes.append(f"you deleted {rel}; it is not re-created (delete .soc2kit/base/{rel} and run update to get it back)")
            continue
        if has_conflicts(mine):
            doc.outcome, doc.conflicts = "unresolved", sum(1 for line in mine.splitlines() if line.startswith(START_MARKER))
            doc.notes.append("the file contains conflict markers; resolve them, then run update again")
            continue
        if new_text == base:
            continue  # nothing new from the kit: the company's file is not touched
        if mine == base:
            merged = Merged(new_text, 0, [])
            doc.outcome = "updated"
        elif mine == new_text:
            merged = Merged(mine, 0, [])
            doc.outcome = "unchanged"
            doc.notes.append("your file already has the new text")
        else:
            merged = merge_document(base, mine, new_text, rel=rel, new_label=new_label)
            doc.outcome = "conflict" if merged.conflicts else "merged"
        doc.conflicts, doc.notes = merged.conflicts, doc.notes + merged.notes
        merged_bytes = (merged.text.replace("\n", "\r\n") if crlf else merged.text).encode("utf-8")
        if merged.text != mine:
            writes[rel] = merged_bytes
            doc.diff = _diff(mine, merged.text, rel)
            doc.sha256 = sha256_bytes(merged_bytes)
        if merged.conflicts:
            writes[pending_rel] = new_bytes  # becomes the base once the markers are resolved
            if pending_rel in removes:
                removes.remove(pending_rel)
            entry["pending_sha256"] = sha256_bytes(new_bytes)
            files_state.pop(rel, None)
        else:
            writes[base_rel] = new_bytes
            entry.update(new_entry)
            if doc.outcome == "updated":
                files_state[rel] = sha256_bytes(merged_bytes)  # the kit's own text: `init --force` may refresh it
            else:
                files_state.pop(rel, None)  # holds the company's edits: never treated as untouched

    for pid in sorted(set(docs) - set(applicable_ids)):
        rel = docs[pid].get("path") or f"policies/{pid}.md"
        doc = DocumentUpdate(pid, rel, "dropped")
        if (root / rel).is_file():
            doc.notes.append("no longer generated for this profile and kit; the file is kept: delete it yourself if it no longer applies")
        else:
            doc.notes.append("no longer generated for this profile and kit (the file is already gone)")
        docs[pid]["dropped"] = True
        result.documents.append(doc)
    result.documents.sort(key=lambda d: d.path)

    if dry_run:
        return result
    new_state = dict(state)
    new_state.update({
        "kit_version": __version__, "profile_sha256": profile_sha,
        "policies": sorted(pid for pid in docs if not docs[pid].get("dropped")),
        "documents": dict(sorted(docs.items())), "files": dict(sorted(files_state.items())),
    })
    if not copy_path.is_file() or copy_path.read_bytes() != profile_bytes:
        writes[f"{STATE_DIR}/{PROFILE_COPY}"] = profile_bytes
    if not writes and not removes and new_state == state:
        return result
    new_state["updated_on"] = today.isoformat()
    _commit(root, writes, removes, new_state)
    if record and result.changed:
        _record(ws, result)
    return result


def _commit(root: Path, writes: dict[str, bytes], removes: list[str], state: dict[str, Any]) -> None:
    """Stage every file in ``.soc2kit/``, rename each into place (company files first, the kit's
    bases next; a rename that fails puts back the files already replaced), then remove promoted
    pending files and write ``state.json`` last."""
    state_dir = root / STATE_DIR
    state_dir.mkdir(parents=True, exist_ok=True)
    order = sorted(writes, key=lambda rel: (rel.startswith(STATE_DIR + "/"), rel))
    with staging_dir(state_dir / "update") as staged:
        for n, rel in enumerate(order):
            target = root / rel
            tmp = staged / f"{n:05d}"
            with tmp.open("wb") as fh:
                fh.write(writes[rel])
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, (target.stat().st_mode & 0o777) if target.is_file() else 0o644)
        done: list[tuple[Path, Path | None]] = []  # (target, its previous content) for a rollback
        try:
            for n, rel in enumerate(order):
                target = root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                previous = None
                if target.is_file():
                    previous = staged / f"{n:05d}.previous"
                    try:
                        os.link(target, previous)
                    except OSError:  # a file system without hard links
                        shutil.copy2(target, previous)
                os.replace(staged / f"{n:05d}", target)
                done.append((target, previous))
        except BaseException:  # a rename failed midway: put every file already replaced back
            for target, previous in reversed(done):
                if previous is None:
                    target.unlink(missing_ok=True)
                else:
                    os.replace(previous, target)
            raise
        for parent in {(root / rel).parent for rel in order}:
            _fsync_dir(parent)
        shutil.rmtree(staged, ignore_errors=True)
    for rel in removes:
        (root / rel).unlink(missing_ok=True)
    atomic_write_bytes(state_dir / STATE_FILE, (json.dumps(state, indent=2, sort_keys=True) + "\n").encode())


def _record(ws: Workspace, result: UpdateResult) -> None:
    from soc2kit.evidence.store import EvidenceStore

    store = EvidenceStore.open(ws)
    try:
        for doc in result.changed:
            store.record("policy.updated", {"policy": doc.id, "path": doc.path, "outcome": doc.outcome, "conflicts": doc.conflicts,
                                            "kit_version": result.kit_version, "profile_changed": result.profile_changed, "sha256": doc.sha256})
    finally:
        store.close()
