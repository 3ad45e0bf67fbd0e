"""`soc2kit export oscal` (being written)."""

from __future__ import annotations
