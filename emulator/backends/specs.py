"""Backends named in settings: ``GLOB=SPEC`` routes, built into a :class:`Router`.

SPEC is ``default``, ``scenario:FILE`` (a scenario file, one fresh state per context) or
``callable:MODULE:FUNCTION`` (a function in a module under ``callable_path``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..settings import Settings
from .base import Backend
from .router import Factory, Route, Router


def scenario_factory(document: Any, source: str) -> Factory:
    """A factory of scripted backends for a scenario document; ValueError names what is wrong."""
    from ..scenarios.loader import parse_scenario
    from .scripted import ScriptedBackend

    scenario = parse_scenario(document, source)
    return lambda fallback: ScriptedBackend(scenario, fallback=fallback)


def scenario_file_factory(path: Path) -> Factory:
    from ..scenarios.loader import load_scenario
    from .scripted import ScriptedBackend

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
    if kind == "callable" and argument:
        from .function import FunctionBackend, load_callable

        return Route(pattern, _shared(FunctionBackend(load_callable(argument, settings.callable_path), default)), spec)
    raise ValueError(f"unknown backend {spec!r}: use default, scenario:FILE or callable:MODULE:FUNCTION")


def build_router(settings: Settings, default: Backend) -> Router:
    routes = [parse_route(text, settings, default) for text in settings.backends]
    if settings.scenario is not None:
        routes.append(Route("*", scenario_file_factory(settings.scenario), f"scenario:{settings.scenario}"))
    return Router(default, routes, max_contexts=settings.max_contexts)
