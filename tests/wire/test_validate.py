"""The schema stage of request validation (validate.decode): canonical bodies and the front end's texts.

Every expected message is written out in full: these are the strings clients see and match on.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import pytest

from emulator.wire import errors, schema, validate
from emulator.wire.call import Operation
from emulator.wire.catalogue import Catalogue

GENERATE = Operation.GENERATE
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
CATALOGUE = Catalogue.load()
FLASH = CATALOGUE.resolve("gemini-2.5-flash", "generateContent", "v1beta")
TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.Type"
PART = "type.googleapis.com/google.ai.generativelanguage.v1beta.Part"


def user(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "parts": list(parts)}


def body_with(**extra: Any) -> dict[str, Any]:
    return {"contents": [user({"text": "hi"})], **extra}


def refused(raw: Any, method: Operation = GENERATE, strict: bool = True) -> errors.ApiError:
    with pytest.raises(errors.ApiError) as caught:
        validate.decode(method, raw, strict)
    error = caught.value
    assert (error.code, error.status) == (400, "INVALID_ARGUMENT")
    return error


def violations(error: errors.ApiError) -> list[dict[str, str]]:
    """The BadRequest field violations, checked to repeat the message line by line."""
    assert len(error.details) == 1 and error.details[0]["@type"] == BAD_REQUEST
    found: list[dict[str, str]] = error.details[0]["fieldViolations"]
    assert error.message == "\n".join(v["description"] for v in found)
    return found


def single(raw: Any, method: Operation = GENERATE, strict: bool = True) -> tuple[str | None, str]:
    """(field, description) of the one violation a body has."""
    [violation] = violations(refused(raw, method, strict))
    assert set(violation) <= {"field", "description"}
    return violation.get("field"), violation["description"]


# --------------------------------------------------------------------------------------------------
# The root and unknown names


@pytest.mark.parametrize("raw", [[], [{"contents": []}], "text", 3, None, True])
def test_a_root_that_is_not_an_object_is_refused(raw: Any) -> None:
    message = 'Invalid JSON payload received. Unknown name "": Root element must be a message.'
    assert single(raw) == (None, message)


def test_an_unknown_top_level_field_has_no_field_path() -> None:
    field, text = single(body_with(systemInstructions={"parts": [{"text": "x"}]}))
    assert field is None
    assert text == 'Invalid JSON payload received. Unknown name "systemInstructions": Cannot find field.'


def test_an_unknown_nested_field_names_the_snake_case_path_of_its_message() -> None:
    raw = {"contents": [user({"text": "a"}), {"role": "user", "parts": [{"text": "b", "mime_type": "x"}]}]}
    assert single(raw) == (
        "contents[1].parts[0]",
        "Invalid JSON payload received. Unknown name \"mime_type\" at 'contents[1].parts[0]': Cannot find field.",
    )


def test_unknown_names_deep_in_a_schema_use_properties_i_value() -> None:
    schema_json = {
        "type": "OBJECT",
        "properties": {"a": {"type": "STRING"}, "b": {"type": "STRING", "const": "x"}},
    }
    raw = body_with(tools=[{"functionDeclarations": [{"name": "f", "parameters": schema_json}]}])
    where = "tools[0].function_declarations[0].parameters.properties[1].value"
    assert single(raw) == (
        where,
        f"Invalid JSON payload received. Unknown name \"const\" at '{where}': Cannot find field.",
    )


def test_several_violations_are_reported_together_in_body_order() -> None:
    raw = {
        "contents": [{"role": "user", "parts": [{"text": "a", "bogus": 1}]}],
        "generationConfig": {"temperature": "hot", "topK": 1.5},
        "extra": True,
    }
    found = violations(refused(raw))
    assert found == [
        {
            "field": "contents[0].parts[0]",
            "description": "Invalid JSON payload received. Unknown name \"bogus\" at 'contents[0].parts[0]': "
            "Cannot find field.",
        },
        {
            "field": "generation_config.temperature",
            "description": "Invalid value at 'generation_config.temperature' (TYPE_FLOAT), \"hot\"",
        },
        {
            "field": "generation_config.top_k",
            "description": "Invalid value at 'generation_config.top_k' (TYPE_INT32), 1.5",
        },
        {"description": 'Invalid JSON payload received. Unknown name "extra": Cannot find field.'},
    ]


def test_the_number_of_violations_reported_is_capped() -> None:
    raw = {"contents": [user({"text": "a"})], **{f"x{i}": 1 for i in range(validate.MAX_VIOLATIONS + 20)}}
    assert len(violations(refused(raw))) == validate.MAX_VIOLATIONS


def test_an_empty_name_is_refused_as_nameless() -> None:
    assert single(body_with(**{"": 1})) == (
        None,
        'Invalid JSON payload received. Unknown name "": Proto fields must have a name.',
    )


def test_names_are_matched_exactly() -> None:
    field, text = single(body_with(GenerationConfig={}))
    assert text == 'Invalid JSON payload received. Unknown name "GenerationConfig": Cannot find field.'


# --------------------------------------------------------------------------------------------------
# Shapes: lists, objects, maps


def test_a_list_for_a_single_field_cannot_start_a_list() -> None:
    raw = body_with(generationConfig={"temperature": [1.0]})
    assert single(raw) == (
        "generation_config",
        "Invalid JSON payload received. Unknown name \"temperature\" at 'generation_config': "
        "Proto field is not repeating, cannot start list.",
    )


def test_a_list_for_a_single_message_names_the_key_as_sent() -> None:
    raw = {"contents": [user({"text": "a"})], "system_instruction": [{"parts": [{"text": "x"}]}]}
    assert single(raw) == (
        None,
        'Invalid JSON payload received. Unknown name "system_instruction": Proto field is not repeating, '
        "cannot start list.",
    )


def test_a_list_for_a_map_cannot_be_bound() -> None:
    raw = body_with(
        tools=[{"functionDeclarations": [{"name": "f", "parameters": {"type": "OBJECT", "properties": []}}]}]
    )
    where = "tools[0].function_declarations[0].parameters"
    assert single(raw) == (
        where,
        f"Invalid value at '{where}' (Map), Cannot bind a list to map for field 'properties'.",
    )


def test_an_object_for_a_scalar_field_is_refused_where_the_object_starts() -> None:
    raw = body_with(generationConfig={"temperature": {"value": 1}})
    assert single(raw) == (
        "generation_config",
        "Invalid value at 'generation_config' (temperature), Starting an object on a scalar field",
    )


def test_a_scalar_for_a_message_field_names_the_message_type() -> None:
    raw = {"contents": [{"role": "user", "parts": ["hello"]}]}
    assert single(raw) == ("contents[0].parts[0]", f"Invalid value at 'contents[0].parts[0]' ({PART}), \"hello\"")


def test_a_scalar_for_a_map_names_the_entry_type() -> None:
    raw = body_with(labels="team=a")
    entry = "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentRequest.LabelsEntry"
    assert single(raw) == ("labels", f"Invalid value at 'labels' ({entry}), \"team=a\"")


def test_map_values_are_named_properties_i_value() -> None:
    raw = body_with(labels={"a": "1", "b": 2})
    assert single(raw) == ("labels[1].value", "Invalid value at 'labels[1].value' (TYPE_STRING), 2")


def test_a_lone_value_for_a_repeated_field_is_a_list_of_one() -> None:
    raw = {"contents": {"parts": {"text": "hi"}}, "generationConfig": {"stopSequences": "END"}}
    assert validate.decode(GENERATE, raw) == {
        "contents": [{"parts": [{"text": "hi"}]}],
        "generationConfig": {"stopSequences": ["END"]},
    }


def test_a_lone_value_is_named_without_an_index() -> None:
    raw = {"contents": {"parts": {"text": "hi", "x": 1}}}
    assert single(raw)[0] == "contents.parts"


def test_a_list_inside_a_list_continues_the_same_field() -> None:
    raw = {"contents": [[user({"text": "a"})], user({"text": "b"})]}
    assert validate.decode(GENERATE, raw) == {"contents": [user({"text": "a"}), user({"text": "b"})]}


# --------------------------------------------------------------------------------------------------
# null


def test_null_is_absence() -> None:
    raw = {
        "contents": [{"role": None, "parts": [{"text": "hi", "thought": None}]}],
        "systemInstruction": None,
        "generationConfig": {"temperature": None, "thinkingConfig": None},
        "tools": None,
    }
    assert validate.decode(GENERATE, raw) == {"contents": [{"parts": [{"text": "hi"}]}], "generationConfig": {}}


def test_null_elements_of_a_list_are_left_out_and_not_counted() -> None:
    raw = {"contents": [None, {"parts": [None, {"text": "a"}, None, {"text": "b", "x": 1}]}]}
    assert single(raw)[0] == "contents[0].parts[1]"
    assert validate.decode(GENERATE, {"contents": [None, {"parts": [None, {"text": "a"}]}]}) == {
        "contents": [{"parts": [{"text": "a"}]}]
    }


def test_null_in_a_value_field_is_kept() -> None:
    raw = body_with(tools=[{"functionDeclarations": [{"name": "f", "parametersJsonSchema": None}]}])
    assert validate.decode(GENERATE, raw)["tools"] == [
        {"functionDeclarations": [{"name": "f", "parametersJsonSchema": None}]}
    ]


def test_null_does_not_take_a_oneof() -> None:
    raw = {"contents": [{"parts": [{"inlineData": None, "text": "a"}]}]}
    assert validate.decode(GENERATE, raw) == {"contents": [{"parts": [{"text": "a"}]}]}


# --------------------------------------------------------------------------------------------------
# oneofs


@pytest.mark.parametrize(
    ("part", "second"),
    [
        ({"text": "a", "inlineData": {"mimeType": "image/png", "data": "AA=="}}, "inlineData"),
        ({"inline_data": {"mime_type": "image/png", "data": "AA=="}, "text": "a"}, "text"),
        ({"functionCall": {"name": "f"}, "function_response": {"name": "f"}}, "function_response"),
    ],
)
def test_a_second_member_of_a_oneof_is_refused_by_the_name_sent(part: dict[str, Any], second: str) -> None:
    assert single({"contents": [{"parts": [part]}]}) == (
        "contents[0].parts[0]",
        f"Invalid value at 'contents[0].parts[0]' (oneof), oneof field 'data' is already set. Cannot set '{second}'",
    )


def test_an_optional_field_spelt_both_ways_conflicts_with_itself() -> None:
    raw = body_with(generationConfig={"top_p": 0.5, "topP": 0.4})
    assert single(raw) == (
        "generation_config",
        "Invalid value at 'generation_config' (oneof), oneof field '_top_p' is already set. Cannot set 'topP'",
    )


def test_a_oneof_conflict_at_the_root_has_no_location() -> None:
    raw = body_with(cachedContent="cachedContents/a", cached_content="cachedContents/b")
    assert single(raw) == (
        None,
        "Invalid value (oneof), oneof field '_cached_content' is already set. Cannot set 'cached_content'",
    )


# --------------------------------------------------------------------------------------------------
# Both casings, at every depth


SNAKE = {
    "contents": [
        {"role": "user", "parts": [{"text": "look"}, {"inline_data": {"mime_type": "image/png", "data": "__79"}}]},
        {
            "role": "model",
            "parts": [{"function_call": {"name": "g", "args": {"some_arg": 1}}, "thought_signature": "-_8="}],
        },
        {"role": "user", "parts": [{"function_response": {"name": "g", "response": {"the_result": 2}}}]},
    ],
    "system_instruction": {"parts": [{"text": "be brief"}]},
    "generation_config": {
        "thinking_config": {"include_thoughts": True, "thinking_budget": 1024},
        "max_output_tokens": 100,
        "response_mime_type": "application/json",
        "response_schema": {
            "type": "OBJECT",
            "properties": {"first_name": {"type": "STRING"}, "age": {"type": "INTEGER"}},
            "property_ordering": ["first_name", "age"],
        },
    },
    "tools": [
        {
            "function_declarations": [
                {
                    "name": "g",
                    "parameters_json_schema": {"type": "object", "properties": {"some_arg": {"type": "integer"}}},
                    "response_json_schema": {"type": "object"},
                }
            ]
        }
    ],
    "tool_config": {"function_calling_config": {"mode": "ANY", "allowed_function_names": ["g"]}},
    "safety_settings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
    "cached_content": "cachedContents/abc",
}

CAMEL = {
    "contents": [
        {"role": "user", "parts": [{"text": "look"}, {"inlineData": {"mimeType": "image/png", "data": "//79"}}]},
        {
            "role": "model",
            "parts": [{"functionCall": {"name": "g", "args": {"some_arg": 1}}, "thoughtSignature": "+/8="}],
        },
        {"role": "user", "parts": [{"functionResponse": {"name": "g", "response": {"the_result": 2}}}]},
    ],
    "systemInstruction": {"parts": [{"text": "be brief"}]},
    "generationConfig": {
        "thinkingConfig": {"includeThoughts": True, "thinkingBudget": 1024},
        "maxOutputTokens": 100,
        "responseMimeType": "application/json",
        "responseSchema": {
            "type": "OBJECT",
            "properties": {"first_name": {"type": "STRING"}, "age": {"type": "INTEGER"}},
            "propertyOrdering": ["first_name", "age"],
        },
    },
    "tools": [
        {
            "functionDeclarations": [
                {
                    "name": "g",
                    "parametersJsonSchema": {"type": "object", "properties": {"some_arg": {"type": "integer"}}},
                    "responseJsonSchema": {"type": "object"},
                }
            ]
        }
    ],
    "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["g"]}},
    "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
    "cachedContent": "cachedContents/abc",
}


def test_snake_case_at_every_depth_gives_the_camel_case_body() -> None:
    """The Python SDK's nested snake_case; JSON inside Struct and Value fields is kept as sent."""
    assert validate.decode(GENERATE, SNAKE) == CAMEL
    assert validate.decode(GENERATE, CAMEL) == CAMEL


