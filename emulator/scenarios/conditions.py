"""The ``when`` block of a rule: conditions on a request, all of which must hold.

An empty ``when`` (or none) matches every request; that is how a fallback rule is written. ``nth``
is the only condition that needs memory, so it is evaluated by the backend, which owns the counts.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PrivateAttr, field_validator

from ..patterns import PatternError, compile_pattern
from .facts import Facts
from .fields import IntSet, Names, Spec

Groups = dict[str, str]


class TextMatch(Spec):
    """Conditions on a text; every one given must hold. A bare string means `equals`."""

    equals: str | None = Field(None, description="Whole text, compared after stripping surrounding whitespace.")
    contains: str | None = Field(None, description="Substring that must occur.")
    regex: str | None = Field(
        None,
        description="RE2 regex (linear time: no look-arounds or back-references) searched in the text; its "
        "groups are available as {{ match.N }}.",
    )
    ignore_case: bool = Field(False, description="Compare case-insensitively (all three tests).")
    _pattern: Any = PrivateAttr(None)

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compile_pattern(value)
            except PatternError as exc:
                raise ValueError(f"invalid regex: {exc}") from None
        return value

    def model_post_init(self, context: Any) -> None:
        if self.regex is not None:
            self._pattern = compile_pattern(self.regex, self.ignore_case)

    def match(self, text: str) -> Groups | None:
        """The regex groups (empty without a regex) when the text satisfies every test, else None."""
        folded = text.casefold() if self.ignore_case else text
        if self.equals is not None:
            wanted = self.equals.casefold() if self.ignore_case else self.equals
            if folded.strip() != wanted.strip():
                return None
        if (
            self.contains is not None
            and (self.contains.casefold() if self.ignore_case else self.contains) not in folded
        ):
            return None
        if self._pattern is None:
            return {}
        found = self._pattern.search(text)
        if found is None:
            return None
        groups = {str(i): g or "" for i, g in enumerate([found.group(0), *found.groups()])}
        groups.update({k: v or "" for k, v in found.groupdict().items()})
        return groups


def _text_shorthand(value: Any) -> Any:
    return {"equals": value} if isinstance(value, str) else value


Text = Annotated[TextMatch, BeforeValidator(_text_shorthand, json_schema_input_type=str | TextMatch)]


class When(Spec):
    """Which requests a rule answers. Absent conditions do not constrain."""

    model: Names | None = Field(
        None, description="Glob(s) on the model id, e.g. 'gemini-2.5-*'; 'models/...' globs match the full name."
    )
    stream: bool | None = Field(None, description="True: only streamGenerateContent; false: only generateContent.")
    flavour: Literal["developer", "vertex"] | None = Field(
        None, description="Only calls of the Gemini Developer API (developer) or of Vertex AI (vertex)."
    )
    project: Names | None = Field(None, description="Vertex AI: glob(s) on the project of the path.")
    location: Names | None = Field(None, description="Vertex AI: glob(s) on the location of the path.")
    remembered: dict[str, str] | None = Field(
        None,
        description="Facts the user stated earlier, as the default model remembers them: kind or label -> glob "
        "on the latest value, any case, e.g. {name: Alice, number: '4*', preference: '*'}.",
    )
    turn: IntSet | None = Field(None, description="Number(s) of user messages in the request (1 = first question).")
    request: IntSet | None = Field(None, description="Number(s) of the request in this context, counting from 1.")
    nth: IntSet | None = Field(
        None, description="Only the Nth request(s) that satisfy this rule's other conditions, counting from 1."
    )
    last_user_text: Text | None = Field(None, description="Test on the latest user message's text.")
    system_instruction: Text | None = Field(None, description="Test on the system instruction's text.")
    function_response: bool | str | None = Field(
        None,
        description="True: the request's last turn returns function results; false: it does not; "
        "a name: it returns a result of that function.",
    )
    function_declared: Names | None = Field(None, description="Function name(s) that the request's tools must declare.")
    response_mime_type: str | None = Field(None, description="generationConfig.responseMimeType must equal this.")
    response_schema: bool | None = Field(
        None, description="True: the request sets responseSchema or responseJsonSchema; false: it sets neither."
    )
    include_thoughts: bool | None = Field(None, description="thinkingConfig.includeThoughts must be this.")

    def match(self, facts: Facts) -> Groups | None:
        """Regex groups of ``last_user_text`` when every condition but ``nth`` holds, else None."""
        if not self._plain(facts):
            return None
        if self.system_instruction is not None and self.system_instruction.match(facts.system_instruction) is None:
            return None
        if self.last_user_text is None:
            return {}
        return self.last_user_text.match(facts.last_user_text)

    def _plain(self, facts: Facts) -> bool:
        checks = (
            self.model is None or any(_glob(facts, pattern) for pattern in self.model),
            self.stream is None or self.stream == facts.streaming,
            self.flavour is None or self.flavour == facts.flavour,
            self.project is None or _named(facts.project, self.project),
            self.location is None or _named(facts.location, self.location),
            self.remembered is None or _remembers(facts.remembered, self.remembered),
            self.turn is None or facts.turn in self.turn,
            self.request is None or facts.request in self.request,
            self.function_response is None or _responded(self.function_response, facts),
            self.function_declared is None or set(self.function_declared) <= facts.declared,
            self.response_mime_type is None or self.response_mime_type == facts.response_mime_type,
            self.response_schema is None or self.response_schema == facts.response_schema,
            self.include_thoughts is None or self.include_thoughts == facts.include_thoughts,
        )
        return all(checks)


def _remembers(known: dict[str, str], wanted: dict[str, str]) -> bool:
    return all(
        kind in known and fnmatchcase(known[kind].casefold(), pattern.casefold()) for kind, pattern in wanted.items()
    )


def _named(value: str | None, patterns: list[str]) -> bool:
    """A glob of a Vertex path's project or location; express-mode calls (none in the path) never match."""
    return value is not None and any(fnmatchcase(value, pattern) for pattern in patterns)


def _glob(facts: Facts, pattern: str) -> bool:
    return fnmatchcase(facts.model_name if pattern.startswith("models/") else facts.model, pattern)


def _responded(wanted: bool | str, facts: Facts) -> bool:
    if isinstance(wanted, bool):
        return wanted == bool(facts.responded)
    return wanted in facts.responded
