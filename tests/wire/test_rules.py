"""The semantic stage of request validation (rules): what a well-typed request may still get wrong.

Bodies go through validate.parse_request, so they are checked the way the server checks them;
expected texts are the real service's (protocol brief §4.3), written out in full.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.wire import errors, rules, validate
from emulator.wire.call import Operation
from emulator.wire.catalogue import Catalogue, ModelInfo, Traits
from emulator.wire.flavour import Flavour

CATALOGUE = Catalogue.load()
GENERATE, STREAM, COUNT = Operation.GENERATE, Operation.STREAM, Operation.COUNT_TOKENS
DEVELOPER, VERTEX = Flavour.DEVELOPER, Flavour.VERTEX


def model(name: str = "gemini-2.5-flash") -> ModelInfo:
    found = CATALOGUE.get(name)
    assert found is not None
    return found


def user(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "parts": list(parts)}


def bot(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"role": "model", "parts": list(parts)}


def text(value: str = "hi") -> dict[str, Any]:
    return {"text": value}


def call(name: str = "f", **extra: Any) -> dict[str, Any]:
    return {"functionCall": {"name": name, "args": {}, **extra}}


def response(name: str = "f", **extra: Any) -> dict[str, Any]:
    return {"functionResponse": {"name": name, "response": {"result": 1}, **extra}}


def accepted(
    raw: dict[str, Any], method: Operation = GENERATE, info: ModelInfo | None = None, flavour: Flavour = DEVELOPER
) -> dict[str, Any]:
    return validate.parse_request(method, raw, info or model(), flavour=flavour)


def refusal(
    raw: dict[str, Any], method: Operation = GENERATE, info: ModelInfo | None = None, flavour: Flavour = DEVELOPER
) -> str:
    with pytest.raises(errors.ApiError) as caught:
        validate.parse_request(method, raw, info or model(), flavour=flavour)
    error = caught.value
    assert (error.code, error.status, error.details) == (400, "INVALID_ARGUMENT", [])
    return error.message


# --------------------------------------------------------------------------------------------------
# Field-level checks: "* Request.path: text\n", all of them in one message


@pytest.mark.parametrize("raw", [{}, {"contents": []}, {"contents": None}, {"systemInstruction": {"parts": [text()]}}])
def test_contents_missing_or_empty(raw: dict[str, Any]) -> None:
    assert refusal(raw) == "* GenerateContentRequest.contents: contents is not specified\n"


@pytest.mark.parametrize("content", [{"role": "model", "parts": []}, {"role": "model"}, {}])
def test_a_content_without_parts(content: dict[str, Any]) -> None:
    raw = {"contents": [user(text()), content, user(text())]}
    assert refusal(raw) == "* GenerateContentRequest.contents[1].parts: contents.parts must not be empty.\n"


def test_a_part_without_data() -> None:
    raw = {"contents": [user(text()), bot(text()), user(text(), {})]}
    assert refusal(raw) == (
        "* GenerateContentRequest.contents[2].parts[1].data: required oneof field 'data' must have one "
        "initialized field\n"
    )


@pytest.mark.parametrize(
    "part",
    [{"thought": True, "thoughtSignature": "c2ln"}, {"thought": True}, {"videoMetadata": {"startOffset": "2s"}}],
    ids=["a replayed thought's signature", "a thought flag", "video metadata beside its media"],
)
def test_a_part_the_real_service_takes_without_data(part: dict[str, Any]) -> None:
    """Recorded: ruby_llm replays a thought summary's signature without its text (gemini-3-flash-preview,
    2.5-flash), pydantic-ai sends videoMetadata as a part of its own after the video (2.0-flash)."""
    accepted({"contents": [user(text()), bot(part, text()), user(text())]})
    media = {"inlineData": {"mimeType": "video/mp4", "data": "AAAA"}}
    accepted({"contents": [user(media, part if "videoMetadata" in part else text())]})


@pytest.mark.parametrize(("part", "key"), [(call(""), "function_call"), (response(""), "function_response")])
def test_an_empty_function_name(part: dict[str, Any], key: str) -> None:
    raw = {"contents": [user(text()), bot(call()), user(response()), user(part)]}
    assert refusal(raw) == f"* GenerateContentRequest.contents[3].parts[0].{key}.name: Name cannot be empty.\n"


def test_a_function_without_any_name() -> None:
    raw = {"contents": [user(text()), bot({"functionCall": {"args": {}}})]}
    assert refusal(raw) == "* GenerateContentRequest.contents[1].parts[0].function_call.name: Name cannot be empty.\n"


def test_field_violations_are_listed_together() -> None:
    raw = {"contents": [{"parts": []}, user({}), user(response(""))], "systemInstruction": {"parts": [{}]}}
    assert refusal(raw) == (
        "* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n"
        "* GenerateContentRequest.contents[1].parts[0].data: required oneof field 'data' must have one "
        "initialized field\n"
        "* GenerateContentRequest.contents[2].parts[0].function_response.name: Name cannot be empty.\n"
        "* GenerateContentRequest.system_instruction.parts[0].data: required oneof field 'data' must have one "
        "initialized field\n"
    )


def test_a_system_instruction_may_have_no_parts() -> None:
    accepted({"contents": [user(text())], "systemInstruction": {"role": "user"}})


# --------------------------------------------------------------------------------------------------
# Roles and text


@pytest.mark.parametrize("role", ["system", "assistant", "tool", "USER", "Model"])
def test_a_bad_role(role: str) -> None:
    raw = {"contents": [user(text()), {"role": role, "parts": [text()]}]}
    assert refusal(raw) == "Please use a valid role: user, model."


@pytest.mark.parametrize(
    "content", [{"parts": [text()]}, {"role": "", "parts": [text()]}, {"role": None, "parts": [text()]}]
)
def test_an_omitted_role_is_a_user_turn(content: dict[str, Any]) -> None:
    accepted({"contents": [content]})
    accepted({"contents": [user(text()), bot(call()), {**content, "parts": [response()]}]})


def test_the_function_role_answers_calls_as_the_user_side() -> None:
    """Recorded (ruby_llm, 219 contents): ``role: function`` carries the function responses, and the model
    may call again after it."""
    function = {"role": "function", "parts": [response()]}
    accepted({"contents": [user(text()), bot(call()), function]})
    accepted({"contents": [user(text()), bot(call()), function, bot(call()), function, bot(text())]})
    assert refusal({"contents": [user(text()), function]}) == AFTER_CALL


EMPTY_TEXT = (
    "Unable to submit request because it has an empty text parameter. Add a value to the parameter and try again. "
    "Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini"
)


@pytest.mark.parametrize(
    "raw",
    [
        {"contents": [user(text(""))]},
        {"contents": [user(text("a"), text(""))]},
        {"contents": [user(text()), bot(text("")), user(text())]},
        {"contents": [user(text())], "systemInstruction": {"parts": [text("")]}},
    ],
)
def test_an_empty_text_is_refused_by_vertex_only(raw: dict[str, Any]) -> None:
    """The Developer API accepts ``{"text": ""}`` (recorded: a user's empty prompt, an empty model answer,
    on 1.5-flash, 2.5-flash and 3-flash-preview); the refusal is Vertex AI's wording."""
    assert refusal(raw, flavour=VERTEX) == EMPTY_TEXT
    accepted(raw)


