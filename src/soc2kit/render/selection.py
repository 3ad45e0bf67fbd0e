"""Which controls apply to a company, with their text rendered for its profile."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from soc2kit.errors import RenderError
from soc2kit.library.models import Catalog, Control, TestProcedure
from soc2kit.profile import vocab
from soc2kit.profile.schema import Profile
from soc2kit.render.context import evaluate, with_policy_set
from soc2kit.render.environment import text_env


@dataclass(frozen=True)
class ControlView:
    control: Control
    applicable: bool
    reason: str  #: why it does not apply ("" when it does)
    statement: str
    test_procedure: TestProcedure
    owner_title: str
    frequency: str  #: resolved for the profile (a control may follow a profile parameter)

    @property
    def id(self) -> str:
        return self.control.id


@functools.lru_cache(maxsize=1)
def _env() -> SandboxedEnvironment:
    return text_env()


@functools.lru_cache(maxsize=4096)
def _compiled(source: str) -> jinja2.Template:
    return _env().from_string(source)


def _render_text(source: str, context: dict[str, Any], control: Control, field: str) -> str:
    if "{" not in source:
        return source
    try:
        return " ".join(_compiled(source).render(context).split())
    except jinja2.TemplateError as exc:
        message = getattr(exc, "message", None) or str(exc)
        raise RenderError(f"control {control.id} {field}: {message}", location=control.location) from None


def select_controls(catalog: Catalog, profile: Profile, context: dict[str, Any]) -> list[ControlView]:
    in_scope = set(profile.scope.tsc)
    context = with_policy_set(context, catalog)
    views = []
    for control in catalog.controls.values():
        reason = ""
        if not evaluate(control.applies_when, context, what=f"applies_when of control {control.id}"):
            reason = f"condition not met: {control.applies_when}"
        elif control.criteria:
            cats = {catalog.criteria[c].category for c in control.criteria if c in catalog.criteria}
            if cats and not cats & in_scope:
                reason = "its criteria are in categories outside the report scope: " + ", ".join(sorted(cats))
        tp = control.test_procedure
        views.append(ControlView(
            control=control,
            applicable=not reason,
            reason=reason,
            statement=_render_text(control.statement, context, control, "statement"),
            test_procedure=TestProcedure(**{f: _render_text(getattr(tp, f), context, control, f"test_procedure.{f}") for f in ("inquiry", "inspection", "observation", "reperformance", "pass_criteria")}),
            owner_title=vocab.label(vocab.ROLES, control.owner),
            frequency=getattr(profile.parameters, control.frequency_param) if control.frequency_param else control.frequency,
        ))
    return views
