"""`soc2kit people ...` (being written)."""

from __future__ import annotations
