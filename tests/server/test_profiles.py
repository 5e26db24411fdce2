"""What each model family sends, pinned against what the real service sent in the recordings.

For every family the recordings hold, and for unary and streamed text and function-call answers, the
set of fields (as paths, list items as ``[]``) the emulator's default model sends must equal the set
the real service sent to an ordinary request (recordings since 2026-05, when every family began to
report ``serviceTier``; optional features such as grounding, caching or thought summaries left out).
The key order of a candidate and of usageMetadata is pinned too.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from test_wire import request

from emulator import EmulatorThread

TOP = {"candidates", "usageMetadata", "modelVersion", "responseId"}
CONTENT = {"candidates[].content", "candidates[].content.parts", "candidates[].content.role"}
PROMPT = {"usageMetadata.promptTokenCount", "usageMetadata.totalTokenCount", "usageMetadata.promptTokensDetails",
          "usageMetadata.promptTokensDetails[].modality", "usageMetadata.promptTokensDetails[].tokenCount",
          "usageMetadata.serviceTier"}  # fmt: skip
OUTPUT = {"usageMetadata.candidatesTokenCount"}
DETAILS = {"usageMetadata.candidatesTokensDetails", "usageMetadata.candidatesTokensDetails[].modality",
           "usageMetadata.candidatesTokensDetails[].tokenCount"}  # fmt: skip
THOUGHTS = {"usageMetadata.thoughtsTokenCount"}
TEXT = {"candidates[].content.parts[].text"}
CALL = {"candidates[].content.parts[].functionCall", "candidates[].content.parts[].functionCall.name",
        "candidates[].content.parts[].functionCall.args"}  # fmt: skip
SIGNED = {"candidates[].content.parts[].thoughtSignature"}
CALL_ID = {"candidates[].content.parts[].functionCall.id"}
MEDIA = {"candidates[].content.parts[].inlineData", "candidates[].content.parts[].inlineData.mimeType",
         "candidates[].content.parts[].inlineData.data"}  # fmt: skip


def finished(*more: str) -> set[str]:
    return {"candidates[].finishReason", *more}


# (family, a model of it, answer kind, stream) -> the fields of the real answers (profiles of the recordings)
EXPECTED: dict[tuple[str, str, str, bool], set[str]] = {
    # gemini-2.0-flash: no index; avgLogprobs on unary answers only; candidatesTokensDetails always (a
    # stream's last chunk); the partial chunks of a stream have no candidatesTokenCount.
    ("gemini-2.0", "gemini-2.0-flash", "text", False):
        TOP | CONTENT | PROMPT | OUTPUT | DETAILS | TEXT | finished("candidates[].avgLogprobs"),
    ("gemini-2.0", "gemini-2.0-flash", "call", False):
        TOP | CONTENT | PROMPT | OUTPUT | DETAILS | CALL | finished("candidates[].avgLogprobs"),
    ("gemini-2.0", "gemini-2.0-flash", "text", True): TOP | CONTENT | PROMPT | OUTPUT | DETAILS | TEXT | finished(),
    ("gemini-2.0", "gemini-2.0-flash", "call", True): TOP | CONTENT | PROMPT | OUTPUT | DETAILS | CALL | finished(),
    # gemini-2.5: index; thoughtsTokenCount when it thought; a call answer's finishMessage; a call signed
    # when the request has tools and the model thought; no call ids.
    ("gemini-2.5", "gemini-2.5-flash", "text", False):
        TOP | CONTENT | PROMPT | OUTPUT | THOUGHTS | TEXT | finished("candidates[].index"),
    ("gemini-2.5", "gemini-2.5-flash", "call", False):
        TOP | CONTENT | PROMPT | OUTPUT | THOUGHTS | CALL | SIGNED | finished("candidates[].index",
                                                                             "candidates[].finishMessage"),
    ("gemini-2.5", "gemini-2.5-flash", "text", True):
        TOP | CONTENT | PROMPT | OUTPUT | THOUGHTS | TEXT | finished("candidates[].index"),
    ("gemini-2.5", "gemini-2.5-flash", "call", True):
        TOP | CONTENT | PROMPT | OUTPUT | THOUGHTS | CALL | SIGNED | finished("candidates[].index",
                                                                             "candidates[].finishMessage"),
    # gemini-3: signs whenever it thought (the text, the first call), names its calls; a stream ends with
    # an empty text part that carries the finish (and no finishMessage).
    ("gemini-3", "gemini-3-flash-preview", "text", False):
        TOP | CONTENT | PROMPT | OUTPUT | THOUGHTS | TEXT | SIGNED | finished("candidates[].index"),
    ("gemini-3", "gemini-3-flash-preview", "call", False):
        TOP | CONTENT | PROMPT | OUTPUT | THOUGHTS | CALL | CALL_ID | SIGNED
        | finished("candidates[].index", "candidates[].finishMessage"),
    ("gemini-3", "gemini-3-flash-preview", "text", True):
        TOP | CONTENT | PROMPT | OUTPUT | THOUGHTS | TEXT | SIGNED | finished("candidates[].index"),
    ("gemini-3", "gemini-3-flash-preview", "call", True):
        TOP | CONTENT | PROMPT | OUTPUT | THOUGHTS | TEXT | CALL | CALL_ID | SIGNED | finished("candidates[].index"),
    # gemini-1.5-flash: as 2.0 (its recordings predate serviceTier, which every family sends since).
    ("gemini-1.5", "gemini-1.5-flash", "text", False):
        TOP | CONTENT | PROMPT | OUTPUT | DETAILS | TEXT | finished("candidates[].avgLogprobs"),
    ("gemini-1.5", "gemini-1.5-flash", "call", False):
        TOP | CONTENT | PROMPT | OUTPUT | DETAILS | CALL | finished("candidates[].avgLogprobs"),
    # image and speech models: inlineData and its modality in candidatesTokensDetails; the 3.x image
    # models think and sign the picture.
    ("image-3", "gemini-3-pro-image", "text", False):
        TOP | CONTENT | PROMPT | OUTPUT | DETAILS | THOUGHTS | TEXT | MEDIA | SIGNED | finished("candidates[].index"),
    ("image-3", "gemini-3-pro-image", "text", True):
        TOP | CONTENT | PROMPT | OUTPUT | DETAILS | THOUGHTS | TEXT | MEDIA | SIGNED | finished("candidates[].index"),
    ("image-2.5", "gemini-2.5-flash-image", "text", False):
        TOP | CONTENT | PROMPT | OUTPUT | DETAILS | TEXT | MEDIA | finished("candidates[].index"),
    ("tts", "gemini-2.5-flash-preview-tts", "text", False):
        TOP | CONTENT | PROMPT | OUTPUT | DETAILS | MEDIA | finished("candidates[].index"),
}  # fmt: skip
WEATHER = [{"functionDeclarations": [{"name": "get_weather", "parameters": {
    "type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}}]}]  # fmt: skip


def paths(value: Any, prefix: str = "") -> Iterator[str]:
    """Every field's path; a call's ``args`` are the function's own, not the API's."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{prefix}.{key}" if prefix else key
            yield here
            if not here.endswith("functionCall.args"):
                yield from paths(item, here)
    elif isinstance(value, list):
        for item in value:
            yield from paths(item, f"{prefix}[]")


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorThread]:
    with EmulatorThread() as emu:
        yield emu


