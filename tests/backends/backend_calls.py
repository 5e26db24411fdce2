"""Shared by the backend tests: calling the default model directly, and reading Google schemas."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from emulator import Catalogue, DefaultBackend, Reply, StreamReply
from emulator.wire import validate
from emulator.wire.call import Call, Operation

CATALOGUE = Catalogue.load()


def call(body: dict[str, Any], method: Operation = Operation.GENERATE, model: str = "gemini-2.5-flash") -> Call:
    info = CATALOGUE.resolve(model, method.value, "v1beta")
    return Call(operation=method, model=info, version="v1beta", body=validate.parse_request(method, body, info))


def answer(
    body: dict[str, Any], method: Operation = Operation.GENERATE, model: str = "gemini-2.5-flash", seed: int = 0
) -> Any:
    reply = asyncio.run(DefaultBackend(seed=seed).answer(call(body, method, model)))
    if isinstance(reply, Reply):
        return reply.body

    async def drain(r: StreamReply) -> list[dict[str, Any]]:
        return [c async for c in r.chunks]

    return asyncio.run(drain(reply))


def _camel(key: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key)


def google_to_json(schema: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema meaning of a Google ``Schema`` message, for validation."""
    src = {_camel(k): v for k, v in schema.items()}
    out: dict[str, Any] = {}
    kind = str(src.get("type", "")).lower()
    if kind and kind != "type_unspecified":
        out["type"] = kind
    for key in ("enum", "minimum", "maximum", "pattern", "required"):
        if key in src:
            out[key] = src[key]
    for key in ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties"):
        if key in src:
            out[key] = int(src[key])
    if src.get("format") in ("date-time", "date", "email", "uuid"):
        out["format"] = src["format"]
    if "items" in src:
        out["items"] = google_to_json(src["items"])
    if "properties" in src:
        out["properties"] = {k: google_to_json(v) for k, v in src["properties"].items()}
    if "anyOf" in src:
        out["anyOf"] = [google_to_json(b) for b in src["anyOf"]]
    return {"anyOf": [out, {"type": "null"}]} if src.get("nullable") else out
