"""Python callables as models, driven through the real SDK.

Callables are an in-process feature (a function of this process is the model), so these checks start
emulators of their own here rather than in the over-HTTP conformance suite of sdk_tests/.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from google import genai
from google.genai import types

from emulator import EmulatorThread, Settings
from emulator.backends.function import FunctionBackend, ModelContext, ModelRequest
from emulator.wire import errors

MODEL = "gemini-2.5-flash"


def echo(request: ModelRequest, context: ModelContext) -> str:
    system = request.system_instruction.parts[0].text if request.system_instruction else "-"
    return (
        f"turn {context.turn} in {context.model} ({system}, t={request.config.temperature}): {request.last_user_text}"
    )


def client_for(emu: EmulatorThread) -> genai.Client:
    return genai.Client(api_key="callable-key", http_options={"base_url": emu.url})


def test_a_function_sees_typed_requests_and_its_string_is_the_answer() -> None:
    with EmulatorThread(backend=FunctionBackend(echo)) as emu:
        client = client_for(emu)
        chat = client.chats.create(
            model=MODEL, config=types.GenerateContentConfig(system_instruction="be kind", temperature=0.5)
        )
        assert chat.send_message("hello").text == f"turn 1 in {MODEL} (be kind, t=0.5): hello"
        streamed = [c.text for c in chat.send_message_stream("again and again, with enough words to split")]
        assert len(streamed) > 1
        assert "".join(t or "" for t in streamed).startswith("turn 2 in ")
        assert len(chat.get_history(curated=True)) == 4 + len(streamed) - 1


def test_parts_responses_and_generators() -> None:
    def parts(request: ModelRequest, context: ModelContext) -> list[types.Part]:
        return [types.Part(text="thinking", thought=True), types.Part.from_function_call(name="f", args={"x": 1})]

    def whole(request: ModelRequest, context: ModelContext) -> types.GenerateContentResponse:
        return types.GenerateContentResponse(prompt_feedback=types.GenerateContentResponsePromptFeedback(
            block_reason=types.BlockedReason.SAFETY
        ))  # fmt: skip

    def chunks(request: ModelRequest, context: ModelContext) -> Iterator[str]:
        yield from ("one ", "two ", "three")

    async def async_chunks(request: ModelRequest, context: ModelContext) -> AsyncIterator[types.Part]:
        for word in ("a", "b"):
            await asyncio.sleep(0)
            yield types.Part(text=word)

    with EmulatorThread(backend=FunctionBackend(parts)) as emu:
        client = client_for(emu)
        response = client.models.generate_content(model=MODEL, contents="x")
        assert response.function_calls[0].args == {"x": 1}
        assert response.usage_metadata.thoughts_token_count
    with EmulatorThread(backend=FunctionBackend(whole)) as emu:
        client = client_for(emu)
        blocked = client.models.generate_content(model=MODEL, contents="x")
        assert blocked.text is None and blocked.prompt_feedback.block_reason == types.BlockedReason.SAFETY
    with EmulatorThread(backend=FunctionBackend(chunks)) as emu:
        client = client_for(emu)
        got = list(client.models.generate_content_stream(model=MODEL, contents="x"))
        assert [c.text for c in got] == ["one ", "two ", "three"]
        assert got[-1].candidates[0].finish_reason == types.FinishReason.STOP
    with EmulatorThread(backend=FunctionBackend(async_chunks)) as emu:

        async def run() -> list[str | None]:
            client = client_for(emu)
            stream = await client.aio.models.generate_content_stream(model=MODEL, contents="x")
            return [c.text async for c in stream]

        assert asyncio.run(run()) == ["a", "b"]


def test_a_function_can_fail_like_the_service() -> None:
    def busy(request: ModelRequest, context: ModelContext) -> str:
        raise errors.quota_exceeded(context.model, retry_seconds=7)

    with EmulatorThread(backend=FunctionBackend(busy)) as emu, pytest.raises(genai.errors.ClientError) as caught:
        client = client_for(emu)
        client.models.generate_content(model=MODEL, contents="x")
    assert caught.value.code == 429
    assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"} in caught.value.details["error"][
        "details"
    ]


def test_callable_route_from_a_named_directory(tmp_path: Path) -> None:
    (tmp_path / "my_models.py").write_text("def shout(request, context):\n    return request.last_user_text.upper()\n")
    settings = Settings(port=0, backends=["gemini-2.5-*=callable:my_models:shout"], callable_path=[tmp_path])
    with EmulatorThread(settings) as emu:
        client = client_for(emu)
        assert client.models.generate_content(model=MODEL, contents="quiet please").text == "QUIET PLEASE"
        other = client.models.generate_content(model="gemini-2.0-flash", contents="quiet please").text
        assert other != "QUIET PLEASE" and "quiet please" in (other or "")
    with pytest.raises(ValueError, match="not found"):
        EmulatorThread(Settings(port=0, backends=["*=callable:my_models:shout"])).start()
