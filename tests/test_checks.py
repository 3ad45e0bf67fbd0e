"""Bias and drift checks: the reference libraries' values, on every installed dataframe backend."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import write
from soc2kit.checks.bias import Thresholds, bias
from soc2kit.checks.drift import drift
from soc2kit.errors import UserError

pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")


def backends():
    out = [("pandas", lambda df: df), ("polars", pl.from_pandas)]
    try:
        import pyarrow as pa

        out.append(("pyarrow", lambda df: pa.Table.from_pandas(df, preserve_index=False)))
    except ImportError:  # pragma: no cover
        pass
    try:
        import duckdb

        out.append(("duckdb", lambda df: duckdb.sql("select * from df")))
    except ImportError:  # pragma: no cover
        pass
    return out


def predictions(seed: int = 3, n: int = 4000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c", "d"], n, p=[0.55, 0.3, 0.13, 0.02])
    y = rng.integers(0, 2, n)
    y[group == "d"] = 0  # a group without positives
    p = (rng.random(n) < np.where(group == "b", 0.35, 0.55)).astype(int)
    return pd.DataFrame({"y": y, "p": p, "g": group, "h": rng.choice(["x", "y"], n), "s": rng.random(n)})


@pytest.mark.parametrize(("backend", "convert"), backends())
def test_bias_matches_fairlearn(backend, convert):
    fm = pytest.importorskip("fairlearn.metrics")
    df = predictions()
    r = bias(convert(df), label="y", prediction="p", sensitive=["g"], score="s", thresholds=Thresholds(min_group_size=1))
    kw = {"sensitive_features": df.g}
    expected = {
        "demographic_parity_difference": fm.demographic_parity_difference(df.y, df.p, **kw),
        "demographic_parity_ratio": fm.demographic_parity_ratio(df.y, df.p, **kw),
        "equalized_odds_difference": fm.equalized_odds_difference(df.y, df.p, **kw),
        "equalized_odds_ratio": fm.equalized_odds_ratio(df.y, df.p, **kw),
    }
    for key, value in expected.items():
        assert r["summary"][key] == pytest.approx(value, abs=1e-9), key
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn warns about the group without positives
        frame = fm.MetricFrame(metrics={"selection_rate": fm.selection_rate, "tpr": fm.true_positive_rate, "fpr": fm.false_positive_rate,
                                        "fnr": fm.false_negative_rate, "count": fm.count}, y_true=df.y, y_pred=df.p, sensitive_features=df.g)
    for group, row in frame.by_group.iterrows():
        ours = r["by_group"][str(group)]
        for metric in ("selection_rate", "tpr", "fpr", "fnr"):
            assert ours[metric] == pytest.approx(row[metric], abs=1e-9), (group, metric)
        assert ours["count"] == row["count"]
    from sklearn.metrics import roc_auc_score

    for group in ("a", "b", "c"):
        mask = df.g == group
        assert r["by_group"][group]["auc"] == pytest.approx(roc_auc_score(df.y[mask], df.s[mask]), abs=1e-9)
    assert r["by_group"]["d"]["auc"] is None  # undefined without positives


def test_intersectional_groups_and_small_groups():
    df = predictions()
    r = bias(df, label="y", prediction="p", sensitive=["g", "h"], thresholds=Thresholds(min_group_size=100))
    assert "a & x" in r["by_group"] and "d & y" in r["by_group"]
    assert set(r["small_groups"]) >= {"d & x", "d & y"}
    assert all(k not in r["four_fifths"] for k in r["small_groups"])
    fm = pytest.importorskip("fairlearn.metrics")
    sf = df[["g", "h"]]
    assert r["summary"]["demographic_parity_difference"] == pytest.approx(fm.demographic_parity_difference(df.y, df.p, sensitive_features=sf), abs=1e-9)


def test_bias_verdict_uses_the_four_fifths_rule():
    df = predictions()
    r = bias(df, label="y", prediction="p", sensitive=["g"], thresholds=Thresholds(min_group_size=100))
    assert r["status"] == "fail" and any("demographic parity ratio" in f for f in r["failures"])  # group b is selected less often
    balanced = bias(df, label="y", prediction="p", sensitive=["h"])  # h is independent of the predictions
    assert balanced["status"] == "pass" and balanced["failures"] == []


def test_rows_without_label_or_prediction_are_left_out():
    df = predictions()
    with_missing = df.astype({"y": "float"})
    with_missing.loc[::10, "y"] = np.nan
    r = bias(pl.from_pandas(with_missing, nan_to_null=True), label="y", prediction="p", sensitive=["g"], thresholds=Thresholds(min_group_size=1))
    kept = df[with_missing.y.notna()]
    assert r["rows"] == len(kept)
    fm = pytest.importorskip("fairlearn.metrics")
    assert r["summary"]["demographic_parity_difference"] == pytest.approx(fm.demographic_parity_difference(kept.y, kept.p, sensitive_features=kept.g), abs=1e-9)


def test_string_labels_need_a_positive_label():
    df = predictions().assign(y=lambda d: np.where(d.y == 1, "approved", "denied"), p=lambda d: np.where(d.p == 1, "approved", "denied"))
    with pytest.raises(UserError, match="not binary 0/1"):
        bias(df, label="y", prediction="p", sensitive=["g"])
    r = bias(df, label="y", prediction="p", sensitive=["g"], pos_label="approved", thresholds=Thresholds(min_group_size=1))
    base = bias(predictions(), label="y", prediction="p", sensitive=["g"], thresholds=Thresholds(min_group_size=1))
    assert r["summary"] == base["summary"]


def test_bad_bias_input():
    df = predictions()
    with pytest.raises(UserError, match="available columns: y, p, g, h, s"):
        bias(df, label="outcome", prediction="p", sensitive=["g"])
    with pytest.raises(UserError, match="more than two values"):
        bias(df.assign(y=df.y + df.p), label="y", prediction="p", sensitive=["g"], pos_label=1)
    with pytest.raises(UserError, match="entirely empty"):
        bias(df.assign(g=None), label="y", prediction="p", sensitive=["g"])


def frames(seed: int = 5, n_ref: int = 600, n_cur: int = 700):
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame({"num": rng.normal(0, 1, n_ref), "int": rng.integers(0, 7, n_ref), "cat": rng.choice(["x", "y", "z"], n_ref)})
    cur = pd.DataFrame({"num": rng.normal(0.3, 1.2, n_cur), "int": rng.integers(0, 7, n_cur), "cat": rng.choice(["x", "y", "z", "w"], n_cur, p=[0.5, 0.3, 0.15, 0.05])})
    ref.loc[::37, "num"] = np.nan
    return ref, cur


@pytest.mark.parametrize(("backend", "convert"), backends())
def test_drift_matches_scipy(backend, convert):
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

    ref, cur = frames()
    r = drift(convert(ref), convert(cur))
    for col in ("num", "int"):
        a, b = ref[col].dropna().to_numpy(float), cur[col].dropna().to_numpy(float)
        m = r["columns"][col]
        ks = ks_2samp(a, b)
        assert m["ks_statistic"] == pytest.approx(ks.statistic, abs=1e-9) and m["ks_p_value"] == pytest.approx(ks.pvalue, abs=1e-9)
        assert m["wasserstein"] == pytest.approx(wasserstein_distance(a, b), abs=1e-9)
        assert m["test"] == "ks"
    cats = ["w", "x", "y", "z"]
    rc = np.array([(ref.cat == c).sum() for c in cats], float)
    cc = np.array([(cur.cat == c).sum() for c in cats], float)
    chi = chi2_contingency(np.vstack([rc, cc]))
    m = r["columns"]["cat"]
    assert m["chi2"] == pytest.approx(chi.statistic, abs=1e-9) and m["chi2_p_value"] == pytest.approx(chi.pvalue, abs=1e-9)
    assert m["jensen_shannon"] == pytest.approx(jensenshannon(rc / rc.sum(), cc / cc.sum()), abs=1e-9)
    assert m["test"] == "chi2" and m["drifted"] is True
    assert r["share_drifted"] == pytest.approx(sum(v["drifted"] for v in r["columns"].values()) / 3)


def test_large_reference_uses_distances_and_identical_data_does_not_drift():
    ref, _ = frames(n_ref=3000)
    r = drift(ref, ref.copy())
    assert r["status"] == "pass" and r["share_drifted"] == 0
    assert {m["test"] for m in r["columns"].values()} == {"wasserstein_normed", "jensen_shannon"}
    assert all(m["psi"] == pytest.approx(0, abs=1e-12) and m["psi_band"] == "stable" for m in r["columns"].values())


def test_drift_bad_input():
    ref, cur = frames()
    with pytest.raises(UserError, match="different columns: extra"):
        drift(ref, cur.assign(extra=1))
    with pytest.raises(UserError, match="different type"):
        drift(ref, cur.assign(num="text"))
    with pytest.raises(UserError, match="not found"):
        drift(ref, cur, columns=["nope"])


def test_cli_checks_store_evidence_and_exit_by_verdict(cli, workspace, tmp_path):
    ws = workspace("healthtech")
    df = predictions()
    data = tmp_path / "preds.parquet"
    df.to_parquet(data)
    r = cli("-w", ws, "check", "bias", "--data", data, "--label", "y", "--prediction", "p", "--sensitive", "g", "--format", "json")
    assert r.code == 1  # the four-fifths rule fails
    result = json.loads(r.out)
    assert result["status"] == "fail" and result["evidence"] == 1
    shown = json.loads(cli("-w", ws, "evidence", "show", "1", "--format", "json").out)
    assert shown["controls"] == ["MDL-07"] and shown["source"]["id"] == "ai.bias"
    ref, cur = frames()
    ref_f, cur_f = tmp_path / "ref.csv", tmp_path / "cur.csv"
    ref.to_csv(ref_f, index=False)
    ref.to_csv(cur_f, index=False)
    r = cli("-w", ws, "check", "drift", "--reference", ref_f, "--current", cur_f)
    assert r.code == 0 and "status: pass" in r.out and "stored as evidence 2 for MDL-06" in r.out
    r = cli("-w", ws, "check", "bias", "--data", tmp_path / "missing.csv", "--label", "y", "--prediction", "p", "--sensitive", "g")
    assert r.code == 2 and "not found" in r.err
    bad = write(tmp_path / "bad.csv", "y,p,g\n1,0\n\x00\x01,,\n")
    r = cli("-w", ws, "check", "bias", "--data", bad, "--label", "y", "--prediction", "p", "--sensitive", "g")
    assert r.code == 2 and "Traceback" not in r.err


def test_performance_metrics_match_scikit_learn_and_degradation_fails(cli, tmp_path):
    from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, precision_score, recall_score, roc_auc_score

    from soc2kit.checks.performance import classification_metrics, regression_metrics

    df = predictions()
    m = classification_metrics(df.y.to_numpy(), df.p.to_numpy(), df.s.to_numpy())
    assert m["accuracy"] == pytest.approx(accuracy_score(df.y, df.p), abs=1e-9)
    assert m["precision"] == pytest.approx(precision_score(df.y, df.p), abs=1e-9)
    assert m["recall"] == pytest.approx(recall_score(df.y, df.p), abs=1e-9)
    assert m["f1"] == pytest.approx(f1_score(df.y, df.p), abs=1e-9)
    assert m["auc"] == pytest.approx(roc_auc_score(df.y, df.s), abs=1e-9)
    rng = np.random.default_rng(0)
    yr, pr = rng.normal(size=500), rng.normal(size=500)
    rm = regression_metrics(yr, pr)
    assert rm["mae"] == pytest.approx(mean_absolute_error(yr, pr), abs=1e-9)
    assert rm["rmse"] == pytest.approx(float(np.sqrt(np.mean((yr - pr) ** 2))), abs=1e-9)
    base = write(tmp_path / "base.json", json.dumps({"accuracy": 0.91, "f1": 0.80}))
    same = write(tmp_path / "same.json", json.dumps({"accuracy": 0.90, "f1": 0.79}))
    worse = write(tmp_path / "worse.json", json.dumps({"accuracy": 0.84, "f1": 0.79}))
    assert cli("-w", tmp_path, "check", "performance", "--baseline", base, "--current", same).code == 0
    r = cli("-w", tmp_path, "check", "performance", "--baseline", base, "--current", worse, "--format", "json")
    assert r.code == 1 and json.loads(r.out)["failures"] == ["accuracy fell from 0.91 to 0.84"]
    bad = write(tmp_path / "bad.json", json.dumps({"accuracy": "high"}))
    assert cli("-w", tmp_path, "check", "performance", "--baseline", base, "--current", bad).code == 2


def test_bootstrap_intervals_are_reproducible_and_ordered():
    df = predictions()
    a = bias(df, label="y", prediction="p", sensitive=["g"], bootstrap=500, seed=7)["confidence_intervals"]
    b = bias(df, label="y", prediction="p", sensitive=["g"], bootstrap=500, seed=7)["confidence_intervals"]
    assert a == b and a["replicates"] == 500
    for key in ("demographic_parity_difference", "demographic_parity_ratio", "equalized_odds_difference"):
        lo, hi = a[key]
        assert lo is not None and lo <= hi
    assert bias(df, label="y", prediction="p", sensitive=["g"], bootstrap=0)["confidence_intervals"] is None


def test_large_samples_take_the_one_sort_path_and_still_equal_scipy():
    from scipy.stats import ks_2samp, wasserstein_distance

    from soc2kit.checks.drift import _ks_and_wasserstein

    rng = np.random.default_rng(11)
    a, b = rng.normal(0, 1, 15000), rng.normal(0.05, 1.2, 12001)
    a[:100] = 0.5  # ties across both samples
    b[:100] = 0.5
    d, p, w, _sorted = _ks_and_wasserstein(a, b)
    ks = ks_2samp(a, b)
    assert d == pytest.approx(ks.statistic, abs=1e-12) and p == pytest.approx(ks.pvalue, abs=1e-12)
    assert w == pytest.approx(wasserstein_distance(a, b), abs=1e-9)


def test_heavy_ties_in_large_integer_samples_equal_scipy():
    from scipy.stats import ks_2samp, wasserstein_distance

    from soc2kit.checks.drift import _ks_and_wasserstein

    rng = np.random.default_rng(12)
    a, b = rng.integers(0, 7, 20000).astype(float), rng.integers(0, 8, 15000).astype(float)
    d, p, w, _sorted = _ks_and_wasserstein(a, b)
    ks = ks_2samp(a, b)
    assert d == pytest.approx(ks.statistic, abs=1e-12) and p == pytest.approx(ks.pvalue, abs=1e-12)
    assert w == pytest.approx(wasserstein_distance(a, b), abs=1e-9)


def test_tiny_p_values_stay_within_1e_9_of_scipy():
    from scipy.stats import ks_2samp

    from soc2kit.checks.drift import _ks_and_wasserstein

    rng = np.random.default_rng(13)
    a, b = rng.normal(0, 1, 30000), rng.normal(0.08, 1, 30000)
    _, p, _, _sorted = _ks_and_wasserstein(a, b)
    assert p == pytest.approx(ks_2samp(a, b).pvalue, abs=1e-9) and p < 1e-12


def test_reports_are_readable_and_escape_the_data(cli, tmp_path):
    df = predictions()
    df.loc[df.g == "c", "g"] = "<script>x</script> | *c*"
    data = tmp_path / "p.csv"
    df.to_csv(data, index=False)
    md = tmp_path / "bias.md"
    r = cli("-w", tmp_path, "check", "bias", "--data", data, "--label", "y", "--prediction", "p", "--sensitive", "g", "--report", md)
    assert r.code in (0, 1), r.err
    text = md.read_text()
    assert "# Bias check" in text and "![Bias check](bias.svg)" in text and (tmp_path / "bias.svg").exists()
    assert "<script>" not in text and "\\<script\\>" in text
    assert all(line.count(" | ") == text.splitlines()[text.splitlines().index("## By group") + 2].count(" | ") for line in text.splitlines() if line.startswith("| c") or line.startswith("| \\<"))
    page = tmp_path / "bias.html"
    cli("-w", tmp_path, "check", "bias", "--data", data, "--label", "y", "--prediction", "p", "--sensitive", "g", "--report", page, "--no-evidence")
    assert "<script>x" not in page.read_text() and "&lt;script&gt;" in page.read_text()
    ref, cur = frames()
    ref_f, cur_f = tmp_path / "ref.csv", tmp_path / "cur.csv"
    ref.to_csv(ref_f, index=False)
    cur.to_csv(cur_f, index=False)
    drift_md = tmp_path / "drift.md"
    r = cli("-w", tmp_path, "check", "drift", "--reference", ref_f, "--current", cur_f, "--report", drift_md)
    assert "## Columns" in drift_md.read_text() and "Share of drifted columns" in drift_md.read_text()
    r = cli("-w", tmp_path, "check", "drift", "--reference", ref_f, "--current", cur_f, "--report", tmp_path / "x.pdf")
    assert r.code == 2 and "unknown report type" in r.err


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_histogram_mode_brackets_scipy_within_1e_3(seed):
    """The histogram method (the one distributed engines use) reports an interval holding scipy's
    exact KS statistic and Wasserstein distance; the KS interval is at most 1e-3 wide."""
    import polars as pl
    from scipy.stats import ks_2samp, wasserstein_distance

    from soc2kit.checks.drift import drift

    rng = np.random.default_rng(seed)
    n = 20_000 + seed * 7919
    ref = pl.DataFrame({"a": rng.normal(0, 1, n), "b": rng.integers(0, 7, n).astype(float), "c": rng.exponential(1, n)})
    cur = pl.DataFrame({"a": rng.normal(0.05, 1.1, n // 2), "b": rng.integers(0, 9, n // 2).astype(float), "c": rng.exponential(1.3, n // 2)})
    hist = drift(ref, cur, method="histogram")
    assert hist["method"] == "histogram"
    for col in "abc":
        m = hist["columns"][col]
        r, c = ref[col].to_numpy(), cur[col].to_numpy()
        exact = ks_2samp(r, c).statistic
        assert 0 <= m["ks_error_bound"] <= 1e-3
        assert m["ks_statistic"] - 1e-12 <= exact <= m["ks_statistic"] + m["ks_error_bound"] + 1e-12
        assert abs(m["wasserstein"] - wasserstein_distance(r, c)) <= m["wasserstein_error_bound"] + 1e-12
    assert hist["columns"]["b"]["ks_error_bound"] == 0  # few distinct values: every value is a cut point, the result is exact
    with pytest.raises(UserError, match="unknown drift method"):
        drift(ref, cur, method="sketch")
