"""Bytes on the wire, written the way the real service writes them.

Unary bodies are pretty-printed with a 2-space indent and a final newline; stream events are
``data: <one-line JSON>`` followed by a blank line (CRLF), with ``": "`` after keys and no space
after commas. Only ``<`` and ``>`` are escaped; other characters, non-ASCII included, are raw UTF-8.
"""

from __future__ import annotations

import json
from typing import Any

JSON_TYPE = "application/json; charset=UTF-8"
SSE_TYPE = "text/event-stream"


def _escape(text: str) -> str:
    if "<" in text or ">" in text:
        text = text.replace("<", "\\u003c").replace(">", "\\u003e")
    return text


def unary(obj: Any) -> bytes:
    return (_escape(json.dumps(obj, ensure_ascii=False, indent=2)) + "\n").encode()


def line(obj: Any) -> str:
    return _escape(json.dumps(obj, ensure_ascii=False, separators=(",", ": ")))


def sse_event(obj: Any) -> bytes:
    return f"data: {line(obj)}\r\n\r\n".encode()


def stream_error(envelope: dict[str, Any]) -> bytes:
    """An error after a stream started: a bare pretty-printed object, written alone, then the stream ends.

    Both SDKs detect this form; a ``data:`` event carrying the error is missed by the JS SDK.
    """
    return unary(envelope)


class JsonArrayStream:
    """The non-SSE stream: one JSON array whose elements arrive one write at a time."""

    def __init__(self) -> None:
        self._started = False

    def element(self, obj: Any) -> bytes:
        head = "[" if not self._started else "\n,\r\n"
        self._started = True
        return (head + _escape(json.dumps(obj, ensure_ascii=False, indent=2))).encode()

    def close(self) -> bytes:
        return b"]" if self._started else b"[]"
