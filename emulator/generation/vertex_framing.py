"""Vertex AI's shape of the answers the emulator writes, from the parts and figures the Developer
API's shape is made of (:func:`.framing.response` hands a Vertex call's bodies here).

Vertex AI writes a message's fields in the order of their proto field numbers, and leaves out the
zero a field defaults to, so the recordings show content as ``role, parts``, candidates without
``index`` (a second one carries ``index: 1`` first), usage as ``promptTokenCount,
candidatesTokenCount, totalTokenCount, cachedContentTokenCount, trafficType, promptTokensDetails,
...`` and a body as ``candidates, usageMetadata, modelVersion, createTime, responseId``. The chunks
of a stream before the last carry usage ``{"trafficType"}`` only, every chunk the same
``createTime``; a final body always itemises ``candidatesTokensDetails`` (text first, then the image
or audio it drew).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from typing import Any

from ..wire import profiles
from ..wire.call import Call
from ..wire.profiles import Profile
from .figures import avg_logprobs, media_tokens

Wire = dict[str, Any]

CONTENT = ("role", "parts")
CANDIDATE = (
    "index", "content", "finishReason", "safetyRatings", "finishMessage", "citationMetadata", "groundingMetadata",
    "score", "avgLogprobs", "logprobsResult", "urlContextMetadata",
)  # fmt: skip
USAGE = (
    "promptTokenCount", "candidatesTokenCount", "totalTokenCount", "cachedContentTokenCount", "trafficType",
    "promptTokensDetails", "cacheTokensDetails", "candidatesTokensDetails", "toolUsePromptTokensDetails",
    "toolUsePromptTokenCount", "thoughtsTokenCount",
)  # fmt: skip
_DEVELOPER_ONLY = frozenset({"serviceTier"})
_EPOCH = datetime(2025, 1, 1, tzinfo=timezone.utc)
_YEAR_MICROS = 365 * 86_400 * 1_000_000


def ordered(value: Wire, order: tuple[str, ...]) -> Wire:
    """``value`` with the keys ``order`` names first, in that order, and any others after them as they came."""
    out = {key: value[key] for key in order if key in value}
    if len(out) < len(value):
        out.update((key, item) for key, item in value.items() if key not in out)
    return out


def create_time(rid: str) -> str:
    """When the answer was made, as Vertex AI writes it (microseconds, ``Z``): a moment of 2025 drawn
    from the response id, so that the same request gets the same body and every chunk of a stream the
    same time (and no client sees a time still to come)."""
    micros = int.from_bytes(hashlib.sha256(rid.encode()).digest()[:8], "big") % _YEAR_MICROS
    return (_EPOCH + timedelta(microseconds=micros)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def response(call: Call, profile: Profile, rid: str, candidates: list[Wire], usage: Wire, final: bool) -> Wire:
    """One body, unary or a stream's chunk; ``final``: it ends the answer (and so reports the counts)."""
    shaped = [_candidate(profile, c, rid, not call.streaming) for c in candidates]
    return {
        "candidates": shaped,
        "usageMetadata": usage_of(profile, usage, shaped, final),
        "modelVersion": call.model.model_id,
        "createTime": create_time(rid),
        "responseId": rid,
    }


def blocked(call: Call, rid: str, feedback: Wire, usage: Wire) -> Wire:
    """A prompt refused before any answer: ``promptFeedback`` and the prompt's counts, no candidates."""
    return {
        "promptFeedback": feedback,
        "usageMetadata": usage_of(profiles.on(call.model.profile, call.flavour), usage, [], True),
        "modelVersion": call.model.model_id,
        "createTime": create_time(rid),
        "responseId": rid,
    }


def _candidate(profile: Profile, candidate: Wire, rid: str, unary: bool) -> Wire:
    out = dict(candidate)
    if not out.get("index"):
        out.pop("index", None)
    if "content" in out:
        out["content"] = ordered(out["content"], CONTENT)
    if unary and profile.avg_logprobs and "finishReason" in out and "avgLogprobs" not in out:
        out["avgLogprobs"] = avg_logprobs(rid)
    return ordered(out, CANDIDATE)


def usage_of(profile: Profile, usage: Wire, candidates: list[Wire], final: bool) -> Wire:
    """The counts in Vertex AI's order, with its traffic type for the Developer API's service tier; a
    stream's chunk before the last reports the traffic type alone."""
    if not final:
        return {"trafficType": profiles.traffic_type()}
    out = {key: value for key, value in usage.items() if key not in _DEVELOPER_ONLY}
    out["trafficType"] = profiles.traffic_type()
    output = out.get("candidatesTokenCount", 0)
    if profile.candidates_details and output and "candidatesTokensDetails" not in out:
        out["candidatesTokensDetails"] = _output_details(profile, candidates, output)
    return ordered(out, USAGE)


def _output_details(profile: Profile, candidates: list[Wire], total: int) -> list[Wire]:
    """The answer's tokens by modality: the text (and calls), then the media it drew (the recorded
    gemini-2.5-flash-image answer of a line and a picture reports ``TEXT 5, IMAGE 1290``)."""
    media = [
        part["inlineData"] for c in candidates for part in c.get("content", {}).get("parts", ()) if "inlineData" in part
    ]
    drawn = min(total, sum(media_tokens(profile, m) for m in media))
    details = [{"modality": "TEXT", "tokenCount": total - drawn}] if total > drawn or not media else []
    if media:
        details.append({"modality": "AUDIO" if profile.output == "audio" else "IMAGE", "tokenCount": drawn})
    return details
