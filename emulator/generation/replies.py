"""The default model's answer to the last user message, read against the whole conversation.

The prompt (the last user text) is matched against a short list of intents, first match wins:

1. a question about the model itself ("what is your name", "who are you"): the persona's name
   from the system instruction, else what the emulator is;
2. a summary of the model's previous answer ("summarize the story you told me in 1 sentence"):
   sentences drawn from the last model turn (:mod:`.stories`);
3. a story ("tell me a story [about ...]"): five paragraphs, seeded from the prompt;
4. a question about what the user said ("what was my name", "what number did I tell you", "where
   do I live", "how old am I", "what do I like", "what is my X", "when is my X", "what do you know
   about me"): answered from the facts of the user turns (:mod:`.memory`), and from nothing else: with
   no such fact the answer says the conversation does not tell, and names nothing;
5. a request for a recommendation ("recommend an activity for me", "suggest ..."): built on the
   user's latest preference when there is one;
6. a message that states facts ("My name is Alice and I love hiking."): an acknowledgement naming
   them.

Anything else is not recognised (``None``): the caller answers with its echo of the prompt.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from . import memory, stories
from .instructions import Style

__all__ = ["answer", "previous_model_text"]

_SELF = re.compile(r"\b(?:what(?:'s| is) your name|who are you|what are you called|introduce yourself)\b", re.I)
_NAME_Q = re.compile(r"\b(?:what(?:'s| is| was) my name|who am i\b|my name again|(?:know|remember) my name)", re.I)
_NUMBER_Q = re.compile(
    r"\b(?:what|which)\b[^.?!]{0,30}?\b(?:number|code|pin)\b[^.?!]{0,30}?\b(?:i|me)\b"
    r"|\bthe (?:number|code|pin) i (?:told|gave|asked|said)\b",
    re.I,
)
_REMEMBERED_Q = re.compile(r"\bwhat (\w+) did i (?:tell|give|ask) you\b|\bwhat (\w+) (?:did i say|i told you)\b", re.I)
_PLACE_Q = re.compile(
    r"\bwhere (?:do|did) i (?:live|come from|stay|reside)\b|\bwhere am i from\b|\bwhere i live\b"
    r"|\b(?:what|which) (?:city|town|country|place) (?:do|did) i (?:live|come)\b|\bmy (?:home ?town|city)\b",
    re.I,
)
_AGE_Q = re.compile(r"\bhow old am i\b|\bwhat(?:'s| is) my age\b", re.I)
_LIKES_Q = re.compile(
    r"\bwhat do i (?:like|love|enjoy)\b|\bwhat (?:are|were) my (?:hobbies|interests|preferences)\b"
    r"|\bwhat (?:do|did) i (?:say|tell you) i (?:like|love|enjoy)\b",
    re.I,
)
_ABOUT_ME = re.compile(r"\bwhat do you (?:know|remember) about me\b|\bwhat have i told you\b", re.I)
_LABEL = r"((?:favou?rite |favorite |home |best |lucky |wedding )?[a-z]+(?:'s [a-z]+)?)"
_WHEN_Q = re.compile(r"\bwhen(?:'s| is| was) my " + _LABEL + r"\b", re.I)
_WHAT_MY = re.compile(r"\bwhat(?:'s| is| was| are)(?: the)? my " + _LABEL + r"\b", re.I)
_RECOMMEND = re.compile(
    r"\b(?:recommend|suggest|suggestion|ideas? for me|what should i (?:do|try|make|cook|read|watch))\b", re.I
)
_QUESTION = re.compile(r"\?\s*$")
_SELF_WORDS = ("your name", "who are you", "called", "introduce")
_STORY_WORDS = ("stor", "tale", "fable", "once upon", "summar", "recap", "sum up", "tl;", "tldr", "in short")
_ME_WORDS = (" my ", " i ", " am i", " me ", " me?", " i'", "about me")
_RECOMMEND_WORDS = ("recommend", "suggest", "idea", "should i")

_IDEAS = (
    (
        ("hik", "walk", "trek", "mountain", "outdoor"),
        "a day hike on a trail you have not tried yet, with an early start and a picnic at the top",
    ),
    (
        ("read", "book", "novel"),
        "a novel from an author you have not read yet, and an afternoon in a library or a quiet café",
    ),
    (
        ("cook", "food", "bak", "eat", "sardine", "sushi"),
        "cooking a new recipe from a cuisine you have never tried, then sharing it with friends",
    ),
    (
        ("music", "jazz", "sing", "guitar", "piano"),
        "a live concert in a small venue, or an evening learning a new song",
    ),
    (("paint", "draw", "art", "sketch"), "a morning of sketching outdoors, then a visit to a small gallery"),
    (("chess", "game", "puzzle"), "a local club evening or an online tournament at your level"),
    (("swim", "surf", "sea", "beach"), "a morning swim followed by a walk along the shore"),
)
_GENERAL_IDEA = "a walk somewhere new, a book from the library, or cooking a meal you have never made"


def previous_model_text(contents: list[dict[str, Any]]) -> str | None:
    """The text of the last model turn before the prompt (its thoughts left out), if any."""
    for content in reversed(contents):
        if content.get("role") == "model":
            texts = [
                p["text"] for p in content.get("parts", ()) if isinstance(p.get("text"), str) and not p.get("thought")
            ]
            if texts:
                return "".join(texts)
    return None


def _model_turns(contents: list[dict[str, Any]]) -> int:
    return sum(1 for c in contents if c.get("role") == "model")


def answer(contents: list[dict[str, Any]], prompt: str, seed: Callable[[], bytes], style: Style) -> str | None:
    """The recognised answer to ``prompt`` (see the module docstring), or ``None``; ``seed`` gives the
    bytes a story's choices are drawn from (only asked for when a story is told)."""
    text = " ".join(prompt.split())
    if not text:
        return None
    low = f" {text.lower()} "
    # Cheap word checks first: most prompts are none of these, and each regex costs a pass.
    if any(w in low for w in _SELF_WORDS) and _SELF.search(text):
        if style.persona:
            return f"My name is {style.persona}."
        return (
            "I am the default model of gemini-emulator: a deterministic stand-in for Gemini that reads "
            "the conversation it is sent."
        )
    tale = any(w in low for w in _STORY_WORDS)
    if tale and stories.asks_for_summary(text):
        count = stories.sentence_count(text) or 2
        return stories.summary(previous_model_text(contents), count)
    if tale and stories.asks_for_story(text):
        facts = memory.read(contents) if re.search(r"\babout me\b", text, re.I) else None
        hero = topic = None
        if facts is not None:
            name, liked = facts.latest("name"), facts.preferences()
            hero = name.value if name else None
            topic = liked[-1].value if liked else None
        return stories.story(text, seed(), hero=hero, topic=topic)
    recalled = _recall(contents, text) if any(w in low for w in _ME_WORDS) else None
    if recalled is not None:
        return recalled
    if any(w in low for w in _RECOMMEND_WORDS) and _RECOMMEND.search(text):
        return _recommend(memory.read(contents))
    stated = memory.facts_in(prompt)
    if stated and not _QUESTION.search(text):
        return _acknowledge(stated)
    return None


