"""The scenario file: a named, ordered list of rules that script a model's answers.

Each request is answered by the first rule, top to bottom, whose conditions hold and which has
uses left. Rules are one-shot by default (``times: 1``), so a conversation written top to bottom
reads as it will be played: the first request takes the first rule, the next request the next
unused one. ``times: N`` or ``times: unlimited`` make a rule answer more often; a rule with no
``when`` and ``times: unlimited`` at the bottom is a fallback. When no rule is left, ``unmatched``
decides: ``error`` (a loud 400) or ``default`` (the fallback backend answers).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..wire.faultspec import Fault
from .actions import BlockItem, ErrorItem, ReplyItem
from .conditions import When
from .fields import Duration, Spec, Times


class Rule(Spec):
    """A condition and what to do when it holds."""

    name: str | None = Field(None, description="Shown in error messages and in the unmatched-request message.")
    when: When = Field(default_factory=When, description="Conditions, all of which must hold; none = any request.")
    times: Times = Field(1, description="Requests this rule may answer: a positive number or 'unlimited'.")
    delay: Duration = Field(0.0, description="Wait before answering (also before an error).")
    reply: ReplyItem | None = Field(None, description="Answer with content. A bare string is the reply text.")
    error: ErrorItem | None = Field(
        None, description="Fail with a Google error; with reply and after_chunks: mid-stream."
    )
    block: BlockItem | None = Field(None, description="Block the prompt (HTTP 200, no candidates).")
    fault: Fault | None = Field(
        None,
        description="Misbehave as the x-emulator-fault header would (a reset, a stall, a truncated stream...); "
        "alone, the fallback model's answer is what the fault acts on.",
    )

    @model_validator(mode="after")
    def _one_action(self) -> Rule:
        actions = [name for name in ("reply", "error", "block") if getattr(self, name) is not None]
        if not actions and self.fault is not None:
            return self
        if actions == ["reply", "error"]:
            if self.error is not None and self.error.after_chunks == 0:
                raise ValueError("reply with error is a mid-stream failure: set error.after_chunks to 1 or more")
        elif len(actions) != 1:
            raise ValueError(f"a rule needs one of reply, error or block (found: {', '.join(actions) or 'none'})")
        elif self.error is not None and self.error.after_chunks:
            raise ValueError("error.after_chunks needs a reply to stream before the error")
        return self

    def label(self, index: int) -> str:
        """How messages name this rule: its position, and its name when it has one."""
        return f'rules[{index}] "{self.name}"' if self.name else f"rules[{index}]"


class Scenario(Spec):
    """A scripted model. One backend instance plays it for one context."""

    schema_url: str | None = Field(None, alias="$schema", description="Ignored; lets editors find the JSON Schema.")
    name: str = Field(min_length=1, description="Named in every error the scenario produces.")
    description: str | None = None
    unmatched: Literal["error", "default"] = Field(
        "error", description="When no rule answers: a 400 FAILED_PRECONDITION, or delegate to the fallback backend."
    )
    rules: list[Rule] = Field(default_factory=list, description="Tried top to bottom; the first usable match answers.")
