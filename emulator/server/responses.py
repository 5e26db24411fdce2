"""Responses with the real service's headers: unary JSON, error envelopes, stream headers."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..wire import encode
from ..wire.errors import ApiError

_HEADERS = {"Server": "scaffolding on HTTPServer2", "Vary": "Origin, X-Origin, Referer"}
UNARY_HEADERS = {**_HEADERS, "Content-Type": encode.JSON_TYPE}
ANSWER_HEADERS = {**UNARY_HEADERS, "x-gemini-service-tier": "standard"}
"""A unary generateContent answer: the only one the real service marks with its service tier."""
SSE_HEADERS = {**_HEADERS, "Content-Type": encode.SSE_TYPE, "Content-Disposition": "attachment"}
ARRAY_HEADERS = {**_HEADERS, "Content-Type": encode.JSON_TYPE}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return bytes_response(encode.unary(body), status, headers)


def bytes_response(data: bytes, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A unary body already encoded; ``headers`` replace the plain JSON ones (extras go on top of them)."""
    if headers is None:
        headers = UNARY_HEADERS
    elif "Content-Type" not in headers:
        headers = {**UNARY_HEADERS, **headers}
    return web.Response(body=data, status=status, headers=headers)


def error_response(error: ApiError, *, as_array: bool = False) -> web.Response:
    envelope = error.envelope()
    return json_response([envelope] if as_array else envelope, status=error.code, headers=error.headers)
