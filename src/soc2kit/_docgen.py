"""Generate the reference parts of docs/ from the code itself (``make docs``).

* ``docs/cli.md`` — every command's ``--help`` output, in command order.
* ``docs/profile.md`` — every profile key with its type, default and meaning, plus vocabularies.

``tests/test_docs.py`` fails when either file is stale or a command is undocumented.
"""

from __future__ import annotations

import contextlib
import io
import os
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

DOCS = Path(__file__).resolve().parents[2] / "docs"
HELP_WIDTH = "100"


def command_names() -> list[str]:
    import typer.main

    from soc2kit.cli.app import app

    group = typer.main.get_command(app)
    return list(group.commands)  # type: ignore[attr-defined]


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
        parts += ["", f"## soc2kit {name}", "", "```text", help_text([name]), "```"]
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


GENERATED = {"cli.md": cli_reference, "profile.md": profile_reference}


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    for name, make in GENERATED.items():
        (DOCS / name).write_text(make(), encoding="utf-8")
        print(f"wrote {DOCS / name}")


if __name__ == "__main__":
    main()
