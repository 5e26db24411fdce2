"""Vertex AI over HTTP, one small case per rule the recordings (``VERTEX_FACTS.md``) show: who may call,
what the errors say, how streams are sent, and the limits whose real 400 and 429 the recordings could
not replay (they depended on quota and on prompts the recorder replaced)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from test_wire import request

from emulator import EmulatorThread
from emulator.settings import Settings
from emulator.wire import errors

PREFIX = "/v1beta1/projects/my-project/locations/us-central1/publishers/google/models/gemini-2.5-flash"
EXPRESS = "/v1beta1/publishers/google/models/gemini-2.5-flash"
HELLO = {"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]}
BEARER = {"authorization": "Bearer a-token", "x-goog-api-key": ""}


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorThread]:
    with EmulatorThread() as emu:
        yield emu


def call(emu: EmulatorThread, path: str, headers: dict[str, str], body: Any = HELLO) -> tuple[int, dict[str, str], Any]:
    status, answer_headers, payload = request(emu.url, "POST", path, body, headers)
    text = payload.decode()
    return status, answer_headers, json.loads(text) if text.lstrip().startswith(("{", "[")) else text


def test_a_bearer_token_and_a_user_project_are_what_a_project_path_takes(emu: EmulatorThread) -> None:
    status, headers, body = call(emu, PREFIX + ":generateContent", {**BEARER, "x-goog-user-project": "880011223344"})
    assert status == 200 and list(body) == ["candidates", "usageMetadata", "modelVersion", "createTime", "responseId"]
    assert "x-gemini-service-tier" not in headers


def test_no_credential_is_the_real_401(emu: EmulatorThread) -> None:
    status, headers, body = call(emu, PREFIX + ":generateContent", {"x-goog-api-key": ""})
    assert status == 401 and headers["www-authenticate"] == 'Bearer realm="https://accounts.google.com/"'
    error = body["error"]
    assert (error["code"], error["status"], error["message"]) == (401, "UNAUTHENTICATED", errors.MSG_NO_CREDENTIALS)
    (info,) = error["details"]
    assert info["@type"] == "type.googleapis.com/google.rpc.ErrorInfo" and info["reason"] == "CREDENTIALS_MISSING"
    assert info["metadata"] == {
        "method": "google.cloud.aiplatform.v1beta1.PredictionService.GenerateContent",
        "service": "aiplatform.googleapis.com",
    }


def test_a_developer_api_key_on_a_project_path_is_refused_with_the_api_key_text(emu: EmulatorThread) -> None:
    status, headers, body = call(emu, PREFIX + ":generateContent", {"x-goog-api-key": "AIza-not-for-vertex"})
    assert status == 401 and "www-authenticate" in headers
    assert body["error"]["message"] == errors.MSG_API_KEYS_NOT_SUPPORTED
    assert [d["@type"].rsplit(".", 1)[1] for d in body["error"]["details"]] == ["DebugInfo", "ErrorInfo"]


def test_express_mode_takes_an_express_key(emu: EmulatorThread) -> None:
    assert call(emu, EXPRESS + ":generateContent", {"x-goog-api-key": "AQ.express-key"})[0] == 200
    assert call(emu, EXPRESS + ":generateContent", {"x-goog-api-key": "not-an-express-key"})[0] == 401


def test_a_configured_access_token_is_the_only_one_taken() -> None:
    with EmulatorThread(Settings(port=0, access_token="the-token")) as emu:
        assert call(emu, PREFIX + ":generateContent", {"authorization": "Bearer the-token"})[0] == 200
        status, headers, body = call(emu, PREFIX + ":generateContent", {"authorization": "Bearer wrong-t0ken-xyz"})
        assert status == 401 and body["error"]["message"] == errors.MSG_BAD_CREDENTIALS
        assert "www-authenticate" in headers and "wrong-t0ken-xyz" not in json.dumps(body)


def test_streams_are_attachments_in_sse_or_one_json_array(emu: EmulatorThread) -> None:
    status, headers, text = call(emu, PREFIX + ":streamGenerateContent?alt=sse", BEARER)
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    assert headers["content-disposition"] == "attachment"
    events = [json.loads(line[6:]) for line in text.split("\r\n\r\n") if line.startswith("data: ")]
    assert events and all("trafficType" in e["usageMetadata"] for e in events)
    status, headers, chunks = call(emu, PREFIX + ":streamGenerateContent", BEARER)
    assert status == 200 and headers["content-type"].startswith("application/json")
    assert isinstance(chunks, list) and [c["candidates"][0]["content"] for c in chunks[-1:]]


def test_a_model_vertex_lacks_gets_the_publisher_model_404(emu: EmulatorThread) -> None:
    path = PREFIX.replace("gemini-2.5-flash", "gemini-9-nonexistent") + ":generateContent"
    status, _, body = call(emu, path, BEARER)
    assert status == 404 and body["error"]["status"] == "NOT_FOUND"
    assert body["error"]["message"].startswith(
        "Publisher Model `projects/my-project/locations/us-central1/publishers/google/models/gemini-9-nonexistent` "
        "was not found or your project does not have access to it."
    )


def test_quota_is_vertexs_terse_429(emu: EmulatorThread) -> None:
    """Vertex's 429 has neither QuotaFailure nor RetryInfo (recorded: ``Resource has been exhausted (e.g. check
    quota).``); the same fault on the Developer API keeps its details."""
    fault = {"x-emulator-fault": json.dumps({"kind": "error", "code": 429})}
    status, _, body = call(emu, PREFIX + ":generateContent", {**BEARER, **fault})
    assert (status, body) == (
        429,
        {"error": {"code": 429, "message": errors.MSG_VERTEX_QUOTA, "status": "RESOURCE_EXHAUSTED"}},
    )
    status, _, body = call(emu, "/v1beta/models/gemini-2.5-flash:generateContent", {"x-goog-api-key": "k", **fault})
    assert status == 429 and body["error"]["details"]


def test_a_requests_per_minute_quota_answers_vertex_tersely() -> None:
    with EmulatorThread() as emu:
        faults = json.dumps([{"kind": "quota", "rpm": 1}]).encode()
        status, _, _ = request(
            emu.url,
            "PUT",
            "/_emulator/faults",
            faults,
            {"x-goog-api-key": "quota-ctx", "content-type": "application/json"},
        )
        assert status == 200
        headers = {"authorization": "Bearer quota-ctx", "x-goog-api-key": ""}
        assert call(emu, PREFIX + ":generateContent", headers)[0] == 200
        status, _, body = call(emu, PREFIX + ":generateContent", headers)
        assert status == 429 and body["error"] == {
            "code": 429,
            "message": errors.MSG_VERTEX_QUOTA,
            "status": "RESOURCE_EXHAUSTED",
        }


def test_a_prompt_over_the_input_token_limit_gets_vertexs_text() -> None:
    """Recorded: ``The input token count (1250074) exceeds the maximum number of tokens allowed (1048576).``"""
    with EmulatorThread() as emu:
        words = {"contents": [{"role": "user", "parts": [{"text": "word " * 1_100_000}]}]}
        status, _, body = call(emu, PREFIX + ":generateContent", BEARER, words)
        assert status == 400 and body["error"]["status"] == "INVALID_ARGUMENT"
        assert body["error"]["message"] == (
            "The input token count (1100000) exceeds the maximum number of tokens allowed (1048576)."
        )
