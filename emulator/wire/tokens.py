"""A deterministic token estimate, shared by countTokens, usageMetadata and maxOutputTokens.

The rule (documented in the README): a run of letters is one token per started 8 letters, every
digit is one token, every other non-space character is one token, whitespace is free. Inline and
file data count a flat 258 tokens per part (the real service's figure for one image); function
calls and responses count the tokens of their JSON text. The same text always has the same count,
and counting a prefix never gives more than counting the whole.

Vertex AI also bills by character: every character of a text but whitespace (the recorded
``totalBillableCharacters`` and ``billableCharacterCount`` figures all equal that count), and shows
the tokens themselves (``computeTokens``): here each token with the whitespace before it, so that
the pieces of a text join back into it, under an id drawn from the piece.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

_TOKEN = re.compile(r"[^\W\d_]{1,8}|\d|[^\s]")
MEDIA_TOKENS = 258

# count_text is the hot spot of every answer (prompt, output and thought tokens), so it counts
# without the regex where it can. Each character is mapped to its class: ``a`` for a letter (what
# ``[^\W\d_]`` matches: alphanumeric but not a decimal digit, and not ``_``), `` `` for whitespace
# (``\s``: ``str.isspace``), ``.`` for anything else. Then the tokens are the ``.`` characters plus,
# for every run of letters of length n, ceil(n / 8): ``count(8 letters)`` gives the floor over all
# runs, and the runs that remain once those chunks are removed add one each. Equal to the regex for
# every string (tests/wire/test_encode.py checks it against ``_TOKEN`` with hypothesis).
_MEMO_MAX_CHARS = 2048  # texts memoised by count_text: at most 2048 of them, each this long at most
_ERRORS = "gemini-emulator.token-class"
_CHUNK = b"a" * 8


def _class_of(char: str) -> str:
    if char.isspace():
        return " "
    return "a" if char.isalnum() and not char.isdecimal() else "."


_ASCII_CLASSES = bytes(ord(_class_of(chr(i))) if i < 128 else ord(".") for i in range(256))


class _Classes(dict[str, str]):
    """The class of every non-ASCII character met so far (a pure function of the character)."""

    def __missing__(self, char: str) -> str:
        found = self[char] = _class_of(char)
        return found


_NON_ASCII_CLASSES = _Classes()


def _replace_by_class(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: ASCII encoding writes each non-ASCII character as its class."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    run = error.object[error.start : error.end]
    return "".join(map(_NON_ASCII_CLASSES.__getitem__, run)), error.end


codecs.register_error(_ERRORS, _replace_by_class)


def _count_classes(classes: bytes) -> int:
    """Tokens of a text given as one class byte per character (``a``, `` `` or ``.``)."""
    chunks = classes.count(_CHUNK)
    rest = classes.replace(_CHUNK, b"") if chunks else classes
    runs = rest.count(b" a") + rest.count(b".a") + rest.startswith(b"a")
    return classes.count(b".") + chunks + runs


def _count(text: str) -> int:
    if text.isascii():
        return _count_classes(text.encode("ascii").translate(_ASCII_CLASSES))
    # The error handler costs a call per run of non-ASCII characters, the regex a few dozen ns per
    # character: text with few non-ASCII characters goes the first way, the rest (CJK, say) the second.
    if (len(text.encode("utf-8", "surrogatepass")) - len(text)) * 36 < len(text):
        return _count_classes(text.encode("ascii", _ERRORS).translate(_ASCII_CLASSES))
    return len(_TOKEN.findall(text))


@functools.lru_cache(maxsize=2048)
def _count_memo(text: str) -> int:
    return _count(text)


def count_text(text: str) -> int:
    """Tokens of ``text`` (see the module docstring); short texts are memoised, the count being a pure function."""
    return _count_memo(text) if len(text) <= _MEMO_MAX_CHARS else _count(text)


def spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every token, so that output can be cut at a token boundary."""
    for match in _TOKEN.finditer(text):
        yield match.span()


def classes(text: str) -> bytes:
    """One class byte per character of ``text`` (``a`` letter, `` `` space, ``.`` anything else)."""
    return text.encode("ascii", _ERRORS).translate(_ASCII_CLASSES)


