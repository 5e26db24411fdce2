"""The one small interface between the wire layer and whatever produces answers.

A backend receives a validated :class:`~emulator.wire.call.Call` and returns a :class:`Reply` (one
JSON body) or a :class:`StreamReply` (chunks as they come). It reports failures by raising
:class:`~emulator.wire.errors.ApiError`; raised while a stream is running, the error reaches the
client the way the real service writes a mid-stream error. A backend that wants the answer to
misbehave (a scenario rule's ``fault``) returns it with a typed :class:`~emulator.wire.faultspec.Fault`
for the server's fault stage. Backends never see aiohttp objects.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ..wire.call import Call
from ..wire.faultspec import Fault

__all__ = ["Backend", "Reply", "StreamReply"]


@dataclass
class Reply:
    body: dict[str, Any]
    fault: Fault | None = None
    """A fault for the server to act out with this answer, as an ``x-emulator-fault`` header would."""


@dataclass
class StreamReply:
    chunks: AsyncIterator[dict[str, Any]]
    fault: Fault | None = None


@runtime_checkable
class Backend(Protocol):
    async def answer(self, call: Call) -> Reply | StreamReply: ...
