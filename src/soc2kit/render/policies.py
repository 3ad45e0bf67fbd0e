"""Render policy templates into the company's Markdown documents.

A rendered document is YAML front matter (document control: version, owner, approver, dates) +
the template body + two generated appendices: the controls and criteria the text cites, and the
revision history. The workspace copy is the company's from then on; ``build`` reads it back.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2.sandbox import SecurityError

from soc2kit._yaml import dump_yaml
from soc2kit.errors import Location, RenderError
from soc2kit.library.models import AREAS, Catalog, PolicyTemplate
from soc2kit.profile import vocab
from soc2kit.profile.schema import Profile
from soc2kit.render.context import build_context, evaluate, with_policy_set
from soc2kit.render.environment import escape_markdown, markdown_env

CONTROL_REF = re.compile(r"\b(?:" + "|".join(sorted(AREAS, key=len, reverse=True)) + r")-\d{2}\b")
INTERVAL_MONTHS = {"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}
FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.S)
APPENDIX_CONTROLS = "Appendix A. Controls and criteria covered"
APPENDIX_HISTORY = "Appendix B. Revision history"


def add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year = day.year + month0 // 12
    month = month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class _Loader(jinja2.BaseLoader):
    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        policy = self.catalog.policies.get(template)
        if policy is None:
            raise jinja2.TemplateNotFound(template)
        body = policy.body
        # still current while the catalog holds the same template text
        return body, str(policy.path), lambda: (p := self.catalog.policies.get(template)) is not None and p.body == body


def _template_line(exc: BaseException, filename: str) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def applicable_policies(catalog: Catalog, context: dict[str, Any]) -> list[PolicyTemplate]:
    return [p for p in catalog.policies.values() if evaluate(p.applies_when, context, what=f"applies_when of policy {p.id}")]


@dataclass(frozen=True)
class RenderedPolicy:
    id: str
    title: str
    relpath: str  #: "policies/<id>.md"
    text: str


_ENVS: dict[int, tuple[Catalog, jinja2.Environment]] = {}


def _env_for(catalog: Catalog) -> jinja2.Environment:
    """One sandboxed environment per catalog, so each template is compiled once per process
    (``init``, ``update`` and the tests render the same 27 templates many times)."""
    hit = _ENVS.get(id(catalog))
    if hit is not None and hit[0] is catalog:
        return hit[1]
    if len(_ENVS) >= 8:
        _ENVS.clear()
    env = markdown_env(loader=_Loader(catalog))
    _ENVS[id(catalog)] = (catalog, env)
    return env


def render_body(template: PolicyTemplate, catalog: Catalog, context: dict[str, Any]) -> str:
    env = _env_for(catalog)
    filename = str(template.path)
    owner_title = vocab.label(vocab.ROLES, template.owner)
    approver_key = template.approver or context["documents"]["approver"]
    ctx = with_policy_set(context, catalog)
    ctx["policy"] = {
        "id": template.id, "title": template.title, "code": template.code,
        "owner": owner_title, "approver": vocab.label(vocab.ROLES, approver_key), "ai_policy": template.ai_policy,
    }
    try:
        body = env.get_template(template.id).render(ctx)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"template syntax error: {exc.message}", location=Location(template.path, exc.lineno)) from None
    except jinja2.UndefinedError as exc:
        raise RenderError(
            f"undefined template variable: {exc.message}",
            location=Location(template.path, _template_line(exc, filename)),
            hint="see docs/authoring.md for the variables a template may use",
        ) from None
    except SecurityError as exc:
        raise RenderError(f"unsafe template operation refused by the sandbox: {exc}", location=Location(template.path, _template_line(exc, filename))) from None
    except jinja2.TemplateError as exc:
        raise RenderError(f"template error: {exc}", location=Location(template.path, _template_line(exc, filename))) from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:  # an expression in the template failed
        raise RenderError(f"template expression failed: {type(exc).__name__}: {exc}", location=Location(template.path, _template_line(exc, filename))) from None
    name = escape_markdown(str(context["company"]["name"]))
    if name.endswith("."):  # "Acme, Inc." at the end of a sentence: one full stop, not two
        body = re.sub(re.escape(name) + r"\.(?=\s|$|\*)", lambda m: name, body)
    return template_tidy(body)


def template_tidy(text: str) -> str:
    """Strip trailing spaces, collapse runs of blank lines, end with one newline."""
    lines = [line.rstrip() for line in text.strip("\n").splitlines()]
    out: list[str] = []
    for line in lines:
        if line == "" and out and out[-1] == "":
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def cited_controls(markdown: str) -> list[str]:
    """Control ids cited in a policy body, in first-cited order (appendices excluded)."""
    seen: dict[str, None] = {}
    for line in markdown.splitlines():
        if line.startswith("## Appendix"):
            break
        for m in CONTROL_REF.finditer(line):
            seen.setdefault(m.group(0), None)
    return list(seen)


def front_matter(template: PolicyTemplate, profile: Profile, effective: dt.date) -> dict[str, Any]:
    interval = profile.documents.ai_review_interval if template.ai_policy else profile.documents.review_interval
    approver_key = template.approver or profile.documents.approver
    return {
        "id": template.id,
        "title": template.title,
        "version": profile.documents.version,
        "status": "draft",
        "owner": vocab.label(vocab.ROLES, template.owner),
        "approver": vocab.label(vocab.ROLES, approver_key),
        "effective_date": effective,
        "review_interval": interval,
        "next_review": add_months(effective, INTERVAL_MONTHS[interval]),
        "ai_policy": template.ai_policy,
        "approved_by": "",
        "approved_on": "",
    }


def _appendix(body: str, catalog: Catalog, version: str, effective: dt.date) -> str:
    cited = cited_controls(body)
    lines = ["", f"## {APPENDIX_CONTROLS}", ""]
    if cited:
        lines += ["| Control | Title | Trust Services Criteria |", "| --- | --- | --- |"]
        for cid in cited:
            control = catalog.controls.get(cid)
            if control is None:
                lines.append(f"| {cid} | (not in the control catalog) | |")
            else:
                crit = ", ".join(control.criteria) or "AI governance (no TSC mapping)"
                lines.append(f"| {cid} | {escape_markdown(control.title)} | {crit} |")
    else:
        lines.append("This document cites no controls.")
    lines += [
        "",
        f"## {APPENDIX_HISTORY}",
        "",
        "| Version | Date | Author | Change |",
        "| --- | --- | --- | --- |",
        f"| {version} | {effective.isoformat()} | soc2kit | Initial version generated from the company profile; not yet approved |",
    ]
    return "\n".join(lines) + "\n"


def render_policy(template: PolicyTemplate, catalog: Catalog, profile: Profile, context: dict[str, Any], effective: dt.date) -> RenderedPolicy:
    body = render_body(template, catalog, context)
    fm = front_matter(template, profile, effective)
    text = "---\n" + dump_yaml(fm) + "---\n\n" + body + _appendix(body, catalog, fm["version"], effective)
    return RenderedPolicy(template.id, template.title, f"policies/{template.id}.md", text)


def render_policies(catalog: Catalog, profile: Profile, *, today: dt.date | None = None) -> list[RenderedPolicy]:
    """Render every policy that applies to the profile (raises RenderError on the first failure)."""
    context = build_context(profile)
    effective = profile.documents.effective_date or today or dt.date.today()
    return [render_policy(t, catalog, profile, context, effective) for t in applicable_policies(catalog, context)]


