"""One error hierarchy for every mistake a user can make.

``UserError`` and its subclasses are caught in exactly one place (``soc2kit.cli``) and become a
message plus exit code 2. Anything else that escapes is a bug: the CLI shows the traceback and
exits 70.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path


class ExitCode(enum.IntEnum):
    """Documented process exit codes (see docs/cli.md)."""

    OK = 0
    FINDINGS = 1  #: a check, lint or verification found problems
    USER_ERROR = 2  #: bad input or usage; the message says what, where and how to fix it
    INTERNAL_ERROR = 70  #: a bug in soc2kit (EX_SOFTWARE); the traceback is shown


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file and, when known, a line, column and key path."""

    path: Path | str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    key: str | None = None  # dotted key path, e.g. "ai.use_cases[1]"

    def __str__(self) -> str:
        parts = []
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            parts.append(where)
        if self.key:
            parts.append(f"key '{self.key}'")
        return ", ".join(parts)


class UserError(Exception):
    """A mistake the user can fix. ``str(err)`` is the whole message shown to them."""

    exit_code = ExitCode.USER_ERROR

    def __init__(self, message: str, *, location: Location | None = None, hint: str | None = None):
        self.message = message
        self.location = location
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        text = self.message
        if self.location is not None and str(self.location):
            text = f"{self.location}: {text}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class ProfileError(UserError):
    """The company profile (soc2kit.yaml) is missing, malformed or invalid."""

    def __init__(self, problems: list[tuple[Location, str, str | None]]):
        self.problems = problems
        lines = [f"{loc}: {msg}" + (f"\n    hint: {hint}" if hint else "") for loc, msg, hint in problems]
        count = len(problems)
        head = "the company profile has 1 problem:" if count == 1 else f"the company profile has {count} problems:"
        super().__init__(head + "\n  " + "\n  ".join(lines))

    def render(self) -> str:  # the message already carries every location
        return self.message


class YAMLSyntaxError(UserError):
    """A YAML file could not be parsed."""


class ContentError(UserError):
    """Bundled or local content (controls, templates) is invalid."""


class WorkspaceError(UserError):
    """The workspace is missing, not initialised, or would be damaged by the operation."""


class RenderError(UserError):
    """A template could not be rendered (undefined variable, sandbox violation, syntax error)."""


class UsageError(UserError):
    """A command was called with arguments that do not fit together."""
