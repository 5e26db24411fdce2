"""The wire schema: Google's own v1beta messages, brought up to date with what the SDK sends.

The messages come from ``emulator/data/developer_v1beta.binpb``, a ``FileDescriptorSet`` that
``tools/build_developer_schema.py`` extracts from ``google-ai-generativelanguage`` 0.12.1 (with
proto-plus's ``type_``/``format_``/``license_`` renamed back to the real proto names, which the
service rejects): reading a small file instead of importing that package (and ``google.api_core``,
``grpc`` and its clients with it) saves about a quarter of a second of start-up. The
``google/protobuf`` files they import come from the protobuf runtime.

Those protos lag the service, and the SDK (py:models.py ``_..._to_mldev`` converters) sends fields
they lack. Rejecting those as unknown would tell the SDK apart from the real service, so at import
we load them into a private descriptor pool and add the missing fields from :data:`SUPPLEMENT`.
Fields the converters refuse to send on the Developer API (``Tool.retrieval``, ``SafetySetting.method``,
``FunctionCall.partial_args`` ...) are deliberately absent: the real service rejects them too.

The pool is built once; the message classes are raw upb classes (no proto-plus wrapper). The
machinery (supplemented pools, the field slots the decoder walks, scalar conversions) serves Vertex
AI's schema too (``vertex_schema``): both APIs' front ends read JSON the same way.
"""

from __future__ import annotations

import binascii
import json
import math
import re
import sys
from importlib import resources
from typing import Any

from google.protobuf import (
    descriptor,
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,
    message_factory,
    struct_pb2,
    timestamp_pb2,
)
from google.protobuf.message import Message

from .call import Operation

PACKAGE = "google.ai.generativelanguage.v1beta"
DATA = "developer_v1beta.binpb"
WELL_KNOWN = (struct_pb2, duration_pb2, timestamp_pb2)
"""The protobuf runtime's modules whose files the shipped descriptors (of both APIs) import."""
Supplement = tuple[tuple[str, str, str], ...]

# (message relative to PACKAGE, field, type), in the grammar of :func:`supplemented_pool`.
SUPPLEMENT: Supplement = (
    ("GenerateContentRequest", "labels", "map<string,string>"),
    ("GenerateContentRequest", "service_tier", "string"),
    ("GenerateContentRequest", "store", "bool"),
    ("GenerateContentRequest", "continuation_token", "bytes"),
    ("GenerationConfig", "audio_transcription_config", "Struct"),
    ("ThinkingConfig", "thinking_level", "enum ThinkingLevel"),
    ("ImageConfig", "image_size", "string"),
    ("VoiceConfig", "voice", "string"),
    ("VoiceConfig", "replicated_voice_config", "Struct"),
    ("Part", "tool_call", "Struct in data"),
    ("Part", "tool_response", "Struct in data"),
    ("Part", "media_resolution", "Struct"),
    ("Part", "audio_transcription", "Struct"),
    ("Part", "media_processing", "string"),
    ("Part", "speech_metadata", "Struct"),
    ("Part", "document_metadata", "Struct"),
    ("Part", "spreadsheet_metadata", "Struct"),
    ("Part", "audio_metadata", "Struct"),
    ("Blob", "display_name", "string"),
    ("FileData", "display_name", "string"),
    ("VideoMetadata", "content_layers", "repeated string"),
    ("ExecutableCode", "id", "string"),
    ("CodeExecutionResult", "id", "string"),
    ("FunctionResponseBlob", "display_name", "string"),
    ("FunctionResponsePart", "file_data", "Struct in data"),
    ("FunctionResponsePart", "media_resolution", "Struct"),
    ("FunctionResponsePart", "media_processing", "string"),
    ("FunctionResponsePart", "video_metadata", "Struct"),
    ("FunctionResponsePart", "document_metadata", "Struct"),
    ("FunctionResponsePart", "spreadsheet_metadata", "Struct"),
    ("FunctionResponsePart", "audio_metadata", "Struct"),
    ("Tool", "mcp_servers", "repeated Struct"),
    ("Tool.ComputerUse", "enable_prompt_injection_detection", "bool"),
    ("Tool.ComputerUse", "disabled_safety_policies", "repeated string"),
    ("Tool.GoogleSearch", "search_types", "Struct"),
    ("GoogleMaps", "auth_config", "Struct"),
    ("FileSearch", "file_search_store_names", "repeated string"),
    ("FileSearch", "top_k", "int32"),
    ("FileSearch", "metadata_filter", "string"),
    ("ToolConfig", "include_server_side_tool_invocations", "bool"),
)
SUPPLEMENT_ENUMS: dict[str, tuple[str, ...]] = {
    "ThinkingLevel": ("THINKING_LEVEL_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM", "HIGH", "XHIGH"),
}

