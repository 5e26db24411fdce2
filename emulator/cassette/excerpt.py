"""One served call written as a cassette: what the inspector's "Copy as cassette" hands a user, who
pastes it into a cassette (or keeps it as one) to have the same answer replayed.

Only what the journal holds goes in: the path (never the caller's query), the canonical request body
and the answer as sent; no header, so no credential can reach the text.
"""

from __future__ import annotations

from typing import Any

from ..wire.flavour import Flavour
from .matching import VERTEX_GLOBAL
from .model import Cassette, Event, Interaction, RecordedRequest, RecordedResponse

DEVELOPER_HOST = "https://generativelanguage.googleapis.com"
_JSON = {"content-type": ["application/json; charset=UTF-8"]}
_SSE = {"content-type": ["text/event-stream"]}


def interaction(
    flavour: str, path: str, request: dict[str, Any], answer: Any, timing: tuple[float, ...] = ()
) -> Interaction:
    """The call as recorded: a unary ``answer`` (one body) or a stream's chunks (a list, with the
    seconds from the request to each write in ``timing``)."""
    host = VERTEX_GLOBAL if flavour == Flavour.VERTEX.value else DEVELOPER_HOST
    sent = RecordedRequest(method="POST", uri=host + path, headers={"content-type": ["application/json"]}, body=request)
    if isinstance(answer, list):
        delays = [round(b - a, 4) for a, b in zip((0.0, *timing), timing, strict=False)]
        events = [Event(data=chunk, delay=delays[n] if n < len(delays) else None) for n, chunk in enumerate(answer)]
        return Interaction(request=sent, response=RecordedResponse(headers=dict(_SSE), events=events))
    return Interaction(request=sent, response=RecordedResponse(headers=dict(_JSON), body=answer))


def as_yaml(flavour: str, path: str, request: dict[str, Any], answer: Any, timing: tuple[float, ...] = ()) -> str:
    """:func:`interaction` as a whole readable cassette of one interaction, scanned like any write."""
    from . import store  # YAML and file locks load when a call is first copied, not with the server

    return store.render(Cassette(interactions=[interaction(flavour, path, request, answer, timing)]), ".yaml")
