"""What a rule does: ``reply`` (content, streamed or not), ``error`` (a Google error) or ``block``.

Field names are snake_case, as in the Python SDK's types, and are translated to the wire's
camelCase when the answer is built. The content checks here exist because the SDKs replay model
output verbatim: an empty text part or a part with two payloads would come back in the next request
and be rejected there, far from the scenario line that caused it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    field_validator,
    model_validator,
)

from .fields import Base64, BlockReason, Duration, FinishReason, Spec, TemplateStr, TemplateValue, TextTemplate


class FunctionCall(Spec):
    name: str = Field(min_length=1, description="A function the request declares (the Python AFC needs that).")
    args: dict[str, TemplateValue] = Field(default_factory=dict, description="Arguments; strings may be templates.")
    id: str | None = Field(None, description="Call id, sent back by clients in the function response.")


class InlineData(Spec):
    mime_type: str = Field(min_length=1)
    data: Base64 = Field(description="The bytes, base64 (either alphabet).")


class ExecutableCode(Spec):
    code: TemplateStr
    language: Literal["PYTHON"] = "PYTHON"


class CodeExecutionResult(Spec):
    outcome: Literal["OUTCOME_OK", "OUTCOME_FAILED", "OUTCOME_DEADLINE_EXCEEDED"] = "OUTCOME_OK"
    output: TemplateStr = ""


_PAYLOADS = ("text", "thought", "function_call", "inline_data", "executable_code", "code_execution_result")


class Part(Spec):
    """One part of the model's content: exactly one payload, plus an optional signature."""

    text: TextTemplate | None = None
    thought: TextTemplate | None = Field(
        None, description="A thought summary; sent only when the request sets includeThoughts."
    )
    function_call: FunctionCall | None = None
    inline_data: InlineData | None = None
    executable_code: ExecutableCode | None = None
    code_execution_result: CodeExecutionResult | None = None
    thought_signature: Base64 | None = Field(None, description="Opaque signature bytes (base64).")

    @model_validator(mode="after")
    def _one_payload(self) -> Part:
        given = [name for name in _PAYLOADS if getattr(self, name) is not None]
        if len(given) != 1:
            found = ", ".join(given) or "none"
            raise ValueError(f"a part needs exactly one of {', '.join(_PAYLOADS)} (found: {found})")
        return self


def _text_shorthand(value: Any) -> Any:
    return {"text": value} if isinstance(value, str) else value


PartItem = Annotated[Part, BeforeValidator(_text_shorthand, json_schema_input_type=str | Part)]


class Candidate(Spec):
    """One candidate: `text`, `parts` or `json` (structured output), and how it ended."""

    text: TextTemplate | None = Field(None, description="Shorthand for one text part.")
    parts: list[PartItem] | None = Field(None, min_length=1, description="Explicit parts, in order.")
    json_value: TemplateValue = Field(
        None, alias="json", description="Structured output: any JSON value, sent as its JSON text."
    )
    finish_reason: FinishReason | None = Field(None, description="Defaults to STOP.")
    finish_message: TemplateStr | None = None

    def content_fields(self) -> list[str]:
        given = [name for name in ("text", "parts") if getattr(self, name) is not None]
        return [*given, "json"] if "json_value" in self.model_fields_set else given

    @model_validator(mode="after")
    def _content(self) -> Candidate:
        _one_content(self, self.content_fields())
        return self


def _one_content(candidate: Candidate, given: list[str]) -> None:
    if len(given) > 1:
        raise ValueError(f"give one of text, parts or json, not {' and '.join(given)}")
    if not given and candidate.finish_reason is None:
        raise ValueError("give text, parts or json (or a finish_reason for a deliberately empty candidate)")


class Usage(Spec):
    """Overrides of usageMetadata; totalTokenCount is recomputed from the others unless given too."""

    prompt_token_count: NonNegativeInt | None = None
    candidates_token_count: NonNegativeInt | None = None
    thoughts_token_count: NonNegativeInt | None = None
    cached_content_token_count: NonNegativeInt | None = None
    total_token_count: NonNegativeInt | None = None


class StreamPlan(Spec):
    """How a streamed reply is cut and paced. Function calls and other non-text parts are never cut."""

    split: Literal["tokens", "words", "characters"] = Field(
        "tokens", description="Unit of text per chunk; ignored when chunks are given."
    )
    size: PositiveInt | None = Field(None, description="Units per chunk (default: 8 tokens, 1 word, 1 character).")
    chunks: list[TextTemplate] | None = Field(
        None, min_length=1, description="The reply text as explicit pieces, one chunk each (instead of text)."
    )
    first_chunk: Duration = Field(0.0, description="Extra wait before the first chunk (time to first token).")
    tokens_per_second: PositiveFloat | None = Field(None, description="Pace of later chunks, by their token counts.")


