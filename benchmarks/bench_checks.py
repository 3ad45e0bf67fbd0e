"""Benchmark: the bias check against fairlearn's MetricFrame computing the same metrics.

Generates N rows (default 10,000,000) with 20 groups as Parquet, then, each in a fresh process so
peak memory is its own: soc2kit's bias check reading the Parquet file lazily (per-group confusion
counts with one group-by, then arithmetic; plus 1,000 bootstrap replicates on the counts), and
fairlearn's MetricFrame (selection rate, TPR, FPR, FNR, accuracy by group, and the four summary
metrics) on the same data loaded with pandas. Targets: at least 250x faster than fairlearn, peak
memory under 1 GiB, bootstrap under 1 s.

Run: .venv/bin/python benchmarks/bench_checks.py [--rows N] [--skip-peer]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SOC2KIT = r"""
import json, resource, sys, time
from soc2kit.checks.bias import bias, bootstrap_intervals
t = time.perf_counter()
r = bias(sys.argv[1], label="y", prediction="p", sensitive=["g"], bootstrap=0)
elapsed = time.perf_counter() - t
judged = {k: g for k, g in r["by_group"].items() if not g["small"]}
t = time.perf_counter()
bootstrap_intervals(judged, 1000)
boot = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "bootstrap": boot, "summary": r["summary"], "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

PEER = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import pandas as pd
from fairlearn.metrics import MetricFrame, selection_rate, true_positive_rate, false_positive_rate, false_negative_rate, count
from fairlearn.metrics import demographic_parity_difference, demographic_parity_ratio, equalized_odds_difference, equalized_odds_ratio
from sklearn.metrics import accuracy_score
df = pd.read_parquet(sys.argv[1])
t = time.perf_counter()
mf = MetricFrame(metrics={"selection_rate": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate, "fnr": false_negative_rate,
                          "accuracy": accuracy_score, "count": count}, y_true=df.y, y_pred=df.p, sensitive_features=df.g)
mf.by_group
s = {"demographic_parity_difference": demographic_parity_difference(df.y, df.p, sensitive_features=df.g),
     "demographic_parity_ratio": demographic_parity_ratio(df.y, df.p, sensitive_features=df.g),
     "equalized_odds_difference": equalized_odds_difference(df.y, df.p, sensitive_features=df.g),
     "equalized_odds_ratio": equalized_odds_ratio(df.y, df.p, sensitive_features=df.g)}
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "summary": s, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(code: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args()
    import numpy as np
    import polars as pl

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    work = Path(tempfile.mkdtemp(prefix="soc2kit-bench-checks-", dir=os.environ.get("BENCH_DIR")))
    path = work / "predictions.parquet"
    rng = np.random.default_rng(0)
    n = args.rows
    groups = np.array([f"group-{i:02d}" for i in range(20)])
    t = time.perf_counter()
    pl.DataFrame({"y": rng.integers(0, 2, n, dtype=np.int8), "p": rng.integers(0, 2, n, dtype=np.int8), "g": groups[rng.integers(0, 20, n)]}).write_parquet(path)
    print(f"(setup: {n:,} rows, 20 groups, {path.stat().st_size / 2**20:.0f} MiB Parquet in {time.perf_counter() - t:.1f} s)")
    ours = run(SOC2KIT, path)
    print(f"soc2kit check bias: {ours['seconds']:.3f} s, peak RSS {ours['rss_mib']:.0f} MiB [target < 1024 MiB: {'ok' if ours['rss_mib'] < 1024 else 'MISSED'}]; "
          f"bootstrap 1,000 replicates {ours['bootstrap']:.3f} s [target < 1 s: {'ok' if ours['bootstrap'] < 1 else 'MISSED'}]")
    if not args.skip_peer:
        peer = run(PEER, path)
        speedup = peer["seconds"] / ours["seconds"]
        print(f"fairlearn MetricFrame: {peer['seconds']:.2f} s, peak RSS {peer['rss_mib']:.0f} MiB")
        print(f"speed-up: {speedup:.0f}x [target >= 250x: {'ok' if speedup >= 250 else 'MISSED'}]")
        worst = max(abs(ours["summary"][k] - peer["summary"][k]) for k in peer["summary"])
        print(f"largest difference in the summary metrics: {worst:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
