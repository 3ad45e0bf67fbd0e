"""Validate a YAML document against a Pydantic model, with file:line:col and "did you mean".

The same approach as :mod:`soc2kit.profile.load`, for any model: every problem is collected and
reported at once, each with its position in the file.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from soc2kit._yaml import line_of, load_yaml, to_plain
from soc2kit.errors import Location, UserError
from soc2kit.profile.load import key_path, suggest, unwrap_annotation


class FileProblems(UserError):
    """One or more located problems in a YAML file the user edits (vendors.yaml, answers, mappings)."""

    def __init__(self, what: str, problems: list[tuple[Location, str, str | None]]):
        self.problems = problems
        lines = [f"{loc}: {msg}" + (f"\n    hint: {hint}" if hint else "") for loc, msg, hint in problems]
        head = f"the {what} has 1 problem:" if len(problems) == 1 else f"the {what} has {len(problems)} problems:"
        super().__init__(head + "\n  " + "\n  ".join(lines))

    def render(self) -> str:
        return self.message


def _walk(model: type[BaseModel], loc: tuple) -> Any:
    node: Any = model
    for part in loc:
        if typing.get_origin(node) is dict:  # the part is a key of the mapping
            node = unwrap_annotation(typing.get_args(node)[1])
            continue
        if isinstance(part, int):
            continue
        if not (isinstance(node, type) and issubclass(node, BaseModel)):
            return None
        fld = node.model_fields.get(str(part))
        if fld is None:
            return None
        node = unwrap_annotation(fld.annotation)
    return node


_EXPECTED = {"int_type": "a whole number", "int_parsing": "a whole number", "bool_type": "true or false", "bool_parsing": "true or false",
             "list_type": "a list", "string_type": "text", "date_type": "a date (YYYY-MM-DD)", "date_parsing": "a date (YYYY-MM-DD)",
             "date_from_datetime_parsing": "a date (YYYY-MM-DD)", "float_type": "a number", "float_parsing": "a number",
             "model_type": "a mapping of keys", "dict_type": "a mapping of keys", "model_attributes_type": "a mapping of keys"}


def describe(model: type[BaseModel], error: dict) -> tuple[str, str | None]:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        parent = _walk(model, loc[:-1])
        allowed = sorted(parent.model_fields) if isinstance(parent, type) and issubclass(parent, BaseModel) else []
        guess = suggest(key, allowed)
        return f"unknown key '{key}'" + (f" (did you mean '{guess}'?)" if guess else ""), (f"allowed keys here: {', '.join(allowed)}" if allowed else None)
    if kind == "literal_error":
        target = _walk(model, loc)
        allowed = [str(v) for v in typing.get_args(target)] if typing.get_origin(target) is typing.Literal else []
        value = error.get("input")
        guess = suggest(str(value), allowed) if allowed else None
        return f"unknown value {value!r}" + (f" (did you mean '{guess}'?)" if guess else ""), (f"choose one of: {', '.join(allowed)}" if allowed else None)
    if kind == "missing":
        return "required key is missing", None
    if kind in _EXPECTED:
        value = error.get("input")
        return f"expected {_EXPECTED[kind]}, got {type(value).__name__} {value!r}"[:300], None
    msg = error["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return (msg[0].lower() + msg[1:]) if msg else kind, None


def load_document(path: Path, *, what: str) -> Any:
    """:func:`soc2kit._yaml.load_yaml` (which also reports an impossible calendar date such as
    ``2026-02-30`` at its line and column)."""
    return load_yaml(path, what=what)


def located(document: Any, source: Path | str, path: tuple) -> Location:
    line, col = line_of(document, path)
    return Location(source, line, col, key_path(path) or None)


def validate(model: type[BaseModel], document: Any, *, source: Path | str, what: str) -> Any:
    """``model`` validated from a round-trip YAML document; every error located in ``source``."""
    if document is None:
        raise FileProblems(what, [(Location(source), "the file is empty", None)])
    if not isinstance(document, dict):
        raise FileProblems(what, [(Location(source, 1), f"expected a mapping of keys, got {type(document).__name__}", None)])
    try:
        return model.model_validate(to_plain(document))
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            msg, hint = describe(model, error)
            problems.append((located(document, source, loc), msg, hint))
        raise FileProblems(what, problems) from None
