"""Redaction before anything is written, and the scan that refuses what redaction missed.

Known places (credential headers, ``?key=``) are cleared whatever their value; known values (the
live key a recorder was handed, ``--secret``) are cleared wherever they appear, upstreams being
fond of echoing URLs and headers back in error bodies. Patterns are not replaced blindly: a key
that is not the live one is a surprise, and the writer refuses it loudly rather than guessing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from .model import Event, Headers, Interaction

REDACTED = "REDACTED"

SECRET_PATTERNS: list[re.Pattern[str]] = [
    re.compile(r"AIza[0-9A-Za-z_-]{35}"),  # Google API keys
    re.compile(r"ya29\.[0-9A-Za-z_-]+"),  # OAuth2 access tokens
]

SENSITIVE_HEADERS = frozenset(
    {"x-goog-api-key", "authorization", "x-goog-user-project", "cookie", "set-cookie", "proxy-authorization"}
)

_KEY_QUERY = r"(?<=[?&]key=)[^&#\s\"'<>]+"


def find_secrets(text: str) -> list[str]:
    """Every pattern hit in ``text``, in order; empty means the text may be written."""
    hits = [(m.start(), m.group()) for p in SECRET_PATTERNS for m in p.finditer(text)]
    return [hit for _, hit in sorted(hits)]


MIN_SECRET = 8
"""Shorter values are not hunted through bodies: a test's key ``k`` would shred every word with a k.
Headers and ``?key=`` are redacted whatever their length; real keys are 39 characters."""


def _replacer(secrets: Iterable[str]) -> Callable[[str], str]:
    """One regex for every known value and the ``key`` query parameter, so each string is scanned once."""
    values = {v for s in secrets if len(s) >= MIN_SECRET for v in (s, quote(s, safe="")) if v not in REDACTED}
    alternatives = [re.escape(v) for v in sorted(values, key=len, reverse=True)] + [_KEY_QUERY]
    pattern = re.compile("|".join(alternatives))

    def replace(text: str) -> str:
        return pattern.sub(REDACTED, text) if text else text

    return replace


def _walk(value: Any, fix: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fix(value)
    if isinstance(value, dict):
        return {fix(k) if isinstance(k, str) else k: _walk(v, fix) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, fix) for v in value]
    return value


def _headers(headers: Headers, fix: Callable[[str], str]) -> Headers:
    return {
        name: [REDACTED] * len(values) if name.lower() in SENSITIVE_HEADERS else [fix(v) for v in values]
        for name, values in headers.items()
    }


def scrub(interaction: Interaction, secrets: Iterable[str] = frozenset()) -> Interaction:
    """A redacted copy; scrubbing it again changes nothing."""
    fix = _replacer(secrets)
    req, resp = interaction.request, interaction.response
    request = req.model_copy(
        update={"uri": fix(req.uri), "headers": _headers(req.headers, fix), "body": _walk(req.body, fix)}
    )
    events = None
    if resp.events is not None:
        events = [Event(data=_walk(e.data, fix), delay=e.delay) for e in resp.events]
    response = resp.model_copy(
        update={
            "headers": _headers(resp.headers, fix),
            "body": _walk(resp.body, fix),
            "events": events,
            "raw": None if resp.raw is None else fix(resp.raw),
        }
    )
    return Interaction(request=request, response=response, metadata=_walk(interaction.metadata, fix))
