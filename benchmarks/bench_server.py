#!/usr/bin/env python3
"""Emulator vs bare aiohttp: requests/s and server CPU time per request, in one run.

The same generateContent request is served by (a) the emulator and (b) a bare aiohttp handler that
returns a fixed, realistic generateContent body. The difference is what the emulator's pipeline
(routing, auth, validation, backend, encoding) costs on top of aiohttp itself. Each server runs in
its own subprocess so its CPU time can be read from ``/proc/<pid>/stat``; that per-request CPU cost
is the load-independent figure, and the target is stated in it:

    at concurrency 8 the emulator (strict) spends at most 2x the bare handler's CPU per request.

Usage::

    python benchmarks/bench_server.py [--duration 5] [--concurrency 1,8,64]
        [--client auto|wrk|python] [--lenient] [--check] [--profile DIR] [--distinct N] [--floor]

``--floor`` adds two servers that show where the budget goes: ``bare+validate``, the bare handler
plus body parsing and strict validation with the emulator's own validator (no answer made, no
journal, the fixed response), the part any emulator validating as strictly must spend; and
``emulator-frame``, the emulator's own application (its connection handler with the header
deadline, middleware, routes and the real service's response headers) answering the fixed body
without running the pipeline, the part that is aiohttp and the frame around it.

Every server runs on the event loop ``BENCH_LOOP`` names (``auto``: uvloop when installed, as
``serve`` does; ``asyncio``; ``uvloop``).

The load comes from ``wrk`` when it is on PATH (a small Lua script adds the POST body, headers and a
count of non-200 answers), otherwise from Python worker processes speaking keep-alive HTTP/1.1 over
raw asyncio streams. The exit status is 0 unless ``--check`` is given and the target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
PATH = "/v1beta/models/gemini-2.5-flash:generateContent"
API_KEY = "bench"
TARGET_CONCURRENCY = 8
TARGET_CPU = 2.0
"""Most CPU per request the emulator may spend, in multiples of the bare handler's, at TARGET_CONCURRENCY."""
CLK_TCK = os.sysconf("SC_CLK_TCK")

# A 3-turn chat with a system instruction, shaped the way google-genai (Python) sends it: camelCase
# at the top, ``topK`` as a float, and ``thinkingConfig`` with snake_case keys.
REQUEST: dict[str, Any] = {
    "contents": [
        {
            "role": "user",
            "parts": [
                {
                    "text": "I'm planning a four-day trip to Lisbon in early October with my partner. We like "
                    "walking, seafood and small museums, and we'd rather avoid the big tourist queues. "
                    "Could you suggest how to split the days between neighbourhoods?"
                }
            ],
        },
        {
            "role": "model",
            "parts": [
                {
                    "text": "Here is one way to do it. Day 1: Baixa and Chiado, with an early start at the "
                    "Santa Justa lift before the crowds. Day 2: Alfama and Graça, ending at a miradouro for "
                    "sunset. Day 3: Belém, visiting the Jerónimos Monastery right at opening time and the "
                    "MAAT in the afternoon. Day 4: a day trip to Sintra or a slower day in Príncipe Real and "
                    "Campo de Ourique. Book fado in Alfama ahead of time."
                }
            ],
        },
        {
            "role": "user",
            "parts": [
                {
                    "text": "That sounds great. Which of those days would be the best for a long seafood "
                    "lunch, and should we reserve or just walk in? Keep the answer short, please."
                }
            ],
        },
    ],
    "systemInstruction": {
        "role": "user",
        "parts": [
            {
                "text": "You are a concise, friendly travel assistant. Answer in plain prose, at most "
                "three short paragraphs, and never invent opening hours or prices."
            }
        ],
    },
    "generationConfig": {
        "temperature": 0.7,
        "topP": 0.95,
        "topK": 20.0,
        "maxOutputTokens": 1024,
        "candidateCount": 1,
        "thinkingConfig": {"include_thoughts": False, "thinking_budget": 512},
    },
}
REQUEST_BODY = json.dumps(REQUEST).encode()


