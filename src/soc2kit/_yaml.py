"""YAML reading and writing with line numbers (ruamel.yaml round-trip mode).

Round-trip mode keeps the position of every key and item, so validation errors can name the file
and line (``line_of``), and it never constructs arbitrary Python objects from tags.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from soc2kit.errors import Location, YAMLSyntaxError

MAX_YAML_BYTES = 2 * 1024 * 1024


def _rt() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def parse_yaml(text: str, source: Path | str) -> Any:
    """Parse YAML text; a syntax error becomes a ``YAMLSyntaxError`` naming file, line and column."""
    try:
        return _rt().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise YAMLSyntaxError(
            f"malformed YAML: {problem}",
            location=Location(source, line, column),
            hint="fix the syntax at that position (indentation, a missing ':' or an unclosed quote are the usual causes)",
        ) from None
    except YAMLError as exc:  # errors without a position
        raise YAMLSyntaxError(f"malformed YAML: {exc}", location=Location(source)) from None
    except (ValueError, OverflowError) as exc:  # a value YAML reads as a date or time but the calendar does not have
        raise invalid_value_error(text, source, exc) from None


_DATE_TOKEN = re.compile(r"(?<![\w.-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\w.-]*:)")


def invalid_value_error(text: str, source: Path | str, exc: Exception) -> YAMLSyntaxError:
    """Locate the impossible date (2027-02-30, month 13) that made the YAML constructor fail."""
    for n, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        for m in _DATE_TOKEN.finditer(line):
            try:
                dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return YAMLSyntaxError(f"{m.group(0)} is not a calendar date ({exc})", location=Location(source, n, m.start() + 1),
                                       hint="write an existing date as YYYY-MM-DD, or quote the value if it is not meant as a date")
    return YAMLSyntaxError(f"a value cannot be read: {exc}", location=Location(source), hint="check the dates and times in the file")


def load_yaml(path: Path, *, what: str = "YAML file") -> Any:
    """Read and parse a YAML file, with clear errors for missing, oversized or undecodable files."""
    if not path.exists():
        raise YAMLSyntaxError(f"{what} not found", location=Location(path), hint="check the path")
    if not path.is_file():
        raise YAMLSyntaxError(f"{what} is not a regular file", location=Location(path))
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        raise YAMLSyntaxError(
            f"{what} is {size} bytes; the limit is {MAX_YAML_BYTES} bytes", location=Location(path)
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YAMLSyntaxError(
            f"{what} is not valid UTF-8 (byte {exc.start})", location=Location(path), hint="save the file as UTF-8"
        ) from None
    return parse_yaml(text, path)


def line_of(root: Any, path: Sequence[str | int]) -> tuple[int | None, int | None]:
    """Return the 1-based (line, column) of the node at ``path`` in a round-trip document.

    Walks as deep as the path exists; for a missing key, returns the position of its parent.
    """
    node = root
    line: int | None = None
    col: int | None = None
    if isinstance(node, (CommentedMap, CommentedSeq)) and node.lc.line is not None:
        line, col = node.lc.line + 1, node.lc.col + 1
    for part in path:
        if isinstance(node, CommentedMap) and part in node:
            try:
                kl, kc = node.lc.key(part)
                line, col = kl + 1, kc + 1
            except (KeyError, TypeError):
                pass
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            try:
                il, ic = node.lc.item(part)
                line, col = il + 1, ic + 1
            except (KeyError, TypeError, IndexError):
                pass
            node = node[part]
        else:
            break
    return line, col


def to_plain(value: Any) -> Any:
    """Convert ruamel's round-trip containers and scalar types to plain Python values."""
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, (int, float, bool)) else k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dt.datetime):
        return dt.datetime(*value.timetuple()[:6], tzinfo=value.tzinfo)
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, value.day)
    return value


def dump_yaml(data: Any) -> str:
    """Serialise plain data as block-style YAML."""
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()
