"""Canary API keys, shaped like real ones ("AIza" + 35 characters), sent every way a key travels
(``x-goog-api-key``, ``?key=``, a bearer header) on normal calls, errors, faults and control-plane
calls: none ever comes back in a response (body or header), a log record, the subprocess's
output, the journal, or any file under the server's working directory.

On Vertex AI's routes the canaries are a bearer token (``ya29.``-shaped, on project paths, also refused
by ``--access-token``), an express key (``AQ.``-shaped, by header and by ``?key=``) and the project a
caller bills (``x-goog-user-project``); the same places are searched, Vertex AI's journals with them.
(What a recording proxy writes of them is tests/server/test_vertex_recording.py's business.)

Canaries sent *in request bodies* are content, not credentials: the default model quotes the last
user message and the journal keeps the canonical request, by design, for the caller's own context.
Those are checked against everything else (logs, output, files, headers, other contexts' journals,
and the responses to bodies that were rejected, which must name the field and not the value).
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from reliability_support import (
    EXPRESS_MODELS,
    GENERATE,
    MODEL,
    SSE,
    STREAM,
    VALID_BODY,
    VERTEX_MODELS,
    Answer,
    Figures,
    LogWatch,
    ServerProcess,
    call,
    canary,
    files_under,
)

from emulator import EmulatorThread, FunctionBackend, ModelContext, ModelRequest
from emulator.cassette import load
from emulator.wire.errors import ApiError

HEADER_KEY = canary("x-goog-api-key")
QUERY_KEY = canary("query-key")
BEARER = canary("bearer")
CREDENTIALS = {"header": HEADER_KEY, "query": QUERY_KEY, "bearer": BEARER}
BODY_CANARY = canary("request-body")
EXPECTED_KEY = canary("the-one-key-the-server-accepts")
VERTEX_BEARER = "ya29." + canary("vertex-bearer")[4:]
EXPRESS_CANARY = "AQ." + canary("vertex-express-key")[4:]
USER_PROJECT = "billed-" + canary("user-project")[4:24].lower().replace("_", "-")
VERTEX_CREDENTIALS = {"vertex bearer": VERTEX_BEARER, "express key": EXPRESS_CANARY, "user project": USER_PROJECT}
CREDENTIALS.update(VERTEX_CREDENTIALS)
EXPECTED_TOKEN = "ya29." + canary("the-one-token-the-server-accepts")[4:]


def traces(secret: str) -> list[str]:
    """What a leak of ``secret`` looks like: itself, or a good part of it (a truncated echo)."""
    return [secret, secret[4:20], secret[-16:]]


def leaked(text: str | bytes, secrets: dict[str, str]) -> list[str]:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return [name for name, secret in secrets.items() if any(t in text for t in traces(secret))]


@dataclass
class Seen:
    """Everything a server sent back, to be searched."""

    answers: list[tuple[str, Answer]] = field(default_factory=list)

    def add(self, what: str, answer: Answer) -> Answer:
        self.answers.append((what, answer))
        return answer


def fault_header(fault: dict[str, Any]) -> tuple[str, str]:
    return ("x-emulator-fault", json.dumps(fault))


def credential_traffic(url: str, seen: Seen) -> None:
    """Every kind of call, each with a canary credential (by header, by query, as a bearer token)."""
    story = {"contents": [{"parts": [{"text": "a story"}]}]}
    ways: list[tuple[str, str, list[tuple[str, str]]]] = [
        ("header", "", []),
        ("query", f"?key={QUERY_KEY}", []),
        ("bearer", "", [("Authorization", f"Bearer {BEARER}")]),
    ]
    for how, query, extra in ways:
        key = HEADER_KEY if how == "header" else ("k-bearer" if how == "bearer" else None)
        amp = "&" if query else "?"
        calls: list[tuple[str, str, Any, list[tuple[str, str]]]] = [
            ("POST", GENERATE + query, VALID_BODY, []),
            ("POST", SSE.replace("?alt=sse", query + amp + "alt=sse" if query else "?alt=sse"), story, []),
            ("POST", STREAM + query, story, []),
            ("POST", f"/v1beta/models/{MODEL}:countTokens{query}", VALID_BODY, []),
            (
                "POST",
                f"/v1beta/models/gemini-embedding-001:embedContent{query}",
                {"content": {"parts": [{"text": "x"}]}},
                [],
            ),
            ("GET", f"/v1beta/models{query}", b"", []),
            ("GET", f"/v1beta/models/{MODEL}{query}", b"", []),
            # errors
            ("POST", f"/v1beta/models/nope:generateContent{query}", VALID_BODY, []),
            ("POST", GENERATE + query, b'{"contents": [', []),
            ("POST", GENERATE + query, {"contents": []}, []),
            ("POST", GENERATE + query, {**VALID_BODY, "nope": 1}, []),
            ("GET", GENERATE + query, b"", []),
            ("POST", f"/v1beta/models/{MODEL}:explode{query}", VALID_BODY, []),
            # faults
            ("POST", GENERATE + query, VALID_BODY, [fault_header({"kind": "error", "code": 503})]),
            (
                "POST",
                GENERATE + query,
                VALID_BODY,
                [fault_header({"kind": "error", "code": 429, "retry_after_header": True})],
            ),
            (
                "POST",
                SSE + (amp[0] + query[1:] if query else ""),
                story,
                [fault_header({"kind": "midstream", "after_chunks": 1})],
            ),
            ("POST", SSE, story, [fault_header({"kind": "garbage", "after_chunks": 1})]),
            ("POST", GENERATE + query, VALID_BODY, [fault_header({"kind": "reset"})]),
            ("POST", GENERATE + query, VALID_BODY, [fault_header({"kind": "block"})]),
            ("POST", GENERATE + query, VALID_BODY, [fault_header({"kind": "nope"})]),
            ("POST", GENERATE + query, VALID_BODY, [("x-emulator-fault", "{not json")]),
            # control plane
            ("GET", f"/_emulator/health{query}", b"", []),
            ("PUT", f"/_emulator/faults{query}", [{"kind": "error", "code": 500, "times": 1}], []),
            ("GET", f"/_emulator/faults{query}", b"", []),
            ("POST", GENERATE + query, VALID_BODY, []),
            ("DELETE", f"/_emulator/faults{query}", b"", []),
            (
                "PUT",
                f"/_emulator/scenario{query}",
                b'{"name": "s", "rules": [{"reply": "R {{ request }} {{ model }}", "times": "unlimited"}]}',
                [],
            ),
            ("GET", f"/_emulator/scenario{query}", b"", []),
            ("POST", GENERATE + query, VALID_BODY, []),
            ("PUT", f"/_emulator/scenario{query}", b"rules: [", []),
            ("DELETE", f"/_emulator/scenario{query}", b"", []),
            ("GET", f"/_emulator/requests{query}", b"", []),
            ("GET", f"/_emulator/requests{query}{amp}limit=x", b"", []),
            ("GET", f"/_emulator/nope{query}", b"", []),
            ("PUT", f"/_emulator/cassette{query}", {"name": "x.yaml"}, []),
            ("POST", f"/_emulator/reset{query}", b"", []),
        ]
        for method, target, body, headers in calls:
            what = f"{how}: {method} {target[:60]} {headers[:1]}"
            seen.add(what, call(url, method, target, body, [*extra, *headers], key=key))


def vertex_credential_traffic(url: str, seen: Seen) -> None:
    """Every kind of Vertex AI call, with a canary bearer token on project paths and a canary express key
    (by header and by ``?key=``) on express paths, each billing a canary user project."""
    story = {"contents": [{"parts": [{"text": "a story"}]}]}
    billed = ("x-goog-user-project", USER_PROJECT)
    ways: list[tuple[str, str, str, list[tuple[str, str]], str | None]] = [
        ("project bearer", VERTEX_MODELS, "", [("Authorization", f"Bearer {VERTEX_BEARER}"), billed], None),
        ("express header", EXPRESS_MODELS, "", [billed], EXPRESS_CANARY),
        ("express query", EXPRESS_MODELS, f"?key={EXPRESS_CANARY}", [billed], None),
    ]
    for how, base, query, extra, key in ways:
        amp = "&" if query else "?"
        calls: list[tuple[str, str, Any, list[tuple[str, str]]]] = [
            ("POST", f"{base}/{MODEL}:generateContent{query}", VALID_BODY, []),
            ("POST", f"{base}/{MODEL}:streamGenerateContent{query}{amp}alt=sse", story, []),
            ("POST", f"{base}/{MODEL}:streamGenerateContent{query}", story, []),
            ("POST", f"{base}/{MODEL}:countTokens{query}", VALID_BODY, []),
            ("POST", f"{base}/{MODEL}:computeTokens{query}", VALID_BODY, []),
            ("POST", f"{base}/gemini-embedding-001:embedContent{query}", {"content": {"parts": [{"text": "x"}]}}, []),
            ("POST", f"{base}/text-embedding-004:predict{query}", {"instances": [{"content": "x"}]}, []),
            ("GET", f"{base}{query}", b"", []),
            ("GET", f"{base}/{MODEL}{query}", b"", []),
            ("GET", f"/v1beta1/projects/p/locations/l/models{query}", b"", []),
            # errors
            ("POST", f"{base}/nope:generateContent{query}", VALID_BODY, []),
            ("POST", f"{base}/{MODEL}:generateContent{query}", b'{"contents": [', []),
            ("POST", f"{base}/{MODEL}:generateContent{query}", {**VALID_BODY, "nope": 1}, []),
            ("POST", f"{base}/text-embedding-004:predict{query}", {"instances": 3}, []),
            ("GET", f"{base}/{MODEL}:generateContent{query}", b"", []),
            ("POST", f"{base}/{MODEL}:explode{query}", VALID_BODY, []),
            # faults
            (
                "POST",
                f"{base}/{MODEL}:generateContent{query}",
                VALID_BODY,
                [fault_header({"kind": "error", "code": 500})],
            ),
            (
                "POST",
                f"{base}/{MODEL}:generateContent{query}",
                VALID_BODY,
                [fault_header({"kind": "error", "code": 429, "retry_after_header": True})],
            ),
            (
                "POST",
                f"{base}/{MODEL}:streamGenerateContent{query}{amp}alt=sse",
                story,
                [fault_header({"kind": "midstream", "after_chunks": 1})],
            ),
            (
                "POST",
                f"{base}/{MODEL}:streamGenerateContent{query}",
                story,
                [fault_header({"kind": "midstream", "after_chunks": 1, "code": 429})],
            ),
            ("POST", f"{base}/{MODEL}:generateContent{query}", VALID_BODY, [fault_header({"kind": "block"})]),
            ("POST", f"{base}/{MODEL}:generateContent{query}", VALID_BODY, [("x-emulator-fault", "{not json")]),
            # control plane, as the same caller
            ("GET", f"/_emulator/health{query}", b"", []),
            ("PUT", f"/_emulator/faults{query}", [{"kind": "error", "code": 503, "times": 1}], []),
            ("GET", f"/_emulator/faults{query}", b"", []),
            ("POST", f"{base}/{MODEL}:generateContent{query}", VALID_BODY, []),
            (
                "PUT",
                f"/_emulator/scenario{query}",
                b'{"name": "s", "rules": [{"reply": "R {{ request }} {{ model }}", "times": "unlimited"}]}',
                [],
            ),
            ("POST", f"{base}/{MODEL}:generateContent{query}", VALID_BODY, []),
            ("GET", f"/_emulator/scenario{query}", b"", []),
            ("DELETE", f"/_emulator/scenario{query}", b"", []),
            ("GET", f"/_emulator/requests{query}", b"", []),
            ("GET", f"/_emulator/cassette{query}", b"", []),
        ]
        for method, target, body, headers in calls:
            what = f"vertex {how}: {method} {target[:80]} {headers[:1]}"
            seen.add(what, call(url, method, target, body, [*extra, *headers], key=key))
    refused = [  # the canaries where they do not belong: each refused, none echoed
        ("POST", f"{VERTEX_MODELS}/{MODEL}:generateContent", [("x-goog-api-key", EXPRESS_CANARY[:3] + "x")]),
        ("POST", f"{EXPRESS_MODELS}/{MODEL}:generateContent", [("x-goog-api-key", VERTEX_BEARER)]),
        ("POST", f"{EXPRESS_MODELS}/{MODEL}:generateContent?key={VERTEX_BEARER}", [billed]),
        ("POST", f"{VERTEX_MODELS}/{MODEL}:generateContent", [("Authorization", f"Basic {VERTEX_BEARER}"), billed]),
    ]  # (a canary with a byte that is not UTF-8 breaks the access log: pinned in test_bad_input.py)
    for method, target, headers in refused:
        seen.add(
            f"vertex refused: {target[:60]} {headers[:1]}", call(url, method, target, VALID_BODY, headers, key=None)
        )


def body_canary_traffic(url: str, seen: Seen) -> None:
    """The canary as content: in a rejected unknown field, in a bad value, and in a valid user message."""
    key = "body-canary-caller"
    rejected = [
        {**VALID_BODY, "apiKey": BODY_CANARY},
        {**VALID_BODY, "generationConfig": {"apiKey": BODY_CANARY}},
        {"contents": [{"parts": [{"text": "x", "key": BODY_CANARY}]}]},
    ]
    for body in rejected:
        seen.add("rejected body", call(url, "POST", GENERATE, body, key=key))
    seen.add(
        "echoed", call(url, "POST", GENERATE, {"contents": [{"parts": [{"text": f"key {BODY_CANARY}"}]}]}, key=key)
    )
    seen.add("echoed", call(url, "POST", SSE, {"contents": [{"parts": [{"text": f"key {BODY_CANARY}"}]}]}, key=key))


def journals(url: str, token: str | None = None) -> dict[str, str]:
    """Every context's journal (and health) the traffic above touched, as JSON text; ``token`` opens a
    control plane that the server's ``--api-key`` protects (a canary key alone is refused there)."""
    opened = [("x-emulator-token", token)] if token else []
    found = {}
    bearer = [("Authorization", f"Bearer {VERTEX_BEARER}")]
    for how, key, query, more in [
        ("header", HEADER_KEY, "", []),
        ("query", None, f"?key={QUERY_KEY}", []),
        ("bearer", "k-bearer", "", []),
        ("default", None, "", []),
        ("body", "body-canary-caller", "", []),
        ("vertex bearer", None, "", bearer),
        ("express header", EXPRESS_CANARY, "", []),
        ("express query", None, f"?key={EXPRESS_CANARY}", []),
    ]:
        for name in ("requests", "health", "faults", "scenario"):
            answer = call(url, "GET", f"/_emulator/{name}{query}", headers=[*opened, *more], key=key)
            assert answer.status == 200, (name, answer.body[:200])
            found[f"{how} {name}"] = answer.body.decode()
    return found