def test_an_empty_text_with_a_thought_signature_is_accepted() -> None:
    """Gemini 3 ends a stream with a signed empty text part; the SDK sends it back as it came."""
    history = [
        user(text()),
        bot(text("Hel")),
        bot(text("lo")),
        bot({"text": "", "thoughtSignature": "c2ln"}),
        user(text()),
    ]
    assert accepted({"contents": history})["contents"][3]["parts"][0] == {"text": "", "thoughtSignature": "c2ln"}


def test_whitespace_is_not_empty_text() -> None:
    accepted({"contents": [user(text(" \n"))]})


# --------------------------------------------------------------------------------------------------
# Function-call turns

AFTER_CALL = "Please ensure that function response turn comes immediately after a function call turn."
AFTER_USER = (
    "Please ensure that function call turn comes immediately after a user turn or after a function response turn."
)
COUNTS = (
    "Please ensure that the number of function response parts is equal to the number of function call parts of "
    "the function call turn."
)


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        ([user(response())], AFTER_CALL),
        ([user(text()), user(response())], AFTER_CALL),
        ([user(text()), bot(text("no call")), user(response())], AFTER_CALL),
        ([user(text()), bot(call()), user(response()), user(response())], AFTER_CALL),
        ([user(text()), bot(call(), response())], AFTER_CALL),
        ([user(text()), bot(call(), call("g")), user(response())], COUNTS),
        ([user(text()), bot(call()), user(response(), response())], COUNTS),
        ([bot(call()), user(response())], AFTER_USER),
        ([bot(text("hello")), bot(call())], AFTER_USER),
        (
            [
                user(text()),
                bot(call()),
                user(response()),
                bot(text()),
                user(text()),
                bot(call(), call("g")),
                user(response()),
            ],
            COUNTS,
        ),
    ],
)
@pytest.mark.parametrize("tail", [[], [user(text("next"))], [user(text()), bot(text()), user(text())]])
def test_function_turn_order_and_counts(
    contents: list[dict[str, Any]], message: str, tail: list[dict[str, Any]]
) -> None:
    """Turns after the offending one change nothing."""
    assert refusal({"contents": [*contents, *tail]}) == message


