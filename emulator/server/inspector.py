"""The inspector: a page under ``/_emulator/ui`` that shows the journal as calls come and go.

It reads every context's prompts, so it sits behind the control plane's guard (:mod:`.trust`),
check for check: loopback, this server's ``Host``, no foreign ``Origin``, and the control token when
one is set (a browser cannot send a header on navigation, so ``?key=TOKEN`` opens the page and the
page sends it on). The page is static files shipped in the package (``emulator/inspector/``): no
build step, no CDN, nothing fetched from elsewhere, and a Content-Security-Policy that allows only
this server. Live updates are server-sent events (``/_emulator/ui/events``): one line per call as
it starts and as it ends; the page asks for an entry's bodies only when it is opened.

Nothing here holds a credential: the journal keeps none (contexts named by a key are a digest of
it), paths are rebuilt from the call, never the query the caller sent, and the copied curl command
names ``$GEMINI_API_KEY``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shlex
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from ..cassette import excerpt
from ..cassette.model import CassetteError
from ..journal import Entry, Journal, Record
from ..wire.errors import ApiError
from .responses import error_response
from .trust import ControlTrust

STATIC = Path(__file__).resolve().parent.parent / "inspector"
"""The page's files, shipped as package data."""
FILES = {"": ("index.html", "text/html"), "app.js": ("app.js", "text/javascript"), "app.css": ("app.css", "text/css")}
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}
QUEUE = 1000
"""Events a slow page may fall behind by; past it, events are dropped and the page catches up on its next load."""
KEEP_ALIVE = 15.0
PREVIEW = 160


def summary(record: Record) -> dict[str, Any]:
    """One line of the page's table: what a call was and how it ended, without its bodies."""
    reply = record.reply if record.latency is not None else None
    preview = ""
    if reply is not None:
        preview = reply.text[:PREVIEW] or ", ".join(f"{name}()" for name in reply.function_calls)[:PREVIEW]
    return {
        "seq": record.seq,
        "time": record.time,
        "context": record.context,
        "flavour": record.where[0],
        "method": record.method,
        "model": record.model,
        "status": record.status,
        "latency_ms": None if record.latency is None else round(record.latency * 1000, 1),
        "backend": record.backend,
        "faults": list(record.faults),
        "kind": reply.kind if reply is not None else None,
        "chunks": reply.chunks if reply is not None else 0,
        "preview": preview,
        "error": (reply.error_message or "")[:PREVIEW] if reply is not None else "",
    }


def detail(record: Record, base: str) -> dict[str, Any]:
    """An opened entry: the request as sent, the answer as sent (a stream's chunks with their timing),
    the error in full, and the call as a curl command against ``base``."""
    entry = record.entry()
    return {
        **summary(record),
        "version": entry.version,
        "path": entry.path,
        "project": entry.project,
        "location": entry.location,
        "request": entry.request,
        "answer": record.answer(),
        "timing_ms": [round(t * 1000, 1) for t in record.timing],
        "reply": entry.reply.model_dump(mode="json") if entry.reply is not None else None,
        "curl": curl(entry.path, entry.context, entry.flavour, entry.project, entry.request, base),
        "cassette": cassette_text(record, entry),
    }


def cassette_text(record: Record, entry: Entry) -> str | None:
    """The call as a cassette of one interaction, when it was answered whole; None for an error or a cut
    stream (nothing to replay), or when the text holds something key-shaped the writer refuses."""
    answer = record.answer()
    if answer is None or record.status != 200:
        return None
    try:
        return excerpt.as_yaml(entry.flavour, entry.path, entry.request, answer, record.timing)
    except CassetteError:
        return None


