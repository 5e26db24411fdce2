"""What a call is: its operation, API version, model and flavour, and the path that names it.

Everything that needs to know which call a request is (routing, authentication, validation,
cassette matching, backends) takes it from here, so a path is parsed and written in one place.
The flavour is the API a client reaches: the Gemini Developer API (``generativelanguage``) or
Vertex AI (``aiplatform``, under ``projects/{project}/locations/{location}``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from .flavour import Flavour

if TYPE_CHECKING:
    from .catalogue import ModelInfo


class Operation(str, Enum):
    """The calls the emulator serves; a model call's value is the method name in its path."""

    GENERATE = "generateContent"
    STREAM = "streamGenerateContent"
    COUNT_TOKENS = "countTokens"
    COMPUTE_TOKENS = "computeTokens"
    """Vertex AI only: the tokens of a prompt, each with its id."""
    EMBED = "embedContent"
    BATCH_EMBED = "batchEmbedContents"
    PREDICT = "predict"
    """Vertex AI only: the text-embedding models' ``instances`` form."""
    GET_MODEL = "getModel"
    LIST_MODELS = "listModels"
    LIST_TUNED = "listTunedModels"
    """Vertex AI only: ``projects/{p}/locations/{l}/models``, the project's own models."""

    @property
    def is_model_call(self) -> bool:
        """A POST on ``models/{model}:{operation}`` with a request body, answered by a backend."""
        return self not in (Operation.GET_MODEL, Operation.LIST_MODELS, Operation.LIST_TUNED)


MODEL_CALLS = {op.value: op for op in Operation if op.is_model_call}
VERSIONS = ("v1", "v1beta", "v1alpha")
"""The Developer API's versions (the SDKs choose ``v1`` by default, ``v1beta`` on request)."""
VERTEX_VERSIONS = ("v1", "v1beta1")
"""Vertex AI's versions (the SDKs choose ``v1beta1``)."""
VERTEX_ONLY = frozenset({Operation.COMPUTE_TOKENS, Operation.PREDICT, Operation.LIST_TUNED})
ALL_VERSIONS = frozenset({*VERSIONS, *VERTEX_VERSIONS})
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
    project: str | None = None
    """Vertex AI: the project and location of the path, None in express mode (no such prefix)."""
    location: str | None = None

    @property
    def path(self) -> str:
        return path_of(self.operation, self.version, self.model, self.flavour, self.project, self.location)


@functools.lru_cache(maxsize=256)
def path_of(
    operation: Operation,
    version: str,
    model: str | None,
    flavour: Flavour = Flavour.DEVELOPER,
    project: str | None = None,
    location: str | None = None,
) -> str:
    """The path and query a call is sent to, as the SDKs write it: ``/v1beta/models/m:generateContent``, or
    on Vertex AI ``/v1beta1/projects/p/locations/l/publishers/google/models/m:generateContent`` (without
    the project and location in express mode). Memoised: every journaled call asks, and clients call
    few distinct paths."""
    base = f"/{version}"
    if flavour is Flavour.VERTEX:
        if project is not None:
            base += f"/projects/{project}/locations/{location}"
        if operation is Operation.LIST_TUNED:
            return f"{base}/models"
        if model is None or not model.startswith("endpoints/"):  # an endpoint is the project's own
            base += "/publishers/google"
    if operation is Operation.LIST_MODELS:
        return f"{base}/models"
    if operation is Operation.GET_MODEL:
        return f"{base}/{model}"
    query = "?alt=sse" if operation is Operation.STREAM else ""
    return f"{base}/{model}:{operation.value}{query}"


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
    """The caller's API key; only a recording proxy needs it (or ``token``), to forward the call upstream."""
    size: int = 0
    """Bytes of the body as sent: a backend answers heavy calls off the event loop."""
    flavour: Flavour = Flavour.DEVELOPER
    project: str | None = None
    """Vertex AI: the project and location the path names (None in express mode)."""
    location: str | None = None
    token: str | None = field(default=None, repr=False)
    """Vertex AI: the caller's bearer token, when it sent one instead of a key."""
    user_project: str | None = field(default=None, repr=False)
    """Vertex AI: the project the caller bills (``x-goog-user-project``), forwarded by a recorder, never written."""

    @property
    def streaming(self) -> bool:
        return self.operation is Operation.STREAM

    @property
    def vertex(self) -> bool:
        return self.flavour is Flavour.VERTEX

    @property
    def path(self) -> str:
        return path_of(self.operation, self.version, self.model.name, self.flavour, self.project, self.location)
