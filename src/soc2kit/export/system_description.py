"""``soc2kit export system-description``: a draft SOC 2 system description for the company.

The draft is rendered from ``content/system-description/system-description.md.j2`` in the sandboxed
Markdown environment (profile values are escaped data, never template source) with the kit's usual
context plus what a description needs on top: the subservice organizations and the complementary
controls expected of them, the applicable controls by criterion, and the policies by title.

Places the company must complete are written in the template as ``[TO COMPLETE: instruction]``;
:func:`to_complete` finds them in the rendered text (a marker typed into the profile is escaped
and is therefore never counted), so the count the command prints is always the count in the file.

Subservice organizations come from the profile (cloud providers and hosted-model providers) and can
be enriched by a vendor register: :func:`subservice_organizations` takes a plain list of dicts
``{name, service, kind, carve_out, complementary_controls}`` (``kind`` is ``cloud``, ``ai_model`` or
``other``), the shape ``soc2kit.vendors`` produces for the description. As the register defines it,
``complementary_controls`` are the controls the company itself runs for that organization; the
controls expected *of* the organization (complementary subservice organization controls) come from
the kit by kind, or from an optional ``expected_controls`` list.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SecurityError
from markupsafe import Markup

from soc2kit import __version__
from soc2kit._fs import atomic_write_bytes, atomic_write_text
from soc2kit.errors import Location, RenderError, UsageError
from soc2kit.library import load_catalog
from soc2kit.library.models import Catalog
from soc2kit.profile import vocab
from soc2kit.profile.schema import Profile
from soc2kit.render.context import build_context, with_policy_set
from soc2kit.render.environment import escape_markdown, html_env, markdown_env
from soc2kit.render.policies import template_tidy
from soc2kit.render.selection import select_controls

CONTENT = Path(__file__).resolve().parent.parent / "content" / "system-description"
TEMPLATE = "system-description.md.j2"
HTML_LAYOUT = "system-description.html.j2"
STYLESHEET = Path(__file__).resolve().parent.parent / "render" / "assets" / "style.css"

#: The marker a company must replace. Instructions never contain "]".
MARKER = "TO COMPLETE"
MARKER_RE = re.compile(r"(?<!\\)\[TO COMPLETE: ([^\]\n]+)\]")

#: Top-level sections every description has, in order (the tests check each example against it).
SECTIONS: tuple[str, ...] = (
    "1. Overview of operations and services provided",
    "2. Principal service commitments and system requirements",
    "3. Components of the system",
    "4. AI systems and models",
    "5. Control environment, risk assessment, information and communication, and monitoring",
    "6. Trust services criteria and related controls",
    "7. Subservice organizations",
    "8. Complementary user entity controls",
    "9. System incidents during the period",
    "10. Significant changes during the period",
)

KINDS = ("cloud", "ai_model", "other")
KIND_LABELS = {"cloud": "Cloud infrastructure provider", "ai_model": "AI model provider", "other": "Other subservice organization"}
VENDOR_KEYS = {"name", "service", "kind", "carve_out", "complementary_controls", "expected_controls"}
FORMATS = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".docx": "docx"}
DIGESTS_FILE = "system-description.json"


# --- subservice organizations ----------------------------------------------------------------


def _hours(n: int) -> str:
    return f"{n} hour" if n == 1 else f"{n} hours"


def _cloud_controls(profile: Profile) -> list[str]:
    p = profile.parameters
    items = [
        "Restricts physical access to the data centres that host the company's systems to authorized provider staff, "
        "reviews that access, and protects the facilities against fire, flooding and loss of power.",
        "Wipes or destroys storage media that held company data before the media leave its control.",
        "Patches and hardens the hardware, hypervisor and managed-service layers it operates, and keeps each customer's "
        "environment logically separated from other tenants.",
        "Limits its own staff's access to customer environments and data to approved support and operations tasks, and logs that access.",
        "Operates the encryption and key management services the company configures as documented, so that keys stay under the company's control.",
    ]
    if "availability" in profile.scope.tsc:
        items.append("Runs the redundant infrastructure behind the availability zones and regions the company uses, meets the "
                     "availability commitments of the services used, and posts service disruptions on its status page.")
    if profile.data.residency:
        items.append(f"Stores and processes company data only in the regions the company selects ({', '.join(profile.data.residency)}).")
    items.append(f"Notifies the company of a security incident affecting company data within {_hours(p.vendor_breach_notice_hours)} "
                 "of confirming it, as the Vendor Management Policy requires of vendors.")
    items.append("Makes an independent assurance report on these controls (such as a SOC 2 Type II report) available to the company each year.")
    return items


def _ai_model_controls(profile: Profile) -> list[str]:
    p = profile.parameters
    trains = profile.ai.trains_models
    sent = "prompts, files, outputs and fine-tuning data" if trains else "prompts, files and outputs"
    items = [
        f"Does not use the {sent} the company sends to train or improve its models, under the contract or enterprise terms the company relies on.",
        "Keeps prompts and outputs no longer than the retention period agreed with the company (zero data retention where agreed), "
        "including any copy kept for abuse monitoring, and deletes them at the end of it.",
        "Lets its staff read prompts and outputs only to investigate abuse or a support case the company opens, and logs that access.",
        "Keeps the company's data, stored files and conversations separate from other customers' and encrypts them in transit and at rest.",
    ]
    if trains:
        items.append("Keeps models fine-tuned for the company, and the data used to fine-tune them, usable only through the company's own accounts and keys.")
    if profile.data.residency:
        items.append(f"Processes the company's requests only in the regions agreed with the company ({', '.join(profile.data.residency)}).")
    if "phi" in profile.data.types or "hipaa" in profile.regulations:
        items.append("Receives protected health information only through the services named in a signed business associate agreement.")
    items.append("Announces model deprecations, model version changes and changes to its data-use terms in advance, so that the company can "
                 "re-evaluate the affected AI systems before the change takes effect.")
    if "availability" in profile.scope.tsc:
        items.append("Meets the availability commitment of its API and reports outages on its status page.")
    items.append(f"Notifies the company of a security incident affecting the company's data within {_hours(p.vendor_breach_notice_hours)} of confirming it.")
    return items


def _other_controls(profile: Profile) -> list[str]:
    p = profile.parameters
    return [
        "Protects the company data it receives with access restricted to authorized staff and encryption in transit and at rest.",
        f"Notifies the company of a security incident affecting company data within {_hours(p.vendor_breach_notice_hours)} of confirming it.",
        "Makes an independent assurance report on these controls available to the company each year.",
    ]


def default_complementary_controls(profile: Profile, kind: str) -> list[str]:
    """The complementary subservice organization controls the company expects of a provider of ``kind``."""
    if kind == "cloud":
        return _cloud_controls(profile)
    if kind == "ai_model":
        return _ai_model_controls(profile)
    return _other_controls(profile)


def _systems_phrase(profile: Profile) -> str:
    names = [s.name for s in profile.scope.systems]
    return ("the production systems (" + ", ".join(names) + ")") if names else "the production systems"


def _cloud_service(profile: Profile) -> str:
    regions = f" in the {', '.join(profile.data.residency)} region{'s' if len(profile.data.residency) > 1 else ''}" if profile.data.residency else ""
    return f"Hosting of {_systems_phrase(profile)}: compute, storage, networking and managed services{regions}."


def _ai_service(profile: Profile) -> str:
    services = ["text generation", "embeddings"]
    if "speech" in profile.ai.use_cases:
        services.append("speech")
    if "generative_media" in profile.ai.use_cases:
        services.append("image, audio and video generation")
    if profile.ai.trains_models:
        services.append("hosted fine-tuning")
    return f"Hosted model APIs ({', '.join(services)}) called from {_systems_phrase(profile)}."


def _from_profile(profile: Profile) -> list[dict[str, Any]]:
    orgs: list[dict[str, Any]] = []
    for key in profile.cloud:
        if key == "on_prem":
            continue  # company-operated: part of the system, not a subservice organization
        org = {"name": "Other hosting provider" if key == "other" else vocab.label(vocab.CLOUDS, key), "service": _cloud_service(profile), "kind": "cloud", "carve_out": True,
               "expected_controls": _cloud_controls(profile), "company_controls": [], "source": "profile", "name_to_complete": key == "other", "cloud_key": key}
        orgs.append(org)
    if profile.ai.uses_third_party_models:
        for name in profile.ai.model_providers:
            orgs.append({"name": name, "service": _ai_service(profile), "kind": "ai_model", "carve_out": True,
                         "expected_controls": _ai_model_controls(profile), "company_controls": [], "source": "profile", "name_to_complete": False})
    return orgs


def _check_vendor(index: int, entry: Any) -> dict[str, Any]:
    where = Location(key=f"vendors[{index}]")
    if not isinstance(entry, Mapping):
        raise UsageError(f"subservice organization {index + 1} is a {type(entry).__name__}, not a mapping", location=where,
                         hint="give each one as {name, service, kind, carve_out, complementary_controls}")
    unknown = sorted(set(entry) - VENDOR_KEYS)
    if unknown:
        raise UsageError(f"subservice organization {index + 1} has unknown keys: {', '.join(map(str, unknown))}", location=where,
                         hint=f"allowed keys: {', '.join(sorted(VENDOR_KEYS))}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise UsageError(f"subservice organization {index + 1} has no name", location=where, hint="give a non-empty string as name")
    kind = entry.get("kind", "other")
    if kind not in KINDS:
        raise UsageError(f"subservice organization {name!r} has kind {kind!r}", location=where, hint=f"choose from: {', '.join(KINDS)}")
    service = entry.get("service", "")
    if service is None:
        service = ""
    if not isinstance(service, str):
        raise UsageError(f"subservice organization {name!r}: service must be text", location=where)
    carve_out = entry.get("carve_out", True)
    if not isinstance(carve_out, bool):
        raise UsageError(f"subservice organization {name!r}: carve_out must be true or false", location=where)
    lists = {}
    for key in ("complementary_controls", "expected_controls"):
        controls = entry.get(key) or []
        if not isinstance(controls, list) or not all(isinstance(c, str) and c.strip() for c in controls):
            raise UsageError(f"subservice organization {name!r}: {key} must be a list of non-empty texts", location=where)
        lists[key] = [c.strip() for c in controls]
    return {"name": name.strip(), "service": service.strip(), "kind": kind, "carve_out": carve_out,
            "company_controls": lists["complementary_controls"], "expected_controls": lists["expected_controls"]}


def _aliases(org: dict[str, Any]) -> set[str]:
    """Names a register may use for a profile entry: "Amazon Web Services (AWS)" is also "AWS"."""
    names = {org["name"].casefold()}
    m = re.fullmatch(r"(.*?)\s*\((.*)\)", org["name"])
    if m:
        names |= {m.group(1).casefold(), m.group(2).casefold()}
    if org.get("cloud_key"):
        names.add(org["cloud_key"])
    return names


def subservice_organizations(profile: Profile, vendors: Iterable[Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The subservice organizations of the description, each a dict with ``name``, ``service``,
    ``kind`` (cloud/ai_model/other), ``carve_out``, ``expected_controls`` (the complementary
    subservice organization controls: what the company expects the organization to do),
    ``company_controls`` (what the company runs for it) and ``source`` ("profile" or "vendors").

    Without ``vendors`` the list is built from the profile: one entry per cloud provider (a
    company-operated data centre is part of the system, not a subservice organization) and one per
    hosted-model provider, with the kit's expected controls for its kind. ``vendors`` is a vendor
    register's list of ``{name, service, kind, carve_out, complementary_controls}`` dicts, where
    ``complementary_controls`` are the controls the company runs for that organization, and an
    optional ``expected_controls`` replaces the kit's expectations. An entry whose name matches a
    profile entry (case-insensitively; "AWS" matches "Amazon Web Services (AWS)") replaces it,
    keeping the profile's service text where the register has none; other entries are added.
    Invalid entries raise :class:`UsageError`.
    """
    orgs = _from_profile(profile)
    if vendors is None:
        return orgs
    for index, raw in enumerate(vendors):
        v = _check_vendor(index, raw)
        key = v["name"].casefold()
        at = next((i for i, o in enumerate(orgs) if key in _aliases(o)), None)
        base = orgs[at] if at is not None else None
        merged = {
            "name": v["name"],
            "service": v["service"] or (base["service"] if base else ""),
            "kind": v["kind"],
            "carve_out": v["carve_out"],
            "expected_controls": v["expected_controls"] or default_complementary_controls(profile, v["kind"]),
            "company_controls": v["company_controls"],
            "source": "vendors",
            "name_to_complete": False,
        }
        if at is not None:
            orgs[at] = merged
        else:
            orgs.append(merged)
    return orgs


