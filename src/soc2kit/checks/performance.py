"""Model performance check (``ai.performance``; control MDL-06): current vs the release baseline.

Each side is either a metrics file (JSON object of metric name to value) or a predictions table
from which the metrics are computed: for a classifier (binary labels) ``accuracy``, ``precision``,
``recall``, ``f1`` (positive class 1, 0 when undefined, as scikit-learn's ``zero_division=0``) and,
with a score column, ``auc``; for a regressor ``mae`` and ``rmse``. A metric where higher is better
fails when it drops by more than the tolerance (absolute, ``parameters.performance_drop_max``);
an error metric (MAE, RMSE) fails when it grows by more than the same tolerance relative to the
baseline.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import narwhals as nw
import numpy as np

from soc2kit.checks._frames import open_frame, require_columns
from soc2kit.errors import Location, UserError

HIGHER_IS_BETTER = {"accuracy", "precision", "recall", "f1", "auc"}
LOWER_IS_BETTER = {"mae", "rmse"}


def _safe(num: float, den: float) -> float:
    return num / den if den else 0.0


def classification_metrics(y: np.ndarray, p: np.ndarray, s: np.ndarray | None = None) -> dict[str, float]:
    tp = float(np.sum((y == 1) & (p == 1)))
    fp = float(np.sum((y == 0) & (p == 1)))
    fn = float(np.sum((y == 1) & (p == 0)))
    tn = float(np.sum((y == 0) & (p == 0)))
    precision, recall = _safe(tp, tp + fp), _safe(tp, tp + fn)
    out = {"accuracy": _safe(tp + tn, len(y)), "precision": precision, "recall": recall, "f1": _safe(2 * tp, 2 * tp + fp + fn)}
    if s is not None:
        pos, neg = int(y.sum()), int(len(y) - y.sum())
        if pos and neg:
            from scipy.stats import rankdata

            ranks = rankdata(s)
            out["auc"] = float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))
    return out


def regression_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    err = p - y
    return {"mae": float(np.mean(np.abs(err))), "rmse": float(math.sqrt(np.mean(err * err)))}


def metrics_from(source: Any, *, label: str | None, prediction: str | None, score: str | None, task: str | None) -> dict[str, float]:
    if isinstance(source, (str, Path)) and Path(source).suffix.lower() == ".json":
        from soc2kit._fs import read_json

        data = read_json(Path(source), "metrics file")
        if not isinstance(data, dict) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in data.values()):
            raise UserError("a metrics file must be a JSON object of metric names to numbers", location=Location(source))
        unknown = set(data) - HIGHER_IS_BETTER - LOWER_IS_BETTER
        if unknown:
            raise UserError(f"unknown metric(s) {', '.join(sorted(unknown))}", location=Location(source), hint=f"use {', '.join(sorted(HIGHER_IS_BETTER | LOWER_IS_BETTER))}")
        return {k: float(v) for k, v in data.items()}
    if not label or not prediction:
        raise UserError("predictions need --label and --prediction columns (or pass metrics JSON files)")
    lf = open_frame(source)
    require_columns(lf, [label, prediction] + ([score] if score else []), "performance check")
    df = lf.select([label, prediction] + ([score] if score else [])).drop_nulls().collect()
    if len(df) == 0:
        raise UserError("no rows with both a label and a prediction")
    y = df.get_column(label).cast(nw.Float64).to_numpy()
    p = df.get_column(prediction).cast(nw.Float64).to_numpy()
    binary = set(np.unique(y)) <= {0.0, 1.0} and set(np.unique(p)) <= {0.0, 1.0}
    kind = task or ("classification" if binary else "regression")
    if kind == "classification":
        if not binary:
            raise UserError("classification metrics need binary 0/1 labels and predictions", hint="pass --task regression for numeric targets")
        return classification_metrics(y.astype(int), p.astype(int), df.get_column(score).cast(nw.Float64).to_numpy() if score else None)
    return regression_metrics(y, p)


def compare(baseline: dict[str, float], current: dict[str, float], tolerance: float) -> dict[str, Any]:
    shared = [m for m in baseline if m in current]
    if not shared:
        raise UserError("baseline and current have no metric in common")
    rows: dict[str, Any] = {}
    failures = []
    for m in shared:
        b, c = baseline[m], current[m]
        if m in LOWER_IS_BETTER:
            change = (c - b) / b if b else (0.0 if c == 0 else math.inf)
            degraded = change > tolerance
        else:
            change = c - b
            degraded = -change > tolerance
        rows[m] = {"baseline": b, "current": c, "change": change if math.isfinite(change) else None, "degraded": degraded}
        if degraded:
            failures.append(f"{m} {'rose' if m in LOWER_IS_BETTER else 'fell'} from {b:.4g} to {c:.4g}")
    return {"check": "ai.performance", "status": "fail" if failures else "pass", "tolerance": tolerance, "metrics": rows, "failures": failures}
