"""The scripted backend called directly: rule choice and state, framing of unary and streamed answers,
errors, blocks, pacing and templates. No server."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator import ApiError, Catalogue, Reply, StreamReply
from emulator.backends.scripted import ScriptedBackend
from emulator.scenarios import load_scenario, scenario_from_data
from emulator.scenarios.actions import StreamPlan
from emulator.scenarios.render import split
from emulator.wire import tokens, validate
from emulator.wire.call import Call, Operation

CATALOGUE = Catalogue.load()
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"


def call(body: dict[str, Any], method: Operation = Operation.GENERATE, model: str = "gemini-2.5-flash") -> Call:
    info = CATALOGUE.resolve(model, method.value, "v1beta")
    return Call(operation=method, model=info, version="v1beta", body=validate.parse_request(method, body, info))


def ask(text: str, **extra: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}], **extra}


def backend(*rules: dict[str, Any], **scenario: Any) -> ScriptedBackend:
    return ScriptedBackend(scenario_from_data({"name": "test", "rules": list(rules), **scenario}))


async def _drain(reply: Reply | StreamReply) -> Any:
    if isinstance(reply, Reply):
        return reply.body
    return [chunk async for chunk in reply.chunks]


def run(scripted: ScriptedBackend, body: dict[str, Any], method: Operation = Operation.GENERATE, **kw: Any) -> Any:
    async def go() -> Any:
        return await _drain(await scripted.answer(call(body, method, **kw)))

    return asyncio.run(go())


def failure(
    scripted: ScriptedBackend, body: dict[str, Any], method: Operation = Operation.GENERATE, **kw: Any
) -> ApiError:
    with pytest.raises(ApiError) as caught:
        run(scripted, body, method, **kw)
    return caught.value


def text(response: dict[str, Any], index: int = 0) -> str:
    parts = response["candidates"][index].get("content", {}).get("parts", [])
    return "".join(p.get("text", "") for p in parts if not p.get("thought"))


def test_rules_answer_top_to_bottom_once_each() -> None:
    scripted = backend({"reply": "one"}, {"reply": "two"}, {"name": "last", "reply": "three", "times": 2})
    assert [text(run(scripted, ask("x"))) for _ in range(4)] == ["one", "two", "three", "three"]
    error = failure(scripted, ask("fifth"))
    assert 'rules[2] "last" matches but was used up (times: 2)' in error.message


def test_first_matching_rule_wins_and_unlimited_rules_stay() -> None:
    scripted = backend(
        {"when": {"last_user_text": {"contains": "weather"}}, "reply": "sunny", "times": "unlimited"},
        {"reply": "fallback", "times": "unlimited"},
    )
    answers = [text(run(scripted, ask(t))) for t in ("weather?", "hello", "weather again")]
    assert answers == ["sunny", "fallback", "sunny"]
    assert scripted.pending() == [] and scripted.requests == 3


def test_pending_lists_unplayed_rules_and_reset_forgets() -> None:
    scripted = backend({"name": "a", "reply": "1"}, {"name": "b", "reply": "2"})
    run(scripted, ask("x"))
    assert scripted.pending() == ['rules[1] "b"']
    scripted.reset()
    assert scripted.pending() == ['rules[0] "a"', 'rules[1] "b"'] and scripted.requests == 0
    assert text(run(scripted, ask("x"))) == "1"


def test_unmatched_request_is_a_loud_non_retryable_error() -> None:
    scripted = backend({"when": {"turn": 5}, "reply": "never"})
    error = failure(scripted, ask("Where is my answer?"))
    assert (error.code, error.status) == (400, "FAILED_PRECONDITION")
    assert error.message.startswith('Scenario "test": no rule matched this request (request 1, turn 1')
    assert 'last user text "Where is my answer?"' in error.message and "unmatched: default" in error.message
    assert error.details[0]["reason"] == "SCENARIO_UNMATCHED"
    assert error.details[0]["metadata"] == {"scenario": "test", "request": "1"}


def test_unmatched_default_delegates_to_the_fallback_model() -> None:
    scripted = backend({"reply": "scripted"}, unmatched="default")
    assert text(run(scripted, ask("Hello"))) == "scripted"
    assert text(run(scripted, ask("Hello"))).startswith('You said: "Hello".')


class Recording:
    """A fallback that records what reached it."""

    def __init__(self) -> None:
        self.methods: list[Operation] = []

    async def answer(self, call: Call) -> Reply | StreamReply:
        self.methods.append(call.operation)
        return Reply({"totalTokens": 7})


def test_other_methods_go_to_the_fallback() -> None:
    fallback = Recording()
    scripted = ScriptedBackend(scenario_from_data({"name": "s", "rules": [{"reply": "x"}]}), fallback=fallback)
    assert run(scripted, ask("count me"), Operation.COUNT_TOKENS) == {"totalTokens": 7}
    embed = {"content": {"parts": [{"text": "e"}]}}
    run(scripted, embed, Operation.EMBED, model="gemini-embedding-001")
    assert fallback.methods == [Operation.COUNT_TOKENS, Operation.EMBED] and scripted.pending() == ["rules[0]"]


def test_default_fallback_counts_tokens() -> None:
    assert run(backend({"reply": "x"}), ask("two words"), Operation.COUNT_TOKENS)["totalTokens"] == 2


def test_nth_counts_requests_that_meet_the_other_conditions() -> None:
    scripted = backend(
        {"when": {"last_user_text": {"contains": "ping"}, "nth": [2, 3]}, "error": 503, "times": "unlimited"},
        {"reply": "pong {{ request }}", "times": "unlimited"},
    )
    outcomes = []
    for prompt in ("ping", "other", "ping", "ping", "ping"):
        try:
            outcomes.append(text(run(scripted, ask(prompt))))
        except ApiError as error:
            outcomes.append(str(error.code))
    assert outcomes == ["pong 1", "pong 2", "503", "503", "pong 5"]


def test_turn_and_request_conditions() -> None:
    scripted = backend(
        {"when": {"turn": 2}, "reply": "second turn", "times": "unlimited"},
        {"when": {"request": 3}, "reply": "third request"},
        {"reply": "other", "times": "unlimited"},
    )
    two_turns = {
        "contents": [*ask("a")["contents"], {"role": "model", "parts": [{"text": "b"}]}, *ask("c")["contents"]]
    }
    assert [text(run(scripted, body)) for body in (ask("a"), two_turns, ask("a"), ask("a"))] == [
        "other",
        "second turn",
        "third request",
        "other",
    ]


def test_concurrent_requests_never_share_a_one_shot_rule() -> None:
    scripted = backend({"reply": "only once", "delay": 0.01}, {"reply": "later", "times": "unlimited", "delay": 0.01})

    async def many() -> list[str]:
        replies = await asyncio.gather(*(scripted.answer(call(ask(str(i)))) for i in range(25)))
        return [text(await _drain(r)) for r in replies]

    answers = asyncio.run(many())
    assert answers.count("only once") == 1 and answers.count("later") == 24


def test_unary_framing_and_usage() -> None:
    body = run(
        backend({"reply": "Hello there, friend."}), ask("Hi", systemInstruction={"parts": [{"text": "Be kind"}]})
    )
    [candidate] = body["candidates"]
    assert candidate == {
        "content": {"parts": [{"text": "Hello there, friend."}], "role": "model"},
        "finishReason": "STOP",
        "index": 0,
    }
    usage = body["usageMetadata"]
    prompt = tokens.count_text("Hi") + tokens.count_text("Be kind")
    output = tokens.count_text("Hello there, friend.")
    assert usage["promptTokenCount"] == prompt and usage["candidatesTokenCount"] == output
    assert usage["totalTokenCount"] == prompt + output and "thoughtsTokenCount" not in usage
    assert body["modelVersion"] == "gemini-2.5-flash" and 20 <= len(body["responseId"]) <= 23


REPLY = "The quick brown fox jumps over the lazy dog, and then writes a rather long and thorough report about it."
PLANS: list[dict[str, Any]] = [
    {"reply": REPLY},
    {"reply": {"text": REPLY, "stream": {"split": "words", "size": 4}}},
    {"reply": {"text": REPLY, "stream": {"split": "characters", "size": 7}}},
    {"reply": {"text": REPLY, "stream": {"split": "tokens", "size": 3}}},
    {
        "reply": {
            "stream": {
                "chunks": [
                    "The quick brown fox jumps over the lazy dog, ",
                    "and then writes a rather long ",
                    "and thorough report about it.",
                ]
            }
        }
    },
]


@pytest.mark.parametrize("rule", PLANS, ids=["default", "words", "characters", "tokens", "explicit"])
def test_stream_chunks_are_complete_responses_that_add_up(rule: dict[str, Any]) -> None:
    scripted = backend({**rule, "times": 2})
    chunks = run(scripted, ask("Tell me"), Operation.STREAM)
    unary = run(scripted, ask("Tell me"))
    assert len(chunks) > 2
    assert len({c["responseId"] for c in chunks}) == 1 and all(c["modelVersion"] == "gemini-2.5-flash" for c in chunks)
    for chunk in chunks:
        [candidate] = chunk["candidates"]
        assert candidate["content"]["role"] == "model" and candidate["index"] == 0
        assert all(p["text"] for p in candidate["content"]["parts"])
    assert ["finishReason" in c["candidates"][0] for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert "".join(text(c) for c in chunks) == REPLY == text(unary)
    counts = [c["usageMetadata"]["candidatesTokenCount"] for c in chunks]
    assert counts == sorted(counts) and chunks[-1]["usageMetadata"] == unary["usageMetadata"]


def test_words_split_keeps_whitespace_with_the_word_before() -> None:
    chunks = run(
        backend({"reply": {"text": "one two  three", "stream": {"split": "words"}}}), ask("x"), Operation.STREAM
    )
    assert [text(c) for c in chunks] == ["one ", "two  ", "three"]


@given(st.text(max_size=200), st.sampled_from(["tokens", "words", "characters"]), st.integers(1, 9))
def test_split_never_loses_or_invents_text(value: str, unit: str, size: int) -> None:
    pieces = split(value, StreamPlan.model_validate({"split": unit, "size": size}))
    assert "".join(pieces) == value
    assert all(pieces) or pieces == [""]


def test_function_calls_travel_whole_after_streamed_text() -> None:
    rule = {
        "reply": {
            "parts": [
                {"text": "Checking the weather in two cities for you right now."},
                {"function_call": {"name": "get_weather", "args": {"city": "Paris"}, "id": "a1b2c3d4"}},
                {"function_call": {"name": "get_weather", "args": {"city": "Rome"}}},
            ],
            "stream": {"split": "words", "size": 2},
        }
    }
    chunks = run(backend(rule), ask("weather"), Operation.STREAM)
    *texts, last = chunks
    assert all("functionCall" not in p for c in texts for p in c["candidates"][0]["content"]["parts"])
    calls = [p["functionCall"] for p in last["candidates"][0]["content"]["parts"]]
    assert calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "a1b2c3d4"},
        {"name": "get_weather", "args": {"city": "Rome"}},
    ]
    assert last["candidates"][0]["finishReason"] == "STOP"


def test_scripted_function_call_turn_is_accepted_when_sent_back() -> None:
    """The model turn we produce must pass the wire validator when a client replays it."""
    call_rule = {"reply": {"parts": [{"function_call": {"name": "get_weather", "args": {"city": "Oslo"}}}]}}
    body = run(backend(call_rule), ask("weather in Oslo"))
    model_turn = body["candidates"][0]["content"]
    assert model_turn["parts"] == [{"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}]
    response = {
        "role": "user",
        "parts": [{"functionResponse": {"name": "get_weather", "response": {"result": "cold"}}}],
    }
    call({"contents": [*ask("weather in Oslo")["contents"], model_turn, response]})


def test_scripted_signatures_are_sent_as_written() -> None:
    """Signing Gemini-3-like calls is the server's job; a signature in the scenario goes out untouched."""
    signed = {"function_call": {"name": "f"}, "thought_signature": "AAEC"}
    body = run(backend({"reply": {"parts": [signed]}}), ask("x"), model="gemini-3-pro-preview")
    part = body["candidates"][0]["content"]["parts"][0]
    assert part == {"functionCall": {"name": "f", "args": {}}, "thoughtSignature": "AAEC"}