def curl(path: str, context: str, flavour: str, project: str | None, body: dict[str, Any], base: str) -> str:
    """The call as a shell command, with the credential as a variable: the journal holds none to give."""
    url = base + path  # rebuilt from the call (``?alt=sse`` for a stream), never the caller's own query
    credential = (
        "Authorization: Bearer ${GOOGLE_ACCESS_TOKEN}"
        if flavour == "vertex" and project
        else "x-goog-api-key: ${GEMINI_API_KEY:-emulator-key}"
    )
    lines = [f"curl -sS -X POST {shlex.quote(url)}", "-H 'Content-Type: application/json'", f'-H "{credential}"']
    if not context.startswith("key-") and context != "default":  # a key-named context follows the key
        lines.append(f"-H {shlex.quote('x-emulator-context: ' + context)}")
    lines.append(f"--data-raw {shlex.quote(json.dumps(body, ensure_ascii=False, indent=2))}")
    return " \\\n  ".join(lines)


class Inspector:
    """Serves the page, its JSON and its event stream; watches the journal while a page listens."""

    def __init__(self, journal: Journal, trust: ControlTrust) -> None:
        self.journal, self.trust = journal, trust
        self._queues: set[asyncio.Queue[bytes | None]] = set()
        journal.watchers.append(self._seen)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            tail = request.match_info.get("tail", "")
            # The page's own files hold no data, so they are open like ``GET health`` (a browser cannot
            # send the control token with a script tag); all the other checks apply to them too.
            self.trust.check(request, "health" if tail in FILES and request.method == "GET" else "ui")
            if request.method != "GET":
                raise ApiError(405, f"/_emulator/ui does not take {request.method}.", "INVALID_ARGUMENT")
            if tail in FILES:
                return self._file(*FILES[tail])
            if tail == "entries":
                return self._json(self._entries(request))
            if tail.startswith("entries/") and tail[8:].isdigit():
                record = self.journal.find(int(tail[8:]))
                if record is None:
                    raise ApiError(404, f"No journal entry {tail[8:]}: it was dropped or cleared.")
                return self._json(detail(record, f"{request.scheme}://{request.host}"))
            if tail == "events":
                return await self._events(request)
            raise ApiError(404, f"No inspector page /_emulator/ui/{tail[:100]}.")
        except ApiError as error:
            return error_response(error)

    def _entries(self, request: web.Request) -> dict[str, Any]:
        after = request.query.get("after", "0")
        if not after.isdigit():
            raise ApiError(400, f'Invalid value for after: "{after[:40]}"', "INVALID_ARGUMENT")
        found = [r for r in self.journal.records() if r.seq > int(after)]
        return {"entries": [summary(r) for r in found]}

    def _file(self, name: str, content_type: str) -> web.Response:
        return web.Response(body=(STATIC / name).read_bytes(), content_type=content_type, headers=HEADERS)

    @staticmethod
    def _json(value: Any) -> web.Response:
        try:
            data = orjson.dumps(value)
        except TypeError:  # integers beyond 64 bits in a free-form request
            data = json.dumps(value).encode()
        return web.Response(body=data, content_type="application/json", headers=HEADERS)

    def _seen(self, record: Record, ended: bool) -> None:
        """A journal watcher: each listening page gets the call's line (nothing is built when none listens)."""
        if not self._queues:
            return
        event = b"event: entry\ndata: " + orjson.dumps(summary(record)) + b"\n\n"
        for queue in self._queues:
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        headers = {**HEADERS, "Content-Type": "text/event-stream", "X-Accel-Buffering": "no"}
        response = web.StreamResponse(headers=headers)
        await response.prepare(request)
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(QUEUE)
        self._queues.add(queue)
        try:
            await response.write(b"retry: 2000\n: listening\n\n")
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEP_ALIVE)
                except TimeoutError:
                    event = b": keep-alive\n\n"
                if event is None:
                    break
                await response.write(event)
        except (ConnectionResetError, OSError):
            pass
        finally:
            self._queues.discard(queue)
        return response

    async def close(self, _: web.Application | None = None) -> None:
        """Ends every event stream, so that shutdown does not wait on open pages."""
        for queue in list(self._queues):
            while queue.full():
                queue.get_nowait()
            queue.put_nowait(None)
