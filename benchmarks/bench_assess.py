"""Benchmark: `gap` + `plan` for 500 controls with 12 months of status history.

Builds a synthetic catalog of 500 controls (copies of the bundled ones under new ids, mapped to
the same criteria), an assessment with a monthly status change for every control over 12 months
(6,000 history records in assessment.yaml), and 20 policy documents; then times, median of 5:
loading the assessment from disk, the gap computation and the plan. Target: under 1 s for
gap + plan. Baseline in the same run: the bare loop over the 500 controls' statuses (what any
scoring must at least do) and reading the YAML file.

Run: .venv/bin/python benchmarks/bench_assess.py
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from soc2kit.assess.assessment import Assessment
from soc2kit.assess.gap import compute_gap
from soc2kit.assess.plan import build_plan
from soc2kit.library import AREAS, load_catalog
from soc2kit.library.models import Catalog
from soc2kit.profile import parse_profile_text
from soc2kit.render.context import build_context
from soc2kit.render.documents import parse_policy_document
from soc2kit.render.policies import render_policies
from soc2kit.render.selection import select_controls
from soc2kit.workspace.init import example_text

N = 500
RUNS = 5
STATUSES = ["not_started", "planned", "partial", "implemented"]


def synthetic_catalog() -> Catalog:
    base = load_catalog()
    originals = list(base.controls.values())
    controls = {}
    per_area: dict[str, int] = {}
    i = 0
    while len(controls) < N:
        c = originals[i % len(originals)]
        area = list(AREAS)[i % len(AREAS)]
        per_area[area] = per_area.get(area, 0) + 1
        new_id = f"{area}-{per_area[area]:02d}"
        controls[new_id] = dataclasses.replace(c, id=new_id, area=area)
        i += 1
    return Catalog(criteria=base.criteria, controls=controls, policies=base.policies, frameworks=base.frameworks)


def main() -> int:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    catalog = synthetic_catalog()
    profile = parse_profile_text(example_text("genai-platform"))
    views = select_controls(catalog, profile, build_context(profile))
    applicable = [v.id for v in views if v.applicable]
    work = Path(tempfile.mkdtemp(prefix="soc2kit-bench-assess-"))
    a = Assessment(work / "assessment.yaml", {})
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for month in range(12):
        at = start + dt.timedelta(days=30 * month)
        for k, cid in enumerate(applicable):
            st = STATUSES[min(3, (month + k) // 4 % 4)]
            a.set(cid, {"status": st, "owner": f"owner-{k % 7}", "notes": f"month {month}"}, by="bench", at=at)
    a.save()
    history = sum(len(c.history) for c in a.controls.values())
    size = (work / "assessment.yaml").stat().st_size
    docs = [parse_policy_document(Path(d.relpath), d.text) for d in render_policies(load_catalog(), profile)][:20]
    people = {}
    roles = {"security_officer": "SO", "ceo": "CEO", "people_lead": "People"}
    print(f"{len(catalog.controls)} controls ({len(applicable)} applicable), {history:,} history records, assessment.yaml {size / 1024:.0f} KiB, {len(docs)} policies")
    loads, gaps, plans = [], [], []
    for _ in range(RUNS):
        t = time.perf_counter()
        loaded = Assessment.load(work)
        loads.append(time.perf_counter() - t)
        t = time.perf_counter()
        g = compute_gap(catalog, views, loaded, company="Bench", tsc=list(profile.scope.tsc))
        gaps.append(time.perf_counter() - t)
        t = time.perf_counter()
        p = build_plan(catalog, views, g, docs, company="Bench", roles=roles, start=dt.date(2027, 1, 4), window=None, unassessed=0, people=people)
        plans.append(time.perf_counter() - t)
    tasks = sum(len(ph["tasks"]) for ph in p["phases"])
    load, gap, plan = statistics.median(loads), statistics.median(gaps), statistics.median(plans)
    total = load + gap + plan
    print(f"load assessment.yaml: {load * 1000:.0f} ms; gap: {gap * 1000:.0f} ms; plan ({tasks} tasks): {plan * 1000:.0f} ms")
    print(f"gap + plan including the load: {total * 1000:.0f} ms  [target < 1000 ms: {'ok' if total < 1 else 'MISSED'}]")
    t = time.perf_counter()
    counts: dict[str, int] = {}
    for cid in applicable:
        st = loaded.get(cid).status
        counts[st] = counts.get(st, 0) + 1
    base_loop = time.perf_counter() - t
    import yaml

    t = time.perf_counter()
    yaml.load((work / "assessment.yaml").read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    base_read = time.perf_counter() - t
    print(f"baselines: bare status loop {base_loop * 1000:.1f} ms; reading the YAML alone {base_read * 1000:.0f} ms")
    return 0 if total < 1 else 1


if __name__ == "__main__":
    sys.exit(main())
