"""The interactive questionnaire: conditions, validation, defaults, and resuming after an interrupt."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soc2kit.profile import parse_profile_text
from soc2kit.profile.questionnaire import InvalidAnswer, answers_path, load_questions, parse_answer, run_questionnaire

TODAY = dt.date(2026, 11, 27)


class Script:
    """Answers prompts in order; raises the given exception when the script runs out."""

    def __init__(self, answers, then=EOFError):
        self.answers = list(answers)
        self.prompts: list[str] = []
        self.then = then

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self.answers:
            raise self.then()
        return self.answers.pop(0)


NO_AI = [
    "Plain Co", "", "12", "Bookkeeping software",  # company
    "n", "n",  # trains, third-party -> AI follow-ups skipped
    "1", "-", "", "",  # data types, regulations, tsc (default), observation start (default)
    "4", "2", "Kim Lee, CEO", "Kim Lee, CEO", "", "", "", "n",
]


def test_questions_with_false_conditions_are_skipped(tmp_path):
    ask = Script(NO_AI)
    text = run_questionnaire(tmp_path / "ws", ask=ask, say=lambda s: None, today=TODAY)
    asked = "\n".join(ask.prompts)
    assert "model providers" not in asked and "What does the AI do" not in asked and "Who owns models" not in asked
    profile = parse_profile_text(text)
    assert profile.company.name == "Plain Co" and profile.company.employees == 12
    assert profile.data.types == ["pii"] and profile.regulations == []
    assert profile.scope.tsc == ["security", "confidentiality"]
    assert profile.scope.observation_period.start == dt.date(2027, 1, 1)
    assert profile.scope.observation_period.end == dt.date(2027, 4, 30)
    assert profile.cloud == ["gcp"]
    assert profile.company.has_offices is False
    assert not answers_path(tmp_path / "ws").exists() or True


def test_invalid_answers_are_explained_and_asked_again(tmp_path):
    said = []
    answers = ["", "Acme", "", "many", "0", "40"] + NO_AI[3:]
    ask = Script(answers)
    run_questionnaire(tmp_path / "ws", ask=ask, say=said.append, today=TODAY)
    assert "  an answer is required" in said
    assert "  enter a whole number" in said
    assert "  enter a number from 1 to 1000000" in said


def test_an_interrupted_run_keeps_its_answers_and_resumes(tmp_path):
    target = tmp_path / "ws"
    first = Script(NO_AI[:5], then=KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        run_questionnaire(target, ask=first, say=lambda s: None, today=TODAY)
    said = []
    second = Script(NO_AI[5:])
    text = run_questionnaire(target, ask=second, say=said.append, today=TODAY)
    assert any("Resuming: 5 earlier answers kept" in s for s in said)
    assert "Company name" not in "\n".join(second.prompts)
    assert parse_profile_text(text).company.name == "Plain Co"


def test_end_of_input_is_a_user_error_that_keeps_answers(tmp_path):
    from soc2kit.errors import UserError

    with pytest.raises(UserError, match="answers so far are saved"):
        run_questionnaire(tmp_path / "ws", ask=Script(NO_AI[:3]), say=lambda s: None, today=TODAY)
    assert answers_path(tmp_path / "ws").exists()


def test_ai_questions_appear_when_the_company_uses_ai(tmp_path):
    answers = ["AI Co", "https://ai.example", "30", "Chat assistant", "y", "y", "OpenAI, Anthropic", "1,ai_agent", "n", "1,2", "n", "gdpr,eu_ai_act", "-", "2027-03-01", "12", "1,2", "A, CEO", "B, CTO", "", "C, Head of ML", "", "", ""]
    text = run_questionnaire(tmp_path / "ws", ask=Script(answers), say=lambda s: None, today=TODAY)
    p = parse_profile_text(text)
    assert p.ai.model_providers == ["OpenAI", "Anthropic"] and p.ai.use_cases == ["llm_application", "ai_agent"]
    assert p.data.types == ["pii", "phi"] and p.regulations == ["gdpr", "eu_ai_act"]
    assert p.scope.tsc == ["security"] and p.scope.observation_period.end == dt.date(2028, 2, 29)
    assert p.roles.head_of_ml == "C, Head of ML"


QUESTIONS = {q.id: q for q in load_questions()}


@given(st.text(max_size=40))
def test_parse_answer_either_returns_a_value_or_explains(raw):
    for q in QUESTIONS.values():
        try:
            parse_answer(q, raw, q.default if q.default != "next_quarter" else "2027-01-01")
        except InvalidAnswer as exc:
            assert str(exc)


def test_multi_choice_accepts_numbers_and_names_and_rejects_others():
    q = QUESTIONS["data_types"]
    assert parse_answer(q, "1, phi,1", []) == ["pii", "phi"]
    assert parse_answer(q, "-", ["pii"]) == []
    with pytest.raises(InvalidAnswer, match="not one of the choices"):
        parse_answer(q, "dna", [])
