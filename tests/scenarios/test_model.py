"""The scenario format as data: shorthands, defaults, the rules that reject ambiguous files, and
what each condition means for a request."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from emulator import Catalogue
from emulator.scenarios import Rule, Scenario
from emulator.scenarios.conditions import TextMatch, When
from emulator.scenarios.facts import Facts
from emulator.wire import validate
from emulator.wire.call import Call, Operation

CATALOGUE = Catalogue.load()


def facts(body: dict[str, Any], method: Operation = Operation.GENERATE, model: str = "gemini-2.5-flash") -> Facts:
    info = CATALOGUE.resolve(model, method.value, "v1beta")
    call = Call(operation=method, model=info, version="v1beta", body=validate.parse_request(method, body, info))
    return Facts.of(call, request=1)


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


def rule(**fields: Any) -> Rule:
    return Rule.model_validate(fields)


def test_rules_are_one_shot_by_default_and_times_accepts_unlimited() -> None:
    assert rule(reply="hi").times == 1
    assert rule(reply="hi", times=3).times == 3
    assert rule(reply="hi", times="unlimited").times is None
    for bad in (0, -1, "forever", True, None):
        with pytest.raises(ValidationError, match="times must be a positive integer or 'unlimited'"):
            rule(reply="hi", times=bad)


def test_shorthands_expand_to_their_long_forms() -> None:
    short = rule(reply="hi", when={"turn": 2, "model": "gemini-*", "last_user_text": "Hello"})
    assert short.reply is not None and short.reply.text == "hi"
    assert short.when.turn == [2] and short.when.model == ["gemini-*"]
    assert short.when.last_user_text == TextMatch(equals="Hello")
    assert rule(error=503).error.code == 503  # type: ignore[union-attr]
    assert rule(block="PROHIBITED_CONTENT").block.reason == "PROHIBITED_CONTENT"  # type: ignore[union-attr]
    parts = rule(reply={"parts": ["plain", {"thought": "hmm"}]}).reply.parts  # type: ignore[union-attr]
    assert parts is not None and parts[0].text == "plain" and parts[1].thought == "hmm"


@pytest.mark.parametrize(
    ("written", "seconds"), [("250ms", 0.25), ("3s", 3.0), ("1.5s", 1.5), ("2m", 120.0), (2, 2.0), (0.1, 0.1)]
)
def test_durations_take_units(written: Any, seconds: float) -> None:
    assert rule(reply="x", delay=written).delay == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["3 hours", "-1s", -2, "soon", True])
def test_bad_durations_are_rejected(bad: Any) -> None:
    with pytest.raises(ValidationError):
        rule(reply="x", delay=bad)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({}, "needs one of reply, error or block"),
        ({"reply": "a", "block": "SAFETY"}, "needs one of reply, error or block"),
        ({"reply": "a", "error": 503}, "set error.after_chunks"),
        ({"error": {"code": 503, "after_chunks": 2}}, "needs a reply to stream"),
        ({"reply": {"text": "a", "parts": ["b"]}}, "not text and parts"),
        ({"reply": {"text": "a", "candidates": [{"text": "b"}]}}, "inside each candidate"),
        ({"reply": {"text": "a", "stream": {"chunks": ["a"]}}}, "stream.chunks is the reply text"),
        ({"reply": {"candidates": [{"text": "a"}], "stream": {"chunks": ["a"]}}}, "single text reply"),
        ({"reply": {"parts": [{"text": "a", "thought": "b"}]}}, "exactly one of"),
        ({"reply": {"parts": [{}]}}, r"found: none"),
        ({"reply": {"text": ""}}, "text must not be empty"),
        ({"reply": {"parts": [{"thought": ""}]}}, "text must not be empty"),
        ({"reply": {"usage": {"prompt_token_count": 3}}}, "give text, parts or json"),
        ({"error": {"code": 302}}, "greater than or equal to 400"),
        ({"error": {"code": 400, "details": [{"reason": "x"}]}}, "needs an '@type'"),
        ({"reply": {"parts": [{"inline_data": {"mime_type": "image/png", "data": "*not base64*"}}]}}, "base64"),
        ({"reply": "a", "when": {"last_user_text": {"regex": "("}}}, "invalid regex"),
        ({"reply": "a", "when": {"turn": 0}}, "greater than or equal to 1"),
        ({"reply": "{{ secret }}"}, "unknown template name 'secret'"),
    ],
)
def test_ambiguous_or_invalid_rules_are_rejected(fields: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        rule(**fields)


def test_an_empty_candidate_must_say_why_it_ended() -> None:
    assert rule(reply={"finish_reason": "SAFETY"}).reply.finish_reason == "SAFETY"  # type: ignore[union-attr]


def test_json_null_is_a_structured_value_not_an_absent_one() -> None:
    reply = rule(reply={"json": None}).reply
    assert reply is not None and reply.content_fields() == ["json"]


def test_base64_is_normalised_to_the_standard_alphabet() -> None:
    part = rule(reply={"parts": [{"text": "x", "thought_signature": "-_8"}]}).reply.parts[0]  # type: ignore[index, union-attr]
    assert part.thought_signature == "+/8="


def test_scenario_defaults() -> None:
    scenario = Scenario.model_validate({"name": "s", "$schema": "./scenario.schema.json"})
    assert scenario.unmatched == "error" and scenario.rules == []
    with pytest.raises(ValidationError):
        Scenario.model_validate({"name": "s", "unmatched": "ignore"})


def test_text_match_tests_combine() -> None:
    match = TextMatch(contains="weather", regex=r"in (?P<city>\w+)", ignore_case=True)
    assert match.match("WEATHER in Oslo") == {"0": "in Oslo", "1": "Oslo", "city": "Oslo"}
    assert match.match("rain in Oslo") is None
    assert TextMatch(equals="Hello").match("  Hello\n") == {}
    assert TextMatch(equals="Hello").match("hello") is None
    assert TextMatch(equals="Hello", ignore_case=True).match("hello") == {}


def test_turn_counts_user_messages_not_function_responses() -> None:
    first = facts({"contents": [user("weather?")]})
    tool_round = facts(
        {
            "contents": [
                user("weather?"),
                {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}]},
                {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"result": 1}}}]},
            ]
        }
    )
    second = facts({"contents": [user("a"), {"role": "model", "parts": [{"text": "b"}]}, user("c")]})
    assert (first.turn, tool_round.turn, second.turn) == (1, 1, 2)
    assert tool_round.last_user_text == "weather?" and tool_round.responded == ("get_weather",)
    assert tool_round.function_calls["get_weather"]["args"] == {"city": "Oslo"}
    assert tool_round.function_responses["get_weather"] == {"result": 1}
    assert When(function_response=True).match(tool_round) == {}
    assert When(function_response="get_weather").match(tool_round) == {}
    assert When(function_response="other").match(tool_round) is None
    assert When(function_response=False).match(first) == {}
    assert When(function_response=False).match(tool_round) is None


def test_generation_settings_and_tools_conditions() -> None:
    tools = [{"functionDeclarations": [{"name": "get_weather"}, {"name": "get_time"}]}]
    config = {"responseMimeType": "application/json", "responseJsonSchema": {"type": "object"}}
    seen = facts({"contents": [user("x")], "tools": tools, "generationConfig": config})
    plain = facts({"contents": [user("x")], "systemInstruction": {"parts": [{"text": "You are a pirate."}]}})
    assert When(function_declared=["get_weather", "get_time"]).match(seen) == {}
    assert When(function_declared="get_news").match(seen) is None
    assert When(response_mime_type="application/json", response_schema=True).match(seen) == {}
    assert When(response_schema=True).match(plain) is None
    assert When(response_schema=False, system_instruction={"contains": "pirate"}).match(plain) == {}
    assert When(system_instruction={"contains": "pirate"}).match(seen) is None


def test_model_globs_and_stream_condition() -> None:
    streamed = facts({"contents": [user("x")]}, Operation.STREAM, model="gemini-2.5-pro")
    assert When(model="gemini-2.5-*").match(streamed) == {}
    assert When(model="models/gemini-2.5-pro").match(streamed) == {}
    assert When(model=["gemini-3-*", "*-flash"]).match(streamed) is None
    assert When(stream=True).match(streamed) == {}
    assert When(stream=False).match(streamed) is None


def test_rule_labels_name_position_and_name() -> None:
    assert rule(reply="x", name="greet").label(2) == 'rules[2] "greet"'
    assert rule(reply="x").label(0) == "rules[0]"
