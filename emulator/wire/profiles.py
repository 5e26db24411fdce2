"""What each model family sends, as data (``emulator/data/profiles.json``), read by the framing of
generated answers and by the signer.

Taken from the recorded real traffic, family by family: gemini-1.5 and 2.0 send no zero ``index``,
``avgLogprobs`` on unary answers and ``candidatesTokensDetails`` (in a stream on its last chunk
only), and their non-final chunks carry no ``candidatesTokenCount``; 2.5 and 3 send ``index`` and a
``finishMessage`` on function-call answers; 2.5 signs a part only when the request has tools and
the model thought, 3 whenever it thought, and 3 gives calls an ``id`` and ends a stream with an
empty text chunk that carries the ``finishReason``; image and speech models answer with
``inlineData`` and report its modality. Since 2026-05 every family sends ``serviceTier``. Recorded
answers (cassettes, scenario ``raw`` bodies) are never reshaped: only answers the emulator writes.

Vertex AI answers the same families otherwise (794 recorded exchanges, 2025-03 to 2026-08): no
candidate ``index``, ``candidatesTokensDetails`` from every family, no ``finishMessage`` on
function-call answers, ``avgLogprobs`` on unary answers of 2.0 and 2.5 only (gemini-3 dropped it in
2026-07, when it began to name its calls), ``trafficType`` where the Developer API has
``serviceTier``. A family's ``vertex`` entry overrides the flavour's ``shape``, which overrides the
family's own fields; :func:`on` gives the profile a call's flavour sees.

What a family refuses is public evidence, not the recordings (which hold no such request): Gemma
models take no system instruction, function declarations, JSON mode, code execution or several
candidates; gemini-2.5-flash-image no system instruction, function declarations, search, URL
context, several candidates or media resolution (the 3.x image models took a system instruction
and Google Search in the recordings); speech models no conversation history.
"""

from __future__ import annotations

import fnmatch
import functools
import json
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .flavour import Flavour

Feature = Literal[
    "system_instruction",
    "function_calling",
    "json_mode",
    "code_execution",
    "search_grounding",
    "url_context",
    "multiple_candidates",
    "media_resolution",
    "multiturn",
]


class Shape(BaseModel):
    """Where another flavour's answers differ from a family's Developer API answers (None: they do not)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    index: bool | None = None
    avg_logprobs: bool | None = None
    candidates_details: bool | None = None
    finish_message: bool | None = None
    call_ids: bool | None = None
    closing_chunk: bool | None = None


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    index: bool
    avg_logprobs: bool
    candidates_details: bool
    finish_message: bool
    call_ids: bool
    signs: Literal["never", "tools_and_thought", "thought"]
    closing_chunk: bool
    running_usage: bool
    """Non-final stream chunks report the running ``candidatesTokenCount``."""
    chunk_tokens: int
    """Tokens of answer text a stream chunk carries, about."""
    output: Literal["text", "image", "audio"] = "text"
    media_type: str | None = None
    refuses: frozenset[Feature] = frozenset()
    """Request features the family's models answer with a 400 (``rules.features`` has the texts)."""
    vertex: Shape = Shape()
    """Where the family's Vertex AI answers differ from Vertex AI's common ``shape``."""


class _Vertex(BaseModel):
    model_config = ConfigDict(extra="forbid")

    traffic_type: str
    shape: Shape


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_tier: str
    vertex: _Vertex
    profiles: dict[str, Profile]
    families: list[tuple[str, str]]


@functools.cache
def _table() -> _Table:
    text = resources.files("emulator.data").joinpath("profiles.json").read_text(encoding="utf-8")
    return _Table.model_validate(json.loads(text))


def service_tier() -> str:
    return _table().service_tier


def traffic_type() -> str:
    """Vertex AI's ``usageMetadata.trafficType`` (pay-as-you-go, no provisioned throughput)."""
    return _table().vertex.traffic_type


def on(profile: Profile, flavour: Flavour) -> Profile:
    """The shape of ``profile``'s answers as ``flavour`` sends them."""
    return profile if flavour is Flavour.DEVELOPER else _on_vertex(profile)


@functools.lru_cache(maxsize=64)
def _on_vertex(profile: Profile) -> Profile:
    changes = {**_table().vertex.shape.model_dump(exclude_none=True), **profile.vertex.model_dump(exclude_none=True)}
    return profile.model_copy(update=changes)


def names() -> list[str]:
    return list(_table().profiles)


@functools.lru_cache(maxsize=1024)
def family_of(model_id: str) -> str:
    """The family a model id belongs to: the first glob of the table that matches it."""
    return next(name for pattern, name in _table().families if fnmatch.fnmatchcase(model_id, pattern))


def profile(name: str) -> Profile:
    try:
        return _table().profiles[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; known: {', '.join(names())}") from None