def check_answers(seen: Seen, figures: Figures) -> None:
    for what, answer in seen.answers:
        headers = "\n".join(f"{k}: {v}" for k, v in answer.headers.items())
        figures.add("secrets.checks", 2)
        assert not leaked(headers, {**CREDENTIALS, "body": BODY_CANARY}), f"in the headers of {what}"
        allowed_body = what == "echoed"
        secrets = CREDENTIALS if allowed_body else {**CREDENTIALS, "body": BODY_CANARY}
        found = leaked(answer.body, secrets)
        if found:
            figures.add("secrets.leaked", len(found))
        assert not found, f"{found} in the body of {what}: {answer.body[:300]!r}"


def check_text(where: str, text: str | bytes, figures: Figures, allow_body: bool = False) -> None:
    secrets = CREDENTIALS if allow_body else {**CREDENTIALS, "body": BODY_CANARY}
    figures.add("secrets.checks")
    found = leaked(text, secrets)
    if found:
        figures.add("secrets.leaked", len(found))
    assert not found, f"{found} in {where}"


def check_files(root: Path, figures: Figures) -> None:
    for path in files_under(str(root)):
        if f"{os.sep}.hypothesis{os.sep}" in path:
            continue
        check_text(f"the file {path}", Path(path).read_bytes(), figures)


