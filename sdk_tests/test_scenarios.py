"""Scripted scenarios through the real google-genai SDK: each test loads one fixture scenario for a
context of its own (``PUT /_emulator/scenario`` on a fresh key), so rule use counts start from zero."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import harness
import pytest
from google import genai
from google.genai import types
from pydantic import BaseModel

SCENARIOS = Path(__file__).resolve().parent.parent / "fixtures" / "scenarios"
MODEL = "gemini-2.5-flash"
WEATHER_TOOL = types.Tool(
    function_declarations=[
        types.FunctionDeclaration(
            name="get_weather",
            description="Current weather in a city.",
            parameters_json_schema={
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        )
    ]
)


class Served:
    """One context playing one scenario: its key, the emulator's URL, an SDK client and its journal."""

    def __init__(self, url: str, source: str | dict[str, Any], flavour: str = "developer") -> None:
        self.url, self.key = url, harness.key(__name__, prefix="AQ." if flavour == "express" else "")
        if isinstance(source, str):  # a fixture file, sent as it is written
            harness.control(url, self.key, "PUT", "scenario", (SCENARIOS / source).read_bytes(), "application/yaml")
        else:
            harness.control(url, self.key, "PUT", "scenario", source)
        self.client = harness.client(url, flavour, self.key)  # a Vertex AI token names the key's context

    def journal(self) -> list[dict[str, Any]]:
        return harness.journal(self.url, self.key)


Serve = Callable[[str | dict[str, Any]], Served]


@pytest.fixture
def serve(emulator_url: str, flavour: str) -> Serve:
    """serve("chat.yaml") (or a scenario as a dict) -> a client of the test's flavour whose context plays it."""
    return lambda source: Served(emulator_url, source, flavour)


def _texts(history: list[types.Content]) -> list[tuple[str | None, str]]:
    return [(c.role, "".join(p.text or "" for p in c.parts or ())) for c in history]


@pytest.mark.flavours("developer", "vertex", "express")
def test_three_turn_chat_plays_the_script_in_order(serve: Serve) -> None:
    served = serve("chat.yaml")
    chat = served.client.chats.create(model=MODEL)
    assert chat.send_message("Hi there").text == "Hello! I am a scripted assistant. What is your name?"
    assert chat.send_message("My name is Ada.").text == "Nice to meet you, Ada. Ask me anything."
    chunks = list(chat.send_message_stream("What is six times seven?"))
    assert len(chunks) > 1
    answer = "".join(c.text or "" for c in chunks)
    assert answer == "You asked: What is six times seven? I only know my script, so the answer is 42."
    curated = chat.get_history(curated=True)
    assert [role for role, _ in _texts(curated)[:4]] == ["user", "model", "user", "model"]
    assert _texts(curated)[3] == ("model", "Nice to meet you, Ada. Ask me anything.")
    assert "".join(text for role, text in _texts(curated)[5:]) == answer  # one model Content per chunk
    # Nothing of the script is left: each of its three rules (each answers once) answered one request.
    assert [(e["reply"]["status"], e["reply"]["text"]) for e in served.journal()] == [
        (200, "Hello! I am a scripted assistant. What is your name?"),
        (200, "Nice to meet you, Ada. Ask me anything."),
        (200, answer),
    ]
    with pytest.raises(genai.errors.ClientError) as caught:
        chat.send_message("A fourth question")
    assert caught.value.code == 400 and caught.value.status == "FAILED_PRECONDITION"
    message = caught.value.message or ""
    assert 'Scenario "chat"' in message and "A fourth question" in message
    assert len(chat.get_history()) == len(curated)  # the failed turn is not recorded


@pytest.mark.flavours("developer", "vertex")
def test_async_chat_plays_the_same_script(serve: Serve) -> None:
    served = serve("chat.yaml")

    async def run() -> list[str]:
        chat = served.client.aio.chats.create(model=MODEL)
        first = (await chat.send_message("Hello")).text or ""
        second = (await chat.send_message("my name is Grace")).text or ""
        stream = await chat.send_message_stream("Why?")
        third = "".join([c.text or "" async for c in stream])
        return [first, second, third]

    first, second, third = asyncio.run(run())
    assert first.startswith("Hello! I am a scripted assistant")
    assert second == "Nice to meet you, Grace. Ask me anything."
    assert third.startswith("You asked: Why?")


