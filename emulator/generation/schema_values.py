"""Schema-valid JSON values, made up deterministically from a seed.

The fake models need answers a client's parser accepts: structured output must validate against
``responseSchema``/``responseJsonSchema``, function-call arguments against a declaration's
``parameters``/``parametersJsonSchema``. Correctness comes first, plausibility second: property
names and words from the prompt nudge strings towards something a person would write.

Choices worth knowing:

* A ``None`` or empty top-level schema yields ``{}``: callers pass empty schemas for parameter lists
  without parameters, and an empty object is what a real model sends for those. A nested schema
  with no constraints (``items: {}``) accepts anything and yields a short string.
* ``pattern`` is met by generating from the regex itself (literals, classes, repeats, groups,
  alternation). Look-arounds and back-references are not generated; for those, and when length
  bounds fight the pattern, the string is built without the pattern and may not match it: a
  plausible answer beats an error for a schema the real service accepts.
* Recursion (``$ref`` cycles) is cut softly: past a few nested refs or deep nesting, only required
  properties are filled, arrays get their minimum length, nullable types give ``null`` and
  ``anyOf``/``oneOf`` prefer non-recursive branches. A schema that still recurses forever (a required
  self-reference) has no finite value and raises ``ValueError``.
* ``not``, ``patternProperties``, ``propertyNames``, ``contains``, ``if``/``then`` and non-local
  ``$ref`` are ignored (a missing ref target counts as an empty schema).
* Work is bounded by a :class:`~emulator.budget.Budget`: a value whose JSON would exceed the output
  tokens stops there (:class:`~emulator.budget.Exhausted` carries the part made so far, ending in
  :data:`CUT`; :func:`cut_json` writes it as the real model's truncated text), and a schema that
  needs more steps than any servable one raises :class:`~emulator.budget.TooComplex`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import random
import re
import string
import uuid
from fractions import Fraction
from typing import Any
from urllib.parse import unquote

from ..budget import Budget, Exhausted
from ..patterns import PatternError
from ..patterns import search as pattern_search
from ..wire import tokens as token_rule
from .grounding import MISSING, Grounding
from .regex_strings import PatternWriter, Unsupported

__all__ = ["CUT", "cut_json", "value_for_schema"]

CUT = "\x00\x01cut\x01\x00"
"""The last leaf of a partial value: the output ran out before it."""
_CUT_INSIDE = "\x00\x02cut\x02\x00"
"""Ends a partial string: the output ran out inside it."""
_CUT_LEAF = json.dumps(CUT)
_CUT_TEXT = json.dumps(_CUT_INSIDE)[1:-1]
DEFAULT_OUTPUT_TOKENS = 65_536
MSG_REF_LOOP = (
    "ref loops are only supported if they include optional or nullable property values, or a "
    "potentially-zero-length array items, but a ref loop of required fields was found at "
)
HINT_CHARS = 65_536
"""Prompt text lent to strings: words and enum members named in it; more would only cost time."""

_SOFT_REFS, _SOFT_DEPTH, _HARD = 2, 8, 48
_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")
_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_STOP = frozenset(
    {
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "what",
        "who",
        "how",
        "why",
        "are",
        "was",
        "you",
        "your",
        "about",
        "from",
        "into",
        "tell",
    }
)
_WORDS: dict[str, tuple[str, ...]] = {
    "city": ("Lisbon", "Nairobi", "Osaka", "Toronto", "Lyon", "Austin", "Melbourne", "Krakow"),
    "country": ("Portugal", "Kenya", "Japan", "Canada", "France", "Brazil", "Norway"),
    "name": ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Katherine Johnson", "Mary Jackson"),
    "color": ("red", "teal", "amber", "navy", "olive"),
    "language": ("English", "French", "Japanese", "Swahili", "Portuguese"),
    "currency": ("USD", "EUR", "JPY", "GBP"),
    "status": ("active", "pending", "done"),
}
_ALIASES = {
    "town": "city",
    "author": "name",
    "user": "name",
    "username": "name",
    "person": "name",
    "owner": "name",
    "colour": "color",
    "lang": "language",
}
_SHAPES = {
    "email": "email",
    "url": "uri",
    "uri": "uri",
    "link": "uri",
    "website": "uri",
    "uuid": "uuid",
    "date": "date",
    "birthday": "date",
    "timestamp": "date-time",
    "ip": "ipv4",
    "hostname": "hostname",
}
_PERSON = frozenset({"first", "last", "full", "user", "display", "author", "customer", "contact", "person"})
_PROSE = frozenset(
    {"description", "summary", "text", "content", "message", "answer", "reason", "comment", "body", "explanation"}
)
_RANGES = {
    "age": (18, 80),
    "year": (1990, 2030),
    "rating": (1, 5),
    "score": (0, 100),
    "price": (5, 500),
    "amount": (1, 1000),
    "quantity": (1, 10),
    "count": (1, 20),
    "latitude": (-90, 90),
    "lat": (-90, 90),
    "longitude": (-180, 180),
    "lng": (-180, 180),
    "lon": (-180, 180),
    "temperature": (-10, 35),
    "month": (1, 12),
    "day": (1, 28),
    "hour": (0, 23),
    "minute": (0, 59),
}
_SECTIONS = ("docs", "blog", "news", "shop", "help", "api", "about", "events")
_PADDED = {
    "email": ("", "@example.com", "", 1),
    "uri": ("https://example.com/", "", "/", 0),
    "url": ("https://example.com/", "", "/", 0),
    "hostname": ("", ".example.com", ".", 1),
}


def value_for_schema(
    schema: dict[str, Any] | None,
    *,
    seed: int | str | bytes,
    json_schema: bool = False,
    hint: str = "",
    budget: Budget | None = None,
    grounding: Grounding | None = None,
) -> Any:
    """A JSON value valid against ``schema``; the same (schema, seed, hint) always gives the same value.

    ``json_schema`` picks the dialect: False for Google's ``Schema`` (``responseSchema``,
    ``parameters``), True for JSON Schema (``responseJsonSchema``, ``parametersJsonSchema``).
    ``hint`` (say, the prompt) lends words to free-text strings. Raises ``ValueError`` when no value
    can satisfy the schema, so callers can answer with an API error. ``budget`` bounds output and work
    (by default :data:`DEFAULT_OUTPUT_TOKENS`); see the module docstring for what a spent one raises.
    ``grounding`` lends the values a prompt names (:mod:`.grounding`) to the properties they fit, and
    the number of items it asks for to arrays; a lent value is only used where the schema accepts it.
    """
    if not schema:
        return {}
    budget = budget if budget is not None else Budget(DEFAULT_OUTPUT_TOKENS)
    gen = _Gen(schema, seed, hint, google=not json_schema, budget=budget)
    gen.grounding = grounding
    return gen.value(schema, 0, 0, "")


def cut_json(partial: Any, limit: int, indent: int | None = 2) -> str:
    """The text a model writes before its output ran out: ``partial`` serialised up to :data:`CUT`,
    then cut to ``limit`` tokens. It is a prefix of the text the whole value would have made."""
    text = json.dumps(partial, ensure_ascii=False, indent=indent)
    ends = [at for at in (text.find(_CUT_LEAF), text.find(_CUT_TEXT)) if at >= 0]
    return token_rule.truncate(text[: min(ends)] if ends else text, limit)


def _json_tokens(value: Any) -> int:
    """Tokens of a value's JSON text (whitespace is free in the token rule, so indenting changes nothing)."""
    if isinstance(value, str):
        return token_rule.count_text(value) + 2
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, (int, float)):
        return len(repr(value))
    return token_rule.count_text(_canon(value))


