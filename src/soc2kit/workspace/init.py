"""``soc2kit init``: create a workspace from a profile, atomically.

Everything is rendered in memory first; a render error leaves the disk untouched. A new (or empty)
directory is filled in a staging directory and renamed into place. With ``--force`` on a non-empty
workspace, each file is replaced atomically unless the company edited it since the kit wrote it
(its hash differs from the one recorded in ``.soc2kit/state.json``): edited files are kept and
reported, never overwritten.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from soc2kit import __version__
from soc2kit._fs import atomic_write_bytes, staging_dir, swap_in, write_tree
from soc2kit.errors import Location, UserError, WorkspaceError
from soc2kit.library import load_catalog
from soc2kit.library.loader import CONTENT_DIR
from soc2kit.profile import PROFILE_FILE, Profile, parse_profile_text
from soc2kit.render.policies import render_policies
from soc2kit.workspace import BASE_DIR, PROFILE_COPY, STATE_DIR, STATE_FILE, read_state, sha256_bytes

EXAMPLES_DIR = CONTENT_DIR / "examples"

WORKSPACE_GITIGNORE = """\
# build output and local databases are not part of the compliance record
dist/
soc2kit.db
soc2kit.db-*
.soc2kit/cache/
.soc2kit/.*.tmp/
.soc2kit/.*.old/
"""


def example_names() -> list[str]:
    return sorted(p.stem for p in EXAMPLES_DIR.glob("*.yaml"))


def example_text(name: str) -> str:
    path = EXAMPLES_DIR / f"{name}.yaml"
    if not path.is_file():
        from soc2kit.profile.load import suggest

        guess = suggest(name, example_names())
        raise UserError(
            f"unknown example {name!r}" + (f" (did you mean {guess!r}?)" if guess else ""),
            hint=f"available examples: {', '.join(example_names())}",
        )
    return path.read_text(encoding="utf-8")


def _workspace_readme(profile: Profile) -> str:
    return f"""# Compliance repository of {profile.company.name}

Created with soc2kit {__version__}. This directory is the company's record of its SOC 2 readiness work:

- `soc2kit.yaml` — the company profile (scope, AI use, data, regulations, roles, parameters).
- `policies/` — the policy set. These Markdown files belong to the company: edit them, review them,
  have them approved. `soc2kit build` converts them as they stand; it never regenerates them.
- `.soc2kit/` — kit state: the kit version and the pristine render of each document (the base for
  future updates). Do not edit.
- `dist/` — build output (`soc2kit build`); not kept in git.