# --- the controls by criterion ------------------------------------------------------------------


def criteria_rows(catalog: Catalog, profile: Profile, context: dict[str, Any], cache_dir: Path | None = None) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Applicable controls for each in-scope criterion, grouped by category; and the applicable
    AI governance controls that map to no criterion."""
    views = select_controls(catalog, profile, context, cache_dir=cache_dir)
    applicable = {v.id: v for v in views if v.applicable}
    categories = []
    for cat in profile.scope.tsc:
        rows = []
        for crit in (c for c in catalog.criteria.values() if c.category == cat):
            controls = [{"id": c.id, "title": c.title} for c in catalog.controls_for(crit.id) if c.id in applicable]
            rows.append({"id": crit.id, "title": crit.title, "controls": controls})
        categories.append({"key": cat, "label": vocab.label(vocab.TSC_CATEGORIES, cat), "rows": rows})
    unmapped = [{"id": v.id, "title": v.control.title} for v in applicable.values() if not v.control.criteria]
    return categories, unmapped


# --- rendering ----------------------------------------------------------------------------------


@dataclass
class ToComplete:
    section: str
    instruction: str
    line: int

    def as_dict(self) -> dict[str, Any]:
        return {"section": self.section, "instruction": self.instruction, "line": self.line}


@dataclass
class SystemDescription:
    markdown: str
    title: str
    company: str
    sections: list[str]
    to_complete: list[ToComplete] = field(default_factory=list)
    subservice: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "sections": self.sections,
            "to_complete_count": len(self.to_complete),
            "to_complete": [t.as_dict() for t in self.to_complete],
            "subservice_organizations": [{k: o[k] for k in ("name", "service", "kind", "carve_out", "expected_controls", "company_controls", "source")} for o in self.subservice],
        }


_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def sections(markdown: str) -> list[str]:
    """The level-2 headings (the description's sections), in order."""
    return [m.group(2) for line in markdown.splitlines() if (m := _HEADING.match(line)) and len(m.group(1)) == 2]


def to_complete(markdown: str) -> list[ToComplete]:
    """Every ``[TO COMPLETE: …]`` marker with the nearest heading above it and its line."""
    found: list[ToComplete] = []
    heading = ""
    for n, line in enumerate(markdown.splitlines(), 1):
        m = _HEADING.match(line)
        if m:
            heading = m.group(2).replace("\\", "")
        for mk in MARKER_RE.finditer(line):
            found.append(ToComplete(heading, mk.group(1).strip(), n))
    return found


def _policy_entries(catalog: Catalog, context: dict[str, Any], titles: Mapping[str, str] | None) -> list[dict[str, str]]:
    chosen = with_policy_set(context, catalog)["policy_set"]
    out = []
    for p in chosen:
        template = catalog.policies[p["id"]]
        title = (titles or {}).get(p["id"], p["title"])
        out.append({"id": p["id"], "title": title, "summary": template.summary})
    return out


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sentence(text: str) -> str:
    return _cap(text) + ("" if text.endswith(".") else ".")


def _template_line(exc: BaseException) -> int | None:
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(TEMPLATE):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render_system_description(
    profile: Profile,
    *,
    vendors: Iterable[Mapping[str, Any]] | None = None,
    policy_titles: Mapping[str, str] | None = None,
    catalog: Catalog | None = None,
    cache_dir: Path | None = None,
    today: dt.date | None = None,
    content_dir: Path | None = None,
) -> SystemDescription:
    """Render the draft description for ``profile``.

    ``policy_titles`` maps policy ids to the titles of the company's own documents (the workspace's
    ``policies/``), so the description names policies as the company calls them today.
    """
    catalog = catalog or load_catalog()
    today = today or dt.date.today()
    context = with_policy_set(build_context(profile), catalog)
    categories, unmapped = criteria_rows(catalog, profile, context, cache_dir)
    orgs = subservice_organizations(profile, vendors)
    policies = _policy_entries(catalog, context, policy_titles)
    ctx = {
        **context,
        "sd": {
            "today": today.isoformat(),
            "kit_version": __version__,
            "subservice": orgs,
            "kind_labels": KIND_LABELS,
            "categories": categories,
            "unmapped_controls": unmapped,
            "policies": policies,
            "policy": {p["id"]: p["title"] for p in policies},
            "period_days": profile.scope.observation_period.days if profile.scope.observation_period else None,
            "roles": [{"key": key, "title": title, "person": getattr(profile.roles, key), "duties": _sentence(duties)}
                      for key, (title, duties) in vocab.ROLES.items()],
            "data_types": [{"key": t, "label": _cap(vocab.DATA_TYPES[t][0]), "description": _sentence(vocab.DATA_TYPES[t][1])} for t in profile.data.types],
            "use_cases": [{"key": u, "label": _cap(vocab.USE_CASES[u][0]), "description": vocab.USE_CASES[u][1]} for u in profile.ai.use_cases],
        },
    }
    directory = content_dir or CONTENT
    env = markdown_env(loader=jinja2.FileSystemLoader(str(directory)))
    path = directory / TEMPLATE
    try:
        text = env.get_template(TEMPLATE).render(ctx)
    except jinja2.TemplateNotFound:
        raise RenderError("the system description template is missing", location=Location(path), hint="reinstall soc2kit") from None
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"template syntax error: {exc.message}", location=Location(path, exc.lineno)) from None
    except jinja2.UndefinedError as exc:
        raise RenderError(f"undefined template variable: {exc.message}", location=Location(path, _template_line(exc)),
                          hint="see docs/system-description.md for the variables the template may use") from None
    except SecurityError as exc:
        raise RenderError(f"unsafe template operation refused by the sandbox: {exc}", location=Location(path, _template_line(exc))) from None
    except jinja2.TemplateError as exc:
        raise RenderError(f"template error: {exc}", location=Location(path, _template_line(exc))) from None
    name = escape_markdown(profile.company.name)
    if name.endswith("."):  # "Acme, Inc." at the end of a sentence: one full stop, not two
        text = re.sub(re.escape(name) + r"\.(?=\s|$|\*)", lambda m: name, text)
    text = template_tidy(text)
    title = f"System description: {profile.company.name}"
    return SystemDescription(markdown=text, title=title, company=profile.company.name, sections=sections(text),
                             to_complete=to_complete(text), subservice=orgs)


