"""Regular expressions that come from outside (requests, scenarios, files), matched in linear time.

Python's ``re`` backtracks: ``(a+)+b`` against thirty ``a`` characters takes longer than a test run,
and it would run on the event loop. RE2 (Google's engine, the one the real service uses for schema
patterns) guarantees time linear in the text, so every foreign pattern is compiled here. RE2 cannot
express look-arounds or back-references; such a pattern raises :class:`PatternError`, and each caller
decides what that means (a scenario refuses it at load time; a schema keyword is not checked).
"""

from __future__ import annotations

import functools
from typing import Any

import re2

__all__ = ["PatternError", "compile_pattern", "search"]

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print every refused pattern to stderr
_CASELESS = re2.Options()
_CASELESS.log_errors = False
_CASELESS.case_sensitive = False
MAX_PATTERN = 8192
"""Longest pattern compiled; RE2 bounds its memory too, this keeps compile time small."""


class PatternError(ValueError):
    """A pattern RE2 cannot compile: a syntax error, or a construct with no linear-time match."""


@functools.lru_cache(maxsize=1024)
def compile_pattern(pattern: str, ignore_case: bool = False) -> Any:
    """The compiled pattern (memoised: schemas and scenarios repeat theirs on every request)."""
    if len(pattern) > MAX_PATTERN:
        raise PatternError(f"the pattern is {len(pattern)} characters long; at most {MAX_PATTERN} are allowed")
    try:
        return re2.compile(pattern, options=_CASELESS if ignore_case else _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(f"{reason} (patterns are RE2: no look-arounds or back-references)") from None


def search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` occurs in ``text``; :class:`PatternError` when it cannot be compiled."""
    return compile_pattern(pattern).search(text) is not None
