"""Which controls apply to a company, with their text rendered for its profile."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
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


def _cache_key(catalog: Catalog, profile: Profile) -> str:
    import hashlib

    h = hashlib.sha256(profile.model_dump_json().encode())
    for c in catalog.controls.values():
        h.update(c.id.encode())
        h.update(c.statement.encode())
        for f in ("inquiry", "inspection", "observation", "reperformance", "pass_criteria"):
            h.update(getattr(c.test_procedure, f).encode())
    h.update(",".join(sorted(catalog.policies)).encode())  # the policy set is part of the context
    return h.hexdigest()[:32]


def select_controls(catalog: Catalog, profile: Profile, context: dict[str, Any], *, cache_dir: Path | None = None) -> list[ControlView]:
    """Applicable controls with their texts rendered for the profile. With ``cache_dir``, the
    rendered texts are kept on disk per (profile, content) and reused while neither changes:
    compiling some 800 small templates is most of a build's time otherwise."""
    cached: dict[str, Any] | None = None
    cache_file = None
    if cache_dir is not None:
        cache_file = cache_dir / f"controls-{_cache_key(catalog, profile)}.json"
        try:
            cached = json.loads(cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cached = None
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
        fields = ("inquiry", "inspection", "observation", "reperformance", "pass_criteria")
        if cached is not None and control.id in cached:
            statement, procedure = cached[control.id]["statement"], TestProcedure(**cached[control.id]["test_procedure"])
        else:
            statement = _render_text(control.statement, context, control, "statement")
            procedure = TestProcedure(**{f: _render_text(getattr(tp, f), context, control, f"test_procedure.{f}") for f in fields})
        views.append(ControlView(
            control=control,
            applicable=not reason,
            reason=reason,
            statement=statement,
            test_procedure=procedure,
            owner_title=vocab.label(vocab.ROLES, control.owner),
            frequency=getattr(profile.parameters, control.frequency_param) if control.frequency_param else control.frequency,
        ))
    if cache_file is not None and cached is None:
        from soc2kit._fs import atomic_write_text

        try:
            atomic_write_text(cache_file, json.dumps({v.id: {"statement": v.statement, "test_procedure": v.test_procedure.__dict__} for v in views}))
        except OSError:
            pass  # a read-only workspace still builds, just without the cache
    return views
