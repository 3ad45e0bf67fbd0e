"""``soc2kit export oscal``: the kit's controls and the workspace as OSCAL 1.1.3 JSON.

Four documents, each validated against NIST's OSCAL 1.1.3 JSON Schema (bundled in
``content/oscal/``; see :mod:`soc2kit.export.oscal_validate`) before anything is written:

* ``catalog.json`` — every control of the kit, grouped by control area: the statement, the test
  procedure as assessment methods and objective, evidence examples, frequency / owner / AI props,
  the TSC criteria and the ISO/IEC 42001, NIST AI RMF and ISO/IEC 27001 crosswalks. Values the
  company chooses (``parameters.*``, ``documents.*`` in ``soc2kit.yaml``) become OSCAL parameters
  with the kit's defaults; roles read as their titles.
* ``profile.json`` — the workspace's selection: the applicable controls (``include-controls``) and
  the company's parameter values (``set-parameters``); imports ``catalog.json``.
* ``component-definition.json`` — the in-scope systems, the AI features and the hosted-model
  providers, and the company's control program, each with the controls it carries and the
  statement as rendered for the profile.
* ``ssp.json`` — a system security plan: system characteristics from the profile, users from the
  named roles, the components, and one implemented requirement per applicable control with the
  status from ``assessment.yaml`` when the workspace has one.

Identifiers are deterministic (UUID version 5 over stable keys; a document's own uuid over its
content), so exporting the same workspace twice gives byte-identical files. The output directory
is staged and swapped in whole.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from soc2kit import __version__
from soc2kit._fs import staging_dir, swap_in, write_tree
from soc2kit.errors import Location, RenderError, UsageError
from soc2kit.export.oscal_validate import validate
from soc2kit.library.models import AREAS, FRAMEWORKS, Catalog, Control
from soc2kit.profile import vocab
from soc2kit.profile.schema import Documents, Parameters, Profile
from soc2kit.render.context import build_context, with_policy_set
from soc2kit.render.environment import escape_markdown, every, markdown_env
from soc2kit.render.selection import ControlView

OSCAL_VERSION = "1.1.3"
NS = "https://github.com/soc2kit/soc2kit/ns/oscal"  #: namespace of the kit's own props
RMF_NS = "http://csrc.nist.gov/ns/rmf"  #: namespace of OSCAL's assessment-method "method" prop
UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, NS)
MARKER = ".soc2kit-oscal"
FILES = {"catalog": "catalog.json", "profile": "profile.json", "component-definition": "component-definition.json", "system-security-plan": "ssp.json"}

#: the kit's test-procedure steps -> OSCAL assessment methods (SP 800-53A vocabulary)
METHODS = {"inquiry": "INTERVIEW", "inspection": "EXAMINE", "observation": "EXAMINE", "reperformance": "TEST"}
#: assessment.yaml status -> OSCAL implementation-status state
STATUS_STATE = {"implemented": "implemented", "partial": "partial", "planned": "planned", "not_started": "planned", "not_applicable": "not-applicable"}
#: control areas whose controls run on each in-scope system (the others are company-wide)
SYSTEM_AREAS = ("AC", "NET", "CRY", "OPS", "CHG", "DAT", "BCP")
#: the kit's default sensitivity of each data type (drives the SSP's confidentiality impact)
SENSITIVITY = {"phi": "high", "payment_card": "high", "biometric": "high", "children": "high", "pii": "moderate", "customer_confidential": "moderate"}
_ORG_SUFFIX = re.compile(r"\b(?:LLP|LLC|Inc|Ltd|GmbH|plc|Corp|Corporation)\b", re.I)  #: a role holder that is a firm

# ``{{ params.x }}``, ``{{ params.x.y }}``, ``{{ params.x | every }}``, ``{{ documents.x | every }}``
_PARAM_REF = re.compile(r"\{\{-?\s*(?P<ns>params|documents)\.(?P<name>[a-z_]+(?:\.[a-z_]+)?)\s*(?P<every>\|\s*every\s*)?-?\}\}")
_MARK = re.compile("\ue000(?P<ref>[a-z_.]+)(?P<every>\\|every)?\ue001")
_TEXT_FIELDS = ("statement", "inquiry", "inspection", "observation", "reperformance", "pass_criteria")


# --- small helpers -----------------------------------------------------------------------------

def _uuid(*keys: str) -> str:
    return str(uuid.uuid5(UUID_NAMESPACE, "\x1f".join(keys)))


def oscal_id(control_id: str) -> str:
    """``AC-05`` -> ``ac-05`` (OSCAL ids are lower-case by convention; the label prop keeps ``AC-05``)."""
    return control_id.lower()


def _line(text: Any) -> str:
    """A value for an OSCAL string field: one line, no leading or trailing whitespace."""
    return " ".join(str(text).split())


def _md(text: Any) -> str:
    """Company-provided text for an OSCAL markup field: one line, Markdown characters escaped."""
    return escape_markdown(_line(text))


def _prop(name: str, value: Any, *, ns: str | None = NS, cls: str | None = None) -> dict[str, str]:
    prop = {"name": name, "value": _line(value)}
    if ns:
        prop["ns"] = ns
    if cls:
        prop["class"] = cls
    return prop


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _document_uuid(kind: str, body: dict[str, Any]) -> str:
    """A document's uuid changes when its content changes (OSCAL's rule) yet is reproducible."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return _uuid("document", kind, digest)


