"""Recording Vertex AI calls through the emulator, and replaying them offline with the real SDK.

The upstream is a second emulator serving Vertex AI paths (``vertex_upstream``), reached with the
caller's bearer token or express-mode key, as the real regional endpoint would be. What must hold:
the SDK cannot tell replay from recording, a recording answers calls from any project and location,
the credentials and the user project never reach disk in any disguise, and a cassette of one API
never answers the other.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from google import genai
from google.oauth2.credentials import Credentials

from emulator import EmulatorThread, FunctionBackend, ModelContext, ModelRequest, Settings
from emulator.cassette import Cassette, Interaction, RecordedRequest, RecordedResponse, load, save
from emulator.cassette.journal import journal_path
from emulator.dispatch.specs import cassette_factory

MODEL = "gemini-2.5-flash"
TOKEN = "c4n4ry-vertex-t0ken-" + "0f3c9a7e5d1b"  # shaped like no known token: only the live-token hunt finds it
PROJECT_NUMBER = "880011223344"  # the user project (x-goog-user-project) and the project in the path
EXPRESS_KEY = "AQ.test-key"
CALL_PATH = f"/v1beta1/projects/rec-project/locations/us-central1/publishers/google/models/{MODEL}"


def vertex_client(url: str, project: str = "rec-project", location: str = "us-central1", **auth: Any) -> genai.Client:
    credentials = Credentials(token=auth.get("token", TOKEN), quota_project_id=auth.get("quota"))
    return genai.Client(
        vertexai=True,
        project=project,
        location=location,
        credentials=credentials,
        http_options={"base_url": url},
    )


def express_client(url: str, key: str = EXPRESS_KEY) -> genai.Client:
    return genai.Client(vertexai=True, api_key=key, http_options={"base_url": url})


def plain(response: Any) -> Any:
    """An SDK object without the HTTP response it came in (its headers carry the date)."""
    return response.model_dump(exclude={"sdk_http_response"}, exclude_none=True)


def conversation(client: genai.Client) -> list[Any]:
    seen: list[Any] = [
        plain(client.models.generate_content(model=MODEL, contents="unary hello")),
        [plain(c) for c in client.models.generate_content_stream(model=MODEL, contents="stream hello")],
        plain(client.models.count_tokens(model=MODEL, contents="count me")),
    ]

    async def run_async() -> list[Any]:
        unary = await client.aio.models.generate_content(model=MODEL, contents="async hello")
        stream = await client.aio.models.generate_content_stream(model=MODEL, contents="async stream")
        return [plain(unary), [plain(c) async for c in stream]]

    seen.extend(asyncio.run(run_async()))
    return seen


def recorder(path: Path, upstream: str, mode: str = "once") -> EmulatorThread:
    return EmulatorThread(Settings(port=0, cassette=path, record_mode=mode, vertex_upstream=upstream))


@pytest.fixture(scope="module")
def upstream() -> Iterator[EmulatorThread]:
    with EmulatorThread() as emu:
        yield emu


@pytest.fixture(scope="module", autouse=True)
def wired(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every recorder here must forward to the upstream emulator, never to the real service."""
    settings = Settings(record_mode="once", vertex_upstream="http://127.0.0.1:9/")
    backend = cassette_factory(tmp_path_factory.mktemp("probe") / "c.yaml", settings)(None)  # type: ignore[arg-type]
    if getattr(backend, "vertex_upstream", None) != "http://127.0.0.1:9":
        pytest.fail("Settings.vertex_upstream does not reach the recorder that --record builds")


def test_what_was_recorded_replays_identically_from_any_project_and_location(
    upstream: EmulatorThread, tmp_path: Path
) -> None:
    path = tmp_path / "vertex.yaml"
    with recorder(path, upstream.url) as rec:
        recorded = conversation(vertex_client(rec.url))
    assert recorded == conversation(vertex_client(upstream.url))
    uris = [i.request.uri for i in load(path).interactions]
    assert uris[0] == f"{upstream.url}{CALL_PATH}:generateContent"
    assert uris[1] == f"{upstream.url}{CALL_PATH}:streamGenerateContent?alt=sse"
    assert TOKEN not in path.read_text()
    with EmulatorThread(Settings(port=0, cassette=path)) as replay:
        assert conversation(vertex_client(replay.url)) == recorded
        elsewhere = vertex_client(replay.url, "someone-else", "europe-west4", token="another-token")
        assert conversation(elsewhere) == recorded
        express = express_client(replay.url)
        assert plain(express.models.generate_content(model=MODEL, contents="unary hello")) == recorded[0]


