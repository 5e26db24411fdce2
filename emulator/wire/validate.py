"""Request bodies checked the way the real front end checks them, in two stages.

:func:`decode` walks the JSON once against Google's schema of the API called (slot tables of
``schema``'s v1beta for the Developer API, of ``vertex_schema``'s v1beta1 for Vertex AI) and returns
the canonical body, the same for both: camelCase keys, enum names, integral numbers as ints, bytes in
the standard base64 alphabet, durations and timestamps as protobuf writes them, lone UTF-16
surrogates as U+FFFD. What does not fit the schema is reported with the texts of the front end's
proto writer (protobuf's ``ProtoStreamObjectWriter``) and snake_case field paths, all violations at
once, in body order. The semantic rules (``rules``) then check what a schema cannot express.
Lenient mode drops unknown fields and skips the semantic rules; values of the wrong type are
rejected in both modes, since no backend could make sense of them.

Paths are built only when a violation needs one: the walk passes ``(parent, name, index)`` tuples
down and :func:`_format` turns one into ``contents[0].parts[1].inline_data`` on demand.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import orjson
from google.protobuf import duration_pb2, timestamp_pb2

from . import errors, json_body, rules, schema, vertex_schema
from .call import Operation
from .catalogue import ModelInfo
from .flavour import Flavour
from .json_body import MSG_TOO_DEEP
from .schema import (
    BAD,
    K_BOOL,
    K_BYTES,
    K_ENUM,
    K_FLOAT,
    K_INT,
    K_MESSAGE,
    K_STRING,
    K_STRUCT,
    K_VALUE,
    K_WKT,
    MAP,
    REPEATED,
    Slot,
    value_text,
)

MAX_VIOLATIONS = 100
_TABLES = {
    flavour: {method: schema.table_for(cls.DESCRIPTOR) for method, cls in classes.items()}
    for flavour, classes in (
        (Flavour.DEVELOPER, schema.REQUEST_CLASSES),
        (Flavour.VERTEX, vertex_schema.REQUEST_CLASSES),
    )
}
_ROOT = 'Invalid JSON payload received. Unknown name "": Root element must be a message.'
_SURROGATE = re.compile("[\ud800-\udfff]")
_DURATION = re.compile(r"-?[0-9]+(?:\.[0-9]{0,9})?s")
SKIP: Any = object()  # a handler's answer when nothing is to be stored
Path = tuple[Any, str, "int | None"] | None


def _format(path: Path) -> str:
    """``(parent, name, index)`` chain to the front end's ``a.b[2].c``."""
    names: list[str] = []
    while path is not None:
        path, name, index = path
        names.append(name if index is None else f"{name}[{index}]")
    return ".".join(reversed(names))


def _text(value: str) -> str:
    """A string with each lone UTF-16 surrogate (a JSON ``\\ud800`` escape) as U+FFFD, as the front end reads it."""
    return value if value.isascii() or not _SURROGATE.search(value) else _SURROGATE.sub("\ufffd", value)


def _json(value: Any) -> Any:
    """Arbitrary JSON (Struct and Value fields) with its strings and keys read as :func:`_text` reads them."""
    kind = type(value)
    if kind is str:
        return _text(value)
    if kind is dict:
        return {_text(k): _json(v) for k, v in value.items()}
    if kind is list:
        return [_json(v) for v in value]
    return value