def request_bodies(distinct: int) -> list[bytes]:
    """``distinct`` different request bodies: the first is REQUEST_BODY, the others differ in the last
    user text (a numbered prefix, so the emulator's answer text differs too). Cycling through many
    bodies shows that no per-request cache is what makes a server fast."""
    if distinct <= 1:
        return [REQUEST_BODY]
    last = REQUEST["contents"][-1]["parts"][0]["text"]
    bodies = [REQUEST_BODY]
    for i in range(1, distinct):
        variant = json.loads(REQUEST_BODY)
        variant["contents"][-1]["parts"][0]["text"] = f"Question {i}: {last}"
        bodies.append(json.dumps(variant).encode())
    return bodies


# The default model's own cost, in process (``--model-cost``): a 1-turn and a 20-turn chat that end
# with the same question, answered by ``DefaultBackend.answer_now`` (request digest, reading the
# conversation, composing the answer, framing the response body). Reading the history must not
# make the 20-turn request cost more than twice the 1-turn one.
MODEL_COST_TARGET = 2.0
_CHAT_USER = (
    "My name is Alice and I love hiking in the hills near my home.",
    "I live in Lisbon, close to the river, and I work as a nurse on night shifts.",
    "Remember this number: 42. It is the code for the bike shed behind the building.",
    "Could you suggest a few ways to spend a rainy Sunday afternoon without spending much money?",
    "My favourite food is grilled sardines, especially in June during the street festivals.",
    "What is a good way to keep a sourdough starter alive when I travel for a week or two?",
)
_CHAT_MODEL = (
    "That is a lovely thing to share. Here is what I would suggest: start small, keep notes of what you "
    "tried, and come back to the ideas that worked. A short list on the fridge helps more than an app, and "
    "friends who share the interest make it easier to keep going when the weather turns. "
)


def chat_request(turns: int, question: str = "What was my name again?") -> dict[str, Any]:
    """A chat of ``turns`` user turns (a model answer between each two), ending with ``question``; the
    earlier user turns state facts and ask things, as a real chat does."""
    contents: list[dict[str, Any]] = []
    for i in range(turns - 1):
        contents.append({"role": "user", "parts": [{"text": _CHAT_USER[i % len(_CHAT_USER)]}]})
        contents.append({"role": "model", "parts": [{"text": _CHAT_MODEL * 2}]})
    contents.append({"role": "user", "parts": [{"text": question}]})
    return {**{k: v for k, v in REQUEST.items() if k != "contents"}, "contents": contents}


def model_cost(seconds: float, rounds: int = 5) -> float:
    """Microseconds per request of the default model for a 1-turn and a 20-turn chat; prints them and
    the ratio, and returns the ratio. The two are timed in interleaved rounds and each keeps its
    fastest round: on a shared machine the minimum is the figure other processes disturb least."""
    from emulator import Catalogue, DefaultBackend
    from emulator.wire import validate
    from emulator.wire.call import Call, Operation

    catalogue = Catalogue.load()
    info = catalogue.resolve("gemini-2.5-flash", Operation.GENERATE.value, "v1beta")
    backend = DefaultBackend()
    calls = {}
    for turns in (1, 20):
        body = validate.parse_request(Operation.GENERATE, chat_request(turns), info)
        calls[turns] = Call(operation=Operation.GENERATE, model=info, version="v1beta", body=body)
        backend.answer_now(calls[turns])  # warm: imports, memoised token counts and readings
    figures: dict[int, float] = {1: float("inf"), 20: float("inf")}
    for _ in range(rounds):
        for turns, call in calls.items():
            count, started = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - started) < seconds / rounds / 2:
                for _ in range(50):
                    backend.answer_now(call)
                count += 50
            figures[turns] = min(figures[turns], elapsed / count * 1e6)
    ratio = figures[20] / figures[1]
    size = len(json.dumps(chat_request(20)))
    print(f"default model, 1-turn chat:  {figures[1]:8.1f} us per request")
    print(f"default model, 20-turn chat: {figures[20]:8.1f} us per request ({size} B body)")
    verdict_word = "ok" if ratio <= MODEL_COST_TARGET else "FAIL"
    print(f"20-turn / 1-turn cost: {ratio:.2f} (target <= {MODEL_COST_TARGET:.1f}): {verdict_word}")
    return ratio


