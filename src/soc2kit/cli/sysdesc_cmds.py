"""`soc2kit export system-description` (being written)."""

from __future__ import annotations
