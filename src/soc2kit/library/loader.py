"""Load the content directory (criteria, controls, policy templates, frameworks) into a Catalog.

Loading collects every problem it can find (file:line and key path for each) rather than stopping
at the first: ``load_catalog(problems=[...])`` fills the list and skips broken items (this is what
``lint`` uses); without a list, any error-level problem raises one ``ContentError`` listing all.

Two YAML parsers, on purpose: ruamel.yaml in round-trip mode keeps the line of every key (for
located messages) but is slow; PyYAML's libyaml C parser is about 17 times faster. Bundled content is
read with the fast parser and, only when something is wrong (or for ``lint``), re-read precisely.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from soc2kit._yaml import line_of, load_yaml, parse_yaml, to_plain
from soc2kit.errors import ContentError, Location, UserError
from soc2kit.library.models import AREAS, CHECK_IDS, Catalog, Control, Criterion, PolicyTemplate, TestProcedure
from soc2kit.library.problems import Problem
from soc2kit.profile.schema import Frequency, RoleKey

CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

CONTROL_ID = re.compile(r"^(?P<area>[A-Z]{2,3})-(?P<num>\d{2})$")
POLICY_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FRONT_MATTER = re.compile(r"\A---\s*\n(.*?\n)---\s*\n", re.S)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _TestProcedure(_Strict):
    inquiry: str = Field(min_length=10)
    inspection: str = Field(min_length=10)
    observation: str = Field(min_length=10)
    reperformance: str = Field(min_length=10)
    pass_criteria: str = Field(min_length=10)


class _Crosswalk(_Strict):
    iso42001: list[str] = Field(default_factory=list)
    nist_ai_rmf: list[str] = Field(default_factory=list)
    iso27001: list[str] = Field(default_factory=list)


class _Control(_Strict):
    id: str = Field(pattern=CONTROL_ID.pattern)
    title: str = Field(min_length=3, max_length=120)
    statement: str = Field(min_length=20)
    criteria: list[str]
    crosswalk: _Crosswalk = Field(default_factory=_Crosswalk)
    frequency: Frequency
    frequency_param: str | None = None
    owner: RoleKey
    ai_specific: StrictBool = False
    applies_when: str | None = None
    check: str | None = None
    evidence: list[str] = Field(min_length=1)
    test_procedure: _TestProcedure


class _AreaFile(_Strict):
    area: str
    name: str
    controls: list[_Control]


class _PolicyFront(_Strict):
    id: str = Field(pattern=POLICY_ID.pattern)
    title: str = Field(min_length=3, max_length=120)
    code: str = Field(pattern=r"^[A-Z]{3,4}$")
    owner: RoleKey
    approver: RoleKey | None = None
    ai_policy: StrictBool = False
    applies_when: str | None = None
    summary: str = Field(min_length=10)


class _CriterionDoc(_Strict):
    id: str
    category: Literal["security", "availability", "confidentiality", "processing_integrity", "privacy"]
    series: str
    group: str
    title: str
    summary: str = Field(min_length=10)


class _CriteriaFile(_Strict):
    criteria: list[_CriterionDoc]


def key_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def _validation_problems(exc: ValidationError, path: Path, document: Any, prefix: tuple = (), line_offset: int = 0) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = prefix + tuple(err["loc"])
        line, col = line_of(document, loc)
        if line is not None:
            line += line_offset
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = f"unknown key '{loc[-1]}'"
        elif err["type"] == "missing":
            msg = "required key is missing"
        problems.append(Problem("error", "content-schema", msg, Location(path, line, col, key_path(loc))))
    return problems


def _load_yaml_collect(path: Path, problems: list[Problem], precise: bool = True) -> Any:
    """Parse a content file. ``precise`` keeps line numbers (ruamel round-trip, slow); otherwise
    libyaml's C parser is used (17x faster) and any problem triggers a precise reload upstream."""
    if not precise:
        try:
            return yaml.load(path.read_text(encoding="utf-8"), Loader=_FAST_LOADER)
        except (yaml.YAMLError, UnicodeDecodeError, OSError):
            pass  # the precise parser reports it with its position
    try:
        return load_yaml(path, what="content file")
    except UserError as exc:
        problems.append(Problem("error", "yaml-syntax", exc.message, exc.location or Location(path), exc.hint))
        return None


