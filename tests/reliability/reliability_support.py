"""Shared tools of the reliability suite: raw HTTP, log watching, a server in a subprocess, canaries.

Everything here talks to 127.0.0.1 only, with bounded timeouts; nothing is written to disk.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import re
import signal
import socket
import string
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

MODEL = "gemini-2.5-flash"
GENERATE = f"/v1beta/models/{MODEL}:generateContent"
STREAM = f"/v1beta/models/{MODEL}:streamGenerateContent"
SSE = STREAM + "?alt=sse"
VALID_BODY = {"contents": [{"role": "user", "parts": [{"text": "Are you still there?"}]}]}
MiB = 1024 * 1024

# Vertex AI: a project path takes a bearer token; express mode (no project) takes an ``AQ.`` key.
VERTEX_PROJECT = "reliability-project"
VERTEX_LOCATION = "us-central1"
VERTEX_MODELS = f"/v1beta1/projects/{VERTEX_PROJECT}/locations/{VERTEX_LOCATION}/publishers/google/models"
EXPRESS_MODELS = "/v1beta1/publishers/google/models"
VERTEX_GENERATE = f"{VERTEX_MODELS}/{MODEL}:generateContent"
VERTEX_STREAM = f"{VERTEX_MODELS}/{MODEL}:streamGenerateContent"
VERTEX_SSE = VERTEX_STREAM + "?alt=sse"
EXPRESS_GENERATE = f"{EXPRESS_MODELS}/{MODEL}:generateContent"
EXPRESS_STREAM = f"{EXPRESS_MODELS}/{MODEL}:streamGenerateContent"
EXPRESS_SSE = EXPRESS_STREAM + "?alt=sse"
VERTEX_TOKEN = "reliability-token"
EXPRESS_KEY = "AQ.reliability-express-key"
BEARER = ("Authorization", f"Bearer {VERTEX_TOKEN}")


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname == "127.0.0.1", url
    return parts.hostname, parts.port or 80


# --- the headline figures ---


class Figures:
    """Counters (summed across workers) and measurements (the last one taken wins)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.values: dict[str, float] = {}

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] += n

    def set(self, name: str, value: float) -> None:
        self.values[name] = value

    def dump(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "values": dict(self.values)}

    def merge(self, data: dict[str, Any]) -> None:
        self.counts.update(data.get("counts", {}))
        self.values.update(data.get("values", {}))

    def vertex(self, name: str) -> str:
        """`` (M Vertex AI)`` for a count whose Vertex AI share is kept as ``name.vertex``."""
        return f" ({self.counts[name + '.vertex']} Vertex AI)"

    def headline(self) -> str | None:
        c, v = self.counts, self.values
        if not c and not v:
            return None
        parts = []
        if c["bad.tried"]:
            parts.append(
                f"bad inputs tried: {c['bad.tried']}{self.vertex('bad.tried')}, envelopes: {c['bad.envelopes']}, "
                f"accepted as valid: {c['bad.accepted']}, protocol rejections by aiohttp (4xx): {c['bad.protocol']}, "
                f"crashes: {c['crashes']}, tracebacks logged: {c['tracebacks']} "
                f"(+{c['bad.protocol_log_noise']} aiohttp protocol-rejection log records, pinned)"
            )
        if c["faults.survived"]:
            parts.append(f"faults survived: {c['faults.survived']}{self.vertex('faults.survived')}")
        if "load.sessions" in v:
            parts.append(
                f"load: {v['load.sessions']:.0f} sessions ({v.get('load.sessions.vertex', 0):.0f} Vertex AI) x "
                f"{v['load.turns']:.0f} turns, errors {c['load.errors']}, cross-talk {c['load.cross_talk']}, "
                f"{v['load.turns_per_second']:.0f} turns/s ({v['load.chunks_per_second']:.0f} chunks/s)"
            )
        if "soak.seconds" in v:
            parts.append(
                f"soak: {v['soak.seconds']:.0f} s, {c['soak.requests']} requests{self.vertex('soak.requests')}, "
                f"rss {v['soak.rss_mib']:+.1f} MiB, fds {v['soak.fds']:+.0f}, tasks {v['soak.tasks']:+.0f}"
            )
        if "secrets.canaries" in v:
            parts.append(
                f"secrets leaked: {c['secrets.leaked']} ({v['secrets.canaries']:.0f} canaries, "
                f"{v.get('secrets.canaries.vertex', 0):.0f} of them Vertex AI's, {c['secrets.checks']} places "
                f"searched after {c['secrets.requests']} requests{self.vertex('secrets.requests')})"
            )
        if c["cassette.kill_cycles"] or c["cassette.disk_full"]:
            parts.append(
                f"cassette writes: {c['cassette.kill_cycles']} kills mid-write and {c['cassette.disk_full']} "
                f"full-disk writes, torn or lost: {c['cassette.torn']}"
                + (
                    f"; append {v['cassette.append_ms_1mb']:.2f} ms at 1 MB, {v['cassette.append_ms_25mb']:.2f} ms "
                    "at 25 MB"
                    if "cassette.append_ms_25mb" in v
                    else ""
                )
            )
        if c["attack.inputs"]:
            parts.append(
                f"attacks: {c['attack.inputs']} hostile inputs{self.vertex('attack.inputs')}, loop lag max "
                f"{v.get('attack.max_gap_ms', 0):.0f} ms (goal < 250), peak RSS {v.get('attack.peak_rss_mib', 0):.0f} "
                "MiB (goal < 300)"
            )
        if c["hostile.inputs"]:
            parts.append(
                f"generated hostile inputs: {c['hostile.inputs']}{self.vertex('hostile.inputs')}, loop lag max "
                f"{v.get('hostile.max_gap_ms', 0):.0f} ms"
            )
        if not c["bad.tried"] and (c["crashes"] or c["tracebacks"]):
            parts.append(f"crashes: {c['crashes']}, tracebacks logged: {c['tracebacks']}")
        vertex = sum(n for name, n in c.items() if name.endswith(".vertex"))
        if vertex:
            parts.append(f"Vertex AI answers in the Developer API's flavour: {c['vertex.wrong_flavour']}")
        parts.append(f"known emulator bugs (strict xfail): {c['known_bugs']}")
        return "reliability: " + "; ".join(parts)