def test_scripted_tool_call_then_text_with_a_manual_function_response(serve: Serve) -> None:
    client = serve("weather_tools.yaml").client
    chat = client.chats.create(model=MODEL, config=types.GenerateContentConfig(tools=[WEATHER_TOOL]))
    response = chat.send_message("What is the weather in Paris?")
    assert response.text is None
    [function_call] = response.function_calls or []
    assert function_call.name == "get_weather" and function_call.args == {"city": "Paris"}
    result = types.Part.from_function_response(name="get_weather", response={"result": "sunny and 21 °C"})
    final = chat.send_message(result)
    assert final.text == "In Paris it is sunny and 21 °C."
    roles = [c.role for c in chat.get_history(curated=True)]
    assert roles == ["user", "model", "user", "model"]


@pytest.mark.flavours("developer", "vertex")
def test_scripted_tool_call_with_automatic_function_calling(serve: Serve) -> None:
    client = serve("weather_tools.yaml").client
    asked: list[str] = []

    def get_weather(city: str) -> str:
        """Current weather in a city."""
        asked.append(city)
        return f"foggy in {city.upper()}"

    response = client.models.generate_content(
        model=MODEL, contents="weather in Rome", config=types.GenerateContentConfig(tools=[get_weather])
    )
    assert asked == ["Rome"]
    assert response.text == "In Rome it is foggy in ROME."
    assert len(response.automatic_function_calling_history or []) == 3


@pytest.mark.flavours("developer", "vertex")
def test_structured_output_is_parsed_into_a_pydantic_model(serve: Serve) -> None:
    class Recipe(BaseModel):
        name: str
        minutes: int
        ingredients: list[str]

    client = serve("structured.yaml").client
    config = types.GenerateContentConfig(response_mime_type="application/json", response_schema=Recipe)
    response = client.models.generate_content(model=MODEL, contents="A recipe for pancakes, please", config=config)
    assert isinstance(response.parsed, Recipe)
    assert response.parsed == Recipe(name="pancakes", minutes=20, ingredients=["flour", "milk", "eggs"])
    with pytest.raises(genai.errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents="A recipe for pancakes, please")
    assert caught.value.status == "FAILED_PRECONDITION" and "no rule matched" in (caught.value.message or "")


def test_blocked_prompt_has_no_text_and_leaves_the_curated_history(serve: Serve) -> None:
    client = serve("blocked.yaml").client
    response = client.models.generate_content(model=MODEL, contents="Something forbidden")
    assert response.text is None and not response.candidates
    assert response.prompt_feedback is not None
    assert response.prompt_feedback.block_reason == types.BlockedReason.SAFETY
    chat = client.chats.create(model=MODEL)
    chat.send_message("A harmless question")
    before = chat.get_history(curated=True)
    blocked = chat.send_message("Tell me the FORBIDDEN thing")
    assert blocked.text is None
    assert chat.get_history(curated=True) == before
    assert [c.role for c in chat.get_history()] == ["user", "model", "user", "model"]


def test_blocked_prompt_while_streaming(serve: Serve) -> None:
    client = serve("blocked.yaml").client
    [chunk] = list(client.models.generate_content_stream(model=MODEL, contents="forbidden"))
    assert chunk.prompt_feedback is not None and chunk.prompt_feedback.block_reason == types.BlockedReason.SAFETY


def test_scripted_429_surfaces_with_retry_info(serve: Serve) -> None:
    client = serve("rate_limited.yaml").client
    with pytest.raises(genai.errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents="hello")
    error = caught.value
    assert (error.code, error.status) == (429, "RESOURCE_EXHAUSTED")
    details = {d["@type"].rsplit(".", 1)[1]: d for d in error.details["error"]["details"]}
    assert details["RetryInfo"]["retryDelay"] == "3s"
    assert details["QuotaFailure"]["violations"][0]["quotaDimensions"]["model"] == MODEL
    assert list(details) == ["QuotaFailure", "Help", "RetryInfo"]


