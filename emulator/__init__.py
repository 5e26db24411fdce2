"""gemini-emulator: the Gemini REST API, offline and deterministic."""

from .backends.base import Backend, Call, Method, Reply, StreamReply
from .backends.default import DefaultBackend
from .backends.function import FunctionBackend, ModelContext, ModelRequest
from .backends.router import Router
from .catalogue import Catalogue, ModelInfo
from .server.app import create_app
from .server.runner import EmulatorThread, serve
from .settings import Settings
from .wire.errors import ApiError

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
