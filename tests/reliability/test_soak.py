"""Soak: mixed traffic (unary, streams, faults, hang-ups, control calls, bad bodies) against one server
in a subprocess, measuring that process alone (/proc/PID: VmRSS and open fds; asyncio tasks through
a SIGUSR1 probe) after a warm-up and again after the traffic stops and settles. Vertex AI's routes get
their share (project paths with a bearer token, express paths with an ``AQ.`` key), faults included.

``GEMINI_SOAK_SECONDS`` (default 25, the CI run: some 4,000 requests) makes it longer (a deep run: 600)
or shorter for a quick look.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from reliability_support import (
    EXPRESS_MODELS,
    GENERATE,
    MODEL,
    SSE,
    STREAM,
    VALID_BODY,
    VERTEX_GENERATE,
    VERTEX_MODELS,
    VERTEX_SSE,
    Figures,
    ServerProcess,
    as_caller,
    control,
    developer_marks,
    error_of,
    exchange,
    files_under,
    host_port,
    http_request,
    is_vertex,
    serving,
    vertex_serving,
)

SOAK_SECONDS = float(os.environ.get("GEMINI_SOAK_SECONDS", "25"))
WARMUP_SECONDS = 1.5
WORKERS = 4
CONTEXTS = 8
RSS_LIMIT_MIB = 30
HEADER_TIMEOUT = 0.5
FD_SLACK = 2
STORY = json.dumps({"contents": [{"parts": [{"text": "tell me a long story about the sea and its ships " * 4}]}]})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    cwd = tmp_path_factory.mktemp("soak-cwd")
    env = {
        "GEMINI_EMULATOR_JOURNAL_PER_CONTEXT": "50",
        "GEMINI_EMULATOR_KEEPALIVE_TIMEOUT": "30",
        "GEMINI_EMULATOR_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
    }
    process = ServerProcess("--quiet", cwd=str(cwd), env=env)
    try:
        yield process
    finally:
        process.stop()
        assert files_under(str(cwd)) == [], "the server wrote files"


class Worker:
    """One client thread: a keep-alive connection for plain calls, fresh sockets for everything else."""

    def __init__(self, url: str, seed: int) -> None:
        self.url = url
        self.rng = random.Random(seed)
        self.host, self.port = host_port(url)
        self.conn: http.client.HTTPConnection | None = None
        self.counts: Counter[str] = Counter()
        self.failures: list[str] = []
        self.actions: list[tuple[int, Callable[[str], None]]] = [
            (30, self.unary),
            (15, self.stream),
            (5, self.array_stream),
            (8, self.other_calls),
            (15, self.fault),
            (10, self.hang_up),
            (5, self.control_calls),
            (4, self.bad_body),
            (1, self.slow_headers),
            (15, self.vertex),
        ]
        self.vertex_requests = 0
        self.weights = [w for w, _ in self.actions]

    def key(self) -> str:
        return f"soak-{self.rng.randrange(CONTEXTS)}"

    def keep_alive(self, method: str, path: str, body: str | None, key: str) -> tuple[int, bytes]:
        """``key`` names the caller: sent as its API key, or on Vertex AI as its bearer token or express key."""
        credentials, api_key = as_caller(path, key)
        headers = dict(credentials) | ({"x-goog-api-key": api_key} if api_key else {})
        if is_vertex(path):
            self.vertex_requests += 1
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=15)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def expect(self, ok: bool, what: str) -> None:
        if not ok:
            self.failures.append(what)

    def unary(self, key: str) -> None:
        status, body = self.keep_alive("POST", GENERATE, json.dumps(VALID_BODY), key)
        self.expect(status == 200 and b"candidates" in body, f"unary {status}")

    def stream(self, key: str) -> None:
        status, body = self.keep_alive("POST", SSE, STORY, key)
        self.expect(status == 200 and body.count(b"data: ") >= 2, f"stream {status}")

    def array_stream(self, key: str) -> None:
        status, body = self.keep_alive("POST", STREAM, STORY, key)
        self.expect(status == 200 and isinstance(json.loads(body), list), f"array stream {status}")

    def other_calls(self, key: str) -> None:
        call = self.rng.choice(
            [
                ("POST", f"/v1beta/models/{MODEL}:countTokens", json.dumps(VALID_BODY)),
                (
                    "POST",
                    "/v1beta/models/gemini-embedding-001:embedContent",
                    json.dumps({"content": {"parts": [{"text": "x"}]}}),
                ),
                ("GET", "/v1beta/models?pageSize=3", None),
                ("GET", f"/v1/models/{MODEL}", None),
            ]
        )
        status, _ = self.keep_alive(*call, key)
        self.expect(status == 200, f"{call[1]} {status}")

    FAULTS = [
        {"kind": "error", "code": 503},
        {"kind": "error", "code": 429, "retry_after_header": True},
        {"kind": "midstream", "after_chunks": 2},
        {"kind": "truncate", "after_chunks": 1},
        {"kind": "reset"},
        {"kind": "reset", "after_chunks": 1},
        {"kind": "empty"},
        {"kind": "garbage", "after_chunks": 1},
        {"kind": "malformed"},
        {"kind": "block"},
        {"kind": "finish", "finish_reason": "SAFETY"},
        {"kind": "latency", "delay": 0.02, "tokens_per_second": 20000},
        {"kind": "stall", "stall_seconds": 0.05},
    ]

    def fault(self, key: str) -> None:
        fault = self.rng.choice(self.FAULTS)
        path = self.rng.choice(
            [GENERATE, SSE, STREAM, VERTEX_GENERATE, VERTEX_SSE, f"{EXPRESS_MODELS}/{MODEL}:streamGenerateContent"]
        )
        credentials, api_key = as_caller(path, key)
        data = http_request(
            "POST", path, STORY.encode(), [*credentials, ("x-emulator-fault", json.dumps(fault))], key=api_key
        )
        self.vertex_requests += is_vertex(path)
        answers = exchange(self.url, data, timeout=15)
        if answers and answers[0].status >= 400:
            self.expect(error_of(answers[0]) is not None, f"fault {fault} without an envelope")
            if is_vertex(path):
                self.expect(not developer_marks(answers[0]), f"fault {fault} on {path}: {answers[0].body[:200]!r}")

    def vertex(self, key: str) -> None:
        """Vertex AI's calls: unary, both streams, tokens, embeddings, listings, and its 401 and 404."""
        base = self.rng.choice([VERTEX_MODELS, EXPRESS_MODELS])
        what = self.rng.randrange(9)
        if what == 0:
            status, body = self.keep_alive("POST", f"{base}/{MODEL}:generateContent", json.dumps(VALID_BODY), key)
            self.expect(status == 200 and b'"createTime"' in body, f"vertex unary {status}")
        elif what == 1:
            status, body = self.keep_alive("POST", f"{base}/{MODEL}:streamGenerateContent?alt=sse", STORY, key)
            self.expect(status == 200 and body.count(b"data: ") >= 2, f"vertex stream {status}")
        elif what == 2:
            status, body = self.keep_alive("POST", f"{base}/{MODEL}:streamGenerateContent", STORY, key)
            self.expect(status == 200 and isinstance(json.loads(body), list), f"vertex array stream {status}")
        elif what in (3, 4, 5):
            method, path, payload = [
                ("POST", f"{base}/{MODEL}:countTokens", json.dumps(VALID_BODY)),
                ("POST", f"{base}/{MODEL}:computeTokens", json.dumps(VALID_BODY)),
                ("POST", f"{base}/text-embedding-004:predict", json.dumps({"instances": [{"content": "x"}]})),
            ][what - 3]
            status, _ = self.keep_alive(method, path, payload, key)
            self.expect(status == 200, f"{path} {status}")
        elif what == 6:
            status, _ = self.keep_alive("GET", self.rng.choice([base, f"{base}/{MODEL}"]), None, key)
            self.expect(status == 200, f"vertex listing {status}")
        else:  # a caller Vertex AI refuses (a Developer API key), or a model it does not serve
            path = f"{VERTEX_MODELS}/{MODEL}:generateContent" if what == 7 else f"{base}/nope:generateContent"
            headers = {"x-goog-api-key": key} if what == 7 else dict(as_caller(path, key)[0])
            if what != 7 and not headers:
                headers = {"x-goog-api-key": f"AQ.{key}"}
            answer = exchange(self.url, http_request("POST", path, json.dumps(VALID_BODY).encode(), headers, key=None))
            self.vertex_requests += 1
            status = answer[0].status if answer else 0
            self.expect(
                status == (401 if what == 7 else 404) and not developer_marks(answer[0]), f"vertex refusal {status}"
            )

    def hang_up(self, key: str) -> None:
        """A client that leaves mid-stream (after the first event, or before any), by FIN or by reset."""
        fault = self.rng.choice(
            [
                {"kind": "latency", "tokens_per_second": 40},
                {"kind": "stall", "after_chunks": 1},
                {"kind": "latency", "delay": 30},
            ]
        )
        sock = socket.create_connection((self.host, self.port), timeout=15)
        try:
            sock.sendall(http_request("POST", SSE, STORY.encode(), [("x-emulator-fault", json.dumps(fault))], key=key))
            if "delay" not in fault:
                got = b""
                while b"data: " not in got and (data := sock.recv(65536)):
                    got += data
            else:
                time.sleep(0.01)
        finally:
            if self.rng.random() < 0.5:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()

    def control_calls(self, key: str) -> None:
        """Control calls on contexts of their own (their scenarios and faults change what plain calls get),
        each followed by a call that must get an answer or an envelope."""
        key = key.replace("soak-", "soak-control-")
        what = self.rng.randrange(4)
        if what == 0:
            control(self.url, "GET", "requests", key, query="?limit=5")
        elif what == 1:
            control(self.url, "POST", "reset", key)
        elif what == 2:
            rules = {"name": "soak", "unmatched": "default", "rules": [{"reply": "scripted {{ turn }}", "times": 3}]}
            control(self.url, "PUT", "scenario", key, json.dumps(rules).encode())
        else:
            control(self.url, "PUT", "faults", key, [{"kind": "error", "code": 500, "times": 1}])
        status, body = self.keep_alive("POST", self.rng.choice([GENERATE, SSE]), json.dumps(VALID_BODY), key)
        self.expect(status == 200 or b'"error"' in body, f"after a control call {status}")

    def bad_body(self, key: str) -> None:
        body = self.rng.choice([b'{"contents": [', b"\xff\xfe", b"[]", b'{"contents": [{"parts": []}]}', b"null"])
        status, payload = self.keep_alive("POST", GENERATE, body.decode("latin-1"), key)
        self.expect(400 <= status < 500 and b'"error"' in payload, f"bad body {status}")

    def slow_headers(self, key: str) -> None:
        """A client that never finishes its headers gets a 408 at the header deadline, and is closed."""
        sock = socket.create_connection((self.host, self.port), timeout=15)
        got = b""
        try:
            sock.sendall(f"POST {GENERATE} HTTP/1.1\r\nHost: x\r\nx-goog-api-key: {key}\r\nContent-".encode())
            while data := sock.recv(65536):
                got += data
        finally:
            sock.close()
        self.expect(got.startswith(b"HTTP/1.1 408") and b"DEADLINE_EXCEEDED" in got, f"slow headers: {got[:60]!r}")

    def run(self, until: float) -> None:
        while time.monotonic() < until:
            _, action = self.rng.choices(self.actions, weights=self.weights)[0]
            try:
                action(self.key())
                self.counts[action.__name__] += 1
            except Exception as exc:  # noqa: BLE001 (recorded and asserted on below)
                self.failures.append(f"{action.__name__}: {type(exc).__name__}: {exc}")
        self.close()


