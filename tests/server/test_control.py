"""The control plane: health, journal per context, reset, and its errors. Raw HTTP and the SDK."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from google import genai
from test_wire import BODY, GENERATE, request

from emulator import EmulatorThread
from emulator.journal import context_id


def control(url: str, method: str, name: str, key: str = "k", query: str = "", body: bytes | None = None) -> Any:
    json_type = {"content-type": "application/json"} if body is not None else {}
    status, headers, payload = request(
        url, method, f"/_emulator/{name}{query}", body, {"x-goog-api-key": key, **json_type}
    )
    assert headers["content-type"].startswith("application/json")
    return status, json.loads(payload)


def test_health_and_unknown_endpoints(emulator: EmulatorThread) -> None:
    assert control(emulator.url, "GET", "health") == (200, {"status": "ok", "context": context_id({}, "k")})
    status, body = control(emulator.url, "GET", "nope")
    assert status == 404 and "known: cassette, faults, health" in body["error"]["message"]
    status, body = control(emulator.url, "PATCH", "health")
    assert status == 405 and body["error"]["status"] == "INVALID_ARGUMENT"
    status, _ = control(emulator.url, "GET", "requests", query="?limit=x")
    assert status == 400


def test_the_journal_is_per_key_and_never_holds_the_key(emulator: EmulatorThread) -> None:
    for key in ("secret-key-one", "secret-key-two"):
        control(emulator.url, "POST", "reset", key)
        request(emulator.url, "POST", GENERATE, BODY, {"x-goog-api-key": key})
    status, one = control(emulator.url, "GET", "requests", "secret-key-one")
    assert status == 200 and len(one["requests"]) == 1
    entry = one["requests"][0]
    assert entry["model"] == "gemini-2.5-flash" and entry["method"] == "generateContent"
    assert entry["request"]["contents"] == BODY["contents"] and entry["reply"]["status"] == 200
    assert entry["reply"]["text"].startswith('You said: "Hello <b>".')
    assert "secret-key" not in json.dumps(one)
    assert control(emulator.url, "GET", "requests", "secret-key-one", "?model=gemini-2.0-*")[1]["requests"] == []
    control(emulator.url, "POST", "reset", "secret-key-one")
    assert control(emulator.url, "GET", "requests", "secret-key-one")[1]["requests"] == []
    assert len(control(emulator.url, "GET", "requests", "secret-key-two")[1]["requests"]) == 1


def test_an_explicit_context_header_and_the_gateway_prefix(emulator: EmulatorThread) -> None:
    headers = {"x-goog-api-key": "shared", "x-emulator-context": "test-42"}
    request(emulator.url, "POST", GENERATE, BODY, headers)
    status, _, payload = request(emulator.url, "GET", "/gateway/_emulator/requests?context=test-42")
    assert status == 200 and len(json.loads(payload)["requests"]) == 1


def test_errors_are_journaled_with_their_status(emulator: EmulatorThread) -> None:
    control(emulator.url, "POST", "reset", "err-key")
    bad = {"contents": [{"role": "user", "parts": [{"text": "x"}]}], "generationConfig": {"temperature": 9}}
    request(emulator.url, "POST", GENERATE, bad, {"x-goog-api-key": "err-key"})
    stream = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    request(emulator.url, "POST", stream, BODY, {"x-goog-api-key": "err-key"})
    entries = control(emulator.url, "GET", "requests", "err-key")[1]["requests"]
    assert [e["method"] for e in entries] == ["streamGenerateContent"]  # the invalid request reached no model
    assert entries[0]["reply"]["kind"] == "stream" and entries[0]["reply"]["chunks"] >= 3


def test_fifty_concurrent_chats_on_their_own_keys_see_only_their_own_journal(emulator: EmulatorThread) -> None:
    async def chat(n: int) -> None:
        client = genai.Client(api_key=f"concurrent-{n}", http_options={"base_url": emulator.url})
        session = client.aio.chats.create(model="gemini-2.5-flash")
        for turn in range(3):
            if turn % 2:
                async for _ in await session.send_message_stream(f"chat {n} turn {turn}"):
                    pass
            else:
                await session.send_message(f"chat {n} turn {turn}")

    async def run() -> None:
        await asyncio.gather(*(chat(n) for n in range(50)))

    for n in range(50):
        control(emulator.url, "POST", "reset", f"concurrent-{n}")
    asyncio.run(run())
    for n in range(50):
        entries = control(emulator.url, "GET", "requests", f"concurrent-{n}")[1]["requests"]
        said = [e["request"]["contents"][-1]["parts"][0]["text"] for e in entries]
        assert said == [f"chat {n} turn {t}" for t in range(3)]
        assert len(entries[-1]["request"]["contents"]) >= 5


def scenario_for(n: int) -> bytes:
    return json.dumps(
        {"name": f"ctx-{n}", "rules": [{"times": "unlimited", "reply": f"context {n} turn {{{{ turn }}}}"}]}
    ).encode()


def test_scenarios_are_per_context_even_under_fifty_concurrent_chats(emulator: EmulatorThread) -> None:
    for n in range(50):
        status, body = control(emulator.url, "PUT", "scenario", f"scripted-{n}", f"?name=ctx-{n}", scenario_for(n))
        assert status == 200 and body["scenario"] == f"ctx-{n}"
    free = genai.Client(api_key="unscripted", http_options={"base_url": emulator.url})
    assert "context" not in (free.models.generate_content(model="gemini-2.5-flash", contents="hi").text or "")

    async def chat(n: int) -> list[str]:
        client = genai.Client(api_key=f"scripted-{n}", http_options={"base_url": emulator.url})
        session = client.aio.chats.create(model="gemini-2.5-flash")
        texts = [(await session.send_message("one")).text or ""]
        texts.append("".join([c.text or "" async for c in await session.send_message_stream("two")]))
        return texts

    async def run() -> list[list[str]]:
        return await asyncio.gather(*(chat(n) for n in range(50)))

    for n, texts in enumerate(asyncio.run(run())):
        assert texts == [f"context {n} turn 1", f"context {n} turn 2"]
        assert len(control(emulator.url, "GET", "requests", f"scripted-{n}")[1]["requests"]) == 2
    control(emulator.url, "DELETE", "scenario", "scripted-0")
    again = genai.Client(api_key="scripted-0", http_options={"base_url": emulator.url})
    assert "context 0" not in (again.models.generate_content(model="gemini-2.5-flash", contents="hi").text or "")


def test_a_bad_scenario_is_a_clear_400(emulator: EmulatorThread) -> None:
    status, body = control(
        emulator.url, "PUT", "scenario", "bad-scenario", "", b"rules: [{reply: 1, error: 2, bogus: 3}]"
    )
    assert status == 400 and "bogus" in body["error"]["message"]
