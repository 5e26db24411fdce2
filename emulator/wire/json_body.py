"""A request body's JSON, read as the real front end reads it.

It lives with the wire format rather than with the server so that :func:`validate.parse_body` can
parse and check a body in one step; ``server/body.py`` re-exports it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from . import errors

MSG_TOO_DEEP = "Invalid JSON payload received. The message is nested too deeply."
UNREAD: Any = object()
"""What :func:`quick_json` returns for a body orjson cannot read as ``json.loads`` would."""

# orjson reads integers beyond 64 bits as floats; a run of 19 digits sends a body to json.loads.
_DIGITS = bytes(49 if 48 <= i <= 57 else 0 for i in range(256))
_LONG_NUMBER = b"1" * 19
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def quick_json(data: bytes) -> Any:
    """orjson's reading of a body when it is certainly the standard library's, else :data:`UNREAD`.

    What orjson reads is plain JSON: no lone surrogates, no NaN, no integer beyond 64 bits.
    """
    if _LONG_NUMBER not in data.translate(_DIGITS):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # the standard parser accepts \ud800 escapes and NaN, and words the errors
    return UNREAD


def without_lone_surrogates(data: bytes) -> bool:
    """Whether no string of the body holds a lone UTF-16 surrogate (a ``\\ud800`` escape alone),
    for a body :func:`quick_json` left to ``json.loads``: orjson refuses them, and only them, among
    what it is not given for its long numbers."""
    if not _SURROGATE_ESCAPE.search(data):
        return True
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError:
        return False
    return True


def parse_json(data: bytes) -> Any:
    """A request body as JSON: what ``json.loads`` of its strict UTF-8 makes of it, faster.

    An empty body is an empty message, as for the real front end; what is not JSON gets the front
    end's 400 with the place it broke.
    """
    value = quick_json(data)
    return standard_json(data) if value is UNREAD else value


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
        raise errors.invalid_argument(MSG_TOO_DEEP) from None
    except ValueError as exc:  # e.g. an integer literal longer than Python converts
        raise errors.invalid_argument(f"Invalid JSON payload received. {exc}") from None
