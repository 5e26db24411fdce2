"""Settings from arguments or ``GEMINI_EMULATOR_*`` environment variables; reading them has no side effects."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PORT = 8765
MiB = 1024 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GEMINI_EMULATOR_", extra="forbid")

    host: str = Field("127.0.0.1", description="Address to bind; loopback unless you mean otherwise.")
    port: int = Field(DEFAULT_PORT, ge=0, le=65535, description="Port to bind; 0 picks a free one.")
    api_key: SecretStr | None = Field(None, description="When set, any other key gets 400 API_KEY_INVALID.")
    lenient: bool = Field(False, description="Ignore unknown fields and skip semantic request checks.")
    max_body_bytes: int = Field(20 * MiB, ge=1024, description="Largest request body accepted.")
    models_file: Path | None = Field(None, description="JSON or YAML file of extra or overriding catalogue entries.")
    seed: int = Field(0, description="Mixed into every choice of the default model.")

    @property
    def expected_key(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key else None