def _recall(contents: list[dict[str, Any]], text: str) -> str | None:
    """The answer to a question about what the user said, or ``None`` when the prompt asks none."""
    if _NAME_Q.search(text):
        fact = memory.read(contents).latest("name")
        return f"Your name is {fact.value}." if fact else _unknown("your name")
    if _AGE_Q.search(text):
        fact = memory.read(contents).latest("age")
        return f"You are {fact.value} years old." if fact else _unknown("your age")
    if _PLACE_Q.search(text):
        fact = memory.read(contents).latest("place")
        if fact is None:
            return _unknown("where you live")
        return f"You are from {fact.value}." if fact.label == "from" else f"You live in {fact.value}."
    if _LIKES_Q.search(text):
        liked = memory.read(contents).preferences()
        if not liked:
            return _unknown("what you like")
        return "You told me " + _join([_liking(f) for f in liked]) + "."
    if _ABOUT_ME.search(text):
        facts = memory.read(contents).facts
        if not facts:
            return _unknown("anything about you")
        return "Here is what you told me: " + "; ".join(_describe(f) for f in facts) + "."
    if _NUMBER_Q.search(text):
        mem = memory.read(contents)
        fact = mem.latest("number") or next(
            (f for f in reversed(mem.facts) if f.kind == "attribute" and memory.is_number(f.value)), None
        )
        return f"The number you told me is {fact.value}." if fact else _unknown("a number")
    asked = _REMEMBERED_Q.search(text)
    if asked:
        noun = (asked.group(1) or asked.group(2) or "").lower()
        mem = memory.read(contents)
        fact = mem.latest("remembered", "number", label=noun) or mem.latest("remembered")
        return f"You asked me to remember {fact.value}." if fact else _unknown(f"a {noun}")
    when = _WHEN_Q.search(text) or _WHAT_MY.search(text)
    if when:
        label = when.group(1).lower()
        fact = memory.read(contents).attribute(label)
        return f"Your {label} is {fact.value}." if fact else _unknown(f"your {label}")
    return None


