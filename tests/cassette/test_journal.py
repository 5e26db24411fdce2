"""The journal beside a cassette: appends that never rewrite the file, folds that survive crashes at
any point, and nothing left behind once folded."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path

import pytest
from cassette_samples import unary
from typer.testing import CliRunner

from emulator.cassette import Cassette, CassetteError, append, compact, files, journal, load, save, store
from emulator.cassette.cli import app
from emulator.cassette.lint import lint

KEY = "AIza" + "Sy" + "J0urn4l" * 4 + "abcdefg"  # shaped like a key; built so no scanner trips on this file


def texts(path: Path) -> list[str]:
    return [i.request.body["contents"][0]["parts"][0]["text"] for i in load(path).interactions]


def beside(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


def journaled(path: Path, *names: str) -> None:
    """Appends without folding, whatever the sizes say."""
    for name in names:
        journal.journal_append(path, [unary(name)])


def test_appends_go_to_the_journal_and_a_fold_leaves_only_the_cassette(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    append(path, [unary("first")])  # no cassette yet: the journal outgrows it at once and is folded
    assert beside(path) == ["c.yaml"]
    before = path.read_text()
    append(path, [unary("second")])
    assert path.read_text() == before, "an append rewrote the cassette"
    assert beside(path) == [".c.yaml.pending.jsonl", "c.yaml"]
    assert texts(path) == ["first", "second"]
    compact(path)
    assert beside(path) == ["c.yaml"] and texts(path) == ["first", "second"]
    compact(path)  # nothing to fold: nothing happens
    assert beside(path) == ["c.yaml"]


def test_the_journal_is_folded_once_it_outgrows_the_cassette(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save(Cassette(interactions=[unary(f"old {n}") for n in range(20)]), path)
    size, folds, previous = path.stat().st_size, 0, path.stat().st_ino
    for n in range(60):
        due = journal.journal_append(path, [unary(f"new {n}")])
        pending = journal.journal_path(path).stat().st_size
        assert due == (pending > path.stat().st_size)
        if due:
            compact(path)
            folds += 1
            assert path.stat().st_ino != previous and path.stat().st_size > 1.5 * size
            size, previous = path.stat().st_size, path.stat().st_ino
    assert 1 <= folds <= 3  # the cassette roughly doubles each time: a constant cost per append
    assert texts(path) == [f"old {n}" for n in range(20)] + [f"new {n}" for n in range(60)]


def test_readers_and_writers_leave_no_lock_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save(Cassette(interactions=[unary("a")]), path)
    journaled(path, "b")
    load(path)  # a journal exists: the reader locks, and cleans up after itself
    append(path, [unary("c")])
    assert not [name for name in beside(path) if name.endswith((".lock", ".tmp"))]


def test_locks_live_under_the_temporary_folder_named_by_the_resolved_path(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with files.locked(path):
        lock = files.lock_path(path)
        assert lock.parent == Path(tempfile.gettempdir()) / "gemini-emulator-locks"
        assert lock.exists()
        assert lock.name == hashlib.sha256(os.fsencode(path.resolve())).hexdigest() + ".lock"
        assert beside(path) == []
    assert files.lock_path(tmp_path / "sub" / ".." / "c.yaml") == lock  # one lock per resolved path


def test_nothing_in_the_package_imports_fcntl() -> None:
    root = Path(files.__file__).resolve().parent.parent
    assert not [p for p in root.rglob("*.py") if "fcntl" in p.read_text(encoding="utf-8")]


def test_a_torn_last_line_is_ignored_and_cut_off_by_the_next_append(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save(Cassette(interactions=[unary("a")]), path)
    journaled(path, "b")
    with journal.journal_path(path).open("ab") as pending:
        pending.write(b'{"request": {"method": "POST", "uri": "ht')  # a write cut short by a crash
    assert texts(path) == ["a", "b"]
    assert "cut short" in " ".join(str(f) for f in lint(path))
    journaled(path, "c")
    assert texts(path) == ["a", "b", "c"]
    assert b'"uri": "ht' not in journal.journal_path(path).read_bytes()


def test_a_journal_whose_header_was_cut_short_is_started_afresh(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save(Cassette(interactions=[unary("a")]), path)
    journal.journal_path(path).write_bytes(b'{"gemini-emulator-jour')
    assert texts(path) == ["a"]
    journaled(path, "b")
    assert texts(path) == ["a", "b"]
    compact(path)
    assert beside(path) == ["c.yaml"]


def test_a_fold_that_died_before_removing_the_journal_counts_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save(Cassette(interactions=[unary("a")]), path)
    journaled(path, "b", "c")
    left_over = journal.journal_path(path).read_bytes()
    compact(path)
    journal.journal_path(path).write_bytes(left_over)  # as if killed between the replace and the unlink
    assert texts(path) == ["a", "b", "c"]
    journaled(path, "d")  # a recorder that carries on after the crash appends to that journal
    assert texts(path) == ["a", "b", "c", "d"]
    compact(path)
    assert texts(path) == ["a", "b", "c", "d"] and beside(path) == ["c.yaml"]


def test_a_journal_without_a_cassette_loads_lints_and_folds(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    journaled(path, "a", "b")  # the first recording, killed before any fold
    assert not path.exists() and store.exists(path)
    assert texts(path) == ["a", "b"]
    assert any("2 interaction(s) not yet folded" in str(f) for f in lint(path))
    result = CliRunner().invoke(app, ["show", str(path)])
    assert result.exit_code == 0 and "'b'" in result.output
    result = CliRunner().invoke(app, ["redact", str(path)])
    assert result.exit_code == 0, result.output
    assert beside(path) == ["c.yaml"] and texts(path) == ["a", "b"] and lint(path) == []


def test_an_interaction_that_would_leak_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    leaky = unary(f"someone else's key {KEY}")
    with pytest.raises(CassetteError, match="refusing to write"):
        journal.journal_append(path, [leaky])
    save(Cassette(interactions=[unary("a")]), path)
    before = path.read_bytes()
    with pytest.raises(CassetteError, match="refusing to write"):
        append(path, [leaky])
    assert path.read_bytes() == before and beside(path) == ["c.yaml"]


def test_a_cassette_that_would_outgrow_what_replay_reads_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.yaml"
    save(Cassette(interactions=[unary("a")]), path)
    monkeypatch.setattr(files, "MAX_BYTES", path.stat().st_size + 100)
    with pytest.raises(CassetteError, match="would grow past"):
        journal.journal_append(path, [unary("b")])
    assert beside(path) == ["c.yaml"]


def test_save_keeps_journaled_interactions_it_does_not_hold(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save(Cassette(interactions=[unary("a")]), path)
    journaled(path, "b")
    save(Cassette(interactions=[unary("fresh")]), path)  # knows nothing of "b", acknowledged elsewhere
    assert texts(path) == ["fresh", "b"]
    save(load(path), path)  # holds it now: the journal goes, and so does the marker that said so
    assert texts(path) == ["fresh", "b"] and beside(path) == ["c.yaml"]
    assert journal.JOURNAL_KEY not in load(path).metadata and "journal" not in path.read_text()


def test_appends_during_a_fold_move_to_a_new_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.yaml"
    save(Cassette(interactions=[unary("a")]), path)
    journaled(path, "b")
    render = store._rendered  # the fold renders through it

    def slow_render(*args: object, **kwargs: object) -> tuple[str, dict[str, object]]:
        monkeypatch.setattr(store, "_rendered", render)
        journaled(path, "during")  # the fold holds no lock while it renders
        return render(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "_rendered", slow_render)
    compact(path)
    monkeypatch.setattr(store, "_rendered", render)
    assert texts(path) == ["a", "b", "during"]
    assert beside(path) == [".c.yaml.pending.jsonl", "c.yaml"]  # holding only what came meanwhile
    assert len(journal.read_journal(path).lines) == 1  # type: ignore[union-attr]
    compact(path)
    assert texts(path) == ["a", "b", "during"] and beside(path) == ["c.yaml"]


def test_a_fold_gives_way_when_the_cassette_was_replaced_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.yaml"
    save(Cassette(interactions=[unary("a")]), path)
    journaled(path, "b")
    render = store._rendered  # the fold renders through it

    def racing_render(*args: object, **kwargs: object) -> tuple[str, dict[str, object]]:
        text = render(*args, **kwargs)  # type: ignore[arg-type]
        monkeypatch.setattr(store, "_rendered", render)
        save(Cassette(interactions=[unary("saved meanwhile")]), path)
        return text

    monkeypatch.setattr(store, "_rendered", racing_render)
    compact(path)
    monkeypatch.setattr(store, "_rendered", render)
    assert texts(path) == ["saved meanwhile", "b"]  # the fold's stale text was not written over it


def test_one_fold_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    save(Cassette(interactions=[unary("a")]), path)
    journaled(path, "b")
    claim = files.claim(journal.journal_path(path))  # another folder is at work
    assert claim is not None
    try:
        compact(path, wait=False)
        assert journal.journal_path(path).exists()
    finally:
        claim.release()
    compact(path, wait=False)
    assert beside(path) == ["c.yaml"]


def test_the_lock_excludes_even_while_its_file_comes_and_goes(tmp_path: Path) -> None:
    path = tmp_path / "counter.yaml"
    counter = tmp_path / "count"
    counter.write_text("0")

    def bump() -> None:
        for _ in range(200):
            with files.locked(path):
                counter.write_text(str(int(counter.read_text()) + 1))

    threads = [threading.Thread(target=bump) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counter.read_text() == "1200"
    assert beside(path) == ["count"]
