"""Recording and replay details the SDK suites do not show: cancellation, timing, matchers."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from google import genai
from google.genai import types

from emulator import EmulatorThread, FunctionBackend, ModelContext, ModelRequest, Settings
from emulator.cassette import load, save

BODY = json.dumps({"contents": [{"parts": [{"text": "slow please"}]}]}).encode()
STREAM = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"


def test_a_client_that_disconnects_cancels_the_upstream_request(tmp_path: Path) -> None:
    closed = threading.Event()

    async def slow(request: ModelRequest, context: ModelContext) -> AsyncIterator[str]:
        try:
            for n in range(100):
                yield f"word{n} "
                await asyncio.sleep(0.05)
        finally:
            closed.set()

    with (
        EmulatorThread(backend=FunctionBackend(slow)) as upstream,
        EmulatorThread(Settings(port=0, cassette=tmp_path / "c.yaml", record_mode="all", upstream=upstream.url)) as rec,
    ):
        host, port = rec.url.removeprefix("http://").split(":")
        sock = socket.create_connection((host, int(port)), timeout=10)
        sock.sendall(
            f"POST {STREAM} HTTP/1.1\r\nHost: x\r\nx-goog-api-key: k\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(BODY)}\r\n\r\n".encode()
            + BODY
        )
        received = b""
        while received.count(b"data: ") < 2:
            received += sock.recv(65536)
        started = time.monotonic()
        sock.close()
        assert closed.wait(timeout=5) and time.monotonic() - started < 2
    assert not (tmp_path / "c.yaml").exists()  # a cut stream is never stored as complete


def _stream_cassette(path: Path, client: genai.Client) -> list[Any]:
    return [c.text for c in client.models.generate_content_stream(model="gemini-2.5-flash", contents="count")]


def test_replay_timing_reproduces_scales_or_ignores_recorded_delays(tmp_path: Path) -> None:
    path = tmp_path / "timed.yaml"
    with (
        EmulatorThread() as upstream,
        EmulatorThread(Settings(port=0, cassette=path, record_mode="all", upstream=upstream.url)) as rec,
    ):
        recorded = _stream_cassette(path, genai.Client(api_key="k", http_options={"base_url": rec.url}))
    cassette = load(path)
    for event in cassette.interactions[0].response.events or ():
        event.delay = 0.1
    save(cassette, path)
    events = len(cassette.interactions[0].response.events or ())
    for timing, low, high in ((0, 0, 0.08 * events), (1, 0.1 * events, 10), (0.5, 0.05 * events, 0.09 * events)):
        with EmulatorThread(Settings(port=0, cassette=path, replay_timing=timing)) as replay:
            started = time.monotonic()
            assert _stream_cassette(path, genai.Client(api_key="k", http_options={"base_url": replay.url})) == recorded
            assert low <= time.monotonic() - started <= high + 0.5


def test_ignored_fields_and_after_last(tmp_path: Path) -> None:
    path = tmp_path / "seeded.yaml"
    seeded = types.GenerateContentConfig(seed=1)
    with (
        EmulatorThread() as upstream,
        EmulatorThread(Settings(port=0, cassette=path, record_mode="all", upstream=upstream.url)) as rec,
    ):
        client = genai.Client(api_key="k", http_options={"base_url": rec.url})
        first = client.models.generate_content(model="gemini-2.5-flash", contents="hi", config=seeded).text
    other_seed = types.GenerateContentConfig(seed=2)
    settings = Settings(port=0, cassette=path, match_ignore=["generationConfig.seed"], after_last="miss")
    with EmulatorThread(settings) as replay:
        client = genai.Client(api_key="k", http_options={"base_url": replay.url})
        assert client.models.generate_content(model="gemini-2.5-flash", contents="hi", config=other_seed).text == first
        try:
            client.models.generate_content(model="gemini-2.5-flash", contents="hi", config=other_seed)
        except genai.errors.ClientError as error:
            assert error.status == "FAILED_PRECONDITION"
        else:
            raise AssertionError("after_last=miss answered a second time")
