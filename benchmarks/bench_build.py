"""Benchmark: full `soc2kit build` (all policies, Markdown + HTML + control matrix) per example.

Prints, for each bundled example: the median of 5 whole-process runs of `soc2kit build` (process
start, imports, load, render, write), the median in-process build time, and the per-document cost of
converting each policy (parse + Markdown + HTML). Target: under 1 s per build on the 2-core machine.

Run: .venv/bin/python benchmarks/bench_build.py   (or `make bench`)
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from soc2kit.render.build import build
from soc2kit.render.documents import parse_policy_document
from soc2kit.render.html import markdown_to_html
from soc2kit.workspace import Workspace
from soc2kit.workspace.init import example_names, example_text, init_workspace

RUNS = 5
TARGET_S = 1.0
PEER = Path(__file__).resolve().parent / ".peer" / "node_modules"


def peer_build(work: Path) -> tuple[float, int, int] | None:
    """Median time of JupiterOne's `psp build` over its own 35-document template set, if installed
    (benchmarks/setup_peer.sh). Returns (median seconds, documents, output bytes)."""
    psp = PEER / ".bin" / "psp"
    templates = PEER / "@jupiterone" / "security-policy-templates" / "templates"
    if not psp.exists() or shutil.which("node") is None:
        return None
    config = json.loads((templates / "config.json").read_text())
    org = config["organization"]
    for key, value in list(org.items()):
        if not isinstance(value, bool):
            org[key] = value or f"Acme {key}"
    org.update({"companyFullName": "Acme AI, Inc.", "companyShortName": "Acme", "needStandardHIPAA": False})
    (work / "psp-config.json").write_text(json.dumps(config))
    times = []
    docs = size = 0
    for i in range(RUNS):
        out, partials = work / f"psp-out-{i}", work / f"psp-partials-{i}"
        t = time.perf_counter()
        subprocess.run([str(psp), "build", "-t", str(templates), "-c", str(work / "psp-config.json"), "-n", "-o", str(out), "-p", str(partials)],
                       check=True, capture_output=True, stdin=subprocess.DEVNULL, cwd=work)
        times.append(time.perf_counter() - t)
        files = list(out.rglob("*.md"))
        docs, size = len(files), sum(f.stat().st_size for f in files)
    return statistics.median(times), docs, size


def soc2kit_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("soc2kit")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "soc2kit"]


def main() -> int:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}")
    print(f"runs per measurement: {RUNS} (median)")
    work = Path(tempfile.mkdtemp(prefix="soc2kit-bench-"))
    missed = []
    try:
        for name in example_names():
            root = work / name
            init_workspace(root, example_text(name))
            docs = sorted((root / "policies").glob("*.md"))
            whole = []
            for _ in range(RUNS):
                t = time.perf_counter()
                subprocess.run(soc2kit_cmd() + ["--workspace", str(root), "build"], check=True, capture_output=True)
                whole.append(time.perf_counter() - t)
            inproc = []
            ws = Workspace.open(root)
            for _ in range(RUNS):
                t = time.perf_counter()
                build(ws)
                inproc.append(time.perf_counter() - t)
            per_doc = {}
            for doc in docs:
                samples = []
                for _ in range(RUNS):
                    t = time.perf_counter()
                    parsed = parse_policy_document(doc)
                    markdown_to_html(parsed.body)
                    samples.append(time.perf_counter() - t)
                per_doc[doc.stem] = statistics.median(samples)
            med = statistics.median(whole)
            status = "ok" if med < TARGET_S else "MISSED"
            if med >= TARGET_S:
                missed.append(name)
            print(f"\n{name}: {len(docs)} policies")
            print(f"  whole process (soc2kit build): median {med:.3f} s  [target < {TARGET_S:.1f} s: {status}]")
            print(f"  in-process build():            median {statistics.median(inproc):.3f} s")
            for doc_id, s in per_doc.items():
                print(f"    {doc_id:28} {s * 1000:7.1f} ms per document (parse + HTML)")
            print(f"  per document (whole process / documents): {med / len(docs) * 1000:.0f} ms")
            out_bytes = sum(p.stat().st_size for p in (root / "dist").rglob("*") if p.is_file())
            print(f"  output: {out_bytes / 1024:.0f} KiB (Markdown + HTML + matrix), {out_bytes / 1024 / med:.0f} KiB/s whole process")
        peer = peer_build(work)
        if peer is None:
            print("\npeer: JupiterOne policy builder not installed (run benchmarks/setup_peer.sh); its published figure is 35 Markdown documents in 0.55 s")
        else:
            med, docs, size = peer
            print("\npeer: JupiterOne `psp build` (35-document default template set), same machine, same run:")
            print(f"  whole process: median {med:.3f} s for {docs} Markdown documents ({size / 1024:.0f} KiB), {med / max(docs, 1) * 1000:.0f} ms per document, {size / 1024 / med:.0f} KiB/s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
