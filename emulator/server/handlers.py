"""The request pipeline: route, authenticate, validate, ask the backend, encode. Nothing else."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import orjson
from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from ..backends import framing
from ..backends.base import Call, Method, Reply, StreamReply
from ..backends.router import Router
from ..catalogue import Catalogue, ModelInfo
from ..journal import Journal, Record, ReplySummary, context_id, summarize
from ..offload import HEAVY_BYTES, no_collection, off_loop
from ..settings import Settings
from ..wire import auth, encode, errors, routes, tokens, validate
from ..wire.errors import ApiError
from ..wire.routes import Operation, Route
from ..wire.signatures import Signer
from . import faults
from .responses import ARRAY_HEADERS, SSE_HEADERS, bytes_response, error_response, json_response

log = logging.getLogger("emulator")

_DEFAULT_PAGE, _MAX_PAGE = 50, 1000
STREAM_ERROR_PAUSE = 0.05
_YIELD_EVERY = 32
_METHODS = {Operation(method.value): method for method in Method}


class Api:
    """Serves one emulator: its settings, catalogue, backend, journal and signer."""

    def __init__(self, settings: Settings, catalogue: Catalogue, backend: Router) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.backend = backend
        self.journal = Journal(
            settings.journal_per_context, settings.max_contexts, settings.journal_context_bytes, settings.journal_bytes
        )
        self.signer = Signer()
        self.faults = faults.Faults(settings.max_contexts)
        self.closing = False
        self._streams: set[asyncio.Task[Any]] = set()

    def shutdown(self) -> None:
        """Ends every stream in flight with the terminal error, while their connections still stand."""
        self.closing = True
        for task in list(self._streams):
            task.cancel()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        as_array = False
        try:
            route = _route(request.method, request.path)
            as_array = route.operation is Operation.STREAM and request.query.get("alt") != "sse"
            key = auth.check(auth.request_key(request.headers, request.query), self.settings.expected_key)
            if route.operation is Operation.LIST_MODELS:
                return json_response(self._list_models(request.query))
            if route.operation is Operation.GET_MODEL:
                return json_response(self._get_model(route))
            call = await self._call(request, route, key)
        except ApiError as error:
            return error_response(error, as_array=as_array)
        entry = self.journal.record(call.context, call.model.model_id, call.method.value, call.version, call.body)
        try:
            fault = self.faults.choose(
                call.context, call.model.model_id, request.headers.get(faults.FAULT_HEADER),
                lambda: tokens.prompt_usage(call.body)[0],
            )  # fmt: skip
            if fault is not None and fault.kind in faults.BEFORE_KINDS:
                cut = await self._before(request, call, fault)
                if cut is not None:
                    entry.reply = ReplySummary(status=0, kind="error", error_status=f"fault:{fault.kind}")
                    return cut
            reply = await self.backend.answer(call)
            if reply.fault is not None and fault is None:  # a scenario rule asked for one
                fault = faults.parse(reply.fault)[0]
                if fault.kind in faults.BEFORE_KINDS:
                    cut = await self._before(request, call, fault)
                    if cut is not None:
                        entry.reply = ReplySummary(status=0, kind="error", error_status=f"fault:{fault.kind}")
                        return cut
        except ValueError as bad_header:
            rejected = errors.invalid_argument(str(bad_header))
            entry.reply = _error_summary(rejected)
            return error_response(rejected, as_array=as_array)
        except ApiError as error:
            entry.reply = _error_summary(error)
            return error_response(error, as_array=as_array)
        except asyncio.CancelledError:
            entry.reply = self._gone()
            raise
        if isinstance(reply, Reply):
            if fault is not None and fault.kind == "finish":
                faults.finish_as(fault, reply.body)
            self.signer.sign_reply(reply.body, call.model)
            data = encode.unary(reply.body)
            entry.replied(data, "reply")
            return bytes_response(data)
        with self._tracked():
            return await self._stream(request, call, reply, as_array, entry, fault)

    async def _before(self, request: web.Request, call: Call, fault: faults.Fault) -> web.StreamResponse | None:
        """Faults that act before the backend: a response that replaces the answer, or None to go on."""
        if fault.kind == "latency":
            await asyncio.sleep(fault.delay)
            return None
        if fault.kind == "error":
            error = fault.error(call.model.model_id)
            if fault.retry_after_header:
                error.headers["Retry-After"] = str(fault.retry_after)
            raise error
        if fault.kind == "block":
            seed = framing.digest(call)
            body = faults.blocked(fault, {"modelVersion": call.model.model_id, "responseId": framing.response_id(seed)})
            body["usageMetadata"] = framing.usage(framing.prompt_of(call), 0, 0)
            if not call.streaming:
                return json_response(body)
            with self._tracked():
                return await self._stream(request, call, StreamReply(_single(body)), False, None, None)
        if fault.kind == "empty" or not call.streaming or not fault.after_chunks:
            if fault.kind == "midstream":
                raise fault.error(call.model.model_id)
            if fault.kind in faults.CONNECTION_KINDS:
                return await faults.act_out(request, None, fault)
        return None

    async def _call(self, request: web.Request, route: Route, key: str) -> Call:
        assert route.model is not None
        method = _METHODS[route.operation]
        model = self.catalogue.resolve(route.model, method.value, route.version)
        data = await read_body(request, self.settings.max_body_bytes, self.settings.body_timeout)
        if len(data) > HEAVY_BYTES:
            body = await off_loop(self._decode_quietly, method, data, model)
        else:
            body = self._decode(method, data, model)
        context = context_id(request.headers, key)
        return Call(
            method=method, model=model, version=route.version, body=body, context=context, key=key, size=len(data)
        )

    def _decode_quietly(self, method: Method, data: bytes, model: ModelInfo) -> dict[str, Any]:
        with no_collection():
            return self._decode(method, data, model)

    def _decode(self, method: Method, data: bytes, model: ModelInfo) -> dict[str, Any]:
        """Parse and validate: a pure function of the body, so large bodies go to a worker thread."""
        strict = not self.settings.lenient
        body = validate.parse_request(method, parse_json(data), model, strict=strict)
        if strict and method in (Method.GENERATE, Method.STREAM):
            self.signer.check_request(body, model)
        return body

    @contextlib.contextmanager
    def _tracked(self) -> Iterator[None]:
        """Registers the running stream, so that shutdown can end it."""
        task = asyncio.current_task()
        if task is not None:
            self._streams.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._streams.discard(task)

    async def _stream(
        self,
        request: web.Request,
        call: Call,
        reply: StreamReply,
        as_array: bool,
        entry: Record | None,
        fault: faults.Fault | None,
    ) -> web.StreamResponse:
        if entry is None:
            entry = Record(0, 0, "", "", "", "", {})
        chunks = faults.shape_stream(reply.chunks, fault, call.model.model_id)
        sent: list[dict[str, Any]] = []
        signed: set[int] = set()
        try:
            first = await anext(chunks)
        except StopAsyncIteration:
            first = None
        except ApiError as error:
            entry.reply = _error_summary(error)
            await _close(chunks)
            return error_response(error, as_array=as_array)
        except asyncio.CancelledError:
            entry.reply = self._gone()
            await _close(chunks)
            raise
        response = web.StreamResponse(status=200, headers=ARRAY_HEADERS if as_array else SSE_HEADERS)
        await response.prepare(request)
        array = encode.JsonArrayStream()
        written = 0
        try:
            async for chunk in _finish_last(_prepend(first, chunks), fault):
                self.signer.sign_reply(chunk, call.model, signed)
                sent.append(chunk)
                data = array.element(chunk) if as_array else encode.sse_event(chunk)
                written += len(data)
                await response.write(data)
                if len(sent) % _YIELD_EVERY == 0:
                    await asyncio.sleep(0)  # a long answer written in one go would hold the loop
        except ApiError as error:
            entry.reply = _error_summary(error, sent)
            envelope = error.envelope()
            if as_array:
                await response.write(array.element(envelope))
            else:
                await _write_stream_error(response, envelope)
        except faults.Cut as cut:
            entry.reply = _error_summary(ApiError(0, f"fault:{cut.fault.kind}"), sent)
            await _close(reply.chunks)
            try:
                return await faults.act_out(request, response, cut.fault)
            except asyncio.CancelledError:
                await self._end_for_shutdown(response)
                raise
        except (ConnectionResetError, OSError):
            entry.reply = _error_summary(errors.ApiError(499, "Client disconnected."), sent)
            return response
        except asyncio.CancelledError:
            entry.reply = entry.reply or self._gone(sent)
            await self._end_for_shutdown(response)
            raise
        finally:
            await _close(chunks)
        if entry.reply is None:
            entry.replied(sent, "stream", written)
        if as_array:
            await response.write(array.close())
        await response.write_eof()
        return response

    def _gone(self, sent: list[dict[str, Any]] | None = None) -> ReplySummary:
        """How a call cancelled midway ends in the journal: shut down, or its client went away."""
        reason = errors.shutting_down() if self.closing else ApiError(499, "Client disconnected.")
        return _error_summary(reason, sent)

    async def _end_for_shutdown(self, response: web.StreamResponse) -> None:
        """Shutdown cancelled a stream that was waiting: end it with the terminal error, as at a chunk."""
        if self.closing:
            with contextlib.suppress(Exception):
                await _write_stream_error(response, errors.shutting_down().envelope())

    def _list_models(self, query: Any) -> dict[str, Any]:
        size = _page_size(query.get("pageSize"))
        start = _page_start(query.get("pageToken"))
        models = self.catalogue.models
        page = models[start : start + size]
        body: dict[str, Any] = {"models": [m.wire for m in page]}
        if start + size < len(models):
            body["nextPageToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        return body

    def _get_model(self, route: Route) -> dict[str, Any]:
        assert route.model is not None
        model = self.catalogue.get(route.model)
        if model is None:
            raise errors.model_not_found(route.model, route.version, "getModel")
        return model.wire


@functools.lru_cache(maxsize=512)
def _route(http_method: str, path: str) -> Route:
    """``routes.resolve``, memoised: a pure function of two strings, and clients call few distinct paths.

    Paths that do not resolve raise every time (exceptions are not memoised).
    """
    return routes.resolve(http_method, path)


# orjson reads integers beyond 64 bits as floats; a run of 19 digits sends a body to json.loads.
_DIGITS = bytes(49 if 48 <= i <= 57 else 0 for i in range(256))
_LONG_NUMBER = b"1" * 19


async def read_body(request: web.Request, limit: int, deadline: float = 60.0) -> bytes:
    """The body's bytes; a client that trickles its body cannot hold a handler longer than ``deadline`` seconds."""
    try:
        if request.content.is_eof():
            # The whole body is buffered already (the usual case: it came with the headers), so
            # reading cannot wait and needs no deadline, nor the task wait_for would start for it.
            data = await request.read()
        else:
            data = await asyncio.wait_for(request.read(), deadline)
    except web.HTTPRequestEntityTooLarge:
        raise errors.payload_too_large(limit) from None
    except TimeoutError:
        raise ApiError(
            408, f"The request body was not received within {deadline:g} seconds.", "DEADLINE_EXCEEDED"
        ) from None
    except ConnectionResetError:
        # The client went away before (or while) its body arrived: nobody to answer, nothing to log.
        raise ApiError(499, "Client disconnected.") from None
    except RequestPayloadError:
        raise errors.invalid_argument(
            "Invalid JSON payload received. The body does not decode as its Content-Encoding says."
        ) from None
    return data


