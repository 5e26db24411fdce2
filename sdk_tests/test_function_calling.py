"""Function calling through the real SDK: manual declarations, automatic calling, modes, streams, async.

The default model calls functions by the prompt's wording: every declared name in the prompt is a
call, "then" starts the next round, a prompt naming none calls the first function.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from google import genai
from google.genai import types

MODEL = "gemini-2.5-flash"
pytestmark = pytest.mark.flavours("developer", "vertex")
ID = re.compile(r"[a-z0-9]{8}")


class Recorder:
    """Real Python tools that remember how the SDK called them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    # Not Literal["celsius", "fahrenheit"]: SDK 3.6.1 checks arguments with isinstance(value, annotation),
    # which raises for Literal (and fails for Enum), so such a tool always gets an error instead of a call.
    def get_weather(self, city: str, unit: str = "celsius") -> str:
        """The current weather in a city."""
        self.calls.append(("get_weather", {"city": city, "unit": unit}))
        assert isinstance(city, str) and isinstance(unit, str)
        return f"sunny in {city}, 21 degrees {unit}"

    def get_location(self) -> dict[str, str]:
        """Where the user is."""
        self.calls.append(("get_location", {}))
        return {"city": "Lisbon", "country": "Portugal"}

    def add(self, a: int, b: int) -> int:
        """Adds two whole numbers."""
        self.calls.append(("add", {"a": a, "b": b}))
        assert type(a) is int and type(b) is int  # the SDK turns integral floats back into ints
        return a + b

    def explode(self, reason: str) -> str:
        """Always fails."""
        self.calls.append(("explode", {"reason": reason}))
        raise RuntimeError("the tool broke down")

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


def afc_config(*functions: Any, **extra: Any) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(tools=list(functions), **extra)


WEATHER_DECL = types.FunctionDeclaration(
    name="get_weather",
    description="The current weather in a city.",
    parameters=types.Schema(
        type=types.Type.OBJECT,
        properties={
            "city": types.Schema(type=types.Type.STRING),
            "unit": types.Schema(type=types.Type.STRING, enum=["CELSIUS", "FAHRENHEIT"]),
            "days": types.Schema(type=types.Type.INTEGER, minimum=1, maximum=5),
        },
        required=["city", "unit", "days"],
    ),
)
TIME_DECL = types.FunctionDeclaration(
    name="get_time",
    description="The time in a timezone.",
    parameters_json_schema={
        "type": "object",
        "properties": {"tz": {"type": "string", "enum": ["UTC", "Europe/Lisbon"]}},
        "required": ["tz"],
    },
)
DECLARED = types.Tool(function_declarations=[WEATHER_DECL, TIME_DECL])


@pytest.mark.parametrize(
    ("model", "ids"), [(MODEL, False), ("gemini-3-flash-preview", True)], ids=["gemini-2.5", "gemini-3"]
)
def test_manual_declarations_then_sending_the_response_back(client: genai.Client, model: str, ids: bool) -> None:
    """Calls carry an ``id`` where the model's family sends one (gemini 3; gemini 2.5 calls have none, as
    the service's recordings show); the response goes back with the call's id, if any."""
    config = types.GenerateContentConfig(tools=[DECLARED])
    prompt = types.Content(role="user", parts=[types.Part(text="What's the weather? Use get_weather in fahrenheit.")])
    response = client.models.generate_content(model=model, contents=[prompt], config=config)
    assert response.text is None and response.function_calls
    (fc,) = response.function_calls
    assert fc.name == "get_weather"
    assert bool(fc.id and ID.fullmatch(fc.id)) if ids else fc.id is None
    assert fc.args and isinstance(fc.args["city"], str) and fc.args["unit"] == "FAHRENHEIT"
    assert 1 <= fc.args["days"] <= 5
    candidate = response.candidates[0]
    assert candidate.finish_reason == types.FinishReason.STOP
    usage = response.usage_metadata
    assert usage.candidates_token_count and usage.total_token_count == (
        usage.prompt_token_count + usage.candidates_token_count + (usage.thoughts_token_count or 0)
    )
    reply = types.Part.from_function_response(name=fc.name, response={"forecast": "light rain"})
    reply.function_response.id = fc.id
    history = [prompt, candidate.content, types.Content(role="user", parts=[reply])]
    final = client.models.generate_content(model=model, contents=history, config=config)
    assert final.function_calls is None and "light rain" in (final.text or "")


