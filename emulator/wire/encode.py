"""Bytes on the wire, written the way the real service writes them.

Unary bodies are pretty-printed with a 2-space indent and a final newline; stream events are
``data: <one-line JSON>`` followed by a blank line (CRLF), with ``": "`` after keys and no space
after commas. Only ``<`` and ``>`` are escaped; other characters, non-ASCII included, are raw UTF-8.

Vertex AI writes the same bytes: its 520 recorded unary bodies are indented by two spaces and end in
``}\n``, its 492 stream chunks are ``data: {"candidates": [{"content": {"role": "model","parts": ...``
followed by CRLF CRLF, with ``\u003c`` and ``\u003e`` and raw UTF-8. :func:`sse_event` and :func:`line`
still take the call's flavour, so that a difference found later is made here alone.
"""

from __future__ import annotations

import json
import re
from json.encoder import encode_basestring as _quote  # the C function json.dumps uses (ensure_ascii=False)
from typing import Any

import orjson

from .flavour import Flavour

JSON_TYPE = "application/json; charset=UTF-8"
SSE_TYPE = "text/event-stream"

_LINE = json.JSONEncoder(ensure_ascii=False, separators=(",", ": "))
_LINES = {Flavour.DEVELOPER: _LINE, Flavour.VERTEX: _LINE}
"""Each flavour's one-line JSON: the recordings of both show ``": "`` after keys and a bare ``,``."""
_INDENT = "  "
_float_repr = float.__repr__
_int_repr = int.__repr__
_INF = float("inf")


def _escape(text: str) -> str:
    if "<" in text or ">" in text:
        text = text.replace("<", "\\u003c").replace(">", "\\u003e")
    return text


class _NotPlain(Exception):
    """A value the fast printer leaves to ``json.dumps`` (an unknown type, a cycle): same text or same error."""


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INF:
        return "Infinity"
    if value == -_INF:
        return "-Infinity"
    return _float_repr(value)