# --- raw HTTP -------------------------------------------------------------------------------------


@dataclass
class Answer:
    """One HTTP response as read off the socket (status 0: the connection closed without one)."""

    status: int = 0
    reason: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    closed: bool = False
    """the server closed the connection after this response"""
    corrupt: str = ""
    """what was wrong with the framing, when it was broken (a chunk size that is not one, ...)"""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.buffer, self.eof = sock, b"", False

    def _fill(self) -> bool:
        if self.eof:
            return False
        try:
            data = self.sock.recv(1 << 16)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            self.eof = True
            return False
        self.buffer += data
        return True

    def line(self) -> bytes | None:
        while b"\r\n" not in self.buffer:
            if not self._fill():
                return None
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def exactly(self, n: int) -> bytes | None:
        while len(self.buffer) < n:
            if not self._fill():
                return None
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def rest(self) -> bytes:
        while self._fill():
            pass
        data, self.buffer = self.buffer, b""
        return data

    def at_eof(self, wait: float) -> bool:
        """Whether the peer closed (within ``wait`` seconds) with nothing more to read."""
        if self.buffer:
            return False
        old = self.sock.gettimeout()
        self.sock.settimeout(wait)
        try:
            return not self._fill()
        except TimeoutError:
            return False
        finally:
            self.sock.settimeout(old)


def _head(reader: _Reader) -> tuple[str, Answer] | None:
    status_line = reader.line()
    if not status_line:
        return None
    version, _, rest = status_line.decode("latin-1").partition(" ")
    code, _, reason = rest.partition(" ")
    answer = Answer(status=int(code) if code.lstrip("-").isdigit() else -1, reason=reason)
    while (line := reader.line()) not in (None, b""):
        name, _, value = line.decode("latin-1").partition(":")
        answer.headers[name.strip().lower()] = value.strip()
    return version, answer


