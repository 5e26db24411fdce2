"""Reading what the user said: the facts :mod:`emulator.generation.memory` finds in user turns."""

from __future__ import annotations

import time

import pytest

from emulator.generation import memory
from emulator.generation.memory import Fact


@pytest.mark.parametrize(
    ("text", "facts"),
    [
        ("My name is Alice and I love hiking.", [Fact("name", "name", "Alice"), Fact("preference", "love", "hiking")]),
        ("my name is alice", [Fact("name", "name", "Alice")]),
        ("My name is Mary Jane.", [Fact("name", "name", "Mary Jane")]),
        ("Actually, call me Bob.", [Fact("name", "name", "Bob")]),
        ("Hi, I am Alice", [Fact("name", "name", "Alice")]),
        ("I am planning a trip", []),
        ("I'm Planning a trip", []),
        ("Remember this number: 42", [Fact("number", "number", "42")]),
        ("Remember the word: banana", [Fact("remembered", "word", "banana")]),
        ("Remember that my locker is 17", [Fact("attribute", "locker", "17")]),
        ("I love hiking and swimming", [Fact("preference", "love", "hiking and swimming")]),
        ("I really like jazz very much.", [Fact("preference", "like", "jazz")]),
        (
            "My favourite food is grilled sardines, especially in June.",
            [Fact("favourite", "favourite food", "grilled sardines")],
        ),
        ("I live in New York, close to the park.", [Fact("place", "live", "New York")]),
        ("I'm from Lisbon", [Fact("place", "from", "Lisbon")]),
        ("I am 34 years old", [Fact("age", "age", "34")]),
        ("my birthday is March 3", [Fact("attribute", "birthday", "March 3")]),
        ("my dog is Rex and my cat is Tom", [Fact("attribute", "dog", "Rex"), Fact("attribute", "cat", "Tom")]),
        ("What was my name again?", []),
        ("What number did I tell you?", []),
        ("Why is the sky blue?", []),
    ],
)
def test_facts_in_a_user_text(text: str, facts: list[Fact]) -> None:
    assert list(memory.facts_in(text)) == facts


def test_only_user_turns_are_read_and_the_latest_fact_wins() -> None:
    contents = [
        {"role": "user", "parts": [{"text": "My name is Alice."}]},
        {"role": "model", "parts": [{"text": "My name is Gemini."}]},
        {"role": "user", "parts": [{"text": "Thinking...", "thought": True}, {"text": "Call me Bob."}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {"text": "My name is Eve"}}}]},
    ]
    mem = memory.read(contents)
    assert [f.value for f in mem.facts] == ["Alice", "Bob"]
    name = mem.latest("name")
    assert name is not None and name.value == "Bob"
    assert memory.read(contents[:2]).latest("name") == Fact("name", "name", "Alice")
    assert memory.read([]).latest("name") is None


def test_attributes_are_found_by_label_with_either_spelling() -> None:
    mem = memory.read([{"role": "user", "parts": [{"text": "My favorite colour is teal."}]}])
    found = mem.attribute("favourite color")
    assert found is not None and found.value == "teal"
    assert [f.value for f in mem.preferences()] == ["teal"]


def test_reading_is_linear_and_only_short_texts_are_memoised() -> None:
    text = "My name is Alice and I love hiking. " * 2000
    started = time.monotonic()
    assert len(memory.facts_in(text)) == 4000
    assert time.monotonic() - started < 2.0
    assert memory.facts_in(text) == memory.facts_in(text)
    short = "My name is Alice and I love hiking."
    assert memory.facts_in(short) is memory.facts_in(short)


def test_the_latest_statement_of_a_preference_is_the_latest_preference() -> None:
    said = ["I love chess.", "I love hiking.", "I love chess."]
    mem = memory.read([{"role": "user", "parts": [{"text": t}]} for t in said])
    assert [f.value for f in mem.preferences()] == ["hiking", "chess"]


def test_a_callable_reads_the_same_memory_as_the_default_model() -> None:
    from emulator.backends.function import decode_request

    contents = [
        {"role": "user", "parts": [{"text": "My name is Alice and I love hiking. My birthday is March 3."}]},
        {"role": "model", "parts": [{"text": "My name is Gemini."}]},
        {"role": "user", "parts": [{"text": "Actually, call me Ally."}]},
    ]
    request = decode_request({"contents": contents})
    assert request.remembered == {"name": "Ally", "preference": "hiking", "attribute": "March 3", "birthday": "March 3"}
    assert request.memory.latest("name") is not None and request.memory.latest("name").value == "Ally"  # type: ignore[union-attr]
