"""Properties that must hold whatever the transport: unary or streamed, sync or async.

* A streamed answer is the unary answer cut into chunks: per candidate, the joined answer text,
  the joined thought text and the finish reason agree, for the default model and for scripted
  replies with any stream plan.
* A sync chat and an async chat fed the same messages build the same histories and send the
  same requests.
* Everything the emulator sends parses into the SDK's types without a warning: the SDK warns (it
  does not fail) on an enum value it does not know or a field of the wrong type, so a wrong value
  would otherwise slip through unnoticed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import string
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import harness
import pytest
from google import genai
from google.genai import types
from hypothesis import given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.conformance("transports")

MODELS = ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash", "gemini-3-flash-preview"]
PROMPT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40)
WORDS = st.text(alphabet=string.ascii_letters + string.digits + " .,!?'-éß", min_size=1, max_size=60).filter(str.strip)
FEWER = settings(max_examples=max(10, settings().max_examples // 2))  # each example makes several calls


@pytest.fixture(scope="module")
def key() -> str:
    """The module's key. Every example resets its context first (:func:`new_client`), so it starts from
    nothing as on a fresh key, without leaving hundreds of contexts behind on a shared emulator."""
    return harness.key(__name__)


def new_client(url: str, key: str) -> genai.Client:
    """A client on ``key``, whose context (scenario, counters, faults, journal) is reset first."""
    harness.control(url, key, "POST", "reset")
    return genai.Client(api_key=key, http_options=types.HttpOptions(base_url=url))


control = harness.control


def per_candidate(responses: list[types.GenerateContentResponse]) -> dict[int, tuple[str, str, str | None]]:
    """Per candidate index: (answer text, thought text, last finish reason), joined over chunks."""
    joined: dict[int, tuple[str, str, str | None]] = {}
    for response in responses:
        for position, candidate in enumerate(response.candidates or ()):
            index = candidate.index if candidate.index is not None else position
            text, thought, finish = joined.get(index, ("", "", None))
            for part in (candidate.content.parts if candidate.content else None) or ():
                if part.thought:
                    thought += part.text or ""
                else:
                    text += part.text or ""
            if candidate.finish_reason is not None:
                finish = candidate.finish_reason.value
            joined[index] = (text, thought, finish)
    return joined


def both_ways(client: genai.Client, is_async: bool, **request: Any) -> tuple[list[Any], list[Any]]:
    """The unary response and the stream's chunks of one request, through the sync or async SDK."""
    if not is_async:
        return [client.models.generate_content(**request)], list(client.models.generate_content_stream(**request))

    async def run() -> tuple[list[Any], list[Any]]:
        unary = await client.aio.models.generate_content(**request)
        chunks = [c async for c in await client.aio.models.generate_content_stream(**request)]
        await client.aio.aclose()
        return [unary], chunks

    return asyncio.run(run())


configs = st.builds(
    types.GenerateContentConfig,
    max_output_tokens=st.none() | st.integers(1, 60),
    stop_sequences=st.none() | st.lists(st.sampled_from(["the", "a", "e", ".", "so"]), min_size=1, max_size=2),
    candidate_count=st.none() | st.integers(1, 3),
    thinking_config=st.none() | st.builds(types.ThinkingConfig, include_thoughts=st.booleans()),
    system_instruction=st.none() | WORDS,
)


@FEWER
@given(model=st.sampled_from(MODELS), prompt=PROMPT, config=configs, is_async=st.booleans())
def test_the_default_model_streams_its_unary_answer(
    emulator_url: str, key: str, model: str, prompt: str, config: types.GenerateContentConfig, is_async: bool
) -> None:
    client = new_client(emulator_url, key)
    unary, chunks = both_ways(client, is_async, model=model, contents=prompt, config=config)
    assert per_candidate(chunks) == per_candidate(unary)
    assert len({c.response_id for c in chunks}) == 1
    final = chunks[-1].usage_metadata
    assert final is not None and unary[0].usage_metadata is not None
    assert final.total_token_count == unary[0].usage_metadata.total_token_count


stream_plans = st.one_of(
    st.none(),
    st.builds(
        lambda split, size: {"split": split, **({"size": size} if size else {})},
        st.sampled_from(["tokens", "words", "characters"]),
        st.none() | st.integers(1, 6),
    ),
)


