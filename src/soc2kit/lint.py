"""``soc2kit lint``: every problem in content, profile and policies, each with file:line.

Collect everything, then report once (in the manner of mkdocs' config validation). Errors fail the
run (exit 1); warnings fail it only with ``--strict``.
"""

from __future__ import annotations

import re
from pathlib import Path

from soc2kit.errors import Location, ProfileError, UserError
from soc2kit.library import load_catalog
from soc2kit.library.models import Catalog
from soc2kit.library.problems import Problem
from soc2kit.profile import PROFILE_FILE, Profile, load_profile, parse_profile_text
from soc2kit.render.context import build_context, evaluate
from soc2kit.render.policies import CONTROL_REF, cited_controls, render_body

PLACEHOLDER = re.compile(
    r"(?<!\\)\{\{|(?<!\\)\{%|\bTODO\b|\bTBD\b|\bFIXME\b|\bXXX\b|lorem ipsum|<<[^>\n]{0,40}>>"
    r"|\[(?:company|insert|your|name of|date)[^\]\n]{0,40}\]",
    re.IGNORECASE,
)
EXPECTED_CRITERIA = 61
MIN_OBSERVATION_DAYS = 90


def _content_problems(catalog: Catalog, problems: list[Problem]) -> None:
    if len(catalog.criteria) != EXPECTED_CRITERIA:
        problems.append(Problem("error", "criteria-count", f"the catalog has {len(catalog.criteria)} criteria; the 2017 TSC have {EXPECTED_CRITERIA}", Location("content/criteria.yaml")))
    for t in catalog.policies.values():
        for n, line in enumerate(t.body.splitlines(), start=1):
            for m in CONTROL_REF.finditer(line):
                if m.group(0) not in catalog.controls:
                    problems.append(Problem("error", "dangling-control", f"policy template {t.id} cites unknown control {m.group(0)}", Location(t.path, n)))


def _condition_problems(catalog: Catalog, contexts: list[tuple[str, dict]], problems: list[Problem]) -> None:
    seen: set[str] = set()
    items = [(c.applies_when, c.location, f"control {c.id}") for c in catalog.controls.values()]
    items += [(t.applies_when, t.location, f"policy {t.id}") for t in catalog.policies.values()]
    for expression, location, what in items:
        if not expression or expression in seen:
            continue
        for _name, ctx in contexts:
            try:
                evaluate(expression, ctx, what=f"applies_when of {what}")
            except UserError as exc:
                seen.add(expression)
                problems.append(Problem("error", "bad-condition", exc.message, location))
                break


def _profile_problems(path: Path, problems: list[Problem]) -> Profile | None:
    try:
        return load_profile(path)
    except ProfileError as exc:
        for loc, msg, hint in exc.problems:
            code = "unknown-profile-key" if msg.startswith("unknown key") else "profile"
            problems.append(Problem("error", code, msg, loc, hint))
    except UserError as exc:
        problems.append(Problem("error", "profile", exc.message, exc.location or Location(path), exc.hint))
    return None


def _statement_problems(doc, where: Path, problems: list[Problem], suffix: str = "", *, rendered: bool = False) -> None:
    """Every numbered statement cites at least one control; statement ids are unique."""
    seen: dict[str, int] = {}
    note = " (line of the rendered text)" if rendered else ""
    for st in doc.statements:
        if not st.controls:
            problems.append(Problem("error", "statement-without-control", f"statement {st.id} cites no control{suffix}{note}", Location(where, st.line), "end the statement with *Controls: XX-NN.* naming the control that implements it"))
        if st.id in seen:
            problems.append(Problem("error", "duplicate-statement", f"statement id {st.id} is used twice (first at line {seen[st.id]}){suffix}{note}", Location(where, st.line)))
        seen.setdefault(st.id, st.line)


def _render_problems(catalog: Catalog, profile: Profile, problems: list[Problem], label: str = "") -> tuple[set[str], set[str]]:
    """Render every applicable template and control for a profile.

    Returns (applicable control ids, control ids the rendered policies cite)."""
    from soc2kit.render.documents import parse_policy_document
    from soc2kit.render.selection import select_controls

    ctx = build_context(profile)
    suffix = f" (profile {label})" if label else ""
    cited: set[str] = set()
    for t in catalog.policies.values():
        try:
            if not evaluate(t.applies_when, ctx):
                continue
            body = render_body(t, catalog, ctx)
            cited.update(cited_controls(body))
            _statement_problems(parse_policy_document(t.path, body), t.path, problems, suffix, rendered=True)
        except UserError as exc:
            problems.append(Problem("error", "template", exc.message + suffix, exc.location or t.location, exc.hint))
    try:
        views = select_controls(catalog, profile, ctx)
    except UserError as exc:
        problems.append(Problem("error", "control-text", exc.message + suffix, exc.location or Location(), exc.hint))
        return set(), cited
    applicable = {v.id for v in views if v.applicable}
    for crit in catalog.criteria.values():
        if crit.category not in profile.scope.tsc:
            continue
        if not any(c.id in applicable for c in catalog.controls_for(crit.id)):
            problems.append(Problem("error", "criterion-without-control", f"in-scope criterion {crit.id} has no applicable control{suffix}", Location("content/criteria.yaml", key=crit.id)))
    return applicable, cited


def conflict_marker_problems(text: str, rel: Path | str, problems: list[Problem]) -> None:
    """Conflict markers left by `soc2kit update` (one error per marker line)."""
    from soc2kit.workspace.frontmatter import conflict_lines

    for n, marker in conflict_lines(text):
        problems.append(Problem("error", "conflict-marker", f"unresolved merge conflict marker {marker!r} left by `soc2kit update`", Location(rel, n),
                                "keep the text you want between <<<<<<< and >>>>>>>, delete the three marker lines, then run `soc2kit update` again"))