def test_the_canonical_body_of_the_snake_case_request_passes_the_rules() -> None:
    assert validate.parse_request(GENERATE, SNAKE, FLASH) == CAMEL


def test_casings_may_be_mixed_within_one_object() -> None:
    raw = body_with(generationConfig={"maxOutputTokens": 5, "top_k": 3, "candidate_count": 1, "topP": 0.5})
    assert validate.decode(GENERATE, raw)["generationConfig"] == {
        "maxOutputTokens": 5,
        "topK": 3,
        "candidateCount": 1,
        "topP": 0.5,
    }


def test_every_field_of_every_message_has_both_spellings() -> None:
    for table in schema._TABLES.values():
        for slot in list(table.values()):
            assert table[slot.name].json_name == slot.json_name
            assert table[slot.json_name].name == slot.name


# --------------------------------------------------------------------------------------------------
# Scalars


PAYLOAD = bytes(range(256)) + b"\xfb\xff\xfe"


@pytest.mark.parametrize("altchars", [None, b"-_"])
@pytest.mark.parametrize("padded", [True, False])
@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 100, len(PAYLOAD)])
def test_bytes_in_either_alphabet_with_or_without_padding_become_standard_base64(
    altchars: bytes | None, padded: bool, size: int
) -> None:
    data = PAYLOAD[-size:] if size else b""
    sent = base64.b64encode(data, altchars=altchars).decode()
    if not padded:
        sent = sent.rstrip("=")
    raw = {"contents": [{"parts": [{"inlineData": {"mimeType": "a/b", "data": sent}, "thoughtSignature": sent}]}]}
    part = validate.decode(GENERATE, raw)["contents"][0]["parts"][0]
    assert part["inlineData"]["data"] == part["thoughtSignature"] == base64.b64encode(data).decode()