@pytest.fixture(scope="module", autouse=True)
def counted(figures: Figures) -> None:
    figures.set("secrets.canaries", len(CREDENTIALS) + 1)
    figures.set("secrets.canaries.vertex", len(VERTEX_CREDENTIALS))


def count_requests(seen: Seen, figures: Figures) -> None:
    figures.add("secrets.requests", len(seen.answers))
    figures.add("secrets.requests.vertex", sum(what.startswith("vertex") for what, _ in seen.answers))


def check_vertex_journals(url: str) -> list[dict[str, Any]]:
    """The journal of the canary bearer token's context: the Vertex AI calls it holds (the journals searched
    must hold them), under their flavour."""
    bearer = [("Authorization", f"Bearer {VERTEX_BEARER}")]
    answer = call(url, "GET", "/_emulator/requests", headers=bearer, key=None)
    return json.loads(answer.body)["requests"]


@pytest.fixture
def in_process(tmp_path: Path, figures: Figures) -> Iterator[tuple[EmulatorThread, LogWatch, Path]]:
    previous = os.getcwd()
    os.chdir(tmp_path)
    logs = LogWatch()
    logs.LOGGERS = ("",)  # the root logger: every record of every library
    logs.install()
    try:
        with EmulatorThread() as emu:
            yield emu, logs, tmp_path
    finally:
        logs.remove()
        os.chdir(previous)
        figures.add("tracebacks", len(logs.tracebacks()))


