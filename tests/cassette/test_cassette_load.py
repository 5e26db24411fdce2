"""Loading: plain vcrpy cassettes of google-genai traffic as they are, and refusing bad files loudly."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import vcr
import vcr.serialize
import yaml
from cassette_samples import answer, prompt
from vcr.request import Request
from vcr.serializers import jsonserializer, yamlserializer

from emulator import EmulatorThread
from emulator.cassette import CassetteError, Index, Matcher, load
from emulator.cassette.store import MAX_ALIASES

# What vcrpy's yaml serializer writes for one unary and one streamed google-genai call (keys sorted,
# bodies as strings, long strings folded), abridged by hand.
VCRPY_YAML = r"""interactions:
- request:
    body: '{"contents": [{"parts": [{"text": "Hello there"}], "role": "user"}]}'
    headers:
      content-type:
      - application/json
      user-agent:
      - google-genai-sdk/3.6.1 gl-python/3.11.7
      x-goog-api-key:
      - secret-key-value
    method: POST
    uri: https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent
  response:
    body:
      string: "{\n  \"candidates\": [\n    {\n      \"content\": {\n        \"parts\":
        [\n          {\n            \"text\": \"Hi!\"\n          }\n        ],\n
        \       \"role\": \"model\"\n      },\n      \"finishReason\": \"STOP\",\n
        \     \"index\": 0\n    }\n  ],\n  \"modelVersion\": \"gemini-2.5-flash\"\n}\n"
    headers:
      content-type:
      - application/json; charset=UTF-8
    status:
      code: 200
      message: OK
- request:
    body: '{"contents": [{"parts": [{"text": "Count"}], "role": "user"}]}'
    headers:
      content-type:
      - application/json
    method: POST
    uri: https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse
  response:
    body:
      string: "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"One\"}],\"role\":
        \"model\"},\"index\": 0}],\"modelVersion\": \"gemini-2.5-flash\"}\r\n\r\ndata:
        {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" two\"}],\"role\":
        \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"modelVersion\": \"gemini-2.5-flash\"}\r\n\r\n"
    headers:
      content-disposition:
      - attachment
      content-type:
      - text/event-stream
    status:
      code: 200
      message: OK
version: 1
"""


def test_plain_vcrpy_yaml_is_servable_as_is(tmp_path: Path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text(VCRPY_YAML)
    assert len(vcr.serialize.deserialize(VCRPY_YAML, yamlserializer)[0]) == 2  # the fixture is vcrpy-valid
    unary, stream = load(path).interactions
    assert unary.request.body == {"contents": [{"parts": [{"text": "Hello there"}], "role": "user"}]}
    assert unary.request.headers["x-goog-api-key"] == ["secret-key-value"]
    assert unary.response.body["candidates"][0]["content"]["parts"] == [{"text": "Hi!"}]  # type: ignore[index, call-overload]
    assert unary.response.events is None and unary.response.raw is None
    assert stream.response.events is not None
    assert [e.data["candidates"][0]["content"]["parts"][0]["text"] for e in stream.response.events] == ["One", " two"]
    assert [e.delay for e in stream.response.events] == [None, None]
    assert stream.response.complete


def _vcrpy_dump(responses: list[dict[str, Any]], serializer: Any, bodies: list[Any] | None = None) -> str:
    """A cassette serialised by vcrpy's own code, exactly as it saves one."""
    requests = [
        Request("POST", "https://generativelanguage.googleapis.com/v1beta/models/m:generateContent", body, {})
        for body in (bodies or [json.dumps(prompt("q"))] * len(responses))
    ]
    return str(vcr.serialize.serialize({"requests": requests, "responses": responses}, serializer))


def _response(body: str | bytes, headers: dict[str, list[str]]) -> dict[str, Any]:
    return {"status": {"code": 200, "message": "OK"}, "headers": headers, "body": {"string": body}}


def test_plain_vcrpy_json_cassette(tmp_path: Path) -> None:
    text = json.dumps(answer("hi"), indent=2)
    path = tmp_path / "plain.json"
    path.write_text(_vcrpy_dump([_response(text, {"Content-Type": ["application/json"]})], jsonserializer))
    (interaction,) = load(path).interactions
    assert interaction.response.body == answer("hi")
    assert interaction.request.body == prompt("q")


def test_gzipped_binary_body_is_decoded_and_its_encoding_header_dropped(tmp_path: Path) -> None:
    raw = gzip.compress(json.dumps(answer("zipped")).encode())
    headers = {"Content-Type": ["application/json"], "Content-Encoding": ["gzip"], "Content-Length": ["9"]}
    path = tmp_path / "gz.yaml"
    path.write_text(_vcrpy_dump([_response(raw, headers)], yamlserializer))
    assert "!!binary" in path.read_text()
    (interaction,) = load(path).interactions
    assert interaction.response.body == answer("zipped")
    assert interaction.response.headers == {"Content-Type": ["application/json"]}


def test_undecodable_binary_body_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bin.yaml"
    path.write_text(_vcrpy_dump([_response(b"\xff\xfe\x00", {"Content-Encoding": ["br"]})], yamlserializer))
    with pytest.raises(CassetteError, match="binary body"):
        load(path)


def test_stream_ending_in_a_bare_error_object(tmp_path: Path) -> None:
    error = {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}
    body = "data: " + json.dumps(answer("part", None)) + "\r\n\r\n" + json.dumps(error, indent=2) + "\n"
    path = tmp_path / "err.yaml"
    path.write_text(_vcrpy_dump([_response(body, {"Content-Type": ["text/event-stream"]})], yamlserializer))
    response = load(path).interactions[0].response
    assert response.events is not None and [e.data for e in response.events] == [answer("part", None), error]
    assert response.error == error["error"] and response.complete


def test_stream_cut_mid_event_is_marked_incomplete(tmp_path: Path) -> None:
    body = "data: " + json.dumps(answer("part", None)) + '\r\n\r\ndata: {"candid'
    path = tmp_path / "cut.yaml"
    path.write_text(_vcrpy_dump([_response(body, {"Content-Type": ["text/event-stream"]})], yamlserializer))
    response = load(path).interactions[0].response
    assert response.events is not None and len(response.events) == 1 and response.complete is False


def test_corrupt_event_in_the_middle_is_an_error(tmp_path: Path) -> None:
    body = "data: {nope}\r\n\r\ndata: " + json.dumps(answer("x")) + "\r\n\r\n"
    path = tmp_path / "bad.yaml"
    path.write_text(_vcrpy_dump([_response(body, {"Content-Type": ["text/event-stream"]})], yamlserializer))
    with pytest.raises(CassetteError, match=r"interactions\[0\].*not JSON"):
        load(path)


def test_non_json_bodies_stay_verbatim(tmp_path: Path) -> None:
    path = tmp_path / "raw.yaml"
    responses = [_response("<html>502</html>", {"Content-Type": ["text/html"]}), _response("", {})]
    path.write_text(_vcrpy_dump(responses, yamlserializer, bodies=["not json", None]))
    html, empty = load(path).interactions
    assert html.response.raw == "<html>502</html>" and html.request.body == "not json"
    assert empty.response.body is None and empty.response.raw is None and empty.request.body is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("   \n\n", "empty"),
        ("interactions: [unclosed", "not valid YAML"),
        ("- just\n- a list\n", "not a cassette"),
        ("interactions: 3\n", "not a cassette"),
        ("interactions:\n- request: {}\n  response: {}\n", r"interactions\[0\]"),
        ("!!python/object/apply:os.system ['true']\n", "not valid YAML"),
    ],
)
def test_bad_files_are_cassette_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(CassetteError, match=message):
        load(path)


def test_garbage_bytes_and_missing_files_are_cassette_errors(tmp_path: Path) -> None:
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"\xff\xd8\xff\xe0garbage")
    with pytest.raises(CassetteError, match="UTF-8"):
        load(path)
    with pytest.raises(CassetteError, match="cannot read"):
        load(tmp_path / "absent.yaml")
    with pytest.raises(CassetteError, match="JSON"):
        (tmp_path / "bad.json").write_text("{'single': quotes}")
        load(tmp_path / "bad.json")


