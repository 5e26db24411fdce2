"""The model catalogue: which models exist, what the wire says about them, and how the emulator treats them.

It is data (``emulator/data/models.json``) that users extend with their own JSON or YAML file; entries
with the same name replace the shipped ones.
"""

from __future__ import annotations

import base64
import json
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from . import errors

GENERATE_METHODS = ("generateContent", "countTokens", "createCachedContent", "batchGenerateContent")
# The real catalogue lists only the unary method; its streaming and batch forms come with it.
_IMPLIED_BY = {"streamGenerateContent": "generateContent", "batchEmbedContents": "embedContent"}


class Traits(BaseModel):
    """How the emulator behaves for a model; never sent on the wire."""

    model_config = ConfigDict(extra="forbid")

    thought_signatures: bool = Field(
        False, description="Gemini-3-like: sign function calls and demand the signature back."
    )
    embedding_dimension: int | None = Field(None, description="Length of embedding vectors, for embedding models.")
    max_candidate_count: int = Field(8, description="Largest accepted generationConfig.candidateCount.")


class ModelInfo(BaseModel):
    """A catalogue entry; field names are the wire's camelCase names."""

    model_config = ConfigDict(extra="forbid")

    name: str
    version: str = "001"
    displayName: str = ""
    description: str = ""
    inputTokenLimit: int = 1_048_576
    outputTokenLimit: int = 65_536
    supportedGenerationMethods: list[str] = Field(default_factory=lambda: list(GENERATE_METHODS))
    temperature: float | None = None
    maxTemperature: float | None = None
    topP: float | None = None
    topK: int | None = None
    thinking: bool | None = None
    emulator: Traits = Field(default_factory=Traits)

    @cached_property
    def model_id(self) -> str:
        return self.name.split("/", 1)[1]

    def supports(self, method: str) -> bool:
        return _IMPLIED_BY.get(method, method) in self.supportedGenerationMethods

    @cached_property
    def wire(self) -> dict[str, Any]:
        """The JSON the models endpoints return for this entry."""
        return self.model_dump(exclude={"emulator"}, exclude_none=True)


def _read(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)


class Catalogue:
    """Models by name, in the order they are listed."""

    def __init__(self, models: list[ModelInfo]) -> None:
        self._models: dict[str, ModelInfo] = {}
        for model in models:
            if not model.name.startswith(("models/", "tunedModels/")):
                model = model.model_copy(update={"name": f"models/{model.name}"})
            self._models[model.name] = model

    @classmethod
    def load(cls, extra: Path | None = None) -> Catalogue:
        """The shipped catalogue, extended or overridden by the entries of ``extra``."""
        shipped = json.loads(resources.files("emulator.data").joinpath("models.json").read_text(encoding="utf-8"))
        entries = list(shipped["models"])
        if extra is not None:
            data = _read(extra)
            entries += data["models"] if isinstance(data, dict) else data
        return cls([ModelInfo.model_validate(e) for e in entries])

    @property
    def models(self) -> list[ModelInfo]:
        return list(self._models.values())

    def get(self, name: str) -> ModelInfo | None:
        """Looks a model up by ``models/x``, ``tunedModels/x`` or a bare ``x``."""
        if not name.startswith(("models/", "tunedModels/")):
            name = f"models/{name}"
        return self._models.get(name)

    def page(self, size: str | None, token: str | None) -> dict[str, Any]:
        """One page of ``models.list``: ``pageSize`` (default 50, at most 1000) from ``pageToken`` on."""
        count, start = _page_size(size), _page_start(token)
        models = self.models
        body: dict[str, Any] = {"models": [m.wire for m in models[start : start + count]]}
        if start + count < len(models):
            body["nextPageToken"] = base64.urlsafe_b64encode(str(start + count).encode()).decode()
        return body

    def described(self, name: str, version: str) -> dict[str, Any]:
        """``models.get``: the entry as the wire shows it, or the real 404."""
        model = self.get(name)
        if model is None:
            raise errors.model_not_found(name, version, "getModel")
        return model.wire

    def resolve(self, name: str, method: str, version: str) -> ModelInfo:
        """The model for a call, or the real service's 404 when it is unknown or lacks the method."""
        model = self.get(name)
        if model is None or not model.supports(method):
            full = name if name.startswith(("models/", "tunedModels/")) else f"models/{name}"
            raise errors.model_not_found(full, version, method)
        return model


_DEFAULT_PAGE, _MAX_PAGE = 50, 1000


def _page_size(raw: str | None) -> int:
    if raw is None:
        return _DEFAULT_PAGE
    try:
        size = int(raw)
    except ValueError:
        raise errors.invalid_argument(f"Invalid value at 'page_size' (TYPE_INT32), \"{raw}\"") from None
    if size < 0:
        raise errors.invalid_argument("page_size must not be negative.")
    return min(size, _MAX_PAGE) or _DEFAULT_PAGE


def _page_start(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        raise errors.invalid_argument("Invalid page token.") from None