@pytest.mark.parametrize("sent", ["A", "AAAAA", "!!!", "Zg==YQ==", "====", "YQ===", "data:image/png;base64,iVBO", 5])
def test_bytes_that_are_not_base64_are_refused(sent: Any) -> None:
    where = "contents[0].parts[0].inline_data.data"
    shown = f'Base64 decoding failed for "{sent}"' if isinstance(sent, str) else str(sent)
    raw = {"contents": [{"parts": [{"inlineData": {"mimeType": "a/b", "data": sent}}]}]}
    assert single(raw) == (where, f"Invalid value at '{where}' (TYPE_BYTES), {shown}")


@pytest.mark.parametrize(
    ("sent", "kept"),
    [(20, 20), (20.0, 20), ("20", 20), ("+20", 20), ("-3", -3), ("007", 7), (2**31 - 1, 2**31 - 1)],
)
def test_ints_from_integral_numbers_and_numeric_strings(sent: Any, kept: int) -> None:
    raw = body_with(generationConfig={"topK": sent})
    config = validate.decode(GENERATE, raw)["generationConfig"]
    assert config == {"topK": kept} and type(config["topK"]) is int


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        (1.5, "1.5"),
        (" 20", '" 20"'),
        ("20 ", '"20 "'),
        ("2_0", '"2_0"'),
        ("20.0", '"20.0"'),
        ("0x10", '"0x10"'),
        ("", '""'),
        (2**31, "2147483648"),
        (True, "true"),
        (1e20, "1e+20"),
    ],
)
def test_ints_refused(sent: Any, shown: str) -> None:
    raw = body_with(generationConfig={"candidateCount": sent})
    where = "generation_config.candidate_count"
    assert single(raw) == (where, f"Invalid value at '{where}' (TYPE_INT32), {shown}")


