"""Property tests: our decoder agrees with protobuf's own JSON parser.

For random valid requests, the canonical body of validate.decode parses with
``json_format.ParseDict`` into the request message, reads back (``MessageToDict``) as itself modulo
representation, and equals what protobuf makes of the request as sent. The requests come from two
sources: (1) google.genai types converted by the SDK's own mldev converter, i.e. the exact wire
form with nested snake_case and URL-safe base64; (2) bodies generated from the v1beta descriptors
themselves (every field of every message), then "mangled" into the other spellings the front end
accepts: snake_case keys, integral floats and numeric strings for ints, enum names in lower case or
as numbers, URL-safe or unpadded base64, bools as words, nulls, lone values for lists.
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

from google.genai import Client, _common, models, types
from google.protobuf import descriptor, duration_pb2, json_format, timestamp_pb2
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.wire import schema, validate
from emulator.wire.call import VERTEX_ONLY, Operation

FD = descriptor.FieldDescriptor
INT_TYPES = {
    FD.TYPE_INT32: (-(2**31), 2**31 - 1),
    FD.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FD.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FD.TYPE_INT64: (-(2**63), 2**63 - 1),
    FD.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FD.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FD.TYPE_UINT32: (0, 2**32 - 1),
    FD.TYPE_FIXED32: (0, 2**32 - 1),
    FD.TYPE_UINT64: (0, 2**64 - 1),
    FD.TYPE_FIXED64: (0, 2**64 - 1),
}
INT64 = {FD.TYPE_INT64, FD.TYPE_SINT64, FD.TYPE_SFIXED64, FD.TYPE_UINT64, FD.TYPE_FIXED64}
METHODS = [Operation.GENERATE, Operation.COUNT_TOKENS, Operation.EMBED, Operation.BATCH_EMBED]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------------------------------
# Comparing modulo representation


def _float32(value: float) -> float:
    return float(struct.unpack("f", struct.pack("f", value))[0])


def _is_map(field: descriptor.FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def normalise(value: Any, message: descriptor.Descriptor) -> dict[str, Any]:
    """A JSON body as MessageToDict would write it: default scalars without presence and empty
    lists and maps left out, float fields at float32 precision, 64-bit ints as numbers."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        field = message.fields_by_camelcase_name[key]
        if _is_map(field):
            if item:
                entry = field.message_type.fields_by_name["value"]
                out[key] = {k: _scalar_or_message(v, entry) for k, v in item.items()}
        elif field.is_repeated:
            if item:
                out[key] = [_scalar_or_message(v, field) for v in item]
        elif not field.has_presence and field.message_type is None and _is_default(item, field):
            continue
        else:
            out[key] = _scalar_or_message(item, field)
    return out


def _is_default(value: Any, field: descriptor.FieldDescriptor) -> bool:
    if field.enum_type is not None:
        return bool(value in (0, field.enum_type.values_by_number[0].name))
    if field.type == FD.TYPE_BYTES:
        return bool(value == "")
    return bool(value == field.default_value)


def _scalar_or_message(value: Any, field: descriptor.FieldDescriptor) -> Any:
    if field.message_type is not None:
        if field.message_type.full_name.startswith("google.protobuf."):
            return value
        return normalise(value, field.message_type)
    if field.type == FD.TYPE_FLOAT:
        return _float32(float(value))
    if field.type in INT64:
        return int(value)
    return value


def agree(method: Operation, sent: dict[str, Any]) -> dict[str, Any]:
    """Decodes ``sent`` and checks the canonical body against protobuf's parser; returns the body."""
    canonical = validate.decode(method, sent)
    cls = schema.REQUEST_CLASSES[method]
    parsed = json_format.ParseDict(canonical, cls())
    assert parsed == json_format.ParseDict(sent, cls()), "protobuf reads the request as sent differently"
    again = json_format.MessageToDict(parsed)
    assert normalise(again, cls.DESCRIPTOR) == normalise(canonical, cls.DESCRIPTOR)
    try:
        assert json_format.ParseDict(again, cls()) == parsed
    except json_format.ParseError as exc:
        # protobuf's own quirk: MessageToDict prints a float32 near its limit with 8 digits
        # (3.4028235e+38), which is past FLT_MAX as a double, so ParseDict refuses its own output.
        assert "Float value too" in str(exc), exc
    return canonical