_FDP = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "string": _FDP.TYPE_STRING,
    "bool": _FDP.TYPE_BOOL,
    "int32": _FDP.TYPE_INT32,
    "double": _FDP.TYPE_DOUBLE,
    "bytes": _FDP.TYPE_BYTES,
}


def copied(files: list[descriptor.FileDescriptor]) -> list[descriptor_pb2.FileDescriptorProto]:
    """Editable copies of loaded files, for a pool of our own."""
    protos = []
    for file in files:
        proto = descriptor_pb2.FileDescriptorProto()
        file.CopyToProto(proto)
        protos.append(proto)
    return protos


def _find(files: list[descriptor_pb2.FileDescriptorProto], dotted: str) -> descriptor_pb2.DescriptorProto:
    head, *rest = dotted.split(".")
    for file in files:
        for message in file.message_type:
            if message.name == head:
                for name in rest:
                    message = next(m for m in message.nested_type if m.name == name)
                return message
    raise LookupError(f"no message {dotted} in the protos")


def _add_field(
    message: descriptor_pb2.DescriptorProto, name: str, spec: str, enums: dict[str, tuple[str, ...]]
) -> None:
    words = spec.split()
    field = message.field.add(name=name, number=max((f.number for f in message.field), default=0) + 1)
    field.label = _FDP.LABEL_REPEATED if words[0] == "repeated" else _FDP.LABEL_OPTIONAL
    words = words[1:] if words[0] == "repeated" else words
    if "in" in words:
        oneof = words[words.index("in") + 1]
        field.oneof_index = [o.name for o in message.oneof_decl].index(oneof)
        words = words[: words.index("in")]
    kind = words[0]
    if kind in _SCALARS:
        field.type = _SCALARS[kind]
    elif kind == "Struct":
        field.type, field.type_name = _FDP.TYPE_MESSAGE, ".google.protobuf.Struct"
    elif kind == "enum":
        enum = message.enum_type.add(name=words[1])
        for number, value in enumerate(enums[words[1]]):
            enum.value.add(name=value, number=number)
        field.type, field.type_name = _FDP.TYPE_ENUM, words[1]
    elif kind == "map<string,string>":
        entry = message.nested_type.add(name="".join(w.title() for w in name.split("_")) + "Entry")
        entry.options.map_entry = True
        entry.field.add(name="key", number=1, type=_FDP.TYPE_STRING, label=_FDP.LABEL_OPTIONAL)
        entry.field.add(name="value", number=2, type=_FDP.TYPE_STRING, label=_FDP.LABEL_OPTIONAL)
        field.label, field.type, field.type_name = _FDP.LABEL_REPEATED, _FDP.TYPE_MESSAGE, entry.name
    else:
        raise ValueError(f"unsupported supplement type {spec!r}")


def _relative_type_names(message: descriptor_pb2.DescriptorProto, scope: str) -> None:
    """Resolve the bare type names :func:`_add_field` wrote to fully qualified ones."""
    for field in message.field:
        if field.type_name and not field.type_name.startswith("."):
            field.type_name = f".{scope}.{message.name}.{field.type_name}"
    for nested in message.nested_type:
        _relative_type_names(nested, f"{scope}.{message.name}")


def supplemented_pool(
    protos: list[descriptor_pb2.FileDescriptorProto],
    package: str,
    supplement: Supplement,
    enums: dict[str, tuple[str, ...]],
) -> descriptor_pool.DescriptorPool:
    """A fresh pool of ``protos`` (dependencies first) with ``supplement`` added to ``package``'s
    messages. Supplement rows are ``(message relative to package, field, type)``; the type grammar is
    ``[repeated ]<kind>[ in <oneof>]`` where kind is a scalar (string, bool, int32, double, bytes),
    ``Struct`` (an object we do not model), ``map<string,string>`` or ``enum <Name>`` (a nested enum
    whose values ``enums`` lists)."""
    ours = [p for p in protos if p.package == package]
    for message_name, field_name, spec in supplement:
        _add_field(_find(ours, message_name), field_name, spec, enums)
    for proto in ours:
        for message in proto.message_type:
            _relative_type_names(message, package)
    pool = descriptor_pool.DescriptorPool()
    for proto in protos:
        pool.Add(proto)
    return pool