def _finish(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    return {kind: {"uuid": _document_uuid(kind, body), **body}}


# --- control text with parameters ---------------------------------------------------------------

@dataclass(frozen=True)
class ParamRef:
    """A profile value a control's text uses (``params.deprovision_hours``, ``documents.review_interval | every``)."""

    ref: str  #: ``params.deprovision_hours``
    every: bool  #: printed through the ``every`` filter ("quarterly" -> "quarter")

    @property
    def key(self) -> str:
        """Path in soc2kit.yaml."""
        ns, _, name = self.ref.partition(".")
        return ("parameters." if ns == "params" else "documents.") + name

    def param_id(self, control_id: str) -> str:
        ns, _, name = self.ref.partition(".")
        return f"{oscal_id(control_id)}_prm_{'' if ns == 'params' else 'documents_'}{name.replace('.', '_')}"

    def label(self) -> str:
        return self.ref.partition(".")[2].replace(".", " ").replace("_", " ")

    def value(self, parameters: Parameters, documents: Documents) -> str:
        ns, _, name = self.ref.partition(".")
        current: Any = parameters if ns == "params" else documents
        for part in name.split("."):
            current = getattr(current, part)
        return every(current) if self.every else str(current)


@dataclass
class ControlText:
    """A control's texts rendered for a profile, profile values left as markers."""

    control: Control
    marked: dict[str, str]
    refs: list[ParamRef] = field(default_factory=list)

    def prose(self, name: str) -> str:
        """For the catalog: markers become OSCAL parameter insertions."""
        return _MARK.sub(lambda m: "{{ insert: param, " + ParamRef(m["ref"], bool(m["every"])).param_id(self.control.id) + " }}", self.marked[name])

    def text(self, name: str, profile: Profile) -> str:
        """For the SSP: markers become the profile's values."""
        return _MARK.sub(lambda m: escape_markdown(ParamRef(m["ref"], bool(m["every"])).value(profile.parameters, profile.documents)), self.marked[name])


@functools.lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return markdown_env()


@functools.lru_cache(maxsize=4096)
def _compiled(source: str) -> jinja2.Template:
    return _env().from_string(source)


def _marked_source(source: str) -> str:
    return _PARAM_REF.sub(lambda m: f"\ue000{m['ns']}.{m['name']}{'|every' if m['every'] else ''}\ue001", source)


def render_control_texts(catalog: Catalog, profile: Profile) -> dict[str, ControlText]:
    """Every control's statement and test procedure rendered in the sandboxed Markdown environment
    (profile values are escaped), with the company-chosen parameters kept as markers."""
    context = with_policy_set(build_context(profile), catalog)
    out: dict[str, ControlText] = {}
    for control in catalog.controls.values():
        marked: dict[str, str] = {}
        refs: dict[str, ParamRef] = {}
        for name in _TEXT_FIELDS:
            source = control.statement if name == "statement" else getattr(control.test_procedure, name)
            for m in _PARAM_REF.finditer(source):
                ref = ParamRef(f"{m['ns']}.{m['name']}", bool(m["every"]))
                refs.setdefault(ref.param_id(control.id), ref)
            try:
                rendered = _compiled(_marked_source(source)).render(context) if "{" in source else source
            except jinja2.TemplateError as exc:
                message = getattr(exc, "message", None) or str(exc)
                raise RenderError(f"control {control.id} {name}: {message}", location=control.location) from None
            marked[name] = " ".join(rendered.split())
        out[control.id] = ControlText(control, marked, list(refs.values()))
    return out


# --- the four documents -------------------------------------------------------------------------

RESOURCES: dict[str, dict[str, Any]] = {
    "tsc": {"title": "AICPA Trust Services Criteria (2017, with the 2022 revised points of focus)",
            "description": "The criteria a SOC 2 examination reports on. The catalog cites criteria by identifier only.", "rlinks": []},
    "iso42001": {"title": FRAMEWORKS["iso42001"], "description": "AI management system standard; the crosswalk cites Annex A controls by number only.", "rlinks": []},
    "nist_ai_rmf": {"title": FRAMEWORKS["nist_ai_rmf"], "description": "NIST AI Risk Management Framework (NIST AI 100-1); the crosswalk cites Core subcategories by identifier only.",
                    "rlinks": [{"href": "https://doi.org/10.6028/NIST.AI.100-1"}]},
    "iso27001": {"title": FRAMEWORKS["iso27001"], "description": "Information security management system standard; the crosswalk cites Annex A controls by number only.", "rlinks": []},
}
CROSSWALK_PROP = {"iso42001": "iso-42001", "nist_ai_rmf": "nist-ai-rmf", "iso27001": "iso-27001"}


def _back_matter() -> dict[str, Any]:
    resources = []
    for key, r in RESOURCES.items():
        resource: dict[str, Any] = {"uuid": _uuid("resource", key), "title": r["title"], "description": r["description"],
                                    "props": [_prop("framework", key)], "citation": {"text": r["title"]}}
        if r["rlinks"]:
            resource["rlinks"] = r["rlinks"]
        resources.append(resource)
    return {"resources": resources}


def _metadata(title: str, last_modified: str, version: str, **extra: Any) -> dict[str, Any]:
    meta = {"title": title, "last-modified": last_modified, "version": _line(version), "oscal-version": OSCAL_VERSION}
    meta.update({k.replace("_", "-"): v for k, v in extra.items() if v})
    meta.setdefault("remarks", f"Generated by soc2kit {__version__} (`soc2kit export oscal`). A readiness artefact, not an auditor's opinion.")
    return meta


def _roles() -> list[dict[str, str]]:
    return [{"id": key, "title": title, "description": desc[0].upper() + desc[1:] + "."} for key, (title, desc) in vocab.ROLES.items()]


def _param(ref: ParamRef, control_id: str) -> dict[str, Any]:
    default = ref.value(Parameters(), Documents())
    return {"id": ref.param_id(control_id), "props": [_prop("profile-key", ref.key)], "label": ref.label(),
            "usage": f"Set by `{ref.key}` in soc2kit.yaml" + (" (printed as the period, e.g. quarter)." if ref.every else "."),
            "values": [default]}


def _control(control: Control, text: ControlText, catalog: Catalog) -> dict[str, Any]:
    oid = oscal_id(control.id)
    props = [_prop("label", control.id, ns=None), _prop("sort-id", oid, ns=None),
             _prop("frequency", control.frequency), _prop("owner-role", control.owner), _prop("ai-specific", "true" if control.ai_specific else "false")]
    if control.frequency_param:
        props.append(_prop("frequency-parameter", f"parameters.{control.frequency_param}"))
    if control.check:
        props.append(_prop("automated-check", control.check))
    if control.applies_when:
        props.append(_prop("applies-when", control.applies_when))
    props += [_prop("tsc-criterion", c, cls="criteria") for c in control.criteria]
    links = []
    if control.criteria:
        links.append({"href": "#" + _uuid("resource", "tsc"), "rel": "reference", "text": "Trust Services Criteria " + ", ".join(control.criteria)})
    for fw, ids in control.crosswalk.items():
        props += [_prop(CROSSWALK_PROP[fw], i, cls="crosswalk") for i in ids]
        if ids:
            links.append({"href": "#" + _uuid("resource", fw), "rel": "reference", "text": f"{FRAMEWORKS[fw]} " + ", ".join(ids)})
    parts: list[dict[str, Any]] = [{"id": f"{oid}_smt", "name": "statement", "prose": text.prose("statement")}]
    parts.append({"id": f"{oid}_obj", "name": "assessment-objective", "props": [_prop("procedure", "pass-criteria")], "prose": text.prose("pass_criteria")})
    for step, method in METHODS.items():
        parts.append({"id": f"{oid}_asm-{step}", "name": "assessment-method", "title": step.capitalize(),
                      "props": [_prop("method", method, ns=RMF_NS), _prop("procedure", step)], "prose": text.prose(step)})
    parts.append({"id": f"{oid}_evd", "name": "assessment-objects", "class": "evidence-examples", "title": "Evidence examples",
                  "prose": "\n".join(f"- {_line(e)}" for e in control.evidence)})
    out: dict[str, Any] = {"id": oid, "title": control.title}
    if text.refs:
        out["params"] = [_param(r, control.id) for r in text.refs]
    out.update({"props": props, "parts": parts})
    if links:
        out["links"] = links
    return out


def build_catalog(catalog: Catalog, texts: dict[str, ControlText], last_modified: str) -> dict[str, Any]:
    groups = []
    for area, name in AREAS.items():
        controls = [_control(c, texts[c.id], catalog) for c in catalog.controls.values() if c.area == area]
        if controls:
            groups.append({"id": area.lower(), "class": "control-area", "title": name, "props": [_prop("label", area, ns=None)], "controls": controls})
    body = {"metadata": _metadata("soc2kit control catalog", last_modified, __version__, roles=_roles()),
            "groups": groups, "back-matter": _back_matter()}
    return _finish("catalog", body)


def build_profile(profile: Profile, views: list[ControlView], texts: dict[str, ControlText], last_modified: str) -> dict[str, Any]:
    applicable = [v for v in views if v.applicable]
    set_params = []
    for v in applicable:
        for ref in texts[v.id].refs:
            set_params.append({"param-id": ref.param_id(v.id), "values": [ref.value(profile.parameters, profile.documents)]})
    imp: dict[str, Any] = {"href": FILES["catalog"], "include-controls": [{"with-ids": [oscal_id(v.id) for v in applicable]}]}
    body: dict[str, Any] = {
        "metadata": _metadata(f"{_md(profile.company.name)}: applicable soc2kit controls", last_modified, profile.documents.version,
                              props=[_prop("tsc-category", c) for c in profile.scope.tsc]),
        "imports": [imp],
        "merge": {"as-is": True},
    }
    if set_params:
        body["modify"] = {"set-parameters": set_params}
    return _finish("profile", body)


@dataclass
class Component:
    key: str
    type: str
    title: str  #: Markdown (escaped)
    description: str  #: Markdown (escaped)
    purpose: str
    props: list[dict[str, str]]
    controls: list[str]  #: applicable control ids it carries

    @property
    def uuid(self) -> str:
        return _uuid("component", self.key)


def _has_ai(profile: Profile) -> bool:
    ai = profile.ai
    return bool(ai.trains_models or ai.uses_third_party_models or ai.use_cases or ai.model_providers)


def components(profile: Profile, views: list[ControlView]) -> list[Component]:
    """The in-scope systems, the AI features, each hosted-model provider and the company-wide program,
    with the applicable controls each carries. Every applicable control is carried by at least one."""
    applicable = [v for v in views if v.applicable]
    company = profile.company.name
    out: list[Component] = []
    placed: set[str] = set()
    systems = profile.scope.systems
    system_controls = [v.id for v in applicable if v.control.area in SYSTEM_AREAS and not v.control.ai_specific] if systems else []
    for i, s in enumerate(systems):
        out.append(Component(f"system:{i}:{s.name}", "software", _md(s.name), _md(s.description or f"{s.name}, in scope of the SOC 2 report."),
                             "In-scope system", [_prop("scope", "in-scope")], system_controls))
    placed.update(system_controls)
    if _has_ai(profile):
        ai = profile.ai
        uses = ", ".join(vocab.label(vocab.USE_CASES, u) for u in ai.use_cases) or "no use case named"
        parts = [f"AI use cases: {uses}."]
        parts.append("The company trains or fine-tunes its own models." if ai.trains_models else "The company does not train its own models.")
        if ai.model_providers:
            parts.append("Hosted models from " + ", ".join(_md(p) for p in ai.model_providers) + ".")
        if ai.automated_decisions:
            parts.append("Model outputs materially affect individuals.")
        ai_controls = [v.id for v in applicable if v.control.ai_specific and v.control.area != "VEN"]
        props = [_prop("ai-component", "true")] + [_prop("ai-use-case", u) for u in ai.use_cases]
        out.append(Component("ai:features", "software", f"{_md(company)} AI features and models", " ".join(parts), "AI system", props, ai_controls))
        placed.update(ai_controls)
        vendor_controls = [v.id for v in applicable if v.control.area == "VEN" and v.control.ai_specific]
        for p in ai.model_providers:
            out.append(Component(f"provider:{p}", "service", _md(p), f"Hosted AI models that {_md(company)} calls through the provider's API; the provider is a third party outside the system boundary.",
                                 "Third-party AI model provider", [_prop("ai-component", "true"), _prop("third-party", "true")], vendor_controls))
        if ai.model_providers:
            placed.update(vendor_controls)
    rest = [v.id for v in applicable if v.id not in placed]
    if rest:
        out.append(Component("program", "process-procedure", f"{_md(company)} security and AI governance program",
                             "Company-wide policies, roles and procedures: governance, risk, people, vendors, privacy, incident response and the controls that are not tied to one system.",
                             "Company-wide controls", [], rest))
    return out


def _requirement(view: ControlView, text: ControlText, profile: Profile, key: str) -> dict[str, Any]:
    return {"uuid": _uuid("implemented-requirement", key, view.id), "control-id": oscal_id(view.id), "description": text.text("statement", profile),
            "props": [_prop("frequency", view.frequency)], "responsible-roles": [{"role-id": view.control.owner}]}


def build_component_definition(profile: Profile, views: list[ControlView], texts: dict[str, ControlText], comps: list[Component], last_modified: str) -> dict[str, Any]:
    by_id = {v.id: v for v in views}
    defined = []
    for comp in comps:
        entry: dict[str, Any] = {"uuid": comp.uuid, "type": comp.type, "title": comp.title, "description": comp.description, "purpose": comp.purpose}
        if comp.props:
            entry["props"] = comp.props
        if comp.controls:
            entry["control-implementations"] = [{
                "uuid": _uuid("control-implementation", comp.key),
                "source": FILES["profile"],
                "description": f"The applicable soc2kit controls that {comp.title} carries, as the company's policies state them.",
                "implemented-requirements": [_requirement(by_id[cid], texts[cid], profile, comp.key) for cid in comp.controls],
            }]
        defined.append(entry)
    body = {"metadata": _metadata(f"{_md(profile.company.name)}: components and their controls", last_modified, profile.documents.version, roles=_roles()),
            "components": defined, "back-matter": _back_matter()}
    return _finish("component-definition", body)


def _parties(profile: Profile) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    company = profile.company
    parties: list[dict[str, Any]] = [{"uuid": _uuid("party", "company"), "type": "organization", "name": _line(company.name)}]
    if company.website:
        parties[0]["links"] = [{"href": company.website, "rel": "homepage"}]
    holders: dict[str, str] = {}
    responsible = []
    for key in vocab.ROLES:
        holder = _line(getattr(profile.roles, key))
        if not holder:
            continue
        if holder not in holders:
            holders[holder] = _uuid("party", "holder", holder)
            party: dict[str, Any] = {"uuid": holders[holder], "type": "person", "name": holder, "member-of-organizations": [parties[0]["uuid"]]}
            if _ORG_SUFFIX.search(holder):  # e.g. outside counsel named as a firm
                party = {"uuid": holders[holder], "type": "organization", "name": holder}
            parties.append(party)
        responsible.append({"role-id": key, "party-uuids": [holders[holder]]})
    return parties, responsible


def _sensitivity(types: list[str]) -> str:
    levels = [SENSITIVITY.get(t, "moderate") for t in types]
    return "high" if "high" in levels else "moderate" if levels else "low"


def build_ssp(profile: Profile, views: list[ControlView], texts: dict[str, ControlText], comps: list[Component],
              statuses: dict[str, Any] | None, last_modified: str) -> dict[str, Any]:
    company = profile.company
    name = _md(company.name)
    systems = profile.scope.systems
    parties, responsible = _parties(profile)
    system_names = ", ".join(_md(s.name) for s in systems) or "the company's production services"
    description = (_md(company.description) + " " if company.description else "") + f"The system comprises {system_names}."
    info_types = []
    for t in profile.data.types:
        label, desc = vocab.DATA_TYPES[t]
        level = SENSITIVITY.get(t, "moderate")
        info_types.append({"uuid": _uuid("information-type", t), "title": label[0].upper() + label[1:], "description": desc[0].upper() + desc[1:] + ".",
                           "props": [_prop("data-type", t)], "confidentiality-impact": {"base": f"fips-199-{level}"}})
    if not info_types:
        info_types.append({"uuid": _uuid("information-type", "business"), "title": "Business and customer data",
                           "description": "Data the in-scope systems process; the profile names no sensitive data type."})
    sys_props = [_prop("tsc-category", c) for c in profile.scope.tsc] + [_prop("cloud", c) for c in profile.cloud]
    sys_props += [_prop("data-residency", r) for r in profile.data.residency] + [_prop("regulation", r) for r in profile.regulations]
    period = profile.scope.observation_period
    if period:
        sys_props += [_prop("observation-period-start", period.start.isoformat()), _prop("observation-period-end", period.end.isoformat())]
    providers = [_md(p) for p in profile.ai.model_providers]
    clouds = ", ".join(vocab.label(vocab.CLOUDS, c) for c in profile.cloud)
    boundary = f"The boundary covers {system_names}"
    boundary += f", hosted on {clouds}" if clouds else ""
    boundary += ", and the people, procedures and data that operate them."
    if providers:
        boundary += " Hosted AI model providers (" + ", ".join(providers) + ") are third parties outside the boundary; the company's vendor controls cover them."
    characteristics: dict[str, Any] = {
        "system-ids": [{"identifier-type": "https://ietf.org/rfc/rfc4122", "id": _uuid("system", company.name)}],
        "system-name": _line(company.name),
        "description": description,
        "props": sys_props,
        "security-sensitivity-level": _sensitivity(list(profile.data.types)),
        "system-information": {"information-types": info_types},
        "status": {"state": "operational"},
        "authorization-boundary": {"description": boundary},
    }
    if not sys_props:
        del characteristics["props"]
    this_system = {"uuid": _uuid("component", "this-system"), "type": "this-system", "title": name,
                   "description": f"The system described by this plan: {system_names}.", "status": {"state": "operational"}}
    sys_components = [this_system] + [{"uuid": c.uuid, "type": c.type, "title": c.title, "description": c.description, "purpose": c.purpose,
                                       **({"props": c.props} if c.props else {}), "status": {"state": "operational"}} for c in comps]
    users = [{"uuid": _uuid("user", key), "title": title, "props": [_prop("type", "internal", ns=None)], "role-ids": [key]}
             for key, (title, _) in vocab.ROLES.items()]
    carriers: dict[str, list[Component]] = {}
    for c in comps:
        for cid in c.controls:
            carriers.setdefault(cid, []).append(c)
    requirements = []
    for v in (v for v in views if v.applicable):
        text = texts[v.id].text("statement", profile)
        req: dict[str, Any] = {"uuid": _uuid("ssp-requirement", v.id), "control-id": oscal_id(v.id), "props": [_prop("frequency", v.frequency)]}
        status = statuses.get(v.id) if statuses is not None else None
        impl: dict[str, Any] | None = None
        if status is not None:
            req["props"] += [_prop("implementation-status", STATUS_STATE[status.status]), _prop("assessment-status", status.status)]
            if status.target_date:
                req["props"].append(_prop("target-date", status.target_date.isoformat()))
            impl = {"state": STATUS_STATE[status.status]}
            notes = " ".join(x for x in (status.justification, status.notes) if x)
            if notes:
                impl["remarks"] = _md(notes)
        req["responsible-roles"] = [{"role-id": v.control.owner}]
        by = []
        for c in carriers.get(v.id, []):
            entry: dict[str, Any] = {"component-uuid": c.uuid, "uuid": _uuid("by-component", v.id, c.key), "description": text}
            if impl is not None:
                entry["implementation-status"] = impl
            by.append(entry)
        if by:
            req["by-components"] = by
        requirements.append(req)
    body = {
        "metadata": _metadata(f"{name}: system security plan", last_modified, profile.documents.version,
                              roles=_roles(), parties=parties, responsible_parties=responsible),
        "import-profile": {"href": FILES["profile"]},
        "system-characteristics": characteristics,
        "system-implementation": {"users": users, "components": sys_components},
        "control-implementation": {
            "description": f"How {name} operates each applicable soc2kit control, as its policies state it" + ("; statuses from assessment.yaml." if statuses is not None else "."),
            "implemented-requirements": requirements,
        },
        "back-matter": _back_matter(),
    }
    return _finish("system-security-plan", body)


# --- the export ---------------------------------------------------------------------------------

@dataclass
class OscalExport:
    out_dir: Path
    files: list[str]
    counts: dict[str, int]
    last_modified: str

    def as_dict(self) -> dict[str, Any]:
        return {"out_dir": str(self.out_dir), "files": [str(self.out_dir / f) for f in self.files], "counts": self.counts,
                "last_modified": self.last_modified, "oscal_version": OSCAL_VERSION}


def build_documents(catalog: Catalog, profile: Profile, views: list[ControlView], statuses: dict[str, Any] | None, last_modified: str) -> dict[str, dict[str, Any]]:
    """The four documents by file name, each validated (a failure raises OscalValidationError: a bug)."""
    texts = render_control_texts(catalog, profile)
    comps = components(profile, views)
    docs = {
        FILES["catalog"]: build_catalog(catalog, texts, last_modified),
        FILES["profile"]: build_profile(profile, views, texts, last_modified),
        FILES["component-definition"]: build_component_definition(profile, views, texts, comps, last_modified),
        FILES["system-security-plan"]: build_ssp(profile, views, texts, comps, statuses, last_modified),
    }
    for doc in docs.values():
        validate(doc)
    return docs


def last_modified_of(ws: Any, date: dt.datetime | dt.date | None = None) -> str:
    """``--date``, else SOURCE_DATE_EPOCH, else the newest of the profile, assessment and kit state."""
    if isinstance(date, dt.datetime):
        return _stamp(date if date.tzinfo else date.replace(tzinfo=dt.UTC))
    if isinstance(date, dt.date):
        return _stamp(dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC))
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return _stamp(dt.datetime.fromtimestamp(int(epoch), dt.UTC))
    from soc2kit.assess.assessment import ASSESSMENT_FILE

    times = [p.stat().st_mtime for p in (ws.profile_path, ws.root / ASSESSMENT_FILE, ws.state_dir / "state.json") if p.exists()]
    return _stamp(dt.datetime.fromtimestamp(max(times), dt.UTC))


