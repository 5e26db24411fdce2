"""The inspector under ``/_emulator/ui``: its JSON and event stream (what each journal line says, who may
read it, that no credential shows), then the page itself in a real headless Chromium: an SDK's unary
and streamed calls appear live, one opens with its chunks, and a screenshot is kept.

The browser test needs Debian's ``chromium`` (``/usr/bin/chromium``) and the ``playwright`` package
(its own browser download is never used) and is skipped, saying so, when either is missing. The
screenshot is written to pytest's tmp dir and copied to ``artifacts/inspector.png`` at the top of
the repository (a folder that ignores itself in git).
"""

from __future__ import annotations

import http.client
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from google import genai

from emulator import EmulatorThread, FunctionBackend, ModelContext, ModelRequest
from emulator.backends.replay import replay_factory
from emulator.cassette.model import Cassette, Interaction, RecordedRequest, RecordedResponse
from emulator.settings import Settings

MODEL = "gemini-2.5-flash"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
SECRET_KEY = "AIza" + "SyInspectorCanary0123456789abcdefgh"  # key- and token-shaped, built so no scanner trips
SECRET_TOKEN = "ya29" + ".InspectorBearerCanary0123456789"
SCENARIO = {"name": "greeter", "rules": [{"name": "hello", "times": "unlimited", "reply": "Hello from the script"}]}
BODY = {"contents": [{"role": "user", "parts": [{"text": "recorded question"}]}]}


