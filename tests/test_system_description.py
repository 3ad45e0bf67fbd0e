"""`soc2kit export system-description`: the draft SOC 2 system description.

The golden copy (tests/golden/system-description-llm-startup.md) is refreshed only with
SOC2KIT_UPDATE_GOLDEN=1 (`make golden`); read the diff before committing it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import importlib.util
import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soc2kit.errors import UsageError
from soc2kit.export.system_description import (
    SECTIONS,
    default_complementary_controls,
    register_vendors,
    render_system_description,
    subservice_organizations,
    to_complete,
    to_html,
)
from soc2kit.library import load_catalog
from soc2kit.profile import parse_profile_text, vocab
from soc2kit.render.environment import escape_markdown
from soc2kit.workspace import Workspace
from soc2kit.workspace.init import example_names, example_text
from test_language import CLAIMS

GOLDEN = Path(__file__).parent / "golden" / "system-description-llm-startup.md"
TODAY = dt.date(2026, 11, 27)
UPDATE = os.environ.get("SOC2KIT_UPDATE_GOLDEN") == "1"
COMPONENTS = ("3.1 Infrastructure", "3.2 Software", "3.3 People", "3.4 Data", "3.5 Procedures")


def profile_of(example: str):
    return parse_profile_text(example_text(example))


def render(profile, **kw):
    return render_system_description(profile, today=TODAY, **kw)


def section(markdown: str, heading: str) -> str:
    """The text under a heading, up to the next heading of the same or a higher level."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip("#").strip() == heading)
    level = len(lines[start]) - len(lines[start].lstrip("#"))
    end = next((j for j in range(start + 1, len(lines)) if lines[j].startswith("#") and len(lines[j]) - len(lines[j].lstrip("#")) <= level), len(lines))
    return "\n".join(lines[start:end])


def minimal_profile(**extra: str):
    text = "company:\n  name: Tiny Co\n  employees: 3\n" + "".join(extra.values())
    return parse_profile_text(text)


# --- every example -------------------------------------------------------------------------------


@pytest.mark.parametrize("example", example_names())
def test_every_section_an_auditor_expects_is_present_in_order(example):
    desc = render(profile_of(example))
    assert desc.sections == list(SECTIONS)
    headings = [line.lstrip("#").strip() for line in desc.markdown.splitlines() if line.startswith("###")]
    for part in COMPONENTS + ("5.1 Control environment", "5.2 Risk assessment", "5.3 Information and communication", "5.4 Monitoring activities"):
        assert part in headings, part


@pytest.mark.parametrize("example", example_names())
def test_the_profile_fills_the_description(example):
    profile = profile_of(example)
    text = render(profile).markdown
    assert text.startswith(f"# System description: {escape_markdown(profile.company.name)}\n")
    for system in profile.scope.systems:
        assert escape_markdown(system.name) in section(text, "1.2 Services provided")
    for key in profile.cloud:
        assert vocab.label(vocab.CLOUDS, key) in text
    for provider in profile.ai.model_providers:
        assert "### 7." in text and re.search(rf"^### 7\.\d+ {re.escape(provider)}$", text, re.M), provider
    for data_type in profile.data.types:
        label = vocab.label(vocab.DATA_TYPES, data_type)
        assert (label[:1].upper() + label[1:]) in section(text, "3.4 Data")
    people = section(text, "3.3 People")
    for key in vocab.ROLES:
        assert escape_markdown(getattr(profile.roles, key)) in people
    for category in profile.scope.tsc:
        assert vocab.label(vocab.TSC_CATEGORIES, category) in section(text, "6. Trust services criteria and related controls")
    # parameters the policies commit to appear as numbers
    assert f"within {profile.parameters.customer_breach_notice_hours} hours" in section(text, "2.1 Security")


