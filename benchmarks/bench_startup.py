#!/usr/bin/env python3
"""Start-up cost: the emulator's cold start against a bare aiohttp app, and the pytest plugin's cost.

Every run of a test suite that starts the emulator, and every ``pytest`` run in a project that has it
installed (its plugin is loaded through the ``pytest11`` entry point whether a test uses it or not),
pays these once; they are what a developer waits for before the first test runs. The targets:

    cold start (process start to the first HTTP 200 of ``generateContent``) at most 1.5x that of a
    bare aiohttp app that imports ``aiohttp.web`` and serves one handler;
    ``pytest --collect-only`` of a small test directory under 50 ms slower with the plugin than
    without it (``-p no:gemini_emulator``).

Usage::

    python benchmarks/bench_startup.py [--runs 5] [--check]

Each figure is the median of ``--runs`` runs after one warm-up run of each (which compiles bytecode
and fills the page cache); the two sides of each comparison are run alternately, so drift on a busy
machine hits both alike. Cold start is timed from just before the process is spawned to the moment
the first 200 answer is read; the poller retries a refused connection every millisecond. The exit
status is 0 unless ``--check`` is given and a target is missed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

HOST = "127.0.0.1"
PATH = "/v1beta/models/gemini-2.5-flash:generateContent"
BODY = json.dumps({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}).encode()
HEADERS = {"content-type": "application/json", "x-goog-api-key": "k"}
START_TARGET = 1.5
PLUGIN_TARGET_MS = 50.0
TIMEOUT = 30.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Sample(NamedTuple):
    """One run's wall-clock seconds and CPU seconds; CPU time is the figure a busy machine disturbs less."""

    wall: float
    cpu: float

    @staticmethod
    def median(samples: list[Sample]) -> Sample:
        return Sample(statistics.median(s.wall for s in samples), statistics.median(s.cpu for s in samples))


BARE_APP = """
import sys

from aiohttp import web

BODY = b'{"candidates": [{"content": {"role": "model", "parts": [{"text": "hello"}]}, "finishReason": "STOP"}]}'


async def handle(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(body=BODY, content_type="application/json")


app = web.Application()
app.router.add_post("/v1beta/models/{model}", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""

TEST_FILES = {
    "test_arithmetic.py": "import pytest\n\n\n@pytest.mark.parametrize('n', range(10))\ndef test_square(n):\n"
    "    assert n * n >= 0\n\n\ndef test_sum():\n    assert sum([1, 2]) == 3\n",
    "test_text.py": "class TestText:\n    def test_upper(self):\n        assert 'a'.upper() == 'A'\n\n"
    "    def test_split(self):\n        assert 'a b'.split() == ['a', 'b']\n",
    "pytest.ini": "[pytest]\n",
}


def child_env(pycache: Path) -> dict[str, str]:
    """The environment of every measured process: bytecode cached (in ``pycache``, not in the tree).

    With ``PYTHONDONTWRITEBYTECODE`` set, as some CI images do, the emulator's ~100 modules would be
    compiled from source at every start, which an installed package never is; the warm-up run
    writes the cache that the measured runs read, for both sides alike."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def first_answer(port: int, deadline: float) -> int:
    """Polls until the server answers the request; returns the status of that first answer."""
    while True:
        connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
        try:
            connection.request("POST", PATH, body=BODY, headers=HEADERS)
            response = connection.getresponse()
            response.read()
            return response.status
        except (ConnectionRefusedError, ConnectionResetError):
            if time.perf_counter() > deadline:
                raise TimeoutError(f"nothing listened on port {port} within {TIMEOUT:g}s") from None
            time.sleep(0.001)
        finally:
            connection.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (Linux; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cold_start(command: Callable[[int], list[str]], env: dict[str, str]) -> Sample:
    """Seconds from spawning ``command(port)`` to its first HTTP 200, and the CPU seconds it spent."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(command(port), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        status = first_answer(port, started + TIMEOUT)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(process.pid)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, err = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
    if status != 200:
        raise RuntimeError(f"{command(port)[:4]} answered HTTP {status}: {err.decode(errors='replace')[-400:]}")
    return Sample(elapsed, cpu)


def collect(directory: Path, plugin: bool, env: dict[str, str]) -> Sample:
    """Seconds of one ``pytest --collect-only -q`` of ``directory``, with or without the plugin, and
    the CPU seconds it spent."""
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    if not plugin:
        command += ["-p", "no:gemini_emulator"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=directory, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"pytest failed ({done.returncode}): {done.stdout[-400:]}{done.stderr[-400:]}")
    return Sample(elapsed, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)


def interleaved(runs: int, first: Callable[[], Sample], second: Callable[[], Sample]) -> tuple[Sample, Sample]:
    """Medians (wall and CPU apart) of ``runs`` alternating runs of each, after one warm-up run of each."""
    first(), second()
    a: list[Sample] = []
    b: list[Sample] = []
    for i in range(runs):
        pair = ((a, first), (b, second)) if i % 2 == 0 else ((b, second), (a, first))
        for samples, run in pair:
            samples.append(run())
    return Sample.median(a), Sample.median(b)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured runs of each side (median; default 5)")
    parser.add_argument("--check", action="store_true", help="exit status 1 when a target is missed")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    print(f"runs: {args.runs} (median); cores: {os.cpu_count()}; python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        env = child_env(Path(tmp) / "pycache")
        bare_script = Path(tmp) / "bare_app.py"
        bare_script.write_text(BARE_APP)
        bare, emulator = interleaved(
            args.runs,
            lambda: cold_start(lambda port: [sys.executable, str(bare_script), str(port)], env),
            lambda: cold_start(
                lambda port: [sys.executable, "-m", "emulator", "serve", "--port", str(port), "--quiet"], env
            ),
        )
        tests = Path(tmp) / "tests"
        tests.mkdir()
        for name, text in TEST_FILES.items():
            (tests / name).write_text(text)
        without, with_plugin = interleaved(
            args.runs, lambda: collect(tests, False, env), lambda: collect(tests, True, env)
        )
    ratio = emulator.wall / bare.wall
    extra_ms = (with_plugin.wall - without.wall) * 1000
    start_ok = ratio <= START_TARGET
    plugin_ok = extra_ms < PLUGIN_TARGET_MS
    print(
        f"cold start to first 200: bare aiohttp {bare.wall * 1000:.0f} ms (CPU {bare.cpu * 1000:.0f} ms), "
        f"emulator {emulator.wall * 1000:.0f} ms (CPU {emulator.cpu * 1000:.0f} ms); "
        f"CPU ratio {emulator.cpu / bare.cpu:.2f}"
    )
    print(f"cold start ratio emulator/bare: {ratio:.2f} (target <= {START_TARGET}): {'ok' if start_ok else 'FAIL'}")
    print(
        f"pytest --collect-only: without the plugin {without.wall * 1000:.0f} ms (CPU {without.cpu * 1000:.0f} ms), "
        f"with it {with_plugin.wall * 1000:.0f} ms (CPU {with_plugin.cpu * 1000:.0f} ms); "
        f"CPU difference {(with_plugin.cpu - without.cpu) * 1000:+.0f} ms"
    )
    print(f"plugin cost: {extra_ms:+.0f} ms (target < {PLUGIN_TARGET_MS:g} ms): {'ok' if plugin_ok else 'FAIL'}")
    return 1 if args.check and not (start_ok and plugin_ok) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
