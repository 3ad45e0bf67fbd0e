"""The template context built from a profile, and ``applies_when`` conditions.

Conditions are Jinja expressions (``ai.trains_models``, ``has_data('phi') or has_reg('hipaa')``)
compiled by the same sandboxed environment as the templates, so one small, documented language
serves templates, controls and questions, and nothing is ``eval``-ed.
"""

from __future__ import annotations

import functools
from typing import Any

import jinja2

from soc2kit.errors import ContentError
from soc2kit.profile import vocab
from soc2kit.profile.schema import Profile
from soc2kit.render.environment import text_env


def role_titles() -> dict[str, str]:
    return {key: title for key, (title, _) in vocab.ROLES.items()}


def build_context(profile: Profile) -> dict[str, Any]:
    """Everything a policy template or control statement may refer to (see docs/authoring.md)."""
    data = profile.model_dump(mode="python")
    data_types = set(profile.data.types)
    regulations = set(profile.regulations)
    tsc = set(profile.scope.tsc)
    use_cases = set(profile.ai.use_cases)
    return {
        "company": data["company"],
        "ai": data["ai"],
        "data": data["data"],
        "regulations": list(profile.regulations),
        "scope": data["scope"],
        "cloud": list(profile.cloud),
        "roles": role_titles(),
        "people": data["roles"],
        "params": data["parameters"],
        "documents": data["documents"],
        "has_data": lambda t: t in data_types,
        "has_reg": lambda r: r in regulations,
        "in_scope": lambda c: c in tsc,
        "uses_case": lambda u: u in use_cases,
    }


@functools.lru_cache(maxsize=512)
def _compile(expression: str) -> Any:
    return text_env().compile_expression(expression, undefined_to_none=False)


def evaluate(expression: str | None, context: dict[str, Any], *, what: str = "condition") -> bool:
    """Evaluate an ``applies_when`` expression; None or empty means "always"."""
    if expression is None or not expression.strip():
        return True
    try:
        result = _compile(expression)(**context)
        return bool(result)
    except jinja2.TemplateSyntaxError as exc:
        raise ContentError(f"{what} {expression!r} is not a valid expression: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise ContentError(f"{what} {expression!r} refers to something undefined: {exc.message}") from None


def with_policy_set(context: dict[str, Any], catalog: Any) -> dict[str, Any]:
    """Add ``policy_set``: the applicable policies ({id, title, ai_policy}), sorted by title."""
    if "policy_set" in context:
        return context
    chosen = [
        {"id": t.id, "title": t.title, "ai_policy": t.ai_policy}
        for t in catalog.policies.values()
        if evaluate(t.applies_when, context, what=f"applies_when of policy {t.id}")
    ]
    return {**context, "policy_set": sorted(chosen, key=lambda p: p["title"])}
