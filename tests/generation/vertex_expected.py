"""What the real Vertex AI service sent, family by family: the expected field sets of the emulator's
Vertex answers, shared by the framing tests (no server) and the end-to-end ones.

Measured in the recorded Vertex traffic (794 exchanges, 2025-03 to 2026-08) for ordinary requests (one
question, with a function for the call answers; grounding, caching, citations and logprobs left out),
each family in its latest form (gemini-3 changed in 2026-07). Fields are paths, list items ``[]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

QUESTION = "What is the weather in Lisbon?"
WEATHER = [{"functionDeclarations": [{"name": "get_weather", "parameters": {
    "type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}}]}]  # fmt: skip

TOP = {"candidates", "usageMetadata", "modelVersion", "createTime", "responseId"}
CONTENT = {"candidates[].content", "candidates[].content.parts", "candidates[].content.role"}
PROMPT = {"usageMetadata.promptTokenCount", "usageMetadata.totalTokenCount", "usageMetadata.promptTokensDetails",
          "usageMetadata.promptTokensDetails[].modality", "usageMetadata.promptTokensDetails[].tokenCount",
          "usageMetadata.trafficType"}  # fmt: skip
OUTPUT = {"usageMetadata.candidatesTokenCount", "usageMetadata.candidatesTokensDetails",
          "usageMetadata.candidatesTokensDetails[].modality",
          "usageMetadata.candidatesTokensDetails[].tokenCount"}  # fmt: skip
THOUGHTS = {"usageMetadata.thoughtsTokenCount"}
TEXT = {"candidates[].content.parts[].text"}
CALL = {"candidates[].content.parts[].functionCall", "candidates[].content.parts[].functionCall.name",
        "candidates[].content.parts[].functionCall.args"}  # fmt: skip
SIGNED = {"candidates[].content.parts[].thoughtSignature"}
CALL_ID = {"candidates[].content.parts[].functionCall.id"}
MEDIA = {"candidates[].content.parts[].inlineData", "candidates[].content.parts[].inlineData.mimeType",
         "candidates[].content.parts[].inlineData.data"}  # fmt: skip
BASE = TOP | CONTENT | PROMPT | OUTPUT  # every family's answer: Vertex always itemises candidatesTokensDetails


def finished(*more: str) -> set[str]:
    return {"candidates[].finishReason", *more}


AVG = "candidates[].avgLogprobs"
# (family, a model of it, answer kind, stream) -> the fields of the real Vertex answers
EXPECTED: dict[tuple[str, str, str, bool], set[str]] = {
    # gemini-2.0-flash (38 unary text answers, 2025-03..06): avgLogprobs, no index, no thoughts.
    ("gemini-2.0", "gemini-2.0-flash", "text", False): BASE | TEXT | finished(AVG),
    # gemini-2.5-flash (428 unary, 90 streamed): avgLogprobs on every unary answer, none in a stream; a
    # call signed when the model thought; no finishMessage and no id on calls.
    ("gemini-2.5", "gemini-2.5-flash", "text", False): BASE | THOUGHTS | TEXT | finished(AVG),
    ("gemini-2.5", "gemini-2.5-flash", "call", False): BASE | THOUGHTS | CALL | SIGNED | finished(AVG),
    ("gemini-2.5", "gemini-2.5-flash", "text", True): BASE | THOUGHTS | TEXT | finished(),
    ("gemini-2.5", "gemini-2.5-flash", "call", True): BASE | THOUGHTS | CALL | SIGNED | finished(),
    # gemini-3 (3-flash-preview and 3.1-pro-preview since 2026-07): no avgLogprobs, calls named with an
    # id, no finishMessage; the answer is signed; a stream ends with a signed empty text and the finish.
    ("gemini-3", "gemini-3-flash-preview", "text", False): BASE | THOUGHTS | TEXT | SIGNED | finished(),
    ("gemini-3", "gemini-3-flash-preview", "call", False): BASE | THOUGHTS | CALL | CALL_ID | SIGNED | finished(),
    ("gemini-3", "gemini-3-flash-preview", "text", True): BASE | THOUGHTS | TEXT | SIGNED | finished(),
    ("gemini-3", "gemini-3.1-pro-preview", "text", False): BASE | THOUGHTS | TEXT | SIGNED | finished(),
    ("gemini-3", "gemini-3.1-pro-preview", "call", False): BASE | THOUGHTS | CALL | CALL_ID | SIGNED | finished(),
    # image models: gemini-2.5-flash-image (a line and a PNG, 2025-10), gemini-3.1-flash-lite-image (a
    # signed JPEG alone, not thinking); no avgLogprobs.
    ("image-2.5", "gemini-2.5-flash-image", "text", False): BASE | TEXT | MEDIA | finished(),
    ("image-3", "gemini-3.1-flash-lite-image", "image", False): BASE | MEDIA | SIGNED | finished(),
}  # fmt: skip
# Not in the recordings (no such Vertex request was recorded): what the families' recorded answers imply.
INFERRED: dict[tuple[str, str, str, bool], set[str]] = {
    ("gemini-2.0", "gemini-2.0-flash", "call", False): BASE | CALL | finished(AVG),
    ("gemini-2.0", "gemini-2.0-flash", "text", True): BASE | TEXT | finished(),
    # No closing empty text after a streamed call: Vertex signs its closing text in every recorded stream,
    # and refuses an unsigned empty one sent back (the SDK sends the streamed turn back whole).
    ("gemini-3", "gemini-3-flash-preview", "call", True): BASE | THOUGHTS | CALL | CALL_ID | SIGNED | finished(),
    ("image-3", "gemini-3-pro-image", "text", False): BASE | THOUGHTS | TEXT | MEDIA | SIGNED | finished(),
}  # fmt: skip


def question(kind: str = "text", model: str = "gemini-2.5-flash") -> dict[str, Any]:
    """The ordinary request: one question, with a function to call for ``call``; an image model asked for
    text and a picture, or (``image``) for the picture alone, as the recorded 3.1 image answer was."""
    body: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": QUESTION}]}]}
    if kind == "call":
        body["tools"] = WEATHER
    if "image" in model:
        body["generationConfig"] = {"responseModalities": ["IMAGE"] if kind == "image" else ["TEXT", "IMAGE"]}
    return body


def paths(value: Any, prefix: str = "") -> Iterator[str]:
    """Every field's path, list items as ``[]``; a call's ``args`` are the function's own, not the API's."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{prefix}.{key}" if prefix else key
            yield here
            if not here.endswith("functionCall.args"):
                yield from paths(item, here)
    elif isinstance(value, list):
        for item in value:
            yield from paths(item, f"{prefix}[]")