def test_a_well_formed_function_calling_exchange() -> None:
    contents = [
        user(text("Weather in Paris and Rome?")),
        bot({**call("w", id="a1"), "thoughtSignature": "c2ln"}, call("w", id="b2")),
        user(response("w", id="a1"), response("w", id="b2")),
        bot(call("w")),
        user(response("w")),
        bot(text("Sunny in both.")),
        user(text("Thanks")),
    ]
    accepted({"contents": contents})


def test_function_responses_without_ids_are_accepted() -> None:
    accepted(
        {"contents": [user(text()), bot(call("w", id="x1"), call("w", id="x2")), user(response("w"), response("w"))]}
    )


def test_consecutive_model_turns_are_one_turn() -> None:
    """A streamed answer comes back as one model Content per chunk; the calls of all of them are one call turn."""
    chunks = [bot(text("Let me check")), bot(call("a")), bot(call("b"), text("..."))]
    accepted({"contents": [user(text()), *chunks, user(response("a"), response("b"))]})
    accepted({"contents": [user(text()), bot(text("Hel")), bot(text("lo")), user(text()), bot(text("Hi"))]})
    assert refusal({"contents": [user(text()), *chunks, user(response("a"))]}) == COUNTS


def test_consecutive_user_turns_are_accepted() -> None:
    accepted({"contents": [user(text("a")), user(text("b")), bot(call()), user(response())]})


def test_a_history_may_end_with_a_call_turn() -> None:
    accepted({"contents": [user(text()), bot(call())]})


# --------------------------------------------------------------------------------------------------
# Ranges


def range_text(field: str, value: str, low: str, high: str) -> str:
    return (
        f"Unable to submit request because it has a {field} value of {value} but the supported range is from "
        f"{low} (inclusive) to {high} (exclusive). Update the value and try again."
    )


CUSTOM = ModelInfo(name="models/one-candidate", topK=40, outputTokenLimit=8192, emulator=Traits(max_candidate_count=1))