def ask(emu: EmulatorThread, model: str, kind: str, stream: bool) -> list[dict[str, Any]]:
    body: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": "What is the weather in Lisbon?"}]}]}
    if kind == "call":
        body["tools"] = WEATHER
    if model.endswith("-tts"):
        body["generationConfig"] = {"responseModalities": ["AUDIO"]}
    path = f"/v1beta/models/{model}:{'streamGenerateContent?alt=sse' if stream else 'generateContent'}"
    status, headers, payload = request(emu.url, "POST", path, body)
    assert status == 200, payload
    if not stream:
        assert headers["x-gemini-service-tier"] == "standard"  # on unary generateContent only
        return [json.loads(payload)]
    assert "x-gemini-service-tier" not in headers
    return [json.loads(line[6:]) for line in payload.decode().split("\r\n\r\n") if line.startswith("data: ")]


@pytest.mark.parametrize(("family", "model", "kind", "stream"), list(EXPECTED), ids=lambda v: str(v))
def test_the_fields_of_each_family_are_the_real_ones(
    emu: EmulatorThread, family: str, model: str, kind: str, stream: bool
) -> None:
    bodies = ask(emu, model, kind, stream)
    sent = {p for body in bodies for p in paths(body)}
    expected = EXPECTED[(family, model, kind, stream)]
    assert sent == expected, f"extra: {sorted(sent - expected)}; missing: {sorted(expected - sent)}"


