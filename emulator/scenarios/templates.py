"""``{{ path }}`` placeholders in scenario strings, filled from the request being answered.

Deliberately tiny: a placeholder is a dotted path from a fixed set of roots into a plain dict built
from the request. There is no expression language, no filters, no attribute access on Python
objects and no second pass, so text that arrives in a request (which may itself contain ``{{``) is
inserted literally and never interpreted. Anything between ``{{`` and ``}}`` that is not such a path
is rejected when the scenario is loaded, so a typo fails at load time, not in the middle of a test.
What one string renders to is bounded (:data:`MAX_RENDERED`): a placeholder written 55,000 times
must not turn a short prompt into a 100 MB answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

ROOTS: dict[str, str] = {
    "last_user_text": "text of the latest user message (function responses are not messages)",
    "model": "model id of the request, e.g. gemini-2.5-flash",
    "flavour": "the API of the request: developer (the Gemini Developer API) or vertex (Vertex AI)",
    "turn": "number of user messages in the request's contents (1 for the first question)",
    "request": "1-based number of this generate request in the backend's context",
    "system_instruction": "text of the system instruction, or empty",
    "function_response": "function_response.NAME is the latest response object sent for function NAME",
    "function_call": "function_call.NAME is the latest call of NAME in the history, e.g. .args.city",
    "remembered": "remembered.KIND is what the user said about themselves, e.g. .name, .number, .preference",
    "match": "groups of the when.last_user_text regex: match.0 (whole), match.1, match.NAME",
    "scenario": "name of the scenario",
}
MAX_RENDERED = 1024 * 1024
"""Characters one template may render to."""
_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.S)
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*")


class TemplateError(LookupError):
    """A placeholder with no value in this request; the backend turns it into a loud API error."""

    def __init__(self, path: str, known: list[str]) -> None:
        shown = ", ".join(known) if known else "nothing"
        super().__init__(f"template {{{{ {path} }}}} has no value in this request (available there: {shown})")
        self.path = path


class TemplateTooLarge(TemplateError):
    """A template that would render to more than :data:`MAX_RENDERED` characters."""

    def __init__(self, size: int) -> None:
        LookupError.__init__(
            self, f"the template renders to more than {MAX_RENDERED} characters (at least {size}); shorten the reply"
        )
        self.path = ""


def check(text: str) -> str:
    """Validates every placeholder of ``text``; used as a pydantic validator, so it returns the text."""
    for inner in _EXPRESSION.findall(text):
        path = inner.strip()
        if not _PATH.fullmatch(path):
            raise ValueError(
                f"{{{{{inner}}}}} is not a template; write {{{{ name }}}} or {{{{ name.key }}}} "
                f"with a name from: {', '.join(ROOTS)}"
            )
        root = path.split(".", 1)[0]
        if root not in ROOTS:
            raise ValueError(f"unknown template name {root!r} in {{{{{inner}}}}}; known names: {', '.join(ROOTS)}")
    return text


def check_value(value: Any) -> Any:
    """:func:`check` over every string inside a JSON-like value (structured output, function args)."""
    if isinstance(value, str):
        check(value)
    elif isinstance(value, dict):
        for item in value.values():
            check_value(item)
    elif isinstance(value, list):
        for item in value:
            check_value(item)
    return value


def lookup(path: str, context: Mapping[str, Any]) -> Any:
    """The value at a dotted path: dict keys by name, list items by number. Nothing else is reachable."""
    current: Any = context
    walked: list[str] = []
    for segment in path.split("."):
        if isinstance(current, Mapping) and segment in current:
            walked.append(segment)
            current = current[segment]
        elif isinstance(current, list) and segment.isdigit() and int(segment) < len(current):
            walked.append(segment)
            current = current[int(segment)]
        else:
            prefix = ".".join(walked)
            known = sorted(str(k) for k in current) if isinstance(current, Mapping) else []
            raise TemplateError(path, [f"{prefix}.{k}" if prefix else k for k in known])
    return current


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def render(text: str, context: Mapping[str, Any]) -> str:
    """``text`` with every placeholder replaced; one pass, so inserted text is never expanded again."""
    size = len(text)

    def insert(match: re.Match[str]) -> str:
        nonlocal size
        inserted = _as_text(lookup(match.group(1).strip(), context))
        size += len(inserted) - len(match.group(0))
        if size > MAX_RENDERED:
            raise TemplateTooLarge(size)
        return inserted

    return _EXPRESSION.sub(insert, text)


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """Fills placeholders inside a JSON-like value; a string that is one whole placeholder keeps the
    inserted value's type, so ``minutes: "{{ function_response.timer.minutes }}"`` stays a number."""
    if isinstance(value, str):
        whole = _EXPRESSION.fullmatch(value.strip())
        if whole and _PATH.fullmatch(whole.group(1).strip()):
            return lookup(whole.group(1).strip(), context)
        return render(value, context)
    if isinstance(value, dict):
        return {key: render_value(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [render_value(item, context) for item in value]
    return value
