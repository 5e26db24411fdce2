"""How the system instruction shapes the default model's answers, in ways a test can see.

The emulator cannot follow an instruction the way a model does, but a test must be able to tell
that the instruction reached it. So a few kinds of instruction have a fixed, visible effect:

* a persona's name ("You are Max", "Your name is Max", "... named Max"): the first answer of a
  conversation opens with ``I'm Max.``, and "what is your name" / "who are you" is answered with it;
* brevity ("concise", "brief", "terse", "succinct"): the answer keeps its first two sentences;
  "one sentence" / "in N sentences" keeps one (N); the same words in the prompt ("in 2 sentences")
  have the same effect, and the prompt's count wins;
* a language ("in French", "respond in Spanish"): the answer opens with that language's words for
  "in <language>" (``En français :``), since nothing is translated;
* capitals ("all caps", "uppercase", "shout"): the answer is upper-cased;
* a pirate ("talk like a pirate"): the answer opens with ``Arr!``.

Everything else in a system instruction changes nothing but the request digest (hence the free
choices of the answer).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from . import stories

__all__ = ["Style", "shape", "style_of", "system_text"]


def _words(text: str) -> frozenset[str]:
    """The words of a space-separated list (kept as text: long word lists read better that way)."""
    return frozenset(text.split())


_PERSONA = (
    re.compile(r"\b(?i:you are|you're|your name is|act as|you play)\s+([A-Z][a-z]{1,20})\b(?!\s*(?:assistant|model))"),
    re.compile(r"\b(?i:named|called)\s+([A-Z][a-z]{1,20})\b"),
)
_NOT_PERSONAS = _words("A An The Not Very Always Never Only Just")
_BRIEF = re.compile(
    r"\b(?:concise|brief|briefly|terse|succinct|short answers?|be short|keep it short)\b", re.IGNORECASE
)
_LANGUAGES = {
    "french": "En français :",
    "spanish": "En español:",
    "german": "Auf Deutsch:",
    "italian": "In italiano:",
    "portuguese": "Em português:",
    "dutch": "In het Nederlands:",
    "japanese": "日本語で:",
    "chinese": "用中文:",
}
_LANGUAGE = re.compile(
    r"\b(?:in|speak|speaks|only)\s+(french|spanish|german|italian|portuguese|dutch|japanese|chinese)\b", re.IGNORECASE
)
_UPPER = re.compile(r"\b(?:all caps|all capitals|capital letters|upper-?case|shout(?:ing)?)\b", re.IGNORECASE)
_PIRATE = re.compile(r"\bpirate\b", re.IGNORECASE)


@dataclass(frozen=True)
class Style:
    """What a system instruction asks for, as far as the default model honours it."""

    persona: str | None = None
    sentences: int | None = None
    language: str | None = None
    upper: bool = False
    pirate: bool = False


PLAIN = Style()
BRIEF_SENTENCES = 2
"""Sentences a brief answer keeps ("be concise", "terse"): short, yet still several stream chunks."""


def system_text(body: dict[str, Any]) -> str:
    """The text of the request's system instruction (thoughts left out)."""
    system = body.get("systemInstruction")
    if not isinstance(system, dict):
        return ""
    return " ".join(
        [p["text"] for p in system.get("parts", ()) if isinstance(p.get("text"), str) and not p.get("thought")]
    )


def style_of(instruction: str) -> Style:
    """The :class:`Style` a system instruction asks for; memoised up to 4096 characters (a chat sends
    the same one each time; a cache must not hold megabytes)."""
    return _style_memo(instruction) if len(instruction) <= 4096 else _style(instruction)


@functools.lru_cache(maxsize=1024)
def _style_memo(instruction: str) -> Style:
    return _style(instruction)


def _style(instruction: str) -> Style:
    if not instruction.strip():
        return PLAIN
    persona = None
    for pattern in _PERSONA:
        found = pattern.search(instruction)
        if found and found.group(1) not in _NOT_PERSONAS:
            persona = found.group(1)
            break
    count = stories.sentence_count(instruction)
    if count is None and _BRIEF.search(instruction):
        count = BRIEF_SENTENCES
    language = _LANGUAGE.search(instruction)
    return Style(
        persona=persona,
        sentences=count,
        language=_LANGUAGES[language.group(1).lower()] if language else None,
        upper=_UPPER.search(instruction) is not None,
        pirate=_PIRATE.search(instruction) is not None,
    )


def shape(text: str, style: Style, *, first: bool, prompt: str = "", cut: bool = True) -> str:
    """``text`` as the style (and the prompt's own "in N sentences") has it; ``first`` when no model
    turn precedes this answer, ``cut`` False for text that must stay whole (tool results)."""
    count = stories.sentence_count(prompt) if "entence" in prompt else None
    count = count or style.sentences
    if cut and count:
        text = stories.first_sentences(text, count)
    if style.persona and first and style.persona not in text:
        text = f"I'm {style.persona}. {text}"
    if style.pirate:
        text = f"Arr! {text}"
    if style.language:
        text = f"{style.language} {text}"
    return text.upper() if style.upper else text
