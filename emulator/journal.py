"""What each context asked and what it got back, kept for tests to assert on.

Bounded in count and in bytes: at most ``per_context`` entries and ``context_bytes`` bytes of
requests and replies per context (the oldest entries go first, the newest always stays), at most
``max_contexts`` contexts and ``total_bytes`` in all (the least recently used context gives way), so
neither many contexts nor a few huge requests make a long-lived shared server grow without end.
Entries hold the canonical request body, the reply as sent (a unary body, or a stream's chunks and
when each was written, for the inspector) and its summary, what answered and the faults applied
(:class:`Trace`); never an API key (contexts derived from a key are stored as a digest of it, see
:func:`context_id`), and no query the caller sent.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import hashlib
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel, Field

from .contexts import PerContext
from .wire.errors import ApiError

_monotonic = time.monotonic

CONTEXT_HEADER = "x-emulator-context"
DEFAULT_CONTEXT = "default"


def context_id(headers: Mapping[str, str], key: str | None) -> str:
    """The caller's context: the explicit header, else a digest of the API key, else the default."""
    explicit = headers.get(CONTEXT_HEADER)
    if explicit:
        if not explicit.isascii():  # bytes that are not UTF-8 arrive as lone surrogates
            explicit = explicit.encode("utf-8", "backslashreplace").decode("utf-8")
        return explicit[:200]
    if key:
        return _key_context(key)
    return DEFAULT_CONTEXT


@functools.lru_cache(maxsize=1024)
def _key_context(key: str) -> str:
    """A key's context, memoised: a client sends the same key with every call."""
    return "key-" + hashlib.sha256(key.encode()).hexdigest()[:16]


class ReplySummary(BaseModel):
    """How a call ended, in the terms a test asserts on."""

    status: int = 200
    kind: str = Field("reply", description="reply, stream or error")
    text: str = ""
    function_calls: list[str] = Field(default_factory=list, description="names of the functions called")
    finish_reasons: list[str] = Field(default_factory=list)
    chunks: int = 0
    error_status: str | None = None
    error_message: str | None = None


class Entry(BaseModel):
    """One model call; ``model`` is the bare id (``gemini-2.5-flash``), filterable by glob."""

    seq: int
    time: float
    context: str
    model: str
    method: str
    version: str
    request: dict[str, Any]
    reply: ReplySummary | None = None
    flavour: str = Field("developer", description="developer (the Gemini Developer API) or vertex (Vertex AI)")
    project: str | None = Field(None, description="Vertex AI: the project of the path (none in express mode)")
    location: str | None = Field(None, description="Vertex AI: the location of the path (none in express mode)")
    path: str = Field(
        "", description="the path as the SDKs write it, rebuilt: never the query sent (keys travel there)"
    )
    latency_ms: float | None = Field(None, description="milliseconds from the request read to its last byte")
    backend: str = Field("", description="what answered: default, scenario:NAME rules[N], cassette:FILE #N, callable:F")
    faults: list[str] = Field(default_factory=list, description="the faults applied, by kind and origin")


@dataclass
class Trace:
    """What the backends and the fault stage tell of one call as they answer it, for its entry.

    Set through a context variable so that neither needs the entry: the backend that answers names
    itself (:func:`answered_by`; the innermost wins, so a scenario that hands a call to its fallback is
    named by the fallback), the fault stage adds the faults it applies (:func:`faulted`).
    """

    backend: str = ""
    faults: list[str] = field(default_factory=list)


_TRACE: ContextVar[Trace | None] = ContextVar("emulator_trace", default=None)


@contextmanager
def tracing() -> Iterator[Trace]:
    """A fresh :class:`Trace` for what is answered within (one call, in the handler's task)."""
    trace = Trace()
    token = _TRACE.set(trace)
    try:
        yield trace
    finally:
        _TRACE.reset(token)


def current_trace() -> Trace | None:
    """The trace of the call being answered, if any (None outside a handler, as in unit tests)."""
    return _TRACE.get()


def answered_by(label: str) -> None:
    """Names what answers the call being answered (``default``, ``scenario:NAME rules[N]``, ...)."""
    if (trace := _TRACE.get()) is not None:
        trace.backend = label


def faulted(label: str) -> None:
    """Adds a fault applied to the call being answered (``error (header)``, ``quota``, ...)."""
    if (trace := _TRACE.get()) is not None:
        trace.faults.append(label)


def summarize(bodies: Iterable[dict[str, Any]], kind: str) -> ReplySummary:
    """The summary of one reply body or the chunks of a stream."""
    chunks = 0
    texts: list[str] | None = None  # None: no text part seen, so ``text`` stays unset (as a default)
    calls: list[str] = []
    reasons: list[str] = []
    for body in bodies:
        chunks += 1
        for candidate in body.get("candidates", ())[:1]:
            for part in candidate.get("content", {}).get("parts", ()):
                if "text" in part and not part.get("thought"):
                    if texts is None:
                        texts = []
                    texts.append(part["text"])
                if "functionCall" in part:
                    calls.append(part["functionCall"].get("name", ""))
            if "finishReason" in candidate:
                reasons.append(candidate["finishReason"])
        block = body.get("promptFeedback", {}).get("blockReason")
        if block:
            reasons.append(f"BLOCKED:{block}")
    # One validated construction with the fields the incremental version assigned (same fields set).
    given: dict[str, Any] = {"kind": kind}
    if chunks:
        given["chunks"] = chunks
    if texts is not None:
        given["text"] = "".join(texts)
    summary = ReplySummary(**given)
    summary.function_calls.extend(calls)
    summary.finish_reasons.extend(reasons)
    return summary


