"""``validate.parse_body`` (msgspec's fast path, the walk when it refuses) is exactly the walk.

For any body, ``parse_body(bytes)`` and ``parse_request(parse_json(bytes))`` both return the same
canonical body, with the same key order, or both raise the same error. The bodies are SDK-shaped
requests, bodies generated from the schema's slot tables of every request message of both
flavours, and those mutated (unknown keys, nulls, wrong types, snake_case, duplicate keys, oneof
conflicts, lone surrogates, NaN, long integers ...); and, when ``GEMINI_RECORDED_TRAFFIC`` names
a folder of recorded exchanges (``exchanges.jsonl.gz``, ``vertex-exchanges.jsonl.gz``: one JSON
object per line, with ``op`` and ``request_body``), every request body in it. A body the fast path
refuses must be left as it was: the walk reads it next.
"""

from __future__ import annotations

import base64
import copy
import gzip
import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.wire import fast_decode, validate
from emulator.wire.call import Operation
from emulator.wire.catalogue import Catalogue, ModelInfo
from emulator.wire.errors import ApiError
from emulator.wire.flavour import Flavour
from emulator.wire.json_body import parse_json
from emulator.wire.schema import (
    K_BOOL,
    K_BYTES,
    K_ENUM,
    K_FLOAT,
    K_INT,
    K_MESSAGE,
    K_STRING,
    K_STRUCT,
    K_VALUE,
    MAP,
    REPEATED,
    Slot,
)

CATALOGUE = Catalogue.load()
DEVELOPER, VERTEX = Flavour.DEVELOPER, Flavour.VERTEX
GENERATE, STREAM, COUNT = Operation.GENERATE, Operation.STREAM, Operation.COUNT_TOKENS
EMBED, BATCH_EMBED = Operation.EMBED, Operation.BATCH_EMBED
CALLS = [(flavour, method) for flavour in (DEVELOPER, VERTEX) for method in validate._TABLES[flavour]]
_TRAFFIC_DIR = os.environ.get("GEMINI_RECORDED_TRAFFIC")
TRAFFIC = Path(_TRAFFIC_DIR) if _TRAFFIC_DIR else None


def model(method: Operation, flavour: Flavour) -> ModelInfo:
    """A model that serves the call, so that the semantic rules run too."""
    embedding = method in (EMBED, BATCH_EMBED)
    name = "text-embedding-004" if method is Operation.PREDICT else "gemini-embedding-001" if embedding else ""
    version = "v1beta1" if flavour is VERTEX else "v1beta"
    found = CATALOGUE.resolve(name or "gemini-2.5-flash", method.value, version, flavour=flavour)
    return found


MODELS = {call: model(call[1], call[0]) for call in CALLS}


def outcome(parse: Any) -> Any:
    """The canonical body's ``repr`` (1 and 1.0 differ, NaN equals NaN) and serialisation (key order
    counts), or the error as the client sees it."""
    try:
        body = parse()
    except ApiError as error:
        return ("error", error.code, error.status, error.message, error.details)
    try:
        text = orjson.dumps(body)
    except TypeError:  # an integer beyond 64 bits in a Struct or Value field
        text = json.dumps(body).encode()
    return ("body", repr(body), text)


def assert_agree(method: Operation, flavour: Flavour, data: bytes) -> None:
    info = MODELS[(flavour, method)]
    for strict in (True, False):
        fast = outcome(
            lambda lenient=not strict: validate.parse_body(method, data, info, strict=not lenient, flavour=flavour)
        )
        slow = outcome(
            lambda lenient=not strict: validate.parse_request(
                method, parse_json(data), info, not lenient, flavour, len(data)
            )
        )
        assert fast == slow, data[:300]


def takes_fast_path(method: Operation, flavour: Flavour, data: bytes) -> bool:
    """Whether the fast path decides the body; when it refuses, the parsed body must be untouched."""
    try:
        raw, fast = validate.parsed(data)
    except ApiError:
        return False
    if not fast or type(raw) is not dict:
        return False
    before = copy.deepcopy(raw)
    decided = validate.decode_fast(method, raw, flavour) is not None
    if not decided:
        assert repr(raw) == repr(before)
    return decided