def read_answer(reader: _Reader, head_only: bool = False) -> Answer:
    """The next final response; interim ``100 Continue`` answers are skipped."""
    while True:
        got = _head(reader)
        if got is None:
            return Answer(closed=True)
        version, answer = got
        if answer.status not in (100, 102, 103):
            break
    if head_only or answer.status in (204, 304) or 100 <= answer.status < 200:
        return answer
    if answer.headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while (size_line := reader.line()) is not None:
            try:
                size = int(size_line.split(b";")[0] or b"0", 16)
            except ValueError:
                answer.corrupt = f"bad chunk size line {size_line[:80]!r}"
                chunks.append(size_line + b"\r\n" + reader.rest())
                answer.closed = True
                break
            if size == 0:
                while reader.line() not in (None, b""):
                    pass
                break
            chunks.append(reader.exactly(size) or b"")
            reader.line()
        answer.body = b"".join(chunks)
    elif "content-length" in answer.headers:
        answer.body = reader.exactly(int(answer.headers["content-length"])) or b""
    else:
        answer.body, answer.closed = reader.rest(), True
    if answer.headers.get("connection", "").lower() == "close" or version == "HTTP/1.0":
        answer.closed = answer.closed or reader.at_eof(2.0)
    return answer


def exchange(
    url: str,
    data: bytes,
    *,
    answers: int = 1,
    timeout: float = 10.0,
    half_close: bool = False,
    head: bool = False,
    then: int = 0,
    then_wait: float = 0.3,
) -> list[Answer]:
    """Sends raw bytes on a fresh connection and reads up to ``answers`` responses, then up to ``then``
    more that may never come (each given ``then_wait`` seconds: the server may be waiting for bytes)."""
    sock = socket.create_connection(host_port(url), timeout=timeout)
    try:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        if half_close:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
        reader = _Reader(sock)
        got: list[Answer] = []
        for n in range(answers + then):
            if n == answers:
                sock.settimeout(then_wait)
            try:
                answer = read_answer(reader, head_only=head)
            except TimeoutError:
                if n < answers:
                    raise
                break
            got.append(answer)
            if answer.status == 0 or answer.closed:
                break
        return got
    finally:
        sock.close()


def http_request(
    method: str,
    target: str,
    body: bytes = b"",
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    *,
    key: str | None = "reliability-key",
    content_length: bool = True,
) -> bytes:
    """The bytes of one HTTP/1.1 request; header values are latin-1 so any byte can be sent."""
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1"]
    if key is not None:
        lines.append(f"x-goog-api-key: {key}")
    items = headers.items() if isinstance(headers, dict) else (headers or [])
    lines += [f"{name}: {value}" for name, value in items]
    if content_length and (body or method in ("POST", "PUT")):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "surrogateescape") + body


def call(url: str, method: str, target: str, body: Any = b"", headers: Any = None, **kw: Any) -> Answer:
    """One request on a fresh connection (a dict body is sent as JSON)."""
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    timeout = kw.pop("timeout", 10.0)
    return exchange(url, http_request(method, target, data, headers, **kw), timeout=timeout, head=method == "HEAD")[0]


def error_of(answer: Answer) -> dict[str, Any] | None:
    """The ``error`` object when the body is a Google error envelope (or a one-element array of one)."""
    try:
        body = json.loads(answer.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body["error"], dict):
        return None
    error = body["error"]
    if not {"code", "message", "status"} <= set(error):
        return None
    if not (isinstance(error["code"], int) and isinstance(error["message"], str) and isinstance(error["status"], str)):
        return None
    return error


def serving(url: str, key: str = "still-serving") -> bool:
    """A valid request gets a 200 with candidates: the server is still answering properly."""
    answer = call(url, "POST", GENERATE, VALID_BODY, key=key)
    return answer.status == 200 and b'"candidates"' in answer.body


def control(
    url: str, method: str, name: str, key: str | None, body: Any = None, query: str = "", token: str | None = None
) -> Any:
    """A control-plane call for the context of ``key`` (an API key) or of ``token`` (a Vertex AI bearer token)."""
    data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["x-goog-api-key"] = key
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"{url}/_emulator/{name}{query}", data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


# --- Vertex AI ------------------------------------------------------------------------------------