def test_the_same_request_makes_the_same_calls(client: genai.Client) -> None:
    config = types.GenerateContentConfig(tools=[DECLARED])
    first = client.models.generate_content(model=MODEL, contents="get_time and get_weather", config=config)
    second = client.models.generate_content(model=MODEL, contents="get_time and get_weather", config=config)
    assert first.function_calls == second.function_calls
    assert [c.name for c in first.function_calls or []] == ["get_time", "get_weather"]


def test_automatic_function_calling_single_call(client: genai.Client) -> None:
    tools = Recorder()
    response = client.models.generate_content(
        model=MODEL, contents="How is the weather in Lisbon?", config=afc_config(tools.get_weather)
    )
    assert tools.names() == ["get_weather"]
    city = tools.calls[0][1]["city"]
    assert f"sunny in {city}" in (response.text or "")
    history = response.automatic_function_calling_history or []
    assert [c.role for c in history] == ["user", "model", "user"]
    assert history[1].parts[0].function_call.name == "get_weather"
    assert history[2].parts[0].function_response.response == {
        "result": f"sunny in {city}, 21 degrees " + tools.calls[0][1]["unit"]
    }


def test_automatic_function_calling_parallel_calls(client: genai.Client) -> None:
    tools = Recorder()
    response = client.models.generate_content(
        model=MODEL,
        contents="Call get_weather for Paris, get_weather for Rome and sum the two temperatures with add.",
        config=afc_config(tools.get_weather, tools.add),
    )
    assert tools.names() == ["get_weather", "get_weather", "add"]
    a, b = tools.calls[2][1]["a"], tools.calls[2][1]["b"]
    text = response.text or ""
    assert text.count("get_weather returned") == 2 and f'add returned {{"result": {a + b}}}' in text
    history = response.automatic_function_calling_history or []
    assert len(history) == 3 and len(history[1].parts) == len(history[2].parts) == 3


def test_automatic_function_calling_two_rounds(client: genai.Client) -> None:
    tools = Recorder()
    response = client.models.generate_content(
        model=MODEL,
        contents="First get_location, then get_weather there.",
        config=afc_config(tools.get_location, tools.get_weather),
    )
    assert tools.names() == ["get_location", "get_weather"]
    text = response.text or ""
    assert "Lisbon" in text and "sunny in" in text
    history = response.automatic_function_calling_history or []
    assert [c.role for c in history] == ["user", "model", "user", "model", "user"]
    assert [history[i].parts[0].function_call.name for i in (1, 3)] == ["get_location", "get_weather"]
    assert history[2].parts[0].function_response.response == {"result": {"city": "Lisbon", "country": "Portugal"}}


def test_maximum_remote_calls_reached_returns_the_calls_unexecuted(client: genai.Client) -> None:
    tools = Recorder()
    config = afc_config(
        tools.get_weather, automatic_function_calling=types.AutomaticFunctionCallingConfig(maximum_remote_calls=1)
    )
    response = client.models.generate_content(model=MODEL, contents="weather please", config=config)
    assert tools.calls == [] and response.text is None
    assert [c.name for c in response.function_calls or []] == ["get_weather"]


def test_a_function_that_raises_sends_an_error_back(client: genai.Client) -> None:
    tools = Recorder()
    response = client.models.generate_content(model=MODEL, contents="explode", config=afc_config(tools.explode))
    assert tools.names() == ["explode"]
    # The SDK wraps the exception: "Failed to invoke function explode with converted arguments ...".
    text = response.text or ""
    assert 'explode returned {"error": "Failed to invoke function explode' in text and "the tool broke down" in text


