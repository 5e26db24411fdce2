"""The default model as a unit: determinism, limits, structure, embeddings. No server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from backend_calls import answer

from emulator import Catalogue
from emulator.wire import tokens
from emulator.wire.call import Operation

CATALOGUE = Catalogue.load()


def text(body: dict[str, Any]) -> str:
    return "".join(p["text"] for p in body["candidates"][0]["content"]["parts"] if not p.get("thought"))


HELLO = {"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]}


def test_casing_and_key_order_do_not_change_the_answer() -> None:
    camel = {"contents": HELLO["contents"], "generationConfig": {"maxOutputTokens": 500, "topK": 20}}
    snake = {"generation_config": {"top_k": 20.0, "max_output_tokens": 500}, "contents": HELLO["contents"]}
    assert answer(camel) == answer(snake)


def test_seed_changes_the_answer_but_not_its_shape() -> None:
    a, b = answer(HELLO, seed=1), answer(HELLO, seed=2)
    assert text(a) != text(b) and text(a).startswith('You said: "Hello".')


def test_usage_is_consistent() -> None:
    body = answer({**HELLO, "systemInstruction": {"parts": [{"text": "Be brief."}]}})
    usage = body["usageMetadata"]
    assert usage["promptTokenCount"] == tokens.count_text("Hello") + tokens.count_text("Be brief.")
    assert usage["candidatesTokenCount"] == tokens.count_text(text(body))
    assert (
        usage["totalTokenCount"]
        == usage["promptTokenCount"] + usage["candidatesTokenCount"] + usage["thoughtsTokenCount"]
    )


def test_non_thinking_model_reports_no_thoughts() -> None:
    usage = answer(HELLO, model="gemini-2.0-flash")["usageMetadata"]
    assert "thoughtsTokenCount" not in usage
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"]


def test_thinking_budget_zero_turns_thinking_off() -> None:
    body = answer({**HELLO, "generationConfig": {"thinkingConfig": {"thinkingBudget": 0}}})
    assert "thoughtsTokenCount" not in body["usageMetadata"]


@pytest.mark.parametrize("limit", [1, 3, 10])
def test_max_output_tokens(limit: int) -> None:
    body = answer({**HELLO, "generationConfig": {"maxOutputTokens": limit}})
    assert body["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert tokens.count_text(text(body)) == limit == body["usageMetadata"]["candidatesTokenCount"]


def test_stream_pieces_add_up_to_the_unary_text_and_usage() -> None:
    unary = answer(HELLO)
    chunks = answer(HELLO, Operation.STREAM)
    assert "".join(text(c) for c in chunks) == text(unary)
    assert chunks[-1]["usageMetadata"] == unary["usageMetadata"]
    counts = [c["usageMetadata"]["candidatesTokenCount"] for c in chunks]
    assert counts == sorted(counts) and len(chunks) >= 3


def test_streamed_thoughts_come_first_in_their_own_chunk() -> None:
    chunks = answer({**HELLO, "generationConfig": {"thinkingConfig": {"includeThoughts": True}}}, Operation.STREAM)
    assert chunks[0]["candidates"][0]["content"]["parts"] == [
        {"text": chunks[0]["candidates"][0]["content"]["parts"][0]["text"], "thought": True}
    ]
    assert "candidatesTokenCount" not in chunks[0]["usageMetadata"]
    assert all(not p.get("thought") for c in chunks[1:] for p in c["candidates"][0]["content"]["parts"])


def test_json_mode_follows_the_schema() -> None:
    schema_ = {
        "type": "OBJECT",
        "properties": {"city": {"type": "STRING"}, "rank": {"type": "INTEGER"}},
        "required": ["city", "rank"],
    }
    body = answer({**HELLO, "generationConfig": {"responseMimeType": "application/json", "responseSchema": schema_}})
    value = json.loads(text(body))
    assert isinstance(value["city"], str) and isinstance(value["rank"], int)


def test_enum_mode_answers_one_value() -> None:
    config = {"responseMimeType": "text/x.enum", "responseSchema": {"type": "STRING", "enum": ["red", "green"]}}
    assert text(answer({**HELLO, "generationConfig": config})) in ("red", "green")


def test_function_results_are_used_in_the_answer() -> None:
    contents = [
        {"role": "user", "parts": [{"text": "Weather?"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"result": "sunny"}}}]},
    ]
    assert "get_weather returned" in text(answer({"contents": contents})) and "sunny" in text(
        answer({"contents": contents})
    )


def test_count_tokens_with_a_generate_request() -> None:
    inner = {"model": "models/gemini-2.5-flash", **HELLO, "systemInstruction": {"parts": [{"text": "Be brief."}]}}
    counted = answer({"generateContentRequest": inner}, Operation.COUNT_TOKENS)
    assert counted["totalTokens"] == answer(inner)["usageMetadata"]["promptTokenCount"]


def test_embeddings_depend_on_text_and_task() -> None:
    one = {"content": {"parts": [{"text": "a"}]}, "outputDimensionality": 8}
    first = answer(one, Operation.EMBED, model="gemini-embedding-001")["embedding"]["values"]
    task = answer({**one, "taskType": "RETRIEVAL_QUERY"}, Operation.EMBED, model="gemini-embedding-001")["embedding"][
        "values"
    ]
    assert len(first) == 8 and first != task
    assert first == answer(one, Operation.EMBED, model="gemini-embedding-001")["embedding"]["values"]