_ROUTE = re.compile(r"^(?:/[^/]*)*?/(?:v1|v1beta|v1alpha|v1beta1)/(?P<rest>.+?)/?$")


def is_vertex(target: str | bytes) -> bool:
    """Whether a path (or a raw request, or a "METHOD target ..." description) names a Vertex AI route, the
    way the server tells: the first version segment followed by ``projects/`` or ``publishers/``."""
    if isinstance(target, bytes):
        target = target.split(b"\r\n", 1)[0].decode("latin-1")
    line = target.split("\n", 1)[0].strip()
    words = line.split(" ")
    path = next((w for w in words if w.startswith("/")), line)
    found = _ROUTE.match(unquote(path.split("?", 1)[0].split("#", 1)[0]))
    return found is not None and found["rest"].startswith(("projects/", "publishers/"))


def is_express(path: str) -> bool:
    return is_vertex(path) and "/projects/" not in unquote(path.split("?", 1)[0])


def vertex_path(path: str, express: bool = False) -> str:
    """The Vertex AI route of a Developer API path (``/v1beta/models/m:op`` -> project or express path)."""
    assert path.startswith("/v1beta/models"), path
    return path.replace("/v1beta/models", EXPRESS_MODELS if express else VERTEX_MODELS, 1)


def credentials_for(path: str, key: str | None = "reliability-key") -> tuple[list[tuple[str, str]], str | None]:
    """What a well-behaved client sends to ``path``: a bearer token on a Vertex AI project path, an ``AQ.``
    key in express mode, ``key`` on the Developer API. (headers, key for :func:`http_request`)."""
    if not is_vertex(path):
        return [], key
    if is_express(path):
        return [], EXPRESS_KEY
    return [BEARER], None


def as_caller(path: str, name: str) -> tuple[list[tuple[str, str]], str | None]:
    """The credentials of a caller named ``name`` (its own context) on ``path``: its API key on the Developer
    API, its bearer token on a Vertex AI project path, its express key (``AQ.name``) in express mode."""
    if not is_vertex(path):
        return [], name
    if is_express(path):
        return [], name if name.startswith("AQ.") else f"AQ.{name}"
    return [("Authorization", f"Bearer {name}")], None


def control_as(url: str, path: str, method: str, endpoint: str, name: str, body: Any = None, query: str = "") -> Any:
    """A control-plane call for the context that the caller ``name`` of ``path`` has (see :func:`as_caller`)."""
    headers, key = as_caller(path, name)
    token = headers[0][1].removeprefix("Bearer ") if headers else None
    return control(url, method, endpoint, key, body, query, token=token)


DEVELOPER_MARKS = (
    "generativelanguage.googleapis.com",
    "ai.google.dev",
    "developers.generativeai.google",
    "google.rpc.QuotaFailure",
    "unregistered callers",
    "is not found for API version",
)
"""Texts only the Developer API's errors carry: none may reach a Vertex AI caller."""


def developer_marks(answer: Answer) -> list[str]:
    """The Developer API's traits in an answer to a Vertex AI call (empty: Vertex's flavour, or no error)."""
    text = answer.body.decode("utf-8", "replace")
    found = [mark for mark in DEVELOPER_MARKS if mark in text]
    if answer.status == 401 and "www-authenticate" not in answer.headers:
        found.append("a 401 without Www-Authenticate")
    return found


def vertex_body_problems(body: Any) -> list[str]:
    """What makes a generate body (or stream chunk) not Vertex AI's: no ``createTime``, an ``index`` on a
    candidate, a ``serviceTier``."""
    if not isinstance(body, dict) or "error" in body:
        return []
    found = []
    if "createTime" not in body:
        found.append("no createTime")
    if any(isinstance(c, dict) and "index" in c for c in body.get("candidates", ())):
        found.append("a candidate index")
    if "serviceTier" in (body.get("usageMetadata") or {}):
        found.append("serviceTier")
    return found


def vertex_serving(url: str, express: bool = False) -> bool:
    """A valid Vertex AI call gets a 200 with candidates in Vertex's framing."""
    path = EXPRESS_GENERATE if express else VERTEX_GENERATE
    headers, key = credentials_for(path)
    answer = call(url, "POST", path, VALID_BODY, headers, key=key)
    return answer.status == 200 and b'"candidates"' in answer.body and b'"createTime"' in answer.body


