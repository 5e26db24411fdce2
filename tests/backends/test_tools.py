"""The default model's function calling as a unit: what it calls, when, with which arguments. No server."""

from __future__ import annotations

import copy
import json
import re
import time
from typing import Any

import jsonschema
import pytest
from backend_calls import _camel, call, google_to_json
from backend_calls import answer as answer_as
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import ApiError, Catalogue
from emulator.generation import function_calls as tools
from emulator.wire import tokens
from emulator.wire.call import Operation

CATALOGUE = Catalogue.load()
ID = re.compile(r"[a-z0-9]{8}")

WEATHER = {
    "name": "get_weather",
    "description": "Current weather in a city.",
    "parameters": {
        "type": "OBJECT",
        "properties": {
            "city": {"type": "STRING"},
            "unit": {"type": "STRING", "format": "enum", "enum": ["CELSIUS", "FAHRENHEIT"]},
            "days": {"type": "INTEGER", "minimum": 1, "maximum": 7},
        },
        "required": ["city", "unit"],
    },
}
TIME = {
    "name": "get_time",
    "parametersJsonSchema": {
        "type": "object",
        "properties": {"timezone": {"type": "string", "pattern": "^[A-Z][a-z]+/[A-Z][a-z]+$"}},
        "required": ["timezone"],
        "additionalProperties": False,
    },
}
PING = {"name": "ping", "description": "No parameters at all."}
DECLS = [WEATHER, TIME, PING]


CALLING_MODEL = "gemini-3-flash-preview"
"""Gemini 3 names its calls (``functionCall.id``); the tests read the ids, so they ask it."""


def answer(
    body: dict[str, Any], method: Operation = Operation.GENERATE, model: str = CALLING_MODEL, seed: int = 0
) -> Any:
    return answer_as(body, method, model, seed)


def request(prompt: str, decls: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "contents": [{"role": "user", "parts": [{"text": prompt}]}],
        "tools": [{"functionDeclarations": DECLS if decls is None else decls}],
        **extra,
    }


def calls_of(body: dict[str, Any], candidate: int = 0) -> list[dict[str, Any]]:
    parts = body["candidates"][candidate].get("content", {}).get("parts", [])
    return [p["functionCall"] for p in parts if "functionCall" in p]


def text_of(body: dict[str, Any]) -> str:
    parts = body["candidates"][0].get("content", {}).get("parts", [])
    return "".join(p.get("text", "") for p in parts if not p.get("thought"))


def names(body: dict[str, Any]) -> list[str]:
    return [c["name"] for c in calls_of(body)]


def with_results(req: dict[str, Any], reply: dict[str, Any], results: list[Any] | None = None) -> dict[str, Any]:
    """The next request an SDK would send: the model's turn verbatim, then one response per call."""
    calls = calls_of(reply)
    results = results if results is not None else [f"result of {c['name']} #{i}" for i, c in enumerate(calls)]
    responses = [
        {"functionResponse": {"name": c["name"], "response": {"result": r}}}
        for c, r in zip(calls, results, strict=True)
    ]
    contents = [*req["contents"], reply["candidates"][0]["content"], {"role": "user", "parts": responses}]
    return {**req, "contents": contents}


def mode(name: str, allowed: list[str] | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"mode": name}
    if allowed is not None:
        config["allowedFunctionNames"] = allowed
    return {"toolConfig": {"functionCallingConfig": config}}


# -- schema dialects, for checking arguments -------------------------------------------------------


def json_schema_of(decl: dict[str, Any]) -> dict[str, Any]:
    src = {_camel(k): v for k, v in decl.items()}
    if "parametersJsonSchema" in src:
        return dict(src["parametersJsonSchema"])
    return google_to_json(src["parameters"]) if src.get("parameters") else {"type": "object", "maxProperties": 0}


def assert_valid_calls(body: dict[str, Any], decls: list[dict[str, Any]]) -> None:
    """Every call names a declared function, has an id and args valid against that function's schema."""
    by_name = {d["name"]: d for d in reversed(decls)}  # the first declaration of a name wins
    for fc in calls_of(body):
        assert set(fc) == {"name", "args", "id"} and ID.fullmatch(fc["id"])
        assert fc["name"] in by_name and isinstance(fc["args"], dict)
        json.dumps(fc["args"], allow_nan=False)
        jsonschema.Draft202012Validator(json_schema_of(by_name[fc["name"]])).validate(fc["args"])


# -- when and what the model calls -----------------------------------------------------------------