def _unknown(what: str) -> str:
    return (
        f"I don't know {what}: nothing in this conversation tells me, and I have no memory of other "
        "conversations. Tell me and I will remember it for the rest of this chat."
    )


def _liking(fact: memory.Fact) -> str:
    if fact.kind == "favourite":
        return f"your {fact.label} is {fact.value}"
    return f"you {fact.label} {fact.value}"


def _describe(fact: memory.Fact) -> str:
    return {
        "name": f"your name is {fact.value}",
        "age": f"you are {fact.value} years old",
        "place": f"you are from {fact.value}" if fact.label == "from" else f"you live in {fact.value}",
        "number": f"remember the {fact.label} {fact.value}",
        "remembered": f"remember {fact.value}",
        "preference": _liking(fact),
        "favourite": _liking(fact),
    }.get(fact.kind, f"your {fact.label} is {fact.value}")


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _recommend(mem: memory.Memory) -> str:
    liked = mem.preferences()
    if not liked:
        return (
            f"I don't know what you enjoy yet, so here is a general idea: {_GENERAL_IDEA}. "
            "Tell me what you like and I can tailor the suggestion."
        )
    fact = liked[-1]
    thing = fact.value
    lowered = thing.lower()
    idea = next((idea for keys, idea in _IDEAS if any(k in lowered for k in keys)), None)
    because = f"your {fact.label} is {thing}" if fact.kind == "favourite" else f"you {fact.label} {thing}"
    if idea is None:
        idea = f"something built around {thing}: a local group that shares it, or a weekend given over to it"
    return f"Since {because}, I recommend {idea}. It builds on {thing}, which you told me about earlier."


def _acknowledge(facts: tuple[memory.Fact, ...]) -> str:
    said: list[str] = []
    for fact in facts:
        if fact.kind == "name":
            said.append(f"Nice to meet you, {fact.value}.")
        elif fact.kind == "number":
            said.append(f"Got it: I will remember the {fact.label} {fact.value}.")
        elif fact.kind == "remembered":
            said.append(f"Got it: I will remember {fact.value}.")
        elif fact.kind == "preference":
            said.append(
                f"{fact.value[:1].upper()}{fact.value[1:]} sounds wonderful; "
                f"I will remember that you {fact.label} {fact.value}."
            )
        elif fact.kind == "favourite":
            said.append(f"Noted: your {fact.label} is {fact.value}.")
        elif fact.kind == "place":
            where = "you are from" if fact.label == "from" else "you live in"
            said.append(f"Noted: {where} {fact.value}.")
        elif fact.kind == "age":
            said.append(f"Noted: you are {fact.value} years old.")
        else:
            said.append(f"Noted: your {fact.label} is {fact.value}.")
    return " ".join(said)
