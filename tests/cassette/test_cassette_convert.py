"""Conversions: readable -> vcrpy -> readable is lossless; google-genai replay files survive a round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import vcr.serialize
from cassette_samples import BASE, answer, prompt, sample, streamed
from vcr.serializers import yamlserializer

from emulator.cassette import FORMAT, Cassette, load, save
from emulator.cassette.codec import from_dict
from emulator.cassette.convert import from_genai_replay, to_genai_replay, to_vcrpy
from emulator.wire import encode


def _without_delays(cassette: Cassette) -> Cassette:
    """vcrpy has no place for per-event delays; everything else must survive."""
    copy = cassette.model_copy(deep=True)
    for item in copy.interactions:
        for event in item.response.events or []:
            event.delay = None
    return copy


def test_readable_to_vcrpy_to_readable_is_equal(tmp_path: Path) -> None:
    original = sample()
    plain = to_vcrpy(original)
    assert "format" not in plain.get("metadata", {})
    again = from_dict(plain)
    assert again.interactions == _without_delays(original).interactions
    assert again.metadata == original.metadata
    path = tmp_path / "plain.yaml"  # and through vcrpy's own serializer and our loader
    path.write_text(yamlserializer.serialize(plain))
    assert load(path).interactions == _without_delays(original).interactions


def test_vcrpy_bodies_are_strings_framed_as_the_service_frames_them() -> None:
    plain = to_vcrpy(Cassette(interactions=[streamed("q", chunks=("a<b", "ü"))]))
    body = plain["interactions"][0]["response"]["body"]["string"]
    expected = b"".join(encode.sse_event(answer(t, f)) for t, f in (("a<b", None), ("ü", "STOP"))).decode()
    assert body == expected
    assert body.startswith('data: {"candidates": [{"content": {"role": "model","parts": [{"text": "a\\u003cb"}]}')
    assert body.endswith("}\r\n\r\n") and body.count("\r\n\r\n") == 2
    request = plain["interactions"][0]["request"]
    assert request["body"] == json.dumps(prompt("q")) and set(request) == {"method", "uri", "body", "headers"}


def test_vcrpy_plays_a_converted_cassette_to_google_genai(tmp_path: Path) -> None:
    """vcrpy itself, patching httpx under the SDK, answers from what to_vcrpy wrote: no network involved."""
    genai = pytest.importorskip("google.genai")
    path = tmp_path / "plain.yaml"
    path.write_text(yamlserializer.serialize(to_vcrpy(sample())))
    client = genai.Client(api_key="k", http_options={"api_version": "v1beta"})
    with vcr.use_cassette(str(path), record_mode="none", match_on=["method", "uri"]):
        assert client.models.generate_content(model="gemini-2.5-flash", contents="What is 2+2?").text == "4"
        chunks = client.models.generate_content_stream(model="gemini-2.5-flash", contents="Count")
        assert [c.text for c in chunks] == ["To ", "find"]
    requests, _, metadata = vcr.serialize.deserialize(path.read_text(), yamlserializer)
    assert requests[0].body == json.dumps(prompt("What is 2+2?")).encode() and "format" not in metadata


def test_stale_content_length_is_recomputed() -> None:
    cassette = sample()
    cassette.interactions[0].response.headers["Content-Length"] = ["1"]
    response = to_vcrpy(cassette)["interactions"][0]["response"]
    assert response["headers"]["Content-Length"] == [str(len(response["body"]["string"].encode()))]


def test_error_event_is_framed_as_the_bare_object_the_service_writes() -> None:
    error = {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}
    cassette = Cassette(interactions=[streamed("q", chunks=("a",))])
    assert cassette.interactions[0].response.events is not None
    cassette.interactions[0].response.events.append(
        cassette.interactions[0].response.events[0].model_copy(update={"data": error})
    )
    body = to_vcrpy(cassette)["interactions"][0]["response"]["body"]["string"]
    assert body.endswith(encode.stream_error(error).decode())
    assert from_dict(to_vcrpy(cassette)).interactions[0].response.error == error["error"]


def genai_file() -> dict[str, Any]:
    """Shaped like google-genai's own replay recordings (ReplayFile.model_dump_json(exclude_unset=True))."""
    sdk = {"candidates": [{"content": {"parts": [{"text": "4"}], "role": "model"}, "finish_reason": "STOP"}]}
    return {
        "replay_id": "models/generate_content/test_simple/mldev",
        "interactions": [
            {
                "request": {
                    "method": "post",
                    "url": "{MLDEV_URL_PREFIX}/models/gemini-2.5-flash:generateContent",
                    "headers": {"Content-Type": "application/json", "x-goog-api-key": "{REDACTED}"},
                    "body_segments": [prompt("What is 2+2?")],
                },
                "response": {
                    "status_code": 200,
                    "headers": {"content-type": "application/json; charset=UTF-8", "vary": "Origin, X-Origin"},
                    "body_segments": [answer("4")],
                    "byte_segments": [],
                    "sdk_response_segments": [sdk],
                },
            },
            {
                "request": {
                    "method": "post",
                    "url": "{MLDEV_URL_PREFIX}/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
                    "headers": {"Content-Type": "application/json", "x-goog-api-key": "{REDACTED}"},
                    "body_segments": [prompt("Count")],
                },
                "response": {
                    "status_code": 200,
                    "headers": {"content-type": "text/event-stream"},
                    "body_segments": [answer("One", None), answer(" two")],
                    "byte_segments": [],
                    "sdk_response_segments": [],
                },
            },
            {
                "request": {
                    "method": "post",
                    "url": "{VERTEX_URL_PREFIX}/publishers/google/models/gemini-2.5-flash:generateContent",
                    "headers": {"Content-Type": "application/json"},
                    "body_segments": [prompt("Vertex")],
                },
                "response": {
                    "status_code": 429,
                    "headers": {"content-type": "application/json"},
                    "body_segments": [{"error": {"code": 429, "message": "exhausted", "status": "RESOURCE_EXHAUSTED"}}],
                    "sdk_response_segments": [],
                },
            },
        ],
    }