def parse_date(value: str) -> dt.datetime:
    """``YYYY-MM-DD`` (midnight UTC) or an ISO 8601 date-time (UTC when no offset is given)."""
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            d = dt.date.fromisoformat(text)
            return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(f"--date {value!r} is not a date", hint="use YYYY-MM-DD or an ISO 8601 date-time such as 2027-01-31T12:00:00Z") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    if not 1900 <= moment.astimezone(dt.UTC).year <= 2999:
        raise UsageError(f"--date {value!r} is out of range", hint="use a year between 1900 and 2999")
    return moment


def resolve_out_dir(ws: Any, out: Path | None) -> Path:
    target = out if out is not None else ws.root / "dist" / "oscal"
    target = (target if target.is_absolute() else Path.cwd() / target).resolve()
    if target.exists():
        if not target.is_dir():
            raise UsageError("the output path exists and is not a directory", location=Location(target), hint="choose another --out")
        if any(target.iterdir()) and not (target / MARKER).exists():
            raise UsageError("the output directory is not empty and was not made by `soc2kit export oscal`; refusing to replace it",
                             location=Location(target), hint="choose an empty or new directory with --out")
    if target == ws.root or target in ws.root.parents:
        raise UsageError("the output directory cannot be the workspace or one of its parents", location=Location(target), hint="choose another --out")
    if target == ws.policies_dir or ws.policies_dir in target.parents or target == ws.state_dir or ws.state_dir in target.parents:
        raise UsageError("the output directory cannot be inside policies/ or .soc2kit/", location=Location(target), hint="choose another --out")
    return target


