"""Work that would hold the event loop too long runs here, on a small pool of worker threads.

The loop must keep answering (health checks, other clients' streams) while one request parses a
20 MB body or fills a large schema. Two workers: the work is Python and shares the GIL with the
loop, so more threads would only lengthen the loop's waits without finishing anything sooner.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

HEAVY_BYTES = 256 * 1024
"""Request bodies larger than this are parsed, validated and answered off the loop."""

_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="gemini-emulator-work")


async def off_loop(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)`` in a worker thread, awaited."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_POOL, functools.partial(function, *args, **kwargs))


async def off_loop_quietly(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """:func:`off_loop` under :func:`no_collection`, for work that builds a large tree (a body, a scenario).

    Such work spends most of its time in C calls that hold the GIL throughout (a JSON parser, a
    pydantic validation); a collection inside one lengthens the loop's wait by the whole heap's walk:
    a 1 MB scenario of 8,000 rules parses and validates in 90-100 ms without collections, 160-175 ms with them."""
    return await off_loop(_quietly, functools.partial(function, *args, **kwargs))


def _quietly(work: Callable[[], T]) -> T:
    with no_collection():
        return work()


class _Pause:
    """Who is holding the collector off, and whether it was on before the first of them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holders = 0
        self.was_enabled = False


_PAUSE = _Pause()


@contextlib.contextmanager
def no_collection() -> Iterator[None]:
    """The cyclic garbage collector paused while a worker builds a large tree.

    A 4 MB body of small objects takes 280 ms to parse with collections running, most of it inside
    the C parser, which holds the GIL throughout; 70 ms without. A request's tree has no cycles, so
    reference counting frees all of it anyway. Concurrent users count; the last one out turns
    collection back on (if it was on).
    """
    with _PAUSE.lock:
        if _PAUSE.holders == 0:
            _PAUSE.was_enabled = gc.isenabled()
            gc.disable()
        _PAUSE.holders += 1
    try:
        yield
    finally:
        with _PAUSE.lock:
            _PAUSE.holders -= 1
            if _PAUSE.holders == 0 and _PAUSE.was_enabled:
                gc.enable()