def test_int64_fields_take_strings_and_numbers() -> None:
    raw = body_with(generationConfig={"responseSchema": {"type": "ARRAY", "minItems": "1", "maxItems": 3.0}})
    assert validate.decode(GENERATE, raw)["generationConfig"]["responseSchema"] == {
        "type": "ARRAY",
        "minItems": 1,
        "maxItems": 3,
    }


@pytest.mark.parametrize(("sent", "kept"), [(1, 1.0), (0.25, 0.25), ("0.5", 0.5), ("-1e-3", -0.001), ("1.", 1.0)])
def test_floats_from_numbers_and_numeric_strings(sent: Any, kept: float) -> None:
    config = validate.decode(GENERATE, body_with(generationConfig={"temperature": sent}))["generationConfig"]
    assert config == {"temperature": kept} and type(config["temperature"]) is float


@pytest.mark.parametrize("sent", ["NaN", "Infinity", "-Infinity"])
def test_floats_from_the_proto3_json_words(sent: str) -> None:
    value = validate.decode(GENERATE, body_with(generationConfig={"temperature": sent}))["generationConfig"][
        "temperature"
    ]
    assert (math.isnan(value) and sent == "NaN") or value == float(sent)


@pytest.mark.parametrize(
    ("sent", "shown"), [("hot", '"hot"'), (" 1", '" 1"'), ("1_0", '"1_0"'), (True, "true"), (1e39, "1e+39")]
)
def test_floats_refused(sent: Any, shown: str) -> None:
    where = "generation_config.temperature"
    assert single(body_with(generationConfig={"temperature": sent})) == (
        where,
        f"Invalid value at '{where}' (TYPE_FLOAT), {shown}",
    )


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("False", False),
        ("yes", True),
        ("n", False),
        (1, True),
        (0, False),
    ],
)
def test_bools(sent: Any, kept: bool) -> None:
    config = validate.decode(GENERATE, body_with(generationConfig={"responseLogprobs": sent}))["generationConfig"]
    assert config == {"responseLogprobs": kept}