@pytest.mark.parametrize(
    ("config", "info", "message"),
    [
        ({"temperature": 2.5}, None, range_text("temperature", "2.5", "0", "2.0001")),
        ({"temperature": -0.1}, None, range_text("temperature", "-0.1", "0", "2.0001")),
        ({"temperature": 3}, None, range_text("temperature", "3", "0", "2.0001")),
        ({"topP": 1.5}, None, range_text("topP", "1.5", "0", "1.0001")),
        ({"topP": -1}, None, range_text("topP", "-1", "0", "1.0001")),
        ({"topK": 65}, None, range_text("topK", "65", "1", "65")),
        ({"topK": 50.0}, "gemini-2.0-flash", range_text("topK", "50", "1", "41")),
        ({"topK": 0}, None, range_text("topK", "0", "1", "65")),
        ({"candidateCount": 9}, None, range_text("candidateCount", "9", "1", "9")),
        ({"candidateCount": 0}, None, range_text("candidateCount", "0", "1", "9")),
        ({"candidateCount": 2}, CUSTOM, range_text("candidateCount", "2", "1", "2")),
        ({"maxOutputTokens": 70000}, None, range_text("maxOutputTokens", "70000", "1", "65537")),
        ({"maxOutputTokens": 8193}, "gemini-2.0-flash", range_text("maxOutputTokens", "8193", "1", "8193")),
        ({"maxOutputTokens": 0}, None, range_text("maxOutputTokens", "0", "1", "65537")),
    ],
)
def test_out_of_range(config: dict[str, Any], info: ModelInfo | str | None, message: str) -> None:
    chosen = model(info) if isinstance(info, str) else info
    raw = {"contents": [user(text())], "generationConfig": config}
    assert refusal(raw, info=chosen) == message
    assert refusal(raw, STREAM, info=chosen) == message


@pytest.mark.parametrize(
    ("config", "info"),
    [
        ({"temperature": 0, "topP": 0, "topK": 1, "candidateCount": 1, "maxOutputTokens": 1}, None),
        ({"temperature": 2.0, "topP": 1.0, "topK": 64, "candidateCount": 8, "maxOutputTokens": 65536}, None),
        ({"topK": 40.0, "maxOutputTokens": 8192}, "gemini-2.0-flash"),
        ({"candidateCount": 1}, CUSTOM),
        ({}, None),
    ],
)
def test_in_range_bounds_are_accepted(config: dict[str, Any], info: ModelInfo | str | None) -> None:
    chosen = model(info) if isinstance(info, str) else info
    assert accepted({"contents": [user(text())], "generationConfig": config}, info=chosen)["generationConfig"] == {
        k: (int(v) if k in ("topK", "candidateCount", "maxOutputTokens") else float(v)) for k, v in config.items()
    }


def test_the_first_range_offence_is_reported() -> None:
    raw = {"contents": [user(text())], "generationConfig": {"topK": 100, "temperature": 9}}
    assert refusal(raw) == range_text("temperature", "9", "0", "2.0001")


def test_field_checks_come_before_roles_and_ranges() -> None:
    raw = {"contents": [{"role": "bot", "parts": []}], "generationConfig": {"temperature": 9}}
    assert refusal(raw) == "* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n"
    raw = {"contents": [{"role": "bot", "parts": [text("")]}], "generationConfig": {"temperature": 9}}
    assert refusal(raw) == "Please use a valid role: user, model."


# --------------------------------------------------------------------------------------------------
# countTokens, embedContent, batchEmbedContents


def test_count_tokens_checks_its_contents() -> None:
    accepted({"contents": [user(text())]}, COUNT)
    assert refusal({"contents": []}, COUNT) == "* CountTokensRequest.contents: contents is not specified\n"
    assert refusal({"contents": [user(text(""))]}, COUNT, flavour=VERTEX) == EMPTY_TEXT
    accepted({"contents": [user(text(""))]}, COUNT)
    assert refusal({"contents": [bot(call())]}, COUNT) == AFTER_USER


def test_count_tokens_checks_a_generate_content_request_with_its_path() -> None:
    inner = {"model": "models/gemini-2.5-flash", "contents": [user(text()), {"role": "model", "parts": []}]}
    assert refusal({"generateContentRequest": inner}, COUNT) == (
        "* CountTokensRequest.generate_content_request.contents[1].parts: contents.parts must not be empty.\n"
    )
    inner = {"model": "models/gemini-2.5-flash", "contents": [{"role": "system", "parts": [text()]}]}
    assert refusal({"generate_content_request": inner}, COUNT) == "Please use a valid role: user, model."
    accepted({"generateContentRequest": {"model": "models/x", "contents": [user(text())]}}, COUNT)


