"""The dashboard (``soc2kit serve``): a FastAPI app with server-rendered pages over one workspace."""

from __future__ import annotations

from soc2kit.web.app import create_app
from soc2kit.web.settings import Settings

__all__ = ["Settings", "create_app"]
