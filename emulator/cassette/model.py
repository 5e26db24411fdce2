"""The cassette as data: what one recorded exchange is, independent of how it is stored.

These models are the in-memory form both backends share. Bodies are kept parsed (JSON as Python
values, a stream as its events) because matching, redaction, replay and the CLI all want structure,
and only the writers in :mod:`.codec` and :mod:`.convert` care how it looked on disk or on the wire.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

FORMAT = "gemini-emulator/1"


class CassetteError(ValueError):
    """A cassette that cannot be used: empty, unreadable, corrupt, too large, unsafe or misnamed."""


Headers = dict[str, list[str]]


def header(headers: Headers, name: str) -> str | None:
    """A header's first value, looked up case-insensitively as HTTP requires."""
    wanted = name.lower()
    for key, values in headers.items():
        if key.lower() == wanted and values:
            return values[0]
    return None


class Event(BaseModel):
    """One SSE event; ``delay`` is seconds since the previous event (or since the request, for the first)."""

    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any]
    delay: float | None = None


class RecordedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: str
    uri: str
    headers: Headers = Field(default_factory=dict)
    body: Any = None  # parsed JSON when the body was JSON, else the text, else None


class RecordedResponse(BaseModel):
    """At most one of ``body``, ``events`` and ``raw`` is set; none of them means an empty body."""

    model_config = ConfigDict(extra="forbid")

    status: int = 200
    message: str = "OK"
    headers: Headers = Field(default_factory=dict)
    body: dict[str, Any] | list[Any] | None = None
    events: list[Event] | None = None
    raw: str | None = None
    complete: bool = True  # False: the stream was cut before its final chunk

    @model_validator(mode="after")
    def _one_body(self) -> RecordedResponse:
        if sum(x is not None for x in (self.body, self.events, self.raw)) > 1:
            raise ValueError("a response has a JSON body, events or raw text, not several")
        return self

    @property
    def streamed(self) -> bool:
        return self.events is not None

    @property
    def error(self) -> dict[str, Any] | None:
        """The Google error object of an error answer, or of the event that ended a stream with one."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return self.body["error"]  # type: ignore[no-any-return]
        if self.events and isinstance(self.events[-1].data.get("error"), dict):
            return self.events[-1].data["error"]  # type: ignore[no-any-return]
        return None


class Interaction(BaseModel):
    """One request and its answer. ``metadata`` holds what other formats carry and ours has no slot for."""

    model_config = ConfigDict(extra="forbid")

    request: RecordedRequest
    response: RecordedResponse
    metadata: dict[str, Any] = Field(default_factory=dict)


class Cassette(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interactions: list[Interaction] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    path: Path | None = Field(default=None, exclude=True)
