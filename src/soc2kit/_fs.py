"""Atomic file and directory writes: nothing is ever left half-written.

A file is written to a temporary sibling, flushed and fsync-ed, then renamed over the target
(``os.replace`` is atomic on POSIX). A directory tree is built in a temporary sibling and swapped in
with renames, so readers see either the old tree or the new one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


@contextlib.contextmanager
def staging_dir(target: Path) -> Iterator[Path]:
    """A temporary directory beside ``target``, removed if the block fails."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def swap_in(staged: Path, target: Path) -> None:
    """Replace ``target`` (absent, or a directory) with ``staged`` using renames."""
    if not target.exists():
        os.rename(staged, target)
        _fsync_dir(target.parent)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    os.rmdir(old)
    os.rename(target, old)
    try:
        os.rename(staged, target)
    except BaseException:
        os.rename(old, target)
        raise
    _fsync_dir(target.parent)
    shutil.rmtree(old, ignore_errors=True)


def read_json(path: Path, what: str) -> object:
    """Parse a JSON file, turning a missing or malformed file into one clear user error."""
    import json

    from soc2kit.errors import Location, UserError

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{what} not found", location=Location(path)) from None
    except IsADirectoryError:
        raise UserError(f"{what} is a directory, not a file", location=Location(path)) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"{what} is not valid JSON: {exc}", location=Location(path)) from None
