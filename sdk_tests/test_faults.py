"""Faults on demand, each met through the real SDK (sync and async) with the exception a user sees."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import harness
import pytest
from google import genai
from google.genai import types

MODEL = "gemini-2.5-flash"


class Ctx:
    """A context of its own: a fresh key, a client of one flavour on it, and its faults."""

    def __init__(self, url: str, flavour: str = "developer", **http: Any) -> None:
        self.url, self.key = url, harness.key(__name__, prefix="AQ." if flavour == "express" else "")
        self.client = harness.client(url, flavour, self.key, **http)

    def control(self, method: str, name: str, body: Any = None) -> Any:
        return harness.control(self.url, self.key, method, name, body)

    def faults(self, *faults: dict[str, Any]) -> None:
        self.control("PUT", "faults", list(faults))

    def attempts(self) -> int:
        return len(self.control("GET", "requests")["requests"])


@pytest.fixture
def ctx(emulator_url: str, flavour: str) -> Ctx:
    return Ctx(emulator_url, flavour)


def header(**fault: Any) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(http_options=types.HttpOptions(headers={"x-emulator-fault": json.dumps(fault)}))


def both(ctx: Ctx, call: Callable[[Any], Any]) -> list[BaseException]:
    """The exception of a call through the sync client and through the async one."""
    caught: list[BaseException] = []
    for run in (lambda: call(ctx.client.models), lambda: asyncio.run(_awaited(call(ctx.client.aio.models)))):
        with pytest.raises(BaseException) as info:  # noqa: PT011 (the type is asserted by the caller)
            run()
        caught.append(info.value)
    return caught


async def _awaited(value: Any) -> Any:
    return await value


@pytest.mark.flavours("developer", "vertex", "express")
@pytest.mark.parametrize(("code", "kind", "status"), [
    (500, genai.errors.ServerError, "INTERNAL"), (503, genai.errors.ServerError, "UNAVAILABLE"),
    (504, genai.errors.ServerError, "DEADLINE_EXCEEDED"), (400, genai.errors.ClientError, "INVALID_ARGUMENT"),
    (403, genai.errors.ClientError, "PERMISSION_DENIED"), (404, genai.errors.ClientError, "NOT_FOUND"),
])  # fmt: skip
def test_http_errors_map_to_the_sdk_exceptions(ctx: Ctx, code: int, kind: type, status: str) -> None:
    config = header(kind="error", code=code)
    for error in both(ctx, lambda models: models.generate_content(model=MODEL, contents="x", config=config)):
        assert isinstance(error, kind) and error.code == code and error.status == status


@pytest.mark.flavours("developer", "vertex", "express")
@pytest.mark.parametrize(("code", "kind", "status"), [
    (429, genai.errors.ClientError, "RESOURCE_EXHAUSTED"), (503, genai.errors.ServerError, "UNAVAILABLE"),
])  # fmt: skip
def test_control_plane_faults_reach_every_flavour(ctx: Ctx, code: int, kind: type, status: str) -> None:
    """A fault put through ``/_emulator/faults`` with the credential answers that credential's calls,
    whatever API they speak (a Vertex AI client's bearer token names the same context as the key)."""
    ctx.faults({"kind": "error", "code": code})
    for error in both(ctx, lambda models: models.generate_content(model=MODEL, contents="x")):
        assert isinstance(error, kind) and (error.code, error.status) == (code, status)
    assert ctx.attempts() == 2


def test_quota_error_has_the_real_details_and_a_retry_after_only_when_asked(ctx: Ctx) -> None:
    """Developer API only: its 429 carries QuotaFailure, Help and RetryInfo; Vertex AI's is terse."""
    ctx.faults({"kind": "error", "code": 429, "retry_after": 7})
    (sync, asynchronous) = both(ctx, lambda models: models.generate_content(model=MODEL, contents="x"))
    for error in (sync, asynchronous):
        assert isinstance(error, genai.errors.ClientError) and error.code == 429
        kinds = [d["@type"].rsplit(".", 1)[-1] for d in error.details["error"]["details"]]
        assert kinds == ["QuotaFailure", "Help", "RetryInfo"]
        assert error.details["error"]["details"][2]["retryDelay"] == "7s"
    assert "retry-after" not in {k.lower() for k in (sync.response.headers or {})}
    ctx.faults({"kind": "error", "code": 429, "retry_after": 7, "retry_after_header": True})
    (again, _) = both(ctx, lambda models: models.generate_content(model=MODEL, contents="x"))
    assert {k.lower(): v for k, v in again.response.headers.items()}["retry-after"] == "7"


def test_fail_twice_then_succeed_is_exact_under_sdk_retries(emulator_url: str) -> None:
    retry = types.HttpRetryOptions(attempts=4, initial_delay=0.01, max_delay=0.05)
    ctx = Ctx(emulator_url, retry_options=retry)
    ctx.faults({"kind": "error", "code": 503, "times": 2})
    assert ctx.client.models.generate_content(model=MODEL, contents="retry me").text
    assert ctx.attempts() == 3
    ctx.faults({"kind": "error", "code": 400, "times": 1})  # not retryable: one attempt only
    with pytest.raises(genai.errors.ClientError):
        ctx.client.models.generate_content(model=MODEL, contents="retry me")
    assert ctx.attempts() == 4


@pytest.mark.flavours("developer", "vertex", "express")
def test_mid_stream_failure_after_k_chunks(ctx: Ctx) -> None:
    ctx.faults({"kind": "midstream", "after_chunks": 2, "code": 503})
    got: list[str | None] = []
    with pytest.raises(genai.errors.ServerError) as caught:
        for chunk in ctx.client.models.generate_content_stream(model=MODEL, contents="a story"):
            got.append(chunk.text)
    assert len(got) == 2 and caught.value.code == 503

    async def run() -> list[str | None]:
        seen = []
        async for chunk in await ctx.client.aio.models.generate_content_stream(model=MODEL, contents="a story"):
            seen.append(chunk.text)
        return seen

    with pytest.raises(genai.errors.ServerError):
        asyncio.run(run())


@pytest.mark.parametrize("kind", ["reset", "empty", "garbage", "malformed"])
def test_connection_faults_break_the_call_not_the_server(ctx: Ctx, kind: str) -> None:
    with pytest.raises(Exception) as caught:  # noqa: B017,PT011 (transport errors differ by kind)
        ctx.client.models.generate_content(model=MODEL, contents="x", config=header(kind=kind))
    assert not isinstance(caught.value, genai.errors.APIError) or kind in ("garbage", "malformed")
    stream_config = header(kind=kind, after_chunks=1)
    with pytest.raises(Exception):  # noqa: B017,PT011 (transport errors differ by kind and transport)
        list(ctx.client.models.generate_content_stream(model=MODEL, contents="a story", config=stream_config))
    assert ctx.client.models.generate_content(model=MODEL, contents="still serving").text


def test_the_async_sdk_resends_once_after_a_connection_reset(ctx: Ctx) -> None:
    ctx.faults({"kind": "reset", "times": 1})

    async def run() -> str | None:
        return (await ctx.client.aio.models.generate_content(model=MODEL, contents="x")).text

    assert asyncio.run(run())
    assert ctx.attempts() == 2


def test_a_stalled_stream_hits_the_client_timeout(emulator_url: str) -> None:
    ctx = Ctx(emulator_url, timeout=1500)
    ctx.faults({"kind": "stall", "after_chunks": 1, "stall_seconds": 30})
    started = time.monotonic()
    with pytest.raises(Exception):  # noqa: B017,PT011 (httpx's timeout type)
        list(ctx.client.models.generate_content_stream(model=MODEL, contents="a story"))
    assert time.monotonic() - started < 10


def test_a_truncated_stream_has_no_final_chunk_and_the_chat_does_not_curate_it(ctx: Ctx) -> None:
    ctx.faults({"kind": "truncate", "after_chunks": 100, "model": "gemini-2.5-*"})
    chat = ctx.client.chats.create(model=MODEL)
    chunks = list(chat.send_message_stream("a story"))
    assert chunks and all(c.candidates[0].finish_reason is None for c in chunks)
    assert chat.get_history(curated=True) == [] and len(chat.get_history()) == 1 + len(chunks)


def test_blocked_prompt_and_finish_reasons(ctx: Ctx) -> None:
    blocked = ctx.client.models.generate_content(model=MODEL, contents="x", config=header(kind="block"))
    assert blocked.text is None and blocked.prompt_feedback.block_reason == types.BlockedReason.SAFETY
    for reason in ("SAFETY", "RECITATION", "MALFORMED_FUNCTION_CALL", "MAX_TOKENS"):
        config = header(kind="finish", finish_reason=reason)
        response = ctx.client.models.generate_content(model=MODEL, contents="x", config=config)
        assert response.candidates[0].finish_reason == types.FinishReason(reason)
        assert (response.text is None) == (reason != "MAX_TOKENS")
        streamed = list(ctx.client.models.generate_content_stream(model=MODEL, contents="x", config=config))
        assert streamed[-1].candidates[0].finish_reason == types.FinishReason(reason)
    unsafe = header(kind="finish", finish_reason="SAFETY")
    safety = ctx.client.models.generate_content(model=MODEL, contents="x", config=unsafe)
    assert safety.candidates[0].safety_ratings[0].blocked is True


def test_the_quota_model_answers_429_once_the_window_is_full(ctx: Ctx) -> None:
    ctx.faults({"kind": "quota", "rpm": 2})
    ctx.client.models.generate_content(model=MODEL, contents="one")
    ctx.client.models.generate_content(model=MODEL, contents="two")
    with pytest.raises(genai.errors.ClientError) as caught:
        ctx.client.models.generate_content(model=MODEL, contents="three")
    assert caught.value.code == 429
    delay = caught.value.details["error"]["details"][2]["retryDelay"]
    assert delay.endswith("s") and 50 <= int(delay[:-1]) <= 60


def test_latency_and_pacing(ctx: Ctx) -> None:
    started = time.monotonic()
    ctx.client.models.generate_content(model=MODEL, contents="x", config=header(kind="latency", delay=0.3))
    assert time.monotonic() - started >= 0.3
    paced = header(kind="latency", first_chunk_delay=0.2, tokens_per_second=200)
    started = time.monotonic()
    chunks = list(ctx.client.models.generate_content_stream(model=MODEL, contents="a story", config=paced))
    produced = sum(c.usage_metadata.candidates_token_count or 0 for c in chunks[-1:])
    assert time.monotonic() - started >= 0.2 + produced / 200 * 0.8


def test_a_bad_fault_is_a_clear_400(ctx: Ctx) -> None:
    with pytest.raises(genai.errors.ClientError) as caught:
        ctx.client.models.generate_content(model=MODEL, contents="x", config=header(kind="explode"))
    assert caught.value.code == 400 and "kind" in caught.value.message


def test_scenario_rules_carry_faults_counted_like_any_rule(emulator_url: str) -> None:
    retry = types.HttpRetryOptions(attempts=3, initial_delay=0.01, max_delay=0.05)
    ctx = Ctx(emulator_url, retry_options=retry)
    scenario = {
        "name": "flaky",
        "rules": [
            {"name": "overloaded twice", "times": 2, "fault": {"kind": "error", "code": 503}},
            {"name": "cut", "when": {"stream": True},
             "reply": {"text": "one two three four", "stream": {"split": "words"}},
             "fault": {"kind": "reset", "after_chunks": 2}},
            {"name": "answer", "times": "unlimited", "reply": "finally"},
        ],
    }  # fmt: skip
    ctx.control("PUT", "scenario", scenario)
    assert ctx.client.models.generate_content(model=MODEL, contents="x").text == "finally"
    assert ctx.attempts() == 3
    got: list[str | None] = []
    with pytest.raises(Exception):  # noqa: B017,PT011 (the transport's own error for a reset)
        for chunk in ctx.client.models.generate_content_stream(model=MODEL, contents="x"):
            got.append(chunk.text)
    assert got == ["one ", "two "]


@pytest.mark.parametrize("kind", ["reset", "empty", "garbage", "malformed", "midstream", "truncate"])
def test_stream_faults_through_the_async_sdk(emulator_url: str, kind: str) -> None:
    ctx = Ctx(emulator_url, retry_options=types.HttpRetryOptions(attempts=1))
    ctx.faults({"kind": kind, "after_chunks": 1})

    async def run() -> list[Any]:
        seen = []
        async for chunk in await ctx.client.aio.models.generate_content_stream(model=MODEL, contents="a story"):
            seen.append(chunk.candidates[0].finish_reason if chunk.candidates else None)
        return seen

    if kind == "truncate":
        assert all(reason is None for reason in asyncio.run(run()))  # no final chunk with finishReason
        return
    with pytest.raises(Exception) as caught:  # noqa: B017,PT011 (transport errors differ by kind)
        asyncio.run(run())
    if kind == "midstream":
        assert isinstance(caught.value, genai.errors.ServerError) and caught.value.code == 503


def test_unary_faults_through_the_async_sdk(ctx: Ctx) -> None:
    async def ask(config: types.GenerateContentConfig | None = None) -> types.GenerateContentResponse:
        return await ctx.client.aio.models.generate_content(model=MODEL, contents="x", config=config)

    blocked = asyncio.run(ask(header(kind="block")))
    assert blocked.text is None and blocked.prompt_feedback.block_reason == types.BlockedReason.SAFETY
    recited = asyncio.run(ask(header(kind="finish", finish_reason="RECITATION")))
    assert recited.candidates[0].finish_reason == types.FinishReason.RECITATION and recited.text is None
    started = time.monotonic()
    assert asyncio.run(ask(header(kind="latency", delay=0.3))).text
    assert time.monotonic() - started >= 0.3
    ctx.faults({"kind": "quota", "rpm": 1})
    asyncio.run(ask())
    with pytest.raises(genai.errors.ClientError) as caught:
        asyncio.run(ask())
    assert caught.value.code == 429 and caught.value.status == "RESOURCE_EXHAUSTED"
