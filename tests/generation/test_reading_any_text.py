"""The default model reads whatever text a user sends: no text makes it fail, however odd (numbers too
long for ``int()``, stray quotes, words that look like phrasings it recognises, any script)."""

from __future__ import annotations

from typing import Any

from conversation_calls import reply
from hypothesis import given
from hypothesis import strategies as st

PHRASES = ["my name is ", "call me ", "I love ", "remember this number: ", "I live in ", "in ", "tell me a story",
           "summarize in 2 sentences", "what was my name", "recommend ", "divided by ", '"', "March 3, ", "2026-13-45",
           "three ", "1,000,000.5 ", "9" * 5000, " ", "\n", "é", "東京", "-"]  # fmt: skip
texts = st.lists(st.one_of(st.sampled_from(PHRASES), st.text(max_size=20)), max_size=12).map("".join)
TOOLS = [{"functionDeclarations": [{"name": "divide_numbers", "parameters": {"type": "OBJECT", "properties": {
    "a": {"type": "NUMBER"}, "b": {"type": "INTEGER"}, "city": {"type": "STRING"},
    "when": {"type": "STRING", "format": "date"}, "unit": {"type": "STRING", "enum": ["celsius", "fahrenheit"]},
}}}]}]  # fmt: skip
SCHEMA = {"type": "OBJECT", "properties": {"name": {"type": "STRING"}, "age": {"type": "INTEGER"},
          "items": {"type": "ARRAY", "items": {"type": "STRING"}}}}  # fmt: skip


def turn(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "parts": [{"text": text or "."}]}


@given(first=texts, second=texts, system=texts)
def test_any_conversation_gets_an_answer(first: str, second: str, system: str) -> None:
    contents = [turn("user", first), turn("model", first), turn("user", second)]
    body: dict[str, Any] = {"contents": contents, "systemInstruction": turn("user", system)}
    assert reply(body)["candidates"]
    assert reply({**body, "tools": TOOLS})["candidates"]
    config = {"responseMimeType": "application/json", "responseSchema": SCHEMA}
    assert reply({**body, "generationConfig": config})["candidates"]
