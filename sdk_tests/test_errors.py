"""Errors surface through the SDK with the code, status and text of the real service.

(An emulator started with ``--api-key`` is checked in tests/sdk/test_configured_api_key.py.)
"""

from __future__ import annotations

import asyncio

import harness
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
    """Developer API wording (Vertex AI's is checked in test_unknown_model_on_vertex_names_the_publisher_model)."""
    error = _raises(lambda: client.models.generate_content(model="gemini-9", contents="x"), 404, "NOT_FOUND")
    assert isinstance(error, genai.errors.ClientError)
    assert error.message.startswith(
        "models/gemini-9 is not found for API version v1, or is not supported for generateContent"
    )


@pytest.mark.flavours("developer", "vertex", "express")
def test_unknown_model_is_a_404_client_error_sync_and_async(client: genai.Client) -> None:
    for call in (
        lambda: client.models.generate_content(model="gemini-9", contents="x"),
        lambda: list(client.models.generate_content_stream(model="gemini-9", contents="x")),
        lambda: client.models.count_tokens(model="gemini-9", contents="x"),
        lambda: asyncio.run(client.aio.models.generate_content(model="gemini-9", contents="x")),
    ):
        error = _raises(call, 404, "NOT_FOUND")
        assert isinstance(error, genai.errors.ClientError)


@pytest.mark.flavours("vertex", "express")
def test_unknown_model_on_vertex_names_the_publisher_model(client: genai.Client, flavour: str) -> None:
    """Vertex AI only: its 404 names the publisher model, with the project and location when sent."""
    error = _raises(lambda: client.models.generate_content(model="gemini-9", contents="x"), 404, "NOT_FOUND")
    scope = f"projects/{harness.PROJECT}/locations/{harness.LOCATION}/" if flavour == "vertex" else ""
    assert error.message.startswith(f"Publisher Model `{scope}publishers/google/models/gemini-9` was not found")


def test_generation_on_an_embedding_model_is_404(client: genai.Client) -> None:
    _raises(lambda: client.models.generate_content(model="gemini-embedding-001", contents="x"), 404, "NOT_FOUND")


@pytest.mark.flavours("developer", "vertex", "express")
def test_out_of_range_temperature_is_invalid_argument(client: genai.Client) -> None:
    config = types.GenerateContentConfig(temperature=5)
    error = _raises(
        lambda: client.models.generate_content(model=MODEL, contents="x", config=config), 400, "INVALID_ARGUMENT"
    )
    assert "temperature" in error.message


@pytest.mark.flavours("developer", "vertex")
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


@pytest.mark.flavours("developer", "vertex", "express")
def test_rejected_requests_reach_no_model(client: genai.Client, emulator_url: str, api_key: str) -> None:
    """What the front end refuses (an unknown model, an invalid argument, a bad role) is answered before
    any model sees it: the journal, which keeps every model call, has none of it, and the next valid
    call of the same client is answered and journaled as usual."""
    refused = [
        lambda: client.models.generate_content(model="gemini-9", contents="unknown model"),
        lambda: client.models.generate_content(
            model=MODEL, contents="hot", config=types.GenerateContentConfig(temperature=5)
        ),
        lambda: client.models.generate_content(
            model=MODEL, contents=[types.Content(role="assistant", parts=[types.Part(text="hi")])]
        ),
    ]
    for call in refused:
        with pytest.raises(genai.errors.ClientError):
            call()
    assert client.models.generate_content(model=MODEL, contents="a valid question").text
    [entry] = harness.journal(emulator_url, api_key)
    assert entry["request"]["contents"] == [{"role": "user", "parts": [{"text": "a valid question"}]}]
    assert entry["reply"]["status"] == 200