def load_criteria(path: Path, problems: list[Problem], precise: bool = True) -> dict[str, Criterion]:
    document = _load_yaml_collect(path, problems, precise)
    if document is None:
        return {}
    try:
        parsed = _CriteriaFile.model_validate(to_plain(document))
    except ValidationError as exc:
        problems.extend(_validation_problems(exc, path, document))
        return {}
    out: dict[str, Criterion] = {}
    for i, c in enumerate(parsed.criteria):
        if c.id in out:
            line, _ = line_of(document, ("criteria", i, "id"))
            problems.append(Problem("error", "duplicate-id", f"criterion {c.id} is defined twice", Location(path, line)))
        out[c.id] = Criterion(c.id, c.category, c.series, c.group, c.title, c.summary.strip())
    return out


def load_controls(directory: Path, problems: list[Problem], precise: bool = True) -> dict[str, Control]:
    controls: dict[str, Control] = {}
    for path in sorted(directory.glob("*.yaml")):
        document = _load_yaml_collect(path, problems, precise)
        if document is None:
            continue
        if not isinstance(document, dict) or not isinstance(document.get("controls"), list):
            problems.append(Problem("error", "content-schema", "a controls file needs 'area', 'name' and a 'controls' list", Location(path, 1)))
            continue
        area = str(document.get("area", ""))
        if area not in AREAS:
            line, _ = line_of(document, ("area",))
            problems.append(Problem("error", "unknown-area", f"unknown control area {area!r}", Location(path, line, key="area"), f"use one of: {', '.join(AREAS)}"))
        for i, raw in enumerate(document["controls"]):
            try:
                c = _Control.model_validate(to_plain(raw))
            except ValidationError as exc:
                problems.extend(_validation_problems(exc, path, document, ("controls", i)))
                continue
            line, col = line_of(document, ("controls", i, "id"))
            loc = Location(path, line, col, f"controls[{i}]")
            m = CONTROL_ID.match(c.id)
            if m and m.group("area") != area:
                problems.append(Problem("error", "control-area", f"control {c.id} is in the {area} file", loc, f"control ids in this file start with {area}-"))
            if c.id in controls:
                problems.append(Problem("error", "duplicate-id", f"control {c.id} is defined twice (first at {controls[c.id].location})", loc))
                continue
            if c.frequency_param is not None:
                allowed = _interval_parameters()
                if c.frequency_param not in allowed:
                    problems.append(Problem("error", "frequency-param", f"control {c.id}: frequency_param {c.frequency_param!r} is not an interval parameter", loc, f"use one of: {', '.join(sorted(allowed))}"))
                elif allowed[c.frequency_param] != c.frequency:
                    problems.append(Problem("error", "frequency-param", f"control {c.id}: frequency {c.frequency!r} differs from the default of {c.frequency_param} ({allowed[c.frequency_param]!r})", loc))
            if c.check is not None and c.check not in CHECK_IDS:
                problems.append(Problem("error", "unknown-check", f"control {c.id} names unknown check {c.check!r}", loc, f"known checks: {', '.join(CHECK_IDS)}"))
            controls[c.id] = Control(
                id=c.id,
                area=area,
                title=c.title.strip(),
                statement=c.statement.strip(),
                criteria=tuple(c.criteria),
                crosswalk={"iso42001": tuple(c.crosswalk.iso42001), "nist_ai_rmf": tuple(c.crosswalk.nist_ai_rmf), "iso27001": tuple(c.crosswalk.iso27001)},
                frequency=c.frequency,
                frequency_param=c.frequency_param,
                owner=c.owner,
                ai_specific=c.ai_specific,
                applies_when=(c.applies_when.strip() or None) if c.applies_when else None,
                check=c.check,
                evidence=tuple(e.strip() for e in c.evidence),
                test_procedure=TestProcedure(**{k: v.strip() for k, v in c.test_procedure.model_dump().items()}),
                location=loc,
            )
    return controls


def _interval_parameters() -> dict[str, str]:
    """Profile parameters a control's frequency may follow, with their defaults."""
    from soc2kit.profile.schema import Parameters

    defaults = Parameters()
    return {name: getattr(defaults, name) for name in Parameters.model_fields if name.endswith("_interval")}