def _workspace_problems(root: Path, catalog: Catalog, profile: Profile | None, applicable: set[str], problems: list[Problem]) -> None:
    from soc2kit.render.documents import parse_policy_document

    policies_dir = root / "policies"
    if not policies_dir.is_dir():
        problems.append(Problem("error", "no-policies", "the workspace has no policies/ directory", Location(policies_dir), "run `soc2kit init`"))
        return
    cited: set[str] = set()
    for path in sorted(policies_dir.glob("*.md")):
        rel = path.relative_to(root)
        try:
            text = path.read_text(encoding="utf-8")
            doc = parse_policy_document(path, text)
        except UserError as exc:
            problems.append(Problem("error", "policy-document", exc.message, exc.location or Location(rel)))
            continue
        conflict_marker_problems(text, rel, problems)
        for n, line in enumerate(text.splitlines(), start=1):
            m = PLACEHOLDER.search(line)
            if m:
                problems.append(Problem("error", "placeholder", f"placeholder or template syntax left in the text: {m.group(0)!r}", Location(rel, n, m.start() + 1), "replace it with the company's real text"))
        for field in ("id", "title", "version", "owner", "approver", "effective_date", "next_review"):
            if not doc.meta.get(field):
                problems.append(Problem("warning", "document-control", f"document control field '{field}' is missing", Location(rel, 1, key=field)))
        _statement_problems(doc, rel, problems)
        for cit in doc.citations:
            if cit.control_id not in catalog.controls:
                problems.append(Problem("error", "dangling-control", f"cites unknown control {cit.control_id}", Location(rel, cit.line)))
            cited.add(cit.control_id)
    for cid in sorted(applicable - cited):
        problems.append(Problem("error", "control-without-policy", f"applicable control {cid} ({catalog.controls[cid].title}) is not stated in any policy", catalog.controls[cid].location, "cite it (*Controls: " + cid + ".*) in the policy statement it implements"))
    if profile is not None:
        used_roles = {catalog.controls[c].owner for c in applicable}
        for role in sorted(used_roles):
            if not getattr(profile.roles, role):
                problems.append(Problem("warning", "unassigned-role", f"role '{role}' owns applicable controls but no person is assigned", Location(PROFILE_FILE, key=f"roles.{role}"), f"add roles.{role}: \"Name, Title\" to {PROFILE_FILE}"))
        period = profile.scope.observation_period
        if period is None:
            problems.append(Problem("warning", "observation-period", "no Type II observation period is set", Location(PROFILE_FILE, key="scope.observation_period"), "add scope.observation_period: {start: YYYY-MM-DD, end: YYYY-MM-DD}"))
        elif period.days < MIN_OBSERVATION_DAYS:
            problems.append(Problem("warning", "observation-period", f"the observation period is {period.days} days; Type II windows are usually 3 to 12 months", Location(PROFILE_FILE, key="scope.observation_period")))


def vendor_register_problems(root: Path, profile: Profile, problems: list[Problem]) -> None:
    """The vendor register (vendors.yaml), when there is one: schema, data types and systems
    against the profile, duplicates; each problem with its line."""
    from soc2kit._yaml import load_yaml
    from soc2kit.vendors.register import REGISTER_FILE, validate_document
    from soc2kit.vendors.yamlmodel import FileProblems

    path = root / REGISTER_FILE
    if not path.exists():
        return
    try:
        validate_document(load_yaml(path, what="vendor register"), Path(REGISTER_FILE), profile)
    except FileProblems as exc:
        for loc, msg, hint in exc.problems:
            problems.append(Problem("error", "vendor-register", msg, loc, hint))
    except UserError as exc:
        problems.append(Problem("error", "vendor-register", exc.message, exc.location or Location(REGISTER_FILE), exc.hint))


def lint_workspace(root: Path, *, content_dir: Path | None = None) -> list[Problem]:
    """Lint a workspace; outside a workspace, lint the bundled content against every example profile."""
    from soc2kit.workspace.init import example_names, example_text

    problems: list[Problem] = []
    catalog = load_catalog(content_dir, problems=problems, precise=True)
    _content_problems(catalog, problems)
    example_profiles = []
    for name in example_names():
        try:
            example_profiles.append((name, parse_profile_text(example_text(name), f"examples/{name}.yaml")))
        except UserError as exc:
            problems.append(Problem("error", "example-profile", exc.render(), Location(f"content/examples/{name}.yaml")))
    profile_path = root / PROFILE_FILE
    if profile_path.exists():
        profile = _profile_problems(profile_path, problems)
        contexts = [("workspace", build_context(profile))] if profile else []
        _condition_problems(catalog, contexts + [(n, build_context(p)) for n, p in example_profiles], problems)
        applicable = _render_problems(catalog, profile, problems)[0] if profile else set()
        _workspace_problems(root, catalog, profile, applicable, problems)
        if profile is not None:
            vendor_register_problems(root, profile, problems)
    else:
        _condition_problems(catalog, [(n, build_context(p)) for n, p in example_profiles], problems)
        for name, p in example_profiles:
            applicable, cited = _render_problems(catalog, p, problems, label=name)
            for cid in sorted(applicable - cited):
                problems.append(Problem("error", "control-without-policy", f"applicable control {cid} is not stated in any policy (profile {name})", catalog.controls[cid].location))
    unique: dict[tuple, Problem] = {}
    for p in problems:
        unique.setdefault((p.severity, p.code, p.message, str(p.location)), p)
    return sorted(unique.values(), key=lambda p: (p.severity != "error", str(p.location.path or ""), p.location.line or 0))
