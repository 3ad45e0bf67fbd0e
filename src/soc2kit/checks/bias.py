"""Bias check (``ai.bias``; control MDL-07): per-group metrics and fairness summaries.

The rows are reduced to per-group confusion counts with one group-by (Narwhals at the boundary,
so the same code runs on pandas, Polars, PyArrow, DuckDB or Spark frames, and files are scanned
lazily); every metric is then arithmetic on the counts. Definitions follow fairlearn exactly:

* selection rate = predicted positives / n; accuracy = (TP + TN) / n;
* TPR = TP / (TP + FN), FPR = FP / (FP + TN), FNR = FN / (FN + TP), each 0 when its denominator
  is 0 (as fairlearn's and scikit-learn's ``zero_division`` default);
* demographic parity difference / ratio = max - min / min / max of the selection rates across
  groups (the ratio is undefined — reported as null — when every group's rate is 0);
* equalized odds difference = the larger of the TPR and FPR differences; equalized odds ratio =
  the smaller of the TPR and FPR ratios, taken as Python's ``min([tpr_ratio, fpr_ratio])``, which is
  what fairlearn computes, including when one ratio is undefined.

Several sensitive columns give intersectional groups (every combination present). Groups with
fewer than ``min_group_size`` rows are flagged and not judged: the pass/fail decision uses the
summary over the judged groups, while ``summary`` covers all groups as fairlearn would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import narwhals as nw

from soc2kit.checks._frames import open_frame, require_columns
from soc2kit.errors import UserError


@dataclass(frozen=True)
class Thresholds:
    dp_ratio_min: float = 0.8
    eo_difference_max: float = 0.1
    min_group_size: int = 100


def _rate(num: float, den: float) -> float:
    return num / den if den else 0.0


def _ratio(values: list[float]) -> float:
    hi, lo = max(values), min(values)
    return lo / hi if hi else math.nan


def summary(groups: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    if not groups:
        return {"demographic_parity_difference": None, "demographic_parity_ratio": None, "equalized_odds_difference": None, "equalized_odds_ratio": None}
    sr = [g["selection_rate"] for g in groups.values()]
    tpr = [g["tpr"] for g in groups.values()]
    fpr = [g["fpr"] for g in groups.values()]
    eo_ratio = min([_ratio(tpr), _ratio(fpr)])  # builtin min, exactly as fairlearn
    out = {
        "demographic_parity_difference": max(sr) - min(sr),
        "demographic_parity_ratio": _ratio(sr),
        "equalized_odds_difference": max([max(tpr) - min(tpr), max(fpr) - min(fpr)]),
        "equalized_odds_ratio": eo_ratio,
    }
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in out.items()}


def _binary(lf: nw.LazyFrame, column: str, pos_label: Any) -> nw.Expr:
    """An Int8 expression, 1 for the positive class, after checking the column is binary."""
    values = lf.select(nw.col(column)).unique().collect().get_column(column).to_list()
    values = [v for v in values if v is not None]
    if pos_label is None:
        if set(values) <= {0, 1}:  # also True/False
            pos_label = 1
        else:
            raise UserError(f"column {column!r} is not binary 0/1 (values: {', '.join(map(repr, sorted(values, key=str)[:6]))})",
                            hint="pass --pos-label VALUE to name the positive class")
    others = [v for v in values if v != pos_label and str(v) != str(pos_label)]
    if len(others) > 1 or len(values) > 2:
        raise UserError(f"column {column!r} has more than two values ({', '.join(map(repr, sorted(values, key=str)[:6]))}); binary metrics need two classes")
    if values and isinstance(values[0], bool):
        literal: Any = bool(pos_label)
    elif values and isinstance(values[0], str):
        literal = str(pos_label)
    else:
        literal = pos_label
    return (nw.col(column) == literal).cast(nw.Int8)


def bootstrap_intervals(groups: dict[str, dict[str, Any]], replicates: int = 1000, seed: int = 0, level: float = 0.95) -> dict[str, list[float | None]]:
    """Percentile confidence intervals of the summary metrics by resampling each group's confusion
    counts (a multinomial draw of n rows over TP/FP/TN/FN), not the rows: the cost does not grow
    with the number of rows."""
    import numpy as np

    if not groups or replicates <= 0:
        return {}
    rng = np.random.default_rng(seed)
    counts = np.array([[g["tp"], g["fp"], g["tn"], g["fn"]] for g in groups.values()], dtype=float)
    n = counts.sum(axis=1)
    draws = np.stack([rng.multinomial(int(n_i), c / n_i, size=replicates) for c, n_i in zip(counts, n, strict=True)], axis=1).astype(float)
    tp, fp, tn, fn = (draws[..., i] for i in range(4))
    with np.errstate(divide="ignore", invalid="ignore"):
        sr = (tp + fp) / n
        tpr = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        fpr = np.where(fp + tn > 0, fp / (fp + tn), 0.0)

        def ratio(x):
            hi, lo = x.max(axis=1), x.min(axis=1)
            return np.where(hi > 0, lo / np.where(hi > 0, hi, 1), np.nan)

        stats = {
            "demographic_parity_difference": sr.max(axis=1) - sr.min(axis=1),
            "demographic_parity_ratio": ratio(sr),
            "equalized_odds_difference": np.maximum(tpr.max(axis=1) - tpr.min(axis=1), fpr.max(axis=1) - fpr.min(axis=1)),
            "equalized_odds_ratio": np.fmin(ratio(tpr), ratio(fpr)),
        }
    q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
    out: dict[str, list[float | None]] = {}
    for key, values in stats.items():
        finite = values[np.isfinite(values)]
        out[key] = [float(v) for v in np.percentile(finite, q)] if len(finite) else [None, None]
    return out


def bias(source: Any, *, label: str, prediction: str, sensitive: list[str], score: str | None = None, pos_label: Any = None,
         thresholds: Thresholds = Thresholds(), bootstrap: int = 1000, seed: int = 0) -> dict[str, Any]:
    lf = open_frame(source)
    if not sensitive:
        raise UserError("at least one sensitive column is needed", hint="pass --sensitive COL[,COL]")
    require_columns(lf, [label, prediction, *sensitive] + ([score] if score else []), "bias check")
    for col in sensitive:
        non_null = lf.select(nw.col(col).is_null().cast(nw.Int64).sum().alias("n"), nw.len().alias("t")).collect().rows()[0]
        if non_null[0] == non_null[1]:
            raise UserError(f"sensitive column {col!r} is entirely empty")
    y = _binary(lf, label, pos_label)
    p = _binary(lf, prediction, pos_label)
    yy, pp = nw.col("__y"), nw.col("__p")
    counts = (
        lf.filter(~nw.col(label).is_null() & ~nw.col(prediction).is_null())  # rows without a label or prediction are left out
        .with_columns(y.alias("__y"), p.alias("__p"))
        .with_columns(
            (yy * pp).cast(nw.Int64).alias("tp"),
            ((1 - yy) * pp).cast(nw.Int64).alias("fp"),
            ((1 - yy) * (1 - pp)).cast(nw.Int64).alias("tn"),
            (yy * (1 - pp)).cast(nw.Int64).alias("fn"),
        )
        .group_by(sensitive)
        .agg(nw.len().alias("n"), nw.col("tp").sum(), nw.col("fp").sum(), nw.col("tn").sum(), nw.col("fn").sum())
        .collect()
    )
    groups: dict[str, dict[str, Any]] = {}
    for row in counts.iter_rows(named=True):
        key = " & ".join(f"{row[c]}" for c in sensitive) if len(sensitive) > 1 else str(row[sensitive[0]])
        n, tp, fp, tn, fn = (int(row[k]) for k in ("n", "tp", "fp", "tn", "fn"))  # some engines sum to Decimal
        groups[key] = {
            "count": n, "tp": tp, "fp": fp, "tn": tn, "fn": fn,
            "selection_rate": _rate(tp + fp, n), "accuracy": _rate(tp + tn, n),
            "tpr": _rate(tp, tp + fn), "fpr": _rate(fp, fp + tn), "fnr": _rate(fn, fn + tp),
            "small": n < thresholds.min_group_size,
        }
    groups = dict(sorted(groups.items()))
    if score:
        for key, auc in _auc_by_group(lf, y, score, sensitive).items():
            if key in groups:
                groups[key]["auc"] = auc
    judged = {k: g for k, g in groups.items() if not g["small"]}
    judged_summary = summary(judged)
    max_sr = max((g["selection_rate"] for g in judged.values()), default=0.0)
    four_fifths = {k: (g["selection_rate"] / max_sr if max_sr else None) for k, g in judged.items()}
    failures = []
    dpr = judged_summary["demographic_parity_ratio"]
    if dpr is not None and dpr < thresholds.dp_ratio_min:
        failures.append(f"demographic parity ratio {dpr:.3f} is below {thresholds.dp_ratio_min}")
    eod = judged_summary["equalized_odds_difference"]
    if eod is not None and eod > thresholds.eo_difference_max:
        failures.append(f"equalized odds difference {eod:.3f} is above {thresholds.eo_difference_max}")
    if not judged:
        status = "insufficient_data"
    else:
        status = "fail" if failures else "pass"
    return {
        "check": "ai.bias",
        "status": status,
        "rows": sum(g["count"] for g in groups.values()),
        "sensitive": sensitive,
        "thresholds": {"demographic_parity_ratio_min": thresholds.dp_ratio_min, "equalized_odds_difference_max": thresholds.eo_difference_max,
                       "min_group_size": thresholds.min_group_size},
        "by_group": groups,
        "summary": summary(groups),
        "judged_summary": judged_summary,
        "confidence_intervals": {"level": 0.95, "replicates": bootstrap, "seed": seed, **bootstrap_intervals(judged, bootstrap, seed)} if bootstrap else None,
        "four_fifths": four_fifths,
        "small_groups": [k for k, g in groups.items() if g["small"]],
        "failures": failures,
    }


def _auc_by_group(lf: nw.LazyFrame, y: nw.Expr, score: str, sensitive: list[str]) -> dict[str, float | None]:
    """ROC AUC per group (the Mann-Whitney statistic with average ranks for ties, as scikit-learn)."""
    import numpy as np
    from scipy.stats import rankdata

    frame = lf.select(*[nw.col(c) for c in sensitive], y.alias("__y"), nw.col(score).cast(nw.Float64).alias("__s")).collect()
    cols = {c: frame.get_column(c).to_list() for c in sensitive}
    keys = [" & ".join(str(cols[c][i]) for c in sensitive) if len(sensitive) > 1 else str(cols[sensitive[0]][i]) for i in range(len(frame))]
    ys = frame.get_column("__y").to_numpy()
    ss = frame.get_column("__s").to_numpy()
    out: dict[str, float | None] = {}
    order = np.argsort(np.array(keys, dtype=object), kind="stable")
    keys_sorted = np.array(keys, dtype=object)[order]
    bounds = np.flatnonzero(np.r_[True, keys_sorted[1:] != keys_sorted[:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        idx = order[a:b]
        yg, sg = ys[idx], ss[idx]
        pos = int(yg.sum())
        neg = len(yg) - pos
        if pos == 0 or neg == 0:
            out[keys_sorted[a]] = None  # undefined with one class
            continue
        ranks = rankdata(sg)
        out[keys_sorted[a]] = float((ranks[yg == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))
    return out
