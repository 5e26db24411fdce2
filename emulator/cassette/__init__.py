"""Cassettes: the recorded format, matching, redaction and persistence; nothing here speaks HTTP."""

from __future__ import annotations

from .matching import Index, Matcher, normalise
from .model import FORMAT, Cassette, Event, Interaction, RecordedRequest, RecordedResponse
from .store import CassetteError, append, compact, load, resolve, save

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
