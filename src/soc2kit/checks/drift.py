"""Data drift check (``ai.drift``; control MDL-06): reference vs current, column by column.

Numeric columns: ``ks_statistic`` and ``ks_p_value`` (scipy's ``ks_2samp``), ``wasserstein``
(scipy's ``wasserstein_distance``), ``wasserstein_normed`` (divided by the reference standard
deviation) and ``psi`` over ten reference-quantile bins. Categorical columns: ``chi2`` and
``chi2_p_value`` (scipy's ``chi2_contingency`` on the 2 x k table of counts), ``psi`` and
``jensen_shannon`` (scipy's Jensen-Shannon distance of the two category distributions). PSI uses a
floor of 1e-4 for empty bins.

Which test decides (``test``), in the manner of Evidently's defaults: with at most 1,000 reference
rows, the KS test for numeric and the chi-square test for categorical columns, drift when
p < 0.05; with more, the normed Wasserstein distance for numeric and the Jensen-Shannon distance
for categorical columns, drift when >= 0.1 (large samples make every p-value tiny, so a distance
is the better judge). The dataset drifts when the share of drifted columns is at least 0.5. Each
column also carries its PSI band against the profile's ``drift_psi_warning``/``drift_psi_alert``.
"""

from __future__ import annotations

import os
from typing import Any

import narwhals as nw
import numpy as np

from soc2kit.checks._frames import open_frame, require_columns
from soc2kit.errors import UserError

SMALL = 1000
P_THRESHOLD = 0.05
DISTANCE_THRESHOLD = 0.1
SHARE_THRESHOLD = 0.5
EPS = 1e-4


def _psi(ref_share: np.ndarray, cur_share: np.ndarray) -> float:
    r = np.clip(ref_share, EPS, None)
    c = np.clip(cur_share, EPS, None)
    return float(np.sum((c - r) * np.log(c / r)))


def _ks_and_wasserstein(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float, float, tuple[np.ndarray, np.ndarray]]:
    """KS statistic and p-value and the Wasserstein distance, as scipy computes them, from one sort
    of each sample: the merged order serves both (scipy sorts each sample twice and the union once).
    Small samples go to scipy itself, whose exact p-value is the reference."""
    from scipy.stats import distributions, ks_2samp, wasserstein_distance

    n1, n2 = len(ref), len(cur)
    if max(n1, n2) <= 10000:
        import warnings

        with warnings.catch_warnings():
            # scipy warns when its exact method gives up on heavy ties and uses the asymptotic one
            warnings.simplefilter("ignore", RuntimeWarning)
            ks = ks_2samp(ref, cur)
        return float(ks.statistic), float(ks.pvalue), float(wasserstein_distance(ref, cur)), (np.sort(ref), np.sort(cur))
    a, b = np.sort(ref), np.sort(cur)
    merged = np.concatenate([a, b])
    order = np.argsort(merged, kind="stable")  # two sorted runs: a linear merge
    merged = merged[order]
    cum_a = np.cumsum(order < n1)
    cum_b = np.arange(1, n1 + n2 + 1) - cum_a
    diff = cum_a / n1 - cum_b / n2
    # the empirical CDFs are right-continuous: compare them at the last element of each run of ties
    ends = np.empty(len(merged), dtype=bool)
    ends[:-1] = merged[1:] != merged[:-1]
    ends[-1] = True
    at_ends = diff[ends]
    d = float(max(at_ends.max(), -at_ends.min(), 0.0))
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = np.round(m * n / (m + n))
    # scipy's exact Kolmogorov tail is slow exactly where it is tiny; below 1e-14 the asymptotic
    # tail is used instead (both are then far below the 1e-9 the values are compared to)
    approx = float(distributions.kstwobign.sf(np.sqrt(en) * d))
    p = approx if approx < 1e-14 else float(np.clip(distributions.kstwo.sf(d, en), 0, 1))
    # inside a run of ties the step width is 0, so the partial counts there add exact zeros
    w = float(np.sum(np.abs(diff[:-1]) * np.diff(merged)))
    return d, p, w, (a, b)


def numeric(ref: np.ndarray, cur: np.ndarray) -> dict[str, Any]:
    d, p, w, (ref_sorted, cur_sorted) = _ks_and_wasserstein(ref, cur)
    std = float(np.std(ref))
    edges = np.unique(np.quantile(ref_sorted, np.linspace(0, 1, 11)))
    if len(edges) < 2:
        psi = 0.0 if np.all(cur == edges[0]) else float("inf")
    else:
        inner = edges[1:-1]
        # bin counts from the sorted samples: 9 look-ups instead of one per row
        ref_counts = np.diff(np.concatenate([[0], np.searchsorted(ref_sorted, inner, side="right"), [len(ref)]]))
        cur_counts = np.diff(np.concatenate([[0], np.searchsorted(cur_sorted, inner, side="right"), [len(cur)]]))
        psi = _psi(ref_counts / len(ref), cur_counts / len(cur))
    return {"kind": "numeric", "ks_statistic": d, "ks_p_value": p, "wasserstein": w,
            "wasserstein_normed": w / std if std else (0.0 if w == 0 else float("inf")), "psi": psi}


