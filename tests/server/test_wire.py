"""The bytes on the wire: framing, content types, envelopes, limits. Raw HTTP, no SDK."""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from emulator import Call, EmulatorThread, Reply, Settings, StreamReply
from emulator.wire import errors

BODY = {"contents": [{"role": "user", "parts": [{"text": "Hello <b>"}]}]}
GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent"
STREAM = "/v1beta/models/gemini-2.5-flash:streamGenerateContent"


def request(
    url: str,
    method: str,
    path: str,
    body: bytes | dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    conn.request(method, path, body=data, headers={"x-goog-api-key": "k", **(headers or {})})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, payload


def envelope(payload: bytes) -> dict[str, Any]:
    body = json.loads(payload)
    assert set(body) == {"error"} and {"code", "message", "status"} <= set(body["error"])
    return body["error"]  # type: ignore[no-any-return]


def test_unary_is_200_pretty_json_with_escaped_angle_brackets(emulator: EmulatorThread) -> None:
    status, headers, payload = request(emulator.url, "POST", GENERATE, BODY)
    assert status == 200
    assert headers["content-type"] == "application/json; charset=UTF-8"
    assert payload.startswith(b'{\n  "candidates": [') and payload.endswith(b"}\n")
    assert b"\\u003cb\\u003e" in payload and b"<b>" not in payload
    assert json.loads(payload)["candidates"][0]["content"]["role"] == "model"


def test_sse_framing_byte_for_byte(emulator: EmulatorThread) -> None:
    status, headers, payload = request(emulator.url, "POST", STREAM + "?alt=sse", BODY)
    assert status == 200 and headers["content-type"] == "text/event-stream"
    assert payload.endswith(b"\r\n\r\n") and b"[DONE]" not in payload
    events = payload.split(b"\r\n\r\n")[:-1]
    assert len(events) >= 3
    chunks = []
    for event in events:
        assert event.startswith(b"data: {") and b"\n" not in event and b"\r" not in event
        chunks.append(json.loads(event[len(b"data: ") :]))
    assert b'"candidates": [{' in events[0] and b", " not in events[0].split(b'"text"')[0]
    assert len({c["responseId"] for c in chunks}) == 1
    assert all("usageMetadata" in c and "modelVersion" in c for c in chunks)
    assert [("finishReason" in c["candidates"][0]) for c in chunks] == [False] * (len(chunks) - 1) + [True]


def test_stream_without_alt_sse_is_one_json_array(emulator: EmulatorThread) -> None:
    status, headers, payload = request(emulator.url, "POST", STREAM, BODY)
    assert status == 200 and headers["content-type"].startswith("application/json")
    chunks = json.loads(payload)
    assert isinstance(chunks, list) and len(chunks) >= 3
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"


def test_error_before_stream_is_an_http_error_in_either_framing(emulator: EmulatorThread) -> None:
    bad = "/v1beta/models/nope:streamGenerateContent"
    status, headers, payload = request(emulator.url, "POST", bad + "?alt=sse", BODY)
    assert status == 404 and headers["content-type"].startswith("application/json")
    assert envelope(payload)["status"] == "NOT_FOUND"
    status, _, payload = request(emulator.url, "POST", bad, BODY)
    assert status == 404 and json.loads(payload)[0]["error"]["code"] == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/favicon.ico"),  # GET / is the real service's and a 501 here: tests/wire/test_unemulated.py
        ("GET", "/v1beta/models/gemini-2.5-flash:generateContent"),
        ("POST", "/v1beta/models/gemini-2.5-flash:explode"),
        ("PUT", GENERATE),
        ("POST", "/v2/models/gemini-2.5-flash:generateContent"),
        ("DELETE", "/v1beta/models"),
    ],
)
def test_unknown_routes_and_methods_get_a_404_envelope(emulator: EmulatorThread, method: str, path: str) -> None:
    status, headers, payload = request(emulator.url, method, path, BODY if method != "GET" else None)
    assert status == 404 and headers["content-type"].startswith("application/json")
    assert envelope(payload) == {"code": 404, "message": "Method not found.", "status": "NOT_FOUND"}