@pytest.mark.parametrize(("sent", "shown"), [("maybe", '"maybe"'), (2, "2"), ("yeſ", '"yeſ"'), ("", '""')])
def test_bools_refused(sent: Any, shown: str) -> None:
    where = "generation_config.response_logprobs"
    assert single(body_with(generationConfig={"responseLogprobs": sent})) == (
        where,
        f"Invalid value at '{where}' (TYPE_BOOL), {shown}",
    )


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("OBJECT", "OBJECT"),
        ("object", "OBJECT"),
        ("null", "NULL"),
        ("Object", "OBJECT"),
        (6, "OBJECT"),
        ("6", "OBJECT"),
        (6.0, "OBJECT"),
        (99, 99),
    ],
)
def test_enums_by_name_in_any_case_or_by_number(sent: Any, kept: Any) -> None:
    raw = body_with(generationConfig={"responseSchema": {"type": sent}})
    assert validate.decode(GENERATE, raw)["generationConfig"]["responseSchema"] == {"type": kept}


def test_enum_names_read_dashes_as_underscores() -> None:
    raw = body_with(safetySettings=[{"category": "harm-category-harassment", "threshold": "block_none"}])
    assert validate.decode(GENERATE, raw)["safetySettings"] == [
        {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}
    ]


@pytest.mark.parametrize(
    ("sent", "shown"), [("strin", '"strin"'), ("obj", '"obj"'), ("ſtring", '"ſtring"'), ("99", '"99"'), (True, "true")]
)
def test_enums_refused(sent: Any, shown: str) -> None:
    where = "generation_config.response_schema.type"
    assert single(body_with(generationConfig={"responseSchema": {"type": sent}})) == (
        where,
        f"Invalid value at '{where}' ({TYPE}), {shown}",
    )


