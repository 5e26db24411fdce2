"""Writing a streamed answer: SSE events or one JSON array, an error after the stream started written
the way the real service writes it, connection faults acted out mid-stream, and every stream in
flight ended cleanly on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

from aiohttp import web

from ..backends.base import StreamReply
from ..journal import Record, ReplySummary, failed
from ..wire import encode, errors
from ..wire.call import Call
from ..wire.errors import ApiError
from ..wire.signatures import Signer
from .cuts import Cut, act_out
from .responses import ARRAY_HEADERS, SSE_HEADERS, error_response

STREAM_ERROR_PAUSE = 0.05
"""Seconds before the error object that ends a started stream (see :func:`_write_error`)."""
_YIELD_EVERY = 32
Chunk = dict[str, Any]


class Streams:
    """The streams in flight, so that shutdown can end each with the terminal error."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer
        self.closing = False
        self._tasks: set[asyncio.Task[Any]] = set()

    def shutdown(self) -> None:
        """Ends every stream in flight with the terminal error, while their connections still stand."""
        self.closing = True
        for task in list(self._tasks):
            task.cancel()

    @contextlib.contextmanager
    def tracked(self) -> Iterator[None]:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._tasks.discard(task)

    def gone(self, sent: list[Chunk] | None = None) -> ReplySummary:
        """How a call cancelled midway ends in the journal: shut down, or its client went away."""
        return failed(errors.shutting_down() if self.closing else errors.client_gone(), sent)

    async def write(
        self, request: web.Request, call: Call, reply: StreamReply, as_array: bool, entry: Record
    ) -> web.StreamResponse:
        """The answer's chunks as they come; an error before the first is a plain error response."""
        with self.tracked():
            chunks = reply.chunks
            try:
                first = await anext(chunks)
            except StopAsyncIteration:
                first = None
            except ApiError as error:
                error = error.on(call.flavour)
                entry.reply = failed(error)
                await _close(chunks)
                return error_response(error, as_array=as_array)
            except Cut as cut:
                entry.reply = failed(ApiError(0, f"fault:{cut.fault.kind}"))
                return await act_out(request, None, cut.fault)
            except asyncio.CancelledError:
                entry.reply = self.gone()
                await _close(chunks)
                raise
            response = _Stream(status=200, headers=ARRAY_HEADERS if as_array else SSE_HEADERS)
            await response.prepare(request)
            return await self._rest(request, call, _prepend(first, chunks), as_array, entry, response)

    async def _rest(
        self,
        request: web.Request,
        call: Call,
        chunks: AsyncIterator[Chunk],
        as_array: bool,
        entry: Record,
        response: web.StreamResponse,
    ) -> web.StreamResponse:
        sent: list[Chunk] = []
        timing: list[float] = []
        signed: set[int] = set()
        array = encode.JsonArrayStream()
        written = 0
        try:
            async for chunk in chunks:
                self.signer.sign_reply(chunk, call, signed)
                sent.append(chunk)
                data = array.element(chunk) if as_array else encode.sse_event(chunk, call.flavour)
                written += len(data)
                timing.append(entry.since_start())
                await response.write(data)
                if len(sent) % _YIELD_EVERY == 0:
                    await asyncio.sleep(0)  # a long answer written in one go would hold the loop
        except ApiError as error:
            error = error.on(call.flavour)
            entry.reply = failed(error, sent)
            if as_array:
                await response.write(array.element(error.envelope()))
            else:
                await _write_error(response, error.envelope())
        except Cut as cut:
            entry.reply = failed(ApiError(0, f"fault:{cut.fault.kind}"), sent)
            try:
                return await act_out(request, response, cut.fault)
            except asyncio.CancelledError:
                await self._end_for_shutdown(response)
                raise
        except (ConnectionResetError, OSError):
            entry.reply = failed(errors.client_gone(), sent)
            return response
        except asyncio.CancelledError:
            entry.reply = entry.reply or self.gone(sent)
            await self._end_for_shutdown(response)
            raise
        finally:
            await _close(chunks)
        if entry.reply is None:
            entry.replied(sent, "stream", written, tuple(timing))
        if as_array:
            await response.write(array.close())
        await response.write_eof()
        return response

    async def _end_for_shutdown(self, response: web.StreamResponse) -> None:
        """Shutdown cancelled a stream that was waiting: end it with the terminal error, as at a chunk."""
        if self.closing:
            with contextlib.suppress(Exception):
                await _write_error(response, errors.shutting_down().envelope())


class _Stream(web.StreamResponse):
    """A stream whose headers go out with its first chunk, in one write: the first chunk is ready
    before the response starts, so holding the headers back delays nothing."""

    _send_headers_immediately = False


async def _write_error(response: web.StreamResponse, envelope: dict[str, Any]) -> None:
    """The bare error object that ends a started SSE stream, in a write of its own after a pause.

    The JS SDK recognises it only when one network read holds it alone, and without the pause the
    client's read would often take it together with the event before it.
    """
    await asyncio.sleep(STREAM_ERROR_PAUSE)
    await response.write(encode.stream_error(envelope))


async def _prepend(first: Chunk | None, rest: AsyncIterator[Chunk]) -> AsyncIterator[Chunk]:
    try:
        if first is None:
            return
        yield first
        async for chunk in rest:
            yield chunk
    finally:
        await _close(rest)


async def _close(chunks: AsyncIterator[Chunk]) -> None:
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        await aclose()
