"""Single hostile inputs that used to freeze the server or cost far more than they should.

Each test is one finding of the security review, replayed against a server in a subprocess while a
probe asks ``/_emulator/health`` every 50 ms: the largest gap between its answers is the event
loop's lag under that attack (goal: under 250 ms), and the process's peak RSS (``VmHWM``) is read
at the end (goal: under 300 MB). Every test prints its own figure; the headline gathers them. The
findings that Vertex AI's routes share (or have alone: ``computeTokens``, ``predict``, bearer tokens)
are replayed there too.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    GENERATE,
    MODEL,
    VERTEX_GENERATE,
    Figures,
    LagProbe,
    ServerProcess,
    call,
    credentials_for,
    developer_marks,
    error_of,
    exchange,
    host_port,
    http_request,
    server_process,
    serving,
    vertex_path,
    vertex_serving,
)

LAG_GOAL_MS = 250
RSS_GOAL_MIB = 300
EMBED = "/v1beta/models/gemini-embedding-001:batchEmbedContents"
COUNT = f"/v1beta/models/{MODEL}:countTokens"
JSON_TYPE = {"Content-Type": "application/json"}


class Attacker:
    """The server under attack and the figures of every attack made on it."""

    def __init__(self, server: ServerProcess, figures: Figures) -> None:
        self.server, self.url, self.figures = server, server.url, figures
        self.worst_ms = 0.0

    def attack(self, name: str, act: Callable[[], Any], vertex: bool = False) -> Any:
        """Runs ``act`` under the lag probe; prints and keeps the figure; the server must still serve (on
        Vertex AI's routes too, for an attack on them)."""
        with LagProbe(self.url) as probe:
            started = time.monotonic()
            result = act()
            took = time.monotonic() - started
            time.sleep(0.12)  # let the probe see the loop once more after the attack
        self.worst_ms = max(self.worst_ms, probe.worst_ms)
        self.figures.add("attack.inputs")
        if vertex:
            self.figures.add("attack.inputs.vertex")
        self.figures.set("attack.max_gap_ms", max(self.worst_ms, self.figures.values.get("attack.max_gap_ms", 0.0)))
        self.figures.set("attack.peak_rss_mib", self.peak_rss_mib())
        print(f"{name}: {took:.2f} s, loop lag max {probe.worst_ms:.0f} ms, peak RSS {self.peak_rss_mib():.0f} MiB")
        assert probe.failures == 0, f"{name}: the health probe failed {probe.failures} times"
        assert probe.worst_ms < LAG_GOAL_MS, f"{name}: the event loop was held {probe.worst_ms:.0f} ms"
        assert serving(self.url), f"{name}: the server no longer serves"
        assert not vertex or vertex_serving(self.url), f"{name}: the server no longer serves Vertex AI"
        return result

    def peak_rss_mib(self) -> float:
        with open(f"/proc/{self.server.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def post(self, path: str, body: Any, key: str = "attacker", timeout: float = 60, **headers: str) -> Any:
        """A POST as its route's caller sends it (on Vertex AI's, with a bearer token or an express key)."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        credentials, sent_key = credentials_for(path, key)
        raw = http_request("POST", path, data, [*credentials, *{**JSON_TYPE, **headers}.items()], key=sent_key)
        return exchange(self.url, raw, timeout=timeout)[0]

    def control(self, method: str, name: str, body: bytes, key: str = "attacker", **headers: str) -> Any:
        return exchange(self.url, http_request(method, f"/_emulator/{name}", body, headers, key=key), timeout=60)[0]


@pytest.fixture(scope="module")
def attacker(figures: Figures) -> Iterator[Attacker]:
    env = {"GEMINI_EMULATOR_BODY_TIMEOUT": "3"}
    with server_process("--quiet", env=env) as server:
        yield Attacker(server, figures)


def prompt(text: str) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}]}


def structured(schema: dict[str, Any], json_schema: bool = False) -> dict[str, Any]:
    key = "responseJsonSchema" if json_schema else "responseSchema"
    return {**prompt("Fill the schema."), "generationConfig": {"responseMimeType": "application/json", key: schema}}


def answer_of(response: Any) -> tuple[str, str]:
    assert response.status == 200, response.body[:300]
    candidate = json.loads(response.body)["candidates"][0]
    text = "".join(p.get("text", "") for p in candidate.get("content", {}).get("parts", []))
    return candidate["finishReason"], text


# --- 1. response schemas that asked for unbounded output ---------------------------------------


def test_an_array_of_a_million_long_strings_stops_at_the_output_limit(attacker: Attacker) -> None:
    schema = {"type": "ARRAY", "minItems": "1000000", "items": {"type": "STRING", "minLength": "20000"}}
    response = attacker.attack("minItems 1e6 x minLength 20000", lambda: attacker.post(GENERATE, structured(schema)))
    finish, text = answer_of(response)
    assert finish == "MAX_TOKENS" and text.startswith("[") and len(text) < 2_000_000


def test_a_string_of_a_million_characters_stops_at_the_output_limit(attacker: Attacker) -> None:
    body = structured({"type": "STRING", "minLength": 1_000_000})
    body["generationConfig"]["maxOutputTokens"] = 2000
    finish, text = answer_of(attacker.attack("minLength 1e6", lambda: attacker.post(GENERATE, body)))
    assert finish == "MAX_TOKENS" and 0 < len(text) <= 8 * 2000 + 8


def test_a_ref_chain_that_doubles_per_level_stops_at_the_output_limit(attacker: Attacker) -> None:
    defs: dict[str, Any] = {f"n{i}": {"type": "object", "required": ["a", "b"], "properties": {
        "a": {"$ref": f"#/$defs/n{i + 1}"}, "b": {"$ref": f"#/$defs/n{i + 1}"}}} for i in range(18)}  # fmt: skip
    defs["n18"] = {"type": "string"}
    body = structured({"$ref": "#/$defs/n0", "$defs": defs}, json_schema=True)
    finish, _ = answer_of(attacker.attack("$ref chain depth 18", lambda: attacker.post(GENERATE, body)))
    assert finish == "MAX_TOKENS"


# --- 2. patterns with catastrophic backtracking --------------------------------------------------


def test_a_backtracking_pattern_in_a_response_schema(attacker: Attacker) -> None:
    body = structured({"type": "STRING", "pattern": "(a+)+b", "enum": ["a" * 40]})
    finish, _ = answer_of(attacker.attack("pattern (a+)+b in a schema", lambda: attacker.post(GENERATE, body)))
    assert finish == "STOP"


def test_a_backtracking_pattern_in_function_parameters(attacker: Attacker) -> None:
    parameters = {"type": "object", "required": ["s"],
                  "properties": {"s": {"type": "string", "pattern": "(a+)+b", "examples": ["a" * 40]}}}  # fmt: skip
    body = {
        **prompt("call f"),
        "tools": [{"functionDeclarations": [{"name": "f", "parametersJsonSchema": parameters}]}],
    }
    response = attacker.attack("pattern (a+)+b in parameters", lambda: attacker.post(GENERATE, body))
    assert response.status == 200


def test_a_backtracking_pattern_in_a_scenario(attacker: Attacker) -> None:
    scenario = {
        "name": "redos",
        "rules": [{"name": "r", "when": {"last_user_text": {"regex": "(a+)+b"}}, "reply": "x"}],
    }
    put = attacker.control("PUT", "scenario", json.dumps(scenario).encode(), key="redos", **JSON_TYPE)
    assert put.status == 200, put.body
    response = attacker.attack("scenario regex (a+)+b", lambda: attacker.post(GENERATE, prompt("a" * 40), key="redos"))
    assert response.status == 400 and "matched" in error_of(response)["message"]


def test_a_pattern_re2_cannot_run_is_refused_by_the_scenario_loader(attacker: Attacker) -> None:
    scenario = {"name": "look", "rules": [{"name": "r", "when": {"last_user_text": {"regex": "(?=a)a"}}, "reply": "x"}]}
    put = attacker.control("PUT", "scenario", json.dumps(scenario).encode(), key="look", **JSON_TYPE)
    assert put.status == 400 and "RE2" in error_of(put)["message"]


# --- 3. the control plane from a web page ---------------------------------------------------------


def test_a_web_page_can_neither_drive_nor_read_the_control_plane(tmp_path: Path, figures: Figures) -> None:
    """What a hostile page can send without a preflight (text/plain and form POSTs, a rebound DNS name),
    against a server with a cassette folder: none is served, and the cassette is neither deleted nor
    switched to recording; with --api-key the control plane wants the key."""
    from emulator.cassette import Cassette, Interaction, RecordedRequest, RecordedResponse, save

    cassette = tmp_path / "chat.yaml"
    body = {"candidates": [{"content": {"role": "model", "parts": [{"text": "recorded"}]}}]}
    save(Cassette(interactions=[Interaction(request=RecordedRequest(method="POST", uri="https://x/v1beta/models/m:generateContent"),
                                            response=RecordedResponse(body=body))]), cassette)  # fmt: skip
    before = cassette.read_bytes()
    page = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
    attempts = [
        ("PUT", "scenario", json.dumps({"name": "s", "rules": [{"reply": "owned"}]}).encode(), page),
        ("PUT", "faults", b'[{"kind": "error", "code": 500}]', page),
        ("PUT", "cassette", b'{"name": "chat.yaml", "record_mode": "all"}', page),
        ("POST", "reset", b"", {"Origin": "http://evil.example"}),
        ("PUT", "cassette", b'{"name": "chat.yaml", "record_mode": "all"}', {"Content-Type": "text/plain"}),
        ("GET", "requests", b"", {"Host": "evil.example:8765"}),
        ("PUT", "cassette", b'{"name": "chat.yaml", "record_mode": "all"}', {**JSON_TYPE, "Host": "evil.example"}),
        ("OPTIONS", "faults", b"", {"Origin": "http://evil.example", "Access-Control-Request-Method": "PUT"}),
        ("PUT", "cassette", b'{"name": "chat.yaml", "record_mode": "all"}', JSON_TYPE),  # even the owner
    ]
    served = []
    with server_process("--quiet", "--cassette", str(tmp_path), cwd=str(tmp_path)) as server:
        for method, name, data, headers in attempts:
            answer = exchange(server.url, http_request(method, f"/_emulator/{name}", data, headers, key="page"))[0]
            if answer.status < 400 or any(h.startswith("access-control-") for h in answer.headers):
                served.append(f"{method} {name} {headers}: {answer.status}")
    with server_process("--quiet", "--api-key", "the-only-key") as server:
        for name in ("requests", "faults", "scenario"):
            answer = call(server.url, "GET", f"/_emulator/{name}", key="another-key")
            if answer.status != 403:
                served.append(f"--api-key: GET {name} with another key: {answer.status}")
    figures.add("attack.inputs", len(attempts) + 3)
    print(f"control plane from a web page: {len(attempts) + 3} attempts, served {len(served)}")
    assert not served, served
    assert cassette.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["chat.yaml"]


# --- 4, 5. requests whose work grew without bound ------------------------------------------------


def test_a_batch_of_twenty_thousand_embeddings_is_refused(attacker: Attacker) -> None:
    one = {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "word"}]}}
    body = {"requests": [one] * 20_000}
    response = attacker.attack("batchEmbedContents x 20000", lambda: attacker.post(EMBED, body))
    assert response.status == 400 and "at most 100 requests" in error_of(response)["message"]


def test_a_prompt_naming_a_function_a_million_times(attacker: Attacker) -> None:
    body = {**prompt("f " * 1_000_000), "tools": [{"functionDeclarations": [{"name": "f"}]}]}
    response = attacker.attack('"f " x 1M with a function f', lambda: attacker.post(GENERATE, body))
    assert response.status == 200 and len(response.body) < 5_000_000


def test_many_declarations_and_a_long_prompt(attacker: Attacker) -> None:
    def ask(count: int) -> Any:
        declarations = [{"name": f"function_{i}", "description": "d"} for i in range(count)]
        body = {**prompt("word " * 200_000 + "function_7"), "tools": [{"functionDeclarations": declarations}]}
        return attacker.post(GENERATE, body)

    response = attacker.attack("512 declarations, 1 MB prompt", lambda: ask(512))
    assert response.status == 200
    assert json.loads(response.body)["candidates"][0]["content"]["parts"][0]["functionCall"]["name"] == "function_7"
    refused = attacker.attack("2000 declarations, 1 MB prompt", lambda: ask(2000))
    assert refused.status == 400
    assert "At most 512 function declarations can be specified." in error_of(refused)["message"]


def test_all_of_two_large_enums(attacker: Attacker) -> None:
    members = [f"member-{i}" for i in range(2000)]
    body = structured({"allOf": [{"enum": members}, {"enum": members[::-1]}]}, json_schema=True)
    finish, _ = answer_of(attacker.attack("allOf of two 2000-member enums", lambda: attacker.post(GENERATE, body)))
    assert finish == "STOP"


# --- 6, 7, 9. the control plane's own inputs -----------------------------------------------------


def test_a_scenario_of_a_hundred_thousand_brackets(attacker: Attacker) -> None:
    response = attacker.attack(
        '"[" x 100000 scenario', lambda: attacker.control("PUT", "scenario", b"[" * 100_000, **JSON_TYPE)
    )
    assert response.status == 400 and error_of(response) is not None


def test_a_valid_scenario_of_a_megabyte_in_many_contexts(attacker: Attacker) -> None:
    rules = [{"name": f"r{i}", "when": {"last_user_text": {"contains": f"word{i}"}}, "reply": f"answer {i}"}
             for i in range(8000)]  # fmt: skip
    document = json.dumps({"name": "big", "rules": rules}).encode()
    assert 700_000 < len(document) < 1024 * 1024

    def load(documents: list[bytes]) -> list[int]:
        return [
            attacker.control("PUT", "scenario", d, key=f"big-{n}", **JSON_TYPE).status for n, d in enumerate(documents)
        ]

    assert attacker.attack("one 1 MB scenario in 10 contexts", lambda: load([document] * 10)) == [200] * 10
    distinct = [document.replace(b'"big"', f'"big {n}"'.encode()) for n in range(3)]
    assert attacker.attack("three distinct 1 MB scenarios", lambda: load(distinct)) == [200] * 3


def test_a_control_body_trickled_a_byte_at_a_time_gets_the_408(attacker: Attacker) -> None:
    def trickle() -> Any:
        import socket

        from reliability_support import _Reader, read_answer

        sock = socket.create_connection(host_port(attacker.url), timeout=30)
        head = http_request("PUT", "/_emulator/faults", b"", JSON_TYPE, key="trickle", content_length=False)
        sock.sendall(head[:-2] + b"Content-Length: 100\r\n\r\n")
        started = time.monotonic()
        try:
            while time.monotonic() - started < 10:
                sock.sendall(b" ")
                sock.settimeout(1.0)
                try:
                    answer = read_answer(_Reader(sock))
                    return answer, time.monotonic() - started
                except TimeoutError:
                    continue
            return None, time.monotonic() - started
        finally:
            sock.close()

    answer, took = attacker.attack("control body trickle", trickle)
    assert answer is not None and answer.status == 408 and took < 6


def test_a_template_repeated_fifty_thousand_times(attacker: Attacker) -> None:
    scenario = {
        "name": "bomb",
        "rules": [{"name": "r", "times": "unlimited", "reply": "{{ last_user_text }}" * 50_000}],
    }
    put = attacker.control("PUT", "scenario", json.dumps(scenario).encode(), key="bomb", **JSON_TYPE)
    assert put.status == 200, put.body
    response = attacker.attack("template x 50000", lambda: attacker.post(GENERATE, prompt("x" * 2000), key="bomb"))
    assert response.status == 400 and "renders to more than" in error_of(response)["message"]


# --- 8. the journal in bytes ---------------------------------------------------------------------


def test_large_requests_keep_the_journal_within_its_bytes(attacker: Attacker) -> None:
    body = json.dumps(prompt("token " * 800_000)).encode()  # ~5 MB

    def flood() -> list[int]:
        return [attacker.post(COUNT, body, key="journal-flood").status for _ in range(30)]

    assert attacker.attack("30 x 5 MB countTokens in one context", flood) == [200] * 30
    entries = call(attacker.url, "GET", "/_emulator/requests", key="journal-flood")
    kept = json.loads(entries.body)["requests"]
    assert 1 <= len(kept) <= 4  # 16 MiB per context by default


# --- 13. fault state per context -----------------------------------------------------------------


def test_thousands_of_distinct_fault_headers_keep_a_bounded_state(attacker: Attacker) -> None:
    def flood(count: int, start: int) -> float:
        host, port = host_port(attacker.url)
        conn = http.client.HTTPConnection(host, port, timeout=30)
        body = json.dumps(prompt("hi")).encode()
        for n in range(start, start + count):
            fault = json.dumps({"kind": "latency", "delay": 0, "seed": n, "message": "m" * 2_000})
            headers = {"x-goog-api-key": "fault-flood", "x-emulator-fault": fault, **JSON_TYPE}
            conn.request("POST", GENERATE, body, headers)
            assert conn.getresponse().read()
        conn.close()
        return attacker.server.rss_kib() / 1024

    flood(500, 0)
    before = attacker.server.rss_kib() / 1024
    after = attacker.attack("5000 distinct x-emulator-fault headers", lambda: flood(5_000, 500))
    print(f"RSS {before:.0f} -> {after:.0f} MiB over 5000 distinct fault headers")
    assert after - before < 8  # unbounded, each kept its ~2 KB text and counters: 10+ MB


# --- Vertex AI's routes ---------------------------------------------------------------------------


def test_a_million_long_strings_on_a_vertex_route(attacker: Attacker) -> None:
    schema = {"type": "ARRAY", "minItems": "1000000", "items": {"type": "STRING", "minLength": "20000"}}
    response = attacker.attack(
        "Vertex AI: minItems 1e6 x minLength 20000", lambda: attacker.post(VERTEX_GENERATE, structured(schema)), True
    )
    finish, text = answer_of(response)
    assert finish == "MAX_TOKENS" and text.startswith("[") and len(text) < 2_000_000


def test_compute_tokens_of_a_megabyte_prompt(attacker: Attacker) -> None:
    """Every token of the prompt comes back with its id: some 7 bytes out for each byte in."""
    path = vertex_path(f"/v1beta/models/{MODEL}:computeTokens")
    response = attacker.attack(
        "Vertex AI: computeTokens of 1 MB", lambda: attacker.post(path, prompt("word " * 200_000)), True
    )
    assert response.status == 200 and len(json.loads(response.body)["tokensInfo"][0]["tokenIds"]) >= 200_000


def test_a_predict_of_a_megabyte_instance_is_answered_quickly(attacker: Attacker) -> None:
    path = vertex_path("/v1beta/models/text-embedding-004:predict", express=True)
    body = {"instances": [{"content": "word " * 200_000}]}
    response = attacker.attack("Vertex AI: predict of a 1 MB instance", lambda: attacker.post(path, body), True)
    assert response.status == 200


def test_a_predict_of_more_instances_than_vertex_takes_is_refused(attacker: Attacker) -> None:
    path = vertex_path("/v1beta/models/text-embedding-004:predict")
    body = {"instances": [{"content": "word"}] * 251}
    response = attacker.attack("Vertex AI: predict x 251", lambda: attacker.post(path, body), True)
    assert response.status == 400 and error_of(response) is not None and not developer_marks(response)
    assert error_of(response)["message"] == (
        "Unable to submit request because it has a batchSize value of 251 but the supported range is from 1 "
        "(inclusive) to 251 (exclusive). Update the value and try again."
    )


@pytest.mark.parametrize(
    "path", [VERTEX_GENERATE, vertex_path(f"/v1beta/models/{MODEL}:predict", express=True)], ids=["bearer", "express"]
)
def test_invalid_utf8_in_a_vertex_credential_gets_vertex_ais_401(attacker: Attacker, path: str) -> None:
    """A bearer token (or, in express mode, a key) of bytes that are not UTF-8: Vertex AI's 401."""
    header = b"Authorization: Bearer \xff\xfe\xfd" if "/projects/" in path else b"x-goog-api-key: AQ.\xff\xfe"
    raw = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n".encode() + header + b"\r\n\r\n{}"
    answer = exchange(attacker.url, raw)[0]
    error = error_of(answer)
    assert answer.status == 401 and error is not None and error["status"] == "UNAUTHENTICATED", answer.body[:300]
    assert not developer_marks(answer), answer.body[:300]
    attacker.figures.add("attack.inputs")
    attacker.figures.add("attack.inputs.vertex")


# --- 11, 12. errors at the edge ------------------------------------------------------------------


@pytest.mark.parametrize("path", [GENERATE, "/_emulator/health", "/_emulator/requests"])
def test_invalid_utf8_in_the_api_key_gets_the_400_envelope(attacker: Attacker, path: str) -> None:
    raw = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n").encode() + b"x-goog-api-key: \xff\xfe\xfd\r\n\r\n"
    if path == GENERATE:
        raw = raw.replace(b"GET", b"POST").replace(b"\r\n\r\n", b"\r\nContent-Length: 2\r\n\r\n{}")
    answer = exchange(attacker.url, raw)[0]
    assert answer.status == 400 and error_of(answer)["message"] == "API key not valid. Please pass a valid API key."


@pytest.mark.parametrize(
    "raw",
    [
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n folded\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"a" * 100_000 + b"\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
    ids=["CL+TE", "two lengths", "obs-fold", "1 MB header line", "bad chunk"],
)
def test_parser_refusals_get_the_envelope_and_no_server_version(attacker: Attacker, raw: bytes) -> None:
    answer = exchange(attacker.url, raw)[0]
    assert answer.status == 400 and error_of(answer) is not None, answer
    assert "aiohttp" not in answer.headers.get("server", "") and "Python" not in answer.headers.get("server", "")


def test_the_peak_rss_stayed_within_its_goal(attacker: Attacker) -> None:
    peak = attacker.peak_rss_mib()
    print(f"peak RSS under attack: {peak:.0f} MiB (goal {RSS_GOAL_MIB}); loop lag max {attacker.worst_ms:.0f} ms")
    assert peak < RSS_GOAL_MIB
