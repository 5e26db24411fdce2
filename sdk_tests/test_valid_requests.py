"""Property: every request the real service accepts, built with the SDK's own types, is accepted."""

from __future__ import annotations

from typing import Any

import harness
import pytest
from google import genai
from google.genai import types
from hypothesis import given
from hypothesis import strategies as st

MODELS = ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash", "gemini-3-flash-preview"]
words = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40).filter(str.strip)
names = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), words)
json_values = st.recursive(
    json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3), max_leaves=6
)


@st.composite
def text_part(draw: st.DrawFn) -> types.Part:
    if draw(st.integers(0, 5)) == 0:
        return types.Part.from_bytes(data=draw(st.binary(min_size=1, max_size=64)), mime_type="image/png")
    return types.Part(text=draw(words))


@st.composite
def exchange(draw: st.DrawFn) -> list[types.Content]:
    """A user turn and what followed it: nothing, a text answer, or function calls and their responses."""
    turns = [types.Content(role="user", parts=draw(st.lists(text_part(), min_size=1, max_size=3)))]
    kind = draw(st.sampled_from(["none", "text", "calls"]))
    if kind == "text":
        turns.append(types.Content(role="model", parts=[types.Part(text=draw(words))]))
    elif kind == "calls":
        called = draw(st.lists(names, min_size=1, max_size=3))
        args = [draw(st.dictionaries(names, json_values, max_size=3)) for _ in called]
        with_ids = draw(st.booleans())
        turns.append(
            types.Content(
                role="model",
                parts=[
                    types.Part(function_call=types.FunctionCall(name=n, args=a, id=f"c{i}" if with_ids else None))
                    for i, (n, a) in enumerate(zip(called, args, strict=False))
                ],
            )
        )
        turns.append(
            types.Content(
                role="user",
                parts=[
                    types.Part(function_response=types.FunctionResponse(name=n, response={"result": draw(json_values)}))
                    for n in called
                ],
            )
        )
        turns.append(types.Content(role="model", parts=[types.Part(text=draw(words))]))
    return turns


@st.composite
def contents(draw: st.DrawFn) -> list[types.Content]:
    history = [turn for ex in draw(st.lists(exchange(), min_size=0, max_size=3)) for turn in ex]
    last = types.Content(role="user", parts=draw(st.lists(text_part(), min_size=1, max_size=2)))
    return [*history, last]


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


configs = st.builds(
    types.GenerateContentConfig,
    temperature=maybe(st.floats(0, 2)),
    top_p=maybe(st.floats(0, 1)),
    top_k=maybe(st.integers(1, 40)),
    candidate_count=maybe(st.integers(1, 4)),
    max_output_tokens=maybe(st.integers(1, 8192)),
    stop_sequences=maybe(st.lists(words, max_size=3)),
    seed=maybe(st.integers(0, 2**31 - 1)),
    presence_penalty=maybe(st.floats(-1.9, 1.9)),
    frequency_penalty=maybe(st.floats(-1.9, 1.9)),
    system_instruction=maybe(words),
    response_mime_type=maybe(st.sampled_from(["text/plain", "application/json"])),
    thinking_config=maybe(
        st.builds(
            types.ThinkingConfig, include_thoughts=maybe(st.booleans()), thinking_budget=maybe(st.integers(0, 4096))
        )
    ),
    safety_settings=maybe(
        st.lists(
            st.builds(
                types.SafetySetting,
                category=st.sampled_from(
                    [
                        types.HarmCategory.HARM_CATEGORY_HARASSMENT,
                        types.HarmCategory.HARM_CATEGORY_HATE_SPEECH,
                        types.HarmCategory.HARM_CATEGORY_DANGEROUS_CONTENT,
                    ]
                ),
                threshold=st.sampled_from(
                    [
                        types.HarmBlockThreshold.BLOCK_NONE,
                        types.HarmBlockThreshold.BLOCK_ONLY_HIGH,
                        types.HarmBlockThreshold.OFF,
                    ]
                ),
            ),
            max_size=2,
        )
    ),
    tools=maybe(
        st.lists(
            st.builds(
                types.Tool,
                function_declarations=st.lists(
                    st.builds(
                        types.FunctionDeclaration,
                        name=names,
                        description=maybe(words),
                        parameters_json_schema=st.just({"type": "object", "properties": {"q": {"type": "string"}}}),
                    ),
                    min_size=1,
                    max_size=2,
                ),
            ),
            max_size=1,
        )
    ),
    tool_config=maybe(
        st.builds(
            types.ToolConfig,
            function_calling_config=st.builds(types.FunctionCallingConfig, mode=st.sampled_from(["AUTO", "NONE"])),
        )
    ),
)


@pytest.fixture(scope="module")
def module_key() -> str:
    """One key for every example (they need no context of their own)."""
    return harness.key(__name__)


@given(model=st.sampled_from(MODELS), contents=contents(), config=maybe(configs), beta=st.booleans())
def test_every_valid_request_is_accepted(
    emulator_url: str,
    module_key: str,
    model: str,
    contents: list[types.Content],
    config: types.GenerateContentConfig | None,
    beta: bool,
) -> None:
    options = types.HttpOptions(base_url=emulator_url, api_version="v1beta" if beta else None)
    client = genai.Client(api_key=module_key, http_options=options)
    response = client.models.generate_content(model=model, contents=contents, config=config)
    assert response.candidates is not None
