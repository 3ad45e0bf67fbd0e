"""A located problem found while loading or linting; collected, then reported all at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from soc2kit.errors import Location

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    severity: Severity
    code: str  #: stable short id, e.g. "dangling-control"
    message: str
    location: Location = field(default_factory=Location)
    hint: str | None = None

    def __str__(self) -> str:
        where = str(self.location)
        text = f"{where}: {self.severity}: {self.message} [{self.code}]" if where else f"{self.severity}: {self.message} [{self.code}]"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text

    def as_dict(self) -> dict:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "file": str(self.location.path) if self.location.path is not None else None,
            "line": self.location.line,
            "key": self.location.key,
            "hint": self.hint,
        }
