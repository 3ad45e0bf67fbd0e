"""The evidence store on SQLite and PostgreSQL: adding, verifying, tamper evidence, proofs,
coverage of the observation window and sampling."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from conftest import tree, write
from soc2kit.evidence import window


@pytest.fixture
def ws(workspace, db_url, monkeypatch):
    """A healthtech workspace whose evidence store is the parametrised database."""
    root = workspace("healthtech")
    monkeypatch.setenv("SOC2KIT_DATABASE_URL", db_url)
    monkeypatch.setenv("SOC2KIT_ACTOR", "Lena Fischer")
    return root


def run(cli, ws, *args):
    return cli("-w", ws, *args)


def add(cli, ws, name, text, *args):
    f = write(ws / "incoming" / name, text)
    r = run(cli, ws, "evidence", "add", f, *args)
    assert r.code == 0, r.err
    return r


def tamper(url: str, *statements, params: list[dict] | None = None) -> None:
    """Act as an operator with database access: switch the append-only guards off and edit.
    ``statements`` are SQL strings; with ``params``, each statement runs with its parameters."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                for t in ("audit_log", "evidence", "evidence_control", "evidence_blob"):
                    conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {t}_no_update")
                    conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {t}_no_delete")
            else:
                for t in ("audit_log", "evidence", "evidence_control"):
                    conn.exec_driver_sql(f"ALTER TABLE {t} DISABLE TRIGGER {t}_append_only")
                conn.exec_driver_sql("ALTER TABLE evidence DROP CONSTRAINT IF EXISTS evidence_audit_seq_fkey")
            for i, s in enumerate(statements):
                if params is not None:
                    conn.execute(sa.text(s), params[i])
                else:
                    conn.exec_driver_sql(s)
    finally:
        engine.dispose()


