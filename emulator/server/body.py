"""A request body: read within its deadline and size, then parsed as the real front end reads JSON."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import orjson
from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from ..wire import errors, validate
from ..wire.errors import ApiError

# orjson reads integers beyond 64 bits as floats; a run of 19 digits sends a body to json.loads.
_DIGITS = bytes(49 if 48 <= i <= 57 else 0 for i in range(256))
_LONG_NUMBER = b"1" * 19


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


def parse_json(data: bytes) -> Any:
    """A request body as JSON: what ``json.loads`` of its strict UTF-8 makes of it, faster.

    An empty body is an empty message, as for the real front end; what is not JSON gets the front
    end's 400 with the place it broke.
    """
    if _LONG_NUMBER not in data.translate(_DIGITS):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # the standard parser accepts \ud800 escapes and NaN, and words the errors
    return standard_json(data)


def standard_json(data: bytes) -> Any:
    """What the standard library makes of a body (strict UTF-8, then ``json.loads``): the meaning
    :func:`parse_json` keeps, and the front end's 400 for what is not JSON."""
    if not data.strip():
        return {}
    try:
        # Strict UTF-8 first: json.loads(bytes) would let UTF-8-encoded surrogates through.
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise errors.invalid_argument("Invalid JSON payload received. Invalid UTF-8 in the request body.") from None
    except json.JSONDecodeError as exc:
        excerpt = exc.doc[max(0, exc.pos - 20) : exc.pos + 20].replace("\n", " ")
        raise errors.invalid_argument(
            f"Invalid JSON payload received. {exc.msg} at line {exc.lineno} column {exc.colno}.\n{excerpt}\n"
            f"{' ' * min(exc.pos, 20)}^"
        ) from None
    except RecursionError:
        raise errors.invalid_argument(validate.MSG_TOO_DEEP) from None
    except ValueError as exc:  # e.g. an integer literal longer than Python converts
        raise errors.invalid_argument(f"Invalid JSON payload received. {exc}") from None
