"""Matching: what counts as the same request, recorded order for repeats, and misses that say why."""

from __future__ import annotations

from typing import Any

import pytest
from cassette_samples import BASE, prompt, streamed, unary

from emulator.cassette import Cassette, Index, Matcher, normalise
from emulator.cassette import matching as matching_module
from emulator.cassette.model import Interaction, RecordedRequest, RecordedResponse

GENERATE = BASE + ":generateContent"


def test_camel_and_snake_case_bodies_match() -> None:
    camel = {**prompt("hi"), "generationConfig": {"maxOutputTokens": 5, "responseMimeType": "text/plain"}}
    snake = {**prompt("hi"), "generation_config": {"max_output_tokens": 5, "response_mime_type": "text/plain"}}
    assert normalise("POST", GENERATE, camel) == normalise("POST", GENERATE, snake)


def test_enum_numbers_and_names_and_base64_alphabets_match() -> None:
    def body(threshold: Any, data: str) -> dict[str, Any]:
        return {
            "contents": [{"role": "user", "parts": [{"inlineData": {"mimeType": "image/png", "data": data}}]}],
            "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": threshold}],
        }

    assert normalise("POST", GENERATE, body("BLOCK_NONE", "+/8=")) == normalise("POST", GENERATE, body(4, "-_8"))


def test_version_segment_base_path_key_and_host_are_ignored() -> None:
    key = normalise("POST", GENERATE, prompt("hi"))
    for uri in (
        "http://127.0.0.1:9999/v1/models/gemini-2.5-flash:generateContent?key=abc",
        "http://proxy.local/some/prefix/v1alpha/models/gemini-2.5-flash:generateContent",
        "/v1beta/models/gemini-2.5-flash:generateContent",
    ):
        assert normalise("post", uri, prompt("hi")) == key, uri


def test_alt_and_other_query_parameters_still_count() -> None:
    body = prompt("hi")
    stream = BASE + ":streamGenerateContent"
    assert normalise("POST", stream + "?alt=sse", body) != normalise("POST", stream, body)
    assert normalise("GET", BASE + "/x?pageSize=1&key=a", None) == normalise("GET", BASE + "/x?key=b&pageSize=1", None)


def test_headers_are_ignored_and_string_bodies_are_parsed() -> None:
    recorded = unary("hi")
    recorded.request.headers = {"user-agent": ["google-genai-sdk/1.0"], "x-goog-api-client": ["x"]}
    index = Index(Cassette(interactions=[recorded]))
    assert index.take("POST", GENERATE, '{"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}') is recorded


def test_bodies_the_schema_rejects_and_non_model_calls_compare_as_sent() -> None:
    assert normalise("POST", GENERATE, {"contents": "nonsense"}) != normalise("POST", GENERATE, {"contents": "other"})
    files = "https://generativelanguage.googleapis.com/v1beta/files"
    assert normalise("POST", files, {"b": 1, "a": 2}) == normalise("POST", files, {"a": 2, "b": 1})
    assert normalise("POST", files, {"max_tokens": 1}) != normalise("POST", files, {"maxTokens": 1})


def test_repeats_are_answered_in_recorded_order_then_repeat_the_last() -> None:
    first, second = unary("hi", reply="one"), unary("hi", reply="two")
    index = Index(Cassette(interactions=[first, unary("other"), second]))
    assert [index.take("POST", GENERATE, prompt("hi")) for _ in range(4)] == [first, second, second, second]


def test_after_last_miss() -> None:
    only = unary("hi")
    index = Index(Cassette(interactions=[only]), after_last="miss")
    assert index.take("POST", GENERATE, prompt("hi")) is only
    assert index.take("POST", GENERATE, prompt("hi")) is None
    nearest, why = index.nearest("POST", GENERATE, prompt("hi"))
    assert nearest is only and "every answer was used" in why
    with pytest.raises(ValueError):
        Index(Cassette(), after_last="sometimes")


def test_fork_and_reset_give_fresh_replay_state_over_the_same_table() -> None:
    a, b = unary("hi", reply="one"), unary("hi", reply="two")
    index = Index(Cassette(interactions=[a, b]))
    assert index.take("POST", GENERATE, prompt("hi")) is a
    other = index.fork()
    assert other._by_key is index._by_key
    assert other.take("POST", GENERATE, prompt("hi")) is a
    assert index.take("POST", GENERATE, prompt("hi")) is b
    index.reset()
    assert index.take("POST", GENERATE, prompt("hi")) is a


