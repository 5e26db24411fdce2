"""Values a prompt names, lent to function-call arguments and structured output.

"What is the weather in Boston?" must call ``get_weather(location="Boston")``, and "1000 divided by
8" must call ``divide(a=1000, b=8)``: a test checks that the client passed the user's words through,
so generated look-alikes are not enough. A :class:`Grounding` reads the prompt once and then
answers, property by property, what the prompt gives for it:

* a *place* (capitalised words after "in", "at", "from", "to", "near", "about" ...) for a string
  property named like ``location``, ``city``, ``place``, ``destination``, ``address``, ``country``;
* a *person* (a capitalised word that is not a common word, a month or a day) for ``name``,
  ``person``, ``recipient``, ``contact``, ``author`` ... (not for ``recipe_name``: that names a thing);
* a *date* (``2025-03-14``, ``March 14, 2025``, ``14 March 2025``; as ISO ``YYYY-MM-DD``, and for a
  plain string without a year as written) for ``date``, ``day``, ``when``, ``deadline`` ... or
  ``format: date``;
* a *quoted string* ("..." or '...') for text-like properties (``query``, ``text``, ``message``,
  ``title`` ...), else for the first other plain string;
* a *number* for a numeric property: the number written next to its name ("3 days", "age 30"),
  else (function calls) the prompt's numbers in order, so ``a`` gets 1000 and ``b`` 8;
* for a follow-up ("How about in New York?"), what the previous call of the same function was
  given, for what the new prompt does not say.

Enum members named in the prompt are picked by :mod:`.schema_values` itself. A value is only used
where it is valid for the property's schema (the caller checks); otherwise the value is generated
as before. Clues are consumed in order, so two ``name`` fields get two different names.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable
from typing import Any

__all__ = ["MISSING", "Grounding"]


def _words(text: str) -> frozenset[str]:
    """The words of a space-separated list (kept as text: long word lists read better that way)."""
    return frozenset(text.split())


TEXT_CHARS = 16_384
"""Prompt text read for values: a prompt that names a place or a number names it early enough."""
MISSING: Any = object()
"""What :meth:`Grounding.value` answers when the prompt gives nothing for a property."""

_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_DAYS = _words("monday tuesday wednesday thursday friday saturday sunday")
_COMMON = _words(
    "what how who where when why which whose is are was were can could would should will shall may might "
    "please tell give list show find get send set make create write book call check the a an and or but "
    "if i my me you your it its this that these those then also use let do does did hi hello hey thanks "
    "thank ok okay yes no now today tomorrow yesterday tonight next last in at on for to from of with by "
    "about into near celsius fahrenheit kelvin am pm utc gmt he she they we our their his her there here "
    "after before summarize remember recommend suggest add divide multiply subtract compute calculate "
    "convert translate search look plan schedule weather time extract parse describe generate return "
    "provide identify explain compare answer note info json output summarise classify rate review rewrite"
)
_PROPER = r"[A-Z][\w'’.-]*(?:\s+(?:[A-Z][\w'’-]*|de|del|da|do|la|le|upon|on))*"
_PLACE = re.compile(r"\b(in|at|from|to|near|around|about|visit|visiting|for)\s+(?:the\s+)?(" + _PROPER + r")")
_STRONG = frozenset({"in", "at", "from", "near", "around", "visit", "visiting"})
"""Prepositions that name a place; after "to", "for" or "about" a capitalised word may be a person."""
_CAPITAL = re.compile(r"\b[A-Z][a-z][\w'’-]*")
_OPENS = re.compile(r"(?:^|[.!?:;]\s+|\n)$")
_SUBJECT = re.compile(r"(?:\s+(?:is|was|has|had|and|will|lives|works|likes|loves|said|says|wants)\b|,|'s\b)")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?(?![\w])")
_QUOTED = re.compile(r"\"([^\"\n]{1,200})\"|“([^”\n]{1,200})”|(?<![\w])'([^'\n]{1,200})'(?![\w])")
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONTH = "(" + "|".join(_MONTHS) + "|" + "|".join(m[:3] for m in _MONTHS) + r")\.?"
_MONTH_DAY = re.compile(_MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b", re.IGNORECASE)
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"(?:,?\s+(\d{4}))?\b", re.IGNORECASE)
_RELATIVE = re.compile(
    r"\b(today|tomorrow|tonight|yesterday"
    r"|next (?:week|month|monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b",
    re.I,
)

_COUNT_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "a couple of": 2, "a pair of": 2, "a few": 3,
}  # fmt: skip
_COUNTED = re.compile(
    r"\b(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a couple of|a pair of|a few)\s+"
    r"(?:[a-z-]+\s+){0,3}?([a-z]+s)\b",
    re.IGNORECASE,
)
_NEAR_WORDS = {
    "age": ("age", "aged", "years", "old"),
    "days": ("days", "day"),
    "people": ("people", "persons", "guests"),
}
_PLACE_WORDS = _words(
    "location city place town destination address region country where origin area locality venue village "
    "state province home"
)
_PERSON_WORDS = _words(
    "name person recipient user contact author customer attendee assignee owner friend who username guest"
)
_PERSON_QUALIFIERS = frozenset({"first", "last", "full", "user", "display", "author", "customer", "contact", "person"})
_DATE_WORDS = _words("date day when deadline due birthday start end departure arrival checkin checkout")
_TEXT_WORDS = _words(
    "query text message title subject content body note q search keyword keywords term topic prompt "
    "question comment expression phrase sentence word words"
)


def _tokens(name: str) -> list[str]:
    return re.findall(r"[a-z]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower())


MAX_DIGITS = 30
"""Longer runs of digits are no quantity anyone asks a tool about (and ``int()`` refuses over 4,300)."""


def _number(raw: str) -> int | float | None:
    clean = raw.replace(",", "")
    if len(clean) > MAX_DIGITS:
        return None
    return float(clean) if "." in clean else int(clean)


class Grounding:
    """The values ``text`` names, handed out property by property (see the module docstring).

    ``numbers_in_order`` lends the prompt's numbers to numeric properties in order (function calls:
    "1000 divided by 8"); without it only a number written next to the property's name is used.
    ``previous`` is the arguments of the previous call of the same function, for a follow-up.
    """

    def __init__(self, text: str, *, numbers_in_order: bool = True, previous: dict[str, Any] | None = None) -> None:
        text = text[:TEXT_CHARS]
        self.text = text
        self.numbers_in_order = numbers_in_order
        self.previous = previous or {}
        strong, weak = self._places(text)
        self.places = strong + [p for p in weak if p not in strong]
        quotes = _covered([m.span() for m in _QUOTED.finditer(text)])
        self.persons = [w for w in self._persons(text, quotes) if w not in strong] + strong
        dated = _covered([m.span() for pattern in (_ISO, _MONTH_DAY, _DAY_MONTH) for m in pattern.finditer(text)])
        found = ((m, _number(m.group())) for m in _NUMBER.finditer(text) if not dated(m.start()))  # a date's digits
        self.numbers = [(m.start(), m.end(), number) for m, number in found if number is not None]
        self.counts = [(_count(m.group(1)), m.group(2).lower()) for m in _COUNTED.finditer(text)]
        self.quoted = [next(g for g in m.groups() if g is not None) for m in _QUOTED.finditer(text)]
        self.dates = self._dates(text)
        self.used: set[tuple[str, int]] = set()

    @staticmethod
    def _places(text: str) -> tuple[list[str], list[str]]:
        """Places after a place preposition ("in Boston"), then those after "to", "for", "about"."""
        strong: dict[str, None] = {}
        weak: dict[str, None] = {}
        for match in _PLACE.finditer(text):
            out = strong if match.group(1) in _STRONG else weak
            words = match.group(2).rstrip(".").split()
            while words and (words[-1].lower() in _COMMON or words[-1].lower() in _MONTHS):
                words.pop()  # "in Boston Today" keeps Boston
            first = words[0].lower() if words else ""
            if first and first not in _COMMON and first not in _DAYS and first not in _MONTHS:
                out.setdefault(" ".join(words))
        return list(strong), list(weak)

    @staticmethod
    def _persons(text: str, quoted: Callable[[int], bool]) -> list[str]:
        """Capitalised words that are no common word, month or day, outside quotes, in order."""
        out: dict[str, None] = {}
        for match in _CAPITAL.finditer(text):
            if quoted(match.start()):
                continue
            word = match.group().rstrip("'’")
            low = word.lower()
            if _OPENS.search(text[max(0, match.start() - 3) : match.start()]) and not _SUBJECT.match(text, match.end()):
                continue  # a sentence's first word is a name only as its subject ("Alice is 30", not "Save a note")
            if low in _COMMON or low in _MONTHS or low in _DAYS or low.rstrip("s") in _COMMON:
                continue
            out.setdefault(word)
        return list(out)

    @staticmethod
    def _dates(text: str) -> list[tuple[str, str | None]]:
        """(as written, ISO or None) of every date, in order."""
        found: list[tuple[int, str, str | None]] = []
        for m in _ISO.finditer(text):
            found.append((m.start(), m.group(), m.group()))
        for m in _MONTH_DAY.finditer(text):
            month = _month(m.group(1))
            iso = f"{int(m.group(3)):04d}-{month:02d}-{int(m.group(2)):02d}" if m.group(3) else None
            found.append((m.start(), m.group().strip(), iso))
        for m in _DAY_MONTH.finditer(text):
            month = _month(m.group(2))
            iso = f"{int(m.group(3)):04d}-{month:02d}-{int(m.group(1)):02d}" if m.group(3) else None
            found.append((m.start(), m.group().strip(), iso))
        for m in _RELATIVE.finditer(text):
            found.append((m.start(), m.group(), None))
        found.sort(key=lambda item: item[0])
        return [(written, iso) for _, written, iso in found]

    def _take(self, kind: str, items: list[Any], ok: Any = None) -> Any:
        for i, item in enumerate(items):
            if (kind, i) not in self.used and (ok is None or ok(item)):
                self.used.add((kind, i))
                return item
        return MISSING

    def value(self, name: str, node: dict[str, Any], types: list[str], depth: int) -> Any:
        """What the prompt gives for property ``name`` (schema ``node`` of ``types``), else :data:`MISSING`."""
        tokens = _tokens(name)
        if "string" in types:
            found = self._string(tokens, str(node.get("format", "")).lower())
        elif ("integer" in types or "number" in types) and depth <= 1:
            found = self._numeric(tokens, integer="number" not in types)
        else:
            found = MISSING
        if found is MISSING and depth == 1 and name in self.previous:
            return self.previous[name]
        return found

    def _string(self, tokens: list[str], fmt: str) -> Any:
        words = set(tokens)
        last = tokens[-1] if tokens else ""
        if fmt in ("date", "date-time") or words & _DATE_WORDS:
            if fmt == "date-time":
                return MISSING
            date = self._take("date", self.dates, (lambda d: d[1] is not None) if fmt == "date" else None)
            if date is not MISSING:
                return date[1] if fmt == "date" or date[1] else date[0]
            return MISSING
        if fmt:
            return MISSING
        if words & _PLACE_WORDS:
            return self._take("place", self.places)
        person = last in _PERSON_WORDS and not (
            last == "name" and len(tokens) > 1 and tokens[-2] not in _PERSON_QUALIFIERS
        )
        if person:
            found = self._take("person", self.persons)
            if found is not MISSING and len(tokens) > 1 and tokens[-2] in ("first", "last"):
                return found.split()[0 if tokens[-2] == "first" else -1]
            return found
        if words & _TEXT_WORDS or self.quoted:
            return self._take("quoted", self.quoted)
        return MISSING

    def _numeric(self, tokens: list[str], integer: bool) -> Any:
        def fits(item: tuple[int, int, int | float]) -> bool:
            return not integer or isinstance(item[2], int)

        for i, item in enumerate(self.numbers):
            if ("number", i) in self.used or not fits(item):
                continue
            if self._near(item, tokens):
                self.used.add(("number", i))
                return item[2]
        if not self.numbers_in_order:
            return MISSING
        found = self._take("number", self.numbers, fits)
        return found if found is MISSING else found[2]

    def _near(self, item: tuple[int, int, int | float], tokens: list[str]) -> bool:
        """Whether the number is written right next to one of the property's words ("3 days", "age: 30")."""
        names = [w for t in tokens if len(t) >= 3 for w in _NEAR_WORDS.get(t, (t,))]
        if not names:
            return False
        before = self.text[max(0, item[0] - 24) : item[0]].lower().split()[-2:]
        after = self.text[item[1] : item[1] + 24].lower().split()[:2]
        near = [w.strip(":=,.()") for w in (*before, *after)]
        return any(w.startswith(t[:-1] if len(t) > 4 else t) for t in names for w in near if w)

    def count(self, name: str) -> int | None:
        """How many items the prompt asks for in an array named ``name`` ("three recipes"; for the
        top-level array, ``name`` empty, the first count written)."""
        want = _singular(_tokens(name)[-1]) if _tokens(name) else ""
        for number, noun in self.counts:
            if not want or _singular(noun) == want:
                return number
        return None


def _covered(spans: list[tuple[int, int]]) -> Callable[[int], bool]:
    """Whether a position lies inside one of ``spans``: a binary search, not a scan per position."""
    spans.sort()
    starts = [a for a, _ in spans]
    ends = list(itertools.accumulate((b for _, b in spans), max, initial=0))[1:]

    def inside(at: int) -> bool:
        k = bisect.bisect_right(starts, at) - 1
        return k >= 0 and at < ends[k]

    return inside


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _count(word: str) -> int:
    low = word.lower()
    return min(50, int(low)) if low.isdigit() else _COUNT_WORDS[low]


def _month(word: str) -> int:
    low = word.lower().rstrip(".")[:3]
    return [m[:3] for m in _MONTHS].index(low) + 1
