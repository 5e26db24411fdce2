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

    def __init__(self, make: Callable[[], T], limit: int, on_drop: Callable[[T], None] | None = None) -> None:
        super().__init__()
        self.make, self.limit, self.on_drop = make, limit, on_drop

    def state(self, context: str) -> T:
        """The context's state (made on first use), now the most recently used."""
        found = self.get(context)
        if found is None:
            found = self[context] = self.make()
            while len(self) > self.limit:
                self._dropped(self.popitem(last=False)[1])
        else:
            self.move_to_end(context)
        return found

    def forget(self, context: str | None = None) -> None:
        """Drops one context's state, or every context's (None)."""
        for name in [context] if context is not None else list(self):
            if name in self:
                self._dropped(super().pop(name))

    def _dropped(self, state: T) -> None:
        if self.on_drop is not None:
            self.on_drop(state)
