"""Strings that match a regular expression, written from the pattern's parse tree.

Literals, classes, ``.``, repeats, groups and alternation are generated; anchors are skipped.
Look-arounds, back-references and conditionals raise :class:`Unsupported`, and the caller falls
back to a string built without the pattern. Characters come from printable ASCII, so a class that
only non-ASCII characters satisfy is unsupported too. Patterns and the strings written from them are
bounded (``(a{1000}){1000}`` would otherwise be a million characters): past the bound, Unsupported.
"""

from __future__ import annotations

import importlib
import random
import re
import string
import sys
from typing import Any

_sre: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")
_PRINTABLE = string.ascii_letters + string.digits + string.punctuation + " "
MAX_PATTERN = 8192


class Unsupported(Exception):
    """A regex construct the writer does not generate."""


class PatternWriter:
    """Writes strings for parse trees, drawing every choice from ``rng``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.classes: dict[int, str] = {}
        self.left = 0

    def parse(self, pattern: str) -> Any:
        """The parse tree of ``pattern``, or None when Python cannot compile it (or it is too long)."""
        self.classes.clear()  # keyed by id() of parse-tree nodes, valid for one tree only
        if len(pattern) > MAX_PATTERN:
            return None
        try:
            return _sre.parse(pattern)
        except (re.error, RecursionError, OverflowError):
            return None

    def write(self, items: Any, spread: int, stretch: bool, limit: int) -> str:
        """A string for the tree ``items``, of at most ``limit`` atoms (Unsupported beyond)."""
        self.left = limit
        return self.emit(items, spread, stretch)

    def emit(self, items: Any, spread: int, stretch: bool) -> str:
        self.left -= len(items)
        if self.left < 0:
            raise Unsupported("the string would be too long")
        out: list[str] = []
        for op, arg in items:
            kind = str(op)
            if kind == "LITERAL":
                out.append(chr(arg))
            elif kind in ("IN", "ANY", "NOT_LITERAL"):
                out.append(self.pick_char(op, arg))
            elif kind in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                least, most, sub = arg
                top = min(most, least + spread)
                count = top if stretch else self.rng.randint(least, top)
                out.extend(self.emit(sub, spread, stretch) for _ in range(count))
            elif kind in ("SUBPATTERN", "ATOMIC_GROUP"):
                out.append(self.emit(arg[-1] if kind == "SUBPATTERN" else arg, spread, stretch))
            elif kind == "BRANCH":
                out.append(self.emit(self.rng.choice(arg[1]), spread, stretch))
            elif kind != "AT":
                raise Unsupported(kind)
        return "".join(out)

    def pick_char(self, op: Any, arg: Any) -> str:
        key = id(arg) if str(op) == "IN" else hash((str(op), arg))
        if key not in self.classes:
            self.classes[key] = "".join(c for c in _PRINTABLE if in_class(c, str(op), arg))
        if not self.classes[key]:
            raise Unsupported("empty character class")
        return self.rng.choice(self.classes[key])


def in_class(char: str, op: str, arg: Any) -> bool:
    """Whether ``char`` matches one parsed regex atom (a class, ``.`` or a negated literal)."""
    if op == "ANY":
        return char != "\n"
    if op == "NOT_LITERAL":
        return char != chr(arg)
    hit, negate = False, False
    for kind, val in arg:
        kind = str(kind)
        if kind == "NEGATE":
            negate = True
        elif kind == "LITERAL":
            hit |= char == chr(val)
        elif kind == "RANGE":
            hit |= val[0] <= ord(char) <= val[1]
        elif kind == "CATEGORY":
            cat = str(val).replace("CATEGORY_", "")
            test = {"DIGIT": char.isdigit(), "SPACE": char.isspace(), "WORD": char.isalnum() or char == "_"}
            base = cat.replace("NOT_", "")
            hit |= test.get(base, False) != cat.startswith("NOT_")
        else:
            raise Unsupported(kind)
    return hit != negate