# What the real service answers to such a request, pretty-printed the way it (and the emulator) does.
FIXED_RESPONSE: dict[str, Any] = {
    "candidates": [
        {
            "content": {
                "parts": [
                    {
                        "text": "Day 3 in Belém is the natural fit: after the monastery and the MAAT you are a "
                        "short tram ride from the riverside places in Belém and Algés, where grilled fish and "
                        "clams are the speciality. Lunch there runs late, so aim for about 13:30.\n\nFor a "
                        "weekday in early October you can usually walk in, but for a Saturday, or for one of "
                        "the better-known marisqueiras, reserve a day or two ahead by phone."
                    }
                ],
                "role": "model",
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 268,
        "candidatesTokenCount": 92,
        "totalTokenCount": 611,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 268}],
        "thoughtsTokenCount": 251,
    },
    "modelVersion": "gemini-2.5-flash",
    "responseId": "p9pDaYXvL6-ZvdIPz9CXqAk",
}
FIXED_BODY = (json.dumps(FIXED_RESPONSE, ensure_ascii=False, indent=2) + "\n").encode()

SERVER_KINDS = ("bare", "bare+validate", "emulator", "emulator-lenient")

# With --distinct N > 1: every wrk thread formats the N requests once, then cycles through them.
WRK_LUA_CYCLE = """
local bodies = {
%(bodies)s
}
local formatted = {}
local next_index = 0

function request()
  if #formatted == 0 then
    local headers = {}
    for name, value in pairs(wrk.headers) do headers[name] = value end
    for i, body in ipairs(bodies) do
      formatted[i] = wrk.format(nil, nil, headers, body)
    end
  end
  next_index = next_index %% #formatted + 1
  return formatted[next_index]
end
"""

WRK_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-goog-api-key"] = "%(key)s"
wrk.body = %(body)s

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non200 = 0
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  end
end

%(requests)s
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non200")
  end
  io.write(string.format("BENCH non200=%%d p50=%%d p99=%%d\\n", bad, latency:percentile(50), latency:percentile(99)))
end
"""


# --------------------------------------------------------------------------------------------------
# Server side (runs in a child process)
# --------------------------------------------------------------------------------------------------


async def bare_handle(request: Any) -> Any:
    """The baseline: read the body like any real handler must, answer with fixed bytes."""
    from aiohttp import web

    await request.read()
    return web.Response(body=FIXED_BODY, content_type="application/json")


def validating_handler() -> Any:
    """The floor (``--floor``): the bare handler plus what no emulator can skip, parsing the body as
    the emulator does and validating it strictly with the emulator's own validator; no answer is made."""
    import orjson
    from aiohttp import web

    from emulator.wire import validate
    from emulator.wire.call import Operation
    from emulator.wire.catalogue import Catalogue

    model = Catalogue.load().resolve("gemini-2.5-flash", "generateContent", "v1beta")

    async def handle(request: Any) -> Any:
        validate.parse_request(Operation.GENERATE, orjson.loads(await request.read()), model)
        return web.Response(body=FIXED_BODY, content_type="application/json")

    return handle


def build_bare_app(kind: str = "bare") -> Any:
    from aiohttp import web

    app = web.Application()
    app.router.add_post(PATH, validating_handler() if kind == "bare+validate" else bare_handle)
    return app


def frame_only(app: Any) -> None:
    """The emulator's application with its API route answering the fixed body, the pipeline skipped."""
    from aiohttp import web

    from emulator.server.responses import ANSWER_HEADERS

    async def fixed(request: web.Request) -> web.StreamResponse:
        await request.read()
        return web.Response(body=FIXED_BODY, headers=ANSWER_HEADERS)

    for found in app.router.resources():
        if found.canonical == "/{tail}":
            for route in found:
                route._handler = fixed