Typical commands: `soc2kit lint`, `soc2kit build`, `soc2kit controls`, `soc2kit criteria`;
`soc2kit update` merges newer templates and profile changes into the policies (your edits stay),
`soc2kit policy approve NAME --by PERSON` records an approval, `soc2kit reviews` lists reviews due.
"""


@dataclass
class InitResult:
    root: Path
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  #: edited by the company; left alone
    unchanged: list[str] = field(default_factory=list)


def plan_files(profile: Profile, profile_text: str, *, today: dt.date) -> tuple[dict[str, bytes], dict]:
    """Render every file of a new workspace in memory; returns (files, state)."""
    catalog = load_catalog()
    rendered = render_policies(catalog, profile, today=today)
    files: dict[str, bytes] = {PROFILE_FILE: profile_text.encode("utf-8")}
    for doc in rendered:
        data = doc.text.encode("utf-8")
        files[doc.relpath] = data
        files[f"{STATE_DIR}/{BASE_DIR}/{doc.relpath}"] = data
    files[f"{STATE_DIR}/{PROFILE_COPY}"] = files[PROFILE_FILE]
    files[".gitignore"] = WORKSPACE_GITIGNORE.encode()
    files["README.md"] = _workspace_readme(profile).encode()
    profile_sha = sha256_bytes(files[PROFILE_FILE])
    state = {
        "kit_version": __version__,
        "created_on": today.isoformat(),
        "profile_sha256": profile_sha,
        "files": {rel: sha256_bytes(data) for rel, data in sorted(files.items()) if not rel.startswith(STATE_DIR + "/")},
        "policies": sorted(doc.id for doc in rendered),
        # per document: the base it was rendered as (.soc2kit/base/<path>), when, by which kit and profile
        "documents": {
            doc.id: {"path": doc.relpath, "base_sha256": sha256_bytes(files[doc.relpath]), "rendered_on": today.isoformat(),
                     "kit_version": __version__, "profile_sha256": profile_sha}
            for doc in sorted(rendered, key=lambda d: d.id)
        },
    }
    return files, state


def _is_empty_dir(path: Path) -> bool:
    return path.is_dir() and not any(path.iterdir())


def init_workspace(target: Path, profile_text: str, *, source: str = PROFILE_FILE, force: bool = False, today: dt.date | None = None) -> InitResult:
    """Create or (with ``force``) refresh a workspace at ``target`` from profile YAML text."""
    today = today or dt.date.today()
    target = target.expanduser()
    target = (target if target.is_absolute() else Path.cwd() / target).resolve()
    if target.exists() and not target.is_dir():
        raise WorkspaceError("the target exists and is not a directory", location=Location(target), hint="choose another directory")
    profile = parse_profile_text(profile_text, source)  # validate before touching the disk
    files, state = plan_files(profile, profile_text, today=today)
    state_bytes = (json.dumps(state, indent=2, sort_keys=True) + "\n").encode()
    result = InitResult(target)

    if not target.exists() or _is_empty_dir(target):
        with staging_dir(target) as staged:
            write_tree(staged, files)
            (staged / STATE_DIR / STATE_FILE).write_bytes(state_bytes)
            if target.exists() and target == Path.cwd().resolve():
                # cannot rename over the current directory: move the files in instead
                for child in list(staged.iterdir()):
                    os.rename(child, target / child.name)
                staged.rmdir()
            else:
                swap_in(staged, target)
        result.written = sorted(files)
        return result

    if not force:
        raise WorkspaceError(
            "the target directory exists and is not empty",
            location=Location(target),
            hint="choose a new directory, or pass --force to add missing files and refresh files you have not edited",
        )

    old_state = read_state(target)
    recorded: dict[str, str] = old_state.get("files", {}) if isinstance(old_state.get("files"), dict) else {}
    old_docs = old_state.get("documents") if isinstance(old_state.get("documents"), dict) else {}
    new_recorded = dict(recorded)
    for rel, data in files.items():
        path = target / rel
        if rel.startswith(STATE_DIR + "/"):
            continue
        if path.exists():
            current = path.read_bytes()
            if current == data:
                result.unchanged.append(rel)
                new_recorded[rel] = sha256_bytes(data)
                continue
            if recorded.get(rel) != sha256_bytes(current):
                result.kept.append(rel)  # the company's edit, or a file the kit never wrote
                continue
        atomic_write_bytes(path, data)
        new_recorded[rel] = sha256_bytes(data)
        result.written.append(rel)
    kept = set(result.kept)
    base_prefix = f"{STATE_DIR}/{BASE_DIR}/"
    for rel, data in files.items():
        if not rel.startswith(STATE_DIR + "/"):
            continue
        doc_rel = rel[len(base_prefix):] if rel.startswith(base_prefix) else None
        if doc_rel in kept:
            # the company's file still derives from the old base: keep it (and its record) so that
            # `soc2kit update` can merge the new render into the edited file
            doc_id = Path(doc_rel).stem
            if (target / rel).is_file() and doc_id in old_docs:
                state["documents"][doc_id] = old_docs[doc_id]
            elif (target / rel).is_file():
                state["documents"][doc_id]["base_sha256"] = sha256_bytes((target / rel).read_bytes())
                state["documents"][doc_id]["rendered_on"] = old_state.get("created_on", state["created_on"])
            else:
                del state["documents"][doc_id]  # a file the kit never wrote: no base to merge from
            continue
        atomic_write_bytes(target / rel, data)
    for doc_id, entry in old_docs.items():
        state["documents"].setdefault(doc_id, entry | {"dropped": True})
    state["created_on"] = old_state.get("created_on", state["created_on"])
    state["files"] = dict(sorted(new_recorded.items()))
    atomic_write_bytes(target / STATE_DIR / STATE_FILE, (json.dumps(state, indent=2, sort_keys=True) + "\n").encode())
    return result