def test_media_and_code_parts_and_reply_metadata() -> None:
    parts = [
        {"executable_code": {"code": "print({{ turn }} + 1)"}},
        {"code_execution_result": {"output": "2\n"}},
        {"inline_data": {"mime_type": "image/png", "data": "iVBORw0KGgo"}},
    ]
    rule = {
        "reply": {"parts": parts, "finish_message": "Done in turn {{ turn }}.", "model_version": "gemini-2.5-flash-001"}
    }
    body = run(backend(rule), ask("run it"))
    [candidate] = body["candidates"]
    assert candidate["content"]["parts"] == [
        {"executableCode": {"language": "PYTHON", "code": "print(1 + 1)"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "2\n"}},
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
    ]
    assert candidate["finishMessage"] == "Done in turn 1." and body["modelVersion"] == "gemini-2.5-flash-001"
    usage = body["usageMetadata"]
    assert usage["candidatesTokenCount"] == sum(tokens.count_part(p) for p in candidate["content"]["parts"])
    call({"contents": [*ask("run it")["contents"], candidate["content"], *ask("thanks")["contents"]]})


THINKING = {"reply": {"parts": [{"thought": "Let me think about this carefully."}, "Forty-two."]}, "times": "unlimited"}


@pytest.mark.parametrize("include", [True, False])
def test_thoughts_are_sent_only_on_request_but_always_counted(include: bool) -> None:
    body = ask("q", generationConfig={"thinkingConfig": {"includeThoughts": include}})
    scripted = backend(THINKING)
    unary, chunks = run(scripted, body), run(scripted, body, Operation.STREAM)
    thought_tokens = tokens.count_text("Let me think about this carefully.")
    usage = unary["usageMetadata"]
    assert usage["thoughtsTokenCount"] == thought_tokens
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"] + thought_tokens
    shown = [p.get("thought", False) for p in unary["candidates"][0]["content"]["parts"]]
    assert shown == ([True, False] if include else [False])
    first = chunks[0]["candidates"][0]["content"]["parts"][0]
    assert first.get("thought", False) is include
    assert all(c["usageMetadata"]["thoughtsTokenCount"] == thought_tokens for c in chunks)