def shipped(name: str) -> list[descriptor_pb2.FileDescriptorProto]:
    """The files of a ``FileDescriptorSet`` in ``emulator/data``, after the runtime's well-known ones
    they import: all a pool needs, dependencies first."""
    data = resources.files("emulator.data").joinpath(name).read_bytes()
    return [
        *copied([module.DESCRIPTOR for module in WELL_KNOWN]),
        *descriptor_pb2.FileDescriptorSet.FromString(data).file,
    ]


def build_pool() -> descriptor_pool.DescriptorPool:
    """A fresh pool holding the shipped v1beta messages plus :data:`SUPPLEMENT`."""
    return supplemented_pool(shipped(DATA), PACKAGE, SUPPLEMENT, SUPPLEMENT_ENUMS)


POOL = build_pool()


def message_class(name: str, pool: descriptor_pool.DescriptorPool = POOL, package: str = PACKAGE) -> type[Message]:
    """The class of a message (short name, e.g. ``"Part"``) from a supplemented pool, the v1beta one by default."""
    cls: type[Message] = message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.{name}"))
    return cls


GenerateContentRequest = message_class("GenerateContentRequest")
CountTokensRequest = message_class("CountTokensRequest")
EmbedContentRequest = message_class("EmbedContentRequest")
BatchEmbedContentsRequest = message_class("BatchEmbedContentsRequest")

REQUEST_CLASSES: dict[Operation, type[Message]] = {
    Operation.GENERATE: GenerateContentRequest,
    Operation.STREAM: GenerateContentRequest,
    Operation.COUNT_TOKENS: CountTokensRequest,
    Operation.EMBED: EmbedContentRequest,
    Operation.BATCH_EMBED: BatchEmbedContentsRequest,
}


# --------------------------------------------------------------------------------------------------
# Field slots: how each JSON key of each message decodes, precompiled once so that the decoder in
# validate.py does one dict lookup per key. Scalar conversions follow Google's front end (protobuf's
# ``ProtoStreamObjectWriter`` and ``DataPiece``) rather than json_format: integral floats and numeric
# strings for ints, "NaN"/"Infinity" for floats, enum names case-insensitively (``"object"`` for
# ``OBJECT``), booleans from ``"yes"``/``"1"``..., bytes in either base64 alphabet, padding optional.

K_MESSAGE, K_STRUCT, K_VALUE, K_WKT, K_ENUM, K_STRING, K_BYTES, K_BOOL, K_INT, K_FLOAT = range(10)
SINGLE, REPEATED, MAP = 0, 1, 2
_T = descriptor.FieldDescriptor
_INT_BOUNDS = {
    **dict.fromkeys((_T.TYPE_INT32, _T.TYPE_SINT32, _T.TYPE_SFIXED32), (-(2**31), 2**31 - 1)),
    **dict.fromkeys((_T.TYPE_INT64, _T.TYPE_SINT64, _T.TYPE_SFIXED64), (-(2**63), 2**63 - 1)),
    **dict.fromkeys((_T.TYPE_UINT32, _T.TYPE_FIXED32), (0, 2**32 - 1)),
    **dict.fromkeys((_T.TYPE_UINT64, _T.TYPE_FIXED64), (0, 2**64 - 1)),
}
_FLOAT_MAX = {_T.TYPE_FLOAT: 3.4028234663852886e38, _T.TYPE_DOUBLE: sys.float_info.max}
_KINDS = {
    _T.TYPE_STRING: K_STRING,
    _T.TYPE_BYTES: K_BYTES,
    _T.TYPE_BOOL: K_BOOL,
    _T.TYPE_ENUM: K_ENUM,
    **dict.fromkeys(_FLOAT_MAX, K_FLOAT),
    **dict.fromkeys(_INT_BOUNDS, K_INT),
}
_WELL_KNOWN = {"google.protobuf.Struct": K_STRUCT, "google.protobuf.Value": K_VALUE}
BAD: Any = object()  # what a conversion returns for a value that does not fit
_URLSAFE = str.maketrans("-_", "+/")


