"""Benchmark: the whole policy set of an example to PDF + DOCX (`soc2kit build --format pdf,docx`).

Prints the wall time of the build (in-process and as a fresh `soc2kit` process), the time of every
document (PDF: layout + write in its worker process; DOCX: in the parent while the workers run), the
manual's assembly time, page counts, CPU time (parent + workers) and peak RSS (parent, and the largest
worker). Target: under 15 s for PDF + DOCX of `genai-platform` on the 2-core machine.

`--compare-manual` also times the alternative design for the manual: laying out all policies as one
HTML document in WeasyPrint (the figure that justified assembling it from the per-policy PDFs).

Run: .venv/bin/python benchmarks/bench_documents.py [--example genai-platform] [--runs 3] [--compare-manual]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from soc2kit.render.build import build
from soc2kit.workspace import Workspace
from soc2kit.workspace.init import example_text, init_workspace

TARGET_S = 15.0


def soc2kit_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("soc2kit")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "soc2kit"]


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def compare_single_manual(root: Path) -> tuple[float, int]:
    """Lay out every policy in one WeasyPrint document (the design not taken) and write it."""
    from soc2kit.render import pdf
    from soc2kit.render.documents import read_policy_documents

    ws = Workspace.open(root)
    documents = read_policy_documents(ws.policies_dir)
    env = pdf._env()
    parts = [pdf.policy_print_html(doc, ws.profile.company.name, env) for doc in documents]
    bodies = [p[p.index("<body>") + len("<body>"):p.index("</body>")] for p in parts]
    html = parts[0][:parts[0].index("<body>") + len("<body>")] + "\n".join(f'<div style="break-before: page">{b}</div>' for b in bodies) + "</body></html>"
    t = time.perf_counter()
    document = pdf._layout(html)
    document.write_pdf()
    return time.perf_counter() - t, len(document.pages)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="genai-platform")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--compare-manual", action="store_true")
    args = parser.parse_args()

    load = os.getloadavg()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}")
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (other work on the machine slows every figure)")
    work = Path(tempfile.mkdtemp(prefix="soc2kit-bench-docs-"))
    try:
        root = work / args.example
        init_workspace(root, example_text(args.example))
        ws = Workspace.open(root)
        build(ws, formats=["md"])  # warm the control-text cache, as a repeat build would find it

        walls, cpus, results = [], [], []
        for _ in range(args.runs):
            cpu0, t = cpu_seconds(), time.perf_counter()
            results.append(build(ws, formats=["pdf", "docx"]))
            walls.append(time.perf_counter() - t)
            cpus.append(cpu_seconds() - cpu0)
        best = results[walls.index(min(walls))]
        med = statistics.median(walls)

        whole = []
        for _ in range(args.runs):
            t = time.perf_counter()
            subprocess.run(soc2kit_cmd() + ["--workspace", str(root), "build", "--format", "pdf,docx"], check=True, capture_output=True)
            whole.append(time.perf_counter() - t)

        print(f"\n{args.example}: {best.policies} policies, {sum(v for k, v in best.pages.items() if not k.endswith('policy-manual.pdf'))} PDF pages"
              f" + manual of {best.pages.get('pdf/policy-manual.pdf', 0)} pages")
        status = "ok" if med < TARGET_S else "MISSED"
        print(f"  in-process build(pdf, docx): median {med:.2f} s of {args.runs} (min {min(walls):.2f}, max {max(walls):.2f})  [target < {TARGET_S:.0f} s: {status}]")
        print(f"  whole process `soc2kit build --format pdf,docx`: median {statistics.median(whole):.2f} s")
        print(f"  CPU time (parent + workers): median {statistics.median(cpus):.2f} s")
        peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peak_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"  peak RSS: parent {peak_self:.0f} MiB, largest worker or child process {peak_child:.0f} MiB")
        print("  per document (fastest run; PDF = layout + write in a worker, DOCX = in the parent):")
        ids = sorted({Path(k).stem for k in best.document_seconds if not k.endswith("policy-manual.pdf")})
        for doc_id in ids:
            p, d = best.document_seconds.get(f"pdf/{doc_id}.pdf", 0.0), best.document_seconds.get(f"docx/{doc_id}.docx", 0.0)
            print(f"    {doc_id:28} PDF {p * 1000:6.0f} ms ({best.pages.get(f'pdf/{doc_id}.pdf', 0):2d} pages)   DOCX {d * 1000:5.0f} ms")
        pdf_total = sum(v for k, v in best.document_seconds.items() if k.startswith("pdf/") and not k.endswith("policy-manual.pdf"))
        docx_total = sum(v for k, v in best.document_seconds.items() if k.startswith("docx/"))
        pages = sum(v for k, v in best.pages.items() if not k.endswith("policy-manual.pdf"))
        print(f"  sum of per-document PDF times: {pdf_total:.2f} s ({pdf_total / max(pages, 1) * 1000:.0f} ms a page); DOCX: {docx_total:.2f} s")
        print(f"  manual assembly (cover + contents, merge, stamp, links): {best.document_seconds.get('pdf/policy-manual.pdf', 0):.2f} s")
        print(f"  stages: {', '.join(f'{k} {v:.2f} s' for k, v in best.timings.items())}")
        size = sum(p.stat().st_size for d in ("pdf", "docx") for p in (root / "dist" / d).glob("*"))
        print(f"  output: {size / 1024 / 1024:.1f} MiB (PDF + DOCX)")
        if args.compare_manual:
            secs, n = compare_single_manual(root)
            print(f"\nalternative: the manual laid out as one WeasyPrint document: {secs:.2f} s for {n} pages (single process),"
                  f" against {best.document_seconds.get('pdf/policy-manual.pdf', 0):.2f} s to assemble it from the per-policy PDFs")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if med < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