def test_unused_lists_untaken_interactions_in_cassette_order() -> None:
    items = [unary("a"), unary("b"), unary("a"), streamed("c")]
    index = Index(Cassette(interactions=items))
    index.take("POST", GENERATE, prompt("a"))
    assert index.unused() == [items[1], items[2], items[3]]


def test_nearest_names_the_first_differing_field() -> None:
    recorded = unary("hello")
    recorded.request.body = prompt("first", "hello")
    index = Index(Cassette(interactions=[unary("unrelated"), recorded, streamed("hi")]))
    nearest, why = index.nearest("POST", GENERATE, prompt("first", "hi"))
    assert nearest is recorded and index.ordinal(nearest) == 1
    assert why == "contents[2].parts[0].text: 'hi' != 'hello'"


def test_nearest_prefers_the_same_call_and_reports_path_query_and_missing_fields() -> None:
    flash = unary("hi")
    index = Index(Cassette(interactions=[flash]))
    _, why = index.nearest("POST", BASE.replace("flash", "pro") + ":generateContent", prompt("hi"))
    assert why == "path: 'models/gemini-2.5-pro:generateContent' != 'models/gemini-2.5-flash:generateContent'"
    _, why = index.nearest("POST", GENERATE + "?alt=sse", prompt("hi"))
    assert why == "query: 'alt=sse' != ''"
    _, why = index.nearest("POST", GENERATE, {**prompt("hi"), "generationConfig": {"temperature": 0.5}})
    assert why == 'generationConfig: {"temperature": 0.5} != missing'
    _, why = index.nearest("POST", GENERATE, prompt("hi", "more"))
    assert why == 'contents[1]: {"parts": [{"text": "ok"}], "role": "model"} != missing'
    assert Index(Cassette()).nearest("POST", GENERATE, None) == (None, "the cassette has no interactions")


def test_matcher_can_ignore_parts_and_body_fields() -> None:
    seeded = unary("hi")
    seeded.request.body = {**prompt("hi"), "generationConfig": {"seed": 1, "temperature": 0.2}}
    ask = {**prompt("hi"), "generation_config": {"seed": 99, "temperature": 0.2}}
    assert Index(Cassette(interactions=[seeded])).take("POST", GENERATE, ask) is None
    ignoring = Index(Cassette(interactions=[seeded]), Matcher(ignore_fields=("generation_config.seed",)))
    assert ignoring.take("POST", GENERATE, ask) is seeded
    assert Index(Cassette(interactions=[seeded]), Matcher(body=False)).take("POST", GENERATE, None) is seeded
    assert (
        Index(Cassette(interactions=[seeded]), Matcher(query=False, body=False)).take(
            "POST", GENERATE + "?alt=sse", None
        )
        is seeded
    )
    assert Index(Cassette(interactions=[seeded])).with_matcher(body=False).take("POST", GENERATE, {}) is seeded


def test_ignored_fields_reach_into_lists() -> None:
    def body(text: str) -> dict[str, Any]:
        return {"contents": [{"role": "user", "parts": [{"text": text, "thoughtSignature": "c2ln"}]}]}

    recorded = unary("x")
    recorded.request.body = body("x")
    matcher = Matcher(ignore_fields=("contents.parts.thoughtSignature",))
    asked = {"contents": [{"role": "user", "parts": [{"text": "x"}]}]}
    assert Index(Cassette(interactions=[recorded])).take("POST", GENERATE, asked) is None
    assert Index(Cassette(interactions=[recorded]), matcher).take("POST", GENERATE, asked) is recorded


def test_lookup_is_one_dict_access_whatever_the_cassette_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Structural, not timed: take() normalises only the request, and never walks the interactions."""
    items = [unary(f"question {n}") for n in range(500)]
    cassette = Cassette(interactions=list(items))
    index = Index(cassette)
    assert isinstance(index._by_key, dict) and len(index._by_key) == 500
    cassette.interactions.clear()  # take() must not need the cassette's list any more
    calls: list[str] = []
    real = matching_module.Matcher.parts

    def counting(self: Matcher, method: str, uri: str, body: Any) -> Any:
        calls.append(uri)
        return real(self, method, uri, body)

    monkeypatch.setattr(matching_module.Matcher, "parts", counting)
    assert index.take("POST", GENERATE, prompt("question 499")) is items[-1]
    assert calls == [GENERATE]


def test_get_requests_without_body() -> None:
    got = Interaction(request=RecordedRequest(method="GET", uri=BASE), response=RecordedResponse(body={"name": "m"}))
    index = Index(Cassette(interactions=[got]))
    assert index.take("GET", "http://x/v1/models/gemini-2.5-flash?key=k", None) is got
    assert index.take("GET", "http://x/v1/models/gemini-2.5-flash", "") is got