# --------------------------------------------------------------------------------------------------
# (1) Requests built with google.genai types and converted by the SDK itself

CLIENT = Client(api_key="k")
SMALL_TEXT = st.text(max_size=12)
NAME = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), SMALL_TEXT)
JSON_FLOAT = st.floats(allow_nan=False, allow_infinity=False)
JSON = st.recursive(
    st.one_of(JSON_SCALAR, JSON_FLOAT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(SMALL_TEXT, inner, max_size=3)),
    max_leaves=8,
)
ARGS = st.dictionaries(NAME, JSON, max_size=3)

PART = st.one_of(
    st.builds(types.Part, text=st.text(min_size=1, max_size=20)),
    st.builds(types.Part, text=SMALL_TEXT, thought=st.booleans(), thought_signature=st.binary(max_size=9)),
    st.builds(
        types.Part,
        inline_data=st.builds(
            types.Blob, mime_type=st.sampled_from(["image/png", "audio/wav"]), data=st.binary(max_size=9)
        ),
    ),
    st.builds(types.Part, file_data=st.builds(types.FileData, file_uri=SMALL_TEXT, mime_type=st.just("image/png"))),
    st.builds(
        types.Part,
        function_call=st.builds(types.FunctionCall, name=NAME, args=ARGS, id=st.one_of(st.none(), NAME)),
        thought_signature=st.one_of(st.none(), st.binary(min_size=1, max_size=9)),
    ),
    st.builds(types.Part, function_response=st.builds(types.FunctionResponse, name=NAME, response=ARGS)),
    st.builds(
        types.Part,
        executable_code=st.builds(types.ExecutableCode, code=SMALL_TEXT, language=st.just(types.Language.PYTHON)),
    ),
)
CONTENT = st.builds(
    types.Content, role=st.sampled_from(["user", "model"]), parts=st.lists(PART, min_size=1, max_size=3)
)
SCHEMA = st.recursive(
    st.builds(
        types.Schema,
        type=st.sampled_from([types.Type.STRING, types.Type.INTEGER, types.Type.NUMBER, types.Type.BOOLEAN]),
        description=st.one_of(st.none(), SMALL_TEXT),
        nullable=st.one_of(st.none(), st.booleans()),
        enum=st.one_of(st.none(), st.lists(SMALL_TEXT, max_size=2)),
    ),
    lambda inner: st.one_of(
        st.builds(
            types.Schema, type=st.just(types.Type.ARRAY), items=inner, min_items=st.one_of(st.none(), st.integers(0, 5))
        ),
        st.dictionaries(NAME, inner, min_size=1, max_size=3).map(
            lambda props: types.Schema(
                type=types.Type.OBJECT, properties=props, required=sorted(props)[:1], property_ordering=sorted(props)
            )
        ),
    ),
    max_leaves=5,
)
DECLARATION = st.one_of(
    st.builds(types.FunctionDeclaration, name=NAME, description=SMALL_TEXT, parameters=SCHEMA),
    st.builds(
        types.FunctionDeclaration,
        name=NAME,
        parameters_json_schema=st.just({"type": "object", "properties": {"city": {"type": "string"}}}),
        response_json_schema=st.just({"type": "string"}),
    ),
)
CONFIG = st.builds(
    types.GenerateContentConfig,
    system_instruction=st.one_of(st.none(), st.text(min_size=1, max_size=10)),
    temperature=st.one_of(st.none(), st.floats(0, 2)),
    top_p=st.one_of(st.none(), st.floats(0, 1)),
    top_k=st.one_of(st.none(), st.integers(1, 64).map(float)),
    candidate_count=st.one_of(st.none(), st.integers(1, 8)),
    max_output_tokens=st.one_of(st.none(), st.integers(1, 65536)),
    stop_sequences=st.one_of(st.none(), st.lists(SMALL_TEXT, max_size=3)),
    seed=st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)),
    presence_penalty=st.one_of(st.none(), st.floats(-2, 2)),
    response_logprobs=st.one_of(st.none(), st.booleans()),
    response_mime_type=st.one_of(st.none(), st.just("application/json")),
    response_schema=st.one_of(st.none(), SCHEMA),
    thinking_config=st.one_of(
        st.none(),
        st.builds(
            types.ThinkingConfig,
            include_thoughts=st.one_of(st.none(), st.booleans()),
            thinking_budget=st.one_of(st.none(), st.integers(-1, 24576)),
            thinking_level=st.one_of(st.none(), st.sampled_from(list(types.ThinkingLevel)[1:])),
        ),
    ),
    safety_settings=st.one_of(
        st.none(),
        st.lists(
            st.builds(
                types.SafetySetting,
                category=st.sampled_from(
                    [types.HarmCategory.HARM_CATEGORY_HARASSMENT, types.HarmCategory.HARM_CATEGORY_DANGEROUS_CONTENT]
                ),
                threshold=st.sampled_from([types.HarmBlockThreshold.BLOCK_NONE, types.HarmBlockThreshold.OFF]),
            ),
            max_size=2,
        ),
    ),
    tools=st.one_of(
        st.none(),
        st.lists(
            st.one_of(
                st.builds(types.Tool, function_declarations=st.lists(DECLARATION, min_size=1, max_size=2)),
                st.just(types.Tool(google_search=types.GoogleSearch())),
                st.just(types.Tool(code_execution=types.ToolCodeExecution())),
                st.just(types.Tool(url_context=types.UrlContext())),
            ),
            max_size=2,
        ),
    ),
    tool_config=st.one_of(
        st.none(),
        st.builds(
            types.ToolConfig,
            function_calling_config=st.builds(
                types.FunctionCallingConfig,
                mode=st.sampled_from(list(types.FunctionCallingConfigMode)[1:]),
                allowed_function_names=st.one_of(st.none(), st.lists(NAME, max_size=2)),
            ),
        ),
    ),
)


