"""Answers from a recorded cassette: unary bodies, SSE events (optionally at their recorded pace),
recorded errors, and streams that were cut when recorded.

One instance per context (the router makes them), so the order in which repeated identical
requests are answered is each test's own. A miss is a loud, non-retryable 400 that names the
cassette, the nearest recorded interaction and the first field where they differ: 408, 429 and
5xx would send SDK retries into long waits.

A Vertex AI call is looked up among Vertex AI recordings only, whichever project and location
recorded them (:mod:`..cassette.matching`), and a Developer API call among the Developer API's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from ..cassette.matching import VERTEX_GLOBAL, Index, Matcher
from ..cassette.model import Cassette, Interaction
from ..journal import answered_by
from ..wire.call import Call
from ..wire.errors import ApiError
from ..wire.flavour import Flavour
from .base import Reply, StreamReply

REPLAY_HOST = "https://generativelanguage.googleapis.com"


def replay_uri(call: Call) -> str:
    """The URI a call is looked up by: matching ignores the host, whose only part is to tell the
    flavour along with the path."""
    return (VERTEX_GLOBAL if call.vertex else REPLAY_HOST) + call.path


def recorded_error(interaction: Interaction) -> ApiError:
    """The recorded error response as the error to raise, whatever shape its body has."""
    response = interaction.response
    body = response.body
    if isinstance(body, list) and body:
        body = body[0]
    error = body.get("error", {}) if isinstance(body, dict) else {}
    message = error.get("message") or response.raw or response.message
    return ApiError(response.status, message, error.get("status"), error.get("details"))


class ReplayBackend:
    """Replays one cassette. ``timing``: 0 ignores recorded delays, 1 reproduces them, 0.5 halves them."""

    replays = True
    """Answers from recordings: the router lets recorded calls through the catalogue and front checks."""

    def __init__(
        self,
        cassette: Cassette,
        *,
        timing: float = 0.0,
        after_last: str = "repeat",
        matcher: Matcher | None = None,
        index: Index | None = None,
    ) -> None:
        self.cassette = cassette
        self.timing = timing
        self.index = index.fork(after_last) if index is not None else Index(cassette, matcher, after_last=after_last)
        self.misses = 0

    @property
    def name(self) -> str:
        return str(self.cassette.path or "the cassette")

    async def answer(self, call: Call) -> Reply | StreamReply:
        uri = replay_uri(call)
        interaction = self.index.take("POST", uri, call.body)
        label = f"cassette:{self.cassette.path.name if self.cassette.path else 'inline'}"
        if interaction is None:
            self.misses += 1
            answered_by(f"{label} (miss)")
            raise self._miss(call, uri)
        answered_by(f"{label} #{self.index.ordinal(interaction)}")
        response = interaction.response
        if response.events is not None:
            return StreamReply(self._events(interaction))
        if response.status != 200:
            raise recorded_error(interaction)
        if not isinstance(response.body, dict):
            raise ApiError(500, f"The interaction recorded in {self.name} for {call.path} has no JSON body.")
        return Reply(_copy(response.body))

    async def _events(self, interaction: Interaction) -> AsyncIterator[dict[str, Any]]:
        assert interaction.response.events is not None
        for event in interaction.response.events:
            if self.timing and event.delay:
                await asyncio.sleep(event.delay * self.timing)
            if "error" in event.data:
                raise ApiError(
                    event.data["error"].get("code", 500),
                    event.data["error"].get("message", ""),
                    event.data["error"].get("status"),
                    event.data["error"].get("details"),
                )
            yield _copy(event.data)
        if not interaction.response.complete:
            raise ApiError(503, "The recorded stream was cut here when it was recorded.", "UNAVAILABLE")

    def _miss(self, call: Call, uri: str) -> ApiError:
        """Names the flavour searched when it matters: for a Vertex AI call always, for a Developer API
        call only when the cassette holds Vertex AI recordings (else the message is as it always was)."""
        nearest, difference = self.index.nearest("POST", uri, call.body)
        path = call.path
        kind = "interaction"
        if call.vertex or self.index.flavours[Flavour.VERTEX]:
            kind = f"{call.flavour.api_name} interaction"
        if nearest is None:
            told = difference if len(self.index) else "it holds no interaction of that kind"
        else:
            number = self.index.ordinal(nearest)
            told = f"the nearest is interaction #{number} ({nearest.request.method} "
            told += f"{nearest.request.uri.split('://', 1)[-1].partition('/')[2]}), which differs at {difference}"
        return ApiError(
            400,
            f"gemini-emulator: no {kind} recorded in cassette {self.name} matches POST {path}; {told}.",
            "FAILED_PRECONDITION",
        )

    def unused(self) -> list[Interaction]:
        return self.index.unused()


def _copy(value: Any) -> Any:
    """A deep copy of JSON data, so that signing or summarising a reply never edits the cassette."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def replay_factory(source: Path | Cassette, **options: Any) -> Any:
    """A router factory: the cassette (a file, or one already read) is loaded and indexed once; every
    context gets its own replay state. A file is read through its derived index
    (:mod:`..cassette.derived`), so its interactions are decoded only when replayed."""
    if isinstance(source, Cassette):
        cassette, index = source, Index(source, options.get("matcher"))
    else:
        from ..cassette.derived import replay_index

        cassette, index = replay_index(source, options.get("matcher"))
    return lambda fallback: ReplayBackend(cassette, index=index, **options)
