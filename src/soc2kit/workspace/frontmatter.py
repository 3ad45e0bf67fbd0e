"""Document control blocks (YAML front matter) of the company's policy documents, edited in place.

The company owns these files, so edits made by the kit (an approval, a review, a merged template
change) touch only the fields they must: the block is loaded in ruamel's round-trip mode, the fields
are set, and it is written back with comments and key order kept. Conflict markers left by
``soc2kit update`` are found here too, so that ``lint``, ``approve`` and ``update`` agree on them.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from soc2kit._yaml import parse_yaml, to_plain
from soc2kit.errors import Location, UserError, WorkspaceError
from soc2kit.render.policies import APPENDIX_HISTORY, FRONT_MATTER_RE

START_MARKER = "<<<<<<<"
MID_MARKER = "======="
END_MARKER = ">>>>>>>"


@dataclass
class Split:
    """A document cut in two: its front matter (``None`` when it has none) and the rest."""

    header: str  #: the whole block including the '---' lines, verbatim ("" when absent)
    meta: CommentedMap | None
    body: str

    @property
    def plain(self) -> dict[str, Any]:
        return to_plain(self.meta) if self.meta is not None else {}


def split_document(text: str, path: Path | str) -> Split:
    """Split a document; a malformed block raises ``WorkspaceError`` with the file line."""
    m = FRONT_MATTER_RE.match(text)
    if not m:
        return Split("", None, text)
    try:
        meta = parse_yaml(m.group(1), path)
    except UserError as exc:
        line = (exc.location.line + 1) if exc.location and exc.location.line else 1
        raise WorkspaceError(f"document control block (front matter) is malformed: {exc.message}", location=Location(path, line),
                             hint="fix the YAML between the two '---' lines") from None
    if not isinstance(meta, CommentedMap):
        raise WorkspaceError("document control block (front matter) must be a mapping", location=Location(path, 2))
    return Split(m.group(0), meta, text[m.end():])


def try_split(text: str) -> Split | None:
    """Like :func:`split_document`, but ``None`` for a malformed block (the caller falls back to text)."""
    try:
        return split_document(text, "<document>")
    except UserError:
        return None


def dump_meta(meta: CommentedMap) -> str:
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.ignore_aliases = lambda *args: True  # one date in two fields: no &id001 anchors
    stream = io.StringIO()
    yaml.dump(meta, stream)
    return stream.getvalue()


def join_document(meta: CommentedMap, body: str) -> str:
    return "---\n" + dump_meta(meta) + "---\n" + body


def set_fields(text: str, path: Path | str, values: dict[str, Any]) -> str:
    """``text`` with the given front-matter fields set (added at the end when absent)."""
    split = split_document(text, path)
    if split.meta is None:
        raise WorkspaceError("the document has no document control block (front matter)", location=Location(path, 1),
                             hint="start the file with '---', the fields id, title, version, status, owner, approver, then '---'")
    for key, value in values.items():
        split.meta[key] = value
    return join_document(split.meta, split.body)


def add_history_row(text: str, row: list[str]) -> str:
    """Append a row to the revision-history table (Appendix B); unchanged when the table is gone."""
    lines = text.splitlines(keepends=True)
    heading = None
    for i, line in enumerate(lines):
        if line.startswith("## ") and APPENDIX_HISTORY in line:
            heading = i
    if heading is None:
        return text
    last_row = None
    for i in range(heading + 1, len(lines)):
        stripped = lines[i].strip()
        if stripped.startswith("|"):
            last_row = i
        elif stripped.startswith("#"):
            break
        elif stripped and last_row is not None:
            break
    if last_row is None:
        return text
    cells = [c.replace("|", "\\|").replace("\n", " ").strip() for c in row]
    new = "| " + " | ".join(cells) + " |\n"
    if not lines[last_row].endswith("\n"):
        lines[last_row] += "\n"
    lines.insert(last_row + 1, new)
    return "".join(lines)


def conflict_lines(text: str) -> list[tuple[int, str]]:
    """(1-based line, marker) of every conflict marker left in ``text``.

    A start marker (``<<<<<<< ``) or end marker (``>>>>>>> ``) anywhere counts; a ``=======`` line
    only between them (alone it is a Markdown heading underline).
    """
    found: list[tuple[int, str]] = []
    inside = False
    for n, line in enumerate(text.splitlines(), start=1):
        if line.startswith(START_MARKER + " ") or line == START_MARKER:
            found.append((n, START_MARKER))
            inside = True
        elif inside and line.rstrip() == MID_MARKER:
            found.append((n, MID_MARKER))
        elif line.startswith(END_MARKER + " ") or line == END_MARKER:
            found.append((n, END_MARKER))
            inside = False
    return found


def has_conflicts(text: str) -> bool:
    return any(marker != MID_MARKER for _, marker in conflict_lines(text))


def scalar_text(value: Any) -> str:
    """A front-matter value as the company wrote it: an unquoted ``version: 1.10`` is the YAML float 1.1,
    but ruamel keeps its digits, so it reads back as "1.10", not "1.1"."""
    if isinstance(value, float):
        yaml = YAML(typ="rt")
        stream = io.StringIO()
        yaml.dump([value], stream)
        return stream.getvalue().strip().removeprefix("-").strip()
    return str(value)


_VERSION = re.compile(r"^\s*(\d+)\.(\d+)\s*$")


def bump_version(version: Any, *, major: bool = False) -> str:
    """1.0 → 1.1 (minor) or 2.0 (major). A version that is not MAJOR.MINOR is refused."""
    m = _VERSION.match(str(version))
    if not m:
        raise UserError(f"the document version {version!r} is not MAJOR.MINOR", hint="set version: '1.0' in the document control block, then approve again")
    a, b = int(m.group(1)), int(m.group(2))
    return f"{a + 1}.0" if major else f"{a}.{b + 1}"
