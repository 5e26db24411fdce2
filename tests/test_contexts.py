"""Every per-context table is bounded: the least recently used context goes first."""

from __future__ import annotations

import asyncio

from emulator.backends.base import Backend
from emulator.backends.default import DefaultBackend
from emulator.contexts import PerContext
from emulator.dispatch.router import Router
from emulator.journal import Journal
from emulator.server.faults import MAX_HEADER_FAULTS, Faults
from emulator.wire.call import Call, Operation
from emulator.wire.catalogue import Catalogue
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
        call = Call(Operation.GENERATE, model, "v1beta", {"contents": [{"parts": [{"text": "x"}]}]}, context)
        asyncio.run(router.answer(call))
        faults.set(context, [Fault(kind="error", code=503)])
    assert list(router._contexts) == ["b", "c"] and list(faults._contexts) == ["b", "c"]
    assert faults.get("a") == [] and faults.get("c")


def test_journal_keeps_its_bytes_per_context_and_in_all() -> None:
    journal = Journal(context_bytes=10_000, total_bytes=15_000)
    big = {"text": "x" * 4_000}
    for n in range(5):
        journal.record("a", "m", "countTokens", "v1", {**big, "n": n})
    assert [e.request["n"] for e in journal.entries("a")] == [3, 4]  # 2 x ~4 KB within 10 KB; the newest kept
    for context in ("b", "c", "d"):
        journal.record(context, "m", "countTokens", "v1", big)
    assert journal.entries("a") == [] and journal.bytes <= 15_000  # the least recently used context gave way
    journal.record("e", "m", "countTokens", "v1", {"text": "x" * 50_000})
    assert len(journal.entries("e")) == 1  # one entry larger than every budget is still kept, alone
    record = journal.record("f", "m", "streamGenerateContent", "v1", {})
    before = journal.bytes
    record.replied([{"candidates": []}], "stream", size=3_000)
    assert journal.bytes == before + 3_000  # replies count too
    journal.clear()
    assert journal.bytes == 0


def test_distinct_header_faults_are_counted_within_a_bound() -> None:
    faults = Faults()
    for n in range(1_000):
        faults.choose("ctx", "gemini-2.5-flash", f'{{"kind": "latency", "delay": 0, "seed": {n}}}', lambda: 0)
    state = faults._contexts["ctx"]
    assert len(state.counts) <= MAX_HEADER_FAULTS and len(state.headers) == MAX_HEADER_FAULTS


def test_scenario_overrides_stay_within_their_bytes() -> None:
    router = Router(DefaultBackend(), override_bytes=1_000)

    def factory(fallback: Backend) -> Backend:
        return fallback

    shared = factory
    for context in ("a", "b", "c"):
        assert router.use(context, shared, "shared", weight=600) == []  # one document, shared: counted once
    dropped = router.use("d", lambda fallback: fallback, "own", weight=600)
    assert dropped == ["a", "b", "c"] and router.override_of("d") == "own"
