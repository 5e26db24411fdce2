"""Per-context state with one bound for all of it: a long-lived shared server meets unboundedly many
contexts (one per API key or test), so every table keyed by context keeps the most recently used
``limit`` of them and drops the oldest."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerContext(OrderedDict[str, T], Generic[T]):
    """An ordered dict of context -> state; :meth:`state` makes, refreshes and evicts."""

    def __init__(self, make: Callable[[], T], limit: int) -> None:
        super().__init__()
        self.make, self.limit = make, limit

    def state(self, context: str) -> T:
        """The context's state (made on first use), now the most recently used."""
        found = self.get(context)
        if found is None:
            found = self[context] = self.make()
            while len(self) > self.limit:
                self.popitem(last=False)
        else:
            self.move_to_end(context)
        return found