def sdk_wire(contents: list[types.Content], config: types.GenerateContentConfig | None) -> dict[str, Any]:
    """The JSON body google-genai sends for generate_content (models.Models._generate_content)."""
    parameters = types._GenerateContentParameters(model="gemini-2.5-flash", contents=contents, config=config)
    body = models._GenerateContentParameters_to_mldev(CLIENT._api_client, parameters, None, parameters)
    for key in ("_url", "_query", "config"):
        body.pop(key, None)
    wire = _common.encode_unserializable_types(_common.convert_to_dict(body))
    sent: dict[str, Any] = json.loads(json.dumps(wire))  # as the server receives it: plain JSON types
    return sent


@SETTINGS
@given(contents=st.lists(CONTENT, min_size=1, max_size=4), config=st.one_of(st.none(), CONFIG))
def test_sdk_requests_decode_as_protobuf_reads_them(
    contents: list[types.Content], config: types.GenerateContentConfig | None
) -> None:
    agree(Operation.GENERATE, sdk_wire(contents, config))


def test_the_sdk_wire_form_really_is_mixed_case_and_url_safe() -> None:
    """Guards the test above: the SDK still sends what the brief describes (§2.2)."""
    part = types.Part(inline_data=types.Blob(mime_type="image/png", data=b"\xfb\xff"), thought_signature=b"\xfb\xff")
    config = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(include_thoughts=True), top_k=20)
    wire = sdk_wire([types.Content(role="user", parts=[part])], config)
    assert wire["contents"][0]["parts"][0] == {
        "inlineData": {"data": "-_8=", "mime_type": "image/png"},
        "thoughtSignature": "-_8=",
    }
    assert wire["generationConfig"] == {"thinkingConfig": {"include_thoughts": True}, "topK": 20.0}
    assert agree(Operation.GENERATE, wire)["contents"][0]["parts"][0]["thoughtSignature"] == "+/8="


