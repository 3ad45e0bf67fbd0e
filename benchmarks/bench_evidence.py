"""Benchmark: evidence ingest and audit-log verification, each next to its raw baseline.

1. Ingest 100,000 small evidence records (file + metadata + audit entry each) with
   ``EvidenceStore.add_many`` in batches of 1,000, on SQLite and (if reachable) PostgreSQL.
   Baseline: plain inserts of the same metadata rows into a bare table, same database, same run.
   Target: at least 2,000 records/s on SQLite.
2. ``audit verify`` over 1,000,000 entries (read every entry, check sequence, links and hashes),
   and the RFC 9162 Merkle root over them. Baseline: plain SHA-256 of the same entry bodies.
   Targets: verify in under 3 s, Merkle root in under 2 s.

Run: .venv/bin/python benchmarks/bench_evidence.py [--records N] [--entries N]
PostgreSQL: set SOC2KIT_BENCH_POSTGRESQL_URL (default: the local socket, as in the tests).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from soc2kit.evidence import audit, merkle
from soc2kit.evidence.schema import audit_log
from soc2kit.evidence.store import EvidenceStore, NewEvidence

PG_ADMIN = os.environ.get("SOC2KIT_BENCH_POSTGRESQL_URL", "postgresql+psycopg://root@/postgres?host=/var/run/postgresql")


def ingest(url: str, root: Path, n: int, batch: int = 1000) -> float:
    store = EvidenceStore.at(root, url)
    items = [NewEvidence(controls=["AC-05"], data=b"evidence record %d" % i, name=f"r{i}.json", description="benchmark record") for i in range(n)]
    t = time.perf_counter()
    for k in range(0, n, batch):
        store.add_many(items[k:k + batch], actor="bench")
    elapsed = time.perf_counter() - t
    store.close()
    return elapsed


def baseline_inserts(url: str, n: int, batch: int = 1000) -> float:
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    table = sa.Table("bench_plain", meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("sha256", sa.String(64)), sa.Column("name", sa.String(255)),
                     sa.Column("description", sa.Text), sa.Column("control_id", sa.String(20)), sa.Column("added_by", sa.String(200)))
    meta.create_all(engine)
    rows = [{"id": i + 1, "sha256": hashlib.sha256(b"evidence record %d" % i).hexdigest(), "name": f"r{i}.json", "description": "benchmark record",
             "control_id": "AC-05", "added_by": "bench"} for i in range(n)]
    t = time.perf_counter()
    for k in range(0, n, batch):
        with engine.begin() as conn:
            conn.execute(table.insert(), rows[k:k + batch])
    elapsed = time.perf_counter() - t
    engine.dispose()
    return elapsed


def make_log(url: str, n: int) -> None:
    """Write a valid chain of n entries straight into the table (setup, not measured)."""
    store = EvidenceStore.at(Path(tempfile.mkdtemp()), url)
    prev = audit.GENESIS
    rows = []
    with store.engine.begin() as conn:
        for seq in range(1, n + 1):
            body = audit.canonical({"seq": seq, "ts": "2027-01-01T00:00:00.000000Z", "actor": "bench", "action": "evidence.added",
                                    "payload": {"evidence_id": seq, "sha256": f"{seq:064x}", "controls": ["AC-05"]}}).encode()
            h = audit.chain_hash(prev, body)
            rows.append({"seq": seq, "body": body, "prev_hash": prev, "entry_hash": h})
            prev = h
            if len(rows) == 50000:
                conn.execute(audit_log.insert(), rows)
                rows = []
        if rows:
            conn.execute(audit_log.insert(), rows)
    store.close()


def verify_run(url: str) -> tuple[float, float, float, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        t = time.perf_counter()
        entries = list(audit.iter_rows(conn))
        read = time.perf_counter() - t
    engine.dispose()
    t = time.perf_counter()
    report, leaves = audit.verify_chain(entries)
    verify = time.perf_counter() - t
    assert report.ok, report.problems[:3]
    t = time.perf_counter()
    merkle.root_from_leaf_hashes(leaves)
    root = time.perf_counter() - t
    return read, verify, root, report.entries


def baseline_hash(url: str) -> float:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        bodies = [bytes(r[0]) for r in conn.exec_driver_sql("SELECT body FROM audit_log ORDER BY seq")]
    engine.dispose()
    sha = hashlib.sha256
    t = time.perf_counter()
    for b in bodies:
        sha(b).digest()
    return time.perf_counter() - t


def pg_database() -> tuple[str, sa.Engine] | None:
    try:
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = f"soc2kit_bench_{uuid.uuid4().hex[:8]}"
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        return admin.url.set(database=name).render_as_string(hide_password=False), admin
    except Exception as exc:
        print(f"PostgreSQL: not reachable ({type(exc).__name__}); skipped")
        return None


def drop(admin: sa.Engine, url: str) -> None:
    name = sa.engine.make_url(url).database
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, SQLAlchemy {sa.__version__}")
    work = Path(tempfile.mkdtemp(prefix="soc2kit-bench-", dir=os.environ.get("BENCH_DIR")))
    missed = []
    try:
        # 1. ingest
        sqlite_url = f"sqlite:///{work / 'ingest.db'}"
        el = ingest(sqlite_url, work / "ws", args.records)
        base = baseline_inserts(f"sqlite:///{work / 'plain.db'}", args.records)
        rate = args.records / el
        print(f"\ningest {args.records:,} records, SQLite: {el:.2f} s = {rate:,.0f} records/s  [target >= 2,000/s: {'ok' if rate >= 2000 else 'MISSED'}]")
        print(f"  baseline, plain inserts of the same rows: {base:.2f} s = {args.records / base:,.0f} rows/s")
        if rate < 2000:
            missed.append("sqlite ingest")
        pg = pg_database()
        if pg:
            url, admin = pg
            try:
                el = ingest(url, work / "ws-pg", args.records)
                base = baseline_inserts(url, args.records)
                print(f"ingest {args.records:,} records, PostgreSQL: {el:.2f} s = {args.records / el:,.0f} records/s")
                print(f"  baseline, plain inserts of the same rows: {base:.2f} s = {args.records / base:,.0f} rows/s")
            finally:
                drop(admin, url)
        # 2. verify
        log_url = f"sqlite:///{work / 'log.db'}"
        t = time.perf_counter()
        make_log(log_url, args.entries)
        print(f"\n(setup: wrote a chain of {args.entries:,} entries in {time.perf_counter() - t:.1f} s)")
        read, verify, root, n = verify_run(log_url)
        base = baseline_hash(log_url)
        print(f"audit verify over {n:,} entries: read {read:.2f} s + check {verify:.2f} s = {read + verify:.2f} s  [target < 3 s: {'ok' if read + verify < 3 else 'MISSED'}]")
        print(f"Merkle root over {n:,} entries: {root:.2f} s  [target < 2 s: {'ok' if root < 2 else 'MISSED'}]")
        print(f"  baseline, plain SHA-256 of the same bodies: {base:.2f} s")
        if read + verify >= 3:
            missed.append("verify")
        if root >= 2:
            missed.append("merkle")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if missed:
        print(f"\nmissed: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