@pytest.mark.parametrize("example", example_names())
def test_controls_are_tabled_for_every_in_scope_criterion(example):
    profile = profile_of(example)
    catalog = load_catalog()
    text = section(render(profile, catalog=catalog).markdown, "6. Trust services criteria and related controls")
    in_scope = [c for c in catalog.criteria.values() if c.category in profile.scope.tsc]
    for crit in in_scope:
        assert re.search(rf"^\| \*\*{re.escape(crit.id)}\*\* ", text, re.M), crit.id
    out_of_scope = [c.id for c in catalog.criteria.values() if c.category not in profile.scope.tsc]
    assert not any(re.search(rf"^\| \*\*{re.escape(cid)}\*\* ", text, re.M) for cid in out_of_scope)
    assert "**AC-05** Periodic user access reviews" in text
    if not profile.ai.trains_models:
        assert "TRD-01" not in text  # not applicable, so not listed


@pytest.mark.parametrize("example", example_names())
def test_no_template_syntax_and_no_compliance_claims(example):
    desc = render(profile_of(example))
    html = to_html(desc)
    for text in (desc.markdown, html):
        assert "{{" not in text and "{%" not in text and "{#" not in text
        assert [m.group(0) for m in CLAIMS.finditer(text)] == []


@pytest.mark.parametrize("example", example_names())
def test_places_to_complete_are_listed_counted_and_specific(example):
    desc = render(profile_of(example))
    text = desc.markdown
    raw = re.findall(r"(?<!\\)\[TO COMPLETE: ", text)
    assert len(desc.to_complete) == len(raw) >= 15
    instructions = [t.instruction for t in desc.to_complete]
    assert len(set(instructions)) == len(instructions), "each place has its own instruction"
    lines = text.splitlines()
    for item in desc.to_complete:
        assert f"[TO COMPLETE: {item.instruction}]" in lines[item.line - 1]
        assert item.section and len(item.instruction.split()) >= 5
    by_section = {t.section for t in desc.to_complete}
    assert {"9. System incidents during the period", "10. Significant changes during the period", "1.3 Boundaries of the system"} <= by_section
    assert desc.summary()["to_complete_count"] == len(desc.to_complete)


# --- fitting the company ---------------------------------------------------------------------------


def test_healthtech_speaks_of_phi_and_hipaa():
    text = render(profile_of("healthtech")).markdown
    assert "HIPAA" in section(text, "1.4 Regulatory context")
    assert "business associate agreement" in section(text, "2.1 Security")
    assert "Protected health information (PHI)" in section(text, "3.4 Data")
    assert "protected health information is de-identified before it enters a training dataset" in text
    cuecs = section(text, "8. Complementary user entity controls")
    assert "protected health information only after a business associate agreement" in cuecs


def test_a_company_without_phi_asks_customers_not_to_send_it():
    text = render(profile_of("llm-startup")).markdown
    assert "HIPAA" not in text and "business associate" not in text
    assert "customers do not submit protected health information (PHI)" in section(text, "8. Complementary user entity controls")


@pytest.mark.parametrize("example", ["healthtech", "genai-platform"])
def test_a_company_that_trains_models_gets_the_training_data_flow(example):
    text = render(profile_of(example)).markdown
    flow = section(text, "Training data flow")
    for stage in ("Collection and permission", "Ingestion and de-identification", "Validation and versioning", "Training and evaluation",
                  "Model registry", "Production inference", "Retention and deletion"):
        assert f"**{stage}.**" in flow
    assert "opt-in permits it" in flow  # both examples use customer data with permission
    assert "**Models the company trains.**" in section(text, "4.2 Models")


def test_a_company_that_does_not_train_gets_no_training_data_flow():
    text = render(profile_of("llm-startup")).markdown
    assert "Training data flow" not in text and "training-data source register" not in text
    assert "**Models the company trains.**" not in text
    assert "Inference data flow" in text and "**Models from third-party providers.**" in text


