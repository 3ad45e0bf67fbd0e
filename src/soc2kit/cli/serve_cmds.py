"""`soc2kit serve` (being written)."""

from __future__ import annotations