def test_a_prompt_naming_no_function_calls_the_first_declared_one() -> None:
    body = answer(request("What's the weather like?"))
    assert names(body) == ["get_weather"]
    assert_valid_calls(body, DECLS)
    candidate = body["candidates"][0]
    assert candidate["finishReason"] == "STOP" and candidate["finishMessage"] == tools.FINISH_MESSAGE
    assert text_of(body) == "" and candidate["content"]["role"] == "model"


def test_function_without_parameters_gets_empty_args() -> None:
    fc = calls_of(answer(request("Is the server up?", [PING])))
    assert fc == [{"name": "ping", "args": {}, "id": fc[0]["id"]}]
    empty = {"name": "noop", "parameters": {"type": "OBJECT"}}
    assert calls_of(answer(request("go", [empty])))[0]["args"] == {}


def test_mentioned_functions_are_called_in_parallel_in_prompt_order() -> None:
    body = answer(request("Call ping, and also get_time and get_weather please"))
    assert names(body) == ["ping", "get_time", "get_weather"]
    assert_valid_calls(body, DECLS)
    assert len({c["id"] for c in calls_of(body)}) == 3


def test_a_name_written_twice_is_called_twice_with_its_own_arguments() -> None:
    body = answer(request("get_weather for Lisbon, and get_weather for Osaka in fahrenheit"))
    first, second = calls_of(body)
    assert first["name"] == second["name"] == "get_weather" and first["id"] != second["id"]
    assert second["args"]["unit"] == "FAHRENHEIT"  # the words next to a mention steer its arguments
    assert_valid_calls(body, DECLS)


def test_the_words_near_a_mention_steer_enum_arguments() -> None:
    for prompt in ("Use get_weather in celsius", "In celsius: get_weather", "GET_WEATHER, CELSIUS"):
        for seed in range(5):
            assert calls_of(answer(request(prompt), seed=seed))[0]["args"]["unit"] == "CELSIUS"


def test_names_match_whole_words_only() -> None:
    decls = [{"name": "get"}, {"name": "get_weather"}, {"name": "weather.v2"}, {"name": "do-then"}]
    assert names(answer(request("use get_weather", decls))) == ["get_weather"]
    assert names(answer(request("forget it, target weather.v2.", decls))) == ["weather.v2"]
    assert names(answer(request("GET the weather", decls))) == ["get"]
    assert names(answer(request("run do-then and get", decls))) == ["do-then", "get"]  # one round, no cut


def test_then_makes_one_round_per_step_and_the_answer_reports_every_result() -> None:
    first = request("First get_time, then get_weather and ping, then get_time again")
    seen = []
    req, reply = first, answer(first)
    while calls_of(reply):
        assert reply["candidates"][0]["finishReason"] == "STOP"
        assert_valid_calls(reply, DECLS)
        seen.append(names(reply))
        req = with_results(req, reply)
        reply = answer(req)
    assert seen == [["get_time"], ["get_weather", "ping"], ["get_time"]]
    final = text_of(reply)
    for step in seen:
        for j, name in enumerate(step):
            assert f"{name} returned" in final and f"result of {name} #{j}" in final
    assert reply["candidates"][0]["finishReason"] == "STOP" and "finishMessage" not in reply["candidates"][0]


def test_after_the_results_a_single_call_turns_into_text_using_them() -> None:
    req = request("What's the weather in Paris?", [WEATHER])
    follow = with_results(req, answer(req), [{"sky": "clear", "celsius": 21}])
    reply = answer(follow)
    assert calls_of(reply) == [] and '"celsius": 21' in text_of(reply) and "get_weather returned" in text_of(reply)


def test_a_function_error_is_reported_too() -> None:
    req = request("Call get_time", [TIME])
    reply = answer(req)
    calls = calls_of(reply)
    contents = [
        *req["contents"],
        reply["candidates"][0]["content"],
        {"role": "user", "parts": [{"functionResponse": {"name": "get_time", "response": {"error": "no clock"}}}]},
    ]
    assert calls and "no clock" in text_of(answer({**req, "contents": contents}))


def test_a_new_user_message_starts_a_new_plan() -> None:
    req = request("ping")
    done = with_results(req, answer(req))
    assert calls_of(answer(done)) == []
    final = answer(done)["candidates"][0]["content"]
    again = {**done, "contents": [*done["contents"], final, {"role": "user", "parts": [{"text": "now get_time"}]}]}
    assert names(answer(again)) == ["get_time"]


