"""The interactive ``init`` questionnaire (in the manner of copier's typed questions).

Questions live in ``content/questions.yaml``: each has a type, a default, an optional ``when``
condition over earlier answers (a sandboxed Jinja expression) and validation. Every accepted answer
is saved at once to a small answers file, so an interrupted run loses nothing: running ``init``
again for the same directory resumes after the last answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soc2kit._fs import atomic_write_text
from soc2kit._yaml import dump_yaml, load_yaml, to_plain
from soc2kit.errors import UserError
from soc2kit.profile import vocab
from soc2kit.profile.load import validate_profile

QUESTIONS_FILE = Path(__file__).resolve().parent.parent / "content" / "questions.yaml"
VOCABULARIES = {
    "use_cases": vocab.USE_CASES,
    "data_types": vocab.DATA_TYPES,
    "regulations": vocab.REGULATIONS,
    "tsc": vocab.TSC_CATEGORIES,
    "clouds": vocab.CLOUDS,
}
TRUE = {"y", "yes", "true", "1"}
FALSE = {"n", "no", "false", "0"}


@dataclass(frozen=True)
class Question:
    id: str
    key: str
    prompt: str
    type: str
    default: Any = None
    required: bool = False
    when: str | None = None
    vocabulary: str | None = None
    min: int | None = None
    max: int | None = None

    def choices(self) -> list[str]:
        return list(VOCABULARIES[self.vocabulary]) if self.vocabulary else []


def load_questions(path: Path = QUESTIONS_FILE) -> list[Question]:
    data = to_plain(load_yaml(path, what="questions file"))
    out = []
    for raw in data["questions"]:
        out.append(Question(**raw))
    return out


class InvalidAnswer(ValueError):
    pass


def next_quarter(today: dt.date) -> dt.date:
    month = ((today.month - 1) // 3 + 1) * 3 + 1
    year = today.year + (month - 1) // 12
    return dt.date(year, (month - 1) % 12 + 1, 1)


def default_for(q: Question, today: dt.date) -> Any:
    if q.type == "date" and q.default == "next_quarter":
        return next_quarter(today).isoformat()
    return q.default


def parse_answer(q: Question, raw: str, default: Any) -> Any:
    """Turn typed text into a value, or raise InvalidAnswer with a message saying how to fix it."""
    text = raw.strip()
    if text == "":
        if q.required and not default:
            raise InvalidAnswer("an answer is required")
        return default
    if q.type == "text":
        if len(text) > 500:
            raise InvalidAnswer("keep it under 500 characters")
        return text
    if q.type == "int":
        try:
            value = int(text)
        except ValueError:
            raise InvalidAnswer("enter a whole number") from None
        if q.min is not None and value < q.min or q.max is not None and value > q.max:
            raise InvalidAnswer(f"enter a number from {q.min} to {q.max}")
        return value
    if q.type == "bool":
        low = text.lower()
        if low in TRUE:
            return True
        if low in FALSE:
            return False
        raise InvalidAnswer("answer yes or no")
    if q.type == "date":
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise InvalidAnswer("enter a date as YYYY-MM-DD") from None
    if q.type == "list":
        if text == "-":
            return []
        return [part.strip() for part in text.split(",") if part.strip()]
    if q.type == "multi":
        choices = q.choices()
        if text == "-":
            return []
        picked = []
        for part in (p.strip() for p in text.replace(" ", ",").split(",")):
            if not part:
                continue
            if part.isascii() and part.isdecimal() and 1 <= int(part) <= len(choices):
                part = choices[int(part) - 1]
            if part not in choices:
                raise InvalidAnswer(f"{part!r} is not one of the choices; give numbers or names separated by commas, or - for none")
            if part not in picked:
                picked.append(part)
        return picked
    raise InvalidAnswer(f"unsupported question type {q.type}")


def applies(q: Question, answers: dict[str, Any]) -> bool:
    if not q.when:
        return True
    from soc2kit.render.context import evaluate

    return evaluate(q.when, dict(answers), what=f"when of question {q.id}")


def _set(tree: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def answers_to_profile(questions: list[Question], answers: dict[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    months = None
    for q in questions:
        if q.id not in answers:
            continue
        value = answers[q.id]
        if q.key == "scope.observation_period.months":
            months = value
            continue
        if q.type == "text" and value == "" and q.key in ("company.website",):
            continue
        _set(tree, q.key, value)
    period = tree.get("scope", {}).get("observation_period")
    if period and "start" in period:
        from soc2kit.render.policies import add_months

        start = dt.date.fromisoformat(period["start"])
        period["start"] = start
        period["end"] = add_months(start, int(months or 6)) - dt.timedelta(days=1)
    return tree


def answers_path(target: Path) -> Path:
    base = os.environ.get("SOC2KIT_STATE_HOME") or os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    digest = hashlib.sha256(str(target.resolve()).encode()).hexdigest()[:16]
    return Path(base) / "soc2kit" / "answers" / f"{digest}.yaml"


@dataclass
class Session:
    questions: list[Question]
    store: Path
    ask: Callable[[str], str]
    say: Callable[[str], None]
    today: dt.date = field(default_factory=dt.date.today)

    def load(self) -> dict[str, Any]:
        if not self.store.exists():
            return {}
        try:
            data = to_plain(load_yaml(self.store, what="saved answers"))
        except UserError:
            return {}
        return data if isinstance(data, dict) else {}

    def save(self, answers: dict[str, Any]) -> None:
        atomic_write_text(self.store, dump_yaml(answers))

    def run(self) -> dict[str, Any]:
        answers = self.load()
        if answers:
            self.say(f"Resuming: {len(answers)} earlier answers kept (delete {self.store} to start over).")
        total = len(self.questions)
        for n, q in enumerate(self.questions, start=1):
            if q.id in answers or not applies(q, answers):
                continue
            default = default_for(q, self.today)
            while True:
                prompt = self._prompt(q, default, n, total)
                raw = self.ask(prompt)
                try:
                    value = parse_answer(q, raw, default)
                    break
                except InvalidAnswer as exc:
                    self.say(f"  {exc}")
            answers[q.id] = value
            self.save(answers)
        return answers

    def _prompt(self, q: Question, default: Any, n: int, total: int) -> str:
        lines = [f"[{n}/{total}] {q.prompt}"]
        if q.type == "multi":
            for i, key in enumerate(q.choices(), start=1):
                lines.append(f"    {i}. {key} — {VOCABULARIES[q.vocabulary][key][0]}")
            lines.append("    (numbers or names, comma-separated; - for none)")
        shown = default
        if q.type == "bool":
            shown = "yes" if default else "no"
        elif isinstance(default, list):
            shown = ", ".join(default) if default else "-"
        suffix = f" [{shown}]" if shown not in (None, "") else ""
        return "\n".join(lines) + f"{suffix}: "


def run_questionnaire(target: Path, *, ask: Callable[[str], str] = input, say: Callable[[str], None] = print, today: dt.date | None = None) -> str:
    """Ask the questions and return profile YAML text (validated); answers persist until success."""
    questions = load_questions()
    session = Session(questions, answers_path(target), ask, say, today or dt.date.today())
    try:
        answers = session.run()
    except EOFError:
        raise UserError("the questionnaire ended before all questions were answered; your answers so far are saved", hint="run the same command again to continue") from None
    tree = answers_to_profile(questions, answers)
    validate_profile(tree, source="questionnaire answers")
    text = "# soc2kit company profile, from the init questionnaire. Every key is documented in docs/profile.md.\n" + dump_yaml(tree)
    return text


def forget_answers(target: Path) -> None:
    path = answers_path(target)
    if path.exists():
        path.unlink()


__all__ = ["Question", "Session", "load_questions", "parse_answer", "run_questionnaire"]
