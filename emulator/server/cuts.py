"""Connection faults acted out on the transport: what the client gets is a broken connection, never
an answer. The only part of the fault stage that needs the socket, so it stays beside the server."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct

from aiohttp import web

from ..wire.faultspec import Fault
from .responses import UNARY_HEADERS


class Cut(Exception):  # noqa: N818 - an instruction to the server, not an error
    """A connection fault to act out now; ``sent``: a stream is under way (after ``after_chunks`` chunks)."""

    def __init__(self, fault: Fault, sent: bool = True) -> None:
        super().__init__(fault.kind)
        self.fault = fault
        self.sent = sent


_MALFORMED = b'data: {"candidates": [{"content": {"parts": [{"text": "cut he\r\n\r\n'


async def act_out(request: web.Request, response: web.StreamResponse | None, fault: Fault) -> web.StreamResponse:
    """A connection fault: what the client gets is a broken connection, never an answer.

    ``response`` is the stream already under way, or None before anything was sent (then a
    malformed or garbage fault starts a 200 JSON body of its own).
    """
    if response is None and fault.kind in ("malformed", "garbage"):
        response = web.StreamResponse(status=200, headers=UNARY_HEADERS)
        await response.prepare(request)
    with contextlib.suppress(ConnectionResetError, OSError):
        if fault.kind == "malformed" and response is not None:
            sse = response.content_type == "text/event-stream"
            await response.write(_MALFORMED if sse else b'{"candidates": [{"con')
        elif fault.kind == "garbage" and response is not None:
            await response.write(random.Random(fault.seed).randbytes(512))
        elif fault.kind == "stall":
            await asyncio.sleep(fault.stall_seconds)
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if fault.kind == "reset" and sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()
    return response or web.Response(status=204)