def test_missing_key_is_403_with_the_real_text(emulator: EmulatorThread) -> None:
    parts = urlsplit(emulator.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("POST", GENERATE, body=json.dumps(BODY))
    response = conn.getresponse()
    error = envelope(response.read())
    assert response.status == 403 and error["status"] == "PERMISSION_DENIED"
    assert error["message"] == errors.MSG_NO_KEY


def test_key_in_query_string_is_accepted(emulator: EmulatorThread) -> None:
    parts = urlsplit(emulator.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("POST", GENERATE + "?key=curl-user", body=json.dumps(BODY))
    assert conn.getresponse().status == 200


def test_malformed_json_is_400_and_server_keeps_serving(emulator: EmulatorThread) -> None:
    for bad in (b'{"contents": [', b"\xff\xfe", b"{'single': 'quotes'}"):
        status, headers, payload = request(emulator.url, "POST", GENERATE, bad)
        error = envelope(payload)
        assert status == 400 and error["status"] == "INVALID_ARGUMENT"
        assert error["message"].startswith("Invalid JSON payload received.")
    assert request(emulator.url, "POST", GENERATE, BODY)[0] == 200


def test_bodies_up_to_the_limit_are_accepted_and_beyond_rejected(emulator: EmulatorThread) -> None:
    image = base64.b64encode(bytes(5 * 1024 * 1024)).decode()
    big = {"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": image}}, {"text": "?"}]}]}
    assert request(emulator.url, "POST", GENERATE, big)[0] == 200
    with EmulatorThread(Settings(port=0, max_body_bytes=64 * 1024)) as small:
        status, _, payload = request(small.url, "POST", GENERATE, big)
        assert status == 400
        assert envelope(payload)["message"] == "Request payload size exceeds the limit: 65536 bytes."


def test_base_url_with_a_path_prefix(emulator: EmulatorThread) -> None:
    assert request(emulator.url, "POST", "/gateway/proxy" + GENERATE, BODY)[0] == 200
    assert request(emulator.url, "GET", "/gateway/v1/models/gemini-2.5-pro")[0] == 200


def test_models_pagination_tokens(emulator: EmulatorThread) -> None:
    status, _, payload = request(emulator.url, "GET", "/v1beta/models?pageSize=2")
    page = json.loads(payload)
    assert status == 200 and len(page["models"]) == 2 and page["nextPageToken"]
    _, _, payload = request(emulator.url, "GET", f"/v1beta/models?pageSize=2&pageToken={page['nextPageToken']}")
    assert json.loads(payload)["models"][0]["name"] != page["models"][0]["name"]
    status, _, payload = request(emulator.url, "GET", "/v1beta/models?pageToken=%%%")
    assert status == 400 and envelope(payload)["status"] == "INVALID_ARGUMENT"
    model = json.loads(request(emulator.url, "GET", "/v1beta/models/gemini-2.5-flash")[2])
    assert "emulator" not in model and model["supportedGenerationMethods"]


class MidStreamFailure:
    """Two chunks, then an overload: the shape of a real mid-stream 503."""

    def __init__(self) -> None:
        self.closed = threading.Event()

    async def answer(self, call: Call) -> Reply | StreamReply:
        return StreamReply(self._chunks(call))

    async def _chunks(self, call: Call) -> AsyncIterator[dict[str, Any]]:
        try:
            for text in ("Hel", "lo"):
                yield {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}]}
            if call.body["contents"][0]["parts"][0]["text"] == "slow":
                await asyncio.sleep(30)
            raise errors.overloaded()
        finally:
            self.closed.set()


@pytest.fixture
def failing() -> Iterator[tuple[EmulatorThread, MidStreamFailure]]:
    backend = MidStreamFailure()
    with EmulatorThread(backend=backend) as emu:
        yield emu, backend


def test_mid_stream_error_is_a_bare_object_after_the_events(failing: tuple[EmulatorThread, MidStreamFailure]) -> None:
    emu, _ = failing
    status, _, payload = request(emu.url, "POST", STREAM + "?alt=sse", BODY)
    assert status == 200
    head, _, tail = payload.rpartition(b"\r\n\r\n")
    assert head.count(b"data: ") == 2
    assert tail.startswith(b'{\n  "error": {\n    "code": 503') and tail.endswith(b"}\n")
    assert json.loads(tail)["error"]["message"] == errors.MSG_OVERLOADED
    status, _, payload = request(emu.url, "POST", STREAM, BODY)
    elements = json.loads(payload)
    assert len(elements) == 3 and elements[-1]["error"]["status"] == "UNAVAILABLE"


def test_client_disconnect_closes_the_backend_stream(failing: tuple[EmulatorThread, MidStreamFailure]) -> None:
    emu, backend = failing
    parts = urlsplit(emu.url)
    body = json.dumps({"contents": [{"parts": [{"text": "slow"}]}]}).encode()
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    sock.sendall(
        f"POST {STREAM}?alt=sse HTTP/1.1\r\nHost: x\r\nx-goog-api-key: k\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    received = b""
    while received.count(b"data: ") < 2:
        received += sock.recv(65536)
    started = time.monotonic()
    sock.close()
    assert backend.closed.wait(timeout=5)
    assert time.monotonic() - started < 1.5
