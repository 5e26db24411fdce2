"""The request pipeline: route, authenticate, validate, journal, then the fault stage and the backend,
then encode. Nothing else: what an answer is, how faults act and how a stream is written live in
their own modules."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from ..backends.base import Reply
from ..dispatch.router import Router
from ..journal import Journal, context_id, failed, tracing
from ..offload import HEAVY_BYTES, off_loop_quietly
from ..settings import Settings
from ..wire import auth, encode, errors, routes, validate
from ..wire.call import Call, Operation, Target
from ..wire.catalogue import Catalogue, ModelInfo
from ..wire.errors import ApiError
from ..wire.faultspec import FAULT_HEADER
from ..wire.flavour import Flavour
from ..wire.signatures import Signer
from .body import read_body
from .cuts import Cut, act_out
from .faults import FaultStage
from .responses import ANSWER_HEADERS, bytes_response, error_response, json_response
from .streaming import Streams


class Api:
    """Serves the API of one emulator with the parts :func:`~.app.create_app` gives it."""

    def __init__(
        self,
        settings: Settings,
        catalogue: Catalogue,
        backend: Router,
        journal: Journal,
        signer: Signer,
        faults: FaultStage,
        streams: Streams,
    ) -> None:
        self.settings, self.catalogue, self.backend = settings, catalogue, backend
        self.journal, self.signer, self.faults, self.streams = journal, signer, faults, streams

    async def handle(self, request: web.Request) -> web.StreamResponse:
        as_array, flavour = False, Flavour.DEVELOPER
        try:
            target = _route(request.method, request.path)
            flavour = target.flavour
            as_array = target.operation is Operation.STREAM and request.query.get("alt") != "sse"
            caller = auth.caller(
                target, request.headers, request.query, self.settings.expected_key, self.settings.expected_token
            )
            if not target.operation.is_model_call:
                return json_response(self._listing(target, request.query))
            call = await self._call(request, target, caller)
        except ApiError as error:
            return error_response(error.on(flavour), as_array=as_array)
        where = (call.flavour.value, call.project, call.location)
        entry = self.journal.record(
            call.context, call.model.model_id, call.operation.value, call.version, call.body, where, call.path
        )
        try:
            with tracing() as trace:
                try:
                    reply = await self.faults.answer(call, request.headers.get(FAULT_HEADER), self.backend)
                finally:
                    entry.traced(trace)
        except ValueError as bad_header:
            rejected = errors.invalid_argument(str(bad_header))
            entry.reply = failed(rejected)
            return error_response(rejected, as_array=as_array)
        except ApiError as error:
            error = error.on(call.flavour)
            entry.reply = failed(error)
            return error_response(error, as_array=as_array)
        except Cut as cut:
            entry.reply = failed(ApiError(0, f"fault:{cut.fault.kind}"))
            return await act_out(request, None, cut.fault)
        except asyncio.CancelledError:
            entry.reply = self.streams.gone()
            raise
        if isinstance(reply, Reply):
            self.signer.sign_reply(reply.body, call)
            data = encode.unary(reply.body)
            entry.replied(data, "reply")
            tiered = call.operation is Operation.GENERATE and not call.vertex
            return bytes_response(data, headers=ANSWER_HEADERS if tiered else None)
        return await self.streams.write(request, call, reply, as_array, entry)

    def _listing(self, target: Target, query: Mapping[str, str]) -> dict[str, Any]:
        """The answers about models: the catalogue's listing and lookup, and a Vertex project's own models."""
        flavour, project, location = target.flavour, target.project, target.location
        if target.operation is Operation.LIST_TUNED:
            return self.catalogue.tuned(flavour, project, location)
        if target.operation is Operation.LIST_MODELS:
            return self.catalogue.page(query.get("pageSize"), query.get("pageToken"), flavour=flavour)
        assert target.model is not None
        return self.catalogue.described(target.model, target.version, flavour, project, location)

    async def _call(self, request: web.Request, target: Target, caller: auth.Caller) -> Call:
        assert target.model is not None
        context = context_id(request.headers, caller.credential)
        recorded = self.backend.replays(context, target.model.split("/", 1)[-1])
        model = self.catalogue.resolve(
            target.model,
            target.operation.value,
            target.version,
            recorded,
            flavour=target.flavour,
            project=target.project,
            location=target.location,
        )
        data = await read_body(request, self.settings.max_body_bytes, self.settings.body_timeout)
        strict = not (self.settings.lenient or recorded)  # a recording replays what the real service accepted
        if len(data) > HEAVY_BYTES:
            body = await off_loop_quietly(self._decode, target, data, model, context, strict)
        else:
            body = self._decode(target, data, model, context, strict)
        return Call(
            target.operation,
            model,
            target.version,
            body,
            context,
            caller.key,
            len(data),
            target.flavour,
            target.project,
            target.location,
            caller.token,
            request.headers.get("x-goog-user-project") if target.flavour is Flavour.VERTEX else None,
        )

    def _decode(self, target: Target, data: bytes, model: ModelInfo, context: str, strict: bool) -> dict[str, Any]:
        """Parse and validate: a pure function of the body, so large bodies go to a worker thread."""
        body = validate.parse_body(target.operation, data, model, strict=strict, flavour=target.flavour)
        if strict and target.operation in (Operation.GENERATE, Operation.STREAM):
            self.signer.check_request(body, model, context)
        return body


@functools.lru_cache(maxsize=512)
def _route(http_method: str, path: str) -> Target:
    """``routes.resolve``, memoised: a pure function of two strings, and clients call few distinct paths.

    Paths that do not resolve raise every time (exceptions are not memoised).
    """
    return routes.resolve(http_method, path)