@pytest.mark.parametrize(("sent", "shown"), [(5, "5"), (True, "true"), (1.5, "1.5")])
def test_strings_take_only_strings(sent: Any, shown: str) -> None:
    where = "contents[0].parts[0].text"
    assert single({"contents": [{"parts": [{"text": sent}]}]}) == (
        where,
        f"Invalid value at '{where}' (TYPE_STRING), {shown}",
    )


def test_refused_strings_are_quoted_unescaped() -> None:
    raw = body_with(generationConfig={"temperature": 'say "hi"\n'})
    assert single(raw)[1] == 'Invalid value at \'generation_config.temperature\' (TYPE_FLOAT), "say "hi"\n"'


def test_lone_surrogates_become_replacement_characters_everywhere() -> None:
    raw = {
        "contents": [
            {"parts": [{"text": "a\ud800b"}, {"functionCall": {"name": "f", "args": {"k\udc00": ["v\ud801"]}}}]}
        ],
        "labels": {"x\ud800": "y\udfff"},
    }
    body = validate.decode(GENERATE, raw)
    assert body["contents"][0]["parts"] == [
        {"text": "a\ufffdb"},
        {"functionCall": {"name": "f", "args": {"k\ufffd": ["v\ufffd"]}}},
    ]
    assert body["labels"] == {"x\ufffd": "y\ufffd"}
    assert (
        validate.decode(GENERATE, {"contents": [{"parts": [{"text": "😀 ok"}]}]})["contents"][0]["parts"][0]["text"]
        == "😀 ok"
    )


@pytest.mark.parametrize(("sent", "kept"), [("1.5s", "1.500s"), ("3s", "3s"), ("-0.25s", "-0.250s"), ("1.s", "1s")])
def test_durations_take_protobufs_spelling(sent: str, kept: str) -> None:
    raw = {"contents": [{"parts": [{"text": "a", "videoMetadata": {"startOffset": sent}}]}]}
    assert validate.decode(GENERATE, raw)["contents"][0]["parts"][0]["videoMetadata"] == {"startOffset": kept}


@pytest.mark.parametrize(
    ("sent", "problem"),
    [
        ("1.5", "Illegal duration format; duration must end with 's'"),
        ("abcs", "Invalid duration format, failed to parse seconds"),
        ("1.1234567891s", "Invalid duration format, failed to parse seconds"),
        ("999999999999s", "Duration value exceeds limits"),
        (5, "Invalid data type for duration, value is 5"),
    ],
)
def test_durations_refused(sent: Any, problem: str) -> None:
    where = "contents[0].parts[0].video_metadata.end_offset"
    raw = {"contents": [{"parts": [{"text": "a", "videoMetadata": {"endOffset": sent}}]}]}
    assert single(raw) == (
        where,
        f"Invalid value at '{where}' (type.googleapis.com/google.protobuf.Duration), Field 'end_offset', {problem}",
    )


def test_timestamps() -> None:
    interval = {"startTime": "2025-01-01T00:00:00+01:00", "endTime": "2025-02-01T00:00:00.5Z"}
    raw = body_with(tools=[{"googleSearch": {"timeRangeFilter": interval}}])
    assert validate.decode(GENERATE, raw)["tools"] == [
        {
            "googleSearch": {
                "timeRangeFilter": {"startTime": "2024-12-31T23:00:00Z", "endTime": "2025-02-01T00:00:00.500Z"}
            }
        }
    ]
    raw = body_with(tools=[{"googleSearch": {"timeRangeFilter": {"startTime": "yesterday"}}}])
    where = "tools[0].google_search.time_range_filter.start_time"
    assert single(raw) == (
        where,
        f"Invalid value at '{where}' (type.googleapis.com/google.protobuf.Timestamp), Field 'start_time', "
        "Invalid time format: yesterday",
    )


