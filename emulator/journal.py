"""What each context asked and what it got back, kept for tests to assert on.

Bounded in count and in bytes: at most ``per_context`` entries and ``context_bytes`` bytes of
requests and replies per context (the oldest entries go first, the newest always stays), at most
``max_contexts`` contexts and ``total_bytes`` in all (the least recently used context gives way), so
neither many contexts nor a few huge requests make a long-lived shared server grow without end.
Entries hold the canonical request body and a summary of the reply; never an API key (contexts
derived from a key are stored as a digest of it, see :func:`context_id`).
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import itertools
import time
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from pydantic import BaseModel, Field

from .contexts import PerContext
from .wire.errors import ApiError

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
        return "key-" + hashlib.sha256(key.encode()).hexdigest()[:16]
    return DEFAULT_CONTEXT


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
        "_bodies", "_entry",
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
    ) -> None:
        self.seq, self.time, self.context, self.model, self.method, self.version = (
            seq, time, context, model, method, version,
        )  # fmt: skip
        self.where = where
        """The flavour, project and location of the call."""
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
        if self._entry is not None:
            self._entry.reply = summary

    def replied(self, bodies: bytes | list[dict[str, Any]], kind: str, size: int = 0) -> None:
        """The reply: the chunks of a stream (``size`` bytes as sent), or a unary body as sent; summarised
        when first read."""
        self._reply, self._bodies = None, (bodies, kind)
        grown = len(bodies) if isinstance(bodies, bytes) else size
        self.size += grown
        if self.pool is not None:
            self.pool.grow(grown)
        if self._entry is not None:
            self._entry.reply = self.reply

    def entry(self) -> Entry:
        """The entry as a model; kept for the next read unless large (the tree of a large request
        would hold several times the bytes the journal counts for it)."""
        if self._entry is not None:
            return self._entry
        entry = Entry(
            seq=self.seq, time=self.time, context=self.context, model=self.model, method=self.method,
            version=self.version, request=self.request, reply=self.reply, flavour=self.where[0],
            project=self.where[1], location=self.where[2],
        )  # fmt: skip
        if self.size <= _KEEP_BUILT:
            self._entry = entry
        return entry


_KEEP_BUILT = 64 * 1024


def _snapshot(body: dict[str, Any]) -> bytes | dict[str, Any]:
    try:
        return orjson.dumps(body)
    except TypeError:  # integers beyond 64 bits in free-form values
        return copy.deepcopy(body)


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

    def record(
        self,
        context: str,
        model: str,
        method: str,
        version: str,
        request: dict[str, Any],
        where: tuple[str, str | None, str | None] = ("developer", None, None),
    ) -> Record:
        """Keeps one call, with a snapshot of ``request``; older entries make room for it. ``where`` is the
        call's flavour, project and location."""
        entry = Record(next(self._seq), time.time(), context, model, method, version, request, where)
        pool = self._entries.state(context)
        pool.add(entry)
        while pool.bytes > self.context_bytes and len(pool) > 1:
            pool.drop()
        for name in list(self._entries):  # least recently used first
            if self.bytes <= self.total_bytes or name == context:
                break
            self._entries.forget(name)
        return entry

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
