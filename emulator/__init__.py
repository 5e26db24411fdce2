"""gemini-emulator: the Gemini REST API, offline and deterministic.

Names are imported on first use, so that ``import emulator`` (and the pytest plugin) costs almost
nothing until a server or backend is actually wanted. ``_EXPORTS`` is the one list of them; the
imports under ``TYPE_CHECKING`` only tell type checkers what they are.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ApiError": ".wire.errors",
    "Backend": ".backends.base",
    "Call": ".wire.call",
    "Catalogue": ".wire.catalogue",
    "DefaultBackend": ".backends.default",
    "EmulatorThread": ".server.runner",
    "FunctionBackend": ".backends.function",
    "ModelContext": ".backends.function",
    "ModelInfo": ".wire.catalogue",
    "ModelRequest": ".backends.function",
    "Operation": ".wire.call",
    "Reply": ".backends.base",
    "Router": ".dispatch.router",
    "Settings": ".settings",
    "StreamReply": ".backends.base",
    "create_app": ".server.app",
    "serve": ".server.runner",
}
__all__ = list(_EXPORTS)

if TYPE_CHECKING:
    from .backends.base import Backend, Reply, StreamReply
    from .backends.default import DefaultBackend
    from .backends.function import FunctionBackend, ModelContext, ModelRequest
    from .dispatch.router import Router
    from .server.app import create_app
    from .server.runner import EmulatorThread, serve
    from .settings import Settings
    from .wire.call import Call, Operation
    from .wire.catalogue import Catalogue, ModelInfo
    from .wire.errors import ApiError


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'emulator' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value
