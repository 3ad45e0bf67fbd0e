"""Model registry check: lineage, independent approval, model cards, and change history."""

from __future__ import annotations

import json

import pytest

from conftest import write

REGISTRY = """\
models:
  - name: risk-model
    aliases: {champion: "3", challenger: "4"}
    versions:
      - {version: "3", created_by: alice, run_id: r3, dataset_manifest: abc123, metrics: {auc: 0.91}, model_card: cards/v3.md, approved_by: bob, approved_at: 2027-01-12}
      - {version: "4", created_by: carol, run_id: r4, dataset_manifest: def456, metrics: {auc: 0.92}}
  - name: triage-llm
    aliases: {production: "7"}
    versions:
      - {version: "7", created_by: dan, approved_by: dan, model_card: cards/llm-7.md, tags: {provider_model: pinned-2027-01}}
"""


def test_production_without_independent_approval_or_card_fails(cli, tmp_path):
    reg = write(tmp_path / "registry.yaml", REGISTRY)
    r = cli("-w", tmp_path, "check", "registry", "--registry", reg, "--format", "json")
    assert r.code == 1
    data = json.loads(r.out)
    assert data["models"] == 2 and data["versions"] == 3
    assert [(u["model"], u["version"]) for u in data["production_without_independent_approval"]] == [("triage-llm", "7")]
    assert "approved by its author" in data["production_without_independent_approval"][0]["why"]
    assert {"model": "risk-model", "version": "4", "production": False} in data["versions_without_model_card"]
    lineage = {(x["model"], x["version"]): x for x in data["lineage"]}
    assert lineage[("risk-model", "3")]["dataset_manifest"] == "abc123" and lineage[("risk-model", "3")]["production"] == ["alias champion"]


def test_snapshots_turn_registry_changes_into_audit_log_entries(cli, workspace, tmp_path):
    ws = workspace("healthtech")
    reg = write(tmp_path / "registry.yaml", REGISTRY.replace("approved_by: dan", "approved_by: erin"))
    first = json.loads(cli("-w", ws, "check", "registry", "--registry", reg, "--format", "json").out)
    assert first["status"] == "pass" and first["changes"] == [{"change": "first_snapshot", "models": ["risk-model", "triage-llm"]}]
    moved = REGISTRY.replace("approved_by: dan", "approved_by: erin").replace('champion: "3", challenger: "4"', 'champion: "4", challenger: "3"')
    moved = moved.replace("provider_model: pinned-2027-01", "provider_model: pinned-2027-03")
    reg.write_text(moved)
    r = cli("-w", ws, "check", "registry", "--registry", reg, "--format", "json")
    second = json.loads(r.out)
    kinds = {(c["change"], c.get("alias") or c.get("tag")) for c in second["changes"]}
    assert ("alias_moved", "champion") in kinds and ("alias_moved", "challenger") in kinds and ("tag_changed", "provider_model") in kinds
    assert r.code == 1  # version 4 is now the champion: no approval, no model card
    report = json.loads(cli("-w", ws, "audit", "verify", "--format", "json").out)
    assert report["ok"]
    third = json.loads(cli("-w", ws, "check", "registry", "--registry", reg, "--format", "json").out)
    assert third["changes"] == []


def test_bad_registry_files_exit_2(cli, tmp_path):
    for text, message in (("models: {}\n", "needs a 'models' list"), ("models:\n  - name: m\n    aliases: {champion: '9'}\n    versions: []\n", "not listed"),
                          ("models:\n  - name: m\n    versions:\n      - {version: '1', owner: x}\n", "unknown key")):
        reg = write(tmp_path / "r.yaml", text)
        r = cli("-w", tmp_path, "check", "registry", "--registry", reg)
        assert r.code == 2 and message in r.err, r.err


@pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated")  # inside MLflow's own SQLAlchemy code
def test_reads_a_real_mlflow_registry(cli, workspace, tmp_path):
    mlflow = pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    mlflow.set_tracking_uri(uri)
    exp = client.create_experiment("risk", artifact_location=str(tmp_path / "artifacts"))
    run = client.create_run(exp)
    client.log_metric(run.info.run_id, "auc", 0.91)
    client.log_param(run.info.run_id, "dataset_manifest", "4e3bbb1f")
    client.create_registered_model("risk-model")
    v1 = client.create_model_version("risk-model", source=str(tmp_path / "artifacts" / "m1"), run_id=run.info.run_id,
                                     tags={"created_by": "alice", "approved_by": "bob", "model_card": "cards/v1.md"})
    v2 = client.create_model_version("risk-model", source=str(tmp_path / "artifacts" / "m2"), tags={"created_by": "carol"})
    client.set_registered_model_alias("risk-model", "champion", v1.version)
    ws = workspace("healthtech")
    first = json.loads(cli("-w", ws, "check", "registry", "--mlflow-uri", uri, "--format", "json").out)
    assert first["status"] == "pass" and first["versions"] == 2
    lineage = {x["version"]: x for x in first["lineage"]}
    assert lineage["1"]["metrics"] == {"auc": 0.91} and lineage["1"]["dataset_manifest"] == "4e3bbb1f" and lineage["1"]["production"] == ["alias champion"]
    client.set_registered_model_alias("risk-model", "champion", v2.version)  # MLflow keeps no record of this move
    r = cli("-w", ws, "check", "registry", "--mlflow-uri", uri, "--format", "json")
    second = json.loads(r.out)
    assert r.code == 1 and {"change": "alias_moved", "model": "risk-model", "alias": "champion", "from": "1", "to": "2"} in second["changes"]
    assert any("v2 is in production" in f for f in second["failures"])


def test_registry_report(cli, tmp_path):
    reg = write(tmp_path / "registry.yaml", REGISTRY)
    out = tmp_path / "registry.md"
    r = cli("check", "registry", "--registry", reg, "--no-evidence", "--report", out)
    assert r.code == 1
    text = out.read_text()
    assert "# Model registry check" in text and "## Production versions without an independent approval (1)" in text
    assert "| triage-llm | 7 |" in text and "## Versions without a model card (1)" in text and "abc123" in text
    r = cli("check", "registry", "--registry", reg, "--no-evidence", "--report", tmp_path / "registry.pdf")
    assert r.code == 2 and ".md or .html" in r.err
