"""The index file writers leave beside a cassette: a fresh machine replays without a full read, and
an index that does not match the cassette's bytes is ignored, never believed."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cassette_samples import BASE, prompt, sample, streamed, unary
from google import genai
from typer.testing import CliRunner

from emulator import EmulatorThread, FunctionBackend, ModelContext, ModelRequest, Settings
from emulator.backends import record
from emulator.cassette import Cassette, Index, Matcher, derived, derived_form, journal, load, save, store
from emulator.cassette.cli import app
from emulator.cassette.derived import CACHE_ENV, Derived, index_path, index_state, replay_index

MODEL = "gemini-2.5-flash"
CANARY = "AIza" + "Sy" + "1ndexC4n4ry" * 3  # shaped like a key; built so no scanner trips on this file
runner = CliRunner()


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder, as on a machine that never replayed anything."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    derived.forget()
    return folder


@pytest.fixture
def always(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writers index cassettes of any size (the samples are far below the threshold)."""
    monkeypatch.setattr(derived_form, "INDEX_MIN_BYTES", 0)


@pytest.fixture
def no_full_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Parsing a cassette's text, which a full read cannot do without, now fails the test."""
    parsed: list[str] = []
    real = store.parse

    def counting(text: str, suffix: str, *args: Any) -> Any:
        parsed.append(suffix)
        return real(text, suffix, *args)

    monkeypatch.setattr(store, "parse", counting)
    return parsed


def many(size: int, answer: str = "answer") -> Cassette:
    return Cassette(interactions=[unary(f"question {n}", reply=f"{answer} {n}") for n in range(size)])


def replayed(path: Path, matcher: Matcher | None = None) -> tuple[Cassette, Index]:
    derived.forget()
    return replay_index(path, matcher)


def answers(index: Index, expected: Cassette) -> list[Any]:
    """Each recorded request taken from the index, checked against what a full read holds."""
    got = []
    for n, interaction in enumerate(expected.interactions):
        req = interaction.request
        taken = index.take(req.method, req.uri, req.body)
        assert taken == interaction and index.ordinal(taken) == n
        got.append(taken)
    return got


