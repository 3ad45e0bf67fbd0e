"""The checks on a PySpark frame in local mode: the same values as on pandas (CI runs this)."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

pyspark = pytest.importorskip("pyspark", reason="PySpark is not installed (pip install pyspark)")
if not (os.environ.get("JAVA_HOME") or __import__("shutil").which("java")):
    if os.environ.get("SOC2KIT_REQUIRE_SPARK") == "1":
        raise RuntimeError("PySpark tests are required here but no Java runtime was found")
    pytest.skip("PySpark needs a Java runtime (none on PATH or JAVA_HOME)", allow_module_level=True)
pytestmark = [
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


@pytest.fixture(scope="module")
def spark():
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("soc2kit-tests").config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "4").getOrCreate())
    yield session
    session.stop()


def rows(seed: int, n: int = 3000):
    rng = np.random.default_rng(seed)
    y, p = rng.integers(0, 2, n), (rng.random(n) < 0.5).astype(int)
    g, x = rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1]), rng.normal(0, 1, n)
    return [(int(a), int(b), str(c), float(d)) for a, b, c, d in zip(y, p, g, x, strict=True)]


def test_bias_and_drift_on_spark_equal_the_local_result(spark):
    import polars as pl

    from soc2kit.checks.bias import Thresholds, bias
    from soc2kit.checks.drift import drift

    schema = "y long, p long, g string, x double"
    data, other = rows(1), rows(2)
    sdf = spark.createDataFrame(data, schema)
    local = pl.DataFrame(data, schema=["y", "p", "g", "x"], orient="row")
    th = Thresholds(min_group_size=1)
    assert bias(sdf, label="y", prediction="p", sensitive=["g"], thresholds=th)["summary"] == bias(local, label="y", prediction="p", sensitive=["g"], thresholds=th)["summary"]
    remote = drift(sdf, spark.createDataFrame(other, schema), method="exact")
    here = drift(local, pl.DataFrame(other, schema=["y", "p", "g", "x"], orient="row"))
    for col in ("x", "g"):
        for key, value in here["columns"][col].items():
            assert remote["columns"][col][key] == (pytest.approx(value, abs=1e-12) if isinstance(value, float) else value), (col, key)


def test_drift_on_spark_defaults_to_the_histogram_mode_within_its_bound(spark):
    """On Spark the KS statistic comes from bucket counts (no global sort); the exact value lies
    inside the reported interval, whose width is at most 1e-3."""
    from scipy.stats import ks_2samp, wasserstein_distance

    from soc2kit.checks.drift import drift

    rng = np.random.default_rng(7)
    ref = rng.normal(0, 1, 40_000)
    cur = np.concatenate([rng.normal(0.1, 1.2, 30_000), np.round(rng.normal(0, 1, 10_000), 1)])  # ties too
    schema = "x double, k long"
    sref = spark.createDataFrame([(float(v), int(v * 3)) for v in ref], schema)
    scur = spark.createDataFrame([(float(v), int(v * 3)) for v in cur], schema)
    result = drift(sref, scur)
    assert result["method"] == "histogram"
    for col, r, c in (("x", ref, cur), ("k", (ref * 3).astype(int).astype(float), (cur * 3).astype(int).astype(float))):
        m = result["columns"][col]
        exact = ks_2samp(r, c).statistic
        assert m["ks_error_bound"] <= 1e-3, (col, m["ks_error_bound"])
        assert m["ks_statistic"] - 1e-12 <= exact <= m["ks_statistic"] + m["ks_error_bound"] + 1e-12, col
        assert abs(m["wasserstein"] - wasserstein_distance(r, c)) <= m["wasserstein_error_bound"] + 1e-12, col
