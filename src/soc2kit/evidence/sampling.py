"""Reproducible samples for an auditor's tests of operating effectiveness.

Sample sizes follow the frequency-based table most service auditors use for tests of controls with
a low tolerable deviation rate (the sizes commonly derived from the AICPA Audit Guide *Audit
Sampling* for tests of controls, as published in many firms' SOC 2 methodologies). The auditor
decides the final sample; this table is a planning default, documented in docs/evidence.md.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from typing import Any

#: frequency -> sample size for a full-year population; smaller populations are sampled in full
#: up to this size.
SAMPLE_SIZES: dict[str, int] = {
    "annual": 1,
    "semiannual": 1,
    "quarterly": 2,
    "monthly": 2,
    "weekly": 5,
    "daily": 25,
    "continuous": 25,
}


def per_event_size(population: int) -> int:
    """Per-event controls: size by population, mirroring the frequency table."""
    if population <= 0:
        return 0
    if population == 1:
        return 1
    if population <= 12:
        return 2
    if population <= 52:
        return 5
    if population <= 250:
        return 25
    return 40


def sample_size(frequency: str, population: int) -> int:
    size = per_event_size(population) if frequency == "per_event" else SAMPLE_SIZES[frequency]
    return min(size, population)


def draw(population: Sequence[Any], frequency: str, seed: int | None = None) -> tuple[int, list[int]]:
    """Indices of the sampled items (sorted) and the seed used (recorded, so anyone can redraw)."""
    seed = seed if seed is not None else secrets.randbelow(2**31)
    size = sample_size(frequency, len(population))
    rng = random.Random(seed)
    return seed, sorted(rng.sample(range(len(population)), size))
