"""Backends named in settings: ``GLOB=SPEC`` routes, built into a :class:`Router`.

SPEC is ``default``, ``scenario:FILE`` (a scenario file, one fresh state per context),
``cassette:FILE`` (replayed, one replay state per context; recorded into under a record mode) or
``callable:MODULE:FUNCTION`` (a function in a module under ``callable_path``).
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..backends.base import Backend
from ..settings import Settings
from .router import Factory, Route, Router

if TYPE_CHECKING:
    from ..cassette.matching import Matcher

_PARSED: weakref.WeakValueDictionary[bytes, Factory] = weakref.WeakValueDictionary()


def scenario_factory(document: str | bytes, source: str) -> Factory:
    """A factory of scripted backends for a scenario document; ValueError names what is wrong.

    Parsing is the costly part (a 1 MB file takes a second and some 20 MB), and a test suite loads
    the same scenario for test after test, so a document's factory is shared for as long as some
    context uses it.
    """
    from ..backends.scripted import ScriptedBackend
    from ..scenarios.loader import parse_scenario

    raw = document.encode() if isinstance(document, str) else document
    key = hashlib.sha256(raw).digest()  # the source only names the document in errors, which are not kept
    if (found := _PARSED.get(key)) is not None:
        return found
    try:
        scenario = parse_scenario(raw, source)
    except RecursionError:
        raise ValueError(f"{source}: the scenario is nested too deeply") from None

    def factory(fallback: Backend) -> Backend:
        return ScriptedBackend(scenario, fallback=fallback)

    _PARSED[key] = factory
    return factory


RECORD_MODES = ("none", "once", "new_episodes", "all")
"""In order of what they may do to a cassette: a context may narrow the server's mode, never widen it."""


def scenario_file_factory(path: Path) -> Factory:
    from ..backends.scripted import ScriptedBackend
    from ..scenarios.loader import load_scenario

    scenario = load_scenario(path)
    return lambda fallback: ScriptedBackend(scenario, fallback=fallback)


def _shared(backend: Backend) -> Factory:
    return lambda fallback: backend


def parse_route(text: str, settings: Settings, default: Backend) -> Route:
    pattern, sep, spec = text.partition("=")
    if not sep or not pattern:
        raise ValueError(f"a backend route is GLOB=SPEC, not {text!r}")
    kind, _, argument = spec.partition(":")
    if kind == "default" and not argument:
        return Route(pattern, _shared(default), "default")
    if kind == "scenario" and argument:
        return Route(pattern, scenario_file_factory(Path(argument)), spec)
    if kind == "cassette" and argument:
        return Route(pattern, cassette_factory(Path(argument), settings), spec)
    if kind == "callable" and argument:
        from ..backends.function import FunctionBackend, load_callable

        return Route(pattern, _shared(FunctionBackend(load_callable(argument, settings.callable_path), default)), spec)
    raise ValueError(f"unknown backend {spec!r}: use default, scenario:FILE, cassette:FILE or callable:MODULE:FUNCTION")


def matcher_of(settings: Settings) -> Matcher:
    """How replay tells one request from another, as the settings ask."""
    from ..cassette.matching import Matcher  # the cassette machinery loads only when a cassette is used

    return Matcher(ignore_fields=tuple(settings.match_ignore), location=settings.match_location)


def cassette_factory(path: Path, settings: Settings) -> Factory:
    """Replays ``path`` (one replay state per context), or records into it under a record mode."""
    if settings.record_mode != "none":
        from ..backends.record import RecordingBackend

        recorder = RecordingBackend(
            path,
            settings.upstream,
            settings.record_mode,
            settings.record_errors,
            vertex_upstream=settings.vertex_upstream,
            matcher=matcher_of(settings),
        )
        return _shared(recorder)
    from ..backends.replay import replay_factory

    options = {"timing": settings.replay_timing, "after_last": settings.after_last, "matcher": matcher_of(settings)}
    factory: Factory = replay_factory(path, **options)
    return factory


def build_router(settings: Settings, default: Backend) -> Router:
    routes = [parse_route(text, settings, default) for text in settings.backends]
    if settings.scenario is not None:
        routes.append(Route("*", scenario_file_factory(settings.scenario), f"scenario:{settings.scenario}"))
    if settings.cassette is not None and not settings.cassette.is_dir():
        routes.append(Route("*", cassette_factory(settings.cassette, settings), f"cassette:{settings.cassette}"))
    return Router(default, routes, max_contexts=settings.max_contexts, override_bytes=settings.scenario_bytes)


def inline_cassette(document: Any, settings: Settings) -> Factory:
    """Replays a cassette sent in a control-plane body (any format a file may have); never records."""
    from ..backends.replay import replay_factory
    from ..cassette.store import from_data

    cassette = from_data(document, "the cassette sent")
    options = {"timing": settings.replay_timing, "after_last": settings.after_last, "matcher": matcher_of(settings)}
    factory: Factory = replay_factory(cassette, **options)
    return factory


def cassette_chooser(settings: Settings) -> Callable[[dict[str, Any]], Factory]:
    """For the control plane: from ``{"name": NAME, "record_mode": MODE?}`` a factory for cassette NAME
    under the cassette directory, per context; from ``{"cassette": DOCUMENT}`` one that replays it."""

    def choose(request: dict[str, Any]) -> Factory:
        from ..cassette.store import resolve

        if "cassette" in request:
            if request.get("record_mode") not in (None, "none"):
                raise ValueError("a cassette sent in the body is replayed, never recorded into")
            return inline_cassette(request["cassette"], settings)
        name, mode = request["name"], request.get("record_mode") or settings.record_mode
        if settings.cassette is None or not settings.cassette.is_dir():
            raise ValueError("choosing a cassette by name needs --cassette to name a directory")
        if mode not in RECORD_MODES or RECORD_MODES.index(mode) > RECORD_MODES.index(settings.record_mode):
            raise ValueError(
                f"record mode {mode!r} is more than this server was started with ({settings.record_mode!r}); "
                "recording and re-recording are switched on only by --record-mode when the server starts"
            )
        return cassette_factory(resolve(settings.cassette, name), settings.model_copy(update={"record_mode": mode}))

    return choose
