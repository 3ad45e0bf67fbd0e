"""`soc2kit update, policy approve|history, reviews` (being written)."""

from __future__ import annotations
