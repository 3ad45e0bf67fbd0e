"""Benchmark: dataset manifests against `openssl dgst -sha256` in the same run.

1. Throughput hashing one 1 GiB file: soc2kit's manifest vs `openssl dgst -sha256` (target: at
   least 90 % of openssl's throughput).
2. 20,000 small files (1 KiB): files per second for a first manifest (target: at least 15,000/s).
3. Re-verifying an unchanged dataset (cache hits) against the first run (target: 20x faster),
   for the small files (where listing and stat dominate) and for 1,000 files of 1 MiB.

Run: .venv/bin/python benchmarks/bench_manifest.py [--big-mib N] [--small N]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from soc2kit.checks.dataset import build_manifest


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--small", type=int, default=20000)
    parser.add_argument("--medium", type=int, default=1000)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    work = Path(tempfile.mkdtemp(prefix="soc2kit-bench-manifest-", dir=os.environ.get("BENCH_DIR")))
    missed = []
    try:
        big = work / "big"
        big.mkdir()
        with (big / "blob.bin").open("wb") as fh:
            chunk = os.urandom(1 << 20)
            for _ in range(args.big_mib):
                fh.write(chunk)
        size = args.big_mib * (1 << 20)
        subprocess.run(["openssl", "dgst", "-sha256", str(big / "blob.bin")], capture_output=True, check=True)  # warm the page cache
        t = time.perf_counter()
        subprocess.run(["openssl", "dgst", "-sha256", str(big / "blob.bin")], capture_output=True, check=True)
        openssl = time.perf_counter() - t
        t = time.perf_counter()
        build_manifest(big, None)
        ours = time.perf_counter() - t
        ratio = openssl / ours
        print(f"1 file of {args.big_mib} MiB: soc2kit {size / ours / 2**20:,.0f} MiB/s, openssl {size / openssl / 2**20:,.0f} MiB/s = {ratio:.0%} of openssl [target >= 90%: {'ok' if ratio >= 0.9 else 'MISSED'}]")
        if ratio < 0.9:
            missed.append("throughput")
        small = work / "small"
        for i in range(args.small):
            d = small / f"shard-{i // 1000:03d}"
            if i % 1000 == 0:
                d.mkdir(parents=True)
            (d / f"f{i:06d}.json").write_bytes(os.urandom(1024))
        cache = work / "cache.json"
        t = time.perf_counter()
        first = build_manifest(small, cache)
        first_s = time.perf_counter() - t
        t = time.perf_counter()
        again = build_manifest(small, cache)
        again_s = time.perf_counter() - t
        rate = args.small / first_s
        print(f"{args.small:,} small files: first manifest {first_s:.2f} s = {rate:,.0f} files/s [target >= 15,000/s: {'ok' if rate >= 15000 else 'MISSED'}]")
        print(f"re-verify unchanged: {again_s:.2f} s ({again.cached:,} cached) = {first_s / again_s:.1f}x faster (1 KiB files: listing and stat dominate, not hashing)")
        assert first.manifest["merkle_root"] == again.manifest["merkle_root"]
        if rate < 15000:
            missed.append("small files")
        medium = work / "medium"
        medium.mkdir()
        block = os.urandom(1 << 20)
        for i in range(args.medium):
            (medium / f"part-{i:05d}.bin").write_bytes(block[: (1 << 20) - i])
        mcache = work / "mcache.json"
        t = time.perf_counter()
        build_manifest(medium, mcache)
        m_first = time.perf_counter() - t
        t = time.perf_counter()
        build_manifest(medium, mcache)
        m_again = time.perf_counter() - t
        print(f"{args.medium:,} files of 1 MiB: first manifest {m_first:.2f} s, re-verify unchanged {m_again:.3f} s = {m_first / m_again:.0f}x faster "
              f"[target >= 20x: {'ok' if m_first / m_again >= 20 else 'MISSED'}]")
        if m_first / m_again < 20:
            missed.append("re-verify")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if missed:
        print("missed: " + ", ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