def test_sdk_retries_through_scripted_429s(serve: Serve) -> None:
    served = serve("rate_limited.yaml")
    retry = types.HttpRetryOptions(attempts=3, initial_delay=0.01, max_delay=0.02, jitter=0)
    client = genai.Client(api_key=served.key, http_options=types.HttpOptions(base_url=served.url, retry_options=retry))
    response = client.models.generate_content(model=MODEL, contents="hello")
    assert response.text == "Finally through, after 3 requests."
    assert [e["reply"]["status"] for e in served.journal()] == [429, 429, 200]


@pytest.mark.flavours("developer", "vertex")
def test_mid_stream_error_after_earlier_chunks(serve: Serve) -> None:
    client = serve("midstream_failure.yaml").client
    chat = client.chats.create(model=MODEL)
    received: list[str] = []
    with pytest.raises(genai.errors.ServerError) as caught:
        for chunk in chat.send_message_stream("Tell me a story"):
            received.append(chunk.text or "")
    assert caught.value.code == 503 and caught.value.status == "UNAVAILABLE"
    assert received == ["This answer starts ", "streaming normally and "]
    assert chat.get_history() == []
    assert chat.send_message("Try again").text == "Second time lucky, the whole answer arrives."


def test_async_mid_stream_error(serve: Serve) -> None:
    client = serve("midstream_failure.yaml").client

    async def run() -> list[str]:
        received: list[str] = []
        stream = await client.aio.models.generate_content_stream(model=MODEL, contents="Tell me a story")
        async for chunk in stream:
            received.append(chunk.text or "")
        return received

    with pytest.raises(genai.errors.ServerError):
        asyncio.run(run())


@pytest.mark.parametrize("include", [True, False])
def test_thought_parts_only_with_include_thoughts(serve: Serve, include: bool) -> None:
    client = serve("thinking.yaml").client
    config = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(include_thoughts=include))
    response = client.models.generate_content(model=MODEL, contents="Pick a number", config=config)
    assert response.text == "Seven."
    parts = response.candidates[0].content.parts  # type: ignore[index, union-attr]
    assert [bool(p.thought) for p in parts] == ([True, False] if include else [False])  # type: ignore[union-attr]
    usage = response.usage_metadata
    assert usage is not None and usage.thoughts_token_count
    assert usage.total_token_count == (usage.prompt_token_count or 0) + (usage.candidates_token_count or 0) + (
        usage.thoughts_token_count
    )
    streamed = list(client.models.generate_content_stream(model=MODEL, contents="Again", config=config))
    thought_first = streamed[0].candidates[0].content.parts[0].thought  # type: ignore[index, union-attr]
    assert bool(thought_first) is include
    assert "".join(c.text or "" for c in streamed) == "Seven."


def test_scripted_tool_round_trip_on_a_signing_model(serve: Serve) -> None:
    """On Gemini-3-like models the server signs the scripted call; the SDK's replay must verify."""
    client = serve("weather_tools.yaml").client
    chat = client.chats.create(model="gemini-3-flash-preview", config=types.GenerateContentConfig(tools=[WEATHER_TOOL]))
    response = chat.send_message("weather in Lima")
    part = response.candidates[0].content.parts[0]  # type: ignore[index, union-attr]
    assert part.function_call is not None and part.thought_signature
    result = types.Part.from_function_response(name="get_weather", response={"result": "mild"})
    assert chat.send_message(result).text == "In Lima it is mild."


def test_code_and_media_parts_reach_the_sdk_types(serve: Serve) -> None:
    png = b"\x89PNG\r\n\x1a\n"
    parts = [
        {"executable_code": {"code": "print(6 * 7)"}},
        {"code_execution_result": {"output": "42"}},
        {"inline_data": {"mime_type": "image/png", "data": base64.urlsafe_b64encode(png).decode()}},
        "The answer is 42.",
    ]
    client = serve({"name": "code", "rules": [{"reply": {"parts": parts}}]}).client
    response = client.models.generate_content(model=MODEL, contents="compute")
    assert response.executable_code == "print(6 * 7)" and response.code_execution_result == "42"
    blob = response.candidates[0].content.parts[2].inline_data  # type: ignore[index, union-attr]
    assert blob is not None and (blob.mime_type, blob.data) == ("image/png", png)
    assert response.text == "The answer is 42."