def categorical(ref: list[Any], cur: list[Any]) -> dict[str, Any]:
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import chi2_contingency

    cats = sorted({*ref, *cur}, key=lambda v: (str(type(v)), str(v)))
    index = {c: i for i, c in enumerate(cats)}
    rc = np.bincount([index[v] for v in ref], minlength=len(cats)).astype(float)
    cc = np.bincount([index[v] for v in cur], minlength=len(cats)).astype(float)
    if len(cats) > 1:
        res = chi2_contingency(np.vstack([rc, cc]))
        chi2, p = float(res.statistic), float(res.pvalue)
    else:
        chi2, p = 0.0, 1.0
    rs, cs = rc / rc.sum(), cc / cc.sum()
    return {"kind": "categorical", "chi2": chi2, "chi2_p_value": p, "psi": _psi(rs, cs), "jensen_shannon": float(jensenshannon(rs, cs)),
            "categories": len(cats)}


def _is_numeric(dtype: Any) -> bool:
    return dtype.is_numeric() and dtype != nw.Boolean


def drift(reference: Any, current: Any, *, columns: list[str] | None = None, psi_warning: float = 0.1, psi_alert: float = 0.25) -> dict[str, Any]:
    ref_lf, cur_lf = open_frame(reference), open_frame(current)
    ref_schema, cur_schema = ref_lf.collect_schema(), cur_lf.collect_schema()
    if columns:
        require_columns(ref_lf, columns, "reference")
        require_columns(cur_lf, columns, "current")
        names = list(columns)
    else:
        names = [c for c in ref_schema.names() if c in cur_schema]
        only = sorted(set(ref_schema.names()) ^ set(cur_schema.names()))
        if only:
            raise UserError(f"reference and current have different columns: {', '.join(only)}", hint="pass --columns to compare a common subset")
    if not names:
        raise UserError("no columns to compare")
    mismatched = [c for c in names if _is_numeric(ref_schema[c]) != _is_numeric(cur_schema[c])]
    if mismatched:
        raise UserError(f"column(s) with a different type in reference and current: {', '.join(mismatched)}")
    ref_df = ref_lf.select(names).collect()
    cur_df = cur_lf.select(names).collect()
    n_ref = len(ref_df)
    if n_ref == 0 or len(cur_df) == 0:
        raise UserError("reference or current has no rows")
    numeric_cols = [c for c in names if _is_numeric(ref_schema[c])]
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for col in numeric_cols:
        r = ref_df.get_column(col).drop_nulls().cast(nw.Float64).to_numpy()
        c = cur_df.get_column(col).drop_nulls().cast(nw.Float64).to_numpy()
        if len(r) == 0 or len(c) == 0:
            raise UserError(f"column {col!r} has no values in the reference or the current data")
        arrays[col] = (r, c)
    # numpy and scipy release the GIL for sorting and array arithmetic: one column per core
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, min(len(arrays), os.cpu_count() or 1))) as pool:
        computed = dict(zip(arrays, pool.map(lambda rc: numeric(*rc), arrays.values()), strict=True))
    result: dict[str, Any] = {}
    for col in names:
        if col in computed:
            m = computed[col]
            if n_ref <= SMALL:
                m["test"], m["drifted"] = "ks", m["ks_p_value"] < P_THRESHOLD
            else:
                m["test"], m["drifted"] = "wasserstein_normed", m["wasserstein_normed"] >= DISTANCE_THRESHOLD
        else:
            r = [v for v in ref_df.get_column(col).to_list() if v is not None]
            c = [v for v in cur_df.get_column(col).to_list() if v is not None]
            if not r or not c:
                raise UserError(f"column {col!r} has no values in the reference or the current data")
            m = categorical(r, c)
            if n_ref <= SMALL:
                m["test"], m["drifted"] = "chi2", m["chi2_p_value"] < P_THRESHOLD
            else:
                m["test"], m["drifted"] = "jensen_shannon", m["jensen_shannon"] >= DISTANCE_THRESHOLD
        m["psi_band"] = "alert" if m["psi"] >= psi_alert else "warning" if m["psi"] >= psi_warning else "stable"
        result[col] = {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in m.items()}
    share = sum(1 for m in result.values() if m["drifted"]) / len(result)
    return {"check": "ai.drift", "status": "fail" if share >= SHARE_THRESHOLD else "pass", "rows": {"reference": n_ref, "current": len(cur_df)},
            "columns": result, "share_drifted": share, "thresholds": {"p_value": P_THRESHOLD, "distance": DISTANCE_THRESHOLD, "share": SHARE_THRESHOLD,
                                                                      "psi_warning": psi_warning, "psi_alert": psi_alert, "small_reference_rows": SMALL}}