def _num(raw: Any) -> int | float | None:
    """Numeric keyword values; Google's int64 fields arrive as JSON strings."""
    if isinstance(raw, str):
        try:
            raw = float(raw) if any(c in raw for c in ".eEnN") else int(raw)
        except ValueError:
            return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        return None
    return raw if math.isfinite(raw) else None


def _count(node: dict[str, Any], key: str, default: int | None) -> int | None:
    value = _num(node.get(key))
    return default if value is None else max(0, math.ceil(value) if key.startswith("min") else math.floor(value))


def _types(node: dict[str, Any]) -> list[str]:
    raw = node.get("type")
    names = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return [n.lower() for n in names if isinstance(n, str) and n.lower() in _TYPES]


def _is_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    py = {"null": type(None), "boolean": bool, "string": str, "array": list, "object": dict}[kind]
    return isinstance(value, py)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``1 == 1.0`` but ``True != 1``."""
    return isinstance(a, bool) == isinstance(b, bool) and _canon(a) == _canon(b)


def _key(value: Any) -> tuple[bool, str]:
    """What :func:`_same` compares, as a hashable key: intersecting enums stays linear."""
    return isinstance(value, bool), _canon(value)


def _canon(value: Any) -> str:
    def norm(v: Any) -> Any:
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, list):
            return [norm(x) for x in v]
        return {k: norm(x) for k, x in v.items()} if isinstance(v, dict) else v

    return json.dumps(norm(value), sort_keys=True)


def _meet_types(a: Any, b: Any) -> list[str]:
    left, right = _types({"type": a}), _types({"type": b})
    out = [t for t in left if t in right or (t == "integer" and "number" in right)]
    out += ["integer"] if "number" in left and "integer" in right and "integer" not in out else []
    if not out:
        raise ValueError(f"allOf asks for types {left} and {right} at once")
    return out


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Both schemas at once (allOf, $ref with siblings), for the simple keywords; else ``a`` wins."""
    out = dict(a)
    for key, val in b.items():
        cur, left, right = out.get(key), _num(out.get(key)), _num(val)
        if key not in out:
            out[key] = val
        elif key in _LOWER + _UPPER and left is not None and right is not None:
            out[key] = max(left, right) if key in _LOWER else min(left, right)
        elif key == "type":
            out[key] = _meet_types(cur, val)
        elif key in ("required", "allOf") and isinstance(cur, list) and isinstance(val, list):
            out[key] = list(dict.fromkeys([*cur, *val])) if key == "required" else [*cur, *val]
        elif key == "enum" and isinstance(cur, list) and isinstance(val, list):
            keep = {_key(y) for y in val}
            out[key] = [x for x in cur if _key(x) in keep]
        elif key == "properties" and isinstance(cur, dict) and isinstance(val, dict):
            out[key] = {**cur, **{k: {"allOf": [cur[k], v]} if k in cur else v for k, v in val.items()}}
        elif key in ("items", "additionalProperties") and isinstance(cur, dict) and isinstance(val, dict):
            out[key] = {"allOf": [cur, val]}
        elif key == "additionalProperties" and val is False:
            out[key] = False
    return out


