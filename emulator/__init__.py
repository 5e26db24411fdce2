"""gemini-emulator: the Gemini REST API, offline and deterministic.

Names are imported on first use, so that ``import emulator`` (and the pytest plugin) costs almost
nothing until a server or backend is actually wanted.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ApiError": ".wire.errors",
    "Backend": ".backends.base",
    "Call": ".backends.base",
    "Catalogue": ".catalogue",
    "DefaultBackend": ".backends.default",
    "EmulatorThread": ".server.runner",
    "FunctionBackend": ".backends.function",
    "Method": ".backends.base",
    "ModelContext": ".backends.function",
    "ModelInfo": ".catalogue",
    "ModelRequest": ".backends.function",
    "Reply": ".backends.base",
    "Router": ".backends.router",
    "Settings": ".settings",
    "StreamReply": ".backends.base",
    "create_app": ".server.app",
    "serve": ".server.runner",
}
__all__ = [
    "ApiError",
    "Backend",
    "Call",
    "Catalogue",
    "DefaultBackend",
    "EmulatorThread",
    "FunctionBackend",
    "Method",
    "ModelContext",
    "ModelInfo",
    "ModelRequest",
    "Reply",
    "Router",
    "Settings",
    "StreamReply",
    "create_app",
    "serve",
]

if TYPE_CHECKING:
    from .backends.base import Backend, Call, Method, Reply, StreamReply
    from .backends.default import DefaultBackend
    from .backends.function import FunctionBackend, ModelContext, ModelRequest
    from .backends.router import Router
    from .catalogue import Catalogue, ModelInfo
    from .server.app import create_app
    from .server.runner import EmulatorThread, serve
    from .settings import Settings
    from .wire.errors import ApiError


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'emulator' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value
