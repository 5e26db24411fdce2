"""Parts in, GenerateContentResponse JSON out: the framing every producing backend shares.

Keeps the invariants the SDKs rely on in one place: ``role: model`` on every content, one
``responseId`` and ``modelVersion`` for all chunks of a stream, running usage whose
``totalTokenCount`` is prompt + candidates + thoughts, ``finishReason`` on the last chunk only,
function calls never split and no empty text parts.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import orjson

from ..wire import tokens
from ..wire.call import Call

Part = dict[str, Any]
CHUNK_TOKENS = 8


# For what orjson refuses: integers beyond 64 bits, lone surrogates (both only in free-form JSON values).
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False)


def _canonical(body: Any) -> bytes:
    try:
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return _CANONICAL.encode(body).encode("utf-8", "surrogatepass")


def digest(call: Call, salt: int = 0) -> bytes:
    """A stable fingerprint of what was asked, independent of field casing, key order or streaming."""
    return hashlib.sha256(b"%d|%s|%s" % (salt, call.model.name.encode(), _canonical(call.body))).digest()


def response_id(seed: bytes) -> str:
    return base64.urlsafe_b64encode(seed[:16]).decode().rstrip("=")[:22]


def candidate(index: int, parts: list[Part], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"content": {"parts": parts, "role": "model"}} if parts else {}
    if finish:
        out["finishReason"] = finish
    out.update(extra)
    out["index"] = index
    return out


def output_tokens(parts: list[Part]) -> tuple[int, int]:
    """(answer tokens, thought tokens) of some parts."""
    answer = thoughts = 0
    for part in parts:
        count = tokens.count_part(part)
        if part.get("thought"):
            thoughts += count
        else:
            answer += count
    return answer, thoughts


Prompt = tuple[int, list[dict[str, Any]]]


def prompt_of(call: Call) -> Prompt:
    """Prompt tokens and their split by modality; computed once per call, used by every chunk."""
    return tokens.prompt_usage(call.body)


def usage(prompt_tokens: Prompt, output: int, thoughts: int) -> dict[str, Any]:
    prompt, details = prompt_tokens
    result: dict[str, Any] = {"promptTokenCount": prompt}
    if output:
        result["candidatesTokenCount"] = output
    result["totalTokenCount"] = prompt + output + thoughts
    result["promptTokensDetails"] = details
    if thoughts:
        result["thoughtsTokenCount"] = thoughts
    return result


def response(call: Call, rid: str, candidates: list[dict[str, Any]], usage_metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        "candidates": candidates,
        "usageMetadata": usage_metadata,
        "modelVersion": call.model.model_id,
        "responseId": rid,
    }


def split_text(text: str, per_chunk: int = CHUNK_TOKENS) -> list[str]:
    """Cuts text into pieces of about ``per_chunk`` tokens, at token boundaries, losing nothing."""
    cuts = [0, *[b for b in tokens.ends_every(text, per_chunk) if b < len(text)], len(text)]
    pieces = [text[a:b] for a, b in zip(cuts, cuts[1:], strict=False) if b > a]
    return pieces or [""]


def stream_pieces(parts: list[Part], per_chunk: int = CHUNK_TOKENS) -> list[list[Part]]:
    """The parts of one answer cut into chunks: text split at token boundaries, other parts whole."""
    chunks: list[list[Part]] = []
    for part in parts:
        if "text" in part and set(part) <= {"text", "thought"}:
            chunks.extend([{**part, "text": piece}] for piece in split_text(part["text"], per_chunk) if piece)
        else:
            chunks.append([part])
    return chunks or [[]]
