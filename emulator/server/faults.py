"""Faults on demand, as one stage between the backend and the encoder: the service misbehaving
exactly as the real one does, counted per attempt.

A fault comes from the request's ``x-emulator-fault`` header (JSON, one fault), from the faults set
for its context through ``PUT /_emulator/faults`` (a JSON list, applied in order, the first that
applies wins), or from the backend itself (a scenario rule's ``fault``). ``times`` and ``after``
count matching attempts per context, so "fail twice, then succeed" is exact under the SDK's
retries; ``probability`` draws from a generator seeded by ``seed`` and the attempt number, so runs
repeat. :meth:`FaultStage.answer` is the one entry point: it asks the backend (or, for a fault that
replaces the answer, does not) and hands back the answer with the fault applied; what only the
transport can do (a reset, a stall, garbage) is raised as :class:`~.cuts.Cut` for the server to
act out.
"""

from __future__ import annotations

import asyncio
import fnmatch
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from ..backends.base import Backend, Reply, StreamReply
from ..contexts import PerContext
from ..generation import framing
from ..journal import faulted
from ..wire import errors, tokens
from ..wire.call import Call
from ..wire.faultspec import CONNECTION_KINDS, STREAM_KINDS, Fault, from_header
from .cuts import Cut

__all__ = ["FaultStage", "Faults"]


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
                faulted("quota")
                raise errors.quota_exceeded(model, max(1, round(wait)), fault.rpm or fault.tpm or 0)
            faulted(f"{fault.kind} ({'header' if isinstance(index, str) else 'set'})")
            return fault
        return None


class FaultStage:
    """Faults applied to one call's answer; the only place the server consults them."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults

    async def answer(self, call: Call, header: str | None, backend: Backend) -> Reply | StreamReply:
        """The backend's answer with the fault for this attempt applied.

        Raises the fault's :class:`~emulator.wire.errors.ApiError`, :class:`~.cuts.Cut` for what only
        the connection can show, or ``ValueError`` for a fault header that is not a fault.
        """
        model = call.model.model_id
        fault = self.faults.choose(call.context, model, header, lambda: tokens.prompt_usage(call.body)[0])
        replaced = await _before(call, fault) if fault is not None else None
        if replaced is not None:
            return replaced
        reply = await backend.answer(call)
        if fault is None and reply.fault is not None:  # a scenario rule asked for one
            fault = reply.fault
            faulted(f"{fault.kind} (scenario rule)")
            replaced = await _before(call, fault)
            if replaced is not None:
                return replaced
        if fault is None:
            return reply
        if isinstance(reply, Reply):
            if fault.kind == "finish":
                _finish_as(fault, reply.body)
            return reply
        return StreamReply(_shaped(reply.chunks, fault, model))


async def _before(call: Call, fault: Fault) -> Reply | StreamReply | None:
    """Faults that act before an answer exists: one that replaces it, or None to go on."""
    if fault.kind == "latency":
        await asyncio.sleep(fault.delay)
        return None
    if fault.kind == "error":
        error = fault.error(call.model.model_id)
        if fault.retry_after_header:
            error.headers["Retry-After"] = str(fault.retry_after)
        raise error
    if fault.kind == "block":
        body = _blocked(fault, call)
        return StreamReply(_single(body)) if call.streaming else Reply(body)
    if fault.kind == "empty" or not call.streaming or not fault.after_chunks:
        if fault.kind == "midstream":
            raise fault.error(call.model.model_id)
        if fault.kind in CONNECTION_KINDS:
            raise Cut(fault, sent=False)
    return None


async def _shaped(chunks: AsyncIterator[dict[str, Any]], fault: Fault, model: str) -> AsyncIterator[dict[str, Any]]:
    """The backend's chunks with the fault's pacing, cut, failure or finish applied.

    One chunk is held back where the fault acts on the last one (``truncate`` drops it, ``finish``
    rewrites it), since only the next chunk, or none, tells which is last.
    """
    sent = 0
    held: dict[str, Any] | None = None
    holds = fault.kind in ("truncate", "finish")
    try:
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
            if holds:
                if held is not None:
                    yield held
                    sent += 1
                held = chunk
                continue
            yield chunk
            sent += 1
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
    if fault.kind == "finish" and held is not None:
        _finish_as(fault, held)
        yield held
    if fault.kind == "midstream":
        raise fault.error(model)
    if fault.kind in ("malformed", "garbage", "stall", "reset"):
        raise Cut(fault)


async def _single(body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    yield body


_SAFETY_RATINGS = [
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
]


def _blocked(fault: Fault, call: Call) -> dict[str, Any]:
    """A blocked prompt: HTTP 200, ``promptFeedback.blockReason``, no candidates."""
    feedback = {"blockReason": fault.block_reason, "safetyRatings": _SAFETY_RATINGS}
    return framing.blocked(call, framing.response_id(framing.digest(call)), feedback)


def _finish_as(fault: Fault, body: dict[str, Any]) -> None:
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
