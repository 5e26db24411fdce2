"""Replay from a cassette file, read through its derived index, answers as replay from a cassette in memory."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from backend_calls import call

from emulator.backends.replay import ReplayBackend, replay_factory
from emulator.cassette import Cassette, derived, derived_form, load, save
from emulator.cassette.derived import CACHE_ENV, Derived
from emulator.cassette.model import Interaction, RecordedRequest, RecordedResponse
from emulator.wire.errors import ApiError

URI = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"


def chat(text: str) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}]}


def reply(text: str) -> dict[str, Any]:
    return {
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}],
        "modelVersion": "gemini-2.5-flash",
    }


def recorded(size: int) -> Cassette:
    items = [
        Interaction(
            request=RecordedRequest(method="POST", uri=URI, body=chat(f"question {n}")),
            response=RecordedResponse(headers={"content-type": ["application/json"]}, body=reply(f"answer {n}")),
        )
        for n in range(size)
    ]
    failure = {"error": {"code": 429, "message": "Resource has been exhausted.", "status": "RESOURCE_EXHAUSTED"}}
    items.append(
        Interaction(
            request=RecordedRequest(method="POST", uri=URI, body=chat("too many")),
            response=RecordedResponse(status=429, message="Too Many Requests", body=failure),
        )
    )
    return Cassette(interactions=items)


@pytest.fixture
def path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    derived.forget()
    where = tmp_path / "chat.yaml"
    save(recorded(20), where)
    replay_factory(where)  # the first read writes the derived index
    derived.forget()
    return where


def outcome(backend: ReplayBackend, text: str) -> tuple[str, Any]:
    try:
        answer = asyncio.run(backend.answer(call(chat(text))))
    except ApiError as exc:
        return "error", (exc.code, str(exc))
    return "reply", getattr(answer, "body", None)


def test_a_file_replays_as_the_cassette_in_memory_does(path: Path) -> None:
    lazy = replay_factory(path)(None)
    eager = ReplayBackend(load(path))
    assert isinstance(lazy.index.source, Derived)
    for text in ("question 19", "question 0", "question 19", "too many", "question 7?", "question 3"):
        got = outcome(lazy, text)
        assert got == outcome(eager, text)
    assert got[1]["candidates"][0]["content"]["parts"][0]["text"] == "answer 3"
    assert [lazy.index.ordinal(i) for i in lazy.unused()] == [eager.index.ordinal(i) for i in eager.unused()]


def test_each_context_replays_in_order_of_its_own(path: Path) -> None:
    factory = replay_factory(path)
    first, second = factory(None), factory(None)
    assert first.index.source is second.index.source
    assert outcome(first, "question 1") == outcome(second, "question 1")
    assert first.misses == second.misses == 0


def test_a_file_with_its_index_beside_replays_alike_with_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, "off")
    monkeypatch.setattr(derived_form, "INDEX_MIN_BYTES", 0)
    derived.forget()
    where = tmp_path / "indexed.yaml"
    save(recorded(20), where)
    assert derived.index_state(where) == "current"
    lazy = replay_factory(where)(None)
    eager = ReplayBackend(load(where))
    assert isinstance(lazy.index.source, Derived) and lazy.index.source._decoded == {}
    for text in ("question 19", "question 0", "too many", "question 7?"):
        assert outcome(lazy, text) == outcome(eager, text)