def test_functions_without_parameters_are_called(client: genai.Client) -> None:
    tools = Recorder()
    response = client.models.generate_content(
        model=MODEL, contents="where am I?", config=afc_config(tools.get_location)
    )
    assert tools.calls == [("get_location", {})] and "Portugal" in (response.text or "")


def test_mode_any_with_allowed_names(client: genai.Client) -> None:
    config = types.GenerateContentConfig(
        tools=[DECLARED],
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(
                mode=types.FunctionCallingConfigMode.ANY, allowed_function_names=["get_time"]
            )
        ),
    )
    response = client.models.generate_content(model=MODEL, contents="get_weather in Paris", config=config)
    assert [c.name for c in response.function_calls or []] == ["get_time"]
    assert (response.function_calls or [])[0].args["tz"] in ("UTC", "Europe/Lisbon")


def test_mode_any_keeps_calling_until_the_remote_call_budget_is_spent(client: genai.Client) -> None:
    tools = Recorder()
    config = afc_config(
        tools.get_location,
        tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="ANY")),
        automatic_function_calling=types.AutomaticFunctionCallingConfig(maximum_remote_calls=3),
    )
    response = client.models.generate_content(model=MODEL, contents="get_location", config=config)
    assert tools.names() == ["get_location", "get_location"] and response.function_calls


def test_mode_none_answers_text(client: genai.Client) -> None:
    tools = Recorder()
    config = afc_config(
        tools.get_weather,
        tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="NONE")),
    )
    response = client.models.generate_content(model=MODEL, contents="get_weather in Oslo", config=config)
    assert tools.calls == [] and response.function_calls is None
    assert "get_weather in Oslo" in (response.text or "")


def test_stream_delivers_calls_whole_in_the_final_chunk(client: genai.Client) -> None:
    config = types.GenerateContentConfig(tools=[DECLARED])
    chunks = list(
        client.models.generate_content_stream(model=MODEL, contents="get_weather and get_time", config=config)
    )
    with_calls = [c for c in chunks if c.function_calls]
    assert with_calls == [chunks[-1]] and chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert [c.name for c in chunks[-1].function_calls or []] == ["get_weather", "get_time"]
    unary = client.models.generate_content(model=MODEL, contents="get_weather and get_time", config=config)
    assert chunks[-1].function_calls == unary.function_calls
    assert chunks[-1].usage_metadata.total_token_count == unary.usage_metadata.total_token_count


def test_stream_with_automatic_function_calling(client: genai.Client) -> None:
    tools = Recorder()
    chunks = list(
        client.models.generate_content_stream(
            model=MODEL,
            contents="get_location then get_weather",
            config=afc_config(
                tools.get_location, tools.get_weather, thinking_config=types.ThinkingConfig(include_thoughts=True)
            ),
        )
    )
    assert tools.names() == ["get_location", "get_weather"]
    text = "".join(c.text or "" for c in chunks)
    assert "Portugal" in text and "sunny in" in text
    assert [c.function_calls[0].name for c in chunks if c.function_calls] == ["get_location", "get_weather"]


def test_chat_with_automatic_function_calling_records_every_turn(client: genai.Client) -> None:
    tools = Recorder()
    chat = client.chats.create(model=MODEL, config=afc_config(tools.get_location, tools.get_weather))
    answer = chat.send_message("get_location then get_weather")
    assert tools.names() == ["get_location", "get_weather"] and "Lisbon" in (answer.text or "")
    roles = [c.role for c in chat.get_history()]
    assert roles == ["user", "model", "user", "model", "user", "model"]
    follow_up = chat.send_message("Thanks! And get_weather in Kyoto?")
    assert tools.names()[-1] == "get_weather" and "sunny in" in (follow_up.text or "")
    assert len(chat.get_history()) == 10