class _Decoder:
    """One walk over one body; collects violations instead of stopping at the first."""

    __slots__ = ("strict", "violations")

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.violations: list[tuple[str | None, str]] = []

    # Violations, with the front end's texts.
    def unknown(self, key: str, parent: Path, reason: str) -> None:
        where = _format(parent)
        at = f" at '{where}'" if where else ""
        self.violations.append(
            (where or None, f'Invalid JSON payload received. Unknown name "{_text(key)}"{at}: {reason}')
        )

    def invalid(self, where: str, label: str, shown: str) -> None:
        at = f" at '{where}'" if where else ""
        self.violations.append((where or None, f"Invalid value{at} ({label}), {shown}"))

    def bad_value(self, slot: Slot, value: Any, parent: Path, index: int | None) -> Any:
        """A value a field cannot take: a list for a single field, an object for a scalar, or a
        scalar the field cannot read."""
        kind = type(value)
        if kind is list and index is None:
            if slot.label == MAP:
                self.invalid(_format(parent), "Map", f"Cannot bind a list to map for field '{slot.key}'.")
            else:
                self.unknown(slot.key, parent, "Proto field is not repeating, cannot start list.")
            return SKIP
        if kind is dict and slot.kind not in (K_MESSAGE, K_STRUCT, K_WKT):
            # Reported where the object starts, i.e. at the message holding the field.
            where = _format(parent if index is None else (parent, slot.name, index))
            self.invalid(where, slot.name, "Starting an object on a scalar field")
            return SKIP
        shown = value_text(value)
        if slot.kind == K_BYTES and kind is str:
            shown = f"Base64 decoding failed for {shown}"
        self.invalid(_format((parent, slot.name, index)), slot.type_label, shown)
        return SKIP

    def message(self, table: dict[str, Slot], value: dict[str, Any], path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        oneofs: dict[str, str] | None = None
        for key, item in value.items():
            slot = table.get(key)
            if slot is None:
                if self.strict:
                    self.unknown(key, path, "Cannot find field." if key else "Proto fields must have a name.")
                continue
            if slot.plain and type(item) is str and item.isascii():
                out[slot.json_name] = item  # the commonest case, without a call
                continue
            if item is None and slot.kind != K_VALUE:
                continue  # null is absence, and does not take a oneof
            group = slot.oneof
            if group is not None and (slot.alias is None or slot.alias in value):
                if oneofs is None:
                    oneofs = {}
                if group in oneofs:
                    where = _format(path)
                    at = f" at '{where}'" if where else ""
                    text = f"Invalid value{at} (oneof), oneof field '{group}' is already set. Cannot set '{_text(key)}'"
                    self.violations.append((where or None, text))
                    continue
                oneofs[group] = key
            result = slot.decode(self, slot, item, path, None)
            if result is not SKIP:
                out[slot.json_name] = result
        return out


# Handlers: one per slot (``slot.decode``), called as handler(decoder, slot, value, parent, index)
# where ``index`` is the position in a repeated field (None for a single value). Each returns the
# canonical value or SKIP, having reported the violation.


def _message(dec: _Decoder, slot: Slot, value: Any, parent: Path, index: int | None) -> Any:
    if type(value) is dict:
        return dec.message(slot.table, value, (parent, slot.name, index))
    return dec.bad_value(slot, value, parent, index)


def _string(dec: _Decoder, slot: Slot, value: Any, parent: Path, index: int | None) -> Any:
    if type(value) is str:
        return value if value.isascii() else _text(value)
    return dec.bad_value(slot, value, parent, index)


def _bool(dec: _Decoder, slot: Slot, value: Any, parent: Path, index: int | None) -> Any:
    if type(value) is bool:
        return value
    converted = schema.to_bool(slot, value)
    return dec.bad_value(slot, value, parent, index) if converted is BAD else converted


def _int(dec: _Decoder, slot: Slot, value: Any, parent: Path, index: int | None) -> Any:
    if type(value) is int and slot.bounds[0] <= value <= slot.bounds[1]:
        return value
    converted = schema.to_int(slot, value)
    return dec.bad_value(slot, value, parent, index) if converted is BAD else converted


def _float(dec: _Decoder, slot: Slot, value: Any, parent: Path, index: int | None) -> Any:
    converted = schema.to_float(slot, value)
    return dec.bad_value(slot, value, parent, index) if converted is BAD else converted


def _enum(dec: _Decoder, slot: Slot, value: Any, parent: Path, index: int | None) -> Any:
    if type(value) is str and value in slot.enum:
        return value
    converted = schema.to_enum(slot, value)
    if converted is BAD:
        return dec.bad_value(slot, value, parent, index)
    return slot.names.get(converted, converted)


def _bytes(dec: _Decoder, slot: Slot, value: Any, parent: Path, index: int | None) -> Any:
    converted = schema.to_bytes(slot, value)
    if converted is BAD:
        return dec.bad_value(slot, value, parent, index)
    standard = len(value) % 4 == 0 and "-" not in value and "_" not in value
    return value if standard else base64.b64encode(converted).decode()


def _struct(dec: _Decoder, slot: Slot, value: Any, parent: Path, index: int | None) -> Any:
    if type(value) is dict:
        return _json(value)
    return dec.bad_value(slot, value, parent, index)


def _value(dec: _Decoder, slot: Slot, value: Any, parent: Path, index: int | None) -> Any:
    return _json(value)


def _well_known(dec: _Decoder, slot: Slot, value: Any, parent: Path, index: int | None) -> Any:
    """Duration and Timestamp: strings in protobuf's JSON form; the canonical body holds protobuf's spelling."""
    kind = "duration" if slot.wkt == "google.protobuf.Duration" else "timestamp"
    if type(value) is not str:
        if type(value) is dict:
            return dec.bad_value(slot, value, parent, index)
        problem = f"Invalid data type for {kind}, value is {value_text(value)}"
    elif kind == "duration" and not value.endswith("s"):
        problem = "Illegal duration format; duration must end with 's'"
    elif kind == "duration" and not _DURATION.fullmatch(value):
        problem = "Invalid duration format, failed to parse seconds"
    else:
        message = duration_pb2.Duration() if kind == "duration" else timestamp_pb2.Timestamp()
        try:
            message.FromJsonString(value)
            return message.ToJsonString()
        except ValueError:
            problem = "Duration value exceeds limits" if kind == "duration" else f"Invalid time format: {value}"
    where = _format((parent, slot.name, index))
    dec.invalid(where, f"type.googleapis.com/{slot.wkt}", f"Field '{slot.name}', {problem}")
    return SKIP


def _repeated(dec: _Decoder, slot: Slot, value: Any, parent: Path, index: int | None) -> Any:
    element = _HANDLERS[slot.kind]
    if type(value) is not list:
        # A lone value is read as a list of one, named without an index.
        one = element(dec, slot, value, parent, None)
        return [] if one is SKIP else [one]
    if slot.kind == K_VALUE:
        return [_json(item) for item in value]  # each element a Value: null and lists included
    out = []
    position = 0
    table = slot.table if slot.kind == K_MESSAGE else None
    for item in value:
        if table is not None and type(item) is dict:  # a list of messages, without a call per element
            out.append(dec.message(table, item, (parent, slot.name, position)))
            position += 1
            continue
        if item is None:
            continue  # a null element is left out, and not counted
        if type(item) is list:
            # A list inside a list continues the same field.
            out.extend(_repeated(dec, slot, item, parent, None))
            continue
        one = element(dec, slot, item, parent, position)
        position += 1
        if one is not SKIP:
            out.append(one)
    return out


def _map(dec: _Decoder, slot: Slot, value: Any, parent: Path, index: int | None) -> Any:
    entry = slot.value
    assert entry is not None
    if type(value) is not dict:
        if type(value) is list:
            return dec.bad_value(slot, value, parent, None)
        dec.invalid(_format((parent, slot.name, None)), slot.type_label, value_text(value))
        return SKIP
    out = {}
    handler = entry.decode
    for position, (key, item) in enumerate(value.items()):
        if item is None:
            continue
        result = handler(dec, entry, item, (parent, slot.name, position), None)
        if result is not SKIP:
            out[_text(key)] = result
    return out


_HANDLERS = {
    K_MESSAGE: _message,
    K_STRING: _string,
    K_BOOL: _bool,
    K_INT: _int,
    K_FLOAT: _float,
    K_ENUM: _enum,
    K_BYTES: _bytes,
    K_STRUCT: _struct,
    K_VALUE: _value,
    K_WKT: _well_known,
}


def _attach_handlers() -> None:
    for slot in schema.all_slots():
        if slot.label == MAP:
            slot.decode = _map
        elif slot.label == REPEATED:
            slot.decode = _repeated
        else:
            slot.decode = _HANDLERS[slot.kind]


_attach_handlers()


def decode(method: Operation, raw: Any, strict: bool = True, flavour: Flavour = Flavour.DEVELOPER) -> dict[str, Any]:
    """The canonical body of a request, or the front end's 400 listing every schema violation.
    ``flavour`` picks the API whose schema the body is read against."""
    if type(raw) is not dict:
        raise errors.invalid_argument(_ROOT, [errors.bad_request((None, _ROOT))])
    decoder = _Decoder(strict)
    try:
        body = decoder.message(_TABLES[flavour][method], raw, None)
    except RecursionError:
        raise errors.invalid_argument(MSG_TOO_DEEP) from None
    if decoder.violations:
        found = decoder.violations[:MAX_VIOLATIONS]
        raise errors.invalid_argument("\n".join(d for _, d in found), [errors.bad_request(*found)])
    return body


def parse_request(
    method: Operation,
    raw: Any,
    model: ModelInfo,
    strict: bool = True,
    flavour: Flavour = Flavour.DEVELOPER,
    size: int = 0,
) -> dict[str, Any]:
    """Decodes a body, then applies the limits and, unless lenient, the flavour's semantic rules;
    returns the canonical body. ``size`` is the body's length as sent, for the input token limit."""
    return _checked(method, decode(method, raw, strict, flavour), model, strict, flavour, size)


def parse_body(
    method: Operation,
    data: bytes,
    model: ModelInfo,
    *,
    strict: bool = True,
    flavour: Flavour = Flavour.DEVELOPER,
    size: int | None = None,
) -> dict[str, Any]:
    """:func:`parse_request` of a body's bytes as ``json_body.parse_json`` reads them: the same body
    and the same errors, through ``fast_decode`` when it can tell the canonical body without the
    walk (most requests: the walk costs them two to three times as much). ``size`` defaults to ``len(data)``."""
    if size is None:
        size = len(data)
    raw, fast = parsed(data)
    body = decode_fast(method, raw, flavour) if fast else None
    if body is not None:
        return _checked(method, body, model, strict, flavour, size)
    return parse_request(method, raw, model, strict, flavour, size)


def parsed(data: bytes) -> tuple[Any, bool]:
    """A body as ``json_body.parse_json`` reads it, and whether the fast path may judge it: not when
    it may hold a lone surrogate (which the walk rewrites) or nests too deeply (:func:`_shallow`)."""
    raw = json_body.quick_json(data)
    if raw is not json_body.UNREAD:
        return raw, _shallow(data, raw)
    raw = json_body.standard_json(data)
    return raw, json_body.without_lone_surrogates(data) and _shallow(data, raw)


_FEW_BRACKETS = 128


def _shallow(data: bytes, raw: Any) -> bool:
    """Whether ``raw`` nests no deeper than orjson writes (254 levels), far within what the walk reads.

    Deeper bodies are the walk's to judge: past Python's recursion limit it refuses them as nested
    too deeply, which the fast path would not. Few brackets prove it at once; otherwise orjson's
    own depth limit does.
    """
    if data.count(b"{") + data.count(b"[") <= _FEW_BRACKETS:
        return True
    try:
        orjson.dumps(raw)
    except TypeError:
        return False
    return True


def decode_fast(method: Operation, raw: Any, flavour: Flavour = Flavour.DEVELOPER) -> dict[str, Any] | None:
    """:func:`decode`'s canonical body of ``raw`` by ``fast_decode`` alone, or None where it cannot
    tell (``raw`` is then left as it was). ``raw`` must hold no lone surrogate; it becomes the body."""
    table = _TABLES[flavour].get(method)
    if table is None or type(raw) is not dict:
        return None
    return (_fast or _load_fast())(table, raw, _Decoder)


_fast: Callable[[dict[str, Slot], dict[str, Any], Callable[[bool], Any]], dict[str, Any] | None] | None = None


def _load_fast() -> Callable[[dict[str, Slot], dict[str, Any], Callable[[bool], Any]], dict[str, Any] | None]:
    """``fast_decode.decode``, imported (with msgspec) at the first body rather than with this module."""
    global _fast
    from . import fast_decode

    _fast = fast_decode.decode
    return _fast


def _checked(
    method: Operation, body: dict[str, Any], model: ModelInfo, strict: bool, flavour: Flavour, size: int
) -> dict[str, Any]:
    """The limits and, unless lenient, the semantic rules, on a canonical body."""
    rules.limits(method, body)
    if strict:
        rules.check(method, body, model, flavour)
    rules.input_limit(method, body, model, size)
    return body
