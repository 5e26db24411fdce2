"""Every per-context table is bounded: the least recently used context goes first."""

from __future__ import annotations

import asyncio

from emulator.backends.base import Call, Method
from emulator.backends.default import DefaultBackend
from emulator.backends.router import Router
from emulator.catalogue import Catalogue
from emulator.contexts import PerContext
from emulator.journal import Journal
from emulator.server.faults import Faults
from emulator.wire.faultspec import Fault


def test_the_least_recently_used_context_is_dropped_first() -> None:
    made: list[list[int]] = []

    def make() -> list[int]:
        made.append([])
        return made[-1]

    table: PerContext[list[int]] = PerContext(make, limit=2)
    table.state("a").append(1)
    table.state("b")
    table.state("a")  # a is now the most recent
    table.state("c")
    assert list(table) == ["a", "c"] and table["a"] == [1] and len(made) == 3
    assert table.state("b") == [] and list(table) == ["c", "b"]


def test_journal_keeps_per_context_and_context_bounds() -> None:
    journal = Journal(per_context=3, max_contexts=2)
    for context in ("a", "b", "c"):
        for n in range(5):
            journal.record(context, "m", "generateContent", "v1", {"n": n})
    assert journal.entries("a") == []
    assert [e.request["n"] for e in journal.entries("c")] == [2, 3, 4]
    assert len(journal.entries()) == 6


def test_router_and_faults_forget_the_oldest_contexts() -> None:
    model = Catalogue.load().resolve("gemini-2.5-flash", "generateContent", "v1beta")
    router = Router(DefaultBackend(), max_contexts=2)
    faults = Faults(max_contexts=2)
    for context in ("a", "b", "c"):
        call = Call(Method.GENERATE, model, "v1beta", {"contents": [{"parts": [{"text": "x"}]}]}, context)
        asyncio.run(router.answer(call))
        faults.set(context, [Fault(kind="error", code=503)])
    assert list(router._contexts) == ["b", "c"] and list(faults._contexts) == ["b", "c"]
    assert faults.get("a") == [] and faults.get("c")