@FEWER
@given(texts=st.lists(WORDS, min_size=1, max_size=3), plan=stream_plans, is_async=st.booleans())
def test_a_scripted_reply_streams_as_its_unary_answer(
    emulator_url: str, key: str, texts: list[str], plan: dict[str, Any] | None, is_async: bool
) -> None:
    """Whatever the cut, the pieces join back to the scripted text, part by part."""
    client = new_client(emulator_url, key)
    reply: dict[str, Any] = {"parts": [{"text": t} for t in texts]}
    if plan is not None:
        reply["stream"] = plan
    control(emulator_url, key, "PUT", "scenario", {"name": "transport", "rules": [{"times": 2, "reply": reply}]})
    unary, chunks = both_ways(client, is_async, model="gemini-2.5-flash", contents="go")
    assert per_candidate(chunks) == per_candidate(unary) == {0: ("".join(texts), "", "STOP")}
    assert [p.text for p in unary[0].candidates[0].content.parts] == texts


def get_weather(city: str) -> str:
    """The weather in a city (for the default model to call)."""
    return f"mild in {city}"


@st.composite
def conversations(draw: st.DrawFn) -> list[tuple[str | list[Any], bool]]:
    """Messages (text, or text and an image) and, for each, whether it is streamed."""
    message = st.one_of(
        PROMPT,
        st.builds(lambda t, b: [t, types.Part.from_bytes(data=b"\x89PNG" + b, mime_type="image/png")], PROMPT,
                  st.binary(max_size=16)),
        st.sampled_from(["get_weather in Oslo", "get_weather for Lima then get_weather for Kyoto"]),
    )  # fmt: skip
    return draw(st.lists(st.tuples(message, st.booleans()), min_size=1, max_size=4))


@FEWER
@given(conversation=conversations(), tools=st.booleans())
def test_sync_and_async_chats_build_the_same_history(
    emulator_url: str, key: str, conversation: list[tuple[str | list[Any], bool]], tools: bool
) -> None:
    """Same messages, same model, same histories (with automatic function calling, too), and the
    same requests on the wire. Both chats use one key, one after the other: thought signatures are
    bound to the caller's context, so only in one context are they the same."""
    config = types.GenerateContentConfig(tools=[get_weather]) if tools else None
    sync_client = new_client(emulator_url, key)
    async_client = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=emulator_url))
    sync_chat = sync_client.chats.create(model="gemini-2.5-flash", config=config)
    for message, stream in conversation:
        if stream:
            list(sync_chat.send_message_stream(message))
        else:
            sync_chat.send_message(message)
    sent = [[e["request"]["contents"] for e in control(emulator_url, key, "GET", "requests")["requests"]]]
    control(emulator_url, key, "DELETE", "requests")

    async def run() -> tuple[list[types.Content], list[types.Content]]:
        chat = async_client.aio.chats.create(model="gemini-2.5-flash", config=config)
        for message, stream in conversation:
            if stream:
                [_ async for _ in await chat.send_message_stream(message)]
            else:
                await chat.send_message(message)
        await async_client.aio.aclose()
        return chat.get_history(curated=True), chat.get_history()

    async_curated, async_all = asyncio.run(run())

    def dumps(contents: list[types.Content]) -> list[dict[str, Any]]:
        return [c.model_dump(mode="json", exclude_none=True) for c in contents]

    assert dumps(async_curated) == dumps(sync_chat.get_history(curated=True))
    assert dumps(async_all) == dumps(sync_chat.get_history())
    sent.append([e["request"]["contents"] for e in control(emulator_url, key, "GET", "requests")["requests"]])
    assert sent[0] == sent[1]


# --------------------------------------------------------------------------------------------------
# Every response parses without a warning.


# SDK: with responseSchema or responseJsonSchema set, GenerateContentResponse._from_response reads
# ``_get_text()`` to fill ``parsed``, and that logs these (once per process) when the answer holds a
# function call or several candidates. They are about the text accessor, not about parsing.
TEXT_ACCESSOR = ("Warning: there are non-text parts in the response", "there are ")