def send(
    url: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    data = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else body
    conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, payload


def lines(url: str, query: str = "", headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    status, _, payload = send(url, "GET", f"/_emulator/ui/entries{query}", headers=headers)
    assert status == 200, payload
    found: list[dict[str, Any]] = json.loads(payload)["entries"]
    return found


def opened(url: str, seq: int) -> dict[str, Any]:
    status, _, payload = send(url, "GET", f"/_emulator/ui/entries/{seq}")
    assert status == 200, payload
    detail: dict[str, Any] = json.loads(payload)
    return detail


def client(url: str, key: str = "inspector-key", context: str | None = None) -> genai.Client:
    headers = {"x-emulator-context": context} if context else {}
    return genai.Client(api_key=key, http_options={"base_url": url, "headers": headers})


def cassette() -> Cassette:
    uri = f"https://generativelanguage.googleapis.com/v1beta/models/{MODEL}:generateContent"
    body = {"candidates": [{"content": {"role": "model", "parts": [{"text": "recorded answer"}]}}]}
    return Cassette(
        interactions=[
            Interaction(
                request=RecordedRequest(method="POST", uri=uri, body=BODY), response=RecordedResponse(body=body)
            )
        ]
    )


def traffic(emu: EmulatorThread) -> None:
    """Calls of every kind the page shows: default unary and stream, a scenario, a cassette hit and miss,
    a fault."""
    sdk = client(emu.url)
    sdk.models.generate_content(model=MODEL, contents="What is the emulator for?")
    chat = [
        {"role": "user", "parts": [{"text": "Tell me a story"}]},
        {"role": "model", "parts": [{"text": "About what?"}]},
        {"role": "user", "parts": [{"text": "About a lighthouse"}]},
    ]
    list(sdk.models.generate_content_stream(model=MODEL, contents=chat))  # type: ignore[arg-type]
    assert send(emu.url, "PUT", "/_emulator/scenario?context=scripted", SCENARIO)[0] == 200
    scripted = client(emu.url, context="scripted")
    scripted.models.generate_content(model=MODEL, contents="hi")
    emu.router.use("replayed", replay_factory(cassette()), "cassette inline")
    recorded = {"x-emulator-context": "replayed", "x-goog-api-key": "k"}
    path = f"/v1beta/models/{MODEL}:generateContent"
    assert send(emu.url, "POST", path, BODY, recorded)[0] == 200
    miss = {"contents": [{"role": "user", "parts": [{"text": "never recorded"}]}]}
    assert send(emu.url, "POST", path, miss, recorded)[0] == 400
    fault = {"x-emulator-fault": json.dumps({"kind": "error", "code": 503}), "x-goog-api-key": "k"}
    assert send(emu.url, "POST", path, miss, {**fault, "x-emulator-context": "faulty"})[0] == 503


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorThread]:
    with EmulatorThread() as emu:
        traffic(emu)
        emu.router.use("called", lambda fallback: FunctionBackend(echo, fallback), "callable")
        called = client(emu.url, context="called")
        called.models.generate_content(model=MODEL, contents="hi")
        called.models.count_tokens(model=MODEL, contents="hi")
        yield emu


def echo(request: ModelRequest, context: ModelContext) -> str:
    return "echo"


def test_each_line_says_what_answered_how_and_how_fast(emu: EmulatorThread) -> None:
    found = {(e["context"], e["method"], e["status"]): e for e in lines(emu.url)}
    assert all(e["latency_ms"] is not None and e["latency_ms"] >= 0 for e in found.values())
    unary = next(e for (c, m, _), e in found.items() if c.startswith("key-") and m == "generateContent")
    assert unary["backend"] == "default" and unary["flavour"] == "developer" and unary["kind"] == "reply"
    stream = next(e for (c, m, _), e in found.items() if m == "streamGenerateContent")
    assert stream["status"] == 200 and stream["kind"] == "stream" and stream["chunks"] > 1
    assert found["scripted", "generateContent", 200]["backend"] == 'scenario:greeter rules[0] "hello"'
    assert found["replayed", "generateContent", 200]["backend"] == "cassette:inline #0"
    miss = found["replayed", "generateContent", 400]
    assert miss["backend"] == "cassette:inline (miss)" and "nearest is interaction #0" in miss["error"]
    assert found["faulty", "generateContent", 503]["faults"] == ["error (header)"]
    assert found["faulty", "generateContent", 503]["backend"] == ""
    assert found["called", "generateContent", 200]["backend"].endswith("test_inspector.echo")
    assert found["called", "countTokens", 200]["backend"] == "default"  # a callable answers generation only


def test_an_opened_stream_has_its_chunks_their_timing_and_a_curl_command(emu: EmulatorThread) -> None:
    stream = next(e for e in lines(emu.url) if e["method"] == "streamGenerateContent")
    detail = opened(emu.url, stream["seq"])
    assert len(detail["answer"]) == len(detail["timing_ms"]) == stream["chunks"]
    assert detail["timing_ms"] == sorted(detail["timing_ms"]) and detail["timing_ms"][-1] <= detail["latency_ms"]
    assert [c["role"] for c in detail["request"]["contents"]] == ["user", "model", "user"]
    assert detail["path"].endswith(":streamGenerateContent?alt=sse")
    assert detail["curl"].startswith(f"curl -sS -X POST '{emu.url}{detail['path']}'")
    assert "${GEMINI_API_KEY:-emulator-key}" in detail["curl"] and "About a lighthouse" in detail["curl"]
    unary = opened(emu.url, stream["seq"] - 1)
    assert unary["answer"]["candidates"][0]["content"]["parts"][0]["text"].startswith("You said")
    assert unary["timing_ms"] == []
    scripted = next(e for e in lines(emu.url) if e["context"] == "scripted")
    assert "x-emulator-context: scripted" in opened(emu.url, scripted["seq"])["curl"]
    miss = next(e for e in lines(emu.url) if e["status"] == 400)
    detail = opened(emu.url, miss["seq"])
    assert detail["answer"] is None and "differs at" in detail["reply"]["error_message"]
    assert send(emu.url, "GET", "/_emulator/ui/entries/999999")[0] == 404
    assert lines(emu.url, f"?after={stream['seq']}")[0]["seq"] == stream["seq"] + 1


def test_a_call_copied_as_a_cassette_replays_as_it_was_answered(emu: EmulatorThread, tmp_path: Path) -> None:
    stream = next(e for e in lines(emu.url) if e["method"] == "streamGenerateContent")
    streamed, unary = opened(emu.url, stream["seq"]), opened(emu.url, stream["seq"] - 1)
    path = tmp_path / "copied.yaml"
    path.write_text(unary["cassette"] + streamed["cassette"].split("interactions:\n", 1)[1])
    assert SECRET_KEY not in path.read_text() and "inspector-key" not in path.read_text()
    with EmulatorThread(Settings(port=0, cassette=path, after_last="miss")) as replay:
        sdk = client(replay.url, key="another-key")
        again = sdk.models.generate_content(model=MODEL, contents="What is the emulator for?")
        assert again.response_id == unary["answer"]["responseId"]
        assert again.text == unary["answer"]["candidates"][0]["content"]["parts"][-1]["text"]
        chunks = list(sdk.models.generate_content_stream(model=MODEL, contents=streamed["request"]["contents"]))
        assert [c.text for c in chunks] == [
            "".join(p.get("text", "") for p in c["candidates"][0]["content"]["parts"]) or None
            for c in streamed["answer"]
        ]
    miss = next(e for e in lines(emu.url) if e["status"] == 400)
    assert opened(emu.url, miss["seq"])["cassette"] is None


def test_the_page_and_its_files_carry_a_strict_policy(emu: EmulatorThread) -> None:
    for path, kind in [("/_emulator/ui", "text/html"), ("/_emulator/ui/app.js", "text/javascript")]:
        status, headers, body = send(emu.url, "GET", path)
        assert status == 200 and headers["content-type"].startswith(kind) and body
        assert "default-src 'none'" in headers["content-security-policy"] and headers["x-frame-options"] == "DENY"
    status, _, html = send(emu.url, "GET", "/_emulator/ui")
    assert b"http" not in html.replace(b'"/_emulator', b"")  # nothing from elsewhere: no CDN
    assert send(emu.url, "GET", "/_emulator/ui/nope")[0] == 404
    assert send(emu.url, "POST", "/_emulator/ui/entries", {})[0] == 405


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "http://evil.example"}, {"Host": "evil.example"}, {"Sec-Fetch-Site": "cross-site"}],
)
def test_a_foreign_page_cannot_read_the_inspector(emu: EmulatorThread, headers: dict[str, str]) -> None:
    for path in ("/_emulator/ui", "/_emulator/ui/entries", "/_emulator/ui/events", "/_emulator/ui/entries/1"):
        status, _, payload = send(emu.url, "GET", path, headers=headers)
        assert status == 403 and b"refused" in payload and b"candidates" not in payload