def test_chat_stream_with_automatic_function_calling(client: genai.Client) -> None:
    tools = Recorder()
    chat = client.chats.create(model=MODEL, config=afc_config(tools.get_weather))
    text = "".join(c.text or "" for c in chat.send_message_stream("get_weather for Quito"))
    assert tools.names() == ["get_weather"] and "sunny in" in text
    history = chat.get_history(curated=True)
    assert history[0].role == "user" and history[-1].role == "model"
    assert any(p.function_response for c in history for p in c.parts or [])
    assert chat.send_message("and tomorrow?").text


def test_async_forms(client: genai.Client) -> None:
    # Closures, not Recorder methods: the async SDK deep-copies the config, bound methods and their
    # instance included, so a method tool would record on a copy.
    seen: list[str] = []

    async def get_time(tz: str) -> str:
        """An async tool."""
        seen.append("get_time")
        return f"noon in {tz}"

    def get_weather(city: str) -> str:
        """A sync tool, which the async SDK runs in a thread."""
        seen.append("get_weather")
        return f"sunny in {city}"

    async def run() -> tuple[str | None, str, str | None, list[str]]:
        unary = await client.aio.models.generate_content(
            model=MODEL, contents="get_time then get_weather", config=afc_config(get_time, get_weather)
        )
        stream = await client.aio.models.generate_content_stream(
            model=MODEL, contents="get_weather and get_time", config=afc_config(get_time, get_weather)
        )
        streamed = "".join([c.text or "" async for c in stream])
        chat = client.aio.chats.create(model=MODEL, config=afc_config(get_time))
        chatted = (await chat.send_message("what time is it?")).text
        chat_stream = await chat.send_message_stream("get_time again")
        chunks = [c async for c in chat_stream]
        calls = [
            p.function_call.name
            for c in chunks
            if c.candidates
            for p in c.candidates[0].content.parts or []
            if p.function_call
        ]
        return unary.text, streamed, chatted, calls

    unary, streamed, chatted, calls = asyncio.run(run())
    assert "noon in" in (unary or "") and "sunny in" in (unary or "")
    assert "noon in" in streamed and "sunny in" in streamed
    assert "noon in" in (chatted or "") and calls == ["get_time"]
    assert seen == ["get_time", "get_weather", "get_weather", "get_time", "get_time", "get_time"]


def test_gemini_3_like_models_sign_the_calls_and_automatic_calling_completes(client: genai.Client) -> None:
    """The wire layer signs the default model's calls; the SDK echoes them, so every round is accepted."""
    tools = Recorder()
    config = afc_config(tools.get_location, tools.get_weather)
    response = client.models.generate_content(
        model="gemini-3-flash-preview", contents="get_location then get_weather and get_weather", config=config
    )
    assert tools.names() == ["get_location", "get_weather", "get_weather"] and "Portugal" in (response.text or "")
    turns = [c for c in response.automatic_function_calling_history or [] if c.role == "model"]
    assert [[bool(p.thought_signature) for p in c.parts or []] for c in turns] == [[True], [True, False]]


@pytest.mark.flavours()
def test_gemini_3_like_models_complete_automatic_calling_in_a_chat_stream(client: genai.Client) -> None:
    """The SDK sends the streamed call turn back whole: on the Developer API it ends with gemini 3's unsigned
    ``{"text": ""}`` chunk, which that API takes; Vertex AI refuses unsigned empty text (as the real one did
    for the Go SDK's streamed calls: googleapis/google-cloud-go#10309) and signs every closing text in its
    recordings, so there the call's chunk carries the finish."""
    tools = Recorder()
    chat = client.chats.create(model="gemini-3-flash-preview", config=afc_config(tools.get_weather))
    assert "sunny in" in "".join(c.text or "" for c in chat.send_message_stream("get_weather in Lima"))
    assert tools.names() == ["get_weather"]