def test_decision_support_and_automated_decisions_ask_for_the_oversight():
    health = section(render(profile_of("healthtech")).markdown, "4.3 Automated decisions and human oversight")
    assert "inform decisions that people take" in health and "who reviews model outputs" in health
    auto = profile_of("llm-startup").model_copy(update={"ai": profile_of("llm-startup").ai.model_copy(update={"automated_decisions": True})})
    text = section(render(auto).markdown, "4.3 Automated decisions and human oversight")
    assert "ask for a human to review" in text and "[TO COMPLETE: describe each decision" in text


def test_a_minimal_profile_marks_what_it_does_not_know():
    desc = render(minimal_profile())
    text = desc.markdown
    assert desc.sections == list(SECTIONS)
    instructions = " ".join(t.instruction for t in desc.to_complete)
    for wanted in ("first and last day of the examination period", "what the company does and for whom", "list each system in the scope",
                   "state where production runs", "name the person who holds the Security Officer role"):
        assert wanted in instructions, wanted
    assert "records no use of AI" in text
    assert "Inference data flow" not in text and "Training data flow" not in text
    assert "The profile records no cloud or model providers." in text


# --- subservice organizations ----------------------------------------------------------------------


def test_subservice_organizations_from_the_profile():
    profile = profile_of("llm-startup")
    orgs = subservice_organizations(profile)
    assert [(o["name"], o["kind"], o["carve_out"], o["source"]) for o in orgs] == [
        ("Amazon Web Services (AWS)", "cloud", True, "profile"), ("OpenAI", "ai_model", True, "profile"), ("Anthropic", "ai_model", True, "profile")]
    cloud, ai = orgs[0]["expected_controls"], orgs[1]["expected_controls"]
    assert orgs[0]["company_controls"] == [] == orgs[1]["company_controls"]
    assert cloud != ai
    assert any("physical access to the data centres" in c for c in cloud) and not any("physical" in c for c in ai)
    assert any("train or improve its models" in c for c in ai) and not any("train" in c for c in cloud)
    assert any("retention period" in c for c in ai)
    assert any("48 hours" in c for c in ai) and any("48 hours" in c for c in cloud)  # vendor_breach_notice_hours
    assert any("model deprecations" in c for c in ai)
    # a company-operated data centre is part of the system, not a subservice organization
    on_prem = parse_profile_text("company: {name: X, employees: 5}\ncloud: [on_prem, gcp]\n")
    assert [o["name"] for o in subservice_organizations(on_prem)] == ["Google Cloud (GCP)"]


def test_rendered_csocs_differ_between_cloud_and_model_providers():
    text = render(profile_of("llm-startup")).markdown
    aws = section(text, "7.1 Amazon Web Services (AWS)")
    openai = section(text, "7.2 OpenAI")
    assert "Cloud infrastructure provider" in aws and "AI model provider" in openai
    assert "Restricts physical access" in aws and "Restricts physical access" not in openai
    assert "Does not use the prompts, files and outputs" in openai and "Does not use the prompts" not in aws
    assert "Carve-out" in aws and "Carve-out" in openai


def test_model_provider_csocs_follow_the_profile():
    genai = profile_of("genai-platform")  # trains, EU and US, availability in scope
    ai = default_complementary_controls(genai, "ai_model")
    assert any("fine-tuning data" in c for c in ai) and any("EU, US" in c for c in ai) and any("availability commitment" in c for c in ai)
    phi = parse_profile_text("company: {name: X, employees: 5}\nai: {uses_third_party_models: true, model_providers: [P]}\ndata: {types: [phi]}\n")
    assert any("business associate agreement" in c for c in default_complementary_controls(phi, "ai_model"))


