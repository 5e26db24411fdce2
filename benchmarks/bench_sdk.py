#!/usr/bin/env python3
"""google-genai against the emulator vs against a bare aiohttp handler: wall time per SDK call.

A user meets the emulator through the SDK, and what a test suite feels is how much longer each
call takes than against a server that costs nothing. The target this script reports against:

    client.models.generate_content(...) and chat.send_message(...) against the emulator take at most
    1.05x their wall time against a bare aiohttp handler.

Two servers, each a child process on a free loopback port, both started as ``bench_server.py`` starts
them (``bench_server.py --serve KIND``, on the event loop ``BENCH_LOOP`` names, default as ``serve``
picks): ``bare``, which reads the body and answers the fixed bytes ``bench_server.FIXED_BODY`` (a
valid generateContent response: the SDK parses it and its text is checked before measuring), and
``emulator`` on its default settings (strict validation, journal on, access log off). The client is
``genai.Client(api_key=..., http_options=types.HttpOptions(base_url=URL, api_version="v1beta"))`` in
this process, one per server (``v1beta``: the path the bare handler serves), and the operations are:

- ``generate``: ``client.models.generate_content`` with the 3-turn chat of ``bench_server.py``
  (its contents, system instruction and generation config, as SDK types);
- ``chat``: ``chat.send_message`` on a ``client.chats.create(model=..., history=...)`` chat whose
  history is ``bench_server.chat_request(N)`` (``--chat-turns``) minus its last question, which is
  the message sent. Every call gets a new chat from the same history, made before the timer starts,
  so the request stays the same size from call to call, as the generate request does;
- ``async``: ``client.aio.models.generate_content`` with the generate request, ``--async-concurrency``
  calls in flight at once (skipped with ``--no-async``).

The calls run in interleaved rounds (``--rounds`` rounds of ``--calls`` calls per server and
operation; which server goes first alternates from round to round), so that drift on a shared
machine hits both servers alike. Each server's figure is the median of its rounds' ms per call:
unlike the fastest round, the median is what a suite typically sees, and unlike the mean it ignores
the odd round in which another process took a core. The fastest round is printed beside it.

Printed per operation: ms per call against each server (median and best round), the ratio
emulator/bare against the target, and each server's CPU per call (utime + stime from
``/proc/<pid>/stat``, summed over all rounds) with that CPU's share of the SDK call's wall time:
how much of what the user waits for is the server at all. The rest is the SDK and its HTTP client
in this process, whose CPU per call (``time.process_time``) is printed too.

Usage::

    python benchmarks/bench_sdk.py [--rounds 10] [--calls 100] [--chat-turns 6]
        [--async-concurrency 4] [--no-async] [--loop auto|uvloop|asyncio] [--check]

The exit status is 0 unless ``--check`` is given and an operation misses the target.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_peers as bp  # noqa: E402  (which loop a child runs)
import bench_server as bs  # noqa: E402  (the request, the fixed answer, the server children)

TARGET_RATIO = 1.05
MODEL = "gemini-2.5-flash"
API_VERSION = "v1beta"  # the path the bare handler serves (bench_server.PATH); the SDK's default may be v1


# --------------------------------------------------------------------------------------------------
# The SDK calls
# --------------------------------------------------------------------------------------------------


def sdk_config() -> Any:
    """``bench_server.REQUEST``'s system instruction and generation config as a GenerateContentConfig."""
    from google.genai import types

    generation = bs.REQUEST["generationConfig"]
    thinking = generation["thinkingConfig"]
    return types.GenerateContentConfig(
        system_instruction=bs.REQUEST["systemInstruction"]["parts"][0]["text"],
        temperature=generation["temperature"],
        top_p=generation["topP"],
        top_k=generation["topK"],
        max_output_tokens=generation["maxOutputTokens"],
        candidate_count=generation["candidateCount"],
        thinking_config=types.ThinkingConfig(
            include_thoughts=thinking["include_thoughts"], thinking_budget=thinking["thinking_budget"]
        ),
    )


def sdk_contents(contents: list[dict[str, Any]]) -> list[Any]:
    from google.genai import types

    return [types.Content(role=c["role"], parts=[types.Part(text=p["text"]) for p in c["parts"]]) for c in contents]


def make_client(port: int) -> Any:
    from google import genai
    from google.genai import types

    options = types.HttpOptions(base_url=f"http://{bs.HOST}:{port}", api_version=API_VERSION)
    return genai.Client(api_key=bs.API_KEY, http_options=options)


