"""Field types with shorthands (``times: unlimited``, ``turn: 2``, ``delay: 250ms``).

Each shorthand is normalised by a ``BeforeValidator`` that also declares the accepted input in the
JSON Schema (``json_schema_input_type``), so the published schema accepts exactly what the loader
accepts and pydantic's error locations stay plain field paths (no union branch names).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, NonNegativeFloat

from . import templates


class Spec(BaseModel):
    """Base of every scenario model: unknown keys are errors, since a typo must not silently match all.

    Frozen, because one loaded scenario is shared by the backends of many contexts.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m)\s*")
_DURATION_PATTERN = r"^\s*\d+(\.\d+)?\s*(ms|s|m)\s*$"
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0}


def _seconds(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string such as '250ms', '3s' or '1m'")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if isinstance(value, str):
        match = _DURATION.fullmatch(value)
        if match:
            return float(match.group(1)) * _UNIT[match.group(2)]
    raise ValueError(f"{value!r} is not a duration; write a number of seconds or e.g. '250ms', '3s', '1m'")


Duration = Annotated[
    float,
    BeforeValidator(
        _seconds, json_schema_input_type=NonNegativeFloat | Annotated[str, Field(pattern=_DURATION_PATTERN)]
    ),
]
"""Seconds, from a number or a string with a unit."""


def _times(value: Any) -> Any:
    if value == "unlimited":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ValueError(f"times must be a positive integer or 'unlimited', not {value!r}")


Times = Annotated[
    int | None,
    BeforeValidator(_times, json_schema_input_type=Annotated[int, Field(ge=1)] | Literal["unlimited"]),
]
"""How many requests a rule may answer; None (written ``unlimited``) for no limit."""


def _listify(value: Any) -> Any:
    return value if isinstance(value, list) else [value]


IntSet = Annotated[
    list[Annotated[int, Field(ge=1)]],
    BeforeValidator(_listify, json_schema_input_type=Annotated[int, Field(ge=1)] | list[Annotated[int, Field(ge=1)]]),
]
"""One 1-based number or a list of them; a request matches if its number is in the list."""

Names = Annotated[list[str], BeforeValidator(_listify, json_schema_input_type=str | list[str])]
"""One name (or glob) or a list of them."""


def _base64(value: Any) -> Any:
    """Accepts both alphabets, with or without padding, and keeps the standard one the service sends."""
    if not isinstance(value, str):
        return value
    compact = value.strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64encode(base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)).decode()
    except (binascii.Error, ValueError):
        raise ValueError("must be base64 (standard or URL-safe alphabet)") from None


Base64 = Annotated[str, AfterValidator(_base64)]

TemplateStr = Annotated[str, AfterValidator(templates.check)]
"""Text that may contain ``{{ placeholders }}``; checked at load time."""


def _not_empty(text: str) -> str:
    if not text:
        raise ValueError("text must not be empty: clients send model output back, and the service rejects empty text")
    return text


TextTemplate = Annotated[
    str, AfterValidator(_not_empty), AfterValidator(templates.check), Field(json_schema_extra={"minLength": 1})
]
"""Non-empty text that may contain placeholders, for text parts."""

TemplateValue = Annotated[Any, AfterValidator(templates.check_value)]
"""A JSON-like value whose strings may contain placeholders."""

FinishReason = Literal[
    "STOP",
    "MAX_TOKENS",
    "SAFETY",
    "RECITATION",
    "LANGUAGE",
    "OTHER",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "MALFORMED_FUNCTION_CALL",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_OTHER",
    "NO_IMAGE",
    "IMAGE_RECITATION",
    "UNEXPECTED_TOOL_CALL",
    "TOO_MANY_TOOL_CALLS",
    "MISSING_THOUGHT_SIGNATURE",
    "MALFORMED_RESPONSE",
]
BlockReason = Literal["BLOCK_REASON_UNSPECIFIED", "SAFETY", "OTHER", "BLOCKLIST", "PROHIBITED_CONTENT", "IMAGE_SAFETY"]
