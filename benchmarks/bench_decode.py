#!/usr/bin/env python3
"""Request decoding in process: the walk (``parse_json`` then ``validate.parse_request``) against
``validate.parse_body`` (msgspec's fast path, the walk when it refuses), in µs per request.

Bodies: bench_server.py's request (as google-genai sends it: ``topK`` a float, ``thinkingConfig`` in
snake_case, so the fast path rewrites two objects), the same in canonical form (nothing to
rewrite), and a 20-turn chat (about 14 KB). Both ways are timed in interleaved rounds and each keeps
its fastest round, so other processes on the machine disturb the figures less. With the real-traffic
corpus at hand (``--traffic DIR``, default ``$GEMINI_RECORDED_TRAFFIC``) it also prints the share of
its request bodies that take the fast path.

Usage::

    python benchmarks/bench_decode.py [--seconds 4] [--traffic DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_server import REQUEST, REQUEST_BODY, chat_request  # noqa: E402

from emulator.wire import validate  # noqa: E402
from emulator.wire.call import Operation  # noqa: E402
from emulator.wire.catalogue import Catalogue  # noqa: E402
from emulator.wire.errors import ApiError  # noqa: E402
from emulator.wire.flavour import Flavour  # noqa: E402
from emulator.wire.json_body import parse_json  # noqa: E402

TRAFFIC = os.environ.get("GEMINI_RECORDED_TRAFFIC", "")


def canonical(request: dict[str, Any]) -> dict[str, Any]:
    """The request as its canonical body: what a client sending camelCase and ints writes."""
    info = Catalogue.load().resolve("gemini-2.5-flash", Operation.GENERATE.value, "v1beta")
    return validate.parse_request(Operation.GENERATE, json.loads(json.dumps(request)), info)


def timed(ways: dict[str, Callable[[], object]], seconds: float, rounds: int = 10) -> dict[str, float]:
    """µs per call of each way: interleaved rounds, the fastest round of each."""
    best = dict.fromkeys(ways, float("inf"))
    for _ in range(rounds):
        for name, way in ways.items():
            count, started = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - started) < seconds / rounds / len(ways):
                for _ in range(20):
                    way()
                count += 20
            best[name] = min(best[name], elapsed / count * 1e6)
    return best


def fast_path_decides(operation: Operation, data: bytes, flavour: Flavour) -> bool:
    """Whether ``validate.parse_body`` takes the fast path for a body."""
    try:
        raw, fast = validate.parsed(data)
    except ApiError:
        return False
    return fast and validate.decode_fast(operation, raw, flavour) is not None


def traffic_share(folder: Path) -> tuple[int, int]:
    """(bodies that took the fast path, bodies of the operations it serves) in the corpus."""
    taken = total = 0
    for name, flavour in (("exchanges.jsonl.gz", Flavour.DEVELOPER), ("vertex-exchanges.jsonl.gz", Flavour.VERTEX)):
        with gzip.open(folder / name, "rt", encoding="utf-8") as lines:
            for line in lines:
                exchange = json.loads(line)
                try:
                    operation = Operation(exchange["op"])
                except ValueError:
                    continue
                if exchange["request_body"] is None or operation not in validate._TABLES[flavour]:
                    continue
                total += 1
                taken += fast_path_decides(operation, json.dumps(exchange["request_body"]).encode(), flavour)
    return taken, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="time per body, both ways together")
    parser.add_argument(
        "--traffic", type=Path, default=Path(TRAFFIC) if TRAFFIC else None, help="a folder of recorded exchanges"
    )
    args = parser.parse_args()
    info = Catalogue.load().resolve("gemini-2.5-flash", Operation.GENERATE.value, "v1beta")
    bodies = {
        "bench_server body (SDK-shaped)": REQUEST_BODY,
        "bench_server body (canonical)": json.dumps(canonical(REQUEST)).encode(),
        "20-turn chat (canonical)": json.dumps(canonical(chat_request(20))).encode(),
    }
    generate = Operation.GENERATE
    for label, data in bodies.items():
        slow = validate.parse_request(generate, parse_json(data), info, size=len(data))
        assert validate.parse_body(generate, data, info) == slow
        taken = fast_path_decides(generate, data, Flavour.DEVELOPER)
        figures = timed(
            {
                "walk": lambda data=data: validate.parse_request(generate, parse_json(data), info, size=len(data)),
                "fast": lambda data=data: validate.parse_body(generate, data, info),
            },
            args.seconds,
        )
        print(
            f"{label:32} {len(data):6} B  walk {figures['walk']:7.1f} us  parse_body {figures['fast']:7.1f} us  "
            f"({figures['fast'] / figures['walk']:.2f}x{'' if taken else ', walk: refused'})"
        )
    if args.traffic is not None and (args.traffic / "exchanges.jsonl.gz").exists():
        taken, total = traffic_share(args.traffic)
        print(f"real traffic: {taken} of {total} request bodies take the fast path ({taken / total:.0%})")


if __name__ == "__main__":
    main()