def test_canaries_never_leak_from_an_in_process_server(
    in_process: tuple[EmulatorThread, LogWatch, Path], figures: Figures
) -> None:
    emu, logs, cwd = in_process
    seen = Seen()
    credential_traffic(emu.url, seen)
    vertex_credential_traffic(emu.url, seen)
    body_canary_traffic(emu.url, seen)
    time.sleep(0.2)
    count_requests(seen, figures)
    check_answers(seen, figures)
    vertex_entries = check_vertex_journals(emu.url)
    assert vertex_entries and {e["flavour"] for e in vertex_entries} == {"vertex"}
    for where, text in journals(emu.url).items():
        check_text(f"the journal ({where})", text, figures, allow_body=where.startswith("body requests"))
    for record in logs.since():
        check_text(f"the log record {record.name}: {record.getMessage()[:80]}", logs.format(record), figures)
    check_text("the log text", logs.text(), figures)
    check_files(cwd, figures)
    assert len(seen.answers) > 100


@pytest.mark.parametrize("accept_only", [False, True], ids=["any-key", "with-api-key"])
def test_canaries_never_leak_from_a_served_process(tmp_path: Path, figures: Figures, accept_only: bool) -> None:
    """``serve`` with its access log on (and, once, with --api-key and --access-token, so every canary is a
    bad key or token)."""
    args = ("--api-key", EXPECTED_KEY, "--access-token", EXPECTED_TOKEN) if accept_only else ()
    server = ServerProcess(*args, cwd=str(tmp_path))
    try:
        seen = Seen()
        credential_traffic(server.url, seen)
        vertex_credential_traffic(server.url, seen)
        body_canary_traffic(server.url, seen)
        count_requests(seen, figures)
        if accept_only:
            bad = [a for w, a in seen.answers if w.startswith("header: POST") and a.status == 400]
            assert bad and all(b"API_KEY_INVALID" in a.body for a in bad[:3])
            refused = [(w, a) for w, a in seen.answers if w.startswith("vertex ") and ": POST /v1beta1/" in w]
            wrong = [(w, a.status) for w, a in refused if a.status != 401 and b"Method not found." not in a.body]
            assert refused and not wrong, wrong  # a path that names no method is refused before its caller
        else:
            served = [a for w, a in seen.answers if w.startswith("vertex ") and ":generateContent" in w]
            assert sum(a.status == 200 for a in served) >= 6, [(a.status, a.body[:100]) for a in served]
        check_answers(seen, figures)
        if accept_only:
            assert call(server.url, "GET", "/_emulator/requests", key=HEADER_KEY).status == 403
        for where, text in journals(server.url, EXPECTED_KEY if accept_only else None).items():
            check_text(f"the journal ({where})", text, figures, allow_body=where.startswith("body requests"))
    finally:
        server.stop()
    output = server.output()
    assert b"POST /v1beta/models/" in output, "the access log was off: nothing was searched"
    assert b"POST /v1beta1/publishers/google/models/" in output, "no Vertex AI call in the access log"
    check_text("the server's stdout and stderr", output, figures)
    # ``serve`` prints the key it accepts once, on purpose, as the line to eval; never anywhere else.
    printed = b"".join(server.stdout).decode() + b"".join(server.stderr).decode(errors="replace")
    assert printed.count(EXPECTED_KEY) == (1 if accept_only else 0)
    assert EXPECTED_TOKEN not in printed and EXPECTED_TOKEN[5:21] not in printed
    if accept_only:
        assert f"export GEMINI_API_KEY={EXPECTED_KEY}\n" in b"".join(server.stdout).decode()
    check_files(tmp_path, figures)


