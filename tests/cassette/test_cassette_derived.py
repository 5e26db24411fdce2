"""The derived index replay reads a cassette through: lazy, faithful, and never stale."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import httpx
import pytest
from cassette_samples import BASE, prompt, sample, unary

from emulator import EmulatorThread, Settings
from emulator.cassette import Cassette, CassetteError, Index, Matcher, derived, load, save
from emulator.cassette.derived import CACHE_ENV, Derived, cache_folder, replay_index
from emulator.cassette.journal import journal_append


def _entries() -> list[Path]:
    folder = cache_folder()
    assert folder is not None
    return sorted(folder.glob("*.jsonl")) if folder.is_dir() else []


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    derived.forget()
    return folder


def fresh(path: Path) -> tuple[Cassette, Index]:
    """The cassette read again from its file (and derived file), not this process's recent index."""
    derived.forget()
    return replay_index(path)


@pytest.mark.parametrize("name", ["chat.yaml", "chat.json"])
def test_interactions_are_decoded_only_when_replayed_and_equal_a_full_read(
    tmp_path: Path, cache: Path, name: str
) -> None:
    path = tmp_path / name
    save(sample(), path)
    full = load(path)
    for attempt in ("cold", "warm"):
        cassette, index = fresh(path)
        assert isinstance(index.source, Derived), attempt
        assert cassette.path == path and cassette.metadata == full.metadata
        assert index.source._decoded == {}
        for n, expected in enumerate(full.interactions):
            req = expected.request
            taken = index.take(req.method, req.uri, req.body)
            assert taken == expected
            assert index.ordinal(taken) == n
        assert len(index.source._decoded) == len(full.interactions)
    assert len(_entries()) == 1