# --- the event loop's lag -------------------------------------------------------------------------


_PROBE_LOOP = """
import http.client, sys, threading, time
host, port = sys.argv[1], int(sys.argv[2])
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
conn = http.client.HTTPConnection(host, port, timeout=30)
last, worst, failures, answers = time.monotonic(), 0.0, 0, 0
while not stop.is_set():
    started = time.monotonic()
    try:
        conn.request("GET", "/_emulator/health", headers={"x-goog-api-key": "lag-probe"})
        conn.getresponse().read()
    except (OSError, http.client.HTTPException):
        failures += 1
        conn.close()
        conn = http.client.HTTPConnection(host, port, timeout=30)
        continue
    now = time.monotonic()
    worst, last, answers = max(worst, now - last), now, answers + 1
    stop.wait(max(0.0, 0.05 - (now - started)))
print(worst, failures, answers, flush=True)
"""


class LagProbe:
    """Asks for health every 50 ms on a keep-alive connection of its own, from a process of its own (so
    that the test's own work, holding this process's GIL, never shows as the server's lag), and keeps
    the largest gap between answers."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.worst_ms = 0.0
        self.failures = 0
        self.answers = 0
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> LagProbe:
        host, port = host_port(self.url)
        self._process = subprocess.Popen(
            [sys.executable, "-c", _PROBE_LOOP, host, str(port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(0.2)  # its first answers, so that the attack is measured from the start
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._process is not None
        out, _ = self._process.communicate("", timeout=60)
        worst, failures, answers = out.split()
        self.worst_ms, self.failures, self.answers = 1000 * float(worst), int(failures), int(answers)


# --- logs -----------------------------------------------------------------------------------------


def _is_protocol_rejection(record: logging.LogRecord) -> bool:
    """aiohttp's own log line for a request its parser refused (a 4xx sent before any handler ran)."""
    from aiohttp.http_exceptions import HttpProcessingError

    exc = record.exc_info[1] if record.exc_info else None
    return (
        record.name == "aiohttp.server"
        and record.msg == "Error handling request from %s"
        and isinstance(exc, HttpProcessingError)
        and 400 <= (exc.code or 0) < 500
    )


class LogWatch(logging.Handler):
    """Keeps every record of the ``emulator`` and ``aiohttp`` loggers while installed."""

    LOGGERS = ("emulator", "aiohttp")

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._lock2 = threading.Lock()
        self._levels: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock2:
            self.records.append(record)

    def install(self) -> LogWatch:
        for name in self.LOGGERS:
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            logger.setLevel(logging.DEBUG)
            logger.addHandler(self)
        return self

    def remove(self) -> None:
        for name in self.LOGGERS:
            logger = logging.getLogger(name)
            logger.removeHandler(self)
            logger.setLevel(self._levels.get(name, logging.NOTSET))

    def mark(self) -> int:
        with self._lock2:
            return len(self.records)

    def since(self, mark: int = 0) -> list[logging.LogRecord]:
        with self._lock2:
            return self.records[mark:]

    def tracebacks(self, mark: int = 0) -> list[logging.LogRecord]:
        """ERROR records carrying an exception, aiohttp's protocol rejections left out (see protocol_noise)."""
        return [
            r for r in self.since(mark) if r.levelno >= logging.ERROR and r.exc_info and not _is_protocol_rejection(r)
        ]

    def errors(self, mark: int = 0) -> list[logging.LogRecord]:
        return [r for r in self.since(mark) if r.levelno >= logging.ERROR and not _is_protocol_rejection(r)]

    def protocol_noise(self, mark: int = 0) -> list[logging.LogRecord]:
        return [r for r in self.since(mark) if _is_protocol_rejection(r)]

    def text(self, mark: int = 0) -> str:
        """Every record as a formatter would print it, tracebacks included."""
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        return "\n".join(formatter.format(r) for r in self.since(mark))


