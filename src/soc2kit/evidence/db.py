"""Database connection for the evidence store: SQLite in the workspace by default (WAL, foreign
keys on), PostgreSQL through psycopg 3 when ``SOC2KIT_DATABASE_URL`` or ``database_url`` is set."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from soc2kit.errors import UserError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
DB_FILE = "soc2kit.db"
ENV_URL = "SOC2KIT_DATABASE_URL"
_PG_LOCK_KEY = 0x50C2  # advisory lock that serialises appends to the audit log


def resolve_url(workspace: Path, configured: str | None = None) -> str:
    url = os.environ.get(ENV_URL) or configured
    if not url:
        return f"sqlite:///{workspace / DB_FILE}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.execute("PRAGMA synchronous=FULL")
    cur.close()


WRITE = {"soc2kit_write": True}


def writer(engine: Engine) -> Engine:
    """The engine for a write transaction: on SQLite it begins with ``BEGIN IMMEDIATE``."""
    return engine.execution_options(**WRITE)


def _sqlite_begin(conn: Connection) -> None:
    # A write transaction takes the write lock at its start, so two writers never both read the
    # same chain head. A read begins deferred: in WAL mode it neither waits for nor blocks anyone
    # (with IMMEDIATE on every read, concurrent dashboard requests queued behind each other).
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("soc2kit_write") else "BEGIN")


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UserError(f"the database URL {url!r} is not valid", hint="use sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB") from None
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(url, future=True)
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        elif parsed.get_backend_name() == "postgresql":
            engine = create_engine(url, future=True, pool_pre_ping=True)
        else:
            raise UserError(f"unsupported database {parsed.get_backend_name()!r}", hint="use SQLite (default) or PostgreSQL")
    except NoSuchModuleError:
        raise UserError(f"no driver for {redact(url)}", hint="PostgreSQL support is an optional extra: pip install 'soc2kit[postgresql]'") from None
    except ImportError as exc:
        raise UserError(f"the database driver is not installed: {exc}", hint="PostgreSQL support is an optional extra: pip install 'soc2kit[postgresql]'") from None
    return engine


def lock_chain(conn: Connection) -> None:
    """Serialise audit-log appends (SQLite: already held by BEGIN IMMEDIATE)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})


@functools.lru_cache(maxsize=1)
def _alembic_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head() or ""


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest migration (a no-op when it is current)."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            conn.rollback()
            if current == _alembic_head():
                return
        with writer(engine).begin() as conn:
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except OperationalError as exc:
        raise UserError(f"cannot open the evidence database {redact(str(engine.url))}: {exc.orig}", hint="check the URL, that the server is running, and your credentials") from None


@contextlib.contextmanager
def connect(engine: Engine) -> Iterator[Connection]:
    with writer(engine).begin() as conn:
        yield conn
