"""Foreign patterns run in RE2: linear time, and a clear refusal for what RE2 cannot express."""

from __future__ import annotations

import time

import pytest

from emulator.patterns import MAX_PATTERN, PatternError, compile_pattern, search
from emulator.scenarios.templates import MAX_RENDERED, TemplateTooLarge, render


def test_catastrophic_backtracking_is_linear() -> None:
    started = time.monotonic()
    assert not search("(a+)+b", "a" * 100_000)
    assert not search("(.*a){20}x", "a" * 10_000 + "b")
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize("pattern", ["(?=a)a", "(?<=a)b", "(a)\\1", "(?!x)y", "("])
def test_what_re2_cannot_run_is_refused_with_the_reason(pattern: str) -> None:
    with pytest.raises(PatternError, match="RE2"):
        compile_pattern(pattern)


def test_case_folding_and_groups() -> None:
    found = compile_pattern(r"weather in (?P<city>\w+)", ignore_case=True).search("WEATHER IN Lisbon")
    assert found is not None and found.group("city") == "Lisbon"


def test_overlong_patterns_are_refused() -> None:
    with pytest.raises(PatternError, match="at most"):
        compile_pattern("a" * (MAX_PATTERN + 1))


def test_a_template_cannot_render_past_its_bound() -> None:
    with pytest.raises(TemplateTooLarge, match="renders to more than"):
        render("{{ last_user_text }}" * 50_000, {"last_user_text": "x" * 2_000})
    assert len(render("{{ last_user_text }}" * 100, {"last_user_text": "x" * 100})) == 10_000 < MAX_RENDERED
