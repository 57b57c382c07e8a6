"""Intent patterns run on text anyone can write: their cost is bounded by construction, never by luck."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from socialdesk.classify.intent import PATTERN_TEXT_LIMIT, intents
from socialdesk.rules import Intent, RulesError, load_rules

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = load_rules(ROOT / "config" / "socialdesk.toml")
UNBOUNDED = re.compile(r"(?<!\\)[.][*+]|(?<!\\)\[[^\]]*\][*+]|\{\d*,\}")


def test_patterns_see_only_the_first_characters_of_a_long_message() -> None:
    """Given an intent whose pattern matches "marker" and a message holding it just inside, or just past, the limit
    When intents are detected
    Then only the first is found: a pattern never scans more than PATTERN_TEXT_LIMIT characters, so even a quadratic one
    costs at most PATTERN_TEXT_LIMIT² steps whatever the message's length."""
    intent = Intent(name="probe", patterns={"any": (r"marker",)})
    inside = "a" * (PATTERN_TEXT_LIMIT - len("marker")) + "marker"
    past = "a" * PATTERN_TEXT_LIMIT + " marker"
    assert intents(inside, "en", (intent,)) == ("probe",)
    assert intents(past, "en", (intent,)) == ()
    assert PATTERN_TEXT_LIMIT <= 1000


def test_the_shipped_patterns_have_no_unbounded_gap() -> None:
    """Given the shipped intents' patterns
    Then none holds an unbounded wildcard (`.*`, `[^x]+`, `{n,}`), which backtracks quadratically; and the opening-hours
    question is still recognised across a bounded gap."""
    assert SHIPPED.classification is not None
    shipped = [pattern for intent in SHIPPED.classification.intents for items in intent.patterns.values() for pattern in items]
    assert shipped, "the shipped rules have patterns"
    assert [pattern for pattern in shipped if UNBOUNDED.search(pattern)] == []
    hours = next(intent for intent in SHIPPED.classification.intents if intent.name == "opening_hours")
    assert intents("When does the Berlin store open on Sunday", "en", (hours,)) == ("opening_hours",)


@pytest.mark.parametrize("pattern", [r"(a+)+b", r"(\w+\s?)*open", r"(.*){2,}x"])
def test_a_pattern_repeating_a_repetition_is_refused_when_the_rules_are_loaded(tmp_path: Path, pattern: str) -> None:
    """Given an intent pattern with nested unbounded quantifiers (exponential backtracking on hostile text)
    When the rules are loaded
    Then they are refused, naming the pattern."""
    path = tmp_path / "socialdesk.toml"
    toml_pattern = pattern.replace("\\", "\\\\")
    path.write_text(
        f'[zendesk]\nsubdomain = "acme"\n[classification]\n[[classification.intents]]\nname = "x"\npatterns = {{ en = ["{toml_pattern}"] }}\n'
    )
    with pytest.raises(RulesError) as raised:
        load_rules(path)
    assert any("repeats a repetition" in problem for problem in raised.value.problems), raised.value.problems
