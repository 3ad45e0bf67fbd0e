"""Validate OSCAL documents against NIST's OSCAL 1.1.3 JSON Schemas (bundled in content/oscal/).

The schemas use ``\\p{L}`` / ``\\p{N}`` in ``pattern``, which Python's ``re`` cannot compile
("bad escape \\p"), so the validator is a ``Draft7Validator`` whose ``pattern`` keyword uses the
``regex`` package. ``format`` is checked too, with the kit's own checkers: jsonschema's need
optional packages (rfc3339-validator, rfc3987) that the kit does not depend on.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import regex
from jsonschema import Draft7Validator, FormatChecker, ValidationError, validators

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "content" / "oscal"

#: document kind (the root key of an OSCAL JSON document) -> bundled schema file
SCHEMAS: dict[str, str] = {
    "catalog": "oscal_catalog_schema.json",
    "profile": "oscal_profile_schema.json",
    "component-definition": "oscal_component_schema.json",
    "system-security-plan": "oscal_ssp_schema.json",
}


class OscalValidationError(Exception):
    """A document the kit generated does not validate: a bug in soc2kit, not in the user's input."""

    def __init__(self, kind: str, errors: list[str]):
        self.kind = kind
        self.errors = errors
        super().__init__(f"the generated OSCAL {kind} does not validate against the OSCAL 1.1.3 schema ({len(errors)} shown):\n  " + "\n  ".join(errors))


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> Any:
    return regex.compile(pattern)


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    """``pattern`` as JSON Schema defines it (an unanchored ECMA 262 search), with ``\\p{..}`` support."""
    if validator.is_type(instance, "string") and not _compiled(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+\-.]*:")
_NO_SPACE = re.compile(r"^[^\s\x00-\x1f\x7f<>\"{}|\\^`]*$")


def _is_uri_reference(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _NO_SPACE.match(value):
        return False
    try:
        urllib.parse.urlsplit(value)
    except ValueError:
        return False
    return True


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return bool(_URI_SCHEME.match(value)) and _is_uri_reference(value)


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})", value):
        return False
    try:
        return dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_email(value: object) -> bool:
    return not isinstance(value, str) or ("@" in value and not any(ch.isspace() for ch in value))


def format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    for name, func in (("uri", _is_uri), ("uri-reference", _is_uri_reference), ("date-time", _is_date_time), ("date", _is_date), ("email", _is_email)):
        checker.checks(name)(func)
    return checker


#: Draft 7 with ``pattern`` backed by the ``regex`` package.
OscalDraft7Validator = validators.extend(Draft7Validator, {"pattern": _pattern})


@functools.lru_cache(maxsize=8)
def validator_for(kind: str) -> Any:
    """A ready validator for one document kind (``catalog``, ``profile``, ...)."""
    if kind not in SCHEMAS:
        raise KeyError(f"no bundled OSCAL schema for {kind!r}")
    schema = json.loads((SCHEMA_DIR / SCHEMAS[kind]).read_text(encoding="utf-8"))
    return OscalDraft7Validator(schema, format_checker=format_checker())


def kind_of(document: dict[str, Any]) -> str:
    kinds = [k for k in document if k in SCHEMAS]
    if len(kinds) != 1:
        raise ValueError(f"an OSCAL document has exactly one root key of {', '.join(SCHEMAS)}; found {sorted(document)}")
    return kinds[0]


def errors_of(document: dict[str, Any], limit: int = 10) -> list[str]:
    """The first ``limit`` validation errors, each as "JSON path: message" (empty when valid)."""
    validator = validator_for(kind_of(document))
    found = sorted(validator.iter_errors(document), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    out = []
    for err in found[:limit]:
        out.append(f"{err.json_path}: {_short(err)}")
    return out


def _short(err: ValidationError) -> str:
    if err.context:  # anyOf / allOf: the most specific sub-error says more
        best = min(err.context, key=lambda e: len(e.absolute_schema_path))
        return f"{err.message[:200]} ({best.message[:200]})"
    return err.message[:300]


def validate(document: dict[str, Any]) -> None:
    """Raise :class:`OscalValidationError` naming the JSON paths of the first errors."""
    errors = errors_of(document)
    if errors:
        raise OscalValidationError(kind_of(document), errors)