def test_no_calls_unless_the_request_ends_with_a_user_turn() -> None:
    contents = [{"role": "user", "parts": [{"text": "ping"}]}, {"role": "model", "parts": [{"text": "Sure"}]}]
    assert calls_of(answer({**request("x"), "contents": contents})) == []


def test_no_calls_without_declarations() -> None:
    body = answer({"contents": [{"parts": [{"text": "ping get_weather"}]}], "tools": [{"codeExecution": {}}]})
    assert calls_of(body) == [] and text_of(body)


# -- toolConfig modes ------------------------------------------------------------------------------


def test_mode_none_answers_text() -> None:
    body = answer(request("ping and get_weather", **mode("NONE")))
    assert calls_of(body) == [] and text_of(body).startswith('You said: "ping and get_weather"')
    assert "finishMessage" not in body["candidates"][0]


@pytest.mark.parametrize("name", ["ANY", "VALIDATED", "AUTO"])
def test_allowed_names_limit_every_calling_mode(name: str) -> None:
    assert names(answer(request("ping, get_time and get_weather", **mode(name, ["get_time", "ping"])))) == [
        "ping",
        "get_time",
    ]
    # Naming only functions that are not allowed falls back to the first allowed one, in declaration order.
    assert names(answer(request("get_weather please", **mode(name, ["ping", "get_time"])))) == ["get_time"]


def test_allowed_names_that_match_nothing_mean_text() -> None:
    body = answer(request("ping", **mode("ANY", ["not_declared"])))
    assert calls_of(body) == [] and text_of(body)