# --------------------------------------------------------------------------------------------------
# (2) Bodies generated from the descriptors, and their other spellings


def _json_name(field: descriptor.FieldDescriptor) -> str:
    return str(field.json_name)


@st.composite
def message_body(draw: st.DrawFn, message: descriptor.Descriptor, depth: int = 0) -> dict[str, Any]:
    """A valid body of ``message`` in canonical form: camelCase keys, enum names, standard base64."""
    out: dict[str, Any] = {}
    taken: set[str] = set()
    fields = [f for f in message.fields if depth < 3 or f.message_type is None]
    chosen = draw(st.lists(st.sampled_from(fields), max_size=4, unique=True)) if fields else []
    for field in chosen:
        oneof = field.containing_oneof
        if oneof is not None:
            if oneof.name in taken:
                continue
            taken.add(oneof.name)
        if _is_map(field):
            entry = field.message_type.fields_by_name["value"]
            out[_json_name(field)] = draw(st.dictionaries(SMALL_TEXT, field_value(entry, depth), max_size=2))
        elif field.is_repeated:
            out[_json_name(field)] = draw(st.lists(field_value(field, depth), max_size=2))
        else:
            out[_json_name(field)] = draw(field_value(field, depth))
    return out


def field_value(field: descriptor.FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    if field.message_type is not None:
        name = field.message_type.full_name
        if name == "google.protobuf.Struct":
            return st.dictionaries(SMALL_TEXT, JSON, max_size=3)
        if name == "google.protobuf.Value":
            return JSON
        if name == "google.protobuf.Duration":
            return st.builds(_duration, st.integers(-(10**6), 10**6), st.integers(0, 999_999_999))
        if name == "google.protobuf.Timestamp":
            return st.builds(_timestamp, st.integers(0, 4_000_000_000), st.integers(0, 999_999_999))
        return message_body(field.message_type, depth + 1)
    if field.enum_type is not None:
        return st.sampled_from([v.name for v in field.enum_type.values])
    if field.type in INT_TYPES:
        low, high = INT_TYPES[field.type]
        return st.one_of(st.integers(-1000, 1000).filter(lambda n: low <= n <= high), st.sampled_from([low, high]))
    if field.type == FD.TYPE_FLOAT:
        return st.floats(width=32, allow_nan=False, allow_infinity=False)
    if field.type == FD.TYPE_DOUBLE:
        return st.floats(allow_nan=False, allow_infinity=False)
    if field.type == FD.TYPE_BOOL:
        return st.booleans()
    if field.type == FD.TYPE_BYTES:
        return st.binary(max_size=10).map(lambda b: base64.b64encode(b).decode())
    return st.text(max_size=10)


def _duration(seconds: int, nanos: int) -> str:
    value = duration_pb2.Duration(seconds=seconds, nanos=nanos if seconds >= 0 else -nanos)
    return str(value.ToJsonString())


def _timestamp(seconds: int, nanos: int) -> str:
    return str(timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos).ToJsonString())