def test_genai_replay_to_cassette() -> None:
    cassette = from_genai_replay(genai_file())
    unary, stream, failed = cassette.interactions
    assert (
        unary.request.uri == "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    )
    assert unary.request.method == "POST" and unary.request.body == prompt("What is 2+2?")
    assert unary.response.body == answer("4") and unary.response.headers["vary"] == ["Origin, X-Origin"]
    assert stream.response.events is not None and [e.data for e in stream.response.events] == [
        answer("One", None),
        answer(" two"),
    ]
    assert failed.request.uri.startswith("https://aiplatform.googleapis.com/v1beta1/publishers/google/models/")
    assert failed.response.status == 429 and failed.response.message == "Too Many Requests"
    assert cassette.metadata == {"format": FORMAT, "replay_id": "models/generate_content/test_simple/mldev"}


def test_genai_replay_round_trip(tmp_path: Path) -> None:
    original = genai_file()
    assert to_genai_replay(from_genai_replay(original)) == original
    path = tmp_path / "c.yaml"  # through our readable file too
    save(from_genai_replay(original), path)
    again = to_genai_replay(load(path))
    for item in again["interactions"]:  # saving redacts, so the SDK's own mask comes back as ours
        item["request"]["headers"].pop("x-goog-api-key", None)
    for item in original["interactions"]:
        item["request"]["headers"].pop("x-goog-api-key", None)
    assert again == original


def test_our_cassette_to_genai_replay_validates_in_the_sdk() -> None:
    replay = pytest.importorskip("google.genai._replay_api_client")
    cassette = sample()
    cassette.interactions[0].request.uri = "http://127.0.0.1:8765/v1beta/models/gemini-2.5-flash:generateContent"
    cassette.interactions[0].request.headers = {"x-goog-api-key": ["REDACTED"], "Authorization": ["Bearer x"]}
    data = to_genai_replay(cassette, replay_id="mod/fn/mldev")
    parsed = replay.ReplayFile.model_validate(data)
    first = parsed.interactions[0]
    assert first.request.url == "{MLDEV_URL_PREFIX}/models/gemini-2.5-flash:generateContent"
    assert first.request.headers == {"x-goog-api-key": "{REDACTED}"}
    assert first.response.body_segments == [answer("4")]
    assert parsed.interactions[1].response.body_segments == [
        e.data for e in cassette.interactions[1].response.events or []
    ]
    error = parsed.interactions[2].response
    assert error.status_code == 429 and error.body_segments == [
        {"error": {"code": 429, "message": "Resource has been exhausted.", "status": "RESOURCE_EXHAUSTED"}}
    ]
    assert (
        replay._redact_request_url(BASE + ":generateContent")
        == to_genai_replay(
            Cassette(
                interactions=[cassette.interactions[0].model_copy(update={"request": cassette.interactions[2].request})]
            )
        )["interactions"][0]["request"]["url"]
    )


def test_load_accepts_a_genai_replay_file(tmp_path: Path) -> None:
    path = tmp_path / "replay.json"
    path.write_text(json.dumps(genai_file(), indent=2))
    assert len(load(path).interactions) == 3
