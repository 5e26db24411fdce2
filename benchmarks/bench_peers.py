#!/usr/bin/env python3
"""Emulator vs its peers: a bare aiohttp handler and aimock, in one interleaved run.

Three servers answer the same generateContent request (the 3-turn chat of ``bench_server.py``),
unary and as an SSE stream (``streamGenerateContent?alt=sse``):

- ``bare``: an aiohttp handler that reads the body and answers fixed bytes (for the stream, a fixed
  sequence of SSE events);
- ``emulator``: this package on its default settings (strict validation, journal on, access log
  off), started the way ``bench_server.py`` starts it, on the event loop ``serve`` picks by default
  (uvloop when installed); with ``--loops`` one more row per other loop, e.g. ``emulator-asyncio``,
  so that what uvloop buys is measured in the same run;
- ``aimock``: ``@copilotkit/aimock`` (Node), installed by this script with npm into
  ``~/.cache/gemini-emulator-bench/aimock`` and started on a free loopback port with a catch-all
  fixture answering the same text. Skipped, with a message, when node or npm is missing.

The bare handler runs on the emulator's default loop (``--bare-loops`` adds others), so that the
ratio to it is the emulator's own cost, not the loop's. Which loop each child really runs is read
from its memory map (``/proc/<pid>/maps``: uvloop's extension is loaded or not) and printed.

aimock cuts its answer into SSE events of ``--aimock-chunk-size`` characters. By default
(``match``) the size is chosen so that aimock sends as many events per answer as the emulator does
for the same text (both probed at start), which makes the SSE comparison like for like; the events
per answer of every server are printed either way.

At each concurrency (default 1, 8, 64) the servers are measured one after the other, per mode, so
drift hits them alike. Printed per cell: requests/s, SSE events/s (requests/s times the events each
server sends per answer), server CPU per request and per event (from ``/proc/<pid>/stat``), p50/p99
latency, and then the ratios emulator/aimock (unary: requests/s; SSE: events/s) and the emulator's
CPU per request over the bare handler's.

Usage::

    python benchmarks/bench_peers.py [--duration 5] [--concurrency 1,8,64] [--quick]
        [--client auto|wrk|python] [--modes unary,sse] [--no-aimock] [--aimock-chunk-size N|match]
        [--loops auto,asyncio] [--bare-loops auto]

The load comes from ``wrk`` (``apt-get install -y wrk``) when on PATH, otherwise from Python worker
processes (keep-alive HTTP/1.1 over raw asyncio streams) that also time every request.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_server as bs  # noqa: E402  (the request, the fixed answer, the emulator child)

HOST = bs.HOST
API_KEY = bs.API_KEY
MODEL = "gemini-2.5-flash"
PATHS = {
    "unary": f"/v1beta/models/{MODEL}:generateContent",
    "sse": f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse",
}
AIMOCK_PACKAGE = "@copilotkit/aimock"
AIMOCK_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gemini-emulator-bench" / "aimock"
ANSWER_TEXT: str = bs.FIXED_RESPONSE["candidates"][0]["content"]["parts"][0]["text"]

# The bare stream: the fixed answer cut into 4 SSE events, the last with finishReason and usage.
_PIECES = 4


def _bare_sse_body() -> bytes:
    step = -(-len(ANSWER_TEXT) // _PIECES)
    events = []
    for i in range(_PIECES):
        chunk: dict[str, Any] = {
            "candidates": [
                {"content": {"parts": [{"text": ANSWER_TEXT[i * step : (i + 1) * step]}], "role": "model"}, "index": 0}
            ],
            "modelVersion": MODEL,
            "responseId": bs.FIXED_RESPONSE["responseId"],
        }
        if i == _PIECES - 1:
            chunk["candidates"][0]["finishReason"] = "STOP"
            chunk["usageMetadata"] = bs.FIXED_RESPONSE["usageMetadata"]
        events.append(b"data: " + json.dumps(chunk, ensure_ascii=False).encode() + b"\r\n\r\n")
    return b"".join(events)


BARE_SSE_BODY = _bare_sse_body()

# --------------------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------------------


def serve_bare() -> None:
    """Child: the bare aiohttp handler on both paths; prints ``READY <port>``, stops on stdin EOF."""
    import gc

    from aiohttp import web

    async def unary(request: web.Request) -> web.StreamResponse:
        await request.read()
        return web.Response(body=bs.FIXED_BODY, content_type="application/json")

    async def stream(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        try:
            await response.prepare(request)
            await response.write(BARE_SSE_BODY)
            await response.write_eof()
        except ConnectionResetError:  # the load generator hung up at the end of its window
            pass
        return response

    async def main() -> None:
        app = web.Application()
        app.router.add_post(f"/v1beta/models/{MODEL}:generateContent", unary)
        app.router.add_post(f"/v1beta/models/{MODEL}:streamGenerateContent", stream)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, HOST, 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        bs.watch_parent(loop, stop)
        gc.collect()
        gc.freeze()
        print(f"READY {port}", flush=True)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    bs._run(main())


def resolve_loop(loop: str) -> str:
    """The loop ``run_loop`` will run for ``loop``: ``auto`` is uvloop when it is importable."""
    if loop == "auto":
        return "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return loop


def running_loop(pid: int) -> str:
    """The loop a child really runs: uvloop's extension is in its memory map only when it was imported,
    and the children import it only to run on it."""
    try:
        return "uvloop" if "uvloop" in Path(f"/proc/{pid}/maps").read_text() else "asyncio"
    except OSError:
        return "?"


def with_loop(loop: str, start: Any) -> Any:
    """Runs ``start()`` with ``BENCH_LOOP`` set to ``loop``, so that the child it spawns inherits it."""
    before = os.environ.get("BENCH_LOOP")
    os.environ["BENCH_LOOP"] = loop
    try:
        return start()
    finally:
        if before is None:
            del os.environ["BENCH_LOOP"]
        else:
            os.environ["BENCH_LOOP"] = before


@dataclass
class Server:
    kind: str
    process: subprocess.Popen[bytes]
    port: int
    note: str = ""
    loop: str = ""

    def cpu_seconds(self) -> float:
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / bs.CLK_TCK


def start_bare(loop: str = "auto", kind: str = "bare") -> Server:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve-bare"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "BENCH_LOOP": loop},
        start_new_session=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()
    if not line.startswith("READY "):
        process.kill()
        raise RuntimeError(f"bare server did not start (exit {process.wait()})")
    return Server(kind, process, int(line.split()[1]), loop=running_loop(process.pid))


def start_emulator(loop: str = "auto", kind: str = "emulator") -> Server:
    """As bench_server.py does: its ``--serve emulator`` child, default Settings (strict, journal on),
    access log off, no GEMINI_EMULATOR_* variables, on the event loop ``loop`` (``BENCH_LOOP``)."""
    s = with_loop(loop, lambda: bs.start_server_process("emulator", None))
    return Server(kind, s.process, s.port, loop=running_loop(s.process.pid))


def loop_rows(spec: str, name: str) -> list[tuple[str, str]]:
    """(row name, loop) for a comma-separated ``--loops`` value: the row on the default loop is plain
    ``name``, the others ``name-<loop>``; entries that resolve to the same loop are measured once."""
    default, rows = resolve_loop("auto"), {}
    for entry in (e.strip() for e in spec.split(",") if e.strip()):
        if entry not in ("auto", "uvloop", "asyncio"):
            sys.exit(f"loops: choose among auto, uvloop, asyncio (not {entry!r})")
        loop = resolve_loop(entry)
        rows.setdefault(loop, name if loop == default else f"{name}-{loop}")
    return [(kind, loop) for loop, kind in rows.items()]


def utf16_length(text: str) -> int:
    """aimock slices the answer in JavaScript, whose string length counts UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def matching_chunk_size(length: int, events: int) -> int:
    """The chunk size with which aimock cuts a ``length``-unit answer into ``events`` events (it sends
    ``ceil(length / size)``), or the nearest it can do."""
    if length <= 0:
        return 1
    return min(range(1, length + 1), key=lambda size: (abs(-(-length // size) - events), size))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def install_aimock() -> tuple[Path, str] | str:
    """(path of its llmock CLI, version), or the reason it cannot be used."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        return "node/npm not on PATH: aimock skipped (install Node.js >= 20 to compare with it)"
    package = AIMOCK_DIR / "node_modules" / "@copilotkit" / "aimock"
    if not (package / "package.json").exists():
        AIMOCK_DIR.mkdir(parents=True, exist_ok=True)
        print(f"installing {AIMOCK_PACKAGE} into {AIMOCK_DIR} ...", flush=True)
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(AIMOCK_DIR), AIMOCK_PACKAGE],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0 or not (package / "package.json").exists():
            return f"npm install {AIMOCK_PACKAGE} failed: aimock skipped\n{done.stderr[-800:]}"
    meta = json.loads((package / "package.json").read_text())
    cli = package / "dist" / "cli.js"  # the ``llmock`` bin: -p PORT -f FIXTURES
    if not cli.exists():
        bins = meta.get("bin", {})
        cli = package / (bins.get("llmock") if isinstance(bins, dict) else "dist/cli.js")
    return cli, str(meta.get("version", "?"))


def emulator_answer_text(server: Server) -> str:
    """The text the emulator answers to the benchmark request, so that aimock answers the same text
    (same length, hence a comparable number of SSE events); the bare handler's text otherwise."""
    request = urllib.request.Request(
        f"http://{HOST}:{server.port}{PATHS['unary']}",
        data=bs.REQUEST_BODY,
        headers={"Content-Type": "application/json", "x-goog-api-key": API_KEY},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())["candidates"][0]["content"]["parts"][0]["text"]
    except (OSError, ValueError, KeyError, IndexError):
        return ANSWER_TEXT


def start_aimock(cli: Path, version: str, tmp: Path, chunk_size: int, text: str, why: str = "") -> Server:
    """aimock on a free loopback port with one catch-all fixture (empty match) answering ``text``."""
    fixture = tmp / "aimock-fixtures.json"
    fixture.write_text(json.dumps({"fixtures": [{"match": {}, "response": {"content": text}}]}))
    port = free_port()
    cmd = ["node", str(cli), "-h", HOST, "-p", str(port), "-f", str(fixture), "--log-level", "silent"]
    cmd += ["-c", str(chunk_size)]
    process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"aimock exited with {process.returncode}: {' '.join(cmd)}")
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    else:
        process.kill()
        raise RuntimeError("aimock did not listen within 20 s")
    note = f"aimock {version} (chunk size {chunk_size}{why}, {len(text)}-char answer)"
    return Server("aimock", process, port, note, loop="node")


def stop_servers(servers: list[Server]) -> None:
    for server in servers:
        if server.process.poll() is None:
            server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def probe(server: Server, mode: str) -> tuple[int, int, int]:
    """One request: (HTTP status, body bytes, SSE events) — events is 1 for unary."""
    request = urllib.request.Request(
        f"http://{HOST}:{server.port}{PATHS[mode]}",
        data=bs.REQUEST_BODY,
        headers={"Content-Type": "application/json", "x-goog-api-key": API_KEY},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body, status = response.read(), response.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(), exc.code
    if status != 200:
        print(f"{server.kind} {mode}: HTTP {status}\n{body[:600].decode(errors='replace')}", file=sys.stderr)
    events = sum(1 for line in body.splitlines() if line.startswith(b"data:")) if mode == "sse" else 1
    return status, len(body), events


# --------------------------------------------------------------------------------------------------
# Load
# --------------------------------------------------------------------------------------------------


@dataclass
class Load:
    requests: int
    elapsed: float
    p50_us: float
    p99_us: float
    errors: int = 0


@dataclass
class Result:
    kind: str
    mode: str
    concurrency: int
    load: Load
    server_cpu: float
    events_per_answer: int
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.load.requests / self.load.elapsed if self.load.elapsed else 0.0

    @property
    def eps(self) -> float:
        return self.rps * self.events_per_answer

    @property
    def cpu_us_req(self) -> float:
        return self.server_cpu / self.load.requests * 1e6 if self.load.requests else float("nan")

    @property
    def cpu_us_event(self) -> float:
        return self.cpu_us_req / self.events_per_answer


def run_wrk(port: int, mode: str, concurrency: int, duration: float, lua: Path) -> Load:
    cmd = [
        "wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(duration))}s", "--timeout", "10s",
        "-s", str(lua), f"http://{HOST}:{port}{PATHS[mode]}",
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b", out)
    mine = re.search(r"BENCH non200=(\d+) p50=(\d+) p99=(\d+)", out)
    if total is None or mine is None:
        raise RuntimeError(f"cannot parse wrk output:\n{out}")
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[total.group(3)]
    errors = int(mine.group(1))
    sockets = re.search(r"Socket errors: (.*)", out)
    if sockets:
        errors += sum(int(n) for n in re.findall(r"\d+", sockets.group(1)))
    return Load(int(total.group(1)), float(total.group(2)) * scale, float(mine.group(2)), float(mine.group(3)), errors)


async def _connection(port: int, raw: bytes, deadline: float, lat: list[float], bad: list[int]) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(raw)
            status = await bs.read_response(reader)
            lat.append(time.perf_counter() - started)
            if status != 200:
                bad[0] += 1
    finally:
        writer.close()


async def worker_main(port: int, mode: str, connections: int, duration: float) -> dict[str, Any]:
    path = PATHS[mode]
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
        f"x-goog-api-key: {API_KEY}\r\nContent-Length: {len(bs.REQUEST_BODY)}\r\n\r\n"
    )
    raw = head.encode() + bs.REQUEST_BODY
    lat: list[float] = []
    bad = [0]
    start = time.perf_counter()
    await asyncio.gather(*(_connection(port, raw, start + duration, lat, bad) for _ in range(connections)))
    return {"elapsed": time.perf_counter() - start, "lat": lat, "bad": bad[0]}


def run_python(port: int, mode: str, concurrency: int, duration: float, procs: int) -> Load:
    procs = max(1, min(procs, concurrency))
    shares = [concurrency // procs + (i < concurrency % procs) for i in range(procs)]
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", str(port), mode, str(n), str(duration)], stdout=subprocess.PIPE
        )
        for n in shares
    ]
    reports = [json.loads(w.communicate()[0]) for w in workers]
    lat = sorted(x for r in reports for x in r["lat"])
    if not lat:
        return Load(0, max(r["elapsed"] for r in reports), float("nan"), float("nan"), sum(r["bad"] for r in reports))

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1e6

    return Load(len(lat), max(r["elapsed"] for r in reports), pct(50), pct(99), sum(r["bad"] for r in reports))


def measure(
    server: Server, mode: str, conc: int, duration: float, client: str, luas: dict[str, Path], procs: int
) -> Load:
    if client == "wrk":
        return run_wrk(server.port, mode, conc, duration, luas[mode])
    return run_python(server.port, mode, conc, duration, procs)


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------


def fmt_us(us: float) -> str:
    return f"{us / 1000:.2f}ms" if us >= 1000 else f"{us:.0f}us"


def print_table(results: list[Result]) -> None:
    print()
    header = (
        f"{'mode':<5} {'conc':>4} {'server':<16} {'req/s':>8} {'events/s':>9} {'ev/ans':>6} {'CPU us/req':>10} "
        f"{'CPU us/ev':>9} {'p50':>8} {'p99':>8} {'srv CPU':>7} {'errors':>6}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.mode:<5} {r.concurrency:>4} {r.kind:<16} {r.rps:>8.0f} {r.eps:>9.0f} {r.events_per_answer:>6} "
            f"{r.cpu_us_req:>10.0f} {r.cpu_us_event:>9.1f} {fmt_us(r.load.p50_us):>8} {fmt_us(r.load.p99_us):>8} "
            f"{r.server_cpu / r.load.elapsed:>7.0%} {r.load.errors:>6}"
        )
    print("(srv CPU: share of one core over the window; ev/ans: SSE events per answer, 1 for unary)")
    print()
    print(
        f"{'mode':<5} {'conc':>4} {'emulator row':<16} {'emulator/aimock':>15} {'(measure)':<10} "
        f"{'req/s emu/aimock':>16} {'CPU/req emu/aimock':>18} "
        f"{'CPU/req emu/bare':>16} {'emulator/bare':>13}"
    )
    kinds = [k for k in dict.fromkeys(r.kind for r in results) if k.startswith("emulator")]
    for mode, conc, kind in (
        (m, c, k)
        for m in dict.fromkeys(r.mode for r in results)
        for c in dict.fromkeys(r.concurrency for r in results if r.mode == m)
        for k in kinds
    ):
        cell = {r.kind: r for r in results if r.mode == mode and r.concurrency == conc}
        emu, aim = cell.get(kind), cell.get("aimock")
        bare = cell.get("bare" + kind.removeprefix("emulator"), cell.get("bare"))
        if emu is None:
            continue
        sse = mode == "sse"
        per = "events/s" if sse else "req/s"

        def rate(r: Result, sse: bool = sse) -> float:
            return r.eps if sse else r.rps

        ratio = f"{rate(emu) / rate(aim):.2f}" if aim and rate(aim) else "-"
        per_req = f"{emu.rps / aim.rps:.2f}" if aim and aim.rps else "-"
        cpu_aim = f"{emu.cpu_us_req / aim.cpu_us_req:.2f}" if aim and aim.load.requests else "-"
        cpu_bare = f"{emu.cpu_us_req / bare.cpu_us_req:.2f}" if bare and bare.load.requests else "-"
        vs_bare = f"{rate(emu) / rate(bare):.2f}" if bare and rate(bare) else "-"
        print(
            f"{mode:<5} {conc:>4} {kind:<16} {ratio:>15} {per:<10} {per_req:>16} {cpu_aim:>18} {cpu_bare:>16} "
            f"{vs_bare:>13}"
        )
    print("(emulator/aimock: req/s for unary, events/s for sse; req/s emu/aimock: answers (streams) per second;")
    print(" emulator/bare: against the bare handler on the same loop when measured, else on the default loop)")
    print("(targets: emulator/aimock >= 1.2 for unary req/s at c=8 and c=64 and for SSE events/s;")
    print(" emulator CPU/req at c=8 <= 2x bare's)")


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per server and mode (default 1)")
    parser.add_argument("--concurrency", default="1,8,64", help="comma-separated list (default 1,8,64)")
    parser.add_argument("--modes", default="unary,sse", help="comma-separated: unary, sse (default both)")
    parser.add_argument("--quick", action="store_true", help="2 s per measurement, 1 s warm-up")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--client-procs", type=int, default=2, help="python client worker processes (default 2)")
    parser.add_argument("--no-aimock", action="store_true", help="leave aimock out")
    parser.add_argument(
        "--aimock-chunk-size",
        default="match",
        metavar="N|match",
        help="aimock's SSE chunk size in characters (its own default is 20); 'match' (default): the size "
        "that makes aimock send as many events per answer as the emulator",
    )
    parser.add_argument(
        "--loops",
        default="auto,asyncio",
        help="event loops to run the emulator on, one row each: auto, uvloop, asyncio (default auto,asyncio; "
        "auto is uvloop when installed, the row on it is named 'emulator')",
    )
    parser.add_argument(
        "--bare-loops", default="auto", help="event loops for the bare handler, same syntax (default auto)"
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.quick:
        args.duration, args.warmup = 2.0, 1.0
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    modes = [m for m in args.modes.split(",") if m.strip()]
    if any(m not in PATHS for m in modes):
        sys.exit(f"--modes: choose among {', '.join(PATHS)}")
    if args.aimock_chunk_size != "match" and not args.aimock_chunk_size.isdigit():
        sys.exit("--aimock-chunk-size: a number of characters, or match")
    emulator_rows, bare_rows = loop_rows(args.loops, "emulator"), loop_rows(args.bare_loops, "bare")
    client = bs.choose_client(args.client)
    servers: list[Server] = []
    results: list[Result] = []
    aimock: tuple[Path, str] | str = "left out (--no-aimock)" if args.no_aimock else install_aimock()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp_name:
            tmp = Path(tmp_name)
            luas = {}
            for mode in PATHS:
                luas[mode] = tmp / f"{mode}.lua"
                body = "[==[" + bs.REQUEST_BODY.decode() + "]==]"
                luas[mode].write_text(bs.WRK_LUA % {"key": API_KEY, "body": body, "requests": ""})  # p50/p99 reported
            servers += [start_bare(loop, kind) for kind, loop in bare_rows]
            servers += [start_emulator(loop, kind) for kind, loop in emulator_rows]
            if isinstance(aimock, str):
                print(f"aimock: {aimock}")
            else:
                emulator = next(s for s in servers if s.kind.startswith("emulator"))
                text = emulator_answer_text(emulator)
                if args.aimock_chunk_size == "match":
                    wanted = probe(emulator, "sse")[2]
                    chunk = matching_chunk_size(utf16_length(text), wanted)
                    why = f", matched to the emulator's {wanted} events per answer"
                else:
                    chunk, why = int(args.aimock_chunk_size), ""
                servers.append(start_aimock(*aimock, tmp, chunk, text, why))
            print(
                f"client: {client}; {args.duration:g} s per cell; cores: {os.cpu_count()}; "
                f"python {sys.version.split()[0]}; request body {len(bs.REQUEST_BODY)} B"
                + "".join(f"; {s.note}" for s in servers if s.note)
            )
            default = resolve_loop("auto")
            print(
                f"event loops (read from each child's memory map): default {default}; "
                + ", ".join(f"{s.kind} {s.loop}" for s in servers if s.loop != "node")
                + ("; the bare handler runs on the emulator's default loop" if ("bare", default) in bare_rows else "")
            )
            events: dict[tuple[str, str], int] = {}
            for mode in modes:
                for server in servers:
                    status, size, n = probe(server, mode)
                    events[server.kind, mode] = n
                    print(f"  {mode:<5} {server.kind:<16} HTTP {status}, {size} B, {n} event(s) per answer")
                    if status != 200:
                        print("not measuring: every answer must be HTTP 200", file=sys.stderr)
                        return 2
            for mode in modes:  # warm-up
                for server in servers:
                    measure(server, mode, 8, args.warmup, client, luas, args.client_procs)
            for conc in levels:  # interleaved: every server and mode at one concurrency, then the next
                for mode in modes:
                    for server in servers:
                        cpu0 = server.cpu_seconds()
                        load = measure(server, mode, conc, args.duration, client, luas, args.client_procs)
                        r = Result(
                            server.kind, mode, conc, load, server.cpu_seconds() - cpu0, events[server.kind, mode]
                        )
                        results.append(r)
                        print(
                            f"  {mode} c={conc} {r.kind}: {r.rps:.0f} req/s, {r.cpu_us_req:.0f} us CPU/req, "
                            f"p50 {fmt_us(load.p50_us)}",
                            flush=True,
                        )
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        stop_servers(servers)
    print_table(results)
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--serve-bare":
        serve_bare()
    elif len(sys.argv) >= 6 and sys.argv[1] == "--worker":
        report = asyncio.run(worker_main(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])))
        print(json.dumps(report))
    else:
        sys.exit(main(sys.argv[1:]))