@functools.lru_cache(maxsize=16)
def _every(tokens: int) -> re.Pattern[bytes]:
    return re.compile(rb"(?: *(?:a{1,8}+|\.)){%d}" % tokens)  # possessive: a run of letters is never split


def ends_every(text: str, tokens: int) -> list[int]:
    """The end of every ``tokens``-th token of ``text``: one regex pass over its classes, no loop per token."""
    return [match.end() for match in _every(tokens).finditer(classes(text))]


def truncate(text: str, limit: int) -> str:
    """The longest prefix of ``text`` holding at most ``limit`` tokens, without the whitespace after its
    last token: one regex pass over the classes, where a walk token by token would be a Python loop as
    long as the output limit."""
    if limit <= 0:
        return ""
    if count_text(text) <= limit:
        return text.rstrip()
    found = _every(limit).match(classes(text))
    assert found is not None  # the text holds more than ``limit`` tokens
    return text[: found.end()]


def pieces(text: str) -> list[str]:
    """The text of each token of ``text``, with the whitespace before it (and the last with the
    whitespace after it too): as many pieces as :func:`count_text` counts, joining back into ``text``."""
    ends = [end for _, end in spans(text)]
    if not ends:
        return []
    ends[-1] = len(text)
    return [text[start:end] for start, end in zip([0, *ends], ends, strict=False)]


VOCABULARY = 262_144
"""Token ids range below this (the size of the Gemini models' vocabulary)."""


def token_id(piece: str) -> int:
    """A token's id: the same piece always gets the same one."""
    digest = hashlib.blake2b(piece.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % VOCABULARY


_ASCII_SPACE = bytes(i for i in range(128) if chr(i).isspace())


def billable_characters(text: str) -> int:
    """The characters Vertex AI bills of ``text``: all but whitespace."""
    if text.isascii():
        return len(text.encode("ascii").translate(None, _ASCII_SPACE))
    return len(text) - sum(map(str.isspace, text))


def count_part(part: dict[str, Any]) -> int:
    if "text" in part:
        return count_text(part["text"])
    if "inlineData" in part or "fileData" in part:
        return MEDIA_TOKENS
    for key in ("functionCall", "functionResponse", "executableCode", "codeExecutionResult"):
        if key in part:
            return count_text(json.dumps(part[key], sort_keys=True))
    return 0


def _modality(mime: str) -> str:
    head = mime.split("/", 1)[0].upper()
    return head if head in ("IMAGE", "AUDIO", "VIDEO") else "DOCUMENT"


def prompt_usage(body: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """Prompt tokens of a request (system instruction, contents, tools) and their split by modality.

    Every turn of a chat is walked on every request, so the common part (text, no media) takes a
    short path: its tokens add up in a local, and ``TEXT`` takes its place among the modalities
    (the order the details list them in) where the first text part stood."""
    media_tokens: dict[str, int] = {}
    text_tokens = 0
    text_at: int | None = None  # where TEXT stands among the modalities, once a text part is met
    contents = list(body.get("contents", ()))
    if "systemInstruction" in body:
        contents.append(body["systemInstruction"])
    for content in contents:
        for part in content.get("parts", ()):
            if "inlineData" in part or "fileData" in part:
                media = part.get("inlineData") or part.get("fileData")
                if media:
                    modality = _modality(media.get("mimeType", ""))
                    media_tokens[modality] = media_tokens.get(modality, 0) + count_part(part)
                    continue
            if text_at is None:
                text_at = len(media_tokens)
            text = part.get("text")
            if type(text) is str:
                text_tokens += _count_memo(text) if len(text) <= _MEMO_MAX_CHARS else _count(text)
            else:
                text_tokens += count_part(part)
    if body.get("tools"):
        if text_at is None:
            text_at = len(media_tokens)
        text_tokens += count_text(json.dumps(body["tools"], sort_keys=True))
    details = [{"modality": m, "tokenCount": n} for m, n in media_tokens.items()]
    if text_at is not None:
        details.insert(text_at, {"modality": "TEXT", "tokenCount": text_tokens})
    return sum(media_tokens.values()) + text_tokens, details or [{"modality": "TEXT", "tokenCount": 0}]
