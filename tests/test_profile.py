"""The profile loader: valid profiles round-trip, every mistake is located and explained."""

from __future__ import annotations

import datetime as dt
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soc2kit._yaml import dump_yaml
from soc2kit.errors import ProfileError, UserError, YAMLSyntaxError
from soc2kit.profile import parse_profile_text, vocab
from soc2kit.profile.schema import Profile

MINIMAL = "company: {name: Acme AI, employees: 40}\n"

names = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60).filter(lambda s: s.strip() and s == s.strip())


def subset(keys):
    return st.lists(st.sampled_from(sorted(keys)), unique=True, max_size=len(keys))


@st.composite
def profiles(draw):
    start = draw(st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2030, 1, 1)))
    length = draw(st.integers(min_value=1, max_value=366))
    return {
        "company": {"name": draw(names), "employees": draw(st.integers(1, 1_000_000)), "description": draw(st.text(alphabet=string.ascii_letters + " {}<>*_#&", max_size=80)).strip()},
        "ai": {
            "trains_models": draw(st.booleans()),
            "uses_third_party_models": draw(st.booleans()),
            "use_cases": draw(subset(vocab.USE_CASES)),
            "automated_decisions": draw(st.booleans()),
            "model_providers": draw(st.lists(names, unique=True, max_size=3)),
        },
        "data": {"types": draw(subset(vocab.DATA_TYPES)), "customer_data_in_training": draw(st.booleans())},
        "regulations": draw(subset(vocab.REGULATIONS)),
        "scope": {"tsc": draw(subset(vocab.TSC_CATEGORIES)), "observation_period": {"start": start, "end": start + dt.timedelta(days=length)}},
        "cloud": draw(subset(vocab.CLOUDS)),
        "roles": {k: draw(names) for k in draw(subset(vocab.ROLES))},
    }


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(profiles())
def test_any_valid_profile_loads_and_round_trips(data):
    profile = parse_profile_text(dump_yaml(data))
    assert profile.company.name == data["company"]["name"]
    assert "security" in profile.scope.tsc
    assert set(profile.scope.tsc) == set(data["scope"]["tsc"]) | {"security"}
    again = parse_profile_text(dump_yaml(profile.model_dump(mode="python", exclude_none=True)))
    assert again == profile


SECTIONS = ["company", "ai", "data", "scope", "roles", "parameters", "documents"]


@settings(max_examples=60)
@given(section=st.sampled_from(SECTIONS + [None]), key=st.from_regex(r"[a-z][a-z_]{2,15}", fullmatch=True))
def test_unknown_keys_are_errors_naming_the_key_path(section, key):
    model = Profile if section is None else Profile.model_fields[section].annotation
    allowed = set(getattr(model, "model_fields", {}))
    if key in allowed or (section is None and key in Profile.model_fields):
        return
    doc = {"company": {"name": "Acme", "employees": 3}}
    if section is None:
        doc[key] = 1
        path = key
    else:
        doc.setdefault(section, {})[key] = 1
        path = f"{section}.{key}"
    with pytest.raises(ProfileError) as info:
        parse_profile_text(dump_yaml(doc))
    text = str(info.value)
    assert f"key '{path}'" in text and f"unknown key '{key}'" in text
    assert "soc2kit.yaml:" in text  # file:line


@settings(max_examples=200)
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes_the_loader(text):
    try:
        parse_profile_text(text)
    except UserError:
        pass


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [("employes", "employees"), ("webiste", "website"), ("trains_model", "trains_models"), ("use_case", "use_cases")],
)
def test_unknown_key_suggests_the_closest_key(typo, suggestion):
    section = "ai" if typo.startswith(("train", "use")) else "company"
    text = MINIMAL + f"{section}:\n  {typo}: 1\n" if section == "ai" else f"company: {{name: Acme, employees: 40, {typo}: x}}\n"
    with pytest.raises(ProfileError) as info:
        parse_profile_text(text)
    assert f"did you mean '{suggestion}'" in str(info.value)


def test_unknown_vocabulary_value_is_located_and_suggested():
    with pytest.raises(ProfileError) as info:
        parse_profile_text(MINIMAL + "data:\n  types: [pii, helth]\nregulations: [hipa]\n")
    text = str(info.value)
    assert "soc2kit.yaml:3:" in text and "key 'data.types[1]'" in text
    assert "did you mean 'hipaa'" in text
    assert "2 problems" in text


def test_wrong_types_are_reported_with_expected_type():
    with pytest.raises(ProfileError) as info:
        parse_profile_text("company: {name: Acme, employees: forty}\nai: {trains_models: maybe}\n")
    text = str(info.value)
    assert "key 'company.employees'" in text and "expected a whole number" in text
    assert "key 'ai.trains_models'" in text and "expected true or false" in text


def test_malformed_yaml_names_line_and_column():
    with pytest.raises(YAMLSyntaxError) as info:
        parse_profile_text("company:\n  name: [Acme\n  employees: 3\n")
    assert "soc2kit.yaml:" in str(info.value)
    assert info.value.location.line is not None and info.value.location.column is not None


def test_observation_period_must_be_ordered_and_at_most_twelve_months():
    with pytest.raises(ProfileError, match="end must be after start"):
        parse_profile_text(MINIMAL + "scope: {observation_period: {start: 2027-06-01, end: 2027-01-01}}\n")
    with pytest.raises(ProfileError, match="at most 12 months"):
        parse_profile_text(MINIMAL + "scope: {observation_period: {start: 2027-01-01, end: 2028-06-01}}\n")


def test_security_is_always_in_scope_and_lists_are_deduplicated():
    p = parse_profile_text(MINIMAL + "scope: {tsc: [privacy, availability, privacy]}\ndata: {types: [pii, pii]}\n")
    assert p.scope.tsc == ["security", "availability", "privacy"]
    assert p.data.types == ["pii"]


def test_control_characters_in_strings_are_rejected():
    with pytest.raises(ProfileError, match="control characters"):
        parse_profile_text('company: {name: "Acme\\x00AI", employees: 3}\n')


def test_duplicate_keys_are_a_syntax_error():
    with pytest.raises(YAMLSyntaxError):
        parse_profile_text("company: {name: A, employees: 3}\ncompany: {name: B, employees: 4}\n")


def test_literal_types_match_the_documented_vocabularies():
    import typing

    from soc2kit.profile import schema

    pairs = [(schema.UseCase, vocab.USE_CASES), (schema.DataType, vocab.DATA_TYPES), (schema.Regulation, vocab.REGULATIONS),
             (schema.Category, vocab.TSC_CATEGORIES), (schema.Cloud, vocab.CLOUDS), (schema.RoleKey, vocab.ROLES)]
    for literal, table in pairs:
        assert list(typing.get_args(literal)) == list(table)
    assert set(schema.Roles.model_fields) == set(vocab.ROLES)


@pytest.mark.parametrize("bad", ["2027-02-30", "2027-13-01", "2027-04-31"])
def test_an_impossible_date_is_located_bad_input(cli, workspace, bad):
    root = workspace()
    text = (root / "soc2kit.yaml").read_text()
    assert "observation_period: {start: 2027-01-01" in text
    (root / "soc2kit.yaml").write_text(text.replace("observation_period: {start: 2027-01-01", f"observation_period: {{start: {bad}"))
    for args in (["lint"], ["gap"], ["build"]):
        r = cli("-w", root, *args)
        out = r.out + r.err
        assert r.code in (1, 2) and "Traceback" not in out, (args, out)
        assert "soc2kit.yaml:26:31" in out and f"{bad} is not a calendar date" in out, out
