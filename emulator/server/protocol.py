"""aiohttp's connection handler with a deadline for request headers, and Google's envelope on refusals.

aiohttp bounds an idle connection (keep-alive) and the handler bounds a body (``body_timeout``),
but a client that sends its headers a byte at a time is only cut off when the keep-alive timer
of the previous request runs out. Here the clock starts at the first byte of a request's headers
and stops when the parser has them all; if it runs out first the client gets a 408 envelope and
the connection closes, whatever else it is doing.

Requests aiohttp's parser refuses (conflicting lengths, folded or oversized headers, a bad chunk)
get the Google error envelope instead of aiohttp's plain text, and never a ``Server`` header naming
aiohttp and Python.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from ..wire import encode, errors
from ..wire.errors import ApiError
from .responses import UNARY_HEADERS

MSG_MALFORMED = "Your client has issued a malformed or illegal request."


def _late(timeout: float) -> bytes:
    error = ApiError(408, f"The request headers were not received within {timeout:g} seconds.", "DEADLINE_EXCEEDED")
    body = encode.unary(error.envelope())
    head = (
        "HTTP/1.1 408 Request Timeout\r\n"
        f"Content-Type: {encode.JSON_TYPE}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class HeaderDeadline(RequestHandler):
    """A :class:`RequestHandler` whose headers must arrive within ``header_timeout`` seconds."""

    __slots__ = ("_header_timeout", "_header_timer")

    def __init__(self, manager: web.Server, *, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._header_timeout = header_timeout
        self._header_timer: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        requests = self._request_count
        super().data_received(data)
        if self._request_count != requests:
            self._stop_clock()  # the headers are in
        elif self._header_timer is None and self._between_requests():
            self._header_timer = self._loop.call_later(self._header_timeout, self._headers_late)

    async def _handle_request(self, *args: Any, **kwargs: Any) -> Any:
        # Bytes that arrived between the parser's message and this task were body, not headers.
        self._stop_clock()
        return await super()._handle_request(*args, **kwargs)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._stop_clock()
        super().connection_lost(exc)

    def handle_error(
        self, request: BaseRequest, status: int = 500, exc: BaseException | None = None, message: str | None = None
    ) -> web.StreamResponse:
        """aiohttp's logging and its refusal to answer twice, then the envelope as the answer."""
        super().handle_error(request, status, exc, message)
        if status >= 500:
            error = errors.internal()
        else:
            # aiohttp quotes the offending bytes; they may hold a credential, so only its words are kept.
            reason = " ".join((message or "").split()).removeprefix("Bad Request ").split(" b'")[0].rstrip(":")
            error = ApiError(status, f"{MSG_MALFORMED} {reason}".strip() if reason else MSG_MALFORMED)
        response = web.Response(status=status, body=encode.unary(error.envelope()), headers=UNARY_HEADERS)
        response.force_close()
        return response

    def _between_requests(self) -> bool:
        return not (self._request_in_progress or self._messages or self._force_close or self._close)

    def _stop_clock(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.transport is None or not self._between_requests():
            return
        self.transport.write(_late(self._header_timeout))
        self.force_close()


class DeadlineServer(web.Server):
    """Makes :class:`HeaderDeadline` handlers, with the arguments aiohttp's server was given."""

    def __init__(self, made: web.Server, header_timeout: float) -> None:
        super().__init__(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            loop=made._loop,
            **made._kwargs,
        )
        self.header_timeout = header_timeout

    def __call__(self) -> RequestHandler:
        return HeaderDeadline(self, loop=self._loop, header_timeout=self.header_timeout, **self._kwargs)


class DeadlineRunner(web.AppRunner):
    """An :class:`~aiohttp.web.AppRunner` whose connections have a header deadline."""

    def __init__(self, app: web.Application, *, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.header_timeout = header_timeout

    async def _make_server(self) -> web.Server:
        return DeadlineServer(await super()._make_server(), self.header_timeout)