def to_html(desc: SystemDescription) -> str:
    """A standalone HTML page (the site's stylesheet inlined); markers are highlighted."""
    from soc2kit.render.html import markdown_to_html

    body = markdown_to_html(desc.markdown)
    body = re.sub(r"\[TO COMPLETE: ([^\]<]+)\]", r'<mark class="to-complete">[TO COMPLETE: \1]</mark>', body)
    env = html_env(loader=jinja2.FileSystemLoader(str(CONTENT)))
    css = STYLESHEET.read_text(encoding="utf-8") if STYLESHEET.is_file() else ""
    return env.get_template(HTML_LAYOUT).render(
        title=desc.title, company=desc.company, css=Markup(css.replace("</", "<\\/")), body_html=Markup(body),  # noqa: S704 - escaped by markdown-it
        count=len(desc.to_complete), kit_version=__version__,
    )


def to_docx(desc: SystemDescription, today: dt.date | None = None) -> bytes:
    """DOCX through ``soc2kit.render.word`` (the policy DOCX writer: Word headings, lists, tables,
    company name in the header, page numbers). Raises UsageError when that module is absent."""
    try:
        from soc2kit.render import word  # type: ignore[attr-defined]
    except ImportError:
        word = None
    policy_docx = getattr(word, "policy_docx", None)
    if policy_docx is None:
        raise UsageError("DOCX output needs soc2kit.render.word, which this installation of soc2kit does not have",
                         hint="write Markdown or HTML instead: --out system-description.md or --out system-description.html")
    from soc2kit.render.documents import PolicyDocument

    meta = {"id": "system-description", "title": desc.title, "version": "draft", "status": "draft",
            "owner": vocab.label(vocab.ROLES, "security_officer"), "approver": vocab.label(vocab.ROLES, "ceo"),
            "effective_date": (today or dt.date.today()).isoformat(), "approved_by": "", "approved_on": ""}
    doc = PolicyDocument("system-description", Path("system-description.md"), meta, desc.markdown, 1)
    return bytes(policy_docx(doc, desc.company))


