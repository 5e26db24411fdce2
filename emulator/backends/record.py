"""A recording proxy: forwards each call with the caller's credential to one pinned upstream, streams
the answer back event by event as it arrives, and appends the interaction to a cassette.

Developer API calls go to ``upstream`` with the caller's key. Vertex AI calls go to ``vertex_upstream``
or, by default, to the real endpoint of the call's location, with the credential the caller sent
(a bearer token, or an express-mode key) and its ``x-goog-user-project``; what is recorded is the
real URI, project and location included, and the token, key and user project never reach disk.

Nothing half-done is stored: an unreachable upstream is a 503 naming the cause, a stream cut
mid-way reaches the client as a terminal error, and upstream error answers are recorded only when
asked (``record_errors``). Closing the reply (a client that disconnected) cancels the upstream
request. Record modes are vcrpy's: ``once`` records into a new cassette and only replays an
existing one, ``new_episodes`` replays what matches and records the rest, ``all`` records
everything afresh.

Writing never happens on the event loop, and never rewrites the cassette per interaction: each
one is appended to the cassette's journal in a worker thread (in order, one at a time), and the
answer reaches the client only once that append is synced, so whatever a client was given is on
disk. The journal is folded into the cassette when it outgrows it and on :meth:`close`;
:func:`close_all` closes every recorder of the running loop (the server's cleanup hook).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import json
import logging
import time
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import aiohttp

from ..cassette import journal, redact, store
from ..cassette.matching import Matcher, vertex_endpoint
from ..cassette.model import Event, Interaction, RecordedRequest, RecordedResponse
from ..cassette.redact import Secret, Whole
from ..journal import answered_by
from ..wire.call import Call
from ..wire.errors import ApiError
from .base import Reply, StreamReply
from .replay import ReplayBackend, recorded_error

T = TypeVar("T")
log = logging.getLogger("emulator.record")
DEFAULT_UPSTREAM = "https://generativelanguage.googleapis.com"
MODES = ("none", "once", "new_episodes", "all")
_FORWARDED = {"content-type": "application/json"}
_KEYS_KEPT = 8


class _ForwardingReplay(ReplayBackend):
    """Replay inside a recorder whose misses are forwarded, never shown: it skips the search for the
    nearest recorded interaction, whose cost grows with the cassette (100 ms a call at 25 MB)."""

    def _miss(self, call: Call, uri: str) -> ApiError:
        return ApiError(400, "no recorded interaction matches", "FAILED_PRECONDITION")


def secrets_of(call: Call) -> frozenset[Secret]:
    """What must not reach disk from this call: its key and token in every disguise, its user project
    whole (``x-goog-user-project``, which the server hands over as ``Call.user_project``)."""
    found: set[Secret] = {s for s in (call.key, call.token) if s}
    if project := call.user_project:
        found.add(Whole(project))
    return frozenset(found)


class RecordingBackend:
    replays = True
    """Answers from recordings: the router lets recorded calls through the catalogue and front checks."""

    def __init__(
        self,
        path: Path,
        upstream: str = DEFAULT_UPSTREAM,
        mode: str = "new_episodes",
        record_errors: bool = False,
        timeout: float = 300.0,
        *,
        vertex_upstream: str | None = None,
        matcher: Matcher | None = None,
    ) -> None:
        if mode not in MODES[1:]:
            raise ValueError(f"record mode {mode!r}: use one of {', '.join(MODES[1:])}")
        self.path = path
        self.upstream = upstream.rstrip("/")
        self.vertex_upstream = vertex_upstream.rstrip("/") if vertex_upstream else None
        self.mode = mode
        self.record_errors = record_errors
        self.timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=10)
        existing = store.load(path) if store.exists(path) and mode != "all" else None
        self.record_new = mode != "once" or existing is None
        replay = _ForwardingReplay if self.record_new else ReplayBackend
        self.replay = replay(existing, after_last="miss", matcher=matcher) if existing else None
        if mode == "all" and store.exists(path):
            store.discard(path)
        self._session: aiohttp.ClientSession | None = None
        self._keys: dict[Secret, None] = {}  # the latest keys, tokens and user projects seen, oldest first
        self._order: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: set[asyncio.Task[Any]] = set()
        self._folding: asyncio.Task[None] | None = None
        self.written = 0
        """Interactions this recorder journaled (each synced before its client got the answer)."""
        self.streams = 0
        """How many of them were streams."""
        _LIVE.add(self)

    async def answer(self, call: Call) -> Reply | StreamReply:
        try:
            if self.replay is not None:
                try:
                    return await self.replay.answer(call)
                except ApiError as miss:
                    if not self.record_new or miss.status != "FAILED_PRECONDITION":
                        raise
            return await self._forward(call)
        finally:
            answered_by(f"cassette:{self.path.name} (recording)")

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout, auto_decompress=True)
        return self._session

    def _upstream_of(self, call: Call) -> str:
        if not call.vertex:
            return self.upstream
        if self.vertex_upstream is not None:
            return self.vertex_upstream
        try:
            return vertex_endpoint(call.location)
        except ValueError as bad:
            raise ApiError(400, f"Cannot record this call: {bad}.", "INVALID_ARGUMENT") from None

    async def _forward(self, call: Call) -> Reply | StreamReply:
        upstream = self._upstream_of(call)
        url = upstream + call.path
        headers = {**_FORWARDED, **_credentials(call)}
        request = RecordedRequest(
            method="POST", uri=url, headers={"content-type": ["application/json"]}, body=call.body
        )
        try:
            response = await self._session_now().post(url, json=call.body, headers=headers)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise ApiError(503, f"The upstream {upstream} could not be reached: {type(exc).__name__}: {exc}") from None
        if response.status != 200:
            await self._upstream_error(call, request, response)
        if call.streaming:
            return StreamReply(self._relay(call, request, response))
        body: dict[str, Any] = await response.json(content_type=None)
        response.release()
        await self._save(
            call, Interaction(request=request, response=RecordedResponse(body=body, headers=_headers(response)))
        )
        return Reply(body)

    async def _upstream_error(self, call: Call, request: RecordedRequest, response: aiohttp.ClientResponse) -> NoReturn:
        text = await response.text()
        response.release()
        try:
            body: Any = json.loads(text)
        except ValueError:
            body = None
        recorded = RecordedResponse(
            status=response.status, message=response.reason or "", headers=_headers(response), body=body,
            raw=None if body is not None else text,
        )  # fmt: skip
        if self.record_errors:
            await self._save(call, Interaction(request=request, response=recorded))
        raise recorded_error(Interaction(request=request, response=recorded))

    async def _relay(
        self, call: Call, request: RecordedRequest, response: aiohttp.ClientResponse
    ) -> AsyncIterator[dict[str, Any]]:
        """SSE events as they arrive; a bare JSON error object after them is the upstream's mid-stream error.

        An event that finishes the answer waits until the interaction is journaled: a client that saw
        the stream complete may rely on it being on disk, whenever the recorder is killed."""
        events: list[Event] = []
        last = time.monotonic()
        leftover = ""
        finished = False
        held: dict[str, Any] | None = None
        try:
            async for raw in response.content:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith("data: "):
                    data = json.loads(line[len("data: ") :])
                    now = time.monotonic()
                    events.append(Event(data=data, delay=round(now - last, 4)))
                    last = now
                    if held is not None:  # it did not finish the stream after all
                        yield held
                    held = data if _finishes(data) else None
                    if held is None:
                        yield data
                elif line.strip():
                    leftover += line + "\n"
            finished = True
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            raise ApiError(503, f"The upstream stream was cut: {type(exc).__name__}: {exc}") from None
        finally:
            response.release()
            if not finished:
                response.close()
        if leftover.strip():
            error = json.loads(leftover).get("error", {})
            if self.record_errors:
                events.append(Event(data={"error": error}))
                await self._save(call, Interaction(request=request, response=RecordedResponse(events=events)))
            if held is not None:
                yield held
            raise ApiError(error.get("code", 500), error.get("message", ""), error.get("status"), error.get("details"))
        if held is None:
            raise ApiError(503, "The upstream stream ended before its final chunk.", "UNAVAILABLE")
        await self._save(
            call, Interaction(request=request, response=RecordedResponse(events=events, headers=_headers(response)))
        )
        yield held

    async def _save(self, call: Call, interaction: Interaction) -> None:
        """Journals the interaction; a refusal (a secret survived redaction) reaches the client as an error."""
        secrets = secrets_of(call)
        self._remember(secrets)
        job = functools.partial(journal.journal_append, self.path, [interaction], secrets)
        try:
            due = await asyncio.shield(self._in_order(job))  # a client that leaves does not undo the write
        except store.CassetteError as exc:
            raise ApiError(
                400, f"gemini-emulator refused to write the cassette: {exc}", "FAILED_PRECONDITION"
            ) from None
        self.written += 1
        self.streams += interaction.response.streamed
        for watcher in WATCHERS:
            watcher(self)
        if due and self._folding is None:  # beside the appends, which go on meanwhile
            self._folding = self._keep(asyncio.to_thread(self._fold, False, frozenset(self._keys)))

    def _remember(self, secrets: frozenset[Secret]) -> None:
        """Each line was scrubbed of its own call's secrets; a fold scrubs the whole cassette again of the
        latest few too (an answer echoing another caller's key), not of every key a long run saw."""
        for secret in secrets:
            self._keys.pop(secret, None)
            self._keys[secret] = None
        while len(self._keys) > _KEYS_KEPT:
            del self._keys[next(iter(self._keys))]

    def _lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._order is None or self._loop is not loop:  # first use, or the old loop is gone
            self._order, self._loop, self._folding = asyncio.Lock(), loop, None
        return self._order

    def _in_order(self, work: Callable[[], T]) -> asyncio.Task[T]:
        """``work`` in a worker thread once every append queued before it has finished."""

        async def run(order: asyncio.Lock) -> T:
            async with order:  # FIFO: appends land in the order the calls finished
                return await asyncio.to_thread(work)

        return self._keep(run(self._lock()))

    def _keep(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """A task that runs to its end whoever awaits it, held until then."""
        task = asyncio.get_running_loop().create_task(work)
        self._pending.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._pending.discard(task)
        if task is self._folding:
            self._folding = None

    def _fold(self, wait: bool, secrets: frozenset[Secret]) -> None:
        try:
            store.compact(self.path, secrets, wait=wait)
        except (store.CassetteError, OSError) as exc:  # the journal keeps everything; readers merge it
            log.warning("could not fold the journal into %s: %s", self.path, exc)

    async def close(self) -> None:
        """Folds the journal into the cassette, so that only the cassette is left, and closes the
        upstream session. The recorder stays usable: a later call starts a new journal."""
        if self._session is not None:
            await self._session.close()
        async with self._lock():
            pass  # every append queued before has landed
        if self._folding is not None:
            await self._folding
        await asyncio.to_thread(self._fold, True, frozenset(self._keys))
        if self.written:
            WRITTEN[self.path] = await asyncio.to_thread(self.summary)

    def secrets_on_disk(self) -> int:
        """Credential-shaped strings, and pieces of the keys this recorder saw, in the cassette and its journal
        as they are on disk now: a check of the redaction, which refuses to write any (so 0)."""
        found = 0
        for target in (self.path, journal.journal_path(self.path)):
            with contextlib.suppress(OSError):
                text = target.read_text(encoding="utf-8", errors="replace")
                found += len(redact.find_secrets(text)) + len(redact.find_disguised(text, self._keys))
        return found

    def summary(self) -> str:
        """What this recorder wrote, in one line: ``wrote 4 interactions, 2 streams, 0 secrets to PATH``."""
        counts = (_count(self.written, "interaction"), _count(self.streams, "stream"))
        return f"wrote {counts[0]}, {counts[1]}, {_count(self.secrets_on_disk(), 'secret')} to {self.path}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


WATCHERS: list[Callable[[RecordingBackend], None]] = []
"""Told after each interaction a recorder wrote: the ``serve`` command's progress line on a terminal."""

WRITTEN: dict[Path, str] = {}
"""Each cassette a closed recorder of this process wrote into, with its :meth:`RecordingBackend.summary`:
what ``serve`` prints at exit."""

_LIVE: weakref.WeakSet[RecordingBackend] = weakref.WeakSet()


async def close_all() -> None:
    """Closes every recorder of the running loop, and those whose loop is gone or that were never
    used: the server's cleanup hook. Recorders of other running loops are their servers' to close."""
    loop = asyncio.get_running_loop()
    mine = [r for r in list(_LIVE) if r._loop is None or r._loop is loop or r._loop.is_closed()]
    await asyncio.gather(*(r.close() for r in mine))


@atexit.register
def _fold_at_exit() -> None:
    """A process that never closed its recorders still leaves whole cassettes and no journals."""
    for recorder in list(_LIVE):
        with contextlib.suppress(Exception):
            recorder._fold(True, frozenset(recorder._keys))


def _credentials(call: Call) -> dict[str, str]:
    """The credential headers as the caller sent them: a Developer API call's key, a Vertex AI call's
    bearer token or express-mode key, and the project it bills (``x-goog-user-project``) if it named one."""
    if not call.vertex:
        return {"x-goog-api-key": call.key or ""}
    headers = {"authorization": f"Bearer {call.token}"} if call.token else {"x-goog-api-key": call.key or ""}
    if project := call.user_project:
        headers["x-goog-user-project"] = project
    return headers


def _finishes(data: dict[str, Any]) -> bool:
    return any(isinstance(c, dict) and "finishReason" in c for c in data.get("candidates") or ())


def _headers(response: aiohttp.ClientResponse) -> dict[str, list[str]]:
    keep = ("content-type",)
    return {name: response.headers.getall(name) for name in keep if name in response.headers}