def header(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(index_path(path).read_bytes().split(b"\n", 1)[0])
    return loaded


def test_only_cassettes_past_the_threshold_get_an_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = tmp_path / "small.yaml"
    save(sample(), small)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml"]
    monkeypatch.setattr(derived_form, "INDEX_MIN_BYTES", small.stat().st_size + 1)
    big = tmp_path / "big.yaml"
    save(many(20), big)
    assert big.stat().st_size >= derived_form.INDEX_MIN_BYTES
    assert index_path(big).name == "big.yaml.index" and index_state(big) == "current"
    assert header(big)["sha256"] == hashlib.sha256(big.read_bytes()).hexdigest()
    assert header(big)["code"] == derived.fingerprint().hex() and header(big)["cassette"] == "big.yaml"
    save(many(1), big)  # shrunk below the threshold: the index there is kept up to date, not left stale
    assert index_state(big) == "current"
    assert not index_path(small).exists()


@pytest.mark.usefixtures("always")
@pytest.mark.parametrize(("name", "plain"), [("chat.yaml", False), ("chat.json", False), ("vcr.yaml", True)])
def test_a_fresh_machine_replays_through_the_index_without_a_full_read(
    tmp_path: Path, fresh_cache: Path, no_full_read: list[str], name: str, plain: bool
) -> None:
    path = tmp_path / name
    save(Cassette(interactions=[*sample().interactions, streamed("more", ("a", "b", "c"))]), path, plain=plain)
    expected = load(path)
    no_full_read.clear()
    cassette, index = replayed(path)
    assert no_full_read == [] and isinstance(index.source, Derived) and index.source._decoded == {}
    assert cassette.metadata == expected.metadata and cassette.path == path
    answers(index, expected)
    assert not fresh_cache.exists()  # the default matcher's keys came with the index: nothing to cache
    _, loose = replayed(path, Matcher(ignore_fields=("generationConfig.seed",)))
    assert no_full_read == [] and len(loose) == len(expected.interactions)
    assert len(list(fresh_cache.glob("*.keys-*"))) == 1  # another matcher's keys are computed, then cached


@pytest.mark.usefixtures("always")
def test_an_edited_cassette_makes_its_index_stale_and_it_is_ignored(
    tmp_path: Path, fresh_cache: Path, no_full_read: list[str]
) -> None:
    path = tmp_path / "chat.yaml"
    save(many(3), path)
    before = index_path(path).read_bytes()
    path.write_text(path.read_text().replace("answer 1", "answer 7"))  # same size: only the bytes tell
    assert index_state(path) == "stale"
    expected = load(path)
    no_full_read.clear()
    _, index = replayed(path)
    assert no_full_read == [".yaml"]  # read in full, as without an index
    taken = answers(index, expected)[1]
    assert taken.response.body["candidates"][0]["content"]["parts"][0]["text"] == "answer 7"
    assert index_path(path).read_bytes() == before  # a replayer writes nothing beside the cassette


def _cut(data: bytes) -> bytes:
    return data[:-20]


def _body_edited(data: bytes) -> bytes:
    return data.replace(b"answer 2", b"answer 9")


def _not_json(data: bytes) -> bytes:
    return b"not json\n" + data.split(b"\n", 1)[1]


def _other_code(data: bytes) -> bytes:
    head, rest = data.split(b"\n", 1)
    return json.dumps({**json.loads(head), "code": "0" * 64}).encode() + b"\n" + rest


def _keys_damaged(data: bytes) -> bytes:
    head, rest = data.split(b"\n", 1)
    found = json.loads(head)
    return json.dumps({**found, "digests": "ff" + found["digests"][2:]}).encode() + b"\n" + rest


@pytest.mark.usefixtures("always")
@pytest.mark.parametrize(
    ("damage", "used"),
    [(_cut, False), (_body_edited, False), (_not_json, False), (_other_code, False), (_keys_damaged, True)],
)
def test_a_damaged_index_is_ignored(
    tmp_path: Path, fresh_cache: Path, damage: Callable[[bytes], bytes], used: bool
) -> None:
    path = tmp_path / "chat.yaml"
    save(many(4), path)
    expected = load(path)
    where = index_path(path)
    where.write_bytes(damage(where.read_bytes()))
    assert index_state(path) == "stale"
    _, index = replayed(path)
    answers(index, expected)
    assert isinstance(index.source, Derived)
    assert bool(list(fresh_cache.glob("*.jsonl"))) is not used  # only an index whose keys alone are damaged is used


def test_the_index_command_writes_checks_and_refreshes(tmp_path: Path, fresh_cache: Path) -> None:
    path = tmp_path / "chat.yaml"
    save(many(3), path)  # small: no index from the writer
    assert not index_path(path).exists()
    result = runner.invoke(app, ["index", "--check", str(path)])
    assert result.exit_code == 1 and "missing" in result.output
    result = runner.invoke(app, ["index", str(path)])
    assert result.exit_code == 0, result.output
    assert f"-> {index_path(path)} (3 interactions)" in result.output
    assert runner.invoke(app, ["index", "--check", str(path)]).exit_code == 0
    assert "up to date" in runner.invoke(app, ["index", str(path)]).output
    path.write_text(path.read_text().replace("answer 1", "answer 7"))
    result = runner.invoke(app, ["index", "--check", str(path)])
    assert result.exit_code == 1 and "stale" in result.output
    assert runner.invoke(app, ["index", str(path)]).exit_code == 0
    expected = load(path)
    _, index = replayed(path)
    assert isinstance(index.source, Derived) and not fresh_cache.exists()
    answers(index, expected)


def test_the_index_command_refuses_a_cassette_holding_a_key(tmp_path: Path) -> None:
    path = tmp_path / "chat.yaml"
    save(many(2), path)
    path.write_text(path.read_text().replace("answer 1", "answer " + CANARY))
    result = runner.invoke(app, ["index", str(path)])
    assert result.exit_code == 2 and not index_path(path).exists()


@pytest.mark.usefixtures("always")
def test_the_cassette_tools_keep_the_index_current(tmp_path: Path) -> None:
    path = tmp_path / "chat.yaml"
    save(many(2), path)
    path.write_text(path.read_text().replace("answer 1", "answer " + CANARY))  # a key pasted in by hand
    assert index_state(path) == "stale"
    assert runner.invoke(app, ["redact", str(path)]).exit_code == 0
    assert index_state(path) == "current" and CANARY.encode() not in index_path(path).read_bytes()
    for to, target in (("vcrpy", "plain.yaml"), ("genai-replay", "replay.json"), ("readable", "copy.json")):
        result = runner.invoke(app, ["convert", str(path), str(tmp_path / target), "--to", to])
        assert result.exit_code == 0, result.output
        assert index_state(tmp_path / target) == "current", to
    store.discard(path)
    assert not path.exists() and not index_path(path).exists()


# --- recording ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def upstream() -> Iterator[EmulatorThread]:
    """Answers every question, and echoes the caller's key when asked to leak it."""

    def answer(request: ModelRequest, context: ModelContext) -> str:
        text = request.last_user_text
        return f"leaking {CANARY} now" if text == "leak" else f"answer to {text}"

    with EmulatorThread(backend=FunctionBackend(answer)) as emu:
        yield emu


def ask(url: str, text: str) -> str | None:
    client = genai.Client(api_key=CANARY, http_options={"base_url": url})
    return client.models.generate_content(model=MODEL, contents=text).text


def recorded(path: Path, upstream: EmulatorThread, texts: list[str]) -> None:
    """Records ``texts`` into the cassette (new_episodes), then closes the recorder as the server does."""
    with EmulatorThread(Settings(port=0, cassette=path, record_mode="new_episodes", upstream=upstream.url)) as rec:
        for text in texts:
            ask(rec.url, text)
        asyncio.run_coroutine_threadsafe(record.close_all(), rec._loop).result(timeout=60)


@pytest.mark.usefixtures("always")
def test_recording_rewrites_the_index_when_the_journal_is_folded(
    tmp_path: Path, upstream: EmulatorThread, fresh_cache: Path, no_full_read: list[str]
) -> None:
    path = tmp_path / "chat.yaml"
    recorded(path, upstream, ["one", "two"])
    assert index_state(path) == "current"
    first = index_path(path).read_bytes()
    recorded(path, upstream, ["one", "three"])  # "one" replays; "three" is appended
    assert not journal.journal_path(path).exists() and index_state(path) == "current"
    assert index_path(path).read_bytes() != first
    expected = load(path)
    assert len(expected.interactions) == 3
    no_full_read.clear()
    _, index = replayed(path)
    assert no_full_read == [] and isinstance(index.source, Derived)
    answers(index, expected)


@pytest.mark.usefixtures("always")
def test_no_key_reaches_the_index(tmp_path: Path, upstream: EmulatorThread) -> None:
    path = tmp_path / "chat.yaml"
    assert CANARY.startswith("AIza") and len(CANARY) == 39
    recorded(path, upstream, ["hello", "leak"])
    data = index_path(path).read_bytes()
    assert index_state(path) == "current" and b"leaking" in data
    for disguise in (CANARY, CANARY.lower(), CANARY[4:20], json.dumps(CANARY)[1:-1]):
        assert disguise.encode() not in data and disguise.encode() not in path.read_bytes()
    assert header(path)["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()  # of the redacted bytes
    _, index = replayed(path)
    assert index.take("POST", BASE + ":generateContent", prompt("nothing recorded")) is None


def test_a_writer_and_a_replayer_stamp_the_same_code() -> None:
    """A recorder that never replays imports less of the package than a replayer; the code both
    stamp an index with is the same all the same."""
    code = "import emulator.cassette.{} as _; import emulator.cassette.derived_form as f; print(f.fingerprint().hex())"
    seen = {
        subprocess.run([sys.executable, "-c", code.format(m)], capture_output=True, text=True, check=True).stdout
        for m in ("store", "derived", "cli")
    }
    assert len(seen) == 1 and seen != {""}