def workspace_documents(ws: Any, *, date: dt.datetime | dt.date | None = None) -> tuple[dict[str, dict[str, Any]], str]:
    """The four validated documents for a workspace, and their last-modified stamp (nothing written)."""
    from soc2kit.assess.assessment import Assessment
    from soc2kit.library import load_catalog
    from soc2kit.render.selection import select_controls

    catalog = load_catalog()
    views = select_controls(catalog, ws.profile, build_context(ws.profile), cache_dir=ws.state_dir / "cache")
    assessment = Assessment.load(ws.root)
    statuses = {v.id: assessment.get(v.id) for v in views} if assessment.path.exists() else None
    stamp = last_modified_of(ws, date)
    return build_documents(catalog, ws.profile, views, statuses, stamp), stamp


def document_bytes(docs: dict[str, dict[str, Any]]) -> dict[str, bytes]:
    return {name: (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode() for name, doc in docs.items()}


def export_oscal(ws: Any, out: Path | None = None, *, date: dt.datetime | dt.date | None = None) -> OscalExport:
    """Build, validate and write the four documents into ``out`` (default ``WORKSPACE/dist/oscal``)."""
    out_dir = resolve_out_dir(ws, out)
    docs, stamp = workspace_documents(ws, date=date)
    files = document_bytes(docs)
    files[MARKER] = f"written by soc2kit {__version__} (`soc2kit export oscal`); the whole directory is replaced on the next export\n".encode()
    with staging_dir(out_dir) as staged:
        write_tree(staged, files)
        swap_in(staged, out_dir)
    counts = summarize(docs)
    return OscalExport(out_dir, list(docs), counts, stamp)


def summarize(docs: dict[str, dict[str, Any]]) -> dict[str, int]:
    cat = docs[FILES["catalog"]]["catalog"]
    prof = docs[FILES["profile"]]["profile"]
    comp = docs[FILES["component-definition"]]["component-definition"]
    ssp = docs[FILES["system-security-plan"]]["system-security-plan"]
    return {
        "catalog_groups": len(cat["groups"]),
        "catalog_controls": sum(len(g["controls"]) for g in cat["groups"]),
        "profile_controls": sum(len(s.get("with-ids", [])) for i in prof["imports"] for s in i.get("include-controls", [])),
        "profile_parameters": len(prof.get("modify", {}).get("set-parameters", [])),
        "components": len(comp.get("components", [])),
        "component_requirements": sum(len(ci["implemented-requirements"]) for c in comp.get("components", []) for ci in c.get("control-implementations", [])),
        "ssp_requirements": len(ssp["control-implementation"]["implemented-requirements"]),
    }