def traffic(url: str, seconds: float, seed: int) -> tuple[Counter[str], list[str]]:
    """The actions taken (``vertex_requests``: the requests on Vertex AI's routes) and what went wrong."""
    workers = [Worker(url, seed * 100 + n) for n in range(WORKERS)]
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=w.run, args=(until,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    counts: Counter[str] = Counter()
    failures: list[str] = []
    for worker in workers:
        counts.update(worker.counts)
        counts["vertex_requests"] += worker.vertex_requests
        failures += worker.failures
    return counts, failures


def settled(server: ServerProcess, fds: int, tasks: int, within: float = 10.0) -> tuple[int, int, float]:
    """Waits (bounded) for hung-up handlers and closing sockets to go; the last readings."""
    started = time.monotonic()
    while True:
        now_fds, now_tasks = server.fds(), server.tasks()
        if (now_fds <= fds + FD_SLACK and now_tasks <= tasks) or time.monotonic() - started > within:
            return now_fds, now_tasks, time.monotonic() - started
        time.sleep(0.2)


def test_soak_mixed_traffic_leaves_no_trace(server: ServerProcess, figures: Figures) -> None:
    warm, warm_failures = traffic(server.url, WARMUP_SECONDS, seed=1)
    assert not warm_failures, warm_failures[:5]
    time.sleep(0.5)
    base_fds, base_tasks, _ = settled(server, server.fds(), server.tasks(), within=5)
    base_rss = server.rss_kib()

    started = time.monotonic()
    counts, failures = traffic(server.url, SOAK_SECONDS, seed=2)
    elapsed = time.monotonic() - started
    peak_rss = server.rss_kib()
    end_fds, end_tasks, settle_time = settled(server, base_fds, base_tasks)
    end_rss = server.rss_kib()

    growth_mib = (end_rss - base_rss) / 1024
    vertex_requests = counts.pop("vertex_requests")
    requests = sum(counts.values())
    figures.set("soak.seconds", elapsed)
    figures.set("soak.rss_mib", growth_mib)
    figures.set("soak.fds", end_fds - base_fds)
    figures.set("soak.tasks", end_tasks - base_tasks)
    figures.add("soak.requests", requests)
    figures.add("soak.requests.vertex", vertex_requests)
    print(
        f"\nsoak: {elapsed:.1f} s, {requests} requests ({requests / elapsed:.0f}/s, {vertex_requests} on Vertex AI's "
        f"routes) {dict(counts)}; "
        f"rss {base_rss / 1024:.1f} -> peak {peak_rss / 1024:.1f} -> {end_rss / 1024:.1f} MiB ({growth_mib:+.1f}); "
        f"fds {base_fds} -> {end_fds}; tasks {base_tasks} -> {end_tasks} (settled in {settle_time:.1f} s)"
    )
    assert not failures, failures[:5]
    assert all(
        counts[name] for name in ("unary", "stream", "fault", "hang_up", "control_calls", "slow_headers", "vertex")
    ), counts
    assert abs(end_fds - base_fds) <= FD_SLACK, (base_fds, end_fds)
    assert end_tasks <= base_tasks, (base_tasks, end_tasks)
    assert growth_mib < RSS_LIMIT_MIB, (base_rss, end_rss)
    assert serving(server.url) and vertex_serving(server.url) and vertex_serving(server.url, express=True)
    output = server.output().decode(errors="replace")
    figures.add("tracebacks", output.count("Traceback (most recent call last)"))
    for sign in ("Traceback", "unexpected error", "Error handling request"):
        assert sign not in output, output[max(0, output.index(sign) - 200) :][:3000]
