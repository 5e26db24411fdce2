"""What a call is: its operation, API version, model and flavour, and the path that names it.

Everything that needs to know which call a request is (routing, authentication, validation,
cassette matching, backends) takes it from here, so a path is parsed and written in one place.
The flavour is the API a client reaches: the Gemini Developer API (``generativelanguage``) or
Vertex AI (``aiplatform``, under ``projects/{project}/locations/{location}``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .catalogue import ModelInfo


class Flavour(str, Enum):
    DEVELOPER = "developer"
    VERTEX = "vertex"


class Operation(str, Enum):
    """The calls the emulator serves; a model call's value is the method name in its path."""

    GENERATE = "generateContent"
    STREAM = "streamGenerateContent"
    COUNT_TOKENS = "countTokens"
    EMBED = "embedContent"
    BATCH_EMBED = "batchEmbedContents"
    GET_MODEL = "getModel"
    LIST_MODELS = "listModels"

    @property
    def is_model_call(self) -> bool:
        """A POST on ``models/{model}:{operation}`` with a request body, answered by a backend."""
        return self not in (Operation.GET_MODEL, Operation.LIST_MODELS)


MODEL_CALLS = {op.value: op for op in Operation if op.is_model_call}
VERSIONS = ("v1", "v1beta", "v1alpha")
"""The Developer API's versions (the SDKs choose ``v1`` by default, ``v1beta`` on request)."""
ALL_VERSIONS = frozenset({*VERSIONS, "v1beta1"})
"""Every version segment a recorded call of either flavour may carry."""
MODEL_CALL = re.compile(r"(?:^|/)(?P<model>(?:models|tunedModels)/[^/:]+):(?P<op>[A-Za-z]+)$")
"""A model call at the end of a path: ``.../models/gemini-2.5-flash:generateContent``."""


def model_call(path: str) -> tuple[str, Operation] | None:
    """The model and operation of a path that ends in a model call, whatever comes before it."""
    found = MODEL_CALL.search(path)
    if found is None or found["op"] not in MODEL_CALLS:
        return None
    return found["model"], MODEL_CALLS[found["op"]]


@dataclass(frozen=True)
class Target:
    """Which call a request names, from its method and path alone (before any body is read)."""

    operation: Operation
    version: str
    model: str | None = None
    """The model's resource name as the path gives it (``models/x``, ``tunedModels/x``), None for a listing."""
    flavour: Flavour = Flavour.DEVELOPER

    @property
    def path(self) -> str:
        return path_of(self.operation, self.version, self.model)


def path_of(operation: Operation, version: str, model: str | None) -> str:
    """The path and query a call is sent to, as the SDKs write it (``/v1beta/models/m:generateContent``)."""
    if operation is Operation.LIST_MODELS:
        return f"/{version}/models"
    if operation is Operation.GET_MODEL:
        return f"/{version}/{model}"
    query = "?alt=sse" if operation is Operation.STREAM else ""
    return f"/{version}/{model}:{operation.value}{query}"


@dataclass
class Call:
    """One validated model call, as the backends see it.

    ``body`` is the request as canonical JSON (camelCase keys, enum names, standard base64), whatever
    casing and alphabet the client sent, so that equal requests look equal to every backend.
    """

    operation: Operation
    model: ModelInfo
    version: str
    body: dict[str, Any]
    context: str = ""
    key: str | None = field(default=None, repr=False)
    """The caller's API key; only a recording proxy needs it, to forward the call upstream."""
    size: int = 0
    """Bytes of the body as sent: a backend answers heavy calls off the event loop."""
    flavour: Flavour = Flavour.DEVELOPER

    @property
    def streaming(self) -> bool:
        return self.operation is Operation.STREAM

    @property
    def path(self) -> str:
        return path_of(self.operation, self.version, self.model.name)
