"""Faults on demand: the service misbehaving exactly as the real one does, counted per attempt.

A fault comes from the request's ``x-emulator-fault`` header (JSON, one fault) or from the faults
set for its context through ``PUT /_emulator/faults`` (a JSON list, applied in order, the first
that applies wins). ``times`` and ``after`` count matching attempts per context, so "fail twice,
then succeed" is exact under the SDK's retries; ``probability`` draws from a generator seeded by
``seed`` and the attempt number, so runs repeat.
"""

from __future__ import annotations

import fnmatch
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from ..contexts import PerContext
from ..wire import errors
from ..wire.faultspec import (
    BEFORE_KINDS,
    CONNECTION_KINDS,
    FAULT_HEADER,
    STREAM_KINDS,
    Fault,
    from_header,
    parse,
)

__all__ = [
    "BEFORE_KINDS",
    "CONNECTION_KINDS",
    "FAULT_HEADER",
    "STREAM_KINDS",
    "Fault",
    "Faults",
    "from_header",
    "parse",
]


class _Quota:
    """Sliding one-minute windows of requests and prompt tokens."""

    def __init__(self) -> None:
        self.seen: deque[tuple[float, int]] = deque()

    def admit(self, fault: Fault, tokens: int, now: float) -> float | None:
        """None when admitted, else the seconds until the window has room."""
        while self.seen and now - self.seen[0][0] >= 60:
            self.seen.popleft()
        used = sum(n for _, n in self.seen)
        if (fault.rpm is not None and len(self.seen) >= fault.rpm) or (
            fault.tpm is not None and used + tokens > fault.tpm
        ):
            return 60 - (now - self.seen[0][0]) if self.seen else 60.0
        self.seen.append((now, tokens))
        return None


MAX_HEADER_FAULTS = 256
"""Distinct ``x-emulator-fault`` texts whose attempts a context counts; the oldest is forgotten first."""


class _ContextFaults:
    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.counts: dict[int | str, int] = {}
        self.quotas: dict[int | str, _Quota] = {}
        self.headers: dict[str, None] = {}  # header faults counted, oldest first

    def seen_header(self, key: str) -> None:
        self.headers.pop(key, None)
        self.headers[key] = None
        while len(self.headers) > MAX_HEADER_FAULTS:
            oldest = next(iter(self.headers))
            del self.headers[oldest]
            self.counts.pop(oldest, None)
            self.quotas.pop(oldest, None)


class Faults:
    """Per-context fault lists and attempt counters, bounded like every per-context state."""

    def __init__(self, max_contexts: int = 1000) -> None:
        self._contexts = PerContext(_ContextFaults, max_contexts)

    def _state(self, context: str) -> _ContextFaults:
        return self._contexts.state(context)

    def set(self, context: str, faults: list[Fault]) -> None:
        state = self._state(context)
        state.faults, state.counts, state.quotas = faults, {}, {}

    def get(self, context: str) -> list[Fault]:
        state = self._contexts.get(context)
        return state.faults if state else []

    def reset(self, context: str | None = None) -> None:
        if context is None:
            self._contexts.clear()
        else:
            self._contexts.pop(context, None)

    def choose(self, context: str, model: str, header: str | None, prompt_tokens: Callable[[], int]) -> Fault | None:
        """The fault for this attempt, counting it; quota faults raise their 429 here.

        A header fault is counted by its text, so the SDK's retries (which resend the same header)
        meet ``times`` and ``after`` exactly.
        """
        if not header and context not in self._contexts:
            return None  # the common case: nothing asked of this context, and no state to make for it
        state = self._state(context)
        candidates: list[tuple[int | str, Fault]] = list(enumerate(state.faults))
        if header:
            candidates.insert(0, (f"header:{header}", from_header(header)))
            state.seen_header(f"header:{header}")
        for index, fault in candidates:
            if not fnmatch.fnmatchcase(model, fault.model):
                continue
            attempt = state.counts.get(index, 0)
            state.counts[index] = attempt + 1
            if attempt < fault.after or (fault.times is not None and attempt >= fault.after + fault.times):
                continue
            if fault.probability < 1 and random.Random(f"{fault.seed}:{attempt}").random() >= fault.probability:
                continue
            if fault.kind == "quota":
                wait = state.quotas.setdefault(index, _Quota()).admit(fault, prompt_tokens(), time.monotonic())
                if wait is None:
                    continue
                raise errors.quota_exceeded(model, max(1, round(wait)), fault.rpm or fault.tpm or 0)
            return fault
        return None