def test_with_a_control_token_the_data_needs_it_and_the_page_opens() -> None:
    with EmulatorThread(Settings(port=0, control_token="ui-token")) as emu:
        sdk = client(emu.url)
        sdk.models.generate_content(model=MODEL, contents="hi")
        assert send(emu.url, "GET", "/_emulator/ui/entries")[0] == 403
        assert send(emu.url, "GET", "/_emulator/ui/events")[0] == 403
        assert len(lines(emu.url, headers={"x-emulator-token": "ui-token"})) == 1
        assert len(lines(emu.url, "?key=ui-token")) == 1
        assert send(emu.url, "GET", "/_emulator/ui")[0] == 200  # the static page holds no data


def test_no_key_or_token_shows_anywhere_in_the_inspector() -> None:
    with EmulatorThread() as emu:
        path = f"/v1beta/models/{MODEL}:generateContent"
        body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
        send(emu.url, "POST", path, body, {"x-goog-api-key": SECRET_KEY})
        send(emu.url, "POST", f"{path}?key={SECRET_KEY}", body)
        stream = f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse&key={SECRET_KEY}"
        send(emu.url, "POST", stream, body, {"Authorization": f"Bearer {SECRET_TOKEN}"})
        vertex = f"/v1beta1/projects/p/locations/us-central1/publishers/google/models/{MODEL}:generateContent"
        send(emu.url, "POST", vertex, body, {"Authorization": f"Bearer {SECRET_TOKEN}"})
        seen = json.dumps(lines(emu.url)) + "".join(json.dumps(opened(emu.url, n)) for n in range(1, 5))
        assert "ya29" not in seen and "Canary" not in seen and "AIza" not in seen
        assert len(lines(emu.url)) == 4 and "Bearer ${GOOGLE_ACCESS_TOKEN}" in opened(emu.url, 4)["curl"]


