"""`soc2kit export oscal`: every export validates against NIST's OSCAL 1.1.3 schemas, ids resolve,
re-exports are identical, and profile text stays data."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator, ValidationError, validators

from soc2kit.assess.assessment import Assessment
from soc2kit.export import oscal
from soc2kit.export.oscal_validate import SCHEMA_DIR, SCHEMAS, OscalValidationError, errors_of, validate
from soc2kit.library import load_catalog
from soc2kit.profile import parse_profile_text
from soc2kit.profile.schema import Profile
from soc2kit.render.context import build_context
from soc2kit.render.selection import select_controls
from soc2kit.workspace import Workspace
from soc2kit.workspace.init import example_names, example_text

REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "reference" / "oscal"
FILES = ("catalog.json", "profile.json", "component-definition.json", "ssp.json")
STAMP = "2027-01-31T00:00:00Z"
_UNESCAPE = re.compile(r"\\([\\`*_{}\[\]<>#|~&!])")


# --- an independent regex-backed validator (not the module's own) -------------------------------

def _regex_pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not regex.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_Validator = validators.extend(Draft7Validator, {"pattern": _regex_pattern})
_VALIDATORS: dict[str, object] = {}


def schema_errors(document: dict) -> list[str]:
    (kind,) = [k for k in document if k in SCHEMAS]
    if kind not in _VALIDATORS:
        _VALIDATORS[kind] = _Validator(json.loads((SCHEMA_DIR / SCHEMAS[kind]).read_text(encoding="utf-8")))
    return [f"{e.json_path}: {e.message}" for e in _VALIDATORS[kind].iter_errors(document)]


def _documents(profile: Profile, statuses=None) -> dict[str, dict]:
    catalog = load_catalog()
    views = select_controls(catalog, profile, build_context(profile))
    return oscal.build_documents(catalog, profile, views, statuses, STAMP)


@pytest.fixture(scope="module")
def example_docs() -> dict[str, dict[str, dict]]:
    return {name: _documents(parse_profile_text(example_text(name))) for name in example_names()}


# --- the bundled schemas -----------------------------------------------------------------------

def test_bundled_schemas_are_nists_files_unchanged():
    sums = (SCHEMA_DIR / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    listed = {}
    for line in sums:
        digest, name = line.split()
        listed[name] = digest
        assert hashlib.sha256((SCHEMA_DIR / name).read_bytes()).hexdigest() == digest, name
    assert sorted(listed) == sorted(SCHEMAS.values())
    if REFERENCE.is_dir():  # the shared reference copy, when this checkout has it
        for name in listed:
            assert (SCHEMA_DIR / name).read_bytes() == (REFERENCE / name).read_bytes(), name
    for name in listed:
        assert json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))["$id"].startswith("http://csrc.nist.gov/ns/oscal/1.1.3/")


def test_plain_re_cannot_compile_the_schema_patterns_so_the_regex_package_is_needed():
    schema = (SCHEMA_DIR / SCHEMAS["catalog"]).read_text(encoding="utf-8")
    token = json.loads(schema)["definitions"]["TokenDatatype"]["pattern"]
    assert "\\p{L}" in token
    with pytest.raises(re.error):
        re.compile(token)
    assert regex.search(token, "ac-05") and not regex.search(token, "5ac")


# --- every export of every example validates ---------------------------------------------------

@pytest.mark.parametrize("example", example_names())
def test_every_document_of_every_example_validates(example_docs, example):
    docs = example_docs[example]
    assert sorted(docs) == sorted(FILES)
    for name, doc in docs.items():
        assert schema_errors(doc) == [], name
        assert errors_of(doc) == [], name
        (body,) = doc.values()
        assert body["metadata"]["oscal-version"] == "1.1.3"
        assert body["metadata"]["last-modified"] == STAMP


@pytest.mark.parametrize("example", example_names())
def test_cli_export_writes_valid_files_and_reports_them(cli, workspace, tmp_path, example):
    root = workspace(example)
    res = cli("--workspace", root, "export", "oscal", "--format", "json", "--date", "2027-01-31")
    assert res.code == 0, res.err
    summary = json.loads(res.out)
    out = root / "dist" / "oscal"
    assert summary["files"] == [str(out / f) for f in FILES]
    for name in FILES:
        doc = json.loads((out / name).read_text(encoding="utf-8"))
        assert schema_errors(doc) == [], name
    ssp = json.loads((out / "ssp.json").read_text(encoding="utf-8"))["system-security-plan"]
    assert summary["counts"]["ssp_requirements"] == len(ssp["control-implementation"]["implemented-requirements"])
    assert summary["last_modified"] == STAMP


def test_cli_table_output_names_each_file_with_counts(cli, workspace, tmp_path):
    root = workspace()
    target = tmp_path / "oscal-out"
    res = cli("--workspace", root, "export", "oscal", "--out", target)
    assert res.code == 0, res.err
    for name in FILES:
        assert str(target / name) in res.out
    assert re.search(r"catalog\.json: \d+ controls in 17 groups", res.out)


# --- ids and cross-references ------------------------------------------------------------------

def _walk(node, key=None):
    if isinstance(node, dict):
        for k, v in node.items():
            yield k, v
            yield from _walk(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, key)


def _uuids(doc) -> list[str]:
    return [v for k, v in _walk(doc) if k == "uuid"]


@pytest.mark.parametrize("example", example_names())
def test_ids_and_cross_references_resolve(example_docs, example):
    docs = example_docs[example]
    catalog = docs["catalog.json"]["catalog"]
    controls = {c["id"]: c for g in catalog["groups"] for c in g["controls"]}
    assert len(controls) == len(load_catalog().controls)
    params = {p["id"]: cid for cid, c in controls.items() for p in c.get("params", [])}
    resources = {r["uuid"] for r in catalog["back-matter"]["resources"]}

    for name, doc in docs.items():  # uuids unique within each document
        found = _uuids(doc)
        assert len(found) == len(set(found)), name
    for c in controls.values():
        for link in c.get("links", []):
            assert link["href"].startswith("#") and link["href"][1:] in resources
        own = {p["id"] for p in c.get("params", [])}
        for part in c["parts"]:
            for ref in re.findall(r"\{\{ insert: param, ([^ ]+) \}\}", part.get("prose", "")):
                assert ref in own, (c["id"], ref)
    part_ids = [p["id"] for c in controls.values() for p in c["parts"]]
    assert len(part_ids) == len(set(part_ids))

    profile = docs["profile.json"]["profile"]
    (imp,) = profile["imports"]
    assert imp["href"] == "catalog.json"
    included = [i for s in imp["include-controls"] for i in s["with-ids"]]
    assert included and set(included) <= set(controls)
    for sp in profile.get("modify", {}).get("set-parameters", []):
        assert params[sp["param-id"]] in included

    comp = docs["component-definition.json"]["component-definition"]
    carried = set()
    for c in comp["components"]:
        for ci in c.get("control-implementations", []):
            assert ci["source"] == "profile.json"
            for req in ci["implemented-requirements"]:
                assert req["control-id"] in included
                carried.add(req["control-id"])
    assert carried == set(included), "every applicable control is carried by a component"

    ssp = docs["ssp.json"]["system-security-plan"]
    assert ssp["import-profile"]["href"] == "profile.json"
    reqs = ssp["control-implementation"]["implemented-requirements"]
    assert [r["control-id"] for r in reqs] == included
    comp_uuids = {c["uuid"] for c in ssp["system-implementation"]["components"]}
    assert any(c["type"] == "this-system" for c in ssp["system-implementation"]["components"])
    roles = {r["id"] for r in ssp["metadata"]["roles"]}
    parties = {p["uuid"] for p in ssp["metadata"]["parties"]}
    for r in reqs:
        assert r["by-components"] and all(b["component-uuid"] in comp_uuids for b in r["by-components"])
        assert all(rr["role-id"] in roles for rr in r["responsible-roles"])
    for rp in ssp["metadata"].get("responsible-parties", []):
        assert rp["role-id"] in roles and set(rp["party-uuids"]) <= parties
    for u in ssp["system-implementation"]["users"]:
        assert set(u["role-ids"]) <= roles


def test_catalog_maps_the_controls_content(example_docs):
    catalog = load_catalog()
    docs = example_docs["llm-startup"]
    controls = {c["id"]: c for g in docs["catalog.json"]["catalog"]["groups"] for c in g["controls"]}
    for control in catalog.controls.values():
        c = controls[oscal.oscal_id(control.id)]
        props = {(p["name"], p["value"]) for p in c["props"]}
        assert ("label", control.id) in props
        assert ("frequency", control.frequency) in props and ("owner-role", control.owner) in props
        assert ("ai-specific", "true" if control.ai_specific else "false") in props
        assert {v for n, v in props if n == "tsc-criterion"} == set(control.criteria)
        for fw, prop in oscal.CROSSWALK_PROP.items():
            assert {v for n, v in props if n == prop} == set(control.crosswalk[fw])
        names = [p["name"] for p in c["parts"]]
        assert names[0] == "statement" and names.count("assessment-method") == 4 and "assessment-objective" in names
        methods = {p["props"][0]["value"] for p in c["parts"] if p["name"] == "assessment-method"}
        assert methods == {"INTERVIEW", "EXAMINE", "TEST"}
        evidence = next(p for p in c["parts"] if p["name"] == "assessment-objects")["prose"]
        assert evidence.count("\n- ") == len(control.evidence) - 1


def test_profile_sets_the_companys_parameter_values(tmp_path):
    text = example_text("llm-startup").replace("documents:", "parameters:\n  deprovision_hours: 8\n  access_review_interval: monthly\n\ndocuments:", 1)
    profile = parse_profile_text(text)
    docs = _documents(profile)
    values = {sp["param-id"]: sp["values"] for sp in docs["profile.json"]["profile"]["modify"]["set-parameters"]}
    assert values["ac-05_prm_access_review_interval"] == ["month"]
    assert any(k.endswith("_prm_deprovision_hours") and v == ["8"] for k, v in values.items())
    controls = {c["id"]: c for g in docs["catalog.json"]["catalog"]["groups"] for c in g["controls"]}
    default = next(p for p in controls["ac-05"]["params"] if p["id"] == "ac-05_prm_access_review_interval")
    assert default["values"] == ["quarter"]  # the catalog keeps the kit's default
    assert "{{ insert: param, ac-05_prm_access_review_interval }}" in controls["ac-05"]["parts"][0]["prose"]
    ssp_text = next(r for r in docs["ssp.json"]["system-security-plan"]["control-implementation"]["implemented-requirements"] if r["control-id"] == "ac-05")
    assert ssp_text["by-components"][0]["description"].startswith("Every month,")


@pytest.mark.parametrize("example", example_names())
def test_component_and_ssp_statements_are_the_rendered_statements(example_docs, example):
    profile = parse_profile_text(example_text(example))
    views = {oscal.oscal_id(v.id): v for v in select_controls(load_catalog(), profile, build_context(profile)) if v.applicable}
    ssp = example_docs[example]["ssp.json"]["system-security-plan"]
    for r in ssp["control-implementation"]["implemented-requirements"]:
        for b in r["by-components"]:
            assert _UNESCAPE.sub(r"\1", b["description"]) == views[r["control-id"]].statement


# --- determinism -------------------------------------------------------------------------------

def test_re_export_is_byte_identical_and_dates_come_from_the_workspace(cli, workspace, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    root = workspace()
    assert cli("--workspace", root, "export", "oscal").code == 0
    out = root / "dist" / "oscal"
    first = {f: (out / f).read_bytes() for f in FILES}
    assert cli("--workspace", root, "export", "oscal").code == 0
    assert {f: (out / f).read_bytes() for f in FILES} == first
    stamp = json.loads(first["ssp.json"])["system-security-plan"]["metadata"]["last-modified"]
    mtime = dt.datetime.fromtimestamp((root / "soc2kit.yaml").stat().st_mtime, dt.UTC)
    assert dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")) >= mtime.replace(microsecond=0)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    assert cli("--workspace", root, "export", "oscal").code == 0
    assert json.loads((out / "catalog.json").read_text())["catalog"]["metadata"]["last-modified"] == "2027-01-15T08:00:00Z"


def test_changes_give_new_document_uuids_but_stable_item_uuids():
    base = parse_profile_text(example_text("llm-startup"))
    changed = parse_profile_text(example_text("llm-startup").replace("employees: 18", "employees: 19").replace("residency: [US]", "residency: [US, EU]"))
    a, b = _documents(base), _documents(changed)
    assert a["ssp.json"]["system-security-plan"]["uuid"] != b["ssp.json"]["system-security-plan"]["uuid"]
    assert a["catalog.json"] == b["catalog.json"]
    ra = [r["uuid"] for r in a["ssp.json"]["system-security-plan"]["control-implementation"]["implemented-requirements"]]
    rb = [r["uuid"] for r in b["ssp.json"]["system-security-plan"]["control-implementation"]["implemented-requirements"]]
    assert ra == rb


def test_date_option_is_validated(cli, workspace):
    root = workspace()
    res = cli("--workspace", root, "export", "oscal", "--date", "31/01/2027")
    assert res.code == 2 and "--date" in res.err and "hint:" in res.err
    assert not (root / "dist" / "oscal").exists()
    assert oscal.parse_date("2027-01-31T12:00:00+02:00").astimezone(dt.UTC).hour == 10


# --- assessment statuses -----------------------------------------------------------------------

def test_ssp_carries_the_assessment_statuses(cli, workspace):
    root = workspace()
    assessment = Assessment.load(root)
    assessment.set("AC-01", {"status": "implemented"}, by="test")
    assessment.set("AC-02", {"status": "partial", "notes": "contractors <pending>"}, by="test")
    assessment.set("AC-03", {"status": "planned", "target_date": dt.date(2027, 3, 1)}, by="test")
    assessment.set("AC-04", {"status": "not_applicable", "justification": "no such system"}, by="test")
    assessment.save()
    assert cli("--workspace", root, "export", "oscal").code == 0
    ssp = json.loads((root / "dist" / "oscal" / "ssp.json").read_text(encoding="utf-8"))
    assert schema_errors(ssp) == []
    reqs = {r["control-id"]: r for r in ssp["system-security-plan"]["control-implementation"]["implemented-requirements"]}

    def props(cid):
        return {p["name"]: p["value"] for p in reqs[cid]["props"]}

    assert props("ac-01")["implementation-status"] == "implemented"
    assert props("ac-02")["implementation-status"] == "partial"
    assert _UNESCAPE.sub(r"\1", reqs["ac-02"]["by-components"][0]["implementation-status"]["remarks"]) == "contractors <pending>"
    assert props("ac-03")["implementation-status"] == "planned" and props("ac-03")["target-date"] == "2027-03-01"
    if "ac-04" in reqs:
        assert reqs["ac-04"]["by-components"][0]["implementation-status"]["state"] == "not-applicable"
    assert props("ac-06")["assessment-status"] == "not_started" and props("ac-06")["implementation-status"] == "planned"


def test_without_an_assessment_file_no_status_is_claimed(example_docs):
    reqs = example_docs["healthtech"]["ssp.json"]["system-security-plan"]["control-implementation"]["implemented-requirements"]
    for r in reqs:
        assert "implementation-status" not in {p["name"] for p in r["props"]}
        assert all("implementation-status" not in b for b in r["by-components"])


# --- the validator is not vacuous ---------------------------------------------------------------

BREAKS = {
    "uuid": (lambda d: d["catalog"].__setitem__("uuid", "not-a-uuid"), "$.catalog.uuid"),
    "token starting with a digit": (lambda d: d["catalog"]["groups"][0].__setitem__("id", "1ac"), "$.catalog.groups[0].id"),
    "token with a space": (lambda d: d["catalog"]["groups"][0]["controls"][0].__setitem__("id", "ac 01"), "$.catalog.groups[0].controls[0].id"),
    "string with trailing space": (lambda d: d["catalog"]["groups"][0]["controls"][0]["props"][0].__setitem__("value", "AC-01 "), "$.catalog.groups[0].controls[0].props[0].value"),
    "missing title": (lambda d: d["catalog"]["metadata"].pop("title"), "$.catalog.metadata"),
    "date-time without zone": (lambda d: d["catalog"]["metadata"].__setitem__("last-modified", "2027-01-31T00:00:00"), "$.catalog.metadata['last-modified']"),
    "unknown key": (lambda d: d["catalog"]["groups"][0].__setitem__("colour", "red"), "$.catalog.groups[0]"),
    "bad uri": (lambda d: d["catalog"]["groups"][0]["controls"][0]["props"][2].__setitem__("ns", "not a uri"), "$.catalog.groups[0].controls[0].props[2].ns"),
    "empty controls": (lambda d: d["catalog"]["groups"][0].__setitem__("controls", []), "$.catalog.groups[0].controls"),
}


@pytest.mark.parametrize("name", BREAKS)
def test_the_validator_rejects_a_broken_catalog_and_names_the_json_path(example_docs, name):
    doc = copy.deepcopy(example_docs["llm-startup"]["catalog.json"])
    breaker, path = BREAKS[name]
    breaker(doc)
    assert schema_errors(doc) != []
    with pytest.raises(OscalValidationError) as info:
        validate(doc)
    assert path in str(info.value)


def test_the_validator_rejects_broken_ssp_profile_and_component(example_docs):
    docs = copy.deepcopy(example_docs["genai-platform"])
    docs["ssp.json"]["system-security-plan"]["system-characteristics"]["status"]["state"] = "compliant-ish"
    docs["profile.json"]["profile"]["imports"][0]["include-controls"][0]["with-ids"].append("9bad")
    docs["component-definition.json"]["component-definition"]["components"][0]["type"] = ""
    del docs["ssp.json"]["system-security-plan"]["import-profile"]
    for name in ("ssp.json", "profile.json", "component-definition.json"):
        assert errors_of(docs[name]) != [], name
        assert schema_errors(docs[name]) != [], name
    assert any("['system-characteristics'].status.state" in e for e in errors_of(docs["ssp.json"]))


def test_a_validation_failure_raises_and_leaves_the_previous_export(cli, workspace, monkeypatch):
    root = workspace()
    assert cli("--workspace", root, "export", "oscal").code == 0
    out = root / "dist" / "oscal"
    before = {f: (out / f).read_bytes() for f in FILES}

    real = oscal.build_ssp

    def broken_ssp(*args, **kwargs):
        doc = real(*args, **kwargs)
        doc["system-security-plan"]["system-characteristics"]["system-name"] = " padded "
        return doc

    monkeypatch.setattr(oscal, "build_ssp", broken_ssp)
    ws = Workspace.open(root)
    with pytest.raises(OscalValidationError, match=re.escape("$['system-security-plan']['system-characteristics']['system-name']")):
        oscal.export_oscal(ws)
    assert {f: (out / f).read_bytes() for f in FILES} == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["oscal"]  # no staging directory left behind


def test_refuses_to_replace_a_directory_it_did_not_write(cli, workspace, tmp_path):
    root = workspace()
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    res = cli("--workspace", root, "export", "oscal", "--out", precious)
    assert res.code == 2 and "refusing" in res.err
    assert (precious / "notes.txt").read_text() == "keep me"
    res = cli("--workspace", root, "export", "oscal", "--out", root / "policies" / "oscal")
    assert res.code == 2
    res = cli("--workspace", root, "export", "oscal", "--out", root)
    assert res.code == 2


# --- hostile profile text ----------------------------------------------------------------------

HOSTILE = "{{ insert: param, ac-01_prm_x }} <script>alert(1)</script> *x* [l](javascript:x) `c` #h \\ \"q\" 'a' & | ~"


def _hostile_profile(name: str, system: str, holder: str, provider: str) -> Profile:
    data = parse_profile_text(example_text("llm-startup")).model_dump(mode="python")
    data["company"]["name"] = name
    data["scope"]["systems"][0]["name"] = system
    data["scope"]["systems"][0]["description"] = system
    data["roles"]["security_officer"] = holder
    data["ai"]["model_providers"] = [provider, "Anthropic"]
    return Profile.model_validate(data)


def _check_survives(docs: dict, name: str, system: str, holder: str, provider: str, *, recheck_catalog: bool = True) -> None:
    def line(s):
        return " ".join(s.split())

    for doc_name, doc in docs.items():  # build_documents validated them all; check again independently
        if recheck_catalog or doc_name != "catalog.json":
            assert schema_errors(doc) == [], doc_name
    ssp = docs["ssp.json"]["system-security-plan"]
    assert ssp["system-characteristics"]["system-name"] == line(name)
    assert line(holder) in {p["name"] for p in ssp["metadata"]["parties"]}
    titles = {_UNESCAPE.sub(r"\1", c["title"]) for c in docs["component-definition.json"]["component-definition"]["components"]}
    assert line(system) in titles and line(provider) in titles
    assert _UNESCAPE.sub(r"\1", docs["profile.json"]["profile"]["metadata"]["title"]).startswith(line(name) + ":")
    # markup fields never carry an unescaped insertion or tag taken from the profile
    chars = ssp["system-characteristics"]
    text = json.dumps(docs["component-definition.json"]) + chars["description"] + chars["authorization-boundary"]["description"]
    text += json.dumps([(c["title"], c["description"]) for c in ssp["system-implementation"]["components"]])
    assert "<script>" not in text and "{{ insert: param, ac-01_prm_x }}" not in text


def test_hostile_strings_in_the_profile_survive_as_data(cli, tmp_path):
    name, system, holder, provider = HOSTILE, "Sys\ttem\n" + HOSTILE, "Ŝécurité 安全 " + HOSTILE, "Prov\u00a0ider " + HOSTILE
    profile = _hostile_profile(name, system, holder, provider)
    docs = _documents(profile)
    _check_survives(docs, name, system, holder, provider)
    # and through the CLI, from a YAML file
    root = tmp_path / "hostile"
    text = example_text("llm-startup").replace("name: Quillnote AI, Inc.", "name: " + json.dumps(HOSTILE), 1)
    src = tmp_path / "hostile.yaml"
    src.write_text(text, encoding="utf-8")
    assert cli("init", root, "--profile", src).code == 0
    res = cli("--workspace", root, "export", "oscal", "--format", "json")
    assert res.code == 0, res.err
    ssp = json.loads((root / "dist" / "oscal" / "ssp.json").read_text(encoding="utf-8"))
    assert ssp["system-security-plan"]["system-characteristics"]["system-name"] == HOSTILE


_text = st.text(st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufeff"), min_size=1, max_size=40).filter(lambda s: s.strip())


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=_text, system=_text, holder=_text, provider=_text)
def test_any_profile_text_gives_valid_oscal(name, system, holder, provider):
    try:
        profile = _hostile_profile(name, system, holder, provider)
    except Exception:  # the profile schema refuses it (length, duplicates): nothing to export
        return
    _check_survives(_documents(profile), name, system, holder, provider, recheck_catalog=False)