def test_count_tokens_does_not_check_ranges() -> None:
    accepted({"generateContentRequest": {"contents": [user(text())], "generationConfig": {"temperature": 9}}}, COUNT)


EMBED_MODEL = model("gemini-embedding-001")


def test_embed_content() -> None:
    accepted({"content": {"parts": [text()]}, "outputDimensionality": 3072}, Operation.EMBED, EMBED_MODEL)
    assert refusal({"content": {"parts": []}}, Operation.EMBED, EMBED_MODEL) == (
        "* EmbedContentRequest.content.parts: contents.parts must not be empty.\n"
    )
    assert (
        refusal({}, Operation.EMBED, EMBED_MODEL)
        == "* EmbedContentRequest.content.parts: contents.parts must not be empty.\n"
    )
    assert refusal(
        {"content": {"parts": [text()]}, "outputDimensionality": 3073}, Operation.EMBED, EMBED_MODEL
    ) == range_text("outputDimensionality", "3073", "1", "3073")
    assert refusal(
        {"content": {"parts": [text()]}, "outputDimensionality": 0}, Operation.EMBED, EMBED_MODEL
    ) == range_text("outputDimensionality", "0", "1", "3073")


def test_batch_embed_contents() -> None:
    one = {"model": "models/gemini-embedding-001", "content": {"parts": [text()]}}
    accepted({"requests": [one, one]}, Operation.BATCH_EMBED, EMBED_MODEL)
    assert refusal({"requests": []}, Operation.BATCH_EMBED, EMBED_MODEL) == (
        "* BatchEmbedContentsRequest.requests: requests is not specified\n"
    )
    assert refusal({"requests": [one, {"content": {}}]}, Operation.BATCH_EMBED, EMBED_MODEL) == (
        "* BatchEmbedContentsRequest.requests[1].content.parts: contents.parts must not be empty.\n"
    )
    small = {**one, "outputDimensionality": 769}
    assert refusal({"requests": [small]}, Operation.BATCH_EMBED, model("text-embedding-004")) == range_text(
        "outputDimensionality", "769", "1", "769"
    )


# --------------------------------------------------------------------------------------------------
# The one-pass shortcut agrees with the rules


# Mostly valid parts and roles, so that bodies are often one offence away from valid.
PARTS = (
    [text("a")] * 4
    + [call("f")] * 3
    + [response("f")] * 3
    + [
        text(""),
        text(" "),
        {"text": "", "thoughtSignature": "c2ln"},
        call(""),
        response(""),
        {"inlineData": {"mimeType": "image/png", "data": "AA=="}},
        {"thought": True},
        {},
    ]
)
CONTENTS = st.lists(
    st.fixed_dictionaries(
        {"parts": st.lists(st.sampled_from(PARTS), min_size=0, max_size=3)},
        optional={"role": st.sampled_from(["user"] * 4 + ["model"] * 4 + ["", "system"])},
    ),
    max_size=8,
)
CONFIG = st.fixed_dictionaries(
    {},
    optional={
        "temperature": st.sampled_from([0.0, 1.0, 2.0, 2.5, -1.0]),
        "topP": st.sampled_from([0.0, 1.0, 1.5]),
        "topK": st.sampled_from([0, 1, 40, 64, 65]),
        "candidateCount": st.sampled_from([0, 1, 8, 9]),
        "maxOutputTokens": st.sampled_from([0, 1, 65536, 65537]),
    },
)


@settings(max_examples=1500, deadline=None)
@given(
    contents=CONTENTS,
    config=CONFIG,
    system=st.one_of(st.none(), st.builds(lambda p: {"parts": p}, st.lists(st.sampled_from(PARTS), max_size=2))),
    method=st.sampled_from([GENERATE, STREAM, COUNT]),
    flavour=st.sampled_from([DEVELOPER, VERTEX]),
)
def test_the_shortcut_passes_only_what_every_rule_passes(
    contents: list[dict[str, Any]],
    config: dict[str, Any],
    system: dict[str, Any] | None,
    method: Operation,
    flavour: Flavour,
) -> None:
    body: dict[str, Any] = {"contents": contents}
    if config:
        body["generationConfig"] = config
    if system is not None:
        body["systemInstruction"] = system
    info = model()
    first = next((e for rule in rules.RULES[flavour][method] if (e := rule(body, info, method)) is not None), None)
    ranged = method is not COUNT
    if rules._clean(body, info, ranged, flavour is VERTEX):
        assert first is None
    try:
        rules.check(method, body, info, flavour)
    except errors.ApiError as error:
        assert first is not None and error.message == first.message
    else:
        assert first is None


