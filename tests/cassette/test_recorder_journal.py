"""The recording backend's file work: off the event loop, in order, folded on close, refused whole."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from cassette_samples import unary
from google import genai

from emulator import EmulatorThread, FunctionBackend, ModelContext, ModelRequest, Settings
from emulator.backends import record
from emulator.cassette import Cassette, journal, load, save

MODEL = "gemini-2.5-flash"
OTHER_KEY = "AIza" + "Sy" + "N0tTh3L1v3" * 3 + "abc"  # someone else's key, shaped like one


@pytest.fixture(scope="module")
def upstream() -> Iterator[EmulatorThread]:
    def answer(request: ModelRequest, context: ModelContext) -> str:
        text = request.last_user_text
        return f"leaking {OTHER_KEY}" if text == "leak" else f"answer to {text}"

    with EmulatorThread(backend=FunctionBackend(answer)) as emu:
        yield emu


def recorder(path: Path, upstream: EmulatorThread, mode: str = "new_episodes") -> EmulatorThread:
    return EmulatorThread(Settings(port=0, cassette=path, record_mode=mode, upstream=upstream.url))


def ask(url: str, text: str) -> str | None:
    client = genai.Client(api_key="k" * 12, http_options={"base_url": url})
    return client.models.generate_content(model=MODEL, contents=text).text


def close_recorders(emu: EmulatorThread) -> None:
    """What the server's cleanup hook does: ``await record.close_all()`` on its loop."""
    asyncio.run_coroutine_threadsafe(record.close_all(), emu._loop).result(timeout=60)


def texts(path: Path) -> list[str]:
    return [i.request.body["contents"][0]["parts"][0]["text"] for i in load(path).interactions]


def test_closing_folds_the_journal_and_leaves_only_the_cassette(tmp_path: Path, upstream: EmulatorThread) -> None:
    path = tmp_path / "c.yaml"
    with recorder(path, upstream) as rec:
        for n in range(5):
            assert ask(rec.url, f"q{n}") == f"answer to q{n}"
        assert journal.journal_path(path).exists()  # the last ones wait in the journal
        close_recorders(rec)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]
        assert ask(rec.url, "after close") == "answer to after close"  # still recording: a new journal
    assert texts(path) == ["q0", "q1", "q2", "q3", "q4", "after close"]
    asyncio.run(record.close_all())  # its loop is gone: closed from any other
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


def test_the_file_work_happens_off_the_event_loop(
    tmp_path: Path, upstream: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    appending = threading.Event()
    journal_append = journal.journal_append

    def slow_disk(*args: Any, **kwargs: Any) -> bool:
        appending.set()
        time.sleep(1.0)
        return journal_append(*args, **kwargs)

    monkeypatch.setattr(journal, "journal_append", slow_disk)
    with recorder(tmp_path / "c.yaml", upstream) as rec, ThreadPoolExecutor(1) as pool:
        slow = pool.submit(ask, rec.url, "slow")
        assert appending.wait(10)
        started = time.monotonic()
        client = genai.Client(api_key="k", http_options={"base_url": rec.url})
        assert (
            client.models.get(model=MODEL).name and time.monotonic() - started < 0.5
        )  # answered while the append waits on the disk
        assert not slow.done()
        assert slow.result(timeout=10) == "answer to slow"  # and the answer came only once written
    assert texts(tmp_path / "c.yaml") == ["slow"]


def test_concurrent_calls_are_all_journaled_once(tmp_path: Path, upstream: EmulatorThread) -> None:
    path = tmp_path / "c.yaml"
    with recorder(path, upstream) as rec, ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda n: ask(rec.url, f"call {n}"), range(40)))
        close_recorders(rec)
    assert answers == [f"answer to call {n}" for n in range(40)]
    assert sorted(texts(path)) == sorted(f"call {n}" for n in range(40))


def test_an_answer_that_would_leak_is_refused_and_nothing_is_written(tmp_path: Path, upstream: EmulatorThread) -> None:
    path = tmp_path / "c.yaml"
    save(Cassette(interactions=[unary("kept")]), path)
    before = path.read_bytes()
    with recorder(path, upstream) as rec:
        with pytest.raises(genai.errors.ClientError) as refused:
            ask(rec.url, "leak")
        assert refused.value.code == 400 and refused.value.status == "FAILED_PRECONDITION"
        assert "refused to write the cassette" in str(refused.value.message)
        close_recorders(rec)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


def test_recording_afresh_discards_the_cassette_and_its_journal(tmp_path: Path, upstream: EmulatorThread) -> None:
    path = tmp_path / "c.yaml"
    save(Cassette(interactions=[unary("old")]), path)
    journal.journal_append(path, [unary("old, journaled")])
    with recorder(path, upstream, mode="all") as rec:
        ask(rec.url, "new")
        close_recorders(rec)
    assert texts(path) == ["new"]
