"""Benchmark: dashboard page latency with 50,000 evidence records, against a bare FastAPI endpoint.

Setup: a workspace initialised from an example (all of its applicable controls), 50,000 evidence
records spread over those controls and over the last 400 days, added through
``EvidenceStore.add_many`` in batches of 1,000 (a few are check results); half the controls
assessed as implemented. Then `soc2kit serve` (uvicorn, one process) on loopback in a subprocess,
and, in the same run, a bare FastAPI "hello world" endpoint under uvicorn as the peer: the floor
that HTTP, uvicorn and FastAPI cost before the dashboard does any work.

Load loop with httpx: sequential (one client, one request at a time) and concurrent (N threads,
each with its own connection). p50/p95/p99 per page. Target: p95 under 150 ms for the overview
and control pages.

Run: .venv/bin/python benchmarks/bench_dashboard.py [--records 50000] [--requests 300] [--threads 8]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from soc2kit.assess.assessment import Assessment
from soc2kit.evidence.service import applicable_controls
from soc2kit.evidence.store import EvidenceStore, NewEvidence
from soc2kit.workspace import Workspace
from soc2kit.workspace.init import example_text, init_workspace

HELLO = textwrap.dedent("""
    from fastapi import FastAPI
    app = FastAPI()

    @app.get("/")
    def hello():
        return {"hello": "world"}
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def widen_catalog(total: int) -> int:
    """Grow the (process-wide, cached) catalog to ``total`` controls with copies of existing ones
    under new ids, so the dashboard is measured at the issue's 200 controls (the kit ships 139).
    Must run in every process that reads the catalog: this one (seeding) and the server."""
    import dataclasses

    from soc2kit.library import load_catalog

    catalog = load_catalog()
    originals = list(catalog.controls.values())
    used = set(catalog.controls)
    i = 0
    while len(catalog.controls) < total:
        base = originals[i % len(originals)]
        n = 50
        while f"{base.area}-{n:02d}" in used:
            n += 1
        new = dataclasses.replace(base, id=f"{base.area}-{n:02d}", title=f"{base.title} (benchmark copy)")
        catalog.controls[new.id] = new
        used.add(new.id)
        i += 1
    return len(catalog.controls)


SERVER = (
    "import sys; sys.path.insert(0, sys.argv[4]); from bench_dashboard import widen_catalog; widen_catalog(int(sys.argv[3])); "
    "from soc2kit.cli import main; main(['--workspace', sys.argv[1], 'serve', '--port', sys.argv[2]])"
)


def seed(root: Path, example: str, records: int) -> tuple[int, str]:
    init_workspace(root, example_text(example), source=f"example '{example}'")
    ws = Workspace.open(root)
    controls = [c[0] for c in applicable_controls(ws)]
    a = Assessment.load(root)
    for cid in controls[::2]:
        a.set(cid, {"status": "implemented"}, by="bench")
    a.save()
    store = EvidenceStore.open(ws)
    today = dt.datetime.now(dt.UTC)
    t = time.perf_counter()
    batch = []
    for i in range(records):
        cid = controls[i % len(controls)]
        when = today - dt.timedelta(days=(i * 7919) % 400, minutes=i % 1440)
        if i % 5000 == 0:
            batch.append(NewEvidence(controls=["MDL-07" if "MDL-07" in controls else cid], data=json.dumps({"check": f"bench-{i // 5000}", "status": "pass" if i % 2 else "fail", "i": i}).encode(),
                                     name=f"check-{i}.json", source_kind="check", source_id=f"bench-{i // 5000}", collected_at=when))
        else:
            batch.append(NewEvidence(controls=[cid], data=b"evidence record %d for %s\n" % (i, cid.encode()), name=f"record-{i}.txt",
                                     description="benchmark record", collected_at=when))
        if len(batch) == 1000:
            store.add_many(batch, actor="bench")
            batch = []
    if batch:
        store.add_many(batch, actor="bench")
    store.close()
    print(f"seeded {records:,} records over {len(controls)} applicable controls in {time.perf_counter() - t:.1f} s", flush=True)
    return len(controls), controls[0]  # round robin: the first control has the most records


