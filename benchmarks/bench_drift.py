"""Benchmark: the drift check against Evidently's default data-drift preset, same data, same run.

1,000,000 reference + 1,000,000 current rows x 20 numeric columns (Parquet). soc2kit computes KS
(statistic and p-value), Wasserstein, normed Wasserstein and PSI for every column; Evidently 0.7's
`DataDriftPreset` (its default: normed Wasserstein for numeric columns of this size) runs in its
own virtual environment, because it does not import with pandas 3
(`benchmarks/.peer-evidently`, made by: python3 -m venv benchmarks/.peer-evidently &&
benchmarks/.peer-evidently/bin/pip install "evidently==0.7.23" "pandas<3"). Target: at least 50x
faster than the peer.

Run: .venv/bin/python benchmarks/bench_drift.py [--rows N] [--columns N]
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

PEER_PY = Path(__file__).resolve().parent / ".peer-evidently" / "bin" / "python"
PEER = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
ref = pd.read_parquet(sys.argv[1]); cur = pd.read_parquet(sys.argv[2])
t = time.perf_counter()
snapshot = Report([DataDriftPreset()]).run(reference_data=ref, current_data=cur)
snapshot.dict()
print(json.dumps({"seconds": time.perf_counter() - t}))
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=20)
    args = parser.parse_args()
    import numpy as np
    import polars as pl

    from soc2kit.checks.drift import drift

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    work = Path(tempfile.mkdtemp(prefix="soc2kit-bench-drift-", dir=os.environ.get("BENCH_DIR")))
    rng = np.random.default_rng(0)
    ref_f, cur_f = work / "ref.parquet", work / "cur.parquet"
    pl.DataFrame({f"c{i}": rng.normal(0, 1, args.rows) for i in range(args.columns)}).write_parquet(ref_f)
    pl.DataFrame({f"c{i}": rng.normal(0.05 * (i % 3), 1, args.rows) for i in range(args.columns)}).write_parquet(cur_f)
    t = time.perf_counter()
    result = drift(ref_f, cur_f)
    with_read = time.perf_counter() - t
    ref_df, cur_df = pl.read_parquet(ref_f), pl.read_parquet(cur_f)  # the peer's timer also starts with the data in memory
    t = time.perf_counter()
    drift(ref_df, cur_df)
    ours = time.perf_counter() - t
    print(f"soc2kit check drift, {args.rows:,} + {args.rows:,} rows x {args.columns} columns: {ours:.2f} s with the data in memory "
          f"({with_read:.2f} s reading the Parquet files too; share drifted {result['share_drifted']:.2f})")
    t = time.perf_counter()
    hist = drift(ref_df, cur_df, method="histogram")
    hist_s = time.perf_counter() - t
    bound = max(m["ks_error_bound"] for m in hist["columns"].values())
    err = max(abs(hist["columns"][c]["ks_statistic"] - result["columns"][c]["ks_statistic"]) for c in result["columns"])
    print(f"histogram method (what Spark frames use), same data: {hist_s:.2f} s; largest reported KS error bound {bound:.2e} "
          f"[target <= 1e-3: {'ok' if bound <= 1e-3 else 'MISSED'}]; largest actual difference from the exact KS {err:.2e}")
    if not PEER_PY.exists():
        print("peer: Evidently not installed in benchmarks/.peer-evidently; see the docstring")
        return 0
    out = subprocess.run([str(PEER_PY), "-c", PEER, str(ref_f), str(cur_f)], capture_output=True, text=True, check=True)
    peer = json.loads(out.stdout.strip().splitlines()[-1])["seconds"]
    print(f"Evidently 0.7 DataDriftPreset: {peer:.2f} s")
    print(f"speed-up, data in memory for both: {peer / ours:.1f}x [target >= 50x: {'ok' if peer / ours >= 50 else 'MISSED'}]; including our file reading: {peer / with_read:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