async def start_server(kind: str) -> tuple[Any, int]:
    """Starts the requested server on a free loopback port, access logging off for both."""
    from aiohttp import web

    if kind.startswith("bare"):
        runner = web.AppRunner(build_bare_app(kind), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, HOST, 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return runner, port
    from emulator import Settings, create_app
    from emulator.server.runner import start_site

    settings = Settings(host=HOST, port=0, lenient=kind == "emulator-lenient", access_log=False)
    app = create_app(settings)
    if kind == "emulator-frame":
        frame_only(app)
    runner, url = await start_site(app, settings)
    return runner, int(url.rsplit(":", 1)[1])


def watch_parent(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Stops the server when stdin closes, i.e. when the benchmark exits, however it exits.

    A reader callback on fd 0, not a thread blocked in ``sys.stdin.read()``: such a thread makes
    the interpreter abort at shutdown while it holds the buffered reader's lock.
    """

    def readable() -> None:
        if not os.read(0, 4096):
            loop.remove_reader(0)
            stop.set()

    loop.add_reader(0, readable)


async def serve_main(kind: str) -> None:
    """Child entry point: serve, print ``READY <port>``, run until SIGTERM/SIGINT or stdin EOF."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watch_parent(loop, stop)
    runner, port = await start_server(kind)
    # As ``gemini-emulator serve`` does once it is up (runner.settle_heap); the same for both servers.
    gc.freeze()
    if os.environ.get("BENCH_GC"):
        gc.set_threshold(int(os.environ["BENCH_GC"]), 10, 10)
    print(f"READY {port}", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def _run(main: Any) -> None:
    """``asyncio.run`` on the loop ``BENCH_LOOP`` names (``uvloop`` or ``asyncio``; default: as serve picks)."""
    from emulator.server.runner import run_loop

    run_loop(main, os.environ.get("BENCH_LOOP", "auto"))


def run_server_child(kind: str) -> None:
    """Runs the server, under cProfile when BENCH_PROFILE names an output file (for hot spots)."""
    profile_path = os.environ.get("BENCH_PROFILE")
    if not profile_path:
        _run(serve_main(kind))
        return
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        _run(serve_main(kind))
    finally:
        profiler.disable()
        profiler.dump_stats(profile_path)


# --------------------------------------------------------------------------------------------------
# Python load generator (fallback when wrk is missing; runs in worker processes)
# --------------------------------------------------------------------------------------------------


def raw_request(port: int, body: bytes = REQUEST_BODY) -> bytes:
    """The whole HTTP/1.1 request, built once: the client must cost as little as possible."""
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
        f"x-goog-api-key: {API_KEY}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> int:
    """Reads one response (Content-Length or chunked) off a keep-alive connection; returns its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    at = lower.find(b"\r\ncontent-length:")
    if at >= 0:
        end = lower.index(b"\r\n", at + 2)
        await reader.readexactly(int(lower[at + 17 : end]))
        return status
    if b"transfer-encoding: chunked" in lower:
        while True:
            size = int((await reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                return status
    raise ConnectionError("response without length")


async def connection_loop(
    port: int, deadline: float, counts: dict[int, int], requests: list[bytes], first: int
) -> None:
    """One keep-alive connection sending requests back to back until the deadline, cycling through
    ``requests`` from index ``first``."""
    reader, writer = await asyncio.open_connection(HOST, port)
    index = first
    try:
        while time.perf_counter() < deadline:
            writer.write(requests[index % len(requests)])
            index += 1
            try:
                status = await read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                counts[-1] = counts.get(-1, 0) + 1
                writer.close()
                reader, writer = await asyncio.open_connection(HOST, port)
                continue
            counts[status] = counts.get(status, 0) + 1
    finally:
        writer.close()


async def worker_main(port: int, connections: int, duration: float, distinct: int = 1) -> dict[str, Any]:
    """Runs ``connections`` loops for ``duration`` seconds and reports counts by status."""
    counts: dict[int, int] = {}
    requests = [raw_request(port, body) for body in request_bodies(distinct)]
    start = time.perf_counter()
    await asyncio.gather(
        *(
            connection_loop(port, start + duration, counts, requests, i * len(requests) // connections)
            for i in range(connections)
        )
    )
    return {"elapsed": time.perf_counter() - start, "counts": counts}


# --------------------------------------------------------------------------------------------------
# Parent: servers, measurements, report
# --------------------------------------------------------------------------------------------------


@dataclass
class Server:
    """A server child process and the port it bound."""

    kind: str
    process: subprocess.Popen[bytes]
    port: int

    def cpu_seconds(self) -> float:
        """utime + stime of the server process (all threads), from /proc: no extra dependency."""
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK


@dataclass
class Load:
    """What a load generator saw in one measurement window."""

    requests: int
    elapsed: float
    errors: dict[str, int] = field(default_factory=dict)


@dataclass
class Result:
    """One server at one concurrency."""

    kind: str
    concurrency: int
    load: Load
    server_cpu: float
    client_cpu: float

    @property
    def rps(self) -> float:
        return self.load.requests / self.load.elapsed if self.load.elapsed else 0.0

    @property
    def cpu_us_per_request(self) -> float:
        return self.server_cpu / self.load.requests * 1e6 if self.load.requests else float("nan")


def start_server_process(kind: str, profile_dir: Path | None) -> Server:
    """Spawns this script in ``--serve`` mode and waits for the port it bound."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GEMINI_EMULATOR_")}
    if profile_dir is not None and kind.startswith("emulator"):
        env["BENCH_PROFILE"] = str(profile_dir / f"{kind}.prof")
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        start_new_session=True,  # Ctrl-C reaches only us; we stop the children in order.
    )
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()
    if not line.startswith("READY "):
        process.kill()
        raise RuntimeError(f"{kind} server did not start (exit {process.wait()}); see its stderr above")
    return Server(kind, process, int(line.split()[1]))