def test_a_vendor_register_enriches_and_extends_the_list():
    profile = profile_of("llm-startup")
    vendors = [  # complementary_controls: what the company runs for the vendor (the register's meaning)
        {"name": "AWS", "service": "EC2, S3 and RDS in us-east-1", "kind": "cloud", "carve_out": True, "complementary_controls": []},
        {"name": "openai", "service": "", "kind": "ai_model", "carve_out": True, "complementary_controls": ["Zero data retention verified each quarter."]},
        {"name": "Okta", "service": "Workforce identity provider", "kind": "other", "carve_out": False, "complementary_controls": [],
         "expected_controls": ["Keeps the identity service available and notifies admins of incidents."]},
    ]
    orgs = subservice_organizations(profile, vendors)
    assert [o["name"] for o in orgs] == ["AWS", "openai", "Anthropic", "Okta"]
    aws, openai, anthropic, okta = orgs
    assert aws["service"] == "EC2, S3 and RDS in us-east-1" and aws["expected_controls"] == default_complementary_controls(profile, "cloud")
    assert openai["company_controls"] == ["Zero data retention verified each quarter."] and "Hosted model APIs" in openai["service"]
    assert openai["expected_controls"] == default_complementary_controls(profile, "ai_model")
    assert okta["expected_controls"] == ["Keeps the identity service available and notifies admins of incidents."]
    assert anthropic["source"] == "profile" and okta["source"] == "vendors"
    text = render(profile, vendors=vendors).markdown
    openai_section = section(text, "7.2 openai")
    assert "Controls Quillnote AI, Inc. runs for openai (from the vendor register):\n\n- Zero data retention verified each quarter." in openai_section
    assert "Controls expected of openai (complementary subservice organization controls):" in openai_section
    assert "runs for" not in section(text, "7.1 AWS")
    okta_section = section(text, "7.4 Okta")
    assert "Not marked as carve-out" in okta_section and "[TO COMPLETE: confirm with your auditor whether Okta is presented with the inclusive method" in okta_section


@pytest.mark.parametrize("bad, message", [
    (["AWS"], "not a mapping"),
    ([{"name": "X", "kind": "cloud", "colour": "red"}], "unknown keys: colour"),
    ([{"name": "", "kind": "cloud"}], "has no name"),
    ([{"name": "X", "kind": "saas"}], "kind 'saas'"),
    ([{"name": "X", "kind": "cloud", "carve_out": "yes"}], "carve_out must be true or false"),
    ([{"name": "X", "kind": "cloud", "complementary_controls": "encrypts data"}], "must be a list"),
])
def test_bad_vendor_entries_are_user_errors(bad, message):
    with pytest.raises(UsageError, match=message):
        subservice_organizations(profile_of("llm-startup"), bad)


def test_without_a_vendor_register_the_profile_is_used(workspace):
    ws = Workspace.open(workspace("llm-startup"))
    assert register_vendors(ws) is None


# --- hostile text ----------------------------------------------------------------------------------

HOSTILE = "{{ 7*7 }} {% if true %}x{% endif %} <script>alert(1)</script> [TO COMPLETE: fake] *bold* | pipe"


def hostile_profile():
    text = example_text("llm-startup")
    text = text.replace("name: Quillnote AI, Inc.", f"name: {json.dumps(HOSTILE)}")
    text = text.replace("name: LLM gateway", f"name: {json.dumps(HOSTILE)}")
    text = text.replace("model_providers: [OpenAI, Anthropic]", f"model_providers: [OpenAI, {json.dumps(HOSTILE)}]")
    text = text.replace("ceo: Dana Whitfield, CEO", f"ceo: {json.dumps(HOSTILE)}")
    return parse_profile_text(text)


def test_hostile_profile_strings_are_escaped_not_executed():
    baseline = render(profile_of("llm-startup"))
    desc = render(hostile_profile())
    text = desc.markdown
    assert "\\{\\{ 7\\*7 \\}\\}" in text and "\\{% if true %\\}x\\{% endif %\\}" in text
    assert "<script>" not in text and "\\<script\\>" in text
    assert "\\[TO COMPLETE: fake\\]" in text
    # the marker typed into the profile is not counted: the same places as the example
    assert len(desc.to_complete) == len(baseline.to_complete)
    assert not any("fake" == t.instruction for t in desc.to_complete)
    html = to_html(desc)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html  # shown literally


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)
       .filter(lambda s: s.strip() and s.strip().casefold() not in {"aws", "amazon web services", "amazon web services (aws)", "openai", "anthropic"}))