def failed(error: ApiError, sent: list[dict[str, Any]] | None = None) -> ReplySummary:
    """The summary of a call that ended in ``error``, after the chunks ``sent`` (a stream cut short)."""
    summary = summarize(sent or [], "error")
    summary.status, summary.error_status, summary.error_message = error.code, error.status, error.message
    return summary


class Record:
    """What :meth:`Journal.record` keeps per call: plain slots, the :class:`Entry` model built on first read.

    Request and unary reply are kept as JSON bytes: an immutable snapshot, and one object to free when
    the bounded journal drops the entry (a tree of dicts freed a thousand requests later costs the
    handler of the day cache misses). The handler sets ``reply`` when the call ends; once the entry
    is built, it sees that too.
    """

    __slots__ = (
        "seq", "time", "context", "model", "method", "version", "where", "size", "pool", "_request", "_reply",
        "_bodies", "_entry", "path", "backend", "faults", "latency", "timing", "_answer", "_start",
    )  # fmt: skip

    def __init__(
        self,
        seq: int,
        time: float,
        context: str,
        model: str,
        method: str,
        version: str,
        request: dict[str, Any],
        where: tuple[str, str | None, str | None] = ("developer", None, None),
        path: str = "",
    ) -> None:
        self.seq, self.time, self.context, self.model, self.method, self.version = (
            seq, time, context, model, method, version,
        )  # fmt: skip
        self.where = where
        """The flavour, project and location of the call."""
        self.path = path
        self.backend = ""
        """What answered (see :class:`Trace`); set when the backend has answered."""
        self.faults: tuple[str, ...] = ()
        self.latency: float | None = None
        """Seconds from the journal's record to the reply's end; None while the call runs."""
        self.timing: tuple[float, ...] = ()
        """A stream's chunks: seconds from the record to each write (8 bytes each, counted in ``size``)."""
        self._answer: bytes | None = None
        """The reply as sent (a unary body, or a stream's chunks as one JSON array), for the inspector."""
        self._start = _monotonic()
        self._request = _snapshot(request)
        self.size = len(self._request) if isinstance(self._request, bytes) else 0
        self.pool: _Pool | None = None
        """The pool holding this entry, told of the reply's size; None once the entry is dropped."""
        self._reply: ReplySummary | None = None
        self._bodies: tuple[bytes | list[dict[str, Any]], str] | None = None
        self._entry: Entry | None = None

    @property
    def request(self) -> dict[str, Any]:
        return _thaw(self._request)

    @property
    def reply(self) -> ReplySummary | None:
        if self._bodies is not None:
            bodies, kind = self._bodies
            self._bodies = None
            self._reply = summarize([orjson.loads(bodies)] if isinstance(bodies, bytes) else bodies, kind)
        return self._reply

    @reply.setter
    def reply(self, summary: ReplySummary | None) -> None:
        self._reply, self._bodies = summary, None
        self._ended()
        if self._entry is not None:
            self._entry.reply = summary

    def replied(
        self, bodies: bytes | list[dict[str, Any]], kind: str, size: int = 0, timing: tuple[float, ...] = ()
    ) -> None:
        """The reply: the chunks of a stream (``size`` bytes as sent, written ``timing`` seconds after the
        record), or a unary body as sent; summarised when first read.

        The answer is kept as JSON bytes for the inspector, counted once: a unary body is the bytes
        sent; a stream's array is counted as the ``size`` written plus its timings.
        """
        self._reply, self._bodies = None, (bodies, kind)
        if isinstance(bodies, bytes):
            self._answer, grown = bodies, len(bodies)
        else:
            frozen = _snapshot_list(bodies)
            self._answer, grown = frozen, (size or len(frozen or b"")) + 8 * len(timing)
        self.timing = timing
        self.size += grown
        if self.pool is not None:
            self.pool.grow(grown)
        self._ended()
        if self._entry is not None:
            self._entry.reply = self.reply

    def since_start(self) -> float:
        """Seconds since the call was recorded, for a stream's chunk timings."""
        return _monotonic() - self._start

    def traced(self, trace: Trace) -> None:
        """What answered the call and the faults applied, as the trace of its answer tells."""
        self.backend, self.faults = trace.backend, tuple(trace.faults)

    def answer(self) -> Any:
        """The reply as sent: a unary body, a stream's list of chunks, or None (an error, or not yet)."""
        return orjson.loads(self._answer) if self._answer is not None else None

    @property
    def status(self) -> int | None:
        """The HTTP status of the answer (0: the connection was cut by a fault); None while it runs."""
        reply = self.reply if self.latency is not None else None
        return reply.status if reply is not None else None

    def _ended(self) -> None:
        if self.latency is None:
            self.latency = _monotonic() - self._start
        if self.pool is not None:
            self.pool.journal.ended(self)

    def entry(self) -> Entry:
        """The entry as a model; kept for the next read unless large (the tree of a large request
        would hold several times the bytes the journal counts for it)."""
        if self._entry is not None:
            return self._entry
        entry = Entry(
            seq=self.seq, time=self.time, context=self.context, model=self.model, method=self.method,
            version=self.version, request=self.request, reply=self.reply, flavour=self.where[0],
            project=self.where[1], location=self.where[2], path=self.path, backend=self.backend,
            faults=list(self.faults), latency_ms=None if self.latency is None else round(self.latency * 1000, 3),
        )  # fmt: skip
        if self.size <= _KEEP_BUILT and self.latency is not None:  # a running call's entry is not final
            self._entry = entry
        return entry


