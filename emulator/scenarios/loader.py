"""Reading scenario files: bounded, tag-free, and with errors a person can act on.

YAML is read by :mod:`emulator.safe_yaml` (safe, libyaml-accelerated), so a file can never name a
Python object. Files over :data:`MAX_BYTES` are refused before they are read, and a YAML file may use at most
:data:`MAX_ALIASES` aliases (``*name``): anchors are handy for reusing a block, but each alias can
multiply the document (the "billion laughs" attack), and a handful is all a scenario needs.
Validation errors name the file, the rule (by index and name) and the field, one line each.
"""

from __future__ import annotations

import difflib
import json
import re
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .. import safe_yaml
from .model import Scenario

MAX_BYTES = 1024 * 1024
MAX_ALIASES = 8
MAX_REPORTED = 20
_FIELD = re.compile(r"[a-z_$][a-z0-9_]*")
_TYPE_TAGS = {"str", "int", "float", "bool", "list", "dict", "none"}


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message says where and why."""


def load_scenario(path: str | Path) -> Scenario:
    """A scenario from a ``.json`` file, or from YAML (any other suffix)."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read scenario: {exc.strerror}") from None
    if size > MAX_BYTES:
        raise ScenarioError(f"{path}: scenario file is {size} bytes; the limit is {MAX_BYTES}")
    return parse_scenario(path.read_bytes(), source=str(path), json_format=path.suffix.lower() == ".json")


def parse_scenario(text: str | bytes, source: str = "<scenario>", json_format: bool = False) -> Scenario:
    """A scenario from YAML (or JSON) text; ``source`` is how messages name it."""
    raw = text.encode() if isinstance(text, str) else text
    if len(raw) > MAX_BYTES:
        raise ScenarioError(f"{source}: scenario is {len(raw)} bytes; the limit is {MAX_BYTES}")
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{source}: scenario is not UTF-8 text") from None
    data = _json(decoded, source) if json_format else _json_or_yaml(decoded, source)
    return scenario_from_data(data, source)


def _json_or_yaml(text: str, source: str) -> Any:
    """JSON is YAML too, but the JSON parser reads it thirty times faster (and holds the GIL far less)."""
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            pass  # YAML's flow style, or a mistake: the YAML reader says where
    return _yaml(text, source)


def scenario_from_data(data: Any, source: str = "<scenario>") -> Scenario:
    """A scenario from already-parsed data (e.g. a JSON body posted to a control endpoint)."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario is a mapping with at least 'name' and 'rules'")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(explain(exc, data, source)) from None


def _json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{source}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None


def _yaml(text: str, source: str) -> Any:
    try:
        return safe_yaml.load(text, MAX_ALIASES)
    except safe_yaml.AliasBomb:
        raise ScenarioError(
            f"{source}: more than {MAX_ALIASES} YAML aliases; at most {MAX_ALIASES} are allowed"
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise ScenarioError(f"{where}: invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{source}: invalid YAML: {exc}") from None


def explain(exc: ValidationError, data: dict[str, Any], source: str) -> str:
    """One line per problem: ``file: rules[2] "name": reply.parts[0].text: what is wrong``."""
    lines: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        raw = tuple(error["loc"])
        if error["type"] == "extra_forbidden" and raw:  # the offending key itself, whatever it looks like
            loc = (*(seg for seg in raw[:-1] if isinstance(seg, int) or _is_field(seg)), str(raw[-1]))
        else:
            loc = tuple(seg for seg in raw if isinstance(seg, int) or _is_field(seg))
        where = _where(loc, data)
        message = _message(error, loc)
        if message not in lines.setdefault(where, []):
            lines[where].append(message)
    shown = [f"{source}: {where}{'; or '.join(messages)}" for where, messages in lines.items()]
    extra = len(shown) - MAX_REPORTED
    return "\n".join(shown[:MAX_REPORTED] + ([f"... and {extra} more"] if extra > 0 else []))


def _is_field(segment: str) -> bool:
    """Field names survive; pydantic's union branch labels ('str', 'TextMatch', 'function-after[...]') go."""
    return bool(_FIELD.fullmatch(segment)) and segment not in _TYPE_TAGS


def _where(loc: tuple[str | int, ...], data: dict[str, Any]) -> str:
    head = ""
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = data.get("rules")
        rule = rules[loc[1]] if isinstance(rules, list) and loc[1] < len(rules) else None
        name = rule.get("name") if isinstance(rule, dict) else None
        head = f'rules[{loc[1]}] "{name}"' if isinstance(name, str) and name else f"rules[{loc[1]}]"
        loc = loc[2:]
    path = "".join(f"[{seg}]" if isinstance(seg, int) else f".{seg}" for seg in loc).lstrip(".")
    return ": ".join(p for p in (head, path) if p) + ": " if head or path else ""


def _message(error: Any, loc: tuple[str | int, ...]) -> str:
    if error["type"] == "extra_forbidden":
        known = _known_fields(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1) if known else []
        hint = f"; did you mean {close[0]!r}?" if close else (f" (known: {', '.join(known)})" if known else "")
        return f"unknown field{hint}"
    message = str(error["msg"])
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _known_fields(loc: tuple[str | int, ...]) -> list[str]:
    """Field names of the model at ``loc``, found by walking the annotations from the root."""
    model: type[BaseModel] | None = Scenario
    for segment in loc:
        if model is None:
            return []
        if isinstance(segment, int):
            continue
        field = next((f for n, f in model.model_fields.items() if segment in (n, f.alias)), None)
        model = _inner_model(field.annotation) if field is not None else None
    if model is None:
        return []
    return [f.alias or n for n, f in model.model_fields.items()]


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