class Slot:
    """How one JSON key of one message decodes; built once per field.

    ``oneof`` names the oneof a second member of which is refused: a real oneof (``Part.data``), or
    the synthetic ``_name`` oneof of a proto3 ``optional`` field spelt in two ways (``topP`` and
    ``top_p`` in one object, which the front end refuses as it does for a real oneof). ``alias`` is
    that other spelling; it is None for real oneofs, whose conflicts are looked for on every key.
    ``key`` is the spelling the slot is found by (each spelling has a slot of its own), so that a
    handler can name the key as sent. ``decode`` is the decoder's handler, attached by validate.py.
    """

    __slots__ = (
        "name",
        "json_name",
        "kind",
        "label",
        "table",
        "enum",
        "names",
        "bounds",
        "type_label",
        "oneof",
        "alias",
        "value",
        "wkt",
        "key",
        "plain",
        "decode",
    )

    def __init__(self, field: descriptor.FieldDescriptor) -> None:
        self.name: str = field.name
        self.json_name: str = field.json_name
        self.label = REPEATED if field.is_repeated else SINGLE
        self.table: dict[str, Slot] = {}
        self.enum: dict[str, int] = {}
        self.names: dict[int, str] = {}
        self.bounds: tuple[float, float] = _INT_BOUNDS.get(field.type) or (0, _FLOAT_MAX.get(field.type, 0.0))
        self.value: Slot | None = None
        self.wkt = ""
        self.key: str = field.name  # the spelling this slot is looked up by
        self.decode: Any = None
        self.plain = False  # a single string outside any oneof: the decoder's shortest path
        oneof = field.containing_oneof
        synthetic = oneof is not None and oneof.name == f"_{field.name}" and len(oneof.fields) == 1
        self.alias: str | None = None
        self.oneof: str | None = None
        if oneof is not None and not synthetic:
            self.oneof = oneof.name
        elif synthetic and field.name != field.json_name:
            self.oneof, self.alias = oneof.name, field.json_name
        message = field.message_type
        if message is None:
            self.kind = _KINDS[field.type]
            self.plain = self.kind == K_STRING and self.label == SINGLE and self.oneof is None
            self.type_label = descriptor_pb2.FieldDescriptorProto.Type.Name(field.type)
            if field.enum_type is not None:
                self.type_label = f"type.googleapis.com/{field.enum_type.full_name}"
                self.enum = {v.name: v.number for v in field.enum_type.values}
                self.names = {v.number: v.name for v in field.enum_type.values}
            return
        self.type_label = f"type.googleapis.com/{message.full_name}"
        if message.GetOptions().map_entry:
            self.label, self.kind, self.value = MAP, K_MESSAGE, Slot(message.fields_by_name["value"])
            return
        default = K_WKT if message.full_name.startswith("google.protobuf.") else K_MESSAGE
        self.kind = _WELL_KNOWN.get(message.full_name, default)
        if self.kind == K_WKT:
            self.wkt = message.full_name
        if self.kind == K_MESSAGE:
            self.table = table_for(message)


_TABLES: dict[str, dict[str, Slot]] = {}


def table_for(message: descriptor.Descriptor) -> dict[str, Slot]:
    """Slots by JSON name and by proto name (proto3 JSON accepts both), cached per message type."""
    table = _TABLES.get(message.full_name)
    if table is None:
        table = _TABLES[message.full_name] = {}  # registered first: Schema refers to itself
        for field in message.fields:
            slot = Slot(field)
            table[field.name] = slot
            if field.json_name != field.name:
                # The other spelling is a slot of its own only so that a conflict names its alias.
                twin = table[field.json_name] = Slot(field)
                twin.key = field.json_name
                if slot.alias is not None:
                    slot.alias, twin.alias = field.json_name, field.name
    return table


def all_slots() -> list[Slot]:
    """Every slot of every table built so far, map value slots included."""
    found: list[Slot] = []
    for table in _TABLES.values():
        for slot in table.values():
            found.append(slot)
            if slot.value is not None:
                found.append(slot.value)
    return found


# Scalar conversions, the way ``DataPiece`` converts a JSON value: each returns the value to store,
# or BAD. Strings are the only JSON type the front end reads into every scalar type.
_ASCII_SPACE = " \t\n\v\f\r"
_INTEGER = re.compile(r"[+-]?[0-9]+")
_FLOAT_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_FLOAT_WORDS = {"nan": math.nan, "infinity": math.inf, "-infinity": -math.inf, "inf": math.inf, "-inf": -math.inf}
_TRUE = frozenset(("true", "t", "yes", "y", "1"))
_FALSE = frozenset(("false", "f", "no", "n", "0"))


