"""Shared by the conversation tests: the default model called directly on a chat, no server."""

from __future__ import annotations

import asyncio
from typing import Any

from emulator import Catalogue, DefaultBackend, Reply, StreamReply
from emulator.wire import validate
from emulator.wire.call import Call, Operation

CATALOGUE = Catalogue.load()
MODEL = "gemini-2.5-flash"


def reply(body: dict[str, Any], model: str = MODEL, seed: int = 0, stream: bool = False) -> Any:
    """The response body (a list of chunks when ``stream``)."""
    method = Operation.STREAM if stream else Operation.GENERATE
    info = CATALOGUE.resolve(model, method.value, "v1beta")
    call = Call(operation=method, model=info, version="v1beta", body=validate.parse_request(method, body, info))
    answered = asyncio.run(DefaultBackend(seed=seed).answer(call))
    if isinstance(answered, Reply):
        return answered.body

    async def drain(r: StreamReply) -> list[dict[str, Any]]:
        return [c async for c in r.chunks]

    assert isinstance(answered, StreamReply)
    return asyncio.run(drain(answered))


def text_of(body: dict[str, Any], candidate: int = 0) -> str:
    parts = body["candidates"][candidate].get("content", {}).get("parts", [])
    return "".join(p.get("text", "") for p in parts if not p.get("thought"))


def calls_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    parts = body["candidates"][0].get("content", {}).get("parts", [])
    return [p["functionCall"] for p in parts if "functionCall" in p]


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


def model(text: str) -> dict[str, Any]:
    return {"role": "model", "parts": [{"text": text}]}


class Chat:
    """A chat the way an SDK keeps one: every message sends the whole history, answers are appended."""

    def __init__(self, system: str | None = None, **config: Any) -> None:
        self.contents: list[dict[str, Any]] = []
        self.extra: dict[str, Any] = {}
        if system:
            self.extra["systemInstruction"] = {"parts": [{"text": system}]}
        if config:
            self.extra["generationConfig"] = config

    def send(self, text: str) -> str:
        self.contents.append(user(text))
        body = reply({"contents": list(self.contents), **self.extra})
        self.contents.append(body["candidates"][0]["content"])
        return text_of(body)