def test_canaries_never_reach_a_recorded_cassette(tmp_path: Path, figures: Figures) -> None:
    """``serve --record`` against another emulator: the cassette holds no credential canary."""
    pytest.importorskip("emulator.cassette")
    cassette = tmp_path / "c.yaml"
    with EmulatorThread() as upstream:
        server = ServerProcess("--record", str(cassette), "--upstream", upstream.url, cwd=str(tmp_path))
        try:
            seen = Seen()
            for how, query, key, extra in [
                ("header", "", HEADER_KEY, []),
                ("query", f"?key={QUERY_KEY}", None, []),
                ("bearer", "", "k", [("Authorization", f"Bearer {BEARER}")]),
            ]:
                for path in (GENERATE, SSE, STREAM):
                    target = path + (("&" if "?" in path else "?") + query[1:] if query else "")
                    body = {"contents": [{"parts": [{"text": f"recorded {how} {path[-20:]}"}]}]}
                    answer = seen.add(f"record {how} {path}", call(server.url, "POST", target, body, extra, key=key))
                    assert answer.status == 200, (how, path, answer.body[:300])
            check_answers(seen, figures)
        finally:
            server.stop()
    assert cassette.exists() and cassette.stat().st_size > 0
    check_text("the recorded cassette", cassette.read_bytes(), figures)
    check_text("the recorder's output", server.output(), figures)
    check_files(tmp_path, figures)


