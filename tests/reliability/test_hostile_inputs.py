"""Generated hostile inputs on every surface, under a lag probe: none may freeze or break the server.

Each input is one request built from a seeded generator out of the shapes that made trouble before:
schemas asking for vast output (huge ``minItems``/``minLength``/``minProperties``, ``$ref`` chains,
nested ``anyOf``), backtracking patterns, long enums and ``allOf`` of them, prompts that name a
function again and again, many declarations, oversized batches, odd header bytes, and control-plane
bodies (deep YAML, aliases, huge templates, patterns RE2 refuses, fault lists). Every answer must
be a 200 or a Google envelope with a 4xx status; the server must keep answering health checks (the
largest gap is the headline figure; the findings' own goal of 250 ms is held in test_attacks.py,
here a freeze is anything over a second, since thousands of inputs meet every scheduling hiccup of
a shared machine), log no traceback and still serve a plain request at the end.

About a third of the API inputs go to Vertex AI's routes (a project with a bearer token, or express
mode with an ``AQ.`` key; oversized batches become ``predict`` calls there), where an envelope must be
Vertex AI's, never one with the Developer API's traits.

``GEMINI_HOSTILE_INPUTS`` sets the count (default 120; the deep run is 10000 or more).
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from typing import Any

from reliability_support import (
    GENERATE,
    MODEL,
    SSE,
    Figures,
    LagProbe,
    credentials_for,
    developer_marks,
    error_of,
    exchange,
    http_request,
    is_vertex,
    server_process,
    serving,
    vertex_path,
    vertex_serving,
)

COUNT = int(os.environ.get("GEMINI_HOSTILE_INPUTS", "120"))
FREEZE_MS = 1000
EVIL_PATTERNS = ["(a+)+b", "(a|aa)+$", "(.*a){20}", "^(\\w+\\s?)*$", "(?=a)a", "(a)\\1", "((a{1000}){1000}){1000}", "["]
JSON_TYPE = ("Content-Type", "application/json")


def big(rng: random.Random) -> Any:
    return rng.choice([10**6, 10**9, "1000000", "99999999999", 2**63, 1e308, -1, 0])


def _pair(ref: str) -> dict[str, Any]:
    return {"type": "object", "required": ["a", "b"], "properties": {"a": {"$ref": ref}, "b": {"$ref": ref}}}


def schema(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    """A schema in Google's or JSON Schema's dialect that asks for far too much, one way or another."""
    kind = rng.choice(["array", "string", "object", "ref", "anyOf", "pattern", "enum", "allOf", "number"])
    if depth > 3:
        kind = rng.choice(["string", "number", "pattern"])
    if kind == "array":
        return {"type": "array", "minItems": big(rng), "items": schema(rng, depth + 1)}
    if kind == "string":
        return {"type": "string", "minLength": big(rng), **({"maxLength": big(rng)} if rng.random() < 0.3 else {})}
    if kind == "object":
        props = {f"p{i}": schema(rng, depth + 1) for i in range(rng.randint(1, 4))}
        return {"type": "object", "properties": props, "required": list(props), "minProperties": big(rng)}
    if kind == "ref":
        levels = rng.randint(5, 40)
        defs = {f"n{i}": _pair(f"#/$defs/n{i + 1}") for i in range(levels)}
        defs[f"n{levels}"] = {"type": "string", "minLength": big(rng)}
        return {"$ref": "#/$defs/n0", "$defs": defs}
    if kind == "anyOf":
        return {"anyOf": [schema(rng, depth + 1) for _ in range(rng.randint(2, 6))]}
    if kind == "pattern":
        return {"type": "string", "pattern": rng.choice(EVIL_PATTERNS), "examples": ["a" * rng.randint(20, 60)]}
    if kind == "enum":
        return {"type": "string", "enum": [f"m{i}" * rng.randint(1, 5) for i in range(rng.randint(100, 3000))]}
    if kind == "number":
        return {"type": "number", "minimum": big(rng), "maximum": big(rng), "multipleOf": rng.choice([1e-9, 3, 0.1])}
    members = [f"v{i}" for i in range(rng.randint(100, 2000))]
    return {"allOf": [{"enum": members}, {"enum": members[::-1]}]}


def api_input(rng: random.Random) -> tuple[str, bytes]:
    prompt = {"role": "user", "parts": [{"text": "Answer."}]}
    kind = rng.choice(["structured", "tools", "mentions", "batch", "count", "stream", "headers", "declarations"])
    body: dict[str, Any] = {"contents": [prompt]}
    path, headers = GENERATE, [JSON_TYPE]
    key: str | None = "hostile"
    if kind in ("structured", "stream"):
        dialect = rng.choice(["responseSchema", "responseJsonSchema"])
        config = {"responseMimeType": "application/json", dialect: schema(rng)}
        if rng.random() < 0.3:
            config["maxOutputTokens"] = rng.choice([1, 100, 65536, 10**9])
        body["generationConfig"] = config
        path = SSE if kind == "stream" else GENERATE
    elif kind == "tools":
        decl = {"name": "f", "parametersJsonSchema": {"type": "object", "properties": {"x": schema(rng)}}}
        body = {
            "contents": [{"role": "user", "parts": [{"text": "call f"}]}],
            "tools": [{"functionDeclarations": [decl]}],
        }
    elif kind == "mentions":
        text = rng.choice(["f ", "f then ", "then ", "f. "]) * rng.randint(10_000, 300_000)
        body = {
            "contents": [{"role": "user", "parts": [{"text": text}]}],
            "tools": [{"functionDeclarations": [{"name": "f"}]}],
        }
    elif kind == "declarations":
        decls = [{"name": f"fn_{i}"} for i in range(rng.randint(50, 3000))]
        body = {
            "contents": [{"role": "user", "parts": [{"text": "fn_1 " * 20_000}]}],
            "tools": [{"functionDeclarations": decls}],
        }
    elif kind == "batch":
        one = {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "w"}]},
               "outputDimensionality": rng.choice([1, 768, 10**6, 10**9])}  # fmt: skip
        body = {"requests": [one] * rng.choice([1, 100, 101, 5000, 20_000])}
        path = "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    elif kind == "count":
        body = {"contents": [{"role": "user", "parts": [{"text": "x"}]}] * rng.randint(1000, 100_000)}
        path = f"/v1beta/models/{MODEL}:countTokens"
    else:
        key = None
        noise = bytes(rng.randrange(128, 256) for _ in range(rng.randint(1, 40))).decode("latin-1")
        name = rng.choice(["x-goog-api-key", "x-emulator-context", "x-emulator-fault"])
        headers += [(name, noise)] + ([("x-goog-api-key", "hostile")] if name != "x-goog-api-key" else [])
    if kind != "headers" and rng.random() < 0.35:
        if kind == "batch":  # Vertex AI's batch is predict; past 250 instances it is pinned in test_attacks.py
            path = "/v1beta/models/text-embedding-004:predict"
            body = {"instances": [{"content": "w"}] * rng.choice([1, 100, 250])}
        path = vertex_path(path, express=rng.random() < 0.5)
        credentials, key = credentials_for(path)
        headers += credentials
        kind = f"{kind} on Vertex AI"
    return f"api {kind}", http_request("POST", path, json.dumps(body).encode(), headers, key=key)


def control_input(rng: random.Random) -> tuple[str, bytes]:
    kind = rng.choice(["deep", "aliases", "template", "regex", "faults", "cassette", "rules"])
    if kind == "deep":
        body = rng.choice([b"[", b"{a: ", b"- "]) * rng.randint(1000, 100_000)
    elif kind == "aliases":
        lines = [b"a0: &a0 [x, x]"] + [b"a%d: &a%d [*a%d, *a%d]" % (i, i, i - 1, i - 1) for i in range(1, 30)]
        body = b"\n".join(lines) + b"\n"
    elif kind == "template":
        reply = "{{ last_user_text }}" * rng.randint(1000, 60_000)
        body = json.dumps({"name": "t", "rules": [{"reply": reply, "times": "unlimited"}]}).encode()
    elif kind == "regex":
        regex = rng.choice(EVIL_PATTERNS)
        body = json.dumps(
            {"name": "r", "rules": [{"when": {"last_user_text": {"regex": regex}}, "reply": "x"}]}
        ).encode()
    elif kind == "faults":
        body = json.dumps(
            [{"kind": "latency", "delay": 0, "model": "*" * rng.randint(1, 5000)}] * rng.randint(1, 500)
        ).encode()
        return "control faults", http_request("PUT", "/_emulator/faults", body, [JSON_TYPE], key="hostile-control")
    elif kind == "cassette":
        body = json.dumps({"name": "../" * rng.randint(1, 50) + "etc/passwd", "record_mode": "all"}).encode()
        return "control cassette", http_request("PUT", "/_emulator/cassette", body, [JSON_TYPE], key="hostile-control")
    else:
        rules = [{"name": f"r{i}", "when": {"last_user_text": {"contains": "w" * rng.randint(1, 200)}}, "reply": "x"}
                 for i in range(rng.randint(100, 6000))]  # fmt: skip
        body = json.dumps({"name": "many", "rules": rules}).encode()
    ctype = ("Content-Type", rng.choice(["application/json", "application/yaml"]))
    return f"control {kind}", http_request("PUT", "/_emulator/scenario", body, [ctype], key="hostile-control")


def inputs(count: int) -> Iterator[tuple[str, bytes]]:
    rng = random.Random(f"hostile:{count}")
    for _ in range(count):
        yield api_input(rng) if rng.random() < 0.7 else control_input(rng)


def acceptable(answer: Any, vertex: bool) -> bool:
    if answer.status == 200:
        return True
    return 400 <= answer.status < 500 and error_of(answer) is not None and not (vertex and developer_marks(answer))


def test_generated_hostile_inputs_never_freeze_or_break_the_server(figures: Figures) -> None:
    bad: list[str] = []
    with server_process("--quiet") as server, LagProbe(server.url) as probe:
        for name, raw in inputs(COUNT):
            answers = exchange(server.url, raw, timeout=60)
            vertex = is_vertex(raw)
            figures.add("hostile.inputs")
            figures.add("hostile.inputs.vertex", vertex)
            if not answers or not acceptable(answers[0], vertex):
                bad.append(f"{name}: {answers[0].status if answers else 'no answer'} {answers[0].body[:120]!r}")
        alive = serving(server.url) and vertex_serving(server.url) and vertex_serving(server.url, express=True)
        output = server.output()
    figures.set("hostile.max_gap_ms", probe.worst_ms)
    print(f"{COUNT} generated hostile inputs: loop lag max {probe.worst_ms:.0f} ms, unacceptable answers {len(bad)}")
    assert not bad, bad[:5]
    assert alive and probe.failures == 0
    assert b"Traceback" not in output, output[-2000:]
    assert probe.worst_ms < FREEZE_MS
