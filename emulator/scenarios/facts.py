"""What a scenario can see of a request: a handful of facts read once from the canonical body.

Conditions and templates work on these facts rather than on the raw body so that their meaning is
defined in one place (what a "turn" is, which function response counts as "the last one").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..generation import memory
from ..generation.conversation import last_user_text
from ..wire.call import Call

Body = dict[str, Any]


@dataclass(frozen=True)
class Facts:
    """One request as conditions see it.

    ``turn`` counts user messages: user contents carrying anything besides function responses. A
    chat's third ``send_message`` is turn 3, and the follow-up request that only returns a function
    result stays in the turn of the question that caused the call. ``request`` counts generate
    requests seen by one backend instance (one context), starting at 1.
    """

    model: str
    model_name: str
    streaming: bool
    request: int
    turn: int
    last_user_text: str
    system_instruction: str
    responded: tuple[str, ...]
    declared: frozenset[str]
    response_mime_type: str | None
    response_schema: bool
    include_thoughts: bool
    flavour: str = "developer"
    project: str | None = None
    location: str | None = None
    function_responses: dict[str, Any] = field(default_factory=dict)
    function_calls: dict[str, Any] = field(default_factory=dict)
    remembered: dict[str, str] = field(default_factory=dict)
    """What the user said about themselves, as the default model remembers it (:mod:`..generation.memory`)."""

    @classmethod
    def of(cls, call: Call, request: int) -> Facts:
        body = call.body
        contents: list[Body] = body.get("contents", [])
        config: Body = body.get("generationConfig", {})
        return cls(
            model=call.model.model_id,
            model_name=call.model.name,
            streaming=call.streaming,
            request=request,
            turn=sum(1 for c in contents if _is_user(c) and any("functionResponse" not in p for p in _parts(c))),
            last_user_text=last_user_text(contents),
            system_instruction=_texts(body.get("systemInstruction", {})),
            responded=_last_responses(contents),
            declared=frozenset(
                d.get("name", "") for tool in body.get("tools", ()) for d in tool.get("functionDeclarations", ())
            ),
            response_mime_type=config.get("responseMimeType"),
            response_schema="responseSchema" in config or "responseJsonSchema" in config,
            include_thoughts=bool(config.get("thinkingConfig", {}).get("includeThoughts")),
            flavour=call.flavour.value,
            project=call.project,
            location=call.location,
            function_responses=_latest(contents, "functionResponse", lambda p: p.get("response", {})),
            function_calls=_latest(contents, "functionCall", lambda p: {"args": p.get("args", {}), "id": p.get("id")}),
            remembered=memory.read(contents).known(),
        )

    def context(self, scenario: str, groups: dict[str, str]) -> dict[str, Any]:
        """The values templates may insert: plain data only, so nothing callable is reachable."""
        return {
            "last_user_text": self.last_user_text,
            "model": self.model,
            "flavour": self.flavour,
            "turn": self.turn,
            "request": self.request,
            "system_instruction": self.system_instruction,
            "function_response": self.function_responses,
            "function_call": self.function_calls,
            "remembered": self.remembered,
            "match": groups,
            "scenario": scenario,
        }

    def describe(self) -> str:
        """A one-line summary for error messages, so a miss says which request it was."""
        text = self.last_user_text if len(self.last_user_text) <= 120 else self.last_user_text[:117] + "..."
        extra = f", function responses {', '.join(self.responded)}" if self.responded else ""
        return f'request {self.request}, turn {self.turn}, model {self.model}{extra}, last user text "{text}"'


def _is_user(content: Body) -> bool:
    return (content.get("role") or "user") == "user"


def _parts(content: Body) -> list[Body]:
    return list(content.get("parts", ()))


def _texts(content: Body) -> str:
    return " ".join(p["text"] for p in _parts(content) if "text" in p)


def _last_responses(contents: list[Body]) -> tuple[str, ...]:
    if not contents or not _is_user(contents[-1]):
        return ()
    return tuple(p["functionResponse"].get("name", "") for p in _parts(contents[-1]) if "functionResponse" in p)


def _latest(contents: list[Body], key: str, pick: Callable[[Body], Any]) -> dict[str, Any]:
    """Per function name, the most recent call or response anywhere in the history."""
    found: dict[str, Any] = {}
    for content in contents:
        for part in _parts(content):
            if key in part:
                found[part[key].get("name", "")] = pick(part[key])
    return found
