"""Gemini-3-like models sign their function calls and reject a current turn that lost a signature."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google import genai
from google.genai import types

from emulator import EmulatorThread
from emulator.backends.function import FunctionBackend, ModelContext, ModelRequest
from emulator.wire.signatures import MSG_CORRUPTED

SIGNED = "gemini-3-flash-preview"
UNSIGNED = "gemini-2.5-flash"


def weather_model(request: ModelRequest, context: ModelContext) -> list[types.Part] | str:
    last = request.contents[-1].parts or []
    if last and last[0].function_response:
        return "Results: " + ", ".join(str(p.function_response.response) for p in last if p.function_response)
    return [
        types.Part(function_call=types.FunctionCall(name="get_weather", args={"city": "Paris"}, id="call0001")),
        types.Part(function_call=types.FunctionCall(name="get_weather", args={"city": "Rome"}, id="call0002")),
    ]


@pytest.fixture(scope="module")
def client() -> Iterator[genai.Client]:
    with EmulatorThread(backend=FunctionBackend(weather_model)) as emu:
        yield genai.Client(api_key="signature-key", http_options={"base_url": emu.url})


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def test_first_call_of_a_turn_is_signed_and_only_on_gemini_3_like_models(client: genai.Client) -> None:
    parts = client.models.generate_content(model=SIGNED, contents="weather?").candidates[0].content.parts
    assert parts[0].thought_signature and parts[1].thought_signature is None
    plain = client.models.generate_content(model=UNSIGNED, contents="weather?").candidates[0].content.parts
    assert all(p.thought_signature is None for p in plain)
    streamed = [p for c in client.models.generate_content_stream(model=SIGNED, contents="weather?") for p in
                c.candidates[0].content.parts]  # fmt: skip
    assert [bool(p.thought_signature) for p in streamed if p.function_call] == [True, False]


def test_automatic_function_calling_echoes_signatures_and_passes(client: genai.Client) -> None:
    config = types.GenerateContentConfig(tools=[get_weather])
    response = client.models.generate_content(model=SIGNED, contents="weather?", config=config)
    assert "sunny in Paris" in (response.text or "") and "sunny in Rome" in (response.text or "")
    chat = client.chats.create(model=SIGNED, config=config)
    assert "sunny in Rome" in (chat.send_message("weather?").text or "")
    assert "sunny" in "".join(c.text or "" for c in chat.send_message_stream("and now?"))


def _history(signature: bytes | None) -> list[types.Content]:
    call = types.Part(function_call=types.FunctionCall(name="get_weather", args={"city": "Paris"}, id="call0001"))
    call.thought_signature = signature
    response = types.Part.from_function_response(name="get_weather", response={"result": "sunny"})
    return [
        types.Content(role="user", parts=[types.Part(text="weather?")]),
        types.Content(role="model", parts=[call]),
        types.Content(role="user", parts=[response]),
    ]


def test_a_rebuilt_history_without_the_signature_is_rejected(client: genai.Client) -> None:
    with pytest.raises(genai.errors.ClientError) as caught:
        client.models.generate_content(model=SIGNED, contents=_history(None))
    assert caught.value.code == 400 and caught.value.status == "INVALID_ARGUMENT"
    assert caught.value.message.startswith("Function call is missing a thought_signature in functionCall parts.")
    assert "function call `get_weather` , position 2." in caught.value.message
    with pytest.raises(genai.errors.ClientError) as caught:
        client.models.generate_content(model=SIGNED, contents=_history(b"forged signature"))
    assert caught.value.message == MSG_CORRUPTED
    assert client.models.generate_content(model=UNSIGNED, contents=_history(None)).text


def test_signatures_on_earlier_turns_are_optional(client: genai.Client) -> None:
    history = [*_history(None), types.Content(role="model", parts=[types.Part(text="It is sunny.")])]
    history.append(types.Content(role="user", parts=[types.Part(text="thanks")]))
    assert client.models.generate_content(model=SIGNED, contents=history).candidates
