"""Python callables as models: the user's function sees the SDK's own types and answers in them.

The function receives a :class:`ModelRequest` (contents, system instruction, tools and config as
``google.genai.types`` objects, decoded from the canonical request) and a :class:`ModelContext`,
and returns a ``str``, a ``types.Part``, a list of parts or strings, a ``types.Content``, a
``types.GenerateContentResponse`` or a wire-JSON dict; or, for streaming, an iterator or async
iterator of those, one chunk each. It may be sync or async. Raising
:class:`~emulator.wire.errors.ApiError` answers with that error (mid-stream too). google-genai is
imported only when a callable model is used.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..generation import framing, memory
from ..generation.memory import Memory
from ..journal import answered_by
from ..wire.call import Call, Operation
from ..wire.errors import ApiError
from .base import Backend, Reply, StreamReply

if TYPE_CHECKING:
    from google.genai import types


@dataclass(frozen=True)
class ModelContext:
    model: str
    method: str
    turn: int
    context: str
    streaming: bool
    flavour: str = "developer"
    """``developer`` (the Gemini Developer API) or ``vertex`` (Vertex AI)."""
    project: str | None = None
    """Vertex AI: the project and location of the call's path (None in express mode)."""
    location: str | None = None


@dataclass(frozen=True)
class ModelRequest:
    contents: list[types.Content]
    system_instruction: types.Content | None
    tools: list[types.Tool]
    config: types.GenerateContentConfig
    body: dict[str, Any]

    @property
    def memory(self) -> Memory:
        """What the user said about themselves in this conversation, read as the default model reads it."""
        return memory.read(self.body.get("contents", ()))

    @property
    def remembered(self) -> dict[str, str]:
        """The latest of each remembered fact: ``{"name": "Alice", "number": "42", "preference": "hiking"}``."""
        return self.memory.known()

    @property
    def last_user_text(self) -> str:
        for content in reversed(self.contents):
            if content.role != "model":
                texts = [p.text for p in content.parts or () if p.text and not p.thought]
                if texts:
                    return " ".join(texts)
        return ""


def _typed(cls: Any, data: Any) -> Any:
    """The SDK type of some canonical JSON; bytes stay base64 because the SDK validates JSON as JSON."""
    return cls.model_validate_json(json.dumps(data))


def decode_request(body: dict[str, Any]) -> ModelRequest:
    from google.genai import types

    config: dict[str, Any] = dict(body.get("generationConfig", {}))
    for key in ("systemInstruction", "tools", "toolConfig", "safetySettings", "cachedContent", "labels"):
        if key in body:
            config[key] = body[key]
    known = {f.alias or n for n, f in types.GenerateContentConfig.model_fields.items()} | set(
        types.GenerateContentConfig.model_fields
    )
    system = body.get("systemInstruction")
    return ModelRequest(
        contents=[_typed(types.Content, c) for c in body.get("contents", ())],
        system_instruction=_typed(types.Content, system) if system else None,
        tools=[_typed(types.Tool, t) for t in body.get("tools", ())],
        config=_typed(types.GenerateContentConfig, {k: v for k, v in config.items() if k in known}),
        body=body,
    )


