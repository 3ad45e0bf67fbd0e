"""Dataset manifests: the same SHA-256 as sha256sum, a cache for unchanged files, and verification."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from conftest import write


def make_dataset(root):
    write(root / "train" / "part-0.csv", "id,label\n1,0\n2,1\n")
    write(root / "train" / "part-1.csv", "id,label\n3,1\n")
    write(root / "README.txt", "provenance: synthetic ünïcode")
    (root / "empty.bin").write_bytes(b"")
    return root


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="sha256sum (coreutils) not installed")
def test_file_hashes_equal_sha256sum(cli, tmp_path):
    ds = make_dataset(tmp_path / "ds")
    out = tmp_path / "m.json"
    r = cli("-w", tmp_path, "dataset", "manifest", ds, "--out", out)
    assert r.code == 0, r.err
    manifest = json.loads(out.read_text())
    ours = {f["path"]: f["sha256"] for f in manifest["files"]}
    listed = subprocess.run(["sha256sum", *sorted(ours)], cwd=ds, capture_output=True, text=True, check=True).stdout
    theirs = {line.split("  ", 1)[1]: line.split("  ", 1)[0] for line in listed.splitlines()}
    assert ours == theirs
    assert manifest["file_count"] == 4 and manifest["total_bytes"] == sum(p.stat().st_size for p in ds.rglob("*") if p.is_file())


def test_unchanged_files_come_from_the_cache_and_the_dataset_is_never_written(cli, tmp_path):
    ds = make_dataset(tmp_path / "ds")
    before = sorted(p.name for p in ds.rglob("*"))
    first = json.loads(cli("-w", tmp_path, "dataset", "manifest", ds, "--format", "json").out)
    second = json.loads(cli("-w", tmp_path, "dataset", "manifest", ds, "--format", "json").out)
    assert first["hashed"] == 4 and second["hashed"] == 0 and second["cached"] == 4
    assert first["merkle_root"] == second["merkle_root"]
    assert sorted(p.name for p in ds.rglob("*")) == before


def test_verify_reports_added_removed_and_modified_files(cli, tmp_path):
    ds = make_dataset(tmp_path / "ds")
    m = tmp_path / "m.json"
    assert cli("-w", tmp_path, "dataset", "manifest", ds, "--out", m).code == 0
    assert cli("-w", tmp_path, "dataset", "verify", ds, "--manifest", m).code == 0
    (ds / "train" / "part-1.csv").write_text("id,label\n3,0\n")  # a flipped label
    (ds / "README.txt").unlink()
    write(ds / "train" / "part-2.csv", "id,label\n4,1\n")
    r = cli("-w", tmp_path, "dataset", "verify", ds, "--manifest", m, "--format", "json")
    assert r.code == 1
    diff = json.loads(r.out)
    assert diff == {"ok": False, "added": ["train/part-2.csv"], "removed": ["README.txt"], "modified": ["train/part-1.csv"],
                    "expected_root": diff["expected_root"], "actual_root": diff["actual_root"]}
    assert diff["expected_root"] != diff["actual_root"]


def test_an_edited_manifest_is_refused(cli, tmp_path):
    ds = make_dataset(tmp_path / "ds")
    m = tmp_path / "m.json"
    assert cli("-w", tmp_path, "dataset", "manifest", ds, "--out", m).code == 0
    data = json.loads(m.read_text())
    data["files"][0]["sha256"] = "0" * 64
    m.write_text(json.dumps(data))
    r = cli("-w", tmp_path, "dataset", "verify", ds, "--manifest", m)
    assert r.code == 2 and "was edited" in r.err


def test_inside_a_workspace_the_manifest_is_evidence_and_verifies_from_the_store(cli, workspace, tmp_path):
    ws = workspace("healthtech")
    ds = make_dataset(tmp_path / "ds")
    data = json.loads(cli("-w", ws, "dataset", "manifest", ds, "--format", "json").out)
    assert data["evidence"] == 1
    rec = json.loads(cli("-w", ws, "evidence", "show", "1", "--format", "json").out)
    assert rec["controls"] == ["TRD-04"] and rec["source"] == {"kind": "check", "id": "ai.dataset", "version": rec["source"]["version"]}
    assert cli("-w", ws, "dataset", "verify", ds, "--evidence", "1").code == 0
    (ds / "empty.bin").write_bytes(b"poison")
    assert cli("-w", ws, "dataset", "verify", ds, "--evidence", "1").code == 1


@pytest.mark.parametrize("target", ["missing", "file"])
def test_bad_dataset_paths_exit_2(cli, tmp_path, target):
    path = tmp_path / "missing" if target == "missing" else write(tmp_path / "f.txt", "x")
    r = cli("-w", tmp_path, "dataset", "manifest", path)
    assert r.code == 2 and ("not found" in r.err or "must be a directory" in r.err)