def test_a_new_episodes_recorder_answers_other_projects_from_the_cassette(tmp_path: Path) -> None:
    calls: list[str | None] = []

    def answer(request: ModelRequest, context: ModelContext) -> str:
        calls.append(context.project)
        return f"answer to {request.last_user_text}"

    path = tmp_path / "episodes.yaml"
    with EmulatorThread(backend=FunctionBackend(answer)) as up:
        with recorder(path, up.url, "new_episodes") as rec:
            client = vertex_client(rec.url)
            first = client.models.generate_content(model=MODEL, contents="hi").text
        with recorder(path, up.url, "new_episodes") as rec:
            client = vertex_client(rec.url, "other", "asia-east1")
            assert client.models.generate_content(model=MODEL, contents="hi").text == first
            client.models.generate_content(model=MODEL, contents="new")
    assert calls == ["rec-project", "other"]
    assert len(load(path).interactions) == 2


def disguises(secret: str, pieces: bool = True) -> set[str]:
    """The forms a leak may take: any case, percent-encoded (either hex case), base64 in either
    alphabet at any alignment, and (for a token) any run of 8 of its characters."""
    found = {secret, secret.lower(), secret.upper()}
    found |= {"".join(f"%{b:02x}" for b in secret.encode()), "".join(f"%{b:02X}" for b in secret.encode())}
    for shift in range(3):
        text = base64.b64encode(b"\0" * shift + secret.encode() + b"\0\0").decode()
        inner = text[(8 * shift + 5) // 6 : 8 * (shift + len(secret)) // 6]
        found |= {inner, inner.replace("+", "-").replace("/", "_")}
    if pieces:
        found |= {secret[i : i + 8] for i in range(len(secret) - 7)}
    return found


def assert_nothing_leaks(text: str) -> None:
    lowered = text.lower()
    for form in disguises(TOKEN) | disguises(PROJECT_NUMBER, pieces=False) | disguises(EXPRESS_KEY):
        assert form not in text and form.lower() not in lowered, form


def leak(request: ModelRequest, context: ModelContext) -> str:
    """An upstream that echoes the caller's own credentials and project back in every disguise."""
    if context.project is None:  # express mode: the key
        echoes = [
            EXPRESS_KEY,
            EXPRESS_KEY.lower(),
            quote(EXPRESS_KEY, safe=""),
            base64.b64encode(b"k=" + EXPRESS_KEY.encode()),
        ]
    else:
        echoes = [
            TOKEN, TOKEN.upper(), quote(TOKEN.upper(), safe=""), TOKEN[4:16],
            base64.b64encode(f"Bearer {TOKEN}".encode()), base64.urlsafe_b64encode(TOKEN.encode()),
            PROJECT_NUMBER, "".join(f"%{b:02X}" for b in PROJECT_NUMBER.encode()),
            base64.b64encode(f"projects/{PROJECT_NUMBER}".encode()),
        ]  # fmt: skip
    return f"{request.last_user_text}: " + " | ".join(e if isinstance(e, str) else e.decode() for e in echoes)


def test_no_token_key_or_user_project_reaches_disk_in_any_disguise(tmp_path: Path) -> None:
    path = tmp_path / "leaky.yaml"
    big = Interaction(  # a cassette larger than what is journaled: the journal stays till the end
        request=RecordedRequest(method="POST", uri="https://generativelanguage.googleapis.com/v1beta/models/m:x"),
        response=RecordedResponse(body={"padding": "x" * 200_000}),
    )
    save(Cassette(interactions=[big]), path)
    with EmulatorThread(backend=FunctionBackend(leak)) as up, recorder(path, up.url, "new_episodes") as rec:
        client, express = vertex_client(rec.url, project=PROJECT_NUMBER, quota=PROJECT_NUMBER), express_client(rec.url)
        client.models.generate_content(model=MODEL, contents=f"my token {TOKEN}, billed to {PROJECT_NUMBER}")
        assert [c.text for c in client.models.generate_content_stream(model=MODEL, contents="stream it")]
        express.models.generate_content(model=MODEL, contents=f"my key is {EXPRESS_KEY}")
        journal = journal_path(path).read_text()
    assert journal.count("\n") == 4  # its header and the three interactions, each journaled before its answer
    assert not journal_path(path).exists()
    text = path.read_text()
    assert_nothing_leaks(journal)
    assert_nothing_leaks(text)
    assert text.count("REDACTED") >= 15  # what the upstream echoed was there to be found
    interactions = load(path).interactions
    assert len(interactions) == 4
    uri = interactions[1].request.uri
    assert (
        uri
        == f"{up.url}/v1beta1/projects/REDACTED/locations/us-central1/publishers/google/models/{MODEL}:generateContent"
    )


class _Capture(BaseHTTPRequestHandler):
    """An upstream that keeps what it was sent and answers as Vertex AI would."""

    seen: list[tuple[str, dict[str, str]]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        type(self).seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        candidate = {"content": {"role": "model", "parts": [{"text": "captured"}]}, "finishReason": "STOP"}
        body = {"candidates": [candidate], "modelVersion": MODEL, "createTime": "2026-03-02T09:40:38.123456Z"}
        if "alt=sse" in self.path:
            data, kind = f"data: {json.dumps(body)}\r\n\r\n".encode(), "text/event-stream"
        else:
            data, kind = json.dumps(body).encode(), "application/json; charset=UTF-8"
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def capturing() -> Iterator[tuple[str, list[tuple[str, dict[str, str]]]]]:
    seen: list[tuple[str, dict[str, str]]] = []
    handler = type("Capture", (_Capture,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_the_credential_is_forwarded_as_the_caller_sent_it(tmp_path: Path) -> None:
    with capturing() as (url, seen), recorder(tmp_path / "c.yaml", url + "/", "all") as rec:
        billed, plain_token, express = (
            vertex_client(rec.url, quota=PROJECT_NUMBER),
            vertex_client(rec.url),
            express_client(rec.url),
        )
        billed.models.generate_content(model=MODEL, contents="hi")
        assert [c.text for c in plain_token.models.generate_content_stream(model=MODEL, contents="hi")] == ["captured"]
        express.models.generate_content(model=MODEL, contents="hi")
    (path, with_token), (stream_path, no_quota), (express_path, with_key) = seen
    assert path == f"{CALL_PATH}:generateContent"
    assert stream_path == f"{CALL_PATH}:streamGenerateContent?alt=sse"
    assert express_path == f"/v1beta1/publishers/google/models/{MODEL}:generateContent"
    assert with_token["authorization"] == f"Bearer {TOKEN}" and "x-goog-api-key" not in with_token
    assert with_token["x-goog-user-project"] == PROJECT_NUMBER
    assert "x-goog-user-project" not in no_quota
    assert with_key["x-goog-api-key"] == EXPRESS_KEY and "authorization" not in with_key


def test_express_mode_records_and_replays(upstream: EmulatorThread, tmp_path: Path) -> None:
    path = tmp_path / "express.yaml"
    with recorder(path, upstream.url) as rec:
        recorded = conversation(express_client(rec.url))
    assert (
        load(path).interactions[0].request.uri
        == f"{upstream.url}/v1beta1/publishers/google/models/{MODEL}:generateContent"
    )
    assert EXPRESS_KEY not in path.read_text()
    with EmulatorThread(Settings(port=0, cassette=path)) as replay:
        assert conversation(express_client(replay.url, "AQ.another-key")) == recorded
        assert conversation(vertex_client(replay.url)) == recorded


def test_a_cassette_of_one_api_never_answers_the_other(upstream: EmulatorThread, tmp_path: Path) -> None:
    developer, vertex = tmp_path / "developer.yaml", tmp_path / "vertex.yaml"
    with EmulatorThread(Settings(port=0, cassette=developer, record_mode="once", upstream=upstream.url)) as rec:
        client = genai.Client(api_key="k" * 12, http_options={"base_url": rec.url})
        client.models.generate_content(model=MODEL, contents="hi")
    with recorder(vertex, upstream.url) as rec:
        client = vertex_client(rec.url)
        client.models.generate_content(model=MODEL, contents="hi")
    with EmulatorThread(Settings(port=0, cassette=developer)) as replay:
        client = vertex_client(replay.url)
        with pytest.raises(genai.errors.ClientError) as missed:
            client.models.generate_content(model=MODEL, contents="hi")
    assert missed.value.code == 400 and missed.value.status == "FAILED_PRECONDITION"
    assert f"no Vertex AI interaction recorded in cassette {developer}" in str(missed.value.message)
    assert "it holds no Vertex AI interaction, only 1 Developer API one(s)" in str(missed.value.message)
    with EmulatorThread(Settings(port=0, cassette=vertex)) as replay:
        client = genai.Client(api_key="k" * 12, http_options={"base_url": replay.url})
        with pytest.raises(genai.errors.ClientError) as missed:
            client.models.generate_content(model=MODEL, contents="hi")
    assert f"no Developer API interaction recorded in cassette {vertex}" in str(missed.value.message)
    assert "only 1 Vertex AI one(s)" in str(missed.value.message)


def test_match_location_holds_a_recording_to_its_location(upstream: EmulatorThread, tmp_path: Path) -> None:
    path = tmp_path / "located.yaml"
    with recorder(path, upstream.url) as rec:
        client = vertex_client(rec.url)
        recorded = plain(client.models.generate_content(model=MODEL, contents="hi"))
    with EmulatorThread(Settings(port=0, cassette=path, match_location=True)) as replay:
        client = vertex_client(replay.url, "another-project")
        assert plain(client.models.generate_content(model=MODEL, contents="hi")) == recorded
        client = vertex_client(replay.url, location="europe-west4")
        with pytest.raises(genai.errors.ClientError) as missed:
            client.models.generate_content(model=MODEL, contents="hi")
    assert missed.value.code == 400 and "no Vertex AI interaction recorded" in str(missed.value.message)
    assert "locations/europe-west4" in str(missed.value.message)
