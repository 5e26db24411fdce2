"""Responses with the real service's headers: unary JSON, error envelopes, stream headers."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..wire import encode
from ..wire.errors import ApiError

_HEADERS = {"Server": "scaffolding on HTTPServer2", "Vary": "Origin, X-Origin, Referer"}
UNARY_HEADERS = {**_HEADERS, "Content-Type": encode.JSON_TYPE, "x-gemini-service-tier": "standard"}
SSE_HEADERS = {**_HEADERS, "Content-Type": encode.SSE_TYPE, "Content-Disposition": "attachment"}
ARRAY_HEADERS = {**_HEADERS, "Content-Type": encode.JSON_TYPE}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return bytes_response(encode.unary(body), status, headers)


def bytes_response(data: bytes, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A unary body already encoded."""
    return web.Response(body=data, status=status, headers={**UNARY_HEADERS, **headers} if headers else UNARY_HEADERS)


def error_response(error: ApiError, *, as_array: bool = False) -> web.Response:
    envelope = error.envelope()
    return json_response([envelope] if as_array else envelope, status=error.code, headers=error.headers)
