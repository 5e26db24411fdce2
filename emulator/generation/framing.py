"""Parts in, GenerateContentResponse JSON out: the framing every producing backend shares.

Keeps the invariants the SDKs rely on in one place: ``role: model`` on every content, one
``responseId`` and ``modelVersion`` for all chunks of a stream, running usage whose
``totalTokenCount`` is prompt + candidates + thoughts, ``finishReason`` on the last chunk only,
function calls never split and no empty text parts. :func:`response` gives every body the shape of
the model's family (:mod:`emulator.wire.profiles`): which keys it sends, in the real order, and on a
Vertex AI call Vertex AI's shape (:mod:`.vertex_framing`).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import orjson

from ..wire import profiles, tokens
from ..wire.call import Call
from ..wire.profiles import Profile
from . import vertex_framing
from .figures import avg_logprobs, media_tokens

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
    out["index"] = index
    out.update(extra)
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
    result["serviceTier"] = profiles.service_tier()
    return result


def blocked(call: Call, rid: str, feedback: dict[str, Any]) -> dict[str, Any]:
    """A prompt refused before any answer (HTTP 200): ``promptFeedback`` and the prompt's counts, no
    candidates, in the call's flavour."""
    usage_metadata = usage(prompt_of(call), 0, 0)
    if call.vertex:
        return vertex_framing.blocked(call, rid, feedback, usage_metadata)
    return {
        "promptFeedback": feedback,
        "usageMetadata": usage_metadata,
        "modelVersion": call.model.model_id,
        "responseId": rid,
    }


def response(call: Call, rid: str, candidates: list[dict[str, Any]], usage_metadata: dict[str, Any]) -> dict[str, Any]:
    """One body, unary or a stream's chunk, in the shape of the model's family and the call's flavour."""
    profile = profiles.on(call.model.profile, call.flavour)
    final = any("finishReason" in c for c in candidates)
    if call.vertex:
        return vertex_framing.response(call, profile, rid, candidates, usage_metadata, final or not call.streaming)
    if not profile.index or (profile.avg_logprobs and final and not call.streaming):
        candidates = [_candidate_as(profile, c, rid, call.streaming) for c in candidates]
    return {
        "candidates": candidates,
        "usageMetadata": _usage_as(profile, usage_metadata, candidates, final),
        "modelVersion": call.model.model_id,
        "responseId": rid,
    }


def _candidate_as(profile: Profile, candidate: dict[str, Any], rid: str, streaming: bool) -> dict[str, Any]:
    """Without a zero ``index`` (gemini-1.5 and 2.0 leave the proto default out; a second candidate
    still says which it is), with ``avgLogprobs`` after the finish
    reason on a unary answer where the family sends one."""
    out: dict[str, Any] = {}
    for key, value in candidate.items():
        if key == "index" and not profile.index and not value:
            continue
        out[key] = value
        if key == "finishReason" and profile.avg_logprobs and not streaming:
            out["avgLogprobs"] = avg_logprobs(rid)
    return out


def _usage_as(profile: Profile, usage: dict[str, Any], candidates: list[dict[str, Any]], final: bool) -> dict[str, Any]:
    """Running counts only where the family sends them, ``candidatesTokensDetails`` where it does (on the
    last chunk of a stream), and the service tier every family reports."""
    out = dict(usage)
    if not final and not profile.running_usage and "candidatesTokenCount" in out:
        out["totalTokenCount"] -= out.pop("candidatesTokenCount")
    if final and profile.candidates_details and "candidatesTokensDetails" not in out:
        details = _output_details(profile, candidates, out.get("candidatesTokenCount", 0))
        at = list(out).index("promptTokensDetails") + 1 if "promptTokensDetails" in out else len(out)
        items = list(out.items())
        out = dict([*items[:at], ("candidatesTokensDetails", details), *items[at:]])
    return out


def _output_details(profile: Profile, candidates: list[dict[str, Any]], total: int) -> list[dict[str, Any]]:
    media = [
        part["inlineData"] for c in candidates for part in c.get("content", {}).get("parts", ()) if "inlineData" in part
    ]
    if not media:
        return [{"modality": "TEXT", "tokenCount": total}]
    modality = "AUDIO" if profile.output == "audio" else "IMAGE"
    return [{"modality": modality, "tokenCount": sum(media_tokens(profile, m) for m in media)}]


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
