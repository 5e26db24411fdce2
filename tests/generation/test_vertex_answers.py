"""Vertex AI's answers to countTokens, computeTokens, predict and embedContent, pinned against the
recorded real answers (their shapes and billed characters) and the SDK's types (computeTokens, which no
recording holds)."""

from __future__ import annotations

import base64
import math
from typing import Any

import pytest
from vertex_calls import run, vertex_call

from emulator.wire import tokens
from emulator.wire.call import Operation


def answer(body: dict[str, Any], method: Operation, model: str) -> dict[str, Any]:
    (reply,) = run(vertex_call(body, method, model))
    return reply


def text_content(text: str, role: str = "user") -> dict[str, Any]:
    return {"role": role, "parts": [{"text": text}]}


# Recorded countTokens requests (Vertex, 2026) and the totalBillableCharacters the real service answered.
BILLED = [
    ({"contents": [text_content("What is the capital of France?")]}, "gemini-2.5-flash", 25),
    (
        {
            "contents": [text_content("What is the capital of France?")],
            "systemInstruction": text_content("You are a helpful chatbot."),
            "tools": [{"googleSearch": {}}],
        },
        "gemini-2.5-flash",
        47,
    ),
    (
        {
            "contents": [text_content("What is the largest city in the user country? Use the get_user_country tool "
                                      "and then your own world knowledge.")],
            "generationConfig": {"max_output_tokens": 100},
            "systemInstruction": text_content("You are a chatbot."),
            "tools": [{"functionDeclarations": [{"description": "", "name": "get_user_country",
                                                 "parameters": {"properties": {}, "type": "OBJECT"}}]}],
        },
        "gemini-2.0-flash",
        123,
    ),
]  # fmt: skip


@pytest.mark.parametrize(("body", "model", "billed"), BILLED)
def test_count_tokens_bills_what_vertex_bills(body: dict[str, Any], model: str, billed: int) -> None:
    counted = answer(body, Operation.COUNT_TOKENS, model)
    assert list(counted) == ["totalTokens", "totalBillableCharacters", "promptTokensDetails"]
    assert counted["totalBillableCharacters"] == billed
    assert counted["promptTokensDetails"] == [{"modality": "TEXT", "tokenCount": counted["totalTokens"]}]


def test_count_tokens_counts_as_generate_content_does() -> None:
    body = {"contents": [text_content("Hello there")], "systemInstruction": text_content("Be brief.")}
    counted = answer(body, Operation.COUNT_TOKENS, "gemini-2.5-flash")
    assert (
        counted["totalTokens"]
        == answer(body, Operation.GENERATE, "gemini-2.5-flash")["usageMetadata"]["promptTokenCount"]
    )


def test_compute_tokens_lists_each_contents_tokens() -> None:
    """``ComputeTokensResponse.tokensInfo``: ``tokens`` are bytes (base64), ``tokenIds`` int64 (strings)."""
    question, reply = "What is the capital of France?", "Paris, of course."
    body = {"contents": [text_content(question), text_content(reply, "model")]}
    infos = answer(body, Operation.COMPUTE_TOKENS, "gemini-2.5-flash")["tokensInfo"]
    assert [list(info) for info in infos] == [["tokens", "tokenIds", "role"]] * 2
    assert [info["role"] for info in infos] == ["user", "model"]
    for info, text in zip(infos, (question, reply), strict=True):
        pieces = [base64.b64decode(token).decode() for token in info["tokens"]]
        assert "".join(pieces) == text and len(pieces) == tokens.count_text(text)
        assert all(isinstance(i, str) and 0 <= int(i) < tokens.VOCABULARY for i in info["tokenIds"])
    assert infos[0]["tokens"][:2] == ["V2hhdA==", "IGlz"]  # "What", " is": the space rides with the token
    assert infos[0]["tokenIds"][1] == str(tokens.token_id(" is"))


def test_predict_answers_one_embedding_per_instance() -> None:
    """As the recorded text-embedding-004 answer to "Ruby", "Python", "JavaScript" (20 billed characters)."""
    body = {"instances": [{"content": "Ruby"}, {"content": "Python"}, {"content": "JavaScript"}]}
    reply = answer(body, Operation.PREDICT, "text-embedding-004")
    assert list(reply) == ["predictions", "metadata"] and reply["metadata"] == {"billableCharacterCount": 20}
    assert len(reply["predictions"]) == 3
    for prediction, text in zip(reply["predictions"], ("Ruby", "Python", "JavaScript"), strict=True):
        assert list(prediction) == ["embeddings"] and list(prediction["embeddings"]) == ["values", "statistics"]
        statistics = prediction["embeddings"]["statistics"]
        assert statistics == {"token_count": tokens.count_text(text), "truncated": False}
        values = prediction["embeddings"]["values"]
        assert len(values) == 768 and math.isclose(sum(v * v for v in values), 1.0)


def test_predict_follows_the_parameters_and_the_task() -> None:
    instance = {"content": "Ruby is a programmer's best friend"}
    one: dict[str, Any] = {"instances": [instance], "parameters": {"outputDimensionality": 8}}
    reply = answer(one, Operation.PREDICT, "text-embedding-004")
    values = reply["predictions"][0]["embeddings"]["values"]
    assert len(values) == 8 and reply["metadata"]["billableCharacterCount"] == 29
    assert values == answer(one, Operation.PREDICT, "text-embedding-004")["predictions"][0]["embeddings"]["values"]
    task = {**one, "instances": [{**instance, "task_type": "RETRIEVAL_QUERY"}]}
    assert answer(task, Operation.PREDICT, "text-embedding-004")["predictions"][0]["embeddings"]["values"] != values


def test_predict_cuts_a_text_over_the_input_limit() -> None:
    long = " ".join(["word"] * 3000)
    statistics = answer({"instances": [{"content": long}]}, Operation.PREDICT, "text-embedding-004")["predictions"][0][
        "embeddings"
    ]["statistics"]
    assert statistics == {"token_count": 2048, "truncated": True}


def test_embed_content_on_vertex() -> None:
    """Vertex AI's EmbedContentResponse (the SDK's ``_EmbedContentResponse_from_vertex`` reads
    ``embedding``, ``usageMetadata`` and ``truncated``); the options sit in ``embedContentConfig``."""
    body = {"content": {"parts": [{"text": "Hello, world!"}]}, "embedContentConfig": {"outputDimensionality": 16}}
    reply = answer(body, Operation.EMBED, "gemini-embedding-2-preview")
    assert list(reply) == ["embedding", "usageMetadata"] and list(reply["embedding"]) == ["values"]
    assert len(reply["embedding"]["values"]) == 16
    count = tokens.count_text("Hello, world!")
    assert reply["usageMetadata"] == {
        "promptTokenCount": count, "totalTokenCount": count, "promptTokensDetails": [{"modality": "TEXT",
                                                                                     "tokenCount": count}],
    }  # fmt: skip


def test_the_same_text_embeds_alike_by_predict_and_embed_content() -> None:
    by_predict = answer({"instances": [{"content": "Ruby"}]}, Operation.PREDICT, "gemini-embedding-001")
    by_embed = answer({"content": {"parts": [{"text": "Ruby"}]}}, Operation.EMBED, "gemini-embedding-001")
    assert by_predict["predictions"][0]["embeddings"]["values"] == by_embed["embedding"]["values"]