def parse_json(data: bytes) -> Any:
    """A request body as JSON: what ``json.loads`` of its strict UTF-8 makes of it, faster.

    An empty body is an empty message, as for the real front end; what is not JSON gets the front
    end's 400 with the place it broke.
    """
    if _LONG_NUMBER not in data.translate(_DIGITS):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # the standard parser accepts \ud800 escapes and NaN, and words the errors
    return standard_json(data)


def standard_json(data: bytes) -> Any:
    """What the standard library makes of a body (strict UTF-8, then ``json.loads``): the meaning
    :func:`parse_json` keeps, and the front end's 400 for what is not JSON."""
    if not data.strip():
        return {}
    try:
        # Strict UTF-8 first: json.loads(bytes) would let UTF-8-encoded surrogates through.
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise errors.invalid_argument("Invalid JSON payload received. Invalid UTF-8 in the request body.") from None
    except json.JSONDecodeError as exc:
        excerpt = exc.doc[max(0, exc.pos - 20) : exc.pos + 20].replace("\n", " ")
        raise errors.invalid_argument(
            f"Invalid JSON payload received. {exc.msg} at line {exc.lineno} column {exc.colno}.\n{excerpt}\n"
            f"{' ' * min(exc.pos, 20)}^"
        ) from None
    except RecursionError:
        raise errors.invalid_argument(validate.MSG_TOO_DEEP) from None
    except ValueError as exc:  # e.g. an integer literal longer than Python converts
        raise errors.invalid_argument(f"Invalid JSON payload received. {exc}") from None


