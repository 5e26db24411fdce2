"""Redaction before anything is written, and the scan that refuses what redaction missed.

Known places (credential headers, ``?key=``, ``?access_token=``) are cleared whatever their value;
known values (the live key or bearer token a recorder was handed, ``--secret``) are cleared wherever
they appear, upstreams being fond of echoing URLs and headers back in error bodies. An echo is rarely
exact: it is truncated ("AIzaSyD...x7Q"), upper- or lower-cased, percent-encoded by one layer and not
the next, or base64-encoded inside a token. So every piece of a live secret is hunted in all those
disguises (:class:`Hunt`). Some values are hunted only whole (:class:`Whole`): a project id is made of
words prose uses too. Tokens are unmistakable by their shape (``ya29.``, JWTs, ``Bearer ...``) and
are cleared wherever they appear (:data:`TOKEN_PATTERNS`); keys are not replaced blindly: a key that
is not the live one is a surprise, and the writer refuses it loudly rather than guessing.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import re2

from .model import CassetteError, Event, Headers, Interaction

REDACTED = "REDACTED"

TOKEN_PATTERNS: list[re.Pattern[str]] = [
    re.compile(r"ya29\.[0-9A-Za-z_-]+"),  # OAuth2 access tokens
    re.compile(r"eyJ[0-9A-Za-z_-]{10,}\.eyJ[0-9A-Za-z_-]{10,}\.[0-9A-Za-z_-]*"),  # JWTs: ID tokens, assertions
    re.compile(r"GOCSPX-[0-9A-Za-z_-]{20,}"),  # OAuth client secrets
]
"""Credentials recognised by their shape alone, which nothing else has: cleared wherever they appear,
and so is any bearer token (:func:`_bearer_spans`)."""

SECRET_PATTERNS: list[re.Pattern[str]] = [
    re.compile(r"AIza[0-9A-Za-z_-]{35}"),  # Google API keys
    re.compile(r"AQ\.[0-9A-Za-z_-]{20,}"),  # Vertex AI express-mode API keys
    *TOKEN_PATTERNS,
]
"""What the final scan refuses to write, bearer tokens besides. Every one starts with a literal, which
keeps a scan of tens of megabytes in tens of milliseconds."""

_BEARER = re2.compile(r"(?i:bearer)[ ]+([0-9A-Za-z._~+/-]{16,}=*)")
"""Whatever follows "Bearer ": 16 or more token characters; RE2, since no literal leads the pattern."""

_TOKEN_HINT = re2.compile(r"ya29\.|eyJ[0-9A-Za-z_-]{10,}\.eyJ|GOCSPX-|(?i:bearer) ")
"""A linear-time test for strings that may hold a token, before the costlier patterns run."""

SENSITIVE_HEADERS = frozenset(
    {
        "x-goog-api-key", "authorization", "x-goog-user-project", "cookie", "set-cookie", "proxy-authorization",
        "x-goog-iam-authorization-token", "x-serverless-authorization",
    }
)  # fmt: skip

_KEY_QUERY = re.compile(r"(?:(?<=[?&]key=)|(?<=[?&]access_token=))[^&#\s\"'<>]+")

MIN_SECRET = 8
"""Shorter values are not hunted through bodies: a test's key ``k`` would shred every word with a k.
Headers and ``?key=`` are redacted whatever their length; real keys are 39 characters. It is also the
shortest piece of a secret (in characters of the secret or of its base64) that counts as a leak."""

MAX_HUNTED = 128
"""Characters of secret one compiled pattern hunts: compiling costs more than linear time in what one
alternation holds (a 39-character key: 4 ms; 128 characters: some 40 ms). Longer secrets are cut
into overlapping windows and larger sets into batches, one pattern each, their matches merged."""

_OVERLAP = 2 * MIN_SECRET  # every piece (< 2 * MIN_SECRET units) lies inside one window

MIN_WHOLE = 6
"""Shorter :class:`Whole` values are not hunted (Google Cloud project ids have 6 to 30 characters)."""


@dataclass(frozen=True)
class Whole:
    """A secret hunted only where it appears whole, though in every disguise (letter case,
    percent-encoding, base64): a project id ("acme-search-prod") is made of words prose uses, and a
    project number's digits turn up inside the floats of an embedding, so its pieces would shred
    answers and refuse writes that leak nothing."""

    value: str


Secret = str | Whole
"""What the writers take as ``secrets``: a plain string is hunted piece by piece."""

_B64_CHAR = {"+": r"(?:[+\-]|%2[bB])", "-": r"(?:[+\-]|%2[bB])", "/": r"(?:[/_]|%2[fF])", "_": r"(?:[/_]|%2[fF])"}


def find_secrets(text: str) -> list[str]:
    """Every pattern hit in ``text``, in order; empty means the text may be written."""
    hits = {(m.start(), m.group()) for p in SECRET_PATTERNS for m in p.finditer(text)}
    hits |= {(start, text[start:end]) for start, end in _bearer_spans(text)}
    return [hit for _, hit in sorted(hits)]


def _bearer_spans(text: str) -> list[tuple[int, int]]:
    """Where bearer tokens are: what follows "Bearer " unless it is all letters, as prose is."""
    return [m.span(1) for m in _BEARER.finditer(text) if not m.group(1).rstrip("=").isalpha()]


def scrub_tokens(text: str) -> str:
    """``text`` without anything shaped like a token (:data:`TOKEN_PATTERNS`, bearer tokens)."""
    for pattern in TOKEN_PATTERNS:
        text = pattern.sub(REDACTED, text)
    pieces, last = [], 0
    for start, end in _bearer_spans(text):
        pieces += [text[last:start], REDACTED]
        last = end
    return "".join(pieces) + text[last:] if pieces else text


# --- disguises of a live secret -----------------------------------------------------------------


def _unit(char: str) -> str:
    """One character of a secret as it may appear: itself in any case (the pattern is caseless
    here), or percent-encoded with either hex case; a space may also be a form-encoded ``+``."""
    forms = {_literal(char)} | {"".join(f"%{b:02x}" for b in _utf8(c)) for c in {char, char.lower(), char.upper()}}
    if char == " ":
        forms.add(r"\+")
    return "(?:" + "|".join(sorted(forms)) + ")"


def _utf8(char: str) -> bytes:
    """The bytes a character was sent as: a header's undecodable byte reaches us as a lone surrogate
    (aiohttp decodes with ``surrogateescape``), any other surrogate as itself."""
    try:
        return char.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return char.encode("utf-8", "surrogatepass")


def _literal(char: str) -> str:
    return char if char.isalnum() and char.isascii() else f"\\x{{{ord(char):x}}}"


def _pieces(units: list[str]) -> list[str]:
    """Every run of MIN_SECRET to 2*MIN_SECRET-1 consecutive units; any longer run is several pieces
    end to end, so ``(?:piece)+`` matches exactly the runs of at least MIN_SECRET units."""
    found = []
    for start in range(len(units) - MIN_SECRET + 1):
        tail = ""
        for unit in reversed(units[start + MIN_SECRET : start + 2 * MIN_SECRET - 1]):
            tail = f"(?:{unit}{tail})?"
        found.append("".join(units[start : start + MIN_SECRET]) + tail)
    return found


def _base64_forms(secret: str) -> list[str]:
    """The secret's base64, at each of the three byte alignments it may have inside a longer value,
    keeping only the characters that depend on the secret's bytes alone (the one or two at each end
    that mix in a neighbour's bits tell less than a byte of it)."""
    raw = b"".join(map(_utf8, secret))
    forms = []
    for shift in range(3):
        text = base64.b64encode(b"\0" * shift + raw + b"\0\0").decode()
        forms.append(text[-(-8 * shift // 6) : 8 * (shift + len(raw)) // 6])
    return forms


def _windows(secrets: Iterable[Secret]) -> list[str]:
    """The secrets worth hunting, long ones cut into overlapping windows, in a stable order."""
    found = set()
    for secret in secrets:
        if isinstance(secret, str) and len(secret) >= MIN_SECRET:
            step = MAX_HUNTED - _OVERLAP
            found |= {secret[i : i + MAX_HUNTED] for i in range(0, max(1, len(secret) - _OVERLAP), step)}
    return sorted(found)


_OPTIONS = re2.Options()
_OPTIONS.longest_match = True  # the longest run at the leftmost start: one REDACTED per run, no leftovers
_OPTIONS.never_capture = True
_OPTIONS.log_errors = False


@functools.lru_cache(maxsize=32)
def _compiled(batch: tuple[str, ...]) -> Any:
    """One RE2 pattern for every disguise of a batch of secrets: time linear in the text whatever
    the number of alternatives. Letters and percent-escapes caseless; base64 exact, but either
    alphabet and with ``+`` and ``/`` percent-encoded or not."""
    literal = [p for s in batch for p in _pieces([_unit(c) for c in s])]
    encoded = {p for s in batch for form in _base64_forms(s) for p in _pieces([_B64_CHAR.get(c, c) for c in form])}
    return re2.compile(f"(?:(?i:{'|'.join(literal)})|{'|'.join(sorted(encoded))})+", _OPTIONS)


def _wholes(secrets: Iterable[Secret]) -> list[str]:
    return sorted({s.value for s in secrets if isinstance(s, Whole) and len(s.value) >= MIN_WHOLE})


@functools.lru_cache(maxsize=32)
def _compiled_whole(values: tuple[str, ...]) -> Any:
    """One RE2 pattern for every disguise of whole values, as :func:`_compiled` hunts pieces."""
    literal = ["".join(_unit(c) for c in value) for value in values]
    encoded = {"".join(_B64_CHAR.get(c, c) for c in form) for value in values for form in _base64_forms(value)}
    return re2.compile(f"(?:(?i:{'|'.join(literal)})|{'|'.join(sorted(e for e in encoded if e))})+", _OPTIONS)


class Hunt:
    """Every disguise of a set of live secrets: usually one compiled pattern; for long secrets or
    large sets a few, whose matches are merged so that a run still becomes one REDACTED."""

    def __init__(self, secrets: Iterable[Secret], wholes: Iterable[str] = ()) -> None:
        batches: list[list[str]] = [[]]
        for window in _windows(secrets):
            if batches[-1] and sum(map(len, batches[-1])) + len(window) > MAX_HUNTED:
                batches.append([])
            batches[-1].append(window)
        self.windows = frozenset(w for batch in batches for w in batch) | frozenset(wholes)
        self.patterns = [_compiled(tuple(batch)) for batch in batches if batch]
        if wholes := tuple(sorted(wholes)):
            self.patterns.append(_compiled_whole(wholes))

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def spans(self, text: str) -> list[tuple[int, int]]:
        found = sorted(m.span() for p in self.patterns for m in p.finditer(text))
        merged: list[tuple[int, int]] = []
        for start, end in found:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

    def search(self, text: str) -> bool:
        return any(p.search(text) is not None for p in self.patterns)

    def sub(self, text: str) -> str:
        if len(self.patterns) == 1:
            return str(self.patterns[0].sub(REDACTED, text))
        pieces, last = [], 0
        for start, end in self.spans(text):
            pieces += [text[last:start], REDACTED]
            last = end
        return "".join(pieces) + text[last:]


@functools.lru_cache(maxsize=32)
def _hunt(windows: frozenset[str], wholes: frozenset[str]) -> Hunt:
    return Hunt(windows, wholes)


def hunt(secrets: Iterable[Secret]) -> Hunt:
    """The (memoised) hunt for ``secrets``; false when none is long enough to hunt."""
    secrets = list(secrets)
    return _hunt(frozenset(_windows(secrets)), frozenset(_wholes(secrets)))


def find_disguised(text: str, secrets: Iterable[Secret]) -> list[str]:
    """Pieces of a live secret (in any disguise) in ``text``; REDACTED itself never counts."""
    found = hunt(secrets)
    if not found:
        return []
    return [text[a:b] for a, b in found.spans(text) if text[a:b].replace(REDACTED, "")]


# --- scrubbing ------------------------------------------------------------------------------------


def _replacer(secrets: Iterable[Secret], sample: Any = None) -> Callable[[str], str]:
    """Each string is searched once for disguised secrets, once for tokens and once (when it has one)
    for ``key=``.

    Given ``sample`` (all the data about to be fixed), one search over all its strings joined by
    NULs first: most interactions hold no secret and no token, and one pass over a megabyte costs a
    fraction of ten thousand small ones (a run of a secret never spans a NUL unless the secret has one).
    """
    found: Hunt | None = hunt(secrets) or None
    tokens = True
    if sample is not None:
        joined = "\0".join(_strings(sample))
        if found is not None and _surely_clean(found, joined):
            found = None
        tokens = _TOKEN_HINT.search(joined) is not None

    def replace(text: str) -> str:
        if found is not None and len(text) >= MIN_WHOLE:
            text = found.sub(text)
        if tokens and _TOKEN_HINT.search(text) is not None:
            text = scrub_tokens(text)
        return _KEY_QUERY.sub(REDACTED, text) if "key=" in text or "access_token=" in text else text

    return replace


def _surely_clean(found: Hunt, joined: str) -> bool:
    if any("\0" in window for window in found.windows):
        return False
    return not found.search(joined)


def _strings(value: Any) -> Iterator[str]:
    """Every string in JSON-like data, dict keys included, depth first without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            yield from (k for k in item if isinstance(k, str))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


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
        fix(name): [REDACTED] * len(values) if name.lower() in SENSITIVE_HEADERS else [fix(v) for v in values]
        for name, values in headers.items()
    }


def scrub_data(value: Any, secrets: Iterable[Secret] = frozenset()) -> Any:
    """A redacted copy of JSON-like data (a cassette's own metadata, say)."""
    return _walk(value, _replacer(secrets, value))


def scrub(interaction: Interaction, secrets: Iterable[Secret] = frozenset()) -> Interaction:
    """A redacted copy; scrubbing it again changes nothing."""
    req, resp = interaction.request, interaction.response
    sample = [
        req.method, req.uri, req.headers, req.body, resp.message, resp.headers, resp.body, resp.raw,
        [e.data for e in resp.events or ()], interaction.metadata,
    ]  # fmt: skip
    fix = _replacer(secrets, sample)
    request = req.model_copy(
        update={
            "method": fix(req.method),
            "uri": fix(req.uri),
            "headers": _headers(req.headers, fix),
            "body": _walk(req.body, fix),
        }
    )
    events = None
    if resp.events is not None:
        events = [Event(data=_walk(e.data, fix), delay=e.delay) for e in resp.events]
    response = resp.model_copy(
        update={
            "message": fix(resp.message),
            "headers": _headers(resp.headers, fix),
            "body": _walk(resp.body, fix),
            "events": events,
            "raw": None if resp.raw is None else fix(resp.raw),
        }
    )
    return Interaction(request=request, response=response, metadata=_walk(interaction.metadata, fix))


# --- the access log -------------------------------------------------------------------------------


def _may_hold(text: str, secret: str) -> bool:
    """Whether ``text`` could hold a disguise of ``secret``: an exact, cheap test that spares the
    access log compiling a pattern for every new key. Percent-escapes (which could hide a piece
    behind a stray ``%``) and non-ASCII secrets (whose case folding differs) always say yes."""
    if "%" in text or not secret.isascii() or " " in secret:
        return True
    lowered = text.lower()
    if any(gram in lowered for gram in _grams(secret.lower())):
        return True
    normal = _urlsafe(text)
    return any(gram in normal for form in _base64_forms(secret) for gram in _grams(_urlsafe(form)))


def _grams(text: str) -> set[str]:
    return {text[i : i + MIN_SECRET] for i in range(len(text) - MIN_SECRET + 1)}


def _urlsafe(text: str) -> str:
    return text.replace("+", "-").replace("/", "_")


def for_log(text: str, secrets: Iterable[str]) -> str:
    """``text`` fit for a log line: the request's own key or token gone in any disguise, and so is
    anything shaped like a Google key or token (``AIza...``, ``ya29.``, a JWT) and any ``key=`` value.

    Meant for the event loop: a pattern is compiled only when the text may hold a piece of a key
    (then at most some 40 ms, once per key); keys longer than MAX_HUNTED, which the service never
    issues, are removed only where they appear whole.
    """
    for pattern in SECRET_PATTERNS:
        text = pattern.sub(REDACTED, text)
    text = scrub_tokens(text)
    hunted = []
    for secret in filter(None, secrets):
        if len(secret) > MAX_HUNTED:
            text = text.replace(secret, REDACTED)
        elif len(secret) >= MIN_SECRET and _may_hold(text, secret):
            hunted.append(secret)
    return _replacer(hunted)(text)


def refuse(text: str, secrets: Iterable[Secret] = ()) -> None:
    """The last line of defence on every write path: no key or token pattern reaches the disk, and no
    piece of a live secret in any disguise (case, percent-encoding, base64)."""
    hits = find_secrets(text)
    disguised = find_disguised(text, secrets)
    if hits or disguised:
        shown = ", ".join(sorted({_label(h) for h in hits}) + ["pieces of a live secret"] * bool(disguised))
        raise CassetteError(
            f"refusing to write: {len(hits) + len(disguised)} credential-like string(s) survived redaction "
            f"({shown}); pass them as secrets to redact, or remove them"
        )


def _label(hit: str) -> str:
    """What a refusal may say of a hit: its pattern's name, none of its own characters."""
    for prefix in ("AIza", "ya29", "AQ.", "eyJ", "GOCSPX-"):
        if hit.startswith(prefix):
            return prefix + "..."
    return "a bearer token"