@contextlib.contextmanager
def serve(cmd: list[str], port: int, cwd: Path | None = None):
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(600):
            if proc.poll() is not None:
                raise SystemExit(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(round(p / 100 * len(values) + 0.5)) - 1))
    return values[k]


def sequential(url: str, n: int) -> list[float]:
    with httpx.Client(timeout=30) as c:
        for _ in range(10):
            c.get(url).raise_for_status()
        out = []
        for _ in range(n):
            t = time.perf_counter()
            r = c.get(url)
            out.append((time.perf_counter() - t) * 1000)
            r.raise_for_status()
    return out


def concurrent(url: str, n: int, threads: int) -> tuple[list[float], float]:
    def worker(_: int) -> list[float]:
        with httpx.Client(timeout=60) as c:
            c.get(url).raise_for_status()
            out = []
            for _ in range(n // threads):
                t = time.perf_counter()
                r = c.get(url)
                out.append((time.perf_counter() - t) * 1000)
                r.raise_for_status()
            return out

    t = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = [x for chunk in pool.map(worker, range(threads)) for x in chunk]
    return results, len(results) / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=50_000)
    ap.add_argument("--requests", type=int, default=300, help="requests per page and mode")
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--example", default="genai-platform")
    ap.add_argument("--controls", type=int, default=200, help="grow the catalog to this many controls (copies of real ones)")
    args = ap.parse_args()
    print(f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        catalog_size = widen_catalog(args.controls)
        print(f"catalog: {catalog_size} controls (139 shipped, the rest benchmark copies)", flush=True)
        n_controls, busiest = seed(root, args.example, args.records)
        hello = Path(tmp) / "hello_app.py"
        hello.write_text(HELLO)
        p1, p2 = free_port(), free_port()
        rows = []
        with serve([sys.executable, "-c", SERVER, str(root), str(p1), str(args.controls), str(Path(__file__).resolve().parent)], p1) as dash, \
             serve([sys.executable, "-m", "uvicorn", "hello_app:app", "--port", str(p2), "--log-level", "warning", "--app-dir", tmp], p2) as peer:
            pages = [("overview /", dash + "/"), (f"control /controls/{busiest}", f"{dash}/controls/{busiest}"), ("criteria /criteria", dash + "/criteria"),
                     ("gap /gap", dash + "/gap"), ("peer: FastAPI hello world", peer + "/")]
            for label, url in pages:
                seq = sequential(url, args.requests)
                conc, rps = concurrent(url, args.requests, args.threads)
                rows.append((label, seq, conc, rps))
                print(f"{label:40s} sequential p50 {pct(seq, 50):6.1f}  p95 {pct(seq, 95):6.1f}  p99 {pct(seq, 99):6.1f} ms | "
                      f"{args.threads} threads p50 {pct(conc, 50):6.1f}  p95 {pct(conc, 95):6.1f}  p99 {pct(conc, 99):6.1f} ms, {rps:6.0f} req/s", flush=True)
        print()
        print(f"{args.records:,} evidence records, {catalog_size} controls in the catalog, {n_controls} applicable; {args.requests} requests per page and mode; milliseconds")
        print()
        print(f"| page | sequential p50 / p95 / p99 | {args.threads} concurrent p50 / p95 / p99 | req/s ({args.threads} concurrent) |")
        print("| --- | --- | --- | --- |")
        for label, seq, conc, rps in rows:
            print(f"| {label} | {pct(seq, 50):.1f} / {pct(seq, 95):.1f} / {pct(seq, 99):.1f} | {pct(conc, 50):.1f} / {pct(conc, 95):.1f} / {pct(conc, 99):.1f} | {rps:.0f} |")
        targets = [r for r in rows if r[0].startswith(("overview", "control"))]
        ok = all(pct(seq, 95) < 150 for _, seq, _, _ in targets)
        print(f"\ntarget p95 < 150 ms (overview, control, sequential): {'met' if ok else 'NOT met'}; median of medians {statistics.median(pct(s, 50) for _, s, _, _ in targets):.1f} ms")


if __name__ == "__main__":
    main()
