"""SSE bodies as the real service writes them and as google-genai reads them (protocol §3.7).

Parsing follows the Python SDK's reader, because a recorded stream must be read the way the client
read it: events are ``data: `` lines ended by a blank line, and anything else is JSON collected
until it parses (the bare error object the service writes when a stream fails part-way).
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..wire import encode

_LINES = re.compile(r"\r\n|\r|\n")


class StreamError(ValueError):
    """A stream whose complete events are not JSON objects: corrupt, not merely cut short."""


def looks_like_sse(text: str) -> bool:
    return text.lstrip().startswith("data:")


def _event(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise StreamError(f"stream event is not JSON: {text[:80]!r}") from None
    if not isinstance(value, dict):
        raise StreamError(f"stream event is not a JSON object: {text[:80]!r}")
    return value


def parse(text: str) -> tuple[list[dict[str, Any]], bool]:
    """The events of a stream and whether it ended cleanly (no half-written event at the end)."""
    events: list[dict[str, Any]] = []
    data: list[str] = []
    loose: list[str] = []
    for line in _LINES.split(text):
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif not line:
            if data:
                events.append(_event("\n".join(data)))
                data = []
        else:
            loose.append(line)
            try:
                events.append(_event("\n".join(loose)))
                loose = []
            except StreamError:
                pass
    if loose:
        return events, False
    if data:
        try:
            events.append(_event("\n".join(data)))
        except StreamError:
            return events, False
    return events, True


def frame(events: list[dict[str, Any]]) -> str:
    """The stream's bytes as the service writes them; an error event is the bare object it ends with."""
    out = []
    for data in events:
        if set(data) == {"error"}:
            out.append(encode.stream_error(data).decode())
        else:
            out.append(f"data: {encode.line(data)}\r\n\r\n")
    return "".join(out)
