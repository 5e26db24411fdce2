"""Stories the default model tells, and its summaries of what it said before.

"Tell me a story" is the chat guide's example of a long answer (a stream of many chunks), and
"summarize the story you told me in 1 sentence" its example of a question about the model's own
earlier turn. A story is picked from small tables by a digest of the prompt and the request's seed,
so the same request always tells the same story and a different prompt another one. A summary is
drawn from the previous model turn: its first sentences, as many as asked, so a test can check that
the history carried that turn.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["SENTENCE_COUNT", "asks_for_story", "asks_for_summary", "first_sentences", "sentences", "story", "summary"]

_STORY = re.compile(
    r"\b(?:tell|write|give|make\s+up|invent|narrate|read)\b[^.?!]{0,40}?\b(?:story|stories|tale|fable)\b"
    r"|\bonce upon a time\b|^\s*(?:a\s+)?(?:short\s+)?(?:bedtime\s+)?story\b",
    re.IGNORECASE,
)
_SUMMARY = re.compile(
    r"\b(?:summari[sz]e|sum\s+up|recap|tl;?dr)\b|\bin short\b[^\n]{0,200}\?"
    r"|\bthe (?:story|answer|reply|poem) you (?:told|wrote|gave)\b",
    re.IGNORECASE,
)
_WORD_NUMBERS = {"a": 1, "one": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
SENTENCE_COUNT = re.compile(
    r"\b(?:in|to|into|with|using|as)\s+(?:just\s+|only\s+|exactly\s+)?(?:a\s+)?(\d{1,2}|a|one|single|two|three|four|five|six)"
    r"\s+(?:short\s+|single\s+)?sentences?\b",
    re.IGNORECASE,
)
_ABOUT = re.compile(r"\babout\s+([^.?!,;\n]{1,60})", re.IGNORECASE)
_END = re.compile(r"[.!?][\"”’')]?(?=\s+[A-Z\"“‘(0-9])")
"""Where a sentence ends: its full stop (and closing quote), before the capital that starts the next."""

_HEROES = ("Ilse", "Tomas", "Mira", "Oren", "Nadia", "Kofi", "Lena", "Ravi")
_ROLES = ("lighthouse keeper", "cartographer", "baker", "clockmaker", "beekeeper", "librarian", "ferry pilot")
_PLACES = (
    "the harbour town of Saltmere",
    "a village at the edge of the Hollow Wood",
    "a city of bridges called Vell",
    "a mountain hamlet where the snow came early",
    "a river port that smelled of rope and oranges",
)
_THINGS = (
    "a brass compass that pointed at lost things",
    "a map with one blank corner",
    "a jar of snow that never melted",
    "a key that fitted no door in town",
    "a notebook whose last page kept writing itself",
)
_HELPERS = ("a talkative crow", "an old ferryman", "a girl who sold lanterns", "a retired sea captain", "a stray dog")


def asks_for_story(prompt: str) -> bool:
    return _STORY.search(prompt) is not None


def asks_for_summary(prompt: str) -> bool:
    return _SUMMARY.search(prompt) is not None


def sentence_count(text: str) -> int | None:
    """How many sentences ``text`` asks for ("in 1 sentence", "in two sentences"), if it says."""
    found = SENTENCE_COUNT.search(text)
    if found is None:
        return None
    word = found.group(1).lower()
    return max(1, int(word)) if word.isdigit() else _WORD_NUMBERS[word]


def sentences(text: str, limit: int | None = None) -> list[str]:
    """The sentences of ``text`` (the first ``limit`` of them), headings (``**Title**``, ``# Title``) left out."""
    if "\n" in text or text.startswith(("#", "**")):
        kept = (ln.strip() for ln in text.splitlines())
        text = " ".join(ln for ln in kept if ln and not ln.startswith(("#", "**")))
    out: list[str] = []
    start = 0
    for end in _END.finditer(text):
        stop = end.end()
        piece = text[start:stop].strip()
        start = stop
        if piece:
            out.append(piece)
            if limit is not None and len(out) >= limit:
                return out
    tail = text[start:].strip()
    return [*out, tail] if tail else out


def first_sentences(text: str, count: int) -> str:
    """The first ``count`` sentences of ``text``, paragraphs kept where they fall inside them."""
    if count <= 0:
        return text
    ends = text.count(".") + text.count("!") + text.count("?")  # every sentence end has one of them
    if ends < count:  # so the text holds at most ``count`` sentences: nothing to cut
        return text
    if "\n\n" not in text:  # one paragraph, as most answers are
        return " ".join(sentences(text, count)) or text
    kept: list[str] = []
    left = count
    for paragraph in text.split("\n\n"):
        if left <= 0:
            break
        parts = sentences(paragraph, left)
        if not parts:
            continue
        kept.append(" ".join(parts))
        left -= len(parts)
    return "\n\n".join(kept) if kept else text


def _pick(digest: bytes, at: int, table: tuple[str, ...]) -> str:
    return table[digest[at % len(digest)] % len(table)]


def topic_of(prompt: str) -> str | None:
    """What the story is to be about: the words after "about", up to the end of the clause."""
    found = _ABOUT.search(prompt)
    if found is None:
        return None
    topic = " ".join(found.group(1).split()).rstrip()
    return topic or None


def story(prompt: str, seed: bytes, hero: str | None = None, topic: str | None = None) -> str:
    """A five-paragraph story seeded by ``prompt`` and ``seed``; ``hero`` and ``topic`` fill it in when given."""
    digest = hashlib.sha256(b"story|" + seed + b"|" + prompt.encode("utf-8", "surrogatepass")).digest()
    hero = hero or _pick(digest, 0, _HEROES)
    role, place = _pick(digest, 1, _ROLES), _pick(digest, 2, _PLACES)
    thing, helper = _pick(digest, 3, _THINGS), _pick(digest, 4, _HELPERS)
    topic = topic or topic_of(prompt) or thing
    paragraphs = (
        f"Once upon a time, in {place}, there lived a {role} named {hero}, and this is the story of {hero} "
        f"and {topic}. Every morning {hero} walked the same streets, greeted the same faces and wondered whether "
        f"anything would ever change. Nobody in town expected much of the quiet {role}.",
        f"One windy evening {hero} found {thing} on the doorstep. It had not been there at noon, and it came "
        f"with a note that said only: follow it. {hero} hesitated for a whole night, then packed a coat, "
        "some bread and a small lamp.",
        f"The road led past the last houses and into country {hero} had only seen on maps. On the third day "
        f"{hero} met {helper}, who seemed to know where the road was going and would not say. They travelled "
        "together, arguing cheerfully about the weather, the stars and the best way to cook beans.",
        f"At the end of the road stood an old gate, and behind it was everything {hero} had been looking for: "
        f"more about {topic} than any book in town could tell, and a few questions nobody had thought to ask. "
        f"{hero} stayed until the light "
        "changed, listening more than talking, and wrote everything down.",
        f"When {hero} came home, the town looked smaller and kinder than before. From then on the {role} "
        f"told the story to anyone who asked, and kept {thing} on the windowsill, just in case. And that is "
        "how an ordinary life turned into a tale worth telling.",
    )
    return "\n\n".join(paragraphs)


def summary(previous: str | None, count: int) -> str:
    """``count`` sentences drawn from the model's previous answer, or why there is nothing to summarise."""
    if not previous or not previous.strip():
        return "I have not told you anything yet in this conversation, so there is nothing to summarise."
    parts = sentences(previous, count)
    if not parts:
        return "My previous answer had no text to summarise."
    return " ".join(parts[:count])