def _wire(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump(mode="json", by_alias=True, exclude_none=True) if dump else value


def _parts(result: Any) -> list[framing.Part] | dict[str, Any]:
    """Parts of one answer, or a whole response body when the function gave one."""
    if isinstance(result, str):
        return [{"text": result}] if result else []
    data = _wire(result)
    if isinstance(data, dict) and ("candidates" in data or "promptFeedback" in data):
        return data
    if isinstance(data, dict) and "parts" in data:
        return list(data["parts"] or [])
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        parts: list[framing.Part] = []
        for item in data:
            more = _parts(item)
            parts.extend([more] if isinstance(more, dict) else more)
        return parts
    raise TypeError(f"a callable model returned {type(result).__name__}; expected str, Part, Content or a response")


class FunctionBackend:
    """Answers generate and stream calls with a user function; other methods go to ``fallback``."""

    def __init__(self, function: Callable[..., Any], fallback: Backend | None = None) -> None:
        self.function = function
        self.fallback = fallback

    async def answer(self, call: Call) -> Reply | StreamReply:
        if call.operation not in (Operation.GENERATE, Operation.STREAM):
            if self.fallback is None:
                from .default import DefaultBackend

                self.fallback = DefaultBackend()
            return await self.fallback.answer(call)
        function = self.function
        answered_by(f"callable:{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', '?')}")
        request = decode_request(call.body)
        turn = sum(1 for c in request.contents if c.role != "model")
        context = ModelContext(
            call.model.model_id,
            call.operation.value,
            turn,
            call.context,
            call.streaming,
            call.flavour.value,
            call.project,
            call.location,
        )
        result = self.function(request, context)
        if inspect.isawaitable(result):
            result = await result
        rid = framing.response_id(framing.digest(call))
        if call.streaming:
            return StreamReply(_stream(call, rid, result))
        return Reply(_body(call, rid, _parts(result), "STOP"))


def _body(call: Call, rid: str, parts: list[framing.Part] | dict[str, Any], finish: str | None) -> dict[str, Any]:
    if isinstance(parts, dict):
        body = dict(parts)
        body.setdefault("modelVersion", call.model.model_id)
        body.setdefault("responseId", rid)
        if "usageMetadata" not in body:
            produced = [p for c in body.get("candidates", ()) for p in c.get("content", {}).get("parts", ())]
            body["usageMetadata"] = framing.usage(framing.prompt_of(call), *framing.output_tokens(produced))
        return body
    output, thoughts = framing.output_tokens(parts)
    usage = framing.usage(framing.prompt_of(call), output, thoughts)
    return framing.response(call, rid, [framing.candidate(0, parts, finish)], usage)


async def _items(result: Any) -> AsyncIterator[Any]:
    if hasattr(result, "__aiter__"):
        async for item in result:
            yield item
    elif isinstance(result, Iterator) or inspect.isgenerator(result):
        for item in result:
            yield item
    else:
        parts = _parts(result)
        if isinstance(parts, dict):
            yield parts
        else:
            for piece in framing.stream_pieces(parts):
                yield piece


async def _stream(call: Call, rid: str, result: Any) -> AsyncIterator[dict[str, Any]]:
    """One chunk per item; usage runs on; the last chunk is held back to carry ``finishReason``."""
    output = thoughts = 0
    prompt = framing.prompt_of(call)
    pending: list[framing.Part] | None = None
    try:
        async for item in _items(result):
            parts = item if isinstance(item, list) and all(isinstance(p, dict) for p in item) else _parts(item)
            if isinstance(parts, dict):
                yield _body(call, rid, parts, None)
                continue
            if pending is not None:
                yield framing.response(
                    call, rid, [framing.candidate(0, pending)], framing.usage(prompt, output, thoughts)
                )
            more_output, more_thoughts = framing.output_tokens(parts)
            output, thoughts, pending = output + more_output, thoughts + more_thoughts, parts
    except ApiError:
        if pending is not None:  # what was produced before the failure still reaches the client
            yield framing.response(call, rid, [framing.candidate(0, pending)], framing.usage(prompt, output, thoughts))
        raise
    if pending is not None:
        last = framing.candidate(0, pending, "STOP")
        yield framing.response(call, rid, [last], framing.usage(prompt, output, thoughts))


def load_callable(spec: str, search: list[Path]) -> Callable[..., Any]:
    """``module:function`` from a file under one of ``search`` (never from sys.path: data names no imports)."""
    module_name, _, function_name = spec.partition(":")
    if not module_name or not function_name.isidentifier():
        raise ValueError(f"a callable is named MODULE:FUNCTION, not {spec!r}")
    relative = Path(*module_name.split("."))
    for root in search:
        for candidate in (root / relative.with_suffix(".py"), root / relative / "__init__.py"):
            if candidate.is_file():
                unique = f"gemini_emulator_user.{module_name}"
                loader_spec = importlib.util.spec_from_file_location(unique, candidate)
                assert loader_spec is not None and loader_spec.loader is not None
                module = importlib.util.module_from_spec(loader_spec)
                sys.modules[unique] = module
                loader_spec.loader.exec_module(module)
                function = getattr(module, function_name, None)
                if not callable(function):
                    raise ValueError(f"{candidate} has no function {function_name!r}")
                return function  # type: ignore[no-any-return]
    roots = ", ".join(str(r) for r in search) or "no directory (give --callable-path)"
    raise ValueError(f"module {module_name!r} not found in {roots}")