# --------------------------------------------------------------------------------------------------
# Fixed bodies: what must take the fast path, what must not.

LISBON = {
    "contents": [
        {"role": "user", "parts": [{"text": "Plan four days in Lisbon, please."}]},
        {"role": "model", "parts": [{"text": "Day 1: Baixa. Day 2: Alfama. Day 3: Belém. Day 4: Sintra."}]},
        {"role": "user", "parts": [{"text": "Where should we eat seafood?"}]},
    ],
    "systemInstruction": {"role": "user", "parts": [{"text": "Be concise."}]},
    "generationConfig": {
        "temperature": 0.7,
        "topP": 0.95,
        "topK": 20.0,
        "maxOutputTokens": 1024,
        "candidateCount": 1,
        "thinkingConfig": {"include_thoughts": False, "thinking_budget": 512},
    },
}
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n0123456789").decode()
TAKEN = {
    "sdk chat (topK a float, thinkingConfig snake_case)": LISBON,
    "canonical chat": {**LISBON, "generationConfig": {"temperature": 1, "topK": 20, "thinkingConfig": {}}},
    "media and functions": {
        "contents": [
            {
                "role": "user",
                "parts": [{"text": "What is this?"}, {"inlineData": {"mimeType": "image/png", "data": PNG}}],
            },
            {
                "role": "model",
                "parts": [{"functionCall": {"name": "look", "args": {"x": [1, 2.5, None, {"y": "é"}]}}}],
            },
            {"role": "user", "parts": [{"functionResponse": {"name": "look", "response": {"ok": True}}}]},
        ],
        "tools": [
            {
                "functionDeclarations": [
                    {"name": "look", "description": "Looks.", "parametersJsonSchema": {"type": "object"}}
                ]
            }
        ],
        "toolConfig": {"functionCallingConfig": {"mode": "any", "allowedFunctionNames": ["look"]}},
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
        "labels": {"team": "a"},
        "generationConfig": {"thinkingConfig": {"thinkingLevel": "low"}, "stopSequences": ["\u0000"]},
    },
    "thought signature": {
        "contents": [{"role": "model", "parts": [{"text": "hm", "thought": True, "thoughtSignature": PNG}]}]
    },
    "empty": {},
}
REFUSED = {
    "null": {"contents": [{"role": None, "parts": [{"text": "a"}]}]},
    "snake_case in a part": {"contents": [{"parts": [{"inline_data": {"mimeType": "a/b", "data": PNG}}]}]},
    "oneof conflict": {"contents": [{"parts": [{"text": "a", "inlineData": {"mimeType": "a/b", "data": PNG}}]}]},
    "both spellings": {"contents": [], "generationConfig": {"topP": 0.5, "top_p": 0.5}},
    "unknown key": {"contents": [], "generationConfig": {"temperatur": 0.5}},
    "url-safe base64": {"contents": [{"parts": [{"inlineData": {"mimeType": "a/b", "data": "-_-_"}}]}]},
    "unpadded base64": {"contents": [{"parts": [{"inlineData": {"mimeType": "a/b", "data": "QQ"}}]}]},
    "int for a float below the top": {"contents": [], "generationConfig": {"responseSchema": {"minimum": 1}}},
    "float for an int below the top": {"contents": [], "generationConfig": {"responseSchema": {"minItems": 1.0}}},
    "lower-case enum in a list": {"contents": [], "safetySettings": [{"category": "harm_category_harassment"}]},
    "enum as a number": {"contents": [], "generationConfig": {"responseSchema": {"type": 1}}},
    "lone value for a list": {"contents": {"parts": [{"text": "a"}]}},
    "duration": {"contents": [{"parts": [{"fileData": {"fileUri": "x"}, "videoMetadata": {"startOffset": "1s"}}]}]},
    "out of range": {"contents": [], "generationConfig": {"candidateCount": 2**31}},
    "not an object": [],
    "bad float in the top": {"contents": [], "generationConfig": {"temperature": "hot"}},
}


