#!/usr/bin/env python3
"""How long a big cassette keeps an emulator from answering, and what it costs in memory.

A suite that records its calls ends up with one cassette of thousands of interactions, and every
CI run starts an emulator on it: whatever the emulator does with the whole file before its first
answer is paid on every run. This builds (in a temporary folder) a cassette of 5,000 distinct 3-turn
``generateContent`` chats in the format the emulator writes by default (readable YAML; ``--formats``
adds readable JSON and plain vcrpy YAML), then, over a few interleaved runs, starts
``python -m emulator serve --quiet --cassette PATH`` and an empty emulator and times, for each,
process start until the first HTTP 200 to the request of the cassette's *last* interaction (the
empty emulator answers it from its default model), and reads the child's peak RSS (``VmHWM``) at
that moment. It prints ready seconds, peak RSS MiB, and the targets:

    a 5,000-interaction cassette ready to answer in under 1 s (beyond an empty emulator's start)
    and under 2x the RSS of an empty emulator.

A replaying emulator keeps a derived index of each cassette it has read in a per-user cache folder,
and the emulator's own writers leave an index file beside a cassette they write (``NAME.index``; see
``emulator/cassette/derived.py``). The figures are given for three starts: ``cold`` (an empty cache
folder and no index file: the full read), ``fresh`` (an empty cache folder and the index file the
writer left, as on a fresh clone in CI) and ``warm`` (the cache of an earlier run present, no index
file). The targets are judged on the fresh and warm starts.

Usage::

    python benchmarks/bench_cassette_start.py [--size 5000] [--runs 3] [--formats yaml,json,plain] [--check]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
PATH = "/v1beta/models/gemini-2.5-flash:generateContent"
URI = "https://generativelanguage.googleapis.com" + PATH
TARGET_SECONDS = 1.0
TARGET_RSS = 2.0
CACHE_ENV = "GEMINI_EMULATOR_CASSETTE_CACHE"

FILLER = " ".join(f"word{i}" for i in range(40))
REQUEST_HEADERS = {
    "content-type": ["application/json"],
    "user-agent": ["google-genai-sdk/1.20.0 gl-python/3.12.3"],
    "x-goog-api-client": ["google-genai-sdk/1.20.0 gl-python/3.12.3"],
}
RESPONSE_HEADERS = {
    "content-type": ["application/json; charset=UTF-8"],
    "vary": ["Origin", "X-Origin", "Referer"],
    "server": ["scaffolding on HTTPServer2"],
    "x-xss-protection": ["0"],
    "x-frame-options": ["SAMEORIGIN"],
    "x-content-type-options": ["nosniff"],
    "server-timing": ["gfet4t7; dur=812"],
    "alt-svc": ['h3=":443"; ma=2592000,h3-29=":443"; ma=2592000'],
}


def chat(n: int) -> dict[str, Any]:
    """About 1.5 KB, as bench_replay's: a system instruction, three turns and a generation config."""
    return {
        "systemInstruction": {"parts": [{"text": f"You are a careful assistant. {FILLER}"}]},
        "contents": [
            {"role": "user", "parts": [{"text": f"Question {n}: what is the capital of France? {FILLER}"}]},
            {"role": "model", "parts": [{"text": f"Paris. {FILLER}"}]},
            {"role": "user", "parts": [{"text": f"And of Italy, for request {n}?"}]},
        ],
        "generationConfig": {"temperature": 0.2, "maxOutputTokens": 256, "topP": 0.9},
    }


def reply(n: int) -> dict[str, Any]:
    """An answer of about 1.3 KB with the usage and version fields the real service sends."""
    text = f"Rome, for request {n}.\n" + "The capital of Italy is Rome. " * 40
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": text}]},
                "finishReason": "STOP",
                "avgLogprobs": -0.12,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 120,
            "candidatesTokenCount": 300,
            "totalTokenCount": 420,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 120}],
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": f"resp-{n:06d}abcdef",
    }


def build(size: int, folder: Path, formats: list[str]) -> dict[str, Path]:
    """The cassette in each format, written by the emulator's own writer."""
    from emulator.cassette import Cassette, save
    from emulator.cassette.model import Interaction, RecordedRequest, RecordedResponse

    cassette = Cassette(
        interactions=[
            Interaction(
                request=RecordedRequest(method="POST", uri=URI, headers=REQUEST_HEADERS, body=chat(n)),
                response=RecordedResponse(headers=RESPONSE_HEADERS, body=reply(n)),
            )
            for n in range(size)
        ]
    )
    paths = {}
    for name in formats:
        path = folder / {"yaml": "chats.yaml", "json": "chats.json", "plain": "plain.yaml"}[name]
        save(cassette, path, plain=name == "plain")
        paths[name] = path
    return paths


def beside(paths: dict[str, Path], folder: Path) -> dict[str, Path]:
    """Moves each cassette's index file (which the writer left) and a copy of the cassette into
    ``folder``: the cassettes in place have none, the copies have theirs."""
    from emulator.cassette.derived import index_path

    folder.mkdir()
    copies = {}
    for name, path in paths.items():
        copy = folder / path.name
        copy.write_bytes(path.read_bytes())
        if not index_path(path).exists():
            raise SystemExit(f"the writer left no index file beside {path}")
        index_path(path).rename(index_path(copy))
        copies[name] = copy
    return copies


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ask(port: int, body: bytes) -> int | None:
    """The status of one POST, or None while nothing listens yet."""
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        conn.request("POST", PATH, body, {"content-type": "application/json", "x-goog-api-key": "bench"})
        response = conn.getresponse()
        response.read()
        return response.status
    except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected):
        return None
    finally:
        conn.close()


