"""API keys the way the real front end treats them: where they may come from, and what a bad one gets."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from . import errors


def request_key(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The caller's key from ``x-goog-api-key`` (what the SDKs send) or ``?key=`` (what curl users send).

    A key holding anything but printable ASCII (bytes that are not UTF-8 arrive as surrogates) is
    no key the real service issues: the real 400, not a failure to hash or compare it.
    """
    key = headers.get("x-goog-api-key") or query.get("key") or None
    if key is not None and not (key.isascii() and key.isprintable()):
        raise errors.bad_key()
    return key


def check(key: str | None, expected: str | None) -> str:
    """Returns the key when the call may proceed; any key passes unless one is configured."""
    if not key:
        raise errors.no_key()
    if expected is not None and not hmac.compare_digest(key.encode(), expected.encode()):
        raise errors.bad_key()
    return key
