"""Which API call a request is: flavour, version, operation and model, from the method and path alone.

Paths are matched after any prefix the client's base URL carries (``http://h/prefix/v1beta/...``). A
path under ``projects/{p}/locations/{l}/`` or ``publishers/{publisher}/`` (express mode, no project)
is Vertex AI's; every other is the Developer API's.

A path the real API serves but this emulator does not (files, caches, batches, tuning, the OpenAI-compatible
endpoint, ...) answers 501 UNIMPLEMENTED naming the feature; a path the real API does not have keeps the real
``404 Method not found.``.
"""

from __future__ import annotations

import re

from . import errors
from .call import MODEL_CALLS, VERSIONS, VERTEX_ONLY, VERTEX_VERSIONS, Operation, Target
from .flavour import Flavour

# Segments before the version are a base-URL prefix; an empty one (``//v1beta/...``) is served too.
_PATH = re.compile(
    r"^(?:/[^/]*)*?/(?P<version>" + "|".join(sorted({*VERSIONS, *VERTEX_VERSIONS})) + r")/(?P<rest>.+?)/?$"
)
_MODEL_CALL = re.compile(r"^(?P<model>(?:models|tunedModels)/[^/:]+):(?P<op>[A-Za-z]+)$")
_MODEL_GET = re.compile(r"^(?P<model>models/[^/:]+)$")
_VERTEX = re.compile(
    r"^(?:projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/)?"
    r"(?:(?P<publisher>publishers/[^/]+/)(?P<rest>.+)|(?P<own>models)|(?P<endpoint>endpoints/[^/:]+):(?P<op>[A-Za-z]+))$"
)


_SERVED = "(?:generateContent|streamGenerateContent|countTokens|embedContent|batchEmbedContents)"
"""A tuned model's calls the emulator serves (by POST): another HTTP method on them is no real call at all."""
# What the real service serves and the emulator does not, by the path after the version (and after a Vertex AI
# call's ``projects/p/locations/l/``): (pattern, feature named in the 501).
_DEVELOPER_UNEMULATED = tuple(
    (re.compile(pattern), feature)
    for pattern, feature in (
        (r"^files(?:/|:|$)", "the Files API (files)"),
        (r"^generatedFiles(?:/|$)", "the Files API (generatedFiles)"),
        (r"^cachedContents(?:/|$)", "context caching (cachedContents)"),
        (r"^batches(?:/|:|$)", "the Batch API (batches)"),
        (r"^models/[^/:]+:(?:batchGenerateContent|asyncBatchEmbedContent)$", "the Batch API (batches)"),
        (
            rf"^tunedModels(?:/[^/:]+)?(?:/operations(?:/.*)?)?(?::(?!{_SERVED}$)[A-Za-z]+)?$",
            "model tuning (tunedModels)",
        ),
        (r"^tunedModels/[^/]+/permissions(?:/.*)?$", "model tuning (tunedModels permissions)"),
        (r"^operations(?:/|$)", "long-running operations (operations)"),
        (r"^models/[^/:]+/operations(?:/|$)", "long-running operations (operations)"),
        (r"^models/[^/:]+:(?:predict|predictLongRunning)$", "Imagen and Veo (predict, predictLongRunning)"),
        (r"^openai(?:/|$)", "the OpenAI-compatible API (openai/)"),
        (r"^corpora(?:/|$)", "semantic retrieval (corpora)"),
        (r"^fileSearchStores(?:/|$)", "File Search stores (fileSearchStores)"),
        (r"^authTokens(?:/|$)", "ephemeral tokens for the Live API (authTokens)"),
    )
)
_VERTEX_UNEMULATED = tuple(
    (re.compile(pattern), feature)
    for pattern, feature in (
        (r"^cachedContents(?:/|$)", "context caching (cachedContents)"),
        (r"^batchPredictionJobs(?:/|$)", "batch prediction (batchPredictionJobs)"),
        (r"^tuningJobs(?:/|$)", "model tuning (tuningJobs)"),
        (r"^operations(?:/|$)", "long-running operations (operations)"),
        (r"^endpoints/openapi(?:/|$)", "the OpenAI-compatible API (endpoints/openapi)"),
        (r"^ragCorpora(?:/|$)", "RAG Engine (ragCorpora)"),
        (r"^reasoningEngines(?:/|$)", "Agent Engine (reasoningEngines)"),
        (r"^publishers/google/models/[^/:]+:(?:predictLongRunning|fetchPredictOperation)$", "Veo (predictLongRunning)"),
    )
)
_VERTEX_SCOPE = re.compile(r"^projects/[^/]+/locations/[^/]+/")
_LIVE = "GenerativeService.BidiGenerateContent"
_ROOT_HINT = "; it serves the Developer API under /v1beta/, /v1/ and /v1alpha/ and Vertex AI under /v1/ and /v1beta1/"


