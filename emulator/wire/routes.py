"""Which API call a request is: version, operation and model, from the method and path alone.

Paths are matched after any prefix the client's base URL carries (``http://h/prefix/v1beta/...``).
"""

from __future__ import annotations

import re

from . import errors
from .call import MODEL_CALLS, VERSIONS, Operation, Target

# Segments before the version are a base-URL prefix; an empty one (``//v1beta/...``) is served too.
_PATH = re.compile(r"^(?:/[^/]*)*?/(?P<version>" + "|".join(VERSIONS) + r")/(?P<rest>.+?)/?$")
_MODEL_CALL = re.compile(r"^(?P<model>(?:models|tunedModels)/[^/:]+):(?P<op>[A-Za-z]+)$")
_MODEL_GET = re.compile(r"^(?P<model>models/[^/:]+)$")


def resolve(http_method: str, path: str) -> Target:
    """The call a request names; unknown paths and wrong HTTP methods get the front end's 404."""
    match = _PATH.match(path)
    if match is None:
        raise errors.method_not_found()
    version, rest = match["version"], match["rest"]
    if http_method == "POST" and (call := _MODEL_CALL.match(rest)) and call["op"] in MODEL_CALLS:
        return Target(MODEL_CALLS[call["op"]], version, call["model"])
    if http_method == "GET":
        if rest == "models":
            return Target(Operation.LIST_MODELS, version)
        if get := _MODEL_GET.match(rest):
            return Target(Operation.GET_MODEL, version, get["model"])
    raise errors.method_not_found()
