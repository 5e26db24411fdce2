"""Recording into a large cassette costs what recording into a small one costs.

An append used to re-read, re-render and sync the whole cassette, on the event loop: 1.4 s per call
at 32 MB, quadratic in all, and every write refused past 64 MB. Now an interaction is appended to a
journal beside the cassette (one write and one fsync) off the loop, and the journal is folded in
when it outgrows the cassette. These tests print the figures and fail if the cost per append grows
with the size of the cassette (the measured ratio is about 1; the bound is loose for noisy hosts).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from google import genai
from reliability_support import Figures, canary

from emulator import EmulatorThread, Settings
from emulator.cassette import Cassette, journal, load, store
from emulator.cassette.model import Interaction, RecordedRequest, RecordedResponse
from emulator.cassette.redact import scrub

URI = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
KEY = canary("append-cost")
MB = 1024 * 1024


def interaction(n: int) -> Interaction:
    words = f"question {n} about the weather in a city far away " * 20
    return Interaction(
        request=RecordedRequest(method="POST", uri=URI, body={"contents": [{"parts": [{"text": words}]}]}),
        response=RecordedResponse(body={"candidates": [{"content": {"role": "model", "parts": [{"text": words}]}}]}),
    )


def cassette_of_size(path: Path, size: int) -> int:
    """A readable cassette of about ``size`` bytes, made by repeating a rendered block (rendering
    25 MB would take longer than the test); returns how many interactions it holds."""
    block = 200
    text = store.render(Cassette(interactions=[interaction(n) for n in range(block)]), ".yaml")
    head, marker, items = text.partition("interactions:\n")
    copies = max(1, size // len(items))
    path.write_text(head + marker + items * copies)
    return block * copies


def timed(action: Callable[[int], object], count: int) -> tuple[float, float]:
    """Median and 90th percentile of ``action(n)`` in milliseconds."""
    times = []
    for n in range(count):
        started = time.perf_counter()
        action(n)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9)]


def say(capsys: pytest.CaptureFixture[str], line: str) -> None:
    with capsys.disabled():
        print(f"\n{line}", end="")


def test_an_append_costs_the_same_at_1_mb_and_at_25_mb(
    tmp_path: Path, figures: Figures, capsys: pytest.CaptureFixture[str]
) -> None:
    figures_at = {}
    for size in (1 * MB, 25 * MB):
        path = tmp_path / f"c{size // MB}.yaml"
        held = cassette_of_size(path, size)
        before = path.stat().st_mtime_ns
        figures_at[size] = timed(lambda n, p=path: store.append(p, [interaction(10**6 + n)], {KEY}), 150)
        assert path.stat().st_mtime_ns == before  # the cassette itself was not rewritten once
        assert len(load(path).interactions) == held + 150
    (small, small_p90), (large, large_p90) = figures_at[1 * MB], figures_at[25 * MB]
    say(
        capsys,
        f"append: {small:.2f} ms at 1 MB, {large:.2f} ms at 25 MB (median; 90th percentile "
        f"{small_p90:.2f} and {large_p90:.2f} ms); before the journal: 1.4 s at 32 MB",
    )
    figures.set("cassette.append_ms_1mb", small)
    figures.set("cassette.append_ms_25mb", large)
    assert large < 3 * small + 2, "an append got dearer with the size of the cassette"


def test_recording_through_the_server_costs_the_same_at_1_mb_and_at_25_mb(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """End to end: each call forwarded, answered and journaled before the client gets its answer."""
    medians = {}
    with EmulatorThread() as upstream:
        for size in (1 * MB, 25 * MB):
            path = tmp_path / f"r{size // MB}.yaml"
            held = cassette_of_size(path, size)
            settings = Settings(port=0, cassette=path, record_mode="new_episodes", upstream=upstream.url)
            with EmulatorThread(settings) as recorder:
                client = genai.Client(api_key=KEY, http_options={"base_url": recorder.url})

                def ask(n: int, client: genai.Client = client) -> object:
                    return client.models.generate_content(model="gemini-2.5-flash", contents=f"new {n}")

                ask(-1)  # connections and the first journal
                medians[size] = timed(ask, 60)[0]
            assert not journal.journal_path(path).exists()  # folded in when the recorder closed
            assert len(load(path).interactions) == held + 61
    say(capsys, f"recorded call: {medians[MB]:.1f} ms at 1 MB, {medians[25 * MB]:.1f} ms at 25 MB (median)")
    assert medians[25 * MB] < 2 * medians[MB] + 10


def test_scrubbing_a_1_mb_body(capsys: pytest.CaptureFixture[str]) -> None:
    """The figure for redaction with a live key hunted in every disguise (no bound: a benchmark)."""
    text = ("the quick brown fox jumps over the lazy dog " * 24000)[: 1 * MB]
    parts = [{"text": text[i : i + 100]} for i in range(0, len(text), 100)]
    for name, body in (
        ("one string", {"contents": [{"parts": [{"text": text}]}]}),
        ("10k parts", {"contents": [{"parts": parts}]}),
    ):
        item = Interaction(request=RecordedRequest(method="POST", uri=URI, body=body), response=RecordedResponse())
        scrub(item, {KEY})
        median, _ = timed(lambda n, i=item: scrub(i, {KEY}), 5)
        say(capsys, f"scrub: {median:.1f} ms for a 1 MB body ({name})")
