"""Other people's cassette formats: vcrpy's plain one and google-genai's replay files.

``to_vcrpy`` writes what vcrpy itself would have recorded (string bodies, streams framed byte for
byte as the service frames them), so vcrpy can play the result. google-genai's replay files
(``ReplayFile`` in ``google/genai/_replay_api_client.py``) keep request and response as parsed
segments, URLs with the host and version replaced by placeholders, and the SDK's own parsed
responses (``sdk_response_segments``), which we cannot produce and keep per interaction as found.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..wire import encode
from . import codec, sse
from .model import FORMAT, Cassette, Event, Headers, Interaction, RecordedRequest, RecordedResponse, header

MLDEV = "{MLDEV_URL_PREFIX}"
VERTEX = "{VERTEX_URL_PREFIX}"
MLDEV_BASE = "https://generativelanguage.googleapis.com/v1beta"
VERTEX_BASE = "https://aiplatform.googleapis.com/v1beta1"
_UNDETERMINISTIC = ("date", "server-timing")  # google-genai drops these when it records
_GENAI_KEPT = ("sdk_response_segments", "byte_segments")


def _body_text(response: RecordedResponse) -> str:
    if response.events is not None:
        return sse.frame([e.data for e in response.events])
    if response.body is not None:
        return encode.unary(response.body).decode()
    return response.raw or ""


def _with_length(headers: Headers, text: str) -> Headers:
    """A re-framed body rarely has the recorded length; a stale Content-Length would cut it."""
    if header(headers, "content-length") is None:
        return headers
    size = str(len(text.encode()))
    return {k: [size] if k.lower() == "content-length" else v for k, v in headers.items()}


def _request_text(body: Any) -> str | None:
    if body is None or isinstance(body, str):
        return body
    return json.dumps(body)  # as google-genai serialises the request it sends


def to_vcrpy(cassette: Cassette) -> dict[str, Any]:
    """A plain vcrpy cassette dict; metadata drops our format tag, or vcrpy's strings would be read as ours."""
    interactions = []
    for item in cassette.interactions:
        req, resp = item.request, item.response
        text = _body_text(resp)
        interactions.append(
            {
                "request": {
                    "method": req.method,
                    "uri": req.uri,
                    "body": _request_text(req.body),
                    "headers": req.headers,
                },
                "response": {
                    "status": {"code": resp.status, "message": resp.message},
                    "headers": _with_length(resp.headers, text),
                    "body": {"string": text},
                },
            }
        )
    data: dict[str, Any] = {"version": codec.VCR_VERSION, "interactions": interactions}
    if metadata := {k: v for k, v in cassette.metadata.items() if k != "format"}:
        data["metadata"] = metadata
    return data


def is_genai_replay(data: Any) -> bool:
    return isinstance(data, dict) and "replay_id" in data and isinstance(data.get("interactions"), list)


def _uri_from_genai(url: str) -> str:
    if url.startswith(MLDEV):
        rest = url[len(MLDEV) :]
        # Upload URLs keep their version after the placeholder (it replaced only "/upload").
        return ("https://generativelanguage.googleapis.com/upload" if re.match(r"/v\d", rest) else MLDEV_BASE) + rest
    if url.startswith(VERTEX + "/"):
        return VERTEX_BASE + url[len(VERTEX) :]
    return url


def _uri_to_genai(uri: str) -> str:
    """google-genai's ``_redact_request_url``, plus our own hosts (an emulator's URLs are loopback ones)."""
    result = re.sub(r".*/projects/[^/]+/locations/[^/]+/", VERTEX + "/", uri)
    result = re.sub(r".*aiplatform.googleapis.com/[^/]+/", VERTEX + "/", result)
    result = re.sub(r".*generativelanguage.*.googleapis.com/[^/]+", MLDEV, result)
    if result == uri:  # express mode on our own hosts: no project or location to mark the prefix's end
        result = re.sub(r"^[a-z]+://[^/]+(?:/[^?]*?)?/(?:v1|v1beta1)(?=/publishers/)", VERTEX, uri)
    if result == uri:
        result = re.sub(r"^[a-z]+://[^/]+(?:/[^?]*?)?/(?:v1|v1beta|v1alpha)(?=/)", MLDEV, uri)
    return result