def _number_text(text: str) -> str | None:
    """``StringToNumber``: a leading or trailing space is refused, other ASCII whitespace stripped."""
    if text[:1] == " " or text[-1:] == " ":
        return None
    return text.strip(_ASCII_SPACE)


def to_bool(slot: Slot, value: Any) -> Any:
    kind = type(value)
    if kind is bool:
        return value
    if kind is str and value.isascii():
        folded = value.lower()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
    elif (kind is int or kind is float) and value in (0, 1):
        return bool(value)
    return BAD


def to_int(slot: Slot, value: Any) -> Any:
    kind = type(value)
    if kind is float:
        if not value.is_integer():
            return BAD
        value = int(value)
    elif kind is str:
        text = _number_text(value)
        if text is None or not _INTEGER.fullmatch(text):
            return BAD
        value = int(text)
    elif kind is not int:
        return BAD
    return value if slot.bounds[0] <= value <= slot.bounds[1] else BAD


def to_float(slot: Slot, value: Any) -> Any:
    kind = type(value)
    if kind is float:
        number = value
    elif kind is int:
        try:
            number = float(value)
        except OverflowError:
            return BAD
    elif kind is str:
        text = _number_text(value)
        if text is None:
            return BAD
        if text in ("NaN", "Infinity", "-Infinity") or text.lower() in _FLOAT_WORDS:
            return _FLOAT_WORDS[text.lower()]
        if not _FLOAT_TEXT.fullmatch(text):
            return BAD
        number = float(text)
    else:
        return BAD
    return number if not math.isfinite(number) or abs(number) <= slot.bounds[1] else BAD


def to_enum(slot: Slot, value: Any) -> Any:
    """A name, a decimal number the enum declares, or the name with ASCII letters upper-cased and
    ``-`` read as ``_``; a JSON number as any int32 (proto3 enums are open)."""
    kind = type(value)
    if kind is str:
        number = slot.enum.get(value)
        if number is not None:
            return number
        text = _number_text(value)
        if text is not None and _INTEGER.fullmatch(text) and int(text) in slot.names:
            return int(text)
        if value.isascii():
            return slot.enum.get(value.upper().replace("-", "_"), BAD)
        return BAD
    if kind is float and value.is_integer():
        value = int(value)
    elif kind is not int:
        return BAD
    return value if -(2**31) <= value < 2**31 else BAD


def _strict_a2b(text: str) -> bytes:
    """Standard-alphabet decode that rejects stray characters (one C pass on Python 3.11+)."""
    if sys.version_info >= (3, 11):
        return binascii.a2b_base64(text, strict_mode=True)
    if not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text):
        raise ValueError("Only base64 data is allowed")
    return binascii.a2b_base64(text)


def decode_base64(value: str) -> bytes:
    """Standard or URL-safe alphabet, padding optional; ValueError on anything else."""
    body = value.rstrip("=")
    if len(body) % 4 == 1 or len(value) - len(body) > 2:
        raise ValueError(f"not base64: {value[:20]!r}")
    if "-" in body or "_" in body:
        body = body.translate(_URLSAFE)
    return _strict_a2b(body + "=" * (-len(body) % 4))


def to_bytes(slot: Slot, value: Any) -> Any:
    try:
        return decode_base64(value) if type(value) is str else BAD
    except (ValueError, binascii.Error):
        return BAD


def _dtoa(value: float) -> str:
    """protobuf's ``SimpleDtoa``: 15 significant digits when that round-trips, else 17."""
    if not math.isfinite(value):
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    text = f"{value:.15g}"
    return text if float(text) == value else f"{value:.17g}"


def value_text(value: Any) -> str:
    """How the front end quotes a refused value (``DataPiece::ValueAsStringOrDefault``): a string
    in double quotes with nothing escaped, a number as its digits, ``true``/``false``, ``null``."""
    kind = type(value)
    if kind is str:
        return f'"{value}"'
    if kind is bool:
        return "true" if value else "false"
    if kind is float:
        return _dtoa(value)
    if kind is int:
        return str(value)
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False)
