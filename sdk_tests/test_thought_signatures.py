"""Gemini-3-like models sign their function calls and reject a current turn that lost a signature."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import harness
import pytest
from google import genai
from google.genai import types

SIGNED = "gemini-3-flash-preview"
UNSIGNED = "gemini-2.5-flash"
MSG_CORRUPTED = "Corrupted thought signature."  # the real service's words
# Every model turn calls get_weather twice (the server signs the first call of the turn, on signing models
# only); once the results come back, the answer quotes the latest.
WEATHER_MODEL = {
    "name": "weather model",
    "rules": [
        {
            "name": "results",
            "when": {"function_response": "get_weather"},
            "times": "unlimited",
            "reply": "Results: {{ function_response.get_weather.result }}",
        },
        {
            "name": "two calls",
            "times": "unlimited",
            "reply": {
                "parts": [
                    {"function_call": {"name": "get_weather", "args": {"city": "Paris"}, "id": "call0001"}},
                    {"function_call": {"name": "get_weather", "args": {"city": "Rome"}, "id": "call0002"}},
                ]
            },
        },
    ],
}


class Signing:
    """A client whose context plays the weather model, and that context's journal."""

    def __init__(self, url: str) -> None:
        self.url, self.key = url, harness.key(__name__)
        harness.control(url, self.key, "PUT", "scenario", WEATHER_MODEL)
        self.client = genai.Client(api_key=self.key, http_options={"base_url": url})

    def journal(self) -> list[dict[str, Any]]:
        return harness.journal(self.url, self.key)


@pytest.fixture(scope="module")
def signing(emulator_url: str) -> Iterator[Signing]:
    yield Signing(emulator_url)


@pytest.fixture
def client(signing: Signing) -> genai.Client:
    return signing.client


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


def test_automatic_function_calling_echoes_signatures_and_passes(signing: Signing) -> None:
    client = signing.client
    config = types.GenerateContentConfig(tools=[get_weather])
    response = client.models.generate_content(model=SIGNED, contents="weather?", config=config)
    assert response.text == "Results: sunny in Rome"
    # Both results went back, after the calls with the signature the server gave the first one.
    sent = signing.journal()[-1]["request"]["contents"]
    assert [p["functionResponse"]["response"] for p in sent[-1]["parts"]] == [
        {"result": "sunny in Paris"},
        {"result": "sunny in Rome"},
    ]
    assert [bool(p.get("thoughtSignature")) for p in sent[-2]["parts"]] == [True, False]
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
    assert client.models.generate_content(model=UNSIGNED, contents=_history(None)).text


def _issued(client: genai.Client) -> bytes:
    """The signature the server gave the Paris call (call0001), the one ``_history`` replays."""
    first = client.models.generate_content(model=SIGNED, contents="weather?").candidates[0].content.parts[0]
    assert first.function_call.id == "call0001" and first.thought_signature
    return first.thought_signature


def test_an_altered_signature_is_corrupted(client: genai.Client, emulator_url: str) -> None:
    """The signature given comes back and passes; altered, on another call, or in another context (a
    signature is bound to the caller's context), it is corrupted."""
    issued = _issued(client)
    assert client.models.generate_content(model=SIGNED, contents=_history(issued)).text
    altered = issued[:-1] + bytes([issued[-1] ^ 1])
    with pytest.raises(genai.errors.ClientError) as caught:
        client.models.generate_content(model=SIGNED, contents=_history(altered))
    assert (caught.value.code, caught.value.status, caught.value.message) == (400, "INVALID_ARGUMENT", MSG_CORRUPTED)
    elsewhere = _history(issued)
    call = elsewhere[1].parts[0].function_call
    call.id, call.args = "call0002", {"city": "Rome"}  # the Paris call's signature on the Rome call
    with pytest.raises(genai.errors.ClientError) as caught:
        client.models.generate_content(model=SIGNED, contents=elsewhere)
    assert caught.value.message == MSG_CORRUPTED
    other = Signing(emulator_url)  # the same model, on another key
    with pytest.raises(genai.errors.ClientError) as caught:
        other.client.models.generate_content(model=SIGNED, contents=_history(issued))
    assert caught.value.message == MSG_CORRUPTED


def test_signatures_on_earlier_turns_are_optional(client: genai.Client) -> None:
    history = [*_history(None), types.Content(role="model", parts=[types.Part(text="It is sunny.")])]
    history.append(types.Content(role="user", parts=[types.Part(text="thanks")]))
    assert client.models.generate_content(model=SIGNED, contents=history).candidates