def test_the_key_order_is_the_real_one(emu: EmulatorThread) -> None:
    (body,) = ask(emu, "gemini-2.5-flash", "call", False)
    assert list(body) == ["candidates", "usageMetadata", "modelVersion", "responseId"]
    assert list(body["candidates"][0]) == ["content", "finishReason", "index", "finishMessage"]
    assert list(body["candidates"][0]["content"]) == ["parts", "role"]
    assert list(body["usageMetadata"]) == [
        "promptTokenCount", "candidatesTokenCount", "totalTokenCount", "promptTokensDetails", "thoughtsTokenCount",
        "serviceTier",
    ]  # fmt: skip
    (old,) = ask(emu, "gemini-2.0-flash", "text", False)
    assert list(old["candidates"][0]) == ["content", "finishReason", "avgLogprobs"]
    assert list(old["usageMetadata"]) == [
        "promptTokenCount", "candidatesTokenCount", "totalTokenCount", "promptTokensDetails",
        "candidatesTokensDetails", "serviceTier",
    ]  # fmt: skip
    *partial, last = ask(emu, "gemini-2.0-flash", "text", True)
    assert all("candidatesTokenCount" not in c["usageMetadata"] for c in partial) and partial
    assert "candidatesTokensDetails" in last["usageMetadata"]


def test_gemini_3_streams_end_with_a_signed_empty_text(emu: EmulatorThread) -> None:
    *_, last = ask(emu, "gemini-3-flash-preview", "text", True)
    (part,) = last["candidates"][0]["content"]["parts"]
    assert part["text"] == "" and part["thoughtSignature"] and last["candidates"][0]["finishReason"] == "STOP"


def test_media_answers_decode() -> None:
    """An image model's PNG opens as an image; a speech model's PCM lasts about as long as the text."""
    pil = pytest.importorskip("PIL.Image")
    with EmulatorThread() as emu:
        (body,) = ask(emu, "gemini-2.5-flash-image", "text", False)
        image = [p for p in body["candidates"][0]["content"]["parts"] if "inlineData" in p][0]["inlineData"]
        assert image["mimeType"] == "image/png"
        assert pil.open(io.BytesIO(base64.b64decode(image["data"]))).size == (64, 64)
        (body,) = ask(emu, "gemini-2.5-flash-preview-tts", "text", False)
        audio = body["candidates"][0]["content"]["parts"][0]["inlineData"]
        assert audio["mimeType"] == "audio/L16;codec=pcm;rate=24000"
        seconds = len(base64.b64decode(audio["data"])) / (2 * 24_000)
        assert 2 < seconds < 5  # "What is the weather in Lisbon?": six words
        assert body["usageMetadata"]["candidatesTokensDetails"] == [
            {"modality": "AUDIO", "tokenCount": body["usageMetadata"]["candidatesTokenCount"]}
        ]