def split_front_matter(text: str, path: Path) -> tuple[Any, str, int]:
    """Return (front matter document, body with front matter blanked, number of front-matter lines)."""
    m = FRONT_MATTER.match(text)
    if not m:
        raise ContentError("a policy template must start with YAML front matter between '---' lines", location=Location(path, 1))
    front = parse_yaml(m.group(1), path)
    lines = m.group(0).count("\n")
    body = "\n" * lines + text[m.end():]
    return front, body, lines


def load_policy_templates(directory: Path, problems: list[Problem]) -> dict[str, PolicyTemplate]:
    templates: dict[str, PolicyTemplate] = {}
    for path in sorted(directory.glob("*.md.j2")):
        try:
            text = path.read_text(encoding="utf-8")
            front, body, _ = split_front_matter(text, path)
        except UserError as exc:
            problems.append(Problem("error", "template-front-matter", exc.message, exc.location or Location(path)))
            continue
        try:
            fm = _PolicyFront.model_validate(to_plain(front))
        except ValidationError as exc:
            problems.extend(_validation_problems(exc, path, front, line_offset=1))
            continue
        stem = path.name[: -len(".md.j2")]
        if fm.id != stem:
            problems.append(Problem("error", "policy-id", f"policy id {fm.id!r} differs from the file name {stem!r}", Location(path, 2, key="id")))
            continue
        templates[fm.id] = PolicyTemplate(
            id=fm.id, title=fm.title, code=fm.code, owner=fm.owner, approver=fm.approver, ai_policy=fm.ai_policy,
            applies_when=(fm.applies_when.strip() or None) if fm.applies_when else None, summary=fm.summary.strip(),
            body=body, path=path, source=text,
        )
    codes: dict[str, str] = {}
    for t in templates.values():
        if t.code in AREAS:
            problems.append(Problem("error", "policy-code", f"policy code {t.code} collides with a control area", t.location))
        if t.code in codes:
            problems.append(Problem("error", "policy-code", f"policy code {t.code} is also used by {codes[t.code]}", t.location))
        codes[t.code] = t.id
    return templates


def load_frameworks(directory: Path) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name, key in (("iso42001.json", "iso42001"), ("nist-ai-rmf.json", "nist_ai_rmf"), ("iso27001.json", "iso27001")):
        data = json.loads((directory / name).read_text(encoding="utf-8"))
        out[key] = {c["id"]: c["title"] for c in data["controls"]}
    return out


def cross_reference(catalog: Catalog, problems: list[Problem]) -> None:
    """Dangling criteria and framework ids in controls."""
    for c in catalog.controls.values():
        for crit in c.criteria:
            if crit not in catalog.criteria:
                problems.append(Problem("error", "dangling-criterion", f"control {c.id} maps to unknown criterion {crit!r}", c.location))
        for fw, ids in c.crosswalk.items():
            known = catalog.frameworks.get(fw, {})
            for fid in ids:
                if fid not in known:
                    problems.append(Problem("error", "unknown-framework-id", f"control {c.id} cites unknown {fw} id {fid!r}", c.location))


def _load(content_dir: Path, problems: list[Problem], precise: bool) -> Catalog:
    criteria = load_criteria(content_dir / "criteria.yaml", problems, precise)
    controls = load_controls(content_dir / "controls", problems, precise)
    policies = load_policy_templates(content_dir / "policies", problems)
    frameworks = load_frameworks(content_dir / "frameworks")
    catalog = Catalog(criteria=criteria, controls=controls, policies=policies, frameworks=frameworks)
    cross_reference(catalog, problems)
    return catalog


@functools.lru_cache(maxsize=8)
def _load_cached(content_dir: Path, precise: bool) -> tuple[Catalog, tuple[Problem, ...]]:
    problems: list[Problem] = []
    catalog = _load(content_dir, problems, precise)
    if not precise and problems:  # report problems with their lines
        return _load_cached(content_dir, True)
    return catalog, tuple(problems)


def load_catalog(content_dir: Path | None = None, problems: list[Problem] | None = None, *, precise: bool = False) -> Catalog:
    """Load the catalog; with ``problems`` collect into it, else raise on any error.

    ``precise`` keeps the line number of every control (for lint); otherwise lines are recovered
    only when something is wrong.
    """
    catalog, found = _load_cached((content_dir or CONTENT_DIR).resolve(), precise)
    if problems is not None:
        problems.extend(found)
        return catalog
    errors = [p for p in found if p.severity == "error"]
    if errors:
        raise ContentError("the content library has errors:\n  " + "\n  ".join(str(p) for p in errors))
    return catalog
