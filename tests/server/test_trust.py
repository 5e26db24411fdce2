"""The control plane serves its owner only: what a browser page could send (a simple cross-origin POST,
a rebound DNS name, a preflight) is refused, and recording or re-recording cannot be switched on over
HTTP beyond what the server was started with."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from emulator import EmulatorThread
from emulator.cassette import load, save
from emulator.cassette.model import Cassette, Interaction, RecordedRequest, RecordedResponse
from emulator.settings import Settings

JSON = {"Content-Type": "application/json"}


def send(url: str, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Any:
    """One request with exactly these headers (Host included when given), as a browser could send it."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    given = {"x-goog-api-key": "owner", **(headers or {})}
    conn.putrequest(method, path, skip_host="Host" in given, skip_accept_encoding=True)
    for name, value in given.items():
        conn.putheader(name, value)
    if body or method in ("POST", "PUT"):
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body or None)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, json.loads(payload)


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorThread]:
    with EmulatorThread() as emu:
        yield emu


def faults_of(url: str) -> list[Any]:
    return send(url, "GET", "/_emulator/faults")[2]["faults"]


FAULTS = json.dumps([{"kind": "error", "code": 503}]).encode()


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/plain", "Origin": "http://evil.example"},
        {"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://evil.example"},
        {"Content-Type": "text/plain;charset=UTF-8"},
        {"Content-Type": "multipart/form-data; boundary=x"},
        {**JSON, "Origin": "null"},
        {**JSON, "Origin": "http://evil.example"},
        {**JSON, "Sec-Fetch-Site": "cross-site"},
    ],
    ids=[
        "text/plain from a page",
        "a form from a page",
        "text/plain",
        "multipart",
        "null origin",
        "foreign origin",
        "cross-site fetch",
    ],  # fmt: skip
)
def test_what_a_page_can_send_without_a_preflight_is_refused(emu: EmulatorThread, headers: dict[str, str]) -> None:
    status, _, body = send(emu.url, "PUT", "/_emulator/faults", FAULTS, headers)
    assert status in (403, 415) and body["error"]["status"] in ("PERMISSION_DENIED", "INVALID_ARGUMENT")
    assert faults_of(emu.url) == []


def test_a_body_less_post_from_a_page_is_refused(emu: EmulatorThread) -> None:
    status, _, _ = send(emu.url, "POST", "/_emulator/reset", headers={"Origin": "http://evil.example"})
    assert status == 403


def test_a_rebound_dns_name_can_neither_read_nor_write(emu: EmulatorThread) -> None:
    for method, path in (("GET", "/_emulator/requests"), ("GET", "/_emulator/health"), ("POST", "/_emulator/reset")):
        status, _, body = send(emu.url, method, path, headers={"Host": "evil.example:8765"})
        assert status == 403 and "not this server" in body["error"]["message"]


def test_the_owner_is_served(emu: EmulatorThread) -> None:
    port = urlsplit(emu.url).port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost", f"app.localhost:{port}"):
        status, _, _ = send(emu.url, "GET", "/_emulator/health", headers={"Host": host})
        assert status == 200, host
    same = {**JSON, "Origin": emu.url, "Sec-Fetch-Site": "same-origin"}
    assert send(emu.url, "PUT", "/_emulator/faults", FAULTS, same)[0] == 200
    assert len(faults_of(emu.url)) == 1
    assert send(emu.url, "DELETE", "/_emulator/faults")[0] == 200
    yaml = {"Content-Type": "application/yaml"}
    assert send(emu.url, "PUT", "/_emulator/scenario", b"name: s\nrules: [{reply: hi}]\n", yaml)[0] == 200


def test_no_preflight_is_answered(emu: EmulatorThread) -> None:
    preflight = {"Origin": "http://evil.example", "Access-Control-Request-Method": "PUT"}
    status, headers, _ = send(emu.url, "OPTIONS", "/_emulator/faults", headers=preflight)
    assert status == 403 and not any(h.startswith("access-control-") for h in headers)


def test_allowed_hosts_for_containers() -> None:
    with EmulatorThread(Settings(port=0, allowed_hosts=["emulator"])) as emu:
        assert send(emu.url, "GET", "/_emulator/health", headers={"Host": "emulator:8765"})[0] == 200
        assert send(emu.url, "GET", "/_emulator/health", headers={"Host": "other:8765"})[0] == 403
    with EmulatorThread(Settings(port=0, allowed_hosts=["*"])) as emu:
        assert send(emu.url, "GET", "/_emulator/health", headers={"Host": "anything"})[0] == 200


def test_the_api_key_protects_the_control_plane() -> None:
    with EmulatorThread(Settings(port=0, api_key="the-key")) as emu:
        assert send(emu.url, "GET", "/_emulator/requests")[0] == 403
        assert send(emu.url, "GET", "/_emulator/requests", headers={"x-goog-api-key": "the-key"})[0] == 200
        assert send(emu.url, "GET", "/_emulator/health")[0] == 200  # health checks need no key


def test_a_control_token() -> None:
    with EmulatorThread(Settings(port=0, control_token="s3cret-token")) as emu:
        assert send(emu.url, "POST", "/_emulator/reset")[0] == 403
        assert send(emu.url, "POST", "/_emulator/reset", headers={"x-emulator-token": "s3cret-token"})[0] == 200


def _cassette(path: Path) -> None:
    uri = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    body = {"candidates": [{"content": {"role": "model", "parts": [{"text": "recorded"}]}}]}
    save(Cassette(interactions=[Interaction(request=RecordedRequest(method="POST", uri=uri, body={}),
                                            response=RecordedResponse(body=body))]), path)  # fmt: skip


@pytest.mark.parametrize("mode", ["once", "new_episodes", "all"])
def test_recording_cannot_be_switched_on_over_http(tmp_path: Path, mode: str) -> None:
    _cassette(tmp_path / "chat.yaml")
    before = (tmp_path / "chat.yaml").read_bytes()
    with EmulatorThread(Settings(port=0, cassette=tmp_path)) as emu:
        body = json.dumps({"name": "chat.yaml", "record_mode": mode}).encode()
        status, _, answer = send(emu.url, "PUT", "/_emulator/cassette", body, JSON)
        assert status == 400 and "more than this server was started with" in answer["error"]["message"]
        assert send(emu.url, "PUT", "/_emulator/cassette", json.dumps({"name": "chat.yaml"}).encode(), JSON)[0] == 200
    assert (tmp_path / "chat.yaml").read_bytes() == before
    assert len(load(tmp_path / "chat.yaml").interactions) == 1


def test_a_context_may_narrow_the_servers_record_mode(tmp_path: Path) -> None:
    _cassette(tmp_path / "chat.yaml")
    settings = Settings(port=0, cassette=tmp_path, record_mode="new_episodes", upstream="http://127.0.0.1:9")
    with EmulatorThread(settings) as emu:
        for mode in ("none", "once", "new_episodes"):
            body = json.dumps({"name": "chat.yaml", "record_mode": mode}).encode()
            assert send(emu.url, "PUT", "/_emulator/cassette", body, JSON)[0] == 200, mode
        body = json.dumps({"name": "chat.yaml", "record_mode": "all"}).encode()
        assert send(emu.url, "PUT", "/_emulator/cassette", body, JSON)[0] == 400
    assert (tmp_path / "chat.yaml").exists()