def test_mode_any_keeps_calling_after_the_plan_is_done() -> None:
    req = request("get_time then ping", **mode("ANY"))
    rounds = []
    reply = answer(req)
    for _ in range(4):
        rounds.append(names(reply))
        req = with_results(req, reply)
        reply = answer(req)
    assert rounds == [["get_time"], ["ping"], ["ping"], ["ping"]]
    auto = {**req, "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}}}
    assert calls_of(answer(auto)) == []


def test_validated_and_unspecified_modes_stop_like_auto() -> None:
    for config in (mode("VALIDATED"), mode("MODE_UNSPECIFIED"), {}):
        req = request("ping", **config)
        assert names(answer(req)) == ["ping"]
        assert calls_of(answer(with_results(req, answer(req)))) == []


# -- determinism, usage, streaming, other settings -------------------------------------------------


def test_calls_are_reproducible_and_depend_on_seed_and_request() -> None:
    req = request("get_weather and get_time")
    assert answer(req) == answer(req)
    snake = {
        "contents": req["contents"],
        "tools": [
            {
                "function_declarations": [
                    WEATHER,
                    {"name": "get_time", "parameters_json_schema": TIME["parametersJsonSchema"]},
                    PING,
                ]
            }
        ],
    }
    assert answer(snake) == answer(req)
    other_seed = answer(req, seed=7)
    assert names(other_seed) == names(answer(req))
    assert [c["id"] for c in calls_of(other_seed)] != [c["id"] for c in calls_of(answer(req))]
    other_prompt = answer(request("get_weather and get_time!"))
    assert [c["id"] for c in calls_of(other_prompt)] != [c["id"] for c in calls_of(answer(req))]


def test_usage_counts_the_function_call_json() -> None:
    body = answer(request("get_weather and ping"), model="gemini-2.0-flash")
    parts = body["candidates"][0]["content"]["parts"]
    usage = body["usageMetadata"]
    assert usage["candidatesTokenCount"] == sum(tokens.count_part(p) for p in parts) > 0
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"]
    assert usage["promptTokenCount"] == tokens.prompt_usage(call(request("get_weather and ping")).body)[0]


def test_gemini_3_streams_its_calls_then_an_empty_text_that_finishes() -> None:
    """Recorded: the calls (with their ids) in one chunk without a finish, then ``{"text": ""}`` and STOP."""
    req = request("get_weather and get_time")
    unary = answer(req)
    calls, end = answer(req, Operation.STREAM)
    assert calls["candidates"][0]["content"]["parts"] == unary["candidates"][0]["content"]["parts"]
    assert "finishReason" not in calls["candidates"][0]
    assert end["candidates"][0] == {"content": {"parts": [{"text": ""}], "role": "model"}, "finishReason": "STOP",
                                    "index": 0}  # fmt: skip
    assert end["usageMetadata"] == unary["usageMetadata"]


def test_stream_sends_all_calls_whole_in_one_final_chunk() -> None:
    """As gemini-2.5 does (recorded: one chunk with the calls, the finish and the usage)."""
    req = request("get_weather and get_time")
    unary = answer(req, model="gemini-2.5-flash")
    chunks = answer(req, Operation.STREAM, model="gemini-2.5-flash")
    assert len(chunks) == 1 and chunks[0]["candidates"] == unary["candidates"]
    assert chunks[0]["usageMetadata"] == unary["usageMetadata"]
    thinking = {**req, "generationConfig": {"thinkingConfig": {"includeThoughts": True}}}
    chunks = answer(thinking, Operation.STREAM, model="gemini-2.5-flash")
    assert len(chunks) == 2
    assert [p.get("thought") for p in chunks[0]["candidates"][0]["content"]["parts"]] == [True]
    assert "finishReason" not in chunks[0]["candidates"][0]
    last = chunks[-1]["candidates"][0]
    assert last["finishReason"] == "STOP" and last["finishMessage"] == tools.FINISH_MESSAGE
    assert [p["functionCall"]["name"] for p in last["content"]["parts"]] == ["get_weather", "get_time"]
    assert chunks[-1]["usageMetadata"] == answer(thinking, model="gemini-2.5-flash")["usageMetadata"]
    assert len({c["responseId"] for c in chunks}) == 1


def test_unary_thoughts_precede_the_calls_when_asked_for() -> None:
    body = answer(request("ping", generationConfig={"thinkingConfig": {"includeThoughts": True}}))
    parts = body["candidates"][0]["content"]["parts"]
    assert parts[0]["thought"] is True and "functionCall" in parts[1]
    assert body["usageMetadata"]["thoughtsTokenCount"] == tokens.count_text(parts[0]["text"])


def test_every_candidate_calls_with_its_own_ids() -> None:
    body = answer(request("get_weather", generationConfig={"candidateCount": 2}))
    first, second = calls_of(body, 0), calls_of(body, 1)
    assert [c["name"] for c in first] == [c["name"] for c in second] == ["get_weather"]
    assert first[0]["id"] != second[0]["id"]
    streamed = answer(request("get_weather", generationConfig={"candidateCount": 2}), Operation.STREAM)
    assert [c["index"] for c in streamed[-1]["candidates"]] == [0, 1]


def test_output_limits_never_cut_a_call() -> None:
    body = answer(request("get_weather", generationConfig={"maxOutputTokens": 1, "stopSequences": ["city"]}))
    assert body["candidates"][0]["finishReason"] == "STOP" and "city" in calls_of(body)[0]["args"]


def test_structured_output_still_works_after_the_calls() -> None:
    config = {
        "responseMimeType": "application/json",
        "responseSchema": {"type": "OBJECT", "properties": {"summary": {"type": "STRING"}}, "required": ["summary"]},
    }
    req = request("ping", generationConfig=config)
    assert names(answer(req)) == ["ping"]
    final = answer(with_results(req, answer(req)))
    assert isinstance(json.loads(text_of(final))["summary"], str)


def test_unsatisfiable_parameters_are_a_client_error() -> None:
    bad = {
        "name": "f",
        "parametersJsonSchema": {
            "type": "object",
            "properties": {"n": {"type": "integer", "minimum": 5, "maximum": 1}},
            "required": ["n"],
        },
    }
    with pytest.raises(ApiError) as caught:
        answer(request("f", [PING, bad]))
    assert caught.value.code == 400
    assert "tools[0].function_declarations[1].parameters_json_schema" in caught.value.message


def test_the_first_declaration_of_a_name_wins() -> None:
    twin = {
        "name": "ping",
        "parameters": {"type": "OBJECT", "properties": {"x": {"type": "STRING"}}, "required": ["x"]},
    }
    assert calls_of(answer(request("ping", [PING, twin])))[0]["args"] == {}


def test_plan_reads_like_the_docstring_says() -> None:
    decl = [tools.Declaration(n, None, True, n) for n in ("a_fn", "b_fn")]
    steps = tools.plan("In Lisbon run b_fn. Then a_fn for Osaka and a_fn for Kyoto", decl)
    assert [[(p.declaration.name, p.hint) for p in step] for step in steps] == [
        [("b_fn", "In Lisbon run .")],
        [("a_fn", "for Osaka and"), ("a_fn", "for Kyoto")],
    ]
    assert [[p.declaration.name for p in s] for s in tools.plan("nothing named", decl)] == [["a_fn"]]
    assert tools.plan("a_fn", []) == []


# -- properties: random declarations and prompts ---------------------------------------------------

NAMES = ["city", "count", "tags", "when", "price", "user_name", "enabled", "items", "note", "score"]
small = st.integers(0, 3)


@st.composite
def google_leaf(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["STRING", "INTEGER", "NUMBER", "BOOLEAN"]))
    schema: dict[str, Any] = {"type": kind}
    if kind == "STRING":
        shape = draw(st.sampled_from(["plain", "enum", "length", "pattern", "format"]))
        if shape == "enum":
            schema.update(
                format="enum", enum=draw(st.lists(st.text("abcXYZ _", max_size=6), min_size=1, max_size=4, unique=True))
            )
        elif shape == "length":
            lo = draw(st.integers(0, 12))
            schema.update(minLength=str(lo), maxLength=str(lo + draw(small)))
        elif shape == "pattern":
            schema["pattern"] = draw(st.sampled_from([r"^[A-Z]{3}$", r"^\d{3}-\d{4}$", r"^(yes|no)$"]))
        elif shape == "format":
            schema["format"] = draw(st.sampled_from(["date-time", "date", "email", "uuid"]))
    elif kind != "BOOLEAN":
        lo = draw(st.integers(-500, 500))
        if draw(st.booleans()):
            schema["minimum"] = lo
        if draw(st.booleans()):
            schema["maximum"] = lo + draw(st.integers(0, 40))
    if draw(st.integers(0, 5)) == 0:
        schema["nullable"] = True
    return schema