def output_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(f"unknown output type {path.suffix or '(no suffix)'!r} for {path.name}",
                         hint="end --out with .md, .html or .docx", location=Location(path))
    return fmt


def encode(desc: SystemDescription, fmt: str, today: dt.date | None = None) -> bytes:
    if fmt == "md":
        return desc.markdown.encode("utf-8")
    if fmt == "html":
        return to_html(desc).encode("utf-8")
    if fmt == "docx":
        return to_docx(desc, today)
    raise UsageError(f"unknown format {fmt!r}", hint="choose md, html or docx")


# --- writing without losing the company's edits ------------------------------------------------


def _digests_path(state_dir: Path) -> Path:
    return state_dir / DIGESTS_FILE


def _read_digests(state_dir: Path) -> dict[str, str]:
    try:
        data = json.loads(_digests_path(state_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def write_description(data: bytes, out: Path, state_dir: Path, *, force: bool = False) -> None:
    """Write ``data`` to ``out`` atomically. An existing file is replaced only when it is exactly
    what soc2kit last wrote there (the digests are kept in ``.soc2kit/system-description.json``) or
    with ``force``, so a draft the company has started editing is never overwritten by accident."""
    out = out.resolve()
    if out.exists() and out.is_dir():
        raise UsageError("the output path is a directory", location=Location(out), hint="give a file name, e.g. --out dist/system-description.md")
    digests = _read_digests(state_dir)
    key = str(out)
    if out.exists() and not force:
        current = hashlib.sha256(out.read_bytes()).hexdigest()
        if digests.get(key) != current:
            raise UsageError(
                "the output file exists and is not the draft soc2kit last wrote there (it may hold your edits); refusing to replace it",
                location=Location(out), hint="write to another file with --out, or pass --force to replace it",
            )
    atomic_write_bytes(out, data)
    digests[key] = hashlib.sha256(data).hexdigest()
    atomic_write_text(_digests_path(state_dir), json.dumps(digests, indent=1, sort_keys=True) + "\n")


# --- the operation the CLI calls ------------------------------------------------------------------


@dataclass
class ExportResult:
    path: Path
    format: str
    description: SystemDescription
    vendor_register: bool  #: subservice organizations were enriched from the vendor register

    def summary(self) -> dict[str, Any]:
        return {"path": str(self.path), "format": self.format, "vendor_register": self.vendor_register, **self.description.summary()}


def default_out(ws: Any) -> Path:
    return ws.root / "dist" / "system-description.md"


def register_vendors(ws: Any) -> list[dict[str, Any]] | None:
    """The vendor register's subservice organizations, or None when soc2kit has no vendor register
    module or the workspace has no register."""
    try:
        from soc2kit.vendors.feeds import vendors_for_system_description
    except ImportError:
        return None
    vendors = vendors_for_system_description(ws)
    return vendors or None


def workspace_policy_titles(ws: Any) -> dict[str, str]:
    """Policy id -> title of the company's own documents in ``policies/`` (empty if there are none)."""
    if not ws.policies_dir.is_dir():
        return {}
    from soc2kit.render.documents import read_policy_documents

    return {doc.id: doc.title for doc in read_policy_documents(ws.policies_dir) if doc.title}


def export_system_description(ws: Any, out: Path | None = None, *, force: bool = False, today: dt.date | None = None) -> ExportResult:
    """Render the draft for the workspace and write it to ``out`` (Markdown, HTML or DOCX by suffix;
    default ``dist/system-description.md``)."""
    target = out if out is not None else default_out(ws)
    target = (target if target.is_absolute() else Path.cwd() / target).resolve()
    fmt = output_format(target)
    vendors = register_vendors(ws)
    desc = render_system_description(ws.profile, vendors=vendors, policy_titles=workspace_policy_titles(ws),
                                     cache_dir=ws.state_dir / "cache", today=today)
    data = encode(desc, fmt, today)
    write_description(data, target, ws.state_dir, force=force)
    return ExportResult(target, fmt, desc, vendors is not None)


def package_files(ws: Any, *, today: dt.date | None = None) -> dict[str, bytes]:
    """The files the auditor package includes: the draft as rendered now (no file is written)."""
    desc = render_system_description(ws.profile, vendors=register_vendors(ws), policy_titles=workspace_policy_titles(ws),
                                     cache_dir=ws.state_dir / "cache", today=today)
    return {"system-description.md": desc.markdown.encode("utf-8")}
