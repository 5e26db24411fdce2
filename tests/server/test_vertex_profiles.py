"""What each model family sends to a Vertex AI call, end to end: pinned against the recorded real
Vertex traffic (the expectations of ``tests/generation/vertex_expected.py``), over HTTP with a bearer
token on the ``projects/{p}/locations/{l}/publishers/google/models`` paths, together with the bytes of
unary bodies and stream events and the other calls' shapes.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest

from emulator import EmulatorThread


def _expectations() -> ModuleType:
    path = Path(__file__).parents[1] / "generation" / "vertex_expected.py"
    spec = importlib.util.spec_from_file_location("vertex_expected_e2e", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXPECTATIONS = _expectations()
BASE = "/v1beta1/projects/p/locations/us-central1/publishers/google/models"
CASES = [
    pytest.param(*key, expected, id=str(key))
    for key, expected in [*EXPECTATIONS.EXPECTED.items(), *EXPECTATIONS.INFERRED.items()]
]


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorThread]:
    with EmulatorThread() as emu:
        yield emu


def post(emu: EmulatorThread, model: str, method: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """A Vertex AI call as the SDKs send it: OAuth bearer token, no API key."""
    parts = urlsplit(emu.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    query = "?alt=sse" if method == "streamGenerateContent" else ""
    headers = {"Authorization": "Bearer t", "Content-Type": "application/json"}
    conn.request("POST", f"{BASE}/{model}:{method}{query}", body=json.dumps(body).encode(), headers=headers)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, payload


def events(payload: bytes) -> list[str]:
    raw = payload.decode()
    assert raw.endswith("\r\n\r\n")
    return [event.removeprefix("data: ") for event in raw.split("\r\n\r\n") if event]


def ask(emu: EmulatorThread, model: str, kind: str, stream: bool) -> list[dict[str, Any]]:
    method = "streamGenerateContent" if stream else "generateContent"
    status, _, payload = post(emu, model, method, EXPECTATIONS.question(kind, model))
    assert status == 200, payload
    return [json.loads(event) for event in events(payload)] if stream else [json.loads(payload)]


@pytest.mark.parametrize(("family", "model", "kind", "stream", "expected"), CASES)
def test_the_fields_of_each_family_are_the_real_ones(
    emu: EmulatorThread, family: str, model: str, kind: str, stream: bool, expected: set[str]
) -> None:
    sent = {p for body in ask(emu, model, kind, stream) for p in EXPECTATIONS.paths(body)}
    assert sent == expected, f"extra: {sorted(sent - expected)}; missing: {sorted(expected - sent)}"


def test_unary_bodies_are_written_as_the_real_ones(emu: EmulatorThread) -> None:
    status, headers, payload = post(emu, "gemini-2.5-flash", "generateContent", EXPECTATIONS.question("call"))
    assert status == 200 and headers["content-type"] == "application/json; charset=UTF-8"
    assert "x-gemini-service-tier" not in headers
    body = json.loads(payload)
    assert payload.decode() == json.dumps(body, ensure_ascii=False, indent=2) + "\n"
    assert list(body) == ["candidates", "usageMetadata", "modelVersion", "createTime", "responseId"]
    assert list(body["candidates"][0]) == ["content", "finishReason", "avgLogprobs"]
    assert list(body["candidates"][0]["content"]) == ["role", "parts"]
    assert list(body["usageMetadata"]) == [
        "promptTokenCount", "candidatesTokenCount", "totalTokenCount", "trafficType", "promptTokensDetails",
        "candidatesTokensDetails", "thoughtsTokenCount",
    ]  # fmt: skip


def test_stream_events_are_written_as_the_real_ones(emu: EmulatorThread) -> None:
    status, headers, payload = post(emu, "gemini-2.5-flash", "streamGenerateContent", EXPECTATIONS.question())
    assert status == 200 and headers["content-type"] == "text/event-stream"
    lines = events(payload)
    for line in lines:
        assert line == json.dumps(json.loads(line), ensure_ascii=False, separators=(",", ": "))
        assert line.startswith('{"candidates": [{"content": {"role": "model","parts": [')
    chunks = [json.loads(line) for line in lines]
    assert len(chunks) > 1 and all(c["usageMetadata"] == {"trafficType": "ON_DEMAND"} for c in chunks[:-1])
    assert len({(c["createTime"], c["responseId"]) for c in chunks}) == 1


def test_count_tokens(emu: EmulatorThread) -> None:
    question = {"contents": [{"role": "user", "parts": [{"text": "What is the capital of France?"}]}]}
    status, _, payload = post(emu, "gemini-2.5-flash", "countTokens", question)
    counted = json.loads(payload)
    assert status == 200 and list(counted) == ["totalTokens", "totalBillableCharacters", "promptTokensDetails"]
    assert counted["totalBillableCharacters"] == 25  # the recorded figure


def test_compute_tokens(emu: EmulatorThread) -> None:
    question = {"contents": [{"role": "user", "parts": [{"text": "What is the capital of France?"}]}]}
    status, _, payload = post(emu, "gemini-2.5-flash", "computeTokens", question)
    (info,) = json.loads(payload)["tokensInfo"]
    assert status == 200 and list(info) == ["tokens", "tokenIds", "role"] and info["tokens"][0] == "V2hhdA=="


def test_predict_and_embed_content(emu: EmulatorThread) -> None:
    instances = {"instances": [{"content": "Ruby"}, {"content": "Python"}], "parameters": {"outputDimensionality": 4}}
    status, _, payload = post(emu, "text-embedding-004", "predict", instances)
    reply = json.loads(payload)
    assert status == 200 and reply["metadata"] == {"billableCharacterCount": 10}
    assert [len(p["embeddings"]["values"]) for p in reply["predictions"]] == [4, 4]
    assert reply["predictions"][0]["embeddings"]["statistics"] == {"token_count": 1, "truncated": False}
    content = {"content": {"parts": [{"text": "Ruby"}]}, "embedContentConfig": {"outputDimensionality": 4}}
    status, _, payload = post(emu, "gemini-embedding-2-preview", "embedContent", content)
    embedded = json.loads(payload)
    assert status == 200 and list(embedded) == ["embedding", "usageMetadata"]
    assert len(embedded["embedding"]["values"]) == 4 and embedded["usageMetadata"]["promptTokenCount"] == 1