# --------------------------------------------------------------------------------------------------
# What a model family does not do (Profile.refuses): the real refusal names the model

SYSTEM = {"systemInstruction": {"parts": [text("Be brief.")]}}
DECLARATIONS = {"tools": [{"functionDeclarations": [{"name": "f"}]}]}
JSON_MODE = {"generationConfig": {"responseMimeType": "application/json"}}
CODE = {"tools": [{"codeExecution": {}}]}
SEARCH = {"tools": [{"googleSearch": {}}]}
URLS = {"tools": [{"urlContext": {}}]}
TWO = {"generationConfig": {"candidateCount": 2}}
RESOLUTION = {"generationConfig": {"mediaResolution": "MEDIA_RESOLUTION_LOW"}}
HISTORY = {"contents": [user(text()), bot(text("Hello.")), user(text("Say it again."))]}


@pytest.mark.parametrize(
    ("name", "extra", "start"),
    [
        ("gemma-3-27b-it", SYSTEM, "Developer instruction is not enabled"),
        ("gemma-3-27b-it", DECLARATIONS, "Function calling is not enabled"),
        ("gemma-3-12b-it", JSON_MODE, "JSON mode is not enabled"),
        ("gemma-3-27b-it", CODE, "Code execution is not enabled"),
        ("gemma-3-27b-it", TWO, "Multiple candidates is not enabled"),
        ("gemini-2.5-flash-image", SYSTEM, "Developer instruction is not enabled"),
        ("gemini-2.5-flash-image", DECLARATIONS, "Function calling is not enabled"),
        ("gemini-2.5-flash-image", SEARCH, "Search Grounding is not supported"),
        ("gemini-2.5-flash-image", URLS, "Url context is not supported"),
        ("gemini-2.5-flash-image-preview", TWO, "Multiple candidates is not enabled"),
        ("gemini-2.5-flash-image-preview", RESOLUTION, "Media resolution is not enabled"),
        ("gemini-2.5-flash-preview-tts", HISTORY, "Multiturn chat is not enabled"),
    ],
)
@pytest.mark.parametrize("method", [GENERATE, STREAM])
def test_a_family_refuses_what_its_models_do_not_do(
    name: str, extra: dict[str, Any], start: str, method: Operation
) -> None:
    raw = {"contents": [user(text())], **extra}
    assert refusal(raw, method, model(name)) == f"{start} for models/{name}"
    assert refusal(raw, method, model(name), VERTEX) == f"{start} for models/{name}"


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("gemini-2.5-flash", {**SYSTEM, **DECLARATIONS, **JSON_MODE, **TWO}),
        ("gemini-2.5-flash", HISTORY),
        ("gemini-3-pro-image-preview", {**SYSTEM, **SEARCH}),  # both answered 200 in the recordings
        ("gemini-2.5-flash-image", {"generationConfig": {"responseModalities": ["IMAGE"]}}),
        ("gemma-3-27b-it", {"generationConfig": {"responseMimeType": "text/plain", "candidateCount": 1}}),
        ("gemini-2.5-flash-preview-tts", {"generationConfig": {"responseModalities": ["AUDIO"]}}),
    ],
)
def test_what_a_family_does_is_accepted(name: str, extra: dict[str, Any]) -> None:
    accepted({"contents": [user(text())], **extra}, GENERATE, model(name))


def test_count_tokens_does_not_refuse_features() -> None:
    """countTokens counts what it is sent; the refusal belongs to generation."""
    accepted({"contents": HISTORY["contents"]}, COUNT, model("gemini-2.5-flash-preview-tts"))
