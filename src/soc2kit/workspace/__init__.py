"""The workspace: the company's compliance repository (see docs/architecture.md)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soc2kit.errors import Location, WorkspaceError
from soc2kit.profile import PROFILE_FILE, Profile, load_profile

STATE_DIR = ".soc2kit"
STATE_FILE = "state.json"
BASE_DIR = "base"
PROFILE_COPY = "profile.yaml"  #: the profile the bases were last rendered with


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def find_workspace(start: Path | None = None) -> Path:
    """The workspace directory: ``--workspace``/``SOC2KIT_WORKSPACE`` or the current directory."""
    if start is None:
        env = os.environ.get("SOC2KIT_WORKSPACE")
        start = Path(env) if env else Path.cwd()
    return start.expanduser().resolve()


@dataclass
class Workspace:
    root: Path
    profile: Profile

    @property
    def profile_path(self) -> Path:
        return self.root / PROFILE_FILE

    @property
    def policies_dir(self) -> Path:
        return self.root / "policies"

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    def state(self) -> dict[str, Any]:
        return read_state(self.root)

    @classmethod
    def open(cls, root: Path) -> Workspace:
        root = root.resolve()
        if not root.is_dir():
            raise WorkspaceError("workspace directory not found", location=Location(root), hint="pass --workspace DIR or run `soc2kit init DIR`")
        profile_path = root / PROFILE_FILE
        if not profile_path.exists():
            raise WorkspaceError(
                f"not a soc2kit workspace: {PROFILE_FILE} is missing",
                location=Location(root),
                hint="run `soc2kit init DIR --example NAME` to create one, or pass --workspace DIR",
            )
        return cls(root, load_profile(profile_path))


def read_state(root: Path) -> dict[str, Any]:
    path = root / STATE_DIR / STATE_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"kit state file is corrupt: {exc}", location=Location(path), hint="restore it from git history") from None
    return data if isinstance(data, dict) else {}