def _page_size(raw: str | None) -> int:
    if raw is None:
        return _DEFAULT_PAGE
    try:
        size = int(raw)
    except ValueError:
        raise errors.invalid_argument(f"Invalid value at 'page_size' (TYPE_INT32), \"{raw}\"") from None
    if size < 0:
        raise errors.invalid_argument("page_size must not be negative.")
    return min(size, _MAX_PAGE) or _DEFAULT_PAGE


def _page_start(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        raise errors.invalid_argument("Invalid page token.") from None


async def _write_stream_error(response: web.StreamResponse, envelope: dict[str, Any]) -> None:
    """The bare error object that ends a started SSE stream, in a write of its own after a pause.

    The JS SDK recognises it only when one network read holds it alone, and without the pause the
    client's read would often take it together with the event before it.
    """
    await asyncio.sleep(STREAM_ERROR_PAUSE)
    await response.write(encode.stream_error(envelope))


async def _prepend(first: dict[str, Any] | None, rest: AsyncIterator[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    if first is None:
        return
    yield first
    async for chunk in rest:
        yield chunk


async def _close(chunks: AsyncIterator[dict[str, Any]]) -> None:
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        await aclose()


def _error_summary(error: ApiError, sent: list[dict[str, Any]] | None = None) -> ReplySummary:
    summary = summarize(sent or [], "error")
    summary.status, summary.error_status, summary.error_message = error.code, error.status, error.message
    return summary


async def _single(body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    yield body


async def _finish_last(
    chunks: AsyncIterator[dict[str, Any]], fault: faults.Fault | None
) -> AsyncIterator[dict[str, Any]]:
    """Applies a ``finish`` fault to the final chunk; one chunk is held back to know which is last."""
    if fault is None or fault.kind != "finish":
        async for chunk in chunks:
            yield chunk
        return
    held: dict[str, Any] | None = None
    async for chunk in chunks:
        if held is not None:
            yield held
        held = chunk
    if held is not None:
        faults.finish_as(fault, held)
        yield held
