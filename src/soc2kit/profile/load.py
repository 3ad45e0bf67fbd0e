"""Load ``soc2kit.yaml`` into a :class:`Profile`, turning every validation problem into a message
with file:line, key path and, for unknown keys or values, a "did you mean" suggestion."""

from __future__ import annotations

import difflib
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from soc2kit._yaml import line_of, load_yaml, parse_yaml, to_plain
from soc2kit.errors import Location, ProfileError
from soc2kit.profile.schema import Profile

PROFILE_FILE = "soc2kit.yaml"


def key_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def unwrap_annotation(annotation: Any) -> Any:
    """Strip Optional/Annotated/list wrappers down to a model class or Literal."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation
        elif origin is list:
            annotation = typing.get_args(annotation)[0]
        else:
            return annotation


def _model_at(loc: tuple) -> type[BaseModel] | None:
    model: Any = Profile
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = unwrap_annotation(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _literal_values(loc: tuple) -> list[str]:
    model: Any = Profile
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
        field = model.model_fields.get(part)
        if field is None:
            return []
        model = unwrap_annotation(field.annotation)
    if typing.get_origin(model) is typing.Literal:
        return [str(v) for v in typing.get_args(model)]
    return []


def suggest(word: str, choices: list[str]) -> str | None:
    matches = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    return matches[0] if matches else None


def _describe(error: dict) -> tuple[str, str | None]:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        parent = _model_at(loc[:-1])
        allowed = sorted(parent.model_fields) if parent else []
        guess = suggest(key, allowed)
        msg = f"unknown key '{key}'"
        if guess:
            msg += f" (did you mean '{guess}'?)"
        hint = f"allowed keys here: {', '.join(allowed)}" if allowed else None
        return msg, hint
    if kind == "literal_error":
        allowed = _literal_values(loc)
        value = error.get("input")
        guess = suggest(str(value), allowed) if allowed else None
        msg = f"unknown value {value!r}"
        if guess:
            msg += f" (did you mean '{guess}'?)"
        return msg, f"choose one of: {', '.join(allowed)}" if allowed else None
    if kind == "missing":
        return "required key is missing", "add it; see docs/profile.md for its meaning"
    if kind in ("int_type", "bool_type", "list_type", "string_type", "date_type", "date_from_datetime_parsing", "float_type", "model_type", "dict_type"):
        value = error.get("input")
        expected = {
            "int_type": "a whole number", "bool_type": "true or false", "list_type": "a list",
            "string_type": "text", "date_type": "a date (YYYY-MM-DD)", "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
            "float_type": "a number", "model_type": "a mapping of keys", "dict_type": "a mapping of keys",
        }[kind]
        return f"expected {expected}, got {type(value).__name__} {value!r}"[:300], None
    msg = error["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return msg[0].lower() + msg[1:] if msg else kind, None


def validate_profile(data: Any, *, source: Path | str, document: Any = None) -> Profile:
    """Validate parsed YAML (round-trip document or plain data) and return the profile."""
    if document is None:
        document = data
    if data is None:
        raise ProfileError([(Location(source), "the profile is empty", "start from an example: soc2kit init DIR --example NAME")])
    if not isinstance(data, dict):
        raise ProfileError([(Location(source, 1), f"the profile must be a mapping of keys, got {type(data).__name__}", None)])
    try:
        return Profile.model_validate(to_plain(data))
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            line, col = line_of(document, loc)
            msg, hint = _describe(error)
            problems.append((Location(source, line, col, key_path(loc) or None), msg, hint))
        raise ProfileError(problems) from None


def load_profile(path: Path) -> Profile:
    """Read and validate a profile file."""
    document = load_yaml(path, what="company profile")
    return validate_profile(document, source=path, document=document)


def parse_profile_text(text: str, source: str = PROFILE_FILE) -> Profile:
    document = parse_yaml(text, source)
    return validate_profile(document, source=source, document=document)
