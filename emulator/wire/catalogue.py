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

from . import errors, profiles
from .profiles import Profile

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
    profile: str | None = Field(
        None,
        description="The family whose answers this model's look like (emulator/data/profiles.json); "
        "by default the first family whose glob matches the model id.",
    )


class ModelInfo(BaseModel):
    """A catalogue entry; field names are the wire's camelCase names, in the wire's order (the real
    list writes ``temperature, topP, topK, maxTemperature, thinking``, whole numbers without a fraction,
    and leaves out what a model does not have, e.g. a Gemma model's description)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    version: str = "001"
    displayName: str = ""
    description: str | None = None
    inputTokenLimit: int = 1_048_576
    outputTokenLimit: int = 65_536
    supportedGenerationMethods: list[str] = Field(default_factory=lambda: list(GENERATE_METHODS))
    temperature: int | float | None = None
    topP: int | float | None = None
    topK: int | None = None
    maxTemperature: int | float | None = None
    thinking: bool | None = None
    emulator: Traits = Field(default_factory=Traits)

    @cached_property
    def model_id(self) -> str:
        return self.name.split("/", 1)[1]

    @cached_property
    def profile(self) -> Profile:
        return profiles.profile(self.emulator.profile or profiles.family_of(self.model_id))

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
    """Models by name, in the order they are listed; ``any_model`` names the entry that stands in for
    names the catalogue does not hold (none: they get the real 404)."""

    def __init__(self, models: list[ModelInfo], any_model: str | None = None) -> None:
        self._models: dict[str, ModelInfo] = {}
        for model in models:
            self._models[_full(model.name)] = _renamed(model, _full(model.name))
        self._stand_in: ModelInfo | None = None
        if any_model is not None:
            self._stand_in = self._models.get(_full(any_model))
            if self._stand_in is None:
                raise ValueError(f"--any-model {any_model!r} is not in the catalogue")
        self._made: dict[str, ModelInfo] = {}

    @classmethod
    def load(cls, extra: Path | None = None, any_model: str | None = None) -> Catalogue:
        """The shipped catalogue, extended or overridden by the entries of ``extra``."""
        shipped = json.loads(resources.files("emulator.data").joinpath("models.json").read_text(encoding="utf-8"))
        entries = list(shipped["models"])
        if extra is not None:
            data = _read(extra)
            entries += data["models"] if isinstance(data, dict) else data
        return cls([ModelInfo.model_validate(e) for e in entries], any_model)

    @property
    def models(self) -> list[ModelInfo]:
        return list(self._models.values())

    def get(self, name: str) -> ModelInfo | None:
        """Looks a model up by ``models/x``, ``tunedModels/x`` or a bare ``x``; an unknown name gets the
        ``any_model`` stand-in under its own name, when there is one."""
        name = _full(name)
        found = self._models.get(name)
        if found is None and self._stand_in is not None:
            found = self.stand_in(name, self._stand_in)
        return found

    def stand_in(self, name: str, like: ModelInfo) -> ModelInfo:
        """A model the catalogue does not list, answered like ``like`` (kept, so it is made once)."""
        name = _full(name)
        found = self._made.get(name)
        if found is None:
            if len(self._made) >= _MAX_MADE:
                self._made.clear()
            found = self._made[name] = _renamed(like, name, name.split("/", 1)[1])
        return found

    def page(self, size: str | None, token: str | None) -> dict[str, Any]:
        """One page of ``models.list``: ``pageSize`` (default 50, at most 1000) after ``pageToken``.

        As the real list pages: a token names the last model of the previous page (base64 of a protobuf
        whose field 1 is that name), so a page goes on after that model; the last page has no token.
        """
        count, models = _page_size(size), self.models
        start = 0
        if token:
            after = _token_name(token)
            names = [m.name for m in models]
            if after not in names:
                raise errors.invalid_argument("Invalid page token.")
            start = names.index(after) + 1
        page = models[start : start + count]
        body: dict[str, Any] = {"models": [m.wire for m in page]}
        if start + count < len(models):
            body["nextPageToken"] = _token(page[-1].name)
        return body

    def described(self, name: str, version: str) -> dict[str, Any]:
        """``models.get``: the entry as the wire shows it, or the real 404."""
        model = self.get(name)
        if model is None:
            raise errors.model_not_found(name, version, "getModel")
        return model.wire

    def resolve(self, name: str, method: str, version: str, recorded: bool = False) -> ModelInfo:
        """The model for a call, or the real service's 404 when it is unknown or lacks the method.

        ``recorded``: a cassette answers the call, and a recording is evidence that the model existed
        then, so an unknown name is served (like the catalogue's default model) rather than refused.
        """
        model = self.get(name)
        if model is None and recorded:
            model = self.stand_in(name, _RECORDED)
        if model is None or not model.supports(method):
            raise errors.model_not_found(_full(name), version, method)
        return model


_MAX_MADE = 1000
_RECORDED = ModelInfo(name="models/recorded", supportedGenerationMethods=[*GENERATE_METHODS, "embedContent"])
"""What the emulator assumes of a model it knows only from a recording: every call it serves."""


def _renamed(model: ModelInfo, name: str, display: str | None = None) -> ModelInfo:
    """A copy under another name (made afresh: a copy would keep the original's cached id and profile)."""
    data = model.model_dump(exclude_unset=True)
    data["name"] = name
    if display is not None:
        data["displayName"] = display
    return ModelInfo.model_validate(data)


def _full(name: str) -> str:
    return name if name.startswith(("models/", "tunedModels/")) else f"models/{name}"


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


def _token(name: str) -> str:
    raw = name.encode()
    length = bytearray()
    size = len(raw)
    while True:  # the protobuf varint of the name's length
        length.append((size & 0x7F) | (0x80 if size > 0x7F else 0))
        size >>= 7
        if not size:
            break
    return base64.b64encode(b"\x0a" + bytes(length) + raw).decode()


def _token_name(token: str) -> str:
    """The model name a page token carries; the 400 for anything else."""
    try:
        data = base64.b64decode(
            token + "=" * (-len(token) % 4), altchars=b"-_" if "-" in token or "_" in token else None
        )
        if data[:1] != b"\x0a":
            raise ValueError("not a page token")
        size, shift, at = 0, 0, 1
        while True:
            byte = data[at]
            size |= (byte & 0x7F) << shift
            at, shift = at + 1, shift + 7
            if not byte & 0x80:
                break
        return data[at : at + size].decode()
    except (ValueError, IndexError, UnicodeDecodeError):
        raise errors.invalid_argument("Invalid page token.") from None
