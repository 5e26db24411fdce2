"""Vertex AI's shape of the answers the emulator writes, pinned against the recorded real Vertex traffic.

For every family the Vertex recordings hold, and for unary and streamed text and function-call
answers, the set of fields (as paths, list items as ``[]``) the default model sends to a Vertex call
must equal the set the real service sent to an ordinary request (794 recorded exchanges, 2025-03 to
2026-08; for the families that changed, their latest form, gemini-3 since 2026-07; optional
features such as grounding, caching, citations or logprobs left out). Key orders are pinned too.
The calls are built as the server builds them and signed as it signs them; no server runs.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from vertex_calls import ask, developer_call, run, vertex_call
from vertex_expected import EXPECTED, INFERRED, QUESTION, paths

from emulator.generation import framing
from emulator.wire import encode
from emulator.wire.call import Operation
from emulator.wire.flavour import Flavour

CASES = [pytest.param(*key, expected, id=str(key)) for key, expected in [*EXPECTED.items(), *INFERRED.items()]]


@pytest.mark.parametrize(("family", "model", "kind", "stream", "expected"), CASES)
def test_the_fields_of_each_family_are_the_real_ones(
    family: str, model: str, kind: str, stream: bool, expected: set[str]
) -> None:
    bodies = ask(model, kind, stream)
    sent = {p for body in bodies for p in paths(body)}
    assert sent == expected, f"extra: {sorted(sent - expected)}; missing: {sorted(expected - sent)}"


def test_the_key_order_is_the_real_one() -> None:
    (body,) = ask("gemini-2.5-flash", "call", False)
    assert list(body) == ["candidates", "usageMetadata", "modelVersion", "createTime", "responseId"]
    assert list(body["candidates"][0]) == ["content", "finishReason", "avgLogprobs"]
    assert list(body["candidates"][0]["content"]) == ["role", "parts"]
    assert list(body["candidates"][0]["content"]["parts"][0]) == ["functionCall", "thoughtSignature"]
    assert list(body["usageMetadata"]) == [
        "promptTokenCount", "candidatesTokenCount", "totalTokenCount", "trafficType", "promptTokensDetails",
        "candidatesTokensDetails", "thoughtsTokenCount",
    ]  # fmt: skip
    assert body["usageMetadata"]["trafficType"] == "ON_DEMAND"
    (named,) = ask("gemini-3-flash-preview", "call", False)
    assert list(named["candidates"][0]["content"]["parts"][0]["functionCall"]) == ["name", "args", "id"]


def test_a_stream_reports_its_counts_on_the_last_chunk_only() -> None:
    *partial, last = ask("gemini-3-flash-preview", "text", True)
    assert partial and all(chunk["usageMetadata"] == {"trafficType": "ON_DEMAND"} for chunk in partial)
    assert all("finishReason" not in c for chunk in partial for c in chunk["candidates"])
    usage = last["usageMetadata"]
    assert (
        usage["totalTokenCount"]
        == usage["promptTokenCount"] + usage["candidatesTokenCount"] + usage["thoughtsTokenCount"]
    )
    (part,) = last["candidates"][0]["content"]["parts"]
    assert part["text"] == "" and part["thoughtSignature"] and last["candidates"][0]["finishReason"] == "STOP"


def test_every_chunk_has_the_same_time_and_id_in_the_real_form() -> None:
    chunks = ask("gemini-2.5-flash", "text", True)
    assert len({(c["createTime"], c["responseId"]) for c in chunks}) == 1 and len(chunks) > 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", chunks[0]["createTime"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{20,23}", chunks[0]["responseId"])


def test_the_same_request_gets_the_same_answer() -> None:
    first = ask("gemini-2.5-flash", "call", False)
    assert first == ask("gemini-2.5-flash", "call", False)
    assert ask("gemini-2.5-flash", "text", True) == ask("gemini-2.5-flash", "text", True)


def test_the_text_is_the_developer_apis() -> None:
    """Only the shape differs: the same request gets the same words and counts on both flavours."""
    body = {"contents": [{"role": "user", "parts": [{"text": QUESTION}]}]}
    vertex = run(vertex_call(body))[0]
    developer = run(developer_call(body))[0]
    assert vertex["candidates"][0]["content"]["parts"] == developer["candidates"][0]["content"]["parts"]
    assert vertex["responseId"] == developer["responseId"]
    assert {
        k: v for k, v in vertex["usageMetadata"].items() if k not in ("trafficType", "candidatesTokensDetails")
    } == {k: v for k, v in developer["usageMetadata"].items() if k != "serviceTier"}


def test_a_second_candidate_says_which_it_is_first() -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}], "generationConfig": {"candidateCount": 2}}
    (answer,) = run(vertex_call(body))
    first, second = answer["candidates"]
    assert "index" not in first and list(second)[:2] == ["index", "content"] and second["index"] == 1


def test_a_picture_and_its_line_are_counted_apart() -> None:
    """As the recorded gemini-2.5-flash-image answer: ``TEXT 5, IMAGE 1290`` for a line and a PNG."""
    (body,) = ask("gemini-2.5-flash-image", "text", False)
    usage = body["usageMetadata"]
    text, image = usage["candidatesTokensDetails"]
    assert text["modality"] == "TEXT" and image == {"modality": "IMAGE", "tokenCount": 1290}
    assert text["tokenCount"] + image["tokenCount"] == usage["candidatesTokenCount"]


def test_framing_reorders_what_a_scenario_adds() -> None:
    call = vertex_call({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]})
    usage = {"promptTokenCount": 3, "cachedContentTokenCount": 2, **framing.usage((3, [{"modality": "TEXT",
             "tokenCount": 3}]), 4, 0)}  # fmt: skip
    candidate = framing.candidate(0, [{"text": "Hello"}], "STOP", finishMessage="Done.")
    body = framing.response(call, "r" * 22, [candidate], usage)
    assert list(body["candidates"][0]) == ["content", "finishReason", "finishMessage", "avgLogprobs"]
    assert list(body["usageMetadata"]) == [
        "promptTokenCount", "candidatesTokenCount", "totalTokenCount", "cachedContentTokenCount", "trafficType",
        "promptTokensDetails", "candidatesTokensDetails",
    ]  # fmt: skip


def test_a_blocked_prompt_has_each_flavours_shape() -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}
    feedback = {"blockReason": "SAFETY"}
    vertex = framing.blocked(vertex_call(body), "r" * 22, feedback)
    assert list(vertex) == ["promptFeedback", "usageMetadata", "modelVersion", "createTime", "responseId"]
    assert list(vertex["usageMetadata"]) == [
        "promptTokenCount",
        "totalTokenCount",
        "trafficType",
        "promptTokensDetails",
    ]
    developer = framing.blocked(developer_call(body), "r" * 22, feedback)
    assert list(developer) == ["promptFeedback", "usageMetadata", "modelVersion", "responseId"]
    assert developer["usageMetadata"]["serviceTier"] == "standard"


# A chunk of a recorded Vertex stream (gemini-2.5-flash, 2026-08-19), byte for byte.
RECORDED_CHUNK = (
    b'data: {"candidates": [{"content": {"role": "model","parts": [{"text": "15\xc2\xb0C with"}]}}],'
    b'"usageMetadata": {"trafficType": "ON_DEMAND"},"modelVersion": "gemini-2.5-flash",'
    b'"createTime": "2026-08-19T14:38:23.916396Z","responseId": "37-Faqz3N4jltfAPjcuNiAM"}\r\n\r\n'
)


def test_a_vertex_chunk_is_written_as_the_real_one() -> None:
    chunk: dict[str, Any] = json.loads(RECORDED_CHUNK[len(b"data: ") :].decode())
    assert encode.sse_event(chunk, Flavour.VERTEX) == RECORDED_CHUNK
    assert encode.sse_event(chunk, Flavour.VERTEX) == encode.sse_event(chunk)
    assert encode.line({"a": "<b>"}, Flavour.VERTEX) == '{"a": "\\u003cb\\u003e"}'


def test_developer_calls_keep_the_developer_shape() -> None:
    (body,) = run(developer_call({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}, Operation.GENERATE))
    assert list(body) == ["candidates", "usageMetadata", "modelVersion", "responseId"]
    assert list(body["candidates"][0]["content"]) == ["parts", "role"] and body["candidates"][0]["index"] == 0
    assert "trafficType" not in body["usageMetadata"] and body["usageMetadata"]["serviceTier"] == "standard"
