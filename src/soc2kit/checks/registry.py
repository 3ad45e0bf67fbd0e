"""Model registry check (``ai.registry``; controls MDL-01, MDL-02, MDL-08, AC-11).

Reads a registry — today the documented registry file (YAML or JSON, for teams without MLflow;
the MLflow 3 reader is planned as an optional extra) — and reports, for each model version, its
lineage (run, dataset manifest, metrics), the production versions (by alias, or by a
``stage: Production`` where still used) that lack an approval by someone other than their author,
and the versions without a model card.

Registries keep no history of who moved an alias or changed a tag, or when. So every run stores a
normalised snapshot as evidence and compares it with the previous snapshot of the same registry:
new and removed versions, alias moves, tag and approval changes are appended to the audit log
with the time they were first seen. Scheduled daily (or after every release), the audit log
becomes the registry's change history: the audit trail of AI system modifications.

Registry file::

    models:
      - name: risk-model
        aliases: {champion: "3"}
        versions:
          - version: "3"
            created_by: alice
            created_at: 2027-01-10T12:00:00Z
            run_id: 8f2c...
            dataset_manifest: 4e3b...      # Merkle root from `soc2kit dataset manifest`
            metrics: {auc: 0.91}
            model_card: model-cards/risk-model-v3.md
            approved_by: bob
            approved_at: 2027-01-12
            stage: null                    # or Production / Staging (legacy stages)
            tags: {owner: ml-platform}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from soc2kit.errors import Location, UserError

PRODUCTION_ALIASES = ("champion", "production", "prod", "live")
VERSION_KEYS = {"version", "created_by", "created_at", "run_id", "dataset_manifest", "metrics", "model_card", "approved_by", "approved_at", "stage", "tags", "description"}


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def load_registry_file(path: Path) -> dict[str, Any]:
    """Parse and normalise a registry file: {model: {"aliases": {alias: version}, "versions": {version: {...}}}}."""
    from soc2kit._yaml import load_yaml, to_plain

    if not path.exists():
        raise UserError("registry file not found", location=Location(path))
    data = to_plain(load_yaml(path, what="registry file"))
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise UserError("a registry file needs a 'models' list", location=Location(path), hint="see the format in `soc2kit check registry --help` and docs/checks.md")
    models: dict[str, Any] = {}
    for i, m in enumerate(data["models"]):
        if not isinstance(m, dict) or not m.get("name"):
            raise UserError(f"models[{i}] needs a name", location=Location(path, key=f"models[{i}]"))
        name = str(m["name"])
        versions: dict[str, Any] = {}
        for j, v in enumerate(m.get("versions") or []):
            if not isinstance(v, dict) or v.get("version") in (None, ""):
                raise UserError(f"models[{i}].versions[{j}] needs a version", location=Location(path, key=f"models[{i}].versions[{j}]"))
            unknown = set(v) - VERSION_KEYS
            if unknown:
                raise UserError(f"unknown key(s) {', '.join(sorted(unknown))} in {name} version {v['version']}", location=Location(path, key=f"models[{i}].versions[{j}]"),
                                hint=f"known keys: {', '.join(sorted(VERSION_KEYS))}")
            versions[str(v["version"])] = {
                "created_by": _text(v.get("created_by")), "created_at": _text(v.get("created_at")), "run_id": _text(v.get("run_id")),
                "dataset_manifest": _text(v.get("dataset_manifest")), "metrics": v.get("metrics") or {}, "model_card": _text(v.get("model_card")),
                "approved_by": _text(v.get("approved_by")), "approved_at": _text(v.get("approved_at")), "stage": _text(v.get("stage")),
                "tags": {str(k): str(val) for k, val in (v.get("tags") or {}).items()},
            }
        aliases = {str(k): str(val) for k, val in (m.get("aliases") or {}).items()}
        for alias, version in aliases.items():
            if version not in versions:
                raise UserError(f"alias {alias!r} of {name} points to version {version}, which is not listed", location=Location(path, key=f"models[{i}].aliases"))
        models[name] = {"aliases": aliases, "versions": versions}
    return models


def production_versions(model: dict[str, Any], production_aliases: tuple[str, ...] = PRODUCTION_ALIASES) -> dict[str, list[str]]:
    """version -> why it is in production (aliases and/or legacy stage)."""
    out: dict[str, list[str]] = {}
    for alias, version in model["aliases"].items():
        if alias.lower() in production_aliases:
            out.setdefault(version, []).append(f"alias {alias}")
    for version, v in model["versions"].items():
        if (v.get("stage") or "").lower() == "production":
            out.setdefault(version, []).append("stage Production")
    return out


def review(models: dict[str, Any], production_aliases: tuple[str, ...] = PRODUCTION_ALIASES) -> dict[str, Any]:
    lineage, unapproved, no_card = [], [], []
    for name, model in sorted(models.items()):
        prod = production_versions(model, production_aliases)
        for version, v in model["versions"].items():
            lineage.append({"model": name, "version": version, "run_id": v["run_id"], "dataset_manifest": v["dataset_manifest"],
                            "metrics": v["metrics"], "production": prod.get(version, [])})
            if not v["model_card"]:
                no_card.append({"model": name, "version": version, "production": bool(prod.get(version))})
        for version, why in prod.items():
            v = model["versions"][version]
            if not v["approved_by"]:
                unapproved.append({"model": name, "version": version, "why": "no approval recorded", "production": why})
            elif v["created_by"] and v["approved_by"].strip().lower() == v["created_by"].strip().lower():
                unapproved.append({"model": name, "version": version, "why": f"approved by its author ({v['approved_by']})", "production": why})
    failures = [f"{u['model']} v{u['version']} is in production ({', '.join(u['production'])}) with {u['why']}" for u in unapproved]
    failures += [f"{c['model']} v{c['version']} is in production without a model card" for c in no_card if c["production"]]
    return {"check": "ai.registry", "status": "fail" if failures else "pass", "models": len(models),
            "versions": sum(len(m["versions"]) for m in models.values()), "lineage": lineage,
            "production_without_independent_approval": unapproved, "versions_without_model_card": no_card, "failures": failures}


def diff(previous: dict[str, Any] | None, current: dict[str, Any]) -> list[dict[str, Any]]:
    """Changes since the previous snapshot, in a stable order."""
    if previous is None:
        return [{"change": "first_snapshot", "models": sorted(current)}]
    changes: list[dict[str, Any]] = []
    for name in sorted(set(previous) | set(current)):
        old, new = previous.get(name), current.get(name)
        if old is None:
            changes.append({"change": "model_added", "model": name})
            old = {"aliases": {}, "versions": {}}
        if new is None:
            changes.append({"change": "model_removed", "model": name})
            continue
        for v in sorted(set(new["versions"]) - set(old["versions"])):
            changes.append({"change": "version_added", "model": name, "version": v, "created_by": new["versions"][v]["created_by"]})
        for v in sorted(set(old["versions"]) - set(new["versions"])):
            changes.append({"change": "version_removed", "model": name, "version": v})
        for alias in sorted(set(old["aliases"]) | set(new["aliases"])):
            a, b = old["aliases"].get(alias), new["aliases"].get(alias)
            if a != b:
                changes.append({"change": "alias_moved", "model": name, "alias": alias, "from": a, "to": b})
        for v in sorted(set(old["versions"]) & set(new["versions"])):
            ov, nv = old["versions"][v], new["versions"][v]
            for key in sorted(set(ov["tags"]) | set(nv["tags"])):
                if ov["tags"].get(key) != nv["tags"].get(key):
                    changes.append({"change": "tag_changed", "model": name, "version": v, "tag": key, "from": ov["tags"].get(key), "to": nv["tags"].get(key)})
            for key in ("approved_by", "stage", "model_card", "dataset_manifest", "run_id"):
                if ov.get(key) != nv.get(key):
                    changes.append({"change": f"{key}_changed", "model": name, "version": v, "from": ov.get(key), "to": nv.get(key)})
    return changes


def load_mlflow_registry(tracking_uri: str) -> dict[str, Any]:
    """Read an MLflow 3 model registry into the same normalised form as the registry file.

    MLflow records no approver and usually no author (a version's ``user_id`` is empty), so the
    approval, author and model card are read from model-version tags the release process sets:
    ``approved_by``, ``approved_at``, ``created_by``, ``model_card`` and ``dataset_manifest``
    (the latter also from the run's params or tags). Metrics come from the version's run. Aliases
    are read per model (``get_registered_model``), because version searches return them empty.
    """
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise UserError("reading an MLflow registry needs MLflow", hint="pip install 'soc2kit[mlflow]'") from None
    import datetime as dt

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    models: dict[str, Any] = {}
    try:
        registered = client.search_registered_models()
    except Exception as exc:  # MLflow raises its own exception types for unreachable stores
        raise UserError(f"cannot read the MLflow registry at {tracking_uri}: {str(exc).splitlines()[0][:200]}") from None
    for rm in registered:
        name = rm.name
        aliases = {str(k): str(v) for k, v in (client.get_registered_model(name).aliases or {}).items()}
        versions: dict[str, Any] = {}
        for mv in client.search_model_versions(f"name='{name}'"):
            tags = dict(mv.tags or {})
            metrics: dict[str, Any] = {}
            manifest = tags.get("dataset_manifest")
            if mv.run_id:
                try:
                    run = client.get_run(mv.run_id)
                    metrics = dict(run.data.metrics)
                    manifest = manifest or run.data.params.get("dataset_manifest") or run.data.tags.get("dataset_manifest")
                except Exception:  # the run may have been deleted: lineage is then reported as missing
                    pass
            created = dt.datetime.fromtimestamp(mv.creation_timestamp / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if mv.creation_timestamp else None
            stage = mv.current_stage if mv.current_stage and mv.current_stage != "None" else None
            versions[str(mv.version)] = {
                "created_by": _text(tags.get("created_by") or mv.user_id), "created_at": created, "run_id": _text(mv.run_id),
                "dataset_manifest": _text(manifest), "metrics": metrics, "model_card": _text(tags.get("model_card")),
                "approved_by": _text(tags.get("approved_by")), "approved_at": _text(tags.get("approved_at")), "stage": stage,
                "tags": {k: str(v) for k, v in tags.items()},
            }
        models[name] = {"aliases": aliases, "versions": versions}
    return models
