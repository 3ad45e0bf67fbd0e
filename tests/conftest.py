from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from soc2kit.cli import main

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def _isolate(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("SOC2KIT_STATE_HOME", str(tmp_path_factory.mktemp("state")))
    monkeypatch.delenv("SOC2KIT_WORKSPACE", raising=False)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run the real CLI entry point in-process; returns exit code, stdout, stderr."""

    def run(*args: str, cwd: Path | None = None) -> Result:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        code = 0
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def workspace(tmp_path, cli):
    """A freshly initialised workspace of the given example."""

    def make(example: str = "llm-startup") -> Path:
        root = tmp_path / f"ws-{example}"
        r = cli("init", root, "--example", example)
        assert r.code == 0, r.err
        return root

    return make


def tree(path: Path) -> dict[str, bytes]:
    """Every file under path, relative name -> bytes (for 'nothing changed' assertions)."""
    if not path.exists():
        return {}
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


os.environ.setdefault("NO_COLOR", "1")
