"""What the default model reads from a request on every call: the prompt's token split by modality
(:func:`emulator.wire.tokens.prompt_usage`) and where the conversation stands
(:func:`emulator.generation.function_calls.progress`). Both take short paths for the usual chat, so
these pin the unusual shapes: media before text, media without data, tools alone, function rounds."""

from __future__ import annotations

import json

from emulator.generation.function_calls import progress
from emulator.wire.tokens import MEDIA_TOKENS, count_text, prompt_usage

PNG = {"inlineData": {"mimeType": "image/png", "data": "AA=="}}
PDF = {"fileData": {"mimeType": "application/pdf", "fileUri": "https://example.com/a.pdf"}}


def _details(*pairs: tuple[str, int]) -> list[dict[str, object]]:
    return [{"modality": m, "tokenCount": n} for m, n in pairs]


def test_modalities_are_listed_in_the_order_first_met() -> None:
    media_first = {"contents": [{"role": "user", "parts": [PNG, {"text": "hi there"}, PDF]}]}
    assert prompt_usage(media_first) == (
        2 + 2 * MEDIA_TOKENS,
        _details(("IMAGE", MEDIA_TOKENS), ("TEXT", 2), ("DOCUMENT", MEDIA_TOKENS)),
    )
    text_first = {"contents": [{"parts": [{"text": "hi"}]}, {"parts": [PDF]}], "systemInstruction": {"parts": [PNG]}}
    assert prompt_usage(text_first) == (
        1 + 2 * MEDIA_TOKENS,
        _details(("TEXT", 1), ("DOCUMENT", MEDIA_TOKENS), ("IMAGE", MEDIA_TOKENS)),
    )


def test_tools_count_as_text_after_the_media_they_follow() -> None:
    tools = [{"functionDeclarations": [{"name": "f"}]}]
    tools_tokens = count_text(json.dumps(tools, sort_keys=True))
    body = {"contents": [{"role": "user", "parts": [PNG]}], "tools": tools}
    assert prompt_usage(body) == (
        MEDIA_TOKENS + tools_tokens,
        _details(("IMAGE", MEDIA_TOKENS), ("TEXT", tools_tokens)),
    )


def test_media_without_data_and_empty_prompts_count_as_text() -> None:
    assert prompt_usage({"contents": [{"parts": [{"inlineData": {}}]}]}) == (
        MEDIA_TOKENS,
        _details(("TEXT", MEDIA_TOKENS)),
    )
    call = {"functionCall": {"name": "f", "args": {}}}
    assert prompt_usage({"contents": [{"role": "model", "parts": [call]}]})[1] == _details(
        ("TEXT", count_text(json.dumps(call["functionCall"], sort_keys=True)))
    )
    assert prompt_usage({}) == (0, _details(("TEXT", 0)))


def _user(text: str) -> dict[str, object]:
    return {"role": "user", "parts": [{"text": text}]}


def _round(name: str, result: int) -> list[dict[str, object]]:
    return [
        {"role": "model", "parts": [{"functionCall": {"name": name, "args": {}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": name, "response": {"result": result}}}]},
    ]


def test_progress_of_a_chat_that_ends_with_the_prompt() -> None:
    state = progress([_user("first"), {"role": "model", "parts": [{"text": "ok"}]}, _user("second")])
    assert (state.prompt, state.rounds, state.results, state.awaiting) == ("second", 0, [], True)


def test_progress_collects_every_result_of_the_current_turn() -> None:
    state = progress([*_round("a", 0), _user("go"), *_round("b", 1), *_round("c", 2)])
    assert (state.prompt, state.rounds, state.awaiting) == ("go", 2, True)
    assert state.results == [{"name": "b", "response": {"result": 1}}, {"name": "c", "response": {"result": 2}}]


def test_progress_after_the_model_or_without_a_prompt() -> None:
    state = progress([_user("go"), *_round("a", 0), {"role": "model", "parts": [{"text": "done"}]}])
    assert (state.prompt, state.rounds, state.results, state.awaiting) == ("go", 1, [], False)
    state = progress(_round("a", 0)[1:])
    assert (state.prompt, state.rounds, state.awaiting) == ("", 1, True)
    assert state.results == [{"name": "a", "response": {"result": 0}}]
    assert progress([]) == progress([]) and progress([]).awaiting is False