@st.composite
def mangled(draw: st.DrawFn, body: dict[str, Any], message: descriptor.Descriptor) -> dict[str, Any]:
    """``body`` in spellings the front end reads as the same request."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        field = message.fields_by_camelcase_name[key]
        name = draw(st.sampled_from([field.json_name, field.name]))
        if _is_map(field):
            entry = field.message_type.fields_by_name["value"]
            out[name] = {k: draw(_mangled_value(v, entry)) for k, v in value.items()}
        elif field.is_repeated:
            items: list[Any] = [draw(_mangled_value(v, field)) for v in value]
            if len(items) == 1 and not isinstance(items[0], list) and draw(st.booleans()):
                out[name] = items[0]  # a lone value for a list
            else:
                if len(items) > 0 and draw(st.booleans()):
                    items.insert(draw(st.integers(0, len(items))), None)  # a null element is left out
                out[name] = items
        else:
            out[name] = draw(_mangled_value(value, field))
    if draw(st.booleans()):
        absent = [
            f
            for f in message.fields
            if f.json_name not in body
            and f.name not in out
            and not (f.message_type is not None and f.message_type.full_name == "google.protobuf.Value")
        ]  # a null Value is a value, not absence
        if absent:
            out[draw(st.sampled_from(absent)).name] = None  # null is absence
    return out


def _mangled_value(value: Any, field: descriptor.FieldDescriptor) -> st.SearchStrategy[Any]:
    if field.message_type is not None:
        if field.message_type.full_name.startswith("google.protobuf."):
            return st.just(value)
        return mangled(value, field.message_type)
    if field.enum_type is not None:
        number = field.enum_type.values_by_name[value].number
        return st.sampled_from([value, value.lower(), value.lower().replace("_", "-"), number, str(number)])
    if field.type in INT_TYPES:
        choices = [value, str(value), f"+{value}" if value >= 0 else str(value)]
        if abs(value) < 2**53:
            choices.append(float(value))
        return st.sampled_from(choices)
    if field.type in (FD.TYPE_FLOAT, FD.TYPE_DOUBLE):
        return st.sampled_from(
            [value, repr(value)] + ([int(value)] if value.is_integer() and abs(value) < 2**53 else [])
        )
    if field.type == FD.TYPE_BOOL:
        words = ["true", "True", "yes", "y", "t", "1", 1] if value else ["false", "FALSE", "no", "n", "f", "0", 0]
        return st.sampled_from([value, *words])
    if field.type == FD.TYPE_BYTES:
        raw = base64.b64decode(value)
        urlsafe = base64.urlsafe_b64encode(raw).decode()
        return st.sampled_from([value, value.rstrip("="), urlsafe, urlsafe.rstrip("=")])
    return st.just(value)


@st.composite
def generated(draw: st.DrawFn) -> tuple[Operation, dict[str, Any], dict[str, Any]]:
    method = draw(st.sampled_from(METHODS))
    message = schema.REQUEST_CLASSES[method].DESCRIPTOR
    body = draw(message_body(message))
    return method, body, draw(mangled(body, message))


@SETTINGS
@given(case=generated())
def test_generated_bodies_decode_as_protobuf_reads_them(case: tuple[Operation, dict[str, Any], dict[str, Any]]) -> None:
    method, body, _ = case
    canonical = agree(method, body)
    assert canonical == _canonical_floats(canonical, schema.REQUEST_CLASSES[method].DESCRIPTOR)


@SETTINGS
@given(case=generated())
def test_every_accepted_spelling_gives_the_same_canonical_body(
    case: tuple[Operation, dict[str, Any], dict[str, Any]],
) -> None:
    method, body, other = case
    assert validate.decode(method, other) == validate.decode(method, body)
    assert validate.decode(method, other, strict=False) == validate.decode(method, body)


def _canonical_floats(body: dict[str, Any], message: descriptor.Descriptor) -> dict[str, Any]:
    """The canonical body has ints for int fields and floats for float fields, never the other way."""
    for key, value in body.items():
        field = message.fields_by_camelcase_name[key]
        items = list(value.values()) if _is_map(field) else value if field.is_repeated else [value]
        target = field.message_type.fields_by_name["value"] if _is_map(field) else field
        for item in items:
            if target.message_type is not None and not target.message_type.full_name.startswith("google.protobuf."):
                _canonical_floats(item, target.message_type)
            elif target.type in INT_TYPES:
                assert type(item) is int, (key, item)
            elif target.type in (FD.TYPE_FLOAT, FD.TYPE_DOUBLE):
                assert type(item) is float, (key, item)
    return body


def test_request_classes_cover_every_model_call() -> None:
    for method in (op for op in Operation if op.is_model_call and op not in VERTEX_ONLY):
        cls: type[Message] = schema.REQUEST_CLASSES[method]
        assert cls.DESCRIPTOR.full_name.startswith("google.ai.generativelanguage.v1beta.")
