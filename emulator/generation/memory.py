"""What the user told the model earlier in the conversation: names, numbers, likes, places, dates.

The default model has no state between requests, just like the real one: everything it "remembers"
is read here from the ``contents`` the request carries. So a client that drops the history gets an
answer that says it does not know, and a test can tell the two apart.

Only user turns are read (a model turn is the model's own words, a function response is a tool's),
with a few fixed English phrasings, so the rule is small enough to document:

* ``my name is X``, ``call me X``, ``I am X`` / ``I'm X`` (X capitalised) give a *name*;
* ``remember this number: 42``, ``remember the word: banana`` give a *remembered* value (a *number*
  when it is one);
* ``I love / like / enjoy / adore / prefer X`` give a *preference*; ``my favourite X is Y`` too;
* ``I live in X``, ``I moved to X``, ``I'm from X``, ``I come from X`` give a *place*;
* ``I am N years old`` gives an *age*;
* ``my X is Y`` gives an *attribute* labelled X (``my birthday is March 3``, ``my dog is Rex``).

A later statement of the same kind wins ("Actually, call me Bob"). Reading a text is memoised: a
chat re-sends the same history with every message, so a long conversation costs one dictionary
look-up per turn once its turns have been read.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Fact", "Memory", "facts_in", "is_number", "read"]


def _words(text: str) -> frozenset[str]:
    """The words of a space-separated list (kept as text: long word lists read better that way)."""
    return frozenset(text.split())


_CUT = r"(?=\s*(?:[.,;!?\n]|\band\s+(?:I|I'm|I’m|my|we|you|it)\b|\bbut\b|\bso\b|\bbecause\b|$))"
_VALUE = r"([^.,;!?\n]{1,60}?)" + _CUT
_PROPER = r"([A-Z][\w'-]*(?:\s+[A-Z][\w'-]*){0,3})"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("name", re.compile(r"\b(?i:my name is)\s+([A-Za-z][\w'-]*(?:\s+(?!And\b|But\b)[A-Z][\w'-]*)?)")),
    ("name", re.compile(r"\b(?i:call me)\s+([A-Za-z][\w'-]*)")),
    ("name", re.compile(r"\b(?:I am|I'm|I’m)\s+([A-Z][a-z][\w'-]*)\b(?!\s+years)")),
    ("age", re.compile(r"\b(?:I am|I'm|I’m)\s+(\d{1,3})\s+years?\s+old\b", re.IGNORECASE)),
    (
        "remembered",
        re.compile(
            r"\bremember(?:\s+(?:this|that|the|my))?(?:\s+(number|word|code|pin|date|name|colou?r|city|password))?"
            r"\s*(?::|is|=)?\s*(?!that\b|this\b)([\w'/.-]+(?:\s+[\w'/.-]+){0,3}?)" + _CUT,
            re.IGNORECASE,
        ),
    ),
    ("favourite", re.compile(r"\bmy\s+(favou?rite\s+[a-z]+)\s+is\s+" + _VALUE, re.IGNORECASE)),
    (
        "preference",
        re.compile(r"\bI\s+(?:really\s+|also\s+|just\s+)?(love|like|enjoy|adore|prefer)\s+" + _VALUE, re.IGNORECASE),
    ),
    ("place", re.compile(r"\bI\s+(?:live|am living|'m living|moved|relocated)\s+(?:in|to)\s+(?:the\s+)?" + _PROPER)),
    ("place", re.compile(r"\b(?:I am|I'm|I’m|I come|I came)\s+from\s+(?:the\s+)?" + _PROPER)),
    (
        "attribute",
        re.compile(r"\bmy\s+([a-z]+(?:'s)?(?:\s+[a-z]+)?)\s+(?:is|was)\s+(?:on\s+)?" + _VALUE, re.IGNORECASE),
    ),
)
_NOT_NAMES = _words(
    "I A An The Not So Very Just Also Here There Sorry Glad Happy Sure Fine Good Back Done Ready Going "
    "Trying Looking Planning Working Thinking Afraid Still Always Never Really Learning Interested"
)
_FILLER = re.compile(r"\s+(?:very much|so much|a lot|too|as well)$", re.IGNORECASE)
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*")


@dataclass(frozen=True)
class Fact:
    """One thing the user said about themselves: ``kind`` (name, remembered, number, preference,
    place, age, attribute), a ``label`` (the verb or noun that came with it) and the ``value``."""

    kind: str
    label: str
    value: str


@dataclass(frozen=True)
class Memory:
    """The facts of a conversation in the order stated (latest last)."""

    facts: tuple[Fact, ...]

    def latest(self, *kinds: str, label: str | None = None) -> Fact | None:
        """The last fact of one of ``kinds`` (and ``label``, when given)."""
        for fact in reversed(self.facts):
            if fact.kind in kinds and (label is None or fact.label == label):
                return fact
        return None

    def attribute(self, label: str) -> Fact | None:
        """What ``my <label> is ...`` said last, with "favorite"/"favourite" spelt either way."""
        want = _label(label)
        for fact in reversed(self.facts):
            if fact.kind in ("attribute", "favourite", "remembered", "number") and _label(fact.label) == want:
                return fact
        return None

    def known(self) -> dict[str, str]:
        """The latest value of each kind (``name``, ``number``, ``preference``, ...) and of each
        ``my X is Y`` label (``birthday``): what scenarios match on and callables read."""
        out: dict[str, str] = {}
        for fact in self.facts:
            out[fact.kind] = fact.value
            if fact.kind in ("attribute", "favourite"):
                out[_label(fact.label)] = fact.value
        return out

    def preferences(self) -> list[Fact]:
        """Every distinct preference, ordered by when it was last stated (the latest last)."""
        seen: dict[str, Fact] = {}
        for fact in self.facts:
            if fact.kind in ("preference", "favourite"):
                seen.pop(fact.value.lower(), None)  # said again: it moves to the end, the latest
                seen[fact.value.lower()] = fact
        return list(seen.values())


def is_number(value: str) -> bool:
    """Whether ``value`` is written as a number ("42", "3.5", "1,000")."""
    return _NUMBER.fullmatch(value) is not None


def _label(label: str) -> str:
    return " ".join(label.lower().replace("favorite", "favourite").replace("colour", "color").split())


def _clean(value: str) -> str:
    value = _FILLER.sub("", " ".join(value.split())).strip(" \"'“”‘’")
    return value


_MEMO_CHARS = 4096
"""Texts up to this long are memoised; a longer one is read each time (a cache must not hold megabytes)."""


def facts_in(text: str) -> tuple[Fact, ...]:
    """The facts one user text states, in the order written; a pure function of the text, memoised
    for texts a chat re-sends (short ones)."""
    return _facts_memo(text) if len(text) <= _MEMO_CHARS else _facts(text)


@functools.lru_cache(maxsize=4096)
def _facts_memo(text: str) -> tuple[Fact, ...]:
    return _facts(text)


def _facts(text: str) -> tuple[Fact, ...]:
    """Every match of every phrasing, then one sweep in text order: where matches overlap, the one
    that starts first wins, and at the same start the more specific phrasing (earlier in
    :data:`_PATTERNS`). Linear in the text, however many facts it states."""
    lowered = text.lower()
    if not any(w in lowered for w in ("my ", "i ", "i'", "i’", "call me", "remember")):
        return ()
    found: list[tuple[int, int, int, Fact]] = []
    for rank, (kind, pattern) in enumerate(_PATTERNS):
        for match in pattern.finditer(text):
            fact = _fact(kind, match)
            if fact is not None:
                found.append((match.start(), rank, match.end(), fact))
    found.sort(key=lambda item: (item[0], item[1]))
    kept: list[Fact] = []
    reached = -1
    for start, _, end, fact in found:
        if start >= reached:
            kept.append(fact)
            reached = end
    return tuple(kept)


def _fact(kind: str, match: re.Match[str]) -> Fact | None:
    groups = [g for g in match.groups()]
    if kind == "name":
        name = _clean(groups[0])
        if name.split()[0].capitalize() in _NOT_NAMES:
            return None
        return Fact("name", "name", " ".join(w[:1].upper() + w[1:] for w in name.split()))
    if kind == "age":
        return Fact("age", "age", groups[0])
    if kind == "remembered":
        label, value = (groups[0] or "").lower(), _clean(groups[1] or "")
        if not value or value.lower().startswith("my ") or " is " in value:
            return None  # "remember that my locker is 17": an attribute, read as one
        numeric = is_number(value)
        return Fact("number" if numeric else "remembered", label or ("number" if numeric else "thing"), value)
    if kind == "favourite":
        return Fact("favourite", _label(groups[0]), _clean(groups[1]))
    if kind == "preference":
        value = _clean(groups[1])
        if not value or value.lower() in ("it", "that", "this", "you", "to"):
            return None
        return Fact("preference", groups[0].lower(), value)
    if kind == "place":
        return Fact("place", "from" if "from" in match.group(0).lower() else "live", _clean(groups[0]))
    label, value = _label(groups[0]), _clean(groups[1])
    if label == "name":
        return Fact("name", "name", value[:1].upper() + value[1:])
    if not value or label.split()[0] in ("question", "point", "problem", "answer", "guess", "bad", "mistake"):
        return None
    return Fact("attribute", label, value)


def read(contents: Iterable[dict[str, Any]]) -> Memory:
    """Every fact the user turns of ``contents`` state, in order (one memoised look-up per text part)."""
    out: list[Fact] = []
    for content in contents:
        role = content.get("role")
        if role and role != "user":
            continue
        for part in content.get("parts", ()):
            text = part.get("text")
            if text and type(text) is str and not part.get("thought"):
                # facts_in, inlined: this runs for every user part of every request that reads memory
                found = _facts_memo(text) if len(text) <= _MEMO_CHARS else _facts(text)
                if found:
                    out += found
    return Memory(tuple(out))
