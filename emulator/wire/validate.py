"""Request bodies checked the way the real front end checks them, in two stages.

:func:`decode` walks the JSON once against Google's v1beta schema (the slot tables of ``schema``)
and returns the canonical body: camelCase keys, enum names, integral numbers as ints, bytes in the
standard base64 alphabet. What does not fit the schema is reported with the front end's texts and
snake_case field paths, all violations at once. The semantic rules (``rules``) then check what a
schema cannot express. Lenient mode drops unknown fields and skips the semantic rules; values of the
wrong type are rejected in both modes, since no backend could make sense of them.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from ..backends.base import Method
from ..catalogue import ModelInfo
from . import errors, rules, schema
from .schema import BAD, CONVERT, K_BYTES, K_ENUM, K_MESSAGE, K_STRUCT, K_VALUE, MAP, REPEATED, Slot

MAX_VIOLATIONS = 100
_TABLES = {method: schema.table_for(cls.DESCRIPTOR) for method, cls in schema.REQUEST_CLASSES.items()}
_ROOT = 'Invalid JSON payload received. Unknown name "": Root element must be a message.'


class _Decoder:
    """One walk over one body; collects violations instead of stopping at the first."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.violations: list[tuple[str | None, str]] = []

    def unknown(self, key: str, path: str, reason: str) -> None:
        where = f" at '{path}'" if path else ""
        self.violations.append((path or None, f'Invalid JSON payload received. Unknown name "{key}"{where}: {reason}'))

    def invalid(self, path: str, slot: Slot, value: Any) -> None:
        shown = json.dumps(value, ensure_ascii=False)
        self.violations.append((path, f"Invalid value at '{path}' ({slot.type_label}), {shown}"))

    def message(self, table: dict[str, Slot], value: dict[str, Any], path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        oneofs: dict[str, str] = {}
        for key, item in value.items():
            slot = table.get(key)
            if slot is None:
                if self.strict:
                    self.unknown(key, path, "Cannot find field.")
                continue
            if item is None and slot.kind != K_VALUE:
                continue
            if slot.oneof is not None:
                taken = oneofs.setdefault(slot.oneof, slot.json_name)
                if taken != slot.json_name:
                    self.unknown(key, path, f"Oneof field '{slot.oneof}' is already set. Cannot set '{slot.name}'")
                    continue
            field_path = f"{path}.{slot.name}" if path else slot.name
            if slot.label == REPEATED:
                # The front end takes a lone value for a repeated field as a list of one.
                items = item if type(item) is list else [item]
                out[slot.json_name] = [self.value(slot, v, f"{field_path}[{i}]") for i, v in enumerate(items)]
            elif type(item) is list and slot.kind != K_VALUE:
                self.unknown(key, path, "Proto field is not repeating, cannot start list.")
            elif slot.label == MAP:
                out[slot.json_name] = self.map(slot, item, field_path)
            else:
                out[slot.json_name] = self.value(slot, item, field_path)
        return out

    def map(self, slot: Slot, value: Any, path: str) -> dict[str, Any]:
        if type(value) is not dict:
            self.invalid(path, slot, value)
            return {}
        assert slot.value is not None
        return {k: self.value(slot.value, v, f"{path}[{i}].value") for i, (k, v) in enumerate(value.items())}

    def value(self, slot: Slot, value: Any, path: str) -> Any:
        kind = slot.kind
        if kind == K_MESSAGE:
            if type(value) is dict:
                return self.message(slot.table, value, path)
        elif kind == K_VALUE:
            return value
        elif kind == K_STRUCT:
            if type(value) is dict:
                return value
        elif kind in CONVERT:
            converted = CONVERT[kind](slot, value)
            if converted is not BAD:
                if kind == K_ENUM:
                    return slot.names.get(converted, converted)
                if kind == K_BYTES:
                    return value if _is_standard_base64(value) else base64.b64encode(converted).decode()
                return converted
        elif type(value) not in (dict, list):  # other well-known types: Duration, Timestamp, wrappers
            return value
        self.invalid(path, slot, value)
        return None


def _is_standard_base64(text: str) -> bool:
    return len(text) % 4 == 0 and "-" not in text and "_" not in text


def decode(method: Method, raw: Any, strict: bool = True) -> dict[str, Any]:
    """The canonical body of a request, or the front end's 400 listing every schema violation."""
    if type(raw) is not dict:
        raise errors.invalid_argument(_ROOT, [errors.bad_request((None, _ROOT))])
    decoder = _Decoder(strict)
    body = decoder.message(_TABLES[method], raw, "")
    if decoder.violations:
        found = decoder.violations[:MAX_VIOLATIONS]
        raise errors.invalid_argument("\n".join(d for _, d in found), [errors.bad_request(*found)])
    return body


def parse_request(method: Method, raw: Any, model: ModelInfo, strict: bool = True) -> dict[str, Any]:
    """Decodes a body, then applies the semantic rules unless lenient; returns the canonical body."""
    body = decode(method, raw, strict)
    if strict:
        rules.check(method, body, model)
    return body