def _bounds(node: dict[str, Any]) -> tuple[float | None, bool, float | None, bool]:
    """(low, low is exclusive, high, high is exclusive), for numeric and draft-4 boolean exclusives."""
    result: list[Any] = []
    for plain, strict in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        bound, flag = _num(node.get(plain)), node.get(strict)
        other = _num(flag)
        if other is not None and (bound is None or (other >= bound if plain == "minimum" else other <= bound)):
            bound, flag = other, True
        result += [bound, flag is True and bound is not None]
    return result[0], result[1], result[2], result[3]


def _window(lo: float | None, hi: float | None, name_range: tuple[int, int]) -> tuple[float, float]:
    """A plausible range inside the bounds: the name's usual range where it overlaps them."""
    dlo, dhi = name_range
    a, b = (dlo if lo is None else max(lo, dlo)), (dhi if hi is None else min(hi, dhi))
    if a <= b:
        return a, b
    if lo is not None:
        return lo, lo + dhi - dlo if hi is None else hi
    assert hi is not None  # both unset always overlaps
    return hi - (dhi - dlo), hi


def _float_multiple_ok(value: float, step: float) -> bool:
    """The float check common validators (jsonschema among them) apply to ``multipleOf``."""
    quotient = value / step
    return math.isfinite(quotient) and int(quotient) == quotient


def _shorten(values: list[Any]) -> str:
    shown = repr(values[:5])
    return shown if len(values) <= 5 else f"{shown[:-1]}, ... ({len(values)} members)]"


def _list(raw: Any) -> list[Any]:
    return raw if isinstance(raw, list) else []


def _dict(raw: Any) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else {}


