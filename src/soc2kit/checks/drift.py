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

Methods (``method``): ``exact`` sorts each numeric column once (the default for files and
in-process frames). ``histogram`` (the default for PySpark frames, where a global sort is costly)
never sorts or collects the rows: it takes about 4,100 cut points per column (2,048 quantiles of
each sample plus its minimum and maximum; Spark's ``approxQuantile`` with relative error 1e-4),
counts both samples into the intervals between them and into each cut point itself (one Bucketizer
pass in Spark), and bounds the statistics from those counts: the empirical CDFs are known exactly
at every cut point and are monotone in between, so the KS statistic lies in ``[ks_statistic,
ks_statistic + ks_error_bound]``, where ``ks_statistic`` is the largest difference at the cut points
and the bound is at most the mass of one interval (about 1/2048 + 2 x 1e-4, under 1e-3). The
Wasserstein distance is the midpoint of its bounds with ``wasserstein_error_bound``; the p-value
is computed from ``ks_statistic``; PSI uses the (approximate) reference deciles.
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


HIST_QUANTILES = 2048
SPARK_RELATIVE_ERROR = 1e-4


def _hist_probs() -> np.ndarray:
    deciles = np.linspace(0, 1, 11)
    return np.unique(np.concatenate([np.linspace(0, 1, HIST_QUANTILES + 1), deciles]))


def _splits(edges: np.ndarray) -> np.ndarray:
    """Each cut point followed by the next float: the interval [e, next(e)) holds exactly the value e."""
    edges = np.unique(edges[np.isfinite(edges)])
    return np.unique(np.concatenate([edges, np.nextafter(edges, np.inf)]))


def _below(counts: np.ndarray) -> np.ndarray:
    """From counts per interval (-inf, s0), [s0, s1), ..., [s_last, inf): count(x < s_i) for every split."""
    return np.cumsum(counts)[:-1]


def histogram_numeric(splits: np.ndarray, ref_counts: np.ndarray, cur_counts: np.ndarray, ref_deciles: np.ndarray, ref_std: float) -> dict[str, Any]:
    """KS and Wasserstein bounds and PSI from counts of both samples in the intervals between splits."""
    from scipy.stats import distributions

    n1, n2 = int(ref_counts.sum()), int(cur_counts.sum())
    f = np.concatenate([[0.0], _below(ref_counts) / n1, [1.0]])  # F at -inf, s_0 .. s_last (as count(x < s)/n), +inf
    g = np.concatenate([[0.0], _below(cur_counts) / n2, [1.0]])
    diff = f - g
    d = float(np.max(np.abs(diff)))
    # interval i is [s_(i-1), s_i): F there lies in [f[i], f[i+1]] (with s_-1 = -inf, s_m = +inf)
    lo_f, hi_f, lo_g, hi_g = f[:-1], f[1:], g[:-1], g[1:]
    point = np.zeros(len(lo_f), dtype=bool)
    point[1:-1] = splits[1:] == np.nextafter(splits[:-1], np.inf)  # [e, next(e)): F is constant, its upper value
    lo_f, lo_g = np.where(point, hi_f, lo_f), np.where(point, hi_g, lo_g)
    upper = np.maximum(hi_f - lo_g, hi_g - lo_f)
    lower = np.maximum(0.0, np.maximum(lo_f - hi_g, lo_g - hi_f))
    bound = max(0.0, float(np.max(upper)) - d)
    widths = np.diff(splits)
    inner = slice(1, -1)  # the two outer intervals hold no mass: the splits include both samples' extremes
    w_hi = float(np.sum(widths * upper[inner]))
    w_lo = float(np.sum(widths * lower[inner]))
    w = (w_hi + w_lo) / 2
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = np.round(m * n / (m + n))
    approx = float(distributions.kstwobign.sf(np.sqrt(en) * d))
    p = approx if approx < 1e-14 else float(np.clip(distributions.kstwo.sf(d, en), 0, 1))
    # PSI over the reference deciles, right-closed as in the exact method: count(x <= d) = count(x < next(d))
    idx = np.searchsorted(splits, np.nextafter(np.unique(ref_deciles)[1:-1], np.inf))
    ref_le = np.concatenate([[0], _below(ref_counts)[idx], [n1]])
    cur_le = np.concatenate([[0], _below(cur_counts)[idx], [n2]])
    psi = _psi(np.diff(ref_le) / n1, np.diff(cur_le) / n2) if len(idx) else (0.0 if d == 0 else float("inf"))
    return {"kind": "numeric", "method": "histogram", "ks_statistic": d, "ks_error_bound": bound, "ks_p_value": p, "wasserstein": w,
            "wasserstein_error_bound": (w_hi - w_lo) / 2, "wasserstein_normed": w / ref_std if ref_std else (0.0 if w == 0 else float("inf")),
            "psi": psi, "bins": len(splits) + 1}


def _histogram_columns(ref_lf: nw.LazyFrame, cur_lf: nw.LazyFrame, cols: list[str]) -> dict[str, dict[str, Any]]:
    """Histogram statistics of numeric columns, computed inside the engine for PySpark frames and
    from the collected columns (no sort) otherwise."""
    probs = _hist_probs()
    if not cols:
        return {}
    if ref_lf.implementation.is_pyspark() and cur_lf.implementation.is_pyspark():
        return _histogram_spark(nw.to_native(ref_lf), nw.to_native(cur_lf), cols, probs)
    out = {}
    for col in cols:
        r = ref_lf.select(nw.col(col).cast(nw.Float64)).drop_nulls().collect().get_column(col).to_numpy()
        c = cur_lf.select(nw.col(col).cast(nw.Float64)).drop_nulls().collect().get_column(col).to_numpy()
        if len(r) == 0 or len(c) == 0:
            raise UserError(f"column {col!r} has no values in the reference or the current data")
        rq = np.quantile(r, probs, method="inverted_cdf")
        cq = np.quantile(c, probs, method="inverted_cdf")
        splits = _splits(np.concatenate([rq, cq]))
        rc = np.bincount(np.searchsorted(splits, r, side="right"), minlength=len(splits) + 1)
        cc = np.bincount(np.searchsorted(splits, c, side="right"), minlength=len(splits) + 1)
        out[col] = histogram_numeric(splits, rc, cc, rq[np.isin(probs, np.linspace(0, 1, 11))], float(np.std(r)))
    return out


def _histogram_spark(ref, cur, cols: list[str], probs: np.ndarray) -> dict[str, dict[str, Any]]:
    from pyspark.ml.feature import Bucketizer
    from pyspark.sql import functions as F

    ref = ref.select([F.col(c).cast("double").alias(c) for c in cols])
    cur = cur.select([F.col(c).cast("double").alias(c) for c in cols])
    deciles = np.isin(probs, np.linspace(0, 1, 11))
    rq = ref.approxQuantile(cols, probs.tolist(), SPARK_RELATIVE_ERROR)
    cq = cur.approxQuantile(cols, probs.tolist(), SPARK_RELATIVE_ERROR)
    stds = ref.agg(*[F.stddev_pop(c).alias(c) for c in cols]).first().asDict()
    # exact extremes of both samples, so that no mass lies outside the outermost cut points
    extremes = [frame.agg(*[F.min(c).alias(f"min_{i}") for i, c in enumerate(cols)], *[F.max(c).alias(f"max_{i}") for i, c in enumerate(cols)]).first()
                for frame in (ref, cur)]
    splits = {}
    for i, col in enumerate(cols):
        if not rq[i] or not cq[i]:
            raise UserError(f"column {col!r} has no values in the reference or the current data")
        ends = [e[f"{k}_{i}"] for e in extremes for k in ("min", "max")]
        splits[col] = _splits(np.asarray(rq[i] + cq[i] + ends, dtype=float))

    def counts(frame, col: str) -> np.ndarray:
        s = splits[col]
        bucketizer = Bucketizer(splits=[-float("inf"), *s.tolist(), float("inf")], inputCol=col, outputCol="_bucket", handleInvalid="skip")
        rows = bucketizer.transform(frame.select(col).dropna()).groupBy("_bucket").count().collect()
        out = np.zeros(len(s) + 1, dtype=np.int64)
        for row in rows:
            out[int(row["_bucket"])] = row["count"]
        return out

    result = {}
    for i, col in enumerate(cols):
        result[col] = histogram_numeric(splits[col], counts(ref, col), counts(cur, col), np.asarray(rq[i], dtype=float)[deciles], float(stds[col] or 0.0))
    return result


def _is_numeric(dtype: Any) -> bool:
    return dtype.is_numeric() and dtype != nw.Boolean


METHODS = ("auto", "exact", "histogram")


def drift(reference: Any, current: Any, *, columns: list[str] | None = None, psi_warning: float = 0.1, psi_alert: float = 0.25,
          method: str = "auto") -> dict[str, Any]:
    if method not in METHODS:
        raise UserError(f"unknown drift method {method!r}", hint=f"choose from: {', '.join(METHODS)}")
    ref_lf, cur_lf = open_frame(reference), open_frame(current)
    if method == "auto":
        method = "histogram" if ref_lf.implementation.is_pyspark() else "exact"
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
    numeric_cols = [c for c in names if _is_numeric(ref_schema[c])]
    if method == "histogram":
        n_ref, n_cur = (int(f.select(nw.len()).collect().item()) for f in (ref_lf, cur_lf))
        if n_ref == 0 or n_cur == 0:
            raise UserError("reference or current has no rows")
        computed = _histogram_columns(ref_lf, cur_lf, numeric_cols)
        rest = [c for c in names if c not in computed]
        ref_df = ref_lf.select(rest).collect() if rest else None
        cur_df = cur_lf.select(rest).collect() if rest else None
        return _verdict(names, computed, ref_df, cur_df, n_ref, n_cur, psi_warning, psi_alert, method)
    ref_df = ref_lf.select(names).collect()
    cur_df = cur_lf.select(names).collect()
    n_ref = len(ref_df)
    if n_ref == 0 or len(cur_df) == 0:
        raise UserError("reference or current has no rows")
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
    return _verdict(names, computed, ref_df, cur_df, n_ref, len(cur_df), psi_warning, psi_alert, method)


def _verdict(names: list[str], computed: dict[str, dict[str, Any]], ref_df, cur_df, n_ref: int, n_cur: int, psi_warning: float, psi_alert: float,
             method: str) -> dict[str, Any]:
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
    return {"check": "ai.drift", "status": "fail" if share >= SHARE_THRESHOLD else "pass", "method": method, "rows": {"reference": n_ref, "current": n_cur},
            "columns": result, "share_drifted": share, "thresholds": {"p_value": P_THRESHOLD, "distance": DISTANCE_THRESHOLD, "share": SHARE_THRESHOLD,
                                                                      "psi_warning": psi_warning, "psi_alert": psi_alert, "small_reference_rows": SMALL}}