def test_several_candidates_each_end_on_their_own_last_piece() -> None:
    candidates = [{"text": "short"}, {"text": "a much longer second candidate", "finish_reason": "MAX_TOKENS"}]
    rule = {"reply": {"candidates": candidates, "stream": {"split": "words"}}, "times": 2}
    scripted = backend(rule)
    unary = run(scripted, ask("x"))
    assert [c["index"] for c in unary["candidates"]] == [0, 1]
    assert [c["finishReason"] for c in unary["candidates"]] == ["STOP", "MAX_TOKENS"]
    chunks = run(scripted, ask("x"), Operation.STREAM)
    assert chunks[0]["candidates"][0] == {
        "content": {"parts": [{"text": "short"}], "role": "model"},
        "finishReason": "STOP",
        "index": 0,
    }
    assert [c["index"] for c in chunks[1]["candidates"]] == [1]
    assert chunks[-1]["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert "".join(text(c, 0) for c in chunks[1:]) == "much longer second candidate"


def test_structured_reply_and_typed_templates() -> None:
    rule = {
        "when": {"last_user_text": {"regex": r"(?P<n>\d+) servings"}},
        "reply": {"json": {"servings": "{{ match.n }}", "turn": "{{ turn }}", "title": "Dish for {{ model }}"}},
    }
    body = run(backend(rule), ask("4 servings", generationConfig={"responseMimeType": "application/json"}))
    assert json.loads(text(body)) == {"servings": "4", "turn": 1, "title": "Dish for gemini-2.5-flash"}


def test_function_results_flow_into_the_reply() -> None:
    scripted = ScriptedBackend(load_scenario(FIXTURES / "weather_tools.yaml"))
    tools = [{"functionDeclarations": [{"name": "get_weather"}]}]
    first = run(scripted, ask("What's the weather in New York?", tools=tools))
    model_turn = first["candidates"][0]["content"]
    assert model_turn["parts"] == [{"functionCall": {"name": "get_weather", "args": {"city": "New York"}}}]
    result = {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"result": "rain"}}}]}
    history = [*ask("What's the weather in New York?")["contents"], model_turn, result]
    second = run(scripted, {"contents": history, "tools": tools})
    assert text(second) == "In New York it is rain."


