from __future__ import annotations

import contextlib
import io
import os
import shutil
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


@pytest.fixture(scope="session")
def _initialised_examples(tmp_path_factory):
    """Each example initialised once per session through the real CLI; tests get copies."""
    cache: dict[str, Path] = {}

    def get(example: str) -> Path:
        if example not in cache:
            root = tmp_path_factory.mktemp("examples") / example
            sink = io.StringIO()
            try:
                with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                    main(["init", str(root), "--example", example])
            except SystemExit as exc:
                assert not exc.code, f"init of {example} failed: {sink.getvalue()}"
            cache[example] = root
        return cache[example]

    return get


@pytest.fixture
def workspace(tmp_path, _initialised_examples):
    """A freshly initialised workspace of the given example (a private copy)."""

    def make(example: str = "llm-startup") -> Path:
        root = tmp_path / f"ws-{example}"
        shutil.copytree(_initialised_examples(example), root)
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


# --- databases: the same tests on SQLite and on a real PostgreSQL ----------------------------
import uuid  # noqa: E402

PG_ADMIN_URL = os.environ.get("SOC2KIT_TEST_POSTGRESQL_URL", "postgresql+psycopg://root@/postgres?host=/var/run/postgresql")


@pytest.fixture(scope="session")
def pg_admin():
    """A reachable PostgreSQL server, or a skip with the reason (a failure where it is required)."""
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # the server is not there: say so
        reason = f"PostgreSQL not reachable at {PG_ADMIN_URL} ({type(exc).__name__}); set SOC2KIT_TEST_POSTGRESQL_URL to run these tests"
        if os.environ.get("SOC2KIT_REQUIRE_POSTGRESQL") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'soc2kit.db'}"
        return
    import sqlalchemy as sa

    admin = request.getfixturevalue("pg_admin")
    name = f"soc2kit_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# --- PDF output needs the Pango library ---------------------------------------------------------
def require_pdf() -> None:
    """Skip with the reason on a machine without Pango (CI sets SOC2KIT_REQUIRE_PDF=1 and fails instead)."""
    from soc2kit.render.pdf import MissingSystemLibrary, load_weasyprint

    try:
        load_weasyprint()
    except MissingSystemLibrary as exc:
        reason = f"PDF output cannot run here: {exc.message} ({exc.hint})"
        if os.environ.get("SOC2KIT_REQUIRE_PDF") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
