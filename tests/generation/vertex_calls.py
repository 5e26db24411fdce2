"""Shared by the Vertex AI tests of the generation: calls made as the server makes them, answered by the
default model and signed by the signer, with no server in between."""

from __future__ import annotations

import asyncio
from typing import Any

from vertex_expected import question

from emulator import Catalogue, DefaultBackend
from emulator.backends.base import Reply, StreamReply
from emulator.wire import validate
from emulator.wire.call import Call, Operation
from emulator.wire.flavour import Flavour
from emulator.wire.signatures import Signer

CATALOGUE = Catalogue.load()


def vertex_call(body: dict[str, Any], method: Operation = Operation.GENERATE, model: str = "gemini-2.5-flash") -> Call:
    info = CATALOGUE.get(model)
    assert info is not None, model
    parsed = validate.parse_request(method, body, info, flavour=Flavour.VERTEX)
    return Call(method, info, "v1beta1", parsed, flavour=Flavour.VERTEX, project="p", location="us-central1")


def developer_call(
    body: dict[str, Any], method: Operation = Operation.GENERATE, model: str = "gemini-2.5-flash"
) -> Call:
    info = CATALOGUE.get(model)
    assert info is not None, model
    return Call(method, info, "v1beta", validate.parse_request(method, body, info))


def run(call: Call, seed: int = 0) -> list[dict[str, Any]]:
    """The bodies of the answer (one, or a stream's chunks), signed as the server signs them."""
    signer = Signer(b"s" * 32)
    reply = asyncio.run(DefaultBackend(seed=seed).answer(call))
    if isinstance(reply, Reply):
        signer.sign_reply(reply.body, call)
        return [reply.body]

    async def drain(stream: StreamReply) -> list[dict[str, Any]]:
        signed: set[int] = set()
        chunks = []
        async for chunk in stream.chunks:
            signer.sign_reply(chunk, call, signed)
            chunks.append(chunk)
        return chunks

    return asyncio.run(drain(reply))


def ask(model: str, kind: str, stream: bool) -> list[dict[str, Any]]:
    method = Operation.STREAM if stream else Operation.GENERATE
    return run(vertex_call(question(kind, model), method, model))
