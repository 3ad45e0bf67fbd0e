"""One error page and one JSON error shape for every failure the dashboard reports.

JSON (``/api/…`` paths, or a client that asks for JSON and not HTML)::

    {"error": {"status": 404, "message": "no control AC-99 in this workspace"}}

HTML: ``error.html.j2`` with the same status and message. Messages never carry a traceback or a
filesystem path: a ``UserError``'s location is shown relative to the workspace, and any other
absolute path left in a message is replaced.
"""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from pathlib import Path

from soc2kit.errors import UserError

_ABS_PATH = re.compile(r"(?:(?<=[\s'\"(=:])|^)(?:/|[A-Za-z]:\\)[^\s'\"),;]*")


class WebError(Exception):
    """An HTTP failure with a message fit to show."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None):
        self.status = status
        self.message = message
        self.headers = headers or {}
        super().__init__(message)


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def scrub(text: str, root: Path | None) -> str:
    """Remove filesystem paths: the workspace root becomes "the workspace", other absolute paths "<path>"."""
    if root is not None:
        text = text.replace(str(root) + "/", "").replace(str(root), "the workspace")
    return _ABS_PATH.sub("<path>", text)


def describe_user_error(exc: UserError, root: Path | None) -> str:
    text = exc.message
    loc = exc.location
    if loc is not None and loc.path is not None and root is not None:
        try:
            rel = Path(loc.path).resolve().relative_to(root)
            where = str(rel) + (f":{loc.line}" if loc.line else "")
            text = f"{where}: {text}"
        except ValueError:
            pass
    if exc.hint:
        text += f" (hint: {exc.hint})"
    return scrub(text, root)


def wants_json(path: str, accept: str) -> bool:
    if path.startswith("/api/") or path == "/healthz":
        return True
    accept = accept.lower()
    return "application/json" in accept and "text/html" not in accept


def json_body(status: int, message: str) -> bytes:
    return json.dumps({"error": {"status": status, "message": message}}, ensure_ascii=False).encode()
