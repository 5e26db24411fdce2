"""Persistence under concurrency: nothing lost by parallel appenders, nothing torn for readers; names stay inside."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest
from cassette_samples import sample, unary
from cassette_workers import PER_WRITER, appender, reader

from emulator.cassette import Cassette, CassetteError, append, load, resolve, save
from emulator.cassette.store import locked

WRITERS = 4


def test_concurrent_appenders_lose_nothing_and_readers_never_see_a_torn_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.yaml"
    ctx = multiprocessing.get_context("spawn")  # fork would copy this process's threads and descriptors
    results = ctx.Queue()
    watcher = ctx.Process(target=reader, args=(str(path), 4.0, results))
    writers = [ctx.Process(target=appender, args=(str(path), w)) for w in range(WRITERS)]
    watcher.start()
    for w in writers:
        w.start()
    for w in writers:
        w.join(60)
        assert w.exitcode == 0
    outcome = results.get(timeout=60)
    watcher.join(10)
    assert not isinstance(outcome, str), outcome
    assert outcome[1] > 0
    texts = [i.request.body["contents"][0]["parts"][0]["text"] for i in load(path).interactions]
    assert sorted(texts) == sorted(f"writer {w} call {n}" for w in range(WRITERS) for n in range(PER_WRITER))
    for writer in range(WRITERS):  # each writer's own appends keep their order
        mine = [t for t in texts if t.startswith(f"writer {writer} ")]
        assert mine == [f"writer {writer} call {n}" for n in range(PER_WRITER)]
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_writers_wait_for_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    ctx = multiprocessing.get_context("spawn")
    with locked(path):
        child = ctx.Process(target=appender, args=(str(path), 0))
        child.start()
        time.sleep(1.5)
        assert child.is_alive() and not path.exists()  # blocked on our lock
    child.join(30)
    assert child.exitcode == 0 and len(load(path).interactions) == PER_WRITER


def test_append_to_a_corrupt_cassette_refuses_instead_of_overwriting(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("interactions: [oops")
    with pytest.raises(CassetteError):
        append(path, [unary("x")])
    assert path.read_text() == "interactions: [oops"


def test_append_creates_then_extends(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "c.yaml"
    append(path, [unary("one")])
    append(path, [unary("two"), unary("three")])
    assert [i.request.body["contents"][0]["parts"][0]["text"] for i in load(path).interactions] == [
        "one",
        "two",
        "three",
    ]


def test_save_keeps_the_file_mode_and_replaces_atomically(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save(sample(), path)
    os.chmod(path, 0o640)
    inode = path.stat().st_ino
    save(Cassette(interactions=[unary("new")]), path)
    assert path.stat().st_mode & 0o777 == 0o640
    assert path.stat().st_ino != inode  # a new file renamed over the old one, not rewritten in place
    assert len(load(path).interactions) == 1


def test_resolve_adds_yaml_and_stays_inside(tmp_path: Path) -> None:
    assert resolve(tmp_path, "chat") == tmp_path.resolve() / "chat.yaml"
    assert resolve(tmp_path, "sub/chat.json") == tmp_path.resolve() / "sub" / "chat.json"
    assert resolve(tmp_path, "tests/test_a.py::test_b") == tmp_path.resolve() / "tests" / "test_a.py::test_b.yaml"


@pytest.mark.parametrize("name", ["", "../x", "a/../../x", "/etc/passwd", "a\\..\\b", "nul\x00byte", ".", "a/.."])
def test_resolve_refuses_escapes(tmp_path: Path, name: str) -> None:
    with pytest.raises(CassetteError):
        resolve(tmp_path, name)


def test_resolve_refuses_symlinks_leading_out(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside)
    (root / "file.yaml").symlink_to(outside / "x.yaml")
    (root / "inner").mkdir()
    (root / "ok").symlink_to(root / "inner")
    with pytest.raises(CassetteError, match="outside"):
        resolve(root, "link/c.yaml")
    with pytest.raises(CassetteError, match="outside"):
        resolve(root, "file.yaml")
    assert resolve(root, "ok/c") == root.resolve() / "ok" / "c.yaml"
