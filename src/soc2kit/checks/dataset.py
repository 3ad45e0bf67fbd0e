"""Dataset integrity manifests (check ``ai.dataset``; controls TRD-04 and TRD-09).

A manifest lists every regular file under a dataset directory with its size and SHA-256, and a
Merkle root (RFC 9162) over ``path NUL sha256 NUL size`` for each file in path order: the root is
the dataset's version, and a later ``verify`` proves the training set was not altered, added to
or trimmed. A size/mtime/inode cache (kept outside the dataset, so the dataset is never written
to) lets an unchanged file skip re-reading.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soc2kit.errors import Location, UserError
from soc2kit.evidence import merkle

FORMAT = "soc2kit-dataset-manifest/1"
CHUNK = 1 << 20


def _hash_file(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def leaf(path: str, sha: str, size: int) -> bytes:
    return merkle.leaf_hash(f"{path}\0{sha}\0{size}".encode())


def _walk(root: Path) -> list[tuple[str, os.stat_result, str]]:
    """Every regular file (symlinks are not followed), as (relative POSIX path, stat, full path),
    with one ``stat`` per file (``os.scandir`` caches it)."""
    out: list[tuple[str, os.stat_result, str]] = []
    stack = [(str(root), "")]
    while stack:
        directory, prefix = stack.pop()
        with os.scandir(directory) as it:
            for entry in it:
                rel = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, rel + "/"))
                elif entry.is_file(follow_symlinks=False):
                    out.append((rel, entry.stat(follow_symlinks=False), entry.path))
    out.sort(key=lambda t: t[0])
    return out


@dataclass
class ManifestResult:
    manifest: dict[str, Any]
    hashed: int = 0  #: files read this run
    cached: int = 0  #: files whose hash came from the cache


def build_manifest(root: Path, cache_file: Path | None = None) -> ManifestResult:
    if not root.exists():
        raise UserError("dataset directory not found", location=Location(root))
    if not root.is_dir():
        raise UserError("a dataset must be a directory", location=Location(root), hint="pass the directory that holds the dataset files")
    cache: dict[str, list] = {}
    if cache_file is not None and cache_file.exists():
        try:
            cache = json.loads(cache_file.read_text(encoding="utf-8")).get("files", {})
        except (ValueError, UnicodeDecodeError, AttributeError):
            cache = {}
    files = []
    new_cache: dict[str, list] = {}
    result = ManifestResult({})
    for rel, st, path in _walk(root):
        key = [st.st_size, st.st_mtime_ns, st.st_ino]
        hit = cache.get(rel)
        if hit and hit[:3] == key:
            sha = hit[3]
            result.cached += 1
        else:
            try:
                sha = _hash_file(path)
            except OSError as exc:
                raise UserError(f"cannot read a dataset file: {exc.strerror}", location=Location(path)) from None
            result.hashed += 1
        new_cache[rel] = key + [sha]
        files.append({"path": rel, "size": st.st_size, "sha256": sha})
    root_hash = merkle.root_from_leaf_hashes([leaf(f["path"], f["sha256"], f["size"]) for f in files])
    result.manifest = {
        "format": FORMAT,
        "dataset": root.name,
        "created_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "file_count": len(files),
        "total_bytes": sum(f["size"] for f in files),
        "merkle_root": root_hash.hex(),
        "files": files,
    }
    if cache_file is not None:
        from soc2kit._fs import atomic_write_text

        atomic_write_text(cache_file, json.dumps({"root": str(root.resolve()), "files": new_cache}))
    return result


@dataclass
class Diff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.added or self.removed or self.modified)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "added": self.added, "removed": self.removed, "modified": self.modified}


def load_manifest(path: Path) -> dict[str, Any]:
    from soc2kit._fs import read_json

    data = read_json(path, "dataset manifest")
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("files"), list):
        raise UserError("not a soc2kit dataset manifest", location=Location(path), hint="create one with `soc2kit dataset manifest DIR`")
    files = data["files"]
    expected = merkle.root_from_leaf_hashes([leaf(f["path"], f["sha256"], f["size"]) for f in files]).hex()
    if expected != data.get("merkle_root"):
        raise UserError("the manifest's file list does not match its Merkle root (the manifest was edited)", location=Location(path))
    return data


def compare(old: dict[str, Any], new: dict[str, Any]) -> Diff:
    before = {f["path"]: (f["sha256"], f["size"]) for f in old["files"]}
    after = {f["path"]: (f["sha256"], f["size"]) for f in new["files"]}
    return Diff(
        added=sorted(set(after) - set(before)),
        removed=sorted(set(before) - set(after)),
        modified=sorted(p for p in set(before) & set(after) if before[p] != after[p]),
    )
