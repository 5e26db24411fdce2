"""A request body, read within its deadline and size (``wire.json_body`` reads it as the real front end reads JSON)."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from ..wire import errors
from ..wire.errors import ApiError


async def read_body(request: web.Request, limit: int, deadline: float = 60.0) -> bytes:
    """The body's bytes; a client that trickles its body cannot hold a handler longer than ``deadline`` seconds."""
    try:
        if request.content.is_eof():
            # The whole body is buffered already (the usual case: it came with the headers), so
            # reading cannot wait and needs no deadline, nor the task wait_for would start for it.
            data = await request.read()
        else:
            data = await asyncio.wait_for(request.read(), deadline)
    except web.HTTPRequestEntityTooLarge:
        raise errors.payload_too_large(limit) from None
    except TimeoutError:
        raise ApiError(
            408, f"The request body was not received within {deadline:g} seconds.", "DEADLINE_EXCEEDED"
        ) from None
    except ConnectionResetError:
        # The client went away before (or while) its body arrived: nobody to answer, nothing to log.
        raise ApiError(499, "Client disconnected.") from None
    except RequestPayloadError:
        raise errors.invalid_argument(
            "Invalid JSON payload received. The body does not decode as its Content-Encoding says."
        ) from None
    return data