class Reply(Candidate):
    """A successful answer: one candidate written inline, or several under `candidates`."""

    candidates: list[Candidate] | None = Field(None, min_length=1)
    usage: Usage | None = None
    stream: StreamPlan | None = None
    model_version: str | None = Field(None, description="modelVersion to report instead of the model id.")
    raw: list[dict[str, Any]] | None = Field(
        None,
        min_length=1,
        description="Response bodies sent verbatim, wire JSON (camelCase), no templates, no framing: a stream "
        "sends every one as a chunk, generateContent the first. For shapes nothing else writes (a chunk without "
        "candidates, a content without parts, a malformed chunk).",
    )

    @model_validator(mode="after")
    def _content(self) -> Reply:
        if self.raw is not None:
            others = sorted(name for name in self.model_fields_set if name not in ("raw", "stream"))
            if others:
                raise ValueError(f"raw bodies are the whole reply; do not also give {', '.join(others)}")
            return self
        given = self.content_fields()
        chunks = self.stream is not None and self.stream.chunks is not None
        if self.candidates is not None:
            if given or self.finish_reason or self.finish_message:
                raise ValueError("with candidates, put text/parts/json/finish_reason inside each candidate")
            if chunks:
                raise ValueError("stream.chunks needs a single text reply, not candidates")
        elif chunks:
            if given:
                raise ValueError(f"stream.chunks is the reply text; do not also give {' and '.join(given)}")
        else:
            _one_content(self, given)
        return self

    def all_candidates(self) -> list[Candidate]:
        return self.candidates if self.candidates is not None else [self]


def _code_shorthand(value: Any) -> Any:
    return {"code": value} if isinstance(value, int) and not isinstance(value, bool) else value


class Quota(Spec):
    """The QuotaFailure violation of a 429 (defaults are the free-tier per-minute limit)."""

    metric: str = "generativelanguage.googleapis.com/generate_content_free_tier_requests"
    quota_id: str = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
    value: int | str = 10


class Error(Spec):
    """A Google API error. Shorthand: `error: 503`."""

    code: int = Field(ge=400, le=599, description="HTTP status; 4xx surface as ClientError, 5xx as ServerError.")
    status: str | None = Field(None, description="google.rpc code name; defaults from the HTTP code.")
    message: TemplateStr | None = Field(None, description="Defaults to the real service's text for the code.")
    retry_after: Duration | None = Field(None, description="Adds RetryInfo{retryDelay}; e.g. 3s.")
    quota: bool | Quota | None = Field(
        None, description="Adds QuotaFailure and Help details; on by default for 429, false to leave them out."
    )
    reason: str | None = Field(None, description="Adds ErrorInfo{reason}, e.g. RATE_LIMIT_EXCEEDED.")
    details: list[dict[str, Any]] = Field(default_factory=list, description="Raw google.rpc detail objects.")
    after_chunks: NonNegativeInt = Field(
        0, description="With a reply: stream this many chunks of it (all, if it has fewer), then fail mid-stream."
    )

    @field_validator("details")
    @classmethod
    def _typed(cls, details: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for index, item in enumerate(details):
            if not isinstance(item.get("@type"), str):
                raise ValueError(f"details[{index}] needs an '@type', e.g. type.googleapis.com/google.rpc.DebugInfo")
        return details


ErrorItem = Annotated[Error, BeforeValidator(_code_shorthand, json_schema_input_type=int | Error)]


def _reason_shorthand(value: Any) -> Any:
    return {"reason": value} if isinstance(value, str) else value


class Block(Spec):
    """A blocked prompt: HTTP 200, promptFeedback.blockReason, no candidates. Shorthand: `block: SAFETY`."""

    reason: BlockReason = "SAFETY"
    message: TemplateStr | None = Field(None, description="blockReasonMessage.")
    safety_ratings: list[dict[str, Any]] | None = Field(None, description="Raw SafetyRating objects (camelCase).")


BlockItem = Annotated[Block, BeforeValidator(_reason_shorthand, json_schema_input_type=BlockReason | Block)]
ReplyItem = Annotated[Reply, BeforeValidator(_text_shorthand, json_schema_input_type=str | Reply)]
