"""The readable format: what save() writes, that it reads back equal, and that vcrpy can load it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import vcr.serialize
import yaml
from cassette_samples import answer, sample, streamed, unary
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vcr.serializers import jsonserializer, yamlserializer

from emulator.cassette import FORMAT, Cassette, load, save
from emulator.cassette.model import Event, RecordedResponse


def test_models_round_trip_through_json() -> None:
    cassette = sample()
    again = Cassette.model_validate_json(cassette.model_dump_json())
    assert again == cassette


def test_path_is_never_dumped(tmp_path: Path) -> None:
    cassette = sample()
    cassette.path = tmp_path / "x.yaml"
    assert "path" not in cassette.model_dump()


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_saved_cassette_loads_back_equal(tmp_path: Path, suffix: str) -> None:
    cassette = sample()
    path = tmp_path / f"c{suffix}"
    save(cassette, path)
    loaded = load(path)
    assert loaded.path == path
    assert loaded.interactions == cassette.interactions
    assert loaded.metadata == {"format": FORMAT, "recorded_with": "tests"}


def test_readable_yaml_is_what_was_promised(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save(sample(), path)
    text = path.read_text()
    data = yaml.safe_load(text)
    assert list(data) == ["version", "metadata", "interactions"]
    assert data["version"] == 1 and data["metadata"]["format"] == FORMAT
    first, second, third, fourth = data["interactions"]
    assert first["request"]["body"] == {"contents": [{"role": "user", "parts": [{"text": "What is 2+2?"}]}]}
    assert first["response"]["status"] == {"code": 200, "message": "OK"}
    assert first["response"]["body"]["json"]["candidates"][0]["content"]["parts"] == [{"text": "4"}]
    events = second["response"]["body"]["events"]
    assert [e["delay"] for e in events] == [0.1, 0.2]
    assert events[1]["data"]["candidates"][0]["finishReason"] == "STOP"
    assert "complete" not in second["response"]
    assert third["response"]["status"]["code"] == 429
    assert fourth["response"]["body"] == {"string": "not json\n"}
    assert "{" not in text.split("interactions:")[1].splitlines()[1]  # block style, not flow
    assert "&id" not in text and "*id" not in text


def test_multiline_text_is_a_literal_block(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save(Cassette(interactions=[unary("q", reply="line one\nline two\n")]), path)
    assert "- text: |\n" in path.read_text()
    assert load(path).interactions[0].response.body["candidates"][0]["content"]["parts"][0]["text"] == (  # type: ignore[index, call-overload]
        "line one\nline two\n"
    )


def test_cut_stream_is_never_written_as_complete(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save(Cassette(interactions=[streamed("q", complete=False)]), path)
    assert yaml.safe_load(path.read_text())["interactions"][0]["response"]["complete"] is False
    assert load(path).interactions[0].response.complete is False


def test_shared_objects_are_not_written_as_aliases(tmp_path: Path) -> None:
    body = {"contents": [{"parts": [{"text": "same"}]}]}
    first, second = unary("a"), unary("b")
    first.request.body = second.request.body = body
    path = tmp_path / "c.yaml"
    save(Cassette(interactions=[first, second]), path)
    assert "&" not in path.read_text()


@pytest.mark.parametrize(("suffix", "serializer"), [(".yaml", yamlserializer), (".json", jsonserializer)])
def test_vcrpy_loads_what_we_write(tmp_path: Path, suffix: str, serializer: object) -> None:
    path = tmp_path / f"c{suffix}"
    save(sample(), path)
    requests, responses, metadata = vcr.serialize.deserialize(path.read_text(), serializer)
    assert [r.method for r in requests] == ["POST", "POST", "POST", "GET"]
    assert requests[1].uri.endswith(":streamGenerateContent?alt=sse")
    assert responses[0]["status"]["code"] == 200
    assert metadata["format"] == FORMAT


def test_unicode_is_written_raw(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    save(Cassette(interactions=[unary("¿Qué tal? 你好")]), path)
    assert "你好" in path.read_text(encoding="utf-8")
    assert json.loads(path.read_text())["interactions"][0]["request"]["body"]["contents"][0]["parts"][0]["text"] == (
        "¿Qué tal? 你好"
    )


def test_error_property_finds_body_and_final_event_errors() -> None:
    assert RecordedResponse(status=500, body={"error": {"code": 500}}).error == {"code": 500}
    events = [Event(data={"candidates": []}), Event(data={"error": {"code": 503}})]
    assert RecordedResponse(events=events).error == {"code": 503}
    assert RecordedResponse(body={"candidates": []}).error is None


README_EXAMPLE = """\
version: 1
metadata:
  format: gemini-emulator/1
interactions:
- request:
    method: POST
    uri: https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent
    headers:
      x-goog-api-key: [REDACTED]
    body:
      contents:
      - role: user
        parts:
        - text: What is 2+2?
  response:
    status: {code: 200, message: OK}
    headers:
      content-type: [application/json; charset=UTF-8]
    body:
      json:
        candidates:
        - content: {role: model, parts: [{text: "4"}]}
          finishReason: STOP
- request:
    method: POST
    uri: https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse
    headers: {}
    body:
      contents: [{role: user, parts: [{text: Count to two}]}]
  response:
    status: {code: 200, message: OK}
    headers:
      content-type: [text/event-stream]
    body:
      events:
      - data: {candidates: [{content: {role: model, parts: [{text: "One,"}]}}]}
        delay: 0.12
      - data: {candidates: [{content: {role: model, parts: [{text: " two."}]}, finishReason: STOP}]}
        delay: 0.05
"""


def test_the_readme_example_loads_lints_clean_and_loads_in_vcrpy(tmp_path: Path) -> None:
    from emulator.cassette import Index
    from emulator.cassette.lint import lint

    path = tmp_path / "example.yaml"
    path.write_text(README_EXAMPLE)
    cassette = load(path)
    assert [e.delay for e in cassette.interactions[1].response.events or []] == [0.12, 0.05]
    assert lint(path) == []
    assert len(vcr.serialize.deserialize(README_EXAMPLE, yamlserializer)[0]) == 2
    body = {"contents": [{"role": "user", "parts": [{"text": "Count to two"}]}]}
    uri = "http://127.0.0.1:8765/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    assert Index(cassette).take("POST", uri, body) is cassette.interactions[1]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(), key=st.text(min_size=1, max_size=8))
def test_any_text_survives_a_yaml_round_trip(tmp_path: Path, text: str, key: str) -> None:
    """Literal blocks, quoting and escapes are PyYAML's to choose; whatever it chooses must read back."""
    interaction = unary(text, reply=text)
    interaction.response.body = {**answer(text), key: [text, {text: text}]}
    path = tmp_path / "prop.yaml"
    save(Cassette(interactions=[interaction]), path)
    assert load(path).interactions == [interaction]