def start(cassette: Path | None, body: bytes, cache: Path, timeout: float) -> tuple[float, float]:
    """Seconds from process start to the first 200, and the process's peak RSS then."""
    port = free_port()
    command = [sys.executable, "-m", "emulator", "serve", "--port", str(port), "--quiet"]
    if cassette is not None:
        command += ["--cassette", str(cassette)]
    env = {**os.environ, CACHE_ENV: str(cache)}
    began = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while True:
            status = ask(port, body)
            if status == 200:
                ready = time.perf_counter() - began
                return ready, peak_rss_mib(child.pid)
            if status is not None:
                raise SystemExit(f"the emulator answered {status} to the last interaction's request")
            if child.poll() is not None:
                raise SystemExit(f"the emulator exited: {child.stderr.read().decode() if child.stderr else ''}")
            if time.perf_counter() - began > timeout:
                raise SystemExit(f"no answer within {timeout} s")
            time.sleep(0.005)
    finally:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@dataclass
class Figures:
    ready: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)

    def add(self, sample: tuple[float, float]) -> None:
        self.ready.append(sample[0])
        self.rss.append(sample[1])

    @property
    def median_ready(self) -> float:
        return statistics.median(self.ready)

    @property
    def median_rss(self) -> float:
        return statistics.median(self.rss)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", type=int, default=5000, help="Interactions in the cassette.")
    parser.add_argument("--runs", type=int, default=3, help="Interleaved starts of each emulator.")
    parser.add_argument("--formats", default="yaml", help="Any of yaml (the default written), json, plain.")
    parser.add_argument("--no-cold", action="store_true", help="Skip the starts without any derived index.")
    parser.add_argument("--timeout", type=float, default=300.0, help="Seconds to wait for one emulator.")
    parser.add_argument("--check", action="store_true", help="Exit 1 if a fresh or warm start misses a target.")
    args = parser.parse_args()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    body = json.dumps(chat(args.size - 1)).encode()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        paths = build(args.size, folder, formats)
        indexed = beside(paths, folder / "indexed")
        for name, path in paths.items():
            index = indexed[name].with_name(indexed[name].name + ".index")
            print(
                f"built {name}: {path.stat().st_size / 2**20:.1f} MiB, {args.size} interactions; "
                f"its index file {index.stat().st_size / 2**20:.1f} MiB"
            )
        print(f"(building took {time.perf_counter() - began:.1f} s)")
        empty = Figures()
        cold = {name: Figures() for name in paths}
        fresh = {name: Figures() for name in paths}
        warm = {name: Figures() for name in paths}
        shared = folder / "cache-warm"
        for run in range(args.runs):
            empty.add(start(None, body, folder / f"cache-empty-{run}", args.timeout))
            for name, path in paths.items():
                if not args.no_cold:
                    cold[name].add(start(path, body, folder / f"cache-cold-{name}-{run}", args.timeout))
                fresh[name].add(start(indexed[name], body, folder / f"cache-fresh-{name}-{run}", args.timeout))
                if run == 0:
                    start(path, body, shared, args.timeout)  # leaves the index the warm starts find
                warm[name].add(start(path, body, shared, args.timeout))
    print()
    print(f"{'emulator':<22} {'ready s (median, all)':<34} {'peak RSS MiB':>12} {'x empty':>8}")
    print(f"{'empty':<22} {empty.median_ready:6.2f}  {_all(empty.ready):<26} {empty.median_rss:12.1f} {1.0:8.2f}")
    failed = False
    for name in paths:
        for kind, figures in (("cold", cold[name]), ("fresh", fresh[name]), ("warm", warm[name])):
            if not figures.ready:
                continue
            ratio = figures.median_rss / empty.median_rss
            label = f"{name} ({kind})"
            print(
                f"{label:<22} {figures.median_ready:6.2f}  {_all(figures.ready):<26} "
                f"{figures.median_rss:12.1f} {ratio:8.2f}"
            )
    print()
    print(f"best of {args.runs}: empty {min(empty.ready):.2f} s", end="")
    for name in paths:
        print(f", {name} fresh {min(fresh[name].ready):.2f} s, warm {min(warm[name].ready):.2f} s", end="")
    print(" (the least disturbed starts, on a busy machine)")
    for name in paths:
        for kind, figures in (("fresh", fresh[name]), ("warm", warm[name])):
            beyond = figures.median_ready - empty.median_ready
            ratio = figures.median_rss / empty.median_rss
            ok_time, ok_rss = beyond < TARGET_SECONDS, ratio < TARGET_RSS
            failed |= not (ok_time and ok_rss)
            print(
                f"{name} {kind}: ready {figures.median_ready:.2f} s absolute, {beyond:+.2f} s beyond empty "
                f"(target < {TARGET_SECONDS:.0f} s): {'PASS' if ok_time else 'FAIL'}; "
                f"RSS {ratio:.2f}x empty (target < {TARGET_RSS:.1f}): {'PASS' if ok_rss else 'FAIL'}"
            )
        if cold[name].ready:
            print(
                f"{name} cold: ready {cold[name].median_ready:.2f} s absolute, "
                f"{cold[name].median_ready - empty.median_ready:+.2f} s beyond empty; "
                f"RSS {cold[name].median_rss / empty.median_rss:.2f}x empty"
            )
    return 1 if args.check and failed else 0


def _all(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    sys.exit(main())