def test_a_template_without_value_fails_loudly_naming_rule_and_path() -> None:
    scripted = backend({"name": "needs tool", "reply": "Result: {{ function_response.lookup.result }}"})
    error = failure(scripted, ask("no tools here"))
    assert (error.code, error.status) == (400, "FAILED_PRECONDITION")
    assert error.message.startswith(
        'Scenario "test" rules[0] "needs tool": template {{ function_response.lookup.result }}'
    )


def test_template_values_from_the_request_are_inserted_literally() -> None:
    body = run(backend({"reply": "Echo: {{ last_user_text }}"}), ask("{{ model }} {{ scenario }}"))
    assert text(body) == "Echo: {{ model }} {{ scenario }}"


def test_text_that_renders_empty_is_left_out() -> None:
    body = run(backend({"reply": {"parts": [{"text": "{{ system_instruction }}"}, "kept"]}}), ask("x"))
    assert body["candidates"][0]["content"]["parts"] == [{"text": "kept"}]


def test_usage_override_recomputes_the_total() -> None:
    rule = {"reply": {"text": "x", "usage": {"prompt_token_count": 100, "thoughts_token_count": 50}}}
    usage = run(backend(rule), ask("x"))["usageMetadata"]
    assert usage["promptTokenCount"] == 100 and usage["totalTokenCount"] == 100 + 1 + 50


