"""Credentials the way the real front ends treat them: where they come from, and what a bad one gets.

The Developer API takes an API key (``x-goog-api-key`` or ``?key=``). Vertex AI takes an OAuth bearer
token (``Authorization: Bearer``), or in express mode an API key of its own kind: Vertex keys start
``AQ.``, and a key of another kind (an AI Studio ``AIza...`` key, say) gets the 401 Vertex gives keys
it does not take. A configured ``--api-key`` is always taken; a configured ``--access-token`` is the only
bearer token taken.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import errors
from .call import Target
from .flavour import Flavour

VERTEX_KEY_PREFIX = "AQ."


@dataclass(frozen=True)
class Caller:
    """Who calls: the credential that names the caller's context, and what a recording proxy forwards."""

    key: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    @property
    def credential(self) -> str:
        return self.token or self.key or ""


def _printable(value: str | None) -> str | None:
    """A credential holding anything but printable ASCII (bytes that are not UTF-8 arrive as surrogates)
    is none the real service issues: the real 400, not a failure to hash or compare it."""
    if value is not None and not (value.isascii() and value.isprintable()):
        raise errors.bad_key()
    return value


def request_key(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The caller's key from ``x-goog-api-key`` (what the SDKs send) or ``?key=`` (what curl users send)."""
    return _printable(headers.get("x-goog-api-key") or query.get("key") or None)


def request_token(headers: Mapping[str, str]) -> str | None:
    """The bearer token of ``Authorization: Bearer <token>``, if any."""
    scheme, _, token = headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return _printable(token.strip())


def request_credential(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The bearer token, else the key: what names a caller's context on either API."""
    return request_token(headers) or request_key(headers, query)


def check(key: str | None, expected: str | None) -> str:
    """The Developer API's rule: returns the key when the call may proceed; any key passes unless one is
    configured."""
    if not key:
        raise errors.no_key()
    if expected is not None and not hmac.compare_digest(key.encode(), expected.encode()):
        raise errors.bad_key()
    return key


def caller(
    target: Target,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    expected_key: str | None,
    expected_token: str | None,
) -> Caller:
    """The caller of a call of either flavour, or the error its API gives the credentials it was sent."""
    if target.flavour is Flavour.DEVELOPER:
        return Caller(key=check(request_key(headers, query), expected_key))
    try:
        token = request_token(headers)
    except errors.ApiError:  # a token no issuer writes: Vertex AI's 401, not the Developer API's bad key
        raise errors.bad_credentials() from None
    if token is not None:
        if expected_token is not None and not hmac.compare_digest(token.encode(), expected_token.encode()):
            raise errors.bad_credentials()
        return Caller(token=token)
    try:
        key = request_key(headers, query)
    except errors.ApiError:  # a key Vertex AI takes is printable ASCII: like any key it does not take
        raise errors.unauthenticated(_method_name(target), key_sent=True) from None
    if key is not None and _vertex_takes(key, expected_key):
        return Caller(key=key)
    raise errors.unauthenticated(_method_name(target), key_sent=key is not None)


def _vertex_takes(key: str, expected: str | None) -> bool:
    if expected is not None:
        return hmac.compare_digest(key.encode(), expected.encode())
    return key.startswith(VERTEX_KEY_PREFIX)


def _method_name(target: Target) -> str:
    """The RPC a Vertex ErrorInfo names: ``google.cloud.aiplatform.v1beta1.PredictionService.GenerateContent``."""
    name = target.operation.value
    return f"google.cloud.aiplatform.{target.version}.PredictionService.{name[:1].upper()}{name[1:]}"
