"""The one small interface between the wire layer and whatever produces answers.

A backend receives a validated :class:`Call` and returns a :class:`Reply` (one JSON body) or a
:class:`StreamReply` (chunks as they come). It reports failures by raising
:class:`~emulator.wire.errors.ApiError`; raised while a stream is running, the error reaches the
client the way the real service writes a mid-stream error. Backends never see aiohttp objects.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Any, Protocol, runtime_checkable

from google.protobuf import json_format
from google.protobuf.message import Message

from ..catalogue import ModelInfo


class Method(str, Enum):
    GENERATE = "generateContent"
    STREAM = "streamGenerateContent"
    COUNT_TOKENS = "countTokens"
    EMBED = "embedContent"
    BATCH_EMBED = "batchEmbedContents"


@dataclass
class Call:
    """One validated model call, as the backend sees it.

    ``body`` is the request as canonical JSON (camelCase keys, enum names, standard base64), whatever
    casing and alphabet the client sent, so that equal requests look equal to every backend.
    """

    method: Method
    model: ModelInfo
    version: str
    body: dict[str, Any]
    context: str = ""
    key: str | None = field(default=None, repr=False)
    """The caller's API key; only a recording proxy needs it, to forward the call upstream."""
    size: int = 0
    """Bytes of the body as sent: a backend answers heavy calls off the event loop."""

    @cached_property
    def request(self) -> Message:
        """The same request as Google's protobuf message, built only for backends that ask for it."""
        from ..wire.schema import REQUEST_CLASSES

        return json_format.ParseDict(self.body, REQUEST_CLASSES[self.method]())

    @property
    def streaming(self) -> bool:
        return self.method is Method.STREAM

    @property
    def path(self) -> str:
        """The call's path and query as the SDKs send it, e.g. ``/v1beta/models/m:streamGenerateContent?alt=sse``."""
        query = "?alt=sse" if self.streaming else ""
        return f"/{self.version}/{self.model.name}:{self.method.value}{query}"


@dataclass
class Reply:
    body: dict[str, Any]
    fault: dict[str, Any] | None = None
    """A fault for the server to act out with this answer, as an ``x-emulator-fault`` header would."""


@dataclass
class StreamReply:
    chunks: AsyncIterator[dict[str, Any]]
    fault: dict[str, Any] | None = None


@runtime_checkable
class Backend(Protocol):
    async def answer(self, call: Call) -> Reply | StreamReply: ...