class Warned:
    """Warnings of the warnings module and of the SDK's loggers, while active."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self._handler = logging.Handler(logging.WARNING)
        self._handler.emit = self._log  # type: ignore[method-assign]

    def _log(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.funcName != "_get_text" or not message.startswith(TEXT_ACCESSOR):
            self.messages.append(f"log: {message}")

    def __enter__(self) -> Warned:
        self._catcher = warnings.catch_warnings(record=True)
        self._caught = self._catcher.__enter__()
        warnings.simplefilter("always")
        # The SDK's own aiohttp session class, at session creation (also ignored in pyproject.toml).
        warnings.filterwarnings("ignore", "Inheritance class AiohttpClientSession", DeprecationWarning)
        logging.getLogger("google_genai").addHandler(self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("google_genai").removeHandler(self._handler)
        self._catcher.__exit__(*exc)  # type: ignore[arg-type]
        self.messages += [f"{w.category.__name__}: {w.message}" for w in self._caught]


WEATHER_TOOL = types.Tool(
    function_declarations=[
        types.FunctionDeclaration(
            name="get_weather",
            description="The weather in a city.",
            parameters_json_schema={
                "type": "object",
                "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1, "maximum": 3}},
                "required": ["city"],
            },
        )
    ]
)
SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
}
# Every value the SDK's enums know except CONTINUATION (which makes the SDK resume) and the unspecified ones.
FINISH_REASONS = [r.value for r in types.FinishReason if r.value not in ("CONTINUATION", "FINISH_REASON_UNSPECIFIED")]
BLOCK_REASONS = [r.value for r in types.BlockedReason if r.value != "BLOCKED_REASON_UNSPECIFIED"]

request_configs = st.builds(
    types.GenerateContentConfig,
    candidate_count=st.none() | st.integers(1, 2),
    max_output_tokens=st.none() | st.integers(1, 40),
    thinking_config=st.none() | st.builds(types.ThinkingConfig, include_thoughts=st.booleans()),
    tools=st.none() | st.just([WEATHER_TOOL]),
    response_mime_type=st.none() | st.just("application/json"),
    response_json_schema=st.none() | st.just(SCHEMA),
    http_options=st.none()
    | st.builds(
        lambda fault: types.HttpOptions(headers={"x-emulator-fault": json.dumps(fault)}),
        st.one_of(
            st.builds(lambda r: {"kind": "finish", "finish_reason": r}, st.sampled_from(FINISH_REASONS)),
            st.builds(lambda r: {"kind": "block", "block_reason": r}, st.sampled_from(BLOCK_REASONS)),
        ),
    ),
)

scripted_parts = st.lists(
    st.one_of(
        WORDS.map(lambda t: {"text": t}),
        WORDS.map(lambda t: {"thought": t}),
        st.binary(min_size=1, max_size=8).map(
            lambda b: {"inline_data": {"mime_type": "image/png", "data": base64.b64encode(b).decode()}}
        ),
        st.just({"executable_code": {"code": "print(6 * 7)"}}),
        st.sampled_from(["OUTCOME_OK", "OUTCOME_FAILED"]).map(
            lambda o: {"code_execution_result": {"outcome": o, "output": "42"}}
        ),
        st.just({"function_call": {"name": "get_weather", "args": {"city": "Oslo"}, "id": "abcd1234"}}),
    ),
    min_size=1,
    max_size=4,
)


def _calls(client: genai.Client, streamed: bool, is_async: bool) -> Callable[..., list[Any]]:
    def call(**request: Any) -> list[Any]:
        if not is_async:
            models = client.models
            return list(models.generate_content_stream(**request)) if streamed else [models.generate_content(**request)]

        async def run() -> list[Any]:
            models = client.aio.models
            if streamed:
                got = [c async for c in await models.generate_content_stream(**request)]
            else:
                got = [await models.generate_content(**request)]
            await client.aio.aclose()
            return got

        return asyncio.run(run())

    return call


@given(
    model=st.sampled_from(MODELS),
    prompt=PROMPT,
    config=request_configs,
    scripted=st.none() | scripted_parts,
    streamed=st.booleans(),
    is_async=st.booleans(),
)
def test_every_response_parses_without_warnings(
    emulator_url: str,
    key: str,
    model: str,
    prompt: str,
    config: types.GenerateContentConfig,
    scripted: list[dict[str, Any]] | None,
    streamed: bool,
    is_async: bool,
) -> None:
    """Default-model answers (text, JSON, function calls, thoughts, several candidates), scripted
    parts of every kind, and every finish and block reason the SDK knows, sent by the fault layer."""
    client = new_client(emulator_url, key)
    if scripted is not None:
        rule = {"reply": {"parts": scripted}}
        control(emulator_url, key, "PUT", "scenario", {"name": "parse", "rules": [rule]})
    with Warned() as warned:
        responses = _calls(client, streamed, is_async)(model=model, contents=prompt, config=config)
        for response in responses:
            response.model_dump(mode="json")  # every field is of its declared type
    assert warned.messages == []
    assert responses


@pytest.fixture(scope="module")
def catalogue(emulator_url: str) -> Iterator[genai.Client]:
    client = new_client(emulator_url, harness.key(__name__))
    yield client
    client.close()


def test_the_other_endpoints_parse_without_warnings(catalogue: genai.Client) -> None:
    """models.list / models.get of every entry, countTokens and embeddings."""
    with Warned() as warned:
        listed = list(catalogue.models.list())
        for entry in listed:
            assert entry.name is not None
            catalogue.models.get(model=entry.name)
        catalogue.models.count_tokens(model="gemini-2.5-flash", contents="count me")
        catalogue.models.embed_content(model="gemini-embedding-001", contents=["one", "two"])
    assert warned.messages == []
    assert listed
