"""Which backend answers a call: by context first, then by model name, then the default.

Backends that keep state (a scenario's rule counters) get one instance per context, made on first
use by the route's factory, so tests sharing one server never share counters. A context can be
given a backend of its own at run time (the control plane's ``scenario``); whatever that backend
does not answer falls back to the static routes of the same context. Overrides weigh what they hold
(a scenario's bytes); past ``override_bytes`` in all, the least recently used contexts lose theirs.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field

from ..backends.base import Backend, Reply, StreamReply
from ..contexts import PerContext
from ..wire.call import Call

_OVERRIDE = -1  # key of a context's override among its made backends
Factory = Callable[[Backend], Backend]
"""Makes a context's backend; receives the backend to fall back on for what it does not answer."""


@dataclass(frozen=True)
class Route:
    pattern: str
    factory: Factory
    description: str = ""

    def matches(self, model_id: str) -> bool:
        return fnmatch.fnmatchcase(model_id, self.pattern)


@dataclass
class _ContextBackends:
    override: Factory | None = None
    override_description: str = ""
    weight: int = 0
    made: dict[int, Backend] = field(default_factory=dict)


class Router:
    """A Backend that delegates; ``routes`` are tried in order, the first matching glob wins."""

    def __init__(
        self,
        default: Backend,
        routes: list[Route] | None = None,
        max_contexts: int = 1000,
        override_bytes: int = 2 * 1024 * 1024,
    ) -> None:
        self.default = default
        self.routes = list(routes or [])
        self.override_bytes = override_bytes
        self._contexts = PerContext(_ContextBackends, max_contexts)

    def _state(self, context: str) -> _ContextBackends:
        return self._contexts.state(context)

    def static_backend(self, context: str, model_id: str) -> Backend:
        """The backend the static routes give ``context`` for a model, made on first use."""
        return self._static(self._state(context), model_id)

    def _static(self, state: _ContextBackends, model_id: str) -> Backend:
        for index, route in enumerate(self.routes):
            if route.matches(model_id):
                backend = state.made.get(index)
                if backend is None:
                    backend = state.made[index] = route.factory(self.default)
                return backend
        return self.default

    def backend_for(self, call: Call) -> Backend:
        return self._backend(call.context, call.model.model_id)

    def _backend(self, context: str, model_id: str) -> Backend:
        state = self._state(context)
        if state.override is None:
            return self._static(state, model_id)
        backend = state.made.get(_OVERRIDE)
        if backend is None:
            backend = state.made[_OVERRIDE] = state.override(_Static(self, context))
        return backend

    def replays(self, context: str, model_id: str) -> bool:
        """Whether a cassette answers this context's calls of this model: what was recorded is replayed
        as it was, whatever the catalogue and the front checks of today say."""
        return bool(getattr(self._backend(context, model_id), "replays", False))

    async def answer(self, call: Call) -> Reply | StreamReply:
        return await self.backend_for(call).answer(call)

    def use(self, context: str, factory: Factory, description: str = "", weight: int = 0) -> list[str]:
        """Gives ``context`` a backend of its own (fresh state), ahead of the static routes.

        ``weight`` is what the factory holds (contexts sharing one factory share it). Returns the
        contexts whose overrides were dropped to stay within ``override_bytes``.
        """
        state = self._state(context)
        state.override, state.override_description, state.weight = factory, description, weight
        state.made.pop(_OVERRIDE, None)
        held = {id(s.override): s.weight for s in self._contexts.values() if s.override is not None}
        total, dropped = sum(held.values()), []
        for name, other in list(self._contexts.items()):  # least recently used first
            if total <= self.override_bytes:
                break
            if name == context or other.override is None:
                continue
            shared = sum(s.override is other.override for s in self._contexts.values())
            total -= other.weight if shared == 1 else 0
            self._contexts.pop(name)
            dropped.append(name)
        return dropped

    def override_backend(self, context: str) -> Backend | None:
        """The backend a context's override made, once a call has used it."""
        state = self._contexts.get(context)
        return state.made.get(_OVERRIDE) if state else None

    def override_of(self, context: str) -> str | None:
        state = self._contexts.get(context)
        return state.override_description if state and state.override else None

    def reset(self, context: str | None = None) -> None:
        """Forgets a context's override and every backend made for it (all contexts when None)."""
        if context is None:
            self._contexts.clear()
        else:
            self._contexts.pop(context, None)


class _Static:
    """The static routes of one context, as the fallback of that context's override."""

    def __init__(self, router: Router, context: str) -> None:
        self.router, self.context = router, context

    async def answer(self, call: Call) -> Reply | StreamReply:
        return await self.router.static_backend(self.context, call.model.model_id).answer(call)
