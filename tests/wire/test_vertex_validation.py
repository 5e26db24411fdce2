"""Vertex AI's request validation: its own schema (google.cloud.aiplatform.v1beta1), the same
canonical body as the Developer API's, and the rules where the two services differ.

The cases are written from what real Vertex AI traffic shows (snake_case fields answered 200,
``modelArmorConfig``, ``labels``, ``imageConfig.imageOutputOptions``, predict instances, the
token limit text) and from what the SDK's ``_to_vertex`` converters send or refuse.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import pytest
from google.protobuf import descriptor_pb2, json_format

from emulator.wire import errors, rules, validate, vertex_schema
from emulator.wire.call import Operation
from emulator.wire.catalogue import Catalogue, ModelInfo
from emulator.wire.flavour import Flavour

CATALOGUE = Catalogue.load()
DEVELOPER, VERTEX = Flavour.DEVELOPER, Flavour.VERTEX
GENERATE, COUNT, COMPUTE = Operation.GENERATE, Operation.COUNT_TOKENS, Operation.COMPUTE_TOKENS
EMBED, PREDICT = Operation.EMBED, Operation.PREDICT
HELLO = {"role": "user", "parts": [{"text": "Hello"}]}


def model(name: str = "gemini-2.5-flash") -> ModelInfo:
    found = CATALOGUE.get(name)
    assert found is not None
    return found


def accepted(
    raw: dict[str, Any], method: Operation = GENERATE, flavour: Flavour = VERTEX, name: str = "gemini-2.5-flash"
) -> dict[str, Any]:
    return validate.parse_request(method, raw, model(name), flavour=flavour)


def refusal(
    raw: dict[str, Any], method: Operation = GENERATE, flavour: Flavour = VERTEX, name: str = "gemini-2.5-flash"
) -> str:
    with pytest.raises(errors.ApiError) as caught:
        validate.parse_request(method, raw, model(name), flavour=flavour)
    assert caught.value.code == 400
    return caught.value.message


def unknown(name: str, at: str = "") -> str:
    where = f" at '{at}'" if at else ""
    return f'Invalid JSON payload received. Unknown name "{name}"{where}: Cannot find field.'


# --------------------------------------------------------------------------------------------------
# Fields only one API knows


VERTEX_ONLY_FIELDS = [
    pytest.param({"modelArmorConfig": {"promptTemplateName": "t"}}, unknown("modelArmorConfig"), id="modelArmorConfig"),
    pytest.param(
        {"generationConfig": {"routingConfig": {"autoMode": {"modelRoutingPreference": "BALANCED"}}}},
        unknown("routingConfig", "generation_config"),
        id="routingConfig",
    ),
    pytest.param(
        {
            "generationConfig": {
                "imageConfig": {"imageOutputOptions": {"mimeType": "image/jpeg", "compressionQuality": 75}}
            }
        },
        unknown("imageOutputOptions", "generation_config.image_config"),
        id="imageOutputOptions",
    ),
    pytest.param(
        {"generationConfig": {"audioTimestamp": True}},
        unknown("audioTimestamp", "generation_config"),
        id="audioTimestamp",
    ),
    pytest.param(
        {"safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE", "method": "SEVERITY"}]},
        unknown("method", "safety_settings[0]"),
        id="SafetySetting.method",
    ),
    pytest.param(
        {"tools": [{"retrieval": {"vertexAiSearch": {"datastore": "d"}}}]},
        unknown("retrieval", "tools[0]"),
        id="Tool.retrieval",
    ),
    pytest.param(
        {"tools": [{"enterpriseWebSearch": {}}]}, unknown("enterpriseWebSearch", "tools[0]"), id="enterpriseWebSearch"
    ),
    pytest.param(
        {"toolConfig": {"functionCallingConfig": {"mode": "AUTO", "streamFunctionCallArguments": True}}},
        unknown("streamFunctionCallArguments", "tool_config.function_calling_config"),
        id="streamFunctionCallArguments",
    ),
]


@pytest.mark.parametrize(("extra", "developer_says"), VERTEX_ONLY_FIELDS)
def test_a_vertex_only_field_is_taken_by_vertex_and_unknown_to_the_developer_api(
    extra: dict[str, Any], developer_says: str
) -> None:
    raw = {"contents": [HELLO], **extra}
    assert accepted(raw) == {"contents": [HELLO], **extra}
    assert refusal(raw, flavour=DEVELOPER) == developer_says


DEVELOPER_ONLY_FIELDS = [
    pytest.param({"store": True}, unknown("store"), id="store"),
    pytest.param(
        {"tools": [{"fileSearch": {"fileSearchStoreNames": ["s"]}}]}, unknown("fileSearch", "tools[0]"), id="fileSearch"
    ),
    pytest.param(
        {"toolConfig": {"includeServerSideToolInvocations": True}},
        unknown("includeServerSideToolInvocations", "tool_config"),
        id="includeServerSideToolInvocations",
    ),
    pytest.param(
        {"generationConfig": {"enableEnhancedCivicAnswers": True}},
        unknown("enableEnhancedCivicAnswers", "generation_config"),
        id="enableEnhancedCivicAnswers",
    ),
    pytest.param(
        {"contents": [{"role": "user", "parts": [{"toolCall": {"id": "1"}}]}]},
        unknown("toolCall", "contents[0].parts[0]"),
        id="Part.toolCall",
    ),
    pytest.param(
        {"contents": [{"role": "user", "parts": [{"text": "a", "mediaProcessing": "x"}]}]},
        unknown("mediaProcessing", "contents[0].parts[0]"),
        id="Part.mediaProcessing",
    ),
]


@pytest.mark.parametrize(("extra", "vertex_says"), DEVELOPER_ONLY_FIELDS)
def test_a_developer_only_field_is_unknown_to_vertex(extra: dict[str, Any], vertex_says: str) -> None:
    raw = {"contents": [HELLO], **extra}
    assert accepted(raw, flavour=DEVELOPER)
    assert refusal(raw) == vertex_says


def test_a_function_response_continues_only_on_the_developer_api() -> None:
    part = {"functionResponse": {"name": "f", "response": {}, "willContinue": True}}
    raw = {"contents": [{"role": "user", "parts": [part]}]}
    assert validate.decode(GENERATE, raw, flavour=DEVELOPER)
    assert refusal(raw) == unknown("willContinue", "contents[0].parts[0].function_response")


def test_labels_are_taken_by_both() -> None:
    raw = {"contents": [HELLO], "labels": {"team": "ruby", "environment": "test"}}
    assert accepted(raw) == accepted(raw, flavour=DEVELOPER) == raw


def test_vertex_count_tokens_takes_the_generate_fields_at_the_top_and_not_a_nested_request() -> None:
    raw = {
        "contents": [HELLO],
        "systemInstruction": {"parts": [{"text": "Be brief."}], "role": "user"},
        "tools": [{"googleSearch": {}}],
        "generationConfig": {"max_output_tokens": 100},
    }
    assert accepted(raw, COUNT)["generationConfig"] == {"maxOutputTokens": 100}
    assert refusal(raw, COUNT, DEVELOPER).splitlines() == [
        unknown("systemInstruction"),
        unknown("tools"),
        unknown("generationConfig"),
    ]
    assert refusal({"generateContentRequest": {"contents": [HELLO]}}, COUNT) == unknown("generateContentRequest")


def test_an_enum_is_named_by_its_vertex_type() -> None:
    raw = {"contents": [HELLO], "generationConfig": {"mediaResolution": "ULTRA"}}
    assert refusal(raw) == (
        "Invalid value at 'generation_config.media_resolution' "
        '(type.googleapis.com/google.cloud.aiplatform.v1beta1.GenerationConfig.MediaResolution), "ULTRA"'
    )


# --------------------------------------------------------------------------------------------------
# One canonical body for both APIs


SNAKE = {
    "contents": [
        {"role": "user", "parts": [{"text": "Look"}, {"inline_data": {"mime_type": "image/png", "data": "-_8"}}]},
        {
            "role": "model",
            "parts": [{"function_call": {"id": "c1", "name": "f", "args": {"x": 1}}, "thought_signature": "-_8="}],
        },
        {
            "role": "user",
            "parts": [
                {
                    "function_response": {
                        "id": "c1",
                        "name": "f",
                        "response": {"y": 2},
                        "parts": [{"inline_data": {"mime_type": "image/png", "data": "-_8="}}],
                    }
                }
            ],
        },
        {"role": "user", "parts": [{"file_data": {"file_uri": "gs://b/o.pdf", "mime_type": "application/pdf"}}]},
    ],
    "modelArmorConfig": {"prompt_template_name": "p", "response_template_name": "r"},
    "generationConfig": {"thinkingConfig": {"include_thoughts": True, "thinking_level": "LOW"}},
}
CAMEL = {
    "contents": [
        {"role": "user", "parts": [{"text": "Look"}, {"inlineData": {"mimeType": "image/png", "data": "+/8="}}]},
        {
            "role": "model",
            "parts": [{"functionCall": {"id": "c1", "name": "f", "args": {"x": 1}}, "thoughtSignature": "+/8="}],
        },
        {
            "role": "user",
            "parts": [
                {
                    "functionResponse": {
                        "id": "c1",
                        "name": "f",
                        "response": {"y": 2},
                        "parts": [{"inlineData": {"mimeType": "image/png", "data": "+/8="}}],
                    }
                }
            ],
        },
        {"role": "user", "parts": [{"fileData": {"fileUri": "gs://b/o.pdf", "mimeType": "application/pdf"}}]},
    ],
    "modelArmorConfig": {"promptTemplateName": "p", "responseTemplateName": "r"},
    "generationConfig": {"thinkingConfig": {"includeThoughts": True, "thinkingLevel": "LOW"}},
}


def test_snake_case_and_url_safe_base64_read_as_the_camel_case_body() -> None:
    assert accepted(SNAKE) == CAMEL


def test_the_canonical_body_is_the_one_protobuf_reads() -> None:
    cls = vertex_schema.REQUEST_CLASSES[GENERATE]
    assert json_format.ParseDict(CAMEL, cls()) == json_format.ParseDict(SNAKE, cls())


SHARED = {
    "contents": [HELLO],
    "systemInstruction": {"parts": [{"text": "Be brief."}]},
    "toolConfig": {"retrievalConfig": {"lat_lng": {"latitude": 1, "longitude": 2}, "languageCode": "en"}},
    "generationConfig": {
        "responseMimeType": "application/json",
        "response_json_schema": {"type": "object"},
        "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}},
        "thinkingConfig": {"thinkingBudget": 128.0, "thinkingLevel": "high"},
        "mediaResolution": "media_resolution_low",
        "topK": 20.0,
    },
}


def test_both_apis_give_the_backends_one_shape() -> None:
    body = accepted(SHARED)
    assert body == accepted(SHARED, flavour=DEVELOPER)
    assert body["toolConfig"] == {
        "retrievalConfig": {"latLng": {"latitude": 1.0, "longitude": 2.0}, "languageCode": "en"}
    }
    assert body["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 128, "thinkingLevel": "HIGH"}
    assert body["generationConfig"]["mediaResolution"] == "MEDIA_RESOLUTION_LOW"
    assert body["generationConfig"]["topK"] == 20


def test_fields_the_sdk_sends_beyond_the_published_protos_are_taken() -> None:
    part = {
        "inlineData": {"mimeType": "image/png", "data": "AA==", "displayName": "a.png"},
        "mediaResolution": {"level": "MEDIA_RESOLUTION_HIGH"},
    }
    raw = {
        "contents": [{"role": "user", "parts": [part]}],
        "serviceTier": "flex",
        "generationConfig": {"imageConfig": {"aspectRatio": "1:1", "imageSize": "2K"}},
        "tools": [{"functionDeclarations": [{"name": "f", "behavior": "NON_BLOCKING"}]}],
    }  # fmt: skip
    assert accepted(raw) == raw


# --------------------------------------------------------------------------------------------------
# Rules that differ


EMPTY_TEXT = rules.MSG_EMPTY_TEXT
NO_PARTS = (
    "Unable to submit request because it must include at least one parts field, which describes the prompt input. "
    "Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini"
)


@pytest.mark.parametrize("method", [GENERATE, Operation.STREAM, COUNT])
def test_empty_text_is_refused_by_vertex_only(method: Operation) -> None:
    raw = {"contents": [{"role": "user", "parts": [{"text": ""}]}]}
    assert refusal(raw, method) == EMPTY_TEXT
    assert accepted(raw, method, DEVELOPER)


def test_a_signed_empty_text_comes_back_as_is() -> None:
    signed = {"role": "model", "parts": [{"text": "Hi"}, {"text": "", "thoughtSignature": "AA=="}]}
    assert accepted({"contents": [HELLO, signed, HELLO]})


@pytest.mark.parametrize("parts", [[], None])
def test_a_content_without_parts_is_refused_in_vertex_words(parts: list[Any] | None) -> None:
    empty: dict[str, Any] = {"role": "model"} if parts is None else {"role": "model", "parts": parts}
    raw = {"contents": [HELLO, empty, HELLO]}
    assert refusal(raw) == NO_PARTS
    assert refusal(raw, flavour=DEVELOPER) == (
        "* GenerateContentRequest.contents[1].parts: contents.parts must not be empty.\n"
    )


def test_no_contents_is_refused_as_on_the_developer_api() -> None:
    assert refusal({"contents": []}) == "* GenerateContentRequest.contents: contents is not specified\n"


def test_a_content_need_not_name_its_role() -> None:
    """Google's proto calls ``Content.role`` optional ("can be left blank or unset"); recorded traffic
    has system instructions without one answered 200."""
    raw = {"contents": [{"parts": [{"text": "Hello"}]}], "systemInstruction": {"parts": [{"text": "Be brief."}]}}
    assert accepted(raw) == raw


def test_a_bad_role_is_refused_as_on_the_developer_api() -> None:
    assert refusal({"contents": [{"role": "assistant", "parts": [{"text": "Hi"}]}]}) == rules.MSG_ROLE


def test_the_input_token_limit_reads_as_on_vertex() -> None:
    """Recorded: ``The input token count (1250074) exceeds the maximum number of tokens allowed (1048576).``"""
    raw = {"contents": [{"role": "user", "parts": [{"text": "word " * 1_100_000}]}]}
    with pytest.raises(errors.ApiError) as caught:
        validate.parse_request(GENERATE, raw, model(), flavour=VERTEX, size=5_600_000)
    assert re.fullmatch(
        r"The input token count \(\d+\) exceeds the maximum number of tokens allowed \(1048576\)\.",
        caught.value.message,
    )


# --------------------------------------------------------------------------------------------------
# computeTokens, embedContent, predict


def test_compute_tokens_takes_contents_and_checks_only_the_schema() -> None:
    assert accepted({"contents": [HELLO]}, COMPUTE) == {"contents": [HELLO]}
    assert accepted({"contents": [{"role": "user", "parts": [{"text": ""}]}]}, COMPUTE)
    assert accepted({"instances": [{"prompt": "Hello"}]}, COMPUTE) == {"instances": [{"prompt": "Hello"}]}
    assert refusal({"contents": [HELLO], "generationConfig": {}}, COMPUTE) == unknown("generationConfig")


def test_each_element_of_a_list_of_values_is_a_value() -> None:
    """Unlike a message list, where a null element is left out and a nested list continues the field."""
    raw = {"instances": [None, [1, "a"], {"prompt": None}]}
    assert validate.decode(COMPUTE, raw, flavour=VERTEX) == raw


EMBEDDING = "gemini-embedding-001"


def test_embed_content_takes_its_config() -> None:
    raw = {
        "content": {"parts": [{"text": "task: question answering | query: Hello, world!"}]},
        "embed_content_config": {"task_type": "retrieval_query", "title": "t", "outputDimensionality": 768.0},
    }
    assert accepted(raw, EMBED, name=EMBEDDING) == {
        "content": {"parts": [{"text": "task: question answering | query: Hello, world!"}]},
        "embedContentConfig": {"taskType": "RETRIEVAL_QUERY", "title": "t", "outputDimensionality": 768},
    }


def test_embed_content_bounds_the_dimensionality_wherever_it_is_given() -> None:
    text = {"content": {"parts": [{"text": "Hi"}]}}
    too_many = (
        "Unable to submit request because it has a outputDimensionality value of 4000 but the supported range is "
        "from 1 (inclusive) to 3073 (exclusive). Update the value and try again."
    )
    assert refusal({**text, "embedContentConfig": {"outputDimensionality": 4000}}, EMBED, name=EMBEDDING) == too_many
    assert refusal({**text, "outputDimensionality": 4000}, EMBED, name=EMBEDDING) == too_many
    assert refusal({"content": {"parts": []}}, EMBED, name=EMBEDDING) == (
        "* EmbedContentRequest.content.parts: contents.parts must not be empty.\n"
    )


TEXT_EMBEDDING = "text-embedding-004"


@pytest.mark.parametrize(
    "raw",
    [
        {"instances": [{"content": "Ruby is a programmer's best friend"}]},
        {"instances": [{"content": "Ruby"}, {"content": "Python"}], "parameters": {"outputDimensionality": 768}},
        {"instances": [{"content": "Hello, world!", "task_type": "RETRIEVAL_QUERY"}]},
        {
            "instances": [{"content": "a", "task_type": "RETRIEVAL_DOCUMENT", "title": "t", "mimeType": "text/plain"}],
            "parameters": {"outputDimensionality": 8, "autoTruncate": True},
        },
    ],
)
def test_predict_takes_what_clients_send(raw: dict[str, Any]) -> None:
    assert accepted(raw, PREDICT, name=TEXT_EMBEDDING) == raw


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"instances": []},
        {"instances": ["Ruby"]},
        {"instances": [{"text": "Ruby"}]},
        {"instances": [{"content": 1}]},
        {"instances": [{"content": "a", "task_type": "SUMMARISE"}]},
        {"instances": [{"content": "a", "title": 3}]},
        {"instances": [{"content": "a"}], "parameters": [768]},
        {"instances": [{"content": "a"}], "parameters": {"autoTruncate": "yes"}},
        {"instances": [{"content": "a"}], "parameters": {"outputDimensionality": 7.5}},
    ],
)
def test_predict_refuses_what_no_embedding_can_be_made_of(raw: dict[str, Any]) -> None:
    assert refusal(raw, PREDICT, name=TEXT_EMBEDDING) == "Request contains an invalid argument."


def test_predict_bounds_the_dimensionality() -> None:
    raw = {"instances": [{"content": "a"}], "parameters": {"outputDimensionality": 769}}
    assert refusal(raw, PREDICT, name=TEXT_EMBEDDING) == (
        "Unable to submit request because it has a outputDimensionality value of 769 but the supported range is "
        "from 1 (inclusive) to 769 (exclusive). Update the value and try again."
    )


def test_predict_takes_at_most_250_texts() -> None:
    """Documented (250 input texts a request); the 400 as vercel/ai issue 19950 met it at 251 (2026-08)."""
    assert accepted({"instances": [{"content": "a"}] * 250}, PREDICT, name=TEXT_EMBEDDING)
    assert refusal({"instances": [{"content": "a"}] * 251}, PREDICT, name=TEXT_EMBEDDING) == (
        "Unable to submit request because it has a batchSize value of 251 but the supported range is "
        "from 1 (inclusive) to 251 (exclusive). Update the value and try again."
    )


def test_predict_knows_only_its_own_fields() -> None:
    raw = {"instances": [{"content": "a"}], "contents": [HELLO]}
    assert refusal(raw, PREDICT, name=TEXT_EMBEDDING) == unknown("contents")


# --------------------------------------------------------------------------------------------------
# The schema itself


def test_request_classes_cover_every_vertex_model_call() -> None:
    for method in (op for op in Operation if op.is_model_call):
        cls = vertex_schema.REQUEST_CLASSES[method]
        assert cls.DESCRIPTOR.full_name.startswith("google.cloud.aiplatform.v1beta1.")


def test_the_shipped_descriptors_are_small_and_leave_the_well_known_types_to_protobuf() -> None:
    data = resources.files("emulator.data").joinpath(vertex_schema.DATA).read_bytes()
    assert len(data) < 40_000
    names = [f.name for f in descriptor_pb2.FileDescriptorSet.FromString(data).file]
    assert names and not [n for n in names if n.startswith("google/protobuf/")]
    assert "google/cloud/aiplatform/v1beta1/prediction_service.proto" in names
