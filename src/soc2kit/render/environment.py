"""Sandboxed Jinja environments.

Three environments, all ``SandboxedEnvironment`` with ``StrictUndefined`` (a misspelt variable is an
error, never an empty string):

* ``markdown_env`` renders policy templates to Markdown; every value printed with ``{{ }}`` is
  escaped for Markdown (``finalize``), so a company name such as ``{{7*7}} <script>`` or
  ``*Acme*`` appears literally. Template authors write Markdown in the template; data is data.
* ``text_env`` renders control statements and test procedures to plain text (no escaping; the
  HTML layer escapes on output).
* ``html_env`` renders the kit's own HTML layouts with autoescaping.

Profile values are only ever passed as context, never compiled as template source, so Jinja syntax
in a profile string is inert.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import jinja2
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from soc2kit.profile import vocab

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~&!])")


class TrustedMarkdown(str):
    """Markdown produced by the kit itself (not from the profile); printed without escaping."""


def escape_markdown(text: str) -> str:
    """Backslash-escape characters that Markdown or HTML would interpret."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def _finalize_markdown(value: Any) -> Any:
    if isinstance(value, TrustedMarkdown):
        return str(value)
    if isinstance(value, str):
        return escape_markdown(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def join_and(values: Iterable[Any], conjunction: str = "and") -> str:
    items = [str(v) for v in values]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _vocab_filter(table: dict[str, tuple[str, str]]) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return [vocab.label(table, str(v)) for v in value]
        return vocab.label(table, str(value))

    return apply


def every(value: str) -> str:
    """``quarterly`` -> ``quarter``; use as "every {{ x | every }}"."""
    entry = vocab.FREQUENCIES.get(str(value))
    if entry is None:
        raise jinja2.TemplateRuntimeError(f"unknown frequency {value!r}")
    return entry[0]


def cadence(value: str) -> str:
    """``daily`` -> ``every day``, ``continuous`` -> ``continuously``: safe for every frequency."""
    if str(value) == "continuous":
        return "continuously"
    if str(value) == "per_event":
        return "at each occurrence"
    return "every " + every(value)


def adverb(value: str) -> str:
    """``quarterly`` -> ``quarterly``, ``annual`` -> ``annually``."""
    entry = vocab.FREQUENCIES.get(str(value))
    if entry is None:
        raise jinja2.TemplateRuntimeError(f"unknown frequency {value!r}")
    return entry[1]


FILTERS: dict[str, Callable[..., Any]] = {
    "join_and": join_and,
    "data_label": _vocab_filter(vocab.DATA_TYPES),
    "reg_label": _vocab_filter(vocab.REGULATIONS),
    "cloud_label": _vocab_filter(vocab.CLOUDS),
    "use_case_label": _vocab_filter(vocab.USE_CASES),
    "tsc_label": _vocab_filter(vocab.TSC_CATEGORIES),
    "role_label": _vocab_filter(vocab.ROLES),
    "every": every,
    "cadence": cadence,
    "adverb": adverb,
}


class _Sandbox(SandboxedEnvironment):
    """Sandbox that also refuses attribute access to private names and formatting tricks."""

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if attr.startswith("_"):
            return False
        return super().is_safe_attribute(obj, attr, value)


def _make(*, autoescape: bool, finalize: Callable[[Any], Any] | None, loader: jinja2.BaseLoader | None = None) -> SandboxedEnvironment:
    env = _Sandbox(
        undefined=StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=finalize,
        loader=loader,
        auto_reload=False,
    )
    env.filters.update(FILTERS)
    return env


def markdown_env(loader: jinja2.BaseLoader | None = None) -> SandboxedEnvironment:
    return _make(autoescape=False, finalize=_finalize_markdown, loader=loader)


def text_env() -> SandboxedEnvironment:
    return _make(autoescape=False, finalize=None)


def html_env(loader: jinja2.BaseLoader | None = None) -> SandboxedEnvironment:
    return _make(autoescape=True, finalize=None, loader=loader)