class Cut(Exception):
    """A connection-level fault to act out once ``after_chunks`` chunks are written."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.kind)
        self.fault = fault


async def shape_stream(
    chunks: AsyncIterator[dict[str, Any]], fault: Fault | None, model: str
) -> AsyncIterator[dict[str, Any]]:
    """The backend's chunks with the fault's pacing, cut or failure applied."""
    if fault is None:
        async for chunk in chunks:
            yield chunk
        return
    import asyncio

    from ..wire import tokens

    sent = 0
    held: dict[str, Any] | None = None
    async for chunk in chunks:
        if fault.kind in STREAM_KINDS and sent >= fault.after_chunks:
            if fault.kind == "midstream":
                raise fault.error(model)
            if fault.kind == "truncate":
                return
            raise Cut(fault)
        if sent == 0 and fault.first_chunk_delay:
            await asyncio.sleep(fault.first_chunk_delay)
        if fault.tokens_per_second:
            produced = sum(tokens.count_part(p) for c in chunk.get("candidates", ()) for p in
                           c.get("content", {}).get("parts", ()))  # fmt: skip
            await asyncio.sleep(produced / fault.tokens_per_second)
        if fault.kind == "truncate":
            if held is not None:
                yield held
                sent += 1
            held = chunk
            continue
        yield chunk
        sent += 1
    if fault.kind == "midstream":
        raise fault.error(model)
    if fault.kind in ("malformed", "garbage", "stall", "reset"):
        raise Cut(fault)


_SAFETY_RATINGS = [
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
]


def blocked(fault: Fault, reply_like: dict[str, Any]) -> dict[str, Any]:
    """A blocked prompt: HTTP 200, ``promptFeedback.blockReason``, no candidates."""
    usage = reply_like.get("usageMetadata", {})
    prompt = usage.get("promptTokenCount", 0)
    return {
        "promptFeedback": {"blockReason": fault.block_reason, "safetyRatings": _SAFETY_RATINGS},
        "usageMetadata": {"promptTokenCount": prompt, "totalTokenCount": prompt},
        "modelVersion": reply_like.get("modelVersion", ""),
        "responseId": reply_like.get("responseId", ""),
    }


def finish_as(fault: Fault, body: dict[str, Any]) -> None:
    """Ends every candidate of a (final) body with the fault's finish reason, in place.

    SAFETY, RECITATION and MALFORMED_FUNCTION_CALL come without content, as from the real service;
    MAX_TOKENS keeps what was produced.
    """
    for candidate in body.get("candidates", ()):
        candidate["finishReason"] = fault.finish_reason
        candidate.pop("finishMessage", None)
        if fault.finish_reason != "MAX_TOKENS":
            candidate.pop("content", None)
        if fault.finish_reason == "SAFETY":
            candidate["safetyRatings"] = _SAFETY_RATINGS


_MALFORMED = b'data: {"candidates": [{"content": {"parts": [{"text": "cut he\r\n\r\n'


async def act_out(request: web.Request, response: web.StreamResponse | None, fault: Fault) -> web.StreamResponse:
    """A connection fault: what the client gets is a broken connection, never an answer.

    ``response`` is the stream already under way, or None before anything was sent (then a
    malformed or garbage fault starts a 200 JSON body of its own).
    """
    import asyncio
    import socket
    import struct

    from .responses import UNARY_HEADERS

    if response is None and fault.kind in ("malformed", "garbage"):
        response = web.StreamResponse(status=200, headers=UNARY_HEADERS)
        await response.prepare(request)
    try:
        if fault.kind == "malformed" and response is not None:
            sse = response.content_type == "text/event-stream"
            await response.write(_MALFORMED if sse else b'{"candidates": [{"con')
        elif fault.kind == "garbage" and response is not None:
            await response.write(random.Random(fault.seed).randbytes(512))
        elif fault.kind == "stall":
            await asyncio.sleep(fault.stall_seconds)
    except (ConnectionResetError, OSError):
        pass
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if fault.kind == "reset" and sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()
    return response or web.Response(status=204)
