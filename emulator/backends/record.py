"""A recording proxy: forwards each call with the caller's key to one pinned upstream, streams the
answer back event by event as it arrives, and appends the interaction to a cassette.

Nothing half-done is stored: an unreachable upstream is a 503 naming the cause, a stream cut
mid-way reaches the client as a terminal error, and upstream error answers are recorded only when
asked (``record_errors``). Closing the reply (a client that disconnected) cancels the upstream
request. Record modes are vcrpy's: ``once`` records into a new cassette and only replays an
existing one, ``new_episodes`` replays what matches and records the rest, ``all`` records
everything afresh.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, NoReturn

import aiohttp

from ..cassette import store
from ..cassette.model import Event, Interaction, RecordedRequest, RecordedResponse
from ..wire.errors import ApiError
from .base import Call, Reply, StreamReply
from .replay import ReplayBackend, recorded_error

DEFAULT_UPSTREAM = "https://generativelanguage.googleapis.com"
MODES = ("none", "once", "new_episodes", "all")
_FORWARDED = {"content-type": "application/json"}


class RecordingBackend:
    def __init__(
        self,
        path: Path,
        upstream: str = DEFAULT_UPSTREAM,
        mode: str = "new_episodes",
        record_errors: bool = False,
        timeout: float = 300.0,
    ) -> None:
        if mode not in MODES[1:]:
            raise ValueError(f"record mode {mode!r}: use one of {', '.join(MODES[1:])}")
        self.path = path
        self.upstream = upstream.rstrip("/")
        self.mode = mode
        self.record_errors = record_errors
        self.timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=10)
        existing = store.load(path) if path.exists() and mode != "all" else None
        self.replay = ReplayBackend(existing, after_last="miss") if existing else None
        self.record_new = mode != "once" or existing is None
        if mode == "all" and path.exists():
            path.unlink()
        self._session: aiohttp.ClientSession | None = None

    async def answer(self, call: Call) -> Reply | StreamReply:
        if self.replay is not None:
            try:
                return await self.replay.answer(call)
            except ApiError as miss:
                if not self.record_new or miss.status != "FAILED_PRECONDITION":
                    raise
        return await self._forward(call)

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout, auto_decompress=True)
        return self._session

    async def _forward(self, call: Call) -> Reply | StreamReply:
        url = self.upstream + call.path
        headers = {**_FORWARDED, "x-goog-api-key": call.key or ""}
        request = RecordedRequest(
            method="POST", uri=url, headers={"content-type": ["application/json"]}, body=call.body
        )
        try:
            response = await self._session_now().post(url, json=call.body, headers=headers)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise ApiError(
                503, f"The upstream {self.upstream} could not be reached: {type(exc).__name__}: {exc}"
            ) from None
        if response.status != 200:
            await self._upstream_error(call, request, response)
        if call.streaming:
            return StreamReply(self._relay(call, request, response))
        body: dict[str, Any] = await response.json(content_type=None)
        response.release()
        self._save(call, Interaction(request=request, response=RecordedResponse(body=body, headers=_headers(response))))
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
            self._save(call, Interaction(request=request, response=recorded))
        raise recorded_error(Interaction(request=request, response=recorded))

    async def _relay(
        self, call: Call, request: RecordedRequest, response: aiohttp.ClientResponse
    ) -> AsyncIterator[dict[str, Any]]:
        """SSE events as they arrive; a bare JSON error object after them is the upstream's mid-stream error."""
        events: list[Event] = []
        last = time.monotonic()
        leftover = ""
        finished = False
        try:
            async for raw in response.content:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith("data: "):
                    data = json.loads(line[len("data: ") :])
                    now = time.monotonic()
                    events.append(Event(data=data, delay=round(now - last, 4)))
                    last = now
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
                self._save(call, Interaction(request=request, response=RecordedResponse(events=events)))
            raise ApiError(error.get("code", 500), error.get("message", ""), error.get("status"), error.get("details"))
        if not events or not any("finishReason" in c for c in events[-1].data.get("candidates", ())):
            raise ApiError(503, "The upstream stream ended before its final chunk.", "UNAVAILABLE")
        self._save(
            call, Interaction(request=request, response=RecordedResponse(events=events, headers=_headers(response)))
        )

    def _save(self, call: Call, interaction: Interaction) -> None:
        """Appends to the cassette; a refusal (a secret survived redaction) reaches the client as an error."""
        try:
            store.append(self.path, [interaction], secrets={call.key} if call.key else set())
        except store.CassetteError as exc:
            raise ApiError(
                400, f"gemini-emulator refused to write the cassette: {exc}", "FAILED_PRECONDITION"
            ) from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _headers(response: aiohttp.ClientResponse) -> dict[str, list[str]]:
    keep = ("content-type",)
    return {name: response.headers.getall(name) for name in keep if name in response.headers}
