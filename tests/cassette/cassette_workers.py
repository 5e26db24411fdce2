"""Process targets for the concurrency tests; a module of their own so that spawned children can import them."""

from __future__ import annotations

import time
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

from cassette_samples import unary

from emulator.cassette import CassetteError, append, load

PER_WRITER = 12


def appender(path: str, writer: int) -> None:
    for n in range(PER_WRITER):
        append(Path(path), [unary(f"writer {writer} call {n}")], secrets={"never-present"})


def reader(path: str, seconds: float, results: Queue[Any]) -> None:
    """Loads the cassette as fast as it can while writers replace it; any failure is a torn read."""
    seen, loads, deadline = 0, 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            seen = max(seen, len(load(Path(path)).interactions))
            loads += 1
        except CassetteError as exc:
            if "cannot read" not in str(exc):  # "cannot read" only until the first writer created it
                results.put(f"torn: {exc}")
                return
    results.put((seen, loads))