def _genai_interaction(item: dict[str, Any]) -> Interaction:
    req, resp = item["request"], item["response"]
    segments = req.get("body_segments") or []
    request = RecordedRequest(
        method=str(req["method"]).upper(),
        uri=_uri_from_genai(str(req["url"])),
        headers={k: [str(v)] for k, v in (req.get("headers") or {}).items()},
        body=segments[0] if len(segments) == 1 else (segments or None),
    )
    status = int(resp.get("status_code", 200))
    bodies = resp.get("body_segments") or []
    response = RecordedResponse(
        status=status, message=codec.reason(status), headers={k: [str(v)] for k, v in resp["headers"].items()}
    )
    if status == 200 and ("alt=sse" in request.uri or ":stream" in request.uri or len(bodies) > 1):
        response.events = [Event(data=b) for b in bodies]
    elif bodies:
        response.body = bodies[0]
    kept = {k: resp[k] for k in _GENAI_KEPT if k in resp}
    return Interaction(request=request, response=response, metadata={"genai": kept} if kept else {})


def from_genai_replay(data: dict[str, Any]) -> Cassette:
    try:
        interactions = [_genai_interaction(item) for item in data["interactions"]]
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise codec.FormatError(f"not a google-genai replay file: {type(exc).__name__}: {exc}") from None
    return Cassette(interactions=interactions, metadata={"format": FORMAT, "replay_id": data["replay_id"]})


def _genai_body_segments(response: RecordedResponse) -> list[Any]:
    if response.events is not None:
        return [e.data for e in response.events]
    error = response.error
    if response.status != 200 and error is not None:
        # google-genai records errors without their details (APIError._to_replay_record).
        return [{"error": {k: error.get(k) for k in ("code", "message", "status")}}]
    return [response.body] if response.body is not None else []


def _flat(headers: Headers, drop: tuple[str, ...] = ()) -> dict[str, str]:
    return {k: ", ".join(v) for k, v in headers.items() if k.lower() not in drop}


def _request_headers(headers: Headers) -> dict[str, str]:
    """As google-genai's ``_redact_request_headers`` leaves them: the key masked, user credentials gone."""
    flat = _flat(headers, ("authorization", "x-goog-user-project"))
    return {k: "{REDACTED}" if k.lower() == "x-goog-api-key" else v for k, v in flat.items()}


def to_genai_replay(cassette: Cassette, replay_id: str | None = None) -> dict[str, Any]:
    """A ``ReplayFile`` dict, as google-genai writes them (``model_dump_json(exclude_unset=True)``)."""
    interactions = []
    for item in cassette.interactions:
        req, resp = item.request, item.response
        kept = item.metadata.get("genai") or {}
        response: dict[str, Any] = {
            "status_code": resp.status,
            "headers": _flat(resp.headers, _UNDETERMINISTIC),
            "body_segments": _genai_body_segments(resp),
        }
        if "byte_segments" in kept or (resp.status == 200 and not kept):
            response["byte_segments"] = kept.get("byte_segments", [])
        response["sdk_response_segments"] = kept.get("sdk_response_segments", [])
        interactions.append(
            {
                "request": {
                    "method": req.method.lower(),
                    "url": _uri_to_genai(req.uri),
                    "headers": _request_headers(req.headers),
                    "body_segments": [req.body if req.body is not None else {}],
                },
                "response": response,
            }
        )
    name = replay_id or cassette.metadata.get("replay_id") or (cassette.path.stem if cassette.path else "cassette")
    return {"replay_id": str(name), "interactions": interactions}