def test_the_event_stream_tells_of_each_call_as_it_starts_and_ends(emu: EmulatorThread) -> None:
    parts = urlsplit(emu.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", "/_emulator/ui/events")
    response = conn.getresponse()
    assert response.status == 200 and response.getheader("Content-Type") == "text/event-stream"
    assert response.readline() == b"retry: 2000\n"
    live = client(emu.url, context="live")
    live.models.generate_content(model=MODEL, contents="live call")
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while len(events) < 2 and time.monotonic() < deadline:
        line = response.readline()
        if line.startswith(b"data: "):
            events.append(json.loads(line[6:]))
    conn.close()
    assert [e["context"] for e in events] == ["live", "live"] and events[0]["seq"] == events[1]["seq"]
    assert events[0]["status"] is None and events[1]["status"] == 200 and events[1]["backend"] == "default"


def _browser_ready() -> str | None:
    """Why the browser test cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is absent (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is absent (pip install playwright; no browser download needed)"
    return None


BROWSER_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.mark.skipif(_browser_ready() is not None, reason=str(_browser_ready()))
def test_the_page_shows_calls_live_and_opens_a_stream_in_chromium(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with EmulatorThread() as emu, sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.goto(f"{emu.url}/_emulator/ui")
            expect(page.locator("#live")).to_have_text("live")
            expect(page.locator("#empty")).to_be_visible()

            traffic(emu)  # made after the page loaded: every row arrives over the event stream
            rows = page.locator("#rows tr")
            expect(rows).to_have_count(6)
            stream_row = rows.filter(has_text="streamGenerateContent")
            expect(stream_row).to_contain_text("200")
            expect(rows.filter(has_text="scenario:greeter")).to_have_count(1)
            expect(rows.filter(has_text="error (header)")).to_contain_text("503")

            stream_row.click()
            chunks = page.locator("#d-answer .chunk")
            expect(page.locator("#d-answer-title")).to_contain_text("stream of")
            assert chunks.count() > 1
            expect(chunks.first).to_contain_text("#1 +")
            expect(page.locator("#d-chat .turn.user").last).to_contain_text("About a lighthouse")
            expect(page.locator("#d-chat .turn.model")).to_contain_text("About what?")
            expect(page.locator("#d-facts")).to_contain_text("default")
            expect(page.locator("#d-curl")).to_contain_text("curl -sS -X POST")
            page.locator("#copy-curl").click()
            expect(page.locator("#copied")).to_have_text("copied")
            expect(page.locator("#d-cassette")).to_contain_text("streamGenerateContent?alt=sse")
            page.locator("#copy-cassette").click()
            expect(page.locator("#copy-cassette")).to_be_enabled()

            page.select_option("#f-status", "4xx")
            expect(rows).to_have_count(1)
            rows.first.click()  # the cassette miss: the field where it parted from the nearest recording
            expect(page.locator("#d-miss .miss-field")).to_have_text("contents[0].parts[0].text")
            expect(page.locator("#d-miss")).to_contain_text("never recorded")
            expect(page.locator("#copy-cassette")).to_be_disabled()
            page.select_option("#f-status", "")
            page.select_option("#f-context", "scripted")
            expect(rows).to_have_count(1)
            page.select_option("#f-context", "")
            stream_row.click()
            expect(chunks.first).to_be_visible()

            shot = tmp_path / "inspector.png"
            page.screenshot(path=str(shot), full_page=False)
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / ".gitignore").write_text("*\n")
            shutil.copy(shot, ARTIFACTS / "inspector.png")
            assert shot.stat().st_size > 10_000
            assert not errors, errors
        finally:
            browser.close()


def test_an_open_event_stream_does_not_hold_up_shutdown() -> None:
    emu = EmulatorThread().start()
    parts = urlsplit(emu.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", "/_emulator/ui/events")
    assert conn.getresponse().readline() == b"retry: 2000\n"
    started = time.monotonic()
    emu.stop()
    conn.close()
    assert time.monotonic() - started < 5
