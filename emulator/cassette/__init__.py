"""Cassettes: the recorded format, matching, redaction and persistence; nothing here speaks HTTP.

The names below load their module on first use: the server imports ``cassette.redact`` for its
access log, and a start-up without a cassette should not pay for YAML, file locks and matching.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .matching import Index, Matcher, normalise
    from .model import FORMAT, Cassette, Event, Interaction, RecordedRequest, RecordedResponse
    from .store import CassetteError, append, compact, load, resolve, save

_HOMES = {
    "Index": "matching",
    "Matcher": "matching",
    "normalise": "matching",
    "FORMAT": "model",
    "Cassette": "model",
    "Event": "model",
    "Interaction": "model",
    "RecordedRequest": "model",
    "RecordedResponse": "model",
    "CassetteError": "store",
    "append": "store",
    "compact": "store",
    "load": "store",
    "resolve": "store",
    "save": "store",
}

__all__ = [
    "FORMAT",
    "Cassette",
    "CassetteError",
    "Event",
    "Index",
    "Interaction",
    "Matcher",
    "RecordedRequest",
    "RecordedResponse",
    "append",
    "compact",
    "load",
    "normalise",
    "resolve",
    "save",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value