def test_any_vendor_name_adds_exactly_its_own_place_to_complete(name):
    profile = profile_of("llm-startup")
    base = len(render(profile).to_complete)
    vendor = {"name": name, "service": "Support desk", "kind": "other", "carve_out": True, "expected_controls": ["Keeps tickets confidential."]}
    desc = render(profile, vendors=[vendor])
    assert len(desc.to_complete) == base + 1  # its assurance report
    assert escape_markdown(name.strip()) in desc.markdown
    assert "{{" not in desc.markdown.replace(escape_markdown(name.strip()), "")


def test_to_complete_ignores_escaped_markers_and_keeps_sections():
    text = "# T\n\n## 1. A\n\nSee \\[TO COMPLETE: no\\].\n\n### 1.1 B\n\nx [TO COMPLETE: first thing] y [TO COMPLETE: second thing]\n"
    found = to_complete(text)
    assert [(t.section, t.instruction, t.line) for t in found] == [("1.1 B", "first thing", 9), ("1.1 B", "second thing", 9)]


# --- the command ---------------------------------------------------------------------------------


def test_command_writes_the_draft_and_lists_the_places_to_complete(cli, workspace):
    root = workspace("healthtech")
    r = cli("-w", root, "export", "system-description")
    assert r.code == 0, r.err
    path = root / "dist" / "system-description.md"
    text = path.read_text()
    assert str(path) in r.out
    count = len(re.findall(r"(?<!\\)\[TO COMPLETE: ", text))
    assert f"{count} places to complete:" in r.out
    assert r.out.count("\n  line ") == count
    assert "Meridian Clinical AI" in text and "## 7. Subservice organizations" in text
    # unchanged since it was written: a second run replaces it
    assert cli("-w", root, "export", "system-description").code == 0


def test_command_json_has_sections_and_the_list(cli, workspace):
    root = workspace("llm-startup")
    r = cli("-w", root, "export", "system-description", "--format", "json", "--out", root / "sd.md")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["sections"] == list(SECTIONS) and data["format"] == "md" and data["path"] == str((root / "sd.md").resolve())
    assert data["to_complete_count"] == len(data["to_complete"]) > 0
    assert {"section", "instruction", "line"} == set(data["to_complete"][0])
    assert [o["kind"] for o in data["subservice_organizations"]] == ["cloud", "ai_model", "ai_model"]
    assert data["subservice_organizations"][1]["expected_controls"] and data["subservice_organizations"][1]["company_controls"] == []


def test_command_writes_html_by_suffix(cli, workspace):
    root = workspace("genai-platform")
    r = cli("-w", root, "export", "system-description", "--out", root / "out" / "sd.html")
    assert r.code == 0, r.err
    html = (root / "out" / "sd.html").read_text()
    assert html.startswith("<!doctype html>") and "<style>" in html and "table.table" in html  # the site's stylesheet, inlined
    assert '<h2 id="7-subservice-organizations">7. Subservice organizations</h2>' in html
    assert html.count('<mark class="to-complete">') >= 20
    assert "Northwind Generative Ltd." in html and "{{" not in html


def test_command_refuses_to_overwrite_an_edited_draft(cli, workspace):
    root = workspace("llm-startup")
    out = root / "system-description.md"
    assert cli("-w", root, "export", "system-description", "--out", out).code == 0
    edited = out.read_text().replace("[TO COMPLETE: name the support or security contact customers use to report incidents]", "security@quillnote.example")
    out.write_text(edited)
    r = cli("-w", root, "export", "system-description", "--out", out)
    assert r.code == 2 and "refusing to replace it" in r.err and "--force" in r.err and "Traceback" not in r.err
    assert out.read_text() == edited  # nothing lost
    assert cli("-w", root, "export", "system-description", "--out", out, "--force").code == 0
    assert "[TO COMPLETE: name the support or security contact" in out.read_text()