def test_blocked_prompt_unary_and_streamed() -> None:
    scripted = ScriptedBackend(load_scenario(FIXTURES / "blocked.yaml"))
    body = run(scripted, ask("forbidden"))
    assert "candidates" not in body and body["promptFeedback"]["blockReason"] == "SAFETY"
    assert body["promptFeedback"]["safetyRatings"][0]["probability"] == "HIGH"
    assert body["usageMetadata"]["totalTokenCount"] == body["usageMetadata"]["promptTokenCount"]
    [chunk] = run(scripted, ask("forbidden"), Operation.STREAM)
    assert chunk["promptFeedback"]["blockReason"] == "SAFETY"


def test_429_carries_quota_help_and_retry_info() -> None:
    error = failure(ScriptedBackend(load_scenario(FIXTURES / "rate_limited.yaml")), ask("x"))
    assert (error.code, error.status) == (429, "RESOURCE_EXHAUSTED") and "exceeded your current quota" in error.message
    kinds = [d["@type"].rsplit(".", 1)[1] for d in error.details]
    assert kinds == ["QuotaFailure", "Help", "RetryInfo"] and error.details[2]["retryDelay"] == "3s"


def test_error_fields_and_raw_details() -> None:
    raw = {"@type": "type.googleapis.com/google.rpc.DebugInfo", "detail": "scripted"}
    spec = {"code": 429, "quota": False, "retry_after": "1500ms", "reason": "RATE_LIMIT_EXCEEDED", "details": [raw]}
    rule = {"error": {**spec, "message": "Slow down, {{ model }}"}}
    error = failure(backend(rule), ask("x"))
    assert error.message == "Slow down, gemini-2.5-flash"
    assert [d["@type"].rsplit(".", 1)[1] for d in error.details] == ["RetryInfo", "ErrorInfo", "DebugInfo"]
    assert error.details[0]["retryDelay"] == "1.500s" and error.details[1]["reason"] == "RATE_LIMIT_EXCEEDED"
    plain = failure(backend({"error": {"code": 400, "status": "FAILED_PRECONDITION"}}), ask("x"))
    assert (plain.status, plain.message, plain.details) == (
        "FAILED_PRECONDITION",
        "Request contains an invalid argument.",
        [],
    )
    assert failure(backend({"error": 503}), ask("x")).message == "The model is overloaded. Please try again later."


