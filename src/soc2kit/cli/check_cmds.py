"""`soc2kit check bias|drift`: automated AI checks whose results become evidence."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from soc2kit.cli.app import TableFormat, _emit_json, _maybe_workspace, app, err, out
from soc2kit.errors import ExitCode

check_app = typer.Typer(help="Automated AI control checks; results are stored as evidence inside a workspace. Exit 0 pass, 1 findings, 2 bad input.",
                        no_args_is_help=True, rich_markup_mode=None)
app.add_typer(check_app, name="check")

ReportOption = Annotated[Path | None, typer.Option("--report", help="Also write a readable report: FILE.md (with an SVG chart beside it) or FILE.html.")]
NoEvidenceOption = Annotated[bool, typer.Option("--no-evidence", help="Do not store the result as evidence.")]
FormatOption = Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")]


def _store_result(ws, result: dict[str, Any], control: str, name: str, description: str) -> int | None:
    import json

    from soc2kit.evidence.store import EvidenceStore, NewEvidence

    store = EvidenceStore.open(ws)
    try:
        rec = store.add(NewEvidence(controls=[control], data=(json.dumps(result, indent=1, ensure_ascii=False) + "\n").encode(), name=name,
                                    description=description, source_kind="check", source_id=result["check"]))
        store.record("check.run", {"check": result["check"], "status": result["status"], "evidence_id": rec.id})
        return rec.id
    finally:
        store.close()


def write_report(result: dict[str, Any], path: Path) -> None:
    """Markdown (with its chart as an SVG file beside it) or HTML, chosen by the file suffix."""
    from soc2kit._fs import atomic_write_text
    from soc2kit.checks import report
    from soc2kit.errors import UsageError

    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        atomic_write_text(path, report.check_html(result))
    elif suffix == ".md":
        svg = report.chart(result)
        chart_name = path.stem + ".svg" if svg else None
        if svg:
            atomic_write_text(path.with_name(chart_name), svg)
        atomic_write_text(path, report.check_markdown(result, chart_name))
    else:
        raise UsageError(f"unknown report type {path.suffix!r}", hint="end the report path with .md or .html")


def _finish(result: dict[str, Any], ws, no_evidence: bool, control: str, name: str, description: str, fmt: TableFormat, show,
            report_path: Path | None = None) -> None:
    if report_path is not None and report_path.suffix.lower() not in (".md", ".html", ".htm"):
        from soc2kit.errors import UsageError

        raise UsageError(f"unknown report type {report_path.suffix!r}", hint="end the report path with .md or .html")
    if ws is not None and not no_evidence:
        result["evidence"] = _store_result(ws, result, control, name, description)
    if report_path is not None:
        write_report(result, report_path)
    if fmt == TableFormat.json:
        _emit_json(result)
    else:
        show(result)
        if result.get("evidence"):
            out.print(f"stored as evidence {result['evidence']} for {control}")
    if result["status"] != "pass":
        raise typer.Exit(ExitCode.FINDINGS)


@check_app.command("bias")
def check_bias(
    data: Annotated[Path, typer.Option("--data", help="Predictions file: CSV, Parquet or JSON Lines.")],
    label: Annotated[str, typer.Option("--label", help="Column with the true outcome.")],
    prediction: Annotated[str, typer.Option("--prediction", help="Column with the model's decision.")],
    sensitive: Annotated[str, typer.Option("--sensitive", help="Sensitive column(s), comma-separated; several give intersectional groups.")],
    score: Annotated[str | None, typer.Option("--score", help="Column with the model's score, for AUC per group.")] = None,
    pos_label: Annotated[str | None, typer.Option("--pos-label", help="The positive class when labels are not 0/1.")] = None,
    dp_ratio_min: Annotated[float | None, typer.Option("--dp-ratio-min", help="Default: parameters.bias_dp_ratio_min (0.8, the four-fifths rule).")] = None,
    eo_difference_max: Annotated[float | None, typer.Option("--eo-difference-max", help="Default: parameters.bias_eo_difference_max (0.1).")] = None,
    min_group_size: Annotated[int | None, typer.Option("--min-group-size", help="Default: parameters.bias_min_group_size (100).")] = None,
    report_path: ReportOption = None,
    no_evidence: NoEvidenceOption = False,
    fmt: FormatOption = TableFormat.table,
) -> None:
    """Per-group selection rate, accuracy, TPR, FPR, FNR (and AUC); fairness summaries as fairlearn defines them."""
    from soc2kit.checks.bias import Thresholds, bias

    ws = _maybe_workspace()
    p = ws.profile.parameters if ws is not None else None
    th = Thresholds(
        dp_ratio_min=dp_ratio_min if dp_ratio_min is not None else (p.bias_dp_ratio_min if p else 0.8),
        eo_difference_max=eo_difference_max if eo_difference_max is not None else (p.bias_eo_difference_max if p else 0.1),
        min_group_size=min_group_size if min_group_size is not None else (p.bias_min_group_size if p else 100),
    )
    cols = [c.strip() for c in sensitive.split(",") if c.strip()]
    positive: Any = pos_label
    if pos_label is not None and pos_label.lstrip("-").isdigit():
        positive = int(pos_label)
    result = bias(data, label=label, prediction=prediction, sensitive=cols, score=score, pos_label=positive, thresholds=th)

    def show(r: dict[str, Any]) -> None:
        table = Table("Group", "Count", "Selection", "Accuracy", "TPR", "FPR", "FNR", "AUC", "", box=None, pad_edge=False)
        for key, g in r["by_group"].items():
            auc = g.get("auc")
            table.add_row(key, str(g["count"]), f"{g['selection_rate']:.3f}", f"{g['accuracy']:.3f}", f"{g['tpr']:.3f}", f"{g['fpr']:.3f}", f"{g['fnr']:.3f}",
                          "-" if auc is None else f"{auc:.3f}", "too small to judge" if g["small"] else "")
        out.print(table)
        s = r["judged_summary"]
        fmt_v = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
        out.print(f"demographic parity: difference {fmt_v(s['demographic_parity_difference'])}, ratio {fmt_v(s['demographic_parity_ratio'])} (min {th.dp_ratio_min}); "
                  f"equalized odds: difference {fmt_v(s['equalized_odds_difference'])} (max {th.eo_difference_max}), ratio {fmt_v(s['equalized_odds_ratio'])}")
        for f in r["failures"]:
            err.print(f"FAIL: {f}")
        out.print(f"status: {r['status']}")

    _finish(result, ws, no_evidence, "MDL-07", f"bias-{data.stem}.json", f"Bias check of {data.name} by {', '.join(cols)}: {result['status']}", fmt, show, report_path)


@check_app.command("drift")
def check_drift(
    reference: Annotated[Path, typer.Option("--reference", help="Reference data (e.g. the training or release evaluation set).")],
    current: Annotated[Path, typer.Option("--current", help="Current production data.")],
    columns: Annotated[str | None, typer.Option("--columns", help="Comma-separated columns (default: all, which must match).")] = None,
    method: Annotated[str, typer.Option("--method", help="exact (one sort per column) or histogram (bucket counts with a reported KS error bound <= 1e-3); "
                                        "auto: histogram for Spark frames, exact otherwise.")] = "auto",
    report_path: ReportOption = None,
    no_evidence: NoEvidenceOption = False,
    fmt: FormatOption = TableFormat.table,
) -> None:
    """KS, Wasserstein, PSI (numeric) and chi-square, PSI, Jensen-Shannon (categorical) per column; the dataset verdict."""
    from soc2kit.checks.drift import drift

    ws = _maybe_workspace()
    p = ws.profile.parameters if ws is not None else None
    cols = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    result = drift(reference, current, columns=cols, psi_warning=p.drift_psi_warning if p else 0.1, psi_alert=p.drift_psi_alert if p else 0.25,
                   method=method)

    def show(r: dict[str, Any]) -> None:
        if r["method"] == "histogram":
            bound = max((m.get("ks_error_bound") or 0.0 for m in r["columns"].values()), default=0.0)
            out.print(f"histogram method: KS statistics exact to within {bound:.2g}")
        table = Table("Column", "Kind", "Test", "Value", "PSI", "Drifted", box=None, pad_edge=False)
        for name, m in r["columns"].items():
            value = m["ks_p_value"] if m["test"] == "ks" else m["chi2_p_value"] if m["test"] == "chi2" else m[m["test"]]
            table.add_row(name, m["kind"], m["test"], "n/a" if value is None else f"{value:.4g}", "n/a" if m["psi"] is None else f"{m['psi']:.3f} ({m['psi_band']})",
                          "yes" if m["drifted"] else "no")
        out.print(table)
        out.print(f"share of drifted columns {r['share_drifted']:.2f}; status: {r['status']}")

    _finish(result, ws, no_evidence, "MDL-06", f"drift-{current.stem}.json", f"Drift check of {current.name} against {reference.name}: {result['status']}", fmt, show, report_path)


@check_app.command("performance")
def check_performance(
    baseline: Annotated[Path, typer.Option("--baseline", help="Metrics JSON or predictions of the release baseline.")],
    current: Annotated[Path, typer.Option("--current", help="Metrics JSON or predictions from production now.")],
    label: Annotated[str | None, typer.Option("--label", help="Label column (predictions input).")] = None,
    prediction: Annotated[str | None, typer.Option("--prediction", help="Prediction column (predictions input).")] = None,
    score: Annotated[str | None, typer.Option("--score", help="Score column, for AUC.")] = None,
    task: Annotated[str | None, typer.Option("--task", help="classification or regression (default: from the labels).")] = None,
    tolerance: Annotated[float | None, typer.Option("--tolerance", help="Default: parameters.performance_drop_max (0.05).")] = None,
    report_path: ReportOption = None,
    no_evidence: NoEvidenceOption = False,
    fmt: FormatOption = TableFormat.table,
) -> None:
    """Accuracy, precision, recall, F1, AUC (or MAE, RMSE) now against the release baseline; degradation beyond tolerance fails."""
    from soc2kit.checks.performance import compare, metrics_from
    from soc2kit.errors import UsageError

    if task not in (None, "classification", "regression"):
        raise UsageError(f"unknown task {task!r}", hint="classification or regression")
    ws = _maybe_workspace()
    tol = tolerance if tolerance is not None else (ws.profile.parameters.performance_drop_max if ws is not None else 0.05)
    kw = {"label": label, "prediction": prediction, "score": score, "task": task}
    result = compare(metrics_from(baseline, **kw), metrics_from(current, **kw), tol)

    def show(r: dict[str, Any]) -> None:
        table = Table("Metric", "Baseline", "Current", "Change", "Degraded", box=None, pad_edge=False)
        for m, v in r["metrics"].items():
            change = "n/a" if v["change"] is None else f"{v['change']:+.4f}"
            table.add_row(m, f"{v['baseline']:.4f}", f"{v['current']:.4f}", change, "YES" if v["degraded"] else "no")
        out.print(table)
        out.print(f"tolerance {r['tolerance']}; status: {r['status']}")

    _finish(result, ws, no_evidence, "MDL-06", f"performance-{current.stem}.json", f"Performance check of {current.name} against {baseline.name}: {result['status']}", fmt, show, report_path)


@check_app.command("registry")
def check_registry(
    registry: Annotated[Path | None, typer.Option("--registry", help="Registry file (YAML or JSON; format in docs/checks.md).")] = None,
    mlflow_uri: Annotated[str | None, typer.Option("--mlflow-uri", help="MLflow tracking/registry URI, e.g. sqlite:///mlflow.db (needs soc2kit[mlflow]).")] = None,
    alias: Annotated[list[str] | None, typer.Option("--production-alias", help="Aliases that mean production (default: champion, production, prod, live).")] = None,
    report_path: ReportOption = None,
    no_evidence: Annotated[bool, typer.Option("--no-evidence", help="Do not store the snapshot and result as evidence.")] = False,
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")] = TableFormat.table,
) -> None:
    """Lineage of each model version, production versions without independent approval or model card;
    inside a workspace, the changes since the last snapshot go to the audit log."""
    import json

    from soc2kit.checks import registry as reg
    from soc2kit.errors import UsageError

    if (registry is None) == (mlflow_uri is None):
        raise UsageError("give exactly one of --registry FILE and --mlflow-uri URI")
    if report_path is not None and report_path.suffix.lower() not in (".md", ".html", ".htm"):
        raise UsageError(f"unknown report type {report_path.suffix!r}", hint="end the report path with .md or .html")
    models = reg.load_registry_file(registry) if registry is not None else reg.load_mlflow_registry(mlflow_uri)
    source_name = registry.stem if registry is not None else "mlflow-" + hashlib.sha256(mlflow_uri.encode()).hexdigest()[:8]
    result = reg.review(models, tuple(a.lower() for a in alias) if alias else reg.PRODUCTION_ALIASES)
    ws = _maybe_workspace()
    if ws is not None and not no_evidence:
        from soc2kit.evidence.store import EvidenceStore, NewEvidence

        store = EvidenceStore.open(ws)
        try:
            name = f"registry-snapshot-{source_name}.json"
            previous = None
            earlier = [r for r in store.list(control="MDL-01") if r.source_id == "ai.registry" and r.name == name]
            if earlier:
                previous = json.loads(store.blob_path(earlier[-1].sha256).read_bytes()).get("models")
            changes = reg.diff(previous, models)
            for change in changes:
                store.record("registry.change", {"registry": source_name, **change})
            snapshot = {"registry": source_name, "models": models, "result": result}
            rec = store.add(NewEvidence(controls=["MDL-01", "MDL-02", "AC-11"], data=(json.dumps(snapshot, indent=1, sort_keys=True) + "\n").encode(), name=name,
                                        description=f"Model registry snapshot of {source_name}: {result['versions']} versions, {len(changes)} changes since the last snapshot",
                                        source_kind="check", source_id="ai.registry"))
            store.record("check.run", {"check": "ai.registry", "status": result["status"], "evidence_id": rec.id})
            result["changes"] = changes
            result["evidence"] = rec.id
        finally:
            store.close()
    if report_path is not None:
        write_report(result, report_path)
    if fmt == TableFormat.json:
        _emit_json(result)
    else:
        table = Table("Model", "Version", "Run", "Dataset", "Production", box=None, pad_edge=False)
        for item in result["lineage"]:
            table.add_row(item["model"], item["version"], item["run_id"] or "-", (item["dataset_manifest"] or "-")[:16], ", ".join(item["production"]) or "-")
        out.print(table)
        for change in result.get("changes", []):
            out.print("change: " + ", ".join(f"{k}={v}" for k, v in change.items()))
        for f in result["failures"]:
            err.print(f"FAIL: {f}")
        out.print(f"status: {result['status']}" + (f"; snapshot stored as evidence {result['evidence']}" if result.get("evidence") else ""))
    if result["status"] != "pass":
        raise typer.Exit(ExitCode.FINDINGS)
