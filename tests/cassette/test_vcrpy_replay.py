"""vcrpy replays every cassette format this project writes that vcrpy reads, and records into ours.

The formats: our readable YAML and JSON (through :mod:`emulator.cassette.vcr`, registered as
``gemini-emulator`` and ``gemini-emulator-json``), and plain vcrpy YAML and JSON (``convert --to
vcrpy``, ``save(plain=True)``) through vcrpy's own default serializers. Each is written by the
project's own writers and played by vcrpy's own ``use_cassette`` and matching to a real httpx client,
sync and async. google-genai replay files (``convert --to genai-replay``) are google-genai's format,
not vcrpy's: they load back through :func:`emulator.cassette.load` (and our serializer reads them).

The clients: ``httpx2``, which google-genai uses and vcrpy patches, and ``httpx`` where installed
(vcrpy plays both through the same stub).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import vcr
import vcr.serialize
import yaml
from cassette_samples import BASE, answer, error, prompt, streamed, unary
from typer.testing import CliRunner
from vcr.errors import CannotOverwriteExistingCassetteException

from emulator import EmulatorThread
from emulator.cassette import FORMAT, Cassette, load, save
from emulator.cassette import vcr as gemini_vcr
from emulator.cassette.cli import app
from emulator.cassette.convert import is_genai_replay
from emulator.cassette.sse import parse as parse_sse
from emulator.settings import Settings
from emulator.wire import encode

KEY = "live-key-0123456789"  # sent as x-goog-api-key by every client here; never written
CHUNKS = ("One,", " two <3", " ü.")
UNARY = (":generateContent", prompt("What is 2+2?"))
STREAM = (":streamGenerateContent?alt=sse", prompt("Count"))
FAILED = (":generateContent", prompt("Again"))
KINDS = ("readable-yaml", "readable-json", "plain-yaml", "plain-json")

Answer = tuple[int, str | None, bytes]


def recorded() -> Cassette:
    """A unary JSON answer, an SSE stream (with delays, which vcrpy's shape has no slot for), an error."""
    return Cassette(
        interactions=[unary("What is 2+2?"), streamed("Count", chunks=CHUNKS), error("Again")],
        metadata={"recorded_with": "tests"},
    )


def stream_events() -> list[dict[str, Any]]:
    return [e.data for e in recorded().interactions[1].response.events or []]


def convert_cli(*args: str | Path) -> None:
    result = CliRunner().invoke(app, ["convert", *(str(a) for a in args)])
    assert result.exit_code == 0, result.output


def write(kind: str, tmp_path: Path) -> tuple[Path, str]:
    """The cassette as this project writes it in ``kind``, and the vcrpy serializer that reads it."""
    readable = tmp_path / "chat.yaml"
    save(recorded(), readable)
    if kind == "readable-yaml":
        return readable, gemini_vcr.NAME
    if kind == "readable-json":
        save(recorded(), tmp_path / "chat.json")
        return tmp_path / "chat.json", gemini_vcr.JSON_NAME
    if kind == "plain-yaml":
        convert_cli(readable, tmp_path / "plain.yaml", "--to", "vcrpy")
        return tmp_path / "plain.yaml", "yaml"
    save(recorded(), tmp_path / "plain.json", plain=True)
    return tmp_path / "plain.json", "json"


@pytest.fixture
def my_vcr() -> Any:
    return gemini_vcr.register(vcr.VCR())


@pytest.fixture(params=["httpx2", "httpx"])
def http(request: pytest.FixtureRequest) -> ModuleType:
    return pytest.importorskip(request.param)


@pytest.fixture(scope="module")
def origin() -> Any:
    """A live server for vcrpy to record from: an emulator with its default model."""
    with EmulatorThread() as emu:
        yield emu.url


def calls(base: str, *which: tuple[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [(base + suffix, body) for suffix, body in which]


def send(http: ModuleType, requests: list[tuple[str, dict[str, Any]]]) -> list[Answer]:
    with http.Client() as client:
        out = []
        for uri, body in requests:
            with client.stream("POST", uri, json=body, headers={"x-goog-api-key": KEY}) as r:
                out.append((r.status_code, r.headers.get("content-type"), r.read()))
        return out


async def send_async(http: ModuleType, requests: list[tuple[str, dict[str, Any]]]) -> list[Answer]:
    async with http.AsyncClient() as client:
        out = []
        for uri, body in requests:
            async with client.stream("POST", uri, json=body, headers={"x-goog-api-key": KEY}) as r:
                out.append((r.status_code, r.headers.get("content-type"), await r.aread()))
        return out


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("kind", KINDS)
def test_vcrpy_replays_what_we_write(tmp_path: Path, my_vcr: Any, http: ModuleType, kind: str, mode: str) -> None:
    path, serializer = write(kind, tmp_path)
    before = path.read_text()
    requests = calls(BASE, UNARY, STREAM, FAILED)
    with my_vcr.use_cassette(str(path), serializer=serializer, record_mode="none"):
        answers = send(http, requests) if mode == "sync" else asyncio.run(send_async(http, requests))
    (code, kind_1, body), (code_2, kind_2, stream), (code_3, kind_3, failed) = answers
    assert (code, kind_1) == (200, "application/json; charset=UTF-8")
    assert body == encode.unary(answer("4")) and json.loads(body) == answer("4")
    assert (code_2, kind_2) == (200, "text/event-stream")
    assert stream == b"".join(encode.sse_event(e) for e in stream_events())
    assert parse_sse(stream.decode()) == (stream_events(), True)
    assert (code_3, kind_3) == (429, "application/json; charset=UTF-8")
    assert json.loads(failed)["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert path.read_text() == before


@pytest.mark.parametrize("kind", KINDS)
def test_vcrpy_refuses_an_unrecorded_request(tmp_path: Path, my_vcr: Any, http: ModuleType, kind: str) -> None:
    path, serializer = write(kind, tmp_path)
    with my_vcr.use_cassette(str(path), serializer=serializer, record_mode="none"):
        with pytest.raises(CannotOverwriteExistingCassetteException):
            send(http, calls(BASE, (":countTokens", prompt("What is 2+2?"))))
        with pytest.raises(CannotOverwriteExistingCassetteException):
            asyncio.run(send_async(http, calls(BASE.replace("flash", "pro"), UNARY)))


def test_vcrpy_plays_the_bytes_the_emulator_serves(tmp_path: Path, my_vcr: Any, http: ModuleType) -> None:
    path, serializer = write("readable-yaml", tmp_path)
    with my_vcr.use_cassette(str(path), serializer=serializer, record_mode="none"):
        played = send(http, calls(BASE, UNARY, STREAM))
    with EmulatorThread(Settings(port=0, cassette=path)) as emu:
        served = send(http, calls(emu.url + "/v1beta/models/gemini-2.5-flash", UNARY, STREAM))
    assert played == served


def test_vcrpy_use_cassette_after_register_plays_to_google_genai(tmp_path: Path) -> None:
    """The README's way: register on vcrpy's default VCR, then ``vcr.use_cassette`` under the SDK."""
    genai = pytest.importorskip("google.genai")
    assert gemini_vcr.register() is vcr.default_vcr
    path, _ = write("readable-yaml", tmp_path)
    client = genai.Client(api_key=KEY, http_options={"api_version": "v1beta"})
    with vcr.use_cassette(str(path), serializer="gemini-emulator", record_mode="none"):
        assert client.models.generate_content(model="gemini-2.5-flash", contents="What is 2+2?").text == "4"
        chunks = client.models.generate_content_stream(model="gemini-2.5-flash", contents="Count")
        assert "".join(c.text or "" for c in chunks) == "".join(CHUNKS)


@pytest.mark.parametrize(("name", "suffix"), [(gemini_vcr.NAME, ".yaml"), (gemini_vcr.JSON_NAME, ".json")])
def test_what_vcrpy_records_through_our_serializer_replays_in_the_emulator(
    tmp_path: Path, my_vcr: Any, http: ModuleType, origin: str, name: str, suffix: str
) -> None:
    path = tmp_path / f"recorded{suffix}"
    requests = calls(origin + "/v1beta/models/gemini-2.5-flash", UNARY, STREAM)
    with my_vcr.use_cassette(str(path), serializer=name, record_mode="once"):
        live = send(http, requests)
    assert [a[0] for a in live] == [200, 200]
    text = path.read_text()
    assert KEY not in text
    data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    assert data["metadata"]["format"] == FORMAT  # our readable format: JSON parsed, the stream as events
    assert [set(i["response"]["body"]) for i in data["interactions"]] == [{"json"}, {"events"}]

    cassette = load(path)
    first, second = cassette.interactions
    assert first.request.body == UNARY[1] and first.response.body == json.loads(live[0][2])
    assert [e.data for e in second.response.events or []] == parse_sse(live[1][2].decode())[0]

    with EmulatorThread(Settings(port=0, cassette=path)) as emu:
        served = send(http, calls(emu.url + "/v1beta/models/gemini-2.5-flash", UNARY, STREAM))
    assert json.loads(served[0][2]) == json.loads(live[0][2])
    assert parse_sse(served[1][2].decode()) == parse_sse(live[1][2].decode())
    with my_vcr.use_cassette(str(path), serializer=name, record_mode="none"):
        assert send(http, requests) == served  # and vcrpy plays it back as the emulator serves it
    assert path.read_text() == text


def with_extras() -> Cassette:
    """What only our format holds: delays, a stream cut short, an interaction's metadata."""
    cassette = recorded()
    cut = streamed("Cut", chunks=("a", "b"), complete=False)
    cut.metadata = {"genai": {"sdk_response_segments": [{"candidates": []}]}}
    cassette.interactions.append(cut)
    return cassette


def test_serialize_writes_back_what_deserialize_read(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save(with_extras(), path)
    text = path.read_text()
    assert gemini_vcr.serialize(gemini_vcr.deserialize(text)) == text
    requests, responses, metadata = vcr.serialize.deserialize(text, gemini_vcr)  # as vcrpy's persister does
    assert "format" not in metadata and requests[0].body == json.dumps(UNARY[1]).encode()
    again = {"requests": requests, "responses": responses, "metadata": metadata}
    assert vcr.serialize.serialize(again, gemini_vcr) == text
    json_path = tmp_path / "c.json"
    save(with_extras(), json_path)
    assert gemini_vcr.JSON.serialize(gemini_vcr.JSON.deserialize(json_path.read_text())) == json_path.read_text()


def test_vcrpy_adding_to_our_cassette_keeps_what_its_shape_cannot_hold(
    tmp_path: Path, my_vcr: Any, http: ModuleType, origin: str
) -> None:
    path = tmp_path / "c.yaml"
    save(with_extras(), path)
    before = load(path).interactions
    with my_vcr.use_cassette(str(path), serializer=gemini_vcr.NAME, record_mode="new_episodes"):
        send(http, calls(origin + "/v1beta/models/gemini-2.5-flash", (":generateContent", prompt("New"))))
    after = load(path).interactions
    assert after[: len(before)] == before and len(after) == len(before) + 1
    assert after[-1].request.body == prompt("New") and after[-1].response.body is not None


def test_genai_replay_files_load_back_through_our_loader(tmp_path: Path, my_vcr: Any, http: ModuleType) -> None:
    readable = tmp_path / "chat.yaml"
    save(recorded(), readable)
    replay = tmp_path / "replay.json"
    convert_cli(readable, replay, "--to", "genai-replay")
    assert is_genai_replay(json.loads(replay.read_text()))
    loaded = load(replay)
    for got, want in zip(loaded.interactions, recorded().interactions, strict=True):
        assert (got.request.method, got.request.uri, got.request.body) == (
            want.request.method,
            want.request.uri,
            want.request.body,
        )
        assert (got.response.status, got.response.body) == (want.response.status, want.response.body)
        assert [e.data for e in got.response.events or []] == [e.data for e in want.response.events or []]
    with my_vcr.use_cassette(str(replay), serializer=gemini_vcr.JSON_NAME, record_mode="none"):
        played = send(http, calls(BASE, UNARY, STREAM))
    assert played[1][2] == b"".join(encode.sse_event(e) for e in stream_events())


def test_bad_text_is_a_loud_error() -> None:
    with pytest.raises(ValueError, match="not a cassette"):
        gemini_vcr.deserialize("just: text\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        gemini_vcr.deserialize("interactions: [\n")


def test_the_emulator_runs_and_the_serializer_imports_without_vcrpy() -> None:
    code = (
        "import sys; sys.modules['vcr'] = None\n"  # any import of vcrpy now fails
        "import emulator.cli, emulator.cassette.vcr, emulator.pytest_plugin\n"
        "from emulator import EmulatorThread\n"
        "from emulator.server import runner\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
