"""Cassette dicts in vcrpy's shape, both as vcrpy writes them and in our readable form.

vcrpy keeps every body as a string (``request.body``, ``response.body.string``); we keep them
parsed, under keys vcrpy's loader ignores (``body.json``, ``body.events``), so that a cassette we
write still loads in vcrpy while a person can read and edit it. Which of the two a file is comes
from ``metadata.format``; a file without it is vcrpy's, and its strings are decoded here.
"""

from __future__ import annotations

import gzip
import json
import zlib
from http import HTTPStatus
from typing import Any

from pydantic import ValidationError

from . import sse
from .model import FORMAT, Cassette, Event, Headers, Interaction, RecordedRequest, RecordedResponse, header

VCR_VERSION = 1


class FormatError(ValueError):
    """A cassette dict that is neither our format nor vcrpy's."""


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _headers(value: Any) -> Headers:
    if not value:
        return {}
    if not isinstance(value, dict):
        raise FormatError("headers must be a mapping")
    return {str(k): [str(x) for x in v] if isinstance(v, list) else [str(v)] for k, v in value.items()}


def _text(value: Any, headers: Headers, where: str) -> str | None:
    """A body string; vcrpy leaves bytes it could not decode as ``!!binary``, compressed ones included."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, bytes):
        raise FormatError(f"{where}: body must be a string")
    encoding = (header(headers, "content-encoding") or "").lower()
    data: bytes = value
    try:
        if encoding == "gzip" or data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        elif encoding == "deflate":
            data = zlib.decompress(data)
        return data.decode()
    except (OSError, EOFError, zlib.error, UnicodeDecodeError):
        raise FormatError(f"{where}: binary body ({encoding or 'no content-encoding'}) is not supported") from None


def _drop(headers: Headers, *names: str) -> Headers:
    return {k: v for k, v in headers.items() if k.lower() not in names}


def response_from_text(status: int, message: str, headers: Headers, text: str | None) -> RecordedResponse:
    """A response from wire text: SSE into events, JSON objects and arrays parsed, anything else verbatim."""
    response = RecordedResponse(status=status, message=message, headers=headers)
    if not text:
        return response
    kind = (header(headers, "content-type") or "").lower()
    if "event-stream" in kind or sse.looks_like_sse(text):
        events, response.complete = sse.parse(text)
        response.events = [Event(data=e) for e in events]
        return response
    if not kind or "json" in kind:
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, dict | list):
            response.body = value
            return response
    response.raw = text
    return response


def request_body_from_text(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _status(value: Any) -> tuple[int, str]:
    if isinstance(value, dict):
        code = int(value.get("code", 200))
        return code, str(value.get("message") or reason(code))
    code = int(value if value is not None else 200)
    return code, reason(code)


def _plain_interaction(item: dict[str, Any], where: str) -> Interaction:
    req, resp = item["request"], item["response"]
    req_headers = _headers(req.get("headers"))
    request = RecordedRequest(
        method=str(req["method"]),
        uri=str(req["uri"]),
        headers=req_headers,
        body=request_body_from_text(_text(req.get("body"), req_headers, where + ".request")),
    )
    resp_headers = _headers(resp.get("headers"))
    if "status_code" in resp:  # how vcrpy's httpx stubs recorded before vcrpy 5
        raw, (code, message) = resp.get("content"), _status(resp["status_code"])
    else:
        body = resp.get("body") or {}
        raw, (code, message) = body.get("string") if isinstance(body, dict) else body, _status(resp.get("status"))
    text = _text(raw, resp_headers, where + ".response")
    if isinstance(raw, bytes):  # decoded here, so the headers must stop saying otherwise
        resp_headers = _drop(resp_headers, "content-encoding", "content-length")
    return Interaction(request=request, response=response_from_text(code, message, resp_headers, text))


def _readable_interaction(item: dict[str, Any], where: str) -> Interaction:
    req, resp = item["request"], item["response"]
    body = resp.get("body") or {}
    if not isinstance(body, dict):
        raise FormatError(f"{where}.response.body must be a mapping")
    code, message = _status(resp.get("status"))
    headers = _headers(resp.get("headers"))
    if "string" in body:
        response = response_from_text(code, message, headers, _text(body["string"], headers, where))
    else:
        events = body.get("events")
        response = RecordedResponse(
            status=code,
            message=message,
            headers=headers,
            body=body.get("json"),
            events=None if events is None else [Event.model_validate(e) for e in events],
        )
    response.complete = bool(resp.get("complete", response.complete))
    request = RecordedRequest(
        method=str(req["method"]), uri=str(req["uri"]), headers=_headers(req.get("headers")), body=req.get("body")
    )
    return Interaction(request=request, response=response, metadata=item.get("metadata") or {})


def from_dict(data: Any, plain: bool = False) -> Cassette:
    """A cassette from either shape; raises :class:`FormatError` naming the first bad interaction.

    ``plain`` reads vcrpy's shape whatever the metadata says (what vcrpy hands a serializer to save)."""
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise FormatError("not a cassette: expected a mapping with an 'interactions' list")
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise FormatError("metadata must be a mapping")
    decode = _readable_interaction if metadata.get("format") == FORMAT and not plain else _plain_interaction
    interactions = []
    for i, item in enumerate(data["interactions"]):
        where = f"interactions[{i}]"
        try:
            interactions.append(decode(item, where))
        except FormatError:
            raise
        except ValidationError as exc:
            raise FormatError(f"{where}: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from None
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise FormatError(f"{where}: {type(exc).__name__}: {exc}") from None
    return Cassette(interactions=interactions, metadata=metadata)


def _response_body(response: RecordedResponse) -> dict[str, Any]:
    if response.events is not None:
        return {"events": [e.model_dump(exclude_none=True) for e in response.events]}
    if response.body is not None:
        return {"json": response.body}
    return {"string": response.raw or ""}


def interaction_to_dict(interaction: Interaction) -> dict[str, Any]:
    req, resp = interaction.request, interaction.response
    response: dict[str, Any] = {
        "status": {"code": resp.status, "message": resp.message},
        "headers": resp.headers,
        "body": _response_body(resp),
    }
    if not resp.complete:
        response["complete"] = False
    out: dict[str, Any] = {
        "request": {"method": req.method, "uri": req.uri, "headers": req.headers, "body": req.body},
        "response": response,
    }
    if interaction.metadata:
        out["metadata"] = interaction.metadata
    return out


def to_dict(cassette: Cassette) -> dict[str, Any]:
    """Our readable form, in the order a reader wants it: what it is, then the exchanges."""
    metadata = {"format": FORMAT, **{k: v for k, v in cassette.metadata.items() if k != "format"}}
    return {
        "version": VCR_VERSION,
        "metadata": metadata,
        "interactions": [interaction_to_dict(i) for i in cassette.interactions],
    }
