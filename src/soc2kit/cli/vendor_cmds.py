"""`soc2kit vendor ...` (being written)."""

from __future__ import annotations