def test_a_body_canary_while_recording_a_stream_ends_cleanly(tmp_path: Path) -> None:
    pytest.importorskip("emulator.cassette")
    with EmulatorThread() as upstream:
        server = ServerProcess("--record", str(tmp_path / "c.yaml"), "--upstream", upstream.url, cwd=str(tmp_path))
        try:
            body = {"contents": [{"parts": [{"text": f"my key is {BODY_CANARY}"}]}]}
            try:
                answer = call(server.url, "POST", SSE, body, key="k", timeout=2)
            except TimeoutError:
                pytest.fail("the stream never ended")
        finally:
            server.stop()
    assert not answer.corrupt, answer.corrupt
    assert b"Traceback" not in server.output()


# --- the live key in disguise --------------------------------------------------------------------

DISGUISED = canary("disguised-echo")


def _percent(text: str, every: int = 1) -> str:
    return "".join(f"%{ord(c):02x}" if i % every == 0 else c for i, c in enumerate(text))


def _b64(raw: bytes, urlsafe: bool = False) -> str:
    return (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(raw).decode()


DISGUISES: dict[str, str] = {
    "truncated echo, 22 of 39": DISGUISED[9:31],
    "lower case": DISGUISED.lower(),
    "upper case": DISGUISED.upper(),
    "swapped case, first 30": DISGUISED.swapcase()[:30],
    "percent-encoded, lower-case hex": _percent(DISGUISED),
    "half percent-encoded": _percent(DISGUISED, every=2),
    "lower case, percent-encoded": _percent(DISGUISED.lower(), every=3),
    "base64": _b64(DISGUISED.encode()),
    "url-safe base64 in a longer value": _b64(b"{" + DISGUISED.encode() + b"}", urlsafe=True),
    "base64 in a longer value, shifted by 2": _b64(b"k=" + DISGUISED.encode() + b";"),
    "base64 with %2b and %2f": _b64(b"?" + DISGUISED.encode() + b"??").replace("+", "%2b").replace("/", "%2f"),
    "16 characters of its base64": _b64(DISGUISED.encode())[12:28],
}


def disguise_traces(text: str) -> list[str]:
    """Independent of the redactor: 8 characters of the key in any case once percent-decoded, or 10
    characters of its base64 at any alignment in either alphabet."""
    plain, key = unquote(text).lower(), DISGUISED.lower()
    found = [key[i : i + 8] for i in range(len(key) - 7) if key[i : i + 8] in plain]
    normal = unquote(text).replace("+", "-").replace("/", "_")
    for shift in range(3):
        encoded = _b64(b"\0" * shift + DISGUISED.encode() + b"\0\0", urlsafe=True)[3:-4]
        found += [encoded[i : i + 10] for i in range(len(encoded) - 9) if encoded[i : i + 10] in normal]
    return found


def echo_disguise(request: ModelRequest, context: ModelContext) -> Any:
    """An upstream that echoes the caller's key, disguised as the prompt names, where it can."""
    name = request.last_user_text
    disguise = DISGUISES[name.removeprefix("error: ")]
    if name.startswith("error: "):
        raise ApiError(400, f"API key {disguise} is not valid for this project.", "INVALID_ARGUMENT")
    if context.streaming:
        half = len(disguise) // 2
        return iter([f"your key starts {disguise[:half]}", f" and ends {disguise[half:]}."])
    return f"your key is {disguise}, keep it safe"


def test_a_disguised_echo_of_the_key_never_reaches_the_cassette(tmp_path: Path, figures: Figures) -> None:
    """``serve --record --record-errors`` against an upstream that echoes the caller's key truncated,
    re-cased, percent-encoded or base64-encoded, in answers, streams (split over two events) and
    errors. (A key pasted where a model name goes never leaves the recorder, which answers 404 itself;
    it reaches only the access log, below.)"""
    cassette = tmp_path / "c.yaml"
    with EmulatorThread(backend=FunctionBackend(echo_disguise)) as upstream:
        args = ("--record", str(cassette), "--upstream", upstream.url, "--record-errors")
        server = ServerProcess(*args, cwd=str(tmp_path))
        try:
            for name in DISGUISES:
                for path, prompt in ((GENERATE, name), (SSE, name), (GENERATE, f"error: {name}")):
                    body = {"contents": [{"parts": [{"text": prompt}]}]}
                    answer = call(server.url, "POST", path, body, key=DISGUISED)
                    assert answer.status in (200, 400), (name, answer.body[:300])
        finally:
            server.stop()
    recorded = load(cassette).interactions
    assert len(recorded) == 3 * len(DISGUISES), "an answer was not recorded, so nothing was tested"
    leaked = [
        f"#{n}: {traces[:2]}"
        for n, item in enumerate(recorded)
        if (traces := disguise_traces(json.dumps(item.model_dump(mode="json"), ensure_ascii=False)))
    ]
    for path in files_under(str(tmp_path)):  # the file as written too, whatever the loader makes of it
        if traces := disguise_traces(Path(path).read_text(errors="replace")):
            leaked.append(f"{Path(path).name}: {traces[:2]}")
    figures.add("secrets.checks", len(recorded))
    figures.add("secrets.leaked", len(leaked))
    print(f"disguised echoes of the live key recorded: {len(recorded)}, leaked: {len(leaked)}")
    assert not leaked, leaked
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]  # folded on exit; no journal, no lock


def test_a_key_in_a_model_name_or_path_prefix_never_reaches_the_access_log(tmp_path: Path) -> None:
    server = ServerProcess(cwd=str(tmp_path))
    try:
        for target in (f"/v1beta/models/{DISGUISED.lower()}:generateContent", f"/{DISGUISED[4:30]}/v1beta/models"):
            call(server.url, "POST", target, VALID_BODY, key=DISGUISED)
    finally:
        server.stop()
    output = server.output().decode(errors="replace")
    assert "POST /" in output, "the access log was off: nothing was searched"
    assert not disguise_traces(output)
