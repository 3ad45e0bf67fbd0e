"""Concurrent writers and writers killed mid-write leave a complete, valid store (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from soc2kit.evidence import audit
from soc2kit.evidence.store import EvidenceStore

WRITER = Path(__file__).parent / "_evidence_writer.py"


def _writer(root: Path, url: str, worker: int, count: int, size: int = 512) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent))
    return subprocess.Popen([sys.executable, str(WRITER), str(root), url, str(worker), str(count), str(size)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def _check_store(root: Path, url: str) -> tuple[int, int]:
    store = EvidenceStore.at(root, url)
    try:
        store.clean_incoming()
        with store.engine.connect() as conn:
            report, _ = audit.verify_chain(audit.iter_entries(conn))
        assert report.ok, report.problems[:5]
        files, problems = store.verify_files()
        assert [p for p in problems if p.kind != "orphan"] == []
        assert store.verify_records() == []
        records = store.list()
        assert len(records) == report.entries  # one audit entry per evidence row, nothing dangling
        for rec in records:
            assert hashlib.sha256(store.blob_path(rec.sha256).read_bytes()).hexdigest() == rec.sha256
        for path in (root / "evidence" / "sha256").rglob("*"):  # no partial file under a content name
            if path.is_file():
                assert hashlib.sha256(path.read_bytes()).hexdigest() == path.parent.name + path.name
        incoming = root / "evidence" / ".incoming"
        assert not incoming.exists() or [p.name for p in incoming.iterdir()] in ([], [".lock"])
        return len(records), report.entries
    finally:
        store.close()


def test_eight_concurrent_writers_lose_nothing(db_url, tmp_path):
    EvidenceStore.at(tmp_path, db_url).close()  # create the schema first
    procs = [_writer(tmp_path, db_url, w, 15) for w in range(8)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-2000:]
    records, entries = _check_store(tmp_path, db_url)
    assert records == entries == 8 * 15
    store = EvidenceStore.at(tmp_path, db_url)
    try:
        names = {r.name for r in store.list()}
    finally:
        store.close()
    assert names == {f"w{w}-{i}.bin" for w in range(8) for i in range(15)}


def test_a_writer_killed_midway_leaves_the_old_state_or_the_new(db_url, tmp_path):
    EvidenceStore.at(tmp_path, db_url).close()
    rng = random.Random(9)
    completed = 0
    for round_ in range(6):
        proc = _writer(tmp_path, db_url, round_, 1000, size=2 * 1024 * 1024)  # 2 MiB files: kills land mid-write
        time.sleep(0.6 + rng.random() * 0.8)
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=60)
        completed += len(out.splitlines())
        records, _ = _check_store(tmp_path, db_url)
        assert records >= completed  # everything reported as done is there
    assert completed > 0


def test_a_read_transaction_does_not_hold_the_sqlite_write_lock(tmp_path):
    """Reads (the dashboard, listings, verification) begin deferred; only writes take the write lock
    up front. A second writer that refuses to wait must get the lock while a read is open."""
    import sqlite3

    from sqlalchemy import text

    from soc2kit.evidence.store import NewEvidence

    url = f"sqlite:///{tmp_path / 'soc2kit.db'}"
    store = EvidenceStore.at(tmp_path, url)
    try:
        store.add(NewEvidence(controls=["AC-05"], data=b"one", name="one.txt"))
        with store.engine.connect() as reading:
            assert reading.execute(text("SELECT count(*) FROM evidence")).scalar() == 1  # a read transaction is open
            other = sqlite3.connect(tmp_path / "soc2kit.db", timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")  # raises "database is locked" if the read held the write lock
                other.execute("ROLLBACK")
            finally:
                other.close()
            reading.rollback()
        store.add(NewEvidence(controls=["AC-05"], data=b"two", name="two.txt"))  # writes still serialise through BEGIN IMMEDIATE
        assert [r.name for r in store.list()] == ["one.txt", "two.txt"]
    finally:
        store.close()