def test_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(VCRPY_YAML)
    assert load(path, max_bytes=len(VCRPY_YAML))
    with pytest.raises(CassetteError, match="larger than"):
        load(path, max_bytes=len(VCRPY_YAML) - 1)


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, name = chr(ord("a") + i - 1), chr(ord("a") + i)
        levels.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(levels) + "\ninteractions: []\n")
    with pytest.raises(CassetteError, match="aliases"):
        load(path)


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    data = yaml.safe_load(VCRPY_YAML)
    shared = data["interactions"][0]["request"]["headers"]["content-type"]
    data["interactions"][1]["request"]["headers"]["content-type"] = shared  # yaml.dump makes an alias of it
    text = yaml.dump(data)
    assert "&id001" in text and text.count("*id001") <= MAX_ALIASES
    path = tmp_path / "aliases.yaml"
    path.write_text(text)
    assert len(load(path).interactions) == 2


def test_cassette_vcrpy_recorded_from_google_genai_replays_through_our_index(tmp_path: Path) -> None:
    """The real thing: vcrpy patching httpx under google-genai, recording the emulator's answers."""
    genai = pytest.importorskip("google.genai")
    path = tmp_path / "recorded.yaml"
    with EmulatorThread() as emu:
        client = genai.Client(api_key="canary-key-for-vcrpy", http_options={"base_url": emu.url})
        with vcr.use_cassette(str(path), record_mode="all"):
            unary = client.models.generate_content(model="gemini-2.5-flash", contents="Hello there")
            chunks = list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="Count to three"))
    cassette = load(path)
    first, second = cassette.interactions
    assert isinstance(first.response.body, dict)
    assert first.response.body["candidates"][0]["content"]["parts"][0]["text"] == unary.text
    assert second.response.events is not None and len(second.response.events) == len(chunks) > 1
    index = Index(cassette, Matcher())
    body = {"contents": [{"role": "user", "parts": [{"text": "Count to three"}]}]}
    uri = "http://elsewhere/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=other"
    assert index.take("POST", uri, body) is second


def test_old_vcrpy_httpx_response_shape(tmp_path: Path) -> None:
    data = yaml.safe_load(VCRPY_YAML)
    old = data["interactions"][0]["response"]
    data["interactions"][0]["response"] = {
        "status_code": 200,
        "headers": old["headers"],
        "content": old["body"]["string"],
        "http_version": "HTTP/1.1",
    }
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump(data))
    response = load(path).interactions[0].response
    assert response.status == 200 and response.message == "OK"
    assert response.body is not None and response.body["candidates"][0]["finishReason"] == "STOP"  # type: ignore[call-overload]


def test_bad_values_inside_an_interaction_name_it(tmp_path: Path) -> None:
    data = yaml.safe_load(VCRPY_YAML)
    data["interactions"][1]["response"]["status"]["code"] = "teapot"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(CassetteError, match=r"interactions\[1\]: ValueError"):
        load(path)
    data["interactions"][1]["response"]["status"]["code"] = 200
    data["metadata"] = {"format": "gemini-emulator/1"}
    data["interactions"][1]["response"]["body"] = {"events": [{"data": "not an object"}]}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(CassetteError, match=r"interactions\[1\]: \('data',\)"):
        load(path)