def _tokens(name: str) -> list[str]:
    return re.findall(r"[a-z]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower())


def _singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name or "item"


def _fit(text: str, lo: int, hi: int | None, joiner: str = " ") -> str:
    base = text or "x"
    if len(text) < lo:
        text = text or base
        unit = joiner + base
        text += unit * max(0, -(-(lo - len(text)) // len(unit)))
    if hi is not None and len(text) > max(hi, lo):
        text = text[: max(hi, lo)]
        text = text[:-1] + "x" if text and text[-1] in joiner + " ./" else text  # no dangling separator
    return text


class _Gen:
    """One generation: the seeded random stream, the root (for $ref) and the dialect."""

    def __init__(
        self, root: dict[str, Any], seed: int | str | bytes, hint: str, *, google: bool, budget: Budget
    ) -> None:
        if isinstance(seed, bytes):
            tag = b"bytes:" + seed
        else:
            tag = f"{type(seed).__name__}:{seed}".encode("utf-8", "surrogatepass")
        digest = hashlib.sha256(tag + b"\0" + hint.encode("utf-8", "surrogatepass")).digest()
        self.rng = random.Random(int.from_bytes(digest, "big"))
        self.budget = budget
        self.last_ref = ""
        hint = hint[:HINT_CHARS]
        self.root, self.google, self.hint = root, google, hint.lower()
        self.words = list(dict.fromkeys(w for w in re.findall(r"[a-z]{3,}", self.hint) if w not in _STOP))
        self.plain = False  # set while retrying for uniqueness: skip the small word tables
        self.patterns = PatternWriter(self.rng)
        self.grounding: Grounding | None = None

    # -- schema plumbing ------------------------------------------------------------------------

    def norm(self, schema: Any) -> dict[str, Any]:
        if schema is False:
            raise ValueError("a 'false' schema accepts no value")
        if not isinstance(schema, dict):
            return {}
        if self.google:
            return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): v for k, v in schema.items()}
        return dict(schema)

    def lookup(self, ref: Any) -> Any:
        node: Any = self.root
        if not isinstance(ref, str) or not ref.startswith("#"):
            return {}
        for part in filter(None, ref[1:].split("/")):
            part = unquote(part).replace("~1", "/").replace("~0", "~")
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                return {}
        return node

    def flatten(self, schema: Any, refs: int) -> tuple[dict[str, Any], int]:
        """Resolve this node's ``$ref`` and ``allOf`` into one schema; count refs for the cut-off."""
        node = self.norm(schema)
        while "$ref" in node or "allOf" in node:
            if refs > _HARD:
                raise ValueError("schema references never bottom out ($ref/allOf cycle)")
            if "$ref" in node:
                self.last_ref = str(node["$ref"])
                rest = {k: v for k, v in node.items() if k != "$ref"}
                node, refs = _merge(self.norm(self.lookup(node["$ref"])), rest), refs + 1
                continue
            merged = {k: v for k, v in node.items() if k != "allOf"}
            for part in node["allOf"] if isinstance(node["allOf"], list) else []:
                flat, refs = self.flatten(part, refs)
                merged = _merge(merged, flat)
            node = merged
        return node, refs

    def matches(self, value: Any, schema: Any) -> bool:
        """A cheap conservative check: False only when ``value`` surely fails ``schema``'s own keywords."""
        try:
            node = self.norm(schema)
        except ValueError:
            return False
        types = _types(node)
        if types and not any(_is_type(value, t) for t in types) and not (value is None and node.get("nullable")):
            return False
        if "const" in node and not _same(node["const"], value):
            return False
        if isinstance(node.get("enum"), list) and not any(_same(e, value) for e in node["enum"]):
            return False
        if isinstance(value, str):
            return self.string_ok(value, node)
        if _is_type(value, "number"):
            lo, lo_x, hi, hi_x = _bounds(node)
            step = _num(node.get("multipleOf"))
            return not (
                (lo is not None and (value < lo or (lo_x and value == lo)))
                or (hi is not None and (value > hi or (hi_x and value == hi)))
                or (step is not None and step > 0 and not _float_multiple_ok(value, step))
            )
        if isinstance(value, dict):
            props = _dict(node.get("properties"))
            return all(r in value for r in _list(node.get("required")) if isinstance(r, str)) and (
                node.get("additionalProperties") is not False or all(k in props for k in value)
            )
        return True

    def string_ok(self, value: str, node: dict[str, Any]) -> bool:
        least, most, pattern = _count(node, "minLength", 0) or 0, _count(node, "maxLength", None), node.get("pattern")
        try:
            bad_pattern = isinstance(pattern, str) and not pattern_search(pattern, value)
        except PatternError:
            bad_pattern = False  # not checkable in linear time: the value is sent unchecked
        return least <= len(value) <= (len(value) if most is None else most) and not bad_pattern

    # -- dispatch -------------------------------------------------------------------------------

    def value(self, schema: Any, depth: int, refs: int, name: str) -> Any:
        """A value for ``schema``, its output counted; output made for a branch that failed is given back."""
        self.budget.step()
        before = self.budget.tokens
        try:
            return self.pick(schema, depth, refs, name)
        except ValueError:
            self.budget.tokens = before
            raise

    def pick(self, schema: Any, depth: int, refs: int, name: str) -> Any:
        if depth > _HARD:
            if self.last_ref:  # the real service's words for a cycle of required references
                raise ValueError(MSG_REF_LOOP + self.last_ref.lstrip("#/").replace("/", "."))
            raise ValueError("schema nests too deep to satisfy (a required self-reference?)")
        node, refs = self.flatten(schema, refs)
        soft = refs > _SOFT_REFS or depth > _SOFT_DEPTH
        if "const" in node:
            return self.whole(copy.deepcopy(node["const"]))
        if self.grounding is not None and name and not self.plain:
            found = self.grounded(node, name, depth, take=True)
            if found is not MISSING:
                return self.whole(copy.deepcopy(found))
        for key in ("oneOf", "anyOf"):
            if isinstance(node.get(key), list) and node[key]:
                return self.branch(node, key, depth, refs, name, soft)
        if isinstance(node.get("enum"), list):
            self.budget.work(len(node["enum"]))
            rest = {k: v for k, v in node.items() if k != "enum"}
            options = [v for v in node["enum"] if self.matches(v, rest)]
            liked = [] if self.plain else [v for v in options if isinstance(v, str) and v.lower() in self.hint]
            if options:
                return self.whole(copy.deepcopy(self.rng.choice(liked or options)))
            if not self.google:
                raise ValueError(f"no value of enum {_shorten(node['enum'])} fits the rest of the schema")
        kind = self.kind(node, soft)
        if kind in ("boolean", "integer", "number", "string") and "format" not in node:
            samples = [node.get("default"), node.get("example"), *_list(node.get("examples"))]
            self.budget.work(len(samples))
            good = [v for v in samples if v is not None and _is_type(v, kind) and self.matches(v, node)]
            if good and self.rng.random() < 0.5:
                return self.whole(copy.deepcopy(self.rng.choice(good)))
        if kind == "any":
            return self.whole({}) if depth == 0 else self.leaf(self.string({}, name))
        if kind in ("array", "object"):
            return getattr(self, kind)(node, depth, refs, name, soft)
        return self.leaf(None if kind == "null" else getattr(self, kind)(node, name))

    def grounded(self, node: dict[str, Any], name: str, depth: int, take: bool) -> Any:
        """The prompt's value for property ``name`` when ``node`` (flattened) surely accepts it, else
        :data:`MISSING`; ``take`` False only peeks (the value stays available)."""
        if self.grounding is None or {"oneOf", "anyOf", "enum", "const"} & node.keys():
            return MISSING
        kinds = _types(node)
        if not kinds:
            return MISSING
        used = set(self.grounding.used)
        found = self.grounding.value(name, node, kinds, depth)
        if not take:
            self.grounding.used = used
        if found is MISSING or isinstance(found, (dict, list)):
            return MISSING
        if any(_is_type(found, t) for t in kinds) and self.matches(found, node):
            if isinstance(found, float) and "integer" in kinds and "number" not in kinds:
                found = int(found)
            return found
        if take:
            self.grounding.used = used
        return MISSING

    # -- output accounting ----------------------------------------------------------------------

    def whole(self, value: Any) -> Any:
        """A value taken whole (const, enum member, example): out of room, the output ends inside it."""
        self.budget.spend(_json_tokens(value), value, complete=True)
        return value

    def leaf(self, value: Any) -> Any:
        """A generated scalar; a string that does not fit is cut where the output ends."""
        if not isinstance(value, str) or self.budget.tokens is None:
            return self.whole(value)
        cost = _json_tokens(value)
        if cost <= self.budget.tokens:
            self.budget.spend(cost)
            return value
        room = self.budget.tokens - 1  # after the opening quote
        self.budget.tokens = -1
        raise Exhausted(token_rule.truncate(value, room) + _CUT_INSIDE if room >= 0 else CUT)

    def longest(self, least: int) -> int:
        """``least`` capped where a string would surely fill the output: no need to build more of it.

        Never below 65,536, so that a string the output can hold is made exactly as without a budget."""
        room = self.budget.tokens
        return least if room is None else min(least, max(8 * (room + 2), 65_536))

    def kind(self, node: dict[str, Any], soft: bool) -> str:
        types = _types(node)
        if not types:
            fmt = str(node.get("format", "")).lower()
            keys = set(node)
            if keys & {"properties", "required", "additionalProperties", "minProperties", "maxProperties"}:
                types = ["object"]
            elif keys & {"items", "prefixItems", "minItems", "maxItems", "uniqueItems"}:
                types = ["array"]
            elif fmt in ("int32", "int64") or fmt in ("float", "double"):
                types = ["integer" if fmt.startswith("int") else "number"]
            elif keys & {"minLength", "maxLength", "pattern", "format"}:
                types = ["string"]
            elif keys & {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}:
                types = ["number"]
            else:
                return "any"
        solid = [t for t in types if t != "null"]
        if not solid or (soft and ("null" in types or node.get("nullable") is True)):
            return "null"
        return self.rng.choice(solid)

    def branch(self, node: dict[str, Any], key: str, depth: int, refs: int, name: str, soft: bool) -> Any:
        """Try branches in a seeded order; for ``oneOf`` prefer a value no other branch accepts."""
        rest = {k: v for k, v in node.items() if k != key}
        branches = node[key]

        def rank(i: int) -> int:
            b = self.norm(branches[i]) if branches[i] is not False else {"not": {}}
            null = _types(b) == ["null"] or ("const" in b and b["const"] is None)
            deep = bool({"$ref", "properties", "items", "anyOf", "oneOf", "allOf"} & set(b))
            return (0 if null else 1 + deep) if soft else int(null)

        order = list(range(len(branches)))
        self.rng.shuffle(order)
        order.sort(key=rank)
        error: ValueError | None = None
        fallback: list[Any] = []
        flats: list[tuple[dict[str, Any], int] | None] = []
        for raw in branches:
            try:
                flats.append(self.flatten(raw, refs))
            except ValueError as exc:
                error = error or exc
                flats.append(None)
        fallback_cost = 0
        for attempt, i in enumerate(order + order):  # a second round tries minimal values
            flat = flats[i]
            if flat is None:
                continue
            sub_refs = flat[1] if attempt < len(order) else max(flat[1], _SOFT_REFS + 1)
            before = self.budget.tokens
            try:
                value = self.value(_merge(rest, flat[0]), depth, sub_refs, name)
            except ValueError as exc:
                error = error or exc
                continue
            if key == "anyOf":
                return value
            others = [f[0] for j, f in enumerate(flats) if f is not None and j != i]
            self.budget.work(len(others))
            if not any(self.matches(value, other) for other in others):
                return value
            if not fallback:
                fallback = [value]
                fallback_cost = 0 if before is None or self.budget.tokens is None else before - self.budget.tokens
            self.budget.tokens = before  # this value is not sent (yet)
        if fallback:
            self.budget.spend(fallback_cost, fallback[0], complete=True)
            return fallback[0]
        raise error or ValueError(f"no {key} branch can be satisfied")

    # -- scalars --------------------------------------------------------------------------------

    def integer(self, node: dict[str, Any], name: str) -> int:
        lo_f, lo_x, hi_f, hi_x = _bounds(node)
        lo = None if lo_f is None else (math.floor(lo_f) + 1 if lo_x else math.ceil(lo_f))
        hi = None if hi_f is None else (math.ceil(hi_f) - 1 if hi_x else math.floor(hi_f))
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"no integer lies between minimum {lo_f} and maximum {hi_f}")
        raw_step = _num(node.get("multipleOf"))
        step = 1
        if raw_step and raw_step > 0:
            step = int(raw_step) if float(raw_step).is_integer() else Fraction(str(raw_step)).numerator
        a, b = (int(x) for x in _window(lo, hi, self.name_range(name)))
        first, last = -(-a // step) * step, b // step * step
        if first > last:  # no multiple in the plausible window: the nearest one inside the bounds
            if hi is None or first <= hi:
                last = first
            elif lo is None or last >= lo:
                first = last
            else:
                raise ValueError(f"no multiple of {raw_step} lies between minimum {lo_f} and maximum {hi_f}")
        picks: list[int] = [self.rng.randint(first // step, last // step) * step, *range(first, last + 1, step)[:20]]
        if isinstance(raw_step, float) and not raw_step.is_integer():
            return next((v for v in picks if _float_multiple_ok(v, raw_step)), picks[0])
        return picks[0]

    def number(self, node: dict[str, Any], name: str) -> float:
        lo, lo_x, hi, hi_x = _bounds(node)
        if lo is not None and hi is not None and (lo > hi or (lo == hi and (lo_x or hi_x))):
            raise ValueError(f"no number lies between minimum {lo} and maximum {hi}")

        def inside(v: float) -> bool:
            return math.isfinite(v) and not (
                (lo is not None and (v < lo or (lo_x and v == lo)))
                or (hi is not None and (v > hi or (hi_x and v == hi)))
            )

        a, b = _window(lo, hi, self.name_range(name))
        step = _num(node.get("multipleOf"))
        if step and step > 0:
            exact = Fraction(str(step))
            first, last = math.ceil(Fraction(str(a)) / exact), math.floor(Fraction(str(b)) / exact)
            ks = [self.rng.randint(first, last)] if first <= last else []
            ks += range(first - 1, last + 2)[:40]
            found = [v for v in (float(k * exact) for k in ks) if inside(v) and _float_multiple_ok(v, step)]
            if not found:
                raise ValueError(f"no multiple of {step} found between minimum {lo} and maximum {hi}")
            return found[0]
        r = self.rng.random()
        raw = a * (1 - r) + b * r
        near = [math.nextafter(x, y) for x, y in ((lo, math.inf), (hi, -math.inf)) if x is not None]
        middle = [lo / 2 + hi / 2] if lo is not None and hi is not None else []
        for value in (round(raw, 2), raw, a / 2 + b / 2, *middle, *near):
            if inside(value):
                return value
        raise ValueError(f"no number lies strictly between {lo} and {hi}")

    def boolean(self, node: dict[str, Any], name: str) -> bool:
        return self.rng.random() < 0.5

    def name_range(self, name: str) -> tuple[int, int]:
        if self.plain:  # hunting for distinct values: use all the room the bounds give
            return -(10**9), 10**9
        return next((_RANGES[t] for t in reversed(_tokens(name)) if t in _RANGES), (1, 100))

    # -- strings --------------------------------------------------------------------------------

    def string(self, node: dict[str, Any], name: str) -> str:
        lo, hi = _count(node, "minLength", 0) or 0, _count(node, "maxLength", None)
        if hi is not None and lo > hi:
            raise ValueError(f"minLength {lo} exceeds maxLength {hi}")
        lo = self.longest(lo)
        fmt = str(node.get("format", "")).lower()
        if fmt in ("date", "date-time", "time", "email", "uri", "url", "uuid", "ipv4", "ipv6", "hostname"):
            return self.formatted(fmt, lo, hi)
        text = self.text(name)
        pattern = node.get("pattern")
        if not isinstance(pattern, str) or self.matches(text, node):
            return _fit(text, lo, hi)
        return self.from_pattern(pattern, node, lo) or _fit(text, lo, hi)

    def formatted(self, fmt: str, lo: int, hi: int | None) -> str:
        r = self.rng
        y, mo, d, h, mi, s = r.randint(2020, 2026), r.randint(1, 12), r.randint(1, 28), *r.sample(range(60), 3)
        h %= 24
        if fmt in _PADDED:
            head, tail, joiner, least = _PADDED[fmt]
            fixed = len(head) + len(tail)
            room_lo, room_hi = max(lo - fixed, least), None if hi is None else hi - fixed
            if room_hi is not None and room_hi < room_lo:
                raise ValueError(f"no {fmt} string fits maxLength {hi}")
            if self.plain:
                core = "".join(r.choices(string.ascii_lowercase, k=8))
            elif fmt == "email":
                core = f"{r.choice(_WORDS['name']).split()[0]}.{r.choice(_WORDS['name']).split()[-1]}".lower()
            else:
                core = r.choice(_SECTIONS) + (f"/{r.randint(1, 99)}" if fmt != "hostname" else "")
            return head + _fit(core, room_lo, room_hi, joiner) + tail
        value = {
            "date": f"{y:04d}-{mo:02d}-{d:02d}",
            "time": f"{h:02d}:{mi:02d}:{s:02d}Z",
            "date-time": f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z",
            "uuid": str(uuid.UUID(int=r.getrandbits(128), version=4)),
            "ipv4": f"192.0.2.{r.randint(1, 254)}",
            "ipv6": f"2001:db8::{r.randint(1, 0xFFFF):x}",
        }[fmt]
        if not lo <= len(value) <= (len(value) if hi is None else hi):
            raise ValueError(f"a {fmt} string cannot have between {lo} and {hi} characters")
        return value

    def text(self, name: str) -> str:
        """Free text shaped by the property name and the hint's words."""
        if self.plain:
            return "".join(self.rng.choices(string.ascii_lowercase + string.digits, k=8))
        tokens = _tokens(name)
        qualifier = tokens[-2] if len(tokens) > 1 else ""
        if tokens[-1:] == ["name"] and qualifier and qualifier not in _PERSON:
            tokens.pop()  # a recipe_name is no person's name
        last = _ALIASES.get(tokens[-1], tokens[-1]) if tokens else ""
        if last in _WORDS:
            pick = self.rng.choice(_WORDS[last])
            return pick.split()[0 if qualifier == "first" else -1] if qualifier in ("first", "last") else pick
        if last in _SHAPES:
            return self.formatted(_SHAPES[last], 0, None)
        prose = bool(_PROSE & set(tokens))
        if self.words:
            picked = self.rng.sample(self.words, self.rng.randint(1, min(len(self.words), 5 if prose else 3)))
            return " ".join(picked).capitalize() + "." if prose else " ".join(picked)
        return f"sample {' '.join(tokens) or 'text'} {self.rng.randint(1, 99)}"

    def from_pattern(self, pattern: str, node: dict[str, Any], lo: int) -> str | None:
        """Random repeat counts, then every open repeat stretched by about ``minLength``: reliable for
        a single open-ended repeat under length bounds, best effort for several."""
        tree = self.patterns.parse(pattern)
        if tree is None:
            return None
        tries = [
            (3, False),
            (3, False),
            (8, False),
            (16, False),
            *((max(0, lo - k), True) for k in range(4)),
            *((spread, False) for spread in (1, lo, max(1, lo // 2)) * 4),
        ]
        limit = 4 * self.longest(lo) + 16384
        for spread, stretch in tries:
            self.budget.step()
            try:
                text = self.patterns.write(tree, spread, stretch, limit)
            except Unsupported:
                return None
            if self.matches(text, node):
                return text
        return None

    # -- containers -----------------------------------------------------------------------------

    def array(self, node: dict[str, Any], depth: int, refs: int, name: str, soft: bool) -> list[Any]:
        prefix, items = node.get("prefixItems"), node.get("items")
        if isinstance(items, list):
            prefix, items = items, node.get("additionalItems")
        prefix = prefix if isinstance(prefix, list) else []
        lo, hi = _count(node, "minItems", 0) or 0, _count(node, "maxItems", None)
        if items is False:
            hi = len(prefix) if hi is None else min(hi, len(prefix))
        if hi is not None and lo > hi:
            raise ValueError(f"an array cannot have between {lo} and {hi} items")
        want = lo if soft else max(lo, self.rng.randint(1, 3))
        asked = self.grounding.count(name) if self.grounding is not None and depth <= 2 else None
        if asked is not None and not soft:
            want = max(lo, asked)  # "three recipes" gives three
        want = want if hi is None else min(want, hi)
        unique, tries, plain = node.get("uniqueItems") is True, 0, self.plain
        seen: set[str] = set()
        out: list[Any] = []
        self.budget.spend(1, CUT)  # the opening bracket
        try:
            while len(out) < want and tries < 20 * want + 20:
                tries += 1
                sub = prefix[len(out)] if len(out) < len(prefix) else items
                before = self.budget.tokens
                if out:
                    self.budget.spend(1, [*out, CUT])  # the comma
                state = self.rng.getstate() if unique else None
                try:
                    item = self.value(sub, depth + 1, refs, _singular(name))
                except Exhausted as cut:
                    if state is None:
                        raise Exhausted([*out, cut.partial, *([CUT] if cut.complete else [])]) from None
                    item = self.whole_item(state, sub, depth + 1, refs, _singular(name), [*out, cut.partial])
                    if _canon(item) not in seen:
                        raise Exhausted([*out, item], complete=True) from None
                if unique and _canon(item) in seen:
                    self.budget.tokens = before
                    self.plain = True  # retry with less natural but more varied strings
                    continue
                seen.add(_canon(item))
                out.append(item)
        finally:
            self.plain = plain
        if len(out) < lo:
            raise ValueError(f"cannot find {lo} distinct items for a uniqueItems array")
        self.budget.spend(1, [*out, CUT])  # the closing bracket
        return out

    def offers(self, schema: Any, name: str) -> bool:
        """Whether the prompt names a value for the top-level property ``name``."""
        if not isinstance(schema, dict):
            return False
        try:
            node, _ = self.flatten(schema, 0)
        except ValueError:
            return False
        return self.grounded(node, name, 1, take=False) is not MISSING

    def whole_item(self, state: Any, sub: Any, depth: int, refs: int, name: str, partial: list[Any]) -> Any:
        """An item of a ``uniqueItems`` array that ran out of room, made again whole (with the same draws):
        only a whole item tells whether it repeats an earlier one and would have been drawn again."""
        self.rng.setstate(state)
        room, self.budget.tokens = self.budget.tokens, DEFAULT_OUTPUT_TOKENS
        try:
            return self.value(sub, depth, refs, name)
        except Exhausted:
            raise Exhausted(partial) from None  # too vast to tell: it ends the output where it ran out
        finally:
            self.budget.tokens = room

    def object(self, node: dict[str, Any], depth: int, refs: int, name: str, soft: bool) -> dict[str, Any]:
        props = _dict(node.get("properties"))
        required = [r for r in _list(node.get("required")) if isinstance(r, str)]
        needed = set(required)
        extra = node.get("additionalProperties", True)
        lo, hi = _count(node, "minProperties", 0) or 0, _count(node, "maxProperties", None)
        room = self.budget.tokens
        most = lo if room is None else min(lo, room // 4 + 1)  # each property costs 4 tokens or more
        ordering = [k for k in _list(node.get("propertyOrdering")) if k in props or k in needed]
        order = list(dict.fromkeys([*ordering, *props, *required]))
        self.budget.work(len(order))
        chosen = [
            k for k in order if k in needed or (not soft and props.get(k) is not False and self.rng.random() < 0.8)
        ]
        if self.grounding is not None and depth == 0 and not soft:  # what the prompt names is always sent
            picked = set(chosen)
            chosen = [k for k in order if k in picked or self.offers(props.get(k), k)]
        optional = [k for k in chosen if k not in needed]
        if hi is not None and len(chosen) > hi and optional:
            dropped = set(optional[len(optional) - min(len(chosen) - hi, len(optional)) :])
            chosen = [k for k in chosen if k not in dropped]
        if hi is not None and len(chosen) > hi:
            raise ValueError(f"{len(chosen)} required properties exceed maxProperties {hi}")
        taken = set(chosen)
        chosen += [k for k in order if k not in taken and props.get(k) is not False][: max(0, lo - len(chosen))]
        taken = set(chosen)
        chosen = [k for k in order if k in taken]
        if len(chosen) < lo and extra is False:
            raise ValueError(f"minProperties {lo} needs more properties than additionalProperties: false allows")
        n = 0
        while len(chosen) < most:
            n += 1
            chosen += [f"extra_{n}"] if f"extra_{n}" not in props else []
        if hi is not None and max(len(chosen), lo) > hi:
            raise ValueError(f"minProperties {lo} exceeds maxProperties {hi}")
        out: dict[str, Any] = {}
        self.budget.spend(1, CUT)  # the opening brace
        for key in chosen:
            if key not in props and extra is False:
                raise ValueError(f"property {key!r} is needed but additionalProperties is false")
            sub = props[key] if key in props else extra if isinstance(extra, dict) else {}
            self.budget.spend(token_rule.count_text(key) + 3 + bool(out), {**out, key: CUT})  # "key": and a comma
            try:
                out[key] = self.value(sub, depth + 1, refs, key)
            except Exhausted as cut:
                out[key] = cut.partial
                raise Exhausted({**out, CUT: CUT} if cut.complete else out) from None
        self.budget.spend(1, {**out, CUT: CUT})  # the closing brace
        return out