@dataclass
class Operation:
    """One kind of SDK call: ``prepare(client, n)`` returns ``n`` ready calls, so that whatever is not
    the call itself (building a chat, say) stays out of the timing."""

    name: str
    what: str
    prepare: Callable[[Any, int], list[Callable[[], Any]]]


def operations(chat_turns: int) -> list[Operation]:
    config = sdk_config()
    contents = sdk_contents(bs.REQUEST["contents"])
    chat = bs.chat_request(chat_turns)
    history, question = sdk_contents(chat["contents"][:-1]), chat["contents"][-1]["parts"][0]["text"]

    def generate(client: Any, n: int) -> list[Callable[[], Any]]:
        def call() -> Any:
            return client.models.generate_content(model=MODEL, contents=contents, config=config)

        return [call] * n

    def send(client: Any, n: int) -> list[Callable[[], Any]]:
        chats = [client.chats.create(model=MODEL, history=history, config=config) for _ in range(n)]
        return [lambda c=c: c.send_message(question) for c in chats]

    return [
        Operation("generate", "models.generate_content, 3-turn chat + system instruction + config", generate),
        Operation("chat", f"chat.send_message, new chat per call from a {len(history)}-message history", send),
    ]


# --------------------------------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------------------------------


@dataclass
class Figures:
    """One operation against one server: ms per call of every round, and the server's CPU."""

    rounds_ms: list[float] = field(default_factory=list)
    cpu: float = 0.0
    client_cpu: float = 0.0
    calls: int = 0
    answer_chars: int = 0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.rounds_ms)

    @property
    def best_ms(self) -> float:
        return min(self.rounds_ms)

    @contextlib.contextmanager
    def round(self, server: bs.Server, calls: int) -> Iterator[None]:
        """Times one round of ``calls`` calls against ``server``: wall time, its CPU and this process's."""
        cpu0, client0 = server.cpu_seconds(), time.process_time()
        started = time.perf_counter()
        yield
        elapsed = time.perf_counter() - started
        self.cpu += server.cpu_seconds() - cpu0
        self.client_cpu += time.process_time() - client0
        self.rounds_ms.append(elapsed / calls * 1e3)
        self.calls += calls

    @property
    def cpu_ms_per_call(self) -> float:
        return self.cpu / self.calls * 1e3 if self.calls else float("nan")

    @property
    def client_cpu_ms_per_call(self) -> float:
        return self.client_cpu / self.calls * 1e3 if self.calls else float("nan")


def order(servers: list[bs.Server], round_index: int) -> list[bs.Server]:
    """Alternates which server goes first, so neither always runs right after the other's load."""
    return servers if round_index % 2 == 0 else servers[::-1]


def answer_text(response: Any) -> str:
    return response.text or ""


def measure_sync(
    op: Operation, servers: list[bs.Server], clients: dict[str, Any], rounds: int, calls: int, warmup: int
) -> dict[str, Figures]:
    figures = {s.kind: Figures() for s in servers}
    for server in servers:
        for call in op.prepare(clients[server.kind], warmup):
            figures[server.kind].answer_chars = len(answer_text(call()))
    for i in range(rounds):
        for server in order(servers, i):
            ready = op.prepare(clients[server.kind], calls)
            with figures[server.kind].round(server, calls):
                for call in ready:
                    call()
    return figures


