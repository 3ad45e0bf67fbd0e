"""Generate the reference parts of docs/ from the code itself (``make docs``).

* ``docs/cli.md`` — every command's ``--help`` output, in command order.
* ``docs/profile.md`` — every profile key with its type, default and meaning, plus vocabularies.

``tests/test_docs.py`` fails when either file is stale or a command is undocumented.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

DOCS = Path(__file__).resolve().parents[2] / "docs"
HELP_WIDTH = "100"


def command_names() -> list[str]:
    """Every command, sub-commands included ("evidence add"), in registration order."""
    import typer.main

    from soc2kit.cli import app

    names: list[str] = []
    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        names.append(name)
        for sub in getattr(command, "commands", {}):
            names.append(f"{name} {sub}")
    return names


def help_text(args: list[str]) -> str:
    from soc2kit.cli import main

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_WIDTH
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):
            main(args + ["--help"])
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old
    return "\n".join(line.rstrip() for line in buf.getvalue().strip("\n").splitlines())


def cli_reference() -> str:
    parts = [
        "# Command reference",
        "",
        "Generated from the CLI's own `--help` by `make docs`; a test fails when it is stale.",
        "",
        "Exit codes: `0` success; `1` findings (lint, a check or a verification found problems); `2` bad input",
        "or usage (the message names the file, line or key and how to fix it); `70` internal error (a bug;",
        "the traceback is shown).",
        "",
        "## soc2kit",
        "",
        "```text",
        help_text([]),
        "```",
    ]
    for name in command_names():
        parts += ["", f"## soc2kit {name}", "", "```text", help_text(name.split()), "```"]
    return "\n".join(parts) + "\n"


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args if a is not type(None)) + (" (optional)" if type(None) in args else "")
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping"
    return {"str": "text", "int": "integer", "bool": "true/false", "float": "number", "date": "date (YYYY-MM-DD)"}.get(getattr(annotation, "__name__", str(annotation)), getattr(annotation, "__name__", str(annotation)))


def _default(field: Any) -> str:
    if field.default is not PydanticUndefined:
        value = field.default
    elif field.default_factory is not None:
        value = field.default_factory()
    else:
        return "required"
    if isinstance(value, BaseModel):
        return "see below"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if value is None:
        return "none"
    if value == [] or value == "":
        return "empty"
    return f"`{value}`"


def _model_rows(model: type[BaseModel], prefix: str, out: list[str], nested: list[tuple[str, type[BaseModel]]]) -> None:
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        ann = field.annotation
        inner = ann
        while typing.get_origin(inner) in (typing.Union, types.UnionType, list, typing.Annotated):
            candidates = [a for a in typing.get_args(inner) if a is not type(None)]
            inner = candidates[0]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            nested.append((key, inner))
        desc = field.description or ""
        out.append(f"| `{key}` | {_type_name(ann)} | {_default(field)} | {desc} |")


def profile_reference() -> str:
    from soc2kit.profile import vocab
    from soc2kit.profile.schema import Profile

    lines = [
        "# The company profile (`soc2kit.yaml`)",
        "",
        "Generated from the profile schema by `make docs`; a test fails when it is stale.",
        "",
        "One YAML file describes the company; every key below has the meaning and default shown. Unknown",
        "keys are errors (with a \"did you mean\" suggestion), and every error names the file, line and key.",
        "Start from an example (`soc2kit examples`) or answer the questionnaire (`soc2kit init DIR` in a terminal).",
        "",
    ]
    queue: list[tuple[str, type[BaseModel]]] = [("", Profile)]
    while queue:
        prefix, model = queue.pop(0)
        title = prefix or "top level"
        lines += [f"## {title}", "", "| key | type | default | meaning |", "| --- | --- | --- | --- |"]
        nested: list[tuple[str, type[BaseModel]]] = []
        _model_rows(model, f"{prefix}." if prefix else "", lines, nested)
        lines.append("")
        queue.extend(nested)
    lines += ["## Vocabularies", ""]
    for title, table in (("ai.use_cases", vocab.USE_CASES), ("data.types", vocab.DATA_TYPES), ("regulations", vocab.REGULATIONS),
                         ("scope.tsc", vocab.TSC_CATEGORIES), ("cloud", vocab.CLOUDS), ("roles", vocab.ROLES)):
        lines += [f"### {title}", "", "| value | label | meaning |", "| --- | --- | --- |"]
        lines += [f"| `{k}` | {label} | {desc} |" for k, (label, desc) in table.items()]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _natural(key: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", key))


def statement_index() -> dict[str, list[tuple[str, str]]]:
    """control id -> [(policy title, statement id)] across the bundled examples' rendered policies."""
    from soc2kit.library import load_catalog
    from soc2kit.profile import parse_profile_text
    from soc2kit.render.documents import parse_policy_document
    from soc2kit.render.policies import render_policies
    from soc2kit.workspace.init import example_names, example_text

    catalog = load_catalog()
    index: dict[str, set[tuple[str, str]]] = {}
    for name in example_names():
        profile = parse_profile_text(example_text(name))
        for doc in render_policies(catalog, profile):
            parsed = parse_policy_document(Path(doc.relpath), doc.text)
            for st in parsed.statements:
                for cid in st.controls:
                    index.setdefault(cid, set()).add((doc.title, st.id))
    return {cid: sorted(v, key=lambda t: (t[0], _natural(t[1]))) for cid, v in index.items()}


def load_brief() -> list[dict]:
    from soc2kit._yaml import load_yaml, to_plain
    from soc2kit.library.loader import CONTENT_DIR

    return to_plain(load_yaml(CONTENT_DIR / "brief.yaml", what="brief trace"))["sections"]


def brief_trace() -> str:
    from soc2kit.library import load_catalog

    catalog = load_catalog()
    index = statement_index()
    sections = load_brief()
    total = sum(len(s["bullets"]) for s in sections)
    lines = [
        "# The product brief, traced",
        "",
        "Generated by `make docs` from `src/soc2kit/content/brief.yaml` and the policies rendered for the",
        "three bundled example companies; `tests/test_brief_trace.py` fails when it is stale, when a bullet",
        "has no answer, or when a control it names is stated in no policy.",
        "",
        f"{total} requirements of the brief, each with the controls that answer it, the policy statements",
        "that state those controls (for at least one example company; a statement appears only where it fits",
        "the company), and the kit capability involved where there is one.",
        "",
    ]
    for section in sections:
        lines += [f"## {section['title']}", "", "| Requirement | Controls | Policy statements | Kit capability |", "| --- | --- | --- | --- |"]
        for b in section["bullets"]:
            controls = ", ".join(f"{c} {catalog.controls[c].title}" if c in catalog.controls else f"{c} (unknown)" for c in b.get("controls", []))
            by_policy: dict[str, list[str]] = {}
            for c in b.get("controls", []):
                for title, sid in index.get(c, []):
                    ids = by_policy.setdefault(title, [])
                    if sid not in ids:
                        ids.append(sid)
            shown = "; ".join(
                f"{title}: " + ", ".join(sorted(ids, key=_natural)[:5]) + (f" (+{len(ids) - 5})" if len(ids) > 5 else "")
                for title, ids in sorted(by_policy.items())
            )
            lines.append(f"| {b['text']} | {controls} | {shown or '—'} | {b.get('capability', '—')} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


GENERATED = {"cli.md": cli_reference, "profile.md": profile_reference, "brief-trace.md": brief_trace}


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    for name, make in GENERATED.items():
        (DOCS / name).write_text(make(), encoding="utf-8")
        print(f"wrote {DOCS / name}")


if __name__ == "__main__":
    main()
