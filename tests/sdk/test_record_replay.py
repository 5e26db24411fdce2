"""Record through the emulator against an upstream emulator, then replay offline: the SDK cannot tell.

There is no real API here, so the upstream is a second emulator; the recorder forwards to it exactly
as it would to the real service. Recording needs emulators started with settings of their own (a
cassette file, a record mode, an upstream), so these checks live here, not in the over-HTTP
conformance suite of sdk_tests/.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google import genai
from google.genai import types

from emulator import EmulatorThread, FunctionBackend, ModelContext, ModelRequest, Settings
from emulator.wire import errors

MODEL = "gemini-2.5-flash"
CANARY_KEY = "AIza" + "CanaryCanaryCanaryCanaryCanary12345"  # the shape of a real key; must never reach disk


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def conversation(client: genai.Client) -> list[Any]:
    """Everything the SDK offers, once: what came back is what must replay identically."""
    seen: list[Any] = []
    seen.append(client.models.generate_content(model=MODEL, contents="unary hello").text)
    seen.append([c.text for c in client.models.generate_content_stream(model=MODEL, contents="stream hello")])
    seen.append(client.models.count_tokens(model=MODEL, contents="count me").total_tokens)
    seen.append(client.models.embed_content(model="gemini-embedding-001", contents="embed me").embeddings[0].values[:4])

    async def run_async() -> list[Any]:
        unary = await client.aio.models.generate_content(model=MODEL, contents="async hello")
        stream = await client.aio.models.generate_content_stream(model=MODEL, contents="async stream")
        return [unary.text, [c.text async for c in stream]]

    seen.extend(asyncio.run(run_async()))
    chat = client.chats.create(model=MODEL)
    seen.append(chat.send_message("first turn").text)
    seen.append([c.text for c in chat.send_message_stream("second turn")])
    seen.append(chat.send_message("third turn").text)
    seen.append([c.model_dump(exclude_none=True) for c in chat.get_history(curated=True)])
    tools = types.GenerateContentConfig(tools=[get_weather])
    afc = client.models.generate_content(model=MODEL, contents="get_weather for Paris", config=tools)
    seen.append((afc.text, len(afc.automatic_function_calling_history or [])))
    return seen


@pytest.fixture(scope="module")
def upstream() -> Iterator[EmulatorThread]:
    with EmulatorThread() as emu:
        yield emu


def client_for(url: str, key: str = CANARY_KEY) -> genai.Client:
    return genai.Client(api_key=key, http_options={"base_url": url})


def test_what_was_recorded_replays_identically_and_no_secret_reaches_the_cassette(
    upstream: EmulatorThread, tmp_path: Path
) -> None:
    cassette = tmp_path / "conversation.yaml"
    direct = conversation(client_for(upstream.url))
    with EmulatorThread(Settings(port=0, cassette=cassette, record_mode="new_episodes", upstream=upstream.url)) as rec:
        client = client_for(rec.url)
        recorded = conversation(client)
    assert recorded == direct
    text = cassette.read_text()
    assert CANARY_KEY not in text and "x-goog-api-key" not in text.lower()
    with EmulatorThread(Settings(port=0, cassette=cassette)) as replay:
        client = client_for(replay.url, key="any-other-key")
        assert conversation(client) == recorded


def test_a_miss_is_a_loud_non_retryable_400_naming_the_cassette(upstream: EmulatorThread, tmp_path: Path) -> None:
    cassette = tmp_path / "one.yaml"
    with EmulatorThread(Settings(port=0, cassette=cassette, record_mode="once", upstream=upstream.url)) as rec:
        client = client_for(rec.url)
        client.models.generate_content(model=MODEL, contents="the recorded question")
    with EmulatorThread(Settings(port=0, cassette=cassette)) as replay:
        client = client_for(replay.url)
        with pytest.raises(genai.errors.ClientError) as caught:
            client.models.generate_content(model=MODEL, contents="another question")
    assert caught.value.code == 400 and caught.value.status == "FAILED_PRECONDITION"
    assert "one.yaml" in caught.value.message and "interaction #0" in caught.value.message
    assert "another question" in caught.value.message or "contents" in caught.value.message


def test_an_unreachable_upstream_is_503_and_records_nothing(tmp_path: Path) -> None:
    cassette = tmp_path / "down.yaml"
    with EmulatorThread(Settings(port=0, cassette=cassette, record_mode="all", upstream="http://127.0.0.1:9")) as rec:
        client = client_for(rec.url)
        with pytest.raises(genai.errors.ServerError) as caught:
            client.models.generate_content(model=MODEL, contents="hello")
    assert caught.value.code == 503 and "could not be reached" in caught.value.message
    assert not cassette.exists()


def flaky(request: ModelRequest, context: ModelContext) -> Any:
    if request.last_user_text == "quota":
        raise errors.quota_exceeded(context.model, retry_seconds=3)

    def cut() -> Iterator[str]:
        yield "first words "
        raise errors.overloaded()

    return cut()


def test_upstream_errors_pass_through_and_cut_streams_are_never_stored(tmp_path: Path) -> None:
    cassette = tmp_path / "errors.yaml"
    with (
        EmulatorThread(backend=FunctionBackend(flaky)) as source,
        EmulatorThread(Settings(port=0, cassette=cassette, record_mode="all", upstream=source.url)) as rec,
    ):
        client = client_for(rec.url)
        with pytest.raises(genai.errors.ClientError) as caught:
            client.models.generate_content(model=MODEL, contents="quota")
        assert caught.value.code == 429 and caught.value.details["error"]["details"][-1]["retryDelay"] == "3s"
        chunks: list[str | None] = []
        with pytest.raises(genai.errors.ServerError):
            for chunk in client.models.generate_content_stream(model=MODEL, contents="stream"):
                chunks.append(chunk.text)
        assert chunks == ["first words "]
    assert not cassette.exists() or "first words" not in cassette.read_text()
