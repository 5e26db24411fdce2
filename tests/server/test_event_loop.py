"""The event loop ``serve`` runs on: uvloop when installed, asyncio's own when asked (or on Windows)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from emulator.server.runner import run_loop


def _loop_kind(choice: str) -> str:
    seen: list[str] = []

    async def main() -> None:
        seen.append(type(asyncio.get_running_loop()).__module__.split(".")[0])

    run_loop(main(), choice)
    return seen[0]


def test_asyncio_is_used_when_asked() -> None:
    assert _loop_kind("asyncio") == "asyncio"


def test_uvloop_is_the_default_where_installed() -> None:
    pytest.importorskip("uvloop")
    assert _loop_kind("auto") == "uvloop"
    assert _loop_kind("uvloop") == "uvloop"


@pytest.mark.parametrize("loop", ["auto", "asyncio"])
def test_serve_answers_on_either_loop(loop: str) -> None:
    """A real ``serve`` process answers a generateContent call on the loop it was given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEMINI_EMULATOR_")}
    env["GEMINI_EMULATOR_LOOP"] = loop
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        url = ""
        for line in proc.stdout:
            if "http://" in line:
                url = "http://" + line.split("http://", 1)[1].split()[0].rstrip("/")
                break
        assert url, "serve printed no URL"
        request = urllib.request.Request(
            f"{url}/v1beta/models/gemini-2.5-flash:generateContent",
            data=json.dumps({"contents": [{"role": "user", "parts": [{"text": "Hello there"}]}]}).encode(),
            headers={"Content-Type": "application/json", "x-goog-api-key": "k"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
        assert body["candidates"][0]["content"]["parts"][0]["text"]
        maps = Path(f"/proc/{proc.pid}/maps")
        if maps.exists():  # which loop it runs on: uvloop's extension is mapped into the process or not
            expected = loop == "auto" and importlib.util.find_spec("uvloop") is not None
            assert ("uvloop" in maps.read_text()) is expected
    finally:
        proc.terminate()
        proc.wait(timeout=30)