def describe(records: list[logging.LogRecord]) -> str:
    """The first records, printable anywhere (lone surrogates escaped, so that xdist can ship the report)."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    text = "\n".join(formatter.format(r) for r in records[:3])
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@contextlib.contextmanager
def unpropagated(*names: str) -> Iterator[None]:
    """Keeps these loggers' records from pytest's own capture (a LogWatch on them still sees them): for
    records holding lone surrogates, which a pytest-xdist worker cannot send to its controller."""
    loggers = [logging.getLogger(name) for name in names]
    before = [logger.propagate for logger in loggers]
    for logger in loggers:
        logger.propagate = False
    try:
        yield
    finally:
        for logger, value in zip(loggers, before, strict=True):
            logger.propagate = value


# --- a server in a subprocess ---------------------------------------------------------------------

_PROBE = """
import asyncio, runpy, signal, sys

def _probe(*_):
    try:
        tasks = len(asyncio.all_tasks())
    except RuntimeError:
        tasks = -1
    print(f"reliability-probe tasks={tasks}", file=sys.stderr, flush=True)

signal.signal(signal.SIGUSR1, _probe)
runpy.run_module("emulator", run_name="__main__", alter_sys=True)
"""


class ServerProcess:
    """``python -m emulator serve --port 0 ...`` in a subprocess, plus a SIGUSR1 probe that prints the
    number of asyncio tasks (the only instrumentation). Only this process is ever signalled."""

    def __init__(self, *args: str, cwd: str | None = None, env: dict[str, str] | None = None) -> None:
        command = [sys.executable, "-c", _PROBE, "serve", "--port", "0", *args]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env={**os.environ, **(env or {})}
        )
        self.stdout: list[bytes] = []
        self.stderr: list[bytes] = []
        self._probes: list[int] = []
        self._seen = threading.Condition()
        self._readers = [
            threading.Thread(target=self._pump, args=(self.process.stdout, self.stdout), daemon=True),
            threading.Thread(target=self._pump, args=(self.process.stderr, self.stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self.url = self._wait_for_url()

    def _pump(self, stream: Any, sink: list[bytes]) -> None:
        for line in iter(stream.readline, b""):
            with self._seen:
                sink.append(line)
                if line.startswith(b"reliability-probe tasks="):
                    self._probes.append(int(line.split(b"=", 1)[1]))
                self._seen.notify_all()

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + 30
        with self._seen:
            while time.monotonic() < deadline:
                for line in self.stdout:
                    if line.startswith(b"export GOOGLE_GEMINI_BASE_URL="):
                        return line.decode().strip().split("=", 1)[1]
                if self.process.poll() is not None:
                    break
                self._seen.wait(0.1)
        self.stop()
        raise RuntimeError(f"the emulator did not start: {b''.join(self.stderr).decode(errors='replace')}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_kib(self) -> int:
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def tasks(self) -> int:
        with self._seen:
            before = len(self._probes)
            os.kill(self.pid, signal.SIGUSR1)
            deadline = time.monotonic() + 10
            while len(self._probes) == before and time.monotonic() < deadline:
                self._seen.wait(0.1)
            if len(self._probes) == before:
                raise RuntimeError("the task probe did not answer")
            return self._probes[-1]

    def output(self) -> bytes:
        with self._seen:
            return b"".join(self.stdout) + b"".join(self.stderr)

    def stop(self, timeout: float = 15) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=5)
        return self.process.returncode


@contextlib.contextmanager
def server_process(*args: str, cwd: str | None = None, env: dict[str, str] | None = None) -> Iterator[ServerProcess]:
    server = ServerProcess(*args, cwd=cwd, env=env)
    try:
        yield server
    finally:
        server.stop()


# --- canaries -------------------------------------------------------------------------------------

_KEY_ALPHABET = string.ascii_letters + string.digits + "-_"


def canary(seed: str) -> str:
    """A key shaped like a real Google API key ("AIza" + 35 characters), reproducible from ``seed``."""
    rng = random.Random(f"canary:{seed}")
    return "AIza" + "".join(rng.choice(_KEY_ALPHABET) for _ in range(35))


def files_under(root: str) -> list[str]:
    found = []
    for folder, _, names in os.walk(root):
        found += [os.path.join(folder, name) for name in names]
    return sorted(found)