def _key(key: Any) -> str:
    """A non-string key the way ``json.dumps`` converts it (the same order of checks)."""
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _float(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return _int_repr(key)
    raise _NotPlain


def _scalar(value: Any) -> str:
    """A value that is not a plain dict or list, checked in the order ``json.dumps`` checks it."""
    if isinstance(value, str):
        return _quote(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return _int_repr(value)
    if isinstance(value, float):
        return _float(value)
    raise _NotPlain


def _write(value: Any, newline: str, out: list[str]) -> None:
    """Appends ``value`` pretty-printed, nested at ``newline`` (``"\n"`` + the current indent), to ``out``.

    The standard library writes indented JSON with its pure-Python generator encoder, whose
    closures also leave reference cycles for the garbage collector on every call; this writes the
    same text by plain recursion (``tests/wire/test_encode.py`` proves the equality). A value is at
    most one of dict, list or tuple, str, int, float (their layouts exclude each other), so only
    bool before int and None need the order ``json.dumps`` uses; exact types take fast paths.
    """
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = newline + _INDENT
        sep = "{" + inner
        for key, item in value.items():
            if type(key) is not str:
                key = _key(key)
            kind = type(item)
            if kind is str:
                out.append(sep + _quote(key) + ": " + _quote(item))
            elif kind is int:
                out.append(sep + _quote(key) + ": " + _int_repr(item))
            else:
                out.append(sep + _quote(key) + ": ")
                _write(item, inner, out)
            sep = "," + inner
        out.append(newline + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        inner = newline + _INDENT
        sep = "[" + inner
        for item in value:
            if type(item) is str:
                out.append(sep + _quote(item))
            else:
                out.append(sep)
                _write(item, inner, out)
            sep = "," + inner
        out.append(newline + "]")
    else:
        out.append(_scalar(value))


def pretty(obj: Any) -> str:
    """Exactly ``json.dumps(obj, ensure_ascii=False, indent=2)``, faster."""
    out: list[str] = []
    try:
        _write(obj, "\n", out)
    except (_NotPlain, RecursionError):
        return json.dumps(obj, ensure_ascii=False, indent=2)
    return "".join(out)


_SURROGATES = re.compile("[\ud800-\udfff]")


def utf8(text: str) -> bytes:
    """UTF-8 bytes; a lone surrogate (say, quoted back in an error message) is sent as U+FFFD."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", text).encode()


# Where orjson's text may differ from json.dumps': floats it spells otherwise (1e-7 for 1e-07,
# 0.00005 for 5e-05), NaN and infinities (null); a match in a string only costs the slower path.
# A regex would cost more than orjson itself: a digit, an "e" and a sign are found by translation.
_EXPONENT = bytes(49 if 48 <= i <= 57 else 101 if i == 101 else 45 if i in (43, 45) else 32 for i in range(256))


def _orjson_differs(out: bytes) -> bool:
    return b"null" in out or b"0.0000" in out or b"1e-" in out.translate(_EXPONENT)


_ORJSON_INDENT = orjson.OPT_INDENT_2
_ORJSON_NEWLINE = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE


def pretty_bytes(obj: Any, newline: bool = False) -> bytes:
    """``utf8(_escape(pretty(obj)))``: by orjson when its text is provably the same, else by :func:`pretty`.

    orjson refuses (TypeError) what it cannot write the same way: lone surrogates, integers beyond
    64 bits, non-string keys, unknown types.
    """
    try:
        out = orjson.dumps(obj, option=_ORJSON_NEWLINE if newline else _ORJSON_INDENT)
    except TypeError:
        out = b""
    if not out or _orjson_differs(out):
        text = _escape(pretty(obj))
        return utf8(text + "\n" if newline else text)
    if b"<" in out or b">" in out:  # outside strings neither occurs in JSON
        out = out.replace(b"<", b"\\u003c").replace(b">", b"\\u003e")
    return out


def unary(obj: Any) -> bytes:
    return pretty_bytes(obj, newline=True)


def line(obj: Any, flavour: Flavour = Flavour.DEVELOPER) -> str:
    return _escape(_LINES[flavour].encode(obj))


def _line_bytes(obj: Any, flavour: Flavour) -> bytes:
    """``utf8(line(obj, flavour))``, by orjson when its text is provably the same.

    orjson writes ``":`` after a key where the stream writes ``": ``. A quote before a colon ends a
    key unless it opens a string that starts with a colon (it follows ``{``, ``[``, ``,`` or ``:``
    then) or is an escaped quote in a string (``\\":``); where either may be, the standard encoder
    writes the line.
    """
    try:
        out = orjson.dumps(obj)
    except TypeError:
        out = b""
    if not out or _orjson_differs(out) or _colon_in_doubt(out):
        return utf8(line(obj, flavour))
    out = out.replace(b'":', b'": ')
    if b"<" in out or b">" in out:
        out = out.replace(b"<", b"\\u003c").replace(b">", b"\\u003e")
    return out


def _colon_in_doubt(out: bytes) -> bool:
    return b'\\":' in out or out.startswith(b'":') or b'{":' in out or b'[":' in out or b',":' in out or b':":' in out


def sse_event(obj: Any, flavour: Flavour = Flavour.DEVELOPER) -> bytes:
    """One stream chunk as ``flavour`` writes it: ``data: <one-line JSON>`` and a blank line (CRLF)."""
    return b"data: " + _line_bytes(obj, flavour) + b"\r\n\r\n"


def stream_error(envelope: dict[str, Any]) -> bytes:
    """An error after a stream started: a bare pretty-printed object, written alone, then the stream ends.

    The form the real service writes. The Python SDK detects it in any case, the JS SDK only when one
    network read holds it alone (so the server pauses before writing it).
    """
    return unary(envelope)


class JsonArrayStream:
    """The non-SSE stream: one JSON array whose elements arrive one write at a time."""

    def __init__(self) -> None:
        self._started = False

    def element(self, obj: Any) -> bytes:
        head = b"[" if not self._started else b"\n,\r\n"
        self._started = True
        return head + pretty_bytes(obj)

    def close(self) -> bytes:
        return b"]" if self._started else b"[]"
