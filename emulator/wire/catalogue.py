"""The model catalogue: which models exist, what the wire says about them, and how the emulator treats them.

It is data (``emulator/data/models.json``, the Developer API's list, and ``emulator/data/vertex_models.json``,
what Vertex AI serves of it and besides it) that users extend with their own JSON or YAML file; entries
with the same name replace the shipped ones, and serve both APIs unless their traits say otherwise.
"""

from __future__ import annotations

import base64
import json
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from . import errors, profiles
from . import vertex_catalogue as vertex
from .flavour import Flavour
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
    developer: bool = Field(
        True, description="The Developer API lists and serves it; false for a model only Vertex AI has."
    )
    vertex: bool = Field(
        True,
        description="Vertex AI serves it: a models/ entry as publishers/google/models/{id}, a tunedModels/ entry "
        "as the project's own model behind endpoints/{id}. The shipped Developer API models that Vertex AI "
        "lacks (Gemma, AQA, the -latest aliases, ...) are false.",
    )
    vertex_methods: list[str] | None = Field(
        None,
        description="The calls Vertex AI serves for it, when they differ from what supportedGenerationMethods "
        "implies there (generateContent brings streamGenerateContent, countTokens and computeTokens; "
        "embedContent brings batchEmbedContents and countTokens); e.g. the text-embedding models' predict.",
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

    @cached_property
    def vertex_methods(self) -> frozenset[str]:
        """The calls Vertex AI serves for it (given, else what the Developer API's methods imply there)."""
        given = self.emulator.vertex_methods
        if given is None:
            listed = self.supportedGenerationMethods
            given = [
                *(vertex.GENERATE_CALLS if "generateContent" in listed else ()),
                *(vertex.EMBED_CALLS if "embedContent" in listed else ()),
            ]
        return frozenset(given)

    def on(self, flavour: Flavour) -> bool:
        """Whether the API of ``flavour`` has this model at all."""
        return self.emulator.vertex if flavour is Flavour.VERTEX else self.emulator.developer

    def supports(self, method: str, flavour: Flavour = Flavour.DEVELOPER) -> bool:
        implied = _IMPLIED_BY.get(method, method)
        if flavour is Flavour.VERTEX:
            return self.emulator.vertex and (method in self.vertex_methods or implied in self.vertex_methods)
        return self.emulator.developer and implied in self.supportedGenerationMethods

    @cached_property
    def wire(self) -> dict[str, Any]:
        """The JSON the models endpoints return for this entry."""
        return self.model_dump(exclude={"emulator"}, exclude_none=True)


def _read(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        import yaml  # only for a models file written in YAML: the import costs start-up time

        return yaml.safe_load(text)
    return json.loads(text)


class Catalogue:
    """Models by name, in the order they are listed; ``any_model`` names the entry that stands in for
    names the catalogue does not hold (none: they get the real 404). ``publishers`` are Vertex AI's
    entries for the models it lists, by model id and in its order."""

    def __init__(
        self,
        models: list[ModelInfo],
        any_model: str | None = None,
        publishers: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self._models: dict[str, ModelInfo] = {}
        for model in models:
            self._models[_full(model.name)] = _renamed(model, _full(model.name))
        self._publishers = dict(publishers or {})
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
        on_vertex = vertex.VertexData.shipped()
        entries = [on_vertex.patched(e) for e in shipped["models"]] + on_vertex.models
        if extra is not None:
            data = _read(extra)
            entries += data["models"] if isinstance(data, dict) else data
        return cls([ModelInfo.model_validate(e) for e in entries], any_model, on_vertex.entries)

    @property
    def models(self) -> list[ModelInfo]:
        """The Developer API's list."""
        return self.listed(Flavour.DEVELOPER)

    def listed(self, flavour: Flavour) -> list[ModelInfo]:
        """What ``GET models`` lists: on Vertex AI the publisher models, in the order of its shipped list and then
        the user's additions (a project's tuned models are listed apart, by :meth:`tuned`)."""
        if flavour is Flavour.DEVELOPER:
            return [m for m in self._models.values() if m.on(flavour)]
        served = {m.model_id: m for m in self._models.values() if m.on(flavour) and m.name.startswith("models/")}
        first = [served.pop(model_id) for model_id in self._publishers if model_id in served]
        return first + list(served.values())

    def get(self, name: str, flavour: Flavour = Flavour.DEVELOPER) -> ModelInfo | None:
        """Looks a model up by ``models/x``, ``tunedModels/x`` or a bare ``x``; a name the API of ``flavour``
        lacks gets the ``any_model`` stand-in under its own name, when there is one."""
        name = _full(name)
        found = self._models.get(name)
        if found is not None and not found.on(flavour):
            found = None
        if found is None and self._stand_in is not None:
            found = self.stand_in(name, self._stand_in)
        return found

    def stand_in(self, name: str, like: ModelInfo, display: bool = True) -> ModelInfo:
        """A model the catalogue does not list, answered like ``like`` by either API (kept, so it is made once);
        ``display``: named for its own name, as the real service would show an unknown model."""
        name = _full(name) if not name.startswith("endpoints/") else name
        found = self._made.get(name)
        if found is None:
            if len(self._made) >= _MAX_MADE:
                self._made.clear()
            shown = name.split("/", 1)[1] if display else None
            found = self._made[name] = _renamed(like, name, shown, everywhere=True)
        return found

    def page(self, size: str | None, token: str | None, flavour: Flavour = Flavour.DEVELOPER) -> dict[str, Any]:
        """One page of ``models.list``: ``pageSize`` (default 50, on Vertex AI 100; at most 1000) after ``pageToken``.

        As the real list pages: a token names the last model of the previous page (base64 of a protobuf
        whose field 1 is that name), so a page goes on after that model; the last page has no token.
        Vertex AI's tokens are opaque and were never recorded: the emulator writes them the same way.
        """
        if flavour is Flavour.VERTEX:
            entries = [self._publisher_entry(m) for m in self.listed(flavour)]
            return _paged("publisherModels", entries, size, token, vertex.DEFAULT_PAGE)
        return _paged("models", [m.wire for m in self.models], size, token, _DEFAULT_PAGE)

    def described(
        self,
        name: str,
        version: str,
        flavour: Flavour = Flavour.DEVELOPER,
        project: str | None = None,
        location: str | None = None,
    ) -> dict[str, Any]:
        """``models.get``: the entry as the wire shows it, or the real 404.

        On Vertex AI the publisher model (its fields are the listing's; the SDK reads ``name`` and ``versionId``
        of it), also named with a version (``gemini-2.5-flash@default``); an unknown one gets the publisher
        model 404, the only Vertex AI text recorded for a missing model.
        """
        if flavour is Flavour.VERTEX:
            name = _publisher_name(name).split("@", 1)[0]
            model = self.get(name, flavour)
            if model is None or not model.name.startswith("models/"):
                raise errors.publisher_model_not_found(_full(name).split("/", 1)[1], project, location)
            return self._publisher_entry(model)
        model = self.get(name)
        if model is None:
            raise errors.model_not_found(name, version, "getModel")
        return model.wire

    def resolve(
        self,
        name: str,
        method: str,
        version: str,
        recorded: bool = False,
        flavour: Flavour = Flavour.DEVELOPER,
        project: str | None = None,
        location: str | None = None,
    ) -> ModelInfo:
        """The model for a call, or the real service's 404 when it is unknown or lacks the method.

        ``recorded``: a cassette answers the call, and a recording is evidence that the model existed
        then, so an unknown name is served (like the catalogue's default model) rather than refused.
        On Vertex AI ``name`` may be ``endpoints/{id}``: the user's ``tunedModels/{id}`` entry answers it.
        """
        if flavour is Flavour.VERTEX:
            return self._resolve_vertex(name, method, recorded, project, location)
        model = self.get(name)
        if model is None and recorded:
            model = self.stand_in(name, _RECORDED)
        if model is None or not model.supports(method):
            raise errors.model_not_found(_full(name), version, method)
        return model

    def tuned(
        self, flavour: Flavour = Flavour.VERTEX, project: str | None = None, location: str | None = None
    ) -> dict[str, Any]:
        """Vertex AI's ``GET projects/{p}/locations/{l}/models``: the user's ``tunedModels/`` entries as the
        project's own models, ``{}`` (an empty list in proto3 JSON) when there are none."""
        own = [
            vertex.own_model(m.model_id, m.displayName, m.description, project, location)
            for m in self._models.values()
            if m.name.startswith("tunedModels/") and m.on(flavour)
        ]
        return {"models": own} if own and flavour is Flavour.VERTEX else {}

    def _resolve_vertex(
        self, name: str, method: str, recorded: bool, project: str | None, location: str | None
    ) -> ModelInfo:
        if name.startswith("endpoints/"):
            endpoint_id = name.split("/", 1)[1]
            model = self._models.get(f"tunedModels/{endpoint_id}")
            if model is not None and model.on(Flavour.VERTEX):
                model = self.stand_in(name, model, display=False)
            elif self._stand_in is not None or recorded:
                model = self.stand_in(name, self._stand_in or _RECORDED)
            else:
                raise vertex.endpoint_not_found(endpoint_id, project, location)
        else:
            name = _publisher_name(name)
            model = self.get(name, Flavour.VERTEX)
            if model is None and recorded:
                model = self.stand_in(name, _RECORDED)
            if model is None or not model.name.startswith("models/"):
                raise errors.publisher_model_not_found(_full(name).split("/", 1)[1], project, location)
        if not model.supports(method, Flavour.VERTEX):
            if method == "predict" and (
                model.model_id.startswith("gemini") or model.supports("generateContent", Flavour.VERTEX)
            ):
                raise vertex.gemini_predict()
            if name.startswith("endpoints/"):
                raise vertex.endpoint_not_found(name.split("/", 1)[1], project, location)
            raise errors.publisher_model_not_found(model.model_id, project, location)
        return model

    def _publisher_entry(self, model: ModelInfo) -> dict[str, Any]:
        return vertex.publisher_entry(model.model_id, self._publishers.get(model.model_id))


_MAX_MADE = 1000
_RECORDED = ModelInfo(
    name="models/recorded",
    supportedGenerationMethods=[*GENERATE_METHODS, "embedContent"],
    emulator=Traits(vertex_methods=list(vertex.ALL_CALLS)),
)
"""What the emulator assumes of a model it knows only from a recording: every call it serves."""


def _renamed(model: ModelInfo, name: str, display: str | None = None, everywhere: bool = False) -> ModelInfo:
    """A copy under another name (made afresh: a copy would keep the original's cached id and profile);
    ``everywhere``: served by both APIs, as a stand-in is whatever it stands in like."""
    data = model.model_dump(exclude_unset=True)
    data["name"] = name
    if display is not None:
        data["displayName"] = display
    if everywhere:
        data["emulator"] = {**data.get("emulator", {}), "developer": True, "vertex": True}
    return ModelInfo.model_validate(data)


def _full(name: str) -> str:
    return name if name.startswith(("models/", "tunedModels/")) else f"models/{name}"


def _publisher_name(name: str) -> str:
    """``publishers/google/models/x`` as the catalogue names it (``models/x``); other names as they are."""
    if name.startswith("publishers/"):
        return name.split("/", 2)[2]
    return name


_DEFAULT_PAGE, _MAX_PAGE = 50, 1000


def _paged(
    key: str, entries: list[dict[str, Any]], size: str | None, token: str | None, default: int
) -> dict[str, Any]:
    count, start = _page_size(size, default), 0
    if token:
        after = _token_name(token)
        names = [e["name"] for e in entries]
        if after not in names:
            raise errors.invalid_argument("Invalid page token.")
        start = names.index(after) + 1
    page = entries[start : start + count]
    body: dict[str, Any] = {key: page}
    if start + count < len(entries):
        body["nextPageToken"] = _token(page[-1]["name"])
    return body


def _page_size(raw: str | None, default: int) -> int:
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError:
        raise errors.invalid_argument(f"Invalid value at 'page_size' (TYPE_INT32), \"{raw}\"") from None
    if size < 0:
        raise errors.invalid_argument("page_size must not be negative.")
    return min(size, _MAX_PAGE) or default


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