async def measure_async(
    servers: list[bs.Server], clients: dict[str, Any], rounds: int, calls: int, warmup: int, concurrency: int
) -> dict[str, Figures]:
    """``client.aio.models.generate_content``: ``concurrency`` workers share each round's calls."""
    config = sdk_config()
    contents = sdk_contents(bs.REQUEST["contents"])
    figures = {s.kind: Figures() for s in servers}

    def call(client: Any) -> Awaitable[Any]:
        return client.aio.models.generate_content(model=MODEL, contents=contents, config=config)

    async def batch(client: Any, n: int) -> None:
        async def worker(count: int) -> None:
            for _ in range(count):
                await call(client)

        shares = [n // concurrency + (i < n % concurrency) for i in range(concurrency)]
        await asyncio.gather(*(worker(k) for k in shares if k))

    for server in servers:
        figures[server.kind].answer_chars = len(answer_text(await call(clients[server.kind])))
        await batch(clients[server.kind], warmup)
    for i in range(rounds):
        for server in order(servers, i):
            with figures[server.kind].round(server, calls):
                await batch(clients[server.kind], calls)
    for client in clients.values():
        await client.aio.aclose()
    return figures


def check_bare_answer(client: Any) -> str | None:
    """The bare handler's fixed bytes must be a response the SDK parses into the expected text."""
    from google.genai import types

    expected = bs.FIXED_RESPONSE["candidates"][0]["content"]["parts"][0]["text"]
    response = client.models.generate_content(model=MODEL, contents="ping")
    if not isinstance(response, types.GenerateContentResponse) or response.text != expected:
        return f"the SDK did not parse the bare handler's answer into its text: {response!r:.300}"
    if response.usage_metadata is None or response.usage_metadata.prompt_token_count is None:
        return "the SDK parsed no usage metadata from the bare handler's answer"
    return None


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------


def print_report(results: list[tuple[Operation, dict[str, Figures]]]) -> bool:
    """The table and one target line per operation; True when every operation meets the target."""
    print()
    header = (
        f"{'operation':<9} {'server':<9} {'ms/call':>8} {'best':>8} {'answer':>7} "
        f"{'srv CPU ms/call':>15} {'CPU share':>9} {'SDK CPU ms/call':>15}"
    )
    print(header)
    print("-" * len(header))
    for op, figures in results:
        for kind, fig in figures.items():
            print(
                f"{op.name:<9} {kind:<9} {fig.median_ms:>8.3f} {fig.best_ms:>8.3f} {fig.answer_chars:>7} "
                f"{fig.cpu_ms_per_call:>15.3f} {fig.cpu_ms_per_call / fig.median_ms:>9.0%} "
                f"{fig.client_cpu_ms_per_call:>15.3f}"
            )
    print("(ms/call: median round; best: fastest round; answer: characters of the answer text;")
    print(" CPU share: the server's CPU per call over the SDK call's wall time; SDK CPU: this process's,")
    print(" i.e. google-genai and its HTTP client, per call)")
    print()
    ok = True
    for op, figures in results:
        bare, emu = figures["bare"], figures["emulator"]
        ratio = emu.median_ms / bare.median_ms
        best = emu.best_ms / bare.best_ms
        extra = (emu.cpu_ms_per_call - bare.cpu_ms_per_call) * 1e3
        met = ratio <= TARGET_RATIO
        ok &= met
        print(
            f"{op.name:<9} emulator/bare wall time {ratio:.3f} (best rounds {best:.3f}; target <= {TARGET_RATIO:.2f}): "
            f"{'ok' if met else 'FAIL'}; server CPU {extra:+.0f} us/call over bare"
        )
    return ok


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="rounds per server and operation (default 10)")
    parser.add_argument("--calls", type=int, default=100, help="calls per round (default 100)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls per server and operation (default 20)")
    parser.add_argument("--chat-turns", type=int, default=6, help="user turns of the chat history + question (6)")
    parser.add_argument("--async-concurrency", type=int, default=4, help="async calls in flight at once (default 4)")
    parser.add_argument("--no-async", action="store_true", help="leave the client.aio operation out")
    parser.add_argument(
        "--loop",
        choices=("auto", "uvloop", "asyncio"),
        default=os.environ.get("BENCH_LOOP", "auto"),
        help="event loop of both servers (default auto: uvloop when installed, as serve picks)",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when an operation misses the target")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    from importlib.metadata import version

    servers: list[bs.Server] = []
    results: list[tuple[Operation, dict[str, Figures]]] = []
    try:
        servers = bp.with_loop(args.loop, lambda: [bs.start_server_process(k, None) for k in ("bare", "emulator")])
        clients = {s.kind: make_client(s.port) for s in servers}
        loops = ", ".join(f"{s.kind} {bp.running_loop(s.process.pid)}" for s in servers)
        sync_http = type(clients["bare"]._api_client._httpx_client).__name__
        print(
            f"google-genai {version('google-genai')} (sync: {sync_http}, "
            f"async: aiohttp {version('aiohttp')}); python {sys.version.split()[0]}; cores: {os.cpu_count()}"
        )
        print(f"event loops (read from each server's memory map): {loops}; the SDK client runs in this process")
        print(f"{args.rounds} rounds x {args.calls} calls per server and operation, servers alternating")
        problem = check_bare_answer(clients["bare"])
        if problem:
            print(f"not measuring: {problem}", file=sys.stderr)
            return 2
        for op in operations(args.chat_turns):
            print(f"  {op.name}: {op.what} ...", flush=True)
            results.append((op, measure_sync(op, servers, clients, args.rounds, args.calls, args.warmup)))
        if not args.no_async:
            what = f"aio.models.generate_content, {args.async_concurrency} calls in flight"
            print(f"  async: {what} ...", flush=True)
            figures = asyncio.run(
                measure_async(servers, clients, args.rounds, args.calls, args.warmup, args.async_concurrency)
            )
            results.append((Operation("async", what, lambda client, n: []), figures))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        bs.stop_servers(servers)
    ok = print_report(results)
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