def stop_servers(servers: list[Server]) -> None:
    """SIGTERM (lets a profiled child write its stats), then SIGKILL if it lingers."""
    for server in servers:
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGTERM)
    for server in servers:
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def sanity_check(server: Server, body: bytes = REQUEST_BODY) -> tuple[int, int]:
    """One request before measuring: the benchmark is meaningless if the answer is not a 200."""
    request = urllib.request.Request(
        f"http://{HOST}:{server.port}{PATH}",
        data=body,
        headers={"Content-Type": "application/json", "x-goog-api-key": API_KEY},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(), exc.code
    if status != 200:
        print(
            f"{server.kind} answered HTTP {status} to the benchmark request:\n{body[:800].decode(errors='replace')}",
            file=sys.stderr,
        )
    return status, len(body)


def children_cpu() -> float:
    """CPU of reaped children: the load generator's cost, to show whether it was the bottleneck."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(port: int, concurrency: int, duration: float, lua: Path) -> Load:
    """One wrk run (one thread: the Python server can use only one core, wrk gets the other)."""
    cmd = [
        "wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(duration))}s", "--timeout", "10s",
        "-s", str(lua), f"http://{HOST}:{port}{PATH}",
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b", out)
    if total is None:
        raise RuntimeError(f"cannot parse wrk output:\n{out}")
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[total.group(3)]
    errors: dict[str, int] = {}
    non200 = re.search(r"BENCH non200=(\d+)", out)
    if non200 and int(non200.group(1)):
        errors["non-200"] = int(non200.group(1))
    sockets = re.search(r"Socket errors: (.*)", out)
    if sockets:
        errors["socket"] = sum(int(n) for n in re.findall(r"\d+", sockets.group(1)))
    return Load(int(total.group(1)), float(total.group(2)) * scale, errors)


def run_python_client(port: int, concurrency: int, duration: float, processes: int, distinct: int = 1) -> Load:
    """Splits the connections over worker processes (so the client spreads over both cores)."""
    processes = max(1, min(processes, concurrency))
    shares = [concurrency // processes + (i < concurrency % processes) for i in range(processes)]
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", str(port), str(share), str(duration), str(distinct)],
            stdout=subprocess.PIPE,
        )
        for share in shares
    ]
    try:
        reports = [json.loads(w.communicate()[0]) for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
    requests, errors = 0, dict[str, int]()
    for report in reports:
        for status, n in report["counts"].items():
            if status == "200":
                requests += n
            else:
                key = "connection" if status == "-1" else f"HTTP {status}"
                errors[key] = errors.get(key, 0) + n
    elapsed = max(r["elapsed"] for r in reports)
    return Load(requests + sum(errors.values()), elapsed, errors)


def measure(
    server: Server, concurrency: int, duration: float, client: str, lua: Path, procs: int, distinct: int = 1
) -> Result:
    """Server CPU and client CPU around one load run."""
    cpu0, client0 = server.cpu_seconds(), children_cpu()
    if client == "wrk":
        load = run_wrk(server.port, concurrency, duration, lua)
    else:
        load = run_python_client(server.port, concurrency, duration, procs, distinct)
    return Result(server.kind, concurrency, load, server.cpu_seconds() - cpu0, children_cpu() - client0)


def choose_client(requested: str) -> str:
    if requested == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if requested == "wrk" and not shutil.which("wrk"):
        sys.exit("wrk is not on PATH (apt-get install -y wrk), or use --client python")
    return requested


def write_lua(directory: Path, distinct: int = 1) -> Path:
    lua = directory / "post.lua"
    # A Lua long string keeps the JSON body verbatim.
    cycle = ""
    if distinct > 1:
        bodies = ",\n".join("[==[" + body.decode() + "]==]" for body in request_bodies(distinct))
        cycle = WRK_LUA_CYCLE % {"bodies": bodies}
    lua.write_text(WRK_LUA % {"key": API_KEY, "body": "[==[" + REQUEST_BODY.decode() + "]==]", "requests": cycle})
    return lua


def print_table(results: list[Result]) -> None:
    """Per-server figures, then emulator/bare ratios per concurrency."""
    print()
    header = (
        f"{'server':<18} {'conc':>4} {'requests':>9} {'req/s':>9} {'errors':>7} "
        f"{'CPU us/req':>10} {'server CPU':>10} {'client CPU':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        errs = sum(r.load.errors.values())
        print(
            f"{r.kind:<18} {r.concurrency:>4} {r.load.requests:>9} {r.rps:>9.0f} {errs:>7} "
            f"{r.cpu_us_per_request:>10.0f} {r.server_cpu / r.load.elapsed:>10.0%} "
            f"{r.client_cpu / r.load.elapsed:>10.0%}"
        )
    print("(server/client CPU: share of one core over the window; one core = 100%)")
    for r in results:
        if r.load.errors:
            print(f"ERRORS {r.kind} c={r.concurrency}: {r.load.errors}")
    print()
    print(f"{'conc':>4} {'req/s emulator/bare':>20} {'CPU/req bare/emulator':>22}")
    for conc, bare, emu in pairs(results):
        print(f"{conc:>4} {emu.rps / bare.rps:>20.2f} {bare.cpu_us_per_request / emu.cpu_us_per_request:>22.2f}")


def pairs(results: list[Result]) -> list[tuple[int, Result, Result]]:
    """(concurrency, bare, emulator) for each concurrency measured."""
    return pairs_of(results, "emulator", "emulator-lenient")


def pairs_of(results: list[Result], *kinds: str) -> list[tuple[int, Result, Result]]:
    """(concurrency, bare, other) for each concurrency measured, ``other`` the server of one of ``kinds``."""
    out = []
    for bare in (r for r in results if r.kind == "bare"):
        other = next((r for r in results if r.kind in kinds and r.concurrency == bare.concurrency), None)
        if other is not None:
            out.append((bare.concurrency, bare, other))
    return out


def floor(results: list[Result]) -> None:
    """What parsing and strict validation alone, and the emulator's frame alone, leave of the bare handler."""
    for conc, bare, validating in pairs_of(results, "bare+validate"):
        print(
            f"floor at concurrency {conc}: {validating.rps / bare.rps:.2f} of bare req/s for parse + strict "
            f"validation alone ({validating.cpu_us_per_request - bare.cpu_us_per_request:.0f} us CPU/req more)"
        )
    for conc, bare, frame in pairs_of(results, "emulator-frame"):
        print(
            f"frame at concurrency {conc}: {frame.rps / bare.rps:.2f} of bare req/s for the emulator's application "
            f"answering fixed bytes ({frame.cpu_us_per_request - bare.cpu_us_per_request:.0f} us CPU/req more)"
        )


def verdict(results: list[Result]) -> bool | None:
    """Prints the target line; None when concurrency 8 was not measured."""
    for conc, bare, emu in pairs(results):
        if conc == TARGET_CONCURRENCY:
            ratio = emu.cpu_us_per_request / bare.cpu_us_per_request if bare.cpu_us_per_request else float("inf")
            ok = ratio <= TARGET_CPU
            print(
                f"CPU per request emulator/bare at concurrency {conc}: {ratio:.2f} (target <= {TARGET_CPU:.1f}): "
                f"{'PASS' if ok else 'FAIL'}"
            )
            return ok
    print(f"CPU per request at concurrency {TARGET_CONCURRENCY}: not measured (target <= {TARGET_CPU:.1f})")
    return None


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per server (default 1)")
    parser.add_argument("--concurrency", default="1,8,64", help="comma-separated list (default 1,8,64)")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--client-procs", type=int, default=2, help="python client worker processes (default 2)")
    parser.add_argument("--lenient", action="store_true", help="emulator with lenient validation")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also serve 'bare+validate': the bare handler plus body parsing and strict validation, no answer",
    )
    parser.add_argument("--profile", type=Path, help="cProfile the emulator process; writes DIR/<kind>.prof")
    parser.add_argument(
        "--distinct",
        type=int,
        default=1,
        metavar="N",
        help="cycle N different request bodies (differing in the last user text) through both servers (default 1)",
    )
    parser.add_argument(
        "--model-cost",
        action="store_true",
        help="only measure the default model in process: a 1-turn vs a 20-turn chat request, and their ratio",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.model_cost:
        ratio = model_cost(args.duration)
        return 1 if args.check and ratio > MODEL_COST_TARGET else 0
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    client = choose_client(args.client)
    emulator_kind = "emulator-lenient" if args.lenient else "emulator"
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    servers: list[Server] = []
    results: list[Result] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            distinct = max(1, args.distinct)
            lua = write_lua(Path(tmp), distinct)
            floors = ["bare+validate", "emulator-frame"] if args.floor else []
            for kind in ("bare", *floors, emulator_kind):
                servers.append(start_server_process(kind, args.profile))
            print(
                f"client: {client}; duration {args.duration:g}s per run; cores: {os.cpu_count()}; "
                f"python {sys.version.split()[0]}; distinct request bodies: {distinct}"
            )
            bodies = request_bodies(distinct)
            checks = [sanity_check(s) for s in servers]
            if distinct > 1:  # the last variant too: every body cycled through must be answered
                lasts = [sanity_check(s, bodies[-1]) for s in servers]
                checks = [c if c[0] != 200 else last for c, last in zip(checks, lasts, strict=True)]
            print(
                f"request body {len(REQUEST_BODY)} B; "
                + "; ".join(
                    f"{s.kind} response HTTP {status}, {size} B"
                    for s, (status, size) in zip(servers, checks, strict=True)
                )
            )
            if any(status != 200 for status, _ in checks):
                print("not measuring: every answer must be HTTP 200", file=sys.stderr)
                return 2
            for server in servers:  # warm-up: imports, caches, the first connections
                measure(server, TARGET_CONCURRENCY, args.warmup, client, lua, args.client_procs, distinct)
            for conc in levels:  # interleaved so drift (thermal, neighbours) hits both alike
                for server in servers:
                    results.append(measure(server, conc, args.duration, client, lua, args.client_procs, distinct))
                    r = results[-1]
                    print(f"  {r.kind} c={conc}: {r.rps:.0f} req/s, {r.cpu_us_per_request:.0f} us CPU/req", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        stop_servers(servers)
    print_table(results)
    floor(results)
    ok = verdict(results)
    if args.profile:
        print(
            f"profile written to {args.profile}/{emulator_kind}.prof (python -m pstats, or: sort cumulative / tottime)"
        )
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--serve":
        run_server_child(sys.argv[2])
    elif len(sys.argv) >= 5 and sys.argv[1] == "--worker":
        distinct_bodies = int(sys.argv[5]) if len(sys.argv) >= 6 else 1
        report = asyncio.run(worker_main(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), distinct_bodies))
        print(json.dumps(report))
    else:
        sys.exit(main(sys.argv[1:]))