@pytest.mark.parametrize("body", TAKEN.values(), ids=TAKEN.keys())
def test_common_requests_take_the_fast_path(body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    assert takes_fast_path(GENERATE, DEVELOPER, data)
    assert_agree(GENERATE, DEVELOPER, data)


@pytest.mark.parametrize("body", REFUSED.values(), ids=REFUSED.keys())
def test_what_the_walk_changes_or_words_is_refused(body: Any) -> None:
    data = json.dumps(body).encode()
    assert not takes_fast_path(GENERATE, DEVELOPER, data)
    assert_agree(GENERATE, DEVELOPER, data)


@pytest.mark.parametrize(
    "data",
    [
        b'{"contents": [{"parts": [{"text": "a"}], "parts": [{"text": "b"}]}]}',
        b'{"contents": [], "generationConfig": {"temperature": 0.5, "temperature": "x"}}',
        b'{"contents": [{"parts": [{"text": "\\ud800"}]}]}',
        b'{"contents": [], "generationConfig": {"temperature": NaN}}',
        b'{"contents": [], "generationConfig": {"seed": 12345678901234567890123}}',
        b"",
        b"null",
        b"{",
    ],
)
def test_what_json_reads_subtly_agrees(data: bytes) -> None:
    assert_agree(GENERATE, DEVELOPER, data)


def _deep_args(depth: int) -> bytes:
    args = b'{"a":' * depth + b"1" + b"}" * depth
    return b'{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":' + args + b"}}]}]}"


@pytest.mark.parametrize("depth", [100, 240, 600])
def test_deep_free_form_values_are_judged_as_the_walk_judges_them(depth: int) -> None:
    """Shallow enough for orjson to write: both paths keep it; deeper, the walk's verdict stands
    (past the recursion limit, nested too deeply) and the fast path does not take the body."""
    data = _deep_args(depth)
    assert takes_fast_path(GENERATE, DEVELOPER, data) is (depth <= 240)
    assert_agree(GENERATE, DEVELOPER, data)


def test_the_fast_path_rewrites_the_sdk_spellings_as_the_walk_does() -> None:
    body = validate.parse_body(GENERATE, json.dumps(LISBON).encode(), MODELS[(DEVELOPER, GENERATE)])
    assert list(body["generationConfig"]["thinkingConfig"].items()) == [
        ("includeThoughts", False),
        ("thinkingBudget", 512),
    ]
    assert type(body["generationConfig"]["topK"]) is int


def test_the_base64_pattern_matches_what_the_walk_keeps() -> None:
    """Every string of up to 5 characters, and 8 from a valid quartet on, over an alphabet with a
    character of each kind: the pattern matches exactly the strings the walk keeps as they are."""
    matcher = re.compile(fast_decode.STANDARD_BASE64)
    slot = validate._TABLES[DEVELOPER][GENERATE]["contents"].table["parts"].table["inlineData"].table["data"]
    alphabet = "AQR/+-_=\n"
    texts = ["".join(t) for n in range(6) for t in itertools.product(alphabet, repeat=n)]
    texts += ["QUJD" + "".join(t) for t in itertools.product(alphabet, repeat=4)]
    for text in texts:
        decoder = validate._Decoder(True)
        kept = validate._bytes(decoder, slot, text, None, None) == text and not decoder.violations
        assert bool(matcher.search(text)) == kept, text


def test_importing_the_validator_does_not_build_or_import_the_fast_path() -> None:
    code = "import sys, emulator.wire.validate; print(*(n in sys.modules for n in sys.argv[1:]))"
    command = [sys.executable, "-c", code, "emulator.wire.fast_decode", "msgspec"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


# --------------------------------------------------------------------------------------------------
# Generated bodies.

texts = st.text(max_size=6)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
json_objects = st.dictionaries(texts, json_values, max_size=3)


def _fields(table: dict[str, Slot]) -> list[Slot]:
    return list({slot.name: slot for slot in table.values()}.values())


def _scalar(slot: Slot) -> st.SearchStrategy[Any]:
    kind = slot.kind
    if kind == K_STRING:
        return texts
    if kind == K_BOOL:
        return st.booleans() | st.sampled_from(["true", 0, 1])
    if kind == K_INT:
        low, high = int(slot.bounds[0]), int(slot.bounds[1])
        return st.integers(low, high) | st.integers(-3, 3).map(float) | st.sampled_from([high + 1, 2.5, "7"])
    if kind == K_FLOAT:
        return st.floats(-2, 2) | st.integers(-3, 3) | st.sampled_from([1e300, "0.5", "NaN"])
    if kind == K_ENUM:
        names = sorted(slot.enum)
        return st.sampled_from(names) | st.sampled_from(names).map(str.lower) | st.integers(0, 3)
    if kind == K_BYTES:
        raw = st.binary(max_size=7)
        return raw.map(lambda b: base64.b64encode(b).decode()) | raw.map(
            lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")
        )
    if kind == K_STRUCT:
        return json_objects
    if kind == K_VALUE:
        return json_values
    return st.sampled_from(["1.5s", "3s", "2024-01-01T00:00:00Z", "soon", 5])


def _value(slot: Slot, depth: int) -> st.SearchStrategy[Any]:
    if slot.label == MAP:
        assert slot.value is not None
        return st.dictionaries(texts, _single(slot.value, depth), max_size=2)
    element = _single(slot, depth)
    return st.lists(element, max_size=2) if slot.label == REPEATED else element


def _single(slot: Slot, depth: int) -> st.SearchStrategy[Any]:
    if slot.kind == K_MESSAGE:
        return st.just({}) if depth > 3 else messages(slot.table, depth + 1)
    return _scalar(slot)


@st.composite
def messages(draw: st.DrawFn, table: dict[str, Slot], depth: int = 0) -> dict[str, Any]:
    """A message of ``table``: a few of its fields, mostly camelCase, sometimes two of one oneof."""
    fields = _fields(table)
    chosen = draw(st.lists(st.sampled_from(fields), max_size=4, unique_by=lambda s: s.name)) if fields else []
    out: dict[str, Any] = {}
    for slot in chosen:
        key = slot.name if draw(st.integers(0, 9)) == 0 else slot.json_name
        out[key] = draw(_value(slot, depth))
    return out


class Dup(dict):  # type: ignore[type-arg]
    """An object written with one key twice."""

    extra: tuple[str, Any] = ("", None)


def dump(value: Any, ascii_only: bool) -> str:
    if isinstance(value, dict):
        pairs = [*value.items(), *([value.extra] if isinstance(value, Dup) else [])]
        inner = ",".join(f"{json.dumps(k, ensure_ascii=ascii_only)}:{dump(v, ascii_only)}" for k, v in pairs)
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump(v, ascii_only) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


def _nodes(value: Any, found: list[tuple[Any, Any]], parent: Any = None, key: Any = None) -> None:
    if isinstance(value, dict):
        found.append((parent, key))
        for k, v in value.items():
            _nodes(v, found, value, k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _nodes(v, found, value, i)


def _snake(key: str) -> str:
    return re.sub("([A-Z])", r"_\1", key).lower()


MUTATIONS = ["unknown", "null", "wrong", "snake", "both", "dup", "surrogate", "nan", "long", "float", "conflict"]


@st.composite
def mutated(draw: st.DrawFn, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with one to three of :data:`MUTATIONS` applied at objects drawn from it."""
    root: dict[str, Any] = {"": copy.deepcopy(body)}
    for _ in range(draw(st.integers(1, 3))):
        nodes: list[tuple[Any, Any]] = []
        _nodes(root[""], nodes, root, "")
        parent, at = draw(st.sampled_from(nodes))
        node = parent[at]
        keys = list(node)
        key = draw(st.sampled_from(keys)) if keys else "fresh"
        kind = draw(st.sampled_from(MUTATIONS))
        if kind == "unknown":
            node[draw(st.sampled_from(["unknownField", "", "x_y"]))] = 1
        elif kind == "null":
            node[key] = None
        elif kind == "wrong":
            node[key] = draw(json_values)
        elif kind == "snake" and key in node:
            node[_snake(key)] = node.pop(key)
        elif kind == "both" and key in node:
            node[_snake(key) if _snake(key) != key else key + "X"] = copy.deepcopy(node[key])
        elif kind == "dup":
            duplicate = Dup(node)
            duplicate.extra = (key, draw(json_values))
            parent[at] = duplicate
        elif kind == "surrogate":
            node[key] = "a\ud800b" if draw(st.booleans()) else "\udfff"
        elif kind == "nan":
            node[key] = draw(st.sampled_from([float("nan"), float("inf")]))
        elif kind == "long":
            node[key] = draw(st.sampled_from([10**19, -(2**63) - 1, 2**64, 10**40]))
        elif kind == "float":
            node[key] = draw(st.sampled_from([1.0, 0.5, -0.0, 1e20]))
        elif kind == "conflict":
            node.update({"text": "t", "inlineData": {"mimeType": "a/b", "data": PNG}})
    result: dict[str, Any] = root[""]
    return result


def _bodies(table: dict[str, Slot]) -> st.SearchStrategy[dict[str, Any]]:
    return messages(table) | messages(table).flatmap(mutated)


@settings(settings.default)
@given(
    st.sampled_from(CALLS).flatmap(lambda c: st.tuples(st.just(c), _bodies(validate._TABLES[c[0]][c[1]]))),
    st.booleans(),
)
def test_generated_bodies_agree(case: tuple[tuple[Flavour, Operation], dict[str, Any]], ascii_only: bool) -> None:
    (flavour, method), body = case
    data = dump(body, ascii_only).encode("utf-8", "surrogatepass")
    takes_fast_path(method, flavour, data)
    assert_agree(method, flavour, data)


# SDK-shaped requests: what google-genai and other clients send, all of it taking the fast path.
plain_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**15), 10**15)
    | st.floats(-1e9, 1e9).map(lambda f: round(f, 6))
    | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
plain_objects = st.dictionaries(texts, plain_values, max_size=3)
b64 = st.binary(max_size=12).map(lambda b: base64.b64encode(b).decode())
parts = st.one_of(
    st.builds(lambda t: {"text": t}, texts),
    st.builds(lambda d: {"inlineData": {"mimeType": "image/png", "data": d}}, b64),
    st.builds(lambda n, a: {"functionCall": {"name": n, "args": a}}, st.sampled_from(["f", "g_1"]), plain_objects),
    st.builds(lambda n, r: {"functionResponse": {"name": n, "response": r}}, st.sampled_from(["f"]), plain_objects),
    st.builds(lambda t, s: {"text": t, "thought": True, "thoughtSignature": s}, texts, b64),
    st.builds(lambda u: {"fileData": {"fileUri": u, "mimeType": "application/pdf"}}, texts),
)
contents = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "model"]), "parts": st.lists(parts, min_size=1, max_size=3)}
    ),
    min_size=1,
    max_size=4,
)
thinking = st.sampled_from(
    [{"include_thoughts": True, "thinking_budget": 128}, {"includeThoughts": False}, {"thinkingLevel": "low"}, {}]
)
generation_config = st.fixed_dictionaries(
    {},
    optional={
        "temperature": st.floats(0, 2),
        "topP": st.floats(0, 1),
        "topK": st.integers(1, 64).map(float),
        "candidateCount": st.just(1),
        "maxOutputTokens": st.integers(1, 8192),
        "stopSequences": st.lists(texts, max_size=2),
        "presencePenalty": st.floats(-1, 1),
        "frequencyPenalty": st.floats(-1, 1),
        "seed": st.integers(0, 2**31 - 1),
        "responseMimeType": st.sampled_from(["application/json", "text/plain"]),
        "responseJsonSchema": plain_objects,
        "responseSchema": st.just({"type": "OBJECT", "properties": {"a": {"type": "STRING"}}, "required": ["a"]}),
        "responseModalities": st.just(["TEXT"]),
        "responseLogprobs": st.booleans(),
        "thinkingConfig": thinking,
        "mediaResolution": st.just("MEDIA_RESOLUTION_LOW"),
    },
)
tools = st.lists(
    st.sampled_from(
        [
            {"functionDeclarations": [{"name": "f", "description": "d", "parametersJsonSchema": {"type": "object"}}]},
            {"functionDeclarations": [{"name": "g", "parameters": {"type": "OBJECT", "properties": {}}}]},
            {"googleSearch": {}},
            {"codeExecution": {}},
        ]
    ),
    max_size=2,
)
sdk_requests = st.fixed_dictionaries(
    {"contents": contents},
    optional={
        "systemInstruction": st.fixed_dictionaries({"parts": st.lists(parts, min_size=1, max_size=1)}),
        "generationConfig": generation_config,
        "tools": tools,
        "toolConfig": st.just({"functionCallingConfig": {"mode": "AUTO"}}),
        "safetySettings": st.just([{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_ONLY_HIGH"}]),
        "cachedContent": st.just("cachedContents/abc"),
        "labels": st.dictionaries(st.sampled_from(["a", "b"]), texts, max_size=2),
    },
)


@settings(settings.default)
@given(sdk_requests, st.sampled_from([GENERATE, STREAM, COUNT]), st.sampled_from([DEVELOPER, VERTEX]))
def test_sdk_shaped_requests_take_the_fast_path_and_agree(
    body: dict[str, Any], method: Operation, flavour: Flavour
) -> None:
    if method is COUNT and flavour is DEVELOPER:
        body = {"generateContentRequest": {"model": "models/gemini-2.5-flash", **body}}
    elif method is COUNT:
        body = {key: body[key] for key in ("contents", "systemInstruction", "tools", "generationConfig") if key in body}
    data = json.dumps(body).encode()
    assert takes_fast_path(method, flavour, data)
    assert_agree(method, flavour, data)


@settings(settings.default)
@given(contents, st.sampled_from([DEVELOPER, VERTEX]))
def test_embedding_requests_agree(chat: list[dict[str, Any]], flavour: Flavour) -> None:
    content = {"parts": [p for turn in chat for p in turn["parts"] if "text" in p] or [{"text": "x"}]}
    single = {"content": content, "taskType": "RETRIEVAL_QUERY", "outputDimensionality": 8}
    assert takes_fast_path(EMBED, flavour, json.dumps(single).encode())
    assert_agree(EMBED, flavour, json.dumps(single).encode())
    batch = {"requests": [{"model": "models/gemini-embedding-001", **single}] * 2}
    assert_agree(BATCH_EMBED, flavour, json.dumps(batch).encode())


# --------------------------------------------------------------------------------------------------
# Recorded real traffic (not in CI: GEMINI_RECORDED_TRAFFIC names it).


def _traffic() -> list[tuple[Flavour, Operation, Any]]:
    assert TRAFFIC is not None
    found = []
    for name, flavour in (("exchanges.jsonl.gz", DEVELOPER), ("vertex-exchanges.jsonl.gz", VERTEX)):
        with gzip.open(TRAFFIC / name, "rt", encoding="utf-8") as lines:
            for line in lines:
                exchange = json.loads(line)
                method = next((o for o in Operation if o.value == exchange["op"]), None)
                if exchange["request_body"] is not None and method in validate._TABLES[flavour]:
                    found.append((flavour, method, exchange["request_body"]))
    return found


@pytest.mark.skipif(
    TRAFFIC is None or not (TRAFFIC / "exchanges.jsonl.gz").exists(),
    reason="GEMINI_RECORDED_TRAFFIC names no folder of recorded exchanges",
)
def test_real_traffic_agrees() -> None:
    bodies = _traffic()
    taken = 0
    for flavour, method, body in bodies:
        for ascii_only in (True, False):
            data = json.dumps(body, ensure_ascii=ascii_only).encode()
            taken += takes_fast_path(method, flavour, data)
            assert_agree(method, flavour, data)
    assert taken > len(bodies)  # most of them, written either way