@st.composite
def google_object(draw: st.DrawFn, children: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    keys = draw(st.lists(st.sampled_from(NAMES), max_size=4, unique=True))
    schema: dict[str, Any] = {"type": "OBJECT", "properties": {k: draw(children) for k in keys}}
    schema["required"] = [k for k in keys if draw(st.booleans())]
    if keys and draw(st.booleans()):
        schema["propertyOrdering"] = draw(st.permutations(keys))
    return schema


GOOGLE = st.recursive(
    google_leaf(),
    lambda children: st.one_of(
        google_object(children),
        st.builds(
            lambda items, lo, extra: {"type": "ARRAY", "items": items, "minItems": lo, "maxItems": lo + extra},
            children,
            small,
            small,
        ),
        st.lists(children, min_size=1, max_size=3).map(lambda b: {"anyOf": b}),
    ),
    max_leaves=10,
)


@st.composite
def json_leaf(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["string", "integer", "number", "boolean", "enum", "const", "null"]))
    if kind == "enum":
        return {
            "enum": draw(
                st.lists(
                    st.one_of(st.integers(-5, 5), st.text(max_size=4)),
                    min_size=1,
                    max_size=4,
                    unique_by=lambda v: (type(v), v),
                )
            )
        }
    if kind == "const":
        return {"const": draw(st.text(max_size=4))}
    schema: dict[str, Any] = {"type": kind}
    if kind in ("integer", "number"):
        lo = draw(st.integers(-1000, 1000))
        bound = draw(st.sampled_from(["none", "closed", "exclusive", "multiple"]))
        if bound == "closed":
            schema.update(minimum=lo, maximum=lo + draw(st.integers(0, 50)))
        elif bound == "exclusive":
            schema.update(exclusiveMinimum=lo, exclusiveMaximum=lo + draw(st.integers(3, 50)))
        elif bound == "multiple":
            schema.update(minimum=lo, maximum=lo + 100, multipleOf=draw(st.sampled_from([2, 5, 0.5])))
    elif kind == "string" and draw(st.booleans()):
        lo = draw(st.integers(0, 10))
        schema.update(minLength=lo, maxLength=lo + draw(small))
    return schema


