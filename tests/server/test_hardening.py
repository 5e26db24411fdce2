"""The server protects itself: loopback by default, header and body deadlines, a clean SIGTERM."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from emulator import EmulatorThread, Settings
from emulator.server.runner import check_bind

BODY = json.dumps({"contents": [{"parts": [{"text": "hello"}]}]}).encode()
STREAM = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"


def post(base: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"{base}/v1beta/models/gemini-2.5-flash:generateContent", data=body,
        headers={"x-goog-api-key": "k", "Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def read_response(sock: socket.socket) -> bytes:
    """One response with a Content-Length off a keep-alive socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))[15:])
    while len(rest) < length:
        rest += sock.recv(65536)
    return head + b"\r\n\r\n" + rest


def test_binding_beyond_loopback_needs_an_explicit_flag(caplog: pytest.LogCaptureFixture) -> None:
    check_bind(Settings(host="127.0.0.1"))
    check_bind(Settings(host="::1"))
    check_bind(Settings(host="localhost"))
    with pytest.raises(ValueError, match="not a loopback address"):
        check_bind(Settings(host="0.0.0.0"))
    check_bind(Settings(host="0.0.0.0", allow_non_loopback=True))
    assert "reachable beyond this machine" in caplog.text
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "--allow-non-loopback" in result.stderr


def test_a_trickled_body_is_cut_off_at_the_deadline() -> None:
    with EmulatorThread(Settings(port=0, body_timeout=0.5)) as emu:
        host, port = emu.url.removeprefix("http://").split(":")
        sock = socket.create_connection((host, int(port)), timeout=10)
        sock.sendall(
            f"POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\nHost: x\r\nx-goog-api-key: k\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(BODY)}\r\n\r\n".encode()
            + BODY[:5]
        )
        started = time.monotonic()
        answer = sock.recv(65536)
        sock.close()
        assert time.monotonic() - started < 5
        assert answer.startswith(b"HTTP/1.1 408") and b'"DEADLINE_EXCEEDED"' in answer


def test_trickled_headers_are_cut_off_at_the_deadline_while_others_are_served() -> None:
    with EmulatorThread(Settings(port=0, header_timeout=0.5, keepalive_timeout=30)) as emu:
        host, port = emu.url.removeprefix("http://").split(":")
        slow = socket.create_connection((host, int(port)), timeout=10)
        slow.sendall(b"POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        answered = b""
        for byte in b"x-goog-api-key: k\r\nContent-Type: application/json\r\n":
            try:
                slow.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.05)
            # Meanwhile a well-behaved client on its own connection is served at once.
            if byte == ord(":"):
                status, _ = post(emu.url, BODY)
                assert status == 200
        slow.settimeout(5)
        with contextlib.suppress(OSError):
            while chunk := slow.recv(65536):
                answered += chunk
        slow.close()
        assert 0.5 <= time.monotonic() - started < 3
        assert answered.startswith(b"HTTP/1.1 408") and b'"DEADLINE_EXCEEDED"' in answered
        assert b"request headers were not received within 0.5 seconds" in answered


def test_an_idle_keep_alive_connection_is_not_cut_by_the_header_deadline() -> None:
    with EmulatorThread(Settings(port=0, header_timeout=0.3, keepalive_timeout=30)) as emu:
        host, port = emu.url.removeprefix("http://").split(":")
        sock = socket.create_connection((host, int(port)), timeout=10)
        request = (
            f"POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1\r\nHost: x\r\nx-goog-api-key: k\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(BODY)}\r\n\r\n"
        ).encode()
        for _ in range(2):
            sock.sendall(request[:40])
            time.sleep(0.1)  # headers in two writes, well within the deadline
            sock.sendall(request[40:] + BODY)
            assert read_response(sock).startswith(b"HTTP/1.1 200")
            time.sleep(0.6)  # idle for longer than the header deadline: keep-alive rules here
        sock.close()


def test_sigterm_ends_streams_in_flight_with_a_terminal_error_and_exits(tmp_path: Path) -> None:
    env = {**os.environ, "GEMINI_EMULATOR_SHUTDOWN_TIMEOUT": "3"}
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        url = process.stdout.readline().strip().split("=", 1)[1]  # type: ignore[union-attr]
        host, port = url.removeprefix("http://").split(":")
        sock = socket.create_connection((host, int(port)), timeout=15)
        fault = json.dumps({"kind": "stall", "after_chunks": 1, "stall_seconds": 60})
        sock.sendall(
            f"POST {STREAM} HTTP/1.1\r\nHost: x\r\nx-goog-api-key: k\r\nx-emulator-fault: {fault}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(BODY)}\r\n\r\n".encode()
            + BODY
        )
        received = b""
        while b"data: " not in received:
            received += sock.recv(65536)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        while chunk := sock.recv(65536):
            received += chunk
        assert process.wait(timeout=15) == 0
        assert time.monotonic() - started < 10
        assert b'"code": 503' in received and b"shutting down" in received
    finally:
        if process.poll() is None:
            process.kill()
