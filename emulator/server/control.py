"""The control plane under ``/_emulator/``: health, reset, per-context scenarios and the journal.

A call's context is the ``x-emulator-context`` header, else the API key it sends (so a test that
uses its own key is isolated with no setup), else ``?context=``. Who may call at all is
:mod:`.trust`'s business. Bodies have the API's deadline and a size limit of their own; parsing a
scenario and writing out a large journal happen off the event loop.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from ..dispatch.router import Router
from ..journal import Journal, context_id
from ..offload import off_loop, off_loop_quietly
from ..wire import auth, encode, errors
from ..wire.errors import ApiError
from ..wire.faultspec import parse as parse_faults
from .body import read_body
from .faults import Faults
from .responses import bytes_response, error_response, json_response
from .trust import ControlTrust

ScenarioLoader = Callable[[Any, str], Callable[..., Any]]
CassetteChooser = Callable[[dict[str, Any]], Callable[..., Any]]
MAX_BODY = 1024 * 1024 + 4096
"""A control body: a scenario of the loader's 1 MiB and a little envelope."""
_LARGE_JOURNAL = 256 * 1024
Answer = dict[str, Any] | web.StreamResponse


class Control:
    def __init__(
        self,
        router: Router,
        journal: Journal,
        load_scenario: ScenarioLoader,
        choose_cassette: CassetteChooser,
        trust: ControlTrust,
        faults: Faults,
        body_timeout: float = 60.0,
    ) -> None:
        self.faults = faults
        self.router = router
        self.journal = journal
        self.load_scenario = load_scenario
        self.choose_cassette = choose_cassette
        self.trust = trust
        self.body_timeout = body_timeout
        self._endpoints: dict[tuple[str, str], Callable[[web.Request, str], Awaitable[Answer]]] = {
            ("GET", "health"): self.health,
            ("POST", "reset"): self.reset,
            ("GET", "scenario"): self.get_scenario,
            ("PUT", "scenario"): self.put_scenario,
            ("POST", "scenario"): self.put_scenario,
            ("DELETE", "scenario"): self.delete_scenario,
            ("PUT", "cassette"): self.put_cassette,
            ("POST", "cassette"): self.put_cassette,
            ("GET", "cassette"): self.get_cassette,
            ("PUT", "faults"): self.put_faults,
            ("POST", "faults"): self.put_faults,
            ("GET", "faults"): self.get_faults,
            ("DELETE", "faults"): self.delete_faults,
            ("GET", "requests"): self.requests,
            ("DELETE", "requests"): self.clear_requests,
        }

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            name = request.match_info["name"]
            self.trust.check(request, name)
            endpoint = self._endpoints.get((request.method, name))
            if endpoint is None:
                known = sorted({n for _, n in self._endpoints})
                if name in known:
                    raise ApiError(405, f"/_emulator/{name} does not take {request.method}.", "INVALID_ARGUMENT")
                raise ApiError(404, f"No control endpoint /_emulator/{name}; known: {', '.join(known)}.")
            answer = await endpoint(request, _context(request))
            return answer if isinstance(answer, web.StreamResponse) else json_response(answer)
        except ApiError as error:
            return error_response(error)

    async def _body(self, request: web.Request) -> bytes:
        if (request.content_length or 0) > MAX_BODY:
            raise errors.payload_too_large(MAX_BODY)
        data = await read_body(request, MAX_BODY, self.body_timeout)
        if len(data) > MAX_BODY:
            raise errors.payload_too_large(MAX_BODY)
        return data

    async def health(self, request: web.Request, context: str) -> dict[str, Any]:
        return {"status": "ok", "context": context}

    async def reset(self, request: web.Request, context: str) -> dict[str, Any]:
        everything = request.query.get("all") in ("1", "true")
        self.router.reset(None if everything else context)
        self.journal.clear(None if everything else context)
        self.faults.reset(None if everything else context)
        return {"reset": "all" if everything else context}

    async def get_scenario(self, request: web.Request, context: str) -> dict[str, Any]:
        return {"context": context, "scenario": self.router.override_of(context)}

    async def put_scenario(self, request: web.Request, context: str) -> dict[str, Any]:
        """A scenario (YAML or JSON body) for the context; the loader applies its size and alias limits."""
        data = await self._body(request)
        source = request.query.get("name", f"scenario for context {context}")
        try:
            factory = await off_loop_quietly(self.load_scenario, data, source)
        except ValueError as exc:
            raise errors.invalid_argument(str(exc)) from None
        dropped = self.router.use(context, factory, source, weight=len(data))
        self.journal.clear(context)
        answer: dict[str, Any] = {"context": context, "scenario": source}
        if dropped:
            answer["evicted"] = dropped  # contexts whose scenarios made room (least recently used)
        return answer

    async def delete_scenario(self, request: web.Request, context: str) -> dict[str, Any]:
        self.router.reset(context)
        return {"context": context, "scenario": None}

    async def put_cassette(self, request: web.Request, context: str) -> dict[str, Any]:
        """``{"name": "chat.yaml", "record_mode": "once"?}``: this context answers from that cassette of the
        server's folder; ``{"cassette": {...}, "name": "label"?}``: from the cassette document sent."""
        data = await self._body(request)
        try:
            document = _json(data)
            if not isinstance(document, dict):
                raise TypeError("the body is a JSON object")
            name = str(document.get("name") or "inline cassette")
            factory = await off_loop_quietly(self.choose_cassette, document)
        except (ValueError, KeyError, TypeError) as exc:
            raise errors.invalid_argument(f"Cannot use that cassette: {exc}") from None
        self.router.use(context, factory, f"cassette {name}", weight=len(data) if "cassette" in document else 0)
        return {"context": context, "cassette": name}

    async def get_cassette(self, request: web.Request, context: str) -> dict[str, Any]:
        """The context's cassette and what of it was not used (for an opt-in strict check)."""
        backend = self.router.override_backend(context)
        unused = getattr(backend, "unused", None)
        interactions = unused() if callable(unused) else []
        return {
            "context": context,
            "cassette": self.router.override_of(context),
            "unused": [f"{i.request.method} {i.request.uri}" for i in interactions],
            "misses": getattr(backend, "misses", 0),
        }

    async def put_faults(self, request: web.Request, context: str) -> dict[str, Any]:
        """A JSON list of faults for the context, replacing any before; counters start again."""
        try:
            found = parse_faults(_json(await self._body(request)))
        except ValueError as exc:
            raise errors.invalid_argument(str(exc)) from None
        self.faults.set(context, found)
        return await self.get_faults(request, context)

    async def get_faults(self, request: web.Request, context: str) -> dict[str, Any]:
        faults = [f.model_dump(exclude_defaults=True) for f in self.faults.get(context)]
        return {"context": context, "faults": faults}

    async def delete_faults(self, request: web.Request, context: str) -> dict[str, Any]:
        self.faults.set(context, [])
        return {"context": context, "faults": []}

    async def requests(self, request: web.Request, context: str) -> web.StreamResponse:
        """The journal; a large one is written out off the event loop."""
        query = request.query
        limit = query.get("limit")
        if limit is not None and not limit.isdigit():
            raise errors.invalid_argument(f'Invalid value for limit: "{limit}"')
        found = self.journal.records(context, model=query.get("model"), method=query.get("method"))
        if limit is not None:
            found = found[-int(limit) :] if int(limit) else []

        if sum(r.size for r in found) <= _LARGE_JOURNAL:
            return json_response({"context": context, "requests": [r.entry().model_dump(mode="json") for r in found]})

        def write() -> bytes:
            """Compact, one entry at a time: a journal of large requests is never held twice over as trees."""
            entries = b",".join(_compact(r.entry().model_dump(mode="json")) for r in found)
            return b'{"context":' + _compact(context) + b',"requests":[' + entries + b"]}\n"

        return bytes_response(await off_loop(write))

    async def clear_requests(self, request: web.Request, context: str) -> dict[str, Any]:
        self.journal.clear(context)
        return {"context": context, "requests": []}


def _compact(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # integers beyond 64 bits, lone surrogates: the API's own encoder takes them
        return encode.unary(value)


def _json(data: bytes) -> Any:
    """The body as JSON; ValueError for anything that is not (malformed, nested too deep, huge numbers)."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("the body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"the body is not JSON: {exc}") from None


def _context(request: web.Request) -> str:
    if "x-emulator-context" not in request.headers and "context" in request.query:
        return request.query["context"]
    return context_id(request.headers, auth.request_credential(request.headers, request.query))
