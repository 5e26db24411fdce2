#!/usr/bin/env python3
"""Cassette replay cost in-process: our Index lookup against vcrpy's own matching, in one run.

Prints, for cassettes of 10 and 5,000 interactions (distinct 3-turn chats to one model, the way a
suite of tests records them): the Index lookup cost per request for the *last* interaction (the
worst case for a linear scan) and the ratio between the two sizes, which should stay near 1
(target <= 1.2); the load time per interaction of our readable format and of the plain vcrpy file;
vcrpy's ``Cassette.play_response`` for the same request, matching on method, URI and body
(vcrpy walks its interactions in order); and the whole path over HTTP: an emulator serving each
cassette, answering the last interaction's request again and again.

Usage::

    python benchmarks/bench_replay.py [--sizes 10,5000] [--reps 20000] [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vcr.cassette import Cassette as VcrCassette
from vcr.matchers import body as body_matcher
from vcr.matchers import method as method_matcher
from vcr.matchers import uri as uri_matcher
from vcr.record_mode import RecordMode
from vcr.request import Request
from vcr.serializers import yamlserializer

from emulator.cassette import Cassette, Index, load, save
from emulator.cassette.model import Interaction, RecordedRequest, RecordedResponse

URI = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
TARGET = 1.2


def chat(n: int) -> dict[str, Any]:
    """About 1.5 KB: a system instruction, three turns and a generation config, like bench_server's request."""
    filler = " ".join(f"word{i}" for i in range(40))
    return {
        "systemInstruction": {"parts": [{"text": f"You are a careful assistant. {filler}"}]},
        "contents": [
            {"role": "user", "parts": [{"text": f"Question {n}: what is the capital of France? {filler}"}]},
            {"role": "model", "parts": [{"text": f"Paris. {filler}"}]},
            {"role": "user", "parts": [{"text": f"And of Italy, for request {n}?"}]},
        ],
        "generationConfig": {"temperature": 0.2, "maxOutputTokens": 256, "topP": 0.9},
    }


def cassette(size: int) -> Cassette:
    reply = {"candidates": [{"content": {"role": "model", "parts": [{"text": "Rome."}]}, "finishReason": "STOP"}]}
    return Cassette(
        interactions=[
            Interaction(
                request=RecordedRequest(
                    method="POST", uri=URI, headers={"content-type": ["application/json"]}, body=chat(n)
                ),
                response=RecordedResponse(headers={"content-type": ["application/json; charset=UTF-8"]}, body=reply),
            )
            for n in range(size)
        ]
    )


def per_call(fn: Callable[[], Any], reps: int, rounds: int = 5) -> float:
    """Seconds per call, best of ``rounds``: the least disturbed measurement of a deterministic loop."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - start) / reps)
    return best


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(size: int, reps: int, workdir: Path) -> dict[str, float]:
    ours, plain = workdir / f"ours-{size}.yaml", workdir / f"plain-{size}.yaml"
    save(cassette(size), ours)
    save(cassette(size), plain, plain=True)
    last = chat(size - 1)
    index = Index(load(ours))
    assert index.take("POST", URI, last) is not None
    vcr_cassette = VcrCassette(
        str(plain),
        serializer=yamlserializer,
        record_mode=RecordMode.NONE,
        match_on=(method_matcher, uri_matcher, body_matcher),
        allow_playback_repeats=True,
    )
    vcr_cassette._load()
    request = Request("POST", URI, json.dumps(last), {"content-type": "application/json"})
    assert vcr_cassette.play_response(request)["status"]["code"] == 200
    vcr_reps = max(3, min(2000, reps // size))  # vcrpy is slow enough that fewer calls measure it well
    return {
        "index": per_call(lambda: index.take("POST", URI, last), reps),
        "vcrpy": per_call(lambda: vcr_cassette.play_response(request), vcr_reps, rounds=3),
        "load": min(timed(lambda: load(ours)) for _ in range(3)) / size,
        "load_plain": min(timed(lambda: load(plain)) for _ in range(3)) / size,
    }


def over_http(path: Path, body: dict[str, Any], requests: int) -> float:
    """Seconds per replayed generateContent over HTTP (keep-alive, one at a time), the full server path."""
    import http.client

    from emulator import EmulatorThread, Settings

    payload = json.dumps(body).encode()
    with EmulatorThread(Settings(port=0, cassette=path, access_log=False)) as emu:
        host, port = emu.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        headers = {"x-goog-api-key": "bench", "content-type": "application/json"}

        def one() -> None:
            conn.request("POST", "/v1beta/models/gemini-2.5-flash:generateContent", payload, headers)
            response = conn.getresponse()
            response.read()
            assert response.status == 200, response.status

        for _ in range(50):
            one()
        best = min(timed(lambda: [one() for _ in range(requests)]) for _ in range(3)) / requests
        conn.close()
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="10,5000", help="Two cassette sizes, small and large.")
    parser.add_argument("--reps", type=int, default=20000, help="Index lookups per measurement round.")
    parser.add_argument("--http-requests", type=int, default=1000, help="Replayed HTTP requests per round.")
    parser.add_argument("--check", action="store_true", help="Exit 1 if a ratio misses the target.")
    args = parser.parse_args()
    small, large = (int(s) for s in args.sizes.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        results = {size: measure(size, args.reps, Path(tmp)) for size in (small, large)}
        for size in (small, large):
            results[size]["http"] = over_http(Path(tmp) / f"ours-{size}.yaml", chat(size - 1), args.http_requests)
    for size, r in results.items():
        print(f"index lookup, {size:>5} interactions: {r['index'] * 1e6:8.1f} us per request")
    for size, r in results.items():
        print(f"vcrpy play_response, {size:>5} interactions: {r['vcrpy'] * 1e6:8.1f} us per request")
    for size, r in results.items():
        print(
            f"load, {size:>5} interactions: {r['load'] * 1e6:8.1f} us per interaction (readable), "
            f"{r['load_plain'] * 1e6:8.1f} us (plain vcrpy)"
        )
    for size, r in results.items():
        print(f"replay over HTTP, {size:>5} interactions: {r['http'] * 1e6:8.1f} us per request (server + client)")
    ratio = results[large]["index"] / results[small]["index"]
    verdict = "PASS" if ratio <= TARGET else "FAIL"
    print(f"index lookup ratio {large}/{small}: {ratio:.2f} (target <= {TARGET}): {verdict}")
    http_ratio = results[large]["http"] / results[small]["http"]
    http_verdict = "PASS" if http_ratio <= TARGET else "FAIL"
    print(f"replay over HTTP ratio {large}/{small}: {http_ratio:.2f} (target <= {TARGET}): {http_verdict}")
    print(f"vcrpy lookup ratio {large}/{small}: {results[large]['vcrpy'] / results[small]['vcrpy']:.1f}")
    print(f"vcrpy / index at {large}: {results[large]['vcrpy'] / results[large]['index']:.0f}x")
    return 1 if args.check and max(ratio, http_ratio) > TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
