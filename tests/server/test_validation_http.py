"""Request validation over the wire: 400 envelopes with their details, as raw HTTP. No SDK."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from emulator import EmulatorThread, Settings

GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent"
STREAM = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
COUNT = "/v1beta/models/gemini-2.5-flash:countTokens"
HELLO = {"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]}
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"


def post(url: str, path: str, body: bytes | dict[str, Any] | list[Any]) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn.request("POST", path, body=data, headers={"x-goog-api-key": "k", "Content-Type": "application/json"})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, payload


def error_of(status: int, headers: dict[str, str], payload: bytes) -> dict[str, Any]:
    """The error object of a 400 INVALID_ARGUMENT envelope, checked for its shape."""
    assert status == 400, payload
    assert headers["content-type"].startswith("application/json")
    body = json.loads(payload)
    assert list(body) == ["error"]
    error: dict[str, Any] = body["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    return error


@pytest.fixture(scope="module")
def lenient() -> Iterator[EmulatorThread]:
    with EmulatorThread(Settings(port=0, lenient=True)) as emu:
        yield emu


def test_an_unknown_nested_field_gets_a_bad_request_detail(emulator: EmulatorThread) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "hi", "cache_control": {"type": "ephemeral"}}]}]}
    error = error_of(*post(emulator.url, GENERATE, body))
    text = "Invalid JSON payload received. Unknown name \"cache_control\" at 'contents[0].parts[0]': Cannot find field."
    assert error["message"] == text
    assert error["details"] == [
        {"@type": BAD_REQUEST, "fieldViolations": [{"field": "contents[0].parts[0]", "description": text}]}
    ]


def test_several_violations_travel_together(emulator: EmulatorThread) -> None:
    body = {**HELLO, "generationConfig": {"temperature": "hot", "topK": [1]}, "stream": True}
    error = error_of(*post(emulator.url, GENERATE, body))
    lines = [
        "Invalid value at 'generation_config.temperature' (TYPE_FLOAT), \"hot\"",
        "Invalid JSON payload received. Unknown name \"topK\" at 'generation_config': Proto field is not repeating, "
        "cannot start list.",
        'Invalid JSON payload received. Unknown name "stream": Cannot find field.',
    ]
    assert error["message"] == "\n".join(lines)
    assert error["details"][0]["fieldViolations"] == [
        {"field": "generation_config.temperature", "description": lines[0]},
        {"field": "generation_config", "description": lines[1]},
        {"description": lines[2]},
    ]


def test_a_root_that_is_not_an_object(emulator: EmulatorThread) -> None:
    error = error_of(*post(emulator.url, GENERATE, [HELLO]))
    text = 'Invalid JSON payload received. Unknown name "": Root element must be a message.'
    assert error["message"] == text and error["details"][0]["fieldViolations"] == [{"description": text}]


def test_a_rule_violation_has_no_details(emulator: EmulatorThread) -> None:
    error = error_of(*post(emulator.url, GENERATE, {"contents": []}))
    assert error == {
        "code": 400,
        "message": "* GenerateContentRequest.contents: contents is not specified\n",
        "status": "INVALID_ARGUMENT",
    }


def test_out_of_range_on_a_stream_is_a_bare_object_with_sse_and_an_array_without(emulator: EmulatorThread) -> None:
    body = {**HELLO, "generationConfig": {"topK": 65.0}}
    text = (
        "Unable to submit request because it has a topK value of 65 but the supported range is from 1 (inclusive) "
        "to 65 (exclusive). Update the value and try again."
    )
    assert error_of(*post(emulator.url, STREAM + "?alt=sse", body))["message"] == text
    status, headers, payload = post(emulator.url, STREAM, body)
    assert status == 400 and headers["content-type"].startswith("application/json")
    [envelope] = json.loads(payload)
    assert envelope["error"]["message"] == text


def test_the_python_sdks_mixed_casing_and_url_safe_base64_are_served(emulator: EmulatorThread) -> None:
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "look"}, {"inlineData": {"data": "__79", "mime_type": "image/png"}}]},
            {"role": "model", "parts": [{"text": "ok", "thoughtSignature": "-_8"}]},
            {"role": "user", "parts": [{"text": "again"}]},
        ],
        "generationConfig": {"topK": 20.0, "thinkingConfig": {"include_thoughts": True, "thinking_budget": 128}},
    }
    status, _, payload = post(emulator.url, GENERATE, body)
    assert status == 200, payload
    assert json.loads(payload)["candidates"][0]["content"]["role"] == "model"


def test_a_lone_surrogate_is_not_a_server_error(emulator: EmulatorThread) -> None:
    body = b'{"contents": [{"parts": [{"text": "hi \\ud800 there"}]}], "labels": {"k\\udc00": "v"}}'
    status, _, payload = post(emulator.url, GENERATE, body)
    assert status == 200, payload
    status, _, payload = post(emulator.url, COUNT, b'{"contents": [{"parts": [{"text": "\\ud800"}]}]}')
    assert status == 200 and json.loads(payload)["totalTokens"] == 1


def test_count_tokens_validates_too(emulator: EmulatorThread) -> None:
    error = error_of(*post(emulator.url, COUNT, {"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}))
    assert error["message"] == "Please use a valid role: user, model."
    status, _, _ = post(emulator.url, COUNT, {"contents": [{"role": "user", "parts": [{"text": ""}]}]})
    assert status == 200  # the Developer API counts an empty text


def test_lenient_mode_serves_unknown_fields_and_skips_the_rules(lenient: EmulatorThread) -> None:
    body = {
        "contents": [{"role": "user", "parts": [{"text": "hi", "cache_control": {}}]}],
        "generationConfig": {"temperature": 5},
        "stream": False,
    }
    status, _, payload = post(lenient.url, GENERATE, body)
    assert status == 200, payload


def test_lenient_mode_still_refuses_wrong_types(lenient: EmulatorThread) -> None:
    error = error_of(*post(lenient.url, GENERATE, {**HELLO, "generationConfig": {"temperature": "hot"}}))
    assert error["message"] == "Invalid value at 'generation_config.temperature' (TYPE_FLOAT), \"hot\""
    assert error["details"][0]["fieldViolations"][0]["field"] == "generation_config.temperature"
