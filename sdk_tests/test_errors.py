"""Errors surface through the SDK with the code, status and text of the real service."""

from __future__ import annotations

import asyncio

import pytest
from google import genai
from google.genai import types

MODEL = "gemini-2.5-flash"


def _raises(call, code: int, status: str) -> genai.errors.APIError:  # type: ignore[no-untyped-def]
    with pytest.raises(genai.errors.APIError) as caught:
        call()
    assert (caught.value.code, caught.value.status) == (code, status)
    return caught.value


def test_unknown_model(client: genai.Client) -> None:
    error = _raises(lambda: client.models.generate_content(model="gemini-9", contents="x"), 404, "NOT_FOUND")
    assert isinstance(error, genai.errors.ClientError)
    assert error.message.startswith(
        "models/gemini-9 is not found for API version v1, or is not supported for generateContent"
    )


def test_generation_on_an_embedding_model_is_404(client: genai.Client) -> None:
    _raises(lambda: client.models.generate_content(model="gemini-embedding-001", contents="x"), 404, "NOT_FOUND")


def test_wrong_key_with_a_configured_key(emulator_url: str) -> None:
    from emulator import EmulatorThread, Settings

    with EmulatorThread(Settings(port=0, api_key="the-right-key")) as emu:
        wrong = genai.Client(api_key="not-it", http_options={"base_url": emu.url})
        error = _raises(lambda: wrong.models.generate_content(model=MODEL, contents="x"), 400, "INVALID_ARGUMENT")
        assert error.message == "API key not valid. Please pass a valid API key."
        assert error.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"
        right = genai.Client(api_key="the-right-key", http_options={"base_url": emu.url})
        assert right.models.generate_content(model=MODEL, contents="x").text


def test_out_of_range_temperature_is_invalid_argument(client: genai.Client) -> None:
    config = types.GenerateContentConfig(temperature=5)
    error = _raises(
        lambda: client.models.generate_content(model=MODEL, contents="x", config=config), 400, "INVALID_ARGUMENT"
    )
    assert "temperature" in error.message


def test_bad_role_in_history(client: genai.Client) -> None:
    contents = [types.Content(role="assistant", parts=[types.Part(text="hi")])]
    error = _raises(lambda: client.models.generate_content(model=MODEL, contents=contents), 400, "INVALID_ARGUMENT")
    assert error.message == "Please use a valid role: user, model."


def test_async_errors_are_the_same(client: genai.Client) -> None:
    async def run() -> None:
        await client.aio.models.generate_content(model="gemini-9", contents="x")

    with pytest.raises(genai.errors.ClientError) as caught:
        asyncio.run(run())
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"

    async def stream() -> None:
        async for _ in await client.aio.models.generate_content_stream(model="gemini-9", contents="x"):
            pass

    with pytest.raises(genai.errors.ClientError):
        asyncio.run(stream())