def test_only_the_replayed_interaction_is_decoded(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "many.yaml"
    save(cassette_of(50), path)
    replay_index(path)
    _, index = fresh(path)
    assert index.take("POST", BASE + ":generateContent", prompt("question 49")) is not None
    assert isinstance(index.source, Derived)
    assert list(index.source._decoded) == [49]


def cassette_of(size: int) -> Cassette:
    return Cassette(interactions=[unary(f"question {n}", reply=f"answer {n}") for n in range(size)])


def test_the_same_file_is_indexed_once_per_process(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "chat.yaml"
    save(cassette_of(3), path)
    first, second = replay_index(path), replay_index(path)
    assert first[1] is second[1]
    save(cassette_of(4), path)
    assert len(replay_index(path)[1]) == 4


def test_a_changed_cassette_is_read_again(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "chat.yaml"
    save(cassette_of(3), path)
    replay_index(path)
    text = path.read_text()
    path.write_text(text.replace("answer 1", "answer 7"))  # same size: only the content tells
    _, index = fresh(path)
    taken = index.take("POST", BASE + ":generateContent", prompt("question 1"))
    assert taken is not None and taken.response.body is not None
    assert taken.response.body["candidates"][0]["content"]["parts"][0]["text"] == "answer 7"
    assert len(_entries()) == 2


def test_a_damaged_derived_file_is_ignored_and_rewritten(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "chat.yaml"
    save(cassette_of(3), path)
    replay_index(path)
    (entry,) = _entries()
    entry.write_bytes(entry.read_bytes().replace(b"answer 2", b"answer 9"))
    _, index = fresh(path)
    taken = index.take("POST", BASE + ":generateContent", prompt("question 2"))
    assert taken is not None and taken.response.body is not None
    assert taken.response.body["candidates"][0]["content"]["parts"][0]["text"] == "answer 2"
    assert b"answer 9" not in entry.read_bytes()
    entry.write_bytes(entry.read_bytes()[:-10])  # cut short
    _, index = fresh(path)
    assert index.take("POST", BASE + ":generateContent", prompt("question 2")) is not None


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("cut.yaml", b"version: 1\ninteractions:\n- request: {method: POST, uri: [\n"),
        ("cut.json", b'{"version": 1, "interactions": [{"request": '),
        ("empty.yaml", b"  \n"),
        ("latin.yaml", b"interactions: []\nnote: caf\xe9\n"),
        ("bad.yaml", b"interactions:\n- request: {}\n  response: {}\n"),
    ],
)
def test_a_corrupt_cassette_gives_the_error_a_full_read_gives(
    tmp_path: Path, cache: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CassetteError) as full:
        load(path)
    with pytest.raises(CassetteError) as lazy:
        replay_index(path)
    assert str(lazy.value) == str(full.value)
    assert _entries() == []


def test_what_json_cannot_carry_exactly_is_read_in_full_every_time(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "dated.yaml"
    save(cassette_of(1), path)
    path.write_text(path.read_text().replace("text: question 0", "text: question 0\n          when: 2024-01-02"))
    cassette, index = fresh(path)
    assert not isinstance(index.source, Derived)
    first = cassette.interactions[0].request.body
    assert first["contents"][0]["parts"][0]["when"] == datetime.date(2024, 1, 2)
    assert _entries() == []


def test_a_journaled_cassette_is_read_in_full(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "chat.yaml"
    save(cassette_of(2), path)
    journal_append(path, [unary("question 2", reply="answer 2")])
    cassette, index = replay_index(path)
    assert len(cassette.interactions) == 3 and len(index) == 3
    assert index.take("POST", BASE + ":generateContent", prompt("question 2")) is not None


def test_without_a_cache_folder_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: Path
) -> None:
    monkeypatch.setenv(CACHE_ENV, "off")
    path = tmp_path / "chat.yaml"
    save(cassette_of(2), path)
    _, index = fresh(path)
    assert index.take("POST", BASE + ":generateContent", prompt("question 1")) is not None
    assert not cache.exists()


def test_a_miss_names_the_same_nearest_interaction_as_a_full_read(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "chat.yaml"
    save(cassette_of(5), path)
    replay_index(path)
    _, lazy = fresh(path)
    eager = Index(load(path))
    asked = ("POST", BASE + ":generateContent", prompt("question 3?"))
    (near_lazy, why_lazy), (near_eager, why_eager) = lazy.nearest(*asked), eager.nearest(*asked)
    assert near_lazy == near_eager and why_lazy == why_eager
    assert near_lazy is not None and near_eager is not None
    assert lazy.ordinal(near_lazy) == eager.ordinal(near_eager)
    assert [lazy.ordinal(i) for i in lazy.unused()] == [0, 1, 2, 3, 4]
    assert len(lazy.with_matcher(body=False)) == 5


def test_replayed_bytes_are_the_same_from_a_derived_index(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "chat.yaml"
    save(sample(), path)
    bodies = []
    for _ in range(2):  # cold, then warm
        with EmulatorThread(Settings(port=0, cassette=path, access_log=False)) as emu:
            reply = httpx.post(
                f"{emu.url}/v1beta/models/gemini-2.5-flash:generateContent",
                json=prompt("What is 2+2?"),
                headers={"x-goog-api-key": "k"},
            )
            stream = httpx.post(
                f"{emu.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
                json=prompt("Count"),
                headers={"x-goog-api-key": "k"},
            )
            assert reply.status_code == 200 and stream.status_code == 200
            bodies.append((reply.content, stream.content))
    assert bodies[0] == bodies[1]
    assert json.loads(bodies[0][0])["candidates"][0]["content"]["parts"][0]["text"] == "4"
    assert len(_entries()) == 1


def test_a_later_start_computes_no_match_key(tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "chat.yaml"
    save(cassette_of(4), path)
    replay_index(path)
    (keys,) = cache.glob("*.keys-*")
    calls: list[str] = []
    real = Matcher.parts

    def counting(self: Matcher, method: str, uri: str, body: object) -> object:
        calls.append(uri)
        return real(self, method, uri, body)

    monkeypatch.setattr(Matcher, "parts", counting)
    _, index = fresh(path)
    assert calls == []
    assert index.take("POST", BASE + ":generateContent", prompt("question 3")) is not None
    assert len(calls) == 1
    keys.write_bytes(keys.read_bytes()[:-1] + b"x")  # damaged: computed again, and rewritten
    _, index = fresh(path)
    assert len(calls) == 1 + 4
    assert index.take("POST", BASE + ":generateContent", prompt("question 3")) is not None


def test_each_matcher_has_its_own_keys(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "chat.yaml"
    seeded = cassette_of(1)
    assert seeded.interactions[0].request.body is not None
    seeded.interactions[0].request.body["generationConfig"] = {"seed": 1}
    save(seeded, path)
    asked = {**prompt("question 0"), "generationConfig": {"seed": 2}}
    replay_index(path)
    _, strict = fresh(path)
    assert strict.take("POST", BASE + ":generateContent", asked) is None
    loose_matcher = Matcher(ignore_fields=("generationConfig.seed",))
    for _ in range(2):
        derived.forget()
        _, loose = replay_index(path, loose_matcher)
        assert loose.take("POST", BASE + ":generateContent", asked) is not None
    assert len(list(cache.glob("*.keys-*"))) == 2