def test_struct_fields_take_objects_only() -> None:
    where = "contents[0].parts[0].function_call.args"
    raw = {"contents": [{"parts": [{"functionCall": {"name": "f", "args": "x"}}]}]}
    assert single(raw) == (where, f"Invalid value at '{where}' (type.googleapis.com/google.protobuf.Struct), \"x\"")


def test_value_fields_take_any_json() -> None:
    for value in ({"type": "object"}, [1, "a"], "s", 1.5, True):
        raw = body_with(tools=[{"functionDeclarations": [{"name": "f", "parametersJsonSchema": value}]}])
        assert validate.decode(GENERATE, raw)["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"] == value


# --------------------------------------------------------------------------------------------------
# Lenient mode and the two stages


def test_lenient_mode_drops_unknown_fields_at_every_depth() -> None:
    raw = {
        "contents": [{"role": "user", "parts": [{"text": "a", "cache_control": {}}], "name": "bob"}],
        "generationConfig": {"temperature": 1, "reasoning": "high"},
        "stream": True,
    }
    assert validate.decode(GENERATE, raw, strict=False) == {
        "contents": [{"role": "user", "parts": [{"text": "a"}]}],
        "generationConfig": {"temperature": 1.0},
    }
    assert len(violations(refused(raw))) == 4


@pytest.mark.parametrize(
    "raw",
    [
        body_with(generationConfig={"temperature": "hot"}),
        body_with(generationConfig={"temperature": [1]}),
        {"contents": [{"parts": [{"text": "a", "inlineData": {"mimeType": "a", "data": "AA"}}]}]},
        [],
    ],
)
def test_lenient_mode_still_refuses_values_of_the_wrong_type(raw: Any) -> None:
    assert refused(raw, strict=False).message == refused(raw, strict=True).message


def test_lenient_parse_request_skips_the_rules_but_strict_applies_them() -> None:
    raw = {"contents": [], "generationConfig": {"temperature": 5}}
    assert validate.parse_request(GENERATE, raw, FLASH, strict=False) == {
        "contents": [],
        "generationConfig": {"temperature": 5.0},
    }
    with pytest.raises(errors.ApiError) as caught:
        validate.parse_request(GENERATE, raw, FLASH)
    assert caught.value.message == "* GenerateContentRequest.contents: contents is not specified\n"


def test_schema_violations_come_before_the_rules() -> None:
    raw = {"contents": [], "bogus": 1}
    with pytest.raises(errors.ApiError) as caught:
        validate.parse_request(GENERATE, raw, FLASH)
    assert caught.value.message == 'Invalid JSON payload received. Unknown name "bogus": Cannot find field.'


def test_the_canonical_body_is_a_new_object() -> None:
    raw = {"contents": [{"parts": [{"text": "a"}]}], "generation_config": {"top_k": 2.0}}
    snapshot = repr(raw)
    body = validate.decode(GENERATE, raw)
    assert repr(raw) == snapshot and body is not raw


@pytest.mark.parametrize(
    ("method", "raw", "kept"),
    [
        (
            Operation.COUNT_TOKENS,
            {"generate_content_request": {"model": "models/m", "contents": [user({"text": "a"})]}},
            {"generateContentRequest": {"model": "models/m", "contents": [user({"text": "a"})]}},
        ),
        (
            Operation.EMBED,
            {"content": {"parts": [{"text": "a"}]}, "task_type": "retrieval_document", "output_dimensionality": 8.0},
            {"content": {"parts": [{"text": "a"}]}, "taskType": "RETRIEVAL_DOCUMENT", "outputDimensionality": 8},
        ),
        (
            Operation.BATCH_EMBED,
            {"requests": [{"model": "models/e", "content": {"parts": [{"text": "a"}]}, "title": "t"}]},
            {"requests": [{"model": "models/e", "content": {"parts": [{"text": "a"}]}, "title": "t"}]},
        ),
    ],
)
def test_other_methods_decode_against_their_own_messages(
    method: Operation, raw: dict[str, Any], kept: dict[str, Any]
) -> None:
    assert validate.decode(method, raw) == kept


def test_other_methods_refuse_generate_fields() -> None:
    raw = {"content": {"parts": [{"text": "a"}]}, "generationConfig": {}}
    assert single(raw, Operation.EMBED) == (
        None,
        'Invalid JSON payload received. Unknown name "generationConfig": Cannot find field.',
    )
