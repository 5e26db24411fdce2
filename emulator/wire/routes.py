"""Which API call a request is: flavour, version, operation and model, from the method and path alone.

Paths are matched after any prefix the client's base URL carries (``http://h/prefix/v1beta/...``). A
path under ``projects/{p}/locations/{l}/`` or ``publishers/{publisher}/`` (express mode, no project)
is Vertex AI's; every other is the Developer API's.
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


def resolve(http_method: str, path: str) -> Target:
    """The call a request names; unknown paths and wrong HTTP methods get the front end's 404."""
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