def test_command_rejects_unknown_suffixes_and_directories(cli, workspace):
    root = workspace("llm-startup")
    r = cli("-w", root, "export", "system-description", "--out", root / "sd.txt")
    assert r.code == 2 and "end --out with .md, .html or .docx" in r.err
    (root / "adir.md").mkdir()
    r = cli("-w", root, "export", "system-description", "--out", root / "adir.md")
    assert r.code == 2 and "is a directory" in r.err


def test_command_outside_a_workspace_is_a_user_error(cli, tmp_path):
    r = cli("-w", tmp_path, "export", "system-description")
    assert r.code == 2 and "not a soc2kit workspace" in r.err


def test_docx_is_written_when_the_word_module_exists_and_explained_when_not(cli, workspace):
    root = workspace("llm-startup")
    out = root / "sd.docx"
    r = cli("-w", root, "export", "system-description", "--out", out)
    if importlib.util.find_spec("soc2kit.render.word") is None:
        assert r.code == 2 and "DOCX output needs soc2kit.render.word" in r.err and not out.exists()
        return
    assert r.code == 0, r.err
    import docx

    document = docx.Document(str(out))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "7. Subservice organizations" in headings and document.tables


# --- golden ----------------------------------------------------------------------------------------


def test_llm_startup_renders_its_golden_description():
    actual = render(profile_of("llm-startup")).markdown
    if UPDATE:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(actual)
        return
    assert GOLDEN.exists(), "no golden system description: run `make golden` and review the result"
    expected = GOLDEN.read_text()
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), "golden", "rendered", n=1))
        pytest.fail(f"the llm-startup system description differs from its golden copy (refresh with `make golden` if intended):\n{diff[:4000]}")


def test_unnamed_providers_are_places_to_complete():
    profile = parse_profile_text("company: {name: X, employees: 5}\ncloud: [other]\nai: {uses_third_party_models: true}\n")
    desc = render(profile)
    assert [o["name"] for o in subservice_organizations(profile)] == ["Other hosting provider"]
    by_section = {(t.section, t.instruction.split(",")[0]) for t in desc.to_complete}
    assert ("7.1 Other hosting provider", "name the hosting provider recorded as other in the profile and the services used from it") in by_section
    assert any(t.instruction.startswith("name each provider of hosted models") for t in desc.to_complete)


def test_the_auditor_package_gets_the_draft_without_writing_a_file(workspace):
    from soc2kit.export.system_description import package_files

    ws = Workspace.open(workspace("healthtech"))
    files = package_files(ws, today=TODAY)
    assert list(files) == ["system-description.md"]
    assert files["system-description.md"].decode().startswith("# System description: Meridian Clinical AI, Inc.")
    assert not (ws.root / "dist" / "system-description.md").exists()


def test_the_vendor_register_feeds_the_command(cli, workspace):
    pytest.importorskip("soc2kit.vendors.feeds")
    root = workspace("llm-startup")
    (root / "vendors.yaml").write_text((Path(__file__).parent / "data" / "vendors" / "vendors.yaml").read_text())
    r = cli("-w", root, "export", "system-description", "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["vendor_register"] is True
    names = [o["name"] for o in data["subservice_organizations"]]
    assert names.count("Amazon Web Services") == 1 and "Amazon Web Services (AWS)" not in names  # the register's name replaces the profile's
    aws = next(o for o in data["subservice_organizations"] if o["name"] == "Amazon Web Services")
    assert aws["source"] == "vendors" and aws["company_controls"] and aws["expected_controls"]
    text = (root / "dist" / "system-description.md").read_text()
    assert "Controls Quillnote AI, Inc. runs for Amazon Web Services (from the vendor register):" in text