def test_add_list_show_and_identical_content_is_stored_once(cli, ws):
    add(cli, ws, "q1-review.csv", "user,decision\nann,keep\n", "--control", "AC-05", "--period", "2027-02-01..2027-04-30", "-d", "Q1 access review")
    add(cli, ws, "copy.csv", "user,decision\nann,keep\n", "--control", "ac-06", "--control", "AC-05")
    data = json.loads(run(cli, ws, "evidence", "list", "--format", "json").out)["evidence"]
    assert [e["id"] for e in data] == [1, 2]
    assert data[0]["controls"] == ["AC-05"] and data[1]["controls"] == ["AC-05", "AC-06"]
    assert data[0]["period"] == {"start": "2027-02-01", "end": "2027-04-30"}
    assert data[0]["added_by"] == "Lena Fischer" and data[0]["source"]["kind"] == "upload"
    assert data[0]["sha256"] == data[1]["sha256"]
    blobs = [p for p in (ws / "evidence" / "sha256").rglob("*") if p.is_file()]
    assert len(blobs) == 1 and blobs[0].parent.name + blobs[0].name == data[0]["sha256"]
    only = json.loads(run(cli, ws, "evidence", "list", "--control", "AC-06", "--format", "json").out)["evidence"]
    assert [e["id"] for e in only] == [2]
    shown = json.loads(run(cli, ws, "evidence", "show", "1", "--format", "json").out)
    assert shown["audit_entry"] == 1 and shown["description"] == "Q1 access review"
    assert run(cli, ws, "evidence", "show", "9").code == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv", "--control", "AC-05"], "not found"),
        ([".", "--control", "AC-05"], "not a directory"),
        (["FILE", "--control", "AC-99"], "unknown control 'AC-99'"),
        (["FILE", "--control", "AC-05", "--name", "../../etc/passwd"], "not a plain file name"),
        (["FILE", "--control", "AC-05", "--description", "bad \udcff bytes"], "not valid UTF-8"),
        (["FILE", "--control", "AC-05", "--period", "2027-03-01..2027-01-01"], "ends before it starts"),
        (["FILE", "--control", "AC-05", "--period", "Q1"], "not START..END"),
        (["BIG", "--control", "AC-05"], "the limit is 1048576 bytes"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(cli, ws, args, message):
    prof = ws / "soc2kit.yaml"
    prof.write_text(prof.read_text() + "evidence: {max_file_mb: 1}\n")
    good = write(ws / "incoming" / "ok.csv", "a,b\n")
    big = ws / "incoming" / "big.bin"
    big.write_bytes(b"x" * (1024 * 1024 + 1))
    args = [str(good) if a == "FILE" else str(big) if a == "BIG" else str(ws / a) if a in ("missing.csv", ".") else a for a in args]
    r = run(cli, ws, "evidence", "add", *args)
    assert r.code == 2, r.out + r.err
    assert message in r.err and "Traceback" not in r.err
    assert not (ws / "evidence" / "sha256").exists() or not any((ws / "evidence" / "sha256").rglob("*"))
    assert json.loads(run(cli, ws, "evidence", "list", "--format", "json").out)["evidence"] == []
    assert json.loads(run(cli, ws, "audit", "verify", "--format", "json").out)["entries"] == 0


def test_evidence_verify_reports_altered_missing_files_and_altered_records(cli, ws, db_url):
    add(cli, ws, "a.txt", "alpha", "--control", "AC-05")
    add(cli, ws, "b.txt", "beta", "--control", "AC-06")
    assert run(cli, ws, "evidence", "verify").code == 0
    data = json.loads(run(cli, ws, "evidence", "list", "--format", "json").out)["evidence"]
    a = ws / "evidence" / "sha256" / data[0]["sha256"][:2] / data[0]["sha256"][2:]
    a.chmod(0o644)
    a.write_text("alpha, edited")
    b = ws / "evidence" / "sha256" / data[1]["sha256"][:2] / data[1]["sha256"][2:]
    b.unlink()
    tamper(db_url, "UPDATE evidence SET description = 'rewritten later' WHERE id = 2")
    r = run(cli, ws, "evidence", "verify", "--format", "json")
    assert r.code == 1
    report = json.loads(r.out)
    kinds = {(p["kind"], tuple(p["evidence_ids"])) for p in report["problems"]}
    assert ("altered", (1,)) in kinds and ("missing", (2,)) in kinds
    assert any("evidence 2: description" in m for m in report["record_problems"])


def _three_entries(cli, ws):
    for i, ctl in enumerate(("AC-05", "AC-06", "AC-01")):
        add(cli, ws, f"e{i}.txt", f"content {i}", "--control", ctl)


def _verify(cli, ws, *extra):
    r = run(cli, ws, "audit", "verify", "--format", "json", *extra)
    return r.code, json.loads(r.out)


def test_audit_log_is_append_only_in_the_database(cli, ws, db_url):
    _three_entries(cli, ws)
    engine = sa.create_engine(db_url)
    for statement in ("UPDATE audit_log SET seq = 99 WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 3"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.exec_driver_sql(statement)
    engine.dispose()
    assert _verify(cli, ws)[0] == 0


@pytest.mark.parametrize(
    ("statements", "first_bad"),
    [
        ("EDIT-BODY-2", 2),  # modified
        (["DELETE FROM evidence_control WHERE evidence_id = 2", "DELETE FROM evidence WHERE id = 2", "DELETE FROM audit_log WHERE seq = 2"], 3),  # deleted
        (["UPDATE audit_log SET prev_hash = entry_hash WHERE seq = 1"], 1),  # link edited
        (["UPDATE audit_log SET seq = 103 WHERE seq = 3", "UPDATE audit_log SET seq = 3 WHERE seq = 2", "UPDATE audit_log SET seq = 2 WHERE seq = 103"], 2),  # reordered
    ],
)
def test_audit_verify_names_the_first_bad_entry(cli, ws, db_url, statements, first_bad):
    _three_entries(cli, ws)
    assert _verify(cli, ws)[0] == 0
    if statements == "EDIT-BODY-2":
        engine = sa.create_engine(db_url)
        with engine.connect() as conn:
            body = bytes(conn.execute(sa.text("SELECT body FROM audit_log WHERE seq = 2")).scalar_one())
        engine.dispose()
        tamper(db_url, "UPDATE audit_log SET body = :b WHERE seq = 2", params=[{"b": body.replace(b"AC-06", b"AC-07")}])
    else:
        tamper(db_url, *statements)
    code, report = _verify(cli, ws)
    assert code == 1 and report["ok"] is False
    assert report["first_bad_entry"] == first_bad, report["problems"]


def test_an_inserted_entry_is_caught(cli, ws, db_url):
    for _ in range(3):  # entries no evidence row refers to
        assert run(cli, ws, "sample", "--control", "AC-05", "--seed", "1").code == 0
    tamper(db_url, "UPDATE audit_log SET seq = seq + 100 WHERE seq >= 2", "UPDATE audit_log SET seq = seq - 99 WHERE seq >= 102")
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        body, entry_hash = conn.exec_driver_sql("SELECT body, entry_hash FROM audit_log WHERE seq = 1").first()
        forged = bytes(body).replace(b'"seq":1', b'"seq":2')
        conn.execute(sa.text("INSERT INTO audit_log (seq, body, prev_hash, entry_hash) VALUES (2, :body, :prev, :h)"),
                     {"body": forged, "prev": bytes(entry_hash), "h": b"\xff" * 32})
    engine.dispose()
    code, report = _verify(cli, ws)
    assert code == 1 and report["first_bad_entry"] == 2


def test_checkpoint_catches_truncation_and_a_rewritten_chain(cli, ws, db_url, tmp_path):
    _three_entries(cli, ws)
    cp = tmp_path / "held-by-auditor.json"
    r = run(cli, ws, "audit", "checkpoint", "--out", cp)
    assert r.code == 0, r.err
    assert json.loads(cp.read_text())["tree_size"] == 3
    add(cli, ws, "later.txt", "later", "--control", "AC-05")  # growing the log is fine
    assert _verify(cli, ws, "--checkpoint", str(cp))[0] == 0
    # the operator rewrites history consistently: a valid chain, but not the one the auditor holds
    from soc2kit.evidence import audit

    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        entries = list(audit.iter_entries(conn))
    engine.dispose()
    prev, updates = audit.GENESIS, []
    for e in entries:
        body = e.body.replace(b"e1.txt", b"forged.txt") if e.seq == 2 else e.body
        assert e.seq != 2 or body != e.body
        h = audit.chain_hash(prev, body)
        updates.append({"s": e.seq, "b": body, "p": prev, "h": h})
        prev = h
    # entry hashes are unique: move them out of the way first, then write the forged chain
    tamper(db_url, *(["UPDATE audit_log SET entry_hash = :tmp WHERE seq = :s"] * len(updates)),
           params=[{"tmp": bytes([0xEE, u["s"]]) * 16, "s": u["s"]} for u in updates])
    tamper(db_url, *(["UPDATE audit_log SET body = :b, prev_hash = :p, entry_hash = :h WHERE seq = :s"] * len(updates)), params=updates)
    code, report = _verify(cli, ws)
    assert code == 0  # the chain alone cannot tell...
    code, report = _verify(cli, ws, "--checkpoint", str(cp))
    assert code == 1 and any("rewritten" in p for p in report["problems"])  # ...the checkpoint can
    tamper(db_url, "DELETE FROM audit_log WHERE seq >= 3")
    code, report = _verify(cli, ws, "--checkpoint", str(cp))
    assert code == 1 and any("truncated" in p for p in report["problems"])


def test_inclusion_proof_is_checkable_without_the_database(cli, ws, tmp_path):
    _three_entries(cli, ws)
    cp = tmp_path / "cp.json"
    assert run(cli, ws, "audit", "checkpoint", "--out", cp).code == 0
    proof = tmp_path / "proof.json"
    assert run(cli, ws, "audit", "prove", "2", "--checkpoint", cp, "--out", proof).code == 0
    r = cli("audit", "check-proof", proof, cwd=tmp_path)  # no workspace, no database
    assert r.code == 0 and "entry 2 is included in the log of 3 entries" in r.out
    data = json.loads(proof.read_text())
    data["entry_body"] = data["entry_body"].replace("content", "kontent") if "content" in data["entry_body"] else data["entry_body"] + " "
    bad = write(tmp_path / "bad.json", json.dumps(data))
    assert cli("audit", "check-proof", bad).code == 1
    data = json.loads(proof.read_text())
    data["audit_path"][0] = "00" * 32
    bad.write_text(json.dumps(data))
    assert cli("audit", "check-proof", bad).code == 1
    assert run(cli, ws, "audit", "prove", "9", "--checkpoint", cp).code == 2


def test_sampling_is_reproducible_sized_by_frequency_and_logged(cli, ws):
    add(cli, ws, "q1.csv", "q1", "--control", "AC-05", "--period", "2027-02-01..2027-03-31")
    first = json.loads(run(cli, ws, "sample", "--control", "AC-05", "--seed", "42", "--format", "json").out)
    again = json.loads(run(cli, ws, "sample", "--control", "AC-05", "--seed", "42", "--format", "json").out)
    assert first["sample"] == again["sample"]
    assert first["frequency"] == "quarterly" and first["population_size"] == 4 and first["sample_size"] == 2
    assert [p["label"] for p in first["population"]] == ["2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"]
    daily = json.loads(run(cli, ws, "sample", "--control", "MDL-06", "--seed", "1", "--format", "json").out)
    assert daily["frequency"] == "daily" and daily["population_size"] == 273 and daily["sample_size"] == 25
    entries = json.loads(run(cli, ws, "audit", "verify", "--format", "json").out)["entries"]
    assert entries == 4  # one evidence addition and three draws
    assert run(cli, ws, "sample", "--control", "TRD-99").code == 2


def test_coverage_lists_the_periods_without_evidence(cli, ws):
    add(cli, ws, "q1.csv", "q1", "--control", "AC-05", "--period", "2027-02-01..2027-03-31")
    data = json.loads(run(cli, ws, "evidence", "coverage", "--format", "json").out)
    assert data["window"] == {"start": "2027-02-01", "end": "2027-10-31"}
    ac05 = data["controls"]["AC-05"]
    assert ac05["expected"] == 4 and ac05["covered"] == 1
    assert [p["label"] for p in ac05["missing"]] == ["2027-Q2", "2027-Q3", "2027-Q4"]
    assert data["controls"]["AC-06"]["covered"] == 0


def test_evidence_commands_without_a_workspace_explain(cli, tmp_path):
    r = cli("-w", tmp_path, "evidence", "list")
    assert r.code == 2 and "soc2kit init" in r.err


@given(st.sampled_from(["daily", "weekly", "monthly", "quarterly", "semiannual", "annual", "continuous"]),
       st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2030, 1, 1)), st.integers(0, 366))
def test_periods_partition_the_window(frequency, start, length):
    end = start + dt.timedelta(days=length)
    ps = window.periods(frequency, start, end)
    assert ps[0].start == start and ps[-1].end == end
    for a, b in zip(ps, ps[1:], strict=False):
        assert b.start == a.end + dt.timedelta(days=1)
    assert all(p.start <= p.end for p in ps)


def test_nothing_is_written_to_the_workspace_by_read_commands(cli, ws):
    add(cli, ws, "a.txt", "alpha", "--control", "AC-05")
    before = tree(ws / "evidence")
    for args in (("evidence", "list"), ("evidence", "verify"), ("audit", "verify"), ("evidence", "coverage")):
        assert run(cli, ws, *args).code == 0
    assert tree(ws / "evidence") == before