def test_mid_stream_failure_after_k_chunks_and_unary_failure() -> None:
    scripted = ScriptedBackend(load_scenario(FIXTURES / "midstream_failure.yaml"))

    async def stream() -> tuple[list[dict[str, Any]], ApiError | None]:
        reply = await scripted.answer(call(ask("story"), Operation.STREAM))
        assert isinstance(reply, StreamReply)
        got: list[dict[str, Any]] = []
        try:
            async for chunk in reply.chunks:
                got.append(chunk)
        except ApiError as error:
            return got, error
        return got, None

    got, error = asyncio.run(stream())
    assert [text(c) for c in got] == ["This answer starts ", "streaming normally and "]
    assert error is not None and error.code == 503
    unary_fail = backend({"reply": "a b c", "error": {"code": 500, "after_chunks": 1}})
    assert failure(unary_fail, ask("x")).code == 500


def test_delay_first_chunk_and_pacing() -> None:
    started = time.monotonic()
    run(backend({"reply": "x", "delay": "60ms"}), ask("x"))
    assert time.monotonic() - started >= 0.06
    plan = {"split": "words", "first_chunk": 0.05, "tokens_per_second": 50}
    paced = {"reply": {"text": "alpha beta gamma delta", "stream": plan}}
    started = time.monotonic()
    chunks = run(backend(paced), ask("x"), Operation.STREAM)
    assert len(chunks) == 4 and time.monotonic() - started >= 0.05 + 3 / 50


def test_same_script_same_ids_and_each_request_its_own() -> None:
    first = [run(s, ask("x"))["responseId"] for s in [backend({"reply": "a", "times": 2})] for _ in range(2)]
    again = [run(s, ask("x"))["responseId"] for s in [backend({"reply": "a", "times": 2})] for _ in range(2)]
    assert first == again and first[0] != first[1]


def test_the_reference_scenario_plays_every_kind_of_rule() -> None:
    scripted = ScriptedBackend(load_scenario(FIXTURES / "reference.yaml"))
    tools = [{"functionDeclarations": [{"name": "get_weather"}]}]
    pro = "gemini-2.5-pro"
    assert text(run(scripted, ask("Hello there"), model=pro)) == "Hello! How can I help?"
    asked = run(scripted, ask("What's the weather in Oslo?", tools=tools), model=pro)
    model_turn = asked["candidates"][0]["content"]
    assert model_turn["parts"] == [{"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}]
    assert asked["usageMetadata"]["thoughtsTokenCount"] > 0
    assert failure(scripted, ask("anything"), model=pro).code == 429  # the third request to gemini-2.5-pro
    with pytest.raises(ApiError) as broken:
        run(scripted, ask("a story"), Operation.STREAM)
    assert broken.value.code == 503
    assert run(scripted, ask("something FORBIDDEN"))["promptFeedback"]["blockReason"] == "SAFETY"
    assert text(run(scripted, ask("plain"))) == "Answer 6 to: plain"
    result = {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"result": "-3 °C"}}}]}
    history = {"contents": [*ask("What's the weather in Oslo?")["contents"], model_turn, result], "tools": tools}
    chunks = run(scripted, history, Operation.STREAM)
    assert "".join(text(c) for c in chunks) == "Oslo: -3 °C" and len(chunks) == 2
    assert scripted.pending() == ['rules[4] "recipe"']


def test_a_rule_matches_on_what_the_conversation_remembers_and_its_reply_can_say_it() -> None:
    scripted = backend(
        {"when": {"remembered": {"name": "ali*", "number": "4?"}}, "times": "unlimited",
         "reply": "{{ remembered.name }} said {{ remembered.number }} on {{ flavour }}"},
        {"when": {"remembered": {"name": "*"}}, "reply": "I know your name", "times": "unlimited"},
        {"reply": "I know nothing about you", "times": "unlimited"},
    )  # fmt: skip
    said = {"role": "user", "parts": [{"text": "My name is Alice. Remember this number: 42"}]}
    model = {"role": "model", "parts": [{"text": "Got it."}]}
    question = {"role": "user", "parts": [{"text": "What do you know?"}]}
    assert text(run(scripted, {"contents": [said, model, question]})) == "Alice said 42 on developer"
    renamed = {"role": "user", "parts": [{"text": "Call me Bob."}]}
    assert text(run(scripted, {"contents": [said, model, renamed, model, question]})) == "I know your name"
    assert text(run(scripted, {"contents": [question]})) == "I know nothing about you"
