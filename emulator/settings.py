"""Settings from arguments or ``GEMINI_EMULATOR_*`` environment variables; reading them has no side effects.

A plain pydantic model that reads its variables itself: pydantic-settings, which did the same, cost
a sixth of the server's start-up to import.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal, get_origin

from pydantic import BaseModel, ConfigDict, Field, SecretStr

DEFAULT_PORT = 8765
MiB = 1024 * 1024
ENV_PREFIX = "GEMINI_EMULATOR_"


class Settings(BaseModel):
    """Arguments win over ``GEMINI_EMULATOR_<FIELD>`` variables (any case), which win over defaults; a list
    setting's variable holds a JSON list."""

    model_config = ConfigDict(extra="forbid")

    def __init__(self, **values: Any) -> None:
        super().__init__(**{**_from_environment(), **values})

    host: str = Field("127.0.0.1", description="Address to bind; loopback unless you mean otherwise.")
    port: int = Field(DEFAULT_PORT, ge=0, le=65535, description="Port to bind; 0 picks a free one.")
    api_key: SecretStr | None = Field(None, description="When set, any other key gets 400 API_KEY_INVALID.")
    access_token: SecretStr | None = Field(
        None, description="When set, Vertex AI calls with a bearer token must carry this one (others get 401)."
    )
    lenient: bool = Field(False, description="Ignore unknown fields and skip semantic request checks.")
    max_body_bytes: int = Field(20 * MiB, ge=1024, description="Largest request body accepted.")
    models_file: Path | None = Field(None, description="JSON or YAML file of extra or overriding catalogue entries.")
    any_model: str | None = Field(
        None, description="A catalogue model that answers for any model name the catalogue does not hold."
    )
    seed: int = Field(0, description="Mixed into every choice of the default model.")
    backends: list[str] = Field(
        default_factory=list,
        description="Model routes, 'GLOB=SPEC', first match wins: SPEC is 'default', 'scenario:FILE' or "
        "'callable:MODULE:FUNCTION'. Models no route matches get the default model.",
    )
    scenario: Path | None = Field(
        None, description="A scenario file answering every model (same as '*=scenario:FILE')."
    )
    callable_path: list[Path] = Field(
        default_factory=list, description="Directories searched for the modules of 'callable:' routes, and only they."
    )
    allow_non_loopback: bool = Field(False, description="Bind a non-loopback host (a warning is printed).")
    loop: Literal["auto", "uvloop", "asyncio"] = Field(
        "auto", description="Event loop of 'serve': uvloop when installed (auto), or asyncio's own."
    )
    access_log: bool = Field(True, description="Log each request's method, path, status and time.")
    keepalive_timeout: float = Field(75.0, gt=0, description="Seconds an idle keep-alive connection is kept.")
    body_timeout: float = Field(60.0, gt=0, description="Seconds a client has to send a whole request body.")
    header_timeout: float = Field(
        10.0, gt=0, description="Seconds a client has to send a request's headers, from their first byte."
    )
    shutdown_timeout: float = Field(5.0, ge=0, description="Seconds in-flight calls get on shutdown.")
    control_remote: bool = Field(False, description="Serve the /_emulator/ control plane to non-loopback callers.")
    cassette: Path | None = Field(
        None, description="Cassette file to replay (or record into), or a directory of cassettes chosen per context."
    )
    record_mode: Literal["none", "once", "new_episodes", "all"] = Field(
        "none", description="vcrpy's record modes: none replays only; once, new_episodes and all record."
    )
    upstream: str = Field(
        "https://generativelanguage.googleapis.com", description="Where recording forwards Developer API calls."
    )
    vertex_upstream: str | None = Field(
        None,
        description="Where recording forwards Vertex AI calls; by default the real endpoint of the call's "
        "location (https://{location}-aiplatform.googleapis.com, https://aiplatform.googleapis.com for global "
        "and express mode).",
    )
    record_errors: bool = Field(False, description="Also record upstream error answers.")
    replay_timing: float = Field(0.0, ge=0, description="Replay recorded stream delays: 0 ignores, 1 as recorded.")
    after_last: Literal["repeat", "miss"] = Field(
        "repeat", description="A repeated request beyond its recordings gets the last one again, or misses."
    )
    match_ignore: list[str] = Field(
        default_factory=list, description="Body fields replay matching ignores, e.g. 'generationConfig.seed'."
    )
    match_location: bool = Field(
        False,
        description="A Vertex AI recording answers only calls to the location it was recorded at "
        "(by default any project and location).",
    )
    journal_per_context: int = Field(1000, ge=1, description="Journal entries kept per context.")
    journal_context_bytes: int = Field(16 * MiB, ge=1, description="Journal bytes kept per context (oldest go first).")
    journal_bytes: int = Field(64 * MiB, ge=1, description="Journal bytes kept in all (least recent context goes).")
    scenario_bytes: int = Field(
        2 * MiB, ge=1, description="Bytes of distinct scenarios loaded over HTTP kept in all (least recent goes)."
    )
    max_contexts: int = Field(1000, ge=1, description="Contexts with state kept; the least recently used goes first.")
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names the control plane answers besides loopback names and the bound address ('*': any).",
    )
    control_token: SecretStr | None = Field(
        None, description="When set, control-plane calls must send it as x-emulator-token."
    )

    @property
    def expected_key(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key else None

    @property
    def expected_token(self) -> str | None:
        return self.access_token.get_secret_value() if self.access_token else None

    @property
    def control_secrets(self) -> list[str]:
        """What opens the control plane: the control token, the API key or the access token; empty: loopback
        suffices."""
        return [s.get_secret_value() for s in (self.control_token, self.api_key, self.access_token) if s is not None]


def _from_environment() -> dict[str, Any]:
    found: dict[str, Any] = {}
    names = {name.upper(): value for name, value in os.environ.items() if name.upper().startswith(ENV_PREFIX)}
    for field, info in Settings.model_fields.items():
        value = names.get(ENV_PREFIX + field.upper())
        if value is None:
            continue
        if get_origin(info.annotation) is list:
            try:
                found[field] = json.loads(value)
            except ValueError:
                found[field] = value  # not JSON: refused as "should be a valid list", naming the variable
        else:
            found[field] = value
    return found
