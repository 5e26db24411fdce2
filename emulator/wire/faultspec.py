"""What a fault is: the misbehaviour a client asked for, as data (header, control plane, scenario rule).

Acting a fault out is the server's business (``emulator.server.faults``); this module only says
what a valid fault looks like, so that scenarios and backends can carry one without the server.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import errors
from .errors import ApiError

FAULT_HEADER = "x-emulator-fault"
Kind = Literal[
    "error", "latency", "midstream", "reset", "empty", "malformed", "garbage", "stall", "truncate", "block",
    "finish", "quota",
]  # fmt: skip
BEFORE_KINDS = ("error", "latency", "block", "empty", "reset", "malformed", "garbage", "stall", "midstream", "truncate")
CONNECTION_KINDS = ("empty", "reset", "malformed", "garbage", "stall")
STREAM_KINDS = ("midstream", "malformed", "garbage", "stall", "truncate", "reset")


class Fault(BaseModel):
    """One way to misbehave; fields that a kind does not use are ignored."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    model: str = Field("*", description="glob of the model ids it applies to")
    times: int | None = Field(None, ge=0, description="how many matching attempts it applies to; None: all")
    after: int = Field(0, ge=0, description="matching attempts let through before it starts")
    probability: float = Field(1.0, ge=0, le=1)
    seed: int = 0
    code: int = Field(503, ge=400, le=599, description="error: 400, 403, 429, 500, 503, 504, ...")
    message: str | None = None
    status: str | None = None
    details: list[dict[str, Any]] | None = None
    retry_after: int = Field(30, ge=0, description="seconds in a 429's RetryInfo")
    retry_after_header: bool = Field(False, description="also send a Retry-After header")
    after_chunks: int = Field(1, ge=0, description="stream faults: chunks sent before the fault")
    delay: float = Field(0.0, ge=0, le=600, description="latency: seconds before the answer")
    first_chunk_delay: float = Field(0.0, ge=0, le=600)
    tokens_per_second: float | None = Field(None, gt=0)
    stall_seconds: float = Field(300.0, ge=0, le=3600)
    finish_reason: str = "MAX_TOKENS"
    block_reason: str = "SAFETY"
    rpm: int | None = Field(None, ge=1, description="quota: requests per minute per context")
    tpm: int | None = Field(None, ge=1, description="quota: prompt tokens per minute per context")

    def error(self, model: str) -> ApiError:
        if self.code == 429 and self.message is None:
            return errors.quota_exceeded(model, self.retry_after)
        texts = {500: errors.MSG_INTERNAL, 503: errors.MSG_OVERLOADED, 504: errors.MSG_DEADLINE}
        message = self.message or texts.get(self.code, "Request contains an invalid argument.")
        return ApiError(self.code, message, self.status, self.details)


def parse(data: Any) -> list[Fault]:
    """Faults from JSON data (one object or a list); ValueError says which and why."""
    items = data if isinstance(data, list) else [data]
    try:
        return [Fault.model_validate(item) for item in items]
    except RecursionError:
        raise ValueError("the faults are nested too deeply") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"invalid fault at {where or 'top level'}: {first['msg']}") from None


def from_header(value: str) -> Fault:
    try:
        data = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{FAULT_HEADER} must be a JSON object: {exc.msg}") from None
    except RecursionError:
        raise ValueError(f"{FAULT_HEADER} is nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError(f"{FAULT_HEADER} must be a JSON object, not {type(data).__name__}")
    return parse(data)[0]