_KEEP_BUILT = 64 * 1024


def _snapshot(body: dict[str, Any]) -> bytes | dict[str, Any]:
    try:
        return orjson.dumps(body)
    except TypeError:  # integers beyond 64 bits in free-form values
        return copy.deepcopy(body)


def _snapshot_list(bodies: list[dict[str, Any]]) -> bytes | None:
    """A stream's chunks as JSON bytes; None when they do not encode (integers beyond 64 bits)."""
    try:
        return orjson.dumps(bodies)
    except TypeError:
        return None


def _thaw(snapshot: bytes | dict[str, Any]) -> dict[str, Any]:
    return orjson.loads(snapshot) if isinstance(snapshot, bytes) else copy.deepcopy(snapshot)


MiB = 1024 * 1024


class _Pool(deque[Record]):
    """One context's entries and their bytes, which the journal's total follows."""

    def __init__(self, journal: Journal, limit: int) -> None:
        super().__init__()
        self.journal, self.limit, self.bytes = journal, limit, 0

    def grow(self, size: int) -> None:
        self.bytes += size
        self.journal.bytes += size

    def add(self, entry: Record) -> None:
        if len(self) >= self.limit:
            self.drop()
        entry.pool = self
        self.append(entry)
        self.grow(entry.size)

    def drop(self) -> None:
        entry = self.popleft()
        entry.pool = None
        self.grow(-entry.size)


class Journal:
    def __init__(
        self,
        per_context: int = 1000,
        max_contexts: int = 1000,
        context_bytes: int = 16 * MiB,
        total_bytes: int = 64 * MiB,
    ) -> None:
        self._entries: PerContext[_Pool] = PerContext(lambda: _Pool(self, per_context), max_contexts, self._forget)
        self._seq = itertools.count(1)
        self.context_bytes, self.total_bytes = context_bytes, total_bytes
        self.bytes = 0
        """Bytes of every entry held (request snapshots and replies as sent)."""
        self.watchers: list[Callable[[Record, bool], None]] = []
        """Told of every call as it starts (``False``) and ends (``True``): the inspector's live view."""

    def record(
        self,
        context: str,
        model: str,
        method: str,
        version: str,
        request: dict[str, Any],
        where: tuple[str, str | None, str | None] = ("developer", None, None),
        path: str = "",
    ) -> Record:
        """Keeps one call, with a snapshot of ``request``; older entries make room for it. ``where`` is the
        call's flavour, project and location."""
        entry = Record(next(self._seq), time.time(), context, model, method, version, request, where, path)
        pool = self._entries.state(context)
        pool.add(entry)
        while pool.bytes > self.context_bytes and len(pool) > 1:
            pool.drop()
        for name in list(self._entries):  # least recently used first
            if self.bytes <= self.total_bytes or name == context:
                break
            self._entries.forget(name)
        for watcher in self.watchers:
            watcher(entry, False)
        return entry

    def ended(self, record: Record) -> None:
        """A call has its reply: the watchers are told."""
        for watcher in self.watchers:
            watcher(record, True)

    def find(self, seq: int) -> Record | None:
        """The entry numbered ``seq``, if still held (a scan: only the inspector asks, one click at a time)."""
        for pool in self._entries.values():
            if pool and pool[0].seq <= seq <= pool[-1].seq:
                for record in pool:
                    if record.seq == seq:
                        return record
        return None

    def _forget(self, pool: _Pool) -> None:
        while pool:
            pool.drop()

    def records(self, context: str | None = None, model: str | None = None, method: str | None = None) -> list[Record]:
        """What :meth:`entries` gives, before the entries are built."""
        pools = [self._entries.get(context, ())] if context is not None else list(self._entries.values())
        found = [e for pool in pools for e in pool]
        if context is None:
            found.sort(key=lambda e: e.seq)
        return [
            e
            for e in found
            if (model is None or fnmatch.fnmatchcase(e.model, model)) and (method is None or e.method == method)
        ]

    def entries(self, context: str | None = None, model: str | None = None, method: str | None = None) -> list[Entry]:
        """Entries in arrival order; ``None`` filters match everything."""
        return [e.entry() for e in self.records(context, model, method)]

    def clear(self, context: str | None = None) -> None:
        self._entries.forget(context)