@st.composite
def json_object(draw: st.DrawFn, children: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    keys = draw(st.lists(st.sampled_from(NAMES), max_size=4, unique=True))
    schema: dict[str, Any] = {"type": "object", "properties": {k: draw(children) for k in keys}}
    required = [k for k in keys if draw(st.booleans())]
    if required:
        schema["required"] = required
    if draw(st.booleans()):
        schema["additionalProperties"] = False
    return schema


JSON = st.recursive(
    json_leaf(),
    lambda children: st.one_of(
        json_object(children),
        st.builds(
            lambda items, lo, extra, unique: {"type": "array", "items": items, "minItems": lo, "maxItems": lo + extra},
            children,
            small,
            small,
            st.booleans(),
        ),
        st.lists(children, min_size=1, max_size=3).map(lambda b: {"anyOf": b}),
    ),
    max_leaves=10,
)

FUNCTION_NAMES = ["lookup", "get_weather", "book.flight", "send-mail", "fetch_2"]


@st.composite
def declaration(draw: st.DrawFn, name: str) -> dict[str, Any]:
    dialect = draw(st.sampled_from(["google", "json", "none"]))
    if dialect == "none":
        return {"name": name}
    if dialect == "google":
        params = draw(google_object(GOOGLE))
        return {"name": name, "parameters": params}
    return {"name": name, "parametersJsonSchema": draw(json_object(JSON))}


@st.composite
def declarations(draw: st.DrawFn) -> list[dict[str, Any]]:
    chosen = draw(st.lists(st.sampled_from(FUNCTION_NAMES), min_size=1, max_size=4, unique=True))
    return [draw(declaration(n)) for n in chosen]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    decls=declarations(),
    seed=st.integers(0, 2**16),
    words=st.lists(st.sampled_from([*FUNCTION_NAMES, "then", "and", "Lisbon", "please", "celsius", ","]), max_size=8),
)
def test_random_declarations_get_valid_arguments(decls: list[dict[str, Any]], seed: int, words: list[str]) -> None:
    prompt = " ".join(words) or "hello"
    body = answer(request(prompt, copy.deepcopy(decls)), seed=seed)
    assert calls_of(body), "AUTO with declared functions always calls at first"
    assert_valid_calls(body, decls)
    usage = body["usageMetadata"]
    assert usage["candidatesTokenCount"] == sum(
        tokens.count_part(p) for p in body["candidates"][0]["content"]["parts"] if not p.get("thought")
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(st.lists(st.sampled_from(FUNCTION_NAMES), min_size=1, max_size=3), min_size=1, max_size=4),
    filler=st.sampled_from(["", "please", "for Lisbon,"]),
)
def test_the_conversation_follows_the_prompt_then_ends(steps: list[list[str]], filler: str) -> None:
    """A user can predict every round from the wording: one step per "then", one call per mention."""
    decls = [{"name": n} for n in FUNCTION_NAMES]
    prompt = " then ".join(" and ".join(f"{n} {filler}" for n in step) for step in steps)
    req = request(prompt, decls)
    seen = []
    reply = answer(req)
    while calls_of(reply) and len(seen) <= len(steps):
        assert_valid_calls(reply, decls)
        seen.append(names(reply))
        req = with_results(req, reply)
        reply = answer(req)
    assert seen == steps
    assert all(f"{n} returned" in text_of(reply) for step in steps for n in step)


def regex_mentions(segment: str, functions: list[tools.Declaration]) -> list[tuple[int, int, str]]:
    """The one-regex-per-declaration scan that ``tools._mentions`` replaces (quadratic in declarations x prompt)."""
    before, after = r"(?<![\w.:-])", r"(?![\w-]|[.:][\w-])"
    hits: list[tuple[int, int, int, tools.Declaration]] = []
    for order, decl in enumerate(functions):
        pattern = before + re.escape(decl.name) + after
        hits += [(m.start(), m.end(), order, decl) for m in re.finditer(pattern, segment, re.IGNORECASE)]
    hits.sort(key=lambda h: (h[0], h[0] - h[1], h[2]))
    kept: list[tuple[int, int, str]] = []
    for start, end, _, decl in hits:
        if not kept or start >= kept[-1][1]:
            kept.append((start, end, decl.name))
    return kept


mention_names = st.lists(
    st.text(st.sampled_from("abAB_.:-1"), min_size=1, max_size=5).filter(lambda n: n[0] not in ".:-"),
    min_size=1,
    max_size=5,
)


@settings(max_examples=1000, deadline=None)
@given(names=mention_names, prompt=st.text(st.sampled_from("abAB_.:-1 ,\n"), max_size=40))
def test_mentions_are_found_as_the_regex_scan_finds_them(names: list[str], prompt: str) -> None:
    functions = [tools.Declaration(n, None, False, "") for n in names]
    found = [(s, e, d.name) for s, e, d in tools._mentions(prompt, functions)]
    assert found == regex_mentions(prompt, functions)


def test_mentions_scale_with_the_prompt_not_with_the_declarations() -> None:
    functions = [tools.Declaration(f"function_{i}", None, False, "") for i in range(512)]
    started = time.monotonic()
    found = tools._mentions("word " * 200_000 + "function_7 then function_9", functions)
    assert [d.name for _, _, d in found] == ["function_7", "function_9"]
    assert time.monotonic() - started < 1.0
    assert len(tools._mentions("function_1 " * 10_000, functions)) == tools.MAX_MENTIONS
