"""Read the company's policy documents back: front matter, sections, statements and citations.

The workspace Markdown is the source of truth after ``init``; the traceability page is built from
what the company's text actually cites, not from what the template once said.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soc2kit._yaml import parse_yaml, to_plain
from soc2kit.errors import Location, UserError, WorkspaceError
from soc2kit.render.policies import CONTROL_REF, FRONT_MATTER_RE

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
STATEMENT = re.compile(r"^\*\*(?P<id>[A-Z]{3,4}-\d+\.\d+)\*\*")
FENCE = re.compile(r"^(```|~~~)")


def slugify(text: str) -> str:
    text = re.sub(r"[\\*_`]", "", text).lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return text or "section"


@dataclass(frozen=True)
class Section:
    level: int
    title: str
    anchor: str
    line: int


@dataclass(frozen=True)
class Citation:
    control_id: str
    policy_id: str
    section: str
    anchor: str
    statement: str | None
    line: int


@dataclass
class Statement:
    id: str
    line: int
    section: str
    controls: list[str] = field(default_factory=list)


@dataclass
class PolicyDocument:
    id: str
    path: Path
    meta: dict[str, Any]
    body: str
    body_start: int  #: 1-based file line of the body's first line
    sections: list[Section] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(self.meta.get("title") or self.id)


def _split(text: str, path: Path) -> tuple[dict[str, Any], str, int]:
    m = FRONT_MATTER_RE.match(text)
    if not m:
        return {}, text, 1
    try:
        raw = parse_yaml(m.group(1), path)
        meta = to_plain(raw) or {}
    except UserError as exc:
        loc = exc.location
        line = (loc.line + 1) if loc and loc.line else 1
        raise WorkspaceError(f"document control block (front matter) is malformed: {exc.message}", location=Location(path, line)) from None
    if not isinstance(meta, dict):
        raise WorkspaceError("document control block (front matter) must be a mapping", location=Location(path, 2))
    if isinstance(meta.get("version"), float):  # an unquoted `version: 1.10` is read as written, not as 1.1
        written = re.search(r"^version:[ \t]*([0-9.]+)[ \t]*(?:#.*)?$", m.group(1), re.M)
        if written:
            meta["version"] = written.group(1)
    return meta, text[m.end():], m.group(0).count("\n") + 1


def parse_policy_document(path: Path, text: str | None = None) -> PolicyDocument:
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise WorkspaceError(f"not valid UTF-8 (byte {exc.start})", location=Location(path), hint="save the file as UTF-8") from None
    meta, body, start = _split(text, path)
    doc_id = str(meta.get("id") or path.stem)
    doc = PolicyDocument(doc_id, path, meta, body, start)
    section = Section(0, doc.title, "top", start)
    anchors: dict[str, int] = {}
    in_fence = False
    in_appendix = False
    current: Statement | None = None
    for offset, line in enumerate(body.splitlines()):
        lineno = start + offset
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        h = HEADING.match(line)
        if h:
            current = None
            title = h.group(2)
            anchor = slugify(title)
            if anchor in anchors:
                anchors[anchor] += 1
                anchor = f"{anchor}-{anchors[anchor]}"
            else:
                anchors[anchor] = 0
            section = Section(len(h.group(1)), title, anchor, lineno)
            doc.sections.append(section)
            if section.level <= 2:
                in_appendix = title.startswith("Appendix")
            continue
        if in_appendix:
            continue
        if not line.strip():
            current = None
            continue
        st = STATEMENT.match(line)
        if st:
            current = Statement(st.group("id"), lineno, section.title)
            doc.statements.append(current)
        statement = current.id if current is not None else None
        for m in CONTROL_REF.finditer(line):
            if current is not None and m.group(0) not in current.controls:
                current.controls.append(m.group(0))
            anchor = statement.lower() if statement else section.anchor
            doc.citations.append(Citation(m.group(0), doc_id, section.title, anchor, statement, lineno))
    return doc


def read_policy_documents(directory: Path) -> list[PolicyDocument]:
    if not directory.is_dir():
        raise WorkspaceError("the workspace has no policies/ directory", location=Location(directory), hint="run `soc2kit init` first")
    return [parse_policy_document(p) for p in sorted(directory.glob("*.md"))]


def as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None