def unemulated(path: str) -> str | None:
    """The feature of the real API that ``path`` names and this emulator does not serve, if it names one."""
    if path in ("", "/"):
        return "the service root (GET /)"
    if _LIVE in path:
        return "the Live API (BidiGenerateContent)"
    match = _PATH.match(path)
    if match is None:
        return None
    version, rest = match["version"], match["rest"]
    scoped = _VERTEX_SCOPE.match(rest)
    if scoped is not None or rest.startswith("publishers/"):
        table, rest = _VERTEX_UNEMULATED, rest[scoped.end() :] if scoped else rest
        if version not in VERTEX_VERSIONS:
            return None
    else:
        table = _DEVELOPER_UNEMULATED
        if version not in VERSIONS:
            return None
    return next((feature for pattern, feature in table if pattern.match(rest)), None)


def resolve(http_method: str, path: str) -> Target:
    """The call a request names; unknown paths and wrong HTTP methods get the front end's 404, the real API's
    paths this emulator does not serve a 501 naming what is missing."""
    try:
        return _resolve(http_method, path)
    except errors.ApiError as missing:
        if missing.code == 404 and (feature := unemulated(path)) is not None:
            raise errors.unimplemented(feature, _ROOT_HINT if path in ("", "/") else "") from None
        raise


def _resolve(http_method: str, path: str) -> Target:
    match = _PATH.match(path)
    if match is None:
        raise errors.method_not_found()
    version, rest = match["version"], match["rest"]
    if rest.startswith(("projects/", "publishers/")):
        return _vertex(http_method, version, rest)
    if version not in VERSIONS:
        raise errors.method_not_found()
    if http_method == "POST" and (call := _MODEL_CALL.match(rest)) and call["op"] in MODEL_CALLS:
        operation = MODEL_CALLS[call["op"]]
        if operation not in VERTEX_ONLY:
            return Target(operation, version, call["model"])
    if http_method == "GET":
        if rest == "models":
            return Target(Operation.LIST_MODELS, version)
        if get := _MODEL_GET.match(rest):
            return Target(Operation.GET_MODEL, version, get["model"])
    raise errors.method_not_found()


def _vertex(http_method: str, version: str, rest: str) -> Target:
    """``[projects/p/locations/l/]publishers/google/models/m:op``, its listing and lookup, the project's own
    ``models`` listing and an endpoint's calls (``endpoints/123:generateContent``, a model it lacks)."""
    match = _VERTEX.match(rest)
    if match is None or version not in VERTEX_VERSIONS:
        raise errors.method_not_found()
    if match["project"] is None and match["publisher"] is None:
        raise errors.method_not_found()

    def at(operation: Operation, model: str | None = None) -> Target:
        return Target(operation, version, model, Flavour.VERTEX, match["project"], match["location"])

    if match["own"]:
        if http_method == "GET" and match["project"] is not None:
            return at(Operation.LIST_TUNED)
        raise errors.method_not_found()
    if match["endpoint"]:
        if http_method == "POST" and match["op"] in MODEL_CALLS:
            return at(MODEL_CALLS[match["op"]], match["endpoint"])
        raise errors.method_not_found()
    tail = match["rest"]
    if http_method == "POST" and (call := _MODEL_CALL.match(tail)) and call["op"] in MODEL_CALLS:
        return at(MODEL_CALLS[call["op"]], call["model"])
    if http_method == "GET":
        if tail == "models":
            return at(Operation.LIST_MODELS)
        if get := _MODEL_GET.match(tail):
            return at(Operation.GET_MODEL, get["model"])
    raise errors.method_not_found()
