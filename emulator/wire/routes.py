"""Which API call a request is: version, operation and model, from the method and path alone.

Paths are matched after any prefix the client's base URL carries (``http://h/prefix/v1beta/...``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from . import errors

VERSIONS = ("v1", "v1beta", "v1alpha")


class Operation(str, Enum):
    GENERATE = "generateContent"
    STREAM = "streamGenerateContent"
    COUNT_TOKENS = "countTokens"
    EMBED = "embedContent"
    BATCH_EMBED = "batchEmbedContents"
    GET_MODEL = "getModel"
    LIST_MODELS = "listModels"


_POST_OPS = {
    op.value: op
    for op in (Operation.GENERATE, Operation.STREAM, Operation.COUNT_TOKENS, Operation.EMBED, Operation.BATCH_EMBED)
}
_PATH = re.compile(r"^(?:/[^/]+)*?/(?P<version>v1|v1beta|v1alpha)/(?P<rest>.+?)/?$")
_MODEL_CALL = re.compile(r"^(?P<model>(?:models|tunedModels)/[^/:]+):(?P<op>[A-Za-z]+)$")
_MODEL_GET = re.compile(r"^(?P<model>models/[^/:]+)$")


@dataclass(frozen=True)
class Route:
    version: str
    operation: Operation
    model: str | None = None

    @property
    def needs_body(self) -> bool:
        return self.operation not in (Operation.GET_MODEL, Operation.LIST_MODELS)


def resolve(http_method: str, path: str) -> Route:
    """The call a request names; unknown paths and wrong HTTP methods get the front end's 404."""
    match = _PATH.match(path)
    if match is None:
        raise errors.method_not_found()
    version, rest = match["version"], match["rest"]
    if http_method == "POST" and (call := _MODEL_CALL.match(rest)) and call["op"] in _POST_OPS:
        return Route(version, _POST_OPS[call["op"]], call["model"])
    if http_method == "GET":
        if rest == "models":
            return Route(version, Operation.LIST_MODELS)
        if get := _MODEL_GET.match(rest):
            return Route(version, Operation.GET_MODEL, get["model"])
    raise errors.method_not_found()
