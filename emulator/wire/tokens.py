"""A deterministic token estimate, shared by countTokens, usageMetadata and maxOutputTokens.

The rule (documented in the README): a run of letters is one token per started 8 letters, every
digit is one token, every other non-space character is one token, whitespace is free. Inline and
file data count a flat 258 tokens per part (the real service's figure for one image); function
calls and responses count the tokens of their JSON text. The same text always has the same count,
and counting a prefix never gives more than counting the whole.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

_TOKEN = re.compile(r"[^\W\d_]{1,8}|\d|[^\s]")
MEDIA_TOKENS = 258


def count_text(text: str) -> int:
    return len(_TOKEN.findall(text))


def spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every token, so that output can be cut at a token boundary."""
    for match in _TOKEN.finditer(text):
        yield match.span()


def truncate(text: str, limit: int) -> str:
    """The longest prefix of ``text`` holding at most ``limit`` tokens."""
    end = 0
    for index, (_, stop) in enumerate(spans(text)):
        if index == limit:
            break
        end = stop
    return text[:end] if limit > 0 else ""


def count_part(part: dict[str, Any]) -> int:
    if "text" in part:
        return count_text(part["text"])
    if "inlineData" in part or "fileData" in part:
        return MEDIA_TOKENS
    for key in ("functionCall", "functionResponse", "executableCode", "codeExecutionResult"):
        if key in part:
            return count_text(json.dumps(part[key], sort_keys=True))
    return 0


def count_contents(contents: Iterable[dict[str, Any]]) -> int:
    return sum(count_part(part) for content in contents for part in content.get("parts", ()))


def _modality(mime: str) -> str:
    head = mime.split("/", 1)[0].upper()
    return head if head in ("IMAGE", "AUDIO", "VIDEO") else "DOCUMENT"


def prompt_usage(body: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """Prompt tokens of a request (system instruction, contents, tools) and their split by modality."""
    by_modality: dict[str, int] = {}
    contents = list(body.get("contents", ()))
    if "systemInstruction" in body:
        contents.append(body["systemInstruction"])
    for content in contents:
        for part in content.get("parts", ()):
            media = part.get("inlineData") or part.get("fileData")
            modality = _modality(media.get("mimeType", "")) if media else "TEXT"
            by_modality[modality] = by_modality.get(modality, 0) + count_part(part)
    if body.get("tools"):
        by_modality["TEXT"] = by_modality.get("TEXT", 0) + count_text(json.dumps(body["tools"], sort_keys=True))
    details = [{"modality": m, "tokenCount": n} for m, n in by_modality.items()] or [
        {"modality": "TEXT", "tokenCount": 0}
    ]
    return sum(by_modality.values()), details
