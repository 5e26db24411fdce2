"""Bounds on the work one request may cause, so that no single input can freeze the server.

A request can ask for a lot in a few bytes (``minItems: 1000000``, a pattern with nested repeats, a
``$ref`` chain that doubles per level). Generation therefore runs against a :class:`Budget`:

* *output*: the tokens the answer may hold. The real model stops at ``maxOutputTokens`` (or the
  model's ``outputTokenLimit``) with ``finishReason: MAX_TOKENS``; so does generation, raising
  :class:`Exhausted` with the part made so far, which the caller serialises and truncates.
* *steps*: the work spent, used up only by schemas no real service would serve either; it raises
  :class:`TooComplex`, which callers answer with the real "too many states" 400.
* *deadline*: work done on the event loop gets a short slice; past it :class:`Slow` asks the caller
  to start again in a worker thread (answers are deterministic, so the result is the same).

None of these is a ``ValueError``: generators catch ``ValueError`` to try alternatives, and a spent
budget must end the whole generation, not one branch of it.
"""

from __future__ import annotations

import time
from typing import Any

MAX_STEPS = 200_000
"""Values a single generation may visit; the largest schema the tests use needs a few thousand."""
INLINE_SECONDS = 0.02
"""How long work may run on the event loop before it moves to a worker thread."""
_CHECK_EVERY = 64


def inline_deadline() -> float:
    """The end of the slice that work started now may take on the event loop."""
    return time.monotonic() + INLINE_SECONDS


class BudgetSpent(Exception):  # noqa: N818 - not an error of the caller's, a signal to stop
    """A bound of the budget was reached."""


class Exhausted(BudgetSpent):
    """The output is full; ``partial`` is what was made up to that point. ``complete``: all of
    ``partial`` was written and the output ended right after it."""

    def __init__(self, partial: Any = None, complete: bool = False) -> None:
        super().__init__("output budget spent")
        self.partial = partial
        self.complete = complete


class TooComplex(BudgetSpent):
    """The work allowed for one generation is spent: the schema cannot be served."""


class Slow(BudgetSpent):
    """The event loop's slice is spent: run this again off the loop."""


class Budget:
    """Output tokens and steps left for one generation, and the time it may take inline."""

    __slots__ = ("deadline", "steps", "tokens", "_until_check")

    def __init__(self, tokens: int | None = None, steps: int = MAX_STEPS, deadline: float | None = None) -> None:
        self.tokens = tokens
        self.steps = steps
        self.deadline = deadline
        self._until_check = _CHECK_EVERY

    def step(self) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise TooComplex("too many steps")
        self._until_check -= 1
        if self._until_check <= 0:
            self._until_check = _CHECK_EVERY
            if self.deadline is not None and time.monotonic() > self.deadline:
                raise Slow("inline slice spent")

    def work(self, steps: int) -> None:
        """Counts a loop of ``steps`` cheap steps at once (a scan of an enum, say)."""
        self.steps -= steps
        self.step()

    def spend(self, tokens: int, partial: Any = None, complete: bool = False) -> None:
        """Counts output; past the bound raises :class:`Exhausted` carrying ``partial``."""
        if self.tokens is None:
            return
        self.tokens -= tokens
        if self.tokens < 0:
            raise Exhausted(partial, complete)

    def refund(self, tokens: int) -> None:
        """Gives back output that was made and then thrown away (a failed alternative)."""
        if self.tokens is not None:
            self.tokens += tokens
