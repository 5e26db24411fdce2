"""How far apart two requests are, and where they first differ, for misses people can act on.

The message names a field path in the canonical body (``contents[1].parts[0].text``), the request's
value first and the recorded one second, so a test author sees at once what changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..wire.flavour import Flavour


@dataclass(frozen=True)
class Parts:
    """A request reduced to what matching compares; parts a matcher ignores are ``None``. Requests of
    different flavours never match, whatever the matcher ignores: their answers differ in shape."""

    method: str | None
    path: str | None
    query: str | None
    body: Any
    flavour: Flavour = Flavour.DEVELOPER


MISSING = object()
_SHOWN = 60


def show(value: Any) -> str:
    if value is MISSING:
        return "missing"
    text = repr(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def first_body_difference(a: Any, b: Any, path: str = "") -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            found = first_body_difference(a.get(key, MISSING), b.get(key, MISSING), _join(path, key))
            if found is not None:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            found = first_body_difference(
                a[i] if i < len(a) else MISSING, b[i] if i < len(b) else MISSING, _join(path, i)
            )
            if found is not None:
                return found
        return None
    if a == b and type(a) is type(b):
        return None
    return f"{path or 'body'}: {show(a)} != {show(b)}"


def first_difference(wanted: Parts, recorded: Parts) -> str | None:
    for name in ("method", "path", "query"):
        a, b = getattr(wanted, name), getattr(recorded, name)
        if a != b:
            return f"{name}: {show(a)} != {show(b)}"
    return first_body_difference(wanted.body, recorded.body)


def body_distance(a: Any, b: Any) -> int:
    """Differing leaves; a subtree present on one side only counts as one."""
    if isinstance(a, dict) and isinstance(b, dict):
        return sum(body_distance(a.get(k, MISSING), b.get(k, MISSING)) for k in a.keys() | b.keys())
    if isinstance(a, list) and isinstance(b, list):
        extra = abs(len(a) - len(b))
        return extra + sum(body_distance(x, y) for x, y in zip(a, b, strict=False))
    return 0 if a == b and type(a) is type(b) else 1


def distance(wanted: Parts, recorded: Parts) -> tuple[int, int, int, int]:
    """Ordered so that the same call with a different body beats a different call."""
    return (
        int(wanted.method != recorded.method),
        int(wanted.path != recorded.path),
        int(wanted.query != recorded.query),
        body_distance(wanted.body, recorded.body),
    )
